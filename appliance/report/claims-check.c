/* The checks of a claims file against what lies outside it: the source text its quotes come
 * from, and the measurements that exist (claims.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "claims.h"

/* Occurrences of needle in text (len bytes), counted up to want. */
static int occurs(const char *text, size_t len, const char *needle, int want)
{
    size_t n = strlen(needle);
    int found = 0;
    for (const char *p = text; found < want && (size_t)(p - text) + n <= len;) {
        const char *q = memmem(p, len - (size_t)(p - text), needle, n);
        if (q == NULL)
            break;
        found++;
        p = q + 1;
    }
    return found;
}

int ap_claims_check_source(const struct ap_claims *c, const char *text, size_t len,
                           const char *what, ap_error **err)
{
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(text, len, hex);
    if (strcmp(hex, c->source_sha256) != 0) {
        ap_error_make(err, EINVAL,
                      "source text %s: sha256 %s, the claims file's source.sha256 is %s", what, hex,
                      c->source_sha256);
        return ap_error_hint(err, "give the exact text the claims were read from (--source), or "
                                  "correct source.sha256");
    }
    for (size_t i = 0; i < c->n_claims + c->n_untestable; i++) {
        int claim = i < c->n_claims;
        const char *id = claim ? c->claims[i].id : c->untestable[i - c->n_claims].id;
        const char *quote = claim ? c->claims[i].quote : c->untestable[i - c->n_claims].quote;
        int want = claim ? c->claims[i].occurrence : 1;
        int got = occurs(text, len, quote, want);
        if (got < want) {
            ap_error_make(err, EINVAL, "source text %s: %s \"%s\": field \"quote\": %s", what,
                          claim ? "claim" : "untestable entry", id,
                          got == 0 ? "does not occur in the text"
                                   : "occurs fewer times than its occurrence says");
            return ap_error_hint(err, "copy the quote exactly from the document (spaces and "
                                      "punctuation included), or correct occurrence");
        }
    }
    return 0;
}

static const struct ap_claims_measurement *find_m(const struct ap_claims_measurement *m, size_t n,
                                                  const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(m[i].id, id) == 0)
            return &m[i];
    return NULL;
}

static int check_subject(const struct ap_claim *c, const char *subject,
                         const struct ap_claims_measurement *m, size_t n, ap_error **err)
{
    const struct ap_claims_measurement *x = find_m(m, n, subject);
    if (x == NULL) {
        ap_error_make(err, ENOENT,
                      "claim \"%s\": subject \"%s\" is no measurement of the "
                      "appliance",
                      c->id, subject);
        return ap_error_hint(err, "name a measurement id the suites make (docs/measuring.md), "
                                  "or declare the claim not_reproducible");
    }
    if (c->param != NULL) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(x->params, c->param);
        if (x->params != NULL && !cJSON_IsString(p))
            return ap_error_make(err, ENOENT,
                                 "claim \"%s\": subject \"%s\" has no text param "
                                 "\"%s\"",
                                 c->id, subject, c->param);
        return 0;
    }
    for (size_t i = 0; i < x->n_metrics; i++)
        if (strcmp(x->metrics[i], c->metric) == 0)
            return 0;
    ap_error_make(err, ENOENT, "claim \"%s\": subject \"%s\" has no metric \"%s\"", c->id, subject,
                  c->metric);
    return ap_error_hint(err, "name one of its metrics (%s%s)",
                         x->n_metrics > 0 ? x->metrics[0] : "none",
                         x->n_metrics > 1 ? ", ..." : "");
}

int ap_claims_check_measurements(const struct ap_claims *c, const struct ap_claims_measurement *m,
                                 size_t n, ap_error **err)
{
    for (size_t i = 0; i < c->n_claims; i++) {
        const struct ap_claim *cl = &c->claims[i];
        if (cl->not_reproducible != NULL)
            continue;
        for (size_t j = 0; j < cl->n; j++)
            if (check_subject(cl, cl->num[j], m, n, err) < 0 ||
                (cl->den[j] != NULL && check_subject(cl, cl->den[j], m, n, err) < 0))
                return -1;
        if (cl->reference != NULL && check_subject(cl, cl->reference, m, n, err) < 0)
            return -1;
    }
    return 0;
}

int ap_claims_check_results(const struct ap_claims *c, const cJSON *results, ap_error **err)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(results, "measurements");
    size_t n = (size_t)cJSON_GetArraySize(ms), k = 0, names = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ms) names +=
        (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(it, "metrics"));
    cleanup_free struct ap_claims_measurement *list = calloc(n + 1, sizeof(*list));
    cleanup_free const char **pool = calloc(names + 1, sizeof(*pool));
    if (list == NULL || pool == NULL)
        return ap_error_make(err, ENOMEM, "checking the claims against the results");
    size_t used = 0;
    cJSON_ArrayForEach(it, ms)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        if (!cJSON_IsString(id))
            continue;
        list[k].id = id->valuestring;
        list[k].params = cJSON_GetObjectItemCaseSensitive(it, "params");
        list[k].metrics = pool + used;
        const cJSON *mt;
        cJSON_ArrayForEach(mt, cJSON_GetObjectItemCaseSensitive(it, "metrics"))
        {
            pool[used++] = mt->string;
            list[k].n_metrics++;
        }
        k++;
    }
    return ap_claims_check_measurements(c, list, k, err);
}

static int add_once(const char **v, size_t *n, const char *id)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i], id) == 0)
            return 0;
    v[(*n)++] = id;
    return 1;
}

const char **ap_claims_needed(const struct ap_claims *c, size_t *n)
{
    size_t cap = 1;
    for (size_t i = 0; i < c->n_claims; i++)
        cap += 2 * c->claims[i].n + 1;
    const char **v = calloc(cap, sizeof(*v));
    if (v == NULL)
        return NULL;
    *n = 0;
    for (size_t i = 0; i < c->n_claims; i++) {
        const struct ap_claim *cl = &c->claims[i];
        if (cl->not_reproducible != NULL)
            continue;
        for (size_t j = 0; j < cl->n; j++) {
            add_once(v, n, cl->num[j]);
            if (cl->den[j] != NULL)
                add_once(v, n, cl->den[j]);
        }
        if (cl->reference != NULL)
            add_once(v, n, cl->reference);
    }
    return v;
}
