/* The verdict rules, in the order docs/claims.md gives them (verdict.h). Pure: no I/O. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "stats.h"
#include "verdict.h"

/* More samples than this in one metric are refused (a results file holds far fewer). */
#define SAMPLES_MAX 100000

/* Whether measurement m is one of machine's (any, when machine is NULL). */
static int on_machine(const cJSON *m, const char *machine)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(m, "machine");
    return machine == NULL || (cJSON_IsString(k) && strcmp(k->valuestring, machine) == 0);
}

const cJSON *ap_verdict_find_on(const cJSON *results, const char *id, const char *machine)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(results, "measurements"))
    {
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsString(mid) && strcmp(mid->valuestring, id) == 0 && on_machine(m, machine))
            return m;
    }
    return NULL;
}

const cJSON *ap_verdict_find(const cJSON *results, const char *id)
{
    return ap_verdict_find_on(results, id, NULL);
}

static int flagged_noisy(const cJSON *flags)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, flags) if (cJSON_IsString(f) &&
                                     strcmp(f->valuestring, "noisy") == 0) return 1;
    return 0;
}

size_t ap_verdict_counted(const cJSON *metric, int include_noisy, double *out, size_t max)
{
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(metric, "samples");
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(metric, "flags");
    size_t n = 0, i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, samples)
    {
        const cJSON *f = cJSON_IsArray(flags) ? cJSON_GetArrayItem(flags, (int)i) : NULL;
        i++;
        if (!cJSON_IsNumber(s) || (!include_noisy && flagged_noisy(f)))
            continue;
        if (n < max)
            out[n] = s->valuedouble;
        n++;
    }
    return n;
}

/* A figure a claim uses: one metric of one measurement. */
struct fig {
    const char *id;
    const cJSON *m, *metric;
    const char *status;
    int ok, counted;
    double median, lo, hi, coverage; /* lo, hi, coverage NaN without an interval */
    double factor;                   /* of its unit to its group's base */
    int group;
    double *x, *logs; /* the counted samples, and their logarithms (NaN for x <= 0) */
    size_t n;
};

static void fig_free(struct fig *f)
{
    free(f->x);
    free(f->logs);
    memset(f, 0, sizeof(*f));
}

static double num_or_nan(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The status a metric carries, or the one its statistics give (files from before statuses). */
static const char *status_of(const cJSON *metric, const cJSON *stats)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(metric, "status");
    if (cJSON_IsString(st))
        return st->valuestring;
    if (!cJSON_IsObject(stats))
        return "noisy";
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(stats, "n_too_small")))
        return "n-too-small";
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(stats, "unstable")))
        return "unstable";
    return "ok";
}

static int fig_samples(struct fig *f, int include_noisy, ap_error **err)
{
    size_t n = ap_verdict_counted(f->metric, include_noisy, NULL, 0);
    if (n > SAMPLES_MAX)
        return ap_error_make(err, E2BIG, "%s: more than %d samples", f->id, SAMPLES_MAX);
    f->x = calloc(n + 1, sizeof(double));
    f->logs = calloc(n + 1, sizeof(double));
    if (f->x == NULL || f->logs == NULL)
        return ap_error_make(err, ENOMEM, "%s", f->id);
    f->n = ap_verdict_counted(f->metric, include_noisy, f->x, n);
    for (size_t i = 0; i < n; i++)
        f->logs[i] = f->x[i] > 0 ? log(f->x[i]) : NAN;
    return 0;
}

/* The unit of metric in the first measurement of results whose id starts like id's (its suite
 * and kind: the id up to its second '/') that holds it, or NULL when none does. */
static const char *unit_elsewhere(const cJSON *results, const char *machine, const char *id,
                                  const char *metric)
{
    const char *slash = strchr(id, '/');
    slash = slash != NULL ? strchr(slash + 1, '/') : NULL;
    size_t len = slash != NULL ? (size_t)(slash - id) : strlen(id);
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(results, "measurements"))
    {
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(m, "metrics"), metric);
        const cJSON *unit = cJSON_GetObjectItemCaseSensitive(x, "unit");
        if (on_machine(m, machine) && cJSON_IsString(mid) &&
            strncmp(mid->valuestring, id, len) == 0 &&
            (mid->valuestring[len] == '/' || mid->valuestring[len] == '\0') && cJSON_IsString(unit))
            return unit->valuestring;
    }
    return NULL;
}

/* A figure the run did not make although measurements of its kind hold it (a latency rate
 * the server did not sustain has no percentiles): no value, and a status saying why. */
