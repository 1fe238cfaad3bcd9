/* The plan's groups and their partition into shards (bench/shard.c): --shard I/N parsed, group
 * ids of measurement ids, and the partition: every group in exactly one shard, the same for the
 * same groups in any order, balanced, ties by id and by the lowest index, empty shards said. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/shard.h"
#include "core/error.h"
#include "test.h"

/* ---- --shard I/N ----------------------------------------------------------------------------- */

TEST(shard_parse_accepts_i_of_n)
{
    int i = -1, n = -1;
    ap_error *err = NULL;
    CHECK(ap_bench_shard_parse("0/1", &i, &n, &err) == 0 && i == 0 && n == 1);
    CHECK(ap_bench_shard_parse("3/4", &i, &n, &err) == 0 && i == 3 && n == 4);
    CHECK(ap_bench_shard_parse("63/64", &i, &n, &err) == 0 && i == 63 && n == 64);
    CHECK(err == NULL);
}

/* Each bad value is refused with a message that says what is wrong (want in it) and a hint. */
static void refused(const char *text, const char *want)
{
    int i = 7, n = 7;
    ap_error *err = NULL;
    int rc = ap_bench_shard_parse(text, &i, &n, &err);
    CHECK_MSG(rc == -1 && err != NULL, "'%s' accepted", text);
    if (err == NULL)
        return;
    CHECK_MSG(strstr(err->msg, want) != NULL, "'%s': %s", text, err->msg);
    CHECK_MSG(strstr(err->msg, "Hint:") != NULL, "'%s': no hint in %s", text, err->msg);
    CHECK(i == 7 && n == 7); /* untouched */
    ap_error_release(&err);
}

TEST(shard_parse_refuses_bad_values)
{
    refused("5/3", "the index 5 is not below the count 3");
    refused("3/3", "the index 3 is not below the count 3");
    refused("-1/2", "is not I/N");
    refused("0/0", "the count 0 is not between 1 and 64");
    refused("0/65", "the count 65 is not between 1 and 64");
    refused("1/2x", "is not I/N");
    refused("1", "is not I/N");
    refused("", "is not I/N");
    refused("/2", "is not I/N");
    refused(" 1/2", "is not I/N");
    refused("+1/2", "is not I/N");
    refused("1/2/3", "is not I/N");
    refused("99999999999/2", "is not I/N");
}

/* ---- group ids ------------------------------------------------------------------------------ */

static void group_is(const char *id, const char *want)
{
    char g[AP_BENCH_GROUP_ID_MAX] = "";
    int rc = ap_bench_group_of(id, g, sizeof(g));
    if (want == NULL)
        CHECK_MSG(rc == -1, "%s has group %s", id, g);
    else
        CHECK_MSG(rc == 0 && strcmp(g, want) == 0, "%s: group '%s' (rc %d), want %s", id, g, rc,
                  want);
}

TEST(group_of_measurement_ids)
{
    group_is("size/image/go-1.23-hello", "size");
    group_is("size/binary/go-1.23-hello/hello", "size");
    group_is("lang/version/python-3.13", "lang");
    group_is("startup/process/python-3.13/hello", "startup");
    group_is("startup/container/go-1.23-static/hello-stripped", "startup");
    group_is("startup/service/go-gin-json", "startup/service");
    group_is("cpu/nbody/python-3.13-jit", "task/nbody");
    group_is("memory/task/nbody/go-1.23-static", "task/nbody");
    group_is("threads/threads/python-3.13t/w8", "threads");
    group_is("http/python-flask-json/c256", "http/c256");
    group_is("latency/go-chi-json/r5000", "latency/r5000");
    group_is("memory/server/python-django-json", "memory/servers");
    /* Control: ids of no suite, or of the wrong shape, have no group. */
    group_is("nosuch/thing", NULL);
    group_is("cpu/", NULL);
    group_is("http/go-gin-json", NULL);
    group_is("http/go-gin-json/c256/extra", NULL);
    group_is("http/go-gin-json/C256", NULL); /* not a group id's characters */
    char small[6];
    CHECK(ap_bench_group_of("cpu/nbody/x", small, sizeof(small)) == -1); /* does not fit */
}

