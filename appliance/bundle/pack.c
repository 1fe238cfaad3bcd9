/* Packing a run directory into a deterministic, signed tar.zst. Two passes over the files:
 * the first hashes them (SHA256SUMS, the provenance subjects and the manifest come first in
 * name order, so their digests are needed before any data is written), the second streams them
 * into the archive and hashes them again, so a file that changed in between is an error and
 * never a wrong digest. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../image/lock.h"
#include "../image/oci.h"
#include "../image/recipe.h"
#include "archive.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif

/* The mtime of every member when results.json gives no start time: a fixed epoch, never the
 * time of packing. */
#define DEFAULT_MTIME 0
#define ZSTD_LEVEL "9"
#define RECIPE_MAX (16u << 20)
#define MAX_IMAGES 256
#define MAX_SOURCES 1024
#define ANY_SIZE UINT64_MAX
#define IO_BUF_SIZE ((size_t)1 << 16) /* read size while hashing and packing files */

/* One member to be: a file to copy (dirfd + path) or bytes built in memory (data). */
struct item {
    char *name;
    int dirfd;  /* AT_FDCWD or the run directory's descriptor */
    char *path; /* source relative to dirfd; NULL for data */
    char *data;
    size_t len;
    uint64_t size;
    unsigned mode;
    char sha256[AP_SHA256_HEX_LEN + 1];
    char pin[AP_SHA256_HEX_LEN + 1]; /* the digest the file must have, or "" */
    uint64_t pin_size;               /* and its size (ANY_SIZE: not pinned) */
    int in_layout;                   /* a layout's blob, pinned by its name */
    char *label; /* what to call a pinned input in errors ("golang-1.23-go 1.23.5-1 (go-1.23)") */
};

struct items {
    struct item *v;
    size_t n, cap;
};

static void items_free(struct items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].name);
        free(it->v[i].path);
        free(it->v[i].data);
        free(it->v[i].label);
    }
    free(it->v);
    memset(it, 0, sizeof(*it));
}

static struct item *items_push(struct items *it, const char *name, ap_error **err)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 256;
        struct item *v = realloc(it->v, cap * sizeof(*v));
        if (v == NULL) {
            ap_error_make(err, ENOMEM, "listing %s", name);
            return NULL;
        }
        it->v = v;
        it->cap = cap;
    }
    struct item *e = &it->v[it->n];
    memset(e, 0, sizeof(*e));
    e->name = strdup(name);
    if (e->name == NULL) {
        ap_error_make(err, ENOMEM, "listing %s", name);
        return NULL;
    }
    e->dirfd = AT_FDCWD;
    e->mode = 0644;
    it->n++;
    return e;
}

static int add_file(struct items *it, const char *name, int dirfd, const char *path, unsigned mode,
                    ap_error **err)
{
    struct item *e = items_push(it, name, err);
    if (e == NULL)
        return -1;
    e->dirfd = dirfd;
    e->mode = mode;
    e->path = strdup(path);
    if (e->path == NULL)
        return ap_error_make(err, ENOMEM, "listing %s", name);
    return 0;
}

/* Takes ownership of data (heap). */
static int add_data(struct items *it, const char *name, char *data, size_t len, ap_error **err)
{
    struct item *e = items_push(it, name, err);
    if (e == NULL) {
        free(data);
        return -1;
    }
    e->data = data;
    e->len = e->size = len;
    ap_sha256_hex(data, len, e->sha256);
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

/* ---- the run directory ---- */

struct walk {
    struct items *items;
    const char *root;  /* for messages */
    const char *under; /* member name prefix ("" or "inputs/images/NAME/") */
    int rootfd;        /* what item paths are relative to */
    dev_t out_dev;     /* the output directory, whose archives are not packed */
    ino_t out_ino;
    int have_out;
    int keep_exec; /* 0755 for executables (the run's files), else everything 0644 */
};

/* True for an archive, a signature or a temporary file of ours in the output directory. */
static int ours(const char *name)
{
    size_t n = strlen(name);
    static const char *const ends[] = {".tar.zst", ".tar.zst.minisig"};
    for (size_t i = 0; i < AP_ARRAY_SIZE(ends); i++) {
        size_t e = strlen(ends[i]);
        if (n >= e && strcmp(name + n - e, ends[i]) == 0)
            return 1;
    }
    return name[0] == '.' && strstr(name, ".tar.zst") != NULL;
}

static int walk_dir(struct walk *w, int dfd, const char *rel, ap_error **err)
{
    struct stat dst;
    if (fstat(dfd, &dst) < 0)
        return ap_error_make(err, errno, "checking %s/%s", w->root, rel);
    int is_out = w->have_out && dst.st_dev == w->out_dev && dst.st_ino == w->out_ino;
    int fd = dup(dfd);
    if (fd < 0)
        return ap_error_make(err, errno, "listing %s/%s", w->root, rel);
    cleanup_dir DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return ap_error_make(err, errno, "listing %s/%s", w->root, rel);
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[AP_BUNDLE_NAME_MAX + 1];
        if (snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
            (int)sizeof(path))
            return ap_error_make(err, ENAMETOOLONG, "%s/%s/%s", w->root, rel, de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return ap_error_make(err, errno, "checking %s/%s", w->root, path);
        if (S_ISDIR(st.st_mode)) {
            cleanup_close int sub =
                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                return ap_error_make(err, errno, "opening %s/%s", w->root, path);
            if (walk_dir(w, sub, path, err) < 0)
                return -1;
            continue;
        }
        if (S_ISLNK(st.st_mode))
            return ap_error_make(err, 0,
                                 "%s/%s is a symbolic link: an archive holds regular files "
                                 "only\nHint: replace it with a copy of what it points to, or "
                                 "move it out of the directory",
                                 w->root, path);
        if (!S_ISREG(st.st_mode))
            return ap_error_make(err, 0,
                                 "%s/%s is not a regular file (a device, FIFO or socket): an "
                                 "archive holds regular files only\nHint: move it out of the "
                                 "directory",
                                 w->root, path);
        if (is_out && ours(de->d_name)) {
            ap_log_debug("not packing %s/%s: an archive or signature in the output directory",
                         w->root, path);
            continue;
        }
        char name[AP_BUNDLE_NAME_MAX + 1];
        const char *why = NULL;
        char shown[160];
        if (snprintf(name, sizeof(name), "%s%s", w->under, path) >= (int)sizeof(name) ||
            ap_bundle_check_name(name, &why) < 0)
            return ap_error_make(err, 0,
                                 "%s/%s: the name cannot be a member name (%s)\nHint: rename "
                                 "it (UTF-8, no control characters or backslashes, at most %d "
                                 "bytes)",
                                 w->root, ap_bundle_printable(path, shown, sizeof(shown)),
                                 why != NULL ? why : "name too long", AP_BUNDLE_NAME_MAX);
        unsigned mode = w->keep_exec && (st.st_mode & 0111) ? 0755 : 0644;
        /* Paths are kept relative to the root's descriptor: a file reached through the
         * directory we walked, not through a name that might since point elsewhere. */
        if (add_file(w->items, name, w->rootfd, path, mode, err) < 0)
            return -1;
    }
    if (errno != 0)
        return ap_error_make(err, errno, "listing %s/%s", w->root, rel);
    return 0;
}

/* ---- hashing and writing ---- */

static int open_item(const struct item *e, struct stat *st, ap_error **err)
{
    int fd = openat(e->dirfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", e->path);
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        int saved = errno;
        close(fd);
        if (!S_ISREG(st->st_mode))
            return ap_error_make(err, 0, "%s is no longer a regular file", e->path);
        return ap_error_make(err, saved, "checking %s", e->path);
    }
    return fd;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        return n;
    }
}

