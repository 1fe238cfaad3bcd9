/* The comparison of two runs as JSON and as a table (compare.h). */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "stats.h"

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A string member of a run's record, or null. */
static void add_str_or_null(cJSON *o, const char *key, const cJSON *from)
{
    const cJSON *v = get(from, key);
    if (cJSON_IsString(v))
        cJSON_AddStringToObject(o, key, v->valuestring);
    else
        cJSON_AddNullToObject(o, key);
}

/* JSON has no NaN or infinity: those become null. */
static void add_num(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_run(cJSON *j, const char *key, const cJSON *doc, const char *path)
{
    cJSON *r = cJSON_AddObjectToObject(j, key);
    const cJSON *run = get(doc, "run");
    cJSON_AddStringToObject(r, "path", path != NULL ? path : "");
    const cJSON *id = get(run, "id");
    if (cJSON_IsString(id))
        cJSON_AddStringToObject(r, "run_id", id->valuestring);
    else
        cJSON_AddNullToObject(r, "run_id");
    add_str_or_null(r, "profile", run);
    cJSON_AddBoolToObject(r, "complete", cJSON_IsTrue(get(run, "complete")));
    cJSON_AddNumberToObject(r, "measurements", cJSON_GetArraySize(get(doc, "measurements")));
}

static const char *direction_name(const struct ap_compare_row *r)
{
    int p = r->direction;
    return p > 0 ? "higher_is_better" : p < 0 ? "lower_is_better" : "none";
}

static void add_row(cJSON *rows, const struct ap_compare_row *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(rows, o);
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "metric", r->metric);
    cJSON_AddStringToObject(o, "unit", r->unit);
    cJSON_AddStringToObject(o, "direction", direction_name(r));
    cJSON_AddNumberToObject(o, "n_a", (double)r->na);
    cJSON_AddNumberToObject(o, "n_b", (double)r->nb);
    add_num(o, "median_a", r->median_a);
    add_num(o, "median_b", r->median_b);
    add_num(o, "ratio", r->ratio);
    add_num(o, "change_pct", r->change_pct);
    cJSON_AddStringToObject(o, "test", ap_compare_test_name(r->test));
    add_num(o, "p", r->p);
    add_num(o, "p_adjusted", r->p_adjusted);
    add_num(o, "p_mann_whitney", r->p_mwu);
    add_num(o, "mann_whitney_u", r->u);
    if (isnan(r->p_mwu))
        cJSON_AddNullToObject(o, "mann_whitney_exact");
    else
        cJSON_AddBoolToObject(o, "mann_whitney_exact", r->mwu_exact);
    add_num(o, "p_welch", r->p_welch);
    add_num(o, "welch_t", r->t);
    add_num(o, "welch_df", r->df);
    cJSON_AddBoolToObject(o, "significant_uncorrected", r->significant_raw);
    cJSON_AddBoolToObject(o, "significant", r->significant);
    add_num(o, "min_effect_pct", r->min_effect_pct);
    cJSON_AddBoolToObject(o, "reaches_min_effect", r->reaches_min_effect);
    cJSON_AddStringToObject(o, "verdict", ap_compare_verdict_name(r->verdict));
    if (r->better != 0)
        cJSON_AddStringToObject(o, "better", r->better > 0 ? "b" : "a");
    else
        cJSON_AddNullToObject(o, "better");
}

static void add_summary(cJSON *j, const struct ap_compare *c)
{
    cJSON *s = cJSON_AddObjectToObject(j, "summary");
    cJSON_AddNumberToObject(s, "comparisons", (double)c->n_rows);
    cJSON_AddNumberToObject(s, "tested", (double)c->n_tested);
    cJSON_AddNumberToObject(s, "significant_uncorrected", (double)c->n_significant_raw);
    cJSON_AddNumberToObject(s, "expected_by_chance", c->alpha * (double)c->n_tested);
    cJSON_AddNumberToObject(s, "significant", (double)c->n_significant);
    cJSON_AddNumberToObject(s, "changed", (double)c->n_changed);
    cJSON_AddNumberToObject(s, "exact", (double)c->n_exact);
    cJSON_AddNumberToObject(s, "exact_differ", (double)c->n_exact_differ);
    cJSON_AddNumberToObject(s, "exact_changed", (double)c->n_exact_changed);
}

