#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/fs.h"
#include "../core/log.h"
#include "cmd.h"

int ap_cmd_settings_init(struct ap_settings *s, ap_error **err)
{
    static char cache[4096];
    const char *v = getenv("APPLIANCE_CACHE");
    if (v != NULL && *v) {
        s->cache_dir = v;
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME");
        const char *home = getenv("HOME");
        int use_xdg = xdg != NULL && *xdg;
        const char *under = use_xdg ? xdg : home != NULL ? home : "/root";
        if (ap_fs_path(cache, sizeof(cache), "%s/%s", under,
                       use_xdg ? "appliance" : ".cache/appliance") < 0) {
            ap_error_make(err, ENAMETOOLONG, "the cache folder under %s %.64s...",
                          use_xdg ? "XDG_CACHE_HOME" : "HOME", under);
            return ap_error_hint(err, "set APPLIANCE_CACHE to a folder of at most %zu bytes",
                                 sizeof(cache) - 1);
        }
        s->cache_dir = cache;
    }
    s->mirrors = getenv("APPLIANCE_MIRROR");
    v = getenv("APPLIANCE_IMAGES");
    s->images_dir = v != NULL && *v ? v : "images";
    v = getenv("APPLIANCE_OUT");
    s->out_dir = v != NULL && *v ? v : "build/images";
    return 0;
}

int ap_cmd_fail(ap_error **err)
{
    fprintf(stderr, "appliance: error: %s\n", *err != NULL ? (*err)->msg : "unknown failure");
    ap_error_release(err);
    return AP_EXIT_FAIL;
}

void ap_cmd_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ap_log_vline("", fmt, ap);
    va_end(ap);
}

int ap_cmd_usage(const char *verb, const char *fmt, ...)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "appliance %.40s: ", verb);
    va_list ap;
    va_start(ap, fmt);
    ap_log_vline(prefix, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'appliance %s --help'.\n", verb);
    return AP_EXIT_USAGE;
}

int ap_cmd_parse_seconds(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || v < 0 || !isfinite(v))
        return -1;
    if (strcmp(end, "ms") == 0)
        v /= 1000;
    else if (strcmp(end, "m") == 0)
        v *= 60;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return -1;
    *out = v;
    return 0;
}

int ap_cmd_parse_alpha(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0) || !(v < 1))
        return -1;
    *out = v;
    return 0;
}

int ap_cmd_option_pct(const char *verb, const char *option, const char *s, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s && *end == '%')
        end++;
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || !(v <= max))
        return ap_cmd_usage(verb, "%s: '%s' is not a percentage from 0 to %g (e.g. 5 or 2.5%%)",
                            option, s, max);
    *out = v;
    return AP_CMD_CONTINUE;
}

char *ap_cmd_commandline(int argc, char **argv)
{
    size_t len = sizeof("appliance");
    for (int i = 0; i < argc; i++)
        len += 1 + strlen(argv[i]);
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    char *p = stpcpy(s, "appliance");
    for (int i = 0; i < argc; i++) {
        *p++ = ' ';
        p = stpcpy(p, argv[i]);
    }
    return s;
}

int ap_cmd_parse_count(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}
