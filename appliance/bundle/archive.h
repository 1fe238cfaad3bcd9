/* Result archives: a run directory packed into a deterministic tar.zst (sorted entries, fixed
 * mtime, uid/gid 0, no owner names, modes 0644/0755) with manifest.json, SHA256SUMS and an
 * in-toto provenance statement, signed minisign-style; and the reading and verifying of one. */
#ifndef AP_BUNDLE_ARCHIVE_H
#define AP_BUNDLE_ARCHIVE_H

#include <stddef.h>

#include "../core/error.h"
#include "minisign.h"

struct ap_pack_opts {
    const char *run_dir;     /* what the run wrote (results.json, logs, reports...) */
    const char *out_dir;     /* where <run-id>.tar.zst and its .minisig go (default results) */
    const struct ap_minisign_sk *sk; /* NULL: pack without signing */
    int with_inputs;         /* also the images' OCI blobs and every pinned input */
    const char *images_dir;  /* recipes and lock files (images/) */
    const char *layouts_dir; /* built layouts (build/images) */
    const char *cache_dir;   /* downloads (blobs/sha256/...) */
    const char *claims_path; /* a claims file used by the run, or NULL */
};

/* Packs; on success archive (len bytes) holds the archive's path. Nothing is left under a
 * final name unless the whole archive (and its signature, verified right after signing) is
 * written. */
int ap_pack(const struct ap_pack_opts *o, char *archive, size_t len, ap_error **err);

/* Verifies an archive against a trusted public key: the signature (<archive>.minisig unless
 * sig_path), then every file against SHA256SUMS and the provenance subjects, then the
 * manifest's and results' structure. Returns 0, or -1 with err naming the first check that
 * failed. */
int ap_verify(const char *archive, const char *sig_path, const struct ap_minisign_pk *pk,
              ap_error **err);

/* Reads one member (e.g. "results.json", "manifest.json") of an archive into a new buffer of
 * at most max bytes (NUL-terminated; the caller frees it). No signature check: verify first
 * when the source is not trusted. */
int ap_archive_read_member(const char *archive, const char *name, size_t max, char **out,
                           size_t *len, ap_error **err);

#endif
