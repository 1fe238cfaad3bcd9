/* Between clone() and exec(): no allocation, no stdio, only system calls; failures are
 * reported on the status pipe and end the process. Without a user namespace this runs in the
 * appliance's memory (CLONE_VM|CLONE_VFORK) on a stack of its own while the appliance waits,
 * so nothing here may take a lock or change what the appliance relies on. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <grp.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static __attribute__((noreturn, format(printf, 3, 4))) void fail(int fd, int e, const char *fmt,
                                                                 ...)
{
    struct ap_child_report r;
    memset(&r, 0, sizeof(r));
    r.kind = 'E';
    r.err = e;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
    va_end(ap);
    if (write(fd, &r, sizeof(r)) < 0) {
        /* Nothing left to tell it with. */
    }
    _exit(127);
}

#define CHECK(fd, expr, ...)                                                                       \
    do {                                                                                           \
        if ((expr) < 0)                                                                            \
            fail(fd, errno, __VA_ARGS__);                                                          \
    } while (0)

/* snprintf into a path buffer; a path that does not fit fails the child, naming it, rather
 * than acting on a cut path. */
static __attribute__((format(printf, 4, 5))) void path_fmt(int fd, char *buf, size_t len,
                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len)
        fail(fd, ENAMETOOLONG, "a path built from \"%s\" is longer than %zu bytes", fmt, len - 1);
}

/* readlink into buf (len bytes), NUL-terminated; a target that fills the buffer may have been
 * cut, and fails the child. */
static void read_link(int fd, const char *link, char *buf, size_t len, const char *what)
{
    ssize_t n = readlink(link, buf, len - 1);
    if (n < 0)
        fail(fd, errno, "%s: resolving it", what);
    if ((size_t)n >= len - 1)
        fail(fd, ENAMETOOLONG, "%s: its real path is longer than %zu bytes", what, len - 2);
    buf[n] = '\0';
}

/* Opens a path inside the root without letting symlinks lead out of it. */
static int open_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Opens the directory at path inside the root, creating it (0755) when missing. */
static int ensure_dir_in_root(int rootfd, char *path)
{
    int fd = open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    char *slash = strrchr(path, '/');
    const char *leaf = slash != NULL ? slash + 1 : path;
    if (slash != NULL)
        *slash = '\0';
    int pfd = open_in_root(rootfd, slash != NULL && *path ? path : "/", O_PATH | O_DIRECTORY);
    if (slash != NULL)
        *slash = '/';
    if (pfd < 0)
        return -1;
    int r = mkdirat(pfd, leaf, 0755);
    int e = errno;
    close(pfd);
    if (r < 0 && e != EEXIST) {
        errno = e;
        return -1;
    }
    return open_in_root(rootfd, path, O_PATH | O_DIRECTORY);
}

/* mkdir -p inside the root; returns an O_PATH descriptor of the directory. */
static int mkdirs_in_root(int rootfd, const char *path)
{
    char buf[AP_SANDBOX_PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof(buf))
        return -(errno = ENAMETOOLONG);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int fd = ensure_dir_in_root(rootfd, buf);
        *p = '/';
        if (fd < 0)
            return -1;
        close(fd);
    }
    return ensure_dir_in_root(rootfd, buf);
}

/* Creates an empty file at path inside the root (its directories too) to mount a file on;
 * returns an O_PATH descriptor of it. */
