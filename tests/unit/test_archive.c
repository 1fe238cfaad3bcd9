/* Result archives (bundle/manifest.c, archive.c, pack.c, verify.c): member names, SHA256SUMS,
 * the manifest, provenance and results checks, safe reading of crafted archives in memory, and
 * a whole unsigned pack read back and checked. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "bundle/archive.h"
#include "bundle/compare-load.h"
#include "bundle/manifest.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "core/json.h"
#include "core/log.h"
#include "test.h"

#define HEX_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HEX_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Pins the archive format: the sha256 of the archive packed from the fixed run directory of
 * packs_a_run_directory. It changes with the manifest's fields, the tar or zstd settings and
 * the appliance version (recorded in the manifest): update it with a note on why. */
#define GOLDEN_ARCHIVE "71b5c2a3a6be3f32e3a44527afbf87959aa13e5a21b6c7f74a0771b67a5918ba"

/* ---- names, ids, times ---- */

TEST(member_names)
{
    static const char *const good[] = {"results.json",
                                       "logs/bench.log",
                                       "a/b/c.txt",
                                       "r\xc3\xa9sultats.json",
                                       ".hidden",
                                       "a/.b/..c",
                                       "inputs/blobs/sha256/" HEX_A};
    static const char *const bad[] = {
        "",   "/etc/passwd", "../x", "a/../b", "a/..", ".",    "./a",      "a/./b",        "a//b",
        "a/", "a\nb",        "a\tb", "a\\b",   "\x7f", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xff"};
    const char *why = NULL;
    for (size_t i = 0; i < AP_ARRAY_SIZE(good); i++)
        CHECK_MSG(ap_bundle_check_name(good[i], &why) == 0, "\"%s\": %s", good[i], why);
    for (size_t i = 0; i < AP_ARRAY_SIZE(bad); i++) {
        why = NULL;
        CHECK_MSG(ap_bundle_check_name(bad[i], &why) < 0 && why != NULL, "accepted \"%s\"", bad[i]);
    }
    char longname[AP_BUNDLE_NAME_MAX + 2];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK(ap_bundle_check_name(longname, &why) < 0);
    longname[AP_BUNDLE_NAME_MAX] = '\0';
    CHECK(ap_bundle_check_name(longname, &why) == 0);
}

TEST(run_ids_and_image_names)
{
    CHECK(ap_bundle_run_id_valid("20261127T094800Z-0a136b3a"));
    CHECK(ap_bundle_run_id_valid("dir-0123456789abcdef"));
    CHECK(!ap_bundle_run_id_valid(""));
    CHECK(!ap_bundle_run_id_valid(".hidden"));
    CHECK(!ap_bundle_run_id_valid("-x"));
    CHECK(!ap_bundle_run_id_valid("a/b"));
    CHECK(!ap_bundle_run_id_valid("a b"));
    CHECK(!ap_bundle_run_id_valid("../x"));
    char long_id[AP_RUN_ID_MAX + 2];
    memset(long_id, 'a', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    CHECK(!ap_bundle_run_id_valid(long_id));
    CHECK(ap_bundle_image_name_valid("go-1.23-static"));
    CHECK(!ap_bundle_image_name_valid("../go"));
    CHECK(!ap_bundle_image_name_valid("go/x"));
}

TEST(times)
{
    int64_t t = 0;
    CHECK(ap_bench_results_parse_time("2025-01-01T00:00:00Z", &t) == 0 && t == 1735689600);
    CHECK(ap_bench_results_parse_time("2024-02-29T12:00:00Z", &t) == 0 && t == 1709208000);
    CHECK(ap_bench_results_parse_time("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    CHECK(ap_bench_results_parse_time("2025-02-29T00:00:00Z", &t) < 0);
    CHECK(ap_bench_results_parse_time("2025-13-01T00:00:00Z", &t) < 0);
    CHECK(ap_bench_results_parse_time("2025-01-01T24:00:00Z", &t) < 0);
    CHECK(ap_bench_results_parse_time("2025-01-01T00:00:00", &t) < 0);
    CHECK(ap_bench_results_parse_time("2025-01-01 00:00:00Z", &t) < 0);
    CHECK(ap_bench_results_parse_time("2025-01-01T00:00:00+01:00", &t) < 0);
    CHECK(ap_bench_results_parse_time("1969-12-31T23:59:59Z", &t) < 0);
    CHECK(ap_bench_results_parse_time("", &t) < 0);
    CHECK(ap_bundle_digest_valid("sha256:" HEX_A));
    CHECK(!ap_bundle_digest_valid("sha256:" HEX_A "a"));
    CHECK(!ap_bundle_digest_valid("sha512:" HEX_A));
    CHECK(!ap_bundle_digest_valid(HEX_A));
}

TEST(printable_names)
{
    char buf[8];
    CHECK(strcmp(ap_bundle_printable("a\x1b[2Jb", buf, sizeof(buf)), "a?[2Jb") == 0);
    CHECK(strcmp(ap_bundle_printable("0123456789", buf, sizeof(buf)), "0123...") == 0);
}

/* ---- SHA256SUMS ---- */

static void add(struct ap_bundle_files *f, const char *name, const char *hex)
{
    ap_error *err = NULL;
    if (ap_bundle_files_add(f, name, 1, hex, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        abort();
    }
}

TEST(sums_round_trip)
{
    struct ap_bundle_files f = {0}, back = {0};
    add(&f, "results.json", HEX_B);
    add(&f, "SHA256SUMS-not", HEX_A);
    add(&f, "logs/a b.log", HEX_A);
    ap_bundle_files_sort(&f);
    ap_error *err = NULL;
    char *text = NULL;
    size_t len = 0;
    CHECK(ap_bundle_sums_format(&f, &text, &len, &err) == 0);
    CHECK(text != NULL && strcmp(text, HEX_A "  SHA256SUMS-not\n" HEX_A "  logs/a b.log\n" HEX_B
                                             "  results.json\n") == 0);
    CHECK(ap_bundle_sums_parse(text, len, 10, &back, &err) == 0);
    CHECK(back.n == 3 && strcmp(back.v[1].name, "logs/a b.log") == 0 &&
          strcmp(back.v[2].sha256, HEX_B) == 0);
    CHECK(ap_bundle_files_compare(&f, &back, "SHA256SUMS", NULL, &err) == 0);
    CHECK(ap_bundle_files_find(&f, "results.json") != NULL);
    CHECK(ap_bundle_files_find(&f, "nope") == NULL);
    free(text);
    ap_bundle_files_free(&back);
    /* Out of order: refused when formatting. */
    struct ap_bundle_files u = {0};
    add(&u, "b", HEX_A);
    add(&u, "a", HEX_A);
    CHECK(ap_bundle_sums_format(&u, &text, &len, &err) < 0 && test_contains(err->msg, "order"));
    ap_error_release(&err);
    ap_bundle_files_free(&u);
    ap_bundle_files_free(&f);
}

TEST(sums_parse_refuses)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {HEX_A "  a", "newline"},
        {HEX_A " a\n", "two spaces"},
        {HEX_A " *a\n", "two spaces"},
        {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA  a\n", "hex"},
        {HEX_A "  b\n" HEX_A "  a\n", "order"},
        {HEX_A "  a\n" HEX_A "  a\n", "repeated"},
        {HEX_A "  ../a\n", "\"..\""},
        {HEX_A "  /a\n", "absolute"},
        {HEX_A "  a\r\n", "control"},
        {HEX_A "  \n", "two spaces"},
        {"\n", "two spaces"},
        {HEX_A "  a\n" HEX_A "  b\n" HEX_A "  c\n", "lines"},
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(bad); i++) {
        struct ap_bundle_files f = {0};
        ap_error *err = NULL;
        int rc = ap_bundle_sums_parse(bad[i].text, strlen(bad[i].text), 2, &f, &err);
        CHECK_MSG(rc < 0 && err != NULL && test_contains(err->msg, bad[i].why), "case %zu: %s", i,
                  err != NULL ? err->msg : "accepted");
        ap_error_release(&err);
        ap_bundle_files_free(&f);
    }
    /* An embedded NUL ends no name early. */
    const char nul[] = HEX_A "  a\0b\n";
    struct ap_bundle_files f = {0};
    ap_error *err = NULL;
    CHECK(ap_bundle_sums_parse(nul, sizeof(nul) - 1, 5, &f, &err) < 0);
    ap_error_release(&err);
    ap_bundle_files_free(&f);
    /* Empty is an empty list. */
    CHECK(ap_bundle_sums_parse("", 0, 5, &f, &err) == 0 && f.n == 0);
}

TEST(file_lists_compare)
{
    struct ap_bundle_files actual = {0}, listed = {0};
    add(&actual, "SHA256SUMS", HEX_A);
    add(&actual, "a", HEX_A);
    add(&actual, "b", HEX_B);
    add(&listed, "a", HEX_A);
    add(&listed, "b", HEX_B);
    static const char *const skip[] = {"SHA256SUMS", NULL};
    ap_error *err = NULL;
    CHECK(ap_bundle_files_compare(&actual, &listed, "SHA256SUMS", skip, &err) == 0);
    CHECK(ap_bundle_files_compare(&actual, &listed, "SHA256SUMS", NULL, &err) < 0 &&
          test_contains(err->msg, "\"SHA256SUMS\" is not listed"));
    ap_error_release(&err);
    snprintf(listed.v[1].sha256, sizeof(listed.v[1].sha256), "%s", HEX_A);
    CHECK(ap_bundle_files_compare(&actual, &listed, "SHA256SUMS", skip, &err) < 0 &&
          test_contains(err->msg, "member \"b\" has sha256 " HEX_B));
    ap_error_release(&err);
    add(&listed, "c", HEX_A);
    snprintf(listed.v[1].sha256, sizeof(listed.v[1].sha256), "%s", HEX_B);
    CHECK(ap_bundle_files_compare(&actual, &listed, "SHA256SUMS", skip, &err) < 0 &&
          test_contains(err->msg, "lists \"c\", which the archive does not hold"));
    ap_error_release(&err);
    ap_bundle_files_free(&actual);
    ap_bundle_files_free(&listed);
}

/* ---- results.json, manifest.json, provenance.json ---- */

static const char results_text[] =
    "{\"schema\":\"appliance-results-1\",\"run\":{\"id\":\"20250101T000000Z-0123abcd\","
    "\"started\":\"2025-01-01T00:00:00Z\",\"ended\":\"2025-01-01T00:01:00Z\",\"complete\":true,"
    "\"profile\":\"quick\",\"command\":\"appliance bench --profile quick\"},\"plan\":{},"
    "\"environment\":{\"kernel\":\"Linux 6.1\",\"arch\":\"x86_64\",\"cpus_online\":2,"
    "\"noise_at_start\":{},\"images\":{\"go-x\":{\"digest\":\"sha256:" HEX_A "\","
    "\"lock_sha256\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}"
    "}},\"warnings\":[],\"measurements\":[]}";

TEST(results_checks)
{
    ap_error *err = NULL;
    cJSON *j = NULL;
    char id[AP_RUN_ID_MAX + 1];
    CHECK(ap_json_parse(results_text, strlen(results_text), "r", &j, &err) == 0);
    CHECK(ap_bench_results_check(j, id, &err) == 0 && strcmp(id, "20250101T000000Z-0123abcd") == 0);
    /* results_text is a version 1 file, which archives made before version 2 hold; the
     * current version passes as well. */
    cJSON_ReplaceItemInObjectCaseSensitive(j, "schema", cJSON_CreateString(AP_RESULTS_SCHEMA));
    CHECK(ap_bench_results_check(j, id, &err) == 0);
    static const struct {
        const char *key, *value, *why;
    } muts[] = {
        {"schema", "\"appliance-results-0\"", "schema"},
        {"plan", "[]", "\"plan\""},
        {"measurements", "{}", "\"measurements\""},
        {"warnings", NULL, "\"warnings\""},
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(muts); i++) {
        cJSON *c = cJSON_Duplicate(j, 1);
        if (muts[i].value != NULL)
            cJSON_ReplaceItemInObjectCaseSensitive(c, muts[i].key, cJSON_Parse(muts[i].value));
        else
            cJSON_DeleteItemFromObjectCaseSensitive(c, muts[i].key);
        CHECK_MSG(ap_bench_results_check(c, id, &err) < 0 && test_contains(err->msg, muts[i].why),
                  "case %zu: %s", i, err != NULL ? err->msg : "accepted");
        ap_error_release(&err);
        cJSON_Delete(c);
    }
    cJSON *run = cJSON_GetObjectItem(j, "run");
    cJSON_ReplaceItemInObjectCaseSensitive(run, "id", cJSON_CreateString("../../etc"));
    CHECK(ap_bench_results_check(j, id, &err) < 0 && test_contains(err->msg, "run.id"));
    ap_error_release(&err);
    cJSON_DeleteItemFromObjectCaseSensitive(run, "id");
    CHECK(ap_bench_results_check(j, id, &err) == 0 && id[0] == '\0');
    cJSON_ReplaceItemInObjectCaseSensitive(run, "started", cJSON_CreateString("yesterday"));
    CHECK(ap_bench_results_check(j, id, &err) < 0 && test_contains(err->msg, "run.started"));
    ap_error_release(&err);
    cJSON *arr = cJSON_CreateArray();
    CHECK(ap_bench_results_check(arr, id, &err) < 0);
    ap_error_release(&err);
    cJSON_Delete(arr);
    cJSON_Delete(j);
}

static struct ap_bundle_image test_images[] = {
    {"go-x", "sha256:" HEX_A, ""},
    {"py-y", "sha256:" HEX_B, "sha256:" HEX_A},
};

static void test_info(struct ap_bundle_info *b, const cJSON *env)
{
    *b = (struct ap_bundle_info){.run_id = "20250101T000000Z-0123abcd",
                                 .started = "2025-01-01T00:00:00Z",
                                 .ended = NULL,
                                 .profile = "quick",
                                 .command = "appliance bench",
                                 .complete = 1,
                                 .results_schema = AP_RESULTS_SCHEMA,
                                 .environment = env,
                                 .images = test_images,
                                 .n_images = 2,
                                 .claims_sha256 = HEX_B,
                                 .version = "9.9.9"};
}

TEST(manifest_round_trip)
{
    ap_error *err = NULL;
    cJSON *env = cJSON_Parse("{\"kernel\":\"Linux\",\"arch\":\"x86_64\",\"noise_at_start\":{}}");
    struct ap_bundle_info b;
    test_info(&b, env);
    cJSON *m = NULL;
    CHECK(ap_bundle_manifest_build(&b, &m, &err) == 0);
    char *text = cJSON_Print(m);
    struct ap_manifest_info info;
    CHECK_MSG(ap_bundle_manifest_check(text, strlen(text), &info, &err) == 0, "%s",
              err ? err->msg : "");
    CHECK(strcmp(info.run_id, b.run_id) == 0 && info.n_images == 2 && !info.with_inputs &&
          info.has_results);
    /* The summary leaves the noise figures out. */
    CHECK(!test_contains(text, "noise_at_start") && test_contains(text, "\"arch\""));
    CHECK(test_contains(text, "\"claims_sha256\":\t\"sha256:" HEX_B "\""));
    free(text);

    static const struct {
        const char *key, *value, *why;
    } muts[] = {
        {"schema", "\"appliance-archive-manifest-0\"", "schema"},
        {"run_id", "\"../x\"", "run_id"},
        {"run_id", "null", "run_id"},
        {"started", "\"2025-01-01\"", "started"},
        {"images", "{\"../x\":{\"digest\":\"sha256:" HEX_A "\",\"lock_sha256\":null}}", "image"},
        {"images", "{\"x\":{\"digest\":\"sha256:abc\",\"lock_sha256\":null}}", "digest"},
        {"images", "{\"x\":{\"digest\":\"sha256:" HEX_A "\"}}", "lock_sha256"},
        {"with_inputs", "true", "inputs"},
        {"inputs", "{}", "inputs"},
        {"claims_sha256", "\"" HEX_A "\"", "claims_sha256"},
        {"appliance_version", "7", "appliance_version"},
        {"results_schema", "\"other\"", "results_schema"},
        {"environment", "[]", "environment"},
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(muts); i++) {
        cJSON *c = cJSON_Duplicate(m, 1);
        cJSON_ReplaceItemInObjectCaseSensitive(c, muts[i].key, cJSON_Parse(muts[i].value));
        char *t = cJSON_PrintUnformatted(c);
        int rc = ap_bundle_manifest_check(t, strlen(t), &info, &err);
        CHECK_MSG(rc < 0 && test_contains(err->msg, muts[i].why), "case %zu: %s", i,
                  err != NULL ? err->msg : "accepted");
        ap_error_release(&err);
        free(t);
        cJSON_Delete(c);
    }
    /* An archive of a version 1 results file still checks. */
    cJSON *old = cJSON_Duplicate(m, 1);
    cJSON_ReplaceItemInObjectCaseSensitive(old, "results_schema",
                                           cJSON_CreateString(AP_RESULTS_SCHEMA_1));
    char *t = cJSON_PrintUnformatted(old);
    CHECK_MSG(ap_bundle_manifest_check(t, strlen(t), &info, &err) == 0, "%s", err ? err->msg : "");
    free(t);
    cJSON_Delete(old);
    CHECK(ap_bundle_manifest_check("[1]", 3, &info, &err) < 0);
    ap_error_release(&err);
    CHECK(ap_bundle_manifest_check("{\"schema\":", 10, &info, &err) < 0 &&
          test_contains(err->msg, "invalid JSON"));
    ap_error_release(&err);
    cJSON_Delete(m);
    cJSON_Delete(env);
}

TEST(provenance_round_trip)
{
    ap_error *err = NULL;
    struct ap_bundle_info b;
    test_info(&b, NULL);
    struct ap_bundle_files files = {0}, subjects = {0};
    add(&files, "manifest.json", HEX_A);
    add(&files, "results.json", HEX_B);
    cJSON *st = NULL;
    CHECK(ap_bundle_provenance_build(&b, &files, &st, &err) == 0);
    char *text = cJSON_PrintUnformatted(st);
    char id[AP_RUN_ID_MAX + 1];
    CHECK_MSG(ap_bundle_provenance_check(text, strlen(text), &subjects, id, &err) == 0, "%s",
              err ? err->msg : "");
    CHECK(strcmp(id, b.run_id) == 0);
    CHECK(ap_bundle_files_compare(&files, &subjects, "subjects", NULL, &err) == 0);
    CHECK(test_contains(text, "\"_type\":\"https://in-toto.io/Statement/v1\""));
    CHECK(test_contains(text, "\"predicateType\":\"urn:appliance:benchmark-results:v1\""));
    free(text);
    ap_bundle_files_free(&subjects);

    static const struct {
        const char *key, *value, *why;
    } muts[] = {
        {"_type", "\"https://in-toto.io/Statement/v0.1\"", "_type"},
        {"predicateType", "\"https://slsa.dev/provenance/v1\"", "predicateType"},
        {"subject",
         "[{\"name\":\"a\",\"digest\":{\"sha256\":\"" HEX_A "\"}},"
         "{\"name\":\"a\",\"digest\":{\"sha256\":\"" HEX_A "\"}}]",
         "twice"},
        {"subject", "[{\"name\":\"../a\",\"digest\":{\"sha256\":\"" HEX_A "\"}}]", "\"..\""},
        {"subject", "[{\"name\":\"a\",\"digest\":{\"sha512\":\"" HEX_A "\"}}]", "sha256"},
        {"subject", "[{\"name\":\"a\",\"digest\":{\"sha256\":\"ABC\"}}]", "hex"},
        {"subject", "[1]", "not an object"},
        {"subject", "{}", "subject"},
        {"predicate", "{}", "run"},
        {"predicate", "null", "predicate"},
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(muts); i++) {
        cJSON *c = cJSON_Duplicate(st, 1);
        cJSON_ReplaceItemInObjectCaseSensitive(c, muts[i].key, cJSON_Parse(muts[i].value));
        char *t = cJSON_PrintUnformatted(c);
        int rc = ap_bundle_provenance_check(t, strlen(t), &subjects, id, &err);
        CHECK_MSG(rc < 0 && test_contains(err->msg, muts[i].why), "case %zu: %s", i,
                  err != NULL ? err->msg : "accepted");
        ap_error_release(&err);
        ap_bundle_files_free(&subjects);
        free(t);
        cJSON_Delete(c);
    }
    cJSON_Delete(st);
    ap_bundle_files_free(&files);
}

TEST(inputs_cross_check)
{
    ap_error *err = NULL;
    struct ap_bundle_files m = {0};
    add(&m, "inputs/blobs/sha256/" HEX_A, HEX_A);
    add(&m, "inputs/images/go-x/blobs/sha256/" HEX_B, HEX_B);
    add(&m, "inputs/images/go-x/index.json", HEX_A);
    add(&m, "inputs/recipes/go-x/image.json", HEX_A);
    add(&m, "manifest.json", HEX_A);
    ap_bundle_files_sort(&m);
    const char *manifest =
        "{\"inputs\":{\"layouts\":{\"go-x\":\"sha256:" HEX_B "\"},\"recipes\":[\"go-x\"],"
        "\"sources\":[],\"claims\":null,\"blobs\":[{\"sha256\":\"" HEX_A
        "\",\"size\":1,\"filename\":\"pool/x.deb\"}]}}";
    CHECK_MSG(ap_bundle_inputs_check(manifest, strlen(manifest), &m, &err) == 0, "%s",
              err ? err->msg : "");
    /* A blob whose content does not match its name. */
    snprintf(m.v[1].sha256, sizeof(m.v[1].sha256), "%s", HEX_A);
    CHECK(ap_bundle_inputs_check(manifest, strlen(manifest), &m, &err) < 0 &&
          test_contains(err->msg, "not the one its name says"));
    ap_error_release(&err);
    snprintf(m.v[1].sha256, sizeof(m.v[1].sha256), "%s", HEX_B);
    /* A listed blob that is missing, and one of another size. */
    const char *missing =
        "{\"inputs\":{\"layouts\":{},\"recipes\":[],\"blobs\":[{\"sha256\":\"" HEX_B
        "\",\"size\":1,\"filename\":\"x\"}]}}";
    CHECK(ap_bundle_inputs_check(missing, strlen(missing), &m, &err) < 0 &&
          test_contains(err->msg, "no member \"inputs/blobs/sha256/" HEX_B "\""));
    ap_error_release(&err);
    const char *size = "{\"inputs\":{\"layouts\":{},\"recipes\":[],\"blobs\":[{\"sha256\":\"" HEX_A
                       "\",\"size\":2,\"filename\":\"x\"}]}}";
    CHECK(ap_bundle_inputs_check(size, strlen(size), &m, &err) < 0 &&
          test_contains(err->msg, "bytes"));
    ap_error_release(&err);
    const char *layout = "{\"inputs\":{\"layouts\":{\"py\":\"sha256:" HEX_B "\"},\"recipes\":[],"
                         "\"blobs\":[]}}";
    CHECK(ap_bundle_inputs_check(layout, strlen(layout), &m, &err) < 0 &&
          test_contains(err->msg, "inputs/images/py/index.json"));
    ap_error_release(&err);
    ap_bundle_files_free(&m);
}

/* ---- reading crafted archives ---- */

struct entry {
    const char *name;
    const char *data; /* NULL: size bytes of zeros */
    size_t size;
    unsigned type; /* AE_IFREG unless set */
    const char *link;
    uint64_t claim; /* not 0: a regular file whose header claims this size, and no data */
};

/* A ustar header of a regular file `name` that claims `size` bytes (in base-256 where octal
 * cannot say it, as GNU tar writes it), written by hand: a writer that lies about a size
 * needs no data behind the claim, so a member over any bound costs 512 bytes. */
static void claim_header(unsigned char h[512], const char *name, uint64_t size)
{
    memset(h, 0, 512);
    snprintf((char *)h, 100, "%s", name);
    memcpy(h + 100, "0000644", 8);
    memcpy(h + 108, "0000000", 8);
    memcpy(h + 116, "0000000", 8);
    if (size < UINT64_C(1) << 33) {
        snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
    } else {
        h[124] = 0x80;
        for (int i = 11; i >= 1; i--, size >>= 8)
            h[124 + i] = (unsigned char)(size & 0xff);
    }
    memcpy(h + 136, "00000000000", 12);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
}

/* A tar (pax) of the entries, compressed with filter ("zstd", "gzip" or "none"), with
 * `trailer` bytes appended to the tar stream before compression. An entry with a claim must
 * be the last: its hand-made header goes where the end marker was, and nothing follows it. */
static void make_archive(struct test_buf *out, const struct entry *e, size_t n, const char *filter,
                         const char *trailer)
{
    const struct entry *claim = n > 0 && e[n - 1].claim != 0 ? &e[--n] : NULL;
    struct test_buf tar = {0};
    size_t cap = 1 << 20;
    for (size_t i = 0; i < n; i++)
        cap += e[i].size + 4096;
    unsigned char *buf = malloc(cap);
    size_t used = 0;
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_none(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open_memory(a, buf, cap, &used);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        archive_entry_set_filetype(ae, e[i].type ? e[i].type : AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        if (e[i].link != NULL && e[i].type == AE_IFLNK)
            archive_entry_set_symlink(ae, e[i].link);
        else if (e[i].link != NULL)
            archive_entry_set_hardlink(ae, e[i].link);
        if (!e[i].type || e[i].type == AE_IFREG)
            archive_entry_set_size(ae, (la_int64_t)e[i].size);
        archive_write_header(a, ae);
        archive_entry_free(ae);
        if ((!e[i].type || e[i].type == AE_IFREG) && e[i].size > 0) {
            char *zeros = e[i].data == NULL ? calloc(1, e[i].size) : NULL;
            archive_write_data(a, e[i].data ? e[i].data : zeros, e[i].size);
            free(zeros);
        }
    }
    archive_write_close(a);
    archive_write_free(a);
    if (claim != NULL) {
        /* One byte a block: the writer pads nothing, and the stream ends with the end
         * marker's two zero blocks, which the claim replaces. */
        for (size_t i = used - 1024; i < used; i++)
            if (buf[i] != 0)
                abort();
        used -= 1024;
        claim_header(buf + used, claim->name, claim->claim);
        used += 512;
    }
    test_buf_append(&tar, buf, used);
    if (trailer != NULL)
        test_buf_append(&tar, trailer, strlen(trailer));
    /* Compress the whole stream as one raw entry. */
    size_t zcap = tar.len + (1 << 16);
    unsigned char *z = malloc(zcap);
    size_t zused = 0;
    a = archive_write_new();
    archive_write_set_format_raw(a);
    if (strcmp(filter, "zstd") == 0)
        archive_write_add_filter_zstd(a);
    else if (strcmp(filter, "gzip") == 0)
        archive_write_add_filter_gzip(a);
    else
        archive_write_add_filter_none(a);
    archive_write_set_bytes_in_last_block(a, 1);
    archive_write_open_memory(a, z, zcap, &zused);
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, "data");
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_write_header(a, ae);
    archive_entry_free(ae);
    archive_write_data(a, tar.data, tar.len);
    archive_write_close(a);
    archive_write_free(a);
    out->len = 0;
    test_buf_append(out, z, zused);
    free(z);
    free(buf);
    test_buf_free(&tar);
}

static int scan_entries(const struct entry *e, size_t n, const char *filter, const char *trailer,
                        const struct ap_archive_limits *l, struct ap_archive_scan *s,
                        ap_error **err)
{
    struct ap_archive_limits def;
    ap_archive_default_limits(&def);
    struct test_buf b = {0};
    make_archive(&b, e, n, filter, trailer);
    int rc = ap_archive_scan_memory(b.data, b.len, l != NULL ? l : &def, s, err);
    test_buf_free(&b);
    return rc;
}

TEST(scan_reads_members)
{
    static const struct entry e[] = {
        {"SHA256SUMS", "x\n", 2, 0, NULL},
        {"logs/a.log", "hello", 5, 0, NULL},
        {"manifest.json", "{}", 2, 0, NULL},
        {"results.json", "[]", 2, 0, NULL},
    };
    struct ap_archive_scan s;
    ap_error *err = NULL;
    CHECK_MSG(scan_entries(e, 4, "zstd", NULL, NULL, &s, &err) == 0, "%s", err ? err->msg : "");
    CHECK(s.members.n == 4 && s.total == 11);
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex("hello", 5, hex);
    CHECK(strcmp(s.members.v[1].name, "logs/a.log") == 0 &&
          strcmp(s.members.v[1].sha256, hex) == 0);
    CHECK(s.sums != NULL && s.sums_len == 2 && memcmp(s.sums, "x\n", 2) == 0);
    CHECK(s.manifest != NULL && s.results != NULL && s.provenance == NULL);
    ap_archive_scan_free(&s);
}

TEST(scan_refuses)
{
    static const struct entry dots[] = {{"../evil", "x", 1, 0, NULL}};
    static const struct entry abs[] = {{"/etc/passwd", "x", 1, 0, NULL}};
    static const struct entry dot[] = {{"./a", "x", 1, 0, NULL}};
    static const struct entry link[] = {{"a", NULL, 0, AE_IFLNK, "/etc/passwd"}};
    static const struct entry hard[] = {{"a", "x", 1, 0, NULL}, {"b", NULL, 0, AE_IFREG, "a"}};
    static const struct entry dir[] = {{"a", NULL, 0, AE_IFDIR, NULL}};
    static const struct entry fifo[] = {{"a", NULL, 0, AE_IFIFO, NULL}};
    static const struct entry order[] = {{"b", "x", 1, 0, NULL}, {"a", "x", 1, 0, NULL}};
    static const struct entry dup[] = {{"a", "x", 1, 0, NULL}, {"a", "y", 1, 0, NULL}};
    static const struct entry ctl[] = {{"a\nb", "x", 1, 0, NULL}};
    static const struct {
        const struct entry *e;
        size_t n;
        const char *filter, *trailer, *why;
    } cases[] = {
        {dots, 1, "zstd", NULL, "\"..\""},         {abs, 1, "zstd", NULL, "absolute"},
        {dot, 1, "zstd", NULL, "\".\""},           {link, 1, "zstd", NULL, "symbolic link"},
        {hard, 2, "zstd", NULL, "hard link"},      {dir, 1, "zstd", NULL, "directory"},
        {fifo, 1, "zstd", NULL, "FIFO"},           {order, 2, "zstd", NULL, "out of order"},
        {dup, 2, "zstd", NULL, "repeated"},        {ctl, 1, "zstd", NULL, "control"},
        {dots + 0, 0, "gzip", NULL, "not a zstd"}, {dots + 0, 0, "none", NULL, "not a zstd"},
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(cases); i++) {
        struct ap_archive_scan s;
        ap_error *err = NULL;
        int rc =
            scan_entries(cases[i].e, cases[i].n, cases[i].filter, cases[i].trailer, NULL, &s, &err);
        CHECK_MSG(rc < 0 && test_contains(err->msg, cases[i].why) &&
                      test_contains(err->msg, "archive check failed"),
                  "case %zu: %s", i, err != NULL ? err->msg : "accepted");
        ap_error_release(&err);
    }
    /* Not an archive at all, and nothing. */
    struct ap_archive_limits l;
    ap_archive_default_limits(&l);
    struct ap_archive_scan s;
    ap_error *err = NULL;
    CHECK(ap_archive_scan_memory("hello world", 11, &l, &s, &err) < 0);
    ap_error_release(&err);
    CHECK(ap_archive_scan_memory("", 0, &l, &s, &err) < 0);
    ap_error_release(&err);
}

TEST(scan_bounds)
{
    struct ap_archive_limits l;
    ap_archive_default_limits(&l);
    struct ap_archive_scan s;
    ap_error *err = NULL;
    /* A member larger than allowed. */
    static const struct entry big[] = {{"a", NULL, 100000, 0, NULL}};
    l.max_member = 99999;
    CHECK(scan_entries(big, 1, "zstd", NULL, &l, &s, &err) < 0 &&
          test_contains(err->msg, "more than the 99999 allowed"));
    ap_error_release(&err);
    /* Members adding up to more than allowed. */
    static const struct entry two[] = {{"a", NULL, 60000, 0, NULL}, {"b", NULL, 60000, 0, NULL}};
    ap_archive_default_limits(&l);
    l.max_total = 100000;
    CHECK(scan_entries(two, 2, "zstd", NULL, &l, &s, &err) < 0 &&
          test_contains(err->msg, "add up to more than"));
    ap_error_release(&err);
    /* Too many members. */
    ap_archive_default_limits(&l);
    l.max_members = 1;
    CHECK(scan_entries(two, 2, "zstd", NULL, &l, &s, &err) < 0 &&
          test_contains(err->msg, "more than 1 members"));
    ap_error_release(&err);
    /* A bomb: 64 MiB of zeros compress to a few KiB; the stream stops at 1 MiB. */
    static const struct entry bomb[] = {{"a", NULL, 64 << 20, 0, NULL}};
    struct test_buf b = {0};
    make_archive(&b, bomb, 1, "zstd", NULL);
    CHECK_MSG(b.len < 64 * 1024, "bomb is %zu bytes", b.len);
    ap_archive_default_limits(&l);
    l.max_stream = 1 << 20;
    CHECK_MSG(ap_archive_scan_memory(b.data, b.len, &l, &s, &err) < 0 &&
                  test_contains(err->msg, "decompresses to more than 1048576 bytes"),
              "%s", err ? err->msg : "accepted");
    ap_error_release(&err);
    test_buf_free(&b);
    /* Metadata beyond its own bound. */
    static const struct entry meta[] = {{"manifest.json", NULL, 5000, 0, NULL}};
    ap_archive_default_limits(&l);
    l.max_meta = 4096;
    CHECK(scan_entries(meta, 1, "zstd", NULL, &l, &s, &err) < 0 &&
          test_contains(err->msg, "allowed for it"));
    ap_error_release(&err);
}

TEST(scan_trailer)
{
    /* Non-zero bytes far past the end marker (beyond what the tar reader buffers). */
    static const struct entry one[] = {{"a", "x", 1, 0, NULL}};
    char *junk = malloc(300001);
    memset(junk, 'A', 300000);
    junk[300000] = '\0';
    struct ap_archive_scan s;
    ap_error *err = NULL;
    CHECK(scan_entries(one, 1, "zstd", junk, NULL, &s, &err) < 0 &&
          test_contains(err->msg, "after the tar's end"));
    ap_error_release(&err);
    free(junk);
}

/* ---- a whole pack ---- */

static char tmpdir[] = "/tmp/test_archive.XXXXXX";

static void put_file(const char *rel, const char *data, mode_t mode)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    *strrchr(dir, '/') = '\0';
    ap_error *err = NULL;
    if (ap_fs_mkdir_p(dir, 0755, &err) < 0 ||
        ap_fs_write_atomic(path, data, strlen(data), mode, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        abort();
    }
}

static int pack_dir(const char *run, const char *out, struct ap_pack_result *res, ap_error **err)
{
    char run_dir[4096], out_dir[4096];
    snprintf(run_dir, sizeof(run_dir), "%s/%s", tmpdir, run);
    snprintf(out_dir, sizeof(out_dir), "%s/%s", tmpdir, out);
    /* What image/ lists for results_text's image: the tree has no lock for it. */
    static const struct ap_pack_image images[] = {{"go-x", "sha256:" HEX_A, ""}};
    struct ap_pack_opts o = {.run_dir = run_dir,
                             .out_dir = out_dir,
                             .images = images,
                             .n_images = AP_ARRAY_SIZE(images)};
    return ap_pack_run(&o, res, err);
}

/* bundle/ packs the inputs it is handed, checked against their pins, and refuses a run whose
 * images are not the ones the inputs were listed for. */
TEST(packs_the_inputs_it_is_handed)
{
    put_file("inrun/results.json", results_text, 0644);
    put_file("cache/x.deb", "payload\n", 0644);
    char run_dir[4096], out_dir[4096], deb[4096], missing[4096], hex[AP_SHA256_HEX_LEN + 1],
        name[128];
    snprintf(run_dir, sizeof(run_dir), "%s/inrun", tmpdir);
    snprintf(out_dir, sizeof(out_dir), "%s/inout", tmpdir);
    snprintf(deb, sizeof(deb), "%s/cache/x.deb", tmpdir);
    snprintf(missing, sizeof(missing), "%s/cache/none.deb", tmpdir);
    ap_sha256_hex("payload\n", 8, hex);
    snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
    static const struct ap_pack_image images[] = {{"go-x", "sha256:" HEX_A, ""}};
    struct ap_pack_input in = {name,           deb,           hex, 8, "x 1.0 (go-x)", "the lock",
                               "MISSING-HINT", "DAMAGED-HINT"};
    struct ap_pack_opts o = {.run_dir = run_dir,
                             .out_dir = out_dir,
                             .images = images,
                             .n_images = 1,
                             .with_inputs = 1,
                             .inputs = &in,
                             .n_inputs = 1};
    struct ap_pack_result res;
    ap_error *err = NULL;
    CHECK_MSG(ap_pack_run(&o, &res, &err) == 0 && res.files == 5, "%s", err ? err->msg : "files");
    ap_error_release(&err);
    in.sha256 = HEX_B;
    CHECK_MSG(ap_pack_run(&o, &res, &err) < 0 &&
                  test_contains(err->msg, "but the lock pins " HEX_B) &&
                  test_contains(err->msg, "(x 1.0 (go-x))") &&
                  test_contains(err->msg, "\nHint: DAMAGED-HINT"),
              "%s", err ? err->msg : "accepted");
    ap_error_release(&err);
    in.sha256 = hex;
    in.path = missing;
    CHECK_MSG(ap_pack_run(&o, &res, &err) < 0 && test_contains(err->msg, "\nHint: MISSING-HINT"),
              "%s", err ? err->msg : "accepted");
    ap_error_release(&err);
    in.path = deb;
    o.n_images = 0;
    CHECK_MSG(ap_pack_run(&o, &res, &err) < 0 &&
                  test_contains(err->msg, "changed while it was packed"),
              "%s", err ? err->msg : "accepted");
    ap_error_release(&err);
}

TEST(packs_a_run_directory)
{
    put_file("run/results.json", results_text, 0644);
    put_file("run/results.csv", "id,value\n", 0644);
    put_file("run/logs/bench.log", "started\n", 0644);
    put_file("run/reports/r\xc3\xa9sum\xc3\xa9.txt", "ok\n", 0755);
    struct ap_pack_result a, b;
    ap_error *err = NULL;
    if (!CHECK_MSG(pack_dir("run", "out", &a, &err) == 0, "%s", err ? err->msg : ""))
        return;
    CHECK(test_contains(a.archive, "/out/20250101T000000Z-0123abcd.tar.zst"));
    CHECK(a.signature[0] == '\0' && a.files == 7);
    /* Packed again into the directory being packed: the first archive is not packed, and the
     * bytes are the same. */
    CHECK(pack_dir("run", "run", &b, &err) == 0);
    cleanup_free char *x = NULL, *y = NULL;
    size_t xl = 0, yl = 0;
    CHECK(ap_fs_read_file(AT_FDCWD, a.archive, 1 << 20, &x, &xl, &err) == 0);
    CHECK(ap_fs_read_file(AT_FDCWD, b.archive, 1 << 20, &y, &yl, &err) == 0);
    CHECK(x != NULL && y != NULL && xl == yl && memcmp(x, y, xl) == 0);
    CHECK(pack_dir("run", "run", &b, &err) == 0 && strcmp(a.sha256, b.sha256) == 0);
    CHECK_MSG(strcmp(a.sha256, GOLDEN_ARCHIVE) == 0, "archive sha256 %s", a.sha256);

    struct ap_archive_limits l;
    ap_archive_default_limits(&l);
    struct ap_archive_scan s;
    if (!CHECK_MSG(ap_archive_scan_file(a.archive, &l, &s, &err) == 0, "%s", err ? err->msg : ""))
        return;
    struct ap_manifest_info info;
    CHECK_MSG(ap_archive_check(&s, "20250101T000000Z-0123abcd", &info, &err) == 0, "%s",
              err ? err->msg : "");
    CHECK(ap_archive_check(&s, "another-id", &info, &err) < 0 &&
          test_contains(err->msg, "manifest check failed") &&
          test_contains(err->msg, "signed one"));
    ap_error_release(&err);
    static const char *const names[] = {"SHA256SUMS",
                                        "logs/bench.log",
                                        "manifest.json",
                                        "provenance.json",
                                        "reports/r\xc3\xa9sum\xc3\xa9.txt",
                                        "results.csv",
                                        "results.json"};
    CHECK(s.members.n == AP_ARRAY_SIZE(names));
    for (size_t i = 0; i < s.members.n && i < AP_ARRAY_SIZE(names); i++)
        CHECK_MSG(strcmp(s.members.v[i].name, names[i]) == 0, "member %zu: %s", i,
                  s.members.v[i].name);
    /* A member that does not match SHA256SUMS. */
    s.members.v[1].sha256[0] = s.members.v[1].sha256[0] == '0' ? '1' : '0';
    CHECK(ap_archive_check(&s, NULL, &info, &err) < 0 &&
          test_contains(err->msg, "SHA256SUMS check failed") &&
          test_contains(err->msg, "logs/bench.log"));
    ap_error_release(&err);
    ap_archive_scan_free(&s);

    /* The mtime is the run's start, owners 0 and no names, modes normalised. */
    struct archive *r = archive_read_new();
    archive_read_support_filter_zstd(r);
    archive_read_support_format_tar(r);
    CHECK(archive_read_open_filename(r, a.archive, 1 << 16) == ARCHIVE_OK);
    struct archive_entry *ae;
    while (archive_read_next_header(r, &ae) == ARCHIVE_OK) {
        const char *n = archive_entry_pathname(ae);
        CHECK_MSG(archive_entry_mtime(ae) == 1735689600 && archive_entry_uid(ae) == 0 &&
                      archive_entry_gid(ae) == 0 && !*(archive_entry_uname(ae) ?: "") &&
                      !*(archive_entry_gname(ae) ?: ""),
                  "%s: mtime %lld uid %lld gid %lld uname %s gname %s", n,
                  (long long)archive_entry_mtime(ae), (long long)archive_entry_uid(ae),
                  (long long)archive_entry_gid(ae), archive_entry_uname(ae),
                  archive_entry_gname(ae));
        unsigned want = strncmp(n, "reports/", 8) == 0 ? 0755 : 0644;
        CHECK_MSG((archive_entry_perm(ae) & 07777) == want, "%s: mode %o", n,
                  archive_entry_perm(ae));
    }
    archive_read_free(r);
}

/* ---- compare reads archives through verify's walk ---- */

/* The members of an archive file in order, with their data, as entries for make_archive. */
struct members {
    struct entry e[16];
    char name[16][256];
    char *data[16];
    size_t n;
};

static void read_members(const char *path, struct members *m)
{
    memset(m, 0, sizeof(*m));
    struct archive *r = archive_read_new();
    archive_read_support_filter_zstd(r);
    archive_read_support_format_tar(r);
    struct archive_entry *ae;
    if (archive_read_open_filename(r, path, 1 << 16) == ARCHIVE_OK)
        while (m->n < AP_ARRAY_SIZE(m->e) && archive_read_next_header(r, &ae) == ARCHIVE_OK) {
            size_t size = (size_t)archive_entry_size(ae);
            snprintf(m->name[m->n], sizeof(m->name[0]), "%s", archive_entry_pathname(ae));
            m->data[m->n] = malloc(size + 1);
            if (archive_read_data(r, m->data[m->n], size) != (la_ssize_t)size)
                abort();
            m->e[m->n] = (struct entry){m->name[m->n], m->data[m->n], size, 0, NULL, 0};
            m->n++;
        }
    archive_read_free(r);
}

static void free_members(struct members *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->data[i]);
}

/* Writes the entries as an archive at path, signed (path.minisig) as appliance pack signs. */
static void write_signed(const char *path, const struct entry *e, size_t n,
                         const struct ap_minisign_sk *sk, const char *id)
{
    struct test_buf b = {0};
    make_archive(&b, e, n, "zstd", NULL);
    char hex[AP_SHA256_HEX_LEN + 1], comment[300], sig[4200];
    ap_error *err = NULL;
    ap_sha256_hex(b.data, b.len, hex);
    snprintf(comment, sizeof(comment), "appliance run %s sha256:%s", id, hex);
    snprintf(sig, sizeof(sig), "%s.minisig", path);
    if (ap_fs_write_atomic(path, b.data, b.len, 0644, &err) < 0 ||
        ap_minisign_sign(sk, path, comment, NULL, sig, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        abort();
    }
    test_buf_free(&b);
}

TEST(compare_refuses_what_verify_refuses)
{
    static const char id[] = "20250101T000000Z-0123abcd";
    put_file("cmp/results.json", results_text, 0644);
    put_file("cmp/logs/bench.log", "started\n", 0644);
    struct ap_pack_result packed;
    ap_error *err = NULL;
    char pub[4096], sec[4096];
    snprintf(pub, sizeof(pub), "%s/cmp.pub", tmpdir);
    snprintf(sec, sizeof(sec), "%s/cmp.key", tmpdir);
    struct ap_minisign_sk sk;
    struct ap_minisign_pk pk;
    if (!CHECK_MSG(pack_dir("cmp", "cmpout", &packed, &err) == 0 &&
                       ap_minisign_keygen(pub, sec, NULL, 0, &err) == 0 &&
                       ap_minisign_read_sk(sec, NULL, &sk, &err) == 0 &&
                       ap_minisign_read_pk(pub, &pk, &err) == 0,
                   "%s", err ? err->msg : ""))
        return;
    struct members m;
    read_members(packed.archive, &m);
    /* SHA256SUMS, logs/bench.log, manifest.json, provenance.json, results.json: the last. */
    if (!CHECK(m.n == 5 && strcmp(m.name[4], "results.json") == 0))
        return;
    /* Each case: the packed members, then one more after results.json. */
    static const struct {
        const char *what, *why;
        struct entry extra;
    } cases[] = {
        {"a second results.json",
         "\"results.json\" is out of order or repeated",
         {"results.json", "{}", 2, 0, NULL, 0}},
        {"a FIFO", "it is a FIFO", {"zz-fifo", NULL, 0, AE_IFIFO, NULL, 0}},
        {"a character device", "it is a character device", {"zz-tty", NULL, 0, AE_IFCHR, NULL, 0}},
        {"a member over 8 GiB",
         "is 8589934593 bytes, more than the 8589934592 allowed",
         {"zz-big", NULL, 0, 0, NULL, (UINT64_C(8) << 30) + 1}},
        /* In place of the real one: results.json over AP_RESULTS_MAX. */
        {"results.json over its bound",
         "is 536870913 bytes, more than the 536870912 allowed",
         {"results.json", NULL, 0, 0, NULL, AP_RESULTS_MAX + 1}},
    };
    char path[4096];
    struct entry e[AP_ARRAY_SIZE(m.e) + 1];
    memcpy(e, m.e, m.n * sizeof(e[0]));
    /* The control: the same members written again (not by pack) and signed. */
    snprintf(path, sizeof(path), "%s/cmpout/control.tar.zst", tmpdir);
    write_signed(path, e, m.n, &sk, id);
    struct ap_verify_result res;
    cJSON *doc = NULL;
    CHECK_MSG(ap_verify_archive(path, NULL, &pk, &res, &err) == 0, "control: verify: %s",
              err ? err->msg : "");
    ap_error_release(&err);
    CHECK_MSG(ap_compare_load(path, &doc, NULL, &err) == 0 && doc != NULL, "control: %s",
              err ? err->msg : "");
    ap_error_release(&err);
    cJSON_Delete(doc);
    for (size_t i = 0; i < AP_ARRAY_SIZE(cases); i++) {
        size_t n = m.n;
        if (cases[i].extra.claim != 0 && strcmp(cases[i].extra.name, "results.json") == 0)
            n--;
        e[n++] = cases[i].extra;
        snprintf(path, sizeof(path), "%s/cmpout/case%zu.tar.zst", tmpdir, i);
        write_signed(path, e, n, &sk, id);
        ap_error *verr = NULL, *cerr = NULL;
        doc = NULL;
        CHECK_MSG(ap_verify_archive(path, NULL, &pk, &res, &verr) < 0 &&
                      test_contains(verr->msg, "archive check failed") &&
                      test_contains(verr->msg, cases[i].why),
                  "%s: verify says: %s", cases[i].what, verr ? verr->msg : "verified");
        CHECK_MSG(ap_compare_load(path, &doc, NULL, &cerr) < 0 && doc == NULL,
                  "%s: compare accepts it", cases[i].what);
        CHECK_MSG(verr != NULL && cerr != NULL && strcmp(verr->msg, cerr->msg) == 0,
                  "%s:\n      verify:  %s\n      compare: %s", cases[i].what,
                  verr ? verr->msg : "(none)", cerr ? cerr->msg : "(none)");
        ap_error_release(&verr);
        ap_error_release(&cerr);
        cJSON_Delete(doc);
        unlink(path);
        e[m.n - 1] = m.e[m.n - 1];
    }
    ap_minisign_sk_wipe(&sk);
    free_members(&m);
}

TEST(pack_refuses)
{
    ap_error *err = NULL;
    struct ap_pack_result res;
    /* A symbolic link, a reserved name, a FIFO. */
    put_file("bad1/results.json", results_text, 0644);
    char p[4096];
    snprintf(p, sizeof(p), "%s/bad1/link", tmpdir);
    CHECK(symlink("/etc/passwd", p) == 0);
    CHECK(pack_dir("bad1", "out1", &res, &err) < 0 &&
          test_contains(err->msg, "bad1/link is a symbolic link"));
    ap_error_release(&err);
    put_file("bad2/manifest.json", "{}", 0644);
    CHECK(pack_dir("bad2", "out2", &res, &err) < 0 &&
          test_contains(err->msg, "adds a member of that name"));
    ap_error_release(&err);
    put_file("bad3/x", "", 0644);
    snprintf(p, sizeof(p), "%s/bad3/fifo", tmpdir);
    CHECK(mkfifo(p, 0644) == 0);
    CHECK(pack_dir("bad3", "out3", &res, &err) < 0 &&
          test_contains(err->msg, "not a regular file"));
    ap_error_release(&err);
    put_file("bad4/results.json", "{\"schema\":\"other\"}", 0644);
    CHECK(pack_dir("bad4", "out4", &res, &err) < 0 && test_contains(err->msg, "schema"));
    ap_error_release(&err);
    /* Nothing was left under a final name (or any name) by the failures. */
    for (int i = 1; i <= 4; i++) {
        snprintf(p, sizeof(p), "%s/out%d", tmpdir, i);
        DIR *d = opendir(p);
        int entries = 0;
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL)
            entries += de->d_name[0] != '.';
        if (d != NULL)
            closedir(d);
        CHECK_MSG(entries == 0, "%s has %d entries", p, entries);
    }
}

TEST(pack_without_results_derives_an_id)
{
    put_file("plain/a.txt", "a\n", 0644);
    put_file("plain/b/c.txt", "c\n", 0644);
    struct ap_pack_result a, b;
    ap_error *err = NULL;
    CHECK(pack_dir("plain", "outp", &a, &err) == 0);
    CHECK(pack_dir("plain", "outp", &b, &err) == 0);
    CHECK(strncmp(a.run_id, "dir-", 4) == 0 && strlen(a.run_id) == 20 &&
          strcmp(a.run_id, b.run_id) == 0 && strcmp(a.sha256, b.sha256) == 0);
    /* The id is the first 16 hex digits of the sha256 of the files' SHA256SUMS lines. */
    char ha[65], hc[65], line[300], id[65];
    ap_sha256_hex("a\n", 2, ha);
    ap_sha256_hex("c\n", 2, hc);
    snprintf(line, sizeof(line), "%s  a.txt\n%s  b/c.txt\n", ha, hc);
    ap_sha256_hex(line, strlen(line), id);
    CHECK(strncmp(a.run_id + 4, id, 16) == 0);
    struct ap_archive_limits l;
    ap_archive_default_limits(&l);
    struct ap_archive_scan s;
    struct ap_manifest_info info;
    CHECK(ap_archive_scan_file(a.archive, &l, &s, &err) == 0);
    CHECK_MSG(ap_archive_check(&s, a.run_id, &info, &err) == 0, "%s", err ? err->msg : "");
    CHECK(!info.has_results && info.n_images == 0);
    ap_archive_scan_free(&s);
}

static int setup(void)
{
    ap_error *err = NULL;
    ap_log_set_level(AP_LOG_QUIET);
    if (ap_hash_init(&err) < 0 || mkdtemp(tmpdir) == NULL)
        return -1;
    return 0;
}

TEST_SETUP(setup)

TEST(cleanup)
{
    ap_error *err = NULL;
    CHECK(ap_fs_remove_tree(tmpdir, &err) == 0);
}
