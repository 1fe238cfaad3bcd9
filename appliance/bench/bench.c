/* ap_bench_run: the plan, the images, the environment, the suites in order, and what the
 * run leaves: the results file, a CSV export and a summary table. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/log.h"
#include "../core/table.h"
#include "../image/oci.h"
#include "pairs.h"
#include "runner.h"
#include "stats.h"
#include "status.h"

static const struct {
    const char *name;
    unsigned bit;
} suite_names[] = {
    {"size", AP_SUITE_SIZE},       {"startup", AP_SUITE_STARTUP}, {"memory", AP_SUITE_MEMORY},
    {"cpu", AP_SUITE_CPU},         {"http", AP_SUITE_HTTP},       {"latency", AP_SUITE_LATENCY},
    {"threads", AP_SUITE_THREADS}, {"lang", AP_SUITE_LANG},
};

const char *ap_bench_suite_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
        if (suite_names[i].bit == bit)
            return suite_names[i].name;
    return NULL;
}

unsigned ap_bench_suite_bit(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
        if (strlen(suite_names[i].name) == len && strncmp(suite_names[i].name, name, len) == 0)
            return suite_names[i].bit;
    return 0;
}

int ap_bench_parse_suites(const char *list, unsigned *out, ap_error **err)
{
    *out = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        unsigned bit = 0;
        if (strcmp(t, "all") == 0)
            bit = AP_SUITE_ALL;
        for (size_t i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
            if (strcmp(t, suite_names[i].name) == 0)
                bit = suite_names[i].bit;
        if (bit == 0) {
            ap_error_make(err, EINVAL, "unknown suite '%s'", t);
            ap_error_hint(err, "the suites are size, startup, memory, cpu, http, latency, "
                               "threads, lang (or all)");
            return -1;
        }
        *out |= bit;
    }
    if (*out == 0) {
        ap_error_make(err, EINVAL, "no suite named in '%s'", list);
        return -1;
    }
    return 0;
}

/* The names of the suites in the set, in the order of suite_names. */
static cJSON *suites_json(unsigned suites)
{
    cJSON *s = cJSON_CreateArray();
    for (size_t i = 0; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
        if (suites & suite_names[i].bit)
            cJSON_AddItemToArray(s, cJSON_CreateString(suite_names[i].name));
    return s;
}

static void on_signal(int sig)
{
    (void)sig;
    ap_bench_interrupted = 1;
}

void ap_bench_iso_now(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- images ---------------------------------------------------------------------------------- */

static int image_wanted(const struct ap_bench_opts *o, const char *name)
{
    if (o->n_images == 0)
        return 1;
    for (size_t i = 0; i < o->n_images; i++)
        if (strcmp(o->images[i], name) == 0)
            return 1;
    return 0;
}

int ap_bench_wanted(const struct ap_bench *b, const char *name)
{
    const char *only = b->o->only;
    if (only == NULL)
        return 1;
    for (const char *w = only; *w != '\0';) {
        size_t len = strcspn(w, ",");
        if (len > 0 && memmem(name, strlen(name), w, len) != NULL)
            return 1;
        w += len + (w[len] == ',');
    }
    return 0;
}

/* The image name into the run; names_only: its name and language alone (a dry run). */
static int load_image(struct ap_bench *b, const char *name, int names_only, ap_error **err)
{
    if (ap_bench_image(b, name) != NULL || !image_wanted(b->o, name))
        return 0;
    if (b->n_images == AP_BENCH_MAX_IMAGES) {
        ap_error_make(err, E2BIG, "too many images");
        return -1;
    }
    struct ap_bench_image *img = &b->images[b->n_images];
    memset(img, 0, sizeof(*img));
    /* The measurement ids are built from it: its bound bounds theirs. */
    if (strlen(name) >= sizeof(img->name))
        return ap_error_make(err, ENAMETOOLONG, "image %.64s...: its name is longer than %zu bytes",
                             name, sizeof(img->name) - 1);
    snprintf(img->name, sizeof(img->name), "%s", name);
    snprintf(img->language, sizeof(img->language), "%s", ap_bench_image_language(name));
    if (names_only) {
        b->n_images++;
        return 0;
    }
    if (ap_fs_path(img->layout, sizeof(img->layout), "%s/%s", b->o->out_dir, name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the layout of image %s under %.64s...", name,
                             b->o->out_dir);
    struct ap_oci_info info;
    if (ap_oci_read(img->layout, &info, err) < 0) {
        ap_error_wrap(err, "image %s is not built", name);
        ap_error_hint(err,
                      "build it first: appliance image build %s (make reproduce builds "
                      "every image)",
                      name);
        return -1;
    }
    snprintf(img->digest, sizeof(img->digest), "sha256:%s", info.manifest_digest);
    snprintf(img->lock_sha256, sizeof(img->lock_sha256), "%s%s",
             info.lock_sha256[0] && strncmp(info.lock_sha256, "sha256:", 7) != 0 ? "sha256:" : "",
             info.lock_sha256);
    img->compressed_bytes = info.compressed_bytes;
    img->unpacked_bytes = info.unpacked_bytes;
    img->files = info.files;
    if (ap_oci_rootfs(b->o->cache_dir, img->layout, img->rootfs, sizeof(img->rootfs), err) < 0 ||
        ap_oci_run_read(img->layout, 1, &img->run, err) < 0) {
        ap_error_wrap(err, "image %s", name);
        return -1;
    }
    if (strcmp(img->language, "python") == 0 && img->run.n_argv > 0)
        img->interpreter = img->run.argv[0];
    b->n_images++;
    return 0;
}

static int load_images(struct ap_bench *b, int names_only, ap_error **err)
{
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const char *single[] = {"go", "python_web"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(imgs, single[k]);
        if (cJSON_IsString(v) && load_image(b, v->valuestring, names_only, err) < 0)
            return -1;
    }
    const char *lists[] = {"python", "size"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(imgs, lists[k]))
        {
            if (cJSON_IsString(it) && load_image(b, it->valuestring, names_only, err) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < b->o->n_images; i++)
        if (ap_bench_image(b, b->o->images[i]) == NULL) {
            ap_error_make(err, ENOENT, "--images: %s is not an image the plan measures",
                          b->o->images[i]);
            ap_error_hint(err, "the plan's images are listed in %s/bench.json",
                          b->o->workloads_dir);
            return -1;
        }
    if (b->n_images == 0) {
        ap_error_make(err, ENOENT, "no image to measure");
        return -1;
    }
    return 0;
}

/* ---- CPUs ------------------------------------------------------------------------------------ */

/* The CPUs we may use (online and in our affinity), placed by bench/topology.c: workload
 * and load generator on different physical cores, the threads suite on one CPU per core. A
 * topology sysfs does not give is assumed flat (each CPU a core), which the warnings say. */
static int choose_cpus(struct ap_bench *b, ap_error **err)
{
    struct ap_cpuset allowed, wl, load, mine;
    if (ap_cpuset_online(&allowed, err) < 0)
        return -1;
    if (ap_cpuset_affinity(&mine, NULL) == 0)
        for (size_t i = 0; i < AP_ARRAY_SIZE(allowed.bits); i++)
            allowed.bits[i] &= mine.bits[i];
    if (b->o->workload_cpus != NULL && ap_cpuset_parse(b->o->workload_cpus, &wl, err) < 0)
        return ap_error_wrap(err, "--workload-cpus");
    if (b->o->load_cpus != NULL && ap_cpuset_parse(b->o->load_cpus, &load, err) < 0)
        return ap_error_wrap(err, "--load-cpus");
    b->topo = malloc(sizeof(*b->topo));
    if (b->topo == NULL)
        return ap_error_make(err, ENOMEM, "reading the CPU topology");
    ap_error *e = NULL;
    if (ap_topology_read(AP_TOPOLOGY_SYSFS, &allowed, b->topo, &e) < 0)
        ap_topology_assume_flat(&allowed, e != NULL ? e->msg : "not read", b->topo);
    ap_error_release(&e);
    struct ap_placement *p = &b->placement;
    if (ap_topology_place(b->topo, &allowed, b->o->workload_cpus ? &wl : NULL,
                          b->o->load_cpus ? &load : NULL, p, err) < 0)
        return -1;
    if (ap_cpuset_format(&p->workload, b->wl_cpus, sizeof(b->wl_cpus), err) < 0 ||
        ap_cpuset_format(&p->load, b->load_cpus, sizeof(b->load_cpus), err) < 0 ||
        ap_cpuset_format(&allowed, b->all_cpus, sizeof(b->all_cpus), err) < 0 ||
        ap_cpuset_format(&p->threads, b->threads_cpus, sizeof(b->threads_cpus), err) < 0)
        return -1;
    b->n_wl_cpus = ap_cpuset_count(&p->workload);
    /* The orchestrator (and every thread it starts) stays off the workload's CPUs. */
    if (ap_cpuset_pin(&p->load, NULL, err) < 0)
        return ap_error_wrap(err, "the appliance");
    return 0;
}

/* The placement's warnings, once each, in the run's warnings (on the terminal too); the
 * measurements get theirs from ap_bench_measurement. */
static void placement_warnings(struct ap_bench *b)
{
    cJSON *w = cJSON_GetObjectItemCaseSensitive(b->doc, "warnings");
    const char *texts[] = {b->placement.warning, b->placement.threads_warning};
    for (size_t i = 0; i < AP_ARRAY_SIZE(texts); i++) {
        if (texts[i][0] == '\0' || (i == 1 && !(b->o->suites & AP_SUITE_THREADS)))
            continue;
        int have = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, w)
        {
            have |= cJSON_IsString(it) && strcmp(it->valuestring, texts[i]) == 0;
        }
        if (!have)
            cJSON_AddItemToArray(w, cJSON_CreateString(texts[i]));
        ap_progress_line(&b->progress, "warning: %s", texts[i]);
    }
}

/* ---- CSV and the summary --------------------------------------------------------------------- */

/* The metric a suite's summary shows, and how. A `withheld` metric may be missing from a
 * measurement on purpose (latency percentiles of a load without a latency figure): its row
 * then shows the measurement's status instead of a number. */
static const struct {
    const char *suite, *metric, *label;
    double scale;
    const char *unit;
    int withheld;
} shown[] = {
    {"size", "compressed_bytes", "compressed", 1.0 / (1 << 20), "MiB", 0},
    {"size", "unpacked_bytes", "unpacked", 1.0 / (1 << 20), "MiB", 0},
    {"size", "bytes", "file", 1.0 / (1 << 20), "MiB", 0},
    {"startup", "wall_s", "start to exit", 1000, "ms", 0},
    {"startup", "ready_s", "exec to first 200", 1000, "ms", 0},
    {"startup", "container_ready_s", "sandbox to first 200", 1000, "ms", 0},
    {"cpu", "wall_s", "wall (exec to exit)", 1, "s", 0},
    {"cpu", "cpu_s", "cpu (cgroup)", 1, "s", 0},
    {"memory", "maxrss_bytes", "peak RSS", 1.0 / (1 << 20), "MiB", 0},
    {"memory", "idle_pss_bytes", "idle PSS", 1.0 / (1 << 20), "MiB", 0},
    {"memory", "steady_pss_bytes", "PSS under load", 1.0 / (1 << 20), "MiB", 0},
    {"http", "rps", "req/s", 1, "", 0},
    {"latency", "achieved_rps", "achieved", 1, "req/s", 0},
    {"latency", "p99_ms", "p99", 1, "ms", 1},
    {"threads", "wall_s", "wall (exec to exit)", 1, "s", 0},
    {"lang", "keywords", "keywords", 1, "", 0},
    {"lang", "soft_keywords", "soft keywords", 1, "", 0},
    {"lang", "stack_bytes", "stack per goroutine", 1.0 / 1024, "KiB", 0},
    {"lang", "private_bytes", "private memory per goroutine", 1.0 / 1024, "KiB", 0},
};

static const cJSON *metric_of(const cJSON *m, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), name);
}

/* A metric's status; ok for a file written before statuses were (none then). */
static enum ap_status status_of(const cJSON *metric)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(metric, "status");
    enum ap_status s = AP_STATUS_OK;
    if (cJSON_IsString(v))
        ap_status_parse(v->valuestring, &s);
    return s;
}

