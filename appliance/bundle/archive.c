/* Reading result archives: one walk over the members, every member checked before use, the
 * decompressed stream bounded. verify, compare and rerun all read archives through it, so they
 * refuse the same archives with the same words. */
#include "archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/hash.h"

void ap_archive_default_limits(struct ap_archive_limits *l)
{
    l->max_member = UINT64_C(8) << 30;
    l->max_total = UINT64_C(64) << 30;
    l->max_members = 1000000;
    /* Every member costs at most a header, a pax header and padding besides its data. */
    l->max_stream = l->max_total + l->max_members * 4096 + (UINT64_C(1) << 20);
    l->max_meta = AP_BUNDLE_META_MAX;
    l->max_results = AP_RESULTS_MAX;
}

/* Two libarchive readers in a chain: `raw` undoes the zstd compression of the file (the raw
 * format hands out the decompressed bytes), and `tar` reads the tar stream from it through
 * tar_read(), which counts every byte. However the tar headers are built, the stream can never
 * give more than max_stream bytes: a small file that decompresses to terabytes stops there. */
struct reader {
    struct archive *raw, *tar;
    const struct ap_archive_limits *lim;
    const char *label;
    uint64_t stream_bytes;
    int over; /* the stream passed max_stream */
    locale_t utf8, saved;
};

static la_ssize_t tar_read(struct archive *a, void *ud, const void **buf)
{
    struct reader *r = ud;
    size_t size = 0;
    la_int64_t offset = 0;
    int rc = archive_read_data_block(r->raw, buf, &size, &offset);
    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc < ARCHIVE_OK) {
        archive_set_error(a, archive_errno(r->raw) ? archive_errno(r->raw) : EIO,
                          "decompressing: %s", archive_error_string(r->raw));
        return -1;
    }
    if (size > r->lim->max_stream - r->stream_bytes) {
        /* archive_set_error() formats a subset of printf: the number goes in as text. */
        char n[32];
        snprintf(n, sizeof(n), "%llu", (unsigned long long)r->lim->max_stream);
        r->over = 1;
        archive_set_error(a, EFBIG, "the archive decompresses to more than %s bytes", n);
        return -1;
    }
    r->stream_bytes += size;
    return (la_ssize_t)size;
}

static void reader_free(struct reader *r)
{
    if (r->tar != NULL)
        archive_read_free(r->tar);
    if (r->raw != NULL)
        archive_read_free(r->raw);
    if (r->utf8 != (locale_t)0) {
        uselocale(r->saved);
        freelocale(r->utf8);
    }
    memset(r, 0, sizeof(*r));
}

/* Finishes opening once r->raw has its source: one zstd filter and nothing else, then the tar
 * reader on top. */
static int reader_start(struct reader *r, ap_error **err)
{
    struct archive_entry *ae = NULL;
    if (archive_read_next_header(r->raw, &ae) != ARCHIVE_OK)
        return ap_error_make(err, 0, "archive check failed: %s: %s", r->label,
                             archive_error_string(r->raw) ? archive_error_string(r->raw)
                                                          : "unreadable");
    if (archive_filter_count(r->raw) != 2 || archive_filter_code(r->raw, 0) != ARCHIVE_FILTER_ZSTD)
        return ap_error_make(err, 0,
                             "archive check failed: %s is not a zstd-compressed stream "
                             "(one zstd layer, as appliance pack writes)",
                             r->label);
    r->tar = archive_read_new();
    if (r->tar == NULL)
        return ap_error_make(err, ENOMEM, "archive check failed: %s", r->label);
    archive_read_support_format_tar(r->tar);
    if (archive_read_open(r->tar, r, NULL, tar_read, NULL) != ARCHIVE_OK)
        return ap_error_make(err, 0, "archive check failed: %s: %s", r->label,
                             archive_error_string(r->tar));
    return 0;
}

