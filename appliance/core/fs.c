#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

ssize_t ap_fs_read_some(int fd, void *buf, size_t len)
{
    ssize_t n;
    do
        n = read(fd, buf, len);
    while (n < 0 && errno == EINTR);
    return n;
}

int ap_fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ap_fs_read_file(int dirfd, const char *path, size_t max, char **out, size_t *len,
                    ap_error **err)
{
    cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return ap_error_make(err, errno, "reading %s", path);
    if (!S_ISREG(st.st_mode))
        return ap_error_make(err, 0, "%s is not a regular file", path);
    if ((uint64_t)st.st_size > max)
        return ap_error_make(err, 0, "%s is %lld bytes, more than the %zu allowed", path,
                             (long long)st.st_size, max);
    cleanup_free char *buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", path);
    size_t got = 0;
    for (;;) {
        if (got > (size_t)st.st_size)
            break;
        ssize_t n = ap_fs_read_some(fd, buf + got, (size_t)st.st_size + 1 - got);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", path);
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > (size_t)st.st_size)
            return ap_error_make(err, 0, "%s grew while it was read", path);
    }
    buf[got] = '\0';
    if (len != NULL)
        *len = got;
    *out = steal_pointer(&buf);
    return 0;
}

int ap_fs_dirname(const char *path, char *dir, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return snprintf(dir, len, ".") < (int)len ? 0 : -1;
    if (slash == path)
        return snprintf(dir, len, "/") < (int)len ? 0 : -1;
    size_t n = (size_t)(slash - path);
    if (n >= len)
        return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return 0;
}

int ap_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, ap_error **err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
        return ap_error_make(err, ENAMETOOLONG, "writing %s", path);
    cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "creating a temporary file for %s", path);
    if (ap_fs_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return ap_error_make(err, e, "writing %s", tmp);
    }
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return ap_error_make(err, e, "renaming %s to %s", tmp, path);
    }
    /* The rename is durable only once the directory entry is. */
    char dir[PATH_MAX];
    if (ap_fs_dirname(path, dir, sizeof(dir)) == 0) {
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd);
    }
    return 0;
}

int ap_fs_mkdir_p(const char *path, mode_t mode, ap_error **err)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return ap_error_make(err, ENAMETOOLONG, "creating %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
            return ap_error_make(err, errno, "creating directory %s", buf);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST)
        return ap_error_make(err, errno, "creating directory %s", buf);
    struct stat st;
    if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
        return ap_error_make(err, ENOTDIR, "creating directory %s", buf);
    return 0;
}

static int remove_at(int parent, const char *name, const char *shown, ap_error **err)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return ap_error_make(err, errno, "removing %s", shown);
    }
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return ap_error_make(err, errno, "removing %s", shown);
        /* Directories without write or execute permission would block removal. */
        fchmod(fd, 0700);
        cleanup_dir DIR *d = fdopendir(fd);
        if (d == NULL) {
            close(fd);
            return ap_error_make(err, errno, "removing %s", shown);
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (remove_at(dirfd(d), de->d_name, shown, err) < 0)
                return -1;
        }
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return ap_error_make(err, errno, "removing directory in %s", shown);
        return 0;
    }
    if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
        return ap_error_make(err, errno, "removing a file in %s", shown);
    return 0;
}

int ap_fs_remove_tree(const char *path, ap_error **err)
{
    return remove_at(AT_FDCWD, path, path, err);
}

