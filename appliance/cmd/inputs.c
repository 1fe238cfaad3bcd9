/* Between image/ and bundle/ for `pack` and `bench --sign`: the images a run measured, read
 * from its results.json, go to image/, which lists their locks and pinned inputs; the list
 * goes to bundle/ as plain files. */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench/results.h"
#include "../bundle/archive.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../image/inputs.h"
#include "cmd.h"

struct ap_cmd_pack_inputs {
    cJSON *results;
    struct ap_image_used *used;
    struct ap_pack_image *images;
    struct ap_pack_input *files;
    struct ap_image_inputs in;
};

void ap_cmd_pack_inputs_free(struct ap_cmd_pack_inputs *k)
{
    if (k == NULL)
        return;
    cJSON_Delete(k->results);
    free(k->used);
    free(k->images);
    free(k->files);
    ap_image_inputs_free(&k->in);
    free(k);
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The images results.json names, those with a usable name and digest (pack refuses the
 * others when it reads the same file). Nothing when there is no readable results.json. */
static int run_images(const char *run_dir, struct ap_cmd_pack_inputs *k, size_t *n, ap_error **err)
{
    *n = 0;
    char path[4096];
    if (ap_fs_path(path, sizeof(path), "%s/results.json", run_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s", run_dir);
    ap_error *ignored = NULL;
    if (ap_json_read_file(path, (size_t)AP_RESULTS_MAX, &k->results, &ignored) < 0) {
        ap_error_release(&ignored);
        return 0;
    }
    const cJSON *env = cJSON_GetObjectItemCaseSensitive(k->results, "environment");
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(env, "images");
    size_t max = cJSON_IsObject(images) ? (size_t)cJSON_GetArraySize(images) : 0;
    if (max > AP_IMAGE_INPUTS_MAX_IMAGES)
        return ap_error_make(err, 0, "%s: more than %d images", path, AP_IMAGE_INPUTS_MAX_IMAGES);
    k->used = calloc(max > 0 ? max : 1, sizeof(*k->used));
    if (k->used == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    const cJSON *img, *list = max > 0 ? images : NULL;
    cJSON_ArrayForEach(img, list)
    {
        const char *digest = get_str(img, "digest");
        if (img->string == NULL || !ap_bundle_image_name_valid(img->string) || digest == NULL ||
            !ap_bundle_digest_valid(digest))
            continue;
        int seen = 0;
        for (size_t i = 0; i < *n; i++)
            seen |= strcmp(k->used[i].name, img->string) == 0;
        if (!seen)
            k->used[(*n)++] =
                (struct ap_image_used){img->string, digest, get_str(img, "lock_sha256")};
    }
    return 0;
}

int ap_cmd_pack_inputs(struct ap_pack_opts *o, const char *images_dir, const char *layouts_dir,
                       const char *cache_dir, struct ap_cmd_pack_inputs **keep, ap_error **err)
{
    *keep = NULL;
    assert(!o->with_inputs || cache_dir != NULL); /* the settings always name a cache */
    struct ap_cmd_pack_inputs *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    size_t n = 0;
    struct ap_image_inputs_opts io = {.images_dir = images_dir != NULL ? images_dir : "images",
                                      .layouts_dir =
                                          layouts_dir != NULL ? layouts_dir : "build/images",
                                      .cache_dir = cache_dir,
                                      .with_files = o->with_inputs};
    if (run_images(o->run_dir, k, &n, err) < 0 || ap_image_inputs(&io, k->used, n, &k->in, err) < 0)
        goto fail;
    k->images = calloc(n > 0 ? n : 1, sizeof(*k->images));
    k->files = calloc(k->in.n > 0 ? k->in.n : 1, sizeof(*k->files));
    if (k->images == NULL || k->files == NULL) {
        ap_error_make(err, ENOMEM, "listing inputs");
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        k->images[i] =
            (struct ap_pack_image){k->used[i].name, k->used[i].digest, k->in.lock_sha256[i]};
    for (size_t i = 0; i < k->in.n; i++) {
        const struct ap_image_input *e = &k->in.v[i];
        k->files[i] = (struct ap_pack_input){
            .name = e->name,
            .path = e->path,
            .sha256 = e->sha256[0] != '\0' ? e->sha256 : NULL,
            .size = e->size == AP_IMAGE_INPUT_ANY_SIZE ? AP_PACK_ANY_SIZE : e->size,
            .label = e->label,
            .pinned_by = e->pinned_by,
            .missing_hint = e->missing_hint,
            .damaged_hint = e->damaged_hint};
    }
    o->images = k->images;
    o->n_images = n;
    o->inputs = k->files;
    o->n_inputs = k->in.n;
    o->inputs_desc = k->in.desc;
    *keep = k;
    return 0;
fail:
    ap_cmd_pack_inputs_free(k);
    return ap_error_wrap(err, "packing %s", o->run_dir);
}