static void fig_absent(struct fig *f, const char *unit)
{
    const cJSON *sus = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(f->m, "metrics"), "sustained");
    double s = num_or_nan(cJSON_GetObjectItemCaseSensitive(sus, "stats"), "median");
    f->status = sus != NULL && !(s > 0) ? "not measured: the rate was not sustained"
                                        : "not measured: the run made no such figure";
    f->ok = 0;
    f->median = f->lo = f->hi = f->coverage = NAN;
    f->group = ap_claims_unit(unit, &f->factor);
}

/* Why a claim is not reproducible here: a measurement it needs is missing (on machine). */
static void missing_why(char *why, size_t wlen, const char *id, const char *machine)
{
    if (machine == NULL)
        snprintf(why, wlen,
                 "measurement %s is not in the results; run a profile or suite that "
                 "measures it",
                 id);
    else
        snprintf(why, wlen,
                 "measurement %s is not in the results of machine %s; run a profile or suite "
                 "that measures it on every machine type",
                 id, machine);
}

/* Finds subject's metric: 1 found, 0 the measurement is missing (why says so), -1 error. */
static int fig_load(const cJSON *results, const char *machine, const struct ap_claim *c,
                    const char *id, struct fig *f, char *why, size_t wlen, ap_error **err)
{
    memset(f, 0, sizeof(*f));
    f->id = id;
    f->m = ap_verdict_find_on(results, id, machine);
    if (f->m == NULL) {
        missing_why(why, wlen, id, machine);
        return 0;
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(f->m, "params");
    const cJSON *withheld = cJSON_GetObjectItemCaseSensitive(params, "ratio_withheld");
    int ratio = c->shape == AP_CLAIM_FRACTION || c->shape == AP_CLAIM_PAIRS ||
                c->kind == AP_CLAIM_ORDERING || c->transfer == AP_CLAIM_TRANSFER_REFERENCE;
    if (withheld != NULL && ratio) {
        snprintf(why, wlen, "the ratio of %s is withheld at this size: %s", id,
                 cJSON_IsString(withheld) ? withheld->valuestring : "see its params");
        return 0;
    }
    if (c->param != NULL)
        return 1;
    f->metric = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f->m, "metrics"),
                                                 c->metric);
    const char *elsewhere = NULL;
    if (!cJSON_IsObject(f->metric) &&
        (elsewhere = unit_elsewhere(results, machine, id, c->metric)) != NULL) {
        f->metric = NULL;
        fig_absent(f, elsewhere);
        return 1;
    }
    if (!cJSON_IsObject(f->metric)) {
        ap_error_make(err, ENOENT, "claim \"%s\": measurement %s has no metric \"%s\"", c->id, id,
                      c->metric);
        return ap_error_hint(err, "name a metric the measurement has (docs/measuring.md)");
    }
    const cJSON *unit = cJSON_GetObjectItemCaseSensitive(f->metric, "unit");
    f->group = ap_claims_unit(cJSON_IsString(unit) ? unit->valuestring : NULL, &f->factor);
    if (f->group == 0)
        return ap_error_make(err, EINVAL,
                             "claim \"%s\": measurement %s: metric %s has no known "
                             "unit",
                             c->id, id, c->metric);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(f->metric, "stats");
    f->status = status_of(f->metric, stats);
    f->ok = strcmp(f->status, "ok") == 0;
    f->median = num_or_nan(stats, "median");
    f->lo = num_or_nan(stats, "ci95_lo");
    f->hi = num_or_nan(stats, "ci95_hi");
    f->coverage = num_or_nan(stats, "ci95_coverage");
    /* An ok figure without an interval is one the bench counted (a size, a count): one exact
     * value, which is its own interval. */
    if (f->ok && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(stats, "n_too_small"))) {
        f->counted = 1;
        f->lo = f->hi = f->median;
        f->coverage = 1;
    }
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    int noisy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "include_noisy"));
    return fig_samples(f, noisy, err) < 0 ? -1 : 1;
}

/* A quantity judged: num[i] (with factor conv into the judged unit) over den[i], or alone. */
struct comp {
    struct fig *a, *b; /* b NULL for a figure */
    double conv;
};

static void comp_interval(const struct comp *q, struct ap_verdict_interval *out)
{
    const struct fig *a = q->a, *b = q->b;
    if (b == NULL) {
        *out = (struct ap_verdict_interval){a->median * q->conv, a->lo * q->conv, a->hi * q->conv,
                                            a->coverage, NULL};
        out->how =
            a->counted ? "counted: the value itself" : "exact: order statistics of the median";
        return;
    }
    out->value = a->median / b->median * q->conv;
    out->low = a->lo / b->hi * q->conv;
    out->high = b->lo > 0 ? a->hi / b->lo * q->conv : INFINITY;
    out->coverage = a->coverage * b->coverage;
    out->how = a->counted && b->counted ? "counted: the ratio of the values themselves"
                                        : "exact: order statistics of both medians";
}

