/* A figure's status: the names, the precedence when several apply, the conditions of a load run
 * and of statistics, when a load has a latency figure, the ratio rule, and the bench engine's
 * per-metric status (flags beside the samples, noisy samples left out unless asked for). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/runner.h"
#include "bench/status.h"
#include "core/cleanup.h"
#include "test.h"

/* The documented order, worst first: a reordered enum must fail here. */
static const char *const order[] = {
    "errors", "no-valid-response", "unsustained", "client-saturated",
    "noisy",  "n-too-small",       "unstable",    "ok"};

static unsigned bit(const char *name)
{
    enum ap_status s;
    if (ap_status_parse(name, &s) < 0)
        return 0;
    return AP_STATUS_BIT(s);
}

TEST(names_round_trip)
{
    for (size_t i = 0; i < AP_ARRAY_SIZE(order); i++) {
        enum ap_status s = AP_STATUS_COUNT;
        CHECK_MSG(ap_status_parse(order[i], &s) == 0 && strcmp(ap_status_name(s), order[i]) == 0,
                  "%s", order[i]);
    }
    enum ap_status s = AP_STATUS_ERRORS;
    CHECK(ap_status_parse("fine", &s) < 0 && s == AP_STATUS_ERRORS);
    CHECK(ap_status_parse(NULL, &s) < 0);
    CHECK(strcmp(ap_status_name((enum ap_status)99), "?") == 0);
    CHECK(ap_status_pick(0) == AP_STATUS_OK);
}

TEST(precedence_follows_the_documented_order)
{
    /* Of any two statuses that apply, the one earlier in the order wins. */
    int bad = 0;
    for (size_t i = 0; i + 1 < AP_ARRAY_SIZE(order); i++)
        for (size_t j = i + 1; j < AP_ARRAY_SIZE(order); j++) {
            unsigned bits = bit(order[i]) | bit(order[j]);
            if (strcmp(ap_status_name(ap_status_pick(bits)), order[i]) != 0) {
                test_note("%s and %s give %s", order[i], order[j],
                          ap_status_name(ap_status_pick(bits)));
                bad++;
            }
        }
    CHECK(bad == 0);
    /* All of them: errors; each alone: itself. */
    unsigned all = 0;
    for (size_t i = 0; i < AP_ARRAY_SIZE(order); i++) {
        all |= bit(order[i]);
        CHECK(strcmp(ap_status_name(ap_status_pick(bit(order[i]))), order[i]) == 0);
    }
    CHECK(ap_status_pick(all) == AP_STATUS_ERRORS);
    /* Bits beyond the enum are ignored. */
    CHECK(ap_status_pick(1u << 20) == AP_STATUS_OK);
    /* What a sample can carry: the run's conditions, not the statistics'. */
    CHECK((AP_STATUS_SAMPLE_BITS & bit("unstable")) == 0 &&
          (AP_STATUS_SAMPLE_BITS & bit("n-too-small")) == 0 &&
          (AP_STATUS_SAMPLE_BITS & bit("noisy")) != 0 &&
          (AP_STATUS_SAMPLE_BITS & bit("errors")) != 0);
}

TEST(statistics_give_n_too_small_and_unstable)
{
    struct ap_stats s;
    double one[] = {5};
    CHECK(ap_stats_compute(one, 1, &s) == 0);
    CHECK(ap_status_pick(ap_status_of_stats(&s)) == AP_STATUS_N_TOO_SMALL);
    CHECK(ap_status_of_stats(&s) & AP_STATUS_BIT(AP_STATUS_UNSTABLE));
    double steady[] = {10, 10.1, 9.9, 10, 10.2, 9.8};
    CHECK(ap_stats_compute(steady, 6, &s) == 0);
    CHECK(ap_status_of_stats(&s) == 0);
    double spread[] = {10, 14, 7, 10, 13, 6};
    CHECK(ap_stats_compute(spread, 6, &s) == 0);
    CHECK(ap_status_pick(ap_status_of_stats(&s)) == AP_STATUS_UNSTABLE);
    double five[] = {10, 10, 10, 10, 10};
    CHECK(ap_stats_compute(five, 5, &s) == 0);
    CHECK(ap_status_pick(ap_status_of_stats(&s)) == AP_STATUS_N_TOO_SMALL);
}

