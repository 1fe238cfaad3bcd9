#include "charts.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "svg.h"

const char *const ap_report_chart_ids[AP_REPORT_CHARTS] = {
    "chart-claims", "chart-cpu",  "chart-http",   "chart-latency",
    "chart-memory", "chart-size", "chart-startup"};

/* Which figures of the results a chart draws: the measurements whose id starts with prefix; a
 * row per label that row() gives; either one metric with a series per name that series()
 * gives, or a series per metric of metrics (named by names). Values are multiplied by scale
 * (bytes to MB, seconds to ms). */
struct pick {
    const char *prefix, *metric;
    void (*row)(const cJSON *m, char *buf, size_t len);
    void (*series)(const cJSON *m, char *buf, size_t len);
    const char *const *metrics, *const *names;
    size_t nmetrics;
    double scale;
};

static const cJSON *params(const cJSON *m)
{
    return cJSON_GetObjectItemCaseSensitive(m, "params");
}

/* Adds the figure of metric in m as series s of row r. */
static void add(struct ap_svg_chart *c, long r, int s, const cJSON *m, const char *metric,
                double scale)
{
    double median, lo, hi;
    if (r >= 0 && s >= 0 && ap_report_figure(m, metric, &median, &lo, &hi))
        ap_svg_set(c, r, s, median * scale, lo * scale, hi * scale);
}

static int collect(struct ap_svg_chart *c, const cJSON *results, const struct pick *p)
{
    const cJSON *m;
    for (size_t k = 0; k < p->nmetrics; k++)
        if (ap_svg_series(c, p->names[k]) < 0)
            return -1;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(results, "measurements"))
    {
        const char *id = ap_report_string(m, "id");
        if (strncmp(id, p->prefix, strlen(p->prefix)) != 0)
            continue;
        char label[256], name[128];
        p->row(m, label, sizeof(label));
        /* Merged results of several machine types hold each figure once per machine: a row
         * each. */
        const char *machine = ap_report_string(m, "machine");
        size_t used = strlen(label);
        if (*machine != '\0' && used < sizeof(label))
            snprintf(label + used, sizeof(label) - used, " on %s", machine);
        long r = ap_svg_row(c, label);
        if (r < 0)
            return -1;
        if (p->series != NULL) {
            p->series(m, name, sizeof(name));
            add(c, r, ap_svg_series(c, name), m, p->metric, p->scale);
        }
        for (size_t k = 0; k < p->nmetrics; k++)
            add(c, r, (int)k, m, p->metrics[k], p->scale);
    }
    return 0;
}

static void cpu_row(const cJSON *m, char *buf, size_t len)
{
    char n[32];
    snprintf(buf, len, "%s (N = %s)", ap_report_string(m, "workload"),
             ap_report_exact(n, sizeof(n), ap_report_number(params(m), "n")));
}

static void image(const cJSON *m, char *buf, size_t len)
{
    snprintf(buf, len, "%s", ap_report_string(m, "image"));
}

static void workload(const cJSON *m, char *buf, size_t len)
{
    snprintf(buf, len, "%s", ap_report_string(m, "workload"));
}

static void connections(const cJSON *m, char *buf, size_t len)
{
    snprintf(buf, len, "%.0f connections", ap_report_number(params(m), "connections"));
}

static void rate_row(const cJSON *m, char *buf, size_t len)
{
    double median, lo, hi;
    int sustained = !ap_report_figure(m, "sustained", &median, &lo, &hi) || median > 0;
    snprintf(buf, len, "%s at %.0f req/s%s", ap_report_string(m, "workload"),
             ap_report_number(params(m), "rate"),
             sustained ? "" : ": not sustained, no percentiles");
}

/* startup/<how>/<image>/<program>: a row per image and program, a series per how. */
static void startup_row(const cJSON *m, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", ap_report_string(m, "image"), ap_report_string(m, "workload"));
}

static void startup_how(const cJSON *m, char *buf, size_t len)
{
    const char *id = ap_report_string(m, "id") + strlen("startup/");
    size_t n = strcspn(id, "/");
    snprintf(buf, len, "%.*s", (int)n, id);
}

