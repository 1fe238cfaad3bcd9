/* libFuzzer harness for claims files: the input parsed and checked as a claims file; one that
 * parses is checked against a source text made of its own quotes (which must pass), against the
 * same text short of its first byte and against the input itself (which may fail), then judged
 * against a small fixed results document (and the same merged from two machine types, judged per
 * machine), and the verdicts written as a document, report.md and
 * report.html into memory. Claims files come from whoever publishes one: none may crash the
 * engine or the reports, the counts of the verdicts must add up, and the same claims must give
 * the same reports. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"
#include "report/claims.h"
#include "report/html.h"
#include "report/markdown.h"
#include "report/verdict.h"
#include "../unit/results-build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A metric as the bench writes it; fewer than six samples of an ok figure are n-too-small. */
static cJSON *metric(const char *unit, const double *x, size_t n, const char *status)
{
    return test_metric(unit, x, n, n < 6 && strcmp(status, "ok") == 0 ? "n-too-small" : status, NAN,
                       NAN, NAN);
}

/* A measurement "suite/workload/image" (or the id given) with one metric of samples spread
 * around centre. */
static cJSON *measure(cJSON *ms, const char *id, const char *suite, const char *workload,
                      const char *image, const char *name, const char *unit, double centre,
                      size_t n, const char *status)
{
    static const double spread[8] = {0.98, 1.01, 0.99, 1.0, 1.02, 1.0, 0.97, 1.03};
    double x[8];
    for (size_t i = 0; i < n; i++)
        x[i] = spread[i] * centre;
    cJSON *m = cJSON_CreateObject(), *metrics = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "suite", suite);
    cJSON_AddStringToObject(m, "workload", workload);
    cJSON_AddStringToObject(m, "image", image);
    cJSON_AddItemToObject(m, "params", cJSON_CreateObject());
    if (name != NULL)
        cJSON_AddItemToObject(metrics, name, metric(unit, x, n, status));
    cJSON_AddItemToObject(m, "metrics", metrics);
    cJSON_AddItemToArray(ms, m);
    return m;
}

static void add_metric(cJSON *m, const char *name, const char *unit, double v, size_t n)
{
    double x[8];
    for (size_t i = 0; i < n; i++)
        x[i] = v * (1 + 0.01 * (double)i);
    cJSON_AddItemToObject(cJSON_GetObjectItem(m, "metrics"), name, metric(unit, x, n, "ok"));
}

/* The run, the machine and the images, as the reports read them. */
static const char head[] =
    "{\"schema\": \"appliance-results-2\","
    " \"run\": {\"id\": \"20260101T000000Z-0123abcd\", \"started\": \"2026-01-01T00:00:00Z\","
    "  \"ended\": \"2026-01-01T01:00:00Z\", \"complete\": true, \"profile\": \"quick\","
    "  \"suites\": [\"size\", \"startup\", \"memory\", \"cpu\", \"http\", \"latency\"],"
    "  \"repeat\": 6, \"warmup\": 1, \"command\": \"appliance bench\", \"resumed\": []},"
    " \"plan\": {\"schema\": \"appliance-bench-plan-1\", \"images\": [], \"profiles\": {}},"
    " \"environment\": {\"kernel\": \"6.1.0\", \"arch\": \"x86_64\", \"cpu_model\": \"<cpu>\","
    "  \"cpus_online\": 2, \"memory_bytes\": 4e9, \"cgroup\": \"v1\","
    "  \"appliance\": {\"version\": \"0.1.0\", \"commit\": \"0123abcd\"},"
    "  \"images\": {\"go-1.23-static\": {\"digest\": \"sha256:00\", \"language\": \"go\","
    "   \"compressed_bytes\": 1e6, \"unpacked_bytes\": 2e6}}},"
    " \"warnings\": [],"
    " \"size_pairs\": [{\"label\": \"hello\", \"go\": \"go-1.23-hello\","
    "  \"python\": \"python-3.13\", \"unpacked_bytes\": {\"go\": 2e6, \"python\": 5e7,"
    "  \"ratio\": 25}, \"compressed_bytes\": {\"go\": 1e6, \"python\": 2e7, \"ratio\": 20}}],"
    " \"measurements\": []}";

/* The results every input is judged against: figures of every suite, some ok, some with too
 * few samples or another status, and a text param; the seeds' subjects among them. */
