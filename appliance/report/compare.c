/* Comparing two results documents (compare.h): the rows, their tests and verdicts, and the
 * warnings about what makes two runs less comparable than they look. */
#include "compare.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/noise.h"
#include "../bench/results.h"
#include "../bench/stats.h"
#include "../core/cleanup.h"
#include "stats.h"

/* ---- results documents ------------------------------------------------------------------------
 */

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = get(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ap_compare_check_doc(const cJSON *doc, const char *what, ap_error **err)
{
    /* Version 1 files compare as well: only their samples are read, never their statistics. */
    char run_id[AP_RESULTS_RUN_ID_MAX + 1];
    if (ap_bench_results_check(doc, run_id, err) < 0) {
        ap_error_wrap(err, "%s is not a results file of appliance bench", what);
        return ap_error_hint(err, "compare takes what 'appliance bench --out' writes, or a "
                                  "result archive holding it");
    }
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, get(doc, "measurements"))
    {
        const char *id = get_str(m, "id");
        if (id == NULL || !cJSON_IsObject(get(m, "metrics")))
            return ap_error_make(err, EINVAL,
                                 "%s: measurement %d has no string \"id\" or no "
                                 "\"metrics\" object",
                                 what, i);
        const cJSON *metric;
        cJSON_ArrayForEach(metric, get(m, "metrics"))
        {
            const cJSON *samples = get(metric, "samples");
            if (get_str(metric, "unit") == NULL || !cJSON_IsArray(samples) ||
                cJSON_GetArraySize(samples) < 1)
                return ap_error_make(err, EINVAL,
                                     "%s: %s: metric %s needs a \"unit\" and a "
                                     "non-empty \"samples\" array",
                                     what, id, metric->string);
            const cJSON *s;
            cJSON_ArrayForEach(s, samples)
            {
                if (!cJSON_IsNumber(s) || !isfinite(s->valuedouble))
                    return ap_error_make(err, EINVAL,
                                         "%s: %s: metric %s has a sample that is "
                                         "not a finite number",
                                         what, id, metric->string);
            }
        }
        i++;
    }
    return 0;
}

static const cJSON *find_measurement(const cJSON *doc, const char *id)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, get(doc, "measurements"))
    {
        const char *mid = get_str(m, "id");
        if (mid != NULL && strcmp(mid, id) == 0)
            return m;
    }
    return NULL;
}

static int metric_wanted(const char *list, const char *name)
{
    if (list == NULL || *list == '\0')
        return 1;
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, name, n) == 0)
            return 1;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return 0;
}

/* ---- the comparison ------------------------------------------------------------------------ */