static const char *const latency_metrics[] = {"p50_ms", "p90_ms", "p99_ms", "p999_ms"};
static const char *const latency_names[] = {"p50", "p90", "p99", "p99.9"};
static const char *const memory_metrics[] = {"idle_pss_bytes", "steady_pss_bytes"};
static const char *const memory_names[] = {"idle", "under load, 1,000 connections"};

static const struct {
    const char *title, *axis, *desc;
    struct pick pick;
} figures[] = {
    {"CPU tasks: Go against each Python image",
     "wall time, seconds",
     "Wall time from exec to exit of each Benchmarks Game task at the run's N, per image: the "
     "median of the runs in seconds, whiskers the 95 % order-statistic interval of the median "
     "(none where n is too small for one).",
     {"cpu/", "wall_s", cpu_row, image, NULL, NULL, 0, 1}},
    {"HTTP throughput per framework",
     "requests per second",
     "Requests per second of each JSON server (http suite, closed loop, keep-alive HTTP/1.1) at "
     "each number of connections: the median of the windows, whiskers the 95 % order-statistic "
     "interval of the median (none where n is too small for one).",
     {"http/", "rps", workload, connections, NULL, NULL, 0, 1}},
    {"Latency percentiles per rate",
     "latency, milliseconds",
     "Latency percentiles (p50, p90, p99, p99.9) of each JSON server at each constant offered "
     "rate (latency suite, open loop, from each request's intended send time), in "
     "milliseconds: the median over the windows, whiskers its 95 % order-statistic interval "
     "(none where n is too small). A rate the server could not sustain has no percentile.",
     {"latency/", NULL, rate_row, NULL, latency_metrics, latency_names, 4, 1}},
    {"Server memory, idle and under 1,000 connections",
     "memory (PSS), MB",
     "Proportional set size (PSS, summed over the server's processes) of each JSON server idle "
     "once ready, and in steady state while holding 1,000 keep-alive connections under load "
     "(memory suite), in MB (10^6 bytes): the median, whiskers its 95 % order-statistic "
     "interval (none where n is too small).",
     {"memory/server/", NULL, workload, NULL, memory_metrics, memory_names, 2, 1e-6}},
    {"Startup: process and fresh sandbox",
     "wall time, milliseconds",
     "Wall time from start to exit of a trivial program in each image (startup suite): as a "
     "bare process (fork, chroot, exec, wait) and in a fresh sandbox (namespaces, read-only "
     "root, cgroup, seccomp), in milliseconds: the median, whiskers its 95 % order-statistic "
     "interval (none where n is too small).",
     {"startup/", "wall_s", startup_row, startup_how, NULL, NULL, 0, 1e3}},
};

/* The published reference of a claim: its value, the geometric mean of a range's ends or a
 * bound; NAN when it publishes no number. */
static double reference(const cJSON *published)
{
    const char *keys[] = {"value", "upper", "lower"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!isnan(ap_report_number(published, keys[i])))
            return ap_report_number(published, keys[i]);
    return sqrt(ap_report_number(published, "low") * ap_report_number(published, "high"));
}

/* A band edge of the verdict: a null edge is open (0 below, infinity above); a verdict with no
 * band (not comparable, not reproducible) has none. */
static double edge(const cJSON *band, const char *key, double open)
{
    double v = ap_report_number(band, key);
    return !cJSON_IsObject(band) ? NAN : isnan(v) ? open : v;
}