/* Mean of logs, and variance of the mean; a counted figure has none. */
static void side_moments(const struct fig *f, double *mean, double *var_of_mean, double *df_part)
{
    double s = 0, ss = 0;
    for (size_t i = 0; i < f->n; i++)
        s += f->logs[i];
    *mean = f->n > 0 ? s / (double)f->n : NAN;
    if (f->counted || f->n < 2) {
        *mean = f->counted ? log(f->median) : *mean;
        *var_of_mean = 0;
        *df_part = 0;
        return;
    }
    for (size_t i = 0; i < f->n; i++)
        ss += (f->logs[i] - *mean) * (f->logs[i] - *mean);
    double v = ss / (double)(f->n - 1) / (double)f->n;
    *var_of_mean = v;
    *df_part = v * v / (double)(f->n - 1);
}

/* Welch's t on the logarithms over k components (k = 1: one ratio, or one figure: one-sample
 * t), each weighted 1 / k: the log estimate, its standard error and degrees of freedom. */
static void log_test(const struct comp *q, size_t k, double *est, double *se, double *df)
{
    double e = 0, var = 0, dsum = 0;
    for (size_t i = 0; i < k; i++) {
        const struct fig *sides[2] = {q[i].a, q[i].b};
        e += log(q[i].conv) / (double)k;
        for (int s = 0; s < 2; s++) {
            if (sides[s] == NULL)
                continue;
            double mean, v, dp;
            side_moments(sides[s], &mean, &v, &dp);
            e += (s == 0 ? mean : -mean) / (double)k;
            var += v / ((double)k * (double)k);
            dsum += dp / pow((double)k, 4);
        }
    }
    *est = e;
    *se = sqrt(var);
    *df = dsum > 0 ? var * var / dsum : INFINITY;
}

/* P that the truth is on the far side of edge (log) from the log estimate: the one-sided p of
 * "estimate beyond edge". above: the estimate is claimed above the edge. */
static double one_sided(double est, double se, double df, double edge, int above)
{
    if (isinf(edge))
        return (edge < 0) == above ? 0 : 1;
    if (isnan(est))
        return 1;
    double d = above ? est - edge : edge - est;
    if (se == 0) /* exact: a value on the edge is inside the band, as the interval rule says */
        return d >= 0 ? 0 : 1;
    return ap_verdict_t_upper(d / se, isinf(df) ? 1e12 : df);
}

/* The p of a decision on comps[0..k) against the band [lo, hi]. */
static double decision_p(const struct comp *q, size_t k, enum ap_verdict_rule rule, double lo,
                         double hi, double value)
{
    double est, se, df;
    log_test(q, k, &est, &se, &df);
    double llo = lo > 0 ? log(lo) : -INFINITY, lhi = log(hi);
    if (rule == AP_RULE_HOLDS) {
        double p1 = one_sided(est, se, df, llo, 1), p2 = one_sided(est, se, df, lhi, 0);
        return p1 > p2 ? p1 : p2;
    }
    /* contradicted: beyond the edge nearest the estimate */
    return value > hi ? one_sided(est, se, df, lhi, 1) : one_sided(est, se, df, llo, 0);
}

static enum ap_verdict_rule against_band(const struct ap_verdict_interval *m, double lo, double hi)
{
    if (m->low >= lo && m->high <= hi)
        return AP_RULE_HOLDS;
    if (m->high < lo || m->low > hi)
        return AP_RULE_CONTRADICTED;
    return AP_RULE_STRADDLES;
}

/* Everything one claim's judgement loads: its figures and the quantities made of them. */
struct work {
    const struct ap_claim *c;
    const char *machine; /* the machine type judged on, or NULL */
    struct fig figs[2 * AP_CLAIMS_SUBJECTS_MAX + 1];
    size_t n_figs;
    struct comp comps[AP_CLAIMS_SUBJECTS_MAX];
    size_t k;
    int any_missing;
};

static void work_free(struct work *w)
{
    for (size_t i = 0; i < w->n_figs; i++)
        fig_free(&w->figs[i]);
}

/* The figure for id, loaded once per claim. NULL when missing (v says why) or on error. */
static struct fig *work_fig(struct work *w, const cJSON *results, const char *id,
                            struct ap_verdict *v, ap_error **err)
{
    for (size_t i = 0; i < w->n_figs; i++)
        if (strcmp(w->figs[i].id, id) == 0)
            return &w->figs[i];
    struct fig *f = &w->figs[w->n_figs];
    int rc = fig_load(results, w->machine, w->c, id, f, v->why, sizeof(v->why), err);
    if (rc <= 0) {
        fig_free(f);
        w->any_missing = rc == 0;
        return NULL;
    }
    w->n_figs++;
    return f;
}

