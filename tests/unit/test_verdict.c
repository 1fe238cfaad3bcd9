/* The claims engine: claims files (format, source, measurements) and verdicts (every rule, every
 * kind, intervals, p-values, false-discovery control, the document), on synthetic results. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/json.h"
#include "report/claims.h"
#include "report/html.h"
#include "report/markdown.h"
#include "report/stats.h"
#include "report/verdict.h"
#include "results-build.h"
#include "test.h"

#define KINDS "tests/claims/kinds.claims.json"
#define KINDS_TEXT "tests/claims/kinds.txt"

static int setup(void)
{
    ap_error *err = NULL;
    return ap_hash_init(&err);
}
TEST_SETUP(setup)

static cJSON *measurement(cJSON *ms, const char *id, const char *name, cJSON *metric_)
{
    cJSON *m = cJSON_CreateObject(), *metrics = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddItemToObject(m, "params", cJSON_CreateObject());
    if (metric_ != NULL)
        cJSON_AddItemToObject(metrics, name, metric_);
    cJSON_AddItemToObject(m, "metrics", metrics);
    cJSON_AddItemToArray(ms, m);
    return m;
}

static void timed(cJSON *ms, const char *id, double centre, const char *status)
{
    const double f[6] = {0.98, 0.99, 1.0, 1.0, 1.01, 1.02};
    double x[6];
    for (int i = 0; i < 6; i++)
        x[i] = f[i] * centre;
    measurement(ms, id, "wall_s", test_metric("s", x, 6, status, NAN, NAN, NAN));
}

static void counted(cJSON *ms, const char *id, double bytes)
{
    measurement(ms, id, "unpacked_bytes", test_metric("B", &bytes, 1, "ok", NAN, NAN, NAN));
}

/* The results every kind of kinds.claims.json is judged against. */
static cJSON *results(void)
{
    cJSON *r = cJSON_CreateObject(), *run = cJSON_CreateObject(), *ms = cJSON_CreateArray();
    cJSON_AddStringToObject(r, "schema", "appliance-results-2");
    cJSON_AddStringToObject(run, "id", "20260101T000000Z-00000000");
    cJSON_AddStringToObject(run, "profile", "quick");
    cJSON_AddItemToObject(r, "run", run);
    cJSON_AddItemToObject(r, "measurements", ms);
    counted(ms, "size/image/go-hello", 2000000);
    counted(ms, "size/image/python-hello", 50000000);
    timed(ms, "cpu/a/go", 1, "ok");
    timed(ms, "cpu/a/python", 20, "ok");
    timed(ms, "cpu/b/go", 2, "ok");
    timed(ms, "cpu/b/python", 30, "ok");
    timed(ms, "cpu/c/go", 1, "unstable");
    timed(ms, "cpu/c/python", 8, "ok");
    /* Samples spread wide, an interval (as given) narrow: the interval decides, the t-test on
     * the samples finds nothing. */
    const double dg[6] = {1, 1.5, 0.7, 1.2, 0.8, 1.1}, dp[6] = {1.6, 0.9, 1.3, 1.1, 1.4, 1.2};
    measurement(ms, "cpu/d/go", "wall_s", test_metric("s", dg, 6, "ok", 1.0, 0.99, 1.01));
    measurement(ms, "cpu/d/python", "wall_s", test_metric("s", dp, 6, "ok", 1.2, 1.19, 1.21));
    cJSON *v = measurement(ms, "lang/version/go-1.23-static", NULL, NULL);
    cJSON_AddStringToObject(cJSON_GetObjectItem(v, "params"), "version", "1.23.4");
    return r;
}

static int load_kinds(struct ap_claims *c)
{
    ap_error *err = NULL;
    if (ap_claims_load(KINDS, c, &err) < 0) {
        printf("    %s\n", err->msg);
        ap_error_release(&err);
        return -1;
    }
    return 0;
}

static const struct ap_verdict *find(const struct ap_verdicts *v, const char *id)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].claim->id, id) == 0)
            return &v->v[i];
    return NULL;
}

static int close_to(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1e-300);
}

/* kinds.claims.json judged against results(): 0, or -1 (the claims and results are freed). */
static int judge_kinds(struct ap_claims *c, cJSON **r, struct ap_verdicts *v)
{
    ap_error *err = NULL;
    if (load_kinds(c) < 0)
        return -1;
    *r = results();
    if (ap_verdict_judge(c, *r, v, &err) == 0)
        return 0;
    printf("    %s\n", err != NULL ? err->msg : "");
    ap_error_release(&err);
    cJSON_Delete(*r);
    ap_claims_free(c);
    return -1;
}

