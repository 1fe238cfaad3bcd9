/* Reading tar streams from untrusted sources with every entry checked before use. */
#ifndef AP_IMAGE_TAR_H
#define AP_IMAGE_TAR_H

#include <stdint.h>
#include <archive.h>
#include <archive_entry.h>

#include "../core/error.h"

static inline void ap_cleanup_archive_readp(struct archive **a)
{
    if (*a != NULL)
        archive_read_free(*a);
}
static inline void ap_cleanup_archive_writep(struct archive **a)
{
    if (*a != NULL)
        archive_write_free(*a);
}
#define cleanup_archive_read __attribute__((cleanup(ap_cleanup_archive_readp)))
#define cleanup_archive_write __attribute__((cleanup(ap_cleanup_archive_writep)))

enum ap_entry_type { AP_ENTRY_FILE, AP_ENTRY_DIR, AP_ENTRY_SYMLINK, AP_ENTRY_HARDLINK };

#define AP_PATH_MAX 4096

/* One checked entry: a normalised relative path that stays inside the root. */
struct ap_entry {
    enum ap_entry_type type;
    char path[AP_PATH_MAX];
    char link[AP_PATH_MAX]; /* symlink contents, or the normalised hardlink target */
    unsigned mode;          /* permission bits incl. setuid/setgid/sticky */
    uint64_t size;          /* regular files only */
};

/* Checks applied to every entry. */
struct ap_tar_policy {
    int merged_usr;       /* rewrite bin/, lib/... into usr/ */
    uint64_t max_entry;   /* largest regular file accepted */
    uint64_t max_total;   /* largest sum of regular file sizes accepted */
    uint64_t max_entries; /* most entries accepted */
};

/* The policy for Debian packages and image layers. */
void ap_tar_default_policy(struct ap_tar_policy *p, int merged_usr);

/* Called for each checked entry; a regular file's bytes are read from `a` with
 * archive_read_data(). Return 0 to go on, -1 (with err filled) to stop. */
typedef int (*ap_tar_entry_fn)(void *ctx, const struct ap_entry *e, struct archive *a,
                               ap_error **err);

/* Walks every entry of the opened reader `a`. Refuses, naming `label` and the entry:
 * absolute names, ".." components, symlinks and hardlinks that leave the root, device nodes,
 * FIFOs and sockets, and entries beyond the policy's bounds. The root entry itself ("./") is
 * skipped. */
int ap_tar_each(struct archive *a, const char *label, const struct ap_tar_policy *policy,
                ap_tar_entry_fn fn, void *ctx, ap_error **err);

/* Opens a reader over a memory buffer holding a tar, possibly compressed with gzip, xz, zstd
 * or bzip2. The caller frees *out. */
int ap_tar_open_memory(const void *buf, size_t len, const char *label, struct archive **out,
                       ap_error **err);

#endif
