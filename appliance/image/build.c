#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../core/log.h"
#include "cache.h"
#include "deb.h"
#include "lock.h"
#include "oci.h"
#include "recipe.h"
#include "stage.h"
#include "unpack.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif

/* Bump when the layer bytes for the same inputs change (tar options, skeleton, status file). */
#define LAYER_FORMAT "appliance-layer-2"
#define RECIPE_MAX (1u << 20)
#define LOCK_MAX (16u << 20)
#define DEB_MAX (UINT64_C(4) << 30)

static int append(char **buf, size_t *len, const char *s, size_t n, ap_error **err)
{
    char *p = realloc(*buf, *len + n + 1);
    if (p == NULL)
        return ap_error_make(err, ENOMEM, "building the package status");
    memcpy(p + *len, s, n);
    *len += n;
    p[*len] = '\0';
    *buf = p;
    return 0;
}

int ap_image_unpack_deb(int rootfd, const char *deb_path, const char *label, char **status,
                        size_t *status_len, ap_error **err)
{
    cleanup_close int fd = open(deb_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "%s: opening %s", label, deb_path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return ap_error_make(err, errno, "%s: checking %s", label, deb_path);
    if (st.st_size <= 0 || (uint64_t)st.st_size > DEB_MAX)
        return ap_error_make(err, 0, "%s: %s has an implausible size", label, deb_path);
    size_t len = (size_t)st.st_size;
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED)
        return ap_error_make(err, errno, "%s: mapping %s", label, deb_path);
    struct ap_deb d;
    cleanup_free char *control = NULL;
    struct ap_unpack u;
    ap_unpack_init(&u, rootfd);
    int rc = ap_deb_open(map, len, label, &d, err);
    if (rc == 0)
        rc = ap_deb_control(&d, label, &control, err);
    if (rc == 0)
        rc = ap_deb_each_data_entry(&d, label, ap_unpack_entry, &u, err);
    ap_unpack_done(&u);
    munmap(map, len);
    if (rc < 0 || status == NULL)
        return rc;
    /* dpkg's status database: the control paragraph with a Status line after Package, so
     * scanners that read var/lib/dpkg/status see what the image holds. */
    size_t clen = strlen(control);
    while (clen > 0 && control[clen - 1] == '\n')
        clen--;
    const char *nl = memchr(control, '\n', clen);
    size_t first = nl != NULL ? (size_t)(nl - control) + 1 : clen;
    static const char st_line[] = "Status: install ok installed\n";
    if (append(status, status_len, control, first, err) < 0 ||
        (nl == NULL && append(status, status_len, "\n", 1, err) < 0) ||
        append(status, status_len, st_line, sizeof(st_line) - 1, err) < 0 ||
        append(status, status_len, control + first, clen - first, err) < 0 ||
        append(status, status_len, nl != NULL ? "\n\n" : "\n", nl != NULL ? 2 : 1, err) < 0)
        return -1;
    return 0;
}

/* Copies the recipe's extra files into the tree (rootfd), or adds them to key when rootfd is
 * -1: those named by "src" from image_dir, those named by "path" from tree_dir. */
