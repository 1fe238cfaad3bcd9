/* The verdicts document, appliance-verdicts-1 (verdict.h, verdicts.schema.json). Built in a
 * fixed order from the verdicts alone, so that judging twice gives the same bytes. */
#include <math.h>
#include <string.h>

#include "verdict.h"

const char *ap_verdict_name(enum ap_verdict_kind k)
{
    switch (k) {
    case AP_VERDICT_HOLDS:
        return "holds";
    case AP_VERDICT_CONTRADICTED:
        return "contradicted";
    case AP_VERDICT_INCONCLUSIVE:
        return "inconclusive";
    case AP_VERDICT_NOT_COMPARABLE:
        return "not comparable";
    case AP_VERDICT_NOT_REPRODUCIBLE:
        return "not reproducible here";
    }
    return "?";
}

const char *ap_verdict_rule_text(enum ap_verdict_rule r)
{
    switch (r) {
    case AP_RULE_NOT_REPRODUCIBLE:
        return "not reproducible here: the claim cannot be measured by this run";
    case AP_RULE_NOT_COMPARABLE:
        return "not comparable: not comparable across machines";
    case AP_RULE_STATUS:
        return "inconclusive, status: a figure the claim uses is not ok";
    case AP_RULE_HOLDS:
        return "holds: the interval lies inside the band";
    case AP_RULE_CONTRADICTED:
        return "contradicted: the interval lies wholly outside the band";
    case AP_RULE_STRADDLES:
        return "inconclusive, straddles: the interval overlaps an edge of the band";
    case AP_RULE_FDR:
        return "inconclusive, not significant after false-discovery control";
    }
    return "?";
}

/* A number, or null where it is undefined (NaN, infinite). */
static cJSON *num(double x)
{
    return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull();
}

/* Adds item to obj under key; a NULL obj or item (out of memory) sets *oom. */
static void put(cJSON *obj, const char *key, cJSON *item, int *oom)
{
    if (obj != NULL && item != NULL && cJSON_AddItemToObject(obj, key, item))
        return;
    cJSON_Delete(item);
    *oom = 1;
}

/* A string, or null for none. */
static cJSON *str_or_null(const char *s)
{
    if (s == NULL)
        return cJSON_CreateNull();
    return cJSON_CreateString(s);
}

static void push(cJSON *arr, cJSON *item, int *oom)
{
    if (item == NULL || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        *oom = 1;
    }
}

static cJSON *interval(const struct ap_verdict_interval *m, int *oom)
{
    if (isnan(m->value))
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    put(o, "value", num(m->value), oom);
    put(o, "low", num(m->low), oom);
    put(o, "high", num(m->high), oom);
    put(o, "coverage", num(m->coverage), oom);
    put(o, "interval", str_or_null(m->how), oom);
    return o;
}

static int listed(const cJSON *figs, const char *id)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, figs)
    {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(f, "id")->valuestring, id) == 0)
            return 1;
    }
    return 0;
}

/* One figure the claim uses, as the results hold it. */
static void figure(cJSON *figs, const struct ap_verdict *v, const cJSON *results, const char *id,
                   int *oom)
{
    const struct ap_claim *c = v->claim;
    if (id == NULL || listed(figs, id))
        return;
    const cJSON *m = ap_verdict_find_on(results, id, v->machine);
    const cJSON *metric = c->metric == NULL
                              ? NULL
                              : cJSON_GetObjectItemCaseSensitive(
                                    cJSON_GetObjectItemCaseSensitive(m, "metrics"), c->metric);
    const cJSON *stats = cJSON_GetObjectItemCaseSensitive(metric, "stats");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(metric, "status");
    const cJSON *median = cJSON_GetObjectItemCaseSensitive(stats, "median");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(stats, "n");
    cJSON *f = cJSON_CreateObject();
    push(figs, f, oom);
    if (f == NULL)
        return;
    put(f, "id", cJSON_CreateString(id), oom);
    put(f, "metric", str_or_null(c->metric != NULL ? c->metric : NULL), oom);
    if (m == NULL) {
        put(f, "status", cJSON_CreateString("missing"), oom);
        return;
    }
    put(f, "status", str_or_null(cJSON_IsString(status) ? status->valuestring : NULL), oom);
    put(f, "median", num(cJSON_IsNumber(median) ? median->valuedouble : NAN), oom);
    put(f, "n", num(cJSON_IsNumber(n) ? n->valuedouble : NAN), oom);
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(m, "params");
    put(f, "params", params != NULL ? cJSON_Duplicate(params, 1) : cJSON_CreateObject(), oom);
}

