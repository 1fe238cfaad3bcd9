#include "noise.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../sandbox/cgroup.h"
#include "stats.h"
#include "../core/clock.h"

#define STAT_PATH "/proc/stat"
#define SCHEDSTAT_PATH "/proc/schedstat"
#define PERCPU_FILE "cpuacct/cpuacct.usage_percpu"
#define LOADAVG_PATH "/proc/loadavg"
#define ONLINE_PATH "/sys/devices/system/cpu/online"
#define STAT_MAX (1024 * 1024)
#define SMALL_FILE_MAX 4096

/* ---- /proc/stat and /proc/loadavg -------------------------------------------------------- */

/* Reads an unsigned decimal after optional blanks. Returns 1 when one was read, 0 at the end
 * of the line, -1 on anything else (including overflow). */
static int stat_field(const char **p, uint64_t *out)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
    if (**p == '\n' || **p == '\0')
        return 0;
    if (!isdigit((unsigned char)**p))
        return -1;
    uint64_t v = 0;
    while (isdigit((unsigned char)**p)) {
        unsigned d = (unsigned)(**p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        (*p)++;
    }
    if (**p != ' ' && **p != '\t' && **p != '\n' && **p != '\0')
        return -1;
    *out = v;
    return 1;
}

int ap_noise_parse_stat(const char *text, const struct ap_cpuset *cpus, struct ap_noise_times *out,
                        ap_error **err)
{
    if (ap_cpuset_count(cpus) == 0)
        return ap_error_make(err, 0, "reading CPU times: the CPU list is empty");
    struct ap_cpuset seen = {{0}};
    struct ap_noise_times sum = {0};
    unsigned line = 0;
    for (const char *p = text; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        const char *next = eol != NULL ? eol + 1 : p + strlen(p);
        line++;
        /* "cpu " is the sum over all CPUs; only "cpuN" lines are ours. */
        if (strncmp(p, "cpu", 3) != 0 || !isdigit((unsigned char)p[3])) {
            p = next;
            continue;
        }
        const char *q = p + 3;
        long cpu;
        ap_cpuset_read_number(&q, &cpu);
        if (cpu >= AP_CPUSET_MAX) {
            p = next;
            continue; /* beyond any set we accept, so never asked for */
        }
        if (ap_cpuset_has(&seen, (int)cpu))
            return ap_error_make(err, 0, "line %u of /proc/stat: a second line for CPU %ld", line,
                                 cpu);
        ap_cpuset_add(&seen, (int)cpu);
        uint64_t v[8] = {0};
        size_t nf = 0;
        for (;;) {
            uint64_t x;
            int r = stat_field(&q, &x);
            if (r < 0)
                return ap_error_make(err, 0,
                                     "line %u of /proc/stat (CPU %ld): field %zu is not a "
                                     "number",
                                     line, cpu, nf + 1);
            if (r == 0)
                break;
            if (nf < AP_ARRAY_SIZE(v))
                v[nf] = x;
            nf++;
        }
        if (nf < 4)
            return ap_error_make(err, 0,
                                 "line %u of /proc/stat (CPU %ld): %zu fields, want at least 4 "
                                 "(user nice system idle)",
                                 line, cpu, nf);
        if (ap_cpuset_has(cpus, (int)cpu)) {
            sum.user += v[0];
            sum.nice += v[1];
            sum.system += v[2];
            sum.idle += v[3];
            sum.iowait += v[4];
            sum.irq += v[5];
            sum.softirq += v[6];
            sum.steal += v[7];
        }
        p = next;
    }
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        if (ap_cpuset_has(cpus, c) && !ap_cpuset_has(&seen, c)) {
            ap_error_make(err, 0, "CPU %d has no line in /proc/stat", c);
            return ap_error_hint(err, "is CPU %d offline? %s lists the CPUs online", c,
                                 ONLINE_PATH);
        }
    }
    *out = sum;
    return 0;
}

const char *ap_noise_source_name(enum ap_noise_source s)
{
    switch (s) {
    case AP_NOISE_SCHEDSTAT:
        return "schedstat";
    case AP_NOISE_CPUACCT:
        return "cpuacct";
    case AP_NOISE_TICKS:
        break;
    }
    return "ticks";
}

