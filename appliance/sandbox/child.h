/* The sandbox's side of a run: set-up between clone() and exec(). Internal to sandbox/. */
#ifndef AP_SANDBOX_CHILD_H
#define AP_SANDBOX_CHILD_H

#include "sandbox.h"

/* What pid 1 reports to the appliance on the status pipe. */
struct ap_child_report {
    char kind; /* 'E': set-up failed (msg), 'S': the command ended (status, rusage) */
    int status;
    int err;
    long ru_utime_us, ru_stime_us, ru_maxrss_kb;
    char msg[400];
};

struct ap_child_args {
    const struct ap_sandbox_spec *spec;
    int status_fd; /* write end: reports */
    int exec_fd;   /* write end, close-on-exec: EOF tells the parent the command exec'd */
    int sync_fd;   /* read end: waits for id maps (user namespace), else -1 */
    const int *join_fds; /* v1 cgroup.procs files to write "0" into */
    int n_join_fds;
    int rootfd;    /* the root filesystem directory */
};

/* Runs as pid 1 of the new namespaces; never returns. */
__attribute__((noreturn)) void ap_child_main(const struct ap_child_args *a);

#endif
