#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
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

int ap_error_wrap(ap_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = vformat(fmt, ap);
    va_end(ap);
    char *full = NULL;
    if (ctx != NULL && asprintf(&full, "%s: %s", ctx, (*err)->msg) >= 0) {
        free((*err)->msg);
        (*err)->msg = full;
    }
    free(ctx);
    return -1;
}

int ap_error_hint(ap_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *hint = vformat(fmt, ap);
    va_end(ap);
    char *full = NULL;
    if (hint != NULL && asprintf(&full, "%s\nHint: %s", (*err)->msg, hint) >= 0) {
        free((*err)->msg);
        (*err)->msg = full;
    }
    free(hint);
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