static int add_files(int rootfd, const char *image_dir, const char *tree_dir,
                     const struct ap_recipe *r, struct ap_sha256 *key, ap_error **err)
{
    for (size_t i = 0; i < r->n_files; i++) {
        const struct ap_recipe_file *f = &r->files[i];
        char src[4096];
        if (ap_fs_path(src, sizeof(src), "%s/%s", f->from_tree ? tree_dir : image_dir, f->src) < 0)
            return ap_error_make(err, ENAMETOOLONG, "recipe file %s", f->src);
        cleanup_free char *data = NULL;
        size_t len = 0;
        if (ap_fs_read_file(AT_FDCWD, src, 64u << 20, &data, &len, err) < 0)
            return ap_error_wrap(err, "recipe file %s", f->src);
        if (key != NULL) {
            ap_sha256_update(key, f->dst, strlen(f->dst) + 1);
            ap_sha256_update(key, &f->mode, sizeof(f->mode));
            ap_sha256_update(key, &len, sizeof(len));
            ap_sha256_update(key, data, len);
            continue;
        }
        char dst[4096];
        if (ap_fs_path(dst, sizeof(dst), "%s", f->dst + 1) < 0)
            return ap_error_make(err, ENAMETOOLONG, "recipe file %s: its destination %.64s...",
                                 f->src, f->dst);
        char *slash = strrchr(dst, '/');
        const char *leaf = dst;
        cleanup_close int dfd = -1;
        if (slash != NULL) {
            *slash = '\0';
            leaf = slash + 1;
            dfd = ap_unpack_open_dir(rootfd, dst, 1, err);
        } else {
            dfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        }
        if (dfd < 0)
            return ap_error_wrap(err, "recipe file %s", f->dst);
        if (unlinkat(dfd, leaf, 0) < 0 && errno != ENOENT)
            return ap_error_make(err, errno, "replacing %s", f->dst);
        cleanup_close int out =
            openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0 || ap_fs_write_all(out, data, len) < 0 || fchmod(out, f->mode) < 0)
            return ap_error_make(err, errno, "writing %s", f->dst);
    }
    return 0;
}

struct loaded {
    struct ap_recipe *recipe;
    struct ap_lock *lock;
    char image_dir[4096], tree_dir[4096]; /* tree_dir holds images/ */
    char lock_sha[AP_SHA256_HEX_LEN + 1], recipe_sha[AP_SHA256_HEX_LEN + 1];
    char key[AP_SHA256_HEX_LEN + 1];
};

static void loaded_free(struct loaded *l)
{
    ap_recipe_free(l->recipe);
    ap_lock_free(l->lock);
}

