/* File helpers: bounded reads, atomic writes, recursive create and remove. */
#ifndef AP_CORE_FS_H
#define AP_CORE_FS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Reads the whole file at path (relative to dirfd) into a NUL-terminated heap buffer owned by
 * the caller. Files larger than max bytes are refused. */
int ap_fs_read_file(int dirfd, const char *path, size_t max, char **out, size_t *len,
                    ap_error **err);

/* Writes data to path through a temporary file in the same directory, fsync and rename, so
 * path holds either the old or the complete new content, never a half-written one. */
int ap_fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, ap_error **err);

/* mkdir -p with the given mode for the directories it creates. */
int ap_fs_mkdir_p(const char *path, mode_t mode, ap_error **err);

/* rm -rf that never follows symbolic links. A missing path is not an error. */
int ap_fs_remove_tree(const char *path, ap_error **err);

/* Makes dst a hard link of src, or a copy when a link is impossible (other file system).
 * The copy goes through a temporary name and rename. */
int ap_fs_link_or_copy(const char *src, const char *dst, ap_error **err);

/* Creates a fresh directory "<parent>/.<prefix>.XXXXXX" and returns its path (owned by the
 * caller). */
int ap_fs_mkdtemp_in(const char *parent, const char *prefix, char **out, ap_error **err)
    __attribute__((warn_unused_result));

/* snprintf for paths: returns 0, or -1 (errno ENAMETOOLONG) when the result does not fit. */
int ap_fs_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));

/* Formats bytes as "12.3 MiB" into buf. Returns buf. */
const char *ap_fs_human_bytes(uint64_t bytes, char *buf, size_t len);

/* read(2), again when a signal interrupted it: the bytes read, 0 at the end, -1 with errno. */
ssize_t ap_fs_read_some(int fd, void *buf, size_t len);

/* Retries write() on EINTR and short writes. */
int ap_fs_write_all(int fd, const void *data, size_t len);

/* The folder part of path into dir: "." for a bare name, "/" for a file at the root. Returns
 * -1 when it does not fit. */
int ap_fs_dirname(const char *path, char *dir, size_t len) __attribute__((warn_unused_result));

/* Reads fd to its end into buf (len bytes, NUL-terminated); path names it in errors. With
 * whole, more than len - 1 bytes is an error; otherwise the rest is left unread. Returns the
 * bytes read, or -1 with err. For files whose size stat cannot tell (/proc, cgroupfs). */
int ap_fs_read_to_end(int fd, const char *path, char *buf, size_t len, int whole, ap_error **err);

/* Opens path and reads it whole into buf, as ap_fs_read_to_end with whole: a file of the
 * kernel's (/proc, /sys, cgroupfs), whose size stat cannot tell. */
int ap_fs_read_small(const char *path, char *buf, size_t len, ap_error **err);

/* Reads fd to its end in chunks of at most len bytes into buf, handing each to fn; the bytes
 * read go to *total when not NULL. */
int ap_fs_each_chunk(int fd, const char *path, void *buf, size_t len,
                     void (*fn)(void *ctx, const void *chunk, size_t n), void *ctx, uint64_t *total,
                     ap_error **err);

/* ap_fs_list_names: a missing folder is an empty list, not an error. */
#define AP_FS_LIST_MISSING_EMPTY 1u

/* The names in dir, sorted by strcmp, into *out (free with ap_fs_names_free) and *n: entries
 * whose name starts with a dot are left out, and with a marker only folders holding a regular
 * file of that name (dir/NAME/marker) count. A folder that cannot be opened is an error, and so
 * is a missing one unless flags has AP_FS_LIST_MISSING_EMPTY. */
int ap_fs_list_names(const char *dir, const char *marker, unsigned flags, char ***out, size_t *n,
                     ap_error **err) __attribute__((warn_unused_result));

/* Frees n names and the array that holds them. */
void ap_fs_names_free(char **names, size_t n);

#endif
