/* The JSON servers: service start (exec to the first valid 200), memory idle and under 1,000
 * keep-alive connections, closed-loop throughput at TechEmpower's concurrency levels and
 * open-loop latency at constant rates. Each server runs in a sandbox of its own, pinned to
 * the workload CPUs, and our load generator joins its network namespace from the load CPUs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/cpuset.h"
#include "acceptors.h"
#include "hist.h"
#include "loadgen.h"
#include "procmem.h"
#include "server.h"
#include "runner.h"
#include "status.h"
#include "../core/clock.h"

#define MEM_SAMPLES 4096

/* The measurement <prefix><server><tail> of suite for each of the n servers into ms: the
 * server's parameters, then a copy of each of extra's. */
static void server_measurements(struct ap_bench *b, struct ap_bench_server *sv, size_t n,
                                const char *suite, const char *prefix, const char *tail,
                                const cJSON *extra, cJSON **ms)
{
    for (size_t i = 0; i < n; i++) {
        /* Fits: the prefixes are under 20 bytes, a server's name and a tail under 64. */
        char id[160];
        snprintf(id, sizeof(id), "%s%s%s", prefix, sv[i].name, tail);
        cJSON *p = ap_bench_server_params(&sv[i], b);
        const cJSON *it;
        cJSON_ArrayForEach(it, extra)
        {
            cJSON_AddItemToObject(p, it->string, cJSON_Duplicate(it, 1));
        }
        ms[i] = ap_bench_measurement(b, id, suite, sv[i].name, sv[i].img->name, p);
    }
}

/* A run of server s for its measurement m in round r of repeat (ctx: the caller's). */
typedef int (*server_run_fn)(struct ap_bench *b, struct ap_bench_server *s, cJSON *m, int r,
                             int repeat, const void *ctx, ap_error **err);

/* repeat rounds, every one of the n servers once a round, the order rotating so drift hits
 * every server alike: run(sv[i], ms[i]) unless ms[i] has its sample of metric for the round
 * already (a resumed run). The results are saved after every round, or with save_each after
 * every run. -2 when interrupted. */