TEST(every_verdict_of_kinds)
{
    struct ap_claims c;
    struct ap_verdicts v;
    cJSON *r = NULL;
    if (!CHECK(judge_kinds(&c, &r, &v) == 0))
        return;
    static const struct {
        const char *id;
        enum ap_verdict_rule rule;
    } want[] = {{"value-size", AP_RULE_HOLDS},
                {"ratio-holds", AP_RULE_HOLDS},
                {"ratio-contradicted", AP_RULE_CONTRADICTED},
                {"ratio-straddles", AP_RULE_STRADDLES},
                {"bound-size", AP_RULE_HOLDS},
                {"ordering-times", AP_RULE_HOLDS},
                {"text-version", AP_RULE_HOLDS},
                {"geomean-cpu", AP_RULE_HOLDS},
                {"each-size", AP_RULE_HOLDS},
                {"scaled-by-reference", AP_RULE_HOLDS},
                {"not-portable", AP_RULE_NOT_COMPARABLE},
                {"declared-not-reproducible", AP_RULE_NOT_REPRODUCIBLE},
                {"missing-measurement", AP_RULE_NOT_REPRODUCIBLE},
                {"status-unstable", AP_RULE_STATUS},
                {"fdr-weak", AP_RULE_FDR}};
    CHECK(v.n == AP_ARRAY_SIZE(want));
    for (size_t i = 0; i < AP_ARRAY_SIZE(want); i++) {
        const struct ap_verdict *x = find(&v, want[i].id);
        CHECK_MSG(x != NULL && x->rule == want[i].rule, "%s: rule %d (%s), want %d", want[i].id,
                  x != NULL ? (int)x->rule : -1, x != NULL ? x->why : "", (int)want[i].rule);
    }
    CHECK(v.counts[AP_VERDICT_HOLDS] == 8 && v.counts[AP_VERDICT_CONTRADICTED] == 1);
    CHECK(v.counts[AP_VERDICT_INCONCLUSIVE] == 3 && v.counts[AP_VERDICT_NOT_COMPARABLE] == 1);
    CHECK(v.counts[AP_VERDICT_NOT_REPRODUCIBLE] == 2);
    CHECK(v.m == 10); /* every holds and contradicted, and fdr-weak before control */
    const struct ap_verdict *nr = find(&v, "missing-measurement");
    CHECK(nr != NULL && strstr(nr->why, "cpu/z/python is not in the results") != NULL);
    const struct ap_verdict *st = find(&v, "status-unstable");
    CHECK(st != NULL && strstr(st->why, "cpu/c/go") != NULL && strstr(st->why, "unstable"));
    const struct ap_verdict *fdr = find(&v, "fdr-weak");
    CHECK(fdr != NULL && fdr->p > 0.05 && fdr->q > 0.05 && strstr(fdr->why, "contradicted"));
    const struct ap_verdict *nc = find(&v, "not-portable");
    CHECK(nc != NULL && close_to(nc->measured.value, 1.0)); /* shown beside the published */
    ap_verdicts_free(&v);
    cJSON_Delete(r);
    ap_claims_free(&c);
}

TEST(intervals_by_hand)
{
    struct ap_claims c;
    struct ap_verdicts v;
    cJSON *r = NULL;
    if (!CHECK(judge_kinds(&c, &r, &v) == 0))
        return;
    /* A ratio: [lo_A / hi_B, hi_A / lo_B], coverage the product. */
    const struct ap_verdict *x = find(&v, "ratio-holds");
    CHECK(close_to(x->measured.value, 20));
    CHECK(close_to(x->measured.low, 19.6 / 1.02) && close_to(x->measured.high, 20.4 / 0.98));
    CHECK(close_to(x->measured.coverage, 0.96875 * 0.96875));
    CHECK(close_to(x->band_low, 20 / 1.1) && close_to(x->band_high, 22));
    CHECK(close_to(x->measured_over_published, 1));
    /* A counted figure, converted: 2,000,000 B is 2 MB exactly, its own interval. */
    x = find(&v, "value-size");
    CHECK(close_to(x->measured.value, 2) && close_to(x->measured.low, 2) && x->p == 0);
    /* MiB are powers of 1024; a bound inside: measured/published is 1. */
    x = find(&v, "bound-size");
    CHECK(close_to(x->measured.value, 50e6 / 1048576) && close_to(x->band_high, 60));
    CHECK(x->band_low == 0 && x->measured_over_published == 1);
    /* Scale by reference: judged as 20x against 40 s / 2 s. */
    x = find(&v, "scaled-by-reference");
    CHECK(close_to(x->judged_published, 20) && close_to(x->measured.value, 20));
    CHECK(strcmp(x->unit, "x") == 0);
    /* geomean: sqrt(20 x 15), a bootstrap interval around it. */
    x = find(&v, "geomean-cpu");
    CHECK(close_to(x->measured.value, sqrt(300)));
    CHECK(x->measured.low < x->measured.value && x->measured.high > x->measured.value);
    CHECK(x->measured.coverage == 0.95 && strncmp(x->measured.how, "bootstrap", 9) == 0);
    /* each: every figure's own interval; ordering: adjacent ratios against 1. */
    x = find(&v, "each-size");
    CHECK(x->n_parts == 2 && x->parts[0].rule == AP_RULE_HOLDS);
    x = find(&v, "ordering-times");
    CHECK(x->n_parts == 3 && close_to(x->parts[0].m.value, 1.5) &&
          close_to(x->parts[1].m.value, 10) && close_to(x->parts[2].m.value, 2));
    CHECK(close_to(x->parts[1].m.low, 19.6 / 2.04));
    ap_verdicts_free(&v);
    cJSON_Delete(r);
    ap_claims_free(&c);
}

