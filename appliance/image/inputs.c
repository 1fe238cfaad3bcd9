/* A run's pinned inputs (inputs.h): layouts, recipes, locks, tree files and pinned downloads. */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/log.h"
#include "lock.h"
#include "oci.h"
#include "recipe.h"

#define RECIPE_MAX (16u << 20)
#define MAX_SOURCES 1024
#define PATH_LEN 8192
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

void ap_image_inputs_free(struct ap_image_inputs *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->v[i].name);
        free(in->v[i].path);
        free(in->v[i].label);
        free(in->v[i].pinned_by);
        free(in->v[i].missing_hint);
        free(in->v[i].damaged_hint);
    }
    free(in->v);
    free(in->lock_sha256);
    cJSON_Delete(in->desc);
    memset(in, 0, sizeof(*in));
}

/* Appends an unpinned input; returns it, or NULL with err set. */
static struct ap_image_input *push(struct ap_image_inputs *in, const char *name, const char *path,
                                   ap_error **err)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        struct ap_image_input *v = realloc(in->v, cap * sizeof(*v));
        if (v == NULL) {
            ap_error_make(err, ENOMEM, "listing inputs");
            return NULL;
        }
        in->v = v;
        in->cap = cap;
    }
    struct ap_image_input *e = &in->v[in->n];
    memset(e, 0, sizeof(*e));
    e->size = AP_IMAGE_INPUT_ANY_SIZE;
    e->name = strdup(name);
    e->path = strdup(path);
    if (e->name == NULL || e->path == NULL) {
        free(e->name);
        free(e->path);
        ap_error_make(err, ENOMEM, "listing inputs");
        return NULL;
    }
    in->n++;
    return e;
}

/* ---- the locks ---- */

