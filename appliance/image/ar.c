#include "ar.h"

#include <stdint.h>
#include <string.h>

#define AR_MAGIC "!<arch>\n"
#define AR_HDR 60

int ap_ar_open(const unsigned char *buf, size_t len, size_t *off, ap_error **err)
{
    if (len < 8 || memcmp(buf, AR_MAGIC, 8) != 0)
        return ap_error_make(err, 0, "not an ar archive (bad magic)");
    *off = 8;
    return 0;
}

static int parse_decimal(const unsigned char *f, size_t n, size_t *out)
{
    size_t v = 0;
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    size_t digits = 0;
    for (; i < n && f[i] >= '0' && f[i] <= '9'; i++, digits++) {
        if (v > (SIZE_MAX - 9) / 10)
            return -1;
        v = v * 10 + (size_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != ' ')
            return -1;
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

int ap_ar_next(const unsigned char *buf, size_t len, size_t *off, struct ap_ar_member *m,
               ap_error **err)
{
    if (*off == len)
        return 0;
    if (*off > len || len - *off < AR_HDR)
        return ap_error_make(err, 0, "truncated ar member header at byte %zu", *off);
    const unsigned char *h = buf + *off;
    if (h[58] != '`' || h[59] != '\n')
        return ap_error_make(err, 0, "bad ar member header at byte %zu", *off);
    size_t size;
    if (parse_decimal(h + 48, 10, &size) < 0)
        return ap_error_make(err, 0, "bad size in ar member header at byte %zu", *off);
    size_t n = 16;
    while (n > 0 && h[n - 1] == ' ')
        n--;
    if (n > 0 && h[n - 1] == '/')
        n--;
    for (size_t i = 0; i < n; i++)
        if (h[i] < 0x21 || h[i] > 0x7e || h[i] == '/')
            return ap_error_make(err, 0, "bad ar member name at byte %zu", *off);
    if (n == 0)
        return ap_error_make(err, 0, "empty ar member name at byte %zu", *off);
    memcpy(m->name, h, n);
    m->name[n] = '\0';
    size_t start = *off + AR_HDR;
    if (size > len - start)
        return ap_error_make(err, 0, "ar member %s claims %zu bytes, only %zu remain", m->name,
                             size, len - start);
    m->data = buf + start;
    m->size = size;
    size_t next = start + size;
    if (next % 2 != 0 && next < len)
        next++;
    *off = next;
    return 1;
}
