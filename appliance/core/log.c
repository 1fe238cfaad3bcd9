#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "text.h"

static enum ap_log_level level = AP_LOG_NORMAL;

void ap_log_set_level(enum ap_log_level l)
{
    level = l;
}

enum ap_log_level ap_log_get_level(void)
{
    return level;
}

void ap_log_vline(const char *prefix, const char *fmt, va_list ap)
{
    /* A log line is one line: control characters in the names it holds are escaped. */
    char *s = NULL;
    char *safe = vasprintf(&s, fmt, ap) >= 0 ? ap_text_escape(s) : NULL;
    fprintf(stderr, "%s%s\n", prefix, safe != NULL ? safe : "(out of memory while logging)");
    free(safe);
    free(s);
}

void ap_log_info(const char *fmt, ...)
{
    if (level < AP_LOG_NORMAL)
        return;
    va_list ap;
    va_start(ap, fmt);
    ap_log_vline("", fmt, ap);
    va_end(ap);
}

void ap_log_debug(const char *fmt, ...)
{
    if (level < AP_LOG_VERBOSE)
        return;
    va_list ap;
    va_start(ap, fmt);
    ap_log_vline("debug: ", fmt, ap);
    va_end(ap);
}

void ap_log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ap_log_vline("warning: ", fmt, ap);
    va_end(ap);
}
