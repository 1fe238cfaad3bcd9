/* What the sandbox tells the appliance on its status pipe. Plain C types only: the
 * libc-free ap-exec includes it too. */
#ifndef AP_SANDBOX_REPORT_H
#define AP_SANDBOX_REPORT_H

struct ap_child_report {
    char kind; /* 'E': set-up failed (msg), 'S': the command ended (status, rusage) */
    int status;
    int err;
    long ru_utime_us, ru_stime_us, ru_maxrss_kb;
    long exec_ns, exit_ns; /* CLOCK_MONOTONIC, taken by pid 1: the command exec'd, was reaped */
    char msg[400];
};

#endif