static int make_file_in_root(int rootfd, const char *path)
{
    char dir[AP_SANDBOX_PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || (size_t)(slash - path) >= sizeof(dir))
        return -(errno = EINVAL);
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    int dfd = dir[0] ? mkdirs_in_root(rootfd, dir) : open_in_root(rootfd, "/", O_PATH);
    if (dfd < 0)
        return -1;
    /* An O_PATH descriptor of the directory cannot create in it: reopen it for that. */
    char p[64];
    snprintf(p, sizeof(p), "/proc/self/fd/%d", dfd);
    int real = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(dfd);
    if (real < 0)
        return -1;
    int fd = openat(real, slash + 1, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    close(real);
    if (fd < 0)
        return -1;
    close(fd);
    return open_in_root(rootfd, path, O_PATH);
}

static void fd_path(int fd, char *buf, size_t len)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

/* As uid 0 (without a user namespace) the command could write the host-wide files of /proc
 * that only ownership protects: make those read-only and hide the ones that leak host
 * state (Docker's list). Any other uid is kept out of them by their modes already. */
static void harden_proc(int sfd, const char *root)
{
    static const char *const readonly[] = {"sys", "bus", "irq", "fs", "sysrq-trigger"};
    static const char *const hidden[] = {"kcore", "keys",          "timer_list", "acpi",
                                         "scsi",  "latency_stats", "sched_debug"};
    char p[AP_SANDBOX_PATH_MAX + 64];
    for (size_t i = 0; i < sizeof(readonly) / sizeof(readonly[0]); i++) {
        path_fmt(sfd, p, sizeof(p), "%s/proc/%s", root, readonly[i]);
        if (access(p, F_OK) < 0)
            continue;
        CHECK(sfd, mount(p, p, NULL, MS_BIND | MS_REC, NULL), "binding /proc/%s", readonly[i]);
        CHECK(sfd,
              mount(NULL, p, NULL,
                    MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
              "making /proc/%s read-only", readonly[i]);
    }
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        struct stat st;
        path_fmt(sfd, p, sizeof(p), "%s/proc/%s", root, hidden[i]);
        if (stat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            CHECK(
                sfd,
                mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0"),
                "hiding /proc/%s", hidden[i]);
        } else {
            /* nodev: the file cannot even be opened. */
            CHECK(sfd, mount("/dev/null", p, NULL, MS_BIND, NULL), "hiding /proc/%s", hidden[i]);
            CHECK(sfd,
                  mount(NULL, p, NULL,
                        MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
                  "hiding /proc/%s", hidden[i]);
        }
    }
}

/* Makes the mount at fd (an O_PATH descriptor of its root) and every mount below it nosuid
 * and nodev, and read-only when ro: a bind of "/" brings the host's /proc, /sys and /dev
 * along, and each would keep its own flags otherwise. */
static int restrict_tree(int fd, int ro)
{
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                          (ro ? MOUNT_ATTR_RDONLY : 0)};
    return mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
}

static void setup_dev(const struct ap_child_args *a, const char *root)
{
    const int sfd = a->status_fd;
    static const struct {
        const char *name;
        unsigned maj, min;
    } nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    char dev[AP_SANDBOX_PATH_MAX + 8], p[AP_SANDBOX_PATH_MAX + 64];
    path_fmt(sfd, dev, sizeof(dev), "%s/dev", root);
    CHECK(sfd, mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=755,size=65536"),
          "mounting a tmpfs on /dev");
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        path_fmt(sfd, p, sizeof(p), "%s/%s", dev, nodes[i].name);
        if (!a->spec->userns) {
            CHECK(sfd, mknod(p, S_IFCHR | 0666, makedev(nodes[i].maj, nodes[i].min)),
                  "creating /dev/%s", nodes[i].name);
        } else {
            /* No mknod in a user namespace: bind the host's node. */
            char host[64];
            snprintf(host, sizeof(host), "/dev/%s", nodes[i].name);
            int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
            CHECK(sfd, fd, "creating /dev/%s", nodes[i].name);
            close(fd);
            CHECK(sfd, mount(host, p, NULL, MS_BIND, NULL), "binding /dev/%s", nodes[i].name);
            CHECK(sfd,
                  mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC,
                        NULL),
                  "restricting /dev/%s", nodes[i].name);
        }
    }
    static const char *const links[][2] = {{"fd", "/proc/self/fd"},
                                           {"stdin", "/proc/self/fd/0"},
                                           {"stdout", "/proc/self/fd/1"},
                                           {"stderr", "/proc/self/fd/2"},
                                           {"ptmx", "pts/ptmx"}};
    for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
        path_fmt(sfd, p, sizeof(p), "%s/%s", dev, links[i][0]);
        CHECK(sfd, symlink(links[i][1], p), "creating /dev/%s", links[i][0]);
    }
    path_fmt(sfd, p, sizeof(p), "%s/shm", dev);
    CHECK(sfd, mkdir(p, 01777), "creating /dev/shm");
    /* Populated: nothing more may be created in /dev (the nodes stay usable, a read-only
     * mount does not stop writes to a device). */
    CHECK(sfd, mount(NULL, dev, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, NULL),
          "making /dev read-only");
    /* Shared memory is a tmpfs of its own, sized as /tmp is: the command's other writable
     * place in memory, never a part of /dev. */
    char opts[64];
    snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
             (unsigned long long)(a->spec->tmp_bytes ? a->spec->tmp_bytes : 64ull << 20));
    CHECK(sfd, mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts),
          "mounting a tmpfs on /dev/shm");
}