TEST(math_against_known_values)
{
    CHECK(close_to(ap_verdict_t_upper(0, 5), 0.5));
    CHECK(fabs(ap_verdict_t_upper(1, 1) - 0.25) < 1e-12); /* Cauchy */
    CHECK(fabs(ap_verdict_t_upper(2, 2) - (0.5 - 1 / sqrt(6))) < 1e-12);
    CHECK(fabs(ap_verdict_t_upper(-2, 2) - (0.5 + 1 / sqrt(6))) < 1e-12);
    CHECK(fabs(ap_verdict_t_upper(1.959964, 1e9) - 0.025) < 1e-6); /* the normal limit */
    const double p[4] = {0.01, 0.04, 0.03, 0.5};
    double q[4];
    ap_report_bh_adjust(p, 4, q);
    CHECK(close_to(q[0], 0.04) && close_to(q[1], 0.04 * 4 / 3) && close_to(q[2], 0.04 * 4 / 3));
    CHECK(close_to(q[3], 0.5));
    CHECK(ap_verdict_fnv1a("a") == UINT64_C(0xaf63dc4c8601ec8c));
    CHECK(ap_verdict_fnv1a("") == UINT64_C(0xcbf29ce484222325));
    /* The bootstrap of one exact pair is the ratio itself; of samples, the same twice. */
    const double a[1] = {6}, b[1] = {3};
    const double *pa[1] = {a}, *pb[1] = {b};
    size_t one[1] = {1};
    double lo = 0, hi = 0;
    CHECK(ap_verdict_bootstrap(pa, one, pb, one, 1, 1, 100, &lo, &hi) == 0 && lo == 2 && hi == 2);
    const double xa[6] = {1, 2, 3, 4, 5, 6}, xb[6] = {1, 1, 1, 1, 1, 2};
    const double *qa[1] = {xa}, *qb[1] = {xb};
    size_t six[1] = {6};
    double lo2, hi2, lo3, hi3;
    ap_verdict_bootstrap(qa, six, qb, six, 1, 7, 1000, &lo2, &hi2);
    ap_verdict_bootstrap(qa, six, qb, six, 1, 7, 1000, &lo3, &hi3);
    CHECK(lo2 == lo3 && hi2 == hi3 && lo2 < hi2 && lo2 >= 0.5 && hi2 <= 6);
}

TEST(noisy_samples_are_left_out)
{
    cJSON *m = cJSON_Parse("{\"samples\": [1, 2, 3], \"flags\": [[], [\"noisy\"], "
                           "[\"client-saturated\"]]}");
    double x[4];
    CHECK(ap_verdict_counted(m, 0, x, 4) == 2 && x[0] == 1 && x[1] == 3);
    CHECK(ap_verdict_counted(m, 1, x, 4) == 3 && x[1] == 2);
    cJSON_Delete(m);
}

TEST(ratio_withheld_is_not_reproducible)
{
    struct ap_claims c;
    if (!CHECK(load_kinds(&c) == 0))
        return;
    cJSON *r = results();
    cJSON *m;
    cJSON_ArrayForEach(m,
                       cJSON_GetObjectItem(
                           r, "measurements")) if (strcmp(cJSON_GetObjectItem(m, "id")->valuestring,
                                                          "cpu/b/go") == 0)
        cJSON_AddStringToObject(cJSON_GetObjectItem(m, "params"), "ratio_withheld", "too small");
    struct ap_verdicts v;
    ap_error *err = NULL;
    if (CHECK(ap_verdict_judge(&c, r, &v, &err) == 0)) {
        CHECK(find(&v, "ratio-contradicted")->rule == AP_RULE_NOT_REPRODUCIBLE);
        CHECK(strstr(find(&v, "ratio-contradicted")->why, "withheld") != NULL);
        ap_verdicts_free(&v);
    }
    cJSON_Delete(r);
    ap_claims_free(&c);
}

/* A counted figure exactly on a published value with no tolerance (25 keywords against 25)
 * holds, exactly (p = 0), and stays a discovery after Benjamini-Hochberg; one off is
 * contradicted. */
TEST(counted_figure_on_the_edge_holds_exactly)
{
    static const char claims[] =
        "{\"schema\": \"appliance-claims-1\", \"source\": {\"title\": \"t\", \"url\": \"u\","
        " \"date\": \"2026-01-01\", \"document\": \"d.txt\", \"sha256\": \"%064d\"},"
        " \"defaults\": {\"tolerance_pct\": 10}, \"sections\": [{\"id\": \"s\", \"title\": \"S\"}],"
        " \"claims\": [{\"id\": \"k\", \"section\": \"s\", \"where\": \"w\", \"quote\": \"q\","
        " \"kind\": \"value\", \"metric\": \"unpacked_bytes\", \"subject\": "
        "\"size/image/go-hello\","
        " \"published\": {\"value\": %s, \"unit\": \"B\"}, \"tolerance_pct\": 0,"
        " \"portable\": true}], \"untestable\": []}";
    const char *published[] = {"2000000", "2000001"};
    for (int i = 0; i < 2; i++) {
        char buf[1024];
        snprintf(buf, sizeof(buf), claims, 0, published[i]);
        struct ap_claims c;
        ap_error *err = NULL;
        if (!CHECK_MSG(ap_claims_parse(buf, strlen(buf), "edge", &c, &err) == 0, "%s",
                       err != NULL ? err->msg : ""))
            return;
        cJSON *r = results();
        struct ap_verdicts v;
        if (CHECK(ap_verdict_judge(&c, r, &v, &err) == 0)) {
            const struct ap_verdict *k = find(&v, "k");
            CHECK_MSG(k->verdict == (i == 0 ? AP_VERDICT_HOLDS : AP_VERDICT_CONTRADICTED),
                      "published %s: %s (%s)", published[i], ap_verdict_name(k->verdict), k->why);
            CHECK(k->p == 0);
            ap_verdicts_free(&v);
        }
        cJSON_Delete(r);
        ap_claims_free(&c);
    }
}

/* The verdicts document of kinds against the synthetic results, as text. */
static char *document(void)
{
    struct ap_claims c;
    if (load_kinds(&c) < 0)
        return NULL;
    cJSON *r = results();
    struct ap_verdicts v;
    ap_error *err = NULL;
    char *s = NULL;
    if (ap_verdict_judge(&c, r, &v, &err) == 0) {
        struct ap_verdict_inputs in = {"kinds.claims.json", c.sha256, 0};
        cJSON *d = ap_verdict_document(&c, r, &v, &in);
        s = cJSON_Print(d);
        cJSON_Delete(d);
        ap_verdicts_free(&v);
    }
    cJSON_Delete(r);
    ap_claims_free(&c);
    return s;
}

