/* Merging the parts of a campaign (merge.h): the checks that they make one campaign, and the
 * merged results document. Pure: no I/O. */
#include "merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../bench/results.h"
#include "../core/cleanup.h"
#include "../core/json.h"

static const cJSON *get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *str(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(get(o, key));
}

static const char *env_str(const struct ap_merge_part *p, const char *key)
{
    const char *s = str(get(p->results, "environment"), key);
    return s != NULL ? s : "";
}

/* ---- the checks ------------------------------------------------------------------------------ */

/* A part's own facts: complete, sharded, a plan digest, a host. */
static int check_part(struct ap_merge_part *p, const struct ap_merge_opts *o, ap_error **err)
{
    const cJSON *run = get(p->results, "run");
    p->run_id = str(run, "id");
    p->plan = str(run, "plan_sha256");
    p->host = str(get(p->results, "environment"), "host");
    if (!cJSON_IsTrue(get(run, "complete"))) {
        ap_error_make(err, 0, "part %s is an incomplete run (run.complete is false)", p->name);
        return ap_error_hint(err, "finish that shard with 'appliance bench --resume' (the same "
                                  "options and --shard) and pack it again");
    }
    const cJSON *shard = get(run, "shard");
    const cJSON *index = get(shard, "index"), *count = get(shard, "count");
    if (!cJSON_IsNumber(index) || !cJSON_IsNumber(count)) {
        ap_error_make(err, 0, "part %s is not a sharded run (its results have no run.shard)",
                      p->name);
        return ap_error_hint(err, "merge takes the parts of 'appliance bench --shard I/N' runs; "
                                  "a whole run needs no merge");
    }
    p->shard = index->valueint;
    p->count = count->valueint;
    if (count->valuedouble != (double)p->count || index->valuedouble != (double)p->shard ||
        p->count < 1 || p->count > AP_MERGE_SHARDS_MAX || p->shard < 0 || p->shard >= p->count)
        return ap_error_make(err, 0,
                             "part %s: run.shard is not an index I and a count N with "
                             "0 <= I < N <= %d",
                             p->name, AP_MERGE_SHARDS_MAX);
    if (p->count != o->expect) {
        ap_error_make(err, 0, "part %s is shard %d/%d, but --expect is %d", p->name, p->shard,
                      p->count, o->expect);
        return ap_error_hint(err,
                             "give --expect %d if the campaign has %d shards, or only the "
                             "parts of the %d-shard campaign",
                             p->count, p->count, o->expect);
    }
    if (p->plan == NULL || strlen(p->plan) != AP_SHA256_HEX_LEN || !ap_sha256_hex_valid(p->plan))
        return ap_error_make(err, 0, "part %s: run.plan_sha256 is missing or not 64 hex digits",
                             p->name);
    if (p->host == NULL || p->host[0] == '\0')
        return ap_error_make(err, 0, "part %s: environment.host is missing or empty", p->name);
    if (p->run_id == NULL)
        return ap_error_make(err, 0, "part %s: run.id is missing", p->name);
    return 0;
}

/* The images of b are those of a, with the same digests. */
static int check_images(const struct ap_merge_part *a, const struct ap_merge_part *b,
                        ap_error **err)
{
    const cJSON *ia = get(get(a->results, "environment"), "images");
    const cJSON *ib = get(get(b->results, "environment"), "images");
    const cJSON *x;
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *from = pass == 0 ? ia : ib, *other = pass == 0 ? ib : ia;
        cJSON_ArrayForEach(x, from)
        {
            const char *d1 = str(x, "digest"), *d2 = str(get(other, x->string), "digest");
            if (d2 == NULL) {
                ap_error_make(err, 0, "part %s measured image %s, part %s did not",
                              pass == 0 ? a->name : b->name, x->string,
                              pass == 0 ? b->name : a->name);
                return ap_error_hint(err, "every shard runs with the same --images");
            }
            if (d1 == NULL || strcmp(d1, d2) != 0) {
                ap_error_make(err, 0, "image %s is %s in part %s but %s in part %s: other images",
                              x->string, d1 != NULL ? d1 : "?", pass == 0 ? a->name : b->name, d2,
                              pass == 0 ? b->name : a->name);
                return ap_error_hint(err,
                                     "images are bit-reproducible: build them on every node from "
                                     "the same checkout (appliance image build), and run the "
                                     "shards again on the nodes whose digests differ");
            }
        }
    }
    return 0;
}

