/* The layer cache: a built layer lives in a folder of its own under the cache, named by a
 * digest of every input, as layer.tar.gz with stats.json beside it. The packages' layer
 * (build.c) and each stage's (stage.c) are stored and found the same way. */
#ifndef AP_IMAGE_CACHE_H
#define AP_IMAGE_CACHE_H

#include <stdint.h>

#include "../core/error.h"
#include "layer.h"

/* Loads a cached layer's statistics from dir/stats.json and checks dir/layer.tar.gz against
 * them (its sha256 and size). */
int ap_image_cached_layer(const char *dir, struct ap_layer_stats *s, ap_error **err);

/* Packs the tree at root (then removed) into work/layer.tar.gz with work/stats.json, and
 * renames work to final_dir, so a cached layer appears only complete. */
int ap_image_pack_tree(const char *root, int64_t mtime, const char *work, const char *final_dir,
                       struct ap_layer_stats *s, ap_error **err);

#endif
