/* libarchive's functions the appliance calls, forwarded to libarchive loaded on first use
 * (see dynlib.h). The names are libarchive's own: callers keep calling libarchive as
 * documented. */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>

#include "dynlib.h"

#ifndef AP_LIBARCHIVE_SONAME
#define AP_LIBARCHIVE_SONAME "libarchive.so.13"
#endif

struct ap_dynlib ap_dynlib_archive = {AP_LIBARCHIVE_SONAME, "libarchive13", NULL};

#define REAL(name) AP_DYNLIB_FN(ap_dynlib_archive, name)

/* libarchive has no va_list variant: the message is formatted here. */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    REAL(archive_set_error)(a, err, "%s", msg);
}

__LA_MODE_T archive_entry_filetype(struct archive_entry *e)
{
    return REAL(archive_entry_filetype)(e);
}

void archive_entry_free(struct archive_entry *e)
{
    REAL(archive_entry_free)(e);
}

const char *archive_entry_hardlink(struct archive_entry *e)
{
    return REAL(archive_entry_hardlink)(e);
}

struct archive_entry *archive_entry_new(void)
{
    return REAL(archive_entry_new)();
}

const char *archive_entry_pathname(struct archive_entry *e)
{
    return REAL(archive_entry_pathname)(e);
}

const char *archive_entry_pathname_utf8(struct archive_entry *e)
{
    return REAL(archive_entry_pathname_utf8)(e);
}

__LA_MODE_T archive_entry_perm(struct archive_entry *e)
{
    return REAL(archive_entry_perm)(e);
}

void archive_entry_set_filetype(struct archive_entry *e, unsigned int t)
{
    REAL(archive_entry_set_filetype)(e, t);
}

void archive_entry_set_gid(struct archive_entry *e, la_int64_t g)
{
    REAL(archive_entry_set_gid)(e, g);
}

void archive_entry_set_hardlink(struct archive_entry *e, const char *s)
{
    REAL(archive_entry_set_hardlink)(e, s);
}

void archive_entry_set_mtime(struct archive_entry *e, time_t t, long ns)
{
    REAL(archive_entry_set_mtime)(e, t, ns);
}

void archive_entry_set_pathname(struct archive_entry *e, const char *s)
{
    REAL(archive_entry_set_pathname)(e, s);
}

void archive_entry_set_perm(struct archive_entry *e, __LA_MODE_T m)
{
    REAL(archive_entry_set_perm)(e, m);
}

void archive_entry_set_size(struct archive_entry *e, la_int64_t s)
{
    REAL(archive_entry_set_size)(e, s);
}

void archive_entry_set_symlink(struct archive_entry *e, const char *s)
{
    REAL(archive_entry_set_symlink)(e, s);
}

void archive_entry_set_uid(struct archive_entry *e, la_int64_t u)
{
    REAL(archive_entry_set_uid)(e, u);
}

la_int64_t archive_entry_size(struct archive_entry *e)
{
    return REAL(archive_entry_size)(e);
}

int archive_entry_size_is_set(struct archive_entry *e)
{
    return REAL(archive_entry_size_is_set)(e);
}

int archive_entry_sparse_count(struct archive_entry *e)
{
    return REAL(archive_entry_sparse_count)(e);
}

const char *archive_entry_symlink(struct archive_entry *e)
{
    return REAL(archive_entry_symlink)(e);
}

int archive_errno(struct archive *a)
{
    return REAL(archive_errno)(a);
}

const char *archive_error_string(struct archive *a)
{
    return REAL(archive_error_string)(a);
}

int archive_filter_code(struct archive *a, int n)
{
    return REAL(archive_filter_code)(a, n);
}

int archive_filter_count(struct archive *a)
{
    return REAL(archive_filter_count)(a);
}

la_ssize_t archive_read_data(struct archive *a, void *buf, size_t len)
{
    return REAL(archive_read_data)(a, buf, len);
}

int archive_read_data_block(struct archive *a, const void **buff, size_t *size, la_int64_t *offset)
{
    return REAL(archive_read_data_block)(a, buff, size, offset);
}

int archive_read_free(struct archive *a)
{
    return REAL(archive_read_free)(a);
}

struct archive *archive_read_new(void)
{
    return REAL(archive_read_new)();
}

int archive_read_next_header(struct archive *a, struct archive_entry **e)
{
    return REAL(archive_read_next_header)(a, e);
}

int archive_read_open(struct archive *a, void *data, archive_open_callback *o,
                      archive_read_callback *r, archive_close_callback *c)
{
    return REAL(archive_read_open)(a, data, o, r, c);
}

int archive_read_open_fd(struct archive *a, int fd, size_t block)
{
    return REAL(archive_read_open_fd)(a, fd, block);
}

int archive_read_open_memory(struct archive *a, const void *buf, size_t len)
{
    return REAL(archive_read_open_memory)(a, buf, len);
}

int archive_read_support_filter_bzip2(struct archive *a)
{
    return REAL(archive_read_support_filter_bzip2)(a);
}

int archive_read_support_filter_gzip(struct archive *a)
{
    return REAL(archive_read_support_filter_gzip)(a);
}

int archive_read_support_filter_xz(struct archive *a)
{
    return REAL(archive_read_support_filter_xz)(a);
}

int archive_read_support_filter_zstd(struct archive *a)
{
    return REAL(archive_read_support_filter_zstd)(a);
}

int archive_read_support_format_raw(struct archive *a)
{
    return REAL(archive_read_support_format_raw)(a);
}

int archive_read_support_format_tar(struct archive *a)
{
    return REAL(archive_read_support_format_tar)(a);
}

int archive_write_add_filter_gzip(struct archive *a)
{
    return REAL(archive_write_add_filter_gzip)(a);
}

int archive_write_add_filter_none(struct archive *a)
{
    return REAL(archive_write_add_filter_none)(a);
}

int archive_write_add_filter_zstd(struct archive *a)
{
    return REAL(archive_write_add_filter_zstd)(a);
}

int archive_write_close(struct archive *a)
{
    return REAL(archive_write_close)(a);
}

la_ssize_t archive_write_data(struct archive *a, const void *buf, size_t len)
{
    return REAL(archive_write_data)(a, buf, len);
}

int archive_write_free(struct archive *a)
{
    return REAL(archive_write_free)(a);
}

int archive_write_header(struct archive *a, struct archive_entry *e)
{
    return REAL(archive_write_header)(a, e);
}

struct archive *archive_write_new(void)
{
    return REAL(archive_write_new)();
}

int archive_write_open2(struct archive *a, void *data, archive_open_callback *o,
                        archive_write_callback *w, archive_close_callback *c,
                        archive_free_callback *f)
{
    return REAL(archive_write_open2)(a, data, o, w, c, f);
}

int archive_write_set_bytes_in_last_block(struct archive *a, int n)
{
    return REAL(archive_write_set_bytes_in_last_block)(a, n);
}

int archive_write_set_bytes_per_block(struct archive *a, int n)
{
    return REAL(archive_write_set_bytes_per_block)(a, n);
}

int archive_write_set_filter_option(struct archive *a, const char *m, const char *o, const char *v)
{
    return REAL(archive_write_set_filter_option)(a, m, o, v);
}

int archive_write_set_format_pax_restricted(struct archive *a)
{
    return REAL(archive_write_set_format_pax_restricted)(a);
}

int archive_write_set_format_raw(struct archive *a)
{
    return REAL(archive_write_set_format_raw)(a);
}
