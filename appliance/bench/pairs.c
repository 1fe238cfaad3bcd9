#include "pairs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../core/json.h"
#include "status.h"

const char *const ap_size_pair_metrics[] = {"compressed_bytes", "unpacked_bytes", NULL};

const char *ap_bench_image_language(const char *name)
{
    return strncmp(name, "go", 2) == 0 ? "go" : "python";
}

static int label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AP_SIZE_PAIR_LABEL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

static int in_list(const cJSON *list, const char *name)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, name) == 0)
            return 1;
    }
    return 0;
}

/* One entry, checked against the images the size suite measures and the labels before it. */
static int parse_pair(const cJSON *it, const char *where, const cJSON *sized,
                      const struct ap_size_pair *before, size_t n_before, struct ap_size_pair *p,
                      ap_error **err)
{
    if (!cJSON_IsObject(it))
        return ap_error_make(err, EINVAL, "%s must be an object {label, go, python, why}", where);
    if (ap_json_get_string(it, "label", 1, where, &p->label, err) < 0 ||
        ap_json_get_string(it, "go", 1, where, &p->go, err) < 0 ||
        ap_json_get_string(it, "python", 1, where, &p->python, err) < 0 ||
        ap_json_get_string(it, "why", 1, where, &p->why, err) < 0)
        return -1;
    if (!label_ok(p->label))
        return ap_error_make(err, EINVAL, "%s: label must be 1 to %d printable characters", where,
                             AP_SIZE_PAIR_LABEL_MAX);
    for (size_t i = 0; i < n_before; i++)
        if (strcmp(before[i].label, p->label) == 0)
            return ap_error_make(err, EINVAL, "%s: label \"%s\" is used twice", where, p->label);
    const char *roles[][2] = {{"go", p->go}, {"python", p->python}};
    for (size_t r = 0; r < 2; r++) {
        if (strcmp(ap_bench_image_language(roles[r][1]), roles[r][0]) != 0)
            return ap_error_make(err, EINVAL, "%s: %s: \"%s\" is not a %s image", where,
                                 roles[r][0], roles[r][1], r == 0 ? "Go" : "Python");
        if (!in_list(sized, roles[r][1])) {
            ap_error_make(err, EINVAL, "%s: %s: \"%s\" is not measured by the size suite", where,
                          roles[r][0], roles[r][1]);
            return ap_error_hint(err, "list it in images.size too");
        }
    }
    return 0;
}

int ap_size_pairs_parse(const cJSON *plan, const char *what, struct ap_size_pair *pairs, size_t max,
                        ap_error **err)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(plan, "size_pairs");
    if (list == NULL)
        return 0;
    if (!cJSON_IsArray(list))
        return ap_error_make(err, EINVAL, "%s: size_pairs must be an array", what);
    const cJSON *sized =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(plan, "images"), "size");
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        char where[256];
        snprintf(where, sizeof(where), "%s: size_pairs[%zu]", what, n);
        if (n == max)
            return ap_error_make(err, E2BIG, "%s: more than %zu pairs", where, max);
        if (parse_pair(it, where, sized, pairs, n, &pairs[n], err) < 0)
            return -1;
        n++;
    }
    return (int)n;
}

/* metric's median and status into *v and *s; 0, or -1 when it has no median. */
static int figure(const cJSON *m, const char *metric, double *v, enum ap_status *s)
{
    const cJSON *mt =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), metric);
    const cJSON *med =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(mt, "stats"), "median");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(mt, "status");
    if (!cJSON_IsNumber(med))
        return -1;
    *v = med->valuedouble;
    *s = AP_STATUS_OK;
    if (cJSON_IsString(st))
        ap_status_parse(st->valuestring, s);
    return 0;
}

static void add_metric(cJSON *out, const char *metric, const cJSON *go_m, const cJSON *py_m)
{
    double g, p;
    enum ap_status gs, ps;
    if (figure(go_m, metric, &g, &gs) < 0 || figure(py_m, metric, &p, &ps) < 0)
        return;
    cJSON *f = cJSON_AddObjectToObject(out, metric);
    cJSON_AddNumberToObject(f, "go", g);
    cJSON_AddNumberToObject(f, "python", p);
    char why[80];
    const char *refused = ap_status_ratio_refused(ps, gs, "Go", why, sizeof(why));
    if (refused == NULL && !(isfinite(g) && g > 0))
        refused = "no Go figure above 0";
    if (refused == NULL) {
        cJSON_AddNumberToObject(f, "ratio", p / g);
    } else {
        cJSON_AddNullToObject(f, "ratio");
        cJSON_AddStringToObject(f, "no_ratio", refused);
    }
    cJSON_AddStringToObject(f, "status",
                            ap_status_name(ap_status_pick(AP_STATUS_BIT(gs) | AP_STATUS_BIT(ps))));
}

cJSON *ap_size_pair_figures(const struct ap_size_pair *p, const cJSON *go_m, const cJSON *py_m)
{
    cJSON *out = cJSON_CreateObject();
    const cJSON *gid = cJSON_GetObjectItemCaseSensitive(go_m, "id");
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(py_m, "id");
    if (out == NULL || !cJSON_IsString(gid) || !cJSON_IsString(pid)) {
        cJSON_Delete(out);
        return NULL;
    }
    cJSON_AddStringToObject(out, "label", p->label);
    cJSON_AddStringToObject(out, "go", p->go);
    cJSON_AddStringToObject(out, "python", p->python);
    cJSON_AddStringToObject(out, "why", p->why);
    cJSON_AddStringToObject(out, "go_id", gid->valuestring);
    cJSON_AddStringToObject(out, "python_id", pid->valuestring);
    for (size_t i = 0; ap_size_pair_metrics[i] != NULL; i++)
        add_metric(out, ap_size_pair_metrics[i], go_m, py_m);
    return out;
}
