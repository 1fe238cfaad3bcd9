#include "format.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/text.h"

const char *const ap_report_verdict_words[AP_REPORT_VERDICTS] = {
    "holds",          "contradicted",          "inconclusive",
    "not comparable", "not reproducible here", "untestable"};

static const struct {
    const char *word, *symbol, *css;
} styles[AP_REPORT_VERDICTS] = {
    {"holds", "\u2713", "holds"},
    {"contradicted", "\u2717", "contradicted"},
    {"inconclusive", "?", "inconclusive"},
    {"not comparable", "\u2260", "not-comparable"},
    {"not reproducible here", "\u2205", "not-reproducible"},
    {"untestable", "\u2013", "untestable"},
};

static int style_of(const char *verdict)
{
    for (int i = 0; verdict != NULL && i < AP_REPORT_VERDICTS; i++)
        if (strcmp(verdict, styles[i].word) == 0)
            return i;
    return -1;
}

const char *ap_report_verdict_symbol(const char *verdict)
{
    int i = style_of(verdict);
    return i < 0 ? "?" : styles[i].symbol;
}

const char *ap_report_verdict_class(const char *verdict)
{
    int i = style_of(verdict);
    return i < 0 ? "unknown" : styles[i].css;
}

void ap_report_count(const cJSON *verdicts, size_t counts[AP_REPORT_VERDICTS])
{
    const cJSON *v;
    memset(counts, 0, AP_REPORT_VERDICTS * sizeof(counts[0]));
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        int i = style_of(ap_report_string(v, "verdict"));
        if (i >= 0 && i < AP_REPORT_VERDICTS - 1)
            counts[i]++;
    }
    counts[AP_REPORT_VERDICTS - 1] =
        (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(verdicts, "untestable"));
}

int ap_report_check(const cJSON *verdicts, const cJSON *results, ap_error **err)
{
    if (!cJSON_IsObject(verdicts) ||
        strcmp(ap_report_string(verdicts, "schema"), "appliance-verdicts-1") != 0 ||
        !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))) {
        ap_error_make(err, EINVAL,
                      "writing a report: the verdicts are not an "
                      "appliance-verdicts-1 document with a \"verdicts\" array");
        return ap_error_hint(err, "judge the results again with `appliance verdict`");
    }
    if (!cJSON_IsObject(results) ||
        strcmp(ap_report_string(results, "schema"), "appliance-results-2") != 0) {
        ap_error_make(err, EINVAL,
                      "writing a report: the results are not an "
                      "appliance-results-2 document");
        return ap_error_hint(err, "give the results.json that `appliance bench` wrote");
    }
    return 0;
}

char *ap_report_num(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (a == 0)
        snprintf(buf, len, "0");
    else if (a < 0.001 || a >= 1e15)
        snprintf(buf, len, "%.3g", v);
    else {
        int decimals = 2 - (int)floor(log10(a));
        snprintf(buf, len, "%.*f", decimals < 0 ? 0 : decimals, v);
    }
    return buf;
}

double ap_report_number(const cJSON *obj, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(n) ? n->valuedouble : NAN;
}

const char *ap_report_string(const cJSON *obj, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(s) && s->valuestring != NULL ? s->valuestring : "";
}

char *ap_report_exact(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.6g", v);
    return buf;
}

char *ap_report_published(char *buf, size_t len, const cJSON *verdict)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(verdict, "published");
    const char *unit = ap_report_string(p, "unit");
    char a[32], b[32];
    if (!isnan(ap_report_number(p, "value")))
        snprintf(buf, len, "%s %s", ap_report_exact(a, sizeof(a), ap_report_number(p, "value")),
                 unit);
    else if (!isnan(ap_report_number(p, "low")) && !isnan(ap_report_number(p, "high")))
        snprintf(buf, len, "%s-%s %s", ap_report_exact(a, sizeof(a), ap_report_number(p, "low")),
                 ap_report_exact(b, sizeof(b), ap_report_number(p, "high")), unit);
    else if (!isnan(ap_report_number(p, "upper")))
        snprintf(buf, len, "\u2264 %s %s",
                 ap_report_exact(a, sizeof(a), ap_report_number(p, "upper")), unit);
    else if (!isnan(ap_report_number(p, "lower")))
        snprintf(buf, len, "\u2265 %s %s",
                 ap_report_exact(a, sizeof(a), ap_report_number(p, "lower")), unit);
    else if (*ap_report_string(p, "order") != '\0')
        snprintf(buf, len, "%s", ap_report_string(p, "order"));
    else if (*ap_report_string(p, "text") != '\0')
        snprintf(buf, len, "%s (%s)", ap_report_string(p, "text"),
                 *ap_report_string(p, "match") ? ap_report_string(p, "match") : "exact");
    else
        snprintf(buf, len, "-");
    return buf;
}