int ap_noise_parse_schedstat(const char *text, const struct ap_cpuset *cpus, uint64_t *ns,
                             ap_error **err)
{
    if (ap_cpuset_count(cpus) == 0)
        return ap_error_make(err, 0, "reading %s: the CPU list is empty", SCHEDSTAT_PATH);
    struct ap_cpuset seen = {{0}};
    uint64_t sum = 0;
    long version = -1;
    unsigned line = 0;
    for (const char *p = text; *p != '\0';) {
        const char *eol = strchr(p, '\n');
        const char *next = eol != NULL ? eol + 1 : p + strlen(p);
        line++;
        if (strncmp(p, "version ", 8) == 0) {
            version = strtol(p + 8, NULL, 10);
            /* Before version 15 (Linux 4.19) the run time counted jiffies. */
            if (version < 15)
                return ap_error_make(err, 0, "%s is version %ld: want 15 or later (run time in ns)",
                                     SCHEDSTAT_PATH, version);
        }
        if (strncmp(p, "cpu", 3) != 0 || !isdigit((unsigned char)p[3])) {
            p = next;
            continue;
        }
        if (version < 0)
            return ap_error_make(err, 0, "line %u of %s: a CPU line before the version line", line,
                                 SCHEDSTAT_PATH);
        const char *q = p + 3;
        long cpu;
        ap_cpuset_read_number(&q, &cpu);
        uint64_t v[7] = {0};
        size_t nf = 0;
        while (nf < AP_ARRAY_SIZE(v) && stat_field(&q, &v[nf]) == 1)
            nf++;
        if (nf < AP_ARRAY_SIZE(v))
            return ap_error_make(err, 0,
                                 "line %u of %s (CPU %ld): field %zu is missing or not a number",
                                 line, SCHEDSTAT_PATH, cpu, nf + 1);
        if (cpu < AP_CPUSET_MAX && ap_cpuset_has(cpus, (int)cpu)) {
            if (ap_cpuset_has(&seen, (int)cpu))
                return ap_error_make(err, 0, "line %u of %s: a second line for CPU %ld", line,
                                     SCHEDSTAT_PATH, cpu);
            ap_cpuset_add(&seen, (int)cpu);
            sum += v[6];
        }
        p = next;
    }
    for (int c = 0; c < AP_CPUSET_MAX; c++)
        if (ap_cpuset_has(cpus, c) && !ap_cpuset_has(&seen, c))
            return ap_error_make(err, 0, "CPU %d has no line in %s", c, SCHEDSTAT_PATH);
    *ns = sum;
    return 0;
}

int ap_noise_parse_percpu(const char *text, const struct ap_cpuset *cpus, uint64_t *ns,
                          ap_error **err)
{
    if (ap_cpuset_count(cpus) == 0)
        return ap_error_make(err, 0, "reading %s: the CPU list is empty", PERCPU_FILE);
    uint64_t sum = 0;
    const char *p = text;
    int cpu = 0;
    for (;; cpu++) {
        uint64_t v;
        int r = stat_field(&p, &v);
        if (r < 0)
            return ap_error_make(err, 0, "%s: the figure of CPU %d is not a number", PERCPU_FILE,
                                 cpu);
        if (r == 0)
            break;
        if (cpu < AP_CPUSET_MAX && ap_cpuset_has(cpus, cpu))
            sum += v;
    }
    for (int c = cpu; c < AP_CPUSET_MAX; c++)
        if (ap_cpuset_has(cpus, c))
            return ap_error_make(err, 0, "%s has figures for %d CPUs: none for CPU %d", PERCPU_FILE,
                                 cpu, c);
    *ns = sum;
    return 0;
}

/* The tasks' time on the CPUs from the first source that reads: the root cpuacct cgroup (a
 * running task's time reaches it at every tick), then /proc/schedstat (at every switch).
 * Neither is an error: out->source stays AP_NOISE_TICKS. */
static void read_tasks(const struct ap_cpuset *cpus, char *buf, struct ap_noise_times *out)
{
    char percpu[512];
    /* A root too long for the cpuacct file leaves it out, as one that cannot be read. */
    if (ap_fs_path(percpu, sizeof(percpu), "%s/%s", ap_cgroup_root(), PERCPU_FILE) < 0)
        percpu[0] = '\0';
    const struct {
        const char *path;
        enum ap_noise_source source;
    } from[] = {{percpu, AP_NOISE_CPUACCT}, {SCHEDSTAT_PATH, AP_NOISE_SCHEDSTAT}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(from); i++) {
        ap_error *e = NULL;
        uint64_t ns;
        int r = ap_fs_read_small(from[i].path, buf, STAT_MAX, &e);
        if (r == 0)
            r = from[i].source == AP_NOISE_SCHEDSTAT ? ap_noise_parse_schedstat(buf, cpus, &ns, &e)
                                                     : ap_noise_parse_percpu(buf, cpus, &ns, &e);
        ap_error_release(&e);
        if (r == 0) {
            out->tasks_ns = ns;
            out->source = from[i].source;
            return;
        }
    }
}