/* The worst status among a measurement's metrics: what a metric it withheld would have had. */
static enum ap_status measurement_status(const cJSON *m)
{
    unsigned bits = 0;
    const cJSON *metric;
    cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(m, "metrics"))
    {
        bits |= AP_STATUS_BIT(status_of(metric));
    }
    return ap_status_pick(bits);
}

/* The status of the metric `name` of m, or of m when it withheld it. */
static enum ap_status shown_status(const cJSON *m, const char *name)
{
    const cJSON *metric = metric_of(m, name);
    return metric != NULL ? status_of(metric) : measurement_status(m);
}

/* The id of the Go measurement matching m (its image replaced by the Go image), if any. An id
 * that does not fit (a resumed document's, say) has no twin: a cut one could name another. */
static int go_twin(const struct ap_bench *b, const cJSON *m, char *out, size_t len)
{
    const cJSON *go =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b->plan, "images"), "go");
    const char *id = cJSON_GetObjectItemCaseSensitive(m, "id")->valuestring;
    const char *img = cJSON_GetObjectItemCaseSensitive(m, "image")->valuestring;
    char pat[80];
    int n = snprintf(pat, sizeof(pat), "/%s", img);
    if (n < 0 || (size_t)n >= sizeof(pat))
        return -1;
    const char *at = strstr(id, pat);
    if (!cJSON_IsString(go) || at == NULL || strcmp(img, go->valuestring) == 0)
        return -1;
    n = snprintf(out, len, "%.*s/%s%s", (int)(at - id), id, go->valuestring, at + strlen(pat));
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Four significant digits, never an exponent for the figures a summary shows. */
static const char *num(double v, char *buf, size_t len)
{
    double a = fabs(v);
    snprintf(buf, len,
             a >= 1000  ? "%.0f"
             : a >= 100 ? "%.1f"
             : a >= 10  ? "%.2f"
             : a >= 1   ? "%.3f"
                        : "%.4g",
             v);
    return buf;
}