static int reader_new(struct reader *r, const char *label, const struct ap_archive_limits *l,
                      ap_error **err)
{
    memset(r, 0, sizeof(*r));
    r->lim = l;
    r->label = label;
    /* Names are compared and printed as the UTF-8 bytes the archive holds, whatever the
     * caller's locale. */
    r->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (r->utf8 == (locale_t)0)
        return ap_error_make(err, errno, "loading the C.UTF-8 locale for member names");
    r->saved = uselocale(r->utf8);
    r->raw = archive_read_new();
    if (r->raw == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", label);
    if (archive_read_support_filter_zstd(r->raw) != ARCHIVE_OK ||
        archive_read_support_format_raw(r->raw) != ARCHIVE_OK)
        return ap_error_make(err, 0, "reading %s: %s", label, archive_error_string(r->raw));
    return 0;
}

/* The name the tar entry carries, as a checked member name. */
static int member_name(struct reader *r, struct archive_entry *ae, const char **out, ap_error **err)
{
    const char *name = archive_entry_pathname_utf8(ae);
    if (name == NULL)
        name = archive_entry_pathname(ae);
    if (name == NULL)
        return ap_error_make(err, 0, "archive check failed: %s: a member has no usable name",
                             r->label);
    const char *why = NULL;
    char shown[160];
    if (ap_bundle_check_name(name, &why) < 0)
        return ap_error_make(err, 0, "archive check failed: %s: refusing member \"%s\": %s",
                             r->label, ap_bundle_printable(name, shown, sizeof(shown)), why);
    *out = name;
    return 0;
}

static const char *kind_of(struct archive_entry *ae)
{
    if (archive_entry_hardlink(ae) != NULL)
        return "a hard link";
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        return archive_entry_sparse_count(ae) > 0 ? "a sparse file" : NULL;
    case AE_IFDIR:
        return "a directory";
    case AE_IFLNK:
        return "a symbolic link";
    case AE_IFCHR:
        return "a character device";
    case AE_IFBLK:
        return "a block device";
    case AE_IFIFO:
        return "a FIFO";
    case AE_IFSOCK:
        return "a socket";
    default:
        return "of an unknown type";
    }
}

/* Reads the next member's header and checks it (name, type, order, sizes). Returns 1 with
 * *name (valid until the next call; also copied into prev) and *size, 0 at the end, -1 on
 * error. */
static int reader_next(struct reader *r, char *prev, uint64_t *count, uint64_t *total,
                       const char **name, uint64_t *size, ap_error **err)
{
    struct archive_entry *ae = NULL;
    int rc = archive_read_next_header(r->tar, &ae);
    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc < ARCHIVE_WARN || r->over)
        return ap_error_make(err, 0, "archive check failed: %s: reading the tar stream: %s",
                             r->label, archive_error_string(r->tar));
    if (++*count > r->lim->max_members)
        return ap_error_make(err, 0, "archive check failed: %s: more than %llu members", r->label,
                             (unsigned long long)r->lim->max_members);
    const char *kind = kind_of(ae);
    if (kind != NULL) {
        const char *raw = archive_entry_pathname(ae);
        char shown[160];
        return ap_error_make(err, 0,
                             "archive check failed: %s: refusing member \"%s\": it is %s, and "
                             "an archive holds regular files only",
                             r->label, ap_bundle_printable(raw ? raw : "", shown, sizeof(shown)),
                             kind);
    }
    if (member_name(r, ae, name, err) < 0)
        return -1;
    if (*count > 1 && strcmp(prev, *name) >= 0)
        return ap_error_make(err, 0,
                             "archive check failed: %s: member \"%s\" is out of order or "
                             "repeated (after \"%s\"); appliance pack writes names sorted",
                             r->label, *name, prev);
    snprintf(prev, AP_BUNDLE_NAME_MAX + 1, "%s", *name);
    if (!archive_entry_size_is_set(ae) || archive_entry_size(ae) < 0)
        return ap_error_make(err, 0, "archive check failed: %s: member \"%s\" has no size",
                             r->label, *name);
    uint64_t sz = (uint64_t)archive_entry_size(ae);
    if (sz > r->lim->max_member)
        return ap_error_make(err, 0,
                             "archive check failed: %s: member \"%s\" is %llu bytes, more "
                             "than the %llu allowed",
                             r->label, *name, (unsigned long long)sz,
                             (unsigned long long)r->lim->max_member);
    if (sz > r->lim->max_total - *total)
        return ap_error_make(err, 0,
                             "archive check failed: %s: members add up to more than %llu "
                             "bytes, at \"%s\"",
                             r->label, (unsigned long long)r->lim->max_total, *name);
    *total += sz;
    *size = sz;
    return 1;
}