/* The sha256 of the image's lock in the tree (into now), compared with the one the run used. */
static int lock_digest(const struct ap_image_inputs_opts *o, const struct ap_image_used *im,
                       char *now, ap_error **err)
{
    char path[4096], hex[AP_SHA256_HEX_LEN + 1];
    if (ap_fs_path(path, sizeof(path), "%s/%s/lock.json", o->images_dir, im->name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s/%s", o->images_dir, im->name);
    ap_error *e2 = NULL;
    if (ap_sha256_file(AT_FDCWD, path, hex, NULL, &e2) == 0) {
        snprintf(now, AP_IMAGE_DIGEST_LEN, "sha256:%s", hex);
    } else if (e2->status == ENOENT) {
        now[0] = '\0';
        ap_error_release(&e2);
    } else {
        *err = e2;
        return -1;
    }
    /* The run records sha256 of an empty lock for an image made of stages only. */
    const char *used = im->lock_sha256;
    if (used == NULL || strcmp(used, "") == 0 || strcmp(used, "sha256:" EMPTY_SHA256) == 0)
        used = "";
    if (strcmp(used, now) == 0)
        return 0;
    const char *shown = now[0] ? now : "no file";
    if (o->with_files) {
        ap_error_make(err, 0,
                      "%s: the run used a lock with %s, the tree has %s: the packed inputs would "
                      "not be the run's",
                      path, used[0] ? used : "no lock", shown);
        return ap_error_hint(err, "check out the tree the run was made from (or set "
                                  "APPLIANCE_IMAGES), or pack without --with-inputs");
    }
    ap_log_warn("%s: the run used a lock with %s, the tree has %s; the manifest records the "
                "tree's",
                path, used[0] ? used : "no lock", shown);
    return 0;
}

/* ---- folders ---- */

/* Lists every regular file under the folder dfd (root/rel for messages) as <under><rel...>;
 * with pin_blobs, a file blobs/sha256/<hex> is pinned by its name, as a layout's are. */
static int walk(struct ap_image_inputs *in, int dfd, const char *root, const char *rel,
                const char *under, int pin_blobs, ap_error **err)
{
    int fd = dup(dfd);
    if (fd < 0)
        return ap_error_make(err, errno, "listing %s/%s", root, rel);
    cleanup_dir DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return ap_error_make(err, errno, "listing %s/%s", root, rel);
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char sub[PATH_LEN], path[PATH_LEN], name[PATH_LEN];
        if (ap_fs_path(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0 ||
            ap_fs_path(path, sizeof(path), "%s/%s", root, sub) < 0 ||
            ap_fs_path(name, sizeof(name), "%s%s", under, sub) < 0)
            return ap_error_make(err, ENAMETOOLONG, "%s/%s/%s", root, rel, de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return ap_error_make(err, errno, "checking %s", path);
        if (S_ISDIR(st.st_mode)) {
            cleanup_close int s =
                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (s < 0)
                return ap_error_make(err, errno, "opening %s", path);
            if (walk(in, s, root, sub, under, pin_blobs, err) < 0)
                return -1;
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            ap_error_make(err, 0, "%s is a symbolic link: an archive holds regular files only",
                          path);
            return ap_error_hint(err, "replace it with a copy of what it points to");
        }
        if (!S_ISREG(st.st_mode))
            return ap_error_make(err, 0,
                                 "%s is not a regular file (a device, FIFO or socket): an "
                                 "archive holds regular files only",
                                 path);
        struct ap_image_input *e = push(in, name, path, err);
        if (e == NULL)
            return -1;
        const char *base = strrchr(sub, '/');
        if (pin_blobs && strncmp(sub, "blobs/sha256/", 13) == 0 && base != NULL &&
            ap_sha256_hex_valid(base + 1)) {
            /* A blob is named by its digest: checked while hashed, as verify will. */
            snprintf(e->sha256, sizeof(e->sha256), "%s", base + 1);
            if ((e->pinned_by = strdup("its name")) == NULL ||
                (e->damaged_hint = strdup("the layout is damaged: build it again with "
                                          "`appliance image build --rebuild`")) == NULL)
                return ap_error_make(err, ENOMEM, "listing inputs");
        }
    }
    if (errno != 0)
        return ap_error_make(err, errno, "listing %s/%s", root, rel);
    return 0;
}

/* ---- recipes ---- */

struct blob {
    char sha256[AP_SHA256_HEX_LEN + 1];
    uint64_t size;
    char *filename;
    char *label;
};

/* What the recipes name, gathered before it becomes files. */
struct found {
    struct blob *blobs;
    size_t n_blobs, cap;
    char *names[AP_IMAGE_INPUTS_MAX_IMAGES]; /* recipes (the images and their builders) */
    size_t n_names;
    char *sources[MAX_SOURCES]; /* tree paths (stage sources, "path" files) */
    size_t n_sources;
};

static void found_free(struct found *f)
{
    for (size_t i = 0; i < f->n_blobs; i++) {
        free(f->blobs[i].filename);
        free(f->blobs[i].label);
    }
    free(f->blobs);
    for (size_t i = 0; i < f->n_names; i++)
        free(f->names[i]);
    for (size_t i = 0; i < f->n_sources; i++)
        free(f->sources[i]);
    memset(f, 0, sizeof(*f));
}

static int add_blob(struct found *f, const char *sha256, uint64_t size, const char *filename,
                    const char *label, ap_error **err)
{
    for (size_t i = 0; i < f->n_blobs; i++)
        if (strcmp(f->blobs[i].sha256, sha256) == 0)
            return 0;
    if (f->n_blobs == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct blob *v = realloc(f->blobs, cap * sizeof(*v));
        if (v == NULL)
            return ap_error_make(err, ENOMEM, "listing inputs");
        f->blobs = v;
        f->cap = cap;
    }
    struct blob *b = &f->blobs[f->n_blobs];
    snprintf(b->sha256, sizeof(b->sha256), "%s", sha256);
    b->size = size;
    b->filename = strdup(filename);
    b->label = strdup(label);
    if (b->filename == NULL || b->label == NULL) {
        free(b->filename);
        free(b->label);
        return ap_error_make(err, ENOMEM, "listing inputs");
    }
    f->n_blobs++;
    return 0;
}

static int have_name(const struct found *f, const char *name)
{
    for (size_t i = 0; i < f->n_names; i++)
        if (strcmp(f->names[i], name) == 0)
            return 1;
    return 0;
}

static int add_name(struct found *f, const char *name, ap_error **err)
{
    if (have_name(f, name))
        return 0;
    if (f->n_names == AP_IMAGE_INPUTS_MAX_IMAGES)
        return ap_error_make(err, 0, "more than %d images behind the run's",
                             AP_IMAGE_INPUTS_MAX_IMAGES);
    if ((f->names[f->n_names] = strdup(name)) == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    f->n_names++;
    return 0;
}

/* A path of the tree (a stage source or a recipe's "path" file), listed once. */
static int add_source_name(struct found *f, const char *path, ap_error **err)
{
    for (size_t j = 0; j < f->n_sources; j++)
        if (strcmp(f->sources[j], path) == 0)
            return 0;
    if (f->n_sources == MAX_SOURCES)
        return ap_error_make(err, 0, "more than %d stage sources", MAX_SOURCES);
    if ((f->sources[f->n_sources] = strdup(path)) == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    f->n_sources++;
    return 0;
}

/* The lock of image `name`, when its recipe has packages: the lock file and its pinned
 * packages. */
static int add_lock(const struct ap_image_inputs_opts *o, struct found *f,
                    struct ap_image_inputs *in, const char *name, ap_error **err)
{
    char path[4096], member[PATH_LEN];
    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (ap_fs_path(path, sizeof(path), "%s/%s/lock.json", o->images_dir, name) < 0 ||
        ap_fs_path(member, sizeof(member), "recipes/%s/lock.json", name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the lock of image %s under %.64s...", name,
                             o->images_dir);
    if (ap_fs_read_file(AT_FDCWD, path, RECIPE_MAX, &buf, &len, err) < 0)
        return -1;
    cleanup_lock struct ap_lock *lock = NULL;
    if (ap_lock_parse(buf, len, path, &lock, err) < 0)
        return -1;
    if (push(in, member, path, err) == NULL)
        return -1;
    for (size_t i = 0; i < lock->n; i++) {
        const struct ap_lock_pkg *p = &lock->pkgs[i];
        char label[512];
        snprintf(label, sizeof(label), "%s %s (%s)", p->name, p->version, name);
        if (add_blob(f, p->sha256, p->size, p->filename, label, err) < 0)
            return -1;
    }
    return 0;
}

/* The recipe (and lock) of one image: its files become inputs, its pinned packages and its
 * stages' fetched files blobs, its stages' sources tree paths, its stages' builders join the
 * names to list. */
static int add_recipe(const struct ap_image_inputs_opts *o, struct found *f,
                      struct ap_image_inputs *in, const char *name, ap_error **err)
{
    char path[4096], member[PATH_LEN];
    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (ap_fs_path(path, sizeof(path), "%s/%s/image.json", o->images_dir, name) < 0 ||
        ap_fs_path(member, sizeof(member), "recipes/%s/image.json", name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the recipe of image %s under %.64s...", name,
                             o->images_dir);
    if (ap_fs_read_file(AT_FDCWD, path, RECIPE_MAX, &buf, &len, err) < 0)
        return ap_error_hint(err, "--with-inputs packs the recipes of the run's images: run "
                                  "from the source tree or set APPLIANCE_IMAGES");
    cleanup_recipe struct ap_recipe *rec = NULL;
    if (ap_recipe_parse(buf, len, path, &rec, err) < 0)
        return -1;
    if (push(in, member, path, err) == NULL)
        return -1;
    if (rec->n_packages > 0 && add_lock(o, f, in, name, err) < 0)
        return -1;
    for (size_t i = 0; i < rec->n_files; i++) {
        /* A file of the tree ("path") travels as a source, once for every recipe naming it. */
        if (rec->files[i].from_tree) {
            if (add_source_name(f, rec->files[i].src, err) < 0)
                return -1;
            continue;
        }
        if (ap_fs_path(member, sizeof(member), "recipes/%s/%s", name, rec->files[i].src) < 0 ||
            ap_fs_path(path, sizeof(path), "%s/%s/%s", o->images_dir, name, rec->files[i].src) < 0)
            return ap_error_make(err, ENAMETOOLONG, "file %.64s... of image %s under %.64s...",
                                 rec->files[i].src, name, o->images_dir);
        if (push(in, member, path, err) == NULL)
            return -1;
    }
    for (size_t s = 0; s < rec->n_stages; s++) {
        const struct ap_recipe_stage *st = &rec->stages[s];
        for (size_t k = 0; k < st->n_fetch; k++) {
            char label[512];
            snprintf(label, sizeof(label), "%s (stage %s of %s)", st->fetch[k].filename, st->name,
                     name);
            if (add_blob(f, st->fetch[k].sha256, st->fetch[k].size, st->fetch[k].filename, label,
                         err) < 0)
                return -1;
        }
        for (size_t k = 0; k < st->n_sources; k++)
            if (add_source_name(f, st->sources[k].path, err) < 0)
                return -1;
        /* "self" is this recipe, listed already. */
        if (st->builder != NULL && strcmp(st->builder, AP_RECIPE_BUILDER_SELF) != 0 &&
            add_name(f, st->builder, err) < 0)
            return -1;
    }
    return 0;
}

/* A tree path (a file, or a folder walked whole) as sources/<rel>. */
static int add_source(const struct ap_image_inputs_opts *o, struct ap_image_inputs *in,
                      const char *rel, ap_error **err)
{
    char root[4096], path[PATH_LEN], under[PATH_LEN];
    if (ap_fs_dirname(o->images_dir, root, sizeof(root)) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the images folder %s", o->images_dir);
    if (ap_fs_path(path, sizeof(path), "%s/%s", root, rel) < 0 ||
        ap_fs_path(under, sizeof(under), "sources/%s", rel) < 0)
        return ap_error_make(err, ENAMETOOLONG, "stage source %s", rel);
    struct stat st;
    if (lstat(path, &st) < 0)
        return ap_error_make(err, errno, "stage source %s", path);
    if (S_ISREG(st.st_mode))
        return push(in, under, path, err) != NULL ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return ap_error_make(err, 0, "stage source %s is neither a file nor a directory", path);
    cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    strcat(under, "/");
    return walk(in, dfd, path, "", under, 0, err);
}

/* ---- putting it together ---- */

/* The layout of one image the run measured: it must hold the manifest the run measured. */
static int add_layout(const struct ap_image_inputs_opts *o, const struct ap_image_used *im,
                      struct ap_image_inputs *in, ap_error **err)
{
    char dir[4096], under[PATH_LEN];
    if (ap_fs_path(dir, sizeof(dir), "%s/%s", o->layouts_dir, im->name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s/%s", o->layouts_dir, im->name);
    struct ap_oci_info info;
    if (ap_oci_read(dir, &info, err) < 0)
        return ap_error_hint(err,
                             "--with-inputs packs the layouts the run measured: build them "
                             "with `appliance image build %s` or point APPLIANCE_OUT at them",
                             im->name);
    if (strncmp(im->digest, "sha256:", 7) != 0 ||
        strcmp(info.manifest_digest, im->digest + 7) != 0) {
        ap_error_make(err, 0, "%s holds manifest sha256:%s, but the run measured %s", dir,
                      info.manifest_digest, im->digest);
        return ap_error_hint(err, "rebuild it from the lock the run used (builds are "
                                  "reproducible), or pack without --with-inputs");
    }
    cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ap_error_make(err, errno, "opening %s", dir);
    if (ap_fs_path(under, sizeof(under), "images/%s/", im->name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the layout of image %s", im->name);
    return walk(in, dfd, dir, "", under, 1, err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_blob(const void *a, const void *b)
{
    return strcmp(((const struct blob *)a)->sha256, ((const struct blob *)b)->sha256);
}

/* Every pinned download as blobs/sha256/<hex> from the cache. */
static int add_blobs(const struct ap_image_inputs_opts *o, const struct found *f,
                     struct ap_image_inputs *in, cJSON *blobs, ap_error **err)
{
    for (size_t i = 0; i < f->n_blobs; i++) {
        const struct blob *b = &f->blobs[i];
        char member[128], path[4096];
        if (ap_fs_path(member, sizeof(member), "blobs/sha256/%s", b->sha256) < 0 ||
            ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", o->cache_dir, b->sha256) < 0)
            return ap_error_make(err, ENAMETOOLONG, "blob %s in cache %.64s...", b->sha256,
                                 o->cache_dir);
        struct ap_image_input *e = push(in, member, path, err);
        if (e == NULL)
            return -1;
        snprintf(e->sha256, sizeof(e->sha256), "%s", b->sha256);
        e->size = b->size;
        if ((e->label = strdup(b->label)) == NULL || (e->pinned_by = strdup("the lock")) == NULL ||
            asprintf(&e->missing_hint,
                     "%s is a pinned input that is not in the download cache: `appliance image "
                     "build` fetches what an image needs",
                     b->label) < 0 ||
            (e->damaged_hint = strdup("remove the damaged file from the cache; `appliance "
                                      "image build` fetches it again")) == NULL) {
            e->missing_hint = NULL;
            return ap_error_make(err, ENOMEM, "listing inputs");
        }
        cJSON *j = cJSON_CreateObject();
        if (j == NULL || !cJSON_AddItemToArray(blobs, j) ||
            cJSON_AddStringToObject(j, "sha256", b->sha256) == NULL ||
            cJSON_AddNumberToObject(j, "size", (double)b->size) == NULL ||
            cJSON_AddStringToObject(j, "filename", b->filename) == NULL)
            return ap_error_make(err, ENOMEM, "listing inputs");
    }
    return 0;
}

static int list_files(const struct ap_image_inputs_opts *o, const struct ap_image_used *images,
                      size_t n, struct ap_image_inputs *in, ap_error **err)
{
    struct found f = {0};
    int rc = -1;
    cJSON *layouts, *recipes, *sources, *blobs;
    if ((in->desc = cJSON_CreateObject()) == NULL ||
        (layouts = cJSON_AddObjectToObject(in->desc, "layouts")) == NULL ||
        (recipes = cJSON_AddArrayToObject(in->desc, "recipes")) == NULL ||
        (sources = cJSON_AddArrayToObject(in->desc, "sources")) == NULL ||
        (blobs = cJSON_AddArrayToObject(in->desc, "blobs")) == NULL) {
        ap_error_make(err, ENOMEM, "listing inputs");
        goto out;
    }
    if (n == 0)
        ap_log_warn("--with-inputs: the run names no images, so there are none to pack");
    for (size_t i = 0; i < n; i++) {
        if (add_layout(o, &images[i], in, err) < 0)
            goto out;
        if (cJSON_AddStringToObject(layouts, images[i].name, images[i].digest) == NULL ||
            add_name(&f, images[i].name, err) < 0) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
    }
    /* add_recipe appends the builders it meets: they are listed in turn. */
    for (size_t i = 0; i < f.n_names; i++)
        if (add_recipe(o, &f, in, f.names[i], err) < 0)
            goto out;
    qsort(f.sources, f.n_sources, sizeof(f.sources[0]), cmp_str);
    for (size_t i = 0; i < f.n_sources; i++) {
        if (add_source(o, in, f.sources[i], err) < 0)
            goto out;
        if (!cJSON_AddItemToArray(sources, cJSON_CreateString(f.sources[i]))) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
    }
    qsort(f.names, f.n_names, sizeof(f.names[0]), cmp_str);
    qsort(f.blobs, f.n_blobs, sizeof(f.blobs[0]), cmp_blob);
    for (size_t i = 0; i < f.n_names; i++)
        if (!cJSON_AddItemToArray(recipes, cJSON_CreateString(f.names[i]))) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
    rc = add_blobs(o, &f, in, blobs, err);
out:
    found_free(&f);
    return rc;
}

int ap_image_inputs(const struct ap_image_inputs_opts *o, const struct ap_image_used *images,
                    size_t n, struct ap_image_inputs *out, ap_error **err)
{
    memset(out, 0, sizeof(*out));
    if (n > AP_IMAGE_INPUTS_MAX_IMAGES)
        return ap_error_make(err, 0, "a run of more than %d images", AP_IMAGE_INPUTS_MAX_IMAGES);
    out->lock_sha256 = calloc(n > 0 ? n : 1, sizeof(*out->lock_sha256));
    if (out->lock_sha256 == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = lock_digest(o, &images[i], out->lock_sha256[i], err);
    if (rc == 0 && o->with_files)
        rc = list_files(o, images, n, out, err);
    if (rc < 0)
        ap_error_wrap(err, "listing the run's inputs");
    return rc;
}
