/* The measurement engine: `appliance bench` runs the suites of a profile against the built
 * images, each measured run in a fresh sandbox, and writes every raw sample with its
 * statistics and the environment to a results file. */
#ifndef AP_BENCH_BENCH_H
#define AP_BENCH_BENCH_H

#include <stddef.h>
#include <stdio.h>

#include "../core/error.h"
#include "results.h"

enum ap_bench_suite {
    AP_SUITE_SIZE = 1 << 0,
    AP_SUITE_STARTUP = 1 << 1,
    AP_SUITE_MEMORY = 1 << 2,
    AP_SUITE_CPU = 1 << 3,
    AP_SUITE_HTTP = 1 << 4,
    AP_SUITE_LATENCY = 1 << 5,
    AP_SUITE_THREADS = 1 << 6,
    AP_SUITE_LANG = 1 << 7,
    AP_SUITE_ALL = (1 << 8) - 1,
};

#define AP_BENCH_MAX_IMAGES 32

struct ap_bench_opts {
    const char *images_dir;    /* image recipes (images/) */
    const char *workloads_dir; /* images/workloads: manifests, programs, bench.json */
    const char *out_dir;       /* built layouts */
    const char *cache_dir;
    unsigned suites;                         /* AP_SUITE_* bits */
    const char *profile;                     /* quick, standard or published */
    int repeat;                              /* 0: the profile's */
    int warmup;                              /* -1: the profile's */
    const char *images[AP_BENCH_MAX_IMAGES]; /* only these images (none: every one) */
    size_t n_images;
    const char *only;          /* only workloads whose name contains this (NULL: all) */
    const char *results_path;  /* results.json (written after every sample) */
    const char *csv_path;      /* NULL: no CSV */
    int resume;                /* keep the samples already in results_path */
    int allow_noisy;           /* record noise and go on instead of refusing */
    int include_noisy;         /* count the samples flagged noisy in the statistics */
    const char *workload_cpus; /* NULL: the upper half of the cores we may use */
    const char *load_cpus;     /* NULL: the lower half (bench/topology.h) */
    const char *commandline;   /* recorded in the results */
    int quiet;
    /* --shard I/N: only the groups of shard shard_index of the plan's partition into
     * shard_count (bench/shard.h); shard_count 0: not sharded, every group. */
    int shard_index, shard_count;
};

/* Runs the plan; the results file is complete when it returns 0. On an error or an interrupt
 * the file holds every finished sample (marked incomplete) and --resume continues it.
 * Returns -1 with err, or -2 when interrupted by SIGINT/SIGTERM. */
int ap_bench_run(const struct ap_bench_opts *o, ap_error **err);

/* --dry-run: the plan of o loaded (images by name; nothing built is needed, nothing runs), and
 * its partition into o's shards (one when not sharded) printed on out: the plan's digest, the
 * total estimate, each shard's estimate and groups. -1 with err. */
int ap_bench_dry_run(const struct ap_bench_opts *o, FILE *out, ap_error **err);

/* The name of one AP_SUITE_* bit ("cpu"), or NULL. A static string. */
const char *ap_bench_suite_name(unsigned bit);
/* The bit of the suite named by the len bytes at name, or 0 for none. */
unsigned ap_bench_suite_bit(const char *name, size_t len);

/* "size,cpu" into AP_SUITE_* bits; -1 with err naming the unknown suite. */
int ap_bench_parse_suites(const char *list, unsigned *out, ap_error **err);

#endif