static int under_tmp(const char *dst)
{
    return strncmp(dst, "/tmp", 4) == 0 && (dst[4] == '/' || dst[4] == '\0');
}

/* The mount point of a bind inside the root, made when missing (a directory for a directory,
 * an empty file for anything else); an O_PATH descriptor of it. */
static int bind_target(int rootfd, const struct ap_bind *b, int src_is_dir)
{
    if (src_is_dir)
        return mkdirs_in_root(rootfd, b->dst);
    int fd = open_in_root(rootfd, b->dst, O_PATH);
    if (fd < 0 && errno == ENOENT)
        fd = make_file_in_root(rootfd, b->dst);
    return fd;
}

/* Mount points of binds outside /tmp are made in the image's tree before it turns read-only;
 * those under /tmp are made later in the sandbox's own tmpfs. */
static void make_bind_targets(const struct ap_child_args *a, int rootfd)
{
    const int sfd = a->status_fd;
    for (size_t i = 0; i < a->spec->n_binds; i++) {
        const struct ap_bind *b = &a->spec->binds[i];
        if (under_tmp(b->dst))
            continue;
        struct stat st;
        CHECK(sfd, stat(b->src, &st), "bind source %s", b->src);
        int fd = bind_target(rootfd, b, S_ISDIR(st.st_mode));
        CHECK(sfd, fd, "bind target %s", b->dst);
        close(fd);
    }
}

/* True when path is at or below dir (both canonical). */
static int path_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* A symbolic link in the image could lead a bind target that passed the checks on its name
 * to /proc, /sys, /dev or the root itself: check where the descriptor really is. */
static void check_resolved_target(const struct ap_child_args *a, const char *real_root, int fd,
                                  const char *dst)
{
    static const char *const refused[] = {"/proc", "/sys", "/dev"};
    char link[64], at[AP_SANDBOX_PATH_MAX + 8], bad[AP_SANDBOX_PATH_MAX + 16], what[64];
    fd_path(fd, link, sizeof(link));
    snprintf(what, sizeof(what), "bind target %.40s", dst);
    read_link(a->status_fd, link, at, sizeof(at), what);
    int reject = !path_within(at, real_root) || strcmp(at, real_root) == 0;
    for (size_t i = 0; !reject && i < sizeof(refused) / sizeof(refused[0]); i++) {
        path_fmt(a->status_fd, bad, sizeof(bad), "%s%s", real_root, refused[i]);
        reject = path_within(at, bad);
    }
    if (reject)
        fail(a->status_fd, EPERM,
             "bind target %s resolves to %s inside the image, at or below /, /proc, /sys or "
             "/dev, which binds may not cover",
             dst, at + (path_within(at, real_root) ? strlen(real_root) : 0));
}

static void setup_binds(const struct ap_child_args *a, int rootfd, const char *real_root)
{
    const int sfd = a->status_fd;
    for (size_t i = 0; i < a->spec->n_binds; i++) {
        const struct ap_bind *b = &a->spec->binds[i];
        struct stat st;
        CHECK(sfd, stat(b->src, &st), "bind source %s", b->src);
        int dfd = bind_target(rootfd, b, S_ISDIR(st.st_mode));
        CHECK(sfd, dfd, "bind target %s", b->dst);
        check_resolved_target(a, real_root, dfd, b->dst);
        char target[64];
        fd_path(dfd, target, sizeof(target));
        CHECK(sfd, mount(b->src, target, NULL, MS_BIND | MS_REC, NULL), "binding %s to %s", b->src,
              b->dst);
        close(dfd);
        /* The fresh mount sits on top: reopen to reach it rather than what it covers. */
        dfd = open_in_root(rootfd, b->dst, O_PATH);
        CHECK(sfd, dfd, "bind target %s", b->dst);
        CHECK(sfd, restrict_tree(dfd, b->readonly), "making %s %s", b->dst,
              b->readonly ? "read-only (with every mount below it)"
                          : "nosuid and nodev (with every mount below it)");
        close(dfd);
    }
}