static int unit_mismatch(const struct ap_claim *c, const struct fig *f, const char *unit,
                         ap_error **err)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(f->metric, "unit");
    ap_error_make(err, EINVAL,
                  "claim \"%s\": field \"published.unit\": %s cannot be converted "
                  "from %s, the unit of %s's %s",
                  c->id, unit, u->valuestring, f->id, c->metric);
    return ap_error_hint(err, "publish the claim in a unit of the same kind (times, bytes, "
                              "rates, counts)");
}

/* The quantities the claim judges: figures converted into the published unit, ratios, or
 * ratios to the reference. 1 built, 0 a measurement is missing, -1 error. */
static int build_comps(struct work *w, const cJSON *results, struct ap_verdict *v, ap_error **err)
{
    const struct ap_claim *c = w->c;
    double fpub = 1;
    int gpub = c->unit != NULL ? ap_claims_unit(c->unit, &fpub) : 5;
    struct fig *ref = NULL;
    if (c->transfer == AP_CLAIM_TRANSFER_REFERENCE &&
        (ref = work_fig(w, results, c->reference, v, err)) == NULL)
        return w->any_missing ? 0 : -1;
    size_t k = c->kind == AP_CLAIM_ORDERING ? c->n - 1 : c->n;
    for (size_t i = 0; i < k; i++) {
        const char *bid = c->kind == AP_CLAIM_ORDERING ? c->num[i + 1] : c->den[i];
        struct fig *a = work_fig(w, results, c->num[i], v, err), *b = NULL;
        if (a == NULL || (bid != NULL && (b = work_fig(w, results, bid, v, err)) == NULL))
            return w->any_missing ? 0 : -1;
        b = b != NULL ? b : ref;
        if (b != NULL && b->group != a->group)
            return unit_mismatch(
                c, b, cJSON_GetObjectItemCaseSensitive(a->metric, "unit")->valuestring, err);
        if (b == NULL && gpub != a->group)
            return unit_mismatch(c, a, c->unit, err);
        w->comps[i] = (struct comp){a, b, b != NULL ? a->factor / b->factor : a->factor / fpub};
    }
    w->k = k;
    return 1;
}

/* The band and the published value judged, in the judged unit. */
static void band(const struct ap_claim *c, struct ap_verdict *v)
{
    double t = 1 + c->tolerance_pct / 100;
    double div = c->transfer == AP_CLAIM_TRANSFER_REFERENCE ? c->reference_published : 1;
    double f = c->scale / div;
    v->unit = c->transfer == AP_CLAIM_TRANSFER_REFERENCE ? "x" : c->unit;
    v->judged_published = NAN;
    switch (c->kind) {
    case AP_CLAIM_VALUE:
    case AP_CLAIM_RATIO:
        v->judged_published = c->value * f;
        v->band_low = v->judged_published / t;
        v->band_high = v->judged_published * t;
        return;
    case AP_CLAIM_RANGE:
        v->band_low = c->low * f / t;
        v->band_high = c->high * f * t;
        return;
    case AP_CLAIM_BOUND:
        v->judged_published = c->bound * f;
        v->band_low = c->has_upper ? 0 : c->bound * f / t;
        v->band_high = c->has_upper ? c->bound * f * t : INFINITY;
        return;
    case AP_CLAIM_ORDERING:
        v->unit = "x";
        v->band_low = c->descending ? 1 / t : 0;
        v->band_high = c->descending ? INFINITY : t;
        return;
    }
}