/* What every part shares with the first: the plan, the images, include_noisy. */
static int check_same(const struct ap_merge_part *a, const struct ap_merge_part *b, ap_error **err)
{
    if (strcmp(a->plan, b->plan) != 0) {
        ap_error_make(err, 0,
                      "part %s is of another plan (plan_sha256 %.12s...) than part %s "
                      "(%.12s...)",
                      b->name, b->plan, a->name, a->plan);
        return ap_error_hint(err, "every shard runs from the same checkout with the same profile, "
                                  "suites, images and options: run that shard again so");
    }
    if (check_images(a, b, err) < 0)
        return -1;
    int na = cJSON_IsTrue(get(get(a->results, "run"), "include_noisy"));
    int nb = cJSON_IsTrue(get(get(b->results, "run"), "include_noisy"));
    if (na != nb) {
        ap_error_make(err, 0, "part %s was run %s --include-noisy, part %s %s it", a->name,
                      na ? "with" : "without", b->name, nb ? "with" : "without");
        return ap_error_hint(err, "run every shard with the same --include-noisy");
    }
    return 0;
}

static int machine_cmp(const struct ap_merge_part *a, const struct ap_merge_part *b)
{
    int c = strcmp(env_str(a, "cpu_model"), env_str(b, "cpu_model"));
    return c != 0 ? c : strcmp(env_str(a, "kernel"), env_str(b, "kernel"));
}

static int part_cmp(const void *x, const void *y)
{
    const struct ap_merge_part *a = x, *b = y;
    int c = machine_cmp(a, b);
    if (c == 0)
        c = (a->shard > b->shard) - (a->shard < b->shard);
    return c != 0 ? c : strcmp(a->name, b->name);
}

/* "machine m2 (CPU, kernel): " when there are several machine types, else "". */
static void machine_label(const struct ap_merge_part *p, size_t n_machines, char *buf, size_t len)
{
    buf[0] = '\0';
    if (n_machines > 1)
        snprintf(buf, len, "machine m%zu (%.80s, %.80s): ", p->machine, env_str(p, "cpu_model"),
                 env_str(p, "kernel"));
}

/* Of one machine type's parts (sorted by shard), every index 0..N-1 exactly once. */
static int check_shards(const struct ap_merge_part *v, size_t n, size_t n_machines, ap_error **err)
{
    char label[200];
    machine_label(&v[0], n_machines, label, sizeof(label));
    int count = v[0].count;
    for (size_t i = 1; i < n; i++)
        if (v[i].shard == v[i - 1].shard) {
            ap_error_make(err, 0, "%sshard %d/%d is given twice: %s and %s", label, v[i].shard,
                          count, v[i - 1].name, v[i].name);
            return ap_error_hint(err, "give each shard's part once (the same part copied, or a "
                                      "shard run twice: keep one)");
        }
    char missing[600] = "";
    size_t n_missing = 0, at = 0, len = 0;
    for (int s = 0; s < count; s++) {
        while (at < n && v[at].shard < s)
            at++;
        if (at < n && v[at].shard == s)
            continue;
        if (len < sizeof(missing) - 32)
            len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%d/%d",
                                    n_missing > 0 ? ", " : "", s, count);
        n_missing++;
    }
    if (n_missing > 0) {
        ap_error_make(err, 0, "%s%s %s %s", label, n_missing > 1 ? "shards" : "shard", missing,
                      n_missing > 1 ? "are missing" : "is missing");
        return ap_error_hint(err,
                             "run the missing shard%s (appliance bench --shard I/%d with the "
                             "same options, --sign) and give its part too",
                             n_missing > 1 ? "s" : "", count);
    }
    return 0;
}

/* No measurement id in two parts of one machine type: the shards split the plan's groups. */
static int check_disjoint(const struct ap_merge_part *v, size_t n, size_t n_machines,
                          ap_error **err)
{
    char label[200];
    machine_label(&v[0], n_machines, label, sizeof(label));
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const cJSON *a, *b;
            cJSON_ArrayForEach(a, get(v[i].results, "measurements"))
            {
                const char *id = str(a, "id");
                cJSON_ArrayForEach(b, get(v[j].results, "measurements"))
                {
                    const char *id2 = str(b, "id");
                    if (id != NULL && id2 != NULL && strcmp(id, id2) == 0)
                        return ap_error_make(err, 0,
                                             "%smeasurement %s is in two parts, %s (shard "
                                             "%d) and %s (shard %d): the shards do not split "
                                             "one plan",
                                             label, id, v[i].name, v[i].shard, v[j].name,
                                             v[j].shard);
                }
            }
        }
    return 0;
}