static void loopback_up(int sfd)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(sfd, s, "socket for lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    CHECK(sfd, ioctl(s, SIOCGIFFLAGS, &ifr), "reading the flags of lo");
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    CHECK(sfd, ioctl(s, SIOCSIFFLAGS, &ifr), "bringing lo up");
    close(s);
}

/* Sends our mount namespace to the parent. While the descriptor is in flight or held, the
 * namespace outlives pid 1, so unmounting its tree (which waits for an RCU grace period)
 * happens after the run is recorded rather than between the command's end and the reap. */
static void hand_over_mount_ns(const struct ap_child_args *a)
{
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        return; /* only a matter of timing */
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof(cbuf));
    char byte = 'm';
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &ns, sizeof(int));
    if (sendmsg(a->hold_fd, &msg, MSG_DONTWAIT) < 0) {
        /* Not fatal: the tree is then unmounted when pid 1 exits. */
    }
    close(ns);
}

/* PATH lookup without allocation, in the sandbox's view, with PATH from its environment.
 * Writes the path to run into buf; returns 0 or an errno value. */
static int resolve_in_path(const char *file, char *const *envp, char *buf, size_t len)
{
    if (strchr(file, '/') != NULL) {
        if (strlen(file) >= len)
            return ENAMETOOLONG;
        strcpy(buf, file);
        return 0;
    }
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (char *const *e = envp; e != NULL && *e != NULL; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            path = *e + 5;
    int saved = ENOENT;
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        const char *dir = n ? p : ".";
        size_t k = n ? n : 1;
        if (k + 1 + strlen(file) + 1 <= len) {
            memcpy(buf, dir, k);
            buf[k] = '/';
            strcpy(buf + k + 1, file);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
                if (access(buf, X_OK) == 0)
                    return 0;
                saved = EACCES;
            }
        }
        if (end == NULL)
            break;
        p = end;
    }
    return saved;
}