static int add_warning(struct ap_compare *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_warning(struct ap_compare *c, const char *fmt, ...)
{
    char **w = realloc(c->warnings, (c->n_warnings + 1) * sizeof(*w));
    if (w == NULL)
        return -1;
    c->warnings = w;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&w[c->n_warnings], fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    c->n_warnings++;
    return 0;
}

/* A JSON value in a few characters, for a warning. */
static void short_value(const cJSON *v, char *buf, size_t len)
{
    if (v == NULL) {
        snprintf(buf, len, "(none)");
        return;
    }
    char *s = cJSON_PrintUnformatted(v);
    if (s == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    if (strlen(s) > 40)
        snprintf(buf, len, "%.37s...", s);
    else
        snprintf(buf, len, "%s", s);
    free(s);
}

/* Parameters that differ between matched measurements, one entry per key. */
struct param_diff {
    const char *key;
    size_t count;
    char example[256];
};

static int note_param_diffs(const cJSON *pa, const cJSON *pb, const char *id,
                            struct param_diff **diffs, size_t *n)
{
    const cJSON *sides[2] = {pa, pb};
    for (int s = 0; s < 2; s++) {
        const cJSON *kv;
        cJSON_ArrayForEach(kv, sides[s])
        {
            /* Keys of B that A also has were seen in the first pass. */
            if (s == 1 && get(pa, kv->string) != NULL)
                continue;
            const cJSON *va = get(pa, kv->string), *vb = get(pb, kv->string);
            if (va != NULL && vb != NULL && cJSON_Compare(va, vb, 1))
                continue;
            size_t k = 0;
            while (k < *n && strcmp((*diffs)[k].key, kv->string) != 0)
                k++;
            if (k == *n) {
                struct param_diff *d = realloc(*diffs, (*n + 1) * sizeof(*d));
                if (d == NULL)
                    return -1;
                *diffs = d;
                char x[64], y[64];
                short_value(va, x, sizeof(x));
                short_value(vb, y, sizeof(y));
                d[k].key = kv->string;
                d[k].count = 0;
                snprintf(d[k].example, sizeof(d[k].example), "%s: %s in A, %s in B", id, x, y);
                (*n)++;
            }
            (*diffs)[k].count++;
        }
    }
    return 0;
}

static enum ap_compare_kind kind_of(const char *unit)
{
    if (strcmp(unit, "s") == 0 || strcmp(unit, "ms") == 0)
        return AP_COMPARE_TIME;
    if (strcmp(unit, "req/s") == 0)
        return AP_COMPARE_RATE;
    return AP_COMPARE_QUANTITY;
}

/* +1 when higher is better, -1 when lower is, 0 when neither (CPUs used, files in an image). */
static int preferred(const struct ap_compare_row *r)
{
    switch (r->kind) {
    case AP_COMPARE_TIME:
        return -1;
    case AP_COMPARE_RATE:
        return 1;
    case AP_COMPARE_QUANTITY:
        break;
    }
    if (strcmp(r->unit, "B") == 0 || strcmp(r->metric, "errors") == 0)
        return -1;
    if (strcmp(r->metric, "sustained") == 0)
        return 1;
    return 0;
}

static double *samples_of(const cJSON *metric, size_t *n)
{
    const cJSON *samples = get(metric, "samples");
    size_t len = (size_t)cJSON_GetArraySize(samples);
    double *x = malloc((len ? len : 1) * sizeof(double));
    if (x == NULL)
        return NULL;
    size_t i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, samples) x[i++] = s->valuedouble;
    *n = len;
    return x;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median_of(const double *x, size_t n)
{
    cleanup_free double *s = malloc(n * sizeof(double));
    if (s == NULL)
        return NAN;
    memcpy(s, x, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    return ap_stats_quantile(s, n, 0.5);
}

/* The medians, both tests and the deciding one of a row; significance and the verdict wait
 * for every row (decide_rows). */
static int compute_row(struct ap_compare_row *r, const cJSON *ma, const cJSON *mb, int exact)
{
    cleanup_free double *a = samples_of(ma, &r->na);
    cleanup_free double *b = samples_of(mb, &r->nb);
    if (a == NULL || b == NULL)
        return -1;
    r->kind = kind_of(r->unit);
    r->direction = preferred(r);
    r->median_a = median_of(a, r->na);
    r->median_b = median_of(b, r->nb);
    if (r->median_a != 0)
        r->ratio = r->median_b / r->median_a;
    else
        r->ratio = r->median_b == 0 ? 1 : NAN;
    r->change_pct = (r->ratio - 1) * 100;
    r->p_mwu = r->p_welch = r->u = r->t = r->df = r->p = r->p_adjusted = NAN;
    if (r->na >= 2 && r->nb >= 2) {
        struct ap_mann_whitney mw;
        struct ap_welch w;
        if (ap_compare_mann_whitney(a, r->na, b, r->nb, &mw) < 0 ||
            ap_compare_welch(a, r->na, b, r->nb, &w) < 0)
            return -1;
        r->p_mwu = mw.p;
        r->u = mw.u;
        r->mwu_exact = mw.exact;
        r->p_welch = w.p;
        r->t = w.t;
        r->df = w.df;
    }
    /* shift: +1 when B tends to be larger than A, by the statistic of the deciding test. */
    if (exact) {
        r->test = AP_COMPARE_TEST_EXACT;
        r->shift = (r->median_b > r->median_a) - (r->median_b < r->median_a);
        r->significant = r->shift != 0;
    } else if (r->na < 2 || r->nb < 2) {
        r->test = AP_COMPARE_TEST_NONE;
    } else if (r->na >= AP_COMPARE_MWU_MIN_N && r->nb >= AP_COMPARE_MWU_MIN_N) {
        r->test = AP_COMPARE_TEST_MWU;
        r->p = r->p_mwu;
        double mid = (double)r->na * (double)r->nb / 2;
        r->shift = (r->u < mid) - (r->u > mid);
    } else {
        r->test = AP_COMPARE_TEST_WELCH;
        r->p = r->p_welch;
        r->shift = (r->t < 0) - (r->t > 0);
    }
    return 0;
}

static int is_tested(const struct ap_compare_row *r)
{
    return r->test == AP_COMPARE_TEST_MWU || r->test == AP_COMPARE_TEST_WELCH;
}

/* The verdict of a row whose significance is known: a change only when it reaches the
 * metric's minimum effect. */
static void verdict_of(struct ap_compare_row *r)
{
    r->verdict = AP_COMPARE_SAME;
    r->better = 0;
    if (r->test == AP_COMPARE_TEST_NONE) {
        r->verdict = AP_COMPARE_TOO_FEW;
        return;
    }
    if (!r->significant || !r->reaches_min_effect)
        return;
    switch (r->kind) {
    case AP_COMPARE_TIME:
        r->verdict = r->shift > 0 ? AP_COMPARE_SLOWER : AP_COMPARE_FASTER;
        break;
    case AP_COMPARE_RATE:
        r->verdict = r->shift > 0 ? AP_COMPARE_FASTER : AP_COMPARE_SLOWER;
        break;
    case AP_COMPARE_QUANTITY:
        r->verdict = r->shift > 0 ? AP_COMPARE_LARGER : AP_COMPARE_SMALLER;
        break;
    }
    r->better = r->shift * r->direction;
}

/* Significance across the comparison (Benjamini-Hochberg over the tested rows), the minimum
 * effect, the verdicts and the counts. */
static int decide_rows(struct ap_compare *c)
{
    cleanup_free double *p = malloc((c->n_rows ? c->n_rows : 1) * sizeof(double));
    cleanup_free double *q = malloc((c->n_rows ? c->n_rows : 1) * sizeof(double));
    if (p == NULL || q == NULL)
        return -1;
    for (size_t i = 0; i < c->n_rows; i++)
        p[i] = is_tested(&c->rows[i]) ? c->rows[i].p : NAN;
    if (ap_report_bh_adjust(p, c->n_rows, q) < 0)
        return -1;
    for (size_t i = 0; i < c->n_rows; i++) {
        struct ap_compare_row *r = &c->rows[i];
        r->min_effect_pct = isnan(c->min_effect_override)
                                ? ap_report_min_effect(r->metric, r->unit, NULL)
                                : c->min_effect_override;
        r->reaches_min_effect = ap_report_effect_reaches(r->change_pct, r->min_effect_pct);
        if (is_tested(r)) {
            r->p_adjusted = q[i];
            r->significant_raw = r->p <= c->alpha && r->shift != 0;
            r->significant = r->p_adjusted <= c->alpha && r->shift != 0;
            c->n_tested++;
            c->n_significant_raw += r->significant_raw != 0;
            c->n_significant += r->significant != 0;
            c->n_changed += r->significant && r->reaches_min_effect;
        } else if (r->test == AP_COMPARE_TEST_EXACT) {
            c->n_exact++;
            c->n_exact_differ += r->significant != 0;
            c->n_exact_changed += r->significant && r->reaches_min_effect;
        }
        verdict_of(r);
    }
    return 0;
}

static int push_id(const char ***list, size_t *n, const char *id)
{
    const char **l = realloc(*list, (*n + 1) * sizeof(*l));
    if (l == NULL)
        return -1;
    l[(*n)++] = id;
    *list = l;
    return 0;
}

/* The median of environment.memory_latency's chases (ns a step) and of its register loops (ms)
 * over every calibration of a run; 0 for none. */
static void machine_state(const cJSON *env, double *chase_ns, double *loop_ms)
{
    enum { MAX = 256 };
    double ns[MAX], ms[MAX];
    const cJSON *ml = get(env, "memory_latency");
    size_t n = ap_noise_latency_values(ml, "ns_per_step", ns, MAX);
    size_t m = ap_noise_latency_values(ml, "loop_ms", ms, MAX);
    *chase_ns = n > 0 ? median_of(ns, n) : 0;
    *loop_ms = m > 0 ? median_of(ms, m) : 0;
}

/* Whether a and b are more than AP_COMPARE_STATE_PCT % apart (either way), both known. */
static int apart(double a, double b)
{
    double f = 1 + AP_COMPARE_STATE_PCT / 100.0;
    return a > 0 && b > 0 && (a > b * f || b > a * f);
}

/* The machines' states (bench.c's memory_latency): a different share of the host's caches or a
 * different clock moves every figure without any change in the software. */
static int state_warnings(struct ap_compare *c, const cJSON *ea, const cJSON *eb)
{
    double ca, la, cb, lb;
    machine_state(ea, &ca, &la);
    machine_state(eb, &cb, &lb);
    if ((apart(ca, cb) || apart(la, lb)) &&
        add_warning(c,
                    "the machine was in another state in each run: a pointer chase through "
                    "the caches took a median %.1f ns a step in A, %.1f in B, and the register "
                    "loop %.2f ms in A, %.2f in B (more than %g %% apart): another tenant's "
                    "share of the host's caches or another clock, so a change may come from "
                    "the machine, not the software",
                    ca, cb, la, lb, AP_COMPARE_STATE_PCT) < 0)
        return -1;
    const struct {
        const cJSON *env;
        const char *name;
    } runs[] = {{ea, "A"}, {eb, "B"}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(runs); i++) {
        const char *v = get_str(get(runs[i].env, "memory_latency"), "verdict");
        if (v != NULL && strcmp(v, "shared") == 0 &&
            add_warning(c,
                        "run %s measured while the host's caches were shared (its "
                        "environment.memory_latency): its memory-heavy figures may not repeat",
                        runs[i].name) < 0)
            return -1;
    }
    return 0;
}

/* Warnings about what makes the two runs less comparable than they look. */
static int run_warnings(struct ap_compare *c, const cJSON *a, const cJSON *b)
{
    const cJSON *ra = get(a, "run"), *rb = get(b, "run");
    const char *pa = get_str(ra, "profile"), *pb = get_str(rb, "profile");
    if (pa != NULL && pb != NULL && strcmp(pa, pb) != 0 &&
        add_warning(c,
                    "the runs used different profiles (A %s, B %s): their sizes (N) "
                    "differ, so their times are not comparable",
                    pa, pb) < 0)
        return -1;
    const struct {
        const cJSON *run;
        const char *name;
    } runs[] = {{ra, "A"}, {rb, "B"}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(runs); i++) {
        if (cJSON_IsTrue(get(runs[i].run, "complete")))
            continue;
        const char *why = get_str(runs[i].run, "stopped");
        if (add_warning(c, "run %s is incomplete%s%s", runs[i].name, why ? ": " : "",
                        why ? why : "") < 0)
            return -1;
    }
    const cJSON *ea = get(a, "environment"), *eb = get(b, "environment");
    static const char *const machine[] = {"kernel",      "cpu_model",    "arch",
                                          "cpus_online", "memory_bytes", "cgroup"};
    for (size_t i = 0; i < AP_ARRAY_SIZE(machine); i++) {
        const cJSON *va = get(ea, machine[i]), *vb = get(eb, machine[i]);
        if (va == NULL || vb == NULL || cJSON_Compare(va, vb, 1))
            continue;
        char x[64], y[64];
        short_value(va, x, sizeof(x));
        short_value(vb, y, sizeof(y));
        if (add_warning(c,
                        "the runs were on different machines or systems: %s %s in A, %s in "
                        "B",
                        machine[i], x, y) < 0)
            return -1;
    }
    if (state_warnings(c, ea, eb) < 0)
        return -1;
    const char *ca = get_str(get(ea, "appliance"), "commit");
    const char *cb = get_str(get(eb, "appliance"), "commit");
    if (ca != NULL && cb != NULL && strcmp(ca, cb) != 0 &&
        add_warning(c,
                    "the runs were measured by different builds of the appliance (commit %s "
                    "in A, %s in B)",
                    ca, cb) < 0)
        return -1;
    const cJSON *ia = get(ea, "images"), *img;
    cJSON_ArrayForEach(img, ia)
    {
        const char *da = get_str(img, "digest");
        const char *db = get_str(get(get(eb, "images"), img->string), "digest");
        if (da != NULL && db != NULL && strcmp(da, db) != 0 &&
            add_warning(c,
                        "image %s differs between the runs (digest %.19s... in A, %.19s... "
                        "in B): a change may come from the image, not the language",
                        img->string, da, db) < 0)
            return -1;
    }
    return 0;
}

static int compare_docs(struct ap_compare *c, const cJSON *a, const cJSON *b,
                        const struct ap_compare_opts *o)
{
    if (run_warnings(c, a, b) < 0)
        return -1;
    cleanup_free struct param_diff *diffs = NULL;
    size_t n_diffs = 0;
    const cJSON *ma;
    cJSON_ArrayForEach(ma, get(a, "measurements"))
    {
        const char *id = get_str(ma, "id");
        const cJSON *mb = find_measurement(b, id);
        if (mb == NULL) {
            if (push_id(&c->only_a, &c->n_only_a, id) < 0)
                return -1;
            continue;
        }
        if (note_param_diffs(get(ma, "params"), get(mb, "params"), id, &diffs, &n_diffs) < 0)
            return -1;
        /* Counted figures, one exact value per run: the size suite's, and those a measurement's
         * params say are counted (the lang suite's versions and keyword counts). */
        int exact = strncmp(id, "size/", 5) == 0 || cJSON_IsTrue(get(get(ma, "params"), "counted"));
        const cJSON *metric;
        cJSON_ArrayForEach(metric, get(ma, "metrics"))
        {
            if (!metric_wanted(o->metrics, metric->string))
                continue;
            const cJSON *other = get(get(mb, "metrics"), metric->string);
            if (other == NULL) {
                if (add_warning(c, "%s: metric %s is in A only", id, metric->string) < 0)
                    return -1;
                continue;
            }
            const char *unit = get_str(metric, "unit");
            if (strcmp(unit, get_str(other, "unit")) != 0) {
                if (add_warning(c, "%s: metric %s is in %s in A, %s in B: not compared", id,
                                metric->string, unit, get_str(other, "unit")) < 0)
                    return -1;
                continue;
            }
            struct ap_compare_row *rows = realloc(c->rows, (c->n_rows + 1) * sizeof(*rows));
            if (rows == NULL)
                return -1;
            c->rows = rows;
            struct ap_compare_row *r = &rows[c->n_rows];
            memset(r, 0, sizeof(*r));
            r->id = id;
            r->metric = metric->string;
            r->unit = unit;
            if (compute_row(r, metric, other, exact) < 0)
                return -1;
            c->n_rows++;
        }
        cJSON_ArrayForEach(metric, get(mb, "metrics"))
        {
            if (metric_wanted(o->metrics, metric->string) &&
                get(get(ma, "metrics"), metric->string) == NULL &&
                add_warning(c, "%s: metric %s is in B only", id, metric->string) < 0)
                return -1;
        }
    }
    const cJSON *mb;
    cJSON_ArrayForEach(mb, get(b, "measurements"))
    {
        const char *id = get_str(mb, "id");
        if (find_measurement(a, id) == NULL && push_id(&c->only_b, &c->n_only_b, id) < 0)
            return -1;
    }
    for (size_t i = 0; i < n_diffs; i++)
        if (add_warning(c, "parameter %s differs in %zu matched measurement%s (%s)", diffs[i].key,
                        diffs[i].count, diffs[i].count == 1 ? "" : "s", diffs[i].example) < 0)
            return -1;
    return 0;
}

int ap_compare_results(const cJSON *a, const cJSON *b, const struct ap_compare_opts *o,
                       struct ap_compare **out, ap_error **err)
{
    if (ap_compare_check_doc(a, "run A", err) < 0 || ap_compare_check_doc(b, "run B", err) < 0)
        return -1;
    double alpha = o != NULL && o->alpha > 0 ? o->alpha : AP_COMPARE_ALPHA_DEFAULT;
    if (!(alpha < 1))
        return ap_error_make(err, EINVAL, "alpha %g is not between 0 and 1", alpha);
    if (o != NULL && o->min_effect_given &&
        !(o->min_effect_pct >= 0 && o->min_effect_pct <= AP_COMPARE_MIN_EFFECT_MAX))
        return ap_error_make(err, EINVAL, "minimum effect %g %% is not between 0 and %g %%",
                             o->min_effect_pct, AP_COMPARE_MIN_EFFECT_MAX);
    struct ap_compare *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return ap_error_make(err, ENOMEM, "comparing two runs");
    c->alpha = alpha;
    c->min_effect_override = o != NULL && o->min_effect_given ? o->min_effect_pct : NAN;
    struct ap_compare_opts none = {0};
    if (compare_docs(c, a, b, o != NULL ? o : &none) < 0 || decide_rows(c) < 0) {
        ap_compare_free(c);
        return ap_error_make(err, ENOMEM, "comparing two runs");
    }
    *out = c;
    return 0;
}

void ap_compare_free(struct ap_compare *c)
{
    if (c == NULL)
        return;
    free(c->rows);
    free(c->only_a);
    free(c->only_b);
    for (size_t i = 0; i < c->n_warnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    free(c);
}

const char *ap_compare_verdict_name(enum ap_compare_verdict v)
{
    switch (v) {
    case AP_COMPARE_SAME:
        return "no change";
    case AP_COMPARE_FASTER:
        return "faster";
    case AP_COMPARE_SLOWER:
        return "slower";
    case AP_COMPARE_LARGER:
        return "larger";
    case AP_COMPARE_SMALLER:
        return "smaller";
    case AP_COMPARE_TOO_FEW:
        return "too few samples";
    }
    return "?";
}

const char *ap_compare_test_name(enum ap_compare_test t)
{
    switch (t) {
    case AP_COMPARE_TEST_NONE:
        return "none";
    case AP_COMPARE_TEST_EXACT:
        return "exact";
    case AP_COMPARE_TEST_MWU:
        return "mann-whitney";
    case AP_COMPARE_TEST_WELCH:
        return "welch";
    }
    return "?";
}
