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
 * Other tasks' time comes from the scheduler's clock where the kernel shows it per CPU, steal
 * from the kernel's per-CPU tick accounting. The ticks' resolution is one USER_HZ tick (10 ms)
 * per CPU, so an interval of 0.2 s on one CPU resolves 5 % and one of 1 s, 1 %; every figure is
 * judged to that resolution. Runs too short to resolve the threshold are judged together:
 * ap_noise_add sums intervals on one CPU list into one report, judged like a single interval
 * (see "Judging"). */
#ifndef AP_BENCH_NOISE_H
#define AP_BENCH_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../core/cpuset.h"
#include "../core/error.h"

/* ---- /proc/stat and /proc/loadavg -------------------------------------------------------- */

/* Where the time tasks ran on a CPU comes from. Ticks sample what a CPU was doing 100-250
 * times a second and count interrupts on an idle CPU as busy: a workload whose threads sleep
 * and wake each other (four threads on a GIL, a server between requests) leaves interrupt time
 * on idle CPUs that is nobody's work, and showed as 7-10 % "other work" on a quiet machine.
 * The scheduler's own clocks count the time tasks ran, in ns, and nothing else. */
enum ap_noise_source {
    AP_NOISE_TICKS,     /* /proc/stat's busy ticks (user nice system irq softirq) */
    AP_NOISE_SCHEDSTAT, /* /proc/schedstat: time tasks ran on each CPU (CONFIG_SCHEDSTATS),
                           counted when they leave it; never less than the user and system
                           ticks, which see a task that nothing preempts */
    AP_NOISE_CPUACCT,   /* the root cpuacct cgroup's per-CPU usage (cgroup v1) */
};

/* The source's name in results.json: "ticks", "schedstat" or "cpuacct". */
const char *ap_noise_source_name(enum ap_noise_source s);

/* CPU time in USER_HZ ticks, summed over a set of CPUs, as /proc/stat's per-CPU lines give
 * it. guest and guest_nice are left out: the kernel already counts them in user and nice.
 * tasks_ns is the time tasks ran on those CPUs by the scheduler's clock, from source
 * (AP_NOISE_TICKS: none was readable, and tasks_ns is 0). */
struct ap_noise_times {
    uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
    uint64_t tasks_ns;
    enum ap_noise_source source;
};

/* Sums the "cpuN" lines of /proc/stat text (NUL-terminated) over the CPUs in *cpus into *out.
 * Lines need at least the four fields user nice system idle (missing later ones count 0);
 * lines other than "cpuN" are skipped, but a "cpuN" line that does not parse is an error
 * naming its line number. Every CPU in *cpus must have a line: a missing one (an offline CPU)
 * is an error naming it. An empty *cpus is an error. */
int ap_noise_parse_stat(const char *text, const struct ap_cpuset *cpus, struct ap_noise_times *out,
                        ap_error **err);

/* Sums the time tasks ran on the CPUs in *cpus from /proc/schedstat text: field 7 of each
 * "cpuN" line, in ns from version 15 on (older versions count jiffies and are an error, as is a
 * text without a "version" line, a line that does not parse or a CPU without a line). */
int ap_noise_parse_schedstat(const char *text, const struct ap_cpuset *cpus, uint64_t *ns,
                             ap_error **err);

/* Sums the CPUs in *cpus of cpuacct.usage_percpu text: one number of ns per possible CPU, CPU
 * 0 first. A CPU beyond the numbers given is an error. */
int ap_noise_parse_percpu(const char *text, const struct ap_cpuset *cpus, uint64_t *ns,
                          ap_error **err);

