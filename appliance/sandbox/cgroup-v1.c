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
#include "../core/fs.h"
#include "cgroup.h"

static const char *const controllers[] = {"memory", "cpu", "cpuacct", "cpuset", "pids", "freezer"};

/* Our own group's directory in ctrl's hierarchy; self is the text of /proc/self/cgroup. A
 * controller that self does not list is the hierarchy's root; -1 when a path does not fit. */
static int parent_dir(const char *self, const char *ctrl, char *out, size_t len)
{
    char path[400] = "";
    if (ap_cgroup_self_path(self, ctrl, path, sizeof(path)) < 0) {
        if (errno == ENAMETOOLONG)
            return -1;
        path[0] = '\0';
    }
    return ap_fs_path(out, len, "%s/%s%s", ap_cgroup_root(), ctrl, path);
}

/* cpuset groups live in a group of their own, "appliance", made once and kept. The kernel
 * flips its cpuset static keys, patching its own code on every CPU, whenever the count of
 * cpusets besides the root goes from 0 to 1 and back: with our group as the only one, each
 * run paid that twice (perf: 11.5 % of the CPU time of a whole `appliance run`, in
 * cpuset_css_online alone). v2 groups sit under a kept "appliance" group already. */
#define CPUSET_BASE "appliance"

/* Where ctrl's groups are made: parent_dir, or its CPUSET_BASE for cpuset. */
static int group_parent(const char *self, const char *ctrl, char *out, size_t len)
{
    if (parent_dir(self, ctrl, out, len) < 0)
        return -1;
    if (strcmp(ctrl, "cpuset") != 0)
        return 0;
    size_t n = strlen(out);
    return ap_fs_path(out + n, len - n, "/" CPUSET_BASE);
}

/* Copies file from the group above base into base when they differ (CPUs that came online
 * since base was made; v1 never adds them to existing cpusets by itself). */
static int sync_from_parent(const char *base, const char *file, ap_error **err)
{
    char parent[512], want[256], have[256];
    if (ap_fs_path(parent, sizeof(parent), "%s", base) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the cgroup above %s", base);
    char *slash = strrchr(parent, '/');
    if (slash != NULL)
        *slash = '\0';
    if (ap_cgroup_read(parent, file, want, sizeof(want), err) < 0 ||
        ap_cgroup_read(base, file, have, sizeof(have), err) < 0)
        return -1;
    return strcmp(want, have) == 0 ? 0 : ap_cgroup_write(base, file, want, err);
}

/* Makes the kept cpuset group base (when missing) with all of its parent's CPUs and memory
 * nodes. */
static int ensure_cpuset_base(const char *base, ap_error **err)
{
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
        return ap_error_make(err, errno, "creating cgroup %s", base);
    if (sync_from_parent(base, "cpuset.mems", err) < 0 ||
        sync_from_parent(base, "cpuset.cpus", err) < 0)
        return ap_error_wrap(err, "setting up cgroup %s", base);
    return 0;
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
    if (ap_fs_path(parent, sizeof(parent), "%s", dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the cgroup above %s", dir);
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
        if (group_parent(self, controllers[i], parent, sizeof(parent)) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the cgroup v1 %s group under %s/%s",
                                 controllers[i], ap_cgroup_root(), controllers[i]);
        if (strcmp(controllers[i], "cpuset") == 0 && ensure_cpuset_base(parent, err) < 0)
            return -1;
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
        if (ap_fs_path(cg->dirs[k], sizeof(cg->dirs[k]), "%s/%s", parent, name) < 0)
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
    for (int i = 0; i < cg->n_dirs; i++)
        if (ap_cgroup_add_join(cg, cg->dirs[i], "tasks", err) < 0)
            return -1;
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
    const char *freezer = dir_of(cg, "freezer");
    if (kill_dir(pids, freezer) < 0) {
        ap_error_make(err, 0, "tasks of cgroup %s survive SIGKILL (still listed after 1 s)", pids);
        if (freezer != NULL)
            return ap_error_hint(err,
                                 "a task that outlives SIGKILL is frozen or stuck in the kernel "
                                 "(state D in /proc/PID/status, e.g. on a hung file system or "
                                 "device): `cat %s/cgroup.procs` lists them; `echo THAWED > "
                                 "%s/freezer.state` thaws a frozen group; once they have "
                                 "exited, `rmdir %s %s` removes the groups",
                                 pids, freezer, pids, freezer);
        return ap_error_hint(err,
                             "a task that outlives SIGKILL is stuck in the kernel (state D in "
                             "/proc/PID/status, e.g. on a hung file system or device): `cat "
                             "%s/cgroup.procs` lists them; once they have exited, `rmdir %s` "
                             "removes the group",
                             pids, pids);
    }
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

static void v1_kill_stale(const char *dir)
{
    kill_dir(dir, NULL);
}

static void v1_clean_stale(const struct ap_cgroup_manager *mgr)
{
    char self[4096];
    ap_cgroup_read_self(self, sizeof(self));
    /* A dead appliance's task may still be exiting (a large address space takes a while to
     * free) when its memory group, the first one tried, is removed: by the second pass the
     * other hierarchies have waited for it too. */
    for (int pass = 0; pass < 2; pass++) {
        int left = 0;
        for (size_t i = 0; i < AP_ARRAY_SIZE(controllers); i++) {
            char parent[512];
            /* For cpuset both: groups were made beside the kept group before it existed. */
            if (parent_dir(self, controllers[i], parent, sizeof(parent)) == 0)
                left += ap_cgroup_clean_dir(mgr, parent, pass == 1);
            if (strcmp(controllers[i], "cpuset") == 0 &&
                group_parent(self, controllers[i], parent, sizeof(parent)) == 0)
                left += ap_cgroup_clean_dir(mgr, parent, pass == 1);
        }
        if (left == 0)
            break;
    }
}

const struct ap_cgroup_manager ap_cgroup_v1 = {
    .name = "v1",
    .create = v1_create,
    .stats = v1_stats,
    .kill = v1_kill,
    .destroy = v1_destroy,
    .clean_stale = v1_clean_stale,
    .kill_stale = v1_kill_stale,
};
