/* The result of a load: the threads' counters and latencies added up, with the requests left
 * unanswered at the window's end (loadgen.h has the model). */
#include <math.h>
#include <string.h>

#include "loadgen-threads.h"

#define NS 1000000000LL

/* The end of a thread's window: requests unanswered then count as latencies of the time they
 * had waited, from their intended send time to the window's end, so that no percentile leaves
 * out the slowest requests (a server that stops answering would otherwise show the latency of
 * the answers it gave before). In flight: the request outstanding on a busy connection (from
 * its send in closed loop). Unsent, in open loop: each request of a connection's schedule due
 * by the end and never sent, request j intended at sched0 + j * interval; they are the
 * backlog. Each value is a lower bound of that request's latency, so every percentile stays a
 * lower bound of the true one. Only a thread that reached its window records them. */
static void censor(struct ap_load_worker *w, const struct ap_load_shared *sh,
                   struct ap_load_result *res)
{
    int64_t end = w->t_end < sh->end_ns ? w->t_end : sh->end_ns;
    int record = w->measuring && end >= sh->measure_ns;
    for (unsigned i = 0; i < w->n_conns; i++) {
        const struct ap_load_conn *c = &w->conns[i];
        if (record && c->state == C_BUSY && c->t_origin <= end) {
            ap_hist_record(&w->hist, end - c->t_origin);
            res->in_flight++;
        }
        if (sh->spec->mode != AP_LOAD_OPEN || end < c->sched0)
            continue;
        uint64_t due = (uint64_t)floor((double)(end - c->sched0) / sh->interval_ns) + 1;
        if (due <= c->k)
            continue;
        res->backlog += due - c->k;
        /* The last one due waited least; each one before it an interval more. */
        int64_t least = end - c->sched0 - (int64_t)((double)(due - 1) * sh->interval_ns);
        if (record)
            ap_hist_record_series(&w->hist, least, sh->interval_ns, due - c->k);
    }
}

void ap_load_merge(struct ap_load_result *res, struct ap_load_worker *ws, unsigned n,
                   const struct ap_load_shared *sh)
{
    const struct ap_load_spec *spec = sh->spec;
    int64_t last = sh->measure_ns;
    for (unsigned t = 0; t < n; t++) {
        struct ap_load_worker *w = &ws[t];
        res->requests += w->c.requests;
        res->responses += w->c.responses;
        res->invalid_status += w->c.invalid_status;
        res->invalid_headers += w->c.invalid_headers;
        res->invalid_body += w->c.invalid_body;
        res->connect_errors += w->c.connect_errors;
        res->read_errors += w->c.read_errors;
        res->write_errors += w->c.write_errors;
        res->timeouts += w->c.timeouts;
        res->connects += w->c.connects;
        res->bytes_read += w->c.bytes_read;
        res->stopped |= w->stopped;
        res->in_flight += w->late;
        censor(w, sh, res);
        ap_hist_merge(&res->latency, &w->hist);
        if (w->measuring) {
            int64_t wall = w->t_end - w->t_measure, cpu = w->cpu1 - w->cpu0;
            /* Polling an empty queue is idle time, however it shows in the CPU clock. */
            int64_t busy = cpu - w->spin_idle > 0 ? cpu - w->spin_idle : 0;
            res->cpu_ns += cpu;
            res->spin_ns += w->spin_idle;
            if (wall > 0 && (double)busy / (double)wall > res->cpu_share)
                res->cpu_share = (double)busy / (double)wall;
            if (w->t_end > last)
                last = w->t_end;
        }
        if (w->max_lag > res->max_lag_ns)
            res->max_lag_ns = w->max_lag;
    }
    if (last > sh->end_ns)
        last = sh->end_ns;
    res->duration_s = (double)(last - sh->measure_ns) / NS;
    if (res->duration_s > 0)
        res->requests_per_s = (double)res->requests / res->duration_s;
    res->saturated = res->cpu_share >= AP_LOAD_SATURATED;
    if (spec->mode == AP_LOAD_OPEN) {
        res->target_rate = spec->rate;
        if (res->duration_s > 0)
            res->achieved_rate = (double)res->responses / res->duration_s;
        double window = spec->rate * res->duration_s;
        /* A run that max_requests ended early is judged over the window it had. */
        res->sustained = res->duration_s > 0 &&
                         res->achieved_rate >= AP_LOAD_SUSTAINED * spec->rate &&
                         (double)res->backlog <= (1 - AP_LOAD_SUSTAINED) * window;
    }
}
