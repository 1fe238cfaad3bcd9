/* cgroup v2: one unified hierarchy; our groups live under <root>/appliance, with the
 * controllers we need enabled on the way down. */
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

#define BASE "appliance"

static int base_dir(char *out, size_t len)
{
    return ap_fs_path(out, len, "%s/" BASE, ap_cgroup_root());
}

/* True when the space-separated list holds the word w ("cpu" is not "cpuset"). */
static int has_word(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Enables the controllers we use in dir's children, one by one so a missing one is named. */
static int enable_controllers(const char *dir, ap_error **err)
{
    static const char *const ctrls[] = {"memory", "cpu", "cpuset", "pids"};
    char have[512];
    if (ap_cgroup_read(dir, "cgroup.controllers", have, sizeof(have), err) < 0)
        return -1;
    for (size_t i = 0; i < AP_ARRAY_SIZE(ctrls); i++) {
        char want[32];
        snprintf(want, sizeof(want), "+%s", ctrls[i]);
        if (!has_word(have, ctrls[i]))
            return ap_error_make(err, 0, "cgroup v2 controller %s is not available in %s", ctrls[i],
                                 dir);
        if (ap_cgroup_write(dir, "cgroup.subtree_control", want, err) < 0)
            return ap_error_hint(err, "the group must hold no processes of its own (in a "
                                      "container with a private cgroup namespace, move its "
                                      "processes into a child group first)");
    }
    return 0;
}

static int v2_create(struct ap_cgroup *cg, const char *name, const struct ap_cgroup_limits *lim,
                     ap_error **err)
{
    cg->mgr = &ap_cgroup_v2;
    cg->into_cgroup_fd = -1;
    snprintf(cg->name, sizeof(cg->name), "%s", name);
    char base[400];
    if (base_dir(base, sizeof(base)) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the cgroup group under %s", ap_cgroup_root());
    if (enable_controllers(ap_cgroup_root(), err) < 0)
        return -1;
    if (mkdir(base, 0755) < 0 && errno != EEXIST)
        return ap_error_make(err, errno, "creating cgroup %s", base);
    if (enable_controllers(base, err) < 0)
        return -1;
    if (ap_fs_path(cg->dirs[0], sizeof(cg->dirs[0]), "%s/%s", base, name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "cgroup %s under %s", name, base);
    if (mkdir(cg->dirs[0], 0755) < 0)
        return ap_error_make(err, errno, "creating cgroup %s", cg->dirs[0]);
    cg->controllers[0] = "unified";
    cg->n_dirs = 1;
    const char *dir = cg->dirs[0];
    char v[64];
    if (lim->memory_bytes > 0) {
        snprintf(v, sizeof(v), "%lld", (long long)lim->memory_bytes);
        if (ap_cgroup_write(dir, "memory.max", v, err) < 0)
            return -1;
        ap_error *ignored = NULL; /* absent without swap */
        ap_cgroup_write(dir, "memory.swap.max", "0", &ignored);
        ap_error_release(&ignored);
    }
    if (lim->cpu_quota_us > 0) {
        snprintf(v, sizeof(v), "%lld %lld", (long long)lim->cpu_quota_us,
                 (long long)(lim->cpu_period_us > 0 ? lim->cpu_period_us : 100000));
        if (ap_cgroup_write(dir, "cpu.max", v, err) < 0)
            return -1;
    }
    if (lim->cpuset != NULL && ap_cgroup_write(dir, "cpuset.cpus", lim->cpuset, err) < 0)
        return ap_error_hint(err, "--cpuset takes CPUs this machine has, e.g. 0 or 0-1");
    if (lim->pids_max > 0) {
        snprintf(v, sizeof(v), "%lld", (long long)lim->pids_max);
        if (ap_cgroup_write(dir, "pids.max", v, err) < 0)
            return -1;
    }
    cg->into_cgroup_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg->into_cgroup_fd < 0)
        return ap_error_make(err, errno, "opening %s", dir);
    return ap_cgroup_add_join(cg, dir, "cgroup.procs", err);
}

static int v2_stats(struct ap_cgroup *cg, struct ap_cgroup_stats *st, ap_error **err)
{
    (void)err;
    memset(st, 0, sizeof(*st));
    const char *dir = cg->dirs[0];
    static const char *const keys[] = {"usage_usec", "user_usec",    "system_usec",
                                       "nr_periods", "nr_throttled", "throttled_usec"};
    int64_t *const out[] = {&st->cpu_usage_ns, &st->cpu_user_ns,  &st->cpu_system_ns,
                            &st->nr_periods,   &st->nr_throttled, &st->throttled_ns};
    ap_cgroup_read_keys(dir, "cpu.stat", keys, out, AP_ARRAY_SIZE(keys));
    st->cpu_usage_ns *= 1000; /* microseconds */
    st->cpu_user_ns *= 1000;
    st->cpu_system_ns *= 1000;
    st->throttled_ns *= 1000;
    ap_cgroup_read_int(dir, "memory.peak", &st->memory_peak_bytes);
    ap_cgroup_read_int(dir, "memory.current", &st->memory_current_bytes);
    ap_cgroup_read_key(dir, "memory.stat", "inactive_file", &st->memory_inactive_file_bytes);
    ap_cgroup_read_key(dir, "memory.events", "oom_kill", &st->oom_kills);
    ap_cgroup_read_int(dir, "pids.peak", &st->pids_peak);
    return 0;
}

static int populated(const char *dir)
{
    int64_t v = 0;
    return ap_cgroup_read_key(dir, "cgroup.events", "populated", &v) == 0 ? (int)v : 0;
}

static int v2_kill_dir(const char *dir, ap_error **err)
{
    ap_error *e = NULL;
    if (ap_cgroup_write(dir, "cgroup.kill", "1", &e) < 0) {
        ap_error_release(&e);
        return ap_error_make(err, 0, "cgroup.kill is missing in %s", dir);
    }
    for (int i = 0; i < 200 && populated(dir); i++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (populated(dir)) {
        ap_error_make(err, 0, "tasks of cgroup %s survive cgroup.kill (still there after 1 s)",
                      dir);
        return ap_error_hint(err,
                             "a task that outlives SIGKILL is stuck in the kernel (state D in "
                             "/proc/PID/status, e.g. on a hung file system or device): `cat "
                             "%s/cgroup.procs` lists them; once they have exited, `rmdir %s` "
                             "removes the group",
                             dir, dir);
    }
    return 0;
}

static int v2_kill(struct ap_cgroup *cg, ap_error **err)
{
    return cg->n_dirs > 0 ? v2_kill_dir(cg->dirs[0], err) : 0;
}

static int v2_destroy(struct ap_cgroup *cg, ap_error **err)
{
    ap_cgroup_close_fds(cg);
    if (cg->n_dirs == 0)
        return 0;
    int rc = 0;
    if (populated(cg->dirs[0]))
        rc = v2_kill(cg, err);
    if (ap_cgroup_rmdir(cg->dirs[0], rc == 0 ? err : NULL) < 0)
        rc = -1;
    cg->n_dirs = 0;
    return rc;
}

static void v2_kill_stale(const char *dir)
{
    ap_error *e = NULL;
    if (populated(dir))
        v2_kill_dir(dir, &e);
    ap_error_release(&e);
}

static void v2_clean_stale(const struct ap_cgroup_manager *mgr)
{
    char base[400];
    if (base_dir(base, sizeof(base)) == 0)
        ap_cgroup_clean_dir(mgr, base, 1);
}

const struct ap_cgroup_manager ap_cgroup_v2 = {
    .name = "v2",
    .create = v2_create,
    .stats = v2_stats,
    .kill = v2_kill,
    .destroy = v2_destroy,
    .clean_stale = v2_clean_stale,
    .kill_stale = v2_kill_stale,
};