/* The estimate of the geometric mean of the ratios, and its bootstrap interval when boot. */
static int geomean(const struct work *w, int boot, struct ap_verdict_interval *out)
{
    double s = 0;
    const double *a[AP_CLAIMS_SUBJECTS_MAX], *b[AP_CLAIMS_SUBJECTS_MAX];
    size_t na[AP_CLAIMS_SUBJECTS_MAX], nb[AP_CLAIMS_SUBJECTS_MAX];
    for (size_t i = 0; i < w->k; i++) {
        const struct comp *q = &w->comps[i];
        s += log(q->a->median / q->b->median * q->conv);
        /* A counted figure resamples to itself: its one value. */
        a[i] = q->a->counted ? &q->a->median : q->a->x;
        na[i] = q->a->counted ? 1 : q->a->n;
        b[i] = q->b->counted ? &q->b->median : q->b->x;
        nb[i] = q->b->counted ? 1 : q->b->n;
    }
    *out = (struct ap_verdict_interval){exp(s / (double)w->k), NAN, NAN, NAN,
                                        "bootstrap: percentile, 10000 resamples"};
    if (!boot)
        return 0;
    double lo, hi, conv = 0;
    for (size_t i = 0; i < w->k; i++)
        conv += log(w->comps[i].conv) / (double)w->k;
    if (ap_verdict_bootstrap(a, na, b, nb, w->k, ap_verdict_fnv1a(w->c->id), AP_VERDICT_BOOTSTRAP,
                             &lo, &hi) < 0)
        return -1;
    out->low = lo * exp(conv);
    out->high = hi * exp(conv);
    out->coverage = 0.95;
    return 0;
}

/* measured / published: over the published value, or a range's or bound's nearest edge. */
static double over_published(const struct ap_claim *c, const struct ap_verdict *v, double x)
{
    double f = c->scale / (c->transfer == AP_CLAIM_TRANSFER_REFERENCE ? c->reference_published : 1);
    switch (c->kind) {
    case AP_CLAIM_VALUE:
    case AP_CLAIM_RATIO:
        return x / v->judged_published;
    case AP_CLAIM_RANGE:
        return x < c->low * f ? x / (c->low * f) : x > c->high * f ? x / (c->high * f) : 1;
    case AP_CLAIM_BOUND:
        if (c->has_upper)
            return x > c->bound * f ? x / (c->bound * f) : 1;
        return x < c->bound * f ? x / (c->bound * f) : 1;
    case AP_CLAIM_ORDERING:
        return NAN;
    }
    return NAN;
}

/* Judges each part on its own (each, ordering) and the claim from them: contradicted if any
 * is, holds if all do, else straddles. */
static int judge_parts(struct work *w, struct ap_verdict *v)
{
    v->parts = calloc(w->k, sizeof(*v->parts));
    if (v->parts == NULL)
        return -1;
    v->n_parts = w->k;
    size_t holds = 0, decide = SIZE_MAX;
    double pmin = INFINITY, pmax = 0;
    for (size_t i = 0; i < w->k; i++) {
        struct ap_verdict_part *p = &v->parts[i];
        p->num = w->comps[i].a->id;
        p->den = w->comps[i].b != NULL ? w->comps[i].b->id : NULL;
        comp_interval(&w->comps[i], &p->m);
        p->rule = against_band(&p->m, v->band_low, v->band_high);
        p->p = NAN;
        if (p->rule != AP_RULE_STRADDLES)
            p->p = decision_p(&w->comps[i], 1, p->rule, v->band_low, v->band_high, p->m.value);
        if (p->rule == AP_RULE_HOLDS) {
            holds++;
            pmax = p->p > pmax ? p->p : pmax;
        } else if (p->rule == AP_RULE_CONTRADICTED && p->p < pmin) {
            pmin = p->p;
        }
    }
    v->rule = pmin < INFINITY ? AP_RULE_CONTRADICTED
              : holds == w->k ? AP_RULE_HOLDS
                              : AP_RULE_STRADDLES;
    /* The part shown as the claim's measurement: the first that decides as the claim does;
     * for holds, the weakest (the largest p). */
    for (size_t i = 0; i < w->k && decide == SIZE_MAX; i++)
        if (v->parts[i].rule == v->rule && (v->rule != AP_RULE_HOLDS || v->parts[i].p == pmax) &&
            (v->rule != AP_RULE_CONTRADICTED || v->parts[i].p == pmin))
            decide = i;
    v->measured = v->parts[decide].m;
    v->p = v->rule == AP_RULE_HOLDS ? pmax : v->rule == AP_RULE_CONTRADICTED ? pmin : NAN;
    return 0;
}

static void published_value_text(const struct ap_claim *c, char *buf, size_t len);

/* "21x", "8-20 MB", "<= 30 MB", "descending", "\"1.23\" (prefix)"; judged through a
 * reference: "250 ms vs ref 12 ms" (the verdict's own unit is then x). */
static void published_text(const struct ap_claim *c, char *buf, size_t len)
{
    published_value_text(c, buf, len);
    size_t used = strlen(buf);
    if (c->transfer == AP_CLAIM_TRANSFER_REFERENCE && used < len)
        snprintf(buf + used, len - used, " vs ref %.6g %s", c->reference_published,
                 c->unit != NULL ? c->unit : "");
}