TEST(groups_add_merges_and_refuses_bad_ids)
{
    static struct ap_bench_groups g;
    g.n = 0;
    ap_error *err = NULL;
    CHECK(ap_bench_groups_add(&g, 2, &err, "task/%s", "nbody") == 0);
    CHECK(ap_bench_groups_add(&g, 3, &err, "task/nbody") == 0);
    CHECK(g.n == 1 && g.v[0].estimate_s == 5 && g.v[0].shard == -1);
    CHECK(ap_bench_groups_add(&g, 1, &err, "Task/Upper") == -1 && err != NULL);
    ap_error_release(&err);
    CHECK(ap_bench_groups_add(&g, 1, &err, "%s", "") == -1 && err != NULL);
    ap_error_release(&err);
    CHECK(g.n == 1);
    g.n = AP_BENCH_GROUPS_MAX;
    CHECK(ap_bench_groups_add(&g, 1, &err, "one-too-many") == -1 && err != NULL &&
          strstr(err->msg, "more than") != NULL);
    ap_error_release(&err);
}

/* ---- the partition -------------------------------------------------------------------------- */

static struct ap_bench_groups *make(size_t n, const double *est)
{
    struct ap_bench_groups *g = calloc(1, sizeof(*g));
    ap_error *err = NULL;
    for (size_t i = 0; i < n; i++)
        if (ap_bench_groups_add(g, est[i], &err, "g%03zu", i) < 0)
            ap_error_release(&err);
    return g;
}

/* The shard of group id in g, or -2 when it is not there. */
static int shard_of(const struct ap_bench_groups *g, const char *id)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].id, id) == 0)
            return g->v[i].shard;
    return -2;
}

/* Every group in exactly one shard in [0, count), the totals their sums. */
static void check_whole(const struct ap_bench_groups *g, int count, const double *totals,
                        size_t want_n)
{
    CHECK(g->n == want_n);
    double sum[AP_BENCH_SHARDS_MAX] = {0};
    for (size_t i = 0; i < g->n; i++) {
        CHECK_MSG(g->v[i].shard >= 0 && g->v[i].shard < count, "%s in shard %d", g->v[i].id,
                  g->v[i].shard);
        if (g->v[i].shard >= 0 && g->v[i].shard < count)
            sum[g->v[i].shard] += g->v[i].estimate_s;
        int twice = 0;
        for (size_t j = 0; j < i; j++)
            twice |= strcmp(g->v[i].id, g->v[j].id) == 0;
        CHECK_MSG(!twice, "%s twice", g->v[i].id);
    }
    for (int s = 0; s < count; s++)
        CHECK_MSG(fabs(sum[s] - totals[s]) < 1e-9, "shard %d: total %g, its groups %g", s,
                  totals[s], sum[s]);
}

/* A fixed pseudo-random sequence (no libc rand: the same on every libc). */
static double next(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return 1 + (double)((*state >> 8) % 1000) / 10.0; /* 1.0 to 100.9 */
}

TEST(partition_every_group_once_and_deterministic)
{
    enum { N = 60 };
    double est[N];
    unsigned st = 42;
    for (size_t i = 0; i < N; i++)
        est[i] = next(&st);
    for (int count = 1; count <= 16; count *= 2) {
        struct ap_bench_groups *a = make(N, est);
        double ta[AP_BENCH_SHARDS_MAX], tb[AP_BENCH_SHARDS_MAX];
        ap_bench_partition(a, count, ta);
        check_whole(a, count, ta, N);
        /* The same groups listed in another order: the same partition. */
        double rev[N];
        for (size_t i = 0; i < N; i++)
            rev[i] = est[N - 1 - i];
        struct ap_bench_groups *b = calloc(1, sizeof(*b));
        ap_error *err = NULL;
        for (size_t i = 0; i < N; i++)
            ap_bench_groups_add(b, rev[i], &err, "g%03zu", N - 1 - i);
        ap_bench_partition(b, count, tb);
        int same = 1;
        for (size_t i = 0; i < N; i++)
            same &= shard_of(a, a->v[i].id) == shard_of(b, a->v[i].id);
        CHECK_MSG(same, "%d shards: another order of the same groups, another partition", count);
        CHECK(memcmp(ta, tb, sizeof(double) * (size_t)count) == 0);
        free(a);
        free(b);
    }
}

/* The largest shard against total / count: within 10 % when no group is larger than that,
 * else the largest group alone. */
static void check_balance(const double *est, size_t n, int count)
{
    struct ap_bench_groups *g = make(n, est);
    double t[AP_BENCH_SHARDS_MAX], total = 0, biggest = 0, largest = 0;
    ap_bench_partition(g, count, t);
    check_whole(g, count, t, n);
    for (size_t i = 0; i < n; i++) {
        total += est[i];
        biggest = est[i] > biggest ? est[i] : biggest;
    }
    for (int s = 0; s < count; s++)
        largest = t[s] > largest ? t[s] : largest;
    double fair = total / count;
    if (biggest <= fair)
        CHECK_MSG(largest <= 1.10 * fair, "%zu groups in %d: largest shard %.1f, total/N %.1f", n,
                  count, largest, fair);
    else
        CHECK_MSG(largest == biggest, "%zu groups in %d: largest shard %.1f, largest group %.1f", n,
                  count, largest, biggest);
    free(g);
}

