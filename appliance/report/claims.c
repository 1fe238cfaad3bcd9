/* Claims files: loading, the structural check, the source check and the check against the
 * measurements that exist (claims.h, docs/claims.md). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "claims.h"

/* Where an error stands: the file and the claim or entry (NULL: the top level). */
struct at {
    const char *what;
    const char *kind; /* "claim", "untestable entry", "section" */
    const char *id;
};

/* Fills err with "FILE: claim "ID": field "FIELD": problem" and the hint. Returns -1. */
static int bad(ap_error **err, const struct at *at, const char *field, const char *hint,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bad(ap_error **err, const struct at *at, const char *field, const char *hint,
               const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (at->id != NULL)
        ap_error_make(err, EINVAL, "%s: %s \"%s\": field \"%s\": %s", at->what, at->kind, at->id,
                      field, msg);
    else
        ap_error_make(err, EINVAL, "%s: field \"%s\": %s", at->what, field, msg);
    if (hint != NULL)
        ap_error_hint(err, "%s (docs/claims.md)", hint);
    return -1;
}

static const char *const units[] = {"s",   "ms",  "us",  "B",     "kB",    "MB", "GB",
                                    "KiB", "MiB", "GiB", "req/s", "count", "x"};

int ap_claims_unit(const char *unit, double *factor)
{
    static const struct {
        const char *name;
        double f;
        int group;
    } t[] = {{"s", 1, 1},         {"ms", 1e-3, 1},          {"us", 1e-6, 1}, {"B", 1, 2},
             {"kB", 1e3, 2},      {"MB", 1e6, 2},           {"GB", 1e9, 2},  {"KiB", 1024, 2},
             {"MiB", 1048576, 2}, {"GiB", 1073741824.0, 2}, {"req/s", 1, 3}, {"count", 1, 4},
             {"x", 1, 5},         {"CPUs", 1, 6},           {"bool", 1, 7}};
    for (size_t i = 0; unit != NULL && i < AP_ARRAY_SIZE(t); i++)
        if (strcmp(unit, t[i].name) == 0) {
            *factor = t[i].f;
            return t[i].group;
        }
    return 0;
}

const char *ap_claims_kind_name(enum ap_claim_kind k)
{
    switch (k) {
    case AP_CLAIM_VALUE:
        return "value";
    case AP_CLAIM_RANGE:
        return "range";
    case AP_CLAIM_RATIO:
        return "ratio";
    case AP_CLAIM_BOUND:
        return "bound";
    case AP_CLAIM_ORDERING:
        return "ordering";
    }
    return "?";
}

/* An id of [a-z0-9._-], 1 to AP_CLAIMS_ID_MAX characters. */
static int id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AP_CLAIMS_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
              s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* A measurement id: "suite/..." of [A-Za-z0-9_./-], the suite lowercase letters. */
static int subject_valid(const char *s)
{
    size_t n = strlen(s), i = 0;
    while (i < n && s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i == 0 || i >= n - 1 || s[i] != '/' || n > 256)
        return 0;
    for (; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("_./-", s[i]) != NULL))
            return 0;
    return 1;
}

/* Text without control characters (a line of the document: quotes, where). */
static int printable(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* A quote: the source's exact text, which may span lines (tabs, line feeds and carriage returns
 * as the source has them), without any other control character. */
static int quotable(const char *s)
{
    for (; *s != '\0'; s++)
        if (((unsigned char)*s < 0x20 && strchr("\t\n\r", *s) == NULL) || *s == 0x7f)
            return 0;
    return 1;
}

/* Only the keys listed (NULL-terminated) may stand in obj. */
static int only_keys(const cJSON *obj, const char *const *keys, const struct at *at,
                     const char *prefix, ap_error **err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        size_t i = 0;
        while (keys[i] != NULL && strcmp(keys[i], it->string) != 0)
            i++;
        if (keys[i] == NULL) {
            char field[160];
            snprintf(field, sizeof(field), "%s%.100s", prefix, it->string);
            return bad(err, at, field, "remove it or check its spelling", "not a field here");
        }
    }
    return 0;
}