static void drop_privileges(const struct ap_child_args *a)
{
    const int sfd = a->status_fd;
    const struct ap_sandbox_spec *s = a->spec;
    for (int cap = 0; cap <= a->cap_last; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            fail(sfd, errno, "dropping capability %d from the bounding set", cap);
    CHECK(sfd, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clearing ambient caps");
    /* Raw system calls: libc's wrappers would try to change the ids of every thread of the
     * process whose memory we may share. */
    if (!s->userns)
        CHECK(sfd, syscall(SYS_setgroups, 0, NULL), "clearing supplementary groups");
    CHECK(sfd, syscall(SYS_setresgid, s->gid, s->gid, s->gid), "setting gid %u", (unsigned)s->gid);
    CHECK(sfd, syscall(SYS_setresuid, s->uid, s->uid, s->uid), "setting uid %u", (unsigned)s->uid);
    /* uid 0 keeps its capabilities across setresuid: clear every set explicitly. */
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    CHECK(sfd, syscall(SYS_capset, &hdr, data), "clearing capabilities");
}

/* Prepares the process and becomes ap-exec, the sandbox's pid 1, which starts the command. */
static __attribute__((noreturn)) void exec_command(const struct ap_child_args *a)
{
    const int efd = a->exec_fd;
    const struct ap_sandbox_spec *s = a->spec;
    int e = 0;
    setsid();
    if (s->stdin_fd >= 0) {
        if (dup2(s->stdin_fd, 0) < 0)
            e = errno;
    } else {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, 0) < 0)
            e = errno;
    }
    if (e == 0 && s->stdout_fd >= 0 && dup2(s->stdout_fd, 1) < 0)
        e = errno;
    if (e == 0 && s->stderr_fd >= 0 && dup2(s->stderr_fd, 2) < 0)
        e = errno;
    struct rlimit nofile = {s->nofile ? s->nofile : 1024, s->nofile ? s->nofile : 1024};
    struct rlimit core = {0, 0};
    if (e == 0 && (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CORE, &core) < 0))
        e = errno;
    if (e == 0 && chdir(s->workdir ? s->workdir : "/") < 0)
        e = errno;
    if (e != 0)
        fail(a->status_fd, e, "preparing the command (stdio, rlimits, workdir %s)",
             s->workdir ? s->workdir : "/");
    drop_privileges(a);
    umask(022);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* exec resets caught signals; ignored ones would stay ignored in the command. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sigismember(&a->ignored, sig) == 1)
            signal(sig, SIG_DFL);
    /* Nothing of the appliance's leaks into the command. */
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    /* The filter itself is loaded by ap-exec in the command's process, just before its
     * execve: a profile then governs the command alone, and whatever it denies, the sandbox
     * still reports its own failures. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(a->status_fd, errno, "setting no_new_privs");
    /* Nothing outlives the appliance: when the thread that started the sandbox ends (the
     * appliance killed, even by SIGKILL), the kernel kills pid 1 and with it the whole pid
     * namespace. Set last, as changing credentials clears it. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        fail(a->status_fd, errno, "setting the parent-death signal");
    /* The appliance may have died before that: its end of the status pipe is then gone
     * (ours is closed here; the one left open would be its own). */
    close(a->status_rd);
    struct pollfd alive = {a->status_fd, POLLOUT, 0};
    if (poll(&alive, 1, 0) == 1 && (alive.revents & (POLLERR | POLLHUP)))
        _exit(127);
    /* ap-exec forks the command from its own small address space and reaps. */
    char path[4096], sfd_s[16], efd_s[16], ffd_s[16];
    e = resolve_in_path(s->argv[0], s->envp, path, sizeof(path));
    if (e == 0) {
        enum { MAX_ARGS = 8192 };
        static char *args[MAX_ARGS];
        size_t n = 0;
        snprintf(sfd_s, sizeof(sfd_s), "%d", a->status_fd);
        snprintf(efd_s, sizeof(efd_s), "%d", efd);
        snprintf(ffd_s, sizeof(ffd_s), "%d", a->filter_fd);
        static char name[] = "ap-exec";
        args[n++] = name;
        args[n++] = sfd_s;
        args[n++] = efd_s;
        args[n++] = ffd_s;
        args[n++] = path;
        for (char *const *v = s->argv; *v != NULL && n + 1 < MAX_ARGS; v++)
            args[n++] = *v;
        args[n] = NULL;
        /* close_range marked everything close-on-exec: these go on to ap-exec. */
        fcntl(a->status_fd, F_SETFD, 0);
        fcntl(efd, F_SETFD, 0);
        if (a->filter_fd >= 0)
            fcntl(a->filter_fd, F_SETFD, 0);
        syscall(SYS_execveat, a->exec_memfd, "", args, s->envp, AT_EMPTY_PATH);
        e = errno;
    }
    if (write(efd, &e, sizeof(e)) < 0) {
        /* The parent sees EOF without a code and reports an unknown failure. */
    }
    _exit(127);
}

