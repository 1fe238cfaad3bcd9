/* probe: a tiny static program for the cgroup v2 VM test (tests/integration/70-cgroup-v2-vm.sh).
 * Runs inside the appliance's sandbox in the VM, and outside it as the VM's pid 1 helper.
 *
 *   probe hello          prints "hello"
 *   probe alloc MIB      allocates and touches MIB MiB, prints "allocated MIB MiB"
 *   probe hold MIB       the same, prints "holding MIB MiB" and waits (60 s at most)
 *   probe share MIB      the same, then forks a child that keeps the pages shared with it,
 *                        prints "sharing MIB MiB" once the child runs, and waits (60 s at most)
 *   probe fork N SECS    forks N children that sleep SECS, prints "forked K of N", waits
 *   probe spin MS        burns MS ms of CPU time, prints "spun MS ms"
 *   probe cpus           prints the CPUs it may run on: "cpus 0,1"
 *   probe denied         tries unshare(CLONE_NEWUSER) and mount, prints "unshare=E mount=E"
 *                        (E: "ok" or the errno's name)
 *   probe hang N         N children and the parent ignore SIGTERM and sleep forever
 *   probe exit CODE      writes CODE to the isa-debug-exit port 0xf4 (needs root)
 *   probe count NAME     prints how many processes other than itself have comm NAME
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
    switch (e) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EAGAIN: return "EAGAIN";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case ENOSYS: return "ENOSYS";
    case ENOSPC: return "ENOSPC";
    case EUSERS: return "EUSERS";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EBUSY: return "EBUSY";
    default: {
        static char buf[32];
        snprintf(buf, sizeof(buf), "errno%d", e);
        return buf;
    }
    }
}

static long arg(char **argv, int i, int argc)
{
    if (i >= argc) {
        fprintf(stderr, "probe %s: missing argument\n", argv[1]);
        exit(2);
    }
    return strtol(argv[i], NULL, 10);
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* MIB MiB from malloc, every page written (a page never touched is never charged). */
static volatile char *touched(long mib)
{
    size_t n = (size_t)mib << 20;
    volatile char *p = malloc(n);
    if (p == NULL) {
        printf("malloc failed\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i += 4096)
        p[i] = (char)(i | 1);
    return p;
}

static int cmd_alloc(long mib)
{
    touched(mib);
    printf("allocated %ld MiB\n", mib);
    return 0;
}

/* Waits until killed; bounded, so a probe left behind ends by itself. */
static int wait_bounded(void)
{
    for (int i = 0; i < 60; i++)
        sleep(1);
    return 0;
}

static int cmd_hold(long mib)
{
    touched(mib);
    printf("holding %ld MiB\n", mib);
    return wait_bounded();
}

/* Parent and child map the same MIB MiB, copy-on-write and never written after the fork: each
 * page is resident in both (RSS counts it twice), private to neither (USS leaves it out) and
 * half of it is each one's share (PSS sums to it once). */
static int cmd_share(long mib)
{
    touched(mib);
    int p[2];
    if (pipe(p) < 0)
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        close(p[1]);
        _exit(wait_bounded());
    }
    close(p[1]);
    if (pid < 0)
        return 1;
    /* The child has run once its copy of the write end is closed. */
    char c;
    while (read(p[0], &c, 1) < 0 && errno == EINTR)
        ;
    printf("sharing %ld MiB\n", mib);
    return wait_bounded();
}

static int cmd_fork(long n, long secs)
{
    long forked = 0;
    int first_err = 0;
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            sleep((unsigned)secs);
            _exit(0);
        }
        if (pid < 0) {
            if (first_err == 0)
                first_err = errno;
            continue;
        }
        forked++;
    }
    printf("forked %ld of %ld (%s)\n", forked, n, errname(first_err));
    fflush(stdout);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    return 0;
}

static int cmd_spin(long ms)
{
    double until = cpu_seconds() + ms / 1000.0;
    volatile unsigned long x = 0;
    while (cpu_seconds() < until)
        for (int i = 0; i < 10000; i++)
            x += (unsigned long)i;
    printf("spun %ld ms\n", ms);
    return 0;
}

static int cmd_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) < 0) {
        printf("sched_getaffinity: %s\n", errname(errno));
        return 1;
    }
    printf("cpus ");
    const char *sep = "";
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
            printf("%s%d", sep, c);
            sep = ",";
        }
    }
    printf("\n");
    return 0;
}

static int cmd_denied(void)
{
    /* unshare(CLONE_NEWUSER) needs no privilege, so only a seccomp filter refuses it. */
    int u = unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
    int m = mount("none", "/tmp", "tmpfs", 0, NULL) == 0 ? 0 : errno;
    printf("unshare=%s mount=%s\n", errname(u), errname(m));
    return 0;
}

static __attribute__((noreturn)) void cmd_hang(long n)
{
    signal(SIGTERM, SIG_IGN);
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            setsid();
            /* A grandchild too, which leaves its parent for the sandbox's pid 1. */
            if (fork() == 0)
                for (;;)
                    pause();
            for (;;)
                pause();
        }
    }
    printf("hanging with %ld children\n", n);
    fflush(stdout);
    for (;;)
        pause();
}

static int cmd_exit(long code)
{
    fflush(stdout);
    if (ioperm(0xf4, 1, 1) < 0) {
        fprintf(stderr, "probe exit: ioperm: %s\n", errname(errno));
        return 1;
    }
    outb((unsigned char)code, 0xf4);
    fprintf(stderr, "probe exit: still running after writing to port 0xf4\n");
    return 1;
}

static int cmd_count(const char *name)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char *end = NULL;
        long pid = strtol(de->d_name, &end, 10);
        if (end == de->d_name || *end != '\0' || pid == (long)getpid())
            continue;
        char path[64], comm[64] = "";
        snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        if (fgets(comm, sizeof(comm), f) != NULL) {
            comm[strcspn(comm, "\n")] = '\0';
            if (strcmp(comm, name) == 0)
                n++;
        }
        fclose(f);
    }
    closedir(d);
    printf("%d\n", n);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: probe hello|alloc|hold|share|fork|spin|cpus|denied|hang|exit|count ...\n");
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "hello") == 0) {
        printf("hello\n");
        return 0;
    }
    if (strcmp(c, "alloc") == 0)
        return cmd_alloc(arg(argv, 2, argc));
    if (strcmp(c, "hold") == 0)
        return cmd_hold(arg(argv, 2, argc));
    if (strcmp(c, "share") == 0)
        return cmd_share(arg(argv, 2, argc));
    if (strcmp(c, "fork") == 0)
        return cmd_fork(arg(argv, 2, argc), arg(argv, 3, argc));
    if (strcmp(c, "spin") == 0)
        return cmd_spin(arg(argv, 2, argc));
    if (strcmp(c, "cpus") == 0)
        return cmd_cpus();
    if (strcmp(c, "denied") == 0)
        return cmd_denied();
    if (strcmp(c, "hang") == 0)
        cmd_hang(arg(argv, 2, argc));
    if (strcmp(c, "exit") == 0)
        return cmd_exit(arg(argv, 2, argc));
    if (strcmp(c, "count") == 0 && argc > 2)
        return cmd_count(argv[2]);
    fprintf(stderr, "probe: unknown command %s\n", c);
    return 2;
}