static struct ap_load_result *clean_load(void)
{
    struct ap_load_result *r = calloc(1, sizeof(*r));
    if (r == NULL)
        abort();
    ap_hist_init(&r->latency);
    r->requests = r->responses = 1000;
    for (int i = 0; i < 1000; i++)
        ap_hist_record(&r->latency, 100000 + i);
    r->duration_s = 1;
    r->requests_per_s = 1000;
    return r;
}

TEST(a_load_runs_conditions)
{
    struct ap_load_result *r = clean_load();
    CHECK(ap_status_of_load(r) == 0 && ap_status_load_has_latency(r));
    /* Each kind of error counts. */
    uint64_t *fields[] = {&r->connect_errors, &r->read_errors,     &r->write_errors, &r->timeouts,
                          &r->invalid_status, &r->invalid_headers, &r->invalid_body};
    for (size_t i = 0; i < AP_ARRAY_SIZE(fields); i++) {
        *fields[i] = 1;
        CHECK_MSG(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_ERRORS, "field %zu", i);
        CHECK(ap_status_load_has_latency(r)); /* valid responses still have their latency */
        *fields[i] = 0;
    }
    r->saturated = 1;
    CHECK(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_CLIENT_SATURATED);
    CHECK(ap_status_load_has_latency(r));
    r->saturated = 0;
    /* Open loop: the rate held, then not. */
    r->target_rate = 1000;
    r->achieved_rate = 990;
    r->sustained = 1;
    CHECK(ap_status_of_load(r) == 0 && ap_status_load_has_latency(r));
    r->sustained = 0;
    r->saturated = 1;
    CHECK(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_UNSUSTAINED);
    CHECK(!ap_status_load_has_latency(r));
    free(r);
}

TEST(no_valid_response_has_no_latency_even_with_censored_values)
{
    /* A stalled server: nothing answered, every request still in flight at the end (their
     * waits are in the histogram), no error counted. */
    struct ap_load_result *r = clean_load();
    r->requests = r->responses = 0;
    r->in_flight = 1000;
    CHECK(ap_hist_count(&r->latency) > 0);
    CHECK(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_NO_VALID_RESPONSE);
    CHECK(!ap_status_load_has_latency(r));
    /* Answered with 503s: errors come first. */
    r->responses = r->invalid_status = 50;
    CHECK(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_ERRORS);
    CHECK(ap_status_of_load(r) & AP_STATUS_BIT(AP_STATUS_NO_VALID_RESPONSE));
    /* An empty histogram is never a latency, whatever the counters say. */
    struct ap_load_result *e = clean_load();
    ap_hist_init(&e->latency);
    CHECK(!ap_status_load_has_latency(e));
    free(r);
    free(e);
}

TEST(a_ratio_only_between_ok_figures)
{
    char buf[80];
    CHECK(ap_status_ratio_refused(AP_STATUS_OK, AP_STATUS_OK, "Go", buf, sizeof(buf)) == NULL);
    for (unsigned s = 1; s < AP_STATUS_COUNT; s++) {
        const char *a =
            ap_status_ratio_refused((enum ap_status)s, AP_STATUS_OK, "Go", buf, sizeof(buf));
        CHECK_MSG(a != NULL && strcmp(a, ap_status_name((enum ap_status)s)) == 0, "%s",
                  a ? a : "(null)");
        const char *b =
            ap_status_ratio_refused(AP_STATUS_OK, (enum ap_status)s, "Go", buf, sizeof(buf));
        CHECK_MSG(b != NULL && strncmp(b, "Go ", 3) == 0 &&
                      strcmp(b + 3, ap_status_name((enum ap_status)s)) == 0,
                  "%s", b ? b : "(null)");
    }
    const char *both =
        ap_status_ratio_refused(AP_STATUS_UNSTABLE, AP_STATUS_ERRORS, "Go", buf, sizeof(buf));
    CHECK_MSG(both != NULL && strcmp(both, "unstable; Go errors") == 0, "%s", both);
    /* Cut to fit, never overrun. */
    char small[4];
    CHECK(ap_status_ratio_refused(AP_STATUS_NO_VALID_RESPONSE, AP_STATUS_OK, "Go", small,
                                  sizeof(small)) == small &&
          strlen(small) == 3);
}