static cJSON *results(void)
{
    cJSON *r = cJSON_Parse(head);
    if (r == NULL)
        return NULL;
    cJSON *ms = cJSON_GetObjectItem(r, "measurements");
    static const char *const tasks[] = {"binarytrees", "nbody", "fasta", "a", "b"};
    static const char *const images[] = {"go-1.23-static",  "python-3.13", "python-3.13t",
                                         "python-3.13-jit", "go",          "python"};
    char id[128];
    for (size_t t = 0; t < 5; t++)
        for (size_t i = 0; i < 6; i++) {
            snprintf(id, sizeof(id), "cpu/%s/%s", tasks[t], images[i]);
            cJSON *m = measure(ms, id, "cpu", tasks[t], images[i], "wall_s", "s",
                               (double)(1 + 7 * (i % 4 != 0)) * (double)(t + 1), t == 2 ? 3 : 6,
                               i == 2 && t == 1 ? "unstable" : "ok");
            cJSON_AddNumberToObject(cJSON_GetObjectItem(m, "params"), "n", 1000);
        }
    static const char *const servers[] = {"go-fiber-json", "go-gin-json", "python-fastapi-json",
                                          "python-django-json"};
    for (size_t s = 0; s < 4; s++) {
        double go = s < 2;
        snprintf(id, sizeof(id), "http/%s/c256", servers[s]);
        cJSON *m = measure(ms, id, "http", servers[s], servers[s], "rps", "req/s",
                           go ? 150000 : 20000, 6, s == 3 ? "client-saturated" : "ok");
        add_metric(m, "p99_ms", "ms", go ? 2 : 40, 6);
        snprintf(id, sizeof(id), "latency/%s/r10000", servers[s]);
        m = measure(ms, id, "latency", servers[s], servers[s], "p95_ms", "ms", go ? 1 : 6000, 6,
                    "ok");
        add_metric(m, "p99_ms", "ms", go ? 2 : 9000, 6);
        snprintf(id, sizeof(id), "memory/server/%s", servers[s]);
        m = measure(ms, id, "memory", servers[s], servers[s], "idle_uss_bytes", "B", go ? 8e6 : 4e7,
                    6, "ok");
        add_metric(m, "loaded_peak_pss_bytes", "B", go ? 2e7 : 9e7, 6);
        add_metric(m, "idle_pss_bytes", "B", go ? 9e6 : 4.2e7, 1);
        snprintf(id, sizeof(id), "startup/service/%s", servers[s]);
        measure(ms, id, "startup", servers[s], servers[s], "container_ready_s", "s",
                go ? 0.02 : 2.5, 6, "ok");
    }
    measure(ms, "size/image/go-1.23-nethttp", "size", "image", "go-1.23-nethttp", "unpacked_bytes",
            "B", 9e6, 1, "ok");
    measure(ms, "size/image/go-hello", "size", "image", "go-hello", "unpacked_bytes", "B", 2e6, 1,
            "ok");
    measure(ms, "startup/process/go-1.23-hello/hello", "startup", "hello", "go-1.23-hello",
            "wall_s", "s", 0.001, 6, "noisy");
    measure(ms, "lang/keywords/go-1.23-static", "lang", "keywords", "go-1.23-static", "keywords",
            "count", 25, 1, "ok");
    cJSON *v = measure(ms, "lang/version/python-3.13", "lang", "version", "python-3.13", NULL, NULL,
                       0, 0, "ok");
    cJSON_AddStringToObject(cJSON_GetObjectItem(v, "params"), "version", "3.13.1");
    v = measure(ms, "lang/version/go-1.23-static", "lang", "version", "go-1.23-static", NULL, NULL,
                0, 0, "ok");
    cJSON_AddStringToObject(cJSON_GetObjectItem(v, "params"), "version", "1.23.4");
    return r;
}

/* The source text the claims' quotes were read from, as far as the claims file tells: each
 * quote as many times as its occurrence asks, one a line. A heap string of *len bytes. */
static char *quotes_text(const struct ap_claims *c, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        __builtin_trap();
    for (size_t i = 0; i < c->n_claims; i++)
        for (int k = 0; k < c->claims[i].occurrence; k++)
            fprintf(f, "%s\n", c->claims[i].quote);
    for (size_t i = 0; i < c->n_untestable; i++)
        fprintf(f, "%s\n", c->untestable[i].quote);
    if (fclose(f) != 0)
        __builtin_trap();
    *len = n;
    return buf;
}

