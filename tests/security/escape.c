/* Escape attempts, one per subcommand, run inside the sandbox by tests/security/escape.sh.
 *
 * Each attempt prints one line and exits:
 *   DENIED <what> (<errno name or reason>)   exit 0: the sandbox stopped it
 *   ESCAPED <what> (<detail>)                exit 1: it worked
 * A few subcommands are helpers or controls and say so in their output (STARTED, WORKS,
 * BROKEN, SLEPT, SETUP).
 *
 * Privileged calls are made with arguments that the kernel rejects right after its
 * permission check (bogus magic numbers, missing paths, invalid flags): EPERM/EACCES (or
 * ENOSYS) means the call was stopped at the door; any other answer means it got past the
 * door, which counts as an escape, while nothing on the host changes either way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define X32_SYSCALL_BIT 0x40000000L
#define I386_NR_UNSHARE 310

static const char *errname(int e)
{
    const char *n = strerrorname_np(e);
    static char buf[32];
    if (n != NULL)
        return n;
    snprintf(buf, sizeof(buf), "errno %d", e);
    return buf;
}

static int denied(const char *what, const char *why)
{
    printf("DENIED %s (%s)\n", what, why);
    return 0;
}

static int escaped(const char *what, const char *detail)
{
    printf("ESCAPED %s (%s)\n", what, detail);
    return 1;
}

/* An error that stops a privileged call before it does anything. */
static int stopping_errno(int e)
{
    return e == EPERM || e == EACCES || e == ENOSYS;
}

/* The verdict on a privileged call made with arguments the kernel would reject after its
 * permission check. */
static int verdict(const char *what, long r, int e)
{
    char d[96];
    if (r >= 0) {
        snprintf(d, sizeof(d), "the call succeeded: %ld", r);
        return escaped(what, d);
    }
    if (stopping_errno(e))
        return denied(what, errname(e));
    snprintf(d, sizeof(d), "got past the permission check: %s", errname(e));
    return escaped(what, d);
}

/* Runs fn in a child process and reports how the child ended: a child killed by SIGSYS was
 * stopped by the seccomp filter. */
static int in_child(const char *what, int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        printf("BROKEN %s (fork: %s)\n", what, errname(errno));
        return 1;
    }
    if (pid == 0) {
        fflush(stdout);
        _exit(fn());
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) {
        printf("BROKEN %s (waitpid: %s)\n", what, errname(errno));
        return 1;
    }
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS)
        return denied(what, "killed by SIGSYS");
    if (WIFSIGNALED(st)) {
        char d[64];
        snprintf(d, sizeof(d), "child killed by signal %d", WTERMSIG(st));
        return escaped(what, d);
    }
    return WEXITSTATUS(st);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- mounts and the root ---- */

static int t_mount(void)
{
    errno = 0;
    long r = mount("none", "/tmp", "tmpfs", 0, "size=1m");
    return verdict("mount tmpfs", r, errno);
}

static int t_mount_api(void)
{
    /* The new mount API: fsopen + open_tree can build and attach mounts without mount(2). */
    errno = 0;
    long r = syscall(SYS_fsopen, "tmpfs", 0);
    int e = errno;
    if (r >= 0 || !stopping_errno(e))
        return verdict("fsopen", r, e);
    errno = 0;
    r = syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */);
    int e2 = errno;
    if (r >= 0 || !stopping_errno(e2))
        return verdict("open_tree", r, e2);
    char d[128];
    snprintf(d, sizeof(d), "fsopen %s, open_tree %s", errname(e), errname(e2));
    return denied("new mount API", d);
}

static int t_umount2(void)
{
    errno = 0;
    long r = umount2("/proc", MNT_DETACH);
    return verdict("umount2 /proc", r, errno);
}

static int t_pivot_root(void)
{
    errno = 0;
    long r = syscall(SYS_pivot_root, "/tmp", "/tmp");
    return verdict("pivot_root", r, errno);
}

static int t_chroot(void)
{
    errno = 0;
    long r = chroot("/tmp");
    return verdict("chroot", r, errno);
}

/* Every way of changing the root filesystem must fail with EROFS. Creating a file always
 * meets the read-only mount first; for the other operations a uid that does not own the
 * image's files may be stopped by file modes before that (EACCES, EPERM), their owner (uid 0
 * outside a user namespace) cannot. */
static int t_write_root(void)
{
    struct {
        const char *what;
        int r;
        int e;
    } tries[7];
    int n = 0;
#define TRY(desc, expr)                                                                            \
    do {                                                                                           \
        errno = 0;                                                                                 \
        tries[n].what = desc;                                                                      \
        tries[n].r = (expr);                                                                       \
        tries[n].e = errno;                                                                        \
        n++;                                                                                       \
    } while (0)
    TRY("create /usr/bin/pwned", open("/usr/bin/pwned", O_WRONLY | O_CREAT | O_EXCL, 0755));
    TRY("mkdir /etc/pwned", mkdir("/etc/pwned", 0755));
    TRY("open /etc/visible for writing", open("/etc/visible", O_WRONLY | O_APPEND));
    TRY("chmod /usr/bin/escape", chmod("/usr/bin/escape", 04777));
    TRY("rename /etc/visible", rename("/etc/visible", "/etc/moved"));
    TRY("unlink /etc/visible", unlink("/etc/visible"));
    TRY("symlink /etc/link", symlink("/", "/etc/link"));
#undef TRY
    struct stat st;
    int root = stat("/etc/visible", &st) == 0 && st.st_uid == getuid();
    for (int i = 0; i < n; i++) {
        char d[128];
        if (tries[i].r >= 0) {
            snprintf(d, sizeof(d), "%s succeeded", tries[i].what);
            return escaped("write the root filesystem", d);
        }
        int e = tries[i].e;
        if (e != EROFS && (i == 0 || root || (e != EACCES && e != EPERM))) {
            snprintf(d, sizeof(d), "%s: %s instead of EROFS", tries[i].what, errname(e));
            return escaped("write the root filesystem", d);
        }
    }
    return denied("write the root filesystem",
                  root ? "EROFS for create, mkdir, open, chmod, rename, unlink, symlink"
                       : "EROFS for create; EROFS or file modes for the rest");
}