int ap_merge_check(struct ap_merge_part *parts, size_t n, const struct ap_merge_opts *o,
                   size_t *n_machines, ap_error **err)
{
    *n_machines = 0;
    if (n == 0)
        return ap_error_make(err, 0, "no part to merge");
    if (n > AP_MERGE_PARTS_MAX)
        return ap_error_make(err, 0, "%zu parts: at most %d are merged at once", n,
                             AP_MERGE_PARTS_MAX);
    for (size_t i = 0; i < n; i++)
        if (check_part(&parts[i], o, err) < 0)
            return -1;
    for (size_t i = 1; i < n; i++)
        if (check_same(&parts[0], &parts[i], err) < 0)
            return -1;
    qsort(parts, n, sizeof(*parts), part_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || machine_cmp(&parts[i - 1], &parts[i]) != 0)
            m++;
        parts[i].machine = m;
    }
    *n_machines = m;
    for (size_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && parts[j].machine == parts[i].machine; j++)
            ;
        if (check_shards(&parts[i], j - i, m, err) < 0 ||
            check_disjoint(&parts[i], j - i, m, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- the merged document --------------------------------------------------------------------- */

static cJSON *jdup(const cJSON *j)
{
    return cJSON_Duplicate(j, 1);
}

/* A run id as bench makes them: the UTC time and 8 random hex digits. */
static void new_run_id(char *id, size_t len)
{
    unsigned char rnd[4] = {0};
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        memset(rnd, 0, sizeof(rnd));
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(id, len, "%s-%02x%02x%02x%02x", stamp, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* run.merged: every part's provenance. */
static cJSON *merged_info(const struct ap_merge_part *parts, size_t n, int pooled)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "plan_sha256", parts[0].plan);
    cJSON_AddNumberToObject(m, "count", parts[0].count);
    cJSON_AddBoolToObject(m, "pooled", pooled);
    cJSON *a = cJSON_AddArrayToObject(m, "parts");
    for (size_t i = 0; i < n; i++) {
        cJSON *p = cJSON_CreateObject();
        char id[16];
        snprintf(id, sizeof(id), "m%zu", parts[i].machine);
        cJSON_AddStringToObject(p, "archive", parts[i].name);
        cJSON_AddStringToObject(p, "sha256", parts[i].sha256);
        cJSON_AddStringToObject(p, "run_id", parts[i].run_id);
        cJSON_AddNumberToObject(p, "shard", parts[i].shard);
        cJSON_AddStringToObject(p, "host", parts[i].host);
        const char *node = str(get(get(parts[i].results, "environment"), "scheduler"), "node");
        cJSON_AddStringToObject(p, "node", node != NULL ? node : parts[i].host);
        cJSON_AddStringToObject(p, "machine", id);
        cJSON_AddItemToArray(a, p);
    }
    return m;
}

/* The earliest (or, latest, the latest) of the parts' run.<key> times: the fixed-width UTC
 * format orders as text. */
static const char *time_edge(const struct ap_merge_part *parts, size_t n, const char *key,
                             int latest)
{
    const char *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *t = str(get(parts[i].results, "run"), key);
        if (t != NULL && (best == NULL || (strcmp(t, best) > 0) == latest))
            best = t;
    }
    return best;
}

/* Appends a duplicate of every item of the parts' arrays run.<key> (noise_blocks,
 * speed_changes), when any part has one. */
static void concat_run_arrays(cJSON *run, const struct ap_merge_part *parts, size_t n,
                              const char *key)
{
    cJSON *out = NULL;
    for (size_t i = 0; i < n; i++) {
        const cJSON *x, *a = get(get(parts[i].results, "run"), key);
        if (!cJSON_IsArray(a))
            continue;
        if (out == NULL)
            out = cJSON_AddArrayToObject(run, key);
        cJSON_ArrayForEach(x, a) cJSON_AddItemToArray(out, jdup(x));
    }
}

static cJSON *merged_run(const struct ap_merge_part *parts, size_t n, const struct ap_merge_opts *o,
                         int pooled)
{
    const cJSON *first = get(parts[0].results, "run");
    cJSON *run = cJSON_CreateObject();
    char id[64];
    new_run_id(id, sizeof(id));
    cJSON_AddStringToObject(run, "id", id);
    const char *started = time_edge(parts, n, "started", 0);
    const char *ended = time_edge(parts, n, "ended", 1);
    cJSON_AddItemToObject(run, "started",
                          started != NULL ? cJSON_CreateString(started)
                                          : jdup(get(first, "started")));
    cJSON_AddItemToObject(run, "ended",
                          ended != NULL ? cJSON_CreateString(ended) : cJSON_CreateNull());
    cJSON_AddBoolToObject(run, "complete", 1);
    static const char *const same[] = {"profile", "suites", "repeat",
                                       "warmup",  "only",   "include_noisy"};
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
        if (get(first, same[i]) != NULL)
            cJSON_AddItemToObject(run, same[i], jdup(get(first, same[i])));
    cJSON_AddStringToObject(run, "command", o->command != NULL ? o->command : "appliance merge");
    cJSON_AddArrayToObject(run, "resumed");
    cJSON_AddStringToObject(run, "plan_sha256", parts[0].plan);
    concat_run_arrays(run, parts, n, "speed_changes");
    concat_run_arrays(run, parts, n, "noise_blocks");
    cJSON_AddItemToObject(run, "merged", merged_info(parts, n, pooled));
    return run;
}

static cJSON *machine_entry(const struct ap_merge_part *parts, size_t n, size_t machine)
{
    const struct ap_merge_part *first = NULL;
    cJSON *hosts = cJSON_CreateArray(), *shards = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        if (parts[i].machine != machine)
            continue;
        if (first == NULL)
            first = &parts[i];
        int seen = 0;
        const cJSON *h;
        cJSON_ArrayForEach(h, hosts) seen |= strcmp(h->valuestring, parts[i].host) == 0;
        if (!seen)
            cJSON_AddItemToArray(hosts, cJSON_CreateString(parts[i].host));
        cJSON_AddItemToArray(shards, cJSON_CreateNumber(parts[i].shard));
    }
    const cJSON *env = get(first->results, "environment");
    cJSON *e = cJSON_CreateObject();
    char id[16];
    snprintf(id, sizeof(id), "m%zu", machine);
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "cpu_model", env_str(first, "cpu_model"));
    cJSON_AddStringToObject(e, "kernel", env_str(first, "kernel"));
    cJSON_AddItemToObject(e, "cgroup", jdup(get(env, "cgroup")));
    cJSON_AddItemToObject(e, "cpus_online", jdup(get(env, "cpus_online")));
    cJSON_AddItemToObject(e, "hosts", hosts);
    cJSON_AddItemToObject(e, "shards", shards);
    return e;
}

