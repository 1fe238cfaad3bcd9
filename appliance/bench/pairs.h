/* The size suite's pairs: a Go image and a Python image that ship the same thing (hello world,
 * a JSON server), compared by their sizes. bench.json lists them ("size_pairs"); the size suite
 * measures each image once and derives each pair's figures from those measurements. Pure: no
 * I/O. */
#ifndef AP_BENCH_PAIRS_H
#define AP_BENCH_PAIRS_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

#define AP_SIZE_PAIRS_MAX 32
#define AP_SIZE_PAIR_LABEL_MAX 48

/* One pair, its strings pointing into the plan. */
struct ap_size_pair {
    const char *label;  /* "net/http vs FastAPI" */
    const char *go;     /* a Go image of plan.images.size */
    const char *python; /* a Python image of plan.images.size */
    const char *why;    /* why these two ship the same thing */
};

/* The language of an image by the plan's naming rule: "go" for a name that starts with "go",
 * else "python". A static string. */
const char *ap_bench_image_language(const char *name);

/* Reads plan.size_pairs into pairs (at most max; AP_SIZE_PAIRS_MAX is plenty): an array of
 * {"label", "go", "python", "why"}, every field a string; the label 1 to
 * AP_SIZE_PAIR_LABEL_MAX printable ASCII characters and used once; "go" a Go image and "python"
 * a Python image (ap_bench_image_language), both listed in plan.images.size. No list gives no
 * pair. `what` names the plan in errors ("images/workloads/bench.json"). Returns the number of
 * pairs, or -1 with err naming the entry and the field. */
int ap_size_pairs_parse(const cJSON *plan, const char *what, struct ap_size_pair *pairs, size_t max,
                        ap_error **err);

/* A pair's entry of results.json's "size_pairs", owned by the caller: its label, images and
 * why, the ids of the two measurements (go_m and py_m, size/image/<image>) and, for each of
 * compressed_bytes and unpacked_bytes, {"go", "python": the medians, "ratio": python / go,
 * "status"}: the ratio is a number only when both figures are ok, else null with "no_ratio"
 * saying why (ap_status_ratio_refused), and the status the worse of the two. A metric either
 * measurement lacks is left out. NULL when out of memory. */
cJSON *ap_size_pair_figures(const struct ap_size_pair *p, const cJSON *go_m, const cJSON *py_m);

/* The metrics ap_size_pair_figures compares, NULL-terminated. */
extern const char *const ap_size_pair_metrics[];

#endif