/* A string member: required or optional (absent leaves *out NULL); non-empty, printable. */
static int str_field(const cJSON *obj, const char *key, int required, const struct at *at,
                     const char **out, ap_error **err)
{
    *out = NULL;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL) {
        if (!required)
            return 0;
        return bad(err, at, key, "add it", "missing");
    }
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
        return bad(err, at, key, "write it as a non-empty JSON string", "not a non-empty string");
    if (strcmp(key, "quote") == 0 ? !quotable(v->valuestring) : !printable(v->valuestring))
        return bad(err, at, key,
                   strcmp(key, "quote") == 0
                       ? "quote the source exactly: tabs and line breaks may stand in a quote, "
                         "no other control character"
                       : "write it on one line, without control characters",
                   "holds a control character");
    *out = v->valuestring;
    return 0;
}

/* A number member within [min, max]; absent: *out keeps its value unless required. */
static int num_field(const cJSON *obj, const char *key, int required, double min, double max,
                     const struct at *at, const char *prefix, double *out, ap_error **err)
{
    char field[96];
    snprintf(field, sizeof(field), "%s%s", prefix, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        return required ? bad(err, at, field, "add it", "missing") : 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return bad(err, at, field, "write it as a JSON number", "not a number");
    if (v->valuedouble < min || v->valuedouble > max)
        return bad(err, at, field, "give a value in range", "%g is outside %g..%g", v->valuedouble,
                   min, max);
    *out = v->valuedouble;
    return 0;
}

static const char *const unit_hint =
    "use one of s, ms, us, B, kB, MB, GB, KiB, MiB, GiB, req/s, count, x";

static int unit_field(const cJSON *pub, const struct at *at, int ratio, const char **out,
                      ap_error **err)
{
    if (str_field(pub, "unit", 1, at, out, err) < 0)
        return ap_error_wrap(err, "published");
    size_t i = 0;
    while (i < AP_ARRAY_SIZE(units) && strcmp(units[i], *out) != 0)
        i++;
    if (i == AP_ARRAY_SIZE(units))
        return bad(err, at, "published.unit", unit_hint, "unknown unit \"%s\"", *out);
    if (ratio && strcmp(*out, "x") != 0)
        return bad(err, at, "published.unit", "a ratio is published in x", "\"%s\" for a ratio",
                   *out);
    if (!ratio && strcmp(*out, "x") == 0)
        return bad(err, at, "published.unit",
                   "give the figure's unit, or name numerator and denominator for a ratio",
                   "x (a ratio) for a single figure");
    return 0;
}

/* A subject string at v, valid, into *out. */
static int subject_at(const cJSON *v, const struct at *at, const char *field, const char **out,
                      ap_error **err)
{
    if (!cJSON_IsString(v) || !subject_valid(v->valuestring))
        return bad(err, at, field, "name a measurement id such as cpu/nbody/python-3.13",
                   "not a measurement id");
    *out = v->valuestring;
    return 0;
}

static int add_subject(struct ap_claim *c, const char *num, const char *den, const struct at *at,
                       ap_error **err)
{
    if (c->n == AP_CLAIMS_SUBJECTS_MAX)
        return bad(err, at, "subjects", "split the claim", "more than %d subjects",
                   AP_CLAIMS_SUBJECTS_MAX);
    c->num[c->n] = num;
    c->den[c->n] = den;
    c->n++;
    return 0;
}

/* subjects or pairs: an array of ids or of [numerator, denominator]. */
static int subject_list(const cJSON *a, int pairs, struct ap_claim *c, const struct at *at,
                        ap_error **err)
{
    const char *key = pairs ? "pairs" : "subjects";
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) < 1)
        return bad(err, at, key, "list the measurement ids", "not a non-empty array");
    const cJSON *it;
    size_t i = 0;
    cJSON_ArrayForEach(it, a)
    {
        char field[64];
        snprintf(field, sizeof(field), "%s[%zu]", key, i++);
        const char *num = NULL, *den = NULL;
        if (pairs) {
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2)
                return bad(err, at, field, "write each pair as [numerator, denominator]",
                           "not a pair");
            if (subject_at(it->child, at, field, &num, err) < 0 ||
                subject_at(it->child->next, at, field, &den, err) < 0)
                return -1;
        } else if (subject_at(it, at, field, &num, err) < 0) {
            return -1;
        }
        if (add_subject(c, num, den, at, err) < 0)
            return -1;
    }
    return 0;
}

