/* Reading a run to compare (compare-load.h): a results file, a run directory or a result
 * archive, told apart by content. */
#include "compare-load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../bench/results.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../report/compare.h"
#include "archive.h"

static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};

/* The results document of a result archive, read by the walk verify makes. */
static int load_archive(const char *file, cJSON **doc, struct ap_archive_scan *keep, ap_error **err)
{
    struct ap_archive_scan s;
    if (ap_archive_scan_file(file, NULL, &s, err) < 0)
        return -1;
    int rc = 0;
    if (s.results == NULL) {
        rc = ap_error_make(err, ENOENT, "result archive %s has no member \"%s\"", file,
                           AP_BUNDLE_RESULTS);
    } else {
        char what[4200];
        snprintf(what, sizeof(what), "%s:%s", file, AP_BUNDLE_RESULTS);
        rc = ap_json_parse(s.results, s.results_len, what, doc, err);
    }
    if (rc == 0 && keep != NULL)
        *keep = s;
    else
        ap_archive_scan_free(&s);
    return rc;
}

int ap_compare_load(const char *path, cJSON **out, struct ap_archive_scan *archive, ap_error **err)
{
    char file[4096];
    struct stat st;
    if (archive != NULL)
        memset(archive, 0, sizeof(*archive));
    if (stat(path, &st) < 0)
        return ap_error_make(err, errno, "%s", path);
    if (S_ISDIR(st.st_mode)) {
        if (ap_fs_path(file, sizeof(file), "%s/results.json", path) < 0)
            return ap_error_make(err, errno, "%s", path);
    } else if (ap_fs_path(file, sizeof(file), "%s", path) < 0) {
        return ap_error_make(err, errno, "%s", path);
    }
    unsigned char head[64];
    ssize_t got;
    {
        cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return ap_error_make(err, errno, "opening %s", file);
        got = ap_fs_read_some(fd, head, sizeof(head));
        if (got < 0)
            return ap_error_make(err, errno, "reading %s", file);
    }
    cJSON *doc = NULL;
    if (got >= 4 && memcmp(head, zstd_magic, 4) == 0) {
        if (load_archive(file, &doc, archive, err) < 0)
            return -1;
    } else {
        ssize_t i = 0;
        if (got >= 3 && head[0] == 0xef && head[1] == 0xbb && head[2] == 0xbf)
            i = 3;
        while (i < got && (head[i] == ' ' || head[i] == '\t' || head[i] == '\n' || head[i] == '\r'))
            i++;
        if (i >= got || head[i] != '{') {
            ap_error_make(err, EINVAL,
                          "%s is neither a results file (JSON) nor a result "
                          "archive (zstd)",
                          file);
            return ap_error_hint(err, "give the results.json that 'appliance bench' wrote, or "
                                      "an archive that 'appliance pack' made");
        }
        if (ap_json_read_file(file, (size_t)AP_RESULTS_MAX, &doc, err) < 0)
            return -1;
    }
    if (ap_compare_check_doc(doc, file, err) < 0) {
        cJSON_Delete(doc);
        if (archive != NULL)
            ap_archive_scan_free(archive);
        return -1;
    }
    *out = doc;
    return 0;
}