static int t_write_sys(void)
{
    errno = 0;
    int r1 = mkdir("/sys/pwned", 0755);
    int e1 = errno;
    errno = 0;
    int r2 = open("/sys/kernel/uevent_helper", O_WRONLY);
    int e2 = errno;
    errno = 0;
    int r3 = open("/sys/pwned-file", O_WRONLY | O_CREAT, 0644);
    int e3 = errno;
    char d[128];
    if (r1 >= 0 || r2 >= 0 || r3 >= 0) {
        snprintf(d, sizeof(d), "mkdir %d, open uevent_helper %d, create %d", r1, r2, r3);
        return escaped("write /sys", d);
    }
    snprintf(d, sizeof(d), "mkdir %s, uevent_helper %s, create %s", errname(e1), errname(e2),
             errname(e3));
    return denied("write /sys", d);
}

static int t_write_proc_sys(void)
{
    static const char *const files[] = {
        "/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches"};
    char d[192] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        errno = 0;
        int fd = open(files[i], O_WRONLY);
        if (fd >= 0) {
            snprintf(d, sizeof(d), "%s opened for writing", files[i]);
            return escaped("write /proc/sys", d);
        }
        int e = errno;
        if (e != EROFS && e != EACCES && e != EPERM) {
            snprintf(d, sizeof(d), "%s: %s", files[i], errname(e));
            return escaped("write /proc/sys", d);
        }
        len += (size_t)snprintf(d + len, sizeof(d) - len, "%s%s %s", i ? ", " : "",
                                strrchr(files[i], '/') + 1, errname(e));
    }
    return denied("write /proc/sys", d);
}

/* Any file in /proc outside the per-process directories that opens for writing: run as
 * uid 0 (without capabilities) this finds what file modes alone guard, such as
 * /proc/sysrq-trigger or IRQ affinities. */
static int scan_proc(const char *dir, int depth, char *found, size_t cap, int *count)
{
    if (depth > 4)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
            continue;
        if (depth == 0 && (strspn(n, "0123456789") == strlen(n) || strcmp(n, "self") == 0 ||
                           strcmp(n, "thread-self") == 0 || strcmp(n, "sys") == 0))
            continue;
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, n);
        struct stat st;
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            scan_proc(path, depth + 1, found, cap, count);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            continue;
        close(fd);
        /* Pressure triggers are open to every user by design and only watch. */
        if (strncmp(path, "/proc/pressure/", 15) == 0)
            continue;
        size_t len = strlen(found);
        if (*count < 8)
            snprintf(found + len, cap - len, "%s%s", len ? " " : "", path);
        (*count)++;
    }
    closedir(d);
    return 0;
}

static int t_proc_write(void)
{
    char found[800] = "";
    int count = 0;
    scan_proc("/proc", 0, found, sizeof(found), &count);
    if (count > 0) {
        char d[900];
        snprintf(d, sizeof(d), "%d host-wide /proc files open for writing: %s%s", count, found,
                 count > 8 ? " ..." : "");
        return escaped("write host-wide /proc files", d);
    }
    return denied("write host-wide /proc files", "none opens for writing");
}

static int t_mknod(void)
{
    errno = 0;
    int r = mknod("/tmp/ap-mem", S_IFCHR | 0600, makedev(1, 1));
    int e = errno;
    if (r == 0) {
        unlink("/tmp/ap-mem");
        return escaped("mknod /dev/mem-like char device", "created");
    }
    errno = 0;
    int r2 = mknod("/tmp/ap-sda", S_IFBLK | 0600, makedev(8, 0));
    int e2 = errno;
    if (r2 == 0) {
        unlink("/tmp/ap-sda");
        return escaped("mknod block device", "created");
    }
    if (!stopping_errno(e))
        return verdict("mknod char device", r, e);
    if (!stopping_errno(e2))
        return verdict("mknod block device", r2, e2);
    char d[128];
    snprintf(d, sizeof(d), "char %s, block %s", errname(e), errname(e2));
    return denied("mknod device node", d);
}

/* ---- processes and namespaces ---- */

static int t_ptrace_pid1(void)
{
    errno = 0;
    long r = ptrace(PTRACE_ATTACH, 1, NULL, NULL);
    int e = errno;
    if (r == 0)
        ptrace(PTRACE_DETACH, 1, NULL, NULL);
    return verdict("ptrace attach to pid 1", r, e);
}