static cJSON *figures(const struct ap_verdict *v, const cJSON *results, int *oom)
{
    const struct ap_claim *c = v->claim;
    cJSON *figs = cJSON_CreateArray();
    if (figs == NULL || c->not_reproducible != NULL)
        return figs;
    for (size_t i = 0; i < c->n; i++) {
        figure(figs, v, results, c->num[i], oom);
        figure(figs, v, results, c->den[i], oom);
    }
    figure(figs, v, results, c->reference, oom);
    return figs;
}

static cJSON *parts(const struct ap_verdict *v, int *oom)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < v->n_parts; i++) {
        const struct ap_verdict_part *p = &v->parts[i];
        cJSON *o = cJSON_CreateObject();
        push(a, o, oom);
        if (o == NULL)
            break;
        put(o, "numerator", cJSON_CreateString(p->num), oom);
        put(o, "denominator", str_or_null(p->den), oom);
        put(o, "measured", interval(&p->m, oom), oom);
        put(o, "verdict",
            cJSON_CreateString(p->rule == AP_RULE_HOLDS          ? "holds"
                               : p->rule == AP_RULE_CONTRADICTED ? "contradicted"
                                                                 : "straddles"),
            oom);
        put(o, "p", num(p->p), oom);
    }
    return a;
}

static cJSON *one(const struct ap_verdict *v, const cJSON *results, int *oom)
{
    const struct ap_claim *c = v->claim;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    put(o, "id", cJSON_CreateString(c->id), oom);
    if (v->machine != NULL)
        put(o, "machine", cJSON_CreateString(v->machine), oom);
    put(o, "section", cJSON_CreateString(c->section), oom);
    put(o, "where", cJSON_CreateString(c->where), oom);
    put(o, "quote", cJSON_CreateString(c->quote), oom);
    put(o, "kind", cJSON_CreateString(ap_claims_kind_name(c->kind)), oom);
    put(o, "metric", str_or_null(c->metric != NULL ? c->metric : c->param), oom);
    put(o, "unit", str_or_null(v->unit), oom);
    put(o, "published", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(c->json, "published"), 1),
        oom);
    put(o, "judged_published", num(v->judged_published), oom);
    cJSON *band = isnan(v->band_low) ? cJSON_CreateNull() : cJSON_CreateObject();
    if (band != NULL && cJSON_IsObject(band)) {
        put(band, "low", num(v->band_low), oom);
        put(band, "high", num(v->band_high), oom);
    }
    put(o, "band", band, oom);
    put(o, "measured", interval(&v->measured, oom), oom);
    if (v->measured_text != NULL)
        put(o, "measured_text", cJSON_CreateString(v->measured_text), oom);
    put(o, "measured_over_published", num(v->measured_over_published), oom);
    put(o, "figures", figures(v, results, oom), oom);
    if (v->n_parts > 0)
        put(o, "parts", parts(v, oom), oom);
    put(o, "verdict", cJSON_CreateString(ap_verdict_name(v->verdict)), oom);
    put(o, "rule", cJSON_CreateString(ap_verdict_rule_text(v->rule)), oom);
    put(o, "why", cJSON_CreateString(v->why), oom);
    put(o, "p", num(v->discovery ? v->p : NAN), oom);
    put(o, "q", num(v->discovery ? v->q : NAN), oom);
    return o;
}

static cJSON *head(const struct ap_claims *c, const cJSON *results,
                   const struct ap_verdict_inputs *in, int *oom)
{
    cJSON *d = cJSON_CreateObject();
    if (d == NULL)
        return NULL;
    put(d, "schema", cJSON_CreateString(AP_VERDICTS_SCHEMA), oom);
    cJSON *claims = cJSON_CreateObject(), *res = cJSON_CreateObject(), *src = cJSON_CreateObject();
    put(d, "claims", claims, oom);
    put(d, "results", res, oom);
    put(d, "source", src, oom);
    if (*oom)
        return d;
    put(claims, "path", cJSON_CreateString(in->claims_name), oom);
    put(claims, "sha256", cJSON_CreateString(c->sha256), oom);
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(run, "profile");
    put(res, "sha256", cJSON_CreateString(in->results_sha256), oom);
    put(res, "run", str_or_null(cJSON_IsString(id) ? id->valuestring : NULL), oom);
    put(res, "profile", str_or_null(cJSON_IsString(profile) ? profile->valuestring : NULL), oom);
    put(src, "title", cJSON_CreateString(c->title), oom);
    put(src, "url", str_or_null(c->url), oom);
    put(src, "date", str_or_null(c->date), oom);
    put(src, "document", cJSON_CreateString(c->document), oom);
    put(src, "sha256", cJSON_CreateString(c->source_sha256), oom);
    put(src, "checked", cJSON_CreateBool(in->source_checked), oom);
    if (!in->source_checked)
        put(src, "note", cJSON_CreateString("source text not checked"), oom);
    return d;
}

