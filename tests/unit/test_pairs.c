/* The size suite's pairs (bench/pairs.c): bench.json's size_pairs read and checked, and each
 * pair's figures derived from its two measurements, a ratio only between ok figures. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench/pairs.h"
#include "core/error.h"
#include "test.h"

#define IMAGES                                                                                     \
    "\"images\": {\"size\": [\"go-1.23-hello\", \"go-1.23-gin\", \"python-3.13\", "                \
    "\"python-3.13-flask\"]}"
#define HELLO                                                                                      \
    "{\"label\": \"hello\", \"go\": \"go-1.23-hello\", \"python\": \"python-3.13\", \"why\": "     \
    "\"w\"}"
#define GIN                                                                                        \
    "{\"label\": \"gin vs Flask\", \"go\": \"go-1.23-gin\", \"python\": \"python-3.13-flask\", "   \
    "\"why\": \"w\"}"

/* Parses a plan with IMAGES and the given size_pairs (raw JSON, NULL: none). */
static int parse(const char *pairs_json, struct ap_size_pair *out, size_t max, ap_error **err)
{
    char buf[2048];
    snprintf(buf, sizeof(buf), "{%s%s%s}", IMAGES, pairs_json ? ", \"size_pairs\": " : "",
             pairs_json ? pairs_json : "");
    cJSON *plan = cJSON_Parse(buf);
    if (!CHECK_MSG(plan != NULL, "bad test JSON: %s", buf))
        return -2;
    int n = ap_size_pairs_parse(plan, "bench.json", out, max, err);
    /* The pairs point into the plan: keep what a check reads. */
    static char labels[AP_SIZE_PAIRS_MAX][64];
    for (int i = 0; i < n; i++) {
        snprintf(labels[i], sizeof(labels[i]), "%s", out[i].label);
        out[i].label = labels[i];
        out[i].go = out[i].python = out[i].why = NULL;
    }
    cJSON_Delete(plan);
    return n;
}

TEST(pairs_read)
{
    struct ap_size_pair p[AP_SIZE_PAIRS_MAX];
    ap_error *err = NULL;
    CHECK(parse(NULL, p, AP_SIZE_PAIRS_MAX, &err) == 0);
    CHECK(parse("[]", p, AP_SIZE_PAIRS_MAX, &err) == 0);
    int n = parse("[" HELLO ", " GIN "]", p, AP_SIZE_PAIRS_MAX, &err);
    if (CHECK_MSG(n == 2, "%s", err ? err->msg : "?")) {
        CHECK(strcmp(p[0].label, "hello") == 0);
        CHECK(strcmp(p[1].label, "gin vs Flask") == 0);
    }
    ap_error_release(&err);
}

TEST(pairs_refused)
{
    static const struct {
        const char *pairs, *needle;
    } cases[] = {
        {"{}", "must be an array"},
        {"[7]", "size_pairs[0] must be an object"},
        {"[" HELLO ", {\"label\": \"x\", \"go\": \"go-1.23-gin\", \"python\": \"python-3.13\"}]",
         "size_pairs[1]"},
        {"[{\"label\": \"\", \"go\": \"go-1.23-gin\", \"python\": \"python-3.13\", \"why\": "
         "\"w\"}]",
         "label must be 1 to"},
        {"[{\"label\": \"a\\tb\", \"go\": \"go-1.23-gin\", \"python\": \"python-3.13\", "
         "\"why\": \"w\"}]",
         "label must be"},
        {"[{\"label\": \"0123456789012345678901234567890123456789012345678\", \"go\": "
         "\"go-1.23-gin\", \"python\": \"python-3.13\", \"why\": \"w\"}]",
         "label must be 1 to 48"},
        {"[" HELLO ", " HELLO "]", "\"hello\" is used twice"},
        {"[{\"label\": \"x\", \"go\": \"python-3.13\", \"python\": \"python-3.13\", \"why\": "
         "\"w\"}]",
         "go: \"python-3.13\" is not a Go image"},
        {"[{\"label\": \"x\", \"go\": \"go-1.23-gin\", \"python\": \"go-1.23-hello\", \"why\": "
         "\"w\"}]",
         "python: \"go-1.23-hello\" is not a Python image"},
        {"[{\"label\": \"x\", \"go\": \"go-1.23-static\", \"python\": \"python-3.13\", \"why\": "
         "\"w\"}]",
         "\"go-1.23-static\" is not measured by the size suite"},
        {"[{\"label\": \"x\", \"go\": \"go-1.23-gin\", \"python\": \"python-3.13-web\", \"why\": "
         "\"w\"}]",
         "python: \"python-3.13-web\" is not measured"},
        {"[{\"label\": 1, \"go\": \"go-1.23-gin\", \"python\": \"python-3.13\", \"why\": \"w\"}]",
         "label"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ap_size_pair p[AP_SIZE_PAIRS_MAX];
        ap_error *err = NULL;
        int n = parse(cases[i].pairs, p, AP_SIZE_PAIRS_MAX, &err);
        CHECK_MSG(n == -1, "case %zu accepted (%d)", i, n);
        CHECK_MSG(test_contains(err ? err->msg : NULL, cases[i].needle),
                  "case %zu: \"%s\" not in: %s", i, cases[i].needle, err ? err->msg : "(none)");
        CHECK_MSG(test_contains(err ? err->msg : NULL, "bench.json"), "case %zu: %s", i,
                  err ? err->msg : "(none)");
        ap_error_release(&err);
    }
    /* More pairs than room: refused, never cut. */
    struct ap_size_pair p[1];
    ap_error *err = NULL;
    CHECK(parse("[" HELLO ", " GIN "]", p, 1, &err) == -1);
    CHECK(test_contains(err ? err->msg : NULL, "more than 1 pairs"));
    ap_error_release(&err);
}

TEST(language_by_name)
{
    CHECK(strcmp(ap_bench_image_language("go-1.23-static"), "go") == 0);
    CHECK(strcmp(ap_bench_image_language("python-3.13t"), "python") == 0);
    CHECK(strcmp(ap_bench_image_language("g"), "python") == 0);
}

/* A size/image measurement with one compressed_bytes and unpacked_bytes figure each. */
static cJSON *measurement(const char *image, double compressed, const char *cstatus,
                          double unpacked)
{
    char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"id\": \"size/image/%s\", \"metrics\": {"
             "\"compressed_bytes\": {\"stats\": {\"median\": %.17g}, \"status\": \"%s\"},"
             "\"unpacked_bytes\": {\"stats\": {\"median\": %.17g}, \"status\": \"ok\"}}}",
             image, compressed, cstatus, unpacked);
    return cJSON_Parse(buf);
}