TEST(document_is_deterministic)
{
    char *a = document(), *b = document();
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    CHECK(a != NULL && strstr(a, "\"schema\":\t\"appliance-verdicts-1\"") != NULL);
    CHECK(a != NULL && strstr(a, "\"not reproducible here\":\t2") != NULL);
    CHECK(a != NULL && strstr(a, "source text not checked") != NULL);
    free(a);
    free(b);
}

/* Parses kinds.claims.json with `from` replaced by `to` once; returns the error or NULL. */
static char *parse_edited(const char *from, const char *to)
{
    char *buf = NULL;
    size_t len = 0;
    ap_error *err = NULL;
    if (ap_fs_read_file(AT_FDCWD, KINDS, 1 << 20, &buf, &len, &err) < 0)
        return strdup("cannot read " KINDS);
    char *at = strstr(buf, from);
    if (at == NULL) {
        free(buf);
        return strdup("pattern not found");
    }
    size_t out_len = len - strlen(from) + strlen(to);
    char *edited = malloc(out_len + 1);
    size_t head = (size_t)(at - buf);
    memcpy(edited, buf, head);
    memcpy(edited + head, to, strlen(to));
    strcpy(edited + head + strlen(to), at + strlen(from));
    struct ap_claims c;
    char *msg = NULL;
    if (ap_claims_parse(edited, out_len, "kinds.claims.json", &c, &err) < 0) {
        msg = strdup(err->msg);
        ap_error_release(&err);
    } else {
        ap_claims_free(&c);
    }
    free(buf);
    free(edited);
    return msg;
}

TEST(schema_errors_name_claim_and_field)
{
    static const struct {
        const char *from, *to, *claim, *field;
    } cases[] = {
        {"\"kind\": \"ratio\"", "\"kind\": \"ratios\"", "ratio-holds", "\"kind\""},
        {"\"unit\": \"MB\"", "\"unit\": \"Mb\"", "value-size", "\"published.unit\""},
        {"\"unit\": \"MB\"", "\"unit\": \"x\"", "value-size", "\"published.unit\""},
        {"\"section\": \"kinds\"", "\"section\": \"nowhere\"", "value-size", "\"section\""},
        {"\"id\": \"ratio-holds\"", "\"id\": \"value-size\"", "value-size", "\"id\""},
        {"\"id\": \"ratio-holds\"", "\"id\": \"Ratio Holds\"", NULL, "\"id\""},
        {"\"subject\": \"size/image/go-hello\"", "\"numerator\": \"size/image/go-hello\"",
         "value-size", "\"numerator\""},
        {"\"portable\": true\n    },\n    {\n      \"id\": \"ratio-holds\"",
         "\"portable\": 1\n    },\n    {\n      \"id\": \"ratio-holds\"", "value-size",
         "\"portable\""},
        {"\"rule\": \"none\"", "\"rule\": \"guess\"", "not-portable", "\"transfer.rule\""},
        {"\"order\": \"descending\"", "\"order\": \"down\"", "ordering-times",
         "\"published.order\""},
        {"\"aggregate\": \"geomean\"", "\"aggregate\": \"mean\"", "geomean-cpu", "\"aggregate\""},
        {"\"n\": 10", "\"n\": \"10\"", "ratio-holds", "\"conditions.n\""},
        {"\"reason\": \"salary\"", "\"reason\": \"pay\"", "salary", "\"reason\""},
        {"\"upper\": 60,\n        \"unit\": \"MiB\"\n      },\n      \"portable\": true\n    },\n"
         "    {\n      \"id\": \"ordering-times\"",
         "\"lower\": 1, \"upper\": 60,\n        \"unit\": \"MiB\"\n      },\n      \"portable\": "
         "true\n    },\n    {\n      \"id\": \"ordering-times\"",
         "bound-size", "\"published.upper\""},
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(cases); i++) {
        char *msg = parse_edited(cases[i].from, cases[i].to);
        CHECK_MSG(msg != NULL && strstr(msg, "kinds.claims.json") != NULL &&
                      (cases[i].claim == NULL || strstr(msg, cases[i].claim) != NULL) &&
                      strstr(msg, cases[i].field) != NULL && strstr(msg, "Hint:") != NULL,
                  "case %zu: %s", i, msg != NULL ? msg : "(accepted)");
        free(msg);
    }
    /* The control: the file itself is accepted. */
    char *none = parse_edited("\"schema\"", "\"schema\"");
    CHECK_MSG(none == NULL, "%s", none);
    free(none);
}

TEST(source_text_checks)
{
    struct ap_claims c;
    if (!CHECK(load_kinds(&c) == 0))
        return;
    char *text = NULL;
    size_t len = 0;
    ap_error *err = NULL;
    if (!CHECK(ap_fs_read_file(AT_FDCWD, KINDS_TEXT, 1 << 20, &text, &len, &err) == 0))
        return;
    CHECK(ap_claims_check_source(&c, text, len, "kinds.txt", &err) == 0);
    /* One byte changed: the sha256 differs. */
    text[len - 2] ^= 1;
    CHECK(ap_claims_check_source(&c, text, len, "kinds.txt", &err) < 0 && err != NULL &&
          strstr(err->msg, "sha256") != NULL);
    ap_error_release(&err);
    text[len - 2] ^= 1;
    /* A quote the text lacks: the text changed and the sha256 updated with it. */
    char *q = strstr(text, "Python is 3x slower");
    q[10] = '4';
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(text, len, hex);
    c.source_sha256 = hex;
    CHECK(ap_claims_check_source(&c, text, len, "kinds.txt", &err) < 0 && err != NULL &&
          strstr(err->msg, "ratio-contradicted") != NULL && strstr(err->msg, "quote") != NULL);
    ap_error_release(&err);
    free(text);
    ap_claims_free(&c);
}