/* Which subject fields the claim has, checked against what its kind allows. */
static int subjects(const cJSON *o, struct ap_claim *c, const struct at *at, ap_error **err)
{
    const cJSON *subject = cJSON_GetObjectItemCaseSensitive(o, "subject");
    const cJSON *numr = cJSON_GetObjectItemCaseSensitive(o, "numerator");
    const cJSON *denr = cJSON_GetObjectItemCaseSensitive(o, "denominator");
    const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(o, "pairs");
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(o, "subjects");
    const cJSON *agg = cJSON_GetObjectItemCaseSensitive(o, "aggregate");
    int forms =
        (subject != NULL) + (numr != NULL || denr != NULL) + (pairs != NULL) + (subs != NULL);
    const char *hint = "give one of: subject; numerator and denominator; pairs and aggregate; "
                       "subjects";
    if (forms == 0) {
        if (c->not_reproducible != NULL)
            return 0;
        return bad(err, at, "subject", hint, "no subject");
    }
    if (forms > 1)
        return bad(err, at, "subject", hint, "more than one way of naming the subjects");
    c->aggregate = AP_CLAIM_AGG_NONE;
    if (agg != NULL) {
        if (cJSON_IsString(agg) && strcmp(agg->valuestring, "geomean") == 0)
            c->aggregate = AP_CLAIM_AGG_GEOMEAN;
        else if (cJSON_IsString(agg) && strcmp(agg->valuestring, "each") == 0)
            c->aggregate = AP_CLAIM_AGG_EACH;
        else
            return bad(err, at, "aggregate", "use \"geomean\" or \"each\"", "unknown aggregate");
    }
    int ratio_kind = c->kind == AP_CLAIM_RATIO;
    int figure_kind = c->kind == AP_CLAIM_VALUE;
    if (subject != NULL) {
        c->shape = AP_CLAIM_SUBJECT;
        if (ratio_kind || c->kind == AP_CLAIM_ORDERING)
            return bad(err, at, "subject",
                       "a ratio names numerator and denominator (or pairs); "
                       "an ordering names subjects",
                       "not allowed for kind %s", ap_claims_kind_name(c->kind));
        if (agg != NULL)
            return bad(err, at, "aggregate", "remove it", "only with pairs or subjects");
        const char *s = NULL;
        return subject_at(subject, at, "subject", &s, err) < 0 ? -1
                                                               : add_subject(c, s, NULL, at, err);
    }
    if (numr != NULL || denr != NULL) {
        c->shape = AP_CLAIM_FRACTION;
        if (figure_kind || c->kind == AP_CLAIM_ORDERING)
            return bad(err, at, "numerator", "a value names one subject", "not allowed for kind %s",
                       ap_claims_kind_name(c->kind));
        if (numr == NULL || denr == NULL)
            return bad(err, at, numr == NULL ? "numerator" : "denominator",
                       "a ratio names both numerator and denominator", "missing");
        if (agg != NULL)
            return bad(err, at, "aggregate", "remove it", "only with pairs or subjects");
        const char *a = NULL, *b = NULL;
        if (subject_at(numr, at, "numerator", &a, err) < 0 ||
            subject_at(denr, at, "denominator", &b, err) < 0)
            return -1;
        return add_subject(c, a, b, at, err);
    }
    if (pairs != NULL) {
        c->shape = AP_CLAIM_PAIRS;
        if (figure_kind || c->kind == AP_CLAIM_ORDERING)
            return bad(err, at, "pairs", "pairs are ratios: use kind ratio, range or bound",
                       "not allowed for kind %s", ap_claims_kind_name(c->kind));
        if (c->aggregate == AP_CLAIM_AGG_NONE)
            return bad(err, at, "aggregate", "say \"geomean\" or \"each\"", "missing for pairs");
        return subject_list(pairs, 1, c, at, err);
    }
    c->shape = AP_CLAIM_SUBJECTS;
    if (ratio_kind)
        return bad(err, at, "subjects", "a ratio names numerator and denominator, or pairs",
                   "not allowed for kind ratio");
    if (c->kind == AP_CLAIM_ORDERING && agg != NULL)
        return bad(err, at, "aggregate", "remove it: an ordering takes the subjects in order",
                   "not allowed for an ordering");
    if (c->kind != AP_CLAIM_ORDERING && c->aggregate != AP_CLAIM_AGG_EACH)
        return bad(err, at, "aggregate", "say \"each\": every figure judged on its own",
                   "subjects of a %s need aggregate each", ap_claims_kind_name(c->kind));
    if (subject_list(subs, 0, c, at, err) < 0)
        return -1;
    if (c->kind == AP_CLAIM_ORDERING && c->n < 2)
        return bad(err, at, "subjects", "name at least two figures in order", "fewer than two");
    return 0;
}

