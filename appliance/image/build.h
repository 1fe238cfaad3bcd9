/* Building an image: recipe + lock -> fetched, verified packages -> root tree -> one
 * deterministic layer -> OCI layout. Results are cached by a digest of every input. */
#ifndef AP_IMAGE_BUILD_H
#define AP_IMAGE_BUILD_H

#include <stdint.h>

#include "../core/error.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "fetch.h"
#include "layer.h"

struct ap_build_opts {
    const char *images_dir; /* holds <name>/image.json and <name>/lock.json */
    const char *out_dir;    /* layouts go to <out_dir>/<name> */
    const char *cache_dir;  /* downloads and build results */
    struct ap_fetch *fetch;
    int no_build_cache; /* rebuild the layer even when a cached one matches */
    int depth;          /* builders built on the way to this image */
};

struct ap_build_result {
    char manifest_digest[AP_SHA256_HEX_LEN + 1];
    char build_key[AP_SHA256_HEX_LEN + 1];
    struct ap_layer_stats layer;                      /* the packages' layer */
    size_t layers;                                    /* with one per stage */
    uint64_t compressed_bytes, unpacked_bytes, files; /* all layers */
    size_t packages;
    int from_cache;
    double seconds;
};

/* Builds image `name`. On success the layout at <out_dir>/<name> is complete and r is filled. */
int ap_image_build(const struct ap_build_opts *o, const char *name, struct ap_build_result *r,
                   ap_error **err);

/* Unpacks one fetched .deb (checked against its pin by the caller) into rootfd and appends
 * its control paragraph, marked installed, to *status (heap, grown as needed). */
int ap_image_unpack_deb(int rootfd, const char *deb_path, const char *label, char **status,
                        size_t *status_len, ap_error **err);

/* Loads a cached layer's statistics from dir/stats.json and checks dir/layer.tar.gz against
 * them. */
int ap_image_cached_layer(const char *dir, struct ap_layer_stats *s, ap_error **err);

/* Packs the tree at root (then removed) into work/layer.tar.gz with work/stats.json, and
 * renames work to final_dir, so a cached layer appears only complete. */
int ap_image_pack_tree(const char *root, int64_t mtime, const char *work, const char *final_dir,
                       struct ap_layer_stats *s, ap_error **err);

struct ap_recipe;
struct ap_recipe_stage;
struct ap_oci_layer;

/* What a stage whose builder is "self" runs on: the image's layers before that stage (the
 * packages' and the earlier stages'), with the recipe's environment and working directory.
 * lock_sha256, build_key and packages describe the packages' layer. */
struct ap_stage_base {
    const struct ap_oci_layer *layers;
    size_t n_layers;
    const char *lock_sha256, *build_key;
    size_t packages;
};

/* Runs one build stage of recipe r unless a layer for the same inputs is cached, and returns
 * that layer's path and statistics. A named builder image is built first; builder "self" is
 * `base`, made a layout of its own whose manifest digest stands for the builder's. The
 * stage's inputs are added to `annotations` as "appliance.stage.<name>.*" strings. */
int ap_image_run_stage(const struct ap_build_opts *o, const struct ap_recipe *r,
                       const struct ap_recipe_stage *st, const struct ap_stage_base *base,
                       char *layer_path, size_t len, struct ap_layer_stats *stats,
                       cJSON *annotations, int *from_cache, ap_error **err);

#endif
