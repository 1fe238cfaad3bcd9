/* The default seccomp profile, linked into the binary from seccomp-default.json so the
 * appliance needs no data files at run time. */
__asm__(".section .rodata\n"
        ".global ap_seccomp_default_json\n"
        ".type ap_seccomp_default_json, @object\n"
        "ap_seccomp_default_json:\n"
        ".incbin \"appliance/sandbox/seccomp-default.json\"\n"
        ".byte 0\n"
        ".size ap_seccomp_default_json, . - ap_seccomp_default_json\n"
        ".previous\n");