/* Pass one: the size and sha256 of a file, checked against its pin. */
static int hash_item(struct item *e, ap_error **err)
{
    if (e->data != NULL)
        return 0;
    struct stat st;
    cleanup_close int fd = open_item(e, &st, err);
    if (fd < 0) {
        if (e->pin[0] != '\0' && !e->in_layout && (*err)->status == ENOENT)
            ap_error_hint(err,
                          "%s is a pinned input that is not in the download cache: "
                          "`appliance image build` fetches what an image needs",
                          e->label);
        return -1;
    }
    struct ap_sha256 h;
    ap_sha256_init(&h);
    cleanup_free char *buf = malloc(IO_BUF_SIZE);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", e->path);
    uint64_t size = 0;
    for (;;) {
        ssize_t n = read_some(fd, buf, IO_BUF_SIZE);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", e->path);
        if (n == 0)
            break;
        ap_sha256_update(&h, buf, (size_t)n);
        size += (uint64_t)n;
    }
    ap_sha256_final_hex(&h, e->sha256);
    e->size = size;
    if (e->pin[0] == '\0' ||
        (strcmp(e->pin, e->sha256) == 0 && (e->pin_size == ANY_SIZE || size == e->pin_size)))
        return 0;
    if (e->in_layout)
        return ap_error_make(err, 0,
                             "%s has sha256 %s, not the digest its name says: the layout is "
                             "damaged\nHint: build it again with `appliance image build "
                             "--rebuild`",
                             e->path, e->sha256);
    return ap_error_make(err, 0,
                         "%s (%s) has sha256 %s and %llu bytes, but the lock pins %s and "
                         "%llu bytes\nHint: remove the damaged file from the cache; "
                         "`appliance image build` fetches it again",
                         e->path, e->label, e->sha256, (unsigned long long)size, e->pin,
                         (unsigned long long)e->pin_size);
}

struct writer {
    struct archive *a;
    int fd;
    struct ap_sha256 hash;
    uint64_t bytes;
    int sink_errno;
    locale_t utf8, saved;
    int64_t mtime;
};

static la_ssize_t writer_out(struct archive *a, void *ud, const void *buf, size_t len)
{
    (void)a;
    struct writer *w = ud;
    if (ap_fs_write_all(w->fd, buf, len) < 0) {
        w->sink_errno = errno;
        return -1;
    }
    ap_sha256_update(&w->hash, buf, len);
    w->bytes += len;
    return (la_ssize_t)len;
}

static int writer_fail(struct writer *w, const char *what, ap_error **err)
{
    if (w->sink_errno != 0)
        return ap_error_make(err, w->sink_errno, "writing the archive (%s)", what);
    return ap_error_make(err, 0, "writing the archive (%s): %s", what, archive_error_string(w->a));
}

static void writer_free(struct writer *w)
{
    if (w->a != NULL)
        archive_write_free(w->a);
    w->a = NULL;
    if (w->utf8 != (locale_t)0) {
        uselocale(w->saved);
        freelocale(w->utf8);
        w->utf8 = (locale_t)0;
    }
}

static int writer_open(struct writer *w, int fd, int64_t mtime, ap_error **err)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->mtime = mtime;
    ap_sha256_init(&w->hash);
    /* pax headers carry names as UTF-8 through the thread's locale: the same bytes under any
     * caller's locale. */
    w->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (w->utf8 == (locale_t)0)
        return ap_error_make(err, errno, "loading the C.UTF-8 locale for member names");
    w->saved = uselocale(w->utf8);
    w->a = archive_write_new();
    if (w->a == NULL)
        return ap_error_make(err, ENOMEM, "creating the archive");
    /* zstd single-threaded at a fixed level, blocks of 64 KiB and no padding after the last:
     * the bytes depend on the content only. */
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
        archive_write_set_filter_option(w->a, "zstd", "compression-level", ZSTD_LEVEL) !=
            ARCHIVE_OK ||
        archive_write_set_bytes_per_block(w->a, 1 << 16) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        archive_write_open2(w->a, w, NULL, writer_out, NULL, NULL) != ARCHIVE_OK)
        return writer_fail(w, "setting up tar and zstd", err);
    return 0;
}

