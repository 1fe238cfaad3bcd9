#include "layer.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"

struct ap_layer_writer {
    struct archive *tar, *gz;
    locale_t utf8, saved; /* names are written as UTF-8 whatever the caller's locale */
    struct ap_sha256 tar_hash, gz_hash;
    ap_layer_sink sink;
    void *ctx;
    int64_t mtime;
    struct ap_layer_stats st;
    char last[AP_PATH_MAX];
    int sink_errno, gz_failed;
    char gz_error[512];
};

int ap_layer_fd_sink(void *ctx, const void *data, size_t len)
{
    return ap_fs_write_all(*(int *)ctx, data, len);
}

static la_ssize_t gz_out(struct archive *a, void *ud, const void *buf, size_t len)
{
    (void)a;
    struct ap_layer_writer *w = ud;
    if (w->sink(w->ctx, buf, len) < 0) {
        w->sink_errno = errno;
        return -1;
    }
    ap_sha256_update(&w->gz_hash, buf, len);
    w->st.compressed_size += len;
    return (la_ssize_t)len;
}

/* The tar stream's bytes are hashed (diff_id) and fed to the raw gzip writer. */
static la_ssize_t tar_out(struct archive *a, void *ud, const void *buf, size_t len)
{
    (void)a;
    struct ap_layer_writer *w = ud;
    ap_sha256_update(&w->tar_hash, buf, len);
    w->st.tar_size += len;
    if (archive_write_data(w->gz, buf, len) != (la_ssize_t)len) {
        w->gz_failed = 1;
        snprintf(w->gz_error, sizeof(w->gz_error), "%s", archive_error_string(w->gz));
        return -1;
    }
    return (la_ssize_t)len;
}

void ap_layer_abort(struct ap_layer_writer *w)
{
    if (w == NULL)
        return;
    if (w->tar != NULL)
        archive_write_free(w->tar);
    if (w->gz != NULL)
        archive_write_free(w->gz);
    if (w->utf8 != (locale_t)0) {
        uselocale(w->saved);
        freelocale(w->utf8);
    }
    free(w);
}

static int fail(struct ap_layer_writer *w, struct archive *a, const char *what, ap_error **err)
{
    if (w->sink_errno != 0)
        return ap_error_make(err, w->sink_errno, "%s: writing the layer", what);
    if (w->gz_failed)
        return ap_error_make(err, 0, "%s: compressing the layer: %s", what, w->gz_error);
    return ap_error_make(err, 0, "%s: %s", what, archive_error_string(a));
}

