/* libFuzzer harness for comparing runs: two results documents (the input split at its first
 * NUL byte; without one, the input against itself) parsed, compared, printed as a table and as
 * JSON. Results come out of archives from elsewhere: no document may crash the comparison, and
 * nothing it prints may be a NaN. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/compare.h"
#include "core/error.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every number in the JSON is finite (names from the input may spell "nan" in strings; only
 * numbers matter). */
static int all_finite(const cJSON *j)
{
    if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
        return 0;
    for (const cJSON *c = j->child; c != NULL; c = c->next)
        if (!all_finite(c))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t la = nul != NULL ? (size_t)(nul - text) : size;
    const char *tb = nul != NULL ? nul + 1 : text;
    size_t lb = nul != NULL ? size - la - 1 : size;
    ap_error *err = NULL;
    cJSON *a = NULL, *b = NULL;
    if (ap_json_parse(text, la, "fuzz/a", &a, &err) < 0 ||
        ap_json_parse(tb, lb, "fuzz/b", &b, &err) < 0)
        goto out;
    struct ap_compare *c = NULL;
    struct ap_compare_opts o = {.alpha = 0.05};
    if (ap_compare_results(a, b, &o, &c, &err) < 0)
        goto out;
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct ap_compare_row *r = &c->rows[i];
        if (r->significant && !(r->test == AP_COMPARE_TEST_EXACT ||
                                (r->p_adjusted <= o.alpha && r->p <= r->p_adjusted)))
            abort();
        /* A change is significant and reaches the minimum effect; nothing else is. */
        if (r->verdict != AP_COMPARE_SAME && r->verdict != AP_COMPARE_TOO_FEW &&
            !(r->significant && r->reaches_min_effect))
            abort();
        if (!isnan(r->p) && !(r->p >= 0 && r->p <= 1))
            abort();
    }
    FILE *null = fopen("/dev/null", "w");
    if (null != NULL) {
        ap_compare_print(null, c, 1);
        fclose(null);
    }
    cJSON *j = ap_compare_to_json(c, a, "a", b, "b");
    if (j != NULL && !all_finite(j))
        abort();
    cJSON_Delete(j);
    ap_compare_free(c);
out:
    ap_error_release(&err);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return 0;
}
