/* Build stages: a command run in a builder image through the sandbox (or files copied out of
 * it), whose output becomes a layer, cached by a digest of every input. The caller builds or
 * lays out the builder first: a stage never builds an image. */
#ifndef AP_IMAGE_STAGE_H
#define AP_IMAGE_STAGE_H

#include <stddef.h>

#include "../core/error.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "fetch.h"
#include "layer.h"
#include "recipe.h"

struct ap_stage_opts {
    const char *images_dir; /* stage sources are relative to the folder that holds it */
    const char *cache_dir;  /* stage layers (stages/), unpacked builders (rootfs/) */
    struct ap_fetch *fetch; /* the stage's pinned downloads */
    int no_build_cache;     /* run the stage even when a cached layer matches */
};

/* The image a stage runs in, complete before the stage starts: an OCI layout and its
 * manifest digest (hex), which is one of the stage's inputs. Both borrowed. */
struct ap_stage_builder {
    const char *layout;
    const char *digest;
};

/* Runs stage st of recipe r in builder b unless a layer for the same inputs is cached, and
 * returns that layer's path (layer_path, len bytes) and statistics. The stage's inputs are
 * added to `annotations` as "appliance.stage.<name>.*" strings. */
int ap_image_run_stage(const struct ap_stage_opts *o, const struct ap_recipe *r,
                       const struct ap_recipe_stage *st, const struct ap_stage_builder *b,
                       char *layer_path, size_t len, struct ap_layer_stats *stats,
                       cJSON *annotations, int *from_cache, ap_error **err)
    __attribute__((warn_unused_result));

#endif