/* Pass two: one member, its bytes hashed again and compared with pass one. */
static int write_item(struct writer *w, const struct item *e, ap_error **err)
{
    struct archive_entry *ae = archive_entry_new();
    if (ae == NULL)
        return ap_error_make(err, ENOMEM, "writing %s", e->name);
    archive_entry_set_pathname(ae, e->name);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, e->mode);
    archive_entry_set_size(ae, (la_int64_t)e->size);
    archive_entry_set_mtime(ae, w->mtime, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    int r = archive_write_header(w->a, ae);
    archive_entry_free(ae);
    if (r != ARCHIVE_OK)
        return writer_fail(w, e->name, err);
    if (e->data != NULL) {
        if (e->len > 0 && archive_write_data(w->a, e->data, e->len) != (la_ssize_t)e->len)
            return writer_fail(w, e->name, err);
        return 0;
    }
    struct stat st;
    cleanup_close int fd = open_item(e, &st, err);
    if (fd < 0)
        return -1;
    struct ap_sha256 h;
    ap_sha256_init(&h);
    cleanup_free char *buf = malloc(IO_BUF_SIZE);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", e->path);
    uint64_t left = e->size;
    while (left > 0) {
        ssize_t n = read_some(fd, buf, left < IO_BUF_SIZE ? (size_t)left : IO_BUF_SIZE);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", e->path);
        if (n == 0)
            return ap_error_make(err, 0, "%s shrank while it was packed", e->path);
        ap_sha256_update(&h, buf, (size_t)n);
        if (archive_write_data(w->a, buf, (size_t)n) != n)
            return writer_fail(w, e->name, err);
        left -= (uint64_t)n;
    }
    char extra;
    ssize_t more = read_some(fd, &extra, 1);
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_final_hex(&h, hex);
    if (more != 0 || strcmp(hex, e->sha256) != 0)
        return ap_error_make(err, 0,
                             "%s changed while it was packed\nHint: pack a run directory nothing "
                             "is writing to",
                             e->path);
    return 0;
}

/* ---- what the run says ---- */

struct run {
    cJSON *results;                             /* NULL without results.json */
    char results_sha256[AP_SHA256_HEX_LEN + 1]; /* of the bytes parsed */
    char id[AP_RUN_ID_MAX + 1];
    const char *started, *ended, *profile, *command, *schema;
    int complete;
    int64_t mtime;
    const cJSON *environment;
    struct ap_bundle_image images[MAX_IMAGES];
    size_t n_images;
};

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int read_results(const char *run_dir, int runfd, struct run *r, ap_error **err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    r->complete = -1;
    r->mtime = DEFAULT_MTIME;
    struct stat st;
    if (fstatat(runfd, AP_BUNDLE_RESULTS, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT) {
            ap_log_warn("%s has no results.json: the archive's run id comes from its files and "
                        "its manifest names no run",
                        run_dir);
            return 0;
        }
        return ap_error_make(err, errno, "checking %s/results.json", run_dir);
    }
    if (!S_ISREG(st.st_mode))
        return ap_error_make(err, 0, "%s/results.json is not a regular file", run_dir);
    if (ap_fs_read_file(runfd, AP_BUNDLE_RESULTS, AP_RESULTS_MAX, &buf, &len, err) < 0)
        return ap_error_wrap(err, "%s", run_dir);
    char what[4200];
    snprintf(what, sizeof(what), "%s/results.json", run_dir);
    ap_sha256_hex(buf, len, r->results_sha256);
    if (ap_json_parse(buf, len, what, &r->results, err) < 0)
        return -1;
    if (ap_bench_results_check(r->results, r->id, err) < 0)
        return ap_error_wrap(err, "%s", run_dir);
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(r->results, "run");
    r->schema = get_str(r->results, "schema");
    r->started = get_str(run, "started");
    r->ended = get_str(run, "ended");
    r->profile = get_str(run, "profile");
    r->command = get_str(run, "command");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(run, "complete");
    if (cJSON_IsBool(c))
        r->complete = cJSON_IsTrue(c);
    if (r->started != NULL && ap_bench_results_parse_time(r->started, &r->mtime) < 0)
        r->mtime = DEFAULT_MTIME;
    r->environment = cJSON_GetObjectItemCaseSensitive(r->results, "environment");
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(r->environment, "images");
    const cJSON *img;
    cJSON_ArrayForEach(img, images)
    {
        if (r->n_images == MAX_IMAGES)
            return ap_error_make(err, 0, "%s: more than %d images", what, MAX_IMAGES);
        if (img->string == NULL || !ap_bundle_image_name_valid(img->string))
            return ap_error_make(err, 0, "%s: environment.images has a bad image name", what);
        const char *digest = get_str(img, "digest");
        if (digest == NULL || !ap_bundle_digest_valid(digest))
            return ap_error_make(err, 0, "%s: environment.images.%s.digest is not sha256:<hex>",
                                 what, img->string);
        struct ap_bundle_image *e = &r->images[r->n_images++];
        e->name = img->string;
        snprintf(e->digest, sizeof(e->digest), "%s", digest);
    }
    return 0;
}

static int cmp_image(const void *a, const void *b)
{
    return strcmp(((const struct ap_bundle_image *)a)->name,
                  ((const struct ap_bundle_image *)b)->name);
}

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The sha256 of each image's lock.json as the tree holds it now, compared with the one the
 * run recorded: with --with-inputs a difference is an error (the packed inputs would not be
 * what the run measured), else a warning. */
static int image_locks(const struct ap_pack_opts *o, struct run *r, ap_error **err)
{
    qsort(r->images, r->n_images, sizeof(r->images[0]), cmp_image);
    const cJSON *images = cJSON_GetObjectItemCaseSensitive(r->environment, "images");
    for (size_t i = 0; i < r->n_images; i++) {
        struct ap_bundle_image *e = &r->images[i];
        char path[4096], hex[AP_SHA256_HEX_LEN + 1];
        if (ap_fs_path(path, sizeof(path), "%s/%s/lock.json", o->images_dir, e->name) < 0)
            return ap_error_make(err, ENAMETOOLONG, "%s/%s", o->images_dir, e->name);
        ap_error *e2 = NULL;
        if (ap_sha256_file(AT_FDCWD, path, hex, NULL, &e2) == 0) {
            snprintf(e->lock_sha256, sizeof(e->lock_sha256), "sha256:%s", hex);
        } else if (e2->status == ENOENT) {
            e->lock_sha256[0] = '\0';
            ap_error_release(&e2);
        } else {
            *err = e2;
            return -1;
        }
        /* The run records sha256 of an empty lock for an image made of stages only. */
        const char *used =
            get_str(cJSON_GetObjectItemCaseSensitive(images, e->name), "lock_sha256");
        if (used == NULL || strcmp(used, "") == 0 || strcmp(used, "sha256:" EMPTY_SHA256) == 0)
            used = "";
        if (strcmp(used, e->lock_sha256) == 0)
            continue;
        const char *now = e->lock_sha256[0] ? e->lock_sha256 : "no file";
        if (o->with_inputs)
            return ap_error_make(err, 0,
                                 "%s: the run used a lock with %s, the tree has %s: the packed "
                                 "inputs would not be the run's\nHint: check out the tree the "
                                 "run was made from (or set APPLIANCE_IMAGES), or pack without "
                                 "--with-inputs",
                                 path, used[0] ? used : "no lock", now);
        ap_log_warn("%s: the run used a lock with %s, the tree has %s; the manifest records "
                    "the tree's",
                    path, used[0] ? used : "no lock", now);
    }
    return 0;
}

