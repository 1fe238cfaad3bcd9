/* The pure pieces of result archives: member names, file lists, SHA256SUMS, run ids and times,
 * and the building and checking of manifest.json, provenance.json and results.json. Nothing
 * here touches the file system, so the unit tests and the fuzz harness call it directly. */
#ifndef AP_BUNDLE_MANIFEST_H
#define AP_BUNDLE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../bench/results.h"
#include "../core/error.h"
#include "../core/hash.h"

#define AP_MANIFEST_SCHEMA "appliance-archive-manifest-1"
#define AP_INTOTO_STATEMENT "https://in-toto.io/Statement/v1"
#define AP_PROVENANCE_PREDICATE "urn:appliance:benchmark-results:v1"

/* Members the archive adds beside what the run wrote. */
#define AP_BUNDLE_SUMS "SHA256SUMS"
#define AP_BUNDLE_MANIFEST "manifest.json"
#define AP_BUNDLE_PROVENANCE "provenance.json"
#define AP_BUNDLE_RESULTS "results.json"
/* A claims file the run was judged against (appliance verdict reads it). */
#define AP_BUNDLE_CLAIMS "claims.json"
/* The verdicts of that claims file on the archived results (appliance verify judges again). */
#define AP_BUNDLE_VERDICTS "verdicts.json"
#define AP_BUNDLE_INPUTS_DIR "inputs"

#define AP_BUNDLE_NAME_MAX 1024             /* bytes in a member name */
#define AP_RUN_ID_MAX AP_RESULTS_RUN_ID_MAX /* characters in a run id */
/* "sha256:" and 64 hex digits, with the NUL. */
#define AP_DIGEST_STR_LEN (7 + AP_SHA256_HEX_LEN + 1)
/* The largest SHA256SUMS, manifest.json or provenance.json an archive may hold. */
#define AP_BUNDLE_META_MAX (UINT64_C(64) << 20)

/* Checks a member name as the archive holds it: 1 to AP_BUNDLE_NAME_MAX bytes of UTF-8,
 * relative (no leading '/'), no empty, "." or ".." component, no trailing '/', no control
 * character and no backslash. Returns 0, or -1 with *why set to a static reason. */
int ap_bundle_check_name(const char *name, const char **why);

/* True when id is a usable run id (and archive file name): ap_bench_results_run_id_valid. */
int ap_bundle_run_id_valid(const char *id);

/* True when name is a usable image name (a folder under images/): 1 to 128 characters of
 * [A-Za-z0-9._-], starting with a letter or digit. */
int ap_bundle_image_name_valid(const char *name);

/* True when s is "sha256:" followed by 64 lowercase hex digits. */
int ap_bundle_digest_valid(const char *s);

/* Copies s into buf (len bytes) for an error message: control characters become '?', and a
 * long name is cut with "...". Returns buf. */
const char *ap_bundle_printable(const char *s, char *buf, size_t len);

/* One file of an archive: its member name, size and sha256. */
struct ap_bundle_file {
    char *name; /* heap, owned by the list */
    uint64_t size;
    char sha256[AP_SHA256_HEX_LEN + 1];
};

/* A growable list of files; zero-initialise it, free it with ap_bundle_files_free(). */
struct ap_bundle_files {
    struct ap_bundle_file *v;
    size_t n, cap;
};

/* Appends a copy of name with its size and digest (64 lowercase hex digits). */
int ap_bundle_files_add(struct ap_bundle_files *f, const char *name, uint64_t size,
                        const char *sha256, ap_error **err);
void ap_bundle_files_free(struct ap_bundle_files *f);
/* Sorts by name (byte order, as strcmp), the order of SHA256SUMS and of the archive. */
void ap_bundle_files_sort(struct ap_bundle_files *f);
/* The file called name in a sorted list, or NULL. */
const struct ap_bundle_file *ap_bundle_files_find(const struct ap_bundle_files *f,
                                                  const char *name);

/* Compares the files an archive holds (actual, sorted, names unique) with a listing of them
 * (listed, sorted, names unique) that `what` names ("SHA256SUMS"): fails on the first file
 * the listing lacks, the first it lists that the archive lacks, or the first digest that
 * differs, in name order. Members named in `skip` (NULL-terminated, may be NULL) are left out
 * of actual. */
