/* Control groups behind one interface: cgroup v1 (one hierarchy per controller, as on hybrid
 * hosts) and the unified v2 hierarchy, chosen at run time. */
#ifndef AP_SANDBOX_CGROUP_H
#define AP_SANDBOX_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/error.h"

struct ap_cgroup_limits {
    int64_t memory_bytes;  /* 0: no limit */
    int64_t cpu_quota_us;  /* 0: no quota; with cpu_period_us */
    int64_t cpu_period_us; /* default 100000 */
    const char *cpuset;    /* NULL: inherit */
    int64_t pids_max;      /* 0: no limit */
};

struct ap_cgroup_stats {
    int64_t cpu_usage_ns, cpu_user_ns, cpu_system_ns;
    int64_t memory_peak_bytes;
    int64_t memory_current_bytes;       /* charged now, page cache included */
    int64_t memory_inactive_file_bytes; /* reclaimable cache within current: current minus
                                         * this is the working set, as docker stats shows */
    int64_t pids_peak;
    int64_t nr_periods, nr_throttled, throttled_ns;
    int64_t oom_kills;
};

#define AP_CGROUP_MAX_FDS 8

struct ap_cgroup {
    const struct ap_cgroup_manager *mgr;
    char name[96];
    /* v1: one directory per controller; v2: dirs[0] only. */
    char dirs[AP_CGROUP_MAX_FDS][512];
    const char *controllers[AP_CGROUP_MAX_FDS];
    int n_dirs;
    /* Descriptors the child uses to join before exec: v1 tasks files (write "0"),
     * v2 the directory (for CLONE_INTO_CGROUP). */
    int join_fds[AP_CGROUP_MAX_FDS];
    int n_join_fds;
    int into_cgroup_fd; /* v2 only, else -1 */
};

struct ap_cgroup_manager {
    const char *name; /* "v1" or "v2" */
    /* Creates cgroup `name` with limits; fills cg. */
    int (*create)(struct ap_cgroup *cg, const char *name, const struct ap_cgroup_limits *lim,
                  ap_error **err);
    /* Reads accounting. */
    int (*stats)(struct ap_cgroup *cg, struct ap_cgroup_stats *st, ap_error **err);
    /* Kills every process in the group (and waits until the group is empty or ~1 s passed). */
    int (*kill)(struct ap_cgroup *cg, ap_error **err);
    /* Removes the group; kills what is left first. */
    int (*destroy)(struct ap_cgroup *cg, ap_error **err);
    /* Removes groups of ours left by runs whose appliance process is gone. */
    void (*clean_stale)(const struct ap_cgroup_manager *mgr);
    /* Kills every task of the group at dir, one of an appliance that has ended, known by its
     * path only (ap_cgroup_clean_dir); best effort. */
    void (*kill_stale)(const char *dir);
};

/* Where the hierarchies live: "/sys/fs/cgroup". */
const char *ap_cgroup_root(void);

/* Picks the backend for this host: v2 when the root is a pure cgroup2 mount, v1 when the v1
 * controllers are mounted. APPLIANCE_CGROUP=v1|v2 forces one. */
int ap_cgroup_detect(const struct ap_cgroup_manager **out, ap_error **err);

extern const struct ap_cgroup_manager ap_cgroup_v1;
extern const struct ap_cgroup_manager ap_cgroup_v2;

/* Opens dir/file for writing as the next of cg's join descriptors (a v1 tasks file, the v2
 * cgroup.procs); more than AP_CGROUP_MAX_FDS is an error. */
int ap_cgroup_add_join(struct ap_cgroup *cg, const char *dir, const char *file, ap_error **err);

/* Closes the join descriptors (after the child has started). */
void ap_cgroup_close_fds(struct ap_cgroup *cg);

/* Helpers shared by the backends. */
int ap_cgroup_write(const char *dir, const char *file, const char *value, ap_error **err);
int ap_cgroup_read(const char *dir, const char *file, char *buf, size_t len, ap_error **err);
/* Value of "key N" in a flat-keyed file (cpu.stat, memory.events, memory.oom_control). */
int ap_cgroup_read_key(const char *dir, const char *file, const char *key, int64_t *out);
/* The values of n keys from one read of the file; *out[i] is left alone for a key that is
 * missing. Returns how many were found (0 when the file cannot be read). */
int ap_cgroup_read_keys(const char *dir, const char *file, const char *const *keys,
                        int64_t *const *out, size_t n);
int ap_cgroup_read_int(const char *dir, const char *file, int64_t *out);
/* The processes in dir/cgroup.procs into out (room for max); *n is how many were listed,
 * which may exceed max. */
int ap_cgroup_read_pids(const char *dir, pid_t *out, size_t max, size_t *n, ap_error **err);
/* Removes dir, retrying while the kernel still tears down exiting tasks. */
int ap_cgroup_rmdir(const char *dir, ap_error **err);
/* ap_cgroup_rmdir for a group of an appliance that has ended; with warn, a group that stays is
 * named in a warning. */
int ap_cgroup_rmdir_stale(const char *dir, int warn);
/* Kills (mgr->kill_stale) and removes the groups under parent whose appliance has ended
 * (ap_cgroup_name_is_stale); with warn, a group that stays is named in a warning. Returns how
 * many stay (a group whose path does not fit is left alone and counted). The clean_stale of both
 * backends. */
int ap_cgroup_clean_dir(const struct ap_cgroup_manager *mgr, const char *parent, int warn);
/* The start time of process pid, in clock ticks after boot (field 22 of /proc/PID/stat); -1
 * when it cannot be read. A pid with its start time names one process even after pids wrap. */
int ap_cgroup_start_ticks(pid_t pid, unsigned long long *out);
/* True when a group name "appliance-<pid>-<start>-<n>" (or the older "appliance-<pid>-<n>")
 * belongs to a process that no longer runs: its pid is gone, or taken by a process that started
 * at another time. */
int ap_cgroup_name_is_stale(const char *name);
/* The text of /proc/self/cgroup into buf (len bytes, NUL-terminated); -1 (and "") when it
 * cannot be read whole. */
int ap_cgroup_read_self(char *buf, size_t len);
/* Our cgroup path within a v1 controller's hierarchy ("" for the root), found in self, the text
 * of /proc/self/cgroup; -1 with errno ENOENT when the controller is not listed, ENAMETOOLONG
 * when the path does not fit in out. */
int ap_cgroup_self_path(const char *self, const char *controller, char *out, size_t len)
    __attribute__((warn_unused_result));

#define AP_CGROUP_PREFIX "appliance-"

#endif
