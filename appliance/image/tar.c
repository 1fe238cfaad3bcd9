#include "tar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "path.h"

void ap_tar_default_policy(struct ap_tar_policy *p, int merged_usr)
{
    p->merged_usr = merged_usr;
    p->max_entry = UINT64_C(2) << 30;  /* 2 GiB */
    p->max_total = UINT64_C(16) << 30; /* 16 GiB */
    p->max_entries = 2000000;
}

int ap_tar_open_memory(const void *buf, size_t len, const char *label, struct archive **out,
                       ap_error **err)
{
    struct archive *a = archive_read_new();
    if (a == NULL)
        return ap_error_make(err, ENOMEM, "%s: creating an archive reader", label);
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
    archive_read_support_filter_bzip2(a);
    if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
        ap_error_make(err, 0, "%s: %s", label, archive_error_string(a));
        archive_read_free(a);
        return -1;
    }
    *out = a;
    return 0;
}

static int check_name(const char *raw, const char *label, const struct ap_tar_policy *policy,
                      const char *role, char *out, ap_error **err)
{
    const char *why = NULL;
    if (raw == NULL)
        return ap_error_make(err, 0, "%s: an entry has no usable %s", label, role);
    if (ap_path_normalize(raw, out, AP_PATH_MAX, &why) < 0)
        return ap_error_make(err, 0, "%s: refusing entry \"%s\": %s", label, raw, why);
    if (policy->merged_usr && ap_path_merged_usr(out, AP_PATH_MAX) < 0)
        return ap_error_make(err, 0, "%s: refusing entry \"%s\": name too long", label, raw);
    if (strcmp(role, "name") == 0 && ap_path_is_whiteout(out))
        return ap_error_make(err, 0,
                             "%s: refusing entry \"%s\": a name starting with .wh. is an OCI "
                             "whiteout, which image tools read as \"delete this path from the "
                             "layers below\"",
                             label, raw);
    return 0;
}

/* True when the raw member name has a single component ("./lib64", "bin/"). */
static int raw_is_top(const char *raw)
{
    while (raw[0] == '.' && raw[1] == '/')
        raw += 2;
    const char *slash = strchr(raw, '/');
    return slash == NULL || slash[1] == '\0';
}

int ap_tar_each(struct archive *a, const char *label, const struct ap_tar_policy *policy,
                ap_tar_entry_fn fn, void *ctx, ap_error **err)
{
    struct archive_entry *ae;
    uint64_t total = 0, count = 0;
    static __thread struct ap_entry e;
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            return 0;
        if (r < ARCHIVE_WARN)
            return ap_error_make(err, 0, "%s: reading the tar stream: %s", label,
                                 archive_error_string(a));
        if (++count > policy->max_entries)
            return ap_error_make(err, 0, "%s: more than %llu entries", label,
                                 (unsigned long long)policy->max_entries);
        const char *raw = archive_entry_pathname(ae);
        e.size = 0;
        e.path[0] = e.link[0] = '\0';
        if (check_name(raw, label, policy, "name", e.path, err) < 0)
            return -1;
        /* A package that ships the merged-/usr links (or the old directories) themselves:
         * the skeleton already has them. */
        if (policy->merged_usr && ap_path_is_merged_top(e.path + 4) &&
            strncmp(e.path, "usr/", 4) == 0 && raw_is_top(raw)) {
            mode_t t = archive_entry_filetype(ae);
            if (t == AE_IFDIR || t == AE_IFLNK)
                continue;
        }
        e.mode = (unsigned)archive_entry_perm(ae) & 07777;
        const char *hl = archive_entry_hardlink(ae);
        mode_t ft = archive_entry_filetype(ae);
        if (hl != NULL) {
            e.type = AP_ENTRY_HARDLINK;
            const char *why = NULL;
            if (ap_path_normalize(hl, e.link, AP_PATH_MAX, &why) < 0)
                return ap_error_make(err, 0, "%s: refusing hardlink \"%s\" to \"%s\": %s", label,
                                     raw, hl, why);
            if (policy->merged_usr && ap_path_merged_usr(e.link, AP_PATH_MAX) < 0)
                return ap_error_make(err, 0, "%s: refusing hardlink \"%s\": target too long", label,
                                     raw);
            if (e.link[0] == '\0')
                return ap_error_make(err, 0, "%s: refusing entry \"%s\": hardlink to the root",
                                     label, raw);
        } else if (ft == AE_IFREG) {
            e.type = AP_ENTRY_FILE;
            int64_t sz = archive_entry_size(ae);
            if (sz < 0 || (uint64_t)sz > policy->max_entry)
                return ap_error_make(err, 0,
                                     "%s: refusing entry \"%s\": %lld bytes is more than the "
                                     "%llu allowed for one file",
                                     label, raw, (long long)sz,
                                     (unsigned long long)policy->max_entry);
            e.size = (uint64_t)sz;
            total += e.size;
            if (total > policy->max_total)
                return ap_error_make(err, 0, "%s: more than %llu bytes in all, at entry \"%s\"",
                                     label, (unsigned long long)policy->max_total, raw);
        } else if (ft == AE_IFDIR) {
            e.type = AP_ENTRY_DIR;
        } else if (ft == AE_IFLNK) {
            e.type = AP_ENTRY_SYMLINK;
            const char *t = archive_entry_symlink(ae);
            if (t == NULL || strlen(t) >= AP_PATH_MAX)
                return ap_error_make(err, 0, "%s: refusing entry \"%s\": bad symlink target", label,
                                     raw);
            if (ap_path_symlink_escapes(e.path, t))
                return ap_error_make(err, 0,
                                     "%s: refusing entry \"%s\": symlink to \"%s\" escapes the "
                                     "root",
                                     label, raw, t);
            strcpy(e.link, t);
        } else {
            const char *kind = ft == AE_IFCHR    ? "character device"
                               : ft == AE_IFBLK  ? "block device"
                               : ft == AE_IFIFO  ? "FIFO"
                               : ft == AE_IFSOCK ? "socket"
                                                 : "unknown file type";
            return ap_error_make(err, 0, "%s: refusing entry \"%s\": %s", label, raw, kind);
        }
        if (e.path[0] == '\0') {
            if (e.type == AP_ENTRY_DIR)
                continue;
            return ap_error_make(err, 0, "%s: refusing entry \"%s\": not a directory at the root",
                                 label, raw);
        }
        if (fn(ctx, &e, a, err) < 0)
            return ap_error_wrap(err, "%s: entry \"%s\"", label, raw);
    }
}