/* Reads /proc/stat (at most 1 MiB: its "cpuN" lines for AP_CPUSET_MAX CPUs fit many times
 * over) and sums it as ap_noise_parse_stat does, and the tasks' time from the root cpuacct
 * cgroup (v1; cgroup v2 has no per-CPU figure), else from /proc/schedstat, else leaves source
 * AP_NOISE_TICKS. */
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
    int64_t busy_ns;   /* user + nice + system + irq + softirq ticks of the listed CPUs */
    int64_t irq_ns;    /* of which irq + softirq: interrupts, on whatever task or on idle */
    int64_t tasks_ns;  /* time tasks ran on those CPUs by the scheduler's clock (not ticks) */
    int64_t steal_ns;  /* time the hypervisor ran something else on those CPUs */
    int64_t own_ns;    /* CPU time the caller says its own workload used, as passed */
    int64_t others_ns; /* tasks_ns - own_ns (by ticks, busy_ns - own_ns), at least 0 */
    double busy_pct, steal_pct, others_pct;
    double load1;                /* 1-minute load average at the end */
    int64_t tick_ns;             /* the accounting's tick (10 ms at USER_HZ 100) */
    enum ap_noise_source source; /* of others_ns */
    int intervals;               /* intervals summed into this report (ap_noise_add); 1 for one */
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

/* Adds the interval r to the sum *sum (same CPU list; sum->intervals 0 starts an empty sum,
 * which takes r as it is): wall, busy, steal and own time add up, others is the summed busy
 * time less the summed own time (so the rounding of separate intervals cancels rather than
 * accumulates), the percentages are of the summed capacity, load1 and online_cpus are r's.
 * Returns -1 with err, the sum left as it was, when the CPU lists or the sources differ. */
int ap_noise_add(struct ap_noise_report *sum, const struct ap_noise_report *r, ap_error **err);

/* The resolution of a report's foreign-time figures, in % of its capacity (wall x ncpus): one
 * tick per CPU, times the square root of the intervals summed (each interval's tick rounding is
 * an independent error of under a tick). 1 s on one CPU: 1 %; 0.1 s: 10 %; 100 intervals of
 * 0.1 s: 1 %. */
double ap_noise_resolution_pct(const struct ap_noise_report *r);

/* 1 when the report resolves the threshold pct: its resolution is at most half of it (at the
 * default 2.5 %, 0.8 s of one interval on any number of CPUs). */
int ap_noise_resolves(const struct ap_noise_report *r, double pct);

/* Measures an idle interval of `seconds` (0 < seconds <= 60) on the CPUs of the list `cpus`,
 * with nothing of ours running on them: ap_noise_begin, sleep, ap_noise_end with own_cpu_ns 0.
 * A signal does not cut the sleep short. */
int ap_noise_quiet_check(const char *cpus, double seconds, struct ap_noise_report *report,
                         ap_error **err);

/* Adds the report's fields to the JSON object obj under their struct names (cpus, source, ncpus,
 * online_cpus, interval_s, wall_ns, busy_ns, irq_ns, tasks_ns, steal_ns, own_ns, others_ns,
 * busy_pct, steal_pct, others_pct, load1, tick_ns, intervals) and resolution_pct. Returns 0, or -1
 * when cJSON ran out of memory (obj may then hold some of the fields). */
int ap_noise_report_json(const struct ap_noise_report *report, cJSON *obj);

/* ---- Judging ----------------------------------------------------------------------------- */

/* Foreign CPU time on the measured CPUs above which an interval is noisy, in % of the time the
 * CPUs had: other work's (busy time that is not the workload's own) and, separately, the
 * hypervisor's steal. 2.5 %: foreign time adds to a CPU-bound figure almost one for one, and
 * the figures are meant to repeat within 2 % (the cross-check's target); 10 % let through
 * samples 5-10 % off. */
#define AP_NOISE_FOREIGN_PCT 2.5

/* When an interval counts as noisy. A threshold <= 0 disables its check. The load average
 * is system-wide, lags by about a minute and counts the workload's own runnable tasks too: it
 * flags a machine busy overall, not these CPUs in this interval. */
struct ap_noise_thresholds {
    double others_pct;   /* others_pct above this is noisy; default AP_NOISE_FOREIGN_PCT */
    double steal_pct;    /* steal_pct above this is noisy; default AP_NOISE_FOREIGN_PCT */
    double load_per_cpu; /* load1 above online_cpus x this is noisy; default 1.0 */
};

#define AP_NOISE_THRESHOLDS_DEFAULT                                                                \
    ((struct ap_noise_thresholds){AP_NOISE_FOREIGN_PCT, AP_NOISE_FOREIGN_PCT, 1.0})