/* ---- the bench engine's metrics ---------------------------------------------------------- */

static cJSON *measurement(void)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddObjectToObject(m, "metrics");
    return m;
}

static cJSON *metric(cJSON *m, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), name);
}

static const char *status(const cJSON *x)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "status");
    return cJSON_IsString(s) ? s->valuestring : "(none)";
}

static double stat_of(const cJSON *x, const char *key)
{
    const cJSON *v =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(x, "stats"), key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const double steady[] = {10, 10.1, 9.9, 10, 10.2, 9.8, 10.1, 10};

TEST(clean_samples_are_ok)
{
    cJSON *m = measurement();
    for (size_t i = 0; i < AP_ARRAY_SIZE(steady); i++)
        ap_bench_add(m, "wall_s", "s", steady[i]);
    cJSON *x = metric(m, "wall_s");
    ap_bench_metric_update(x, 0, 0, 0);
    CHECK_MSG(strcmp(status(x), "ok") == 0, "%s", status(x));
    CHECK(cJSON_GetObjectItemCaseSensitive(x, "flags") == NULL);
    CHECK(stat_of(x, "n") == 8);
    /* Three samples: n-too-small (and unstable too, which it outranks). */
    cJSON *m3 = measurement();
    ap_bench_add(m3, "wall_s", "s", 1);
    ap_bench_add(m3, "wall_s", "s", 2);
    ap_bench_add(m3, "wall_s", "s", 3);
    ap_bench_metric_update(metric(m3, "wall_s"), 0, 0, 0);
    CHECK_MSG(strcmp(status(metric(m3, "wall_s")), "n-too-small") == 0, "%s",
              status(metric(m3, "wall_s")));
    /* A counted figure (a size) is exact at n = 1: ok, where a timed one is not. */
    cJSON *m1 = measurement();
    ap_bench_add(m1, "bytes", "B", 2126247);
    ap_bench_metric_update(metric(m1, "bytes"), 0, 1, 0);
    CHECK_MSG(strcmp(status(metric(m1, "bytes")), "ok") == 0, "%s", status(metric(m1, "bytes")));
    ap_bench_metric_update(metric(m1, "bytes"), 0, 0, 0);
    CHECK_MSG(strcmp(status(metric(m1, "bytes")), "n-too-small") == 0, "%s",
              status(metric(m1, "bytes")));
    /* On a host found sharing its caches a CPU figure must repeat within shared_cv: the
     * steady samples (CV 1.2 %) stay ok under 2 %, not under 1 %, and say why. */
    ap_bench_metric_update(x, 0, 0, AP_BENCH_SHARED_CV);
    CHECK_MSG(strcmp(status(x), "ok") == 0, "%s", status(x));
    ap_bench_metric_update(x, 0, 0, 0.01);
    CHECK_MSG(strcmp(status(x), "unstable") == 0, "%s", status(x));
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(x, "warning");
    CHECK(cJSON_IsString(w) && test_contains(w->valuestring, "more than the 1 % a figure may") &&
          test_contains(w->valuestring, "caches this run found shared"));
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(x, "stats"), "unstable")));
    /* n-too-small still outranks it. */
    ap_bench_metric_update(metric(m3, "wall_s"), 0, 0, 0.01);
    CHECK(strcmp(status(metric(m3, "wall_s")), "n-too-small") == 0);
    cJSON_Delete(m1);
    cJSON_Delete(m);
    cJSON_Delete(m3);
}

