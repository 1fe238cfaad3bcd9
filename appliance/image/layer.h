/* Deterministic image layers: tar sorted by path, fixed mtime, uid/gid 0, no user or group
 * names, restricted pax, gzip without a timestamp. Equal inputs give equal bytes. */
#ifndef AP_IMAGE_LAYER_H
#define AP_IMAGE_LAYER_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/hash.h"
#include "tar.h"

struct ap_layer_stats {
    char digest[AP_SHA256_HEX_LEN + 1];  /* sha256 of the gzip stream */
    char diff_id[AP_SHA256_HEX_LEN + 1]; /* sha256 of the uncompressed tar */
    uint64_t compressed_size, tar_size;
    uint64_t unpacked_bytes; /* sum of regular file sizes */
    uint64_t entries, files;
};

/* Receives the compressed bytes. Returns 0, or -1 with errno set. */
typedef int (*ap_layer_sink)(void *ctx, const void *data, size_t len);

struct ap_layer_writer;

/* Starts a layer whose every entry gets mtime `mtime`. The caller must add entries in sorted
 * path order (ap_layer_add refuses anything else) and end with ap_layer_finish(), which
 * frees w. */
int ap_layer_open(int64_t mtime, ap_layer_sink sink, void *ctx, struct ap_layer_writer **out,
                  ap_error **err);

/* Adds one entry. A regular file's bytes come from `data` (size e->size) when not NULL,
 * otherwise from the descriptor `fd`. e->link holds the symlink contents or the hardlink's
 * target path. */
int ap_layer_add(struct ap_layer_writer *w, const struct ap_entry *e, const void *data, int fd,
                 ap_error **err);

/* Flushes both streams, fills st, frees w. */
int ap_layer_finish(struct ap_layer_writer *w, struct ap_layer_stats *st, ap_error **err);

/* Frees a writer abandoned after an error. */
void ap_layer_abort(struct ap_layer_writer *w);

/* Walks the directory tree at root (never following symlinks) and writes it as one layer,
 * hardlinked files as tar hardlinks. */
int ap_layer_write_tree(const char *root, int64_t mtime, ap_layer_sink sink, void *ctx,
                        struct ap_layer_stats *st, ap_error **err);

/* A sink that appends to a file descriptor (ctx = int *). */
int ap_layer_fd_sink(void *ctx, const void *data, size_t len);

#endif