int ap_noise_read_stat(const struct ap_cpuset *cpus, struct ap_noise_times *out, ap_error **err)
{
    cleanup_free char *buf = malloc(STAT_MAX);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", STAT_PATH);
    if (ap_fs_read_small(STAT_PATH, buf, STAT_MAX, err) < 0 ||
        ap_noise_parse_stat(buf, cpus, out, err) < 0)
        return -1;
    read_tasks(cpus, buf, out);
    return 0;
}

int ap_noise_parse_loadavg(const char *text, double *load1, ap_error **err)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || errno != 0 || !isfinite(v) || v < 0 || (*end != ' ' && *end != '\n'))
        return ap_error_make(err, 0, "%s: \"%.40s\" does not start with a load average",
                             LOADAVG_PATH, text);
    *load1 = v;
    return 0;
}

int ap_noise_read_loadavg(double *load1, ap_error **err)
{
    char buf[SMALL_FILE_MAX];
    if (ap_fs_read_small(LOADAVG_PATH, buf, sizeof(buf), err) < 0)
        return -1;
    return ap_noise_parse_loadavg(buf, load1, err);
}

/* ---- Measuring an interval --------------------------------------------------------------- */

/* b - a, or 0 when the counter went backwards (iowait does: the kernel documents it as
 * unreliable). */
static uint64_t delta(uint64_t a, uint64_t b)
{
    return b >= a ? b - a : 0;
}

static int64_t ticks_to_ns(uint64_t ticks, long user_hz)
{
    return (int64_t)((unsigned __int128)ticks * 1000000000u / (unsigned long)user_hz);
}

/* others_ns and the percentages from the report's times. */
static void set_shares(struct ap_noise_report *r)
{
    /* Ticks are coarse and the caller's figure is exact: own time may exceed the busy ticks
     * by a tick or two when nothing else ran, and the scheduler's per-CPU figure, which a
     * running task's time reaches at the next scheduler tick, by up to a tick too. */
    int64_t all = r->source == AP_NOISE_TICKS ? r->busy_ns : r->tasks_ns;
    r->others_ns = all > r->own_ns ? all - r->own_ns : 0;
    double capacity = (double)r->wall_ns * r->ncpus;
    r->busy_pct = 100.0 * (double)r->busy_ns / capacity;
    r->steal_pct = 100.0 * (double)r->steal_ns / capacity;
    r->others_pct = 100.0 * (double)r->others_ns / capacity;
}

int ap_noise_compute(const struct ap_cpuset *cpus, const struct ap_noise_times *t0,
                     const struct ap_noise_times *t1, int64_t wall_ns, long user_hz,
                     int64_t own_cpu_ns, double load1, int online_cpus,
                     struct ap_noise_report *report, ap_error **err)
{
    int ncpus = ap_cpuset_count(cpus);
    if (ncpus == 0)
        return ap_error_make(err, 0, "measuring noise: the CPU list is empty");
    if (wall_ns <= 0 || user_hz <= 0 || own_cpu_ns < 0)
        return ap_error_make(err, 0,
                             "measuring noise: an interval of %lld ns at %ld ticks per second "
                             "with %lld ns of own CPU time cannot be measured",
                             (long long)wall_ns, user_hz, (long long)own_cpu_ns);
    struct ap_noise_report r = {.ncpus = ncpus,
                                .online_cpus = online_cpus,
                                .load1 = load1,
                                .tick_ns = 1000000000 / user_hz,
                                .intervals = 1};
    if (ap_cpuset_format(cpus, r.cpus, sizeof(r.cpus), err) < 0)
        return -1;
    uint64_t busy = delta(t0->user, t1->user) + delta(t0->nice, t1->nice) +
                    delta(t0->system, t1->system) + delta(t0->irq, t1->irq) +
                    delta(t0->softirq, t1->softirq);
    r.wall_ns = wall_ns;
    r.interval_s = (double)wall_ns / 1e9;
    r.busy_ns = ticks_to_ns(busy, user_hz);
    r.irq_ns = ticks_to_ns(delta(t0->irq, t1->irq) + delta(t0->softirq, t1->softirq), user_hz);
    /* Both ends must have read the same clock; else the ticks, which both have. */
    r.source = t0->source == t1->source ? t0->source : AP_NOISE_TICKS;
    if (r.source != AP_NOISE_TICKS)
        r.tasks_ns = (int64_t)delta(t0->tasks_ns, t1->tasks_ns);
    /* /proc/schedstat adds a task's time when it leaves the CPU: a task alone on a CPU, which
     * nothing preempts, shows there only later. Its user and system ticks show it now (and
     * leave out interrupts): the larger of the two counts. */
    if (r.source == AP_NOISE_SCHEDSTAT) {
        int64_t ticked = ticks_to_ns(delta(t0->user, t1->user) + delta(t0->nice, t1->nice) +
                                         delta(t0->system, t1->system),
                                     user_hz);
        if (ticked > r.tasks_ns)
            r.tasks_ns = ticked;
    }
    r.steal_ns = ticks_to_ns(delta(t0->steal, t1->steal), user_hz);
    r.own_ns = own_cpu_ns;
    set_shares(&r);
    *report = r;
    return 0;
}