/* Reads the current member's data: hashes all of it and keeps it in *keep when keep is not
 * NULL (the caller already checked size against its bound). */
static int reader_data(struct reader *r, const char *name, uint64_t size, char *hex, char **keep,
                       ap_error **err)
{
    struct ap_sha256 h;
    ap_sha256_init(&h);
    cleanup_free char *copy = NULL;
    if (keep != NULL) {
        copy = malloc((size_t)size + 1);
        if (copy == NULL)
            return ap_error_make(err, ENOMEM, "reading member \"%s\"", name);
    }
    enum { BUF_SIZE = 1 << 16 };
    cleanup_free char *buf = malloc(BUF_SIZE);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading member \"%s\"", name);
    uint64_t got = 0;
    for (;;) {
        la_ssize_t n = archive_read_data(r->tar, buf, BUF_SIZE);
        if (n == 0)
            break;
        if (n < 0 || r->over)
            return ap_error_make(err, 0, "archive check failed: %s: member \"%s\": %s", r->label,
                                 name, archive_error_string(r->tar));
        if ((uint64_t)n > size - got)
            return ap_error_make(err, 0,
                                 "archive check failed: %s: member \"%s\" holds more than its "
                                 "%llu bytes",
                                 r->label, name, (unsigned long long)size);
        ap_sha256_update(&h, buf, (size_t)n);
        if (copy != NULL)
            memcpy(copy + got, buf, (size_t)n);
        got += (uint64_t)n;
    }
    if (got != size)
        return ap_error_make(err, 0,
                             "archive check failed: %s: member \"%s\" is truncated (%llu of %llu "
                             "bytes)",
                             r->label, name, (unsigned long long)got, (unsigned long long)size);
    if (hex != NULL)
        ap_sha256_final_hex(&h, hex);
    if (copy != NULL) {
        copy[size] = '\0';
        *keep = steal_pointer(&copy);
    }
    return 0;
}

/* After the tar's end: what is left of the decompressed stream may only be zero padding. */
static int reader_trailer(struct reader *r, ap_error **err)
{
    for (;;) {
        const void *p = NULL;
        la_ssize_t n = tar_read(r->tar, r, &p);
        if (n == 0)
            return 0;
        if (n < 0)
            return ap_error_make(err, 0, "archive check failed: %s: after the tar's end: %s",
                                 r->label, archive_error_string(r->tar));
        const unsigned char *b = p;
        for (la_ssize_t i = 0; i < n; i++)
            if (b[i] != 0)
                return ap_error_make(err, 0,
                                     "archive check failed: %s: data after the tar's end "
                                     "marker",
                                     r->label);
    }
}

