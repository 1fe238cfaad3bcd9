#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* The message built from fmt, with every control character escaped: names in messages come
 * from packages, archives, HTTP responses and command lines, and reach a terminal. */
static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    char *safe = ap_text_escape(s);
    free(s);
    return safe;
}

int ap_error_make(ap_error **err, int status, const char *fmt, ...)
{
    if (err == NULL || *err != NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    ap_error *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        free(msg);
        return -1;
    }
    e->status = status;
    if (msg != NULL && status != 0) {
        char *full = NULL;
        if (asprintf(&full, "%s: %s", msg, strerror(status)) >= 0) {
            free(msg);
            msg = full;
        }
    }
    e->msg = msg != NULL ? msg : strdup("out of memory while reporting an error");
    *err = e;
    return -1;
}

/* Puts the text of fmt before the message of *err ("text: message"), or with as_hint after it
 * ("message\nHint: text"). Returns -1. */
static int amend(ap_error **err, int as_hint, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static int amend(ap_error **err, int as_hint, const char *fmt, va_list ap)
{
    if (err == NULL || *err == NULL)
        return -1;
    char *text = vformat(fmt, ap);
    char *full = NULL;
    int n = text == NULL ? -1
            : as_hint    ? asprintf(&full, "%s\nHint: %s", (*err)->msg, text)
                         : asprintf(&full, "%s: %s", text, (*err)->msg);
    if (n >= 0) {
        free((*err)->msg);
        (*err)->msg = full;
    }
    free(text);
    return -1;
}

int ap_error_wrap(ap_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    amend(err, 0, fmt, ap);
    va_end(ap);
    return -1;
}

int ap_error_hint(ap_error **err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    amend(err, 1, fmt, ap);
    va_end(ap);
    return -1;
}

int ap_error_lines(ap_error **err, const char *text)
{
    if (err == NULL || *err == NULL || text == NULL)
        return -1;
    size_t n = strlen((*err)->msg);
    size_t cap = n + 1;
    char *out = malloc(cap);
    if (out == NULL)
        return -1;
    memcpy(out, (*err)->msg, n + 1);
    for (const char *line = text; *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end != NULL ? (size_t)(end - line) : strlen(line);
        char *raw = strndup(line, len);
        char *safe = raw != NULL ? ap_text_escape(raw) : NULL;
        free(raw);
        char *grown = safe != NULL ? realloc(out, cap + strlen(safe) + 5) : NULL;
        if (grown == NULL) {
            free(safe);
            free(out);
            return -1;
        }
        out = grown;
        cap += strlen(safe) + 5;
        strcat(out, "\n  | ");
        strcat(out, safe);
        free(safe);
        line = end != NULL ? end + 1 : line + len;
    }
    free((*err)->msg);
    (*err)->msg = out;
    return -1;
}

void ap_error_release(ap_error **err)
{
    if (err == NULL || *err == NULL)
        return;
    free((*err)->msg);
    free(*err);
    *err = NULL;
}