cJSON *ap_compare_to_json(const struct ap_compare *c, const cJSON *a, const char *a_path,
                          const cJSON *b, const char *b_path)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    cJSON_AddStringToObject(j, "schema", AP_COMPARE_SCHEMA);
    add_run(j, "a", a, a_path);
    add_run(j, "b", b, b_path);
    cJSON_AddNumberToObject(j, "alpha", c->alpha);
    cJSON_AddStringToObject(j, "correction", "benjamini-hochberg");
    cJSON *me = cJSON_AddObjectToObject(j, "min_effect");
    cJSON_AddNumberToObject(me, "default_pct", AP_REPORT_MIN_EFFECT_DEFAULT);
    add_num(me, "override_pct", c->min_effect_override);
    cJSON *rule = cJSON_AddObjectToObject(j, "rule");
    cJSON_AddNumberToObject(rule, "mann_whitney_min_n", AP_COMPARE_MWU_MIN_N);
    cJSON_AddNumberToObject(rule, "welch_min_n", 2);
    cJSON_AddNumberToObject(rule, "exact_max_n", AP_COMPARE_EXACT_MAX_N);
    cJSON_AddStringToObject(rule, "exact_suites", "size");
    cJSON *rows = cJSON_AddArrayToObject(j, "comparisons");
    for (size_t i = 0; i < c->n_rows; i++)
        add_row(rows, &c->rows[i]);
    cJSON *oa = cJSON_AddArrayToObject(j, "only_in_a");
    for (size_t i = 0; i < c->n_only_a; i++)
        cJSON_AddItemToArray(oa, cJSON_CreateString(c->only_a[i]));
    cJSON *ob = cJSON_AddArrayToObject(j, "only_in_b");
    for (size_t i = 0; i < c->n_only_b; i++)
        cJSON_AddItemToArray(ob, cJSON_CreateString(c->only_b[i]));
    cJSON *w = cJSON_AddArrayToObject(j, "warnings");
    for (size_t i = 0; i < c->n_warnings; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(c->warnings[i]));
    add_summary(j, c);
    return j;
}

/* Four significant digits, never an exponent. */
static const char *num(double v, char *buf, size_t len)
{
    double a = fabs(v);
    snprintf(buf, len, a >= 1000 ? "%.0f" : a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : "%.3f", v);
    return buf;
}

/* A value in a unit a reader takes in at a glance: 12.34 ms, 43.16 MiB, 81511 req/s. */
static const char *human(double v, const char *unit, char *buf, size_t len)
{
    char n[32];
    if (!isfinite(v)) {
        snprintf(buf, len, "-");
    } else if (strcmp(unit, "s") == 0 || strcmp(unit, "ms") == 0) {
        double s = strcmp(unit, "ms") == 0 ? v / 1000 : v;
        double a = fabs(s);
        if (a >= 1 || a == 0)
            snprintf(buf, len, "%s s", num(s, n, sizeof(n)));
        else if (a >= 1e-3)
            snprintf(buf, len, "%s ms", num(s * 1e3, n, sizeof(n)));
        else
            snprintf(buf, len, "%s us", num(s * 1e6, n, sizeof(n)));
    } else if (strcmp(unit, "B") == 0) {
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        size_t u = 0;
        double x = v;
        while (fabs(x) >= 1024 && u + 1 < AP_ARRAY_SIZE(units)) {
            x /= 1024;
            u++;
        }
        if (u == 0)
            snprintf(buf, len, "%.0f B", x);
        else
            snprintf(buf, len, "%s %s", num(x, n, sizeof(n)), units[u]);
    } else if (strcmp(unit, "count") == 0 || strcmp(unit, "bool") == 0) {
        snprintf(buf, len, v == floor(v) ? "%.0f" : "%.2f", v);
    } else {
        snprintf(buf, len, "%s %s", num(v, n, sizeof(n)), unit);
    }
    return buf;
}

/* A change the table shows without --all: significant and reaching the minimum effect. */
static int is_change(const struct ap_compare_row *r)
{
    return r->verdict != AP_COMPARE_SAME && r->verdict != AP_COMPARE_TOO_FEW;
}

static const char *p_text(double p, char *buf, size_t len)
{
    if (isnan(p))
        snprintf(buf, len, "-");
    else if (p < 0.001)
        snprintf(buf, len, "<0.001");
    else
        snprintf(buf, len, "%.3f", p);
    return buf;
}