/* A text value: "published": {"text": T, "match": "exact" | "prefix"}. */
static int published_text(const cJSON *pub, struct ap_claim *c, const struct at *at, ap_error **err)
{
    static const char *const keys[] = {"text", "match", NULL};
    if (only_keys(pub, keys, at, "published.", err) < 0)
        return -1;
    const char *match = NULL;
    if (str_field(pub, "text", 1, at, &c->text, err) < 0 ||
        str_field(pub, "match", 0, at, &match, err) < 0)
        return ap_error_wrap(err, "published");
    if (match != NULL && strcmp(match, "prefix") != 0 && strcmp(match, "exact") != 0)
        return bad(err, at, "published.match", "use \"exact\" or \"prefix\"", "unknown match");
    c->prefix = match != NULL && strcmp(match, "prefix") == 0;
    if (c->kind != AP_CLAIM_VALUE || c->shape != AP_CLAIM_SUBJECT)
        return bad(err, at, "param", "a text value is a value claim over one subject",
                   "not allowed here");
    return 0;
}

static int published(const cJSON *o, struct ap_claim *c, const struct at *at, ap_error **err)
{
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(o, "published");
    if (!cJSON_IsObject(pub))
        return bad(err, at, "published", "give the published value as an object",
                   pub == NULL ? "missing" : "not an object");
    if (c->param != NULL)
        return published_text(pub, c, at, err);
    int ratio = c->shape == AP_CLAIM_FRACTION || c->shape == AP_CLAIM_PAIRS;
    double big = 1e300;
    switch (c->kind) {
    case AP_CLAIM_VALUE:
    case AP_CLAIM_RATIO: {
        static const char *const keys[] = {"value", "unit", NULL};
        if (only_keys(pub, keys, at, "published.", err) < 0 ||
            num_field(pub, "value", 1, 0, big, at, "published.", &c->value, err) < 0)
            return -1;
        if (!(c->value > 0))
            return bad(err, at, "published.value", "a published value is positive", "0");
        return unit_field(pub, at, ratio, &c->unit, err);
    }
    case AP_CLAIM_RANGE: {
        static const char *const keys[] = {"low", "high", "unit", NULL};
        if (only_keys(pub, keys, at, "published.", err) < 0 ||
            num_field(pub, "low", 1, 0, big, at, "published.", &c->low, err) < 0 ||
            num_field(pub, "high", 1, 0, big, at, "published.", &c->high, err) < 0)
            return -1;
        if (!(c->low <= c->high) || !(c->high > 0))
            return bad(err, at, "published.high", "write low <= high, high above 0",
                       "low %g, high %g", c->low, c->high);
        return unit_field(pub, at, ratio, &c->unit, err);
    }
    case AP_CLAIM_BOUND: {
        static const char *const keys[] = {"upper", "lower", "unit", NULL};
        int up = cJSON_HasObjectItem(pub, "upper"), lo = cJSON_HasObjectItem(pub, "lower");
        if (only_keys(pub, keys, at, "published.", err) < 0)
            return -1;
        if (up == lo)
            return bad(err, at, "published.upper", "give exactly one of upper and lower",
                       up ? "both upper and lower" : "neither upper nor lower");
        c->has_upper = up;
        if (num_field(pub, up ? "upper" : "lower", 1, 0, big, at, "published.", &c->bound, err) < 0)
            return -1;
        if (!(c->bound > 0))
            return bad(err, at, up ? "published.upper" : "published.lower", "a bound is positive",
                       "0");
        return unit_field(pub, at, ratio, &c->unit, err);
    }
    case AP_CLAIM_ORDERING: {
        static const char *const keys[] = {"order", NULL};
        const char *order = NULL;
        if (only_keys(pub, keys, at, "published.", err) < 0 ||
            str_field(pub, "order", 1, at, &order, err) < 0)
            return -1;
        if (strcmp(order, "descending") != 0 && strcmp(order, "ascending") != 0)
            return bad(err, at, "published.order", "use \"descending\" or \"ascending\"",
                       "unknown order \"%s\"", order);
        c->descending = strcmp(order, "descending") == 0;
        return 0;
    }
    }
    return bad(err, at, "kind", NULL, "unknown kind");
}

