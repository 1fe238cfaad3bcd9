#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/log.h"

static const char cgroup_root[] = "/sys/fs/cgroup";

const char *ap_cgroup_root(void)
{
    return cgroup_root;
}

int ap_cgroup_detect(const struct ap_cgroup_manager **out, ap_error **err)
{
    const char *force = getenv("APPLIANCE_CGROUP");
    if (force != NULL && strcmp(force, "v1") == 0) {
        *out = &ap_cgroup_v1;
        return 0;
    }
    if (force != NULL && strcmp(force, "v2") == 0) {
        *out = &ap_cgroup_v2;
        return 0;
    }
    if (force != NULL && *force)
        return ap_error_make(err, 0, "APPLIANCE_CGROUP=%s: expected v1 or v2", force);
    struct statfs sf;
    if (statfs(cgroup_root, &sf) < 0)
        return ap_error_make(err, errno, "checking %s", cgroup_root);
    if (sf.f_type == CGROUP2_SUPER_MAGIC) {
        *out = &ap_cgroup_v2;
        return 0;
    }
    char mem[512];
    if (ap_fs_path(mem, sizeof(mem), "%s/memory", cgroup_root) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the memory controller under %s", cgroup_root);
    if (statfs(mem, &sf) == 0 && sf.f_type == CGROUP_SUPER_MAGIC) {
        *out = &ap_cgroup_v1;
        return 0;
    }
    ap_error_make(err, 0, "no usable cgroup hierarchy under %s", cgroup_root);
    return ap_error_hint(err,
                         "mount cgroup2 on %s, or the v1 memory, cpu, cpuacct, cpuset and "
                         "pids controllers under it",
                         cgroup_root);
}

int ap_cgroup_add_join(struct ap_cgroup *cg, const char *dir, const char *file, ap_error **err)
{
    char path[600];
    if (cg->n_join_fds >= AP_CGROUP_MAX_FDS)
        return ap_error_make(err, 0, "cgroup %s: more than %d groups to join", cg->name,
                             AP_CGROUP_MAX_FDS);
    if (ap_fs_path(path, sizeof(path), "%s/%s", dir, file) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the %s file of cgroup %s", file, dir);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    cg->join_fds[cg->n_join_fds++] = fd;
    return 0;
}

void ap_cgroup_close_fds(struct ap_cgroup *cg)
{
    for (int i = 0; i < cg->n_join_fds; i++)
        if (cg->join_fds[i] >= 0)
            close(cg->join_fds[i]);
    cg->n_join_fds = 0;
    if (cg->into_cgroup_fd >= 0)
        close(cg->into_cgroup_fd);
    cg->into_cgroup_fd = -1;
}

int ap_cgroup_write(const char *dir, const char *file, const char *value, ap_error **err)
{
    char path[768];
    if (ap_fs_path(path, sizeof(path), "%s/%s", dir, file) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the %s file of cgroup %s", file, dir);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    size_t len = strlen(value);
    ssize_t n;
    do
        n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len)
        return ap_error_make(err, n < 0 ? errno : EIO, "writing \"%s\" to %s", value, path);
    return 0;
}

int ap_cgroup_read(const char *dir, const char *file, char *buf, size_t len, ap_error **err)
{
    char path[768];
    if (ap_fs_path(path, sizeof(path), "%s/%s", dir, file) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the %s file of cgroup %s", file, dir);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    return ap_fs_read_to_end(fd, path, buf, len, 0, err) < 0 ? -1 : 0;
}

int ap_cgroup_read_int(const char *dir, const char *file, int64_t *out)
{
    char buf[64];
    ap_error *e = NULL;
    if (ap_cgroup_read(dir, file, buf, sizeof(buf), &e) < 0) {
        ap_error_release(&e);
        return -1;
    }
    if (strncmp(buf, "max", 3) == 0) {
        *out = INT64_MAX;
        return 0;
    }
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    if (end == buf)
        return -1;
    *out = v;
    return 0;
}

int ap_cgroup_read_keys(const char *dir, const char *file, const char *const *keys,
                        int64_t *const *out, size_t n)
{
    char buf[4096];
    ap_error *e = NULL;
    if (ap_cgroup_read(dir, file, buf, sizeof(buf), &e) < 0) {
        ap_error_release(&e);
        return 0;
    }
    int found = 0;
    for (char *line = buf; line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        for (size_t i = 0; i < n; i++) {
            size_t klen = strlen(keys[i]);
            if (strncmp(line, keys[i], klen) == 0 && line[klen] == ' ') {
                *out[i] = strtoll(line + klen + 1, NULL, 10);
                found++;
            }
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return found;
}

int ap_cgroup_read_key(const char *dir, const char *file, const char *key, int64_t *out)
{
    return ap_cgroup_read_keys(dir, file, &key, &out, 1) > 0 ? 0 : -1;
}

int ap_cgroup_read_pids(const char *dir, pid_t *out, size_t max, size_t *n, ap_error **err)
{
    char buf[65536];
    *n = 0;
    if (ap_cgroup_read(dir, "cgroup.procs", buf, sizeof(buf), err) < 0)
        return -1;
    for (char *p = buf; *p;) {
        char *end = NULL;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0) {
            if (*n < max)
                out[*n] = (pid_t)pid;
            (*n)++;
        }
        p = end;
        while (*p == '\n')
            p++;
    }
    return 0;
}

int ap_cgroup_rmdir(const char *dir, ap_error **err)
{
    /* Tasks killed a moment ago may still be leaving the group. */
    for (int i = 0; i < 200; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return ap_error_make(err, errno, "removing cgroup %s", dir);
}

int ap_cgroup_rmdir_stale(const char *dir, int warn)
{
    ap_error *e = NULL;
    int rc = ap_cgroup_rmdir(dir, &e);
    if (rc < 0 && warn)
        ap_log_warn("%s (a cgroup of an appliance that has ended; remove it with rmdir once the "
                    "processes in its cgroup.procs are gone)",
                    e->msg);
    ap_error_release(&e);
    return rc;
}

int ap_cgroup_clean_dir(const struct ap_cgroup_manager *mgr, const char *parent, int warn)
{
    cleanup_dir DIR *d = opendir(parent);
    if (d == NULL)
        return 0;
    int left = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!ap_cgroup_name_is_stale(de->d_name))
            continue;
        char dir[800];
        if (ap_fs_path(dir, sizeof(dir), "%s/%s", parent, de->d_name) < 0) {
            left++;
            continue;
        }
        mgr->kill_stale(dir);
        if (ap_cgroup_rmdir_stale(dir, warn) < 0)
            left++;
    }
    return left;
}

int ap_cgroup_start_ticks(pid_t pid, unsigned long long *out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and ')': the fields start after the last ')'. The
     * start time is field 22, the 20th after it. */
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    for (int field = 2; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (p == NULL)
            return -1;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(p + 1, &end, 10);
    if (errno != 0 || end == p + 1)
        return -1;
    *out = v;
    return 0;
}

int ap_cgroup_name_is_stale(const char *name)
{
    size_t n = strlen(AP_CGROUP_PREFIX);
    if (strncmp(name, AP_CGROUP_PREFIX, n) != 0)
        return 0;
    char *end = NULL;
    long pid = strtol(name + n, &end, 10);
    if (end == name + n || *end != '-' || pid <= 0)
        return 0;
    /* "<pid>-<start>-<n>" since the start time was added; "<pid>-<n>" before. */
    const char *rest = end + 1;
    unsigned long long start = strtoull(rest, &end, 10);
    int has_start = end != rest && *end == '-';
    if (pid == (long)getpid())
        return 0;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return 1;
    /* The pid lives: ours only when it started when the group's appliance did (pids wrap, at
     * 32768 on many machines, within one long test run). */
    unsigned long long now;
    return has_start && ap_cgroup_start_ticks((pid_t)pid, &now) == 0 && now != start;
}

int ap_cgroup_read_self(char *buf, size_t len)
{
    cleanup_close int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
    ap_error *e = NULL;
    if (fd < 0 || ap_fs_read_to_end(fd, "/proc/self/cgroup", buf, len, 1, &e) < 0) {
        ap_error_release(&e);
        buf[0] = '\0';
        return -1;
    }
    return 0;
}

int ap_cgroup_self_path(const char *self, const char *controller, char *out, size_t len)
{
    size_t clen = strlen(controller);
    for (const char *line = self; *line;) {
        /* "4:memory:/some/path" or "0::/path" for v2 (controller ""). */
        const char *nl = strchr(line, '\n');
        const char *end = nl != NULL ? nl : line + strlen(line);
        const char *c1 = memchr(line, ':', (size_t)(end - line));
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
        line = nl != NULL ? nl + 1 : end;
        if (c2 == NULL)
            continue;
        const char *list = c1 + 1;
        int match = clen == 0 && c2 == list;
        for (const char *p = list; clen > 0 && p < c2;) {
            const char *comma = memchr(p, ',', (size_t)(c2 - p));
            size_t n = comma != NULL ? (size_t)(comma - p) : (size_t)(c2 - p);
            if (n == clen && strncmp(p, controller, n) == 0)
                match = 1;
            p += n + 1;
        }
        if (match) {
            const char *path = c2 + 1;
            size_t plen = (size_t)(end - path);
            if (plen == 1 && path[0] == '/')
                plen = 0;
            if (plen >= len) {
                errno = ENAMETOOLONG;
                return -1;
            }
            memcpy(out, path, plen);
            out[plen] = '\0';
            return 0;
        }
    }
    errno = ENOENT;
    return -1;
}