static int t_ptrace_child(void)
{
    /* PTRACE_TRACEME in a child (then exec), and PTRACE_ATTACH to our own child. */
    int p[2];
    if (pipe(p) < 0)
        return escaped("ptrace", "pipe failed");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        errno = 0;
        long r = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        int res[2] = {(int)r, errno};
        if (write(p[1], res, sizeof(res)) < 0)
            _exit(3);
        close(p[1]);
        if (r == 0) {
            /* Traced: the exec stops with SIGTRAP and the parent sees it. */
            execl("/usr/bin/escape", "escape", "true", (char *)NULL);
        }
        _exit(0);
    }
    close(p[1]);
    int res[2] = {-1, 0};
    if (read(p[0], res, sizeof(res)) != (ssize_t)sizeof(res))
        res[0] = -2;
    close(p[0]);
    int st;
    waitpid(c, &st, WUNTRACED);
    if (WIFSTOPPED(st)) {
        kill(c, SIGKILL);
        waitpid(c, &st, 0);
    }
    if (res[0] == 0)
        return escaped("ptrace TRACEME", "the child became traced");
    if (!stopping_errno(res[1]))
        return verdict("ptrace TRACEME", res[0], res[1]);

    pid_t k = fork();
    if (k == 0) {
        for (;;)
            pause();
    }
    errno = 0;
    long r = ptrace(PTRACE_ATTACH, k, NULL, NULL);
    int e = errno;
    kill(k, SIGKILL);
    waitpid(k, &st, 0);
    if (r == 0 || !stopping_errno(e))
        return verdict("ptrace attach to own child", r, e);
    char d[128];
    snprintf(d, sizeof(d), "TRACEME %s, attach %s", errname(res[1]), errname(e));
    return denied("ptrace own child", d);
}

static int t_process_vm(void)
{
    char buf[8];
    struct iovec local = {buf, sizeof(buf)}, remote = {(void *)0x400000, sizeof(buf)};
    errno = 0;
    long r = syscall(SYS_process_vm_readv, 1, &local, 1, &remote, 1, 0);
    return verdict("process_vm_readv of pid 1", r, errno);
}

static int t_unshare_user(void)
{
    errno = 0;
    long r = unshare(CLONE_NEWUSER);
    return verdict("unshare CLONE_NEWUSER", r, errno);
}

static int t_unshare_ns(void)
{
    errno = 0;
    long r = unshare(CLONE_NEWNS);
    return verdict("unshare CLONE_NEWNS", r, errno);
}

static int t_unshare_other(void)
{
    static const struct {
        int flag;
        const char *name;
    } f[] = {{CLONE_NEWNET, "NEWNET"}, {CLONE_NEWUTS, "NEWUTS"},       {CLONE_NEWIPC, "NEWIPC"},
             {CLONE_NEWPID, "NEWPID"}, {CLONE_NEWCGROUP, "NEWCGROUP"}, {CLONE_NEWTIME, "NEWTIME"}};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        errno = 0;
        long r = unshare(f[i].flag);
        int e = errno;
        if (r == 0 || !stopping_errno(e)) {
            char what[48];
            snprintf(what, sizeof(what), "unshare CLONE_%s", f[i].name);
            return verdict(what, r, e);
        }
    }
    return denied("unshare net, uts, ipc, pid, cgroup, time", "EPERM for each");
}

static int t_setns(void)
{
    errno = 0;
    int fd = open("/proc/1/ns/net", O_RDONLY);
    int e_open = errno;
    char d[160];
    if (fd >= 0) {
        errno = 0;
        long r = setns(fd, CLONE_NEWNET);
        close(fd);
        return verdict("setns to pid 1's net namespace", r, errno);
    }
    /* pid 1's links are closed to us: try our own, which the filter must refuse too. */
    fd = open("/proc/self/ns/mnt", O_RDONLY);
    if (fd < 0) {
        snprintf(d, sizeof(d), "open /proc/1/ns/net %s, /proc/self/ns/mnt %s", errname(e_open),
                 errname(errno));
        return denied("setns", d);
    }
    errno = 0;
    long r = setns(fd, 0);
    int e = errno;
    close(fd);
    if (r == 0 || !stopping_errno(e))
        return verdict("setns", r, e);
    snprintf(d, sizeof(d), "open /proc/1/ns/net %s, setns %s", errname(e_open), errname(e));
    return denied("setns", d);
}

static int clone_flags(const char *what, unsigned long flags)
{
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(0);
    int e = errno;
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    return verdict(what, r, e);
}

static int t_clone_newuser(void)
{
    return clone_flags("clone CLONE_NEWUSER", CLONE_NEWUSER);
}

static int t_clone_newnet(void)
{
    return clone_flags("clone CLONE_NEWNET", CLONE_NEWNET);
}

static int t_clone3(void)
{
    struct {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } args;
    memset(&args, 0, sizeof(args));
    args.flags = CLONE_NEWUSER | CLONE_NEWNS;
    args.exit_signal = SIGCHLD;
    fflush(stdout);
    errno = 0;
    long r = syscall(SYS_clone3, &args, sizeof(args));
    if (r == 0)
        _exit(0);
    int e = errno;
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    return verdict("clone3 CLONE_NEWUSER|CLONE_NEWNS", r, e);
}

static long int80_1(long nr, long a1)
{
    long ret;
    __asm__ volatile("int $0x80"
                     : "=a"(ret)
                     : "a"(nr), "b"(a1)
                     : "memory", "r8", "r9", "r10", "r11");
    return ret;
}

static int int80_child(void)
{
    long r = int80_1(I386_NR_UNSHARE, CLONE_NEWUSER);
    return verdict("32-bit unshare CLONE_NEWUSER (int 0x80)", r < 0 && r > -4096 ? -1 : r,
                   r < 0 && r > -4096 ? (int)-r : 0);
}

static int t_int80(void)
{
    return in_child("32-bit unshare CLONE_NEWUSER (int 0x80)", int80_child);
}

static int x32_child(void)
{
    errno = 0;
    long r = syscall(X32_SYSCALL_BIT | SYS_unshare, CLONE_NEWUSER);
    return verdict("x32 unshare CLONE_NEWUSER", r, errno);
}

static int t_x32(void)
{
    return in_child("x32 unshare CLONE_NEWUSER", x32_child);
}

/* ---- kernel interfaces ---- */