int ap_bundle_files_compare(const struct ap_bundle_files *actual,
                            const struct ap_bundle_files *listed, const char *what,
                            const char *const *skip, ap_error **err);

/* Formats a sorted list as sha256sum does ("<hex>  <name>\n" per file). The caller frees
 * *out. Names must pass ap_bundle_check_name and be strictly increasing. */
int ap_bundle_sums_format(const struct ap_bundle_files *f, char **out, size_t *len, ap_error **err);

/* Parses SHA256SUMS text strictly: every line "<64 lowercase hex>  <name>\n", names valid and
 * strictly increasing, at most max_lines lines. Appends to out (sizes are 0). */
int ap_bundle_sums_parse(const char *buf, size_t len, size_t max_lines, struct ap_bundle_files *out,
                         ap_error **err);

/* An image a run measured, as the manifest records it. */
struct ap_bundle_image {
    const char *name;
    char digest[AP_DIGEST_STR_LEN];      /* the run's manifest digest */
    char lock_sha256[AP_DIGEST_STR_LEN]; /* images/<name>/lock.json, "" when it has none */
};

/* What manifest.json and provenance.json say about a run. Strings are borrowed. */
struct ap_bundle_info {
    const char *run_id;
    const char *started, *ended;   /* "YYYY-MM-DDTHH:MM:SSZ", or NULL when unknown */
    const char *profile, *command; /* NULL when unknown */
    int complete;                  /* 1, 0, or -1 when unknown */
    const char *results_schema;    /* results.json's "schema", NULL without one */
    const cJSON *environment;      /* results.json's "environment", or NULL */
    const struct ap_bundle_image *images;
    size_t n_images;
    const char *claims_sha256; /* hex, or NULL without a claims file */
    int with_inputs;
    const cJSON *inputs; /* the manifest's "inputs" object, or NULL */
    const char *version; /* the packing appliance's version */
};

/* The environment summary both files carry: kernel, arch, cpu_model, cpus_online,
 * memory_bytes, clocksource, cgroup and appliance of results.json's environment (those it
 * has), or JSON null for a NULL env. The caller owns the result (NULL: out of memory). */
cJSON *ap_bundle_environment_summary(const cJSON *env);

/* Builds manifest.json's object (see ARCHIVE.md). The caller owns the result. */
int ap_bundle_manifest_build(const struct ap_bundle_info *b, cJSON **out, ap_error **err);

/* Builds the in-toto Statement: subject = files (sorted, every member but SHA256SUMS and
 * provenance.json), predicate = the run. The caller owns the result. */
int ap_bundle_provenance_build(const struct ap_bundle_info *b, const struct ap_bundle_files *files,
                               cJSON **out, ap_error **err);

/* What the checks of manifest.json report. */
struct ap_manifest_info {
    char run_id[AP_RUN_ID_MAX + 1];
    int with_inputs;
    int has_results; /* results_schema is not null: results.json must be there */
    size_t n_images;
};

/* Checks manifest.json's structure (every field's presence and type, digests, names, times)
 * and fills info. */
int ap_bundle_manifest_check(const char *buf, size_t len, struct ap_manifest_info *info,
                             ap_error **err);

/* Checks provenance.json's structure (_type, predicateType, subject names and digests
 * unique, predicate.run.id and the other predicate members) and appends the subjects,
 * sorted, to subjects; copies predicate.run.id into run_id (AP_RUN_ID_MAX + 1 bytes). */
int ap_bundle_provenance_check(const char *buf, size_t len, struct ap_bundle_files *subjects,
                               char *run_id, ap_error **err);

/* Cross-checks the manifest's "inputs" with the members: every listed blob is there as
 * inputs/blobs/sha256/<hex>, every listed layout's index.json and every listed recipe's
 * image.json are there; and every member under inputs/ whose path ends in
 * blobs/sha256/<hex> has that sha256. */
int ap_bundle_inputs_check(const char *manifest, size_t len, const struct ap_bundle_files *members,
                           ap_error **err);

#endif