static int claims_chart(struct ap_svg_chart *c, const cJSON *verdicts)
{
    const cJSON *v;
    if (ap_svg_series(c, "published, with the band the claim must lie in") < 0 ||
        ap_svg_series(c, "measured, with its interval") < 0)
        return -1;
    c->band = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        const cJSON *measured = cJSON_GetObjectItemCaseSensitive(v, "measured");
        const cJSON *band = cJSON_GetObjectItemCaseSensitive(v, "band");
        double ref = reference(cJSON_GetObjectItemCaseSensitive(v, "published"));
        double value = ap_report_number(measured, "value");
        if (!(ref > 0) || isnan(value))
            continue;
        char label[512], pub[128], meas[160], claim[300];
        const char *word = ap_report_string(v, "verdict");
        snprintf(
            label, sizeof(label), "%s %s: %s (published %s, measured %s)",
            ap_report_verdict_symbol(word), word, ap_report_claim_label(claim, sizeof(claim), v),
            ap_report_published(pub, sizeof(pub), v), ap_report_measured(meas, sizeof(meas), v));
        long r = ap_svg_row(c, label);
        if (r < 0)
            return -1;
        int point =
            isnan(ap_report_number(cJSON_GetObjectItemCaseSensitive(v, "published"), "low"));
        ap_svg_set(c, r, 0, point ? 1 : NAN, edge(band, "low", 0) / ref,
                   edge(band, "high", INFINITY) / ref);
        ap_svg_set(c, r, 1, value / ref, ap_report_number(measured, "low") / ref,
                   ap_report_number(measured, "high") / ref);
    }
    return 0;
}

static int size_chart(struct ap_svg_chart *c, const cJSON *results)
{
    static const char *const metrics[] = {"compressed_bytes", "unpacked_bytes"};
    static const char *const sides[] = {"go", "python"};
    static const char *const names[] = {"Go, compressed", "Python, compressed", "Go, unpacked",
                                        "Python, unpacked"};
    const cJSON *pair;
    for (size_t i = 0; i < 4; i++)
        if (ap_svg_series(c, names[i]) < 0)
            return -1;
    cJSON_ArrayForEach(pair, cJSON_GetObjectItemCaseSensitive(results, "size_pairs"))
    {
        char label[256];
        snprintf(label, sizeof(label), "%s: %s against %s", ap_report_string(pair, "label"),
                 ap_report_string(pair, "go"), ap_report_string(pair, "python"));
        long r = ap_svg_row(c, label);
        if (r < 0)
            return -1;
        for (int m = 0; m < 2; m++)
            for (int s = 0; s < 2; s++) {
                double b =
                    ap_report_number(cJSON_GetObjectItemCaseSensitive(pair, metrics[m]), sides[s]);
                ap_svg_set(c, r, 2 * m + s, b / 1e6, NAN, NAN);
            }
    }
    return 0;
}

/* The chart inside a <figure> with its description as the caption. */
static int figure(FILE *out, struct ap_svg_chart *c, const char *id, int built)
{
    int rc = built;
    if (rc == 0) {
        fputs("<figure>\n", out);
        rc = ap_svg_write(out, c, id);
        fputs("<figcaption>", out);
        ap_report_html_text(out, c->desc);
        fputs("</figcaption>\n</figure>\n", out);
    }
    ap_svg_chart_free(c);
    return rc;
}

int ap_report_charts(FILE *out, const cJSON *verdicts, const cJSON *results)
{
    struct ap_svg_chart c;
    ap_svg_chart_init(
        &c, "Measured against published, per claim",
        "Every claim with a measured number: its measured value (a median, or a ratio of "
        "medians, as its verdict says) divided by its published value (a range: by the "
        "geometric mean of its ends), whiskers the claim's interval (its coverage is in the "
        "verdict table); the grey band is where the measured interval must lie for the claim to "
        "hold (the published value and its tolerance). Orderings and text claims have no "
        "number and are not drawn.",
        "measured / published (1 = as published)");
    if (figure(out, &c, ap_report_chart_ids[0], claims_chart(&c, verdicts)) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
        if (i == 4) {
            ap_svg_chart_init(
                &c, "Image sizes per service pair",
                "Size of each pair's Go and Python images (results' size pairs): the OCI "
                "layers compressed and the root file system unpacked, in MB (10^6 bytes). Sizes "
                "are counted exactly: one value, no interval.",
                "size, MB");
            if (figure(out, &c, ap_report_chart_ids[5], size_chart(&c, results)) < 0)
                return -1;
        }
        ap_svg_chart_init(&c, figures[i].title, figures[i].desc, figures[i].axis);
        if (figure(out, &c, ap_report_chart_ids[i < 4 ? i + 1 : i + 2],
                   collect(&c, results, &figures[i].pick)) < 0)
            return -1;
    }
    return 0;
}