static int t_bpf(void)
{
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.map_type = BPF_MAP_TYPE_ARRAY;
    a.key_size = 4;
    a.value_size = 4;
    a.max_entries = 1;
    errno = 0;
    long r = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
    return verdict("bpf map create", r, errno);
}

static int t_kexec_load(void)
{
    /* An architecture that is not ours: EINVAL right after the permission check. */
    errno = 0;
    long r = syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0xdead0000UL);
    return verdict("kexec_load", r, errno);
}

static int t_kexec_file_load(void)
{
    errno = 0;
    long r = syscall(SYS_kexec_file_load, -1, -1, 0UL, "", ~0UL);
    return verdict("kexec_file_load", r, errno);
}

static int t_keyctl(void)
{
    /* The user keyring of our uid is shared with every process of that uid on the host. */
    errno = 0;
    long r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
    return verdict("keyctl user keyring", r, errno);
}

static int t_add_key(void)
{
    errno = 0;
    long r = syscall(SYS_add_key, "user", "ap-escape-test", "x", 1UL, KEY_SPEC_PROCESS_KEYRING);
    return verdict("add_key", r, errno);
}

static int t_request_key(void)
{
    errno = 0;
    long r = syscall(SYS_request_key, "user", "ap-escape-none", NULL, KEY_SPEC_PROCESS_KEYRING);
    return verdict("request_key", r, errno);
}

static int t_reboot(void)
{
    /* A wrong second magic number: EINVAL right after the permission check. */
    errno = 0;
    long r = syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, 0x12345678, LINUX_REBOOT_CMD_CAD_OFF, NULL);
    return verdict("reboot", r, errno);
}

static int t_init_module(void)
{
    static const char junk[] = "not a module";
    errno = 0;
    long r = syscall(SYS_init_module, junk, sizeof(junk), "");
    return verdict("init_module", r, errno);
}

static int t_finit_module(void)
{
    int fd = open("/etc/visible", O_RDONLY);
    errno = 0;
    long r = syscall(SYS_finit_module, fd, "", 0);
    int e = errno;
    if (fd >= 0)
        close(fd);
    return verdict("finit_module", r, e);
}

static int t_delete_module(void)
{
    errno = 0;
    long r = syscall(SYS_delete_module, "ap_escape_none", O_NONBLOCK);
    return verdict("delete_module", r, errno);
}

static int t_perf(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof(a));
    a.size = sizeof(a);
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    errno = 0;
    long r = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0UL);
    return verdict("perf_event_open", r, errno);
}

static int t_userfaultfd(void)
{
    errno = 0;
    long r = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
    return verdict("userfaultfd", r, errno);
}

static int t_open_by_handle(void)
{
    /* The "shocker" attack: a handle for inode 2 (the root of an ext4 filesystem) opened
     * through a descriptor of our root reaches the host filesystem's root. */
    struct file_handle *h = malloc(sizeof(*h) + 8);
    if (h == NULL)
        return escaped("open_by_handle_at", "out of memory");
    h->handle_bytes = 8;
    h->handle_type = 1; /* FILEID_INO32_GEN */
    uint32_t ino_gen[2] = {2, 0};
    memcpy(h->f_handle, ino_gen, sizeof(ino_gen));
    int mfd = open("/", O_RDONLY | O_DIRECTORY);
    errno = 0;
    long r = syscall(SYS_open_by_handle_at, mfd, h, O_RDONLY);
    int e = errno;
    free(h);
    return verdict("open_by_handle_at", r, e);
}

static int t_iopl(void)
{
    errno = 0;
    long r = syscall(SYS_iopl, 3);
    return verdict("iopl", r, errno);
}

static int t_ioperm(void)
{
    errno = 0;
    long r = syscall(SYS_ioperm, 0x80UL, 1UL, 1);
    return verdict("ioperm", r, errno);
}

static int t_acct(void)
{
    errno = 0;
    long r = acct("/nonexistent/acct");
    return verdict("acct", r, errno);
}

static int t_settimeofday(void)
{
    /* An out-of-range time zone: EINVAL right after the permission check. */
    struct timezone tz = {16 * 60, 0};
    errno = 0;
    long r = syscall(SYS_settimeofday, NULL, &tz);
    return verdict("settimeofday", r, errno);
}

static int t_clock_settime(void)
{
    /* The only argument that passes validation is a valid time: the current one, so a
     * success would move the clock by microseconds at most. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    errno = 0;
    long r = syscall(SYS_clock_settime, CLOCK_REALTIME, &ts);
    return verdict("clock_settime", r, errno);
}

static int t_swapon(void)
{
    errno = 0;
    long r = swapon("/nonexistent-swap", 0);
    return verdict("swapon", r, errno);
}

static int t_io_uring(void)
{
    /* io_uring runs file and socket operations that the filter never sees. */
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    errno = 0;
    long r = syscall(SYS_io_uring_setup, 1, &p);
    return verdict("io_uring_setup", r, errno);
}

/* ---- network ---- */

static int t_raw_socket(void)
{
    errno = 0;
    long r = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    return verdict("raw socket AF_INET SOCK_RAW", r, errno);
}

static int t_packet_socket(void)
{
    errno = 0;
    long r = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    return verdict("packet socket AF_PACKET", r, errno);
}

static int t_vsock(void)
{
    /* vsock reaches the hypervisor whatever the network namespace: creating the socket is
     * the whole test (nothing is sent). */
    errno = 0;
    int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int e = errno;
    if (s >= 0) {
        close(s);
        return escaped("vsock socket", "AF_VSOCK socket created; vsock ignores network namespaces");
    }
    if (stopping_errno(e) || e == EAFNOSUPPORT)
        return denied("vsock socket", errname(e));
    return verdict("vsock socket", -1, e);
}