/* portable, transfer, scale. */
static int machine(const cJSON *o, struct ap_claim *c, const struct at *at, ap_error **err)
{
    const cJSON *portable = cJSON_GetObjectItemCaseSensitive(o, "portable");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(o, "transfer");
    if (!cJSON_IsBool(portable))
        return bad(err, at, "portable",
                   "say true for sizes, counts and ratios, false for "
                   "absolute times and rates",
                   portable == NULL ? "missing" : "not a boolean");
    c->scale = 1;
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(o, "scale");
    if (scale != NULL) {
        static const char *const keys[] = {"factor", "why", NULL};
        const char *why = NULL;
        if (!cJSON_IsObject(scale))
            return bad(err, at, "scale", "write {\"factor\": F, \"why\": \"...\"}",
                       "not an object");
        if (only_keys(scale, keys, at, "scale.", err) < 0 ||
            num_field(scale, "factor", 1, 1e-12, 1e12, at, "scale.", &c->scale, err) < 0 ||
            str_field(scale, "why", 1, at, &why, err) < 0)
            return -1;
    }
    if (cJSON_IsTrue(portable)) {
        c->transfer = AP_CLAIM_PORTABLE;
        if (tr != NULL)
            return bad(err, at, "transfer", "remove it, or say portable: false",
                       "only for portable: false");
        return 0;
    }
    if (!cJSON_IsObject(tr))
        return bad(err, at, "transfer",
                   "say how it is judged: {\"rule\": \"none\"} or "
                   "{\"rule\": \"scale-by-reference\", ...}",
                   tr == NULL ? "missing" : "not an object");
    const cJSON *rule = cJSON_GetObjectItemCaseSensitive(tr, "rule");
    if (cJSON_IsString(rule) && strcmp(rule->valuestring, "none") == 0) {
        static const char *const keys[] = {"rule", NULL};
        c->transfer = AP_CLAIM_TRANSFER_NONE;
        return only_keys(tr, keys, at, "transfer.", err);
    }
    if (!cJSON_IsString(rule) || strcmp(rule->valuestring, "scale-by-reference") != 0)
        return bad(err, at, "transfer.rule", "use \"none\" or \"scale-by-reference\"",
                   "unknown rule");
    static const char *const keys[] = {"rule", "reference", "published", NULL};
    c->transfer = AP_CLAIM_TRANSFER_REFERENCE;
    if (only_keys(tr, keys, at, "transfer.", err) < 0 ||
        subject_at(cJSON_GetObjectItemCaseSensitive(tr, "reference"), at, "transfer.reference",
                   &c->reference, err) < 0 ||
        num_field(tr, "published", 1, 1e-300, 1e300, at, "transfer.", &c->reference_published,
                  err) < 0)
        return -1;
    if (c->param != NULL || c->kind == AP_CLAIM_ORDERING || c->kind == AP_CLAIM_RATIO ||
        (c->shape != AP_CLAIM_SUBJECT && c->shape != AP_CLAIM_SUBJECTS && c->n > 0))
        return bad(err, at, "transfer.rule",
                   "scale a figure (value, range or bound over subject "
                   "or subjects); a ratio needs no transfer",
                   "scale-by-reference over a %s", ap_claims_kind_name(c->kind));
    return 0;
}

static int conditions(const cJSON *o, const struct at *at, ap_error **err)
{
    const cJSON *cond = cJSON_GetObjectItemCaseSensitive(o, "conditions");
    if (cond == NULL)
        return 0;
    static const char *const keys[] = {"n", "connections", "rate", "workers", "hardware", NULL};
    if (!cJSON_IsObject(cond))
        return bad(err, at, "conditions", "write an object", "not an object");
    if (only_keys(cond, keys, at, "conditions.", err) < 0)
        return -1;
    double d = 0;
    const char *s = NULL;
    if (num_field(cond, "n", 0, 0, 1e18, at, "conditions.", &d, err) < 0 ||
        num_field(cond, "connections", 0, 1, 1e9, at, "conditions.", &d, err) < 0 ||
        num_field(cond, "rate", 0, 0, 1e12, at, "conditions.", &d, err) < 0 ||
        num_field(cond, "workers", 0, 1, 1e9, at, "conditions.", &d, err) < 0)
        return -1;
    return str_field(cond, "hardware", 0, at, &s, err);
}

static int kind_of(const char *s, enum ap_claim_kind *k)
{
    for (int i = AP_CLAIM_VALUE; i <= AP_CLAIM_ORDERING; i++)
        if (strcmp(s, ap_claims_kind_name((enum ap_claim_kind)i)) == 0) {
            *k = (enum ap_claim_kind)i;
            return 0;
        }
    return -1;
}

