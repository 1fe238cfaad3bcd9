/* The status of a figure: whether a number may be read as a measurement of the server or
 * program, compared and made a ratio of, and if not, why. Every metric results.json holds
 * carries one; a ratio or a verdict is made only between `ok` figures. Pure: no I/O.
 *
 * A figure's status is the first of these that applies (the order of enum ap_status, worst
 * first):
 *
 *   errors             the load saw a timeout, an invalid response (status, headers, body) or a
 *                      connect, read or write error
 *   no-valid-response  the load got no valid response at all (no latency figure then)
 *   unsustained        open loop: the server did not hold the rate (the achieved rate is
 *                      reported, no latency percentile)
 *   client-saturated   a load thread was on CPU 90 % of the time: the figure measures the client
 *   noisy              samples the noise guard flagged, kept with --allow-noisy, are in the
 *                      statistics (--include-noisy), or are all the samples there are
 *   n-too-small        fewer samples than a 95 % order-statistic interval of the median needs
 *   unstable           a coefficient of variation over 10 % (or a single sample), or over
 *                      2 % for a CPU task in a run that found the host's caches shared
 *                      (AP_BENCH_SHARED_CV): the samples did not repeat, whatever the noise
 *                      guard saw (a shared VM slows runs in ways no counter inside it shows);
 *                      the metric's warning says so
 *   ok                 none of these
 *
 * The first five are conditions of the samples (of the run each came from), the last two of
 * the statistics. */
#ifndef AP_BENCH_STATUS_H
#define AP_BENCH_STATUS_H

#include <stddef.h>

#include "loadgen.h"
#include "stats.h"

/* In increasing precedence: of two statuses that apply, the larger wins. */
enum ap_status {
    AP_STATUS_OK = 0,
    AP_STATUS_UNSTABLE,
    AP_STATUS_N_TOO_SMALL,
    AP_STATUS_NOISY,
    AP_STATUS_CLIENT_SATURATED,
    AP_STATUS_UNSUSTAINED,
    AP_STATUS_NO_VALID_RESPONSE,
    AP_STATUS_ERRORS,
};
#define AP_STATUS_COUNT 8

/* A set of statuses that apply, as bits: AP_STATUS_BIT(AP_STATUS_NOISY) | ... */
#define AP_STATUS_BIT(s) (1u << (unsigned)(s))
/* The conditions a single sample can carry (from the run it came from). */
#define AP_STATUS_SAMPLE_BITS                                                                      \
    (AP_STATUS_BIT(AP_STATUS_NOISY) | AP_STATUS_BIT(AP_STATUS_CLIENT_SATURATED) |                  \
     AP_STATUS_BIT(AP_STATUS_UNSUSTAINED) | AP_STATUS_BIT(AP_STATUS_NO_VALID_RESPONSE) |           \
     AP_STATUS_BIT(AP_STATUS_ERRORS))

/* "ok", "unstable", "n-too-small", "noisy", "client-saturated", "unsustained",
 * "no-valid-response", "errors"; "?" for a value outside the enum. Static strings. */
const char *ap_status_name(enum ap_status s);

/* The status named `name` into *out: 0, or -1 (out untouched) for a name that is none. */
int ap_status_parse(const char *name, enum ap_status *out);

/* The status a set of conditions gives: the one of highest precedence among its bits, ok for
 * none. Bits outside the enum are ignored. */
enum ap_status ap_status_pick(unsigned bits);

/* The conditions of a sample's statistics: n-too-small when s->n_too_small, unstable when
 * s->unstable. */
unsigned ap_status_of_stats(const struct ap_stats *s);

/* The conditions of one load run: errors (any timeout, invalid response, connect, read or
 * write error in the window), no-valid-response (r->requests == 0), unsustained (open loop,
 * r->sustained == 0) and client-saturated (r->saturated). */
unsigned ap_status_of_load(const struct ap_load_result *r);

/* 1 when a load run has latency figures to report: at least one valid response (its latency
 * histogram is then not empty) and, in open loop, the rate sustained; else 0. An empty
 * histogram is never a latency of 0 ms, and an unsustained rate's percentiles are those of the
 * generator's backlog rather than of the server. */
int ap_status_load_has_latency(const struct ap_load_result *r);

/* The ratio rule: a ratio of a figure to its base (say Python's to Go's) is made only when both
 * are ok. Returns NULL when it may be made; else writes why not, briefly ("unstable", "Go
 * errors", "n-too-small; Go noisy": `base_name` names the base), into buf (len bytes, cut to
 * fit) and returns buf. */
const char *ap_status_ratio_refused(enum ap_status figure, enum ap_status base,
                                    const char *base_name, char *buf, size_t len);

#endif
