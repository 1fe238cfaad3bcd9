/* libFuzzer harness for result archives: the bytes as a whole archive (a zstd-compressed tar
 * read from memory, every member checked, then SHA256SUMS, provenance, manifest, inputs and
 * results checked against each other), and as each metadata member on its own. */
#include <stddef.h>
#include <stdint.h>

#include "bundle/archive.h"
#include "bundle/manifest.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    ap_error *err = NULL;
    if (!ready) {
        if (ap_hash_init(&err) < 0)
            __builtin_trap();
        ready = 1;
    }
    const char *text = (const char *)data;

    /* Small bounds, so a bomb is caught in milliseconds and never exhausts memory. */
    struct ap_archive_limits l;
    ap_archive_default_limits(&l);
    l.max_member = 4 << 20;
    l.max_total = 8 << 20;
    l.max_members = 10000;
    l.max_stream = 16 << 20;
    l.max_meta = 1 << 20;
    l.max_results = 1 << 20;
    struct ap_archive_scan s;
    if (ap_archive_scan_memory(data, size, &l, &s, &err) == 0) {
        struct ap_manifest_info info;
        if (ap_archive_check(&s, NULL, &info, &err) < 0)
            ap_error_release(&err);
        ap_archive_scan_free(&s);
    }
    ap_error_release(&err);

    struct ap_manifest_info info;
    if (ap_bundle_manifest_check(text, size, &info, &err) < 0)
        ap_error_release(&err);

    struct ap_bundle_files files = {0};
    char id[AP_RUN_ID_MAX + 1];
    if (ap_bundle_provenance_check(text, size, &files, id, &err) < 0)
        ap_error_release(&err);
    ap_bundle_files_sort(&files);
    if (ap_bundle_inputs_check(text, size, &files, &err) < 0)
        ap_error_release(&err);
    ap_bundle_files_free(&files);

    if (ap_bundle_sums_parse(text, size, 100000, &files, &err) < 0)
        ap_error_release(&err);
    ap_bundle_files_free(&files);

    cJSON *j = NULL;
    if (ap_json_parse(text, size, "fuzz/results.json", &j, &err) == 0) {
        if (ap_bench_results_check(j, id, &err) < 0)
            ap_error_release(&err);
        cJSON_Delete(j);
    }
    ap_error_release(&err);
    return 0;
}
