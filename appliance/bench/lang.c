#include "lang.h"

#include <stdio.h>
#include <string.h>

/* The printable form of an output's first bytes, for a message: control characters escaped. */
static const char *shown(const char *out, size_t len, char *buf, size_t blen)
{
    size_t k = 0;
    for (size_t i = 0; i < len && k + 5 < blen; i++) {
        unsigned char c = (unsigned char)out[i];
        if (c >= 0x20 && c < 0x7f)
            buf[k++] = (char)c;
        else
            k += (size_t)snprintf(buf + k, blen - k, "\\x%02x", c);
    }
    buf[k] = '\0';
    return buf;
}

/* A decimal number of 1 to `most` digits at *p, advancing *p. */
static int number(const char **p, const char *end, int most, unsigned long long *v)
{
    int digits = 0;
    *v = 0;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (++digits > most)
            return -1;
        *v = *v * 10 + (unsigned long long)(**p - '0');
        (*p)++;
    }
    return digits == 0 ? -1 : 0;
}

int ap_lang_parse_version(const char *out, size_t len, struct ap_lang_version *v, char *why,
                          size_t wlen)
{
    char seen[96];
    const char *p = out, *end = out + len;
    if (len > 0 && out[len - 1] == '\n')
        end--;
    memset(v, 0, sizeof(*v));
    if (end - p >= 2 && strncmp(p, "go", 2) == 0)
        p += 2;
    unsigned long long part[3];
    for (int i = 0; i < 3; i++) {
        if ((i > 0 && (p >= end || *p++ != '.')) ||
            number(&p, end, AP_LANG_VERSION_DIGITS, &part[i]) < 0) {
            snprintf(why, wlen, "'%s' does not start with a version MAJOR.MINOR.PATCH",
                     shown(out, len, seen, sizeof(seen)));
            return -1;
        }
    }
    int bad = p < end && *p != ' ';
    for (const char *q = p; q < end && !bad; q++)
        bad = (unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f;
    if (bad) {
        snprintf(why, wlen, "'%s' is not one line of a version and printable text",
                 shown(out, len, seen, sizeof(seen)));
        return -1;
    }
    v->major = (unsigned)part[0];
    v->minor = (unsigned)part[1];
    v->patch = (unsigned)part[2];
    snprintf(v->text, sizeof(v->text), "%u.%u.%u", v->major, v->minor, v->patch);
    return 0;
}

static int word_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* The words of one line [p, end) appended to `into`; `seen` holds every word so far (the other
 * line's too). Returns how many, or -1 with why. */
static int words(const char *p, const char *end, cJSON *into, cJSON *seen, char *why, size_t wlen)
{
    int n = 0;
    while (p < end) {
        const char *w = p;
        while (p < end && *p != ' ')
            p++;
        size_t wl = (size_t)(p - w);
        int ok = wl > 0 && wl <= AP_LANG_MAX_WORD && word_char(w[0], 1);
        for (size_t i = 1; ok && i < wl; i++)
            ok = word_char(w[i], 0);
        char buf[4 * AP_LANG_MAX_WORD + 8];
        if (!ok) {
            snprintf(why, wlen, "'%s' is not a keyword (an identifier of 1 to %d bytes)",
                     shown(w, wl < AP_LANG_MAX_WORD ? wl : AP_LANG_MAX_WORD, buf, sizeof(buf)),
                     AP_LANG_MAX_WORD);
            return -1;
        }
        snprintf(buf, sizeof(buf), "%.*s", (int)wl, w);
        if (cJSON_HasObjectItem(seen, buf)) {
            snprintf(why, wlen, "the keyword '%s' is listed twice", buf);
            return -1;
        }
        if (cJSON_GetArraySize(seen) == AP_LANG_MAX_WORDS) {
            snprintf(why, wlen, "more than %d keywords", AP_LANG_MAX_WORDS);
            return -1;
        }
        cJSON_AddTrueToObject(seen, buf);
        cJSON_AddItemToArray(into, cJSON_CreateString(buf));
        n++;
        /* One space between two words: not before the first, after the last or twice. */
        if (p < end && ++p == end) {
            snprintf(why, wlen, "a keyword line ends in a space");
            return -1;
        }
    }
    return n;
}

int ap_lang_parse_keywords(const char *out, size_t len, cJSON **keywords, cJSON **soft, char *why,
                           size_t wlen)
{
    *keywords = NULL;
    *soft = NULL;
    const char *nl1 = memchr(out, '\n', len);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - out)) : NULL;
    if (nl1 == NULL || (nl2 == NULL && nl1 + 1 != out + len) ||
        (nl2 != NULL && nl2 + 1 != out + len)) {
        snprintf(why, wlen, "the output is not one or two lines, each ending in a newline");
        return -1;
    }
    cJSON *seen = cJSON_CreateObject();
    cJSON *kw = cJSON_CreateArray(), *sk = nl2 ? cJSON_CreateArray() : NULL;
    int rc = seen == NULL || kw == NULL || (nl2 && sk == NULL) ? -2 : 0;
    if (rc == 0 && (rc = words(out, nl1, kw, seen, why, wlen)) == 0) {
        snprintf(why, wlen, "the first line names no keyword");
        rc = -1;
    }
    if (rc > 0 && nl2 != NULL && words(nl1 + 1, nl2, sk, seen, why, wlen) < 0)
        rc = -1;
    cJSON_Delete(seen);
    if (rc < 0) {
        if (rc == -2)
            snprintf(why, wlen, "out of memory");
        cJSON_Delete(kw);
        cJSON_Delete(sk);
        return -1;
    }
    *keywords = kw;
    *soft = sk;
    return nl2 ? 2 : 1;
}