int ap_layer_open(int64_t mtime, ap_layer_sink sink, void *ctx, struct ap_layer_writer **out,
                  ap_error **err)
{
    struct ap_layer_writer *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return ap_error_make(err, ENOMEM, "creating a layer");
    w->sink = sink;
    w->ctx = ctx;
    w->mtime = mtime;
    /* libarchive converts names through the thread's locale for pax headers: UTF-8 makes the
     * bytes the same under any caller's locale (and non-ASCII names work under "C"). */
    w->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (w->utf8 == (locale_t)0) {
        free(w);
        return ap_error_make(err, errno, "loading the C.UTF-8 locale for layer names");
    }
    w->saved = uselocale(w->utf8);
    ap_sha256_init(&w->tar_hash);
    ap_sha256_init(&w->gz_hash);
    w->gz = archive_write_new();
    w->tar = archive_write_new();
    if (w->gz == NULL || w->tar == NULL) {
        ap_layer_abort(w);
        return ap_error_make(err, ENOMEM, "creating a layer");
    }
    /* gzip as a plain stream: the raw format holds one nameless entry; no timestamp and no
     * block padding, so the bytes depend on the content only. */
    if (archive_write_set_format_raw(w->gz) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(w->gz) != ARCHIVE_OK ||
        archive_write_set_filter_option(w->gz, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(w->gz, 0) != ARCHIVE_OK ||
        archive_write_open2(w->gz, w, NULL, gz_out, NULL, NULL) != ARCHIVE_OK) {
        fail(w, w->gz, "setting up gzip", err);
        ap_layer_abort(w);
        return -1;
    }
    struct archive_entry *raw = archive_entry_new();
    archive_entry_set_filetype(raw, AE_IFREG);
    archive_entry_set_pathname(raw, "layer.tar");
    int r = archive_write_header(w->gz, raw);
    archive_entry_free(raw);
    if (r != ARCHIVE_OK || archive_write_set_format_pax_restricted(w->tar) != ARCHIVE_OK ||
        archive_write_add_filter_none(w->tar) != ARCHIVE_OK ||
        archive_write_open2(w->tar, w, NULL, tar_out, NULL, NULL) != ARCHIVE_OK) {
        fail(w, r != ARCHIVE_OK ? w->gz : w->tar, "setting up the layer", err);
        ap_layer_abort(w);
        return -1;
    }
    *out = w;
    return 0;
}

int ap_layer_add(struct ap_layer_writer *w, const struct ap_entry *e, const void *data, int fd,
                 ap_error **err)
{
    if (w->st.entries > 0 && strcmp(w->last, e->path) >= 0)
        return ap_error_make(err, 0, "layer entry %s is out of order (after %s)", e->path, w->last);
    if (ap_path_is_whiteout(e->path))
        return ap_error_make(err, 0,
                             "layer entry %s: a name starting with .wh. is an OCI whiteout, which "
                             "image tools read as \"delete this path from the layers below\"; "
                             "rename it",
                             e->path);
    struct archive_entry *ae = archive_entry_new();
    if (ae == NULL)
        return ap_error_make(err, ENOMEM, "layer entry %s", e->path);
    archive_entry_set_pathname(ae, e->path);
    archive_entry_set_mtime(ae, w->mtime, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    archive_entry_set_perm(ae, e->mode & 07777);
    switch (e->type) {
    case AP_ENTRY_FILE:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_size(ae, (la_int64_t)e->size);
        break;
    case AP_ENTRY_DIR:
        archive_entry_set_filetype(ae, AE_IFDIR);
        break;
    case AP_ENTRY_SYMLINK:
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e->link);
        break;
    case AP_ENTRY_HARDLINK:
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e->link);
        archive_entry_set_size(ae, 0);
        break;
    }
    int r = archive_write_header(w->tar, ae);
    archive_entry_free(ae);
    if (r != ARCHIVE_OK)
        return fail(w, w->tar, e->path, err);
    if (e->type == AP_ENTRY_FILE) {
        uint64_t left = e->size;
        if (data != NULL) {
            if (archive_write_data(w->tar, data, e->size) != (la_ssize_t)e->size)
                return fail(w, w->tar, e->path, err);
        } else {
            enum { BUF_SIZE = 1 << 16 };
            cleanup_free char *buf = malloc(BUF_SIZE);
            if (buf == NULL)
                return ap_error_make(err, ENOMEM, "reading %s", e->path);
            while (left > 0) {
                ssize_t n = read(fd, buf, left < BUF_SIZE ? left : BUF_SIZE);
                if (n < 0 && errno == EINTR)
                    continue;
                if (n < 0)
                    return ap_error_make(err, errno, "reading %s", e->path);
                if (n == 0)
                    return ap_error_make(err, 0, "%s shrank while it was packed", e->path);
                if (archive_write_data(w->tar, buf, (size_t)n) != n)
                    return fail(w, w->tar, e->path, err);
                left -= (uint64_t)n;
            }
        }
        w->st.files++;
        w->st.unpacked_bytes += e->size;
    }
    w->st.entries++;
    snprintf(w->last, sizeof(w->last), "%s", e->path);
    return 0;
}

int ap_layer_finish(struct ap_layer_writer *w, struct ap_layer_stats *st, ap_error **err)
{
    int rc = 0;
    if (archive_write_close(w->tar) != ARCHIVE_OK)
        rc = fail(w, w->tar, "finishing the tar stream", err);
    if (rc == 0 && archive_write_close(w->gz) != ARCHIVE_OK)
        rc = fail(w, w->gz, "finishing the gzip stream", err);
    if (rc == 0) {
        ap_sha256_final_hex(&w->tar_hash, w->st.diff_id);
        ap_sha256_final_hex(&w->gz_hash, w->st.digest);
        *st = w->st;
    }
    ap_layer_abort(w);
    return rc;
}

/* ---- directory trees ---- */

struct tree_item {
    char *path;
    struct stat st;
};

struct tree {
    struct tree_item *items;
    size_t n, cap;
};

static int tree_push(struct tree *t, const char *path, const struct stat *st, ap_error **err)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct tree_item *p = realloc(t->items, cap * sizeof(*p));
        if (p == NULL)
            return ap_error_make(err, ENOMEM, "listing the tree");
        t->items = p;
        t->cap = cap;
    }
    t->items[t->n].path = strdup(path);
    if (t->items[t->n].path == NULL)
        return ap_error_make(err, ENOMEM, "listing the tree");
    t->items[t->n].st = *st;
    t->n++;
    return 0;
}

