#include "deb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "ar.h"

#define CONTROL_MAX (1u << 20)

static int tar_member(const char *name, const char *base)
{
    static const char *const exts[] = {"", ".gz", ".xz", ".zst", ".bz2"};
    size_t n = strlen(base);
    if (strncmp(name, base, n) != 0)
        return 0;
    for (size_t i = 0; i < AP_ARRAY_SIZE(exts); i++)
        if (strcmp(name + n, exts[i]) == 0)
            return 1;
    return 0;
}

int ap_deb_open(const unsigned char *buf, size_t len, const char *label, struct ap_deb *d,
                ap_error **err)
{
    memset(d, 0, sizeof(*d));
    size_t off;
    if (ap_ar_open(buf, len, &off, err) < 0)
        return ap_error_wrap(err, "%s: not a Debian package", label);
    struct ap_ar_member m;
    int idx = 0, r;
    while ((r = ap_ar_next(buf, len, &off, &m, err)) > 0) {
        if (idx == 0) {
            if (strcmp(m.name, "debian-binary") != 0 || m.size < 4 || memcmp(m.data, "2.", 2) != 0)
                return ap_error_make(err, 0, "%s: first member is not debian-binary 2.x", label);
        } else if (tar_member(m.name, "control.tar")) {
            if (d->control != NULL)
                return ap_error_make(err, 0, "%s: two control members", label);
            d->control = m.data;
            d->control_size = m.size;
        } else if (tar_member(m.name, "data.tar")) {
            if (d->data != NULL)
                return ap_error_make(err, 0, "%s: two data members", label);
            d->data = m.data;
            d->data_size = m.size;
        } else if (m.name[0] != '_') {
            /* Members starting with '_' are reserved for local use and ignored, as dpkg does. */
            return ap_error_make(err, 0, "%s: unexpected member %s", label, m.name);
        }
        idx++;
    }
    if (r < 0)
        return ap_error_wrap(err, "%s", label);
    if (d->control == NULL || d->data == NULL)
        return ap_error_make(err, 0, "%s: missing %s member", label,
                             d->control == NULL ? "control.tar" : "data.tar");
    return 0;
}

struct control_ctx {
    char *text;
};

static int grab_control(void *ctx, const struct ap_entry *e, struct archive *a, ap_error **err)
{
    struct control_ctx *c = ctx;
    if (e->type != AP_ENTRY_FILE || strcmp(e->path, "control") != 0)
        return 0;
    if (e->size > CONTROL_MAX)
        return ap_error_make(err, 0, "control file larger than %u bytes", CONTROL_MAX);
    char *t = malloc(e->size + 1);
    if (t == NULL)
        return ap_error_make(err, ENOMEM, "reading control");
    size_t got = 0;
    while (got < e->size) {
        la_ssize_t n = archive_read_data(a, t + got, e->size - got);
        if (n <= 0) {
            free(t);
            return ap_error_make(err, 0, "reading control: %s",
                                 n < 0 ? archive_error_string(a) : "truncated");
        }
        got += (size_t)n;
    }
    t[got] = '\0';
    free(c->text);
    c->text = t;
    return 0;
}

int ap_deb_control(const struct ap_deb *d, const char *label, char **out, ap_error **err)
{
    cleanup_archive_read struct archive *a = NULL;
    if (ap_tar_open_memory(d->control, d->control_size, label, &a, err) < 0)
        return -1;
    struct ap_tar_policy p;
    ap_tar_default_policy(&p, 0);
    /* md5sums of a large package runs to megabytes; only control itself is read. */
    p.max_entry = 64 * CONTROL_MAX;
    p.max_total = 256 * CONTROL_MAX;
    p.max_entries = 1000;
    struct control_ctx c = {NULL};
    char inner[512];
    snprintf(inner, sizeof(inner), "%s (control.tar)", label);
    if (ap_tar_each(a, inner, &p, grab_control, &c, err) < 0) {
        free(c.text);
        return -1;
    }
    if (c.text == NULL)
        return ap_error_make(err, 0, "%s: control.tar has no control file", label);
    *out = c.text;
    return 0;
}

int ap_deb_each_data_entry(const struct ap_deb *d, const char *label, ap_tar_entry_fn fn, void *ctx,
                           ap_error **err)
{
    cleanup_archive_read struct archive *a = NULL;
    if (ap_tar_open_memory(d->data, d->data_size, label, &a, err) < 0)
        return -1;
    struct ap_tar_policy p;
    ap_tar_default_policy(&p, 1);
    return ap_tar_each(a, label, &p, fn, ctx, err);
}
