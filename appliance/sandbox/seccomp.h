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
    size_t rules;    /* syscall rules added */
    size_t skipped;  /* names unknown on this architecture, or excluded by includes/excludes */
};

/* Compiles a profile (Docker's format: defaultAction, defaultErrnoRet, architectures or
 * archMap, syscalls[] with names, action, errnoRet, args, includes/excludes). `what` names the
 * profile in errors. Capabilities are all dropped in the sandbox, so rules that require a
 * capability are skipped and rules excluded by one apply. */
int ap_seccomp_compile(const char *json, size_t len, const char *what, struct ap_seccomp *out,
                       ap_error **err);

/* The profile shipped in the binary (NUL-terminated JSON). */
const char *ap_seccomp_default_profile(void);

/* Loads the filter into the calling thread (sets no_new_privs first). Async-signal-safe: for
 * use between clone() and exec(). Returns 0 or -errno. */
int ap_seccomp_load(const struct ap_seccomp *f);

void ap_seccomp_free(struct ap_seccomp *f);

#endif