static double num(const cJSON *f, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *f, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

TEST(pair_figures)
{
    struct ap_size_pair p = {"net/http vs FastAPI", "go-1.23-nethttp", "python-3.13-fastapi", "w"};
    cJSON *g = measurement("go-1.23-nethttp", 4e6, "ok", 8e6);
    cJSON *py = measurement("python-3.13-fastapi", 36e6, "ok", 96e6);
    cJSON *f = ap_size_pair_figures(&p, g, py);
    if (CHECK(f != NULL)) {
        CHECK(strcmp(str(f, "label"), "net/http vs FastAPI") == 0);
        CHECK(strcmp(str(f, "go_id"), "size/image/go-1.23-nethttp") == 0);
        CHECK(strcmp(str(f, "python_id"), "size/image/python-3.13-fastapi") == 0);
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "compressed_bytes");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(f, "unpacked_bytes");
        CHECK(num(c, "go") == 4e6 && num(c, "python") == 36e6);
        CHECK(num(c, "ratio") == 9.0 && strcmp(str(c, "status"), "ok") == 0);
        CHECK(num(u, "ratio") == 12.0);
        CHECK(cJSON_GetObjectItemCaseSensitive(c, "no_ratio") == NULL);
    }
    cJSON_Delete(f);
    cJSON_Delete(py);
    /* A figure that is not ok: no ratio, the reason and the worse status instead. */
    py = measurement("python-3.13-fastapi", 36e6, "noisy", 96e6);
    f = ap_size_pair_figures(&p, g, py);
    if (CHECK(f != NULL)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "compressed_bytes");
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "ratio")));
        CHECK(strcmp(str(c, "no_ratio"), "noisy") == 0);
        CHECK(strcmp(str(c, "status"), "noisy") == 0);
        CHECK(num(cJSON_GetObjectItemCaseSensitive(f, "unpacked_bytes"), "ratio") == 12.0);
    }
    cJSON_Delete(f);
    cJSON_Delete(g);
    /* The Go figure not ok either, and then a Go figure of 0. */
    g = measurement("go-1.23-nethttp", 4e6, "unstable", 0);
    f = ap_size_pair_figures(&p, g, py);
    if (CHECK(f != NULL)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "compressed_bytes");
        CHECK(strcmp(str(c, "no_ratio"), "noisy; Go unstable") == 0);
        CHECK(strcmp(str(c, "status"), "noisy") == 0);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(f, "unpacked_bytes");
        CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(u, "ratio")));
        CHECK(strcmp(str(u, "no_ratio"), "no Go figure above 0") == 0);
    }
    cJSON_Delete(f);
    /* A metric one side lacks is left out; a measurement without an id gives no pair. */
    cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(g, "metrics"),
                                            "compressed_bytes");
    f = ap_size_pair_figures(&p, g, py);
    if (CHECK(f != NULL)) {
        CHECK(cJSON_GetObjectItemCaseSensitive(f, "compressed_bytes") == NULL);
        CHECK(cJSON_GetObjectItemCaseSensitive(f, "unpacked_bytes") != NULL);
    }
    cJSON_Delete(f);
    cJSON_DeleteItemFromObjectCaseSensitive(g, "id");
    CHECK(ap_size_pair_figures(&p, g, py) == NULL);
    cJSON_Delete(g);
    cJSON_Delete(py);
}
