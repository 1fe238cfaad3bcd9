/* The results file `appliance bench` writes (results.json): its schema names, its size limit
 * and the structural check every reader (pack, verify, compare, rerun) applies. The bench
 * writes the format, so the bench owns it. */
#ifndef AP_BENCH_RESULTS_H
#define AP_BENCH_RESULTS_H

#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

/* The schema id of the results file bench writes (appliance/bench/results.schema.json). Readers
 * (compare, rerun, pack, verify) also take the one before it, AP_RESULTS_SCHEMA_1
 * (results-1.schema.json). The two differ only in a metric's statistics, which those readers
 * do not use: version 1 has a percentile-bootstrap interval of the median and numbers
 * throughout; version 2 the order-statistic interval with its coverage, and null where a
 * figure is undefined (the interval below n = 6, the spread at n = 1). Version 2 files written
 * since every metric has a status carry it on each metric, with the flags of its samples and
 * stats null when every sample was left out as noisy (status.h); older ones have none. */
#define AP_RESULTS_SCHEMA "appliance-results-2"
#define AP_RESULTS_SCHEMA_1 "appliance-results-1"

/* The largest results.json a reader takes, from a run directory, a file or an archive. */
#define AP_RESULTS_MAX (UINT64_C(512) << 20)

/* Characters in a run id (run.id). */
#define AP_RESULTS_RUN_ID_MAX 128

/* 1 when id (NULL: 0) names a results schema this version reads: AP_RESULTS_SCHEMA or
 * AP_RESULTS_SCHEMA_1; else 0. */
int ap_bench_results_schema_known(const char *id);

/* True when id is a usable run id (also an archive's file name): 1 to AP_RESULTS_RUN_ID_MAX
 * characters of [A-Za-z0-9._-], starting with a letter or digit. */
int ap_bench_results_run_id_valid(const char *id);

/* Parses a UTC time written as "YYYY-MM-DDTHH:MM:SSZ" (run.started, run.ended) into seconds
 * since the epoch. Returns 0, or -1 when s is not exactly that. */
int ap_bench_results_parse_time(const char *s, int64_t *out);

/* Checks a results document's structure: an object with "schema" AP_RESULTS_SCHEMA or
 * AP_RESULTS_SCHEMA_1 and the required top-level members ("run", "plan", "environment"
 * objects; "warnings", "measurements" arrays); run.id, when present, a valid run id (copied
 * into run_id, else run_id gets ""); run.started and run.ended, when present and not null,
 * times; run.plan_sha256, when present, 64 lowercase hex; run.shard, when present, {index, count,
 * groups} with 0 <= index < count <= AP_BENCH_SHARDS_MAX, group ids as bench/shard.h's, and
 * run.plan_sha256 beside it; a measurement's group, when present, a group id. run_id holds
 * AP_RESULTS_RUN_ID_MAX + 1 bytes. Messages start "results.json". */
int ap_bench_results_check(const cJSON *results, char *run_id, ap_error **err);

/* Recomputes the statistics, status and warning of every metric of every measurement of a
 * results document from its samples and flags, as bench does each time it saves: under
 * run.include_noisy, exact for counted figures, and with the cpu suite's stricter
 * repeatability when environment.memory_latency's verdict is "shared". The one implementation
 * of the statistics, for readers that change samples (appliance merge --pool pools them). */
void ap_bench_results_restat(cJSON *results);

/* Writes path (atomically) as CSV: a header, then one row per measurement and metric that has
 * statistics (id, suite, workload, image, language, metric, unit, n, median, min, max, mad, cv,
 * ci95_lo, ci95_hi, unstable, ci95_coverage, ci95_status, status); undefined statistics are
 * empty fields. Results whose measurements carry a machine (appliance merge of several machine
 * types, unpooled) add a last column, machine. */
int ap_bench_results_csv(const cJSON *results, const char *path, ap_error **err);

#endif
