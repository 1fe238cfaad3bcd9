/* Verifying result archives: the signature with a trusted key, then every member against
 * SHA256SUMS and the provenance subjects, then the structures. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "archive.h"

#define UNTRUSTED_LINE "untrusted comment: " AP_ARCHIVE_UNTRUSTED_COMMENT
#define SIG_FILE_MAX 16384

static int failed(ap_error **err, const char *check)
{
    return ap_error_wrap(err, "%s check failed", check);
}

static int check_sums(const struct ap_archive_scan *s, ap_error **err)
{
    if (s->sums == NULL)
        return ap_error_make(err, 0, "the archive has no %s member", AP_BUNDLE_SUMS);
    struct ap_bundle_files listed = {0};
    static const char *const skip[] = {AP_BUNDLE_SUMS, NULL};
    int rc = -1;
    if (ap_bundle_sums_parse(s->sums, s->sums_len, s->members.n + 1, &listed, err) == 0 &&
        ap_bundle_files_compare(&s->members, &listed, AP_BUNDLE_SUMS, skip, err) == 0)
        rc = 0;
    ap_bundle_files_free(&listed);
    return rc;
}

static int check_provenance(const struct ap_archive_scan *s, char *run_id, ap_error **err)
{
    if (s->provenance == NULL)
        return ap_error_make(err, 0, "the archive has no %s member", AP_BUNDLE_PROVENANCE);
    struct ap_bundle_files subjects = {0};
    static const char *const skip[] = {AP_BUNDLE_SUMS, AP_BUNDLE_PROVENANCE, NULL};
    int rc = -1;
    if (ap_bundle_provenance_check(s->provenance, s->provenance_len, &subjects, run_id, err) == 0 &&
        ap_bundle_files_compare(&s->members, &subjects, "the provenance subjects", skip, err) == 0)
        rc = 0;
    ap_bundle_files_free(&subjects);
    return rc;
}

static int check_manifest(const struct ap_archive_scan *s, const char *prov_id,
                          const char *signed_id, struct ap_manifest_info *info, ap_error **err)
{
    if (s->manifest == NULL)
        return ap_error_make(err, 0, "the archive has no %s member", AP_BUNDLE_MANIFEST);
    if (ap_bundle_manifest_check(s->manifest, s->manifest_len, info, err) < 0)
        return -1;
    if (strcmp(info->run_id, prov_id) != 0)
        return ap_error_make(err, 0, "run id \"%s\" differs from the provenance's \"%s\"",
                             info->run_id, prov_id);
    if (signed_id != NULL && strcmp(info->run_id, signed_id) != 0)
        return ap_error_make(err, 0, "run id \"%s\" differs from the signed one \"%s\"",
                             info->run_id, signed_id);
    return 0;
}

static int check_inputs(const struct ap_archive_scan *s, const struct ap_manifest_info *info,
                        ap_error **err)
{
    if (!info->with_inputs)
        for (size_t i = 0; i < s->members.n; i++)
            if (strncmp(s->members.v[i].name, AP_BUNDLE_INPUTS_DIR "/",
                        sizeof(AP_BUNDLE_INPUTS_DIR)) == 0)
                return ap_error_make(err, 0,
                                     "member \"%s\" is an input, but the manifest says the "
                                     "archive has none",
                                     s->members.v[i].name);
    return ap_bundle_inputs_check(s->manifest, s->manifest_len, &s->members, err);
}

static int check_results(const struct ap_archive_scan *s, const struct ap_manifest_info *info,
                         ap_error **err)
{
    if (s->results == NULL) {
        if (info->has_results)
            return ap_error_make(err, 0,
                                 "the manifest names a results schema, but the archive "
                                 "has no results.json");
        return 0;
    }
    if (!info->has_results)
        return ap_error_make(err, 0,
                             "the archive holds results.json, but the manifest's "
                             "results_schema is null");
    cleanup_cjson cJSON *j = NULL;
    char id[AP_RUN_ID_MAX + 1];
    if (ap_json_parse(s->results, s->results_len, AP_BUNDLE_RESULTS, &j, err) < 0 ||
        ap_bench_results_check(j, id, err) < 0)
        return -1;
    if (id[0] != '\0' && strcmp(id, info->run_id) != 0)
        return ap_error_make(err, 0, "run.id \"%s\" differs from the manifest's \"%s\"", id,
                             info->run_id);
    return 0;
}

int ap_archive_check(const struct ap_archive_scan *s, const char *signed_id,
                     struct ap_manifest_info *info, ap_error **err)
{
    char prov_id[AP_RUN_ID_MAX + 1] = "";
    if (check_sums(s, err) < 0)
        return failed(err, AP_BUNDLE_SUMS);
    if (check_provenance(s, prov_id, err) < 0)
        return failed(err, "provenance");
    if (check_manifest(s, prov_id, signed_id, info, err) < 0)
        return failed(err, "manifest");
    if (check_inputs(s, info, err) < 0)
        return failed(err, "inputs");
    if (check_results(s, info, err) < 0)
        return failed(err, "results");
    return 0;
}

/* The trusted comment appliance pack writes: "appliance run <id> sha256:<hex>". */
static int parse_comment(const char *c, char *id, char *hex, ap_error **err)
{
    static const char prefix[] = "appliance run ";
    const char *sp = NULL;
    size_t idlen = 0;
    if (strncmp(c, prefix, sizeof(prefix) - 1) == 0) {
        const char *p = c + sizeof(prefix) - 1;
        sp = strchr(p, ' ');
        idlen = sp != NULL ? (size_t)(sp - p) : 0;
        if (sp != NULL && idlen <= AP_RUN_ID_MAX) {
            memcpy(id, p, idlen);
            id[idlen] = '\0';
        }
    }
    if (sp == NULL || idlen > AP_RUN_ID_MAX || !ap_bundle_run_id_valid(id) ||
        strncmp(sp + 1, "sha256:", 7) != 0 || !ap_sha256_hex_valid(sp + 8)) {
        char shown[160];
        return ap_error_make(err, 0,
                             "the trusted comment \"%s\" is not \"appliance run <id> "
                             "sha256:<hex>\"",
                             ap_bundle_printable(c, shown, sizeof(shown)));
    }
    memcpy(hex, sp + 8, AP_SHA256_HEX_LEN + 1);
    return 0;
}