/* The ratio of m's shown metric to its Go twin's, into buf: "1.23x" between two ok figures,
 * else why not ("no ratio: unstable", "no ratio: Go errors", "no ratio: does not predict the
 * published size" for a size whose params say ratio_withheld); "" without a Go twin. */
static const char *ratio_text(const struct ap_bench *b, const cJSON *m, size_t k, char *buf,
                              size_t len)
{
    char twin[300], why[80];
    const cJSON *gm =
        go_twin(b, m, twin, sizeof(twin)) == 0 ? ap_bench_find_measurement(b, twin) : NULL;
    buf[0] = '\0';
    if (gm == NULL || (metric_of(gm, shown[k].metric) == NULL && !shown[k].withheld))
        return buf;
    const cJSON *withheld = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(m, "params"), "ratio_withheld");
    if (cJSON_IsString(withheld)) {
        snprintf(buf, len, "no ratio: does not predict the published size");
        return buf;
    }
    const char *refused =
        ap_status_ratio_refused(shown_status(m, shown[k].metric), shown_status(gm, shown[k].metric),
                                "Go", why, sizeof(why));
    if (refused != NULL) {
        snprintf(buf, len, "no ratio: %s", refused);
        return buf;
    }
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(metric_of(m, shown[k].metric), "stats"), "median");
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(metric_of(gm, shown[k].metric), "stats"), "median");
    if (cJSON_IsNumber(a) && cJSON_IsNumber(g) && isfinite(g->valuedouble) && g->valuedouble > 0)
        snprintf(buf, len, "%.2fx", a->valuedouble / g->valuedouble);
    return buf;
}