char *ap_report_measured(char *buf, size_t len, const cJSON *verdict)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(verdict, "measured");
    const char *unit = ap_report_string(verdict, "unit");
    if (*unit == '\0')
        unit = ap_report_string(cJSON_GetObjectItemCaseSensitive(verdict, "published"), "unit");
    double v = ap_report_number(m, "value"), lo = ap_report_number(m, "low"),
           hi = ap_report_number(m, "high"), cov = ap_report_number(m, "coverage");
    char a[32], b[32], c[32], d[32];
    if (isnan(v)) {
        const char *text = ap_report_string(m, "text");
        snprintf(buf, len, "%s", *text ? text : "-");
    } else if (isnan(lo) || isnan(hi))
        snprintf(buf, len, "%s %s", ap_report_num(a, sizeof(a), v), unit);
    else if (isnan(cov))
        snprintf(buf, len, "%s %s [%s, %s]", ap_report_num(a, sizeof(a), v), unit,
                 ap_report_num(b, sizeof(b), lo), ap_report_num(c, sizeof(c), hi));
    else
        snprintf(buf, len, "%s %s [%s, %s] %s %%", ap_report_num(a, sizeof(a), v), unit,
                 ap_report_num(b, sizeof(b), lo), ap_report_num(c, sizeof(c), hi),
                 ap_report_num(d, sizeof(d), 100 * cov));
    return buf;
}

int ap_report_html_text(FILE *out, const char *s)
{
    cleanup_free char *safe = ap_text_escape(s != NULL ? s : "");
    if (safe == NULL)
        return -1;
    for (const char *p = safe; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            fputc(*p, out);
        }
    }
    return 0;
}

/* Appends section id (titled title) unless it is listed already. */
static void add_section(struct ap_report_section *s, int *n, const char *id, const char *title)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(s[i].id, id) == 0)
            return;
    s[*n].id = id;
    s[*n].title = *title ? title : id;
    (*n)++;
}

int ap_report_sections(const cJSON *verdicts, struct ap_report_section **out)
{
    const char *lists[] = {"sections", "verdicts", "untestable"};
    int max = 0, n = 0;
    for (size_t l = 0; l < AP_ARRAY_SIZE(lists); l++)
        max += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(verdicts, lists[l]));
    struct ap_report_section *s = calloc((size_t)max + 1, sizeof(*s));
    if (s == NULL)
        return -1;
    for (size_t l = 0; l < AP_ARRAY_SIZE(lists); l++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(verdicts, lists[l]))
        {
            const char *id = ap_report_string(e, l == 0 ? "id" : "section");
            if (*id != '\0')
                add_section(s, &n, id, l == 0 ? ap_report_string(e, "title") : "");
        }
    }
    *out = s;
    return n;
}

size_t ap_report_furthest(const cJSON *verdicts, const cJSON *out[3])
{
    double off[3] = {0};
    size_t n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        double r = ap_report_number(v, "measured_over_published");
        const char *verdict = ap_report_string(v, "verdict");
        /* Judged claims only: a machine-bound value set against a published one says nothing. */
        if (!(r > 0) || !isfinite(r) || r == 1 || strcmp(verdict, "not comparable") == 0 ||
            strcmp(verdict, "not reproducible here") == 0)
            continue;
        double d = fabs(log(r));
        size_t at = 0;
        while (at < n && off[at] >= d)
            at++;
        if (at == 3)
            continue;
        for (size_t k = n < 3 ? n : 2; k > at; k--) {
            off[k] = off[k - 1];
            out[k] = out[k - 1];
        }
        off[at] = d;
        out[at] = v;
        if (n < 3)
            n++;
    }
    return n;
}

