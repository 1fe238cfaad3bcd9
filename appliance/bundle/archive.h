/* Result archives: a run directory packed into a deterministic tar.zst (sorted entries, fixed
 * mtime, uid/gid 0, no owner names, modes 0644/0755) with manifest.json, SHA256SUMS and an
 * in-toto provenance statement, signed minisign-style; and the reading and verifying of one. */
#ifndef AP_BUNDLE_ARCHIVE_H
#define AP_BUNDLE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "manifest.h"
#include "minisign.h"

/* The signature's untrusted comment. minisign leaves that line unsigned, so verification
 * accepts this text only: no byte of a signature file goes unchecked. */
#define AP_ARCHIVE_UNTRUSTED_COMMENT "signature from appliance secret key"

/* A file to pack under inputs/ (bundle/ knows no recipe: image/ lists a run's pinned inputs
 * and the caller hands them over). Strings borrowed. */
struct ap_pack_input {
    const char *name;         /* the member's name under inputs/ ("blobs/sha256/<hex>") */
    const char *path;         /* the file */
    const char *sha256;       /* the digest (hex) the file must have, or NULL */
    uint64_t size;            /* the size it must have, or AP_PACK_ANY_SIZE */
    const char *label;        /* what to call it in messages, or NULL */
    const char *pinned_by;    /* who pins it ("the lock"), or NULL */
    const char *missing_hint; /* the hint when the file is missing, or NULL */
    const char *damaged_hint; /* the hint when it differs from its pin, or NULL */
};

#define AP_PACK_ANY_SIZE UINT64_MAX

/* An image the run measured, with its lock as the tree holds it now. Strings borrowed. */
struct ap_pack_image {
    const char *name;
    const char *digest;      /* "sha256:<hex>", as results.json records it */
    const char *lock_sha256; /* "sha256:<hex>" of images/<name>/lock.json, or "" for none */
};

struct ap_pack_opts {
    const char *run_dir; /* what the run wrote (results.json, logs, reports...) */
    const char *out_dir; /* where <run-id>.tar.zst and its .minisig go (default results) */
    const struct ap_minisign_sk *sk; /* NULL: pack without signing */
    /* Every image results.json names (a name it names that is missing here, or with another
     * digest, is an error: results.json changed since the list was made). */
    const struct ap_pack_image *images;
    size_t n_images;
    int with_inputs; /* also pack inputs[0..n_inputs) under inputs/ */
    const struct ap_pack_input *inputs;
    size_t n_inputs;
    const cJSON *inputs_desc; /* the manifest's "inputs" (layouts, recipes, sources, blobs) */
    const char *claims_path;  /* a claims file used by the run, or NULL */
};

/* What ap_pack_run made. */
struct ap_pack_result {
    char archive[4096];                 /* <out>/<run-id>.tar.zst */
    char signature[4096];               /* <archive>.minisig, or "" when unsigned */
    char sha256[AP_SHA256_HEX_LEN + 1]; /* of the archive file */
    char run_id[AP_RUN_ID_MAX + 1];
    uint64_t bytes; /* the archive's size */
    uint64_t files; /* members */
};

/* Packs as ap_pack does and reports what it made. */
int ap_pack_run(const struct ap_pack_opts *o, struct ap_pack_result *res, ap_error **err);

/* Packs; on success archive (len bytes) holds the archive's path. Nothing is left under a
 * final name unless the whole archive (and its signature, verified right after signing) is
 * written. */
int ap_pack(const struct ap_pack_opts *o, char *archive, size_t len, ap_error **err)
    __attribute__((warn_unused_result));

/* Verifies an archive against a trusted public key: the signature (<archive>.minisig unless
 * sig_path), then every file against SHA256SUMS and the provenance subjects, then the
 * manifest's and results' structure. Returns 0, or -1 with err naming the first check that
 * failed. */
