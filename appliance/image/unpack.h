/* Writes checked archive entries into a root directory without ever following a symbolic
 * link that is already there. */
#ifndef AP_IMAGE_UNPACK_H
#define AP_IMAGE_UNPACK_H

#include <stdint.h>

#include "tar.h"

struct ap_unpack {
    int rootfd;            /* directory everything goes under; owned by the caller */
    char cur[AP_PATH_MAX]; /* parent directory of the last entry, cached with curfd */
    int curfd;
    uint64_t files, bytes;
};

/* Prepares u for writing under rootfd. */
void ap_unpack_init(struct ap_unpack *u, int rootfd);
/* Closes cached descriptors (not rootfd). */
void ap_unpack_done(struct ap_unpack *u);

/* An ap_tar_entry_fn (ctx = struct ap_unpack *): creates the entry, replacing a file or link
 * of the same name (as a later package does), refusing to replace a directory with a
 * non-directory or to pass through a symbolic link. */
int ap_unpack_entry(void *ctx, const struct ap_entry *e, struct archive *a, ap_error **err);

/* Creates the merged-/usr skeleton (bin -> usr/bin, ...) and the usual empty directories
 * (tmp, proc, sys, dev, etc, run, root, var/tmp) under rootfd. */
int ap_unpack_skeleton(int rootfd, ap_error **err);

/* Opens (creating with 0755 when missing) the directory at normalised relative path `dir`
 * under rootfd, refusing symbolic links and non-directories on the way. */
int ap_unpack_open_dir(int rootfd, const char *dir, int create, ap_error **err);

#endif