/* One row of the summary: a metric's median with its status beside it, its interval or "n too
 * small", cv, n, and the ratio to Go or why there is none. A metric with no statistics (every
 * sample left out as noisy) or withheld shows "-" and its status. */
static int summary_row(struct ap_table *t, const cJSON *m, size_t k, enum ap_status status,
                       const char *ratio, ap_error **err)
{
    const char *id = cJSON_GetObjectItemCaseSensitive(m, "id")->valuestring;
    const cJSON *metric = metric_of(m, shown[k].metric);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(metric, "stats");
    const cJSON *lo = cJSON_GetObjectItemCaseSensitive(st, "ci95_lo");
    const cJSON *hi = cJSON_GetObjectItemCaseSensitive(st, "ci95_hi");
    const cJSON *cov = cJSON_GetObjectItemCaseSensitive(st, "ci95_coverage");
    const cJSON *cv = cJSON_GetObjectItemCaseSensitive(st, "cv");
    const cJSON *med = cJSON_GetObjectItemCaseSensitive(st, "median");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(st, "n");
    double scale = shown[k].scale;
    char a[32] = "-", l[32], h[32], interval[100] = "n too small", cvs[16] = "cv -", ns[16];
    if (metric == NULL)
        snprintf(interval, sizeof(interval), "no figure (see warnings)");
    else if (ap_bench_counted(m))
        snprintf(interval, sizeof(interval), "exact (counted)");
    else if (!cJSON_IsObject(st))
        snprintf(interval, sizeof(interval), "none: all %d samples noisy",
                 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(metric, "samples")));
    else if (cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "n_too_small")) &&
             cJSON_IsNumber(lo) && cJSON_IsNumber(hi) && cJSON_IsNumber(cov))
        snprintf(interval, sizeof(interval), "[%s, %s] %.1f%%",
                 num(lo->valuedouble * scale, l, sizeof(l)),
                 num(hi->valuedouble * scale, h, sizeof(h)), cov->valuedouble * 100);
    if (cJSON_IsNumber(cv))
        snprintf(cvs, sizeof(cvs), "cv %.1f%%", cv->valuedouble * 100);
    /* A count is a whole number: 25 keywords, not 25.00. */
    if (cJSON_IsNumber(med) && ap_bench_counted(m) && strcmp(shown[k].unit, "") == 0)
        snprintf(a, sizeof(a), "%.0f", med->valuedouble * scale);
    else if (cJSON_IsNumber(med))
        num(med->valuedouble * scale, a, sizeof(a));
    snprintf(ns, sizeof(ns), "n %d", cJSON_IsNumber(n) ? (int)n->valuedouble : 0);
    /* A figure the guard or its spread affects says why, under it. */
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(metric, "warning");
    char note[1024];
    int has_note = cJSON_IsString(why) && status != AP_STATUS_OK;
    if (has_note)
        snprintf(note, sizeof(note), "%s: %s", ap_status_name(status), why->valuestring);
    const char *cells[] = {
        shown[k].label, a, shown[k].unit, ap_status_name(status), interval, cvs, ns, ratio};
    return ap_table_add(t, id, cells, sizeof(cells) / sizeof(cells[0]), has_note ? note : NULL,
                        err);
}