static int section_known(const cJSON *sections, const char *id)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, sections)
    {
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(s, "id");
        if (cJSON_IsString(sid) && strcmp(sid->valuestring, id) == 0)
            return 1;
    }
    return 0;
}

/* id, section, where, quote, occurrence: what claims and untestable entries share. */
static int located(const cJSON *o, const struct ap_claims *cs, struct at *at, const char **id,
                   const char **section, const char **where, const char **quote, ap_error **err)
{
    if (str_field(o, "id", 1, at, id, err) < 0)
        return -1;
    if (!id_valid(*id))
        return bad(err, at, "id", "use 1-64 characters of a-z 0-9 . _ -", "\"%.80s\" is not an id",
                   *id);
    at->id = *id;
    if (str_field(o, "section", 1, at, section, err) < 0 ||
        str_field(o, "where", 1, at, where, err) < 0 ||
        str_field(o, "quote", 1, at, quote, err) < 0)
        return -1;
    if (!section_known(cs->sections, *section))
        return bad(err, at, "section", "name an id of sections, or add the section",
                   "\"%s\" is not a section", *section);
    return 0;
}

static int parse_claim(const cJSON *o, struct ap_claims *cs, struct ap_claim *c, struct at *at,
                       ap_error **err)
{
    static const char *const keys[] = {"id",
                                       "section",
                                       "where",
                                       "quote",
                                       "occurrence",
                                       "kind",
                                       "metric",
                                       "param",
                                       "subject",
                                       "numerator",
                                       "denominator",
                                       "pairs",
                                       "subjects",
                                       "aggregate",
                                       "published",
                                       "tolerance_pct",
                                       "conditions",
                                       "portable",
                                       "transfer",
                                       "scale",
                                       "not_reproducible",
                                       "note",
                                       NULL};
    memset(c, 0, sizeof(*c));
    c->json = o;
    const char *kind = NULL;
    double occ = 1;
    if (!cJSON_IsObject(o))
        return bad(err, at, "claims", "write each claim as an object", "not an object");
    if (located(o, cs, at, &c->id, &c->section, &c->where, &c->quote, err) < 0 ||
        only_keys(o, keys, at, "", err) < 0 ||
        num_field(o, "occurrence", 0, 1, 1000, at, "", &occ, err) < 0 ||
        str_field(o, "note", 0, at, &c->note, err) < 0 ||
        str_field(o, "not_reproducible", 0, at, &c->not_reproducible, err) < 0 ||
        str_field(o, "kind", 1, at, &kind, err) < 0 ||
        str_field(o, "metric", 0, at, &c->metric, err) < 0 ||
        str_field(o, "param", 0, at, &c->param, err) < 0)
        return -1;
    if (occ != floor(occ))
        return bad(err, at, "occurrence", "give a whole number", "not a whole number");
    c->occurrence = (int)occ;
    if (kind_of(kind, &c->kind) < 0)
        return bad(err, at, "kind", "use value, range, ratio, bound or ordering",
                   "unknown kind \"%s\"", kind);
    if (c->metric != NULL && c->param != NULL)
        return bad(err, at, "param", "a claim judges a metric or a param, not both", "with metric");
    if (c->metric == NULL && c->param == NULL && c->not_reproducible == NULL)
        return bad(err, at, "metric", "name the metric of the results the claim is about",
                   "missing");
    if (c->param != NULL && strcmp(c->param, "version") != 0)
        return bad(err, at, "param", "only \"version\" is compared as text", "unknown param");
    c->tolerance_pct =
        (c->kind == AP_CLAIM_VALUE || c->kind == AP_CLAIM_RATIO) ? cs->default_tolerance_pct : 0;
    if (subjects(o, c, at, err) < 0 || published(o, c, at, err) < 0 ||
        num_field(o, "tolerance_pct", 0, 0, 1000, at, "", &c->tolerance_pct, err) < 0 ||
        conditions(o, at, err) < 0 || machine(o, c, at, err) < 0)
        return -1;
    return 0;
}

