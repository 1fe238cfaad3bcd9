/* The Benjamini-Hochberg step-up and the minimum effects per metric (stats.h). */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"

struct ranked {
    double p;
    size_t at; /* its index in the caller's array */
};

static int by_p(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;
    if (a->p != b->p)
        return (a->p > b->p) - (a->p < b->p);
    return (a->at > b->at) - (a->at < b->at);
}

long ap_report_bh_adjust(const double *p, size_t m, double *q_out)
{
    cleanup_free struct ranked *r = malloc((m ? m : 1) * sizeof(*r));
    if (r == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        q_out[i] = NAN;
        if (isfinite(p[i]) && p[i] >= 0 && p[i] <= 1)
            r[k++] = (struct ranked){p[i], i};
    }
    qsort(r, k, sizeof(*r), by_p);
    /* Step up from the largest p: each q is the smallest k p_(j) / j at or above its rank, so
     * the q-values keep the order of the p-values and tied p-values share the q of the last
     * of them. */
    double running = 1;
    for (size_t j = k; j-- > 0;) {
        double q = r[j].p * (double)k / (double)(j + 1);
        if (q < running)
            running = q;
        q_out[r[j].at] = running;
    }
    return (long)k;
}

/* Metrics whose change counts below (or only above) the default. A change in a flag or in a
 * count of failures is a change of kind, never of degree, so any difference the test shows
 * counts. */
static const struct {
    const char *metric; /* a metric's name, or NULL to match by unit */
    const char *unit;   /* NULL with a metric name */
    double pct;
    const char *why;
} min_effects[] = {
    {"errors", NULL, 0, "a count of failed requests: any change counts"},
    {NULL, "bool", 0, "a flag (sustained or not): any change counts"},
};

double ap_report_min_effect(const char *metric, const char *unit, const char **why)
{
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < AP_ARRAY_SIZE(min_effects); i++) {
            const char *key = pass == 0 ? min_effects[i].metric : min_effects[i].unit;
            const char *name = pass == 0 ? metric : unit;
            if (key != NULL && name != NULL && strcmp(key, name) == 0) {
                if (why != NULL)
                    *why = min_effects[i].why;
                return min_effects[i].pct;
            }
        }
    }
    if (why != NULL)
        *why = "the default";
    return AP_REPORT_MIN_EFFECT_DEFAULT;
}

int ap_report_effect_reaches(double change_pct, double min_pct)
{
    return isnan(change_pct) || fabs(change_pct) >= min_pct;
}