/* The summary's rows of one suite, laid out to the output's width (core/table.h): the median
 * column is right-aligned. */
static int summary_suite(struct ap_bench *b, const char *suite, int width, ap_error **err)
{
    struct ap_table t;
    ap_table_init(&t, 8, 1u << 1, 2);
    const cJSON *m;
    cJSON_ArrayForEach(m, b->measurements)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(m, "suite")->valuestring, suite) != 0)
            continue;
        for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
            if (strcmp(shown[k].suite, suite) != 0)
                continue;
            const cJSON *metric = metric_of(m, shown[k].metric);
            /* A measurement with no metric at all has not run yet. */
            if (cJSON_GetObjectItemCaseSensitive(metric, "stats") == NULL &&
                !(metric == NULL && shown[k].withheld &&
                  cJSON_GetObjectItemCaseSensitive(m, "metrics")->child != NULL))
                continue;
            char ratio[120];
            if (summary_row(&t, m, k, shown_status(m, shown[k].metric),
                            ratio_text(b, m, k, ratio, sizeof(ratio)), err) < 0) {
                ap_table_free(&t);
                return -1;
            }
        }
    }
    if (t.n_rows > 0) {
        char head[300];
        snprintf(head, sizeof(head),
                 "%s: median, status, its 95 %% interval [order statistics] with the exact "
                 "coverage (\"n too small\" below n = %d), cv, n; x: ratio to Go, made between ok "
                 "figures only",
                 suite, AP_STATS_CI_MIN_N);
        putchar('\n');
        ap_table_print_text(stdout, head, 0, 4, width);
        ap_table_print(&t, stdout, width);
    }
    ap_table_free(&t);
    return 0;
}