static void published_value_text(const struct ap_claim *c, char *buf, size_t len)
{
    const char *u = c->unit != NULL ? c->unit : "";
    const char *sp = strcmp(u, "x") == 0 ? "" : " ";
    switch (c->kind) {
    case AP_CLAIM_VALUE:
    case AP_CLAIM_RATIO:
        if (c->text != NULL)
            snprintf(buf, len, "\"%s\"%s", c->text, c->prefix ? " (prefix)" : "");
        else
            snprintf(buf, len, "%.6g%s%s", c->value, sp, u);
        return;
    case AP_CLAIM_RANGE:
        snprintf(buf, len, "%.6g-%.6g%s%s", c->low, c->high, sp, u);
        return;
    case AP_CLAIM_BOUND:
        snprintf(buf, len, "%s %.6g%s%s", c->has_upper ? "<=" : ">=", c->bound, sp, u);
        return;
    case AP_CLAIM_ORDERING:
        snprintf(buf, len, "%s", c->descending ? "descending" : "ascending");
        return;
    }
}

static void measured_text(const struct ap_verdict *v, char *buf, size_t len)
{
    const struct ap_verdict_interval *m = &v->measured;
    const char *u = v->unit != NULL ? v->unit : "";
    const char *sp = strcmp(u, "x") == 0 ? "" : " ";
    if (v->measured_text != NULL)
        snprintf(buf, len, "\"%s\"", v->measured_text);
    else if (isnan(m->value) && isfinite(m->low) && isfinite(m->high))
        snprintf(buf, len, "%.4g-%.4g%s%s (each)", m->low, m->high, sp, u);
    else if (isnan(m->value))
        snprintf(buf, len, "-");
    else if (isnan(m->low) || m->low == m->high)
        snprintf(buf, len, "%.4g%s%s", m->value, sp, u);
    else
        snprintf(buf, len, "%.4g%s%s (%.4g-%.4g, %.1f %%)", m->value, sp, u, m->low, m->high,
                 m->coverage * 100);
}

static void set_rule(struct ap_verdict *v, enum ap_verdict_rule r)
{
    static const enum ap_verdict_kind of[] = {[AP_RULE_NOT_REPRODUCIBLE] =
                                                  AP_VERDICT_NOT_REPRODUCIBLE,
                                              [AP_RULE_NOT_COMPARABLE] = AP_VERDICT_NOT_COMPARABLE,
                                              [AP_RULE_STATUS] = AP_VERDICT_INCONCLUSIVE,
                                              [AP_RULE_HOLDS] = AP_VERDICT_HOLDS,
                                              [AP_RULE_CONTRADICTED] = AP_VERDICT_CONTRADICTED,
                                              [AP_RULE_STRADDLES] = AP_VERDICT_INCONCLUSIVE,
                                              [AP_RULE_FDR] = AP_VERDICT_INCONCLUSIVE};
    v->rule = r;
    v->verdict = of[r];
    v->discovery = r == AP_RULE_HOLDS || r == AP_RULE_CONTRADICTED;
}

/* A text value: the subject's params.<param> against the published text, exactly. */
static void judge_text(const struct ap_claim *c, const cJSON *results, struct ap_verdict *v)
{
    const cJSON *m = ap_verdict_find_on(results, c->num[0], v->machine);
    const cJSON *t =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "params"), c->param);
    if (m == NULL || !cJSON_IsString(t)) {
        if (m == NULL)
            missing_why(v->why, sizeof(v->why), c->num[0], v->machine);
        else
            snprintf(v->why, sizeof(v->why), "measurement %s has no text params.version",
                     c->num[0]);
        set_rule(v, AP_RULE_NOT_REPRODUCIBLE);
        return;
    }
    v->measured_text = t->valuestring;
    int same = c->prefix ? strncmp(t->valuestring, c->text, strlen(c->text)) == 0
                         : strcmp(t->valuestring, c->text) == 0;
    if (c->transfer == AP_CLAIM_TRANSFER_NONE) {
        set_rule(v, AP_RULE_NOT_COMPARABLE);
        snprintf(v->why, sizeof(v->why), "not comparable across machines");
        return;
    }
    set_rule(v, same ? AP_RULE_HOLDS : AP_RULE_CONTRADICTED);
    v->p = 0; /* exact */
    snprintf(v->why, sizeof(v->why), "measured \"%.100s\" against \"%.100s\" (%s match)",
             t->valuestring, c->text, c->prefix ? "prefix" : "exact");
}

