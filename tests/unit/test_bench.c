/* The measurement engine's own checks: expected-output comparison (text, file, file with a
 * float tolerance, sha256 and length) and suite lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/runner.h"
#include "core/hash.h"
#include "test.h"

static int setup(void)
{
    ap_error *err = NULL;
    return ap_hash_init(&err);
}
TEST_SETUP(setup)

static int same(const char *out, const char *expected_json, const char *dir)
{
    cJSON *e = cJSON_Parse(expected_json);
    char why[512] = "";
    int rc = ap_bench_check_output(out, strlen(out), e, dir, why, sizeof(why));
    if (rc != 0)
        test_note("why: %s", why);
    cJSON_Delete(e);
    return rc == 0;
}

TEST(text_must_match_exactly)
{
    CHECK(same("128141\n", "{\"text\": \"128141\\n\"}", "."));
    CHECK(!same("128141", "{\"text\": \"128141\\n\"}", "."));
    CHECK(!same("128142\n", "{\"text\": \"128141\\n\"}", "."));
    CHECK(same("", "{\"text\": \"\"}", "."));
    CHECK(!same("x", "{\"text\": \"\"}", "."));
}

TEST(sha256_and_length)
{
    char hex[AP_SHA256_HEX_LEN + 1], json[256];
    ap_sha256_hex("Hello, World!\n", 14, hex);
    snprintf(json, sizeof(json), "{\"sha256\": \"%s\", \"length\": 14}", hex);
    CHECK(same("Hello, World!\n", json, "."));
    CHECK(!same("Hello, World!", json, "."));
    CHECK(!same("hello, World!\n", json, "."));
    snprintf(json, sizeof(json), "{\"sha256\": \"%s\", \"length\": 15}", hex);
    CHECK(!same("Hello, World!\n", json, "."));
}

TEST(file_exact_and_with_tolerance)
{
    char dir[] = "/tmp/test-bench.XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    char path[128];
    snprintf(path, sizeof(path), "%s/want.out", dir);
    FILE *f = fopen(path, "w");
    fputs("-0.169075164\n-0.169059907\n", f);
    fclose(f);
    CHECK(same("-0.169075164\n-0.169059907\n", "{\"file\": \"want.out\"}", dir));
    CHECK(!same("-0.169075164\n-0.169059908\n", "{\"file\": \"want.out\"}", dir));
    const char *tol = "{\"file\": \"want.out\", \"float_tolerance\": 1e-8}";
    CHECK(same("-0.169075164\n-0.169059908\n", tol, dir));
    CHECK(!same("-0.169075164\n-0.169059807\n", tol, dir));    /* off by 1e-7 */
    CHECK(!same("-0.169075164\n", tol, dir));                  /* a line missing */
    CHECK(!same("-0.169075164\n-0.169059907\n1\n", tol, dir)); /* a line too many */
    CHECK(!same("-0.169075164 x\n-0.169059907\n", tol, dir));  /* a word too many */
    CHECK(!same("abc\n-0.169059907\n", tol, dir));             /* not a number */
    CHECK(!same("anything", "{\"file\": \"missing.out\"}", dir));
    unlink(path);
    rmdir(dir);
}

TEST(unknown_expectation_is_an_error)
{
    CHECK(!same("x", "{\"md5\": \"9dd4e461268c8034f5c8564e155c67a6\"}", "."));
    CHECK(!same("x", "{}", "."));
}

TEST(suite_lists)
{
    unsigned s = 0;
    ap_error *err = NULL;
    CHECK(ap_bench_parse_suites("cpu,http", &s, &err) == 0);
    CHECK(s == (AP_SUITE_CPU | AP_SUITE_HTTP));
    CHECK(ap_bench_parse_suites("all", &s, &err) == 0 && s == AP_SUITE_ALL);
    CHECK(ap_bench_parse_suites("lang", &s, &err) == 0 && s == AP_SUITE_LANG);
    CHECK((AP_SUITE_ALL & AP_SUITE_LANG) != 0);
    CHECK(ap_bench_parse_suites("cpu,gpu", &s, &err) < 0);
    CHECK(err != NULL && strstr(err->msg, "gpu") != NULL);
    ap_error_release(&err);
    CHECK(ap_bench_parse_suites(",", &s, &err) < 0);
    ap_error_release(&err);
}

/* Counted figures: the size suite's, and a measurement whose params say counted: true. */
TEST(counted_measurements)
{
    static const struct {
        const char *json;
        int counted;
    } cases[] = {
        {"{\"suite\": \"size\", \"params\": {}}", 1},
        {"{\"suite\": \"lang\", \"params\": {\"counted\": true}}", 1},
        {"{\"suite\": \"lang\", \"params\": {\"counted\": false}}", 0},
        {"{\"suite\": \"lang\", \"params\": {\"goroutines\": 10000}}", 0},
        {"{\"suite\": \"cpu\", \"params\": {\"counted\": 1}}", 0},
        {"{\"suite\": \"cpu\"}", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *m = cJSON_Parse(cases[i].json);
        CHECK_MSG(m != NULL && ap_bench_counted(m) == cases[i].counted, "%s", cases[i].json);
        cJSON_Delete(m);
    }
    /* Counted: one sample is the exact figure, status ok; sampled: n = 1 is n-too-small. */
    cJSON *exact = cJSON_Parse("{\"unit\": \"count\", \"samples\": [25]}");
    cJSON *sampled = cJSON_Duplicate(exact, 1);
    ap_bench_metric_update(exact, 0, 1, 0);
    ap_bench_metric_update(sampled, 0, 0, 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(exact, "status")->valuestring, "ok") == 0);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(sampled, "status")->valuestring, "ok") != 0);
    cJSON_Delete(exact);
    cJSON_Delete(sampled);
}

/* A noisy try is run again twice, then refused; --allow-noisy keeps the third instead, counted
 * and remembered as the block's last noisy judgement. */
TEST(noisy_tries_run_again_twice_then_refuse_or_keep)
{
    static struct ap_bench b;
    struct ap_bench_opts o;
    memset(&b, 0, sizeof(b));
    memset(&o, 0, sizeof(o));
    b.o = &o;
    ap_progress_init(&b.progress, 1);
    ap_error *err = NULL;
    int tries = 0, rebased = 0;
    CHECK(ap_bench_noisy_next(&b, "nbody", "1", "busy", 0, &tries, &rebased, &err) == 1);
    CHECK(ap_bench_noisy_next(&b, "nbody", "1", "busy", 0, &tries, &rebased, &err) == 1);
    CHECK(tries == 2 && rebased == 0 && err == NULL);
    CHECK(ap_bench_noisy_next(&b, "nbody", "1", "busy", 0, &tries, &rebased, &err) == -1);
    CHECK_MSG(err != NULL && strstr(err->msg, "nbody: the machine is too noisy to measure: busy") &&
                  strstr(err->msg, "CPUs 1"),
              "%s", err ? err->msg : "(no error)");
    ap_error_release(&err);
    CHECK(b.noisy_samples == 0);
    /* Control: with --allow-noisy the same third try is kept. */
    o.allow_noisy = 1;
    CHECK(ap_bench_noisy_next(&b, "nbody", "1", "busy", 0, &tries, &rebased, &err) == 0);
    CHECK(err == NULL && b.noisy_samples == 1 && strcmp(b.block.noisy_why, "busy") == 0);
}
