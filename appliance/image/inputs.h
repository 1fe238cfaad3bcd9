/* A run's pinned inputs, as image/ knows them: for each image the run measured, its built
 * layout, its recipe and lock (and those of the builders its stages ran in), the tree files
 * and stage sources they name, and every pinned download in the cache. A result archive
 * packs this list (bundle/ knows no recipe: it packs the files it is handed). */
#ifndef AP_IMAGE_INPUTS_H
#define AP_IMAGE_INPUTS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"
#include "../core/hash.h"

#define AP_IMAGE_INPUTS_MAX_IMAGES 256
/* "sha256:" and 64 hex digits, with the NUL. */
#define AP_IMAGE_DIGEST_LEN (7 + AP_SHA256_HEX_LEN + 1)
/* ap_image_input.size of a file pinned by its digest only. */
#define AP_IMAGE_INPUT_ANY_SIZE UINT64_MAX

/* An image a run measured, as the run recorded it. Strings borrowed. */
struct ap_image_used {
    const char *name;        /* a folder under images/ (checked by the caller) */
    const char *digest;      /* "sha256:<hex>", the manifest the run measured */
    const char *lock_sha256; /* "sha256:<hex>" of the lock it used; NULL or "" for none */
};

/* One input file. */
struct ap_image_input {
    char *name;                         /* where it belongs, relative: images/<image>/<layout file>,
                                           recipes/<image>/<file>, sources/<tree path>, blobs/sha256/<hex> */
    char *path;                         /* the file now */
    char sha256[AP_SHA256_HEX_LEN + 1]; /* the digest it must have, or "" */
    uint64_t size;                      /* the size it must have, or AP_IMAGE_INPUT_ANY_SIZE */
    char *label;        /* what to call a pinned download ("golang-1.23-go 1.23.5-1 (go-1.23)") */
    char *pinned_by;    /* who pins it, for messages ("the lock", "its name"), or NULL */
    char *missing_hint; /* what to do when the file is missing, or NULL */
    char *damaged_hint; /* what to do when it differs from its pin, or NULL */
};

struct ap_image_inputs_opts {
    const char *images_dir;  /* recipes and locks (images/) */
    const char *layouts_dir; /* built layouts (build/images) */
    const char *cache_dir;   /* downloads (blobs/sha256/...) */
    int with_files;          /* list the files; else only the locks' digests */
};

/* What ap_image_inputs found; zero-initialise, free with ap_image_inputs_free(). */
struct ap_image_inputs {
    /* The sha256 of images/<name>/lock.json as the tree holds it now ("sha256:<hex>", or ""
     * when there is none), one per image, in the order given. */
    char (*lock_sha256)[AP_IMAGE_DIGEST_LEN];
    struct ap_image_input *v; /* with_files: every input file */
    size_t n, cap;
    /* with_files: {"layouts": {name: digest}, "recipes": [names], "sources": [tree paths],
     * "blobs": [{"sha256", "size", "filename"}]}, sorted; else NULL. */
    cJSON *desc;
};

/* Lists the inputs of a run that measured images[0..n) (names unique). Each image's lock in
 * the tree is compared with the one the run used: a difference is an error when with_files
 * (the files would not be the run's inputs), else a warning. With with_files, each layout
 * must be there and hold the manifest the run measured, every recipe and lock must parse,
 * and symbolic links or special files in a layout or a source folder are refused; the files
 * themselves are not read (their pins are checked by whoever reads them). */
int ap_image_inputs(const struct ap_image_inputs_opts *o, const struct ap_image_used *images,
                    size_t n, struct ap_image_inputs *out, ap_error **err);

void ap_image_inputs_free(struct ap_image_inputs *in);

#endif