/* Rules 4 to 6 on built quantities: the interval against the band, and the decision's p. */
static int judge_interval(struct work *w, struct ap_verdict *v)
{
    const struct ap_claim *c = w->c;
    if (c->aggregate == AP_CLAIM_AGG_EACH || c->kind == AP_CLAIM_ORDERING) {
        if (judge_parts(w, v) < 0)
            return -1;
        set_rule(v, v->rule);
        return 0;
    }
    if (c->aggregate == AP_CLAIM_AGG_GEOMEAN) {
        if (geomean(w, 1, &v->measured) < 0)
            return -1;
    } else {
        comp_interval(&w->comps[0], &v->measured);
    }
    set_rule(v, against_band(&v->measured, v->band_low, v->band_high));
    if (v->discovery)
        v->p = decision_p(w->comps, w->k, v->rule, v->band_low, v->band_high, v->measured.value);
    return 0;
}

/* The estimate alone (no interval needed), for the verdicts that are not judged. */
static void estimate_only(struct work *w, struct ap_verdict *v)
{
    for (size_t i = 0; i < w->n_figs; i++)
        if (isnan(w->figs[i].median))
            return;
    if (w->c->aggregate == AP_CLAIM_AGG_GEOMEAN) {
        geomean(w, 0, &v->measured);
    } else if (w->k == 1) {
        comp_interval(&w->comps[0], &v->measured);
    } else if (w->k > 1) {
        /* Several figures judged each on their own: their estimates, lowest to highest. */
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < w->k; i++) {
            struct ap_verdict_interval one;
            comp_interval(&w->comps[i], &one);
            lo = fmin(lo, one.value);
            hi = fmax(hi, one.value);
        }
        v->measured = (struct ap_verdict_interval){NAN, lo, hi, NAN,
                                                   "each: the parts' estimates, lowest to highest"};
    }
}

static void why_judged(const struct ap_claim *c, struct ap_verdict *v)
{
    const struct ap_verdict_interval *m = &v->measured;
    char tol[48] = "";
    if (c->tolerance_pct > 0)
        snprintf(tol, sizeof(tol), " +-%g %%", c->tolerance_pct);
    snprintf(v->why, sizeof(v->why), "measured %s against %s%s%s%s", v->measured_display,
             v->published_text, tol,
             c->transfer == AP_CLAIM_TRANSFER_REFERENCE ? " (as a ratio to the reference "
                                                          "against published / reference)"
                                                        : "",
             m->how != NULL && strncmp(m->how, "bootstrap", 9) == 0 ? "; interval by bootstrap"
                                                                    : "");
}

static int judge_figures(const struct ap_claim *c, const cJSON *results, struct ap_verdict *v,
                         ap_error **err)
{
    struct work *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return ap_error_make(err, ENOMEM, "claim %s", c->id);
    w->c = c;
    w->machine = v->machine;
    int rc = build_comps(w, results, v, err);
    if (rc <= 0) {
        if (rc == 0)
            set_rule(v, AP_RULE_NOT_REPRODUCIBLE);
        goto out;
    }
    rc = 0;
    band(c, v);
    if (c->transfer == AP_CLAIM_TRANSFER_NONE) {
        set_rule(v, AP_RULE_NOT_COMPARABLE);
        estimate_only(w, v);
        measured_text(v, v->measured_display, sizeof(v->measured_display));
        snprintf(v->why, sizeof(v->why),
                 "not comparable across machines: measured %s, "
                 "published %s",
                 v->measured_display, v->published_text);
        goto out;
    }
    for (size_t i = 0; i < w->n_figs; i++)
        if (!w->figs[i].ok) {
            set_rule(v, AP_RULE_STATUS);
            estimate_only(w, v);
            snprintf(v->why, sizeof(v->why), "%s %s is %s: no verdict can stand on it",
                     w->figs[i].id, c->metric, w->figs[i].status);
            goto out;
        }
    if (judge_interval(w, v) < 0) {
        rc = ap_error_make(err, ENOMEM, "claim %s", c->id);
        goto out;
    }
    measured_text(v, v->measured_display, sizeof(v->measured_display));
    why_judged(c, v);
out:
    measured_text(v, v->measured_display, sizeof(v->measured_display));
    work_free(w);
    free(w);
    return rc;
}

static int judge_claim(const struct ap_claim *c, const cJSON *results, const char *machine,
                       struct ap_verdict *v, ap_error **err)
{
    memset(v, 0, sizeof(*v));
    v->claim = c;
    v->machine = machine;
    v->p = v->q = v->measured_over_published = NAN;
    v->band_low = v->band_high = v->judged_published = NAN;
    v->measured = (struct ap_verdict_interval){NAN, NAN, NAN, NAN, NULL};
    published_text(c, v->published_text, sizeof(v->published_text));
    if (c->not_reproducible != NULL) {
        set_rule(v, AP_RULE_NOT_REPRODUCIBLE);
        snprintf(v->why, sizeof(v->why), "%s", c->not_reproducible);
    } else if (c->param != NULL) {
        judge_text(c, results, v);
    } else if (judge_figures(c, results, v, err) < 0) {
        return -1;
    }
    if (!isnan(v->measured.value) && v->measured_text == NULL)
        v->measured_over_published = over_published(c, v, v->measured.value);
    measured_text(v, v->measured_display, sizeof(v->measured_display));
    return 0;
}

