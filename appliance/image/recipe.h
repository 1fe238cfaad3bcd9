/* image.json: what goes into an image besides its packages. */
#ifndef AP_IMAGE_RECIPE_H
#define AP_IMAGE_RECIPE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

/* A file of this tree put into the image's first layer: "src" names it relative to the image's
 * folder, "path" relative to the tree that holds images/ (as a stage source does), so that
 * images can share one file. */
struct ap_recipe_file {
    const char *src; /* no ".." */
    const char *dst; /* absolute path in the image */
    unsigned mode;
    int from_tree; /* src is a "path": relative to the tree, not the image's folder */
};

/* A host path (relative to the tree that holds images/) bound read-only into a stage. */
struct ap_stage_source {
    const char *path, *mount;
};

/* A pinned file fetched from the mirror and bound read-only into a stage. */
struct ap_stage_fetch {
    const char *filename, *sha256, *mount;
    uint64_t size;
};

/* A regular file copied out of the builder image (absolute path `from`) to `to` in the stage's
 * layer, as a multi-stage build copies a program out of its build image. */
struct ap_stage_copy {
    const char *from, *to;
};

/* The builder that names no other image: the stage runs on this image as built so far (its
 * packages' layer and the layers of the stages before it), e.g. to compile the bytecode of
 * the image's own Python with that Python. No recipe may take this name. */
#define AP_RECIPE_BUILDER_SELF "self"

/* A build stage: a command run in a builder image, in the sandbox, network off, with the
 * sources read-only and /out writable; what it leaves in /out becomes a layer of this image
 * (at `install`, default "/"). A copy stage runs nothing: its layer holds the `copy` files
 * taken out of the builder image. A stage has a command or files to copy, never both. */
struct ap_recipe_stage {
    const char *name, *builder, *workdir, *install;
    const char **command, **env; /* NULL-terminated */
    size_t n_command, n_env;
    struct ap_stage_source *sources;
    size_t n_sources;
    struct ap_stage_fetch *fetch;
    size_t n_fetch;
    struct ap_stage_copy *copy;
    size_t n_copy;
    int64_t memory_bytes, tmp_bytes, timeout_s;
    const cJSON *json; /* the stage as written, part of its cache key */
};

struct ap_recipe {
    const char *name, *description, *workdir;
    int64_t source_date_epoch;
    const char **suites, **env, **entrypoint, **cmd; /* NULL-terminated */
    size_t n_suites, n_env, n_entrypoint, n_cmd;
    size_t n_packages; /* requested packages (the lock has the closure) */
    struct ap_recipe_file *files;
    size_t n_files;
    struct ap_recipe_stage *stages;
    size_t n_stages;
    cJSON *root; /* owns the strings */
};

/* Parses and validates a recipe. `what` names it in errors. */
int ap_recipe_parse(const char *buf, size_t len, const char *what, struct ap_recipe **out,
                    ap_error **err);
void ap_recipe_free(struct ap_recipe *r);

static inline void ap_cleanup_recipep(struct ap_recipe **r)
{
    ap_recipe_free(*r);
}
#define cleanup_recipe __attribute__((cleanup(ap_cleanup_recipep)))

#endif
