/* Building results documents in tests: a metric as the bench writes one. Shared by the unit
 * tests and the fuzz harnesses that judge claims against synthetic results. */
#ifndef AP_TESTS_RESULTS_BUILD_H
#define AP_TESTS_RESULTS_BUILD_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static inline int test_by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The metric of n samples x (n <= 16) in unit, with the given status: their median and, from six
 * samples on, the order-statistic interval [min, max] with its coverage (1 - 2/2^n); fewer
 * samples have a null interval and n_too_small. A median, lo or hi that is not NaN replaces the
 * computed one (a narrow interval around spread samples, say). */
static inline cJSON *test_metric(const char *unit, const double *x, size_t n, const char *status,
                                 double med, double lo, double hi)
{
    double s[16];
    if (n > 16)
        n = 16;
    memcpy(s, x, n * sizeof(double));
    qsort(s, n, sizeof(double), test_by_double);
    cJSON *m = cJSON_CreateObject(), *st = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "unit", unit);
    cJSON_AddItemToObject(m, "samples", cJSON_CreateDoubleArray(x, (int)n));
    cJSON_AddNumberToObject(st, "n", (double)n);
    cJSON_AddNumberToObject(st, "median",
                            !isnan(med) ? med
                            : n % 2     ? s[n / 2]
                                        : (s[n / 2 - 1] + s[n / 2]) / 2);
    if (n >= 6) {
        cJSON_AddNumberToObject(st, "ci95_lo", isnan(lo) ? s[0] : lo);
        cJSON_AddNumberToObject(st, "ci95_hi", isnan(hi) ? s[n - 1] : hi);
        cJSON_AddNumberToObject(st, "ci95_coverage", 1 - 2.0 / (double)(1u << n));
    } else {
        cJSON_AddNullToObject(st, "ci95_lo");
        cJSON_AddNullToObject(st, "ci95_hi");
        cJSON_AddNullToObject(st, "ci95_coverage");
    }
    cJSON_AddBoolToObject(st, "n_too_small", n < 6);
    cJSON_AddItemToObject(m, "stats", st);
    cJSON_AddStringToObject(m, "status", status);
    return m;
}

#endif