/* Returns 1 when the report is noisy by the thresholds (NULL: the defaults), else 0. A report
 * that resolves a threshold (ap_noise_resolves) passes it when its figure is above it; one too
 * short to resolve it, only when its figure less the resolution is still above it (so a tick of
 * rounding never flags a short run, and a hog still does). Writes into why (len bytes,
 * truncated to fit; may be NULL) a sentence that names the CPU list and the figures: for a
 * noisy report every threshold passed ("CPU 1 noisy over 0.30 s: other work used 87.0 % of
 * its time (more than 2.5 %)"), for a quiet one the figures ("CPUs 0-1 quiet over 0.20 s:
 * other work 1.0 %, hypervisor steal 0.0 %, load average 0.12 on 2 online CPUs"); a sum of
 * several intervals says how many ("over 12 runs, 0.84 s"), an unresolved one its resolution
 * ("(resolution 5.0 %)"). */
int ap_noise_judge(const struct ap_noise_report *report, const struct ap_noise_thresholds *t,
                   char *why, size_t len);

/* ---- The CPUs' speed --------------------------------------------------------------------- */

/* What /proc/stat cannot show on a virtual machine: time the hypervisor gives another guest
 * without reporting it as steal (many report none at all), a host sibling hyperthread's load,
 * a lower clock. Each slows a fixed piece of work on the CPU, so the guard times one on every
 * measured CPU right before and right after each run and compares it with that CPU's usual
 * time in the bench run: the lower quartile of its last AP_NOISE_SPEED_KEEP probes. (Not the
 * fastest: an extreme that only falls as probes accumulate, and on a host whose quiet moments
 * are rare it sat 10-15 % below the loop's usual time, so that most runs were measured again.)
 * The probes see only their own few milliseconds next to the run: they catch a slowdown that
 * lasts (a busy neighbour, a throttled clock), not a burst inside a long run; a state that
 * lasts the whole bench run is the calibrations' to record (environment.memory_latency). */

/* CPUs one probe can time. */
#define AP_NOISE_SPEED_CPUS 64
/* Steps of the fixed work (a xorshift generator: about 2 ms on a 3 GHz core), and times it is
 * run on each CPU (the median counts: one interrupt does not make a CPU slow). */
#define AP_NOISE_PROBE_STEPS (1u << 20)
#define AP_NOISE_PROBE_REPEAT 3
/* A CPU whose probes before and after a run were both slower than its usual time by more than
 * this is noisy. Both: one probe can meet an interrupt or a moment of steal that the run never
 * saw; a slowdown that lasts from before the run to after it is the run's too. The probe's own
 * spread on this kind of shared VM is several %, hence 10 % rather than the 2.5 % of the time
 * shares. */
#define AP_NOISE_SLOWDOWN_PCT 10.0

struct ap_noise_speed {
    int n;                           /* CPUs timed */
    int cpu[AP_NOISE_SPEED_CPUS];    /* their numbers */
    int64_t ns[AP_NOISE_SPEED_CPUS]; /* median time of the fixed work on each */
};

/* Times the fixed work on each CPU of the list `cpus` (at most AP_NOISE_SPEED_CPUS), moving the
 * calling thread there and back to its own CPUs. Returns -1 with err when the list is bad or
 * the thread may not run on one of them. */
int ap_noise_speed_probe(const char *cpus, struct ap_noise_speed *out, ap_error **err);

/* Probes kept per CPU for its usual time: eight runs' worth, so that a change of speed that
 * lasts (on this kind of host the loop moves between levels 10-15 % apart for minutes) becomes
 * the usual time after a few runs instead of refusing the rest of the bench. */
#define AP_NOISE_SPEED_KEEP 16

/* Each CPU's last probes, for its usual time. Zeroed is empty. */
struct ap_noise_speed_ref {
    int n;
    struct {
        int cpu, kept, next;
        int64_t ns[AP_NOISE_SPEED_KEEP];
        int64_t fastest; /* of every probe kept since the start (a rebase keeps it) */
    } cpus[AP_NOISE_SPEED_CPUS];
};

/* CPU cpu's usual time in ref: the lower quartile of its kept probes (their fastest while it
 * has fewer than four); 0 when it has none. */
int64_t ap_noise_speed_usual(const struct ap_noise_speed_ref *ref, int cpu);

