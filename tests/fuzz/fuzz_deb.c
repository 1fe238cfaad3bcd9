/* libFuzzer harness for the .deb path: the ar container, control.tar and data.tar readers and
 * every entry check, reading each file's bytes but writing nothing to disk. The same input is
 * also read as a bare (possibly compressed) tar. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/hash.h"
#include "image/deb.h"
#include "image/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Drains a regular file's data so the decompressors run over all of it. */
static int read_entry(void *ctx, const struct ap_entry *e, struct archive *a, ap_error **err)
{
    static char scratch[1 << 14];
    uint64_t *total = ctx;
    if (e->type != AP_ENTRY_FILE)
        return 0;
    for (;;) {
        la_ssize_t n = archive_read_data(a, scratch, sizeof(scratch));
        if (n < 0)
            return ap_error_make(err, 0, "reading %s: %s", e->path, archive_error_string(a));
        if (n == 0)
            return 0;
        *total += (uint64_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    ap_error *err = NULL;
    if (!initialised) {
        if (ap_hash_init(&err) < 0)
            abort();
        initialised = 1;
    }
    uint64_t total = 0;

    struct ap_deb d;
    if (ap_deb_open(data, size, "fuzz.deb", &d, &err) == 0) {
        char *control = NULL;
        if (ap_deb_control(&d, "fuzz.deb", &control, &err) == 0)
            free(control);
        ap_error_release(&err);
        ap_deb_each_data_entry(&d, "fuzz.deb", read_entry, &total, &err);
    }
    ap_error_release(&err);

    struct archive *a = NULL;
    if (ap_tar_open_memory(data, size, "fuzz.tar", &a, &err) == 0) {
        struct ap_tar_policy p;
        ap_tar_default_policy(&p, 1);
        ap_tar_each(a, "fuzz.tar", &p, read_entry, &total, &err);
        archive_read_free(a);
    }
    ap_error_release(&err);
    return 0;
}