static int server_rounds(struct ap_bench *b, struct ap_bench_server *sv, size_t n, cJSON **ms,
                         const char *metric, int repeat, int save_each, server_run_fn run,
                         const void *ctx, ap_error **err)
{
    for (int r = 0; r < repeat; r++) {
        for (size_t k = 0; k < n; k++) {
            size_t i = (k + (size_t)r) % n;
            if (ap_bench_count(ms[i], metric) > r)
                continue;
            if (ap_bench_interrupted)
                return -2;
            int rc = run(b, &sv[i], ms[i], r, repeat, ctx, err);
            if (rc < 0 || (save_each && (rc = ap_bench_save(b, err)) < 0))
                return rc;
        }
        int rc = save_each ? 0 : ap_bench_save(b, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- service start --------------------------------------------------------------------------- */

/* One service start of s (round r of repeat): its time to ready, from its exec and from the
 * sandbox's creation, and its memory then, into m. */
static int service_once(struct ap_bench *b, struct ap_bench_server *s, cJSON *m, int r, int repeat,
                        const void *ctx, ap_error **err)
{
    (void)ctx;
    char what[160];
    snprintf(what, sizeof(what), "service start %s %d/%d", s->name, r + 1, repeat);
    ap_bench_progress(b, 1.5, what);
    if (ap_bench_server_start(s, err) < 0)
        return -1;
    int64_t ready = s->t_ready_ns - s->t_exec_ns;
    int64_t container = s->t_ready_ns - s->t_call_ns;
    int64_t ws = 0, mem = ap_bench_server_memory(s, &ws);
    if (ap_bench_server_stop(s, err) < 0)
        return -1;
    ap_bench_add(m, "ready_s", "s", (double)ready / 1e9);
    ap_bench_add(m, "container_ready_s", "s", (double)container / 1e9);
    if (mem >= 0)
        ap_bench_add(m, "memory_at_ready_bytes", "B", (double)mem);
    if (s->run != NULL) {
        ap_bench_add_run(m, s->run);
        s->run = NULL;
    }
    return 0;
}

static int service_start(struct ap_bench *b, struct ap_bench_server *sv, size_t n, ap_error **err)
{
    int repeat = (int)ap_bench_num(b, "service_repeat", 2);
    cleanup_cjson cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "how",
                            "ready_s: the server's exec to its first valid HTTP 200 "
                            "with every worker process waiting for connections on its "
                            "port (epoll); container_ready_s: from the sandbox's "
                            "creation; memory read once all are ready");
    cJSON *ms[AP_BENCH_MAX_SERVERS];
    server_measurements(b, sv, n, "startup", "startup/service/", "", p, ms);
    return server_rounds(b, sv, n, ms, "ready_s", repeat, 0, service_once, NULL, err);
}

/* ---- load ------------------------------------------------------------------------------------ */

/* The latency percentiles of a load, flagged with its conditions; none when it has no latency
 * figure (no valid response, or an open-loop rate not sustained): an empty histogram is never
 * 0 ms, and a backlog's latency is not the server's. */
static void add_latency(cJSON *m, const struct ap_load_result *r, unsigned flags)
{
    static const struct {
        const char *name;
        double p;
    } ps[] = {{"p50_ms", 50}, {"p90_ms", 90},    {"p95_ms", 95},
              {"p99_ms", 99}, {"p999_ms", 99.9}, {"max_ms", 100}};
    if (!ap_status_load_has_latency(r))
        return;
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
        ap_bench_add_flagged(m, ps[k].name, "ms",
                             (double)ap_hist_percentile(&r->latency, ps[k].p) / 1e6, flags);
}

/* The warnings a load's conditions call for, in m. */
static void load_warnings(struct ap_bench *b, cJSON *m, const struct ap_load_result *r, double secs)
{
    uint64_t bad = r->invalid_status + r->invalid_headers + r->invalid_body;
    uint64_t errs = r->connect_errors + r->read_errors + r->write_errors + r->timeouts;
    if (r->requests == 0)
        ap_bench_warn(b, m, "no valid response in the %.1f s window: no latency figure", secs);
    if (bad + errs > 0)
        ap_bench_warn(b, m,
                      "%llu invalid responses and %llu errors or timeouts were counted (see "
                      "runs)",
                      (unsigned long long)bad, (unsigned long long)errs);
    if (r->target_rate > 0 && !r->sustained)
        ap_bench_warn(b, m,
                      "the server did not sustain %.0f req/s (achieved %.0f): no latency "
                      "percentile, they would be those of the generator's backlog",
                      r->target_rate, r->achieved_rate);
    if (r->saturated)
        ap_bench_warn(b, m,
                      "the load generator used %.0f%% of its CPU: the figure may measure the "
                      "client, not the server",
                      r->cpu_share * 100);
}

static cJSON *load_json(const struct ap_load_result *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "valid", (double)r->requests);
    cJSON_AddNumberToObject(j, "responses", (double)r->responses);
    cJSON_AddNumberToObject(j, "connects", (double)r->connects);
    cJSON_AddNumberToObject(j, "connect_errors", (double)r->connect_errors);
    cJSON_AddNumberToObject(j, "read_errors", (double)r->read_errors);
    cJSON_AddNumberToObject(j, "write_errors", (double)r->write_errors);
    cJSON_AddNumberToObject(j, "timeouts", (double)r->timeouts);
    cJSON_AddNumberToObject(j, "invalid_status", (double)r->invalid_status);
    cJSON_AddNumberToObject(j, "invalid_headers", (double)r->invalid_headers);
    cJSON_AddNumberToObject(j, "invalid_body", (double)r->invalid_body);
    cJSON_AddNumberToObject(j, "duration_s", r->duration_s);
    cJSON_AddNumberToObject(j, "rps", r->requests_per_s);
    cJSON_AddNumberToObject(j, "client_cpu_ns", (double)r->cpu_ns);
    cJSON_AddNumberToObject(j, "client_cpu_share", r->cpu_share);
    cJSON_AddBoolToObject(j, "client_saturated", r->saturated);
    cJSON_AddStringToObject(j, "status", ap_status_name(ap_status_pick(ap_status_of_load(r))));
    /* Requests unanswered at the window's end, in the histogram as the time they had waited. */
    cJSON_AddNumberToObject(j, "in_flight", (double)r->in_flight);
    if (r->target_rate > 0) {
        cJSON_AddNumberToObject(j, "target_rate", r->target_rate);
        cJSON_AddNumberToObject(j, "achieved_rate", r->achieved_rate);
        cJSON_AddNumberToObject(j, "backlog", (double)r->backlog);
        cJSON_AddNumberToObject(j, "max_lag_ns", (double)r->max_lag_ns);
        cJSON_AddBoolToObject(j, "sustained", r->sustained);
    }
    /* The latency histogram, compactly: [lo_ns, hi_ns, count] per nonzero bucket. */
    cJSON *h = cJSON_AddArrayToObject(j, "latency_histogram_ns");
    size_t pos = 0;
    struct ap_hist_bucket bk;
    while (ap_hist_next_bucket(&r->latency, &pos, &bk)) {
        cJSON *t = cJSON_CreateArray();
        cJSON_AddItemToArray(t, cJSON_CreateNumber((double)bk.lo));
        cJSON_AddItemToArray(t, cJSON_CreateNumber((double)bk.hi));
        cJSON_AddItemToArray(t, cJSON_CreateNumber((double)bk.count));
        cJSON_AddItemToArray(h, t);
    }
    return j;
}

/* How many load threads a load of conns connections gets: one per load CPU, at most one per
 * connection. */
static int load_threads(const struct ap_bench *b, int conns)
{
    struct ap_cpuset set;
    int n = ap_cpuset_parse(b->load_cpus, &set, NULL) == 0 ? ap_cpuset_count(&set) : 1;
    return n < 1 ? 1 : n > conns ? conns : n;
}

/* What the noise guard saw on the server's CPUs over a load: the interval (when have), their
 * busy time less the server's own, and the speed probes before and after it (speed owned). */
struct load_noise {
    int have;
    struct ap_noise_report nr;
    cJSON *speed;
    int slow;
    char slow_why[400];
};

/* One load against s; the server's CPU over it from its cgroup, and the noise on the server's
 * CPUs over it into *ln (ln->speed to be released by the caller). */
static int load_once(struct ap_bench *b, struct ap_bench_server *s, int conns, double seconds,
                     double warmup, double rate, struct ap_load_result *r, double *server_cores,
                     struct load_noise *ln, ap_error **err)
{
    int cpus[64];
    size_t n_cpus = 0;
    if (ap_cpuset_parse_array(b->load_cpus, cpus, 64, &n_cpus, err) < 0)
        return -1;
    struct ap_load_spec spec = {
        .addr = "127.0.0.1",
        .port = (uint16_t)s->port,
        .path = s->path,
        .netns_fd = s->netns_fd,
        /* One load thread per load CPU, each pinned to its own: on a larger machine one
         * thread would saturate before the server does. */
        .threads = (unsigned)load_threads(b, conns),
        .cpus = cpus,
        .n_cpus = n_cpus,
        .connections = (unsigned)conns,
        .duration_s = seconds,
        .warmup_s = warmup,
        .mode = rate > 0 ? AP_LOAD_OPEN : AP_LOAD_CLOSED,
        /* Poll briefly before sleeping, as appliance load does when pinned: it spares the
         * server a cross-CPU wake-up per response (counted as idle in the client's share). */
        .spin_ns = AP_LOAD_SPIN_NS,
        .rate = rate,
        .timeout_s = 2,
        /* Closed loop: a bound on the loop besides time, far above any rate these servers
         * reach. Open loop: the schedule itself bounds it (and a bound would stop the
         * generator from judging the rate). */
        .max_requests = rate > 0 ? 0 : (uint64_t)((seconds + warmup) * 2e6),
    };
    memset(ln, 0, sizeof(*ln));
    struct ap_noise_snapshot snap;
    struct ap_noise_speed before;
    int probed = ap_bench_speed_before(b->wl_cpus, &before) == 0;
    int watching = ap_noise_begin(b->wl_cpus, &snap, NULL) == 0;
    int64_t c0 = ap_bench_server_cpu_ns(s), t0 = ap_clock_mono_ns();
    if (ap_load_run(&spec, r, err) < 0) {
        ap_error_wrap(err, "loading %s", s->name);
        return -1;
    }
    int64_t c1 = ap_bench_server_cpu_ns(s), t1 = ap_clock_mono_ns();
    int own = c0 >= 0 && c1 >= c0;
    *server_cores = own && t1 > t0 ? (double)(c1 - c0) / (double)(t1 - t0) : -1;
    /* Without the server's CPU time nothing on its CPUs can be told apart from it. */
    ln->have = watching && own && ap_noise_end(&snap, c1 - c0, &ln->nr, NULL) == 0;
    ln->speed = cJSON_CreateObject();
    ln->slow = ap_bench_speed_after(b, b->wl_cpus, &before, probed, ln->speed, ln->slow_why,
                                    sizeof(ln->slow_why)) == 1;
    if (s->finished) {
        cJSON_Delete(ln->speed);
        ln->speed = NULL;
        ap_error_make(err, 0, "server %s ended during the load", s->name);
        return -1;
    }
    return 0;
}

/* A load judged by the noise guard (ap_bench_judge_run): a noisy one is run again, twice,
 * then refused unless --allow-noisy keeps it. *run gets its record (noise and verdict in it),
 * *flags the conditions of its samples. */
static int load_judged(struct ap_bench *b, struct ap_bench_server *s, int conns, double seconds,
                       double warmup, double rate, struct ap_load_result *r, double *cores,
                       cJSON **run, unsigned *flags, ap_error **err)
{
    char why[512] = "", what[160];
    snprintf(what, sizeof(what), "loading %s", s->name);
    int tries = 0, rebased = 0;
    for (;;) {
        struct load_noise ln = {0};
        if (load_once(b, s, conns, seconds, warmup, rate, r, cores, &ln, err) < 0)
            return -1;
        *run = load_json(r);
        *flags = ap_status_of_load(r);
        if (!ln.have) {
            cJSON_Delete(ln.speed);
            return 0;
        }
        int noisy = ap_bench_judge_run(b, *run, &ln.nr, ln.speed, ln.slow ? ln.slow_why : NULL, why,
                                       sizeof(why));
        if (noisy == 0)
            return 0;
        /* A CPU that settled at a new speed: the load again, as a first try. */
        int next = ap_bench_noisy_next(b, what, b->wl_cpus, why, noisy == 2, &tries, &rebased, err);
        if (next != 0) {
            cJSON_Delete(*run);
            *run = NULL;
            if (next < 0)
                return -1;
            continue;
        }
        cJSON_AddBoolToObject(*run, "noisy", 1);
        *flags |= AP_STATUS_BIT(AP_STATUS_NOISY);
        return 0;
    }
}

/* A load of a server: closed loop (rate 0) or open loop at rate, over secs after warm. */
struct load_params {
    int conns;
    double secs, warm, rate;
};

/* One load of s (round r of repeat) judged by the noise guard, into m with its run and
 * warnings: closed loop, its rate, latency, the server's CPU and the errors; open loop, its
 * latency, achieved rate, the server's CPU and whether the rate was sustained. */
static int load_run(struct ap_bench *b, struct ap_bench_server *s, cJSON *m, int r, int repeat,
                    const void *ctx, ap_error **err)
{
    const struct load_params *lp = ctx;
    char what[160];
    if (lp->rate > 0)
        snprintf(what, sizeof(what), "latency %s %.0f req/s %d/%d", s->name, lp->rate, r + 1,
                 repeat);
    else
        snprintf(what, sizeof(what), "http %s c=%d %d/%d", s->name, lp->conns, r + 1, repeat);
    ap_bench_progress(b, 0, what);
    struct ap_load_result *res = calloc(1, sizeof(*res));
    if (res == NULL) {
        ap_error_make(err, ENOMEM, "load result");
        return -1;
    }
    double cores = 0;
    unsigned fl = 0;
    cJSON *run = NULL;
    int rc =
        load_judged(b, s, lp->conns, lp->secs, lp->warm, lp->rate, res, &cores, &run, &fl, err);
    if (rc == 0 && lp->rate > 0) {
        add_latency(m, res, fl);
        ap_bench_add_flagged(m, "achieved_rps", "req/s", res->achieved_rate, fl);
        ap_bench_add_flagged(m, "server_cpu_cores", "CPUs", cores, fl);
        ap_bench_add_flagged(m, "sustained", "bool", res->sustained ? 1 : 0, fl);
    } else if (rc == 0) {
        ap_bench_add_flagged(m, "rps", "req/s", res->requests_per_s, fl);
        add_latency(m, res, fl);
        ap_bench_add_flagged(m, "server_cpu_cores", "CPUs", cores, fl);
        ap_bench_add_flagged(m, "errors", "count",
                             (double)(res->connect_errors + res->read_errors + res->write_errors +
                                      res->timeouts + res->invalid_status + res->invalid_headers +
                                      res->invalid_body),
                             fl);
    }
    if (rc == 0) {
        ap_bench_add_run(m, run);
        load_warnings(b, m, res, lp->secs);
    }
    free(res);
    ap_bench_progress(b, lp->secs + lp->warm, what);
    return rc;
}

static int http_levels(struct ap_bench *b, struct ap_bench_server *sv, size_t n, ap_error **err)
{
    const cJSON *levels = cJSON_GetObjectItemCaseSensitive(b->profile, "http_connections");
    int repeat = (int)ap_bench_num(b, "http_repeat", 1);
    double secs = ap_bench_num(b, "http_seconds", 1),
           warm = ap_bench_num(b, "http_warmup_seconds", 0.3);
    const cJSON *lv;
    cJSON_ArrayForEach(lv, levels)
    {
        int c = lv->valueint;
        char group[AP_BENCH_GROUP_ID_MAX];
        snprintf(group, sizeof(group), "http/c%d", c);
        if (!ap_bench_in_shard(b, group))
            continue;
        cleanup_cjson cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "connections", c);
        cJSON_AddNumberToObject(p, "load_threads", load_threads(b, c));
        cJSON_AddNumberToObject(p, "seconds", secs);
        cJSON_AddNumberToObject(p, "warmup_seconds", warm);
        cJSON_AddStringToObject(p, "mode", "closed loop, keep-alive HTTP/1.1");
        char tail[32];
        snprintf(tail, sizeof(tail), "/c%d", c);
        cJSON *ms[AP_BENCH_MAX_SERVERS];
        server_measurements(b, sv, n, "http", "http/", tail, p, ms);
        struct load_params lp = {.conns = c, .secs = secs, .warm = warm};
        int rc = server_rounds(b, sv, n, ms, "rps", repeat, 0, load_run, &lp, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Each rate: latency_repeat rounds, every server once a round, the order rotating. */
static int latency_rates(struct ap_bench *b, struct ap_bench_server *sv, size_t n, ap_error **err)
{
    const cJSON *rates = cJSON_GetObjectItemCaseSensitive(b->profile, "latency_rates");
    int conns = (int)ap_bench_num(b, "latency_connections", 64);
    int repeat = (int)ap_bench_num(b, "latency_repeat", 1);
    double secs = ap_bench_num(b, "latency_seconds", 1);
    const cJSON *rv;
    cJSON_ArrayForEach(rv, rates)
    {
        double rate = rv->valuedouble;
        char group[AP_BENCH_GROUP_ID_MAX];
        snprintf(group, sizeof(group), "latency/r%.0f", rate);
        if (!ap_bench_in_shard(b, group))
            continue;
        cleanup_cjson cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "rate", rate);
        cJSON_AddNumberToObject(p, "connections", conns);
        cJSON_AddNumberToObject(p, "seconds", secs);
        cJSON_AddStringToObject(p, "mode",
                                "open loop at a constant rate; latency from each "
                                "request's intended send time");
        char tail[64];
        snprintf(tail, sizeof(tail), "/r%.0f", rate);
        cJSON *ms[AP_BENCH_MAX_SERVERS];
        server_measurements(b, sv, n, "latency", "latency/", tail, p, ms);
        /* Every run records its achieved rate; not every run has percentiles. */
        struct load_params lp = {.conns = conns, .secs = secs, .warm = 0.5, .rate = rate};
        int rc = server_rounds(b, sv, n, ms, "achieved_rps", repeat, 1, load_run, &lp, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct sampler {
    struct ap_bench_server *s;
    volatile int stop;
    int64_t samples[MEM_SAMPLES], ws[MEM_SAMPLES], pss[MEM_SAMPLES];
    size_t n;
};

static void *sampler_main(void *arg)
{
    struct sampler *sp = arg;
    for (int i = 0; i < MEM_SAMPLES && !__atomic_load_n(&sp->stop, __ATOMIC_ACQUIRE); i++) {
        int64_t ws = 0, v = ap_bench_server_memory(sp->s, &ws);
        struct ap_procmem pm;
        if (v >= 0 && ap_bench_server_procmem(sp->s, &pm) == 0 && sp->n < MEM_SAMPLES) {
            sp->samples[sp->n] = v;
            sp->ws[sp->n] = ws;
            sp->pss[sp->n] = pm.pss_bytes;
            sp->n++;
        }
        usleep(50000);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static cJSON *memory_measurement(struct ap_bench *b, struct ap_bench_server *s, int conns,
                                 double secs)
{
    char id[160]; /* fits: a server's name is under 64 bytes (server.c) */
    snprintf(id, sizeof(id), "memory/server/%s", s->name);
    cJSON *p = ap_bench_server_params(s, b);
    cJSON_AddNumberToObject(p, "connections", conns);
    cJSON_AddNumberToObject(p, "seconds", secs);
    cJSON_AddStringToObject(p, "how",
                            "cgroup memory (current, page cache included; working "
                            "set = current - inactive file): idle once ready and "
                            "settled, before any load; then sampled every 50 ms "
                            "under the load, which runs after the other suites'");
    return ap_bench_measurement(b, id, "memory", s->name, s->img->name, p);
}

/* Memory of each server idle: ready, settled, before any load. */
static int memory_idle(struct ap_bench *b, struct ap_bench_server *sv, size_t n, ap_error **err)
{
    int conns = (int)ap_bench_num(b, "memory_connections", 1000);
    double secs = ap_bench_num(b, "memory_seconds", 2);
    for (size_t i = 0; i < n; i++) {
        cJSON *m = memory_measurement(b, &sv[i], conns, secs);
        if (ap_bench_count(m, "idle_pss_bytes") > 0)
            continue;
        int64_t ws = 0, idle = ap_bench_server_memory(&sv[i], &ws);
        struct ap_procmem pm;
        if (ap_bench_server_procmem(&sv[i], &pm) == 0) {
            ap_bench_add(m, "idle_pss_bytes", "B", (double)pm.pss_bytes);
            ap_bench_add(m, "idle_uss_bytes", "B", (double)pm.uss_bytes);
            ap_bench_add(m, "idle_rss_bytes", "B", (double)pm.rss_bytes);
        }
        if (idle >= 0) {
            ap_bench_add(m, "idle_bytes", "B", (double)idle);
            ap_bench_add(m, "idle_working_set_bytes", "B", (double)ws);
        }
    }
    return ap_bench_save(b, err);
}

/* Memory while holding memory_connections keep-alive connections under closed-loop load: peak
 * and steady (the median of the second half's samples). Last, so a server that queues a
 * backlog of those connections does not slow the other suites' figures. */
static int memory_servers(struct ap_bench *b, struct ap_bench_server *sv, size_t n, ap_error **err)
{
    int conns = (int)ap_bench_num(b, "memory_connections", 1000);
    double secs = ap_bench_num(b, "memory_seconds", 2);
    for (size_t i = 0; i < n; i++) {
        cJSON *m = memory_measurement(b, &sv[i], conns, secs);
        if (ap_bench_count(m, "steady_pss_bytes") > 0)
            continue;
        if (ap_bench_interrupted)
            return -2;
        char what[160];
        snprintf(what, sizeof(what), "memory %s, %d connections", sv[i].name, conns);
        ap_bench_progress(b, 0, what);
        struct sampler *sp = calloc(1, sizeof(*sp));
        struct ap_load_result *res = calloc(1, sizeof(*res));
        if (sp == NULL || res == NULL) {
            free(sp);
            free(res);
            ap_error_make(err, ENOMEM, "memory sampler");
            return -1;
        }
        sp->s = &sv[i];
        pthread_t th;
        int have_thread = pthread_create(&th, NULL, sampler_main, sp) == 0;
        double cores = 0;
        struct load_noise ln = {0};
        /* No warmup: every one of the connections is made, and counted, in the window. */
        int rc = load_once(b, &sv[i], conns, secs, 0, 0, res, &cores, &ln, err);
        __atomic_store_n(&sp->stop, 1, __ATOMIC_RELEASE);
        if (have_thread)
            pthread_join(th, NULL);
        if (rc == 0 && sp->n > 0) {
            /* The figures under load carry the load's conditions (the idle ones none), noisy
             * among them: memory is not a time, but the rate beside it is, and the load is not
             * run again (the memory sampled under it would change). */
            unsigned fl = ap_status_of_load(res);
            cJSON *run = load_json(res);
            char why[512];
            if (ln.have && ap_bench_judge_run(b, run, &ln.nr, steal_pointer(&ln.speed),
                                              ln.slow ? ln.slow_why : NULL, why, sizeof(why)) > 0) {
                cJSON_AddBoolToObject(run, "noisy", 1);
                fl |= AP_STATUS_BIT(AP_STATUS_NOISY);
                b->noisy_samples++;
            }
            int64_t peak = 0, peak_ws = 0, peak_pss = 0;
            for (size_t k = 0; k < sp->n; k++) {
                peak = sp->samples[k] > peak ? sp->samples[k] : peak;
                peak_ws = sp->ws[k] > peak_ws ? sp->ws[k] : peak_ws;
                peak_pss = sp->pss[k] > peak_pss ? sp->pss[k] : peak_pss;
            }
            size_t half = sp->n / 2;
            qsort(sp->samples + half, sp->n - half, sizeof(int64_t), cmp_i64);
            qsort(sp->ws + half, sp->n - half, sizeof(int64_t), cmp_i64);
            qsort(sp->pss + half, sp->n - half, sizeof(int64_t), cmp_i64);
            ap_bench_add_flagged(m, "steady_pss_bytes", "B",
                                 (double)sp->pss[half + (sp->n - half) / 2], fl);
            ap_bench_add_flagged(m, "loaded_peak_pss_bytes", "B", (double)peak_pss, fl);
            ap_bench_add_flagged(m, "loaded_peak_bytes", "B", (double)peak, fl);
            ap_bench_add_flagged(m, "steady_bytes", "B",
                                 (double)sp->samples[half + (sp->n - half) / 2], fl);
            ap_bench_add_flagged(m, "steady_working_set_bytes", "B",
                                 (double)sp->ws[half + (sp->n - half) / 2], fl);
            ap_bench_add_flagged(m, "loaded_peak_working_set_bytes", "B", (double)peak_ws, fl);
            ap_bench_add_flagged(m, "rps", "req/s", res->requests_per_s, fl);
            cJSON_AddNumberToObject(run, "memory_samples", (double)sp->n);
            ap_bench_add_run(m, run);
            if (res->connect_errors > 0)
                ap_bench_warn(b, m, "%llu connections of %d could not be made",
                              (unsigned long long)res->connect_errors, conns);
        }
        cJSON_Delete(ln.speed); /* NULL once the run's record took it */
        free(sp);
        free(res);
        ap_bench_progress(b, secs + 2, what);
        if (rc < 0)
            return rc;
        if ((rc = ap_bench_save(b, err)) < 0)
            return rc;
    }
    return 0;
}

/* Whether this run loads the servers at some level or rate of the profile (its shard's). */
static int loads_in_shard(struct ap_bench *b, unsigned suites)
{
    const cJSON *v;
    char group[AP_BENCH_GROUP_ID_MAX];
    if (suites & AP_SUITE_HTTP)
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(b->profile, "http_connections"))
        {
            snprintf(group, sizeof(group), "http/c%d", v->valueint);
            if (cJSON_IsNumber(v) && ap_bench_in_shard(b, group))
                return 1;
        }
    if (suites & AP_SUITE_LATENCY)
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(b->profile, "latency_rates"))
        {
            snprintf(group, sizeof(group), "latency/r%.0f", v->valuedouble);
            if (cJSON_IsNumber(v) && ap_bench_in_shard(b, group))
                return 1;
        }
    return 0;
}

int ap_bench_http_groups(struct ap_bench *b, unsigned suites, struct ap_bench_groups *g,
                         ap_error **err)
{
    double servers = (double)ap_bench_server_count(b);
    if (servers == 0)
        return 0;
    /* Each group of loads pays for starting every server and letting it settle (1 s), as it
     * does when it is the only one of its shard. */
    if ((suites & AP_SUITE_STARTUP) &&
        ap_bench_groups_add(g, ap_bench_num(b, "service_repeat", 2) * servers * 1.5, err,
                            "startup/service") < 0)
        return -1;
    const cJSON *v;
    if (suites & AP_SUITE_HTTP) {
        /* Each window warms its own fresh connections. */
        double per =
            ap_bench_num(b, "http_repeat", 1) *
            (ap_bench_num(b, "http_seconds", 1) + ap_bench_num(b, "http_warmup_seconds", 0.3));
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(b->profile, "http_connections"))
        {
            if (cJSON_IsNumber(v) &&
                ap_bench_groups_add(g, servers * (per + 1), err, "http/c%d", v->valueint) < 0)
                return -1;
        }
    }
    if (suites & AP_SUITE_LATENCY) {
        double per =
            ap_bench_num(b, "latency_repeat", 1) * (ap_bench_num(b, "latency_seconds", 1) + 0.5);
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(b->profile, "latency_rates"))
        {
            if (cJSON_IsNumber(v) && ap_bench_groups_add(g, servers * (per + 1), err,
                                                         "latency/r%.0f", v->valuedouble) < 0)
                return -1;
        }
    }
    if (suites & AP_SUITE_MEMORY)
        return ap_bench_groups_add(g, servers * (ap_bench_num(b, "memory_seconds", 2) + 3), err,
                                   "memory/servers");
    return 0;
}

int ap_bench_suite_http(struct ap_bench *b, unsigned suites, ap_error **err)
{
    struct ap_bench_server *sv = calloc(AP_BENCH_MAX_SERVERS, sizeof(*sv));
    if (sv == NULL) {
        ap_error_make(err, ENOMEM, "servers");
        return -1;
    }
    size_t n = 0;
    int rc = ap_bench_servers_list(b, sv, &n, err);
    /* What this run (its shard) measures of the servers: a server with nothing to measure is
     * not started. */
    int service = (suites & AP_SUITE_STARTUP) && ap_bench_in_shard(b, "startup/service");
    int memory = (suites & AP_SUITE_MEMORY) && ap_bench_in_shard(b, "memory/servers");
    int loads = memory || loads_in_shard(b, suites);
    if (rc == 0 && n > 0 && (service || loads))
        rc = ap_bench_block_begin(b, "the servers' start", b->wl_cpus, err);
    if (rc == 0 && n > 0 && service)
        rc = service_start(b, sv, n, err);
    /* One server at a time, the others stopped: no idle server's timers and heartbeats share
     * the CPUs of the one measured. Each is started, left to settle, measured idle, under the
     * closed-loop levels, at the open-loop rates and last holding many connections (a backlog
     * it drains then would slow what came after), and stopped. */
    for (size_t i = 0; rc == 0 && i < n && loads; i++) {
        struct ap_bench_server *one = &sv[i];
        char what[160];
        snprintf(what, sizeof(what), "starting %s", one->name);
        ap_bench_progress(b, 0, what);
        /* A block per server: a quiet check on its CPUs before it starts, every load against
         * it judged, and their sum recorded. */
        char block[96];
        snprintf(block, sizeof(block), "the server %s", one->name);
        rc = ap_bench_block_begin(b, block, b->wl_cpus, err);
        if (rc == 0)
            rc = ap_bench_server_start(one, err);
        if (rc == 0)
            usleep(1000000); /* let the server settle before its idle memory is read */
        if (rc == 0 && memory)
            rc = memory_idle(b, one, 1, err);
        if (rc == 0 && (suites & AP_SUITE_HTTP))
            rc = http_levels(b, one, 1, err);
        if (rc == 0 && (suites & AP_SUITE_LATENCY))
            rc = latency_rates(b, one, 1, err);
        if (rc == 0 && memory)
            rc = memory_servers(b, one, 1, err);
        ap_bench_servers_stop(one, 1, rc == 0 ? err : NULL);
        if (rc == 0 && *err != NULL)
            rc = -1;
        ap_bench_block_end(b);
    }
    free(sv);
    if (rc == 0)
        rc = ap_bench_save(b, err);
    return rc;
}