/* The fastest probe ref has kept of CPU cpu (0 when none). */
int64_t ap_noise_speed_fastest(const struct ap_noise_speed_ref *ref, int cpu);

/* A lasting change of CPU cpu's speed: its kept probes become the n (at most
 * AP_NOISE_SPEED_KEEP) times ns, its usual time theirs. Returns -1 when ref knows no such CPU
 * or n is out of range. */
int ap_noise_speed_rebase(struct ap_noise_speed_ref *ref, int cpu, const int64_t *ns, int n);

/* The times of n probes in a row of one CPU, taken after a run it was too slow for, as a new
 * level of its speed: 1 when they are steady (their upper quartile within
 * AP_NOISE_STEADY_PCT of their lower) and their median no more than AP_NOISE_STATE_PCT above
 * fastest (the CPU's fastest probe in the bench), with *level_ns their median; else 0. A
 * slowdown beyond that is no state of the host's but work that takes the CPU. */
#define AP_NOISE_STEADY_PCT 5.0
#define AP_NOISE_STATE_PCT 25.0
int ap_noise_speed_level(const int64_t *ns, int n, int64_t fastest, int64_t *level_ns);

/* The lasting slowdown of the probes around a run, before and after, against each CPU's usual
 * time in ref before the run, in %: for each CPU the smaller of its two probes' p / usual - 1,
 * never negative, and the largest of those over the CPUs (0 for a CPU with no usual time yet).
 * ref then keeps both probes. *cpu gets the CPU of that largest slowdown, *ns the faster of
 * its two times and *usual_ns that CPU's usual time (any may be NULL). A CPU in one probe only
 * is left out. */
double ap_noise_speed_slowdown(const struct ap_noise_speed *before,
                               const struct ap_noise_speed *after, struct ap_noise_speed_ref *ref,
                               int *cpu, int64_t *ns, int64_t *usual_ns);

/* The verdict on a slowdown of pct % of CPU cpu (its probe took ns against its usual
 * usual_ns): 1 when it
 * passes threshold (> 0; <= 0 disables the check), with why (len bytes, cut to fit) saying
 * so, else 0 with why holding the figures. */
int ap_noise_speed_judge(double pct, int cpu, int64_t ns, int64_t usual_ns, double threshold,
                         char *why, size_t len);

/* ---- The caches' share ------------------------------------------------------------------- */

/* What neither /proc/stat nor the speed probe's register loop can see: another tenant of the
 * host that shares the last-level cache and the memory's bandwidth. Work that lives in
 * registers keeps its speed while work that misses the L2 slows (Go's binarytrees ran 3x slower
 * through one such spell, the register loop 1.5x). A pointer chase through a buffer larger
 * than an L2 and within a quiet L3 shows it: a step costs an L3 hit on a quiet machine and
 * nears a trip to memory while others evict the buffer. */
#define AP_NOISE_CHASE_BYTES (4u << 20)
/* The caches were shared when the chases of one bench were this far apart. */
#define AP_NOISE_CHASE_FACTOR 2.0

/* Times `probes` chases on CPU `cpu`, `gap_ms` apart: each reads the buffer once, then follows
 * it once more round its random cycle, timed by the thread's CPU time; ns[i] gets the ns a step
 * of chase i. Moves the calling thread there and back. Returns -1 with err when the CPU is not
 * ours or memory runs out. */
int ap_noise_chase(int cpu, int probes, int gap_ms, double *ns, ap_error **err);

/* Whether the chases of a bench (ns[0..n-1], every calibration's) say the caches were shared:
 * the slowest but one more than `factor` times the fastest (one probe may meet an interrupt).
 * Returns 1 when so, with the figures in why (len bytes), else 0 (why still says them). */
int ap_noise_chase_judge(const double *ns, int n, double factor, char *why, size_t len);

/* The positive numbers under `key` in every calibration of a results file's
 * environment.memory_latency (ml; NULL gives none), whether each holds an array of them
 * ("ns_per_step") or one ("loop_ms"), into out (at most max); returns how many. What the bench
 * judges and what compare sets side by side are read alike. */
size_t ap_noise_latency_values(const cJSON *ml, const char *key, double *out, size_t max);

#endif