TEST(partition_is_balanced)
{
    enum { N = 60 };
    double est[N];
    unsigned st = 7;
    for (size_t i = 0; i < N; i++)
        est[i] = next(&st);
    for (int count = 1; count <= 16; count++)
        check_balance(est, N, count);
    /* One group larger than total / N: the largest shard is that group, alone. */
    double skew[] = {500, 40, 30, 30, 20, 20, 10, 10, 5, 5};
    for (int count = 2; count <= 8; count++)
        check_balance(skew, sizeof(skew) / sizeof(skew[0]), count);
    struct ap_bench_groups *g = make(10, skew);
    double t[AP_BENCH_SHARDS_MAX];
    ap_bench_partition(g, 4, t);
    CHECK(shard_of(g, "g000") == 0 && t[0] == 500);
    free(g);
}

TEST(partition_ties)
{
    /* Equal estimates: by id, each to the lowest index of the equally loaded shards. */
    static struct ap_bench_groups g;
    g.n = 0;
    ap_error *err = NULL;
    const char *ids[] = {"task/c", "task/a", "task/b", "task/d"};
    for (size_t i = 0; i < 4; i++)
        ap_bench_groups_add(&g, 10, &err, "%s", ids[i]);
    double t[AP_BENCH_SHARDS_MAX];
    ap_bench_partition(&g, 3, t);
    CHECK(strcmp(g.v[0].id, "task/a") == 0 && strcmp(g.v[3].id, "task/d") == 0);
    CHECK(shard_of(&g, "task/a") == 0);
    CHECK(shard_of(&g, "task/b") == 1);
    CHECK(shard_of(&g, "task/c") == 2);
    CHECK(shard_of(&g, "task/d") == 0); /* all three at 10: the lowest index */
    CHECK(t[0] == 20 && t[1] == 10 && t[2] == 10);
    /* Control: a larger estimate goes first, whatever its id. */
    g.n = 0;
    ap_bench_groups_add(&g, 1, &err, "a");
    ap_bench_groups_add(&g, 2, &err, "z");
    ap_bench_partition(&g, 2, t);
    CHECK(shard_of(&g, "z") == 0 && shard_of(&g, "a") == 1);
}

TEST(more_shards_than_groups)
{
    double est[] = {30, 20};
    struct ap_bench_groups *g = make(2, est);
    double t[AP_BENCH_SHARDS_MAX];
    ap_bench_partition(g, 4, t);
    check_whole(g, 4, t, 2);
    CHECK(t[0] == 30 && t[1] == 20 && t[2] == 0 && t[3] == 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!CHECK(f != NULL))
        return;
    ap_bench_partition_print(f, g, 4, 3, t, NULL);
    fclose(f);
    /* Both empty shards say so; the one this run is is marked. */
    const char *p = text;
    int said = 0;
    while ((p = strstr(p, "no group: 4 shards for 2 groups")) != NULL) {
        said++;
        p++;
    }
    CHECK_MSG(said == 2, "%d empty shards said in:\n%s", said, text);
    CHECK(strstr(text, "shard 3/4 estimated 0 s") != NULL);
    const char *mine = strstr(text, "(this run)");
    const char *line3 = strstr(text, "shard 3/4");
    CHECK_MSG(mine != NULL && line3 != NULL && mine > line3 &&
                  memchr(line3, '\n', (size_t)(mine - line3)) == NULL,
              "shard 3/4 is not the one marked in:\n%s", text);
    CHECK(mine != NULL && strstr(mine + 1, "(this run)") == NULL);
    CHECK(strstr(text, "total 2 groups, estimated 50 s") != NULL);
    CHECK(strstr(text, "  g000") != NULL && strstr(text, "  g001") != NULL);
    /* Control: two shards for two groups, none empty. */
    ap_bench_partition(g, 2, t);
    free(text);
    text = NULL;
    f = open_memstream(&text, &len);
    if (!CHECK(f != NULL))
        return;
    ap_bench_partition_print(f, g, 2, -1, t, NULL);
    fclose(f);
    CHECK(strstr(text, "no group") == NULL && strstr(text, "(this run)") == NULL);
    free(text);
    free(g);
}
