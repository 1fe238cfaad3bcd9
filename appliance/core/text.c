#include "text.h"

#include <stdlib.h>
#include <string.h>

size_t ap_text_utf8_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t len;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8. */
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return len;
}

/* The escape of control byte C (without the backslash) into OUT; returns its length. */
static size_t escape_byte(unsigned char c, char *out)
{
    static const char named[] = "\aa\bb\tt\nn\vv\ff\rr";
    const char *p = c != 0 ? memchr(named, c, sizeof(named) - 1) : NULL;
    if (p != NULL && (p - named) % 2 == 0) {
        out[0] = p[1];
        return 1;
    }
    out[0] = (char)('0' + ((c >> 6) & 7));
    out[1] = (char)('0' + ((c >> 3) & 7));
    out[2] = (char)('0' + (c & 7));
    return 3;
}

char *ap_text_escape(const char *s)
{
    size_t n = strlen(s);
    /* The worst case: every byte becomes \ooo. */
    char *out = malloc(n * 4 + 1);
    if (out == NULL)
        return NULL;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = ap_text_utf8_len(u + i, n - i);
        /* C0 controls and DEL; C1 controls are U+0080-U+009F, encoded as C2 80 to C2 9F. */
        int control = len == 1 ? (u[i] < 0x20 || u[i] == 0x7f)
                               : (len == 2 && u[i] == 0xc2 && u[i + 1] <= 0x9f);
        if (len == 0 || control) {
            size_t k = len == 0 ? 1 : len;
            for (size_t j = 0; j < k; j++) {
                out[o++] = '\\';
                o += escape_byte(u[i + j], out + o);
            }
            i += k;
        } else {
            memcpy(out + o, u + i, len);
            o += len;
            i += len;
        }
    }
    out[o] = '\0';
    return out;
}

int ap_text_id_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return 0;
    }
    return 1;
}
