#include "progress.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void ap_progress_init(struct ap_progress *p, int quiet)
{
    memset(p, 0, sizeof(*p));
    const char *term = getenv("TERM");
    p->quiet = quiet;
    p->tty = isatty(STDERR_FILENO) && term != NULL && strcmp(term, "dumb") != 0;
    const char *nc = getenv("NO_COLOR");
    p->color = p->tty && (nc == NULL || nc[0] == '\0');
    p->t0_ns = ap_clock_mono_ns();
}

const char *ap_progress_format_duration(double s, char *buf, unsigned len)
{
    if (s < 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, len, "%lds", t);
    return buf;
}

static void clear_bar(struct ap_progress *p)
{
    if (p->drawn) {
        fputs("\r\033[2K", stderr);
        p->drawn = 0;
    }
}

void ap_progress_update(struct ap_progress *p, double fraction, double eta_s, const char *what)
{
    if (p->quiet)
        return;
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    int64_t now = ap_clock_mono_ns();
    char eta[32], spent[32];
    ap_progress_format_duration(eta_s, eta, sizeof(eta));
    ap_progress_format_duration((double)(now - p->t0_ns) / 1e9, spent, sizeof(spent));
    if (!p->tty) {
        if (p->last_plain_ns != 0 && now - p->last_plain_ns < 10 * (int64_t)1000000000)
            return;
        p->last_plain_ns = now;
        fprintf(stderr, "progress: %3.0f%%, %s spent, ETA %s: %s\n", fraction * 100, spent, eta,
                what);
        return;
    }
    if (p->drawn && now - p->last_ns < 100000000)
        return;
    p->last_ns = now;
    enum { WIDTH = 24 };
    char bar[WIDTH + 1];
    int full = (int)(fraction * WIDTH + 0.5);
    for (int i = 0; i < WIDTH; i++)
        bar[i] = i < full ? '#' : '.';
    bar[WIDTH] = '\0';
    /* Keep the line shorter than a narrow terminal so it never wraps. */
    char shown[48];
    snprintf(shown, sizeof(shown), "%s", what);
    fprintf(stderr, "\r\033[2K%s[%s]%s %3.0f%%  %s  ETA %s  %s", p->color ? "\033[36m" : "", bar,
            p->color ? "\033[0m" : "", fraction * 100, spent, eta, shown);
    fflush(stderr);
    p->drawn = 1;
}

void ap_progress_line(struct ap_progress *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    clear_bar(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void ap_progress_done(struct ap_progress *p)
{
    clear_bar(p);
    fflush(stderr);
}
