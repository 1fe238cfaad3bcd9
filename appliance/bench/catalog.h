/* The catalog of the plan: every measurement `appliance bench` makes at a profile, with the
 * metrics each may hold and their units, read from the plan (bench.json), the workloads'
 * manifests and the image recipes, without building or running anything. A claims file is
 * checked against it before a run, and `reproduce` takes from it the suites, images and
 * workloads that a claims file needs. tests/integration/87-catalog.sh keeps it honest: the ids
 * and metrics of a real run are the catalog's. */
#ifndef AP_BENCH_CATALOG_H
#define AP_BENCH_CATALOG_H

#include <cjson/cJSON.h>

#include "../core/error.h"

#define AP_BENCH_CATALOG_SCHEMA "appliance-bench-catalog-1"

/* The catalog at profile (quick, standard or published) of the plan in workloads_dir
 * (images/workloads; the recipes are in its parent, images/), as a document shaped like a
 * results file's measurements: {"schema", "profile", "measurements": [{"id", "suite",
 * "workload", "image", "metrics": {NAME: {"unit"}}}]}. A metric is listed when the measurement
 * can hold it (a latency level the server did not sustain holds no percentiles). The caller
 * owns *out. Returns 0, or -1 with err naming the file that is missing or malformed. */
int ap_bench_catalog(const char *workloads_dir, const char *profile, cJSON **out, ap_error **err);

/* The suite that makes a measurement: the first word of its id (memory/task/... figures come
 * from the memory suite, which runs the cpu tasks for them; startup/service/... from the
 * startup suite). NULL for an id of no suite. A static string. */
const char *ap_bench_catalog_suite_of(const char *id);

#endif