static void print_summary(struct ap_bench *b)
{
    int width = ap_table_width(stdout);
    for (size_t si = 0; si < sizeof(suite_names) / sizeof(suite_names[0]); si++) {
        ap_error *err = NULL;
        if (summary_suite(b, suite_names[si].name, width, &err) < 0) {
            ap_log_warn("the %s summary: %s (the results file has every figure)",
                        suite_names[si].name, err->msg);
            ap_error_release(&err);
        }
        if (suite_names[si].bit == AP_SUITE_SIZE)
            ap_bench_size_pairs_summary(b, width);
        if (suite_names[si].bit == AP_SUITE_LANG)
            ap_bench_lang_summary(b, width);
    }
    int nw = 0;
    const cJSON *w, *m;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(b->doc, "warnings")) nw++;
    cJSON_ArrayForEach(m, b->measurements)
    {
        cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(m, "warnings")) nw++;
    }
    char tally[4096];
    snprintf(tally, sizeof(tally),
             "%d measurements, %d warnings, %d noisy samples kept (%s); results: %s",
             cJSON_GetArraySize(b->measurements), nw, b->noisy_samples,
             b->o->include_noisy ? "in the statistics: --include-noisy"
                                 : "flagged, left out of the statistics",
             b->o->results_path);
    putchar('\n');
    ap_table_print_text(stdout, tally, 0, 4, width);
}

/* ---- the run --------------------------------------------------------------------------------- */

void ap_bench_free(struct ap_bench *b)
{
    free(b->groups);
    for (size_t i = 0; i < b->n_images; i++)
        ap_oci_run_free(&b->images[i].run);
    cJSON_Delete(b->plan);
    cJSON_Delete(b->doc);
    ap_seccomp_free(&b->seccomp);
    free(b->topo);
    free(b->block.pending);
}

static int limit_bytes(const cJSON *lim, const char *key, int64_t dflt, int64_t *out,
                       ap_error **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(lim, key);
    *out = dflt;
    if (cJSON_IsNumber(v))
        *out = (int64_t)v->valuedouble;
    else if (cJSON_IsString(v) && ap_sandbox_parse_bytes(v->valuestring, out) < 0) {
        ap_error_make(err, EINVAL, "bench.json: limits.%s: '%s' is not a size", key,
                      v->valuestring);
        return -1;
    }
    return 0;
}

/* ---- the caches' share --------------------------------------------------------------------- */

/* Chases through the caches of the first workload CPU (noise.h), recorded under
 * environment.memory_latency as one calibration `when` (start, end; a resumed run adds its
 * own). Best effort: a machine where it cannot run gets a note, not an error. */
static void memory_calibration(struct ap_bench *b, const char *when)
{
    enum { PROBES = 9 };
    struct ap_cpuset set;
    ap_error *e = NULL;
    int cpu = -1;
    if (ap_cpuset_parse(b->wl_cpus, &set, &e) == 0)
        for (int c = 0; c < AP_CPUSET_MAX && cpu < 0; c++)
            if (ap_cpuset_has(&set, c))
                cpu = c;
    double ns[PROBES];
    cJSON *env = cJSON_GetObjectItemCaseSensitive(b->doc, "environment");
    cJSON *ml = cJSON_GetObjectItemCaseSensitive(env, "memory_latency");
    if (!cJSON_IsObject(ml)) {
        cJSON_DeleteItemFromObjectCaseSensitive(env, "memory_latency");
        ml = cJSON_AddObjectToObject(env, "memory_latency");
        cJSON_AddStringToObject(ml, "what",
                                "CPU time a step of a pointer chase through a buffer just read "
                                "once, on the first workload CPU: an L3 hit on a quiet machine, "
                                "nearer a trip to memory while another tenant shares the caches");
        cJSON_AddNumberToObject(ml, "bytes", AP_NOISE_CHASE_BYTES);
        cJSON_AddArrayToObject(ml, "calibrations");
    }
    cJSON *cal = cJSON_GetObjectItemCaseSensitive(ml, "calibrations");
    if (!cJSON_IsArray(cal))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "when", when);
    char now[32];
    ap_bench_iso_now(now, sizeof(now));
    cJSON_AddStringToObject(o, "at", now);
    cJSON_AddNumberToObject(o, "cpu", cpu);
    char one[16];
    snprintf(one, sizeof(one), "%d", cpu);
    struct ap_noise_speed sp;
    if (cpu >= 0 && ap_noise_chase(cpu, PROBES, 25, ns, &e) == 0 &&
        ap_noise_speed_probe(one, &sp, &e) == 0) {
        cJSON_AddItemToObject(o, "ns_per_step", cJSON_CreateDoubleArray(ns, PROBES));
        /* The speed probe's register loop beside it: a slower clock slows both alike, shared
         * caches only the chase. */
        cJSON_AddNumberToObject(o, "loop_ms", (double)sp.ns[0] / 1e6);
    } else {
        cJSON_AddStringToObject(o, "error", e != NULL ? e->msg : "no workload CPU");
    }
    ap_error_release(&e);
    cJSON_AddItemToArray(cal, o);
}

