/* ap-exec: the sandbox's pid 1. A tiny static program without libc, embedded in the
 * appliance and run from a sealed memfd once the sandbox is set up. It forks the command from
 * its own small address space, so the command's ru_maxrss starts from a few kilobytes rather
 * than from the appliance's size (a forked child inherits its parent's resident set as its
 * high-water mark), reaps every orphan, and when the command ends reports its status and
 * rusage and exits, which makes the kernel kill whatever the command left behind.
 *
 * argv: ap-exec STATUS_FD EXEC_FD FILTER_FD PATH ARG0 [ARG...]; the environment passes
 * through. STATUS_FD receives one struct ap_child_report: 'S' when the command ended, 'E' when
 * it could not be started. EXEC_FD receives an int: 0 once the command exec'd, or the errno
 * of its failed exec. FILTER_FD (-1 for none) holds a seccomp BPF program, which the
 * command's process loads just before its execve: ap-exec itself runs unfiltered, so it can
 * always report, whatever the profile denies. */
#include <asm/unistd.h>

#include "../report.h"

#if !defined(__x86_64__)
#error "ap-exec is written for x86_64"
#endif

#define F_SETFD 2
#define SIGCHLD 17
#define CLONE_VM 0x00000100
#define CLONE_VFORK 0x00004000
#define SECCOMP_SET_MODE_FILTER 1
#define BPF_MAXINSNS 4096
#define CLOCK_MONOTONIC 1
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
    long maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv,
        nsignals, nvcsw, nivcsw;
};

struct sock_filter_k {
    unsigned short code;
    unsigned char jt, jf;
    unsigned int k;
};
struct sock_fprog_k {
    unsigned short len;
    struct sock_filter_k *filter;
};

/* What the command's process needs, and what it leaves for ap-exec to read: the two share
 * this memory until the command's execve (CLONE_VM|CLONE_VFORK). */
static struct {
    const char *path;
    char **argv, **envp;
    struct sock_fprog_k prog;
    int filter_err; /* errno of a filter that would not load */
    int exec_err;   /* errno of a failed execve */
} job;
static struct sock_filter_k filter_insns[BPF_MAXINSNS];
char ap_exec_stack[16384] __attribute__((aligned(16), used));

/* Runs in the command's process until its execve. Returns only on failure, with the reason
 * in job (written to shared memory: under the filter, even write may be denied). */
__attribute__((used)) void ap_exec_child(void);
void ap_exec_child(void)
{
    if (job.prog.len > 0) {
        long r = SYS(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &job.prog);
        if (r < 0) {
            job.filter_err = (int)-r;
            return;
        }
    }
    long r = SYS(__NR_execve, job.path, job.argv, job.envp);
    job.exec_err = (int)-r;
}

/* clone(CLONE_VM|CLONE_VFORK): the child calls ap_exec_child and exits (or
 * faults, when the filter denies even exit), on ap_exec_stack; this returns once it has exec'd or
 * ended. */
long ap_exec_spawn(void);
__asm__(".text\n"
        ".globl ap_exec_spawn\n"
        "ap_exec_spawn:\n"
        "  mov $56, %eax\n"     /* __NR_clone */
        "  mov $0x4111, %edi\n" /* CLONE_VM | CLONE_VFORK | SIGCHLD */
        "  lea ap_exec_stack+16384(%rip), %rsi\n"
        "  xor %edx, %edx\n"
        "  xor %r10d, %r10d\n"
        "  xor %r8d, %r8d\n"
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  ret\n"
        "1:\n"
        "  xor %ebp, %ebp\n"
        "  call ap_exec_child\n"
        "  mov $127, %edi\n"
        "  mov $231, %eax\n" /* __NR_exit_group */
        "  syscall\n"
        "  ud2\n");

/* A zeroed report of the given kind (no memset without libc). */
static void report_begin(struct ap_child_report *rep, char kind)
{
    char *p = (char *)rep;
    for (unsigned long i = 0; i < sizeof(*rep); i++)
        p[i] = 0;
    rep->kind = kind;
}

/* Reports a failure to start the command on the status channel and ends the sandbox. */
static __attribute__((noreturn)) void refuse(int status_fd, int err, const char *msg)
{
    struct ap_child_report rep;
    report_begin(&rep, 'E');
    rep.err = err;
    for (unsigned long i = 0; msg[i] != 0 && i + 1 < sizeof(rep.msg); i++)
        rep.msg[i] = msg[i];
    SYS(__NR_write, status_fd, &rep, sizeof(rep));
    quit(125);
}

/* Reads the BPF program from fd (at most BPF_MAXINSNS instructions). */
static int read_filter(int fd)
{
    unsigned long got = 0, cap = sizeof(filter_insns);
    for (;;) {
        long n = sys6(__NR_pread64, fd, (long)((char *)filter_insns + got), (long)(cap - got),
                      (long)got, 0, 0);
        if (n == -EINTR)
            continue;
        if (n < 0)
            return (int)-n;
        if (n == 0 || got + (unsigned long)n == cap) {
            got += (unsigned long)n;
            break;
        }
        got += (unsigned long)n;
    }
    if (got == 0 || got % sizeof(filter_insns[0]) != 0)
        return 22; /* EINVAL */
    job.prog.len = (unsigned short)(got / sizeof(filter_insns[0]));
    job.prog.filter = filter_insns;
    return 0;
}

struct timespec_k {
    long sec, nsec;
};

/* CLOCK_MONOTONIC in nanoseconds, the clock the appliance times runs with. */
static long now_ns(void)
{
    struct timespec_k ts = {0, 0};
    SYS(__NR_clock_gettime, CLOCK_MONOTONIC, &ts, 0);
    return ts.sec * 1000000000L + ts.nsec;
}

__attribute__((used)) void ap_exec_main(long *sp);

void ap_exec_main(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    if (argc < 6)
        quit(125);
    int status_fd = parse_fd(argv[1]);
    int exec_fd = parse_fd(argv[2]);
    int filter_fd = argv[3][0] == '-' ? -1 : parse_fd(argv[3]);
    /* Nobody else in the sandbox (same uid) may open our descriptors via /proc. */
    SYS(__NR_prctl, PR_SET_DUMPABLE, 0, 0);
    /* None of ours goes on to the command. */
    SYS(__NR_fcntl, status_fd, F_SETFD, FD_CLOEXEC);
    SYS(__NR_fcntl, exec_fd, F_SETFD, FD_CLOEXEC);
    if (filter_fd >= 0) {
        SYS(__NR_fcntl, filter_fd, F_SETFD, FD_CLOEXEC);
        int e = read_filter(filter_fd);
        if (e != 0)
            refuse(status_fd, e, "ap-exec: reading the seccomp filter");
    }
    job.path = argv[4];
    job.argv = argv + 5;
    job.envp = envp;
    long pid = ap_exec_spawn();
    if (pid < 0)
        refuse(status_fd, (int)-pid,
               "ap-exec: creating the command's process (a process limit below 2?)");
    /* The command's process has exec'd or ended: say which. */
    long exec_ns = now_ns();
    if (job.filter_err != 0)
        refuse(status_fd, job.filter_err, "ap-exec: loading the seccomp filter");
    int code = job.exec_err;
    SYS(__NR_write, exec_fd, &code, sizeof(code));
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
    long exit_ns = now_ns();
    struct ap_child_report rep;
    report_begin(&rep, 'S');
    rep.exec_ns = exec_ns;
    rep.exit_ns = exit_ns;
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
