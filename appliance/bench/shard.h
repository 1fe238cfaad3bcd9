/* The plan's comparison groups and their partition into shards. A group is everything one
 * ratio needs, measured on one machine and interleaved as in any run: a cpu task's figures on
 * every image (task/<task>), the servers at one concurrency level (http/c<N>) or one rate
 * (latency/r<R>), ... Each group has an estimated time; `--shard I/N` runs the groups of shard
 * I of a deterministic partition into N: largest first (ties by id), each to the shard with
 * the least estimated total so far (ties: the lowest index). The partition itself is a pure
 * function of the groups (no plan, no image), so that a unit test can call it. */
#ifndef AP_BENCH_SHARD_H
#define AP_BENCH_SHARD_H

#include <stddef.h>
#include <stdio.h>

#include "../core/error.h"

#define AP_BENCH_SHARDS_MAX 64   /* N of --shard I/N at most */
#define AP_BENCH_GROUP_ID_MAX 80 /* bytes of a group id, its NUL included */
#define AP_BENCH_GROUPS_MAX 256  /* groups of one plan */

struct ap_bench_group {
    char id[AP_BENCH_GROUP_ID_MAX]; /* [a-z0-9/._-] */
    double estimate_s;
    int shard; /* set by ap_bench_partition */
};

struct ap_bench_groups {
    struct ap_bench_group v[AP_BENCH_GROUPS_MAX];
    size_t n;
};

/* "I/N" into *index and *count: decimal integers, 1 <= N <= AP_BENCH_SHARDS_MAX and
 * 0 <= I < N. Returns 0, or -1 with err saying what is wrong and what is allowed. */
int ap_bench_shard_parse(const char *text, int *index, int *count, ap_error **err);

/* Whether id is a valid group id: 1 to AP_BENCH_GROUP_ID_MAX - 1 characters of [a-z0-9/._-]. */
int ap_bench_group_id_valid(const char *id);

/* Appends the group id (printf-style) with its estimate to g (shard -1). A group given twice
 * adds its estimate to the first. -1 with err when g is full or the id is not valid. */
int ap_bench_groups_add(struct ap_bench_groups *g, double estimate_s, ap_error **err,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The group of the measurement `id` into buf (len bytes): size, lang, startup (process and
 * container starts), startup/service, task/<task> (cpu/<task>/... and memory/task/<task>/...),
 * threads, http/c<N>, latency/r<R>, memory/servers. Returns 0, or -1 for an id of no group (or
 * a group that does not fit). */
int ap_bench_group_of(const char *id, char *buf, size_t len);

/* The partition of g into count shards (1 <= count <= AP_BENCH_SHARDS_MAX): g sorted by
 * estimate, largest first, ties by id; each group's shard set to the shard with the least
 * total so far, ties to the lowest index; totals[0..count) get each shard's estimated total.
 * The same groups always give the same partition. */
void ap_bench_partition(struct ap_bench_groups *g, int count, double *totals);

/* The partition of g (ap_bench_partition done) printed: the plan's digest (when not NULL), the
 * total, then each shard with its estimate, its ratio to total / count and its groups; an
 * empty shard says so. index >= 0 marks the shard this run is. */
void ap_bench_partition_print(FILE *out, const struct ap_bench_groups *g, int count, int index,
                              const double *totals, const char *plan_sha256);

/* ---- with a loaded plan (struct ap_bench, runner.h) ------------------------------------------ */

struct ap_bench;

/* The groups the plan runs with these suites (its images, --images and --only as loaded), in
 * the order the suites run them, each with its estimated seconds. -1 with err. */
int ap_bench_groups_list(struct ap_bench *b, unsigned suites, struct ap_bench_groups *g,
                         ap_error **err);

/* The plan's digest, 64 lowercase hex into hex (65 bytes): the path and sha256 of every file
 * under the workloads folder (sorted by path), the profile, the suites, repeat, warmup, --only
 * and the sorted names of the images loaded. The same checkout and options give the same
 * digest on every node; the shard is not part of it. -1 with err when a file cannot be read. */
int ap_bench_plan_digest(const struct ap_bench *b, char *hex, ap_error **err);

/* The plan's groups into b->groups, partitioned into the run's shards (one when not sharded;
 * b->shard_totals), and its digest into b->plan_sha256. -1 with err. */
int ap_bench_shard_plan(struct ap_bench *b, ap_error **err);

/* Into the results document b->doc: run.plan_sha256 and, for a sharded run, run.shard (its
 * index, count, sorted groups and estimate); a shard without a group says so in the warnings. */
void ap_bench_shard_record(struct ap_bench *b);

/* Whether this run measures the group `id`: always when not sharded, else when the group is in
 * its shard (b->groups partitioned). */
int ap_bench_in_shard(const struct ap_bench *b, const char *id);

#endif