/* Judges every calibration's chases together: when the caches were shared, the run's warnings
 * say so (once). */
static void memory_verdict(struct ap_bench *b)
{
    enum { MAX = 256 };
    double ns[MAX];
    cJSON *ml = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->doc, "environment"), "memory_latency");
    int n = (int)ap_noise_latency_values(ml, "ns_per_step", ns, MAX);
    char why[600];
    int shared = ap_noise_chase_judge(ns, n, AP_NOISE_CHASE_FACTOR, why, sizeof(why));
    cJSON_DeleteItemFromObjectCaseSensitive(ml, "verdict");
    cJSON_DeleteItemFromObjectCaseSensitive(ml, "reason");
    if (ml == NULL || n < 2)
        return;
    cJSON_AddStringToObject(ml, "verdict", shared ? "shared" : "steady");
    cJSON_AddStringToObject(ml, "reason", why);
    if (!shared)
        return;
    cJSON *w = cJSON_GetObjectItemCaseSensitive(b->doc, "warnings");
    cJSON *it;
    cJSON_ArrayForEach(it, w)
    {
        if (cJSON_IsString(it) && strncmp(it->valuestring, why, 32) == 0) {
            cJSON_Delete(cJSON_DetachItemViaPointer(w, it));
            break;
        }
    }
    cJSON_AddItemToArray(w, cJSON_CreateString(why));
    ap_progress_line(&b->progress, "warning: %s", why);
}

static int run_suites(struct ap_bench *b, ap_error **err)
{
    unsigned s = b->o->suites;
    int rc = 0;
    if (rc == 0 && (s & AP_SUITE_SIZE))
        rc = ap_bench_suite_size(b, err);
    /* Seconds of counts and bytes, before the long suites. */
    if (rc == 0 && (s & AP_SUITE_LANG))
        rc = ap_bench_suite_lang(b, err);
    if (rc == 0 && (s & AP_SUITE_STARTUP))
        rc = ap_bench_suite_startup(b, err);
    if (rc == 0 && (s & (AP_SUITE_CPU | AP_SUITE_MEMORY)))
        rc = ap_bench_suite_cpu(b, (s & AP_SUITE_CPU) != 0, (s & AP_SUITE_MEMORY) != 0, err);
    if (rc == 0 && (s & AP_SUITE_THREADS))
        rc = ap_bench_suite_threads(b, err);
    if (rc == 0 && (s & (AP_SUITE_HTTP | AP_SUITE_LATENCY | AP_SUITE_MEMORY | AP_SUITE_STARTUP)))
        rc = ap_bench_suite_http(b, s, err);
    return rc;
}

int ap_bench_load(struct ap_bench *b, const struct ap_bench_opts *o, int names_only, ap_error **err)
{
    b->o = o;
    b->profile_name = o->profile ? o->profile : "standard";
    char path[1100];
    if (ap_fs_path(path, sizeof(path), "%s/bench.json", o->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the plan bench.json in %.64s...",
                             o->workloads_dir);
    if (ap_json_read_file(path, 1u << 20, &b->plan, err) < 0)
        return -1;
    b->profile = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->plan, "profiles"), b->profile_name);
    if (!cJSON_IsObject(b->profile)) {
        ap_error_make(err, EINVAL, "unknown profile '%s'", b->profile_name);
        return ap_error_hint(err, "the profiles are quick, standard and published (%s)", path);
    }
    b->repeat = o->repeat > 0 ? o->repeat : (int)ap_bench_num(b, "repeat", 3);
    b->warmup = o->warmup >= 0 ? o->warmup : (int)ap_bench_num(b, "warmup", 1);
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(b->plan, "limits");
    if (limit_bytes(lim, "memory", 2ll << 30, &b->memory_limit, err) < 0 ||
        limit_bytes(lim, "server_memory", 1ll << 30, &b->server_memory_limit, err) < 0 ||
        limit_bytes(lim, "tmp_size", 64ll << 20, &b->tmp_bytes, err) < 0 ||
        limit_bytes(lim, "pids", 512, &b->pids_max, err) < 0 ||
        limit_bytes(lim, "nofile", 8192, &b->nofile, err) < 0 ||
        limit_bytes(b->profile, "memory", b->memory_limit, &b->memory_limit, err) < 0)
        return -1;
    if (ap_fs_path(b->inputs_dir, sizeof(b->inputs_dir), "%s/bench-inputs", o->cache_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the inputs folder bench-inputs in %.64s...",
                             o->cache_dir);
    if (!names_only) {
        const char *profile_text = ap_seccomp_default_profile();
        char hex[AP_SHA256_HEX_LEN + 1];
        ap_sha256_hex(profile_text, strlen(profile_text), hex);
        snprintf(b->seccomp_sha256, sizeof(b->seccomp_sha256), "sha256:%s", hex);
        if (ap_seccomp_compile(profile_text, strlen(profile_text), "default seccomp profile",
                               &b->seccomp, err) < 0 ||
            choose_cpus(b, err) < 0)
            return -1;
    }
    if (load_images(b, names_only, err) < 0)
        return -1;
    return ap_bench_shard_plan(b, err);
}

