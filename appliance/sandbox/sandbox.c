#include "sandbox.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/log.h"
#include "child.h"
#include "keeper.h"
#include "../core/clock.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

/* A unique cgroup name: the prefix lets a later run recognise groups of dead appliances. */
static void cgroup_name(char *buf, size_t len)
{
    static unsigned seq;
    /* With our start time, so that a later appliance tells our groups from those of a process
     * that got our pid after we died (ap_cgroup_name_is_stale). */
    static pid_t for_pid;
    static unsigned long long start;
    pid_t self = getpid();
    if (__atomic_load_n(&for_pid, __ATOMIC_ACQUIRE) != self) {
        unsigned long long t = 0;
        ap_cgroup_start_ticks(self, &t);
        __atomic_store_n(&start, t, __ATOMIC_RELAXED);
        __atomic_store_n(&for_pid, self, __ATOMIC_RELEASE);
    }
    snprintf(buf, len, AP_CGROUP_PREFIX "%ld-%llu-%u", (long)self,
             __atomic_load_n(&start, __ATOMIC_RELAXED),
             __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

static int write_id_maps(pid_t pid, const struct ap_sandbox_spec *s, ap_error **err)
{
    char path[64];
    static const char map[] = "0 100000 65536\n";
    const char *files[] = {"uid_map", "setgroups", "gid_map"};
    const char *data[] = {map, "deny\n", map};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, data[i], strlen(data[i])) < 0)
            return ap_error_make(err, errno, "writing %s", path);
    }
    (void)s;
    return 0;
}

/* clone3 that runs fn(arg) in the child on the stack given in args (x86_64). The classic
 * clone() wrapper cannot pass CLONE_INTO_CGROUP; a bare clone3 system call cannot switch the
 * child to another stack, which CLONE_VM needs. */
long ap_clone3_run(struct clone_args *args, size_t size, int (*fn)(void *), void *arg);
__asm__(".text\n"
        ".globl ap_clone3_run\n"
        ".type ap_clone3_run, @function\n"
        "ap_clone3_run:\n"
        "  push %r12\n"
        "  push %r13\n"
        "  mov %rdx, %r12\n"
        "  mov %rcx, %r13\n"
        "  mov $435, %eax\n" /* __NR_clone3 */
        "  syscall\n"
        "  test %rax, %rax\n"
        "  jz 1f\n"
        "  pop %r13\n"
        "  pop %r12\n"
        "  ret\n"
        "1:\n"
        "  xor %ebp, %ebp\n"
        "  and $-16, %rsp\n"
        "  mov %r13, %rdi\n"
        "  call *%r12\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n" /* __NR_exit */
        "  syscall\n"
        "  hlt\n"
        ".size ap_clone3_run, . - ap_clone3_run\n");

static pthread_mutex_t clone_lock = PTHREAD_MUTEX_INITIALIZER;

static int child_entry(void *arg)
{
    ap_child_main(arg);
}

/* The stack the child sets up the sandbox on; reused, as each child is done with it once
 * it execs. */
static void *child_stack(size_t *size)
{
    static void *stack;
    *size = 1u << 20;
    if (stack == NULL) {
        void *p = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1, 0);
        stack = p == MAP_FAILED ? NULL : p;
    }
    return stack;
}

/* Starts the sandbox's first process. Without a user namespace it shares our memory and we
 * wait until it execs ap-exec (CLONE_VM|CLONE_VFORK): no copy of the appliance's address
 * space is made, and ap-exec starts from a fresh one. With a user namespace it must wait for
 * the id maps we write, so it gets a copy instead. */
