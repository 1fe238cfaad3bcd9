/* Build stages: a command run in a builder image through the sandbox, network off, sources
 * read-only, /out writable; /out becomes a layer. Cached by a digest of every input. */
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
#include "../sandbox/sandbox.h"
#include "cache.h"
#include "oci.h"
#include "recipe.h"
#include "stage.h"
#include "unpack.h"

#define STAGE_FORMAT "appliance-stage-1"
#define MAX_BINDS 64
#define LOG_TAIL 3000

static int discard_sink(void *ctx, const void *data, size_t len)
{
    (void)ctx;
    (void)data;
    (void)len;
    return 0;
}

/* Hashes a source: a directory as the digest of its deterministic tar (names, modes, links,
 * contents), a file by its bytes. */
static int hash_source(const char *path, struct ap_sha256 *key, ap_error **err)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return ap_error_make(err, errno, "stage source %s", path);
    char hex[AP_SHA256_HEX_LEN + 1];
    if (S_ISDIR(st.st_mode)) {
        struct ap_layer_stats ls;
        if (ap_layer_write_tree(path, 0, discard_sink, NULL, &ls, err) < 0)
            return ap_error_wrap(err, "hashing stage source %s", path);
        strcpy(hex, ls.diff_id);
    } else if (ap_sha256_file(AT_FDCWD, path, hex, NULL, err) < 0) {
        return -1;
    }
    ap_sha256_update(key, hex, sizeof(hex));
    return 0;
}

/* Last bytes of the stage's log, for the error message. */
static void log_tail(const char *log, char *buf, size_t len)
{
    buf[0] = '\0';
    cleanup_close int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)len - 1 ? end - (off_t)len + 1 : 0;
    ssize_t n = pread(fd, buf, len - 1, from);
    buf[n > 0 ? n : 0] = '\0';
}