TEST(claims_against_measurements)
{
    struct ap_claims c;
    if (!CHECK(load_kinds(&c) == 0))
        return;
    cJSON *r = results();
    ap_error *err = NULL;
    /* The synthetic results lack cpu/z: the check names the claim and the subject. */
    CHECK(ap_claims_check_results(&c, r, &err) < 0 && err != NULL &&
          strstr(err->msg, "missing-measurement") != NULL && strstr(err->msg, "cpu/z/python"));
    ap_error_release(&err);
    timed(cJSON_GetObjectItem(r, "measurements"), "cpu/z/python", 5, "ok");
    timed(cJSON_GetObjectItem(r, "measurements"), "cpu/z/go", 1, "ok");
    CHECK(ap_claims_check_results(&c, r, &err) == 0);
    /* A metric the measurement lacks. */
    const char *metrics[] = {"rps"};
    struct ap_claims_measurement one = {"size/image/go-hello", metrics, 1, NULL};
    CHECK(ap_claims_check_measurements(&c, &one, 1, &err) < 0 &&
          strstr(err->msg, "value-size") != NULL && strstr(err->msg, "unpacked_bytes"));
    ap_error_release(&err);
    size_t n = 0;
    const char **need = ap_claims_needed(&c, &n);
    /* go-hello, python-hello, cpu a, b (go, python), lang, z, c, d: 13; not http/framework-f. */
    CHECK(need != NULL && n == 13 && need[n] == NULL);
    for (size_t i = 0; need != NULL && i < n; i++)
        CHECK(strncmp(need[i], "http/", 5) != 0);
    free(need);
    cJSON_Delete(r);
    ap_claims_free(&c);
}

/* A claims file of one claim over cpu/a/go, its published part given. */
static int one_claim(const char *claim, struct ap_claims *c, ap_error **err)
{
    char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"schema\": \"appliance-claims-1\", \"source\": {\"title\": \"t\", \"document\": "
             "\"t.txt\", \"sha256\": \"%064d\"}, \"defaults\": {\"tolerance_pct\": 10}, "
             "\"sections\": [{\"id\": \"s\", \"title\": \"S\"}], \"claims\": [{\"id\": \"one\", "
             "\"section\": \"s\", \"where\": \"w\", \"quote\": \"q\", %s}]}",
             0, claim);
    return ap_claims_parse(buf, strlen(buf), "one.json", c, err);
}

TEST(unit_conversion)
{
    struct ap_claims c;
    ap_error *err = NULL;
    cJSON *r = results();
    struct ap_verdicts v;
    /* 1 s measured, published in ms: measured 1000 ms. */
    if (CHECK(one_claim("\"kind\": \"value\", \"metric\": \"wall_s\", \"subject\": \"cpu/a/go\", "
                        "\"published\": {\"value\": 1000, \"unit\": \"ms\"}, \"portable\": "
                        "false, \"transfer\": {\"rule\": \"none\"}",
                        &c, &err) == 0)) {
        CHECK(ap_verdict_judge(&c, r, &v, &err) == 0 && close_to(v.v[0].measured.value, 1000));
        ap_verdicts_free(&v);
        ap_claims_free(&c);
    }
    /* Seconds cannot become megabytes: an error naming the claim and the field. */
    if (CHECK(one_claim("\"kind\": \"value\", \"metric\": \"wall_s\", \"subject\": \"cpu/a/go\", "
                        "\"published\": {\"value\": 1, \"unit\": \"MB\"}, \"portable\": true",
                        &c, &err) == 0)) {
        CHECK(ap_verdict_judge(&c, r, &v, &err) < 0 && strstr(err->msg, "\"one\"") != NULL &&
              strstr(err->msg, "published.unit") != NULL);
        ap_error_release(&err);
        ap_claims_free(&c);
    }
    /* A metric the measurement lacks is an error too, not a verdict. */
    if (CHECK(one_claim("\"kind\": \"value\", \"metric\": \"cpu_s\", \"subject\": \"cpu/a/go\", "
                        "\"published\": {\"value\": 1, \"unit\": \"s\"}, \"portable\": true",
                        &c, &err) == 0)) {
        CHECK(ap_verdict_judge(&c, r, &v, &err) < 0 && strstr(err->msg, "cpu_s") != NULL);
        ap_error_release(&err);
        ap_claims_free(&c);
    }
    cJSON_Delete(r);
}

/* ---- several machine types ------------------------------------------------------------------ */

#define KINDS_VERDICTS "tests/claims/kinds.verdicts.json"

/* The verdicts document of kinds against results() is the one made before machine types
 * existed (kinds.verdicts.json, written then): one machine type judges as it always did. */
TEST(single_machine_document_unchanged)
{
    char *want = NULL, *got = document();
    size_t len = 0;
    ap_error *err = NULL;
    if (!CHECK(ap_fs_read_file(AT_FDCWD, KINDS_VERDICTS, 1 << 20, &want, &len, &err) == 0))
        return;
    CHECK(got != NULL && len == strlen(got) + 1 && strncmp(want, got, len - 1) == 0);
    CHECK(strstr(want, "\"machine") == NULL && strstr(want, "\"within\"") == NULL);
    free(want);
    free(got);
}