/* ---- --with-inputs ---- */

struct blob {
    char sha256[AP_SHA256_HEX_LEN + 1];
    uint64_t size;
    char *filename;
    char *label;
};

struct inputs {
    struct blob *blobs;
    size_t n_blobs, cap;
    char *names[MAX_IMAGES]; /* recipes packed (the images and their stages' builders) */
    size_t n_names;
    char *sources[MAX_SOURCES]; /* stage sources, relative to the tree that holds images/ */
    size_t n_sources;
};

static void inputs_free(struct inputs *in)
{
    for (size_t i = 0; i < in->n_blobs; i++) {
        free(in->blobs[i].filename);
        free(in->blobs[i].label);
    }
    free(in->blobs);
    for (size_t i = 0; i < in->n_names; i++)
        free(in->names[i]);
    for (size_t i = 0; i < in->n_sources; i++)
        free(in->sources[i]);
    memset(in, 0, sizeof(*in));
}

static int add_blob(struct inputs *in, const char *sha256, uint64_t size, const char *filename,
                    const char *label, ap_error **err)
{
    for (size_t i = 0; i < in->n_blobs; i++)
        if (strcmp(in->blobs[i].sha256, sha256) == 0)
            return 0;
    if (in->n_blobs == in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 64;
        struct blob *v = realloc(in->blobs, cap * sizeof(*v));
        if (v == NULL)
            return ap_error_make(err, ENOMEM, "listing inputs");
        in->blobs = v;
        in->cap = cap;
    }
    struct blob *b = &in->blobs[in->n_blobs];
    snprintf(b->sha256, sizeof(b->sha256), "%s", sha256);
    b->size = size;
    b->filename = strdup(filename);
    b->label = strdup(label);
    if (b->filename == NULL || b->label == NULL) {
        free(b->filename);
        free(b->label);
        return ap_error_make(err, ENOMEM, "listing inputs");
    }
    in->n_blobs++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_blob(const void *a, const void *b)
{
    return strcmp(((const struct blob *)a)->sha256, ((const struct blob *)b)->sha256);
}

static int have_name(const struct inputs *in, const char *name)
{
    for (size_t i = 0; i < in->n_names; i++)
        if (strcmp(in->names[i], name) == 0)
            return 1;
    return 0;
}

/* A path of the tree (a stage source or a recipe's "path" file) to pack under inputs/sources/,
 * listed once. */
static int add_source_name(struct inputs *in, const char *path, ap_error **err)
{
    for (size_t j = 0; j < in->n_sources; j++)
        if (strcmp(in->sources[j], path) == 0)
            return 0;
    if (in->n_sources == MAX_SOURCES)
        return ap_error_make(err, 0, "more than %d stage sources", MAX_SOURCES);
    if ((in->sources[in->n_sources] = strdup(path)) == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    in->n_sources++;
    return 0;
}

/* The recipe (and lock) of one image: its pinned packages and its stages' fetched files
 * become blobs, its stages' builders join the queue. */
static int add_recipe(const struct ap_pack_opts *o, struct inputs *in, struct items *items,
                      const char *name, ap_error **err)
{
    char path[4096], member[AP_BUNDLE_NAME_MAX + 1];
    cleanup_free char *buf = NULL;
    size_t len = 0;
    ap_fs_path(path, sizeof(path), "%s/%s/image.json", o->images_dir, name);
    if (ap_fs_read_file(AT_FDCWD, path, RECIPE_MAX, &buf, &len, err) < 0)
        return ap_error_hint(err, "--with-inputs packs the recipes of the run's images: run "
                                  "from the source tree or set APPLIANCE_IMAGES");
    cleanup_recipe struct ap_recipe *rec = NULL;
    if (ap_recipe_parse(buf, len, path, &rec, err) < 0)
        return -1;
    snprintf(member, sizeof(member), "inputs/recipes/%s/image.json", name);
    if (add_file(items, member, AT_FDCWD, path, 0644, err) < 0)
        return -1;
    ap_fs_path(path, sizeof(path), "%s/%s/lock.json", o->images_dir, name);
    if (rec->n_packages > 0) {
        cleanup_free char *lbuf = NULL;
        size_t llen = 0;
        if (ap_fs_read_file(AT_FDCWD, path, RECIPE_MAX, &lbuf, &llen, err) < 0)
            return -1;
        cleanup_lock struct ap_lock *lock = NULL;
        if (ap_lock_parse(lbuf, llen, path, &lock, err) < 0)
            return -1;
        snprintf(member, sizeof(member), "inputs/recipes/%s/lock.json", name);
        if (add_file(items, member, AT_FDCWD, path, 0644, err) < 0)
            return -1;
        for (size_t i = 0; i < lock->n; i++) {
            const struct ap_lock_pkg *p = &lock->pkgs[i];
            char label[512];
            snprintf(label, sizeof(label), "%s %s (%s)", p->name, p->version, name);
            if (add_blob(in, p->sha256, p->size, p->filename, label, err) < 0)
                return -1;
        }
    }
    for (size_t i = 0; i < rec->n_files; i++) {
        /* A file of the tree ("path") travels as a source, once for every recipe naming it. */
        if (rec->files[i].from_tree) {
            if (add_source_name(in, rec->files[i].src, err) < 0)
                return -1;
            continue;
        }
        snprintf(member, sizeof(member), "inputs/recipes/%s/%s", name, rec->files[i].src);
        ap_fs_path(path, sizeof(path), "%s/%s/%s", o->images_dir, name, rec->files[i].src);
        if (add_file(items, member, AT_FDCWD, path, 0644, err) < 0)
            return -1;
    }
    for (size_t s = 0; s < rec->n_stages; s++) {
        const struct ap_recipe_stage *st = &rec->stages[s];
        for (size_t f = 0; f < st->n_fetch; f++) {
            char label[512];
            snprintf(label, sizeof(label), "%s (stage %s of %s)", st->fetch[f].filename, st->name,
                     name);
            if (add_blob(in, st->fetch[f].sha256, st->fetch[f].size, st->fetch[f].filename, label,
                         err) < 0)
                return -1;
        }
        for (size_t k = 0; k < st->n_sources; k++)
            if (add_source_name(in, st->sources[k].path, err) < 0)
                return -1;
        /* "self" is this recipe, packed already. */
        if (st->builder != NULL && strcmp(st->builder, AP_RECIPE_BUILDER_SELF) != 0 &&
            !have_name(in, st->builder)) {
            if (in->n_names == MAX_IMAGES)
                return ap_error_make(err, 0, "more than %d images behind the run's", MAX_IMAGES);
            if ((in->names[in->n_names] = strdup(st->builder)) == NULL)
                return ap_error_make(err, ENOMEM, "listing inputs");
            in->n_names++;
        }
    }
    return 0;
}

/* A stage source (a file, or a directory walked whole) under inputs/sources/. */
static int add_source(const struct ap_pack_opts *o, struct items *items, const char *rel,
                      ap_error **err)
{
    char root[4096], path[8192], under[AP_BUNDLE_NAME_MAX + 1];
    if (ap_fs_dirname(o->images_dir, root, sizeof(root)) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the images folder %s", o->images_dir);
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    snprintf(under, sizeof(under), "inputs/sources/%s", rel);
    struct stat st;
    if (lstat(path, &st) < 0)
        return ap_error_make(err, errno, "stage source %s", path);
    if (S_ISREG(st.st_mode))
        return add_file(items, under, AT_FDCWD, path, 0644, err);
    if (!S_ISDIR(st.st_mode))
        return ap_error_make(err, 0, "stage source %s is neither a file nor a directory", path);
    cleanup_close int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    strcat(under, "/");
    struct items found = {0};
    struct walk w = {.items = &found, .root = path, .under = under, .rootfd = dfd};
    int rc = walk_dir(&w, dfd, "", err);
    for (size_t k = 0; rc == 0 && k < found.n; k++) {
        char p[12288];
        snprintf(p, sizeof(p), "%s/%s", path, found.v[k].path);
        rc = add_file(items, found.v[k].name, AT_FDCWD, p, 0644, err);
    }
    items_free(&found);
    return rc;
}

/* Layouts, recipes, locks and pinned files of the run's images (and of the builders their
 * stages ran in, so every image can be built again offline). Fills the manifest's "inputs". */
static int collect_inputs(const struct ap_pack_opts *o, const struct run *r, struct items *items,
                          cJSON *desc, ap_error **err)
{
    struct inputs in = {0};
    int rc = -1;
    cJSON *layouts = cJSON_AddObjectToObject(desc, "layouts");
    cJSON *recipes = cJSON_AddArrayToObject(desc, "recipes");
    cJSON *sources = cJSON_AddArrayToObject(desc, "sources");
    cJSON *blobs = cJSON_AddArrayToObject(desc, "blobs");
    if (layouts == NULL || recipes == NULL || sources == NULL || blobs == NULL) {
        ap_error_make(err, ENOMEM, "listing inputs");
        goto out;
    }
    if (r->n_images == 0) {
        ap_log_warn("--with-inputs: the run names no images, so there are none to pack");
    }
    for (size_t i = 0; i < r->n_images; i++) {
        const char *name = r->images[i].name;
        char dir[4096];
        if (ap_fs_path(dir, sizeof(dir), "%s/%s", o->layouts_dir, name) < 0) {
            ap_error_make(err, ENAMETOOLONG, "%s/%s", o->layouts_dir, name);
            goto out;
        }
        struct ap_oci_info info;
        if (ap_oci_read(dir, &info, err) < 0) {
            ap_error_hint(err,
                          "--with-inputs packs the layouts the run measured: build them "
                          "with `appliance image build %s` or point APPLIANCE_OUT at them",
                          name);
            goto out;
        }
        if (strcmp(info.manifest_digest, r->images[i].digest + 7) != 0) {
            ap_error_make(err, 0,
                          "%s holds manifest sha256:%s, but the run measured %s\nHint: "
                          "rebuild it from the lock the run used (builds are reproducible), "
                          "or pack without --with-inputs",
                          dir, info.manifest_digest, r->images[i].digest);
            goto out;
        }
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            ap_error_make(err, errno, "opening %s", dir);
            goto out;
        }
        char under[512];
        snprintf(under, sizeof(under), "inputs/images/%s/", name);
        /* Item paths are relative to the working directory: the layout's own descriptor
         * closes at the end of this iteration. */
        struct items layout = {0};
        struct walk w = {.items = &layout, .root = dir, .under = under, .rootfd = dfd};
        if (walk_dir(&w, dfd, "", err) < 0) {
            items_free(&layout);
            goto out;
        }
        for (size_t k = 0; k < layout.n; k++) {
            char p[8192];
            snprintf(p, sizeof(p), "%s/%s", dir, layout.v[k].path);
            if (add_file(items, layout.v[k].name, AT_FDCWD, p, 0644, err) < 0) {
                items_free(&layout);
                goto out;
            }
            /* A blob is named by its digest: checked while hashed, as verify will. */
            const char *base = strrchr(layout.v[k].path, '/');
            struct item *e = &items->v[items->n - 1];
            if (strncmp(layout.v[k].path, "blobs/sha256/", 13) == 0 && base != NULL &&
                ap_sha256_hex_valid(base + 1)) {
                snprintf(e->pin, sizeof(e->pin), "%s", base + 1);
                e->pin_size = ANY_SIZE;
                e->in_layout = 1;
            }
        }
        items_free(&layout);
        if (cJSON_AddStringToObject(layouts, name, r->images[i].digest) == NULL ||
            (in.names[in.n_names] = strdup(name)) == NULL) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
        in.n_names++;
    }
    for (size_t i = 0; i < in.n_names; i++)
        if (add_recipe(o, &in, items, in.names[i], err) < 0)
            goto out;
    qsort(in.sources, in.n_sources, sizeof(in.sources[0]), cmp_str);
    for (size_t i = 0; i < in.n_sources; i++) {
        if (add_source(o, items, in.sources[i], err) < 0 ||
            !cJSON_AddItemToArray(sources, cJSON_CreateString(in.sources[i]))) {
            if (*err == NULL)
                ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
    }
    qsort(in.names, in.n_names, sizeof(in.names[0]), cmp_str);
    qsort(in.blobs, in.n_blobs, sizeof(in.blobs[0]), cmp_blob);
    for (size_t i = 0; i < in.n_names; i++)
        if (!cJSON_AddItemToArray(recipes, cJSON_CreateString(in.names[i]))) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
    for (size_t i = 0; i < in.n_blobs; i++) {
        const struct blob *b = &in.blobs[i];
        char member[128], path[4096];
        snprintf(member, sizeof(member), "inputs/blobs/sha256/%s", b->sha256);
        if (ap_fs_path(path, sizeof(path), "%s/blobs/sha256/%s", o->cache_dir, b->sha256) < 0) {
            ap_error_make(err, ENAMETOOLONG, "%s", o->cache_dir);
            goto out;
        }
        if (add_file(items, member, AT_FDCWD, path, 0644, err) < 0)
            goto out;
        struct item *e = &items->v[items->n - 1];
        snprintf(e->pin, sizeof(e->pin), "%s", b->sha256);
        e->pin_size = b->size;
        if ((e->label = strdup(b->label)) == NULL) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
        cJSON *j = cJSON_CreateObject();
        if (j == NULL || !cJSON_AddItemToArray(blobs, j) ||
            cJSON_AddStringToObject(j, "sha256", b->sha256) == NULL ||
            cJSON_AddNumberToObject(j, "size", (double)b->size) == NULL ||
            cJSON_AddStringToObject(j, "filename", b->filename) == NULL) {
            ap_error_make(err, ENOMEM, "listing inputs");
            goto out;
        }
    }
    rc = 0;
out:
    inputs_free(&in);
    return rc;
}

/* ---- putting it together ---- */

static int is_reserved(const char *name)
{
    return strcmp(name, AP_BUNDLE_SUMS) == 0 || strcmp(name, AP_BUNDLE_MANIFEST) == 0 ||
           strcmp(name, AP_BUNDLE_PROVENANCE) == 0 ||
           strncmp(name, AP_BUNDLE_INPUTS_DIR "/", sizeof(AP_BUNDLE_INPUTS_DIR)) == 0;
}

/* Without a run id in results.json: "dir-" and the first 16 hex digits of the sha256 of the
 * SHA256SUMS lines of the run's files, so the same directory always gets the same id. */
static int derive_id(struct items *items, size_t n, char *id, ap_error **err)
{
    struct ap_bundle_files f = {0};
    int rc = -1;
    cleanup_free char *text = NULL;
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (ap_bundle_files_add(&f, items->v[i].name, items->v[i].size, items->v[i].sha256, err) <
            0)
            goto out;
    ap_bundle_files_sort(&f);
    if (ap_bundle_sums_format(&f, &text, &len, err) < 0)
        goto out;
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(text, len, hex);
    snprintf(id, AP_RUN_ID_MAX + 1, "dir-%.16s", hex);
    rc = 0;
out:
    ap_bundle_files_free(&f);
    return rc;
}

static int json_item(struct items *items, const char *name, const cJSON *j, ap_error **err)
{
    cleanup_free char *s = cJSON_Print(j);
    if (s == NULL)
        return ap_error_make(err, ENOMEM, "serialising %s", name);
    size_t len = strlen(s);
    char *data = malloc(len + 2);
    if (data == NULL)
        return ap_error_make(err, ENOMEM, "serialising %s", name);
    memcpy(data, s, len);
    data[len] = '\n';
    data[len + 1] = '\0';
    return add_data(items, name, data, len + 1, err);
}

/* Every item so far (all hashed) as a sorted file list. */
static int file_list(const struct items *items, struct ap_bundle_files *f, ap_error **err)
{
    for (size_t i = 0; i < items->n; i++)
        if (ap_bundle_files_add(f, items->v[i].name, items->v[i].size, items->v[i].sha256, err) < 0)
            return -1;
    ap_bundle_files_sort(f);
    return 0;
}

static int check_bounds(const struct items *items, ap_error **err)
{
    struct ap_archive_limits l;
    ap_archive_default_limits(&l);
    uint64_t total = 0;
    if (items->n > l.max_members)
        return ap_error_make(err, 0, "%zu files are more than the %llu an archive may hold",
                             items->n, (unsigned long long)l.max_members);
    for (size_t i = 0; i < items->n; i++) {
        if (items->v[i].size > l.max_member)
            return ap_error_make(err, 0,
                                 "%s is %llu bytes, more than the %llu one member may have "
                                 "(appliance verify would refuse the archive)",
                                 items->v[i].path != NULL ? items->v[i].path : items->v[i].name,
                                 (unsigned long long)items->v[i].size,
                                 (unsigned long long)l.max_member);
        total += items->v[i].size;
    }
    if (total > l.max_total)
        return ap_error_make(err, 0,
                             "the files add up to %llu bytes, more than the %llu an archive may "
                             "hold (appliance verify would refuse it)",
                             (unsigned long long)total, (unsigned long long)l.max_total);
    return 0;
}

/* The archive's file: anonymous (O_TMPFILE) where the file system allows it, so a process
 * killed while writing leaves nothing behind; else a hidden temporary name. */
static int open_output(const char *out_dir, int outfd, const char *id, char *tmp, size_t len,
                       ap_error **err)
{
    tmp[0] = '\0';
    int fd = openat(outfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return ap_error_make(err, errno, "creating the archive in %s", out_dir);
        if (ap_fs_path(tmp, len, "%s/.%s.tar.zst.XXXXXX", out_dir, id) < 0)
            return ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            int saved = errno;
            tmp[0] = '\0';
            return ap_error_make(err, saved, "creating the archive in %s", out_dir);
        }
    }
    if (fchmod(fd, 0644) < 0) {
        int saved = errno;
        close(fd);
        if (tmp[0] != '\0')
            unlink(tmp);
        tmp[0] = '\0';
        return ap_error_make(err, saved, "creating the archive in %s", out_dir);
    }
    return fd;
}

static int write_archive(int fd, const struct items *items, int64_t mtime, char *sha256,
                         uint64_t *bytes, ap_error **err)
{
    struct writer w;
    int rc = -1;
    if (writer_open(&w, fd, mtime, err) < 0)
        goto out;
    for (size_t i = 0; i < items->n; i++)
        if (write_item(&w, &items->v[i], err) < 0)
            goto out;
    if (archive_write_close(w.a) != ARCHIVE_OK) {
        writer_fail(&w, "finishing", err);
        goto out;
    }
    if (fsync(fd) < 0) {
        ap_error_make(err, errno, "writing the archive (fsync)");
        goto out;
    }
    ap_sha256_final_hex(&w.hash, sha256);
    *bytes = w.bytes;
    rc = 0;
out:
    writer_free(&w);
    return rc;
}

/* Signs the archive at path into sig_tmp and checks the signature right away with the public
 * half of the key. */
static int sign(const struct ap_minisign_sk *sk, const char *path, const char *sig_tmp,
                const char *comment, ap_error **err)
{
    if (ap_minisign_sign(sk, path, comment, AP_ARCHIVE_UNTRUSTED_COMMENT, sig_tmp, err) < 0)
        return ap_error_wrap(err, "signing %s", path);
    struct ap_minisign_pk pk;
    ap_minisign_sk_public(sk, &pk);
    char trusted[AP_MINISIGN_COMMENT_MAX + 1];
    if (ap_minisign_verify(&pk, path, sig_tmp, trusted, sizeof(trusted), err) < 0)
        return ap_error_wrap(err, "checking the signature just made");
    if (strcmp(trusted, comment) != 0)
        return ap_error_make(err, 0,
                             "checking the signature just made: its trusted comment "
                             "differs from the one signed");
    return 0;
}

/* Gives the finished archive (and its signature) their final names. The old signature goes
 * first: at no moment does a signature sit beside an archive it does not belong to. */
static int publish(const struct ap_pack_opts *o, const char *out_dir, int outfd, int fd, char *tmp,
                   size_t tmplen, struct ap_pack_result *res, ap_error **err)
{
    char sig_tmp[4096] = "", comment[AP_MINISIGN_COMMENT_MAX];
    const char *base = strrchr(res->archive, '/') + 1;
    int rc = -1;
    if (tmp[0] == '\0') {
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (ap_fs_path(tmp, tmplen, "%s/.%s.%ld.part", out_dir, base, (long)getpid()) < 0) {
            ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
            tmp[0] = '\0';
            goto out;
        }
        unlink(tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0 &&
            linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) < 0) {
            ap_error_make(err, errno, "naming the archive %s", tmp);
            tmp[0] = '\0';
            goto out;
        }
    }
    if (o->sk != NULL) {
        snprintf(comment, sizeof(comment), "appliance run %s sha256:%s", res->run_id, res->sha256);
        if (ap_fs_path(sig_tmp, sizeof(sig_tmp), "%s/.%s.minisig.%ld.part", out_dir, base,
                       (long)getpid()) < 0) {
            ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
            sig_tmp[0] = '\0';
            goto out;
        }
        if (sign(o->sk, tmp, sig_tmp, comment, err) < 0)
            goto out;
    }
    char sig_base[512];
    snprintf(sig_base, sizeof(sig_base), "%s.minisig", base);
    if (unlinkat(outfd, sig_base, 0) < 0 && errno != ENOENT) {
        ap_error_make(err, errno, "removing the old %s/%s", out_dir, sig_base);
        goto out;
    }
    if (rename(tmp, res->archive) < 0) {
        ap_error_make(err, errno, "renaming %s to %s", tmp, res->archive);
        goto out;
    }
    tmp[0] = '\0';
    if (o->sk != NULL) {
        if (rename(sig_tmp, res->signature) < 0) {
            ap_error_make(err, errno, "renaming %s to %s", sig_tmp, res->signature);
            goto out;
        }
        sig_tmp[0] = '\0';
    }
    if (fsync(outfd) < 0) {
        ap_error_make(err, errno, "syncing %s", out_dir);
        goto out;
    }
    rc = 0;
out:
    if (tmp[0] != '\0')
        unlink(tmp);
    if (sig_tmp[0] != '\0')
        unlink(sig_tmp);
    return rc;
}

static int hash_items(struct items *items, size_t from, ap_error **err)
{
    for (size_t i = from; i < items->n; i++)
        if (hash_item(&items->v[i], err) < 0)
            return -1;
    return 0;
}

static int pack(const struct ap_pack_opts *o, struct items *items, struct run *r, cJSON **inputs,
                struct ap_pack_result *res, ap_error **err)
{
    const char *out_dir = o->out_dir != NULL ? o->out_dir : "results";
    cleanup_close int runfd = open(o->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (runfd < 0)
        return ap_error_make(err, errno, "opening the run directory %s", o->run_dir);
    if (ap_fs_mkdir_p(out_dir, 0755, err) < 0)
        return -1;
    cleanup_close int outfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat ost;
    if (outfd < 0 || fstat(outfd, &ost) < 0)
        return ap_error_make(err, errno, "opening %s", out_dir);

    struct walk w = {.items = items,
                     .root = o->run_dir,
                     .under = "",
                     .rootfd = runfd,
                     .out_dev = ost.st_dev,
                     .out_ino = ost.st_ino,
                     .have_out = 1,
                     .keep_exec = 1};
    if (walk_dir(&w, runfd, "", err) < 0)
        return -1;
    for (size_t i = 0; i < items->n; i++)
        if (is_reserved(items->v[i].name))
            return ap_error_make(err, 0,
                                 "%s/%s: the archive adds a member of that name itself\nHint: "
                                 "rename it or move it out of the run directory",
                                 o->run_dir, items->v[i].name);
    if (items->n == 0)
        ap_log_warn("%s holds no files", o->run_dir);
    size_t n_run = items->n;
    if (read_results(o->run_dir, runfd, r, err) < 0)
        return -1;
    if (hash_items(items, 0, err) < 0)
        return -1;
    /* The manifest describes the results.json that was parsed: it must be the one packed. */
    for (size_t i = 0; r->results != NULL && i < n_run; i++)
        if (strcmp(items->v[i].name, AP_BUNDLE_RESULTS) == 0 &&
            strcmp(items->v[i].sha256, r->results_sha256) != 0)
            return ap_error_make(err, 0,
                                 "%s/results.json changed while it was packed\nHint: pack a run "
                                 "directory nothing is writing to",
                                 o->run_dir);
    if (r->id[0] == '\0' && derive_id(items, n_run, r->id, err) < 0)
        return -1;
    snprintf(res->run_id, sizeof(res->run_id), "%s", r->id);
    if (image_locks(o, r, err) < 0)
        return -1;
    for (size_t i = 1; i < r->n_images; i++)
        if (strcmp(r->images[i - 1].name, r->images[i].name) == 0)
            return ap_error_make(err, 0, "%s/results.json names image %s twice", o->run_dir,
                                 r->images[i].name);

    char claims_hex[AP_SHA256_HEX_LEN + 1] = "";
    char claims_member[AP_BUNDLE_NAME_MAX + 1] = "";
    if (o->claims_path != NULL) {
        if (ap_sha256_file(AT_FDCWD, o->claims_path, claims_hex, NULL, err) < 0)
            return ap_error_wrap(err, "--claims");
        const char *slash = strrchr(o->claims_path, '/');
        const char *base = slash != NULL ? slash + 1 : o->claims_path;
        const char *why = NULL;
        snprintf(claims_member, sizeof(claims_member), "inputs/claims/%s", base);
        if (ap_bundle_check_name(claims_member, &why) < 0)
            return ap_error_make(err, 0,
                                 "--claims %s: the file name cannot be a member name "
                                 "(%s)",
                                 o->claims_path, why);
    }
    if (o->with_inputs) {
        if ((*inputs = cJSON_CreateObject()) == NULL)
            return ap_error_make(err, ENOMEM, "listing inputs");
        size_t first = items->n;
        if (collect_inputs(o, r, items, *inputs, err) < 0)
            return -1;
        if (claims_member[0] != '\0') {
            if (add_file(items, claims_member, AT_FDCWD, o->claims_path, 0644, err) < 0 ||
                cJSON_AddStringToObject(*inputs, "claims", claims_member) == NULL)
                return ap_error_make(err, ENOMEM, "listing inputs");
        } else if (cJSON_AddNullToObject(*inputs, "claims") == NULL) {
            return ap_error_make(err, ENOMEM, "listing inputs");
        }
        ap_log_info("hashing %zu inputs of %zu images", items->n - first, r->n_images);
        if (hash_items(items, first, err) < 0)
            return -1;
        if (claims_member[0] != '\0' && strcmp(items->v[items->n - 1].sha256, claims_hex) != 0)
            return ap_error_make(err, 0, "%s changed while it was packed", o->claims_path);
    }
    if (check_bounds(items, err) < 0)
        return -1;

    struct ap_bundle_info info = {.run_id = r->id,
                                  .started = r->started,
                                  .ended = r->ended,
                                  .profile = r->profile,
                                  .command = r->command,
                                  .complete = r->complete,
                                  .results_schema = r->schema,
                                  .environment = r->environment,
                                  .images = r->images,
                                  .n_images = r->n_images,
                                  .claims_sha256 = claims_hex[0] ? claims_hex : NULL,
                                  .with_inputs = o->with_inputs,
                                  .inputs = *inputs,
                                  .version = AP_VERSION};
    cleanup_cjson cJSON *manifest = NULL, *prov = NULL;
    if (ap_bundle_manifest_build(&info, &manifest, err) < 0 ||
        json_item(items, AP_BUNDLE_MANIFEST, manifest, err) < 0)
        return -1;
    struct ap_bundle_files files = {0};
    int rc = file_list(items, &files, err);
    if (rc == 0)
        rc = ap_bundle_provenance_build(&info, &files, &prov, err);
    ap_bundle_files_free(&files);
    if (rc < 0 || json_item(items, AP_BUNDLE_PROVENANCE, prov, err) < 0)
        return -1;
    cleanup_free char *sums = NULL;
    size_t sums_len = 0;
    rc = file_list(items, &files, err);
    if (rc == 0)
        rc = ap_bundle_sums_format(&files, &sums, &sums_len, err);
    ap_bundle_files_free(&files);
    if (rc < 0 || add_data(items, AP_BUNDLE_SUMS, steal_pointer(&sums), sums_len, err) < 0)
        return -1;
    qsort(items->v, items->n, sizeof(items->v[0]), cmp_item);
    for (size_t i = 1; i < items->n; i++)
        if (strcmp(items->v[i - 1].name, items->v[i].name) == 0)
            return ap_error_make(err, 0, "two files would be member \"%s\"", items->v[i].name);

    if (ap_fs_path(res->archive, sizeof(res->archive), "%s/%s.tar.zst", out_dir, r->id) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
    if (o->sk != NULL &&
        ap_fs_path(res->signature, sizeof(res->signature), "%s.minisig", res->archive) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
    uint64_t total = 0;
    for (size_t i = 0; i < items->n; i++)
        total += items->v[i].size;
    char human[32];
    ap_log_info("packing %zu files (%s) into %s", items->n,
                ap_fs_human_bytes(total, human, sizeof(human)), res->archive);
    char tmp[4096];
    cleanup_close int fd = open_output(out_dir, outfd, r->id, tmp, sizeof(tmp), err);
    if (fd < 0)
        return -1;
    if (write_archive(fd, items, r->mtime, res->sha256, &res->bytes, err) < 0) {
        if (tmp[0] != '\0')
            unlink(tmp);
        return ap_error_wrap(err, "%s", res->archive);
    }
    res->files = items->n;
    return publish(o, out_dir, outfd, fd, tmp, sizeof(tmp), res, err);
}

int ap_pack_run(const struct ap_pack_opts *o, struct ap_pack_result *res, ap_error **err)
{
    memset(res, 0, sizeof(*res));
    if (o->run_dir == NULL)
        return ap_error_make(err, EINVAL, "packing: no run directory");
    struct ap_pack_opts opts = *o;
    if (opts.images_dir == NULL)
        opts.images_dir = "images";
    if (opts.layouts_dir == NULL)
        opts.layouts_dir = "build/images";
    if (opts.with_inputs && opts.cache_dir == NULL)
        return ap_error_make(err, EINVAL, "packing inputs: no download cache given");
    struct items items = {0};
    struct run r;
    memset(&r, 0, sizeof(r));
    cJSON *inputs = NULL;
    int rc = pack(&opts, &items, &r, &inputs, res, err);
    cJSON_Delete(inputs);
    cJSON_Delete(r.results);
    items_free(&items);
    if (rc < 0)
        return ap_error_wrap(err, "packing %s", o->run_dir);
    return 0;
}

int ap_pack(const struct ap_pack_opts *o, char *archive, size_t len, ap_error **err)
{
    struct ap_pack_result *res = malloc(sizeof(*res));
    if (res == NULL)
        return ap_error_make(err, ENOMEM, "packing %s", o->run_dir);
    int rc = ap_pack_run(o, res, err);
    if (rc == 0 && snprintf(archive, len, "%s", res->archive) >= (int)len)
        rc = ap_error_make(err, ENAMETOOLONG, "%s", res->archive);
    free(res);
    return rc;
}