int ap_fs_link_or_copy(const char *src, const char *dst, ap_error **err)
{
    if (link(src, dst) == 0)
        return 0;
    if (errno == EEXIST) {
        unlink(dst);
        if (link(src, dst) == 0)
            return 0;
    }
    if (errno != EXDEV && errno != EPERM && errno != EMLINK)
        return ap_error_make(err, errno, "linking %s to %s", src, dst);
    cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ap_error_make(err, errno, "opening %s", src);
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dst) >= (int)sizeof(tmp))
        return ap_error_make(err, ENAMETOOLONG, "copying to %s", dst);
    cleanup_close int out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0)
        return ap_error_make(err, errno, "creating %s", tmp);
    enum { BUF_SIZE = 1 << 17 };
    cleanup_free char *buf = malloc(BUF_SIZE);
    if (buf == NULL) {
        unlink(tmp);
        return ap_error_make(err, ENOMEM, "copying %s to %s", src, dst);
    }
    for (;;) {
        ssize_t n = read(in, buf, BUF_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (n > 0 && ap_fs_write_all(out, buf, (size_t)n) < 0)) {
            int e = errno;
            unlink(tmp);
            return ap_error_make(err, e, "copying %s to %s", src, dst);
        }
        if (n == 0)
            break;
    }
    if (fchmod(out, 0644) < 0 || fsync(out) < 0 || rename(tmp, dst) < 0) {
        int e = errno;
        unlink(tmp);
        return ap_error_make(err, e, "copying %s to %s", src, dst);
    }
    return 0;
}

int ap_fs_mkdtemp_in(const char *parent, const char *prefix, char **out, ap_error **err)
{
    char *p = NULL;
    if (asprintf(&p, "%s/.%s.XXXXXX", parent, prefix) < 0)
        return ap_error_make(err, ENOMEM, "making a temporary directory");
    if (mkdtemp(p) == NULL) {
        int e = errno;
        free(p);
        return ap_error_make(err, e, "making a temporary directory in %s", parent);
    }
    *out = p;
    return 0;
}

const char *ap_fs_human_bytes(uint64_t bytes, char *buf, size_t len)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < AP_ARRAY_SIZE(units)) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu B", (unsigned long long)bytes);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

int ap_fs_path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int ap_fs_read_to_end(int fd, const char *path, char *buf, size_t len, int whole, ap_error **err)
{
    size_t got = 0;
    for (;;) {
        if (got + 1 >= len) {
            char extra;
            ssize_t more = whole ? read(fd, &extra, 1) : 0;
            if (more > 0)
                return ap_error_make(err, 0, "%s is larger than the %zu bytes allowed", path,
                                     len - 1);
            break;
        }
        ssize_t n = ap_fs_read_some(fd, buf + got, len - 1 - got);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", path);
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    return (int)got;
}

int ap_fs_each_chunk(int fd, const char *path, void *buf, size_t len,
                     void (*fn)(void *ctx, const void *chunk, size_t n), void *ctx, uint64_t *total,
                     ap_error **err)
{
    uint64_t sum = 0;
    for (;;) {
        ssize_t n = ap_fs_read_some(fd, buf, len);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", path);
        if (n == 0)
            break;
        fn(ctx, buf, (size_t)n);
        sum += (uint64_t)n;
    }
    if (total != NULL)
        *total = sum;
    return 0;
}

int ap_fs_read_small(const char *path, char *buf, size_t len, ap_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    return ap_fs_read_to_end(fd, path, buf, len, 1, err) < 0 ? -1 : 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ap_fs_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int ap_fs_list_names(const char *dir, const char *marker, unsigned flags, char ***out, size_t *n,
                     ap_error **err)
{
    *out = NULL;
    *n = 0;
    cleanup_dir DIR *d = opendir(dir);
    if (d == NULL && errno == ENOENT && (flags & AP_FS_LIST_MISSING_EMPTY))
        return 0;
    if (d == NULL)
        return ap_error_make(err, errno, "listing %s", dir);
    char **names = NULL;
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (marker != NULL) {
            char path[PATH_MAX];
            struct stat st;
            if (ap_fs_path(path, sizeof(path), "%s/%s/%s", dir, e->d_name, marker) < 0) {
                ap_fs_names_free(names, count);
                return ap_error_make(err, ENAMETOOLONG, "%s of %s in %.64s...", marker, e->d_name,
                                     dir);
            }
            if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                continue;
        }
        char **p = realloc(names, (count + 1) * sizeof(*names));
        char *name = p == NULL ? NULL : strdup(e->d_name);
        if (name == NULL) {
            ap_fs_names_free(p == NULL ? names : p, count);
            return ap_error_make(err, ENOMEM, "listing %s", dir);
        }
        names = p;
        names[count++] = name;
    }
    if (count > 1)
        qsort(names, count, sizeof(*names), cmp_name);
    *out = names;
    *n = count;
    return 0;
}
