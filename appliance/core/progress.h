/* Progress of a long job on stderr: a redrawn bar with the ETA on a terminal, plain lines
 * otherwise (logs, CI). NO_COLOR turns colour off; a dumb or absent terminal gets plain lines. */
#ifndef AP_CORE_PROGRESS_H
#define AP_CORE_PROGRESS_H

#include <stdint.h>

struct ap_progress {
    int tty;               /* redraw one line in place */
    int color;             /* ANSI colour allowed (tty and no NO_COLOR) */
    int quiet;             /* print nothing but warnings */
    int drawn;             /* a bar is on screen and must be cleared before a line */
    int64_t t0_ns;         /* when the job started */
    int64_t last_ns;       /* last redraw (at most ~10 a second) */
    int64_t last_plain_ns; /* last plain progress line (at most one every 10 s) */
};

/* Starts; tty/colour decided from stderr, TERM and NO_COLOR. quiet prints nothing. */
void ap_progress_init(struct ap_progress *p, int quiet);

/* Shows the job `fraction` (0..1) done, `eta_s` seconds left (negative: unknown) and what
 * runs now. On a terminal the bar is redrawn; otherwise one line at most every 10 s. */
void ap_progress_update(struct ap_progress *p, double fraction, double eta_s, const char *what);

/* Prints a line of text above the bar (the bar is redrawn by the next update). */
void ap_progress_line(struct ap_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Clears the bar, if any. */
void ap_progress_done(struct ap_progress *p);

/* "1h02m", "3m05s", "12s" into buf. */
const char *ap_progress_format_duration(double seconds, char *buf, unsigned len);

#endif
