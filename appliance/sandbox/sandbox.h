/* Runs one command in a sandbox of its own: mount, pid, net, uts, ipc and cgroup namespaces
 * (and optionally a user namespace), a read-only root, cgroup limits, no capabilities,
 * no_new_privs and a seccomp filter; measures the run. Knows nothing of images. */
#ifndef AP_SANDBOX_SANDBOX_H
#define AP_SANDBOX_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/error.h"
#include "cgroup.h"
#include "seccomp.h"

struct ap_bind {
    const char *src; /* host path */
    const char *dst; /* absolute path inside the sandbox */
    int readonly;
};

enum ap_net_mode {
    AP_NET_NONE,     /* a network namespace with lo down */
    AP_NET_LOOPBACK, /* lo up: 127.0.0.1 and ::1 only */
};

/* A running sandbox, handed to on_exec. */
struct ap_sandbox_live;

struct ap_sandbox_spec {
    const char *rootfs;   /* directory mounted read-only as / */
    char *const *argv;    /* argv[0] is looked up in PATH from envp when it has no '/' */
    char *const *envp;    /* the whole environment */
    const char *workdir;  /* default "/" */
    const char *hostname; /* default "sandbox" */
    uid_t uid;            /* default callers pass 65534 */
    gid_t gid;
    const struct ap_bind *binds;
    size_t n_binds;
    uint64_t tmp_bytes; /* size of the /tmp tmpfs; 0: 64 MiB */
    enum ap_net_mode net;
    int userns; /* map the sandbox's ids into 100000-165535 */
    struct ap_cgroup_limits limits;
    const struct ap_cgroup_manager *cgroups; /* NULL: detect */
    uint64_t nofile;                         /* RLIMIT_NOFILE; 0: 1024 */
    double timeout_s;                        /* 0: none */
    const struct ap_seccomp *seccomp;        /* NULL: no filter */
    int stdin_fd, stdout_fd, stderr_fd;      /* -1: /dev/null for stdin, inherit for the others */
    /* Called once the command has been exec'd, with the sandbox's pid 1 (its namespaces are
     * at /proc/PID/ns/ while the run lasts: the way for a load generator to join its
     * network) and a handle for reading the run's cgroup while it lasts (valid until
     * ap_sandbox_run returns; safe to use from another thread). Runs on the thread that
     * called ap_sandbox_run: it must return quickly. */
    void (*on_exec)(void *ctx, pid_t init_pid, struct ap_sandbox_live *live);
    void *ctx;
    /* When readable (an eventfd or a pipe another thread writes), the sandbox is torn down
     * as on a timeout and the record says `stopped`. 0 or negative: none (fd 0 is never
     * taken as a stop descriptor). */
    int stop_fd;
};

struct ap_run_record {
    int64_t wall_ns;  /* clone to reap of the sandbox's pid 1 */
    int64_t start_ns; /* clone to the command's exec */
    /* The command's exec to its reap, timed inside the sandbox by its pid 1: the command
     * alone, without the sandbox's set-up and teardown (wall_ns - run_ns is what the sandbox
     * cost). */
    int64_t run_ns;
    int64_t cpu_user_ns, cpu_system_ns, cpu_total_ns; /* cgroup accounting */
    int64_t ru_user_ns, ru_system_ns;                 /* rusage of the command's tree */
    int64_t memory_peak_bytes;                        /* cgroup peak */
    int64_t maxrss_bytes; /* largest resident set of one process (rusage) */
    int64_t pids_peak;
    int64_t nr_periods, nr_throttled, throttled_ns;
    int exited; /* 1: exit_code is valid; 0: killed by term_signal */
    int exit_code;
    int term_signal;
    int oom_killed;
    int timed_out;
    int interrupted; /* SIGINT/SIGTERM reached the appliance and the sandbox was torn down */
    int stopped;     /* stop_fd became readable and the sandbox was torn down */
    const char *cgroup_backend;
};

/* Limits of what a spec may ask for (checked by ap_sandbox_validate). */
#define AP_SANDBOX_MIN_MEMORY (4 << 20) /* bytes: below it the sandbox's own set-up is killed */
#define AP_SANDBOX_MIN_CPUS 0.01        /* the kernel's smallest quota, 1 ms per 100 ms */
#define AP_SANDBOX_MAX_CPUS 4096
#define AP_SANDBOX_MAX_TIMEOUT_S 1e8 /* about three years; nanoseconds fit easily */
#define AP_SANDBOX_PATH_MAX 1024     /* root, bind sources and targets */

/* Checks spec before anything is created: root and command not empty (NULL: not known yet,
 * for a caller that checks its options first), hostname, working
 * directory, timeout, limits (memory 0 or at least AP_SANDBOX_MIN_MEMORY, CPU quota within
 * the kernel's bounds, pids 0 or at least 2, a well-formed cpuset of online CPUs), bind
 * targets (absolute, canonical, not /, not at or below /proc, /sys or /dev), and no writable
 * bind for uid or gid 0 without a user namespace. Returns 0, or -1 with err saying what is
 * wrong and how to fix it. ap_sandbox_run calls it first. */
int ap_sandbox_validate(const struct ap_sandbox_spec *spec, ap_error **err);

/* Runs spec and fills rec. Returns 0 when the command ran (whatever its exit status), -1 with
 * err when the spec is invalid, the sandbox could not be set up, or it ended before the
 * command started (its init killed by a limit too small for it, an exec that failed). Blocks
 * SIGINT and SIGTERM while it runs and tears the sandbox down when one arrives. */
int ap_sandbox_run(const struct ap_sandbox_spec *spec, struct ap_run_record *rec, ap_error **err);

/* Waits until the work ap_sandbox_run keeps off a run's critical path is done: network
 * namespaces made ahead for later runs and released mount namespaces unmounted, on a helper
 * thread that starts with a process's second run. For benchmarks that time something else
 * next on the same CPU, which that work would otherwise slow down. */
void ap_sandbox_settle(void);

/* Reads the running sandbox's cgroup accounting (CPU so far, memory now and its peak so far).
 * Returns -1 with err when the cgroup cannot be read. */
int ap_sandbox_live_stats(struct ap_sandbox_live *live, struct ap_cgroup_stats *out,
                          ap_error **err);

/* Lists the processes of the running sandbox (its cgroup's members, the sandbox's pid 1
 * among them) as host pids into out (room for max); *n is how many there were, which may
 * exceed max. Returns -1 with err when the cgroup cannot be read. */
int ap_sandbox_live_pids(struct ap_sandbox_live *live, pid_t *out, size_t max, size_t *n,
                         ap_error **err);

/* Adds the record's times to the JSON object j, in this order: wall_ns, start_ns, run_ns,
 * cpu_user_ns, cpu_system_ns, cpu_total_ns (the run record's own names). */
struct cJSON;
void ap_run_record_times_json(struct cJSON *j, const struct ap_run_record *r);

/* Sets NAME=VALUE in the NULL-terminated environment env of *n entries (room for max,
 * terminator included): replaces an entry with the same NAME, else appends. kv is borrowed.
 * Returns -1 when full. */
int ap_sandbox_env_set(char **env, size_t *n, size_t max, char *kv);

/* Parses "64M", "1G", "1.5G", "1048576" into bytes (a decimal number, then an optional K, M or
 * G with an optional i and B). Returns -1 for anything else, negatives, NaN and sizes beyond
 * 9e18. */
int ap_sandbox_parse_bytes(const char *s, int64_t *out);

#endif
