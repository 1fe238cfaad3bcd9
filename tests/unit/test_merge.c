/* campaign/merge: the checks that parts make one campaign, and the merged document, on
 * synthetic parts built here (no archive: what ap_merge_read_part hands over). */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/results.h"
#include "campaign/merge.h"
#include "core/fs.h"
#include "core/hash.h"
#include "test.h"

#define PLAN_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define PLAN_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define DIGEST_1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DIGEST_2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static int setup(void)
{
    ap_error *err = NULL;
    return ap_hash_init(&err);
}
TEST_SETUP(setup)

/* What varies between the parts of a test. */
struct spec {
    const char *name;
    int shard, count;
    const char *plan, *cpu, *host, *digest;
    double base; /* the samples: base, base + 1, base + 2 */
    int unsharded, incomplete;
};

/* A part with one measurement per shard: cpu/task<shard>/go, with three samples. */
static void make_part(struct ap_merge_part *p, const struct spec *s)
{
    char shard[200] = "", text[4096];
    if (!s->unsharded)
        snprintf(shard, sizeof(shard),
                 "\"shard\": {\"index\": %d, \"count\": %d, \"groups\": [\"task%d\"], "
                 "\"estimate_s\": 1},",
                 s->shard, s->count, s->shard);
    snprintf(
        text, sizeof(text),
        "{\"schema\": \"appliance-results-2\","
        " \"run\": {\"id\": \"20260101T00000%dZ-0000000%d\", \"started\": "
        "\"2026-01-01T00:00:0%dZ\", \"ended\": \"2026-01-01T00:01:0%dZ\", \"complete\": %s,"
        "  \"profile\": \"quick\", \"suites\": [\"cpu\"], \"repeat\": 3, \"warmup\": 1,"
        "  \"command\": \"appliance bench\", \"resumed\": [], \"include_noisy\": false, %s"
        "  \"plan_sha256\": \"%s\"},"
        " \"plan\": {\"schema\": \"appliance-bench-plan-1\"},"
        " \"environment\": {\"kernel\": \"Linux 6.1\", \"cpu_model\": \"%s\", \"host\": \"%s\","
        "  \"cgroup\": \"v2\", \"cpus_online\": 2, \"images\": {\"go\": {\"digest\": \"%s\"}}},"
        " \"warnings\": [\"a warning\"],"
        " \"measurements\": [{\"id\": \"cpu/task%d/go\", \"suite\": \"cpu\", \"group\": "
        "\"task%d\", \"workload\": \"task\", \"image\": \"go\", \"language\": \"go\","
        "  \"params\": {}, \"runs\": [], \"warnings\": [],"
        "  \"metrics\": {\"wall_s\": {\"unit\": \"s\", \"samples\": [%g, %g, %g],"
        "   \"stats\": {\"n\": 3, \"median\": %g}, \"status\": \"n-too-small\"}}}]}",
        s->shard, s->shard, s->shard, s->shard, s->incomplete ? "false" : "true", shard,
        s->plan != NULL ? s->plan : PLAN_A, s->cpu != NULL ? s->cpu : "cpu A",
        s->host != NULL ? s->host : "node1", s->digest != NULL ? s->digest : DIGEST_1, s->shard,
        s->shard, s->base, s->base + 1, s->base + 2, s->base + 1);
    memset(p, 0, sizeof(*p));
    p->name = strdup(s->name);
    snprintf(p->sha256, sizeof(p->sha256), "%064d", s->shard);
    p->results = cJSON_Parse(text);
    if (p->results == NULL)
        abort();
}

/* Runs the check (and, when it passes, the build) on parts from specs; returns the check's
 * status; err (when not NULL) gets the error message; *out the merged document. */
static int merge(const struct spec *specs, size_t n, int expect, int pool, char *msg, size_t len,
                 cJSON **out)
{
    struct ap_merge_part parts[16];
    for (size_t i = 0; i < n; i++)
        make_part(&parts[i], &specs[i]);
    struct ap_merge_opts o = {expect, pool, "appliance merge"};
    ap_error *err = NULL;
    size_t machines = 0;
    int rc = ap_merge_check(parts, n, &o, &machines, &err);
    cJSON *doc = NULL;
    if (rc == 0)
        rc = ap_merge_build(parts, n, machines, &o, &doc, &err);
    if (msg != NULL)
        snprintf(msg, len, "%s", err != NULL ? err->msg : "");
    ap_error_release(&err);
    for (size_t i = 0; i < n; i++)
        ap_merge_part_free(&parts[i]);
    if (out != NULL)
        *out = doc;
    else
        cJSON_Delete(doc);
    return rc;
}

static const cJSON *at(const cJSON *j, const char *path)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok_r(buf, ".", &save); k != NULL && j != NULL;
         k = strtok_r(NULL, ".", &save))
        j = cJSON_IsArray(j) ? cJSON_GetArrayItem(j, atoi(k))
                             : cJSON_GetObjectItemCaseSensitive(j, k);
    return j;
}