int ap_noise_add(struct ap_noise_report *sum, const struct ap_noise_report *r, ap_error **err)
{
    if (sum->intervals == 0) {
        *sum = *r;
        return 0;
    }
    if (strcmp(sum->cpus, r->cpus) != 0)
        return ap_error_make(err, 0, "adding the noise of CPUs %s to that of CPUs %s", r->cpus,
                             sum->cpus);
    if (sum->source != r->source)
        return ap_error_make(
            err, 0, "adding the noise of CPUs %s counted by %s to a sum counted by %s", r->cpus,
            ap_noise_source_name(r->source), ap_noise_source_name(sum->source));
    sum->wall_ns += r->wall_ns;
    sum->interval_s = (double)sum->wall_ns / 1e9;
    sum->busy_ns += r->busy_ns;
    sum->irq_ns += r->irq_ns;
    sum->tasks_ns += r->tasks_ns;
    sum->steal_ns += r->steal_ns;
    sum->own_ns += r->own_ns;
    sum->load1 = r->load1;
    sum->online_cpus = r->online_cpus;
    sum->intervals += r->intervals;
    set_shares(sum);
    return 0;
}

double ap_noise_resolution_pct(const struct ap_noise_report *r)
{
    if (r->wall_ns <= 0 || r->ncpus <= 0)
        return 100;
    double ticks = (double)r->tick_ns * r->ncpus * sqrt(r->intervals > 1 ? r->intervals : 1);
    return 100.0 * ticks / ((double)r->wall_ns * r->ncpus);
}

int ap_noise_resolves(const struct ap_noise_report *r, double pct)
{
    return ap_noise_resolution_pct(r) <= pct / 2;
}

int ap_noise_begin(const char *cpus, struct ap_noise_snapshot *snap, ap_error **err)
{
    struct ap_noise_snapshot s;
    if (ap_cpuset_parse(cpus, &s.cpus, err) < 0 || ap_noise_read_stat(&s.cpus, &s.t0, err) < 0)
        return ap_error_wrap(err, "starting the noise measurement");
    s.start_ns = ap_clock_mono_ns();
    *snap = s;
    return 0;
}

int ap_noise_end(const struct ap_noise_snapshot *snap, int64_t own_cpu_ns,
                 struct ap_noise_report *report, ap_error **err)
{
    struct ap_noise_times t1;
    if (ap_noise_read_stat(&snap->cpus, &t1, err) < 0)
        return ap_error_wrap(err, "ending the noise measurement");
    int64_t wall = ap_clock_mono_ns() - snap->start_ns;
    double load1;
    if (ap_noise_read_loadavg(&load1, err) < 0)
        return ap_error_wrap(err, "ending the noise measurement");
    long hz = sysconf(_SC_CLK_TCK);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (hz <= 0 || online <= 0)
        return ap_error_make(err, errno, "ending the noise measurement: sysconf");
    /* An interval shorter than the clock's resolution still had some length. */
    if (wall <= 0)
        wall = 1;
    return ap_noise_compute(&snap->cpus, &snap->t0, &t1, wall, hz, own_cpu_ns, load1, (int)online,
                            report, err);
}