static int parse_untestable(const cJSON *o, struct ap_claims *cs, struct ap_claims_untestable *u,
                            struct at *at, ap_error **err)
{
    static const char *const keys[] = {"id", "section", "where", "quote", "reason", "note", NULL};
    static const char *const reasons[] = {
        "salary",   "job-market", "survey",  "popularity",        "cost",
        "anecdote", "quote",      "history", "not-a-measurement", "other-language"};
    const char *note = NULL;
    if (!cJSON_IsObject(o))
        return bad(err, at, "untestable", "write each entry as an object", "not an object");
    if (located(o, cs, at, &u->id, &u->section, &u->where, &u->quote, err) < 0 ||
        only_keys(o, keys, at, "", err) < 0 || str_field(o, "reason", 1, at, &u->reason, err) < 0 ||
        str_field(o, "note", 0, at, &note, err) < 0)
        return -1;
    for (size_t i = 0; i < AP_ARRAY_SIZE(reasons); i++)
        if (strcmp(reasons[i], u->reason) == 0)
            return 0;
    return bad(err, at, "reason",
               "use salary, job-market, survey, popularity, cost, anecdote, "
               "quote, history, not-a-measurement or other-language",
               "unknown reason \"%s\"", u->reason);
}

static int top_source(const cJSON *doc, struct ap_claims *cs, struct at *at, ap_error **err)
{
    static const char *const keys[] = {"title", "url", "date", "document", "sha256", NULL};
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(doc, "source");
    if (!cJSON_IsObject(src))
        return bad(err, at, "source", "say where the claims come from", "missing or not an object");
    if (only_keys(src, keys, at, "source.", err) < 0 ||
        str_field(src, "title", 1, at, &cs->title, err) < 0 ||
        str_field(src, "url", 0, at, &cs->url, err) < 0 ||
        str_field(src, "date", 0, at, &cs->date, err) < 0 ||
        str_field(src, "document", 1, at, &cs->document, err) < 0 ||
        str_field(src, "sha256", 1, at, &cs->source_sha256, err) < 0)
        return ap_error_wrap(err, "source");
    if (!ap_sha256_hex_valid(cs->source_sha256))
        return bad(err, at, "source.sha256",
                   "write the document's sha256 as 64 lowercase hex digits", "not a sha256");
    if (strchr(cs->document, '/') != NULL || strcmp(cs->document, "..") == 0 ||
        strcmp(cs->document, ".") == 0)
        return bad(err, at, "source.document",
                   "give a file name: it is looked for beside the "
                   "claims file",
                   "not a plain file name");
    int y, m, d;
    char tail;
    if (cs->date != NULL &&
        (strlen(cs->date) != 10 || sscanf(cs->date, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
         m < 1 || m > 12 || d < 1 || d > 31))
        return bad(err, at, "source.date", "write YYYY-MM-DD", "not a date");
    return 0;
}

static int top_sections(const cJSON *doc, struct ap_claims *cs, struct at *at, ap_error **err)
{
    cs->sections = cJSON_GetObjectItemCaseSensitive(doc, "sections");
    if (!cJSON_IsArray(cs->sections) || cJSON_GetArraySize(cs->sections) < 1)
        return bad(err, at, "sections", "list the report's sections: [{\"id\", \"title\"}]",
                   "missing or empty");
    static const char *const keys[] = {"id", "title", NULL};
    const cJSON *s;
    cJSON_ArrayForEach(s, cs->sections)
    {
        const char *id = NULL, *title = NULL;
        struct at sat = {at->what, "section", NULL};
        if (!cJSON_IsObject(s))
            return bad(err, at, "sections", "write each section as an object", "not an object");
        if (str_field(s, "id", 1, &sat, &id, err) < 0)
            return -1;
        sat.id = id;
        if (!id_valid(id))
            return bad(err, &sat, "id", "use 1-64 characters of a-z 0-9 . _ -", "not an id");
        if (only_keys(s, keys, &sat, "", err) < 0 ||
            str_field(s, "title", 1, &sat, &title, err) < 0)
            return -1;
        for (const cJSON *p = cs->sections->child; p != s; p = p->next)
            if (strcmp(cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring, id) == 0)
                return bad(err, &sat, "id", "give each section an id of its own", "repeated");
    }
    return 0;
}

static int top_level(const cJSON *doc, struct ap_claims *cs, struct at *at, ap_error **err)
{
    static const char *const keys[] = {"schema", "source",     "defaults", "sections",
                                       "claims", "untestable", "note",     NULL};
    if (!cJSON_IsObject(doc))
        return bad(err, at, "schema", "a claims file is a JSON object", "not an object");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, AP_CLAIMS_SCHEMA) != 0)
        return bad(err, at, "schema", "say \"schema\": \"" AP_CLAIMS_SCHEMA "\"",
                   "not " AP_CLAIMS_SCHEMA);
    if (only_keys(doc, keys, at, "", err) < 0 || top_source(doc, cs, at, err) < 0 ||
        top_sections(doc, cs, at, err) < 0)
        return -1;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(doc, "defaults");
    static const char *const dkeys[] = {"tolerance_pct", NULL};
    if (!cJSON_IsObject(def))
        return bad(err, at, "defaults", "write {\"tolerance_pct\": 10}",
                   "missing or not an object");
    if (only_keys(def, dkeys, at, "defaults.", err) < 0 ||
        num_field(def, "tolerance_pct", 1, 0, 1000, at, "defaults.", &cs->default_tolerance_pct,
                  err) < 0)
        return -1;
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(doc, "claims");
    const cJSON *unt = cJSON_GetObjectItemCaseSensitive(doc, "untestable");
    if (!cJSON_IsArray(claims))
        return bad(err, at, "claims", "list the claims", "missing or not an array");
    if (unt != NULL && !cJSON_IsArray(unt))
        return bad(err, at, "untestable", "list the untestable entries", "not an array");
    return 0;
}