static int t_lo_up(void)
{
    /* Changing the namespace's interfaces needs CAP_NET_ADMIN. */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return denied("bring interface lo up", errname(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    errno = 0;
    long r = ioctl(s, SIOCSIFFLAGS, &ifr);
    int e = errno;
    close(s);
    return verdict("bring interface lo up", r, e);
}

/* Connects with a timeout; returns 0 on success or an errno. */
static int connect_timeout(const struct sockaddr_in *sa, double timeout_s)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return errno;
    int e = 0;
    if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd p = {s, POLLOUT, 0};
            int n = poll(&p, 1, (int)(timeout_s * 1000));
            if (n == 0) {
                e = ETIMEDOUT;
            } else {
                socklen_t len = sizeof(e);
                if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
                    e = errno;
            }
        }
    }
    close(s);
    return e;
}

static int t_connect(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: escape connect ADDRESS PORT\n");
        return 2;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
        fprintf(stderr, "escape connect: bad address %s\n", argv[2]);
        return 2;
    }
    char what[80];
    snprintf(what, sizeof(what), "connect to %s:%s", argv[2], argv[3]);
    int e = connect_timeout(&sa, 2.0);
    if (e == 0)
        return escaped(what, "connected");
    return denied(what, errname(e));
}

/* Control: a server and a client on 127.0.0.1 inside the sandbox. */
static int t_loopback(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    const char *step = "socket";
    if (ls < 0)
        goto broken;
    step = "bind 127.0.0.1";
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto broken;
    step = "listen";
    if (listen(ls, 1) < 0 || getsockname(ls, (struct sockaddr *)&sa, &len) < 0)
        goto broken;
    step = "connect";
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto broken;
    step = "accept";
    int a = accept(ls, NULL, NULL);
    if (a < 0)
        goto broken;
    step = "send";
    char b = 'x';
    if (write(c, &b, 1) != 1)
        goto broken;
    step = "receive";
    b = 0;
    if (read(a, &b, 1) != 1 || b != 'x')
        goto broken;
    printf("WORKS loopback (127.0.0.1:%u, one byte each way)\n", ntohs(sa.sin_port));
    return 0;
broken:
    printf("BROKEN loopback (%s: %s)\n", step, errname(errno));
    return 1;
}

/* ---- what the command may see and hold ---- */

static int t_host_read(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: escape host-read MARKER\n");
        return 2;
    }
    const char *m = argv[2];
    /* Control: a file of the image is readable, so a failure below is the sandbox's doing. */
    char buf[64];
    int fd = open("/etc/visible", O_RDONLY);
    if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0) {
        printf("BROKEN host-read control (/etc/visible: %s)\n", errname(errno));
        return 1;
    }
    close(fd);
    static const char *const prefixes[] = {
        "/proc/1/root/tmp/",   "/proc/self/root/../../tmp/",   "/tmp/",
        "/proc/1/cwd/../tmp/", "/proc/self/cwd/../../../tmp/", "/../../../tmp/"};
    char d[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s%s", prefixes[i], m);
        errno = 0;
        fd = open(path, O_RDONLY);
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            buf[n > 0 ? n : 0] = '\0';
            char e[600];
            snprintf(e, sizeof(e), "read %s: \"%.40s\"", path, buf);
            return escaped("read the host's files through /proc", e);
        }
        len += (size_t)snprintf(d + len, sizeof(d) - len, "%s%s", i ? " " : "", errname(errno));
    }
    return denied("read the host's files through /proc", d);
}

static int t_setuid(void)
{
    /* The copy at /usr/bin/escape-suid is owned by root with mode 4755. */
    struct stat st;
    if (stat("/proc/self/exe", &st) < 0 || st.st_uid != 0 || !(st.st_mode & S_ISUID)) {
        printf("BROKEN setuid (this copy is not setuid root)\n");
        return 1;
    }
    if (getuid() == 0) {
        printf("BROKEN setuid (run as uid 0: nothing to gain)\n");
        return 1;
    }
    char d[160];
    if (geteuid() == 0) {
        snprintf(d, sizeof(d), "euid 0 from uid %u", (unsigned)getuid());
        return escaped("setuid-root binary", d);
    }
    errno = 0;
    int fd = open("/etc/secret", O_RDONLY);
    if (fd >= 0)
        return escaped("setuid-root binary", "opened the root-only /etc/secret");
    int e = errno;
    errno = 0;
    if (setuid(0) == 0)
        return escaped("setuid-root binary", "setuid(0) worked");
    snprintf(d, sizeof(d), "uid %u euid %u; /etc/secret %s; setuid(0) %s", (unsigned)getuid(),
             (unsigned)geteuid(), errname(e), errname(errno));
    return denied("setuid-root binary", d);
}

/* Control for the script: run outside the sandbox, the setuid copy does gain root. */
static int t_setuid_control(void)
{
    printf("SETUP euid %u\n", (unsigned)geteuid());
    return geteuid() == 0 ? 0 : 1;
}

static int t_caps(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return escaped("capabilities", "cannot read /proc/self/status");
    char line[256];
    int bad = 0, nnp = 0, sec = 0;
    char d[256] = "";
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "Cap", 3) == 0) {
            char *v = strchr(line, ':');
            if (v != NULL && strtoull(v + 1, NULL, 16) != 0) {
                bad = 1;
                line[strcspn(line, "\n")] = '\0';
                size_t used = strlen(d);
                snprintf(d + used, sizeof(d) - used, "%.60s ", line);
            }
        } else if (strncmp(line, "NoNewPrivs:", 11) == 0) {
            nnp = atoi(line + 11);
        } else if (strncmp(line, "Seccomp:", 8) == 0) {
            sec = atoi(line + 8);
        }
    }
    fclose(f);
    if (bad)
        return escaped("hold capabilities", d);
    if (nnp != 1 || sec != 2) {
        snprintf(d, sizeof(d), "NoNewPrivs %d, Seccomp %d", nnp, sec);
        return escaped("run without no_new_privs and a seccomp filter", d);
    }
    return denied("hold capabilities", "every set empty, NoNewPrivs 1, Seccomp 2");
}

