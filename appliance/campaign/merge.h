/* Merging the parts of a sharded campaign: signed archives of `bench --shard I/N` runs of one
 * plan, made on one or several machines, into one results document whose provenance lists
 * every part. Reading a part verifies it as `appliance verify` does, against a set of trusted
 * keys; the checks and the building of the merged document are pure functions of the parts'
 * documents. Measurements of different machine types (CPU model and kernel) are kept apart
 * unless the caller pools them, and then bench's own statistics are recomputed. */
#ifndef AP_CAMPAIGN_MERGE_H
#define AP_CAMPAIGN_MERGE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../bundle/minisign.h"
#include "../core/error.h"
#include "../core/hash.h"

/* The most shards a plan is split into (bench --shard I/N: 1 <= N <= 64), and the most parts
 * one merge takes (every shard on up to 16 machine types). */
#define AP_MERGE_SHARDS_MAX 64
#define AP_MERGE_PARTS_MAX (AP_MERGE_SHARDS_MAX * 16)
/* The most trusted keys a --trusted-keys file holds. */
#define AP_MERGE_KEYS_MAX 256
/* The largest part archive read (whole, into memory, so that what is merged is exactly what
 * was signed). */
#define AP_MERGE_PART_MAX (UINT64_C(1) << 30)

/* One part. ap_merge_read_part fills name, sha256, results and claims; ap_merge_check the rest
 * (pointers into results). Free with ap_merge_part_free. */
struct ap_merge_part {
    char *name; /* the archive's file name, without its folder */
    char sha256[AP_SHA256_HEX_LEN + 1];
    cJSON *results;
    char *claims; /* the member claims.json, or NULL */
    size_t claims_len;
    /* From ap_merge_check: */
    int shard, count;
    const char *host, *run_id, *plan;
    size_t machine; /* 1-based: environment.machines' "m<machine>" */
};

void ap_merge_part_free(struct ap_merge_part *p);

/* Reads the part archive at path: its signature (path.minisig) must be made by one of
 * keys[0..n_keys) (keys_path names where they came from, for the message), and the archive
 * must pass ap_verify_archive; then its bytes are read once, checked against the signed
 * sha256, and its results.json and claims.json are taken from that walk. A part signed by a
 * key not among them is refused naming the part and the key id. */
int ap_merge_read_part(const char *path, const struct ap_minisign_pk *keys, size_t n_keys,
                       const char *keys_path, struct ap_merge_part *p, ap_error **err);

struct ap_merge_opts {
    int expect;          /* --expect N: the shard count every part must carry */
    int pool;            /* --pool: pool the measurements of different machine types */
    const char *command; /* the merged run's run.command */
};

/* Checks that parts[0..n) make one campaign, and refuses, naming the part(s) and saying how to
 * fix it: a part that is an incomplete run (run.complete false) or not sharded (no run.shard);
 * a shard count other than o->expect; another plan_sha256, other image digests or another
 * include_noisy than the first part's; for each machine type (environment.cpu_model and
 * kernel) a shard index given twice or missing; a measurement id in two parts of one machine
 * type. On success sorts parts by machine type (CPU model, then kernel), then shard, and fills
 * each part's fields; *n_machines is the number of machine types. */
int ap_merge_check(struct ap_merge_part *parts, size_t n, const struct ap_merge_opts *o,
                   size_t *n_machines, ap_error **err);

/* The merged results document of parts checked by ap_merge_check (caller owns *out): a new
 * run.id; run.merged with every part's provenance; the first part's environment with
 * environment.machines; every part's measurements with their shard and host (and their
 * machine when there are two or more machine types and o->pool is 0); with o->pool, the
 * measurements of one id pooled into one (samples, flags, runs and warnings concatenated) and
 * every statistic recomputed by bench (ap_bench_results_restat). The parts' warnings are kept,
 * each prefixed with its shard and host. */
int ap_merge_build(const struct ap_merge_part *parts, size_t n, size_t n_machines,
                   const struct ap_merge_opts *o, cJSON **out, ap_error **err);

#endif