/* Tags every measurement of r with machine (when not NULL) and returns its measurements. */
static cJSON *tag(cJSON *r, const char *machine)
{
    cJSON *m, *ms = cJSON_GetObjectItem(r, "measurements");
    cJSON_ArrayForEach(m, ms) if (machine != NULL) cJSON_AddStringToObject(m, "machine", machine);
    return ms;
}

/* Sets the wall time of every cpu/a/python figure of r to 40 s (the ratio 40x, not 20x). */
static void slower(cJSON *r)
{
    cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItem(r, "measurements"))
    {
        if (strcmp(cJSON_GetObjectItem(m, "id")->valuestring, "cpu/a/python") != 0)
            continue;
        const double x[6] = {39.2, 39.6, 40, 40, 40.4, 40.8};
        cJSON_ReplaceItemInObject(cJSON_GetObjectItem(m, "metrics"), "wall_s",
                                  test_metric("s", x, 6, "ok", NAN, NAN, NAN));
    }
}

/* Merged results of n machine types m1..mn (environment.machines); machine k holds results()'s
 * measurements (k = 2: with slower()) when k <= with, none otherwise. */
static cJSON *merged(int n, int with)
{
    cJSON *r = results(), *env = cJSON_CreateObject(), *list = cJSON_CreateArray();
    cJSON_AddItemToObject(r, "environment", env);
    cJSON_AddItemToObject(env, "machines", list);
    cJSON *all = cJSON_GetObjectItem(r, "measurements");
    cJSON_DetachItemViaPointer(r, all);
    cJSON_AddItemToObject(r, "measurements", cJSON_CreateArray());
    for (int k = 1; k <= n; k++) {
        char id[8], cpu[32];
        snprintf(id, sizeof(id), "m%d", k);
        snprintf(cpu, sizeof(cpu), "CPU model %d", k);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", id);
        cJSON_AddStringToObject(e, "cpu_model", cpu);
        cJSON_AddStringToObject(e, "kernel", k == 1 ? "6.1.0" : "6.12.0");
        cJSON_AddItemToArray(list, e);
        if (k > with)
            continue;
        cJSON *one = results();
        if (k == 2)
            slower(one);
        cJSON *m, *ms = tag(one, id);
        while ((m = cJSON_DetachItemFromArray(ms, 0)) != NULL)
            cJSON_AddItemToArray(cJSON_GetObjectItem(r, "measurements"), m);
        cJSON_Delete(one);
    }
    cJSON_Delete(all);
    return r;
}

static const struct ap_verdict *find_on(const struct ap_verdicts *v, const char *id,
                                        const char *machine)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->v[i].claim->id, id) == 0 && v->v[i].machine != NULL &&
            strcmp(v->v[i].machine, machine) == 0)
            return &v->v[i];
    return NULL;
}

/* The verdicts document of c against r (NULL on an error, printed). */
static cJSON *judged_doc(const struct ap_claims *c, const cJSON *r, struct ap_verdicts *v)
{
    ap_error *err = NULL;
    if (ap_verdict_judge(c, r, v, &err) < 0) {
        printf("    %s\n", err->msg);
        ap_error_release(&err);
        return NULL;
    }
    struct ap_verdict_inputs in = {"kinds.claims.json", c->sha256, 0};
    return ap_verdict_document(c, r, v, &in);
}

/* Two machine types: ratio-holds holds on m1 (20x) and is contradicted on m2 (40x); each
 * machine's verdicts are exactly those of judging its measurements alone (false-discovery
 * control within each machine), entry by entry in the document but for "machine". */
