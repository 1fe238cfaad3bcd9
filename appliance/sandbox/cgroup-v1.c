/* cgroup v1: one hierarchy per controller; our group sits under the appliance's own group in
 * each hierarchy. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "cgroup.h"

static const char *const controllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"};

/* Our own group's directory in ctrl's hierarchy; self is the text of /proc/self/cgroup. */
static int parent_dir(const char *self, const char *ctrl, char *out, size_t len)
{
    char path[400] = "";
    if (ap_cgroup_self_path(self, ctrl, path, sizeof(path)) < 0)
        path[0] = '\0';
    int n = snprintf(out, len, "%s/%s%s", ap_cgroup_root(), ctrl, path);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *dir_of(struct ap_cgroup *cg, const char *ctrl)
{
    for (int i = 0; i < cg->n_dirs; i++)
        if (strcmp(cg->controllers[i], ctrl) == 0)
            return cg->dirs[i];
    return NULL;
}

/* v1 cpusets start empty: copy the parent's cpus and mems unless told otherwise. */
static int setup_cpuset(const char *dir, const char *cpus, ap_error **err)
{
    char parent[512], buf[256];
    snprintf(parent, sizeof(parent), "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash != NULL)
        *slash = '\0';
    if (ap_cgroup_read(parent, "cpuset.mems", buf, sizeof(buf), err) < 0 ||
        ap_cgroup_write(dir, "cpuset.mems", buf, err) < 0)
        return -1;
    if (cpus == NULL) {
        if (ap_cgroup_read(parent, "cpuset.cpus", buf, sizeof(buf), err) < 0)
            return -1;
        cpus = buf;
    }
    if (ap_cgroup_write(dir, "cpuset.cpus", cpus, err) < 0)
        return ap_error_hint(err, "--cpuset takes CPUs this machine has, e.g. 0 or 0-1");
    return 0;
}

static int v1_create(struct ap_cgroup *cg, const char *name, const struct ap_cgroup_limits *lim,
                     ap_error **err)
{
    cg->mgr = &ap_cgroup_v1;
    cg->into_cgroup_fd = -1;
    snprintf(cg->name, sizeof(cg->name), "%s", name);
    char self[4096];
    ap_cgroup_read_self(self, sizeof(self));
    struct stat seen[AP_CGROUP_MAX_FDS];
    for (size_t i = 0; i < AP_ARRAY_SIZE(controllers); i++) {
        char parent[512];
        if (parent_dir(self, controllers[i], parent, sizeof(parent)) < 0)
            continue;
        struct stat st;
        if (stat(parent, &st) < 0) {
            if (strcmp(controllers[i], "freezer") == 0)
                continue; /* optional */
            ap_error_make(err, errno, "cgroup v1 controller %s (%s)", controllers[i], parent);
            return ap_error_hint(err, "mount the %s controller under %s", controllers[i],
                                 ap_cgroup_root());
        }
        /* Controllers mounted together ("cpu,cpuacct", reached through links) share one
         * directory. */
        int dup = 0;
        for (int k = 0; k < cg->n_dirs; k++)
            if (seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino)
                dup = 1;
        if (dup)
            continue;
        int k = cg->n_dirs;
        seen[k] = st;
        if (snprintf(cg->dirs[k], sizeof(cg->dirs[k]), "%s/%s", parent, name) >=
            (int)sizeof(cg->dirs[k]))
            return ap_error_make(err, ENAMETOOLONG, "cgroup path under %s", parent);
        if (mkdir(cg->dirs[k], 0755) < 0)
            return ap_error_make(err, errno, "creating cgroup %s", cg->dirs[k]);
        cg->controllers[k] = controllers[i];
        cg->n_dirs++;
    }
    const char *mem = dir_of(cg, "memory"), *cpu = dir_of(cg, "cpu"),
               *cpuset = dir_of(cg, "cpuset"), *pids = dir_of(cg, "pids");
    char v[64];
    if (mem == NULL || cpu == NULL || cpuset == NULL || pids == NULL ||
        dir_of(cg, "cpuacct") == NULL)
        return ap_error_make(err, 0,
                             "cgroup v1 needs the memory, cpu, cpuacct, cpuset and pids "
                             "controllers");
    if (lim->memory_bytes > 0) {
        snprintf(v, sizeof(v), "%lld", (long long)lim->memory_bytes);
        if (ap_cgroup_write(mem, "memory.limit_in_bytes", v, err) < 0)
            return -1;
        ap_error *ignored = NULL; /* absent without swap accounting */
        ap_cgroup_write(mem, "memory.memsw.limit_in_bytes", v, &ignored);
        ap_error_release(&ignored);
    }
    if (lim->cpu_quota_us > 0) {
        snprintf(v, sizeof(v), "%lld",
                 (long long)(lim->cpu_period_us > 0 ? lim->cpu_period_us : 100000));
        if (ap_cgroup_write(cpu, "cpu.cfs_period_us", v, err) < 0)
            return -1;
        snprintf(v, sizeof(v), "%lld", (long long)lim->cpu_quota_us);
        if (ap_cgroup_write(cpu, "cpu.cfs_quota_us", v, err) < 0)
            return -1;
    }
    if (setup_cpuset(cpuset, lim->cpuset, err) < 0)
        return -1;
    if (lim->pids_max > 0) {
        snprintf(v, sizeof(v), "%lld", (long long)lim->pids_max);
        if (ap_cgroup_write(pids, "pids.max", v, err) < 0)
            return -1;
    }
    /* "tasks", not "cgroup.procs": moving one thread skips the kernel's threadgroup lock,
     * whose first writer after a quiet spell waits ~10-15 ms for an RCU grace period. The
     * child is a single thread when it joins. */
    for (int i = 0; i < cg->n_dirs; i++) {
        char path[600];
        snprintf(path, sizeof(path), "%s/tasks", cg->dirs[i]);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return ap_error_make(err, errno, "opening %s", path);
        cg->join_fds[cg->n_join_fds++] = fd;
    }
    return 0;
}

static int v1_stats(struct ap_cgroup *cg, struct ap_cgroup_stats *st, ap_error **err)
{
    (void)err;
    memset(st, 0, sizeof(*st));
    const char *acct = dir_of(cg, "cpuacct"), *mem = dir_of(cg, "memory"), *cpu = dir_of(cg, "cpu"),
               *pids = dir_of(cg, "pids");
    if (acct != NULL) {
        ap_cgroup_read_int(acct, "cpuacct.usage", &st->cpu_usage_ns);
        ap_cgroup_read_int(acct, "cpuacct.usage_user", &st->cpu_user_ns);
        ap_cgroup_read_int(acct, "cpuacct.usage_sys", &st->cpu_system_ns);
    }
    if (mem != NULL) {
        ap_cgroup_read_int(mem, "memory.max_usage_in_bytes", &st->memory_peak_bytes);
        ap_cgroup_read_int(mem, "memory.usage_in_bytes", &st->memory_current_bytes);
        ap_cgroup_read_key(mem, "memory.stat", "total_inactive_file",
                           &st->memory_inactive_file_bytes);
        /* failcnt counts allocations that hit the limit and were reclaimed; only the
         * oom_kill counter says a task was killed. */
        ap_cgroup_read_key(mem, "memory.oom_control", "oom_kill", &st->oom_kills);
    }
    if (cpu != NULL) {
        static const char *const keys[] = {"nr_periods", "nr_throttled", "throttled_time"};
        int64_t *const out[] = {&st->nr_periods, &st->nr_throttled, &st->throttled_ns};
        ap_cgroup_read_keys(cpu, "cpu.stat", keys, out, AP_ARRAY_SIZE(keys));
    }
    if (pids != NULL)
        ap_cgroup_read_int(pids, "pids.peak", &st->pids_peak);
    return 0;
}

/* Sends SIGKILL to every task listed in dir/cgroup.procs; returns how many were listed. */
static int kill_listed(const char *dir)
{
    pid_t pids[4096];
    size_t n = 0;
    ap_error *e = NULL;
    if (ap_cgroup_read_pids(dir, pids, AP_ARRAY_SIZE(pids), &n, &e) < 0) {
        ap_error_release(&e);
        return 0;
    }
    for (size_t i = 0; i < n && i < AP_ARRAY_SIZE(pids); i++)
        kill(pids[i], SIGKILL);
    return (int)n;
}

static int kill_dir(const char *procs_dir, const char *freezer)
{
    ap_error *e = NULL;
    /* Frozen tasks cannot fork while we kill them; SIGKILL is delivered on thaw. */
    if (freezer != NULL)
        ap_cgroup_write(freezer, "freezer.state", "FROZEN", &e);
    ap_error_release(&e);
    int left = 1;
    for (int i = 0; i < 200 && left; i++) {
        left = kill_listed(procs_dir);
        if (freezer != NULL && i == 0) {
            ap_cgroup_write(freezer, "freezer.state", "THAWED", &e);
            ap_error_release(&e);
        }
        if (left) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    return left ? -1 : 0;
}

static int v1_kill(struct ap_cgroup *cg, ap_error **err)
{
    const char *pids = dir_of(cg, "pids");
    if (pids == NULL)
        return 0;
    if (kill_dir(pids, dir_of(cg, "freezer")) < 0)
        return ap_error_make(err, 0, "tasks of cgroup %s survive SIGKILL", pids);
    return 0;
}

/* True when the group still lists a task. */
static int v1_populated(struct ap_cgroup *cg)
{
    const char *pids = dir_of(cg, "pids");
    pid_t one[1];
    size_t n = 0;
    ap_error *e = NULL;
    if (pids == NULL || ap_cgroup_read_pids(pids, one, 1, &n, &e) < 0) {
        ap_error_release(&e);
        return 1; /* unknown: kill to be sure */
    }
    return n > 0;
}

static int v1_destroy(struct ap_cgroup *cg, ap_error **err)
{
    ap_cgroup_close_fds(cg);
    /* Reaping pid 1 ends its whole pid namespace, so the group is usually empty by now, and
     * freezing and thawing a v1 group costs ~10 ms even then: kill only what is left. */
    int rc = v1_populated(cg) ? v1_kill(cg, err) : 0;
    for (int i = cg->n_dirs - 1; i >= 0; i--)
        if (ap_cgroup_rmdir(cg->dirs[i], rc == 0 ? err : NULL) < 0)
            rc = -1;
    cg->n_dirs = 0;
    return rc;
}

static void v1_clean_stale(const struct ap_cgroup_manager *mgr)
{
    (void)mgr;
    char self[4096];
    ap_cgroup_read_self(self, sizeof(self));
    for (size_t i = 0; i < AP_ARRAY_SIZE(controllers); i++) {
        char parent[512];
        if (parent_dir(self, controllers[i], parent, sizeof(parent)) < 0)
            continue;
        cleanup_dir DIR *d = opendir(parent);
        if (d == NULL)
            continue;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (!ap_cgroup_name_is_stale(de->d_name))
                continue;
            char dir[800];
            snprintf(dir, sizeof(dir), "%s/%s", parent, de->d_name);
            kill_dir(dir, NULL);
            ap_error *e = NULL;
            ap_cgroup_rmdir(dir, &e);
            ap_error_release(&e);
        }
    }
}

const struct ap_cgroup_manager ap_cgroup_v1 = {
    .name = "v1",
    .create = v1_create,
    .stats = v1_stats,
    .kill = v1_kill,
    .destroy = v1_destroy,
    .clean_stale = v1_clean_stale,
};