/* Which kept buffer a member goes to, and its bound. */
static char **keep_slot(struct ap_archive_scan *s, const struct ap_archive_limits *l,
                        const char *name, size_t **len, uint64_t *max)
{
    *max = l->max_meta;
    if (strcmp(name, AP_BUNDLE_SUMS) == 0)
        return *len = &s->sums_len, &s->sums;
    if (strcmp(name, AP_BUNDLE_MANIFEST) == 0)
        return *len = &s->manifest_len, &s->manifest;
    if (strcmp(name, AP_BUNDLE_PROVENANCE) == 0)
        return *len = &s->provenance_len, &s->provenance;
    if (strcmp(name, AP_BUNDLE_CLAIMS) == 0)
        return *len = &s->claims_len, &s->claims;
    if (strcmp(name, AP_BUNDLE_VERDICTS) == 0)
        return *len = &s->verdicts_len, &s->verdicts;
    *max = l->max_results;
    if (strcmp(name, AP_BUNDLE_RESULTS) == 0)
        return *len = &s->results_len, &s->results;
    return NULL;
}

static int scan(struct reader *r, struct ap_archive_scan *out, ap_error **err)
{
    memset(out, 0, sizeof(*out));
    if (reader_start(r, err) < 0)
        return -1;
    cleanup_free char *prev = calloc(1, AP_BUNDLE_NAME_MAX + 1);
    if (prev == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", r->label);
    uint64_t count = 0;
    for (;;) {
        const char *name = NULL;
        uint64_t size = 0;
        int rc = reader_next(r, prev, &count, &out->total, &name, &size, err);
        if (rc < 0)
            goto fail;
        if (rc == 0)
            break;
        size_t *len = NULL;
        uint64_t max = 0;
        char **slot = keep_slot(out, r->lim, name, &len, &max);
        if (slot != NULL && size > max) {
            ap_error_make(err, 0,
                          "archive check failed: %s: member \"%s\" is %llu bytes, more than the "
                          "%llu allowed for it",
                          r->label, name, (unsigned long long)size, (unsigned long long)max);
            goto fail;
        }
        char hex[AP_SHA256_HEX_LEN + 1];
        if (reader_data(r, name, size, hex, slot, err) < 0)
            goto fail;
        if (slot != NULL)
            *len = (size_t)size;
        if (ap_bundle_files_add(&out->members, name, size, hex, err) < 0)
            goto fail;
    }
    if (reader_trailer(r, err) < 0)
        goto fail;
    return 0;
fail:
    ap_archive_scan_free(out);
    return -1;
}

int ap_archive_scan_file(const char *path, const struct ap_archive_limits *l,
                         struct ap_archive_scan *out, ap_error **err)
{
    struct ap_archive_limits def;
    struct reader r;
    int rc = -1;
    cleanup_close int fd = -1;
    memset(out, 0, sizeof(*out));
    if (l == NULL) {
        ap_archive_default_limits(&def);
        l = &def;
    }
    if (reader_new(&r, path, l, err) < 0)
        goto out;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ap_error_make(err, errno, "opening %s", path);
        goto out;
    }
    if (archive_read_open_fd(r.raw, fd, 1 << 16) != ARCHIVE_OK) {
        ap_error_make(err, 0, "archive check failed: %s: %s", path, archive_error_string(r.raw));
        goto out;
    }
    rc = scan(&r, out, err);
out:
    reader_free(&r);
    return rc;
}

int ap_archive_scan_memory(const void *buf, size_t len, const struct ap_archive_limits *l,
                           struct ap_archive_scan *out, ap_error **err)
{
    struct ap_archive_limits def;
    struct reader r;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    if (l == NULL) {
        ap_archive_default_limits(&def);
        l = &def;
    }
    if (reader_new(&r, "(memory)", l, err) < 0)
        goto out;
    if (archive_read_open_memory(r.raw, buf, len) != ARCHIVE_OK) {
        ap_error_make(err, 0, "archive check failed: %s", archive_error_string(r.raw));
        goto out;
    }
    rc = scan(&r, out, err);
out:
    reader_free(&r);
    return rc;
}

void ap_archive_scan_free(struct ap_archive_scan *s)
{
    ap_bundle_files_free(&s->members);
    free(s->sums);
    free(s->manifest);
    free(s->provenance);
    free(s->results);
    free(s->claims);
    free(s->verdicts);
    memset(s, 0, sizeof(*s));
}
