/* Inside `pack`: the members to be, shared by the collecting (pack.c), the tar.zst writer
 * (archive-write.c) and the signing and publishing (publish.c). Not for use outside bundle/. */
#ifndef AP_BUNDLE_PACK_H
#define AP_BUNDLE_PACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "../core/error.h"
#include "../core/hash.h"
#include "archive.h"

/* One member to be: a file to copy (dirfd + path) or bytes built in memory (data). */
struct ap_pack_item {
    char *name;
    int dirfd;  /* AT_FDCWD or the run directory's descriptor */
    char *path; /* source relative to dirfd; NULL for data */
    char *data;
    size_t len;
    uint64_t size;
    unsigned mode;
    char sha256[AP_SHA256_HEX_LEN + 1];
    const struct ap_pack_input *pin; /* a pinned input: the digest the file must have */
};

/* A growable list of members; zero-initialise, free with ap_pack_items_free(). */
struct ap_pack_items {
    struct ap_pack_item *v;
    size_t n, cap;
};

void ap_pack_items_free(struct ap_pack_items *it);

/* Appends a file to copy (path relative to dirfd, copied). */
int ap_pack_add_file(struct ap_pack_items *it, const char *name, int dirfd, const char *path,
                     unsigned mode, ap_error **err);

/* Appends bytes built in memory and hashes them; takes ownership of data (heap). */
int ap_pack_add_data(struct ap_pack_items *it, const char *name, char *data, size_t len,
                     ap_error **err);

/* A listed file open for reading (checked to be still a regular file), with a read buffer of
 * AP_PACK_IO_BUF bytes and a running sha256. */
struct ap_pack_reader {
    int fd;
    char *buf;
    struct ap_sha256 h;
};
int ap_pack_reader_open(const struct ap_pack_item *e, struct ap_pack_reader *r, ap_error **err);
void ap_pack_reader_close(struct ap_pack_reader *r);

#define AP_PACK_IO_BUF ((size_t)1 << 16) /* read size while hashing and packing files */

/* Writes items (sorted by name, every one hashed) as a deterministic tar.zst to fd, each
 * member with mtime `mtime`, hashing each file again as it goes: a file that changed since
 * it was hashed is an error. Fills sha256 (hex) and bytes with the archive's. fd is synced. */
int ap_archive_write(int fd, const struct ap_pack_items *items, int64_t mtime, char *sha256,
                     uint64_t *bytes, ap_error **err);

/* The archive's file in out_dir (outfd): anonymous (O_TMPFILE) where the file system allows
 * it, else a hidden temporary name written to tmp (len bytes; "" for an anonymous one).
 * Returns the descriptor. */
int ap_pack_open_output(const char *out_dir, int outfd, const char *id, char *tmp, size_t len,
                        ap_error **err);

/* Signs the finished archive in fd (with o->sk when set) and gives the archive and its
 * signature their final names res->archive and res->signature; tmp (tmplen bytes) as from
 * ap_pack_open_output. The old signature goes first: at no moment does a signature sit
 * beside an archive it does not belong to. Removes what it leaves unnamed on failure. */
int ap_pack_publish(const struct ap_pack_opts *o, const char *out_dir, int outfd, int fd, char *tmp,
                    size_t tmplen, struct ap_pack_result *res, ap_error **err);

#endif
