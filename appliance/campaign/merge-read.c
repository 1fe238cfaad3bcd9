/* Reading one part of a campaign (merge.h): the signature against the trusted keys, the whole
 * archive as appliance verify checks it, then its members from one read of the signed bytes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle/archive.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "merge.h"

void ap_merge_part_free(struct ap_merge_part *p)
{
    free(p->name);
    cJSON_Delete(p->results);
    free(p->claims);
    memset(p, 0, sizeof(*p));
}

/* The trusted key that made the signature at sig, or NULL (the key id in hex then). */
static const struct ap_minisign_pk *signer(const char *sig, const struct ap_minisign_pk *keys,
                                           size_t n_keys, char *hex, ap_error **err)
{
    unsigned char keyid[AP_MINISIGN_KEYID_LEN];
    if (ap_minisign_sig_keyid(sig, keyid, err) < 0)
        return NULL;
    for (size_t i = 0; i < n_keys; i++)
        if (memcmp(keys[i].keyid, keyid, sizeof(keyid)) == 0)
            return &keys[i];
    ap_minisign_keyid_hex(keyid, hex);
    return NULL;
}

/* Scans the signed bytes (buf, whose sha256 the signature names) and takes results.json and
 * claims.json from them. */
static int take_members(const char *name, const char *buf, size_t len, const char *run_id,
                        struct ap_merge_part *p, ap_error **err)
{
    struct ap_archive_scan s;
    struct ap_manifest_info info;
    if (ap_archive_scan_memory(buf, len, NULL, &s, err) < 0)
        return -1;
    int rc = ap_archive_check(&s, run_id, &info, err);
    if (rc == 0 && s.results == NULL)
        rc = ap_error_make(err, 0, "the archive holds no %s: it is no run's part",
                           AP_BUNDLE_RESULTS);
    char what[4200];
    snprintf(what, sizeof(what), "%s:%s", name, AP_BUNDLE_RESULTS);
    if (rc == 0)
        rc = ap_json_parse(s.results, s.results_len, what, &p->results, err);
    if (rc == 0 && s.claims != NULL) {
        p->claims = malloc(s.claims_len > 0 ? s.claims_len : 1);
        if (p->claims == NULL)
            rc = ap_error_make(err, ENOMEM, "reading %s", name);
        else
            memcpy(p->claims, s.claims, s.claims_len);
        p->claims_len = s.claims_len;
    }
    ap_archive_scan_free(&s);
    return rc;
}

int ap_merge_read_part(const char *path, const struct ap_minisign_pk *keys, size_t n_keys,
                       const char *keys_path, struct ap_merge_part *p, ap_error **err)
{
    memset(p, 0, sizeof(*p));
    const char *slash = strrchr(path, '/');
    p->name = strdup(slash != NULL ? slash + 1 : path);
    char sig[4200];
    if (p->name == NULL)
        return ap_error_make(err, ENOMEM, "part %s", path);
    if (ap_fs_path(sig, sizeof(sig), "%s.minisig", path) < 0)
        return ap_error_make(err, ENAMETOOLONG, "part %.64s...", path);
    char hex[AP_MINISIGN_KEYID_HEX_LEN + 1] = "";
    const struct ap_minisign_pk *pk = signer(sig, keys, n_keys, hex, err);
    if (pk == NULL && hex[0] == '\0')
        return ap_error_wrap(err, "part %s", path);
    if (pk == NULL) {
        ap_error_make(err, 0,
                      "part %s is signed by key %s, which is not among the trusted keys (%s)", path,
                      hex, keys_path);
        return ap_error_hint(err,
                             "add the public key of the machine that signed it to %s (public key "
                             "files concatenated), or leave the part out if that key is not "
                             "trusted",
                             keys_path);
    }
    struct ap_verify_result vr;
    if (ap_verify_archive(path, sig, pk, &vr, err) < 0)
        return ap_error_wrap(err, "part %s", path);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (ap_fs_read_file(AT_FDCWD, path, (size_t)AP_MERGE_PART_MAX, &buf, &len, err) < 0)
        return ap_error_wrap(err, "part %s (at most %llu bytes)", path,
                             (unsigned long long)AP_MERGE_PART_MAX);
    ap_sha256_hex(buf, len, p->sha256);
    if (strcmp(p->sha256, vr.sha256) != 0)
        return ap_error_make(err, 0, "part %s changed while it was read (sha256 %s, signed %s)",
                             path, p->sha256, vr.sha256);
    if (take_members(p->name, buf, len, vr.run_id, p, err) < 0)
        return ap_error_wrap(err, "part %s", path);
    return 0;
}