static pid_t clone_sandbox(const struct ap_sandbox_spec *s, struct ap_cgroup *cg, int *pidfd,
                           struct ap_child_args *a)
{
    size_t stack_size;
    void *stack = child_stack(&stack_size);
    if (stack == NULL)
        return -1;
    uint64_t flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS |
                     (a->netns_fd >= 0 ? 0 : CLONE_NEWNET) | CLONE_NEWIPC |
                     (s->userns ? CLONE_NEWUSER : CLONE_VM | CLONE_VFORK);
    struct clone_args args;
    memset(&args, 0, sizeof(args));
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = stack_size;
    const int *join = a->join_fds;
    int n_join = a->n_join_fds;
    /* v2: start inside the group, so not one instruction runs outside it. */
    if (cg->into_cgroup_fd >= 0 && !s->userns) {
        args.flags = flags | CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cg->into_cgroup_fd;
        a->n_join_fds = 0;
        long pid = ap_clone3_run(&args, sizeof(args), child_entry, a);
        if (pid >= 0 || (pid != -EINVAL && pid != -ENOSYS && pid != -E2BIG)) {
            errno = pid < 0 ? (int)-pid : 0;
            return pid < 0 ? -1 : (pid_t)pid;
        }
    }
    args.flags = flags;
    args.cgroup = 0;
    a->join_fds = join;
    a->n_join_fds = n_join;
    long pid = ap_clone3_run(&args, sizeof(args), child_entry, a);
    if (pid < 0) {
        errno = (int)-pid;
        return -1;
    }
    return (pid_t)pid;
}

struct ap_sandbox_live {
    struct ap_cgroup *cg;
};

int ap_sandbox_live_stats(struct ap_sandbox_live *live, struct ap_cgroup_stats *out, ap_error **err)
{
    return live->cg->mgr->stats(live->cg, out, err);
}

int ap_sandbox_live_pids(struct ap_sandbox_live *live, pid_t *out, size_t max, size_t *n,
                         ap_error **err)
{
    /* Every controller's group holds the same members (v1), or there is one group (v2). */
    *n = 0;
    if (live->cg->n_dirs < 1)
        return ap_error_make(err, 0, "the sandbox has no cgroup");
    return ap_cgroup_read_pids(live->cg->dirs[0], out, max, n, err);
}

struct run_state {
    int status_rd, exec_rd, sync_wr, pidfd, sigfd;
    pid_t pid;
    sigset_t oldmask;
    int mask_set;
    struct ap_sandbox_live live; /* lives as long as ap_sandbox_run's frame */
};

static void state_close(struct run_state *st)
{
    int *fds[] = {&st->status_rd, &st->exec_rd, &st->sync_wr, &st->pidfd, &st->sigfd};
    for (size_t i = 0; i < AP_ARRAY_SIZE(fds); i++) {
        if (*fds[i] >= 0)
            close(*fds[i]);
        *fds[i] = -1;
    }
    if (st->mask_set)
        sigprocmask(SIG_SETMASK, &st->oldmask, NULL);
    st->mask_set = 0;
}

/* The highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap), read once;
 * dropping beyond it only costs system calls that fail. */
static int cap_last(void)
{
    static int last = -1;
    if (last < 0) {
        char buf[16] = "";
        int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        if (fd >= 0)
            close(fd);
        last = n > 0 ? atoi(buf) : 63;
        if (last <= 0 || last > 63)
            last = 63;
    }
    return last;
}

/* The signals this process ignores, which the command would otherwise inherit ignored. */
static void ignored_signals(sigset_t *set)
{
    sigemptyset(set);
    for (int sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, NULL, &sa) == 0 &&
            sa.sa_handler == SIG_IGN)
            sigaddset(set, sig);
    }
}