/* Appends src's items to dst's array at key (made when missing). */
static void append_items(cJSON *dst, const char *key, const cJSON *src)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(dst, key);
    if (a == NULL)
        a = cJSON_AddArrayToObject(dst, key);
    const cJSON *x;
    cJSON_ArrayForEach(x, src) cJSON_AddItemToArray(a, jdup(x));
}

/* The flags of a metric with n samples, made explicit ([] per sample) when it has none. */
static void flags_explicit(cJSON *metric)
{
    if (get(metric, "flags") != NULL)
        return;
    cJSON *f = cJSON_AddArrayToObject(metric, "flags");
    int n = cJSON_GetArraySize(get(metric, "samples"));
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(f, cJSON_CreateArray());
}

/* Pools measurement src (of part p) into dst: every metric's samples and flags, the runs and
 * the warnings concatenated; the statistics are recomputed later. */
static int pool_into(cJSON *dst, const cJSON *src, const struct ap_merge_part *p, ap_error **err)
{
    cJSON *metrics = cJSON_GetObjectItemCaseSensitive(dst, "metrics");
    const cJSON *sm;
    cJSON_ArrayForEach(sm, get(src, "metrics"))
    {
        cJSON *dm = cJSON_GetObjectItemCaseSensitive(metrics, sm->string);
        if (dm == NULL) {
            cJSON_AddItemToObject(metrics, sm->string, jdup(sm));
            continue;
        }
        const char *u1 = str(dm, "unit"), *u2 = str(sm, "unit");
        if (u1 == NULL || u2 == NULL || strcmp(u1, u2) != 0)
            return ap_error_make(err, 0,
                                 "part %s: measurement %s: metric %s is in %s, elsewhere in %s: "
                                 "it cannot be pooled",
                                 p->name, str(src, "id"), sm->string, u2 != NULL ? u2 : "?",
                                 u1 != NULL ? u1 : "?");
        if (get(dm, "flags") != NULL || get(sm, "flags") != NULL) {
            cleanup_cjson cJSON *copy = jdup(sm);
            flags_explicit(dm);
            flags_explicit(copy);
            append_items(dm, "flags", get(copy, "flags"));
        }
        append_items(dm, "samples", get(sm, "samples"));
    }
    append_items(dst, "runs", get(src, "runs"));
    append_items(dst, "warnings", get(src, "warnings"));
    char note[400];
    snprintf(note, sizeof(note), "pooled (--pool): samples of machine m%zu (host %s, shard %d) too",
             p->machine, p->host, p->shard);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(dst, "warnings"),
                         cJSON_CreateString(note));
    return 0;
}

