/* The machine types of merged results (verdict.h, ap_verdict_machines): which measurements
 * each claim is judged on when a campaign ran on several kinds of machine. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "verdict.h"

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(s) && s->valuestring != NULL ? s->valuestring : NULL;
}

/* The entries of environment.machines, checked: -1 with *err when one is malformed. */
static int listed(const cJSON *list, struct ap_verdict_machine *ms, size_t *n, ap_error **err)
{
    const cJSON *e;
    *n = 0;
    cJSON_ArrayForEach(e, list)
    {
        struct ap_verdict_machine *m = &ms[*n];
        m->id = str(e, "id");
        m->cpu_model = str(e, "cpu_model");
        m->kernel = str(e, "kernel");
        if (m->id == NULL || *m->id == '\0' || m->cpu_model == NULL || m->kernel == NULL) {
            ap_error_make(err, EINVAL,
                          "results: environment.machines[%zu] has no string \"id\", "
                          "\"cpu_model\" and \"kernel\"",
                          *n);
            return ap_error_hint(err, "merge the parts again with 'appliance merge'");
        }
        for (size_t i = 0; i < *n; i++)
            if (strcmp(ms[i].id, m->id) == 0) {
                ap_error_make(err, EINVAL,
                              "results: environment.machines lists machine %.64s twice", m->id);
                return ap_error_hint(err, "merge the parts again with 'appliance merge'");
            }
        (*n)++;
    }
    return 0;
}

/* Every measurement names a listed machine (when there are two or more), or none (fewer). */
static int measurements_fit(const cJSON *results, const struct ap_verdict_machine *ms, size_t n,
                            ap_error **err)
{
    const cJSON *m;
    size_t i = 0;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(results, "measurements"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(m, "machine");
        const char *id = str(m, "id") != NULL ? str(m, "id") : "?";
        size_t at = 0;
        if (n < 2 && k != NULL) {
            ap_error_make(err, EINVAL,
                          "results: measurement %.200s (measurements[%zu]) names a machine, but "
                          "environment.machines lists %s machine type",
                          id, i, n == 0 ? "no" : "one");
            return ap_error_hint(err, "only results merged from two or more machine types name "
                                      "a machine per measurement; merge the parts again with "
                                      "'appliance merge'");
        }
        if (n >= 2 && !cJSON_IsString(k)) {
            ap_error_make(err, EINVAL,
                          "results: measurement %.200s (measurements[%zu]) names no machine, "
                          "but environment.machines lists %zu machine types",
                          id, i, n);
            return ap_error_hint(err, "with several machine types every measurement says which "
                                      "machine made it; merge the parts again with "
                                      "'appliance merge'");
        }
        while (n >= 2 && at < n && strcmp(ms[at].id, k->valuestring) != 0)
            at++;
        if (n >= 2 && at == n) {
            ap_error_make(err, EINVAL,
                          "results: measurement %.200s (measurements[%zu]) names machine "
                          "%.64s, which environment.machines does not list",
                          id, i, k->valuestring);
            return ap_error_hint(err, "merge the parts again with 'appliance merge'");
        }
        i++;
    }
    return 0;
}

int ap_verdict_machines(const cJSON *results, struct ap_verdict_machine **out, size_t *n,
                        ap_error **err)
{
    *out = NULL;
    *n = 0;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(results, "environment"), "machines");
    if (list != NULL && !cJSON_IsArray(list))
        return ap_error_make(err, EINVAL, "results: environment.machines is not an array");
    int count = cJSON_GetArraySize(list);
    if (count > AP_VERDICT_MACHINES_MAX) {
        ap_error_make(err, E2BIG, "results: %d machine types, more than the %d judged at most",
                      count, AP_VERDICT_MACHINES_MAX);
        return ap_error_hint(err, "merge parts of at most %d machine types",
                             AP_VERDICT_MACHINES_MAX);
    }
    cleanup_free struct ap_verdict_machine *ms = calloc((size_t)count + 1, sizeof(*ms));
    size_t got = 0;
    if (ms == NULL)
        return ap_error_make(err, ENOMEM, "reading the machine types");
    if (listed(list, ms, &got, err) < 0 || measurements_fit(results, ms, got, err) < 0)
        return -1;
    /* One machine type is judged as any single run: its results are one machine's. */
    if (got < 2)
        return 0;
    *n = got;
    *out = steal_pointer(&ms);
    return 0;
}
