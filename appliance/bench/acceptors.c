/* Which processes of a server wait for connections on its listening socket: see acceptors.h. */
#include "acceptors.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/clock.h"

/* /proc/net/tcp of a server at rest holds a few lines; under load one per connection. What is
 * past this is left unread: the sockets listening are created first and listed by slot, so a
 * larger table is one read at a moment the readiness wait never meets. */
#define TCP_TABLE_MAX (1u << 20)
#define FDINFO_MAX (64u << 10)

/* Reads a /proc file into buf (len bytes, NUL-terminated), at most len - 1 bytes of it. */
static int read_proc(const char *path, char *buf, size_t len, ap_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    return ap_fs_read_to_end(fd, path, buf, len, 0, err) < 0 ? -1 : 0;
}

int ap_acceptors_parse_tcp(const char *text, uint16_t port, uint64_t *inodes, size_t max, size_t *n,
                           ap_error **err)
{
    for (const char *p = text; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        /* "  0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0
         *      0 12345 1 ..." : slot, local, remote, state, queues, timer, retransmits, uid,
         * timeout, inode. */
        char local[64], state[8];
        unsigned long long inode;
        unsigned lport;
        int got =
            sscanf(p, " %*[0-9]: %63s %*s %7s %*s %*s %*s %*s %*s %llu", local, state, &inode);
        const char *colon = got == 3 ? strrchr(local, ':') : NULL;
        if (colon != NULL && sscanf(colon + 1, "%x", &lport) == 1 && lport == port &&
            strcmp(state, "0A") == 0 && inode != 0) {
            int seen = 0;
            for (size_t i = 0; i < *n; i++)
                seen |= inodes[i] == inode;
            if (!seen) {
                if (*n == max)
                    return ap_error_make(err, 0, "more than %zu sockets listen on port %u", max,
                                         (unsigned)port);
                inodes[(*n)++] = inode;
            }
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return 0;
}

int ap_acceptors_parse_epoll(const char *fdinfo, const uint64_t *inodes, size_t n)
{
    for (const char *p = fdinfo; p != NULL && *p != '\0';) {
        const char *eol = strchr(p, '\n');
        const char *ino = strncmp(p, "tfd:", 4) == 0 ? strstr(p, " ino:") : NULL;
        if (ino != NULL && (eol == NULL || ino < eol)) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(ino + 5, &end, 16);
            for (size_t i = 0; errno == 0 && end != ino + 5 && i < n; i++)
                if (inodes[i] == v)
                    return 1;
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
    return 0;
}

/* The identity of process pid's network namespace. */
static int netns_of(pid_t pid, struct stat *st)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    return stat(path, st);
}

int ap_acceptors_netns_pids(pid_t pid, pid_t *out, size_t max, size_t *n, ap_error **err)
{
    struct stat want;
    *n = 0;
    if (netns_of(pid, &want) < 0)
        return ap_error_make(err, errno, "reading the network namespace of process %d", (int)pid);
    cleanup_dir DIR *d = opendir("/proc");
    if (d == NULL)
        return ap_error_make(err, errno, "listing /proc");
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *n < max) {
        char *end;
        long p = strtol(e->d_name, &end, 10);
        struct stat st;
        if (*end != '\0' || p <= 0 || netns_of((pid_t)p, &st) < 0)
            continue;
        if (st.st_dev == want.st_dev && st.st_ino == want.st_ino)
            out[(*n)++] = (pid_t)p;
    }
    return 0;
}

/* 1 when process pid watches one of inodes through an epoll set, 0 when not (or gone). */
static int watches(pid_t pid, const uint64_t *inodes, size_t n, char *buf)
{
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char link[64], path[320];
        /* Both paths fit: "/proc/<pid>/fd/" and "/proc/<pid>/fdinfo/" take under 64 bytes,
         * the entry's name at most NAME_MAX. */
        _Static_assert(sizeof(path) >= sizeof(dir) + sizeof(e->d_name), "fd paths fit");
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        ssize_t k = readlink(path, link, sizeof(link) - 1);
        if (k < 0)
            continue;
        link[k] = '\0';
        if (strcmp(link, "anon_inode:[eventpoll]") != 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", (int)pid, e->d_name);
        ap_error *err = NULL;
        if (read_proc(path, buf, FDINFO_MAX, &err) < 0) {
            ap_error_release(&err);
            continue;
        }
        if (ap_acceptors_parse_epoll(buf, inodes, n))
            return 1;
    }
    return 0;
}

int ap_acceptors_count(const pid_t *pids, size_t n, uint16_t port, int *count, ap_error **err)
{
    *count = 0;
    uint64_t inodes[AP_ACCEPTORS_MAX_LISTENERS];
    size_t ni = 0;
    cleanup_free char *buf = malloc(TCP_TABLE_MAX);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "counting the workers listening on port %u",
                             (unsigned)port);
    /* The namespace's sockets, from whichever of its processes is still there. */
    int read_any = 0;
    for (size_t i = 0; i < n && !read_any; i++) {
        static const char *const tables[] = {"tcp", "tcp6"};
        for (size_t t = 0; t < 2; t++) {
            char path[64];
            snprintf(path, sizeof(path), "/proc/%d/net/%s", (int)pids[i], tables[t]);
            ap_error *e = NULL;
            if (read_proc(path, buf, TCP_TABLE_MAX, &e) < 0) {
                ap_error_release(&e);
                continue;
            }
            read_any = 1;
            if (ap_acceptors_parse_tcp(buf, port, inodes, AP_ACCEPTORS_MAX_LISTENERS, &ni, err) < 0)
                return -1;
        }
    }
    if (!read_any && n > 0)
        return ap_error_make(err, 0,
                             "counting the workers listening on port %u: none of the %zu "
                             "processes' /proc/PID/net/tcp could be read",
                             (unsigned)port, n);
    for (size_t i = 0; i < n && ni > 0; i++)
        *count += watches(pids[i], inodes, ni, buf);
    return 0;
}

int ap_acceptors_wait(ap_acceptors_list_fn list, void *ctx, uint16_t port, int want,
                      int64_t deadline_ns, int pidfd, int64_t *ready_ns, int *seen, ap_error **err)
{
    pid_t pids[AP_ACCEPTORS_MAX_LISTENERS];
    *seen = 0;
    for (;;) {
        size_t n = 0;
        if (list(ctx, pids, AP_ACCEPTORS_MAX_LISTENERS, &n, err) < 0 ||
            ap_acceptors_count(pids, n, port, seen, err) < 0)
            return ap_error_wrap(err, "waiting for %d workers on port %u", want, (unsigned)port);
        int64_t t = ap_clock_mono_ns();
        if (*seen >= want) {
            *ready_ns = t;
            return 0;
        }
        if (t >= deadline_ns)
            return ap_error_make(err, ETIMEDOUT,
                                 "%d of %d workers wait for connections on port %u at the "
                                 "deadline",
                                 *seen, want, (unsigned)port);
        /* The server's end wakes the wait early; so does the next count's time. */
        int64_t wait =
            deadline_ns - t < AP_ACCEPTORS_POLL_NS ? deadline_ns - t : AP_ACCEPTORS_POLL_NS;
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        struct timespec ts = {0, (long)wait};
        int r = ppoll(&p, pidfd >= 0 ? 1 : 0, &ts, NULL);
        if (r > 0)
            return ap_error_make(err, ESRCH,
                                 "the server ended with %d of %d workers waiting for "
                                 "connections on port %u",
                                 *seen, want, (unsigned)port);
    }
}