static int t_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return escaped("inherited descriptors", "cannot list /proc/self/fd");
    int self = dirfd(d);
    struct dirent *de;
    char found[200] = "";
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        int fd = atoi(de->d_name);
        if (fd <= 2 || fd == self)
            continue;
        char link[64], target[128];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        snprintf(found + strlen(found), sizeof(found) - strlen(found), "%d->%s ", fd, target);
    }
    closedir(d);
    if (found[0])
        return escaped("inherited descriptors", found);
    return denied("inherited descriptors", "only 0, 1 and 2 are open");
}

static int t_tiocsti(void)
{
    /* Pushing characters into the input of the terminal we were started from: needs the
     * terminal to be our controlling one, which setsid() took away; taking it back must fail. */
    int fd = -1;
    for (int i = 0; i <= 2; i++) {
        if (isatty(i)) {
            fd = i;
            break;
        }
    }
    if (fd < 0) {
        printf("BROKEN tiocsti (no terminal on 0, 1 or 2: nothing to test)\n");
        return 1;
    }
    char c = '#';
    errno = 0;
    long r = ioctl(fd, TIOCSTI, &c);
    int e1 = errno;
    if (r == 0)
        return escaped("inject terminal input (TIOCSTI)", "a character was pushed");
    errno = 0;
    r = ioctl(fd, TIOCSCTTY, 0);
    int e2 = errno;
    if (r == 0) {
        errno = 0;
        r = ioctl(fd, TIOCSTI, &c);
        if (r == 0)
            return escaped("inject terminal input (TIOCSTI)",
                           "took the terminal, pushed a character");
        return escaped("take the terminal (TIOCSCTTY)", "became its controlling process");
    }
    char d[96];
    snprintf(d, sizeof(d), "TIOCSTI %s, TIOCSCTTY %s", errname(e1), errname(e2));
    return denied("inject terminal input (TIOCSTI)", d);
}

/* ---- resources ---- */

static int t_forkbomb(void)
{
    int n = 0;
    for (;;) {
        fflush(stdout);
        pid_t p = fork();
        if (p == 0) {
            for (;;)
                pause();
        }
        if (p < 0) {
            char d[64];
            snprintf(d, sizeof(d), "%s after %d processes", errname(errno), n);
            return denied("fork bomb", d);
        }
        if (++n >= 5000)
            return escaped("fork bomb", "5000 processes and fork still works");
    }
}

static int t_membomb(void)
{
    const size_t chunk = 1 << 20;
    size_t total = 0;
    for (;;) {
        char *p = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            char d[64];
            snprintf(d, sizeof(d), "mmap %s after %zu MiB", errname(errno), total >> 20);
            return denied("memory bomb", d);
        }
        memset(p, 0xa5, chunk);
        total += chunk;
        if (total >= (size_t)2 << 30)
            return escaped("memory bomb", "2 GiB allocated and touched");
    }
}

static int t_cpuhog(void)
{
    double t0 = now_s();
    volatile unsigned long x = 0;
    for (;;) {
        for (int i = 0; i < 1000000; i++)
            x = x * 6364136223846793005UL + 1;
        if (now_s() - t0 > 30)
            return escaped("CPU hog", "ran 30 s");
    }
}

static int t_ignore_term(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    /* Show that SIGTERM really is ignored. */
    kill(getpid(), SIGTERM);
    double t0 = now_s();
    while (now_s() - t0 < 30) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return escaped("ignore SIGTERM", "alive after 30 s");
}

static int t_sleep(int argc, char **argv)
{
    /* argv[2] is a marker for pgrep; argv[3] an optional number of seconds. */
    double secs = argc > 3 ? atof(argv[3]) : 3600;
    double t0 = now_s();
    while (now_s() - t0 < secs) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    printf("SLEPT %.1f s\n", secs);
    return 0;
}

static int t_doublefork(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: escape doublefork MARKER [SECONDS]\n");
        return 2;
    }
    double wait = argc > 3 ? atof(argv[3]) : 0;
    char marker[256];
    snprintf(marker, sizeof(marker), "%s-grandchild", argv[2]);
    int p[2];
    if (pipe(p) < 0)
        return escaped("double fork", "pipe failed");
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        pid_t g = fork();
        if (g == 0) {
            /* A new session, out of the way of our parent, sleeping until killed. */
            setsid();
            signal(SIGHUP, SIG_IGN);
            signal(SIGTERM, SIG_IGN);
            close(p[1]);
            char self[] = "/usr/bin/escape", verb[] = "sleep";
            char *const args[] = {self, verb, marker, NULL};
            execv(args[0], args);
            _exit(127);
        }
        if (write(p[1], &g, sizeof(g)) < 0)
            _exit(3);
        _exit(0);
    }
    close(p[1]);
    pid_t g = -1;
    if (read(p[0], &g, sizeof(g)) != (ssize_t)sizeof(g))
        g = -1;
    waitpid(c, NULL, 0);
    double t0 = now_s();
    while (now_s() - t0 < wait) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (g <= 0 || kill(g, 0) < 0) {
        printf("BROKEN double fork (the grandchild is not running)\n");
        return 1;
    }
    printf("STARTED double-fork grandchild pid %d (%s), its parent gone\n", (int)g, marker);
    return 0;
}