int ap_noise_quiet_check(const char *cpus, double seconds, struct ap_noise_report *report,
                         ap_error **err)
{
    if (!(seconds > 0 && seconds <= 60))
        return ap_error_make(err, 0, "a quiet check of %g s: want more than 0 and at most 60",
                             seconds);
    struct ap_noise_snapshot snap;
    if (ap_noise_begin(cpus, &snap, err) < 0)
        return -1;
    int64_t until = snap.start_ns + (int64_t)(seconds * 1e9);
    struct timespec ts = {.tv_sec = until / 1000000000, .tv_nsec = until % 1000000000};
    int r;
    while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
        ;
    if (r != 0)
        return ap_error_make(err, r, "sleeping through the quiet check");
    return ap_noise_end(&snap, 0, report, err);
}

int ap_noise_report_json(const struct ap_noise_report *report, cJSON *obj)
{
    const struct ap_noise_report *r = report;
    const struct {
        const char *key;
        double value;
    } numbers[] = {
        {"ncpus", r->ncpus},
        {"online_cpus", r->online_cpus},
        {"interval_s", r->interval_s},
        {"wall_ns", (double)r->wall_ns},
        {"busy_ns", (double)r->busy_ns},
        {"irq_ns", (double)r->irq_ns},
        {"tasks_ns", (double)r->tasks_ns},
        {"steal_ns", (double)r->steal_ns},
        {"own_ns", (double)r->own_ns},
        {"others_ns", (double)r->others_ns},
        {"busy_pct", r->busy_pct},
        {"steal_pct", r->steal_pct},
        {"others_pct", r->others_pct},
        {"load1", r->load1},
        {"tick_ns", (double)r->tick_ns},
        {"intervals", r->intervals},
        {"resolution_pct", ap_noise_resolution_pct(r)},
    };
    if (cJSON_AddStringToObject(obj, "cpus", r->cpus) == NULL ||
        cJSON_AddStringToObject(obj, "source", ap_noise_source_name(r->source)) == NULL)
        return -1;
    for (size_t i = 0; i < AP_ARRAY_SIZE(numbers); i++)
        if (cJSON_AddNumberToObject(obj, numbers[i].key, numbers[i].value) == NULL)
            return -1;
    return 0;
}

/* ---- Judging ----------------------------------------------------------------------------- */