static int load(const struct ap_build_opts *o, const char *name, struct loaded *l, ap_error **err)
{
    memset(l, 0, sizeof(*l));
    if (ap_fs_path(l->image_dir, sizeof(l->image_dir), "%s/%s", o->images_dir, name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the folder of image %s under %.64s...", name,
                             o->images_dir);
    if (ap_fs_dirname(o->images_dir, l->tree_dir, sizeof(l->tree_dir)) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the images folder %s", o->images_dir);
    char path[4096];
    cleanup_free char *rbuf = NULL, *lbuf = NULL;
    size_t rlen = 0, llen = 0;
    if (ap_fs_path(path, sizeof(path), "%s/image.json", l->image_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the recipe of image %s in %.64s...", name,
                             l->image_dir);
    if (ap_fs_read_file(AT_FDCWD, path, RECIPE_MAX, &rbuf, &rlen, err) < 0)
        return ap_error_hint(err, "`appliance image ls` lists the images this tree defines");
    if (ap_recipe_parse(rbuf, rlen, path, &l->recipe, err) < 0)
        return -1;
    if (strcmp(l->recipe->name, name) != 0)
        return ap_error_make(err, 0, "%s: name \"%s\" differs from its folder \"%s\"", path,
                             l->recipe->name, name);
    if (ap_fs_path(path, sizeof(path), "%s/lock.json", l->image_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the lock of image %s in %.64s...", name,
                             l->image_dir);
    /* An image made of stage outputs only has no packages to pin. */
    if (l->recipe->n_packages > 0) {
        if (ap_fs_read_file(AT_FDCWD, path, LOCK_MAX, &lbuf, &llen, err) < 0)
            return ap_error_hint(err, "pin the packages with `scripts/lock-image %s`",
                                 l->image_dir);
        if (ap_lock_parse(lbuf, llen, path, &l->lock, err) < 0)
            return -1;
        if (strcmp(l->lock->image, name) != 0)
            return ap_error_make(err, 0, "%s: the lock is for image \"%s\"", path, l->lock->image);
    }
    ap_sha256_hex(rbuf, rlen, l->recipe_sha);
    ap_sha256_hex(lbuf != NULL ? lbuf : "", llen, l->lock_sha);
    /* Everything the layer bytes depend on. */
    struct ap_sha256 k;
    ap_sha256_init(&k);
    ap_sha256_update(&k, LAYER_FORMAT, sizeof(LAYER_FORMAT));
    /* Only what reaches the layer: the packages, the mtime and the extra files. Env,
     * entrypoint and the like live in the config and do not force a rebuild. */
    ap_sha256_update(&k, l->lock_sha, sizeof(l->lock_sha));
    ap_sha256_update(&k, &l->recipe->source_date_epoch, sizeof(l->recipe->source_date_epoch));
    if (add_files(-1, l->image_dir, l->tree_dir, l->recipe, &k, err) < 0)
        return -1;
    ap_sha256_final_hex(&k, l->key);
    return 0;
}

/* Fetches every package, unpacks them into a fresh tree and packs the tree into
 * <build_dir>/layer.tar.gz; build_dir appears under its final name only when complete. */
static int build_layer(const struct ap_build_opts *o, const struct loaded *l, const char *build_dir,
                       struct ap_layer_stats *s, ap_error **err)
{
    char builds[4096];
    if (ap_fs_path(builds, sizeof(builds), "%s/builds", o->cache_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the build folder under cache %.64s...",
                             o->cache_dir);
    if (ap_fs_mkdir_p(builds, 0755, err) < 0)
        return -1;
    cleanup_free char *work = NULL;
    if (ap_fs_mkdtemp_in(builds, l->recipe->name, &work, err) < 0)
        return -1;
    char root[4096];
    cleanup_free char *status = NULL;
    size_t status_len = 0;
    int rc = -1;
    if (ap_fs_path(root, sizeof(root), "%s/rootfs", work) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the tree of image %s in %.64s...", l->recipe->name, work);
        goto out;
    }
    if (mkdir(root, 0755) < 0) {
        ap_error_make(err, errno, "creating %s", root);
        goto out;
    }
    {
        cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0) {
            ap_error_make(err, errno, "opening %s", root);
            goto out;
        }
        if (ap_unpack_skeleton(rootfd, err) < 0)
            goto out;
        for (size_t i = 0; l->lock != NULL && i < l->lock->n; i++) {
            const struct ap_lock_pkg *p = &l->lock->pkgs[i];
            char label[512];
            snprintf(label, sizeof(label), "%s %s (%s)", p->name, p->version, p->architecture);
            cleanup_free char *deb = NULL;
            if (ap_fetch_blob(o->fetch, p->filename, p->sha256, p->size, label, &deb, err) < 0)
                goto out;
            ap_log_debug("unpacking %s", label);
            if (ap_image_unpack_deb(rootfd, deb, label, &status, &status_len, err) < 0)
                goto out;
        }
        if (add_files(rootfd, l->image_dir, l->tree_dir, l->recipe, NULL, err) < 0)
            goto out;
        if (l->lock == NULL)
            goto packed; /* no packages: no package database either */
        cleanup_close int dpkg = ap_unpack_open_dir(rootfd, "var/lib/dpkg", 1, err);
        if (dpkg < 0)
            goto out;
        cleanup_close int sf =
            openat(dpkg, "status", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (sf < 0 || ap_fs_write_all(sf, status, status_len) < 0 || fchmod(sf, 0644) < 0) {
            ap_error_make(err, errno, "writing var/lib/dpkg/status");
            goto out;
        }
    }
packed:
    if (ap_image_pack_tree(root, l->recipe->source_date_epoch, work, build_dir, s, err) < 0)
        goto out;
    rc = 0;
out:
    if (access(work, F_OK) == 0) {
        ap_error *ignored = NULL;
        ap_fs_remove_tree(work, &ignored);
        ap_error_release(&ignored);
    }
    return rc;
}

/* What a stage whose builder is "self" runs on: the image's layers before that stage (the
 * packages' and the earlier stages'), with the recipe's environment and working directory.
 * lock_sha256, build_key and packages describe the packages' layer. */
struct stage_base {
    const struct ap_oci_layer *layers;
    size_t n_layers;
    const char *lock_sha256, *build_key;
    size_t packages;
};

/* The stage's builder as a layout, with its manifest digest (hex) in digest. A named image is
 * built first (from the caches when warm) into <out_dir>/<name>. "self" becomes a layout of
 * the recipe's layers before the stage, written into a new temporary folder *tmp that the
 * caller removes. */
static int builder_layout(const struct ap_build_opts *o, const struct ap_recipe *r,
                          const struct ap_recipe_stage *st, const struct stage_base *base,
                          char *layout, size_t len, char *digest, char **tmp, ap_error **err)
{
    if (strcmp(st->builder, AP_RECIPE_BUILDER_SELF) != 0) {
        struct ap_build_opts bo = *o;
        bo.depth++;
        bo.no_build_cache = 0;
        struct ap_build_result br;
        if (ap_image_build(&bo, st->builder, &br, err) < 0)
            return ap_error_wrap(err, "stage %s: builder", st->name);
        strcpy(digest, br.manifest_digest);
        if (ap_fs_path(layout, len, "%s/%s", o->out_dir, st->builder) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the layout of %s", st->builder);
        return 0;
    }
    /* Only what the command sees: the layers, the environment and the working directory. The
     * description, the entrypoint and the recipe's digest stay out, so that editing them (or
     * the stage itself, which is an input of its own) does not make another builder. */
    struct ap_recipe seen = *r;
    seen.description = "";
    seen.n_entrypoint = 0;
    seen.n_cmd = 0;
    struct ap_oci_spec spec = {.recipe = &seen,
                               .layers = base->layers,
                               .n_layers = base->n_layers,
                               .lock_sha256 = base->lock_sha256,
                               .recipe_sha256 = "",
                               .build_key = base->build_key,
                               .packages = base->packages};
    char stages[4096];
    if (ap_fs_path(stages, sizeof(stages), "%s/stages", o->cache_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the stage cache under %s", o->cache_dir);
    if (ap_fs_mkdir_p(stages, 0755, err) < 0 || ap_fs_mkdtemp_in(stages, "self", tmp, err) < 0)
        return -1;
    if (ap_fs_path(layout, len, "%s/layout", *tmp) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s/layout", *tmp);
    if (ap_oci_write_layout(layout, &spec, digest, err) < 0)
        return ap_error_wrap(err, "stage %s: the image before it", st->name);
    return 0;
}

/* Builds the stage's builder first (its digest is an input of the stage), then runs the
 * stage in it. */
static int run_stage(const struct ap_build_opts *o, const struct ap_recipe *r,
                     const struct ap_recipe_stage *st, const struct stage_base *base,
                     char *layer_path, size_t len, struct ap_layer_stats *stats, cJSON *ann,
                     int *from_cache, ap_error **err)
{
    *from_cache = 0;
    char layout[4096], digest[AP_SHA256_HEX_LEN + 1];
    cleanup_free char *tmp = NULL;
    int rc = builder_layout(o, r, st, base, layout, sizeof(layout), digest, &tmp, err);
    if (rc == 0) {
        struct ap_stage_opts so = {.images_dir = o->images_dir,
                                   .cache_dir = o->cache_dir,
                                   .fetch = o->fetch,
                                   .no_build_cache = o->no_build_cache};
        struct ap_stage_builder b = {.layout = layout, .digest = digest};
        rc = ap_image_run_stage(&so, r, st, &b, layer_path, len, stats, ann, from_cache, err);
    }
    if (tmp != NULL) {
        ap_error *ignored = NULL;
        ap_fs_remove_tree(tmp, &ignored);
        ap_error_release(&ignored);
    }
    return rc;
}

int ap_image_build(const struct ap_build_opts *o, const char *name, struct ap_build_result *r,
                   ap_error **err)
{
    int64_t t0 = ap_clock_mono_ns();
    memset(r, 0, sizeof(*r));
    struct loaded l;
    int rc = -1;
    struct ap_layer_stats *stage_stats = NULL;
    char(*stage_paths)[4096] = NULL;
    char(*stage_by)[512] = NULL;
    struct ap_oci_layer *layers = NULL;
    cJSON *ann = cJSON_CreateObject();
    if (o->depth > 8) {
        ap_error_make(err, 0, "stages nest too deep (a builder that needs itself?)");
        goto out;
    }
    if (load(o, name, &l, err) < 0)
        goto out;
    strcpy(r->build_key, l.key);
    size_t npkg = l.lock != NULL ? l.lock->n : 0;
    r->packages = npkg;
    char build_dir[4096];
    if (ap_fs_path(build_dir, sizeof(build_dir), "%s/builds/%s", o->cache_dir, l.key) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the build of image %s under cache %.64s...", name,
                      o->cache_dir);
        goto out;
    }
    ap_error *miss = NULL;
    if (!o->no_build_cache && access(build_dir, F_OK) == 0 &&
        ap_image_cached_layer(build_dir, &r->layer, &miss) == 0) {
        r->from_cache = 1;
    } else {
        if (miss != NULL) {
            ap_log_warn("%s; building it again", miss->msg);
            ap_error_release(&miss);
        }
        if (access(build_dir, F_OK) == 0 && ap_fs_remove_tree(build_dir, err) < 0)
            goto out;
        ap_log_info("building %s: %zu packages", name, npkg);
        if (build_layer(o, &l, build_dir, &r->layer, err) < 0)
            goto out;
    }
    size_t ns = l.recipe->n_stages;
    stage_stats = calloc(ns + 1, sizeof(*stage_stats));
    stage_paths = calloc(ns + 1, sizeof(*stage_paths));
    stage_by = calloc(ns + 1, sizeof(*stage_by));
    layers = calloc(ns + 1, sizeof(*layers));
    if (stage_stats == NULL || stage_paths == NULL || stage_by == NULL || layers == NULL ||
        ann == NULL) {
        ap_error_make(err, ENOMEM, "building image %s", name);
        goto out;
    }
    char layer_path[4096], out_dir[4096], base_by[512];
    if (ap_fs_path(layer_path, sizeof(layer_path), "%s/layer.tar.gz", build_dir) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the layer of image %s in %.64s...", name, build_dir);
        goto out;
    }
    snprintf(base_by, sizeof(base_by),
             "appliance %s image build %s: %zu Debian packages from lock sha256:%s", AP_VERSION,
             name, npkg, l.lock_sha);
    layers[0] = (struct ap_oci_layer){layer_path, &r->layer, base_by};
    for (size_t i = 0; i < ns; i++) {
        const struct ap_recipe_stage *st = &l.recipe->stages[i];
        int cached = 0;
        struct stage_base base = {layers, i + 1, l.lock_sha, l.key, npkg};
        if (run_stage(o, l.recipe, st, &base, stage_paths[i], sizeof(stage_paths[i]),
                      &stage_stats[i], ann, &cached, err) < 0)
            goto out;
        int self = strcmp(st->builder, AP_RECIPE_BUILDER_SELF) == 0;
        snprintf(stage_by[i], sizeof(stage_by[i]), "appliance %s stage %s in %s%s", AP_VERSION,
                 st->name, self ? name : st->builder,
                 self ? " (its layers before this stage)" : "");
        layers[i + 1] = (struct ap_oci_layer){stage_paths[i], &stage_stats[i], stage_by[i]};
    }
    r->layers = ns + 1;
    for (size_t i = 0; i < r->layers; i++) {
        r->compressed_bytes += layers[i].stats->compressed_size;
        r->unpacked_bytes += layers[i].stats->unpacked_bytes;
        r->files += layers[i].stats->files;
    }
    if (ap_fs_path(out_dir, sizeof(out_dir), "%s/%s", o->out_dir, name) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the layout of image %s under %.64s...", name, o->out_dir);
        goto out;
    }
    struct ap_oci_spec spec = {.recipe = l.recipe,
                               .layers = layers,
                               .n_layers = ns + 1,
                               .lock_sha256 = l.lock_sha,
                               .recipe_sha256 = l.recipe_sha,
                               .build_key = l.key,
                               .packages = npkg,
                               .annotations = ann};
    if (ap_oci_write_layout(out_dir, &spec, r->manifest_digest, err) < 0)
        goto out;
    r->seconds = (double)(ap_clock_mono_ns() - t0) / 1e9;
    rc = 0;
out:
    free(stage_stats);
    free(stage_paths);
    free(stage_by);
    free(layers);
    cJSON_Delete(ann);
    loaded_free(&l);
    if (rc < 0)
        ap_error_wrap(err, "building image %s", name);
    return rc;
}
