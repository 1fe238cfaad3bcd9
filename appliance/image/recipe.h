/* image.json: what goes into an image besides its packages. */
#ifndef AP_IMAGE_RECIPE_H
#define AP_IMAGE_RECIPE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

struct ap_recipe_file {
    const char *src; /* relative to the image's folder, normalised */
    const char *dst; /* absolute path in the image */
    unsigned mode;
};

struct ap_recipe {
    const char *name, *description, *workdir;
    int64_t source_date_epoch;
    const char **suites, **env, **entrypoint, **cmd; /* NULL-terminated */
    size_t n_suites, n_env, n_entrypoint, n_cmd;
    size_t n_packages; /* requested packages (the lock has the closure) */
    struct ap_recipe_file *files;
    size_t n_files;
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
