/* appliance load [OPTIONS] URL: HTTP load against a server, in its network namespace. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../bench/acceptors.h"
#include "../bench/loadgen.h"
#include "../bench/status.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/cpuset.h"
#include "../core/json.h"
#include "cmd.h"

#define MAX_CPUS 1024

static void load_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance load [--netns PATH | --pid PID] [-c CONNECTIONS] [-t THREADS]\n"
            "                      [-d SECONDS] [--warmup SECONDS] [--rate REQ_PER_S]\n"
            "                      [--cpuset LIST] [--timeout SECONDS] [-n REQUESTS]\n"
            "                      [--wait SECONDS [--workers N]] [--json] URL\n"
            "\n"
            "Sends HTTP/1.1 GET requests to URL (http://IP[:PORT]/PATH, a literal IPv4 address\n"
            "or [IPv6]; no names are resolved) over keep-alive connections and checks every\n"
            "response: status 200, Content-Type application/json, Server and Date headers, body\n"
            "{\"message\":\"Hello, World!\"}. Prints requests/s, latency percentiles, error and\n"
            "invalid-response counts and the client's own CPU use.\n"
            "\n"
            "Options:\n"
            "  --netns PATH        run the load in this network namespace (e.g. /run/netns/x)\n"
            "  --pid PID           ... in the one of process PID (/proc/PID/ns/net), e.g. the\n"
            "                      sandbox pid 1 that 'appliance run --pid-file' writes down\n"
            "  -c, --connections N connections, spread over the threads (default 10)\n"
            "  -t, --threads N     load threads, one epoll loop each (default 1)\n"
            "  -d, --duration S    measured seconds (default 10; 500ms, 2s and 1m work too)\n"
            "  --warmup S          load before the measurement, not counted (default 0)\n"
            "  --rate R            open loop: R requests/s in all, latency from each request's\n"
            "                      intended send time (default: closed loop, each connection\n"
            "                      sends its next request as soon as the response is complete)\n"
            "  --cpuset LIST       pin load thread i to the i-th CPU of LIST (e.g. 1, 2-3);\n"
            "                      pinned threads poll 15 us before sleeping (not on the\n"
            "                      server's CPUs, then)\n"
            "  --spin US           poll US microseconds before sleeping (default 15 with\n"
            "                      --cpuset, else 0); counted as idle in the CPU share\n"
            "  --timeout S         per request (default 2)\n"
            "  -n, --requests N    send at most N requests in all\n"
            "  --wait S            first wait up to S seconds for a valid answer (probes every 100 "
            "us)\n"
            "  --workers N         ... and, with --pid, until N processes of the server wait for\n"
            "                      connections on URL's port through epoll (every worker of a\n"
            "                      gunicorn or uvicorn server up, not only the first to answer)\n"
            "  --json              print the result as one JSON object on stdout\n"
            "\n"
            "A load thread on CPU 90 %% of the time or more is flagged: the figures then measure\n"
            "the client, not the server. In open loop a rate is 'not sustained' when fewer than\n"
            "95 %% of the target were answered or the schedule fell behind.\n"
            "\n"
            "Requests unanswered when the window closes (in flight, or due and never sent)\n"
            "count in the latency as the time they had waited from their intended send time,\n"
            "so no percentile leaves out the slowest. The status is the first of errors (any\n"
            "timeout, invalid response, connect, read or write error), no-valid-response,\n"
            "unsustained, client-saturated that applies, else ok; without a valid response or\n"
            "with the rate not sustained there is no latency figure (null in --json).\n"
            "\n"
            "Exit status: 0 when the load ran (even with errors counted), 1 when it could not\n"
            "run, 2 for a usage error.\n");
}

enum {
    O_NETNS = 256,
    O_PID,
    O_WARMUP,
    O_RATE,
    O_CPUSET,
    O_TIMEOUT,
    O_WAIT,
    O_WORKERS,
    O_JSON,
    O_SPIN
};

static const struct option opts[] = {{"netns", required_argument, NULL, O_NETNS},
                                     {"pid", required_argument, NULL, O_PID},
                                     {"connections", required_argument, NULL, 'c'},
                                     {"threads", required_argument, NULL, 't'},
                                     {"duration", required_argument, NULL, 'd'},
                                     {"warmup", required_argument, NULL, O_WARMUP},
                                     {"rate", required_argument, NULL, O_RATE},
                                     {"cpuset", required_argument, NULL, O_CPUSET},
                                     {"timeout", required_argument, NULL, O_TIMEOUT},
                                     {"requests", required_argument, NULL, 'n'},
                                     {"wait", required_argument, NULL, O_WAIT},
                                     {"workers", required_argument, NULL, O_WORKERS},
                                     {"json", no_argument, NULL, O_JSON},
                                     {"spin", required_argument, NULL, O_SPIN},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

static atomic_int stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || s[0] == '-' || v == 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "412.3us", "1.234ms", "1.20s". */
static const char *fmt_ns(double ns, char *buf, size_t size)
{
    if (ns < 1e3)
        snprintf(buf, size, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(buf, size, "%.1fus", ns / 1e3);
    else if (ns < 1e9)
        snprintf(buf, size, "%.3fms", ns / 1e6);
    else
        snprintf(buf, size, "%.3fs", ns / 1e9);
    return buf;
}

static const struct {
    const char *name, *json;
    double p;
} percentiles[] = {
    {"p50", "p50", 50}, {"p90", "p90", 90},       {"p95", "p95", 95},
    {"p99", "p99", 99}, {"p99.9", "p99_9", 99.9}, {"max", "max", 100},
};

static void print_text(const char *url, const struct ap_load_spec *spec,
                       const struct ap_load_result *r)
{
    char a[32], b[32];
    enum ap_status status = ap_status_pick(ap_status_of_load(r));
    printf("load: %s for %.2f s (warmup %.2f s), %s, %u thread%s, %u connection%s\n", url,
           spec->duration_s, spec->warmup_s,
           spec->mode == AP_LOAD_OPEN ? "open loop" : "closed loop", spec->threads,
           spec->threads == 1 ? "" : "s", spec->connections, spec->connections == 1 ? "" : "s");
    printf("  status    %s\n", ap_status_name(status));
    if (ap_status_load_has_latency(r)) {
        printf("  latency ");
        for (size_t i = 0; i < AP_ARRAY_SIZE(percentiles); i++)
            printf("  %s %s", percentiles[i].name,
                   fmt_ns((double)ap_hist_percentile(&r->latency, percentiles[i].p), a, sizeof(a)));
        printf("  (mean %s, stdev %s; %llu unanswered at the end counted as their wait)\n",
               fmt_ns(ap_hist_mean(&r->latency), a, sizeof(a)),
               fmt_ns(ap_hist_stddev(&r->latency), b, sizeof(b)),
               (unsigned long long)(r->in_flight + r->backlog));
    } else {
        printf("  latency   none: %s\n",
               r->requests == 0 ? "no valid response" : "the rate was not sustained");
    }
    printf("  requests  %llu valid in %.3f s: %.1f req/s, %.1f MB read, %llu connects\n",
           (unsigned long long)r->requests, r->duration_s, r->requests_per_s,
           (double)r->bytes_read / 1e6, (unsigned long long)r->connects);
    printf("  errors    connect %llu, read %llu, write %llu, timeout %llu\n",
           (unsigned long long)r->connect_errors, (unsigned long long)r->read_errors,
           (unsigned long long)r->write_errors, (unsigned long long)r->timeouts);
    printf("  invalid   status %llu, headers %llu, body %llu\n",
           (unsigned long long)r->invalid_status, (unsigned long long)r->invalid_headers,
           (unsigned long long)r->invalid_body);
    printf("  client    busiest load thread on CPU %.1f %% of the time (%.3f s CPU in all)\n",
           r->cpu_share * 100, (double)r->cpu_ns / 1e9);
    if (spec->mode == AP_LOAD_OPEN)
        printf("  open loop target %.1f req/s, achieved %.1f req/s, backlog %llu, max lag %s: "
               "%s\n",
               r->target_rate, r->achieved_rate, (unsigned long long)r->backlog,
               fmt_ns((double)r->max_lag_ns, a, sizeof(a)),
               r->sustained ? "sustained" : "NOT sustained");
    if (r->stopped)
        printf("  stopped early by a signal\n");
    if (r->saturated)
        printf("WARNING: a load thread was on CPU %.0f %% of the time: these figures measure "
               "the client, not the server (add threads or CPUs)\n",
               r->cpu_share * 100);
}

static void add_figure(cJSON *o, const char *key, int figures, double v)
{
    if (figures)
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void print_json(const char *url, const struct ap_load_spec *spec,
                       const struct ap_load_result *r)
{
    cleanup_cjson cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "url", url);
    cJSON_AddStringToObject(j, "mode", spec->mode == AP_LOAD_OPEN ? "open" : "closed");
    cJSON_AddNumberToObject(j, "threads", spec->threads);
    cJSON_AddNumberToObject(j, "connections", spec->connections);
    cJSON_AddNumberToObject(j, "warmup_s", spec->warmup_s);
    cJSON_AddNumberToObject(j, "duration_s", r->duration_s);
    cJSON_AddNumberToObject(j, "requests", (double)r->requests);
    cJSON_AddNumberToObject(j, "responses", (double)r->responses);
    cJSON_AddNumberToObject(j, "requests_per_s", r->requests_per_s);
    cJSON_AddNumberToObject(j, "bytes_read", (double)r->bytes_read);
    cJSON_AddNumberToObject(j, "connects", (double)r->connects);
    cJSON *e = cJSON_AddObjectToObject(j, "errors");
    cJSON_AddNumberToObject(e, "connect", (double)r->connect_errors);
    cJSON_AddNumberToObject(e, "read", (double)r->read_errors);
    cJSON_AddNumberToObject(e, "write", (double)r->write_errors);
    cJSON_AddNumberToObject(e, "timeout", (double)r->timeouts);
    cJSON *inv = cJSON_AddObjectToObject(j, "invalid");
    cJSON_AddNumberToObject(inv, "status", (double)r->invalid_status);
    cJSON_AddNumberToObject(inv, "headers", (double)r->invalid_headers);
    cJSON_AddNumberToObject(inv, "body", (double)r->invalid_body);
    cJSON_AddStringToObject(j, "status", ap_status_name(ap_status_pick(ap_status_of_load(r))));
    cJSON_AddNumberToObject(j, "in_flight", (double)r->in_flight);
    /* The latency figures are null when there are none to give (no valid response, or an
     * open-loop rate not sustained): never 0 ms. count and censored are there whatever. */
    int figures = ap_status_load_has_latency(r);
    cJSON *lat = cJSON_AddObjectToObject(j, "latency_ns");
    cJSON_AddNumberToObject(lat, "count", (double)ap_hist_count(&r->latency));
    cJSON_AddNumberToObject(lat, "censored", (double)(r->in_flight + r->backlog));
    add_figure(lat, "min", figures, (double)ap_hist_min(&r->latency));
    add_figure(lat, "mean", figures, ap_hist_mean(&r->latency));
    add_figure(lat, "stdev", figures, ap_hist_stddev(&r->latency));
    for (size_t i = 0; i < AP_ARRAY_SIZE(percentiles); i++)
        add_figure(lat, percentiles[i].json, figures,
                   (double)ap_hist_percentile(&r->latency, percentiles[i].p));
    /* Nonzero buckets as [lowest ns, highest ns, count], the censored values included: enough
     * to recompute any percentile within the histogram's bound. */
    cJSON *hist = cJSON_AddObjectToObject(j, "histogram");
    cJSON_AddNumberToObject(hist, "sub_buckets", AP_HIST_SUB);
    cJSON *buckets = cJSON_AddArrayToObject(hist, "buckets");
    struct ap_hist_bucket bk;
    size_t pos = 0;
    while (ap_hist_next_bucket(&r->latency, &pos, &bk)) {
        cJSON *row = cJSON_CreateArray();
        cJSON_AddItemToArray(row, cJSON_CreateNumber((double)bk.lo));
        cJSON_AddItemToArray(row, cJSON_CreateNumber((double)bk.hi));
        cJSON_AddItemToArray(row, cJSON_CreateNumber((double)bk.count));
        cJSON_AddItemToArray(buckets, row);
    }
    cJSON *cl = cJSON_AddObjectToObject(j, "client");
    cJSON_AddNumberToObject(cl, "cpu_ns", (double)r->cpu_ns);
    cJSON_AddNumberToObject(cl, "spin_ns", (double)r->spin_ns);
    cJSON_AddNumberToObject(cl, "cpu_share", r->cpu_share);
    cJSON_AddBoolToObject(cl, "saturated", r->saturated);
    cJSON_AddBoolToObject(j, "stopped", r->stopped);
    if (spec->mode == AP_LOAD_OPEN) {
        cJSON *o = cJSON_AddObjectToObject(j, "open_loop");
        cJSON_AddNumberToObject(o, "target_rate", r->target_rate);
        cJSON_AddNumberToObject(o, "achieved_rate", r->achieved_rate);
        cJSON_AddNumberToObject(o, "backlog", (double)r->backlog);
        cJSON_AddNumberToObject(o, "max_lag_ns", (double)r->max_lag_ns);
        cJSON_AddBoolToObject(o, "sustained", r->sustained);
    } else {
        cJSON_AddNullToObject(j, "open_loop");
    }
    char *s = cJSON_PrintUnformatted(j);
    if (s != NULL)
        printf("%s\n", s);
    free(s);
}

/* The processes in the network namespace of process *ctx (a pid_t). */
static int netns_pids(void *ctx, pid_t *pids, size_t max, size_t *n, ap_error **err)
{
    return ap_acceptors_netns_pids(*(pid_t *)ctx, pids, max, n, err);
}

/* The readiness wait: the probe, in the same namespace, stopped early when PID ends; with
 * workers > 1, then until that many of the server's processes wait for connections. */
static int wait_ready(const struct ap_load_url *u, int netns_fd, long pid, double wait_s,
                      int workers, ap_error **err)
{
    cleanup_close int pidfd = -1;
    if (pid > 0)
        pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    struct ap_load_probe_spec ps = {
        .addr = u->addr,
        .port = u->port,
        .path = u->path,
        .netns_fd = netns_fd,
        .deadline_ns = ap_clock_mono_ns() + (int64_t)(wait_s * 1e9),
        .pidfd = pidfd,
    };
    struct ap_load_probe_result pr;
    int64_t t0 = ap_clock_mono_ns();
    if (ap_load_probe(&ps, &pr, err) < 0)
        return ap_error_wrap(err, "--wait");
    fprintf(stderr, "appliance load: first valid answer after %.1f ms (%llu attempts)\n",
            (double)(pr.ok_ns - t0) / 1e6, (unsigned long long)pr.attempts);
    if (workers <= 1)
        return 0;
    pid_t p = (pid_t)pid;
    int64_t all_ns = 0;
    int seen = 0;
    if (ap_acceptors_wait(netns_pids, &p, u->port, workers, ps.deadline_ns, pidfd, &all_ns, &seen,
                          err) < 0)
        return ap_error_wrap(err, "--wait --workers %d", workers);
    fprintf(stderr, "appliance load: %d workers wait for connections after %.1f ms\n", seen,
            (double)(all_ns - t0) / 1e6);
    return 0;
}

/* The options of appliance load; strings point into argv. */
struct load_opts {
    struct ap_load_spec spec; /* all but the URL's parts, the CPUs, the spin and netns_fd */
    const char *url;
    struct ap_load_url u;
    const char *netns;
    long pid;
    int json;
    double wait_s, spin_us; /* spin_us < 0: the default */
    long workers;
    int cpus[MAX_CPUS];
    size_t n_cpus;
};

static int parse_long(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtol(s, &end, 10);
    return end == s || *end != '\0' || errno != 0 ? -1 : 0;
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    *out = strtod(s, &end);
    return end == s || *end != '\0' ? -1 : 0;
}

/* The options that shape the load; -2 when c is none of them. */
static int parse_load_option(int c, const char *arg, struct ap_load_spec *spec)
{
    uint64_t v;
    double r;
    switch (c) {
    case 'c':
        if (parse_count(arg, AP_LOAD_MAX_CONNECTIONS, &v) < 0)
            return ap_cmd_usage("load", "-c takes 1..%d connections, not '%s'",
                                AP_LOAD_MAX_CONNECTIONS, arg);
        spec->connections = (unsigned)v;
        return AP_CMD_CONTINUE;
    case 't':
        if (parse_count(arg, AP_LOAD_MAX_THREADS, &v) < 0)
            return ap_cmd_usage("load", "-t takes 1..%d threads, not '%s'", AP_LOAD_MAX_THREADS,
                                arg);
        spec->threads = (unsigned)v;
        return AP_CMD_CONTINUE;
    case 'd':
        if (ap_cmd_parse_seconds(arg, &spec->duration_s) < 0 || spec->duration_s <= 0 ||
            spec->duration_s > 86400)
            return ap_cmd_usage("load", "-d takes seconds (3, 3s, 500ms), not '%s'", arg);
        return AP_CMD_CONTINUE;
    case O_WARMUP:
        if (ap_cmd_parse_seconds(arg, &spec->warmup_s) < 0 || spec->warmup_s > 86400)
            return ap_cmd_usage("load", "--warmup takes seconds, not '%s'", arg);
        return AP_CMD_CONTINUE;
    case O_RATE:
        if (parse_double(arg, &r) < 0 || !(r > 0) || r > 1e9)
            return ap_cmd_usage("load", "--rate takes requests per second, not '%s'", arg);
        spec->rate = r;
        spec->mode = AP_LOAD_OPEN;
        return AP_CMD_CONTINUE;
    case O_TIMEOUT:
        if (ap_cmd_parse_seconds(arg, &spec->timeout_s) < 0 || spec->timeout_s <= 0 ||
            spec->timeout_s > 3600)
            return ap_cmd_usage("load", "--timeout takes seconds, not '%s'", arg);
        return AP_CMD_CONTINUE;
    case 'n':
        if (parse_count(arg, UINT64_MAX, &spec->max_requests) < 0)
            return ap_cmd_usage("load", "-n takes a positive count, not '%s'", arg);
        return AP_CMD_CONTINUE;
    default:
        return -2;
    }
}

/* One option of appliance load; -2 when c is none. */
static int parse_option(int c, const char *arg, struct load_opts *o)
{
    int rc = parse_load_option(c, arg, &o->spec);
    if (rc != -2)
        return rc;
    ap_error *err = NULL;
    switch (c) {
    case O_NETNS:
        o->netns = arg;
        return AP_CMD_CONTINUE;
    case O_PID:
        if (parse_long(arg, &o->pid) < 0 || o->pid <= 0)
            return ap_cmd_usage("load", "--pid takes a process id, not '%s'", arg);
        return AP_CMD_CONTINUE;
    case O_CPUSET:
        if (ap_cpuset_parse_array(arg, o->cpus, MAX_CPUS, &o->n_cpus, &err) < 0) {
            rc = ap_cmd_usage("load", "--cpuset: %s", err->msg);
            ap_error_release(&err);
            return rc;
        }
        return AP_CMD_CONTINUE;
    case O_WAIT:
        if (ap_cmd_parse_seconds(arg, &o->wait_s) < 0 || o->wait_s > 3600)
            return ap_cmd_usage("load", "--wait takes seconds, not '%s'", arg);
        return AP_CMD_CONTINUE;
    case O_JSON:
        o->json = 1;
        return AP_CMD_CONTINUE;
    case O_SPIN:
        if (parse_double(arg, &o->spin_us) < 0 || !(o->spin_us >= 0) || o->spin_us > 1e6)
            return ap_cmd_usage("load", "--spin takes microseconds (0..1000000), not '%s'", arg);
        return AP_CMD_CONTINUE;
    case O_WORKERS:
        if (parse_long(arg, &o->workers) < 0 || o->workers < 1 ||
            o->workers > AP_ACCEPTORS_MAX_LISTENERS)
            return ap_cmd_usage("load", "--workers takes a count from 1 to %d, not '%s'",
                                AP_ACCEPTORS_MAX_LISTENERS, arg);
        return AP_CMD_CONTINUE;
    default:
        return -2;
    }
}

/* Parses and checks the options and URL; fills the spec but for netns_fd and stop. */
static int parse_load_opts(struct load_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->spec = (struct ap_load_spec){
        .netns_fd = -1,
        .threads = 1,
        .connections = 10,
        .duration_s = 10,
        .mode = AP_LOAD_CLOSED,
    };
    o->spin_us = -1;
    o->workers = 1;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hc:t:d:n:", opts, NULL)) != -1) {
        if (c == 'h') {
            load_usage(stdout);
            return AP_EXIT_OK;
        }
        int rc = parse_option(c, optarg, o);
        if (rc == -2)
            return ap_cmd_usage("load", "unknown or incomplete option '%s'", argv[optind - 1]);
        if (rc != AP_CMD_CONTINUE)
            return rc;
    }
    if (optind != argc - 1)
        return ap_cmd_usage("load", optind >= argc ? "expected URL" : "one URL only");
    o->url = argv[optind];
    if (o->netns != NULL && o->pid > 0)
        return ap_cmd_usage("load", "give --netns or --pid, not both");
    if (o->workers > 1 && (o->pid <= 0 || o->wait_s <= 0))
        return ap_cmd_usage("load", "--workers needs --pid (whose namespace holds the server's "
                                    "processes) and --wait");
    if (o->spec.connections < o->spec.threads)
        return ap_cmd_usage("load", "-c (%u) must be at least -t (%u)", o->spec.connections,
                            o->spec.threads);
    ap_error *err = NULL;
    if (ap_load_parse_url(o->url, &o->u, &err) < 0) {
        int rc = ap_cmd_usage("load", "%s", err->msg);
        ap_error_release(&err);
        return rc;
    }
    struct ap_load_spec *spec = &o->spec;
    spec->addr = o->u.addr;
    spec->port = o->u.port;
    spec->path = o->u.path;
    if (o->n_cpus > 0) {
        spec->cpus = o->cpus;
        spec->n_cpus = o->n_cpus;
    }
    spec->spin_ns = o->spin_us >= 0 ? (int64_t)(o->spin_us * 1000)
                    : o->n_cpus > 0 ? AP_LOAD_SPIN_NS
                                    : 0;
    return AP_CMD_CONTINUE;
}

