/* Packing a run directory into a deterministic, signed tar.zst: collecting the members. Two
 * passes over the files: the first hashes them (SHA256SUMS, the provenance subjects and the
 * manifest come first in name order, so their digests are needed before any data is
 * written), the second (archive-write.c) streams them into the archive and hashes them again,
 * so a file that changed in between is an error and never a wrong digest. publish.c signs
 * the archive and gives it its name. */
#include <assert.h>
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
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/log.h"
#include "archive.h"
#include "pack.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif

/* The mtime of every member when results.json gives no start time: a fixed epoch, never the
 * time of packing. */
#define DEFAULT_MTIME 0
#define MAX_IMAGES 256
#define NAME_HINT "rename it (UTF-8, no control characters or backslashes, at most %d bytes)"

void ap_pack_items_free(struct ap_pack_items *it)
{
    for (size_t i = 0; i < it->n; i++) {
        free(it->v[i].name);
        free(it->v[i].path);
        free(it->v[i].data);
    }
    free(it->v);
    memset(it, 0, sizeof(*it));
}

static struct ap_pack_item *items_push(struct ap_pack_items *it, const char *name, ap_error **err)
{
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 256;
        struct ap_pack_item *v = realloc(it->v, cap * sizeof(*v));
        if (v == NULL) {
            ap_error_make(err, ENOMEM, "listing %s", name);
            return NULL;
        }
        it->v = v;
        it->cap = cap;
    }
    struct ap_pack_item *e = &it->v[it->n];
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

int ap_pack_add_file(struct ap_pack_items *it, const char *name, int dirfd, const char *path,
                     unsigned mode, ap_error **err)
{
    struct ap_pack_item *e = items_push(it, name, err);
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
int ap_pack_add_data(struct ap_pack_items *it, const char *name, char *data, size_t len,
                     ap_error **err)
{
    struct ap_pack_item *e = items_push(it, name, err);
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
    return strcmp(((const struct ap_pack_item *)a)->name, ((const struct ap_pack_item *)b)->name);
}

/* ---- the run directory ---- */

struct walk {
    struct ap_pack_items *items;
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
        if (S_ISLNK(st.st_mode)) {
            ap_error_make(err, 0, "%s/%s is a symbolic link: an archive holds regular files only",
                          w->root, path);
            return ap_error_hint(err, "replace it with a copy of what it points to, or move it "
                                      "out of the directory");
        }
        if (!S_ISREG(st.st_mode)) {
            ap_error_make(err, 0,
                          "%s/%s is not a regular file (a device, FIFO or socket): an archive "
                          "holds regular files only",
                          w->root, path);
            return ap_error_hint(err, "move it out of the directory");
        }
        if (is_out && ours(de->d_name)) {
            ap_log_debug("not packing %s/%s: an archive or signature in the output directory",
                         w->root, path);
            continue;
        }
        char name[AP_BUNDLE_NAME_MAX + 1];
        const char *why = NULL;
        char shown[160];
        if (snprintf(name, sizeof(name), "%s%s", w->under, path) >= (int)sizeof(name) ||
            ap_bundle_check_name(name, &why) < 0) {
            ap_error_make(err, 0, "%s/%s: the name cannot be a member name (%s)", w->root,
                          ap_bundle_printable(path, shown, sizeof(shown)),
                          why != NULL ? why : "name too long");
            return ap_error_hint(err, NAME_HINT, AP_BUNDLE_NAME_MAX);
        }
        unsigned mode = w->keep_exec && (st.st_mode & 0111) ? 0755 : 0644;
        /* Paths are kept relative to the root's descriptor: a file reached through the
         * directory we walked, not through a name that might since point elsewhere. */
        if (ap_pack_add_file(w->items, name, w->rootfd, path, mode, err) < 0)
            return -1;
    }
    if (errno != 0)
        return ap_error_make(err, errno, "listing %s/%s", w->root, rel);
    return 0;
}

/* ---- hashing and writing ---- */