static int walk(int dfd, const char *prefix, struct tree *t, ap_error **err)
{
    int fd = dup(dfd);
    if (fd < 0)
        return ap_error_make(err, errno, "listing %s", prefix);
    cleanup_dir DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return ap_error_make(err, errno, "listing %s", prefix);
    }
    struct dirent *de;
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char path[AP_PATH_MAX];
        if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) >=
            (int)sizeof(path))
            return ap_error_make(err, ENAMETOOLONG, "listing %s", prefix);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return ap_error_make(err, errno, "checking %s", path);
        if (tree_push(t, path, &st, err) < 0)
            return -1;
        if (S_ISDIR(st.st_mode)) {
            cleanup_close int sub =
                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                return ap_error_make(err, errno, "opening %s", path);
            if (walk(sub, path, t, err) < 0)
                return -1;
        }
    }
    if (errno != 0)
        return ap_error_make(err, errno, "listing %s", prefix);
    return 0;
}

static int cmp_item(const void *a, const void *b)
{
    return strcmp(((const struct tree_item *)a)->path, ((const struct tree_item *)b)->path);
}

struct inode_seen {
    dev_t dev;
    ino_t ino;
    size_t first; /* index of the first path with this inode */
};

static int cmp_inode(const void *a, const void *b)
{
    const struct inode_seen *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino)
        return x->ino < y->ino ? -1 : 1;
    return x->first < y->first ? -1 : (x->first > y->first);
}

/* Lower bound in the sorted table: the first (smallest) index that has this inode. */
static size_t first_name(const struct inode_seen *links, size_t n, dev_t dev, ino_t ino)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct inode_seen *m = &links[mid];
        if (m->dev < dev || (m->dev == dev && m->ino < ino))
            lo = mid + 1;
        else
            hi = mid;
    }
    return links[lo].first;
}

int ap_layer_write_tree(const char *root, int64_t mtime, ap_layer_sink sink, void *ctx,
                        struct ap_layer_stats *st, ap_error **err)
{
    cleanup_close int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return ap_error_make(err, errno, "opening %s", root);
    struct tree t = {0};
    struct ap_layer_writer *w = NULL;
    cleanup_free struct inode_seen *links = NULL;
    static __thread struct ap_entry e;
    int rc = -1;
    if (walk(rootfd, "", &t, err) < 0)
        goto out;
    qsort(t.items, t.n, sizeof(*t.items), cmp_item);
    /* Files with several names: the first name in sorted order carries the data, the others
     * become tar hardlinks to it. */
    size_t nlinks = 0;
    links = calloc(t.n + 1, sizeof(*links));
    if (links == NULL) {
        ap_error_make(err, ENOMEM, "listing %s", root);
        goto out;
    }
    for (size_t i = 0; i < t.n; i++)
        if (S_ISREG(t.items[i].st.st_mode) && t.items[i].st.st_nlink > 1)
            links[nlinks++] = (struct inode_seen){t.items[i].st.st_dev, t.items[i].st.st_ino, i};
    qsort(links, nlinks, sizeof(*links), cmp_inode);
    if (ap_layer_open(mtime, sink, ctx, &w, err) < 0)
        goto out;
    for (size_t i = 0; i < t.n; i++) {
        const struct tree_item *it = &t.items[i];
        snprintf(e.path, sizeof(e.path), "%s", it->path);
        e.mode = it->st.st_mode & 07777;
        e.size = 0;
        e.link[0] = '\0';
        cleanup_close int fd = -1;
        if (S_ISDIR(it->st.st_mode)) {
            e.type = AP_ENTRY_DIR;
        } else if (S_ISLNK(it->st.st_mode)) {
            e.type = AP_ENTRY_SYMLINK;
            ssize_t n = readlinkat(rootfd, it->path, e.link, sizeof(e.link) - 1);
            if (n < 0) {
                ap_error_make(err, errno, "reading link %s", it->path);
                goto out;
            }
            e.link[n] = '\0';
        } else if (S_ISREG(it->st.st_mode)) {
            e.type = AP_ENTRY_FILE;
            e.size = (uint64_t)it->st.st_size;
            if (it->st.st_nlink > 1) {
                size_t lo = first_name(links, nlinks, it->st.st_dev, it->st.st_ino);
                if (lo != i) {
                    e.type = AP_ENTRY_HARDLINK;
                    snprintf(e.link, sizeof(e.link), "%s", t.items[lo].path);
                }
            }
            if (e.type == AP_ENTRY_FILE) {
                fd = openat(rootfd, it->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                    ap_error_make(err, errno, "opening %s", it->path);
                    goto out;
                }
            }
        } else {
            ap_error_make(err, 0, "%s/%s is neither a file, a directory nor a symbolic link", root,
                          it->path);
            goto out;
        }
        if (ap_layer_add(w, &e, NULL, fd, err) < 0)
            goto out;
    }
    rc = ap_layer_finish(w, st, err);
    w = NULL;
out:
    ap_layer_abort(w);
    for (size_t i = 0; i < t.n; i++)
        free(t.items[i].path);
    free(t.items);
    return rc;
}