/* Opens the network namespace of --netns, or of --pid; -1 (none) without either. */
static int open_netns(const struct load_opts *o, int *fd, ap_error **err)
{
    *fd = -1;
    const char *netns = o->netns;
    char ns_path[64];
    if (o->pid > 0) {
        snprintf(ns_path, sizeof(ns_path), "/proc/%ld/ns/net", o->pid);
        netns = ns_path;
    }
    if (netns == NULL)
        return 0;
    *fd = open(netns, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        ap_error_make(err, errno, "opening the network namespace %s", netns);
        if (o->pid > 0)
            ap_error_hint(err, "is process %ld still running?", o->pid);
        return -1;
    }
    return 0;
}

/* Runs the load; SIGINT or SIGTERM ends it early, and the result so far is still given. */
static int run_load(const struct ap_load_spec *spec, struct ap_load_result *res, ap_error **err)
{
    struct ap_load_spec s = *spec;
    atomic_store(&stop_flag, 0);
    s.stop = &stop_flag;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = ap_load_run(&s, res, err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

int ap_cmd_load(struct ap_settings *set, int argc, char **argv)
{
    (void)set;
    ap_error *err = NULL;
    cleanup_free struct load_opts *o = malloc(sizeof(*o));
    if (o == NULL) {
        ap_error_make(&err, ENOMEM, "allocating the options");
        return ap_cmd_fail(&err);
    }
    int rc = parse_load_opts(o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    cleanup_close int ns_fd = -1;
    if (open_netns(o, &ns_fd, &err) < 0)
        return ap_cmd_fail(&err);
    o->spec.netns_fd = ns_fd;
    if (o->wait_s > 0 && wait_ready(&o->u, ns_fd, o->pid, o->wait_s, (int)o->workers, &err) < 0)
        return ap_cmd_fail(&err);
    cleanup_free struct ap_load_result *res = malloc(sizeof(*res));
    if (res == NULL ? ap_error_make(&err, ENOMEM, "allocating the result") < 0
                    : run_load(&o->spec, res, &err) < 0) {
        ap_error_wrap(&err, "load on %s", o->url);
        return ap_cmd_fail(&err);
    }
    if (o->json)
        print_json(o->url, &o->spec, res);
    else
        print_text(o->url, &o->spec, res);
    return AP_EXIT_OK;
}