/* Moves out/ to <layer root>/<install> so the layer holds it at that path. */
static int place_output(const char *work, const char *install, char *root, size_t len,
                        ap_error **err)
{
    char out[4096];
    if (ap_fs_path(out, sizeof(out), "%s/out", work) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the stage output in %.64s...", work);
    if (strcmp(install, "/") == 0) {
        if (ap_fs_path(root, len, "%s", out) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the stage output in %.64s...", work);
        return 0;
    }
    if (ap_fs_path(root, len, "%s/layer-root", work) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the stage layer in %.64s...", work);
    char dest[4096], parent[4096];
    if (ap_fs_path(dest, sizeof(dest), "%s%s", root, install) < 0 ||
        ap_fs_path(parent, sizeof(parent), "%s", dest) < 0)
        return ap_error_make(err, ENAMETOOLONG, "install path %s", install);
    *strrchr(parent, '/') = '\0';
    if (ap_fs_mkdir_p(parent, 0755, err) < 0)
        return -1;
    if (rename(out, dest) < 0)
        return ap_error_make(err, errno, "moving the stage output to %s", install);
    return 0;
}

/* Runs the stage's command in the builder (a layout at builder_layout_dir) through the sandbox,
 * as uid 65534, network off, its sources and fetched files bound read-only and <work>/out
 * writable at /out; its log goes to <work>/log, whose end a failure shows. */
static int run_command(const struct ap_stage_opts *o, const struct ap_recipe *r,
                       const struct ap_recipe_stage *st, const char *root_dir,
                       const char *builder_layout_dir, const char *work, ap_error **err)
{
    /* The builder's root, and everything bound into it. */
    char rootfs[4096];
    if (ap_oci_rootfs(o->cache_dir, builder_layout_dir, rootfs, sizeof(rootfs), err) < 0)
        return ap_error_wrap(err, "stage %s", st->name);
    /* The builder's environment, as it would run it; the stage's command and directory. */
    __attribute__((cleanup(ap_oci_run_free))) struct ap_oci_run image;
    if (ap_oci_run_read(builder_layout_dir, 0, &image, err) < 0)
        return ap_error_wrap(err, "stage %s: its builder", st->name);
    char out[4096], log[4096], src_paths[MAX_BINDS][4096];
    cleanup_free char *fetched[MAX_BINDS] = {NULL};
    if (ap_fs_path(out, sizeof(out), "%s/out", work) < 0 ||
        ap_fs_path(log, sizeof(log), "%s/log", work) < 0)
        return ap_error_make(err, ENAMETOOLONG, "stage %s: its work folder %.64s...", st->name,
                             work);
    struct ap_bind binds[MAX_BINDS];
    size_t nb = 0;
    cleanup_close int log_fd = -1;
    if (st->n_sources + st->n_fetch + 1 > MAX_BINDS)
        return ap_error_make(err, 0, "stage %s: too many sources", st->name);
    /* The command runs as uid 65534: /out must be its. */
    if (mkdir(out, 0755) < 0 || chown(out, 65534, 65534) < 0 || chmod(work, 0755) < 0)
        return ap_error_make(err, errno, "preparing %s", out);
    for (size_t i = 0; i < st->n_sources; i++) {
        if (ap_fs_path(src_paths[i], sizeof(src_paths[i]), "%s/%s", root_dir, st->sources[i].path) <
            0)
            return ap_error_make(err, ENAMETOOLONG, "stage %s: source %.64s... under %.64s...",
                                 st->name, st->sources[i].path, root_dir);
        binds[nb++] = (struct ap_bind){src_paths[i], st->sources[i].mount, 1};
    }
    for (size_t i = 0; i < st->n_fetch; i++) {
        const struct ap_stage_fetch *f = &st->fetch[i];
        char label[512];
        snprintf(label, sizeof(label), "%s (stage %s)", f->filename, st->name);
        if (ap_fetch_blob(o->fetch, f->filename, f->sha256, f->size, label, &fetched[i], err) < 0)
            return -1;
        binds[nb++] = (struct ap_bind){fetched[i], f->mount, 1};
    }
    binds[nb++] = (struct ap_bind){out, "/out", 0};

    for (size_t i = 0; i < st->n_env; i++)
        if (ap_sandbox_env_set(image.env, &image.n_env, AP_OCI_RUN_MAX,
                               (char *)(uintptr_t)st->env[i]) < 0)
            return ap_error_make(err, 0,
                                 "stage %s: more than %d environment variables (the builder's "
                                 "and the stage's); at most %d are supported",
                                 st->name, AP_OCI_RUN_MAX - 1, AP_OCI_RUN_MAX - 1);
    log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0)
        return ap_error_make(err, errno, "creating %s", log);
    const char *profile = ap_seccomp_default_profile();
    struct ap_seccomp filter;
    if (ap_seccomp_compile(profile, strlen(profile), "default seccomp profile", &filter, err) < 0)
        return -1;
    struct ap_sandbox_spec spec = {
        .rootfs = rootfs,
        .argv = (char *const *)(uintptr_t)st->command,
        .envp = image.env,
        .workdir = st->workdir,
        .hostname = "builder",
        .uid = 65534,
        .gid = 65534,
        .binds = binds,
        .n_binds = nb,
        .tmp_bytes = (uint64_t)(st->tmp_bytes > 0 ? st->tmp_bytes : INT64_C(1) << 30),
        .net = AP_NET_NONE,
        .limits = {.memory_bytes = st->memory_bytes},
        .timeout_s = (double)st->timeout_s,
        .seccomp = &filter,
        .stdin_fd = -1,
        .stdout_fd = log_fd,
        .stderr_fd = log_fd};
    int self = strcmp(st->builder, AP_RECIPE_BUILDER_SELF) == 0;
    ap_log_info("stage %s of %s: running %s in %s%s", st->name, r->name, st->command[0],
                self ? r->name : st->builder, self ? " (its layers before this stage)" : "");
    struct ap_run_record rec;
    int run = ap_sandbox_run(&spec, &rec, err);
    ap_seccomp_free(&filter);
    if (run < 0)
        return ap_error_wrap(err, "stage %s", st->name);
    if (!rec.exited || rec.exit_code != 0) {
        char tail[LOG_TAIL];
        log_tail(log, tail, sizeof(tail));
        ap_error_make(err, 0, "stage %s failed (%s %d%s%s); the end of its output:", st->name,
                      rec.exited ? "exit" : "signal", rec.exited ? rec.exit_code : rec.term_signal,
                      rec.timed_out ? ", timed out" : "", rec.oom_killed ? ", out of memory" : "");
        return ap_error_lines(err, tail);
    }
    ap_log_info("stage %s: %.1f s, %.1f s CPU, peak memory %lld MiB", st->name,
                (double)rec.wall_ns / 1e9, (double)rec.cpu_total_ns / 1e9,
                (long long)(rec.memory_peak_bytes >> 20));
    return 0;
}

/* Opens the directory that holds `path` (absolute, normalised by the recipe's checks) under
 * rootfd, creating it when `create`, and points *leaf at the last component. */
static int open_parent(int rootfd, const char *path, int create, const char **leaf, ap_error **err)
{
    char dir[4096];
    if (ap_fs_path(dir, sizeof(dir), "%s", path + 1) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s", path);
    char *slash = strrchr(dir, '/');
    *leaf = strrchr(path, '/') + 1;
    if (slash == NULL)
        dir[0] = '\0';
    else
        *slash = '\0';
    return ap_unpack_open_dir(rootfd, dir, create, err);
}

/* Copies the regular file `from` of the tree at rootfd to `to` under outfd, with its permission
 * bits; a symbolic link on either side, or anything but a regular file, is refused. */
static int copy_one(int rootfd, int outfd, const struct ap_stage_copy *c, ap_error **err)
{
    const char *sleaf, *dleaf;
    cleanup_close int sdir = open_parent(rootfd, c->from, 0, &sleaf, err);
    if (sdir < 0)
        return -1;
    cleanup_close int in = openat(sdir, sleaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat sb;
    if (in < 0 || fstat(in, &sb) < 0)
        return ap_error_make(err, errno, "opening %s", c->from);
    if (!S_ISREG(sb.st_mode))
        return ap_error_make(err, 0, "%s is not a regular file", c->from);
    cleanup_close int ddir = open_parent(outfd, c->to, 1, &dleaf, err);
    if (ddir < 0)
        return -1;
    cleanup_close int dst =
        openat(ddir, dleaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (dst < 0)
        return ap_error_make(err, errno, "creating %s", c->to);
    char buf[1 << 16];
    for (;;) {
        ssize_t n = read(in, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", c->from);
        if (n == 0)
            break;
        if (ap_fs_write_all(dst, buf, (size_t)n) < 0)
            return ap_error_make(err, errno, "writing %s", c->to);
    }
    if (fchmod(dst, sb.st_mode & 0777) < 0)
        return ap_error_make(err, errno, "setting the mode of %s", c->to);
    return 0;
}

/* A copy stage: the `copy` files of the builder's root (a layout at builder_layout_dir) into
 * <work>/out. */
static int copy_out(const struct ap_stage_opts *o, const struct ap_recipe_stage *st,
                    const char *builder_layout_dir, const char *work, ap_error **err)
{
    char rootfs[4096], out[4096];
    if (ap_oci_rootfs(o->cache_dir, builder_layout_dir, rootfs, sizeof(rootfs), err) < 0)
        return ap_error_wrap(err, "stage %s", st->name);
    if (ap_fs_path(out, sizeof(out), "%s/out", work) < 0)
        return ap_error_make(err, ENAMETOOLONG, "stage %s: its work folder %.64s...", st->name,
                             work);
    if (mkdir(out, 0755) < 0 || chmod(out, 0755) < 0)
        return ap_error_make(err, errno, "creating %s", out);
    cleanup_close int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int outfd = open(out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0 || outfd < 0)
        return ap_error_make(err, errno, "stage %s: opening %s and %s", st->name, rootfs, out);
    for (size_t i = 0; i < st->n_copy; i++)
        if (copy_one(rootfd, outfd, &st->copy[i], err) < 0)
            return ap_error_wrap(err, "stage %s: copying %s out of %s", st->name, st->copy[i].from,
                                 st->builder);
    ap_log_info("stage %s: copied %zu file%s out of %s", st->name, st->n_copy,
                st->n_copy == 1 ? "" : "s", st->builder);
    return 0;
}

/* The stage proper, once its builder is a layout: the cache key, the annotations, and the run
 * when nothing is cached for that key. */
static int run_in_builder(const struct ap_stage_opts *o, const struct ap_recipe *r,
                          const struct ap_recipe_stage *st, const char *builder_layout_dir,
                          const char *builder_digest_hex, char *layer_path, size_t len,
                          struct ap_layer_stats *stats, cJSON *annotations, int *from_cache,
                          ap_error **err)
{
    char root_dir[4096];
    if (ap_fs_dirname(o->images_dir, root_dir, sizeof(root_dir)) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the images folder %s", o->images_dir);

    struct ap_sha256 k;
    ap_sha256_init(&k);
    ap_sha256_update(&k, STAGE_FORMAT, sizeof(STAGE_FORMAT));
    ap_sha256_update(&k, builder_digest_hex, AP_SHA256_HEX_LEN + 1);
    ap_sha256_update(&k, &r->source_date_epoch, sizeof(r->source_date_epoch));
    cleanup_free char *def = ap_json_compact(st->json);
    if (def == NULL)
        return ap_error_make(err, ENOMEM, "stage %s", st->name);
    ap_sha256_update(&k, def, strlen(def) + 1);
    for (size_t i = 0; i < st->n_sources; i++) {
        char path[4096];
        if (ap_fs_path(path, sizeof(path), "%s/%s", root_dir, st->sources[i].path) < 0)
            return ap_error_make(err, ENAMETOOLONG, "stage %s: source %.64s... under %.64s...",
                                 st->name, st->sources[i].path, root_dir);
        if (hash_source(path, &k, err) < 0)
            return ap_error_wrap(err, "stage %s", st->name);
    }
    char key[AP_SHA256_HEX_LEN + 1];
    ap_sha256_final_hex(&k, key);

    char stages[4096], final_dir[4096];
    if (ap_fs_path(stages, sizeof(stages), "%s/stages", o->cache_dir) < 0 ||
        ap_fs_path(final_dir, sizeof(final_dir), "%s/%s", stages, key) < 0 ||
        ap_fs_path(layer_path, len, "%s/layer.tar.gz", final_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "stage %s: its layer under cache %.64s...",
                             st->name, o->cache_dir);

    char prefix[160];
    snprintf(prefix, sizeof(prefix), "appliance.stage.%s.", st->name);
    char ann_key[256], builder_digest[80];
    snprintf(builder_digest, sizeof(builder_digest), "sha256:%s", builder_digest_hex);
    snprintf(ann_key, sizeof(ann_key), "%sbuilder", prefix);
    cJSON_AddStringToObject(annotations, ann_key, builder_digest);
    snprintf(ann_key, sizeof(ann_key), "%sinputs.sha256", prefix);
    cJSON_AddStringToObject(annotations, ann_key, key);
    snprintf(ann_key, sizeof(ann_key), "%sdefinition", prefix);
    cJSON_AddStringToObject(annotations, ann_key, def);

    ap_error *miss = NULL;
    if (!o->no_build_cache && access(final_dir, F_OK) == 0 &&
        ap_image_cached_layer(final_dir, stats, &miss) == 0) {
        *from_cache = 1;
        return 0;
    }
    if (miss != NULL) {
        ap_log_warn("%s; running stage %s again", miss->msg, st->name);
        ap_error_release(&miss);
    }
    if (access(final_dir, F_OK) == 0 && ap_fs_remove_tree(final_dir, err) < 0)
        return -1;
    if (ap_fs_mkdir_p(stages, 0755, err) < 0)
        return -1;

    cleanup_free char *work = NULL;
    if (ap_fs_mkdtemp_in(stages, st->name, &work, err) < 0)
        return -1;
    int rc = st->n_copy > 0 ? copy_out(o, st, builder_layout_dir, work, err)
                            : run_command(o, r, st, root_dir, builder_layout_dir, work, err);
    char layer_root[4096];
    if (rc == 0)
        rc = place_output(work, st->install, layer_root, sizeof(layer_root), err);
    if (rc == 0 &&
        ap_image_pack_tree(layer_root, r->source_date_epoch, work, final_dir, stats, err) < 0)
        rc = ap_error_wrap(err, "stage %s of %s: packing its output", st->name, r->name);
    if (access(work, F_OK) == 0) {
        ap_error *ignored = NULL;
        ap_fs_remove_tree(work, &ignored);
        ap_error_release(&ignored);
    }
    return rc;
}

int ap_image_run_stage(const struct ap_stage_opts *o, const struct ap_recipe *r,
                       const struct ap_recipe_stage *st, const struct ap_stage_builder *b,
                       char *layer_path, size_t len, struct ap_layer_stats *stats,
                       cJSON *annotations, int *from_cache, ap_error **err)
{
    *from_cache = 0;
    return run_in_builder(o, r, st, b->layout, b->digest, layer_path, len, stats, annotations,
                          from_cache, err);
}