static cJSON *find_id(const cJSON *measurements, const char *id)
{
    cJSON *m;
    cJSON_ArrayForEach(m, measurements)
    {
        const char *x = str(m, "id");
        if (x != NULL && id != NULL && strcmp(x, id) == 0)
            return m;
    }
    return NULL;
}

static int add_measurements(cJSON *out, const struct ap_merge_part *parts, size_t n,
                            size_t n_machines, int pooled, ap_error **err)
{
    for (size_t i = 0; i < n; i++) {
        const cJSON *m;
        cJSON_ArrayForEach(m, get(parts[i].results, "measurements"))
        {
            cJSON *into = pooled ? find_id(out, str(m, "id")) : NULL;
            if (into != NULL) {
                if (pool_into(into, m, &parts[i], err) < 0)
                    return -1;
                continue;
            }
            cJSON *c = jdup(m);
            cJSON_DeleteItemFromObjectCaseSensitive(c, "shard");
            cJSON_DeleteItemFromObjectCaseSensitive(c, "host");
            cJSON_DeleteItemFromObjectCaseSensitive(c, "machine");
            cJSON_AddNumberToObject(c, "shard", parts[i].shard);
            cJSON_AddStringToObject(c, "host", parts[i].host);
            if (n_machines > 1 && !pooled) {
                char id[16];
                snprintf(id, sizeof(id), "m%zu", parts[i].machine);
                cJSON_AddStringToObject(c, "machine", id);
            }
            cJSON_AddItemToArray(out, c);
        }
    }
    return 0;
}

static cJSON *merged_warnings(const struct ap_merge_part *parts, size_t n, size_t n_machines,
                              int pooled)
{
    cJSON *w = cJSON_CreateArray();
    if (pooled) {
        char text[300];
        snprintf(text, sizeof(text),
                 "the measurements of %zu machine types (environment.machines) were pooled "
                 "(--pool): each figure's samples come from several kinds of machine",
                 n_machines);
        cJSON_AddItemToArray(w, cJSON_CreateString(text));
    }
    for (size_t i = 0; i < n; i++) {
        const cJSON *x;
        cJSON_ArrayForEach(x, get(parts[i].results, "warnings"))
        {
            if (!cJSON_IsString(x))
                continue;
            size_t len = strlen(x->valuestring) + strlen(parts[i].host) + 64;
            cleanup_free char *text = malloc(len);
            if (text == NULL)
                continue;
            snprintf(text, len, "shard %d/%d on %s: %s", parts[i].shard, parts[i].count,
                     parts[i].host, x->valuestring);
            cJSON_AddItemToArray(w, cJSON_CreateString(text));
        }
    }
    return w;
}

int ap_merge_build(const struct ap_merge_part *parts, size_t n, size_t n_machines,
                   const struct ap_merge_opts *o, cJSON **out, ap_error **err)
{
    *out = NULL;
    int pooled = o->pool && n_machines > 1;
    cleanup_cjson cJSON *doc = cJSON_CreateObject();
    if (doc == NULL)
        return ap_error_make(err, ENOMEM, "merging");
    cJSON_AddStringToObject(doc, "schema", AP_RESULTS_SCHEMA);
    cJSON_AddItemToObject(doc, "run", merged_run(parts, n, o, pooled));
    cJSON_AddItemToObject(doc, "plan", jdup(get(parts[0].results, "plan")));
    cJSON *env = jdup(get(parts[0].results, "environment"));
    cJSON *machines = cJSON_AddArrayToObject(env, "machines");
    for (size_t k = 1; k <= n_machines; k++)
        cJSON_AddItemToArray(machines, machine_entry(parts, n, k));
    cJSON_AddItemToObject(doc, "environment", env);
    cJSON_AddItemToObject(doc, "warnings", merged_warnings(parts, n, n_machines, pooled));
    cJSON *ms = cJSON_AddArrayToObject(doc, "measurements");
    if (add_measurements(ms, parts, n, n_machines, pooled, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const cJSON *pairs = get(parts[i].results, "size_pairs");
        if (cJSON_IsArray(pairs)) {
            cJSON_AddItemToObject(doc, "size_pairs", jdup(pairs));
            break;
        }
    }
    if (pooled)
        ap_bench_results_restat(doc);
    char id[AP_RESULTS_RUN_ID_MAX + 1];
    if (ap_bench_results_check(doc, id, err) < 0)
        return ap_error_wrap(err, "the merged results");
    *out = doc;
    doc = NULL;
    return 0;
}