TEST(two_machine_types_judged_apart)
{
    struct ap_claims c;
    if (!CHECK(load_kinds(&c) == 0))
        return;
    cJSON *r = merged(2, 2);
    struct ap_verdicts v;
    cJSON *doc = judged_doc(&c, r, &v);
    if (!CHECK(doc != NULL)) {
        cJSON_Delete(r);
        ap_claims_free(&c);
        return;
    }
    CHECK(v.n_machines == 2 && v.n == 2 * c.n_claims);
    CHECK(strcmp(v.machines[0].id, "m1") == 0 && strcmp(v.machines[1].kernel, "6.12.0") == 0);
    /* Claim by claim, each on m1 then m2. */
    CHECK(strcmp(v.v[0].machine, "m1") == 0 && strcmp(v.v[1].machine, "m2") == 0 &&
          v.v[0].claim == v.v[1].claim);
    const struct ap_verdict *h1 = find_on(&v, "ratio-holds", "m1");
    const struct ap_verdict *h2 = find_on(&v, "ratio-holds", "m2");
    CHECK_MSG(h1 != NULL && h1->verdict == AP_VERDICT_HOLDS, "m1: %s", h1 ? h1->why : "");
    CHECK_MSG(h2 != NULL && h2->verdict == AP_VERDICT_CONTRADICTED, "m2: %s", h2 ? h2->why : "");
    CHECK(h1 != NULL && close_to(h1->measured.value, 20));
    CHECK(h2 != NULL && close_to(h2->measured.value, 40));
    CHECK(v.machines[0].counts[AP_VERDICT_HOLDS] == 8 &&
          v.machines[1].counts[AP_VERDICT_HOLDS] < 8 &&
          v.machines[1].counts[AP_VERDICT_CONTRADICTED] > 1);
    size_t sum = 0;
    for (int k = 0; k < AP_VERDICT_KINDS; k++) {
        CHECK(v.counts[k] == v.machines[0].counts[k] + v.machines[1].counts[k]);
        sum += v.counts[k];
    }
    CHECK(sum == v.n && v.m == v.machines[0].m + v.machines[1].m);
    const cJSON *fdr = cJSON_GetObjectItem(doc, "fdr");
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(fdr, "within")), "machine") == 0);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "machines")) == 2);
    /* Each machine alone, as single-machine results. */
    for (int k = 0; k < 2; k++) {
        cJSON *alone = results();
        if (k == 1)
            slower(alone);
        struct ap_verdicts va;
        cJSON *da = judged_doc(&c, alone, &va);
        if (CHECK(da != NULL)) {
            CHECK(va.m == v.machines[k].m);
            for (int j = 0; j < AP_VERDICT_KINDS; j++)
                CHECK(va.counts[j] == v.machines[k].counts[j]);
            const cJSON *list = cJSON_GetObjectItem(doc, "verdicts");
            for (size_t i = 0; i < c.n_claims; i++) {
                cJSON *e = cJSON_Duplicate(cJSON_GetArrayItem(list, (int)(2 * i + k)), 1);
                const char *on = cJSON_GetStringValue(cJSON_GetObjectItem(e, "machine"));
                char machine[8] = "";
                snprintf(machine, sizeof(machine), "%s", on != NULL ? on : "");
                CHECK(machine[0] == 'm' && machine[1] == '1' + k);
                cJSON_DeleteItemFromObject(e, "machine");
                cJSON *want = cJSON_Duplicate(
                    cJSON_GetArrayItem(cJSON_GetObjectItem(da, "verdicts"), (int)i), 1);
                /* A missing measurement's reason names the machine it is missing on. */
                const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(e, "why"));
                if (strstr(why, " of machine m") != NULL) {
                    CHECK(strstr(why, machine) != NULL &&
                          strcmp(c.claims[i].id, "missing-measurement") == 0);
                    cJSON_DeleteItemFromObject(e, "why");
                    cJSON_DeleteItemFromObject(want, "why");
                }
                CHECK_MSG(cJSON_Compare(e, want, 1), "claim %s on m%d differs from it alone",
                          c.claims[i].id, k + 1);
                cJSON_Delete(want);
                cJSON_Delete(e);
            }
            ap_verdicts_free(&va);
        }
        cJSON_Delete(da);
        cJSON_Delete(alone);
    }
    cJSON_Delete(doc);
    ap_verdicts_free(&v);
    cJSON_Delete(r);
    ap_claims_free(&c);
}

/* Judges kinds against r: 0 judged (v freed), or the error's message (the caller frees it). */
static char *judge_error(cJSON *r, size_t counts_m3[AP_VERDICT_KINDS])
{
    struct ap_claims c;
    if (load_kinds(&c) < 0)
        return strdup("cannot load " KINDS);
    struct ap_verdicts v;
    ap_error *err = NULL;
    char *msg = NULL;
    if (ap_verdict_judge(&c, r, &v, &err) < 0) {
        msg = strdup(err->msg);
        ap_error_release(&err);
    } else {
        for (size_t k = 0; counts_m3 != NULL && k < v.n_machines; k++)
            if (strcmp(v.machines[k].id, "m3") == 0)
                memcpy(counts_m3, v.machines[k].counts, sizeof(v.machines[k].counts));
        ap_verdicts_free(&v);
    }
    ap_claims_free(&c);
    cJSON_Delete(r);
    return msg;
}

/* What results of the wrong shape give: each an error naming the measurement or the entry,
 * with a hint, and the control beside it judged. */
TEST(machine_shapes)
{
    /* "machine" on measurements with one machine type listed, or none. */
    cJSON *r = merged(1, 1);
    char *msg = judge_error(r, NULL);
    CHECK_MSG(msg != NULL && strstr(msg, "names a machine") && strstr(msg, "lists one machine") &&
                  strstr(msg, "Hint:"),
              "%s", msg ? msg : "(judged)");
    free(msg);
    r = results();
    tag(r, "m1");
    msg = judge_error(r, NULL);
    CHECK_MSG(msg != NULL && strstr(msg, "lists no machine"), "%s", msg ? msg : "(judged)");
    free(msg);
    /* Control: one machine type listed, measurements naming none: judged as a single run. */
    r = merged(1, 0);
    cJSON *plain = results();
    cJSON_ReplaceItemInObject(r, "measurements", cJSON_DetachItemFromObject(plain, "measurements"));
    cJSON_Delete(plain);
    msg = judge_error(r, NULL);
    CHECK_MSG(msg == NULL, "%s", msg);
    free(msg);
    /* A machine no entry lists. */
    r = merged(2, 2);
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "measurements"), 3),
                              "machine", cJSON_CreateString("m7"));
    msg = judge_error(r, NULL);
    CHECK_MSG(msg != NULL && strstr(msg, "machine m7") && strstr(msg, "does not list") &&
                  strstr(msg, "cpu/a/python"),
              "%s", msg ? msg : "(judged)");
    free(msg);
    /* A measurement naming no machine among several. */
    r = merged(2, 2);
    cJSON_DeleteItemFromObject(cJSON_GetArrayItem(cJSON_GetObjectItem(r, "measurements"), 0),
                               "machine");
    msg = judge_error(r, NULL);
    CHECK_MSG(msg != NULL && strstr(msg, "names no machine") && strstr(msg, "size/image/go-hello"),
              "%s", msg ? msg : "(judged)");
    free(msg);
    /* The same machine listed twice. */
    r = merged(2, 1);
    cJSON_ReplaceItemInObject(
        cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "environment"), "machines"),
                           1),
        "id", cJSON_CreateString("m1"));
    msg = judge_error(r, NULL);
    CHECK_MSG(msg != NULL && strstr(msg, "twice"), "%s", msg ? msg : "(judged)");
    free(msg);
    /* A machine listed without any measurement: judged, every claim not reproducible there. */
    size_t m3[AP_VERDICT_KINDS] = {0};
    msg = judge_error(merged(3, 2), m3);
    CHECK_MSG(msg == NULL, "%s", msg);
    CHECK(m3[AP_VERDICT_NOT_REPRODUCIBLE] == 15 && m3[AP_VERDICT_HOLDS] == 0);
    free(msg);
}