static int has(const char *msg, const char *what)
{
    return strstr(msg, what) != NULL;
}

/* The CSV ap_bench_results_csv writes for doc, into buf (empty when it fails). */
static void csv_of(const cJSON *doc, char *buf, size_t len)
{
    char path[] = "/tmp/test_merge.csv.XXXXXX";
    int fd = mkstemp(path);
    ap_error *err = NULL;
    char *text = NULL;
    size_t n = 0;
    buf[0] = '\0';
    if (fd >= 0 && ap_bench_results_csv(doc, path, &err) == 0 &&
        ap_fs_read_file(AT_FDCWD, path, len, &text, &n, &err) == 0)
        snprintf(buf, len, "%s", text);
    if (err != NULL)
        test_note("%s", err->msg);
    ap_error_release(&err);
    free(text);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
}

TEST(accepts_two_shards_and_records_every_part)
{
    struct spec s[] = {{"b.tar.zst", 1, 2, .base = 10}, {"a.tar.zst", 0, 2, .base = 20}};
    cJSON *doc = NULL;
    char msg[1024];
    CHECK_MSG(merge(s, 2, 2, 0, msg, sizeof(msg), &doc) == 0, "%s", msg);
    CHECK(cJSON_GetArraySize(at(doc, "measurements")) == 2);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "run.merged.parts.0.archive")), "a.tar.zst") == 0);
    CHECK(at(doc, "run.merged.parts.1.shard")->valueint == 1);
    CHECK(cJSON_IsFalse(at(doc, "run.merged.pooled")));
    CHECK(cJSON_GetArraySize(at(doc, "environment.machines")) == 1);
    CHECK(at(doc, "measurements.0.shard")->valueint == 0);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "measurements.0.host")), "node1") == 0);
    CHECK(at(doc, "measurements.0.machine") == NULL); /* one machine type: no machine */
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "run.id")), "20260101T000000Z-00000000") != 0);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "run.started")), "2026-01-01T00:00:00Z") == 0);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "run.ended")), "2026-01-01T00:01:01Z") == 0);
    CHECK(at(doc, "run.shard") == NULL);
    CHECK(has(cJSON_GetStringValue(at(doc, "warnings.0")), "shard 0/2 on node1: a warning"));
    cJSON_Delete(doc);
}

TEST(refuses_a_duplicated_shard)
{
    struct spec s[] = {{"a.tar.zst", 0, 2}, {"b.tar.zst", 0, 2}, {"c.tar.zst", 1, 2}};
    char msg[1024];
    CHECK(merge(s, 3, 2, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "shard 0/2 is given twice: a.tar.zst and b.tar.zst"), "%s", msg);
    CHECK(merge(s + 1, 2, 2, 0, msg, sizeof(msg), NULL) == 0); /* control */
}

TEST(refuses_missing_shards)
{
    struct spec s[] = {{"a.tar.zst", 0, 3}, {"c.tar.zst", 2, 3}, {"b.tar.zst", 1, 3}};
    char msg[1024];
    CHECK(merge(s, 2, 3, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "shard 1/3 is missing"), "%s", msg);
    CHECK(merge(s, 1, 3, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "shards 1/3, 2/3 are missing"), "%s", msg);
    CHECK(merge(s, 3, 3, 0, msg, sizeof(msg), NULL) == 0); /* control */
}

TEST(refuses_another_plan_images_or_count)
{
    struct spec s[] = {{"a.tar.zst", 0, 2}, {"b.tar.zst", 1, 2, .plan = PLAN_B}};
    char msg[1024];
    CHECK(merge(s, 2, 2, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "part b.tar.zst is of another plan"), "%s", msg);
    struct spec i[] = {{"a.tar.zst", 0, 2}, {"b.tar.zst", 1, 2, .digest = DIGEST_2}};
    CHECK(merge(i, 2, 2, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "image go is " DIGEST_1 " in part a.tar.zst but " DIGEST_2), "%s", msg);
    struct spec c[] = {{"a.tar.zst", 0, 2}, {"b.tar.zst", 1, 2}};
    CHECK(merge(c, 2, 3, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "part a.tar.zst is shard 0/2, but --expect is 3"), "%s", msg);
    CHECK(merge(c, 2, 2, 0, msg, sizeof(msg), NULL) == 0); /* control */
}

TEST(refuses_unsharded_and_incomplete_parts)
{
    char msg[1024];
    struct spec u[] = {{"a.tar.zst", 0, 1, .unsharded = 1}};
    CHECK(merge(u, 1, 1, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "part a.tar.zst is not a sharded run"), "%s", msg);
    struct spec x[] = {{"a.tar.zst", 0, 1, .incomplete = 1}};
    CHECK(merge(x, 1, 1, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "part a.tar.zst is an incomplete run"), "%s", msg);
    struct spec ok[] = {{"a.tar.zst", 0, 1}};
    CHECK(merge(ok, 1, 1, 0, msg, sizeof(msg), NULL) == 0); /* control */
}