TEST(noisy_samples_are_flagged_and_left_out_unless_asked)
{
    cJSON *m = measurement();
    unsigned noisy = AP_STATUS_BIT(AP_STATUS_NOISY);
    /* Two noisy samples, far off, among eight. */
    for (size_t i = 0; i < AP_ARRAY_SIZE(steady); i++)
        ap_bench_add_flagged(m, "wall_s", "s", i == 2 || i == 5 ? 30 : steady[i],
                             i == 2 || i == 5 ? noisy : 0);
    cJSON *x = metric(m, "wall_s");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(x, "flags");
    /* Created at the first flag, with the clean samples before it padded: parallel. */
    CHECK(cJSON_GetArraySize(fl) == 8);
    CHECK(cJSON_GetArraySize(cJSON_GetArrayItem(fl, 0)) == 0);
    CHECK(strcmp(cJSON_GetArrayItem(cJSON_GetArrayItem(fl, 2), 0)->valuestring, "noisy") == 0);
    ap_bench_metric_update(x, 0, 0, 0);
    CHECK_MSG(stat_of(x, "n") == 6 && stat_of(x, "max") < 11, "n %g max %g", stat_of(x, "n"),
              stat_of(x, "max"));
    CHECK_MSG(strcmp(status(x), "ok") == 0, "%s", status(x));
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(x, "warning");
    CHECK(cJSON_IsString(w) && test_contains(w->valuestring, "2 of 8 samples") &&
          test_contains(w->valuestring, "--include-noisy"));
    /* The raw samples are all kept. */
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x, "samples")) == 8);
    /* --include-noisy: all eight, and the figure says it is noisy. */
    ap_bench_metric_update(x, 1, 0, 0);
    CHECK(stat_of(x, "n") == 8 && stat_of(x, "max") == 30);
    CHECK_MSG(strcmp(status(x), "noisy") == 0, "%s", status(x));
    cJSON_Delete(m);
}

TEST(all_samples_noisy_leaves_no_statistics)
{
    cJSON *m = measurement();
    for (int i = 0; i < 3; i++)
        ap_bench_add_flagged(m, "wall_s", "s", 1 + i, AP_STATUS_BIT(AP_STATUS_NOISY));
    cJSON *x = metric(m, "wall_s");
    ap_bench_metric_update(x, 0, 0, 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x, "stats")));
    CHECK_MSG(strcmp(status(x), "noisy") == 0, "%s", status(x));
    ap_bench_metric_update(x, 1, 0, 0);
    CHECK(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(x, "stats")));
    CHECK_MSG(strcmp(status(x), "noisy") == 0, "%s", status(x));
    cJSON_Delete(m);
}

TEST(a_load_conditions_reach_the_metric)
{
    /* Six clean runs and one with errors and a saturated client: errors wins. */
    cJSON *m = measurement();
    for (int i = 0; i < 7; i++)
        ap_bench_add_flagged(m, "rps", "req/s", 50000 + i,
                             i == 4 ? AP_STATUS_BIT(AP_STATUS_ERRORS) |
                                          AP_STATUS_BIT(AP_STATUS_CLIENT_SATURATED)
                                    : 0);
    cJSON *x = metric(m, "rps");
    ap_bench_metric_update(x, 0, 0, 0);
    CHECK_MSG(strcmp(status(x), "errors") == 0, "%s", status(x));
    const cJSON *f4 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(x, "flags"), 4);
    CHECK(cJSON_GetArraySize(f4) == 2 &&
          strcmp(cJSON_GetArrayItem(f4, 0)->valuestring, "errors") == 0 &&
          strcmp(cJSON_GetArrayItem(f4, 1)->valuestring, "client-saturated") == 0);
    /* Statistics conditions never become sample flags. */
    cJSON *m2 = measurement();
    ap_bench_add_flagged(m2, "rps", "req/s", 1, AP_STATUS_BIT(AP_STATUS_UNSTABLE));
    CHECK(cJSON_GetObjectItemCaseSensitive(metric(m2, "rps"), "flags") == NULL);
    /* A run kept noisy by the runner flags its samples noisy; any other run, nothing. */
    cJSON *run = cJSON_CreateObject();
    CHECK(ap_bench_run_flags(run) == 0);
    cJSON_AddBoolToObject(run, "noisy", 1);
    CHECK(ap_bench_run_flags(run) == AP_STATUS_BIT(AP_STATUS_NOISY));
    cJSON_Delete(run);
    cJSON_Delete(m);
    cJSON_Delete(m2);
}
