/* Writing result archives: a deterministic tar.zst (restricted pax, sorted members, one
 * mtime, owner 0, zstd at a fixed level in 64 KiB blocks), each file hashed again as it is
 * written. The reader is archive.c. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "pack.h"

#define ZSTD_LEVEL "9"

struct writer {
    struct archive *a;
    int fd;
    struct ap_sha256 hash;
    uint64_t bytes;
    int sink_errno;
    locale_t utf8, saved;
    int64_t mtime;
};

static la_ssize_t writer_out(struct archive *a, void *ud, const void *buf, size_t len)
{
    (void)a;
    struct writer *w = ud;
    if (ap_fs_write_all(w->fd, buf, len) < 0) {
        w->sink_errno = errno;
        return -1;
    }
    ap_sha256_update(&w->hash, buf, len);
    w->bytes += len;
    return (la_ssize_t)len;
}

static int writer_fail(struct writer *w, const char *what, ap_error **err)
{
    if (w->sink_errno != 0)
        return ap_error_make(err, w->sink_errno, "writing the archive (%s)", what);
    return ap_error_make(err, 0, "writing the archive (%s): %s", what, archive_error_string(w->a));
}

static void writer_free(struct writer *w)
{
    if (w->a != NULL)
        archive_write_free(w->a);
    w->a = NULL;
    if (w->utf8 != (locale_t)0) {
        uselocale(w->saved);
        freelocale(w->utf8);
        w->utf8 = (locale_t)0;
    }
}

static int writer_open(struct writer *w, int fd, int64_t mtime, ap_error **err)
{
    memset(w, 0, sizeof(*w));
    w->fd = fd;
    w->mtime = mtime;
    ap_sha256_init(&w->hash);
    /* pax headers carry names as UTF-8 through the thread's locale: the same bytes under any
     * caller's locale. */
    w->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (w->utf8 == (locale_t)0)
        return ap_error_make(err, errno, "loading the C.UTF-8 locale for member names");
    w->saved = uselocale(w->utf8);
    w->a = archive_write_new();
    if (w->a == NULL)
        return ap_error_make(err, ENOMEM, "creating the archive");
    /* zstd single-threaded at a fixed level, blocks of 64 KiB and no padding after the last:
     * the bytes depend on the content only. */
    if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
        archive_write_add_filter_zstd(w->a) != ARCHIVE_OK ||
        archive_write_set_filter_option(w->a, "zstd", "compression-level", ZSTD_LEVEL) !=
            ARCHIVE_OK ||
        archive_write_set_bytes_per_block(w->a, 1 << 16) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
        archive_write_open2(w->a, w, NULL, writer_out, NULL, NULL) != ARCHIVE_OK)
        return writer_fail(w, "setting up tar and zstd", err);
    return 0;
}

/* Pass two: one member, its bytes hashed again and compared with pass one. */
static int write_item(struct writer *w, const struct ap_pack_item *e, ap_error **err)
{
    struct archive_entry *ae = archive_entry_new();
    if (ae == NULL)
        return ap_error_make(err, ENOMEM, "writing %s", e->name);
    archive_entry_set_pathname(ae, e->name);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, e->mode);
    archive_entry_set_size(ae, (la_int64_t)e->size);
    archive_entry_set_mtime(ae, w->mtime, 0);
    archive_entry_set_uid(ae, 0);
    archive_entry_set_gid(ae, 0);
    int r = archive_write_header(w->a, ae);
    archive_entry_free(ae);
    if (r != ARCHIVE_OK)
        return writer_fail(w, e->name, err);
    if (e->data != NULL) {
        if (e->len > 0 && archive_write_data(w->a, e->data, e->len) != (la_ssize_t)e->len)
            return writer_fail(w, e->name, err);
        return 0;
    }
    __attribute__((cleanup(ap_pack_reader_close))) struct ap_pack_reader in = {.fd = -1};
    if (ap_pack_reader_open(e, &in, err) < 0)
        return -1;
    uint64_t left = e->size;
    while (left > 0) {
        ssize_t n =
            ap_fs_read_some(in.fd, in.buf, left < AP_PACK_IO_BUF ? (size_t)left : AP_PACK_IO_BUF);
        if (n < 0)
            return ap_error_make(err, errno, "reading %s", e->path);
        if (n == 0)
            return ap_error_make(err, 0, "%s shrank while it was packed", e->path);
        ap_sha256_update(&in.h, in.buf, (size_t)n);
        if (archive_write_data(w->a, in.buf, (size_t)n) != n)
            return writer_fail(w, e->name, err);
        left -= (uint64_t)n;
    }
    char extra;
    ssize_t more = ap_fs_read_some(in.fd, &extra, 1);
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_final_hex(&in.h, hex);
    if (more != 0 || strcmp(hex, e->sha256) != 0) {
        ap_error_make(err, 0, "%s changed while it was packed", e->path);
        return ap_error_hint(err, "pack a run directory nothing is writing to");
    }
    return 0;
}

int ap_archive_write(int fd, const struct ap_pack_items *items, int64_t mtime, char *sha256,
                     uint64_t *bytes, ap_error **err)
{
    struct writer w;
    int rc = -1;
    if (writer_open(&w, fd, mtime, err) < 0)
        goto out;
    for (size_t i = 0; i < items->n; i++)
        if (write_item(&w, &items->v[i], err) < 0)
            goto out;
    if (archive_write_close(w.a) != ARCHIVE_OK) {
        writer_fail(&w, "finishing", err);
        goto out;
    }
    if (fsync(fd) < 0) {
        ap_error_make(err, errno, "writing the archive (fsync)");
        goto out;
    }
    ap_sha256_final_hex(&w.hash, sha256);
    *bytes = w.bytes;
    rc = 0;
out:
    writer_free(&w);
    return rc;
}
