/* seccomp filters from OCI/Docker JSON profiles, compiled once with libseccomp to BPF and
 * loaded in each sandboxed child just before exec. */
#ifndef AP_SANDBOX_SECCOMP_H
#define AP_SANDBOX_SECCOMP_H

#include <stddef.h>
#include <linux/filter.h>

#include "../core/error.h"

struct ap_seccomp {
    struct sock_filter *insns; /* owned */
    unsigned short len;
    size_t rules;   /* syscall rules handed to libseccomp */
    size_t skipped; /* names unknown on this architecture, repeated, or with the default
                     * action, and rules excluded by includes/excludes (one each) */
};

/* Limits on a profile, each refused with an error naming the limit, the rule (syscalls[i]) and
 * how to fix it, before libseccomp sees the profile: compiling stays linear and fast. Names
 * count whether or not they are syscalls on this machine. libseccomp's BPF generator slows
 * down sharply with argument checks spread over many calls, and the kernel runs at most
 * BPF_MAXINSNS (4096) instructions per filter: at 256 checks the costliest profiles measured
 * (six 64-bit range checks per call, three architectures, or a check on each of 256 calls
 * beside an allowlist) compile in under 0.35 s to at most ~2500 instructions; at 512 such a
 * profile took 2.5 s and then went past 4096. */
enum {
    AP_SECCOMP_MAX_RULES = 1024,     /* entries of "syscalls" */
    AP_SECCOMP_MAX_NAMES = 4096,     /* names, summed over the rules */
    AP_SECCOMP_MAX_ARG_CHECKS = 256, /* entries of "args" times the names of their rule */
};

/* Compiles a profile (Docker's format: defaultAction, defaultErrnoRet, architectures or
 * archMap, syscalls[] with names, action, errnoRet, args, includes/excludes) into out, which
 * the caller frees with ap_seccomp_free. `what` names the profile in errors. Capabilities are
 * all dropped in the sandbox, so rules that require a capability are skipped and rules
 * excluded by one apply.
 *
 * Each (system call, action, args) reaches libseccomp once: repeats are counted in skipped,
 * as are rules whose action is the default one (Docker ignores those too). Two rules that
 * contradict each other on one system call are refused, naming both, where libseccomp would
 * silently keep one of them: a second unconditional action, an argument-checked rule beside an
 * unconditional one with another action, or the same argument checks with another action.
 *
 * The filter must let execve through (SCMP_ACT_ALLOW or SCMP_ACT_LOG, from defaultAction or an
 * applicable rule naming execve without "args"; argument-checked rules do not count): the
 * filter is loaded before the command's execve, so a profile that denies it could never start
 * a command. Such a profile is refused here ("does not allow execve, so no command can start
 * under it") instead of surfacing later as a dead command.
 *
 * Returns 0, or -1 with *err set and out empty. */
int ap_seccomp_compile(const char *json, size_t len, const char *what, struct ap_seccomp *out,
                       ap_error **err);

/* ap_seccomp_compile with the program kept in cache_dir/seccomp/<key>.bpf, key being the
 * SHA-256 of all it depends on: the profile's bytes, this compiler's source, libseccomp's
 * version, the kernel release and the machine. A hit reads the program (~3 KB for the
 * default profile) instead of parsing and compiling the profile; a file that fails its
 * checks (magic, size, digest of the instructions) is compiled again and replaced. The cache
 * is trusted as the rest of cache_dir is (unpacked roots live there too). cache_dir NULL or
 * empty: no cache. A cache that cannot be written costs only the compile. Returns as
 * ap_seccomp_compile. */
int ap_seccomp_compile_cached(const char *json, size_t len, const char *what, const char *cache_dir,
                              struct ap_seccomp *out, ap_error **err);

/* The profile shipped in the binary (NUL-terminated JSON). */
const char *ap_seccomp_default_profile(void);

/* Loads the filter into the calling thread (sets no_new_privs first). Async-signal-safe: for
 * use between clone() and exec(). Returns 0 or -errno. */
int ap_seccomp_load(const struct ap_seccomp *f);

void ap_seccomp_free(struct ap_seccomp *f);

#endif