/* Two machine types, each with both shards. */
static const struct spec two_types[] = {
    {"x0.tar.zst", 0, 2, .cpu = "cpu B", .host = "b1", .base = 100},
    {"x1.tar.zst", 1, 2, .cpu = "cpu B", .host = "b2", .base = 200},
    {"y0.tar.zst", 0, 2, .cpu = "cpu A", .host = "a1", .base = 10},
    {"y1.tar.zst", 1, 2, .cpu = "cpu A", .host = "a1", .base = 20}};

TEST(keeps_machine_types_apart)
{
    cJSON *doc = NULL;
    char msg[1024];
    CHECK_MSG(merge(two_types, 4, 2, 0, msg, sizeof(msg), &doc) == 0, "%s", msg);
    CHECK(cJSON_GetArraySize(at(doc, "measurements")) == 4);
    CHECK(cJSON_GetArraySize(at(doc, "environment.machines")) == 2);
    /* Sorted by machine type: cpu A first, so it is m1. */
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "environment.machines.0.cpu_model")), "cpu A") == 0);
    CHECK(cJSON_GetArraySize(at(doc, "environment.machines.0.hosts")) == 1);
    CHECK(cJSON_GetArraySize(at(doc, "environment.machines.1.hosts")) == 2);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "measurements.0.machine")), "m1") == 0);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "measurements.2.machine")), "m2") == 0);
    CHECK(strcmp(cJSON_GetStringValue(at(doc, "measurements.0.id")),
                 cJSON_GetStringValue(at(doc, "measurements.2.id"))) == 0);
    CHECK(at(doc, "measurements.2.metrics.wall_s.samples.0")->valuedouble == 100);
    CHECK(cJSON_IsFalse(at(doc, "run.merged.pooled")));
    /* The CSV tells the machine types' rows apart by a last column. */
    char csv[8192];
    csv_of(doc, csv, sizeof(csv));
    CHECK_MSG(has(csv, ",ci95_status,status,machine\n"), "%s", csv);
    CHECK_MSG(has(csv, "\ncpu/task0/go,cpu,task,go,go,wall_s,s,3,11,") &&
                  has(csv, ",n-too-small,n-too-small,m1\n") &&
                  has(csv, "\ncpu/task0/go,cpu,task,go,go,wall_s,s,3,101,") &&
                  has(csv, ",n-too-small,n-too-small,m2\n"),
              "%s", csv);
    cJSON_Delete(doc);
    /* Each machine type needs every shard: m2 without its shard 1 is refused. */
    struct spec s[] = {two_types[0], two_types[2], two_types[3]};
    CHECK(merge(s, 3, 2, 0, msg, sizeof(msg), NULL) < 0);
    CHECK_MSG(has(msg, "machine m2 (cpu B, Linux 6.1): shard 1/2 is missing"), "%s", msg);
}

TEST(pools_machine_types_with_bench_statistics)
{
    cJSON *doc = NULL;
    char msg[1024];
    CHECK_MSG(merge(two_types, 4, 2, 1, msg, sizeof(msg), &doc) == 0, "%s", msg);
    CHECK(cJSON_IsTrue(at(doc, "run.merged.pooled")));
    CHECK(cJSON_GetArraySize(at(doc, "measurements")) == 2);
    CHECK(at(doc, "measurements.0.machine") == NULL);
    const cJSON *m = at(doc, "measurements.0.metrics.wall_s");
    CHECK(cJSON_GetArraySize(at(m, "samples")) == 6);
    /* 10, 11, 12, 100, 101, 102: recomputed, not either part's. */
    CHECK(at(m, "stats.n")->valueint == 6);
    CHECK(fabs(at(m, "stats.median")->valuedouble - 56.0) < 1e-9);
    CHECK(at(m, "stats.ci95_lo") != NULL && cJSON_IsNumber(at(m, "stats.ci95_lo")));
    CHECK(strcmp(cJSON_GetStringValue(at(m, "status")), "unstable") == 0);
    CHECK(has(cJSON_GetStringValue(at(doc, "warnings.0")), "pooled (--pool)"));
    /* Control: pooled, no measurement has a machine, and the CSV has no such column. */
    char csv[8192];
    csv_of(doc, csv, sizeof(csv));
    CHECK_MSG(has(csv, ",ci95_status,status\ncpu/task0/go,cpu,task,go,go,wall_s,s,6,56,"), "%s",
              csv);
    CHECK(!has(csv, "machine"));
    cJSON_Delete(doc);
}
