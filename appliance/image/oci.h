/* OCI image layouts (image-spec v1.1): writing ours and reading any single-manifest one. */
#ifndef AP_IMAGE_OCI_H
#define AP_IMAGE_OCI_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "layer.h"
#include "recipe.h"

#define AP_OCI_MAX_LAYERS 64

/* One layer of an image: its compressed file (linked or copied into the layout). */
struct ap_oci_layer {
    const char *path;
    const struct ap_layer_stats *stats;
    const char *created_by; /* the history entry */
};

/* What goes into an image. */
struct ap_oci_spec {
    const struct ap_recipe *recipe;
    const struct ap_oci_layer *layers;
    size_t n_layers;
    const char *lock_sha256, *recipe_sha256, *build_key;
    size_t packages;
    const cJSON *annotations; /* extra string annotations (stage inputs), or NULL */
};

/* Writes a complete layout into a temporary directory beside `dir` and then puts it in
 * place of `dir` in one rename, so `dir` is never half-written. Returns the manifest digest
 * (hex) in manifest_digest (65 bytes). */
int ap_oci_write_layout(const char *dir, const struct ap_oci_spec *spec, char *manifest_digest,
                        ap_error **err);

struct ap_oci_info {
    char manifest_digest[AP_SHA256_HEX_LEN + 1];
    uint64_t manifest_size, config_size;
    size_t n_layers;
    char layer_digest[AP_OCI_MAX_LAYERS][AP_SHA256_HEX_LEN + 1];
    uint64_t layer_size[AP_OCI_MAX_LAYERS];
    uint64_t compressed_bytes; /* manifest + config + layers */
    /* From our annotations, when present (otherwise 0 / empty). */
    uint64_t unpacked_bytes, files, packages;
    char lock_sha256[AP_SHA256_HEX_LEN + 1];
    char version[64], created[32], title[128];
};

/* Reads the layout at dir: index.json, then its single manifest and the config, checking
 * each blob's size and sha256 (the layers' sizes only; ap_oci_unpack checks their bytes). */
int ap_oci_read(const char *dir, struct ap_oci_info *info, ap_error **err);

/* Unpacks every layer of the layout at dir into the empty directory `dest`, with the same
 * entry checks as for packages and each layer's sha256 checked before it is used. */
int ap_oci_unpack(const char *dir, const char *dest, ap_error **err);

/* The runtime settings of the layout's image (Env, Entrypoint, Cmd, WorkingDir): the
 * "config" object of its configuration, detached and owned by the caller. */
int ap_oci_read_config(const char *dir, cJSON **out, ap_error **err);

/* An image's runtime settings in the shape a sandbox spec takes them, read from the layout's
 * config: the environment (its Env entries that hold a '=', later ones replacing earlier ones
 * of the same name), the working directory, and the command (Entrypoint, then Cmd). The
 * strings point into cfg, which the struct owns. Callers may add to env with
 * ap_sandbox_env_set(run.env, &run.n_env, AP_OCI_RUN_MAX, ...). */
#define AP_OCI_RUN_MAX 256 /* entries of env and of argv, the NULL terminator included */
struct ap_oci_run {
    cJSON *cfg;
    char *env[AP_OCI_RUN_MAX];
    size_t n_env;
    char *argv[AP_OCI_RUN_MAX];
    size_t n_argv;
    const char *workdir; /* absolute, or NULL when the image names none */
};

/* Fills *run from the layout at dir. With want_argv, an Entrypoint or Cmd entry that is not a
 * string, or more than AP_OCI_RUN_MAX - 1 words, is an error naming the limit; without it,
 * argv is left empty. More than AP_OCI_RUN_MAX - 1 environment variables is an error. */
int ap_oci_run_read(const char *dir, int want_argv, struct ap_oci_run *run, ap_error **err);
void ap_oci_run_free(struct ap_oci_run *run);

/* Makes the image at `layout` available unpacked under <cache_dir>/rootfs/<manifest digest>
 * (unpacked once; later calls reuse it) and writes that path to out. */
int ap_oci_rootfs(const char *cache_dir, const char *layout, char *out, size_t len, ap_error **err)
    __attribute__((warn_unused_result));

#endif