int ap_verify(const char *archive, const char *sig_path, const struct ap_minisign_pk *pk,
              ap_error **err);

/* What ap_verify_archive found in an archive it accepted. */
struct ap_verify_result {
    char run_id[AP_RUN_ID_MAX + 1];
    char sha256[AP_SHA256_HEX_LEN + 1];
    char trusted_comment[AP_MINISIGN_COMMENT_MAX + 1];
    uint64_t files, bytes; /* members, and the sum of their sizes */
    int with_inputs;
};

/* ap_verify, reporting what it found. Errors start with the name of the check that failed:
 * "signature", "archive" (reading and member safety), "SHA256SUMS", "provenance", "manifest",
 * "inputs" or "results" ("SHA256SUMS check failed: ..."). */
int ap_verify_archive(const char *archive, const char *sig_path, const struct ap_minisign_pk *pk,
                      struct ap_verify_result *res, ap_error **err);

/* Bounds on everything read from an archive. */
struct ap_archive_limits {
    uint64_t max_member;  /* bytes in one member */
    uint64_t max_total;   /* bytes in all members */
    uint64_t max_members; /* members */
    uint64_t max_stream;  /* bytes the zstd stream may decompress to (headers included) */
    uint64_t max_meta;    /* bytes of SHA256SUMS, manifest.json or provenance.json */
    uint64_t max_results; /* bytes of results.json */
};

/* The bounds every reader of archives uses (verify, compare, rerun): 8 GiB a member, 64 GiB in
 * all, a million members, AP_BUNDLE_META_MAX of metadata, AP_RESULTS_MAX of results. */
void ap_archive_default_limits(struct ap_archive_limits *l);

/* One pass over an archive: every member (in archive order, which the pass checks is strictly
 * increasing by name) with its size and sha256, and the bytes of the members checked as
 * structures (NULL when absent). Free with ap_archive_scan_free(). */
struct ap_archive_scan {
    struct ap_bundle_files members;
    char *sums, *manifest, *provenance, *results;
    size_t sums_len, manifest_len, provenance_len, results_len;
    char *claims; /* the member claims.json (at most max_meta bytes), or NULL */
    size_t claims_len;
    char *verdicts; /* the member verdicts.json (at most max_meta bytes), or NULL */
    size_t verdicts_len;
    uint64_t total; /* sum of member sizes */
};

/* The one walk over an archive's members, for every verb that reads an archive (verify,
 * compare, rerun): reads a whole archive (a zstd-compressed tar) from a file or from memory in
 * one pass, refusing, with an error that names the member (and starts "archive check failed:
 * <path>: " unless the file cannot be opened): a stream that is not zstd or not tar; member
 * names that fail ap_bundle_check_name; anything but a regular file (links, directories,
 * devices, FIFOs, sockets, sparse files); members out of order or repeated; sizes or counts
 * beyond the limits; a stream that decompresses to more than max_stream bytes; non-zero data
 * after the end of the tar that the tar reader left unread. No signature check: verify first
 * when the source is not trusted. l NULL: ap_archive_default_limits. *out is all zero on
 * failure, so ap_archive_scan_free is always safe. */
int ap_archive_scan_file(const char *path, const struct ap_archive_limits *l,
                         struct ap_archive_scan *out, ap_error **err);
int ap_archive_scan_memory(const void *buf, size_t len, const struct ap_archive_limits *l,
                           struct ap_archive_scan *out, ap_error **err);
void ap_archive_scan_free(struct ap_archive_scan *s);

/* Checks a scanned archive's contents, in this order: every member against SHA256SUMS (none
 * missing, none extra), against the provenance subjects, then manifest.json, the inputs and
 * results.json. signed_id, when not NULL, is the run id the signature's trusted comment
 * names: the manifest must name the same. On success fills info. */
int ap_archive_check(const struct ap_archive_scan *s, const char *signed_id,
                     struct ap_manifest_info *info, ap_error **err);

#endif