int ap_report_figure(const cJSON *measurement, const char *metric, double *median, double *lo,
                     double *hi)
{
    const cJSON *metrics = cJSON_GetObjectItemCaseSensitive(measurement, "metrics");
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(metrics, metric), "stats");
    *median = ap_report_number(stats, "median");
    *lo = ap_report_number(stats, "ci95_lo");
    *hi = ap_report_number(stats, "ci95_hi");
    if (isnan(*lo) || isnan(*hi))
        *lo = *hi = NAN;
    return !isnan(*median);
}

/* The strings of an array joined by ", " into buf. */
static char *joined(char *buf, size_t len, const cJSON *array)
{
    size_t used = 0;
    const cJSON *e;
    buf[0] = '\0';
    cJSON_ArrayForEach(e, array)
    {
        if (!cJSON_IsString(e) || used >= len)
            continue;
        int k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", e->valuestring);
        used += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

typedef void (*condition_fn)(void *ctx, const char *label, const char *value);

static void machine_conditions(const cJSON *env, condition_fn fn, void *ctx)
{
    const cJSON *topo = cJSON_GetObjectItemCaseSensitive(env, "topology");
    char v[512], a[32];
    snprintf(v, sizeof(v), "%s (%s), %s CPUs online", ap_report_string(env, "cpu_model"),
             ap_report_string(env, "arch"),
             ap_report_exact(a, sizeof(a), ap_report_number(env, "cpus_online")));
    fn(ctx, "CPU", v);
    snprintf(v, sizeof(v), "%.0f cores, %s, %.0f NUMA node(s) (from %s)",
             ap_report_number(topo, "cores"),
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(topo, "smt")) ? "SMT on" : "no SMT",
             ap_report_number(topo, "nodes"), ap_report_string(topo, "source"));
    fn(ctx, "topology", v);
    const cJSON *cpus = cJSON_GetObjectItemCaseSensitive(env, "cpus");
    snprintf(v, sizeof(v), "workload on CPU %s, load generator and orchestrator on CPU %s",
             ap_report_string(cpus, "workload"), ap_report_string(cpus, "load_and_orchestrator"));
    fn(ctx, "CPU placement", v);
    snprintf(v, sizeof(v), "%s GiB",
             ap_report_num(a, sizeof(a), ap_report_number(env, "memory_bytes") / 1073741824.0));
    fn(ctx, "memory", v);
    fn(ctx, "kernel", ap_report_string(env, "kernel"));
    fn(ctx, "clock source", ap_report_string(env, "clocksource"));
    fn(ctx, "cgroup version", ap_report_string(env, "cgroup"));
    const cJSON *app = cJSON_GetObjectItemCaseSensitive(env, "appliance");
    snprintf(v, sizeof(v), "%s (commit %s)", ap_report_string(app, "version"),
             ap_report_string(app, "commit"));
    fn(ctx, "appliance", v);
}

size_t ap_report_machines(const cJSON *verdicts, const cJSON *out[AP_REPORT_MACHINES_MAX])
{
    size_t n = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(verdicts, "machines"))
    {
        if (n < AP_REPORT_MACHINES_MAX && *ap_report_string(m, "id") != '\0')
            out[n++] = m;
    }
    return n;
}

int ap_report_row_of(const cJSON *v, const char *section, const cJSON *const *ms)
{
    return strcmp(ap_report_string(v, "section"), section) == 0 &&
           strcmp(ap_report_string(v, "machine"), ap_report_string(ms[0], "id")) == 0;
}

const cJSON *ap_report_verdict_on(const cJSON *verdicts, const char *id, const char *machine)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        if (strcmp(ap_report_string(v, "id"), id) == 0 &&
            strcmp(ap_report_string(v, "machine"), machine) == 0)
            return v;
    }
    return NULL;
}

char *ap_report_machine_title(char *buf, size_t len, const cJSON *machine)
{
    snprintf(buf, len, "%s: %s, kernel %s", ap_report_string(machine, "id"),
             ap_report_string(machine, "cpu_model"), ap_report_string(machine, "kernel"));
    return buf;
}

char *ap_report_claim_label(char *buf, size_t len, const cJSON *verdict)
{
    const char *machine = ap_report_string(verdict, "machine");
    snprintf(buf, len, "%s%s%s", ap_report_string(verdict, "id"), *machine ? " on " : "", machine);
    return buf;
}