#define KINDS_REPORT_MD "tests/claims/kinds.report.md"
/* The sha256 of report.html of kinds against results(), made before machine types existed. */
#define KINDS_REPORT_HTML_SHA256 "e362b6145dfda3034829085ae3404dd1e5b11b996b50a3b3166092fb19df6963"

/* report.md (html 0) or report.html (html 1) of doc and r, as text (the caller frees it). */
static char *render(const cJSON *doc, const cJSON *r, int html)
{
    char *text = NULL;
    size_t len = 0;
    ap_error *err = NULL;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    int rc = html ? ap_report_html(f, doc, r, &err) : ap_report_markdown(f, doc, r, &err);
    fclose(f);
    if (rc < 0) {
        printf("    %s\n", err->msg);
        ap_error_release(&err);
        free(text);
        return NULL;
    }
    return text;
}

/* One machine type: report.md and report.html are those made before machine types existed. */
TEST(single_machine_reports_unchanged)
{
    char *text = document(), *want = NULL;
    cJSON *doc = cJSON_Parse(text), *r = results();
    char *md = render(doc, r, 0), *html = render(doc, r, 1);
    size_t len = 0;
    ap_error *err = NULL;
    if (CHECK(ap_fs_read_file(AT_FDCWD, KINDS_REPORT_MD, 1 << 20, &want, &len, &err) == 0))
        CHECK(md != NULL && strlen(md) == len && memcmp(md, want, len) == 0);
    char hex[AP_SHA256_HEX_LEN + 1] = "";
    if (CHECK(html != NULL))
        ap_sha256_hex(html, strlen(html), hex);
    CHECK_MSG(strcmp(hex, KINDS_REPORT_HTML_SHA256) == 0, "report.html sha256 %s", hex);
    free(want);
    free(md);
    free(html);
    free(text);
    cJSON_Delete(doc);
    cJSON_Delete(r);
}

/* How many times needle occurs in s. */
static size_t occurrences(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Two machine types: each claim is one row, with a column group per machine headed by its CPU
 * model and kernel; ratio-holds holds in m1's and is contradicted in m2's. */
TEST(two_machine_reports_side_by_side)
{
    struct ap_claims c;
    if (!CHECK(load_kinds(&c) == 0))
        return;
    cJSON *r = merged(2, 2);
    struct ap_verdicts v;
    cJSON *doc = judged_doc(&c, r, &v);
    char *md = doc != NULL ? render(doc, r, 0) : NULL;
    char *html = doc != NULL ? render(doc, r, 1) : NULL;
    if (CHECK(md != NULL)) {
        CHECK(strstr(md, "| claim | quote | published | m1: CPU model 1, kernel 6.1.0<br>measured "
                         "[interval] coverage | m1: measured / published | m1: verdict | m1: why "
                         "| m2: CPU model 2, kernel 6.12.0<br>measured") != NULL);
        CHECK(strstr(md, "| verdict | m1: CPU model 1, kernel 6.1.0 | m2: CPU model 2, kernel "
                         "6.12.0 |") != NULL);
        CHECK(occurrences(md, "\n| ratio-holds |") == 1);
        const char *row = strstr(md, "\n| ratio-holds |");
        const char *end = row != NULL ? strchr(row + 1, '\n') : NULL;
        const char *h = row != NULL ? strstr(row, "\u2713 holds") : NULL;
        const char *x = row != NULL ? strstr(row, "\u2717 contradicted") : NULL;
        CHECK(h != NULL && x != NULL && h < x && x < end);
        /* m1's ratio (20x) before its verdict, then m2's (40x) and its verdict. */
        const char *m1 = row != NULL ? strstr(row, "| 20.0 x [") : NULL;
        const char *m2 = row != NULL ? strstr(row, "| 40.0 x [") : NULL;
        CHECK(m1 != NULL && m2 != NULL && m1 < h && h < m2 && m2 < x);
    }
    if (CHECK(html != NULL)) {
        CHECK(occurrences(html, "<tr class=\"claim\"") == c.n_claims);
        CHECK(occurrences(html, "<th colspan=\"4\" class=\"machine\" scope=\"colgroup\" "
                                "data-machine=\"m2\">m2: CPU model 2, kernel 6.12.0</th>") == 2);
        const char *row = strstr(html, "<tr class=\"claim\" data-claim=\"ratio-holds\">");
        const char *end = row != NULL ? strstr(row, "</tr>") : NULL;
        const char *h = row != NULL ? strstr(row, "class=\"v holds\" data-machine=\"m1\"") : NULL;
        const char *x =
            row != NULL ? strstr(row, "class=\"v contradicted\" data-machine=\"m2\"") : NULL;
        CHECK(h != NULL && x != NULL && h < x && x < end);
    }
    free(md);
    free(html);
    cJSON_Delete(doc);
    if (doc != NULL)
        ap_verdicts_free(&v);
    cJSON_Delete(r);
    ap_claims_free(&c);
}