/* Rule 7: Benjamini-Hochberg over the discoveries on machine (all of them when NULL); those it
 * does not keep are inconclusive. Returns how many discoveries it tested, or -1 (ENOMEM). */
static long control_fdr(struct ap_verdicts *out, const char *machine)
{
    cleanup_free double *p = calloc(out->n + 1, sizeof(double));
    cleanup_free double *q = calloc(out->n + 1, sizeof(double));
    cleanup_free size_t *idx = calloc(out->n + 1, sizeof(size_t));
    if (p == NULL || q == NULL || idx == NULL)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < out->n; i++)
        if (out->v[i].discovery && (machine == NULL || strcmp(out->v[i].machine, machine) == 0)) {
            idx[m] = i;
            p[m++] = out->v[i].p;
        }
    if (ap_report_bh_adjust(p, m, q) < 0)
        return -1;
    for (size_t j = 0; j < m; j++) {
        struct ap_verdict *v = &out->v[idx[j]];
        v->q = q[j];
        if (!(q[j] <= AP_VERDICT_FDR_Q)) {
            enum ap_verdict_kind was = v->verdict;
            set_rule(v, AP_RULE_FDR);
            v->discovery = 1;
            size_t len = strlen(v->why);
            snprintf(v->why + len, sizeof(v->why) - len,
                     "; would be %s, but p = %.3g gives "
                     "q = %.3g > %g",
                     ap_verdict_name(was), v->p, v->q, AP_VERDICT_FDR_Q);
        }
    }
    return (long)m;
}

/* False-discovery control within each machine type's verdicts, not across all of them: each
 * machine's column answers "does the claim hold on this machine type?" with the guarantee a
 * single-machine run gives (q = 0.05 over that column), and a machine's verdicts are then
 * exactly those of judging its measurements alone: adding a machine type to a campaign never
 * changes another's verdicts, and an unsharded run on one machine type compares with it. */
static int control_fdr_all(struct ap_verdicts *out)
{
    if (out->n_machines == 0) {
        long m = control_fdr(out, NULL);
        out->m = m < 0 ? 0 : (size_t)m;
        return m < 0 ? -1 : 0;
    }
    for (size_t k = 0; k < out->n_machines; k++) {
        long m = control_fdr(out, out->machines[k].id);
        if (m < 0)
            return -1;
        out->machines[k].m = (size_t)m;
        out->m += (size_t)m;
    }
    return 0;
}

int ap_verdict_judge(const struct ap_claims *c, const cJSON *results, struct ap_verdicts *out,
                     ap_error **err)
{
    memset(out, 0, sizeof(*out));
    if (ap_verdict_machines(results, &out->machines, &out->n_machines, err) < 0)
        return ap_error_wrap(err, "judging the claims");
    size_t per = out->n_machines > 0 ? out->n_machines : 1;
    out->v = calloc(c->n_claims * per + 1, sizeof(*out->v));
    if (out->v == NULL) {
        ap_verdicts_free(out);
        return ap_error_make(err, ENOMEM, "judging the claims");
    }
    for (size_t i = 0; i < c->n_claims; i++)
        for (size_t k = 0; k < per; k++) {
            const char *machine = out->n_machines > 0 ? out->machines[k].id : NULL;
            if (judge_claim(&c->claims[i], results, machine, &out->v[out->n], err) < 0) {
                if (machine != NULL)
                    ap_error_wrap(err, "on machine %s", machine);
                ap_verdicts_free(out);
                return -1;
            }
            out->n++;
        }
    if (control_fdr_all(out) < 0) {
        ap_verdicts_free(out);
        return ap_error_make(err, ENOMEM, "judging the claims");
    }
    for (size_t i = 0; i < out->n; i++) {
        out->counts[out->v[i].verdict]++;
        for (size_t k = 0; k < out->n_machines; k++)
            if (strcmp(out->v[i].machine, out->machines[k].id) == 0)
                out->machines[k].counts[out->v[i].verdict]++;
    }
    return 0;
}

void ap_verdicts_free(struct ap_verdicts *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i].parts);
    free(v->v);
    free(v->machines);
    memset(v, 0, sizeof(*v));
}