/* The descriptor the child sent on the unix socket fd, or -1. */
static int receive_fd(int fd)
{
    char cbuf[CMSG_SPACE(sizeof(int))], byte;
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    if (recvmsg(fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <= 0)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    int out;
    memcpy(&out, CMSG_DATA(c), sizeof(int));
    return out;
}

/* Reads whatever pid 1 reported; returns 1 when a report was read. */
static int read_report(int fd, struct ap_child_report *r)
{
    size_t got = 0;
    while (got < sizeof(*r)) {
        ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got == sizeof(*r);
}

/* Waits for pid 1 to exit, honouring the timeout and SIGINT/SIGTERM. */
static int wait_sandbox(const struct ap_sandbox_spec *s, struct run_state *st, struct ap_cgroup *cg,
                        int64_t t0, struct ap_run_record *rec, int64_t *t_exec)
{
    int64_t deadline = s->timeout_s > 0 ? t0 + (int64_t)(s->timeout_s * 1e9) : 0;
    int exec_open = 1, killed = 0;
    for (;;) {
        struct pollfd p[4] = {{st->pidfd, POLLIN, 0},
                              {st->sigfd, POLLIN, 0},
                              {exec_open ? st->exec_rd : -1, POLLIN, 0},
                              {s->stop_fd > 0 && !killed ? s->stop_fd : -1, POLLIN, 0}};
        int timeout = -1;
        if (deadline && !killed) {
            int64_t left = deadline - ap_clock_mono_ns();
            timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
        }
        int n = poll(p, 4, timeout);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (p[2].revents) {
            /* ap-exec writes 0 once the command exec'd, or the errno of its failed exec; EOF
             * alone means the sandbox ended before either. */
            int code = -1;
            ssize_t r = read(st->exec_rd, &code, sizeof(code));
            if (r < 0 && errno == EINTR)
                continue;
            exec_open = 0;
            if (r == (ssize_t)sizeof(code) && code == 0) {
                *t_exec = ap_clock_mono_ns();
                if (s->on_exec != NULL) {
                    st->live.cg = cg;
                    s->on_exec(s->ctx, st->pid, &st->live);
                }
            } else if (r == (ssize_t)sizeof(code) && code > 0) {
                *t_exec = -code;
            }
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            if (read(st->sigfd, &si, sizeof(si)) > 0)
                rec->interrupted = 1;
        }
        if (p[3].revents)
            rec->stopped = 1;
        int expired = deadline && !killed && ap_clock_mono_ns() >= deadline;
        if ((expired || rec->interrupted || rec->stopped) && !killed) {
            rec->timed_out = expired;
            /* SIGKILL to pid 1 ends its whole pid namespace; the cgroup catches anything
             * that could have slipped out of it. */
            kill(st->pid, SIGKILL);
            ap_error *e = NULL;
            cg->mgr->kill(cg, &e);
            ap_error_release(&e);
            killed = 1;
        }
        if (p[0].revents)
            return 0;
    }
}

/* A sealed memfd holding the filter's BPF program, for ap-exec to load in the command's
 * process. */
static int filter_memfd(const struct ap_seccomp *f, ap_error **err)
{
    int fd = memfd_create("ap-seccomp", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return ap_error_make(err, errno, "memfd_create for the seccomp filter");
    size_t len = (size_t)f->len * sizeof(*f->insns), off = 0;
    while (off < len) {
        ssize_t n = write(fd, (const char *)f->insns + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return ap_error_make(err, errno, "writing the seccomp filter");
        }
        off += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        close(fd);
        return ap_error_make(err, errno, "sealing the seccomp filter");
    }
    return fd;
}

/* The sandbox's init ended before the command started, without a report: a limit killed it
 * during set-up. That is the sandbox's failure, never the command's status. */
static void died_before_exec(const struct ap_sandbox_spec *s, const siginfo_t *si,
                             const struct ap_cgroup_stats *cs, ap_error **err)
{
    char how[48];
    if (si->si_code == CLD_EXITED)
        snprintf(how, sizeof(how), "exited with status %d", si->si_status);
    else
        snprintf(how, sizeof(how), "was killed by signal %d", si->si_status);
    ap_error_make(err, 0, "the sandbox's init %s before %s started", how, s->argv[0]);
    if (cs->oom_kills > 0 ||
        (si->si_code != CLD_EXITED && si->si_status == SIGKILL && s->limits.memory_bytes > 0))
        ap_error_hint(err,
                      "the memory limit (%lld bytes) is too small for the sandbox and "
                      "the command's start; raise it",
                      (long long)s->limits.memory_bytes);
    else if (s->limits.pids_max > 0 && s->limits.pids_max < 8)
        ap_error_hint(err, "the process limit (%lld) may be too small; raise it",
                      (long long)s->limits.pids_max);
}

/* The pipes between the sandbox and us, and a signalfd for SIGINT and SIGTERM (blocked
 * until the run ends: state_close restores the mask). */
static int open_channels(const struct ap_sandbox_spec *s, int status_p[2], int exec_p[2],
                         int hold_p[2], int sync_p[2], struct run_state *st, ap_error **err)
{
    if (pipe2(status_p, O_CLOEXEC) < 0 || pipe2(exec_p, O_CLOEXEC) < 0 ||
        socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, hold_p) < 0 ||
        (s->userns && pipe2(sync_p, O_CLOEXEC) < 0))
        return ap_error_make(err, errno, "creating pipes");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &st->oldmask);
    st->mask_set = 1;
    st->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (st->sigfd < 0)
        return ap_error_make(err, errno, "signalfd");
    return 0;
}

/* Fills the run record from the cgroup's figures and the child's report (NULL when none came):
 * the command's exit, or the error that kept it from running. */
static int fill_record(const struct ap_sandbox_spec *s, struct ap_run_record *rec,
                       const struct ap_cgroup_stats *cs, const struct ap_child_report *r,
                       const siginfo_t *si, int64_t t_exec, ap_error **err)
{
    rec->cpu_total_ns = cs->cpu_usage_ns;
    rec->cpu_user_ns = cs->cpu_user_ns;
    rec->cpu_system_ns = cs->cpu_system_ns;
    rec->memory_peak_bytes = cs->memory_peak_bytes;
    rec->pids_peak = cs->pids_peak;
    rec->nr_periods = cs->nr_periods;
    rec->nr_throttled = cs->nr_throttled;
    rec->throttled_ns = cs->throttled_ns;
    rec->oom_killed = cs->oom_kills > 0;
    if (r != NULL && r->kind == 'E')
        return ap_error_make(err, r->err, "sandbox set-up: %s", r->msg);
    if (t_exec < 0) {
        ap_error_make(err, (int)-t_exec, "executing %s in the sandbox", s->argv[0]);
        return ap_error_hint(err, "check the command exists in the image and is executable");
    }
    if (t_exec == 0 && !rec->timed_out && !rec->interrupted && !rec->stopped) {
        died_before_exec(s, si, cs, err);
        return -1;
    }
    if (r != NULL && r->kind == 'S') {
        rec->exited = WIFEXITED(r->status);
        rec->exit_code = WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 0;
        rec->term_signal = WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;
        rec->ru_user_ns = (int64_t)r->ru_utime_us * 1000;
        rec->ru_system_ns = (int64_t)r->ru_stime_us * 1000;
        rec->maxrss_bytes = (int64_t)r->ru_maxrss_kb * 1024;
        rec->run_ns = r->exit_ns > r->exec_ns && r->exec_ns > 0 ? r->exit_ns - r->exec_ns : 0;
    } else {
        /* pid 1 was killed (timeout, interrupt, or the OOM killer chose it). */
        rec->exited = 0;
        rec->term_signal =
            si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED ? si->si_status : SIGKILL;
    }
    return 0;
}

int ap_sandbox_run(const struct ap_sandbox_spec *s, struct ap_run_record *rec, ap_error **err)
{
    memset(rec, 0, sizeof(*rec));
    assert(s->rootfs != NULL && s->argv != NULL); /* a caller's bug, never the user's */
    if (ap_sandbox_validate(s, err) < 0)
        return -1;
    const struct ap_cgroup_manager *mgr = s->cgroups;
    if (mgr == NULL && ap_cgroup_detect(&mgr, err) < 0)
        return -1;
    static int cleaned;
    if (!__atomic_exchange_n(&cleaned, 1, __ATOMIC_ACQ_REL))
        mgr->clean_stale(mgr);
    rec->cgroup_backend = mgr->name;
    struct ap_cgroup cg;
    memset(&cg, 0, sizeof(cg));
    cg.into_cgroup_fd = -1;
    cg.mgr = mgr;
    char name[64];
    cgroup_name(name, sizeof(name));
    struct run_state st = {-1, -1, -1, -1, -1, -1, {{0}}, 0, {NULL}};
    int status_p[2] = {-1, -1}, exec_p[2] = {-1, -1}, sync_p[2] = {-1, -1}, hold_p[2] = {-1, -1};
    int netns_fd = -1, held_mnt_ns = -1;
    cleanup_close int rootfd = -1;
    cleanup_close int filter_fd = -1;
    int rc = -1;
    if (mgr->create(&cg, name, &s->limits, err) < 0) {
        ap_error_wrap(err, "setting up cgroup %s (%s)", name, mgr->name);
        goto out;
    }
    int exec_memfd = ap_child_exec_memfd(err);
    if (exec_memfd < 0)
        goto out;
    rootfd = open(s->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        ap_error_make(err, errno, "opening the root filesystem %s", s->rootfs);
        goto out;
    }
    if (s->seccomp != NULL && (filter_fd = filter_memfd(s->seccomp, err)) < 0)
        goto out;
    if (open_channels(s, status_p, exec_p, hold_p, sync_p, &st, err) < 0)
        goto out;
    struct ap_child_args a = {.spec = s,
                              .status_fd = status_p[1],
                              .status_rd = status_p[0],
                              .exec_fd = exec_p[1],
                              .filter_fd = filter_fd,
                              .sync_fd = sync_p[0],
                              .sync_wr = sync_p[1],
                              .join_fds = cg.join_fds,
                              .n_join_fds = cg.n_join_fds,
                              .rootfd = rootfd,
                              .exec_memfd = exec_memfd,
                              /* entering needs privilege over it, which a user namespace lacks */
                              .netns_fd = s->userns ? -1 : ap_keeper_take_netns(),
                              .hold_fd = hold_p[1],
                              .cap_last = cap_last()};
    ignored_signals(&a.ignored);
    int64_t t0 = ap_clock_mono_ns();
    /* The child borrows one stack and static buffers until it execs (and, sharing our
     * memory, we wait for that): one sandbox starts at a time when threads run several. */
    pthread_mutex_lock(&clone_lock);
    st.pid = clone_sandbox(s, &cg, &st.pidfd, &a);
    pthread_mutex_unlock(&clone_lock);
    netns_fd = a.netns_fd;
    if (st.pid < 0) {
        ap_error_make(err, errno, "creating the namespaces");
        ap_error_hint(err, "this needs root (or CAP_SYS_ADMIN) and a kernel with mount, pid, "
                           "net, uts, ipc and cgroup namespaces");
        goto out;
    }
    close(status_p[1]);
    close(exec_p[1]);
    status_p[1] = exec_p[1] = -1;
    st.status_rd = status_p[0];
    st.exec_rd = exec_p[0];
    status_p[0] = exec_p[0] = -1;
    if (s->userns) {
        close(sync_p[0]);
        sync_p[0] = -1;
        st.sync_wr = sync_p[1];
        sync_p[1] = -1;
        if (write_id_maps(st.pid, s, err) < 0) {
            kill(st.pid, SIGKILL);
            waitid(P_PIDFD, (id_t)st.pidfd, NULL, WEXITED);
            goto out;
        }
        close(st.sync_wr);
        st.sync_wr = -1;
    }
    int64_t t_exec = 0;
    wait_sandbox(s, &st, &cg, t0, rec, &t_exec);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    while (waitid(P_PIDFD, (id_t)st.pidfd, &si, WEXITED) < 0 && errno == EINTR)
        ;
    int64_t t_end = ap_clock_mono_ns();
    held_mnt_ns = receive_fd(hold_p[0]);
    rec->wall_ns = t_end - t0;
    rec->start_ns = t_exec > 0 ? t_exec - t0 : 0;
    struct ap_child_report r;
    memset(&r, 0, sizeof(r));
    int have = read_report(st.status_rd, &r);
    struct ap_cgroup_stats cs;
    mgr->stats(&cg, &cs, NULL);
    rc = fill_record(s, rec, &cs, have ? &r : NULL, &si, t_exec, err);
out : {
    ap_error *e = NULL;
    if (cg.n_dirs > 0 && mgr->destroy(&cg, &e) < 0 && rc == 0) {
        ap_log_warn("%s", e->msg);
    }
    ap_error_release(&e);
    ap_cgroup_close_fds(&cg);
}
    int fds[] = {status_p[0], status_p[1], exec_p[0], exec_p[1], sync_p[0],
                 sync_p[1],   hold_p[0],   hold_p[1], netns_fd};
    for (size_t i = 0; i < AP_ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    state_close(&st);
    /* Last, so that what the helper thread does next (unmounting this run's tree, making a
     * namespace for a later run) follows the run rather than competing with it. */
    ap_keeper_release(held_mnt_ns);
    return rc;
}

void ap_sandbox_settle(void)
{
    ap_keeper_settle();
}