void ap_child_main(const struct ap_child_args *a)
{
    const int sfd = a->status_fd;
    const struct ap_sandbox_spec *s = a->spec;
    /* Modes below are meant as written (device nodes 0666, sticky 01777); the command gets
     * the usual 022 back before it starts. */
    umask(0);
    for (int i = 0; i < a->n_join_fds; i++)
        CHECK(sfd, write(a->join_fds[i], "0", 1), "joining the cgroup");
    /* A CPU set limit decides where the command runs: drop the affinity inherited from the
     * appliance (pinned apart from the workloads), or the command would keep only the CPUs
     * both allow. The kernel narrows the full mask to the cgroup's cpuset. */
    if (a->spec->limits.cpuset != NULL) {
        static cpu_set_t every;
        memset(&every, 0xff, sizeof(every));
        CHECK(sfd, sched_setaffinity(0, sizeof(every), &every), "widening the CPU affinity");
    }
    if (a->netns_fd >= 0)
        CHECK(sfd, setns(a->netns_fd, CLONE_NEWNET), "entering the network namespace");
    /* Our own cgroup namespace, rooted at the group we just joined. */
    CHECK(sfd, unshare(CLONE_NEWCGROUP), "creating the cgroup namespace");
    if (a->sync_fd >= 0) {
        char c;
        close(a->sync_wr);
        /* The parent writes our id maps, then closes its end. */
        if (read(a->sync_fd, &c, 1) < 0)
            fail(sfd, errno, "waiting for the user namespace maps");
        close(a->sync_fd);
        /* Become the namespace's root: the host ids we still carry are outside the map, and
         * files could not be created with them. */
        CHECK(sfd, syscall(SYS_setresgid, 0, 0, 0), "becoming gid 0 in the user namespace");
        CHECK(sfd, syscall(SYS_setresuid, 0, 0, 0), "becoming uid 0 in the user namespace");
    }
    char root[AP_SANDBOX_PATH_MAX];
    path_fmt(sfd, root, sizeof(root), "%s", s->rootfs);
    CHECK(sfd, mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "making mounts private");
    if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0) {
        if (errno == EACCES && s->userns)
            fail(sfd, errno,
                 "binding the root %s (with --userns every directory on its path must be "
                 "searchable by uid 100000, e.g. mode 0755)",
                 root);
        fail(sfd, errno, "binding the root %s", root);
    }
    /* Our own descriptor of the root and its real path (the spec's may hold symbolic links or
     * a trailing slash), to check where bind targets lead. */
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    CHECK(sfd, rootfd, "opening the root %s", root);
    char real_root[AP_SANDBOX_PATH_MAX + 8], link[64];
    fd_path(rootfd, link, sizeof(link));
    read_link(sfd, link, real_root, sizeof(real_root), "the root");
    make_bind_targets(a, rootfd);
    /* Read-only all the way down: a root directory with mounts below it keeps none of them
     * writable. What is mounted from here on (/proc, /dev, /tmp, binds) sets its own flags. */
    CHECK(sfd, restrict_tree(rootfd, 1), "making the root read-only");
    char p[AP_SANDBOX_PATH_MAX + 8];
    path_fmt(sfd, p, sizeof(p), "%s/proc", root);
    /* Before the old root goes: in a user namespace proc may only be mounted while a
     * fully visible instance exists. */
    CHECK(sfd, mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL),
          "mounting /proc (the image needs an empty /proc directory)");
    if (s->uid == 0 && !s->userns)
        harden_proc(sfd, root);
    setup_dev(a, root);
    path_fmt(sfd, p, sizeof(p), "%s/tmp", root);
    char opts[64];
    snprintf(opts, sizeof(opts), "mode=1777,size=%llu",
             (unsigned long long)(s->tmp_bytes ? s->tmp_bytes : 64ull << 20));
    CHECK(sfd, mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts), "mounting /tmp");
    setup_binds(a, rootfd, real_root);
    close(rootfd);
    CHECK(sfd, chdir(root), "entering the root");
    CHECK(sfd, syscall(SYS_pivot_root, ".", "."), "pivot_root");
    CHECK(sfd, umount2(".", MNT_DETACH), "detaching the old root");
    CHECK(sfd, chdir("/"), "entering the new root");
    if (a->hold_fd >= 0)
        hand_over_mount_ns(a);
    const char *host = s->hostname ? s->hostname : "sandbox";
    CHECK(sfd, sethostname(host, strlen(host)), "setting the hostname");
    if (s->net == AP_NET_LOOPBACK)
        loopback_up(sfd);

    exec_command(a);
}

extern const unsigned char ap_exec_elf[];
extern const unsigned long ap_exec_elf_size;

int ap_child_exec_memfd(ap_error **err)
{
    static int fd = -1;
    if (fd >= 0)
        return fd;
    int m = memfd_create("ap-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (m < 0)
        return ap_error_make(err, errno, "memfd_create for ap-exec");
    size_t off = 0;
    while (off < ap_exec_elf_size) {
        ssize_t n = write(m, ap_exec_elf + off, ap_exec_elf_size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(m);
            return ap_error_make(err, errno, "writing ap-exec");
        }
        off += (size_t)n;
    }
    /* Sealed: nothing in or out of a sandbox can change what later runs execute. */
    if (fchmod(m, 0555) < 0 ||
        fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
        close(m);
        return ap_error_make(err, errno, "sealing ap-exec");
    }
    fd = m;
    return fd;
}
