/* ap-exec: the sandbox's pid 1. A tiny static program without libc, embedded in the
 * appliance and run from a sealed memfd once the sandbox is set up. It forks the command from
 * its own small address space, so the command's ru_maxrss starts from a few kilobytes rather
 * than from the appliance's size (a forked child inherits its parent's resident set as its
 * high-water mark), reaps every orphan, and when the command ends reports its status and
 * rusage and exits, which makes the kernel kill whatever the command left behind.
 *
 * argv: ap-exec STATUS_FD EXEC_FD PATH ARG0 [ARG...]; the environment passes through.
 * STATUS_FD receives one struct ap_child_report ('S'); EXEC_FD is closed by the command's
 * exec, or receives the errno of a failed exec. */
#include <asm/unistd.h>

#include "../report.h"

#if !defined(__x86_64__)
#error "ap-exec is written for x86_64"
#endif

#define F_SETFD 2
#define SIGCHLD 17
#define PR_SET_DUMPABLE 4
#define __WALL_FLAG 0x40000000
#define FD_CLOEXEC 1
#define EINTR 4

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}

#define SYS(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static __attribute__((noreturn)) void quit(int code)
{
    for (;;)
        SYS(__NR_exit_group, code, 0, 0);
}

static int parse_fd(const char *s)
{
    int v = 0;
    if (s == 0 || *s == 0)
        quit(125);
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000)
            quit(125);
        v = v * 10 + (*s - '0');
    }
    return v;
}

struct rusage_k {
    long utime_s, utime_us, stime_s, stime_us;
    long maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd,
        msgrcv, nsignals, nvcsw, nivcsw;
};

__attribute__((used)) void ap_exec_main(long *sp);

void ap_exec_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    if (argc < 5)
        quit(125);
    int status_fd = parse_fd(argv[1]);
    int exec_fd = parse_fd(argv[2]);
    /* Nobody else in the sandbox (same uid) may open our descriptors via /proc. */
    SYS(__NR_prctl, PR_SET_DUMPABLE, 0, 0);
    long pid = SYS(__NR_clone, SIGCHLD, 0, 0);
    if (pid < 0)
        quit(125);
    if (pid == 0) {
        SYS(__NR_fcntl, status_fd, F_SETFD, FD_CLOEXEC);
        SYS(__NR_fcntl, exec_fd, F_SETFD, FD_CLOEXEC);
        long r = SYS(__NR_execve, argv[3], argv + 4, envp);
        int e = (int)-r;
        SYS(__NR_write, exec_fd, &e, sizeof(e));
        quit(127);
    }
    SYS(__NR_close, exec_fd, 0, 0);
    int status = 0;
    struct rusage_k ru;
    for (;;) {
        long w = sys6(__NR_wait4, -1, (long)&status, __WALL_FLAG, (long)&ru, 0, 0);
        if (w == pid)
            break;
        if (w < 0 && w != -EINTR)
            quit(125);
    }
    struct ap_child_report rep;
    char *p = (char *)&rep;
    for (unsigned long i = 0; i < sizeof(rep); i++)
        p[i] = 0;
    rep.kind = 'S';
    rep.status = status;
    rep.ru_utime_us = ru.utime_s * 1000000L + ru.utime_us;
    rep.ru_stime_us = ru.stime_s * 1000000L + ru.stime_us;
    rep.ru_maxrss_kb = ru.maxrss;
    SYS(__NR_write, status_fd, &rep, sizeof(rep));
    quit(0);
}

__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call ap_exec_main\n"
        "  hlt\n");
