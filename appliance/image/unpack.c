#include "unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"

void ap_unpack_init(struct ap_unpack *u, int rootfd)
{
    memset(u, 0, sizeof(*u));
    u->rootfd = rootfd;
    u->curfd = -1;
}

void ap_unpack_done(struct ap_unpack *u)
{
    if (u->curfd >= 0)
        close(u->curfd);
    u->curfd = -1;
    u->cur[0] = '\0';
}

int ap_unpack_open_dir(int rootfd, const char *dir, int create, ap_error **err)
{
    cleanup_close int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return ap_error_make(err, errno, "duplicating a descriptor");
    char comp[256];
    const char *p = dir;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n >= sizeof(comp))
            return ap_error_make(err, ENAMETOOLONG, "directory %s", dir);
        memcpy(comp, p, n);
        comp[n] = '\0';
        int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            /* fchmodat too: the mode must not depend on the caller's umask. */
            if ((mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) ||
                fchmodat(fd, comp, 0755, AT_SYMLINK_NOFOLLOW) < 0)
                return ap_error_make(err, errno, "creating directory %s in %s", comp, dir);
            next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            if (errno == ELOOP || errno == ENOTDIR)
                return ap_error_make(err, 0,
                                     "\"%s\" on the way to %s is a symbolic link or not a "
                                     "directory",
                                     comp, dir);
            return ap_error_make(err, errno, "opening directory %s of %s", comp, dir);
        }
        close(fd);
        fd = next;
        p += n;
        if (*p == '/')
            p++;
    }
    return steal_fd(&fd);
}

static int parent_fd(struct ap_unpack *u, const char *path, const char **leaf, ap_error **err)
{
    const char *slash = strrchr(path, '/');
    char dir[AP_PATH_MAX];
    if (slash == NULL) {
        dir[0] = '\0';
        *leaf = path;
    } else {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = '\0';
        *leaf = slash + 1;
    }
    if (u->curfd >= 0 && strcmp(dir, u->cur) == 0)
        return u->curfd;
    ap_unpack_done(u);
    int fd = ap_unpack_open_dir(u->rootfd, dir, 1, err);
    if (fd < 0)
        return -1;
    strcpy(u->cur, dir);
    u->curfd = fd;
    return fd;
}

/* Removes whatever non-directory sits at leaf, so a later package's file replaces it. */
static int clear_leaf(int dfd, const char *leaf, int want_dir, int *is_dir, ap_error **err)
{
    struct stat st;
    *is_dir = 0;
    if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return ap_error_make(err, errno, "checking %s", leaf);
    }
    if (S_ISDIR(st.st_mode)) {
        if (!want_dir)
            return ap_error_make(err, 0, "a directory already stands where a file goes");
        *is_dir = 1;
        return 0;
    }
    if (unlinkat(dfd, leaf, 0) < 0)
        return ap_error_make(err, errno, "replacing %s", leaf);
    return 0;
}

static int write_file(int dfd, const char *leaf, const struct ap_entry *e, struct archive *a,
                      struct ap_unpack *u, ap_error **err)
{
    cleanup_close int fd =
        openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return ap_error_make(err, errno, "creating file");
    uint64_t got = 0;
    enum { BUF_SIZE = 1 << 16 };
    cleanup_free char *buf = malloc(BUF_SIZE);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "writing file");
    for (;;) {
        la_ssize_t n = archive_read_data(a, buf, BUF_SIZE);
        if (n < 0)
            return ap_error_make(err, 0, "reading data: %s", archive_error_string(a));
        if (n == 0)
            break;
        got += (uint64_t)n;
        if (got > e->size)
            return ap_error_make(err, 0, "more data than the header's %llu bytes",
                                 (unsigned long long)e->size);
        if (ap_fs_write_all(fd, buf, (size_t)n) < 0)
            return ap_error_make(err, errno, "writing file");
    }
    if (got != e->size)
        return ap_error_make(err, 0, "truncated: %llu of %llu bytes", (unsigned long long)got,
                             (unsigned long long)e->size);
    if (fchmod(fd, e->mode) < 0)
        return ap_error_make(err, errno, "setting the mode");
    u->files++;
    u->bytes += got;
    return 0;
}

