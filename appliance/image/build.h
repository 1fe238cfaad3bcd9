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

#endif