static void print_row(FILE *out, const struct ap_compare_row *r, int wid, int wmet)
{
    char ma[64], mb[64], ch[24], p[24], q[24], note[64] = "";
    if (isfinite(r->change_pct))
        snprintf(ch, sizeof(ch), "%+.1f%%", r->change_pct);
    else
        snprintf(ch, sizeof(ch), "n/a");
    if (r->better != 0)
        snprintf(note, sizeof(note), r->better > 0 ? " (better)" : " (worse)");
    else if (r->significant && !r->reaches_min_effect)
        snprintf(note, sizeof(note), " (significant, below the %g%% minimum effect)",
                 r->min_effect_pct);
    fprintf(out, "%-*s  %-*s  %12s  %12s  %8s  %7s  %7s  %-12s  %s%s\n", wid, r->id, wmet,
            r->metric, human(r->median_a, r->unit, ma, sizeof(ma)),
            human(r->median_b, r->unit, mb, sizeof(mb)), ch, p_text(r->p, p, sizeof(p)),
            p_text(r->p_adjusted, q, sizeof(q)), ap_compare_test_name(r->test),
            ap_compare_verdict_name(r->verdict), note);
}

/* The closing lines: what was compared and how, then the tests made and what they show. */
static void print_counts(FILE *out, const struct ap_compare *c)
{
    char effect[96];
    if (isnan(c->min_effect_override))
        snprintf(effect, sizeof(effect), "%g%% unless the metric has its own",
                 AP_REPORT_MIN_EFFECT_DEFAULT);
    else
        snprintf(effect, sizeof(effect), "%g%% for every metric", c->min_effect_override);
    fprintf(out,
            "%zu comparisons: %zu tested (Mann-Whitney U where both runs have %d or more "
            "samples, else Welch's t), %zu exact (counted figures: %zu differ, %zu by at least the "
            "minimum effect), %zu with too few samples; minimum effect %s\n",
            c->n_rows, c->n_tested, AP_COMPARE_MWU_MIN_N, c->n_exact, c->n_exact_differ,
            c->n_exact_changed, c->n_rows - c->n_tested - c->n_exact, effect);
    fprintf(out,
            "%zu tests made: %zu significant after Benjamini-Hochberg at q %g, %zu of them by at "
            "least the minimum effect; without the correction %zu had p <= %g, where about %.1f "
            "would by chance alone\n",
            c->n_tested, c->n_significant, c->alpha, c->n_changed, c->n_significant_raw, c->alpha,
            c->alpha * (double)c->n_tested);
}

void ap_compare_print(FILE *out, const struct ap_compare *c, int all)
{
    int wid = (int)strlen("measurement"), wmet = (int)strlen("metric");
    size_t shown = 0;
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct ap_compare_row *r = &c->rows[i];
        if (!all && !is_change(r))
            continue;
        shown++;
        if ((int)strlen(r->id) > wid)
            wid = (int)strlen(r->id);
        if ((int)strlen(r->metric) > wmet)
            wmet = (int)strlen(r->metric);
    }
    if (shown > 0)
        fprintf(out, "%-*s  %-*s  %12s  %12s  %8s  %7s  %7s  %-12s  %s\n", wid, "measurement", wmet,
                "metric", "A median", "B median", "change", "p", "q (BH)", "test",
                "verdict (B vs A)");
    for (size_t i = 0; i < c->n_rows; i++)
        if (all || is_change(&c->rows[i]))
            print_row(out, &c->rows[i], wid, wmet);
    for (size_t i = 0; i < c->n_only_a; i++)
        fprintf(out, "only in A: %s\n", c->only_a[i]);
    for (size_t i = 0; i < c->n_only_b; i++)
        fprintf(out, "only in B: %s\n", c->only_b[i]);
    if (shown == 0 && c->n_rows > 0 && !all)
        fprintf(out, "no change\n");
    print_counts(out, c);
}

int ap_compare_print_json(FILE *out, const struct ap_compare *c, const cJSON *a, const char *a_path,
                          const cJSON *b, const char *b_path, ap_error **err)
{
    cJSON *j = ap_compare_to_json(c, a, a_path, b, b_path);
    char *s = j != NULL ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (s == NULL)
        return ap_error_make(err, ENOMEM, "printing the comparison");
    fprintf(out, "%s\n", s);
    free(s);
    return 0;
}