int ap_unpack_entry(void *ctx, const struct ap_entry *e, struct archive *a, ap_error **err)
{
    struct ap_unpack *u = ctx;
    const char *leaf;
    int dfd = parent_fd(u, e->path, &leaf, err);
    if (dfd < 0)
        return -1;
    int is_dir;
    if (clear_leaf(dfd, leaf, e->type == AP_ENTRY_DIR, &is_dir, err) < 0)
        return -1;
    switch (e->type) {
    case AP_ENTRY_DIR:
        if (!is_dir && mkdirat(dfd, leaf, 0700) < 0)
            return ap_error_make(err, errno, "creating directory");
        if (fchmodat(dfd, leaf, e->mode, 0) < 0)
            return ap_error_make(err, errno, "setting the mode");
        return 0;
    case AP_ENTRY_FILE:
        return write_file(dfd, leaf, e, a, u, err);
    case AP_ENTRY_SYMLINK:
        if (symlinkat(e->link, dfd, leaf) < 0)
            return ap_error_make(err, errno, "creating symbolic link");
        return 0;
    case AP_ENTRY_HARDLINK: {
        const char *tslash = strrchr(e->link, '/');
        char tdir[AP_PATH_MAX];
        const char *tleaf = e->link;
        tdir[0] = '\0';
        if (tslash != NULL) {
            memcpy(tdir, e->link, (size_t)(tslash - e->link));
            tdir[tslash - e->link] = '\0';
            tleaf = tslash + 1;
        }
        cleanup_close int tfd = ap_unpack_open_dir(u->rootfd, tdir, 0, err);
        if (tfd < 0)
            return ap_error_wrap(err, "hardlink target %s", e->link);
        struct stat st;
        if (fstatat(tfd, tleaf, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            return ap_error_make(err, 0, "hardlink target %s is not a file unpacked before it",
                                 e->link);
        /* Without AT_SYMLINK_FOLLOW, linkat never follows the target. */
        if (linkat(tfd, tleaf, dfd, leaf, 0) < 0)
            return ap_error_make(err, errno, "creating hardlink to %s", e->link);
        return 0;
    }
    }
    return ap_error_make(err, 0, "unknown entry type");
}

int ap_unpack_skeleton(int rootfd, ap_error **err)
{
    static const struct {
        const char *path;
        unsigned mode;
    } dirs[] = {{"usr", 0755},       {"usr/bin", 0755},  {"usr/sbin", 0755}, {"usr/lib", 0755},
                {"usr/lib64", 0755}, {"etc", 0755},      {"tmp", 01777},     {"proc", 0555},
                {"sys", 0555},       {"dev", 0755},      {"run", 0755},      {"root", 0700},
                {"var", 0755},       {"var/tmp", 01777}, {"home", 0755}};
    static const char *const links[][2] = {
        {"bin", "usr/bin"}, {"sbin", "usr/sbin"}, {"lib", "usr/lib"}, {"lib64", "usr/lib64"}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(dirs); i++) {
        if (mkdirat(rootfd, dirs[i].path, 0700) < 0 && errno != EEXIST)
            return ap_error_make(err, errno, "creating /%s", dirs[i].path);
        if (fchmodat(rootfd, dirs[i].path, dirs[i].mode, 0) < 0)
            return ap_error_make(err, errno, "setting the mode of /%s", dirs[i].path);
    }
    for (size_t i = 0; i < AP_ARRAY_SIZE(links); i++)
        if (symlinkat(links[i][1], rootfd, links[i][0]) < 0 && errno != EEXIST)
            return ap_error_make(err, errno, "creating /%s", links[i][0]);
    return 0;
}