int ap_pack_reader_open(const struct ap_pack_item *e, struct ap_pack_reader *r, ap_error **err)
{
    r->buf = NULL;
    r->fd = openat(e->dirfd, e->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (r->fd < 0)
        return ap_error_make(err, errno, "opening %s", e->path);
    struct stat st;
    if (fstat(r->fd, &st) < 0)
        return ap_error_make(err, errno, "checking %s", e->path);
    if (!S_ISREG(st.st_mode))
        return ap_error_make(err, 0, "%s is no longer a regular file", e->path);
    ap_sha256_init(&r->h);
    r->buf = malloc(AP_PACK_IO_BUF);
    if (r->buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", e->path);
    return 0;
}

void ap_pack_reader_close(struct ap_pack_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    r->fd = -1;
    r->buf = NULL;
}

/* Pass one: the size and sha256 of a file, checked against its pin. */
static int hash_item(struct ap_pack_item *e, ap_error **err)
{
    if (e->data != NULL)
        return 0;
    const struct ap_pack_input *pin = e->pin;
    __attribute__((cleanup(ap_pack_reader_close))) struct ap_pack_reader r = {.fd = -1};
    if (ap_pack_reader_open(e, &r, err) < 0) {
        if (pin != NULL && pin->missing_hint != NULL && (*err)->status == ENOENT)
            ap_error_hint(err, "%s", pin->missing_hint);
        return -1;
    }
    uint64_t size = 0;
    for (;;) {
        ssize_t n = ap_fs_read_some(r.fd, r.buf, AP_PACK_IO_BUF);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", e->path);
        if (n == 0)
            break;
        ap_sha256_update(&r.h, r.buf, (size_t)n);
        size += (uint64_t)n;
    }
    ap_sha256_final_hex(&r.h, e->sha256);
    e->size = size;
    if (pin == NULL || pin->sha256 == NULL || pin->sha256[0] == '\0' ||
        (strcmp(pin->sha256, e->sha256) == 0 &&
         (pin->size == AP_PACK_ANY_SIZE || size == pin->size)))
        return 0;
    char what[600] = "";
    if (pin->label != NULL)
        snprintf(what, sizeof(what), " (%s)", pin->label);
    const char *by = pin->pinned_by != NULL ? pin->pinned_by : "its listing";
    if (pin->size == AP_PACK_ANY_SIZE)
        ap_error_make(err, 0, "%s%s has sha256 %s, but %s pins %s", e->path, what, e->sha256, by,
                      pin->sha256);
    else
        ap_error_make(err, 0, "%s%s has sha256 %s and %llu bytes, but %s pins %s and %llu bytes",
                      e->path, what, e->sha256, (unsigned long long)size, by, pin->sha256,
                      (unsigned long long)pin->size);
    if (pin->damaged_hint != NULL)
        ap_error_hint(err, "%s", pin->damaged_hint);
    return -1;
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

/* ---- putting it together ---- */

static int is_reserved(const char *name)
{
    return strcmp(name, AP_BUNDLE_SUMS) == 0 || strcmp(name, AP_BUNDLE_MANIFEST) == 0 ||
           strcmp(name, AP_BUNDLE_PROVENANCE) == 0 ||
           strncmp(name, AP_BUNDLE_INPUTS_DIR "/", sizeof(AP_BUNDLE_INPUTS_DIR)) == 0;
}

/* Without a run id in results.json: "dir-" and the first 16 hex digits of the sha256 of the
 * SHA256SUMS lines of the run's files, so the same directory always gets the same id. */
static int derive_id(struct ap_pack_items *items, size_t n, char *id, ap_error **err)
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

static int json_item(struct ap_pack_items *items, const char *name, const cJSON *j, ap_error **err)
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
    return ap_pack_add_data(items, name, data, len + 1, err);
}

/* Every item so far (all hashed) as a sorted file list. */
static int file_list(const struct ap_pack_items *items, struct ap_bundle_files *f, ap_error **err)
{
    for (size_t i = 0; i < items->n; i++)
        if (ap_bundle_files_add(f, items->v[i].name, items->v[i].size, items->v[i].sha256, err) < 0)
            return -1;
    ap_bundle_files_sort(f);
    return 0;
}

static int check_bounds(const struct ap_pack_items *items, ap_error **err)
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

static int hash_items(struct ap_pack_items *items, size_t from, ap_error **err)
{
    for (size_t i = from; i < items->n; i++)
        if (hash_item(&items->v[i], err) < 0)
            return -1;
    return 0;
}

static int cmp_image(const void *a, const void *b)
{
    return strcmp(((const struct ap_bundle_image *)a)->name,
                  ((const struct ap_bundle_image *)b)->name);
}

/* Each image results.json names, sorted, with the tree's lock the caller listed for it. */
static int image_locks(const struct ap_pack_opts *o, struct run *r, ap_error **err)
{
    qsort(r->images, r->n_images, sizeof(r->images[0]), cmp_image);
    for (size_t i = 1; i < r->n_images; i++)
        if (strcmp(r->images[i - 1].name, r->images[i].name) == 0)
            return ap_error_make(err, 0, "%s/results.json names image %s twice", o->run_dir,
                                 r->images[i].name);
    for (size_t i = 0; i < r->n_images; i++) {
        struct ap_bundle_image *e = &r->images[i];
        const struct ap_pack_image *k = NULL;
        for (size_t j = 0; k == NULL && j < o->n_images; j++)
            if (strcmp(o->images[j].name, e->name) == 0)
                k = &o->images[j];
        if (k == NULL || k->digest == NULL || strcmp(k->digest, e->digest) != 0) {
            ap_error_make(err, 0,
                          "%s/results.json names image %s with %s, but the inputs were listed "
                          "for %s: it changed while it was packed",
                          o->run_dir, e->name, e->digest,
                          k != NULL && k->digest != NULL ? k->digest : "no such image");
            return ap_error_hint(err, "pack a run directory nothing is writing to");
        }
        snprintf(e->lock_sha256, sizeof(e->lock_sha256), "%s",
                 k->lock_sha256 != NULL ? k->lock_sha256 : "");
    }
    return 0;
}

/* The run's own files: listed, hashed, results.json read; fills the run id. */
static int collect_run(const struct ap_pack_opts *o, int runfd, const struct stat *ost,
                       struct ap_pack_items *items, struct run *r, ap_error **err)
{
    struct walk w = {.items = items,
                     .root = o->run_dir,
                     .under = "",
                     .rootfd = runfd,
                     .out_dev = ost->st_dev,
                     .out_ino = ost->st_ino,
                     .have_out = 1,
                     .keep_exec = 1};
    if (walk_dir(&w, runfd, "", err) < 0)
        return -1;
    for (size_t i = 0; i < items->n; i++)
        if (is_reserved(items->v[i].name)) {
            ap_error_make(err, 0, "%s/%s: the archive adds a member of that name itself",
                          o->run_dir, items->v[i].name);
            return ap_error_hint(err, "rename it or move it out of the run directory");
        }
    if (items->n == 0)
        ap_log_warn("%s holds no files", o->run_dir);
    size_t n_run = items->n;
    if (read_results(o->run_dir, runfd, r, err) < 0 || hash_items(items, 0, err) < 0)
        return -1;
    /* The manifest describes the results.json that was parsed: it must be the one packed. */
    for (size_t i = 0; r->results != NULL && i < n_run; i++)
        if (strcmp(items->v[i].name, AP_BUNDLE_RESULTS) == 0 &&
            strcmp(items->v[i].sha256, r->results_sha256) != 0) {
            ap_error_make(err, 0, "%s/results.json changed while it was packed", o->run_dir);
            return ap_error_hint(err, "pack a run directory nothing is writing to");
        }
    if (r->id[0] == '\0' && derive_id(items, n_run, r->id, err) < 0)
        return -1;
    return image_locks(o, r, err);
}

/* The claims file's sha256 (hex) and its member name under inputs/claims/. */
static int claims_name(const struct ap_pack_opts *o, char *hex, char *member, size_t len,
                       ap_error **err)
{
    if (ap_sha256_file(AT_FDCWD, o->claims_path, hex, NULL, err) < 0)
        return ap_error_wrap(err, "--claims");
    const char *slash = strrchr(o->claims_path, '/');
    const char *base = slash != NULL ? slash + 1 : o->claims_path;
    const char *why = NULL;
    if (ap_fs_path(member, len, AP_BUNDLE_INPUTS_DIR "/claims/%s", base) < 0) {
        ap_error_make(err, ENAMETOOLONG, "--claims %.64s...: its member name", base);
        return ap_error_hint(err, NAME_HINT, AP_BUNDLE_NAME_MAX);
    }
    if (ap_bundle_check_name(member, &why) < 0)
        return ap_error_make(err, 0, "--claims %s: the file name cannot be a member name (%s)",
                             o->claims_path, why);
    return 0;
}

/* The inputs handed over (and the claims file) under inputs/, hashed and checked against
 * their pins; *desc becomes the manifest's "inputs". */
static int add_inputs(const struct ap_pack_opts *o, size_t n_images, struct ap_pack_items *items,
                      const char *claims_member, const char *claims_hex, cJSON **desc,
                      ap_error **err)
{
    *desc = o->inputs_desc != NULL ? cJSON_Duplicate(o->inputs_desc, 1) : cJSON_CreateObject();
    if (*desc == NULL)
        return ap_error_make(err, ENOMEM, "listing inputs");
    size_t first = items->n;
    for (size_t i = 0; i < o->n_inputs; i++) {
        const struct ap_pack_input *in = &o->inputs[i];
        char name[AP_BUNDLE_NAME_MAX + 1], shown[160];
        const char *why = NULL;
        if (snprintf(name, sizeof(name), AP_BUNDLE_INPUTS_DIR "/%s", in->name) >=
                (int)sizeof(name) ||
            ap_bundle_check_name(name, &why) < 0) {
            ap_error_make(err, 0, "%s: the name cannot be a member name (%s)",
                          ap_bundle_printable(in->path, shown, sizeof(shown)),
                          why != NULL ? why : "name too long");
            return ap_error_hint(err, NAME_HINT, AP_BUNDLE_NAME_MAX);
        }
        if (ap_pack_add_file(items, name, AT_FDCWD, in->path, 0644, err) < 0)
            return -1;
        items->v[items->n - 1].pin = in;
    }
    if (claims_member[0] != '\0') {
        if (ap_pack_add_file(items, claims_member, AT_FDCWD, o->claims_path, 0644, err) < 0 ||
            cJSON_AddStringToObject(*desc, "claims", claims_member) == NULL)
            return ap_error_make(err, ENOMEM, "listing inputs");
    } else if (cJSON_AddNullToObject(*desc, "claims") == NULL) {
        return ap_error_make(err, ENOMEM, "listing inputs");
    }
    ap_log_info("hashing %zu inputs of %zu images", items->n - first, n_images);
    if (hash_items(items, first, err) < 0)
        return -1;
    if (claims_member[0] != '\0' && strcmp(items->v[items->n - 1].sha256, claims_hex) != 0)
        return ap_error_make(err, 0, "%s changed while it was packed", o->claims_path);
    return 0;
}

/* manifest.json, provenance.json and SHA256SUMS, then every member in name order. */
static int add_metadata(const struct ap_bundle_info *info, struct ap_pack_items *items,
                        ap_error **err)
{
    cleanup_cjson cJSON *manifest = NULL, *prov = NULL;
    if (ap_bundle_manifest_build(info, &manifest, err) < 0 ||
        json_item(items, AP_BUNDLE_MANIFEST, manifest, err) < 0)
        return -1;
    struct ap_bundle_files files = {0};
    int rc = file_list(items, &files, err);
    if (rc == 0)
        rc = ap_bundle_provenance_build(info, &files, &prov, err);
    ap_bundle_files_free(&files);
    if (rc < 0 || json_item(items, AP_BUNDLE_PROVENANCE, prov, err) < 0)
        return -1;
    cleanup_free char *sums = NULL;
    size_t sums_len = 0;
    rc = file_list(items, &files, err);
    if (rc == 0)
        rc = ap_bundle_sums_format(&files, &sums, &sums_len, err);
    ap_bundle_files_free(&files);
    if (rc < 0 || ap_pack_add_data(items, AP_BUNDLE_SUMS, steal_pointer(&sums), sums_len, err) < 0)
        return -1;
    qsort(items->v, items->n, sizeof(items->v[0]), cmp_item);
    for (size_t i = 1; i < items->n; i++)
        if (strcmp(items->v[i - 1].name, items->v[i].name) == 0)
            return ap_error_make(err, 0, "two files would be member \"%s\"", items->v[i].name);
    return 0;
}

/* Writes the archive into out_dir and publishes it (publish.c). */
static int write_out(const struct ap_pack_opts *o, const char *out_dir, int outfd,
                     const struct ap_pack_items *items, const struct run *r,
                     struct ap_pack_result *res, ap_error **err)
{
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
    cleanup_close int fd = ap_pack_open_output(out_dir, outfd, r->id, tmp, sizeof(tmp), err);
    if (fd < 0)
        return -1;
    if (ap_archive_write(fd, items, r->mtime, res->sha256, &res->bytes, err) < 0) {
        if (tmp[0] != '\0')
            unlink(tmp);
        return ap_error_wrap(err, "%s", res->archive);
    }
    res->files = items->n;
    return ap_pack_publish(o, out_dir, outfd, fd, tmp, sizeof(tmp), res, err);
}

static int pack(const struct ap_pack_opts *o, struct ap_pack_items *items, struct run *r,
                cJSON **inputs, struct ap_pack_result *res, ap_error **err)
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
    if (collect_run(o, runfd, &ost, items, r, err) < 0)
        return -1;
    snprintf(res->run_id, sizeof(res->run_id), "%s", r->id);
    char claims_hex[AP_SHA256_HEX_LEN + 1] = "";
    char claims_member[AP_BUNDLE_NAME_MAX + 1] = "";
    if (o->claims_path != NULL &&
        claims_name(o, claims_hex, claims_member, sizeof(claims_member), err) < 0)
        return -1;
    if (o->with_inputs &&
        add_inputs(o, r->n_images, items, claims_member, claims_hex, inputs, err) < 0)
        return -1;
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
    if (add_metadata(&info, items, err) < 0)
        return -1;
    return write_out(o, out_dir, outfd, items, r, res, err);
}

int ap_pack_run(const struct ap_pack_opts *o, struct ap_pack_result *res, ap_error **err)
{
    memset(res, 0, sizeof(*res));
    assert(o->run_dir != NULL); /* a caller's bug, never the user's */
    struct ap_pack_items items = {0};
    struct run r;
    memset(&r, 0, sizeof(r));
    cJSON *inputs = NULL;
    int rc = pack(o, &items, &r, &inputs, res, err);
    cJSON_Delete(inputs);
    cJSON_Delete(r.results);
    ap_pack_items_free(&items);
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