/* Ids are unique across claims and untestable entries. */
static int unique_ids(const struct ap_claims *cs, const struct at *file, ap_error **err)
{
    size_t n = cs->n_claims + cs->n_untestable;
    for (size_t i = 0; i < n; i++) {
        const char *a = i < cs->n_claims ? cs->claims[i].id : cs->untestable[i - cs->n_claims].id;
        for (size_t j = 0; j < i; j++) {
            const char *b =
                j < cs->n_claims ? cs->claims[j].id : cs->untestable[j - cs->n_claims].id;
            if (strcmp(a, b) == 0) {
                struct at at = {file->what, i < cs->n_claims ? "claim" : "untestable entry", a};
                return bad(err, &at, "id", "give every claim and entry an id of its own",
                           "repeated");
            }
        }
    }
    return 0;
}

static int parse_lists(struct ap_claims *cs, const char *what, ap_error **err)
{
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(cs->doc, "claims");
    const cJSON *unt = cJSON_GetObjectItemCaseSensitive(cs->doc, "untestable");
    size_t nc = (size_t)cJSON_GetArraySize(claims), nu = (size_t)cJSON_GetArraySize(unt);
    cs->claims = calloc(nc + 1, sizeof(*cs->claims));
    cs->untestable = calloc(nu + 1, sizeof(*cs->untestable));
    if (cs->claims == NULL || cs->untestable == NULL)
        return ap_error_make(err, ENOMEM, "%s", what);
    const cJSON *it;
    cJSON_ArrayForEach(it, claims)
    {
        struct at at = {what, "claim", NULL};
        if (parse_claim(it, cs, &cs->claims[cs->n_claims], &at, err) < 0)
            return -1;
        cs->n_claims++;
    }
    cJSON_ArrayForEach(it, unt)
    {
        struct at at = {what, "untestable entry", NULL};
        if (parse_untestable(it, cs, &cs->untestable[cs->n_untestable], &at, err) < 0)
            return -1;
        cs->n_untestable++;
    }
    struct at file = {what, "claim", NULL};
    return unique_ids(cs, &file, err);
}

int ap_claims_parse(const char *buf, size_t len, const char *what, struct ap_claims *out,
                    ap_error **err)
{
    memset(out, 0, sizeof(*out));
    if (len > AP_CLAIMS_MAX)
        return ap_error_make(err, EFBIG, "%s: more than %llu bytes", what,
                             (unsigned long long)AP_CLAIMS_MAX);
    ap_sha256_hex(buf, len, out->sha256);
    if (ap_json_parse(buf, len, what, &out->doc, err) < 0)
        return -1;
    struct at at = {what, "claim", NULL};
    if (top_level(out->doc, out, &at, err) < 0 || parse_lists(out, what, err) < 0) {
        ap_claims_free(out);
        return -1;
    }
    return 0;
}

int ap_claims_load(const char *path, struct ap_claims *out, ap_error **err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    if (ap_fs_read_file(AT_FDCWD, path, (size_t)AP_CLAIMS_MAX, &buf, &len, err) < 0)
        return ap_error_wrap(err, "claims file");
    return ap_claims_parse(buf, len, path, out, err);
}

void ap_claims_free(struct ap_claims *c)
{
    cJSON_Delete(c->doc);
    free(c->claims);
    free(c->untestable);
    memset(c, 0, sizeof(*c));
}