int ap_lang_parse_stack(const char *out, size_t len, int64_t n, struct ap_lang_stack *s, char *why,
                        size_t wlen)
{
    static const char *const names[] = {"goroutines", "stack_inuse_before", "stack_inuse_after",
                                        "private_before", "private_after"};
    enum { NAMES = sizeof(names) / sizeof(names[0]) };
    int64_t val[NAMES];
    int have[NAMES] = {0};
    const char *p = out, *end = out + len;
    char seen[96];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *sp = nl ? memchr(p, ' ', (size_t)(nl - p)) : NULL;
        size_t k = NAMES;
        for (size_t i = 0; sp != NULL && i < NAMES; i++)
            if ((size_t)(sp - p) == strlen(names[i]) && memcmp(p, names[i], strlen(names[i])) == 0)
                k = i;
        unsigned long long v = 0;
        const char *q = sp ? sp + 1 : p;
        if (k == NAMES || have[k] || number(&q, nl, 18, &v) < 0 || q != nl) {
            snprintf(why, wlen, "'%s' is not a line 'name value' of %s",
                     shown(p, nl ? (size_t)(nl - p) : (size_t)(end - p), seen, sizeof(seen)),
                     k < NAMES && have[k] ? "a name not seen before" : "the probe's");
            return -1;
        }
        have[k] = 1;
        val[k] = (int64_t)v;
        p = nl + 1;
    }
    for (size_t i = 0; i < NAMES; i++)
        if (!have[i]) {
            snprintf(why, wlen, "no line '%s'", names[i]);
            return -1;
        }
    *s = (struct ap_lang_stack){val[0], val[1], val[2], val[3], val[4]};
    if (s->goroutines != n) {
        snprintf(why, wlen, "%lld goroutines more, not the %lld started", (long long)s->goroutines,
                 (long long)n);
        return -1;
    }
    if (s->stack_inuse_after < s->stack_inuse_before || s->private_after < s->private_before) {
        snprintf(why, wlen, "the memory shrank as %lld goroutines were started", (long long)n);
        return -1;
    }
    return 0;
}