int ap_bench_run(const struct ap_bench_opts *o, ap_error **err)
{
    struct ap_bench b;
    memset(&b, 0, sizeof(b));
    ap_progress_init(&b.progress, o->quiet);
    /* The load average is not judged: it lags a minute behind and counts our own runs
     * (eight workers of the threads suite); it is recorded with every noise report. */
    b.noise = AP_NOISE_THRESHOLDS_DEFAULT;
    b.noise.load_per_cpu = 0;
    /* Each task's output is hashed as it comes: with the fastest SHA-256 here (runner.c). */
    b.output_hash = ap_sha256_backend(1);
    int rc = -1;
    if (ap_bench_load(&b, o, 0, err) < 0)
        goto out;
    if (o->resume && access(o->results_path, F_OK) == 0) {
        if (ap_bench_doc_resume(&b, err) < 0)
            goto out;
    } else {
        ap_bench_doc_new(&b, suites_json(o->suites));
    }
    placement_warnings(&b);
    ap_bench_shard_record(&b);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    b.est_total_s = b.shard_totals[o->shard_count > 0 ? o->shard_index : 0];
    char eta[32], shard[64] = "";
    if (o->shard_count > 0)
        snprintf(shard, sizeof(shard), "shard %d/%d, ", o->shard_index, o->shard_count);
    ap_progress_line(&b.progress,
                     "bench: profile %s, %s%d repeats, %d warmup; workload on CPUs %s, load and "
                     "orchestrator on %s; estimated %s",
                     b.profile_name, shard, b.repeat, b.warmup, b.wl_cpus, b.load_cpus,
                     ap_progress_format_duration(b.est_total_s, eta, sizeof(eta)));
    memory_calibration(&b, o->resume ? "resume" : "start");
    if (ap_bench_save(&b, err) < 0)
        goto out;
    rc = run_suites(&b, err);
    ap_progress_done(&b.progress);
    memory_calibration(&b, "end");
    memory_verdict(&b);
    cJSON *run = cJSON_GetObjectItemCaseSensitive(b.doc, "run");
    char now[32];
    ap_bench_iso_now(now, sizeof(now));
    cJSON_ReplaceItemInObjectCaseSensitive(run, "ended", cJSON_CreateString(now));
    if (rc == 0)
        cJSON_ReplaceItemInObjectCaseSensitive(run, "complete", cJSON_CreateTrue());
    else if (ap_bench_interrupted || rc == -2) {
        rc = -2;
        cJSON_AddStringToObject(run, "stopped", "interrupted");
    } else if (*err != NULL) {
        cJSON_AddStringToObject(run, "stopped", (*err)->msg);
    }
    ap_error *e2 = NULL;
    if (ap_bench_save(&b, &e2) < 0) {
        if (rc == 0) {
            *err = e2;
            rc = -1;
        } else {
            ap_error_release(&e2);
        }
    }
    if (rc == 0 && o->csv_path != NULL && ap_bench_results_csv(b.doc, o->csv_path, err) < 0)
        rc = -1;
    if (rc == 0)
        print_summary(&b);
out:
    ap_progress_done(&b.progress);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    ap_bench_free(&b);
    return rc;
}
