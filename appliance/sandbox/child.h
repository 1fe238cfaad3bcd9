/* The sandbox's side of a run: set-up between clone() and exec(). Internal to sandbox/. */
#ifndef AP_SANDBOX_CHILD_H
#define AP_SANDBOX_CHILD_H

#include <signal.h>

#include "report.h"
#include "sandbox.h"

struct ap_child_args {
    const struct ap_sandbox_spec *spec;
    int status_fd;       /* write end: reports */
    int status_rd;       /* the parent's read end, which the child closes to see whether the
                          * parent is still there */
    int exec_fd;         /* write end: ap-exec writes 0 once the command exec'd, or the errno of
                          * a failed exec */
    int filter_fd;       /* memfd holding the seccomp BPF program for ap-exec, or -1 */
    int sync_fd;         /* read end: waits for id maps (user namespace), else -1 */
    int sync_wr;         /* the write end, which the child closes so that it sees EOF */
    const int *join_fds; /* v1 cgroup.procs files to write "0" into */
    int n_join_fds;
    int rootfd;       /* the root filesystem directory */
    int exec_memfd;   /* sealed memfd holding ap-exec */
    int netns_fd;     /* a network namespace made ahead of time to enter, or -1 */
    int cap_last;     /* highest capability this kernel knows */
    sigset_t ignored; /* signals the appliance ignores, to be reset for the command */
    int hold_fd;      /* unix socket: our mount namespace goes to the parent through it, or -1 */
};

/* A sealed memfd with the ap-exec program, made once per process. */
int ap_child_exec_memfd(ap_error **err);

/* Runs as pid 1 of the new namespaces; never returns. */
__attribute__((noreturn)) void ap_child_main(const struct ap_child_args *a);

#endif