/* The numbers of an array joined by ", " into buf. */
static char *joined_numbers(char *buf, size_t len, const cJSON *array)
{
    size_t used = 0;
    const cJSON *e;
    buf[0] = '\0';
    cJSON_ArrayForEach(e, array)
    {
        char n[32];
        if (!cJSON_IsNumber(e) || used >= len)
            continue;
        int k = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                         ap_report_exact(n, sizeof(n), e->valuedouble));
        used += k > 0 ? (size_t)k : 0;
    }
    return buf;
}

/* Each machine type of merged results (environment.machines), in its order. */
static void machine_types(const cJSON *env, condition_fn fn, void *ctx)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(env, "machines"))
    {
        char label[96], v[1024], hosts[512], shards[256], a[32];
        snprintf(label, sizeof(label), "machine %s", ap_report_string(m, "id"));
        snprintf(
            v, sizeof(v), "%s, kernel %s, cgroup %s, %s CPUs online; hosts: %s; shards: %s",
            ap_report_string(m, "cpu_model"), ap_report_string(m, "kernel"),
            ap_report_string(m, "cgroup"),
            ap_report_exact(a, sizeof(a), ap_report_number(m, "cpus_online")),
            joined(hosts, sizeof(hosts), cJSON_GetObjectItemCaseSensitive(m, "hosts")),
            joined_numbers(shards, sizeof(shards), cJSON_GetObjectItemCaseSensitive(m, "shards")));
        fn(ctx, label, v);
    }
}

/* Each CPU task's N (params.n of its first measurement), in the results' order. */
static void task_conditions(const cJSON *results, condition_fn fn, void *ctx)
{
    const cJSON *m, *seen[64];
    size_t nseen = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(results, "measurements"))
    {
        const char *task = ap_report_string(m, "workload");
        if (strcmp(ap_report_string(m, "suite"), "cpu") != 0 || nseen == AP_ARRAY_SIZE(seen))
            continue;
        size_t i = 0;
        while (i < nseen && strcmp(ap_report_string(seen[i], "workload"), task) != 0)
            i++;
        if (i < nseen)
            continue;
        seen[nseen++] = m;
        char label[160], v[32];
        snprintf(label, sizeof(label), "N of %s", task);
        fn(ctx, label,
           ap_report_exact(v, sizeof(v),
                           ap_report_number(cJSON_GetObjectItemCaseSensitive(m, "params"), "n")));
    }
}

void ap_report_conditions(const cJSON *verdicts, const cJSON *results, condition_fn fn, void *ctx)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(results, "environment");
    char v[1024], a[32], b[32];
    snprintf(v, sizeof(v), "%s, %s to %s", ap_report_string(run, "id"),
             ap_report_string(run, "started"), ap_report_string(run, "ended"));
    fn(ctx, "run", v);
    snprintf(v, sizeof(v), "%s; %s repetitions after %s warm-up", ap_report_string(run, "profile"),
             ap_report_exact(a, sizeof(a), ap_report_number(run, "repeat")),
             ap_report_exact(b, sizeof(b), ap_report_number(run, "warmup")));
    fn(ctx, "profile", v);
    fn(ctx, "suites", joined(v, sizeof(v), cJSON_GetObjectItemCaseSensitive(run, "suites")));
    machine_conditions(env, fn, ctx);
    machine_types(env, fn, ctx);
    const cJSON *img;
    cJSON_ArrayForEach(img, cJSON_GetObjectItemCaseSensitive(env, "images"))
    {
        char label[160];
        snprintf(label, sizeof(label), "image %s", img->string != NULL ? img->string : "");
        fn(ctx, label, ap_report_string(img, "digest"));
    }
    task_conditions(results, fn, ctx);
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(verdicts, "claims");
    snprintf(v, sizeof(v), "%s (sha256 %s)", ap_report_string(claims, "path"),
             ap_report_string(claims, "sha256"));
    fn(ctx, "claims file", v);
    fn(ctx, "results sha256",
       ap_report_string(cJSON_GetObjectItemCaseSensitive(verdicts, "results"), "sha256"));
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(verdicts, "source");
    snprintf(v, sizeof(v), "%s, %s, %s (%s)", ap_report_string(src, "title"),
             ap_report_string(src, "date"), ap_report_string(src, "url"),
             cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "checked"))
                 ? "quotes checked against the source text"
                 : "source text not checked");
    fn(ctx, "source", v);
}
