/* The statistics a judgement over many figures needs, shared by the comparison of runs and
 * whatever else weighs many tests at once: the Benjamini-Hochberg step-up, which controls the
 * false discovery rate across the tests of one judgement, and the minimum effect per metric
 * below which a change does not count, however significant. Pure functions, no I/O. */
#ifndef AP_REPORT_STATS_H
#define AP_REPORT_STATS_H

#include <stddef.h>

/* The minimum effect, in % of the baseline's median, of a metric without an entry of its own
 * in the table of stats.c. */
#define AP_REPORT_MIN_EFFECT_DEFAULT 5.0

/* Benjamini-Hochberg adjusted p-values (q-values) of the m p-values in p: with the valid ones
 * (finite, 0 <= p <= 1) sorted ascending as p_(1) <= ... <= p_(k), q_(i) = min over j >= i of
 * k p_(j) / j, capped at 1. q_out[i] belongs to p[i]; an invalid p (NaN, infinite, outside
 * [0, 1]) is left out of the count and gets a NaN q. A test is significant at false discovery
 * rate alpha exactly when its q is at or below alpha (the largest i with p_(i) <= i alpha / k
 * and every smaller p). Ties get one q. q_out may not alias p. Returns k, the number of valid
 * p-values, or -1 with errno ENOMEM. */
long ap_report_bh_adjust(const double *p, size_t m, double *q_out);

/* The minimum effect of a metric, in %: the entry of the table in stats.c for its name, else
 * for its unit, else AP_REPORT_MIN_EFFECT_DEFAULT. why, when not NULL, receives the reason the
 * table gives (a static string; "the default" for the default). */
double ap_report_min_effect(const char *metric, const char *unit, const char **why);

/* Whether a change of change_pct % reaches a minimum effect of min_pct %: |change_pct| >=
 * min_pct. A NaN change (the baseline's median is 0 and the other is not) is a change of no
 * finite size and reaches every minimum. */
int ap_report_effect_reaches(double change_pct, double min_pct);

#endif