static cJSON *counts_of(const size_t counts[AP_VERDICT_KINDS], size_t untestable, int *oom)
{
    cJSON *cn = cJSON_CreateObject();
    for (int k = 0; cn != NULL && k < AP_VERDICT_KINDS; k++)
        put(cn, ap_verdict_name((enum ap_verdict_kind)k), cJSON_CreateNumber((double)counts[k]),
            oom);
    put(cn, "untestable", cJSON_CreateNumber((double)untestable), oom);
    return cn;
}

/* The machine types judged on, each with its own counts (several machine types only). */
static cJSON *machines(const struct ap_claims *c, const struct ap_verdicts *v, int *oom)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t k = 0; a != NULL && k < v->n_machines; k++) {
        const struct ap_verdict_machine *m = &v->machines[k];
        cJSON *o = cJSON_CreateObject();
        push(a, o, oom);
        if (o == NULL)
            break;
        put(o, "id", cJSON_CreateString(m->id), oom);
        put(o, "cpu_model", cJSON_CreateString(m->cpu_model), oom);
        put(o, "kernel", cJSON_CreateString(m->kernel), oom);
        put(o, "fdr_m", cJSON_CreateNumber((double)m->m), oom);
        put(o, "counts", counts_of(m->counts, c->n_untestable, oom), oom);
    }
    return a;
}

cJSON *ap_verdict_document(const struct ap_claims *c, const cJSON *results,
                           const struct ap_verdicts *v, const struct ap_verdict_inputs *in)
{
    int oom = 0;
    cJSON *d = head(c, results, in, &oom);
    cJSON *fdr = cJSON_CreateObject(), *list = cJSON_CreateArray(), *unt = cJSON_CreateArray();
    cJSON *counts = cJSON_CreateObject();
    if (d == NULL) {
        oom = 1;
        goto out;
    }
    /* The claims file's sections, in order: the reports are laid out by them. */
    put(d, "sections", cJSON_Duplicate(c->sections, 1), &oom);
    if (v->n_machines > 0)
        put(d, "machines", machines(c, v, &oom), &oom);
    put(d, "fdr", fdr, &oom);
    put(d, "verdicts", list, &oom);
    put(d, "untestable", unt, &oom);
    put(d, "counts", counts, &oom);
    fdr = list = unt = counts = NULL;
    cJSON *f = cJSON_GetObjectItemCaseSensitive(d, "fdr");
    put(f, "method", cJSON_CreateString("benjamini-hochberg"), &oom);
    put(f, "q", cJSON_CreateNumber(AP_VERDICT_FDR_Q), &oom);
    put(f, "m", cJSON_CreateNumber((double)v->m), &oom);
    /* With several machine types, Benjamini-Hochberg runs within each (verdict.c). */
    if (v->n_machines > 0)
        put(f, "within", cJSON_CreateString("machine"), &oom);
    for (size_t i = 0; i < v->n; i++)
        push(cJSON_GetObjectItemCaseSensitive(d, "verdicts"), one(&v->v[i], results, &oom), &oom);
    for (size_t i = 0; i < c->n_untestable; i++) {
        const struct ap_claims_untestable *u = &c->untestable[i];
        cJSON *o = cJSON_CreateObject();
        push(cJSON_GetObjectItemCaseSensitive(d, "untestable"), o, &oom);
        if (o == NULL)
            break;
        put(o, "id", cJSON_CreateString(u->id), &oom);
        put(o, "section", cJSON_CreateString(u->section), &oom);
        put(o, "where", cJSON_CreateString(u->where), &oom);
        put(o, "quote", cJSON_CreateString(u->quote), &oom);
        put(o, "reason", cJSON_CreateString(u->reason), &oom);
    }
    cJSON *cn = cJSON_GetObjectItemCaseSensitive(d, "counts");
    for (int k = 0; k < AP_VERDICT_KINDS; k++)
        put(cn, ap_verdict_name((enum ap_verdict_kind)k), cJSON_CreateNumber((double)v->counts[k]),
            &oom);
    put(cn, "untestable", cJSON_CreateNumber((double)c->n_untestable), &oom);
out:
    cJSON_Delete(fdr);
    cJSON_Delete(list);
    cJSON_Delete(unt);
    cJSON_Delete(counts);
    if (oom) {
        cJSON_Delete(d);
        return NULL;
    }
    return d;
}