static void source_checks(const struct ap_claims *c, const uint8_t *data, size_t size)
{
    ap_error *err = NULL;
    size_t len;
    char *text = quotes_text(c, &len);
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(text, len, hex);
    struct ap_claims pinned = *c;
    pinned.source_sha256 = hex;
    /* Every quote is in this text as often as asked, and its sha256 is pinned: it must pass. */
    if (ap_claims_check_source(&pinned, text, len, "fuzz/quotes", &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        __builtin_trap();
    }
    /* The same text short of its first byte (pinned too), and the input itself against the
     * file's own sha256: either may fail. */
    if (len > 0) {
        ap_sha256_hex(text + 1, len - 1, hex);
        if (ap_claims_check_source(&pinned, text + 1, len - 1, "fuzz/short", &err) < 0)
            ap_error_release(&err);
    }
    if (ap_claims_check_source(c, (const char *)data, size, "fuzz/input", &err) < 0)
        ap_error_release(&err);
    free(text);
}

/* report.md and report.html of a verdicts document, into memory; the text of both, or NULL
 * when rendering failed (which a well-formed document must not). */
static char *render(const cJSON *doc, const cJSON *r)
{
    char *buf = NULL;
    size_t n = 0;
    ap_error *err = NULL;
    FILE *f = open_memstream(&buf, &n);
    if (f == NULL)
        __builtin_trap();
    int rc = ap_report_markdown(f, doc, r, &err);
    if (rc == 0)
        rc = ap_report_html(f, doc, r, &err);
    if (rc < 0) {
        fprintf(stderr, "%s\n", err->msg);
        ap_error_release(&err);
    }
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void judge(const struct ap_claims *c, const cJSON *r)
{
    ap_error *err = NULL;
    struct ap_verdicts v;
    if (ap_verdict_judge(c, r, &v, &err) < 0) {
        ap_error_release(&err);
        return;
    }
    size_t total = 0, per = v.n_machines > 0 ? v.n_machines : 1, m = 0;
    for (size_t k = 0; k < AP_VERDICT_KINDS; k++)
        total += v.counts[k];
    if (v.n != c->n_claims * per || total != v.n || v.m > v.n)
        __builtin_trap();
    for (size_t i = 0; i < v.n_machines; i++) {
        size_t each = 0;
        for (size_t k = 0; k < AP_VERDICT_KINDS; k++)
            each += v.machines[i].counts[k];
        if (each != c->n_claims)
            __builtin_trap();
        m += v.machines[i].m;
    }
    if (v.n_machines > 0 && m != v.m)
        __builtin_trap();
    struct ap_verdict_inputs in = {"fuzz.claims.json", c->sha256, 1};
    cJSON *doc = ap_verdict_document(c, r, &v, &in);
    if (doc == NULL)
        __builtin_trap();
    char *a = render(doc, r), *b = render(doc, r);
    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        __builtin_trap();
    free(a);
    free(b);
    cJSON_Delete(doc);
    ap_verdicts_free(&v);
}

/* results() merged from two machine types m1 and m2: every measurement once on each, m2's
 * twice as slow. */
static cJSON *two_machines(const cJSON *one)
{
    cJSON *r = cJSON_Duplicate(one, 1), *ms = cJSON_CreateArray();
    cJSON *env = cJSON_CreateObject(), *list = cJSON_CreateArray();
    if (r == NULL || ms == NULL || env == NULL || list == NULL)
        __builtin_trap();
    cJSON_ReplaceItemInObject(r, "measurements", ms);
    cJSON_ReplaceItemInObject(r, "environment", env);
    cJSON_AddItemToObject(env, "machines", list);
    static const char *const ids[] = {"m1", "m2"};
    for (int k = 0; k < 2; k++) {
        cJSON *e = cJSON_CreateObject(), *m;
        cJSON_AddStringToObject(e, "id", ids[k]);
        cJSON_AddStringToObject(e, "cpu_model", k ? "CPU <b>" : "CPU a");
        cJSON_AddStringToObject(e, "kernel", "6.1.0");
        cJSON_AddItemToArray(list, e);
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(one, "measurements"))
        {
            cJSON *copy = cJSON_Duplicate(m, 1), *metric, *x;
            cJSON_AddStringToObject(copy, "machine", ids[k]);
            cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(copy, "metrics"))
            {
                cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(metric, "samples"))
                    cJSON_SetNumberValue(x, x->valuedouble * (k + 1));
                cJSON *st = cJSON_GetObjectItemCaseSensitive(metric, "stats");
                cJSON_ArrayForEach(x, st) if (cJSON_IsNumber(x) && strcmp(x->string, "n") != 0 &&
                                              strncmp(x->string, "ci95_cov", 8) != 0)
                    cJSON_SetNumberValue(x, x->valuedouble * (k + 1));
            }
            cJSON_AddItemToArray(ms, copy);
        }
    }
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON *r, *r2;
    ap_error *err = NULL;
    if (r == NULL) {
        if (ap_hash_init(&err) < 0 || (r = results()) == NULL)
            __builtin_trap();
        r2 = two_machines(r);
    }
    struct ap_claims c;
    if (ap_claims_parse((const char *)data, size, "fuzz.claims.json", &c, &err) < 0) {
        ap_error_release(&err);
        return 0;
    }
    source_checks(&c, data, size);
    judge(&c, r);
    judge(&c, r2);
    ap_claims_free(&c);
    return 0;
}