/* minisign signs everything in a signature file but its first line, the untrusted comment.
 * appliance pack always writes the same one, and anything else is refused: no byte of the file
 * goes unchecked. (A missing or unreadable file is left to ap_minisign_verify to report.) */
static int check_untrusted(const char *sig, ap_error **err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    ap_error *e = NULL;
    if (ap_fs_read_file(AT_FDCWD, sig, SIG_FILE_MAX, &text, &len, &e) < 0) {
        ap_error_release(&e);
        return 0;
    }
    size_t n = strlen(UNTRUSTED_LINE);
    if (len <= n || memcmp(text, UNTRUSTED_LINE, n) != 0 || text[n] != '\n') {
        ap_error_make(err, 0, "%s: the first line is not \"%s\"", sig, UNTRUSTED_LINE);
        return ap_error_hint(err,
                             "appliance pack writes that line in every signature; to sign "
                             "an archive by hand, pass it to minisign with -c \"%s\"",
                             AP_ARCHIVE_UNTRUSTED_COMMENT);
    }
    return 0;
}

static int check_signature(const char *archive, const char *sig, const struct ap_minisign_pk *pk,
                           struct ap_verify_result *res, ap_error **err)
{
    char hex[AP_SHA256_HEX_LEN + 1];
    if (check_untrusted(sig, err) < 0)
        return -1;
    if (ap_minisign_verify(pk, archive, sig, res->trusted_comment, sizeof(res->trusted_comment),
                           err) < 0) {
        if (*err != NULL && (*err)->status == ENOENT)
            ap_error_hint(err,
                          "the signature is looked for at %s; pass --sig FILE when it is "
                          "elsewhere",
                          sig);
        return -1;
    }
    if (parse_comment(res->trusted_comment, res->run_id, hex, err) < 0)
        return -1;
    if (ap_sha256_file(AT_FDCWD, archive, res->sha256, NULL, err) < 0)
        return -1;
    if (strcmp(hex, res->sha256) != 0)
        return ap_error_make(err, 0, "the trusted comment names sha256 %s, the archive has %s", hex,
                             res->sha256);
    return 0;
}

int ap_verify_archive(const char *archive, const char *sig_path, const struct ap_minisign_pk *pk,
                      struct ap_verify_result *res, ap_error **err)
{
    memset(res, 0, sizeof(*res));
    char sig[4096];
    if (sig_path == NULL) {
        if (snprintf(sig, sizeof(sig), "%s.minisig", archive) >= (int)sizeof(sig))
            return ap_error_make(err, ENAMETOOLONG, "%s", archive);
        sig_path = sig;
    }
    if (check_signature(archive, sig_path, pk, res, err) < 0) {
        failed(err, "signature");
        return ap_error_wrap(err, "%s", archive);
    }
    struct ap_archive_scan s;
    if (ap_archive_scan_file(archive, NULL, &s, err) < 0)
        return -1;
    struct ap_manifest_info info;
    int rc = ap_archive_check(&s, res->run_id, &info, err);
    if (rc == 0) {
        res->files = s.members.n;
        res->bytes = s.total;
        res->with_inputs = info.with_inputs;
    } else {
        ap_error_wrap(err, "%s", archive);
    }
    ap_archive_scan_free(&s);
    return rc;
}

int ap_verify(const char *archive, const char *sig_path, const struct ap_minisign_pk *pk,
              ap_error **err)
{
    struct ap_verify_result res;
    return ap_verify_archive(archive, sig_path, pk, &res, err);
}