/* ---- mounts: read-only all the way down ---- */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' &&
            r[3] >= '0' && r[3] <= '7') {
            *w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
            r += 4;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

static int has_opt(const char *opts, const char *o)
{
    size_t n = strlen(o);
    for (const char *p = opts; (p = strstr(p, o)) != NULL; p += n)
        if ((p == opts || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

static int path_under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* mount-audit [--rw-ok DIR]...: every mount of the sandbox, from /proc/self/mountinfo's
 * per-mount flags and statvfs where the mount point can be reached: each must be nosuid,
 * each but /dev (device nodes) nodev, and read-only unless at or below a --rw-ok DIR.
 * Reads flags only; writes nothing. */
static int t_mount_audit(int argc, char **argv)
{
    const char *ok[16];
    int n_ok = 0;
    for (int i = 2; i + 1 < argc && n_ok < 16; i += 2)
        if (strcmp(argv[i], "--rw-ok") == 0)
            ok[n_ok++] = argv[i + 1];
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL) {
        printf("BROKEN mount audit (mountinfo: %s)\n", errname(errno));
        return 1;
    }
    char line[8192], bad[4096] = "";
    size_t used = 0;
    int mounts = 0, problems = 0, by_statvfs = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        /* id parent major:minor root mountpoint options ... */
        char *field[6];
        char *save = NULL, *tok = strtok_r(line, " ", &save);
        int k = 0;
        for (; tok != NULL && k < 6; tok = strtok_r(NULL, " ", &save))
            field[k++] = tok;
        if (k < 6)
            continue;
        char *mp = field[4], *opts = field[5];
        unescape_mountinfo(mp);
        mounts++;
        int ro = has_opt(opts, "ro"), nosuid = has_opt(opts, "nosuid"),
            nodev = has_opt(opts, "nodev");
        struct statvfs sv;
        if (statvfs(mp, &sv) == 0) {
            /* statvfs shows the flags of whatever is mounted on top at that path. */
            by_statvfs++;
        }
        int dev_ok = path_under(mp, "/dev") && !path_under(mp, "/dev/shm");
        int rw_ok = 0;
        for (int i = 0; i < n_ok; i++)
            rw_ok |= path_under(mp, ok[i]);
        const char *why = NULL;
        if (!ro && !rw_ok)
            why = "writable";
        else if (!nosuid)
            why = "suid";
        else if (!nodev && !dev_ok)
            why = "dev";
        if (why != NULL) {
            problems++;
            int w = snprintf(bad + used, sizeof(bad) - used, "%s%s:%s", used ? " " : "", mp, why);
            if (w > 0 && (size_t)w < sizeof(bad) - used)
                used += (size_t)w;
        }
    }
    fclose(f);
    char d[4200];
    if (problems > 0) {
        snprintf(d, sizeof(d), "%d of %d mounts: %s", problems, mounts, bad);
        return escaped("mounts beyond the allowed writable ones", d);
    }
    snprintf(d, sizeof(d),
             "%d mounts, %d reached by statvfs: all nosuid, nodev but /dev, "
             "read-only but the allowed",
             mounts, by_statvfs);
    return denied("mounts beyond the allowed writable ones", d);
}

/* statvfs-ro PATH...: each path must sit on a read-only, nosuid, nodev mount (statvfs). */
static int t_statvfs_ro(int argc, char **argv)
{
    char d[2048] = "";
    size_t used = 0;
    int bad = 0;
    for (int i = 2; i < argc; i++) {
        struct statvfs sv;
        const char *state;
        if (statvfs(argv[i], &sv) < 0)
            state = errname(errno);
        else if ((sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV)) ==
                 (ST_RDONLY | ST_NOSUID | ST_NODEV))
            state = "ro,nosuid,nodev";
        else {
            state = (sv.f_flag & ST_RDONLY) ? "ro but suid or dev" : "rw";
            bad++;
        }
        int w = snprintf(d + used, sizeof(d) - used, "%s%s %s", used ? ", " : "", argv[i], state);
        if (w > 0 && (size_t)w < sizeof(d) - used)
            used += (size_t)w;
    }
    return bad ? escaped("statvfs of host mounts under a bind", d)
               : denied("statvfs of host mounts under a bind", d);
}

/* dev-audit SHM_BYTES: /dev is read-only once populated (nothing can be created in it),
 * its nodes still work, and /dev/shm is a tmpfs of its own of SHM_BYTES that fills up. */
static int t_dev_audit(int argc, char **argv)
{
    if (argc < 3) {
        printf("BROKEN dev audit (usage: dev-audit SHM_BYTES)\n");
        return 1;
    }
    unsigned long long want = strtoull(argv[2], NULL, 10);
    char d[512];
    int fd = open("/dev/escape-file", O_WRONLY | O_CREAT | O_EXCL, 0644);
    int e = errno;
    if (fd >= 0) {
        close(fd);
        return escaped("/dev", "a file was created in /dev");
    }
    if (mkdir("/dev/escape-dir", 0755) == 0)
        return escaped("/dev", "a directory was created in /dev");
    int e2 = errno;
    if (e != EROFS || e2 != EROFS) {
        snprintf(d, sizeof(d), "create %s, mkdir %s: expected EROFS", errname(e), errname(e2));
        return escaped("/dev", d);
    }
    fd = open("/dev/null", O_WRONLY);
    if (fd < 0 || write(fd, "x", 1) != 1) {
        printf("BROKEN /dev/null unusable (%s)\n", errname(errno));
        return 1;
    }
    close(fd);
    struct statvfs sv;
    if (statvfs("/dev/shm", &sv) < 0) {
        printf("BROKEN statvfs /dev/shm (%s)\n", errname(errno));
        return 1;
    }
    unsigned long long size = (unsigned long long)sv.f_blocks * sv.f_frsize;
    struct stat shm, dev;
    if (stat("/dev/shm", &shm) < 0 || stat("/dev", &dev) < 0 || shm.st_dev == dev.st_dev)
        return escaped("/dev/shm", "not a file system of its own");
    if (size != want) {
        snprintf(d, sizeof(d), "size %llu, expected %llu", size, want);
        return escaped("/dev/shm", d);
    }
    /* Fill it: one more byte than its size must fail with ENOSPC. */
    fd = open("/dev/shm/fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        printf("BROKEN /dev/shm not writable (%s)\n", errname(errno));
        return 1;
    }
    static char buf[1 << 16];
    memset(buf, 'x', sizeof(buf));
    unsigned long long written = 0;
    int fill_err = 0;
    while (written <= want) {
        ssize_t n = write(fd, buf, sizeof(buf));
        if (n <= 0) {
            fill_err = n < 0 ? errno : 0;
            break;
        }
        written += (unsigned long long)n;
    }
    close(fd);
    unlink("/dev/shm/fill");
    if (written > want || fill_err != ENOSPC) {
        snprintf(d, sizeof(d), "wrote %llu of %llu bytes (%s)", written, want,
                 fill_err ? errname(fill_err) : "no error");
        return escaped("/dev/shm", d);
    }
    snprintf(d, sizeof(d),
             "/dev EROFS for create and mkdir, /dev/null works; /dev/shm %llu "
             "bytes, full (ENOSPC) after %llu",
             size, written);
    return denied("/dev and /dev/shm", d);
}

static int t_true(void)
{
    return 0;
}

struct attempt {
    const char *name;
    int (*fn)(void);
    int (*fn_args)(int, char **);
};

static const struct attempt attempts[] = {
    {"mount", t_mount, NULL},
    {"mount-api", t_mount_api, NULL},
    {"umount2", t_umount2, NULL},
    {"pivot-root", t_pivot_root, NULL},
    {"chroot", t_chroot, NULL},
    {"write-root", t_write_root, NULL},
    {"write-sys", t_write_sys, NULL},
    {"write-proc-sys", t_write_proc_sys, NULL},
    {"proc-write", t_proc_write, NULL},
    {"mknod", t_mknod, NULL},
    {"ptrace-pid1", t_ptrace_pid1, NULL},
    {"ptrace-child", t_ptrace_child, NULL},
    {"process-vm", t_process_vm, NULL},
    {"unshare-user", t_unshare_user, NULL},
    {"unshare-ns", t_unshare_ns, NULL},
    {"unshare-other", t_unshare_other, NULL},
    {"setns", t_setns, NULL},
    {"clone-newuser", t_clone_newuser, NULL},
    {"clone-newnet", t_clone_newnet, NULL},
    {"clone3", t_clone3, NULL},
    {"int80", t_int80, NULL},
    {"x32", t_x32, NULL},
    {"bpf", t_bpf, NULL},
    {"kexec-load", t_kexec_load, NULL},
    {"kexec-file-load", t_kexec_file_load, NULL},
    {"keyctl", t_keyctl, NULL},
    {"add-key", t_add_key, NULL},
    {"request-key", t_request_key, NULL},
    {"reboot", t_reboot, NULL},
    {"init-module", t_init_module, NULL},
    {"finit-module", t_finit_module, NULL},
    {"delete-module", t_delete_module, NULL},
    {"perf-event-open", t_perf, NULL},
    {"userfaultfd", t_userfaultfd, NULL},
    {"open-by-handle", t_open_by_handle, NULL},
    {"iopl", t_iopl, NULL},
    {"ioperm", t_ioperm, NULL},
    {"acct", t_acct, NULL},
    {"settimeofday", t_settimeofday, NULL},
    {"clock-settime", t_clock_settime, NULL},
    {"swapon", t_swapon, NULL},
    {"io-uring", t_io_uring, NULL},
    {"raw-socket", t_raw_socket, NULL},
    {"packet-socket", t_packet_socket, NULL},
    {"vsock", t_vsock, NULL},
    {"lo-up", t_lo_up, NULL},
    {"connect", NULL, t_connect},
    {"loopback", t_loopback, NULL},
    {"host-read", NULL, t_host_read},
    {"setuid", t_setuid, NULL},
    {"setuid-control", t_setuid_control, NULL},
    {"caps", t_caps, NULL},
    {"fds", t_fds, NULL},
    {"tiocsti", t_tiocsti, NULL},
    {"forkbomb", t_forkbomb, NULL},
    {"membomb", t_membomb, NULL},
    {"cpuhog", t_cpuhog, NULL},
    {"ignore-term", t_ignore_term, NULL},
    {"sleep", NULL, t_sleep},
    {"doublefork", NULL, t_doublefork},
    {"mount-audit", NULL, t_mount_audit},
    {"statvfs-ro", NULL, t_statvfs_ro},
    {"dev-audit", NULL, t_dev_audit},
    {"true", t_true, NULL},
};

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++) {
            if (strcmp(argv[1], attempts[i].name) != 0)
                continue;
            return attempts[i].fn != NULL ? attempts[i].fn() : attempts[i].fn_args(argc, argv);
        }
    }
    fprintf(stderr, "usage: escape ATTEMPT [ARGS]\nattempts:");
    for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
        fprintf(stderr, " %s", attempts[i].name);
    fprintf(stderr, "\n");
    return 2;
}
