/* The noise guard: how busy the CPUs a workload is pinned to are with work other than the
 * workload's own, and how much of their time the hypervisor steals, from /proc/stat and
 * /proc/loadavg.
 *
 *     struct ap_noise_snapshot snap;
 *     ap_noise_begin("1", &snap, err);          before the measured run
 *     ... run the workload pinned to CPU 1, in a cgroup ...
 *     ap_noise_end(&snap, cgroup_cpu_ns, &report, err);
 *     if (ap_noise_judge(&report, NULL, why, sizeof(why)) == 1) warn or repeat
 *     ap_noise_report_json(&report, obj);       into results.json
 *
 * Figures come from the kernel's per-CPU tick accounting: their resolution is one USER_HZ tick
 * (10 ms) per CPU, so an interval of 0.2 s on one CPU resolves 5 % and one of 1 s, 1 %. */
#ifndef AP_BENCH_NOISE_H
#define AP_BENCH_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../core/cpuset.h"
#include "../core/error.h"

/* ---- /proc/stat and /proc/loadavg -------------------------------------------------------- */

/* CPU time in USER_HZ ticks, summed over a set of CPUs, as /proc/stat's per-CPU lines give
 * it. guest and guest_nice are left out: the kernel already counts them in user and nice. */
struct ap_noise_times {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

/* Sums the "cpuN" lines of /proc/stat text (NUL-terminated) over the CPUs in *cpus into *out.
 * Lines need at least the four fields user nice system idle (missing later ones count 0);
 * lines other than "cpuN" are skipped, but a "cpuN" line that does not parse is an error
 * naming its line number. Every CPU in *cpus must have a line: a missing one (an offline CPU)
 * is an error naming it. An empty *cpus is an error. */
int ap_noise_parse_stat(const char *text, const struct ap_cpuset *cpus, struct ap_noise_times *out,
                        ap_error **err);

/* Reads /proc/stat (at most 1 MiB: its "cpuN" lines for AP_CPUSET_MAX CPUs fit many times
 * over) and sums it as ap_noise_parse_stat does. */
int ap_noise_read_stat(const struct ap_cpuset *cpus, struct ap_noise_times *out, ap_error **err);

/* The 1-minute load average: the first field of /proc/loadavg text ("0.52 0.58 0.59 1/123
 * 4567"). */
int ap_noise_parse_loadavg(const char *text, double *load1, ap_error **err);
int ap_noise_read_loadavg(double *load1, ap_error **err);

/* ---- Measuring an interval --------------------------------------------------------------- */

/* The state at the start of an interval. Plain data; nothing to release. */
struct ap_noise_snapshot {
    struct ap_cpuset cpus;
    int64_t start_ns; /* CLOCK_MONOTONIC */
    struct ap_noise_times t0;
};

/* What an interval saw on its CPUs: everything results.json records about noise. Durations in
 * nanoseconds; percentages (0-100, of wall_ns x ncpus, the time the CPUs had) may pass 100 by
 * a tick's worth of rounding. */
struct ap_noise_report {
    char cpus[AP_CPUSET_STRLEN]; /* the CPU list, canonical ("1", "0-1") */
    int ncpus;                   /* CPUs in the list */
    int online_cpus;             /* CPUs online at the end, for the load judgement */
    double interval_s;           /* wall time of the interval */
    int64_t wall_ns;
    int64_t busy_ns;   /* user + nice + system + irq + softirq of the listed CPUs */
    int64_t steal_ns;  /* time the hypervisor ran something else on those CPUs */
    int64_t own_ns;    /* CPU time the caller says its own workload used, as passed */
    int64_t others_ns; /* busy_ns - own_ns, at least 0: everybody else's work */
    double busy_pct, steal_pct, others_pct;
    double load1; /* 1-minute load average at the end */
};

/* Starts an interval over the CPUs of the list `cpus` ("1", "0-1": a cpuset string; every
 * CPU in it must have a /proc/stat line). */
int ap_noise_begin(const char *cpus, struct ap_noise_snapshot *snap, ap_error **err);

/* Ends the interval begun in *snap and fills *report. own_cpu_ns is the CPU time the measured
 * workload used during the interval (its cgroup's cpu usage delta); it is subtracted from the
 * CPUs' busy time, which is right only when the workload ran on those CPUs alone, that is
 * when it was pinned to them. Pass 0 when nothing of ours ran. */
int ap_noise_end(const struct ap_noise_snapshot *snap, int64_t own_cpu_ns,
                 struct ap_noise_report *report, ap_error **err);

/* The arithmetic of ap_noise_end, on given counters (no I/O): the report for an interval of
 * wall_ns between t0 and t1 on the CPUs in *cpus, with user_hz ticks per second (sysconf
 * _SC_CLK_TCK, 100 on Linux). Counters that went backwards (iowait may) count as 0. */
int ap_noise_compute(const struct ap_cpuset *cpus, const struct ap_noise_times *t0,
                     const struct ap_noise_times *t1, int64_t wall_ns, long user_hz,
                     int64_t own_cpu_ns, double load1, int online_cpus,
                     struct ap_noise_report *report, ap_error **err);

/* Measures an idle interval of `seconds` (0 < seconds <= 60) on the CPUs of the list `cpus`,
 * with nothing of ours running on them: ap_noise_begin, sleep, ap_noise_end with own_cpu_ns 0.
 * A signal does not cut the sleep short. */
int ap_noise_quiet_check(const char *cpus, double seconds, struct ap_noise_report *report,
                         ap_error **err);

/* Adds the report's fields to the JSON object obj under their struct names (cpus, ncpus,
 * online_cpus, interval_s, wall_ns, busy_ns, steal_ns, own_ns, others_ns, busy_pct,
 * steal_pct, others_pct, load1). Returns 0, or -1 when cJSON ran out of memory (obj may then
 * hold some of the fields). */
int ap_noise_report_json(const struct ap_noise_report *report, cJSON *obj);

/* ---- Judging ----------------------------------------------------------------------------- */

/* When an interval counts as noisy. A threshold <= 0 disables its check. The load average
 * is system-wide, lags by about a minute and counts the workload's own runnable tasks too: it
 * flags a machine busy overall, not these CPUs in this interval. */
struct ap_noise_thresholds {
    double others_pct;   /* others_pct above this is noisy; default 10 */
    double steal_pct;    /* steal_pct above this is noisy; default 5 */
    double load_per_cpu; /* load1 above online_cpus x this is noisy; default 1.0 */
};

#define AP_NOISE_THRESHOLDS_DEFAULT ((struct ap_noise_thresholds){10.0, 5.0, 1.0})

/* Returns 1 when the report is noisy by the thresholds (NULL: the defaults), else 0. Writes
 * into why (len bytes, truncated to fit; may be NULL) a sentence that names the CPU list and
 * the figures: for a noisy report every threshold passed ("CPU 1 noisy over 0.30 s: other
 * work used 87.0 % of its time (more than 10 %)"), for a quiet one the figures ("CPUs 0-1
 * quiet over 0.20 s: other work 1.0 %, hypervisor steal 0.0 %, load average 0.12 on 2 online
 * CPUs"). */
int ap_noise_judge(const struct ap_noise_report *report, const struct ap_noise_thresholds *t,
                   char *why, size_t len);

#endif