struct text {
    char *buf;
    size_t len, used;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
    if (t->buf == NULL || t->used + 1 >= t->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->buf + t->used, t->len - t->used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    t->used += (size_t)n < t->len - t->used ? (size_t)n : t->len - t->used - 1;
}

/* Whether figure (a % of the CPUs' time) passes threshold: above it when the report resolves
 * it, above it by more than the resolution when not. */
static int passes(const struct ap_noise_report *r, double figure, double threshold)
{
    if (threshold <= 0)
        return 0;
    double margin = ap_noise_resolves(r, threshold) ? 0 : ap_noise_resolution_pct(r);
    return figure - margin > threshold;
}

int ap_noise_judge(const struct ap_noise_report *report, const struct ap_noise_thresholds *t,
                   char *why, size_t len)
{
    struct ap_noise_thresholds th = t != NULL ? *t : AP_NOISE_THRESHOLDS_DEFAULT;
    const struct ap_noise_report *r = report;
    int one = r->ncpus == 1;
    double load_max = th.load_per_cpu * r->online_cpus;
    int others = passes(r, r->others_pct, th.others_pct);
    int steal = passes(r, r->steal_pct, th.steal_pct);
    int load = th.load_per_cpu > 0 && r->load1 > load_max;
    int noisy = others || steal || load;

    struct text out = {why, len, 0};
    if (why != NULL && len > 0)
        why[0] = '\0';
    text_add(&out, "%s %s %s over ", one ? "CPU" : "CPUs", r->cpus, noisy ? "noisy" : "quiet");
    if (r->intervals > 1)
        text_add(&out, "%d runs, ", r->intervals);
    text_add(&out, "%.2f s", r->interval_s);
    double least = th.others_pct > 0 && (th.steal_pct <= 0 || th.others_pct < th.steal_pct)
                       ? th.others_pct
                       : th.steal_pct;
    if (least > 0 && !ap_noise_resolves(r, least))
        text_add(&out, " (resolution %.1f %%)", ap_noise_resolution_pct(r));
    text_add(&out, ": ");
    if (!noisy) {
        text_add(&out,
                 "other work %.1f %%, hypervisor steal %.1f %%, load average %.2f on %d online "
                 "CPUs",
                 r->others_pct, r->steal_pct, r->load1, r->online_cpus);
        return 0;
    }
    const char *sep = "";
    if (others) {
        text_add(&out, "other work used %.1f %% of %s time (more than %g %%)", r->others_pct,
                 one ? "its" : "their", th.others_pct);
        sep = "; ";
    }
    if (steal) {
        text_add(&out, "%sthe hypervisor stole %.1f %% of %s time (more than %g %%)", sep,
                 r->steal_pct, one ? "its" : "their", th.steal_pct);
        sep = "; ";
    }
    if (load)
        text_add(&out, "%sthe 1-minute load average is %.2f on %d online CPUs (more than %g)", sep,
                 r->load1, r->online_cpus, load_max);
    return 1;
}

/* ---- The CPUs' speed --------------------------------------------------------------------- */

/* The fixed work: a xorshift generator's steps, which the compiler cannot fold away. */
static __attribute__((noinline)) uint64_t probe_work(uint64_t x, unsigned steps)
{
    for (unsigned i = 0; i < steps; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Where the work's result goes, so that it is needed. */
static volatile uint64_t probe_sink;

/* The median time of the fixed work on the CPU the thread runs on now, by the wall: a task of
 * the guest's that takes the CPU from it (a hog next to a short run) shows too, so that a short
 * run judged in a window is flagged alone when its neighbour was busy. (Timed by its own CPU
 * time, the probe no longer saw such a hog reliably, and it did not stop the refusals it was
 * meant to: those were slowdowns of the CPU itself.) */
static int64_t probe_here(void)
{
    int64_t t[AP_NOISE_PROBE_REPEAT];
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < AP_NOISE_PROBE_REPEAT; i++) {
        int64_t t0 = ap_clock_mono_ns();
        x = probe_work(x, AP_NOISE_PROBE_STEPS);
        t[i] = ap_clock_mono_ns() - t0;
    }
    probe_sink = x;
    qsort(t, AP_NOISE_PROBE_REPEAT, sizeof(t[0]), cmp_i64);
    return t[AP_NOISE_PROBE_REPEAT / 2];
}

int ap_noise_speed_probe(const char *cpus, struct ap_noise_speed *out, ap_error **err)
{
    struct ap_cpuset set;
    if (ap_cpuset_parse(cpus, &set, err) < 0)
        return ap_error_wrap(err, "timing the CPUs' speed");
    struct ap_cpuset home;
    if (ap_cpuset_affinity(&home, err) < 0)
        return ap_error_wrap(err, "timing the CPUs' speed");
    struct ap_noise_speed p = {0};
    int rc = 0;
    for (int c = 0; c < AP_CPUSET_MAX && rc == 0; c++) {
        if (!ap_cpuset_has(&set, c) || p.n == AP_NOISE_SPEED_CPUS)
            continue;
        struct ap_cpuset one = {{0}};
        ap_cpuset_add(&one, c);
        if (ap_cpuset_pin(&one, NULL, err) < 0) {
            rc = ap_error_wrap(err, "timing the speed of CPU %d", c);
            break;
        }
        p.cpu[p.n] = c;
        p.ns[p.n++] = probe_here();
    }
    if (ap_cpuset_pin(&home, NULL, rc == 0 ? err : NULL) < 0 && rc == 0)
        rc = ap_error_wrap(err, "timing the CPUs' speed: moving back");
    if (rc == 0)
        *out = p;
    return rc;
}

/* ref keeps p's times. */
static void speed_keep(struct ap_noise_speed_ref *ref, const struct ap_noise_speed *p)
{
    for (int i = 0; i < p->n; i++) {
        if (p->ns[i] <= 0)
            continue;
        int k = 0;
        while (k < ref->n && ref->cpus[k].cpu != p->cpu[i])
            k++;
        if (k == ref->n) {
            if (ref->n == AP_NOISE_SPEED_CPUS)
                continue;
            ref->cpus[ref->n++].cpu = p->cpu[i];
        }
        ref->cpus[k].ns[ref->cpus[k].next] = p->ns[i];
        if (ref->cpus[k].fastest <= 0 || p->ns[i] < ref->cpus[k].fastest)
            ref->cpus[k].fastest = p->ns[i];
        ref->cpus[k].next = (ref->cpus[k].next + 1) % AP_NOISE_SPEED_KEEP;
        if (ref->cpus[k].kept < AP_NOISE_SPEED_KEEP)
            ref->cpus[k].kept++;
    }
}

int64_t ap_noise_speed_usual(const struct ap_noise_speed_ref *ref, int cpu)
{
    for (int k = 0; k < ref->n; k++) {
        if (ref->cpus[k].cpu != cpu)
            continue;
        int kept = ref->cpus[k].kept;
        int64_t t[AP_NOISE_SPEED_KEEP];
        memcpy(t, ref->cpus[k].ns, (size_t)kept * sizeof(t[0]));
        qsort(t, (size_t)kept, sizeof(t[0]), cmp_i64);
        return kept < 4 ? t[0] : t[kept / 4];
    }
    return 0;
}

int64_t ap_noise_speed_fastest(const struct ap_noise_speed_ref *ref, int cpu)
{
    for (int k = 0; k < ref->n; k++)
        if (ref->cpus[k].cpu == cpu)
            return ref->cpus[k].fastest;
    return 0;
}

int ap_noise_speed_rebase(struct ap_noise_speed_ref *ref, int cpu, const int64_t *ns, int n)
{
    if (n < 1 || n > AP_NOISE_SPEED_KEEP)
        return -1;
    for (int k = 0; k < ref->n; k++) {
        if (ref->cpus[k].cpu != cpu)
            continue;
        memcpy(ref->cpus[k].ns, ns, (size_t)n * sizeof(ns[0]));
        ref->cpus[k].kept = n;
        ref->cpus[k].next = n % AP_NOISE_SPEED_KEEP;
        return 0;
    }
    return -1;
}

int ap_noise_speed_level(const int64_t *ns, int n, int64_t fastest, int64_t *level_ns)
{
    if (n < 4 || n > AP_NOISE_SPEED_KEEP || fastest <= 0)
        return 0;
    int64_t t[AP_NOISE_SPEED_KEEP];
    memcpy(t, ns, (size_t)n * sizeof(t[0]));
    qsort(t, (size_t)n, sizeof(t[0]), cmp_i64);
    int64_t q1 = t[n / 4], q3 = t[n - 1 - n / 4], med = t[n / 2];
    if (q1 <= 0 || (double)q3 > (double)q1 * (1 + AP_NOISE_STEADY_PCT / 100) ||
        (double)med > (double)fastest * (1 + AP_NOISE_STATE_PCT / 100))
        return 0;
    *level_ns = med;
    return 1;
}

double ap_noise_speed_slowdown(const struct ap_noise_speed *before,
                               const struct ap_noise_speed *after, struct ap_noise_speed_ref *ref,
                               int *cpu, int64_t *ns, int64_t *usual_ns)
{
    double worst = 0;
    int worst_cpu = before->n > 0 ? before->cpu[0] : -1;
    int64_t worst_ns = before->n > 0 ? before->ns[0] : 0, worst_usual = 0;
    for (int i = 0; i < before->n; i++) {
        int c = before->cpu[i];
        int64_t usual = ap_noise_speed_usual(ref, c);
        if (c == worst_cpu)
            worst_usual = usual;
        for (int j = 0; j < after->n; j++) {
            if (after->cpu[j] != c || usual <= 0)
                continue;
            int64_t t = before->ns[i] < after->ns[j] ? before->ns[i] : after->ns[j];
            double pct = 100.0 * ((double)t / (double)usual - 1);
            if (pct > worst) {
                worst = pct;
                worst_cpu = c;
                worst_ns = t;
                worst_usual = usual;
            }
        }
    }
    speed_keep(ref, before);
    speed_keep(ref, after);
    if (cpu != NULL)
        *cpu = worst_cpu;
    if (ns != NULL)
        *ns = worst_ns;
    if (usual_ns != NULL)
        *usual_ns = worst_usual;
    return worst;
}

int ap_noise_speed_judge(double pct, int cpu, int64_t ns, int64_t usual_ns, double threshold,
                         char *why, size_t len)
{
    int slow = threshold > 0 && pct > threshold;
    if (why == NULL || len == 0)
        return slow;
    if (slow)
        snprintf(why, len,
                 "CPU %d ran a fixed loop %.1f %% slower than its usual time in this bench "
                 "before and after the run (%.2f ms against %.2f ms, the lower quartile of its "
                 "last probes; more than %g %%): the hypervisor ran something else on it "
                 "without reporting steal, a sibling on the host was busy, or its clock dropped",
                 cpu, pct, (double)ns / 1e6, (double)usual_ns / 1e6, threshold);
    else
        snprintf(why, len, "CPU %d ran a fixed loop %.1f %% slower than its usual time", cpu, pct);
    return slow;
}

/* ---- The caches' share ------------------------------------------------------------------- */

int ap_noise_chase(int cpu, int probes, int gap_ms, double *ns, ap_error **err)
{
    size_t lines = AP_NOISE_CHASE_BYTES / 64;
    cleanup_free uint32_t *order = malloc(lines * sizeof(*order));
    cleanup_free char *buf = aligned_alloc(64, AP_NOISE_CHASE_BYTES);
    if (order == NULL || buf == NULL)
        return ap_error_make(err, ENOMEM, "timing the caches: %u bytes", AP_NOISE_CHASE_BYTES);
    /* One random cycle through every line (Fisher-Yates with a fixed xorshift seed), so that
     * no prefetcher guesses the next one. */
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < lines; i++)
        order[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t j = (size_t)(x % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < lines; i++)
        *(void **)(buf + (size_t)order[i] * 64) = buf + (size_t)order[(i + 1) % lines] * 64;
    struct ap_cpuset home, one = {{0}};
    if (cpu < 0 || cpu >= AP_CPUSET_MAX)
        return ap_error_make(err, EINVAL, "timing the caches: no CPU %d", cpu);
    ap_cpuset_add(&one, cpu);
    if (ap_cpuset_pin(&one, &home, err) < 0)
        return ap_error_wrap(err, "timing the caches of CPU %d", cpu);
    void *p = buf;
    for (int k = 0; k < probes; k++) {
        if (k > 0 && gap_ms > 0)
            nanosleep(&(struct timespec){gap_ms / 1000, (long)(gap_ms % 1000) * 1000000}, NULL);
        for (size_t i = 0; i < lines; i++)
            p = *(void **)p;
        int64_t t0 = ap_clock_ns(CLOCK_THREAD_CPUTIME_ID);
        for (size_t i = 0; i < lines; i++) {
            p = *(void **)p;
            __asm__ volatile("" : "+r"(p));
        }
        ns[k] = (double)(ap_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / (double)lines;
    }
    probe_sink = (uint64_t)(uintptr_t)p;
    if (ap_cpuset_pin(&home, NULL, err) < 0)
        return ap_error_wrap(err, "timing the caches: moving back");
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ap_noise_chase_judge(const double *ns, int n, double factor, char *why, size_t len)
{
    if (n < 2) {
        if (why != NULL && len > 0)
            snprintf(why, len, "too few chases to judge (%d)", n);
        return 0;
    }
    double *s = malloc((size_t)n * sizeof(*s));
    if (s == NULL)
        return 0;
    memcpy(s, ns, (size_t)n * sizeof(*s));
    qsort(s, (size_t)n, sizeof(*s), cmp_double);
    double lo = s[0], hi = s[n - 2], med = ap_stats_quantile(s, (size_t)n, 0.5);
    free(s);
    int shared = lo > 0 && hi > factor * lo;
    if (why != NULL && len > 0) {
        if (shared)
            snprintf(why, len,
                     "the machine's caches were shared: a pointer chase through %u MiB took "
                     "%.1f-%.1f ns a step (median %.1f over %d chases; more than %gx apart): "
                     "another tenant of the host evicts them, which slows memory-heavy work "
                     "and which the noise guard cannot see, so such figures may not repeat "
                     "(their CV says how far they did not)",
                     AP_NOISE_CHASE_BYTES >> 20, lo, hi, med, n, factor);
        else
            snprintf(why, len,
                     "a pointer chase through %u MiB took %.1f-%.1f ns a step (median %.1f over "
                     "%d chases)",
                     AP_NOISE_CHASE_BYTES >> 20, lo, hi, med, n);
    }
    return shared;
}

size_t ap_noise_latency_values(const cJSON *ml, const char *key, double *out, size_t max)
{
    size_t n = 0;
    const cJSON *c, *v;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ml, "calibrations"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(c, key);
        if (cJSON_IsNumber(k) && k->valuedouble > 0 && n < max)
            out[n++] = k->valuedouble;
        const cJSON *list = cJSON_IsArray(k) ? k : NULL;
        cJSON_ArrayForEach(v, list)
        {
            if (cJSON_IsNumber(v) && v->valuedouble > 0 && n < max)
                out[n++] = v->valuedouble;
        }
    }
    return n;
}
