/* HTTP/1.1 load generator: the engine (see loadgen.h for the model; target.c makes the
 * request, probe.c is the readiness probe). */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/cpuset.h"
#include "http.h"
#include "loadgen.h"
#include "loadgen-threads.h"
#include "target.h"
#include "../core/clock.h"

#define NS 1000000000LL
#define MAX_EVENTS 256
/* Reads of one readiness event before the peer counts as flooding (far above any response
 * the limits let through). */
#define READS_PER_EVENT 64
#define SWEEP_NS (10 * 1000 * 1000LL)
#define BACKOFF_MIN_NS (1000 * 1000LL)
#define BACKOFF_MAX_NS (100 * 1000 * 1000LL)
#define DEFAULT_TIMEOUT_S 2.0
#define START_WAIT_S 10

/* ---- the load ------------------------------------------------------------------------------ */

/* The window is [measure_ns, end_ns): what happens before it is warm-up, what completes after
 * it (in the last batch of events a thread handles) belongs to no window, as in the duration,
 * which ends at end_ns. */
static int in_window(const struct ap_load_worker *w, int64_t now)
{
    return now >= w->sh->measure_ns && now < w->sh->end_ns;
}

#define COUNT(w, now, field)                                                                       \
    do {                                                                                           \
        if (in_window((w), (now)))                                                                 \
            (w)->c.field++;                                                                        \
    } while (0)

/* Min-heap of connection wake-ups (open-loop sends, reconnect back-off); at most one entry per
 * connection (timer_armed), so it never outgrows n_conns. */
static void heap_push(struct ap_load_worker *w, unsigned conn, int64_t when)
{
    struct ap_load_conn *c = &w->conns[conn];
    if (c->timer_armed)
        return;
    c->timer_armed = 1;
    size_t i = w->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (w->heap[parent].when <= when)
            break;
        w->heap[i] = w->heap[parent];
        i = parent;
    }
    w->heap[i] = (struct ap_load_timer){when, conn};
}

static struct ap_load_timer heap_pop(struct ap_load_worker *w)
{
    struct ap_load_timer top = w->heap[0], last = w->heap[--w->heap_n];
    size_t i = 0, n = w->heap_n;
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && w->heap[l].when < last.when)
            m = l;
        if (l + 1 < n && w->heap[l + 1].when < (m == i ? last.when : w->heap[m].when))
            m = l + 1;
        if (m == i)
            break;
        w->heap[i] = w->heap[m];
        i = m;
    }
    if (n > 0)
        w->heap[i] = last;
    w->conns[top.conn].timer_armed = 0;
    return top;
}

static void set_state(struct ap_load_worker *w, struct ap_load_conn *c, enum ap_load_conn_state s)
{
    int was = c->state == C_CONNECTING || c->state == C_BUSY;
    int is = s == C_CONNECTING || s == C_BUSY;
    w->active += (unsigned)is - (unsigned)was;
    c->state = s;
}

static int may_send(const struct ap_load_worker *w)
{
    return w->sent < w->budget && !w->stopped;
}

static void start_connect(struct ap_load_worker *w, unsigned i, int64_t now);

/* Closes the connection; reconnects at once, or after a back-off when the connect failed. */
static void drop(struct ap_load_worker *w, unsigned i, int64_t now, int connect_failed)
{
    struct ap_load_conn *c = &w->conns[i];
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->gen++;
    set_state(w, c, C_CLOSED);
    c->wpos = 0;
    ap_http_parser_reset(&c->parser);
    if (!may_send(w))
        return;
    if (connect_failed) {
        c->backoff_ns = c->backoff_ns == 0 ? BACKOFF_MIN_NS : c->backoff_ns * 2;
        if (c->backoff_ns > BACKOFF_MAX_NS)
            c->backoff_ns = BACKOFF_MAX_NS;
        heap_push(w, i, now + c->backoff_ns);
        return;
    }
    start_connect(w, i, now);
}

/* Writes what is left of the request. Returns -1 when the connection was dropped. */
static int flush_request(struct ap_load_worker *w, unsigned i, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    const struct ap_load_shared *sh = w->sh;
    /* Each pass writes at least one byte or leaves, so req_len passes bound the loop. */
    for (size_t pass = 0; c->wpos < sh->tg.req_len && pass <= sh->tg.req_len; pass++) {
        ssize_t n = send(c->fd, sh->tg.req + c->wpos, sh->tg.req_len - c->wpos, MSG_NOSIGNAL);
        if (n > 0) {
            c->wpos += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0; /* the edge-triggered EPOLLOUT resumes it */
        COUNT(w, now, write_errors);
        drop(w, i, now, 0);
        return -1;
    }
    return 0;
}

static void send_request(struct ap_load_worker *w, unsigned i, int64_t origin, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    c->t_origin = origin;
    c->t_sent = now;
    c->wpos = 0;
    set_state(w, c, C_BUSY);
    w->sent++;
    flush_request(w, i, now);
}

/* The connection is idle: send its next request now (closed loop, or open loop when due) or
 * arm its timer for the intended time. */
static void next_request(struct ap_load_worker *w, unsigned i, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    if (!may_send(w))
        return;
    if (w->sh->spec->mode != AP_LOAD_OPEN) {
        if (w->batching) {
            if (!c->queued) {
                c->queued = 1;
                w->pending[w->n_pending++] = i;
            }
            return;
        }
        send_request(w, i, now, now);
        return;
    }
    int64_t due = c->sched0 + (int64_t)((double)c->k * w->sh->interval_ns);
    if (due > now) {
        heap_push(w, i, due);
        return;
    }
    c->k++;
    if (in_window(w, now) && now - due > w->max_lag)
        w->max_lag = now - due;
    send_request(w, i, due, now);
}

static void connected(struct ap_load_worker *w, unsigned i, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    COUNT(w, now, connects);
    c->backoff_ns = 0;
    set_state(w, c, C_IDLE);
    next_request(w, i, now);
}

static void start_connect(struct ap_load_worker *w, unsigned i, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    const struct ap_load_shared *sh = w->sh;
    c->t_connect = now;
    c->fd = socket(sh->tg.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        COUNT(w, now, connect_errors);
        drop(w, i, now, 1);
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc;
    do
        rc = connect(c->fd, (const struct sockaddr *)&sh->tg.sa, sh->tg.sa_len);
    while (rc < 0 && errno == EINTR);
    if (rc < 0 && errno != EINPROGRESS) {
        COUNT(w, now, connect_errors);
        drop(w, i, now, 1);
        return;
    }
    /* Registered once for the connection's life, after connect() so that the poll at insert
     * does not see the fresh socket's EPOLLHUP. */
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = i};
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        COUNT(w, now, connect_errors);
        drop(w, i, now, 1);
        return;
    }
    set_state(w, c, C_CONNECTING);
    if (rc == 0)
        connected(w, i, now);
}

/* A complete response: classify it, time it, go on. Returns -1 when the connection was
 * dropped. */
static int response_done(struct ap_load_worker *w, unsigned i, const struct ap_http_response *r,
                         int64_t now, int more_bytes)
{
    struct ap_load_conn *c = &w->conns[i];
    if (in_window(w, now)) {
        w->c.responses++;
        switch (ap_http_check_hello(r)) {
        case AP_HTTP_VALID:
            w->c.requests++;
            ap_hist_record(&w->hist, now - c->t_origin);
            break;
        case AP_HTTP_WRONG_STATUS:
            w->c.invalid_status++;
            break;
        case AP_HTTP_WRONG_HEADERS:
            w->c.invalid_headers++;
            break;
        case AP_HTTP_WRONG_BODY:
            w->c.invalid_body++;
            break;
        }
    } else if (now >= w->sh->end_ns && w->measuring && c->t_origin <= w->sh->end_ns) {
        /* Still unanswered when the window closed: its wait by then, as censor() counts it. */
        ap_hist_record(&w->hist, w->sh->end_ns - c->t_origin);
        w->late++;
    }
    int partial = c->wpos < w->sh->tg.req_len;
    set_state(w, c, C_IDLE);
    c->wpos = 0;
    if (more_bytes) {
        /* Bytes beyond the response to the one request outstanding. */
        COUNT(w, now, read_errors);
        drop(w, i, now, 0);
        return -1;
    }
    if (r->must_close || partial) {
        drop(w, i, now, 0);
        return -1;
    }
    next_request(w, i, now);
    return 0;
}

/* Feeds n bytes read from connection i. Returns -1 when it was dropped. */
static int feed(struct ap_load_worker *w, unsigned i, const char *data, size_t n, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    if (c->state != C_BUSY) {
        COUNT(w, now, read_errors);
        drop(w, i, now, 0);
        return -1;
    }
    struct ap_http_response r;
    size_t used = 0;
    int rc = ap_http_parse(&c->parser, data, n, &used, &r);
    if (rc == AP_HTTP_MORE)
        return 0;
    now = ap_clock_mono_ns();
    if (rc < 0) {
        if (in_window(w, now)) {
            w->c.responses++;
            if (rc == AP_HTTP_BAD_BODY)
                w->c.invalid_body++;
            else
                w->c.invalid_headers++;
        }
        drop(w, i, now, 0);
        return -1;
    }
    return response_done(w, i, &r, now, used < n);
}

static void on_eof(struct ap_load_worker *w, unsigned i, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    if (c->state == C_BUSY) {
        struct ap_http_response r;
        int rc = ap_http_parse_eof(&c->parser, &r);
        if (rc == AP_HTTP_DONE) {
            /* A body delimited by the close: must_close, so this drops and reconnects. */
            response_done(w, i, &r, ap_clock_mono_ns(), 0);
            return;
        } else {
            /* Closed before or inside the response. */
            COUNT(w, now, read_errors);
        }
    }
    /* An idle keep-alive connection closed by the server is no error. */
    drop(w, i, now, 0);
}

static void on_readable(struct ap_load_worker *w, unsigned i, uint32_t events, int64_t now)
{
    struct ap_load_conn *c = &w->conns[i];
    /* A short read means the socket was empty; edge triggering reports any later arrival,
     * except a FIN already flagged in this event: then read on until EOF or EAGAIN. */
    int drain = (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    for (int r = 0; r < READS_PER_EVENT; r++) {
        ssize_t n = read(c->fd, w->rbuf, sizeof(w->rbuf));
        if (n > 0) {
            if (in_window(w, now))
                w->c.bytes_read += (uint64_t)n;
            unsigned gen = c->gen;
            feed(w, i, w->rbuf, (size_t)n, now);
            if (c->gen != gen)
                return;
            if ((size_t)n < sizeof(w->rbuf) && !drain)
                return;
            continue;
        }
        if (n == 0) {
            on_eof(w, i, now);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        COUNT(w, now, read_errors);
        drop(w, i, now, 0);
        return;
    }
    COUNT(w, now, read_errors);
    drop(w, i, now, 0);
}

static void on_event(struct ap_load_worker *w, unsigned i, uint32_t events, int64_t now)
{
    if (i >= w->n_conns)
        return;
    struct ap_load_conn *c = &w->conns[i];
    if (c->fd < 0)
        return;
    unsigned gen = c->gen;
    if (c->state == C_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            COUNT(w, now, connect_errors);
            drop(w, i, now, 1);
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        connected(w, i, now);
        if (c->gen != gen)
            return;
    }
    if ((events & EPOLLOUT) && c->state == C_BUSY && c->wpos < w->sh->tg.req_len) {
        flush_request(w, i, now);
        if (c->gen != gen)
            return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        on_readable(w, i, events, now);
}

/* Drops requests outstanding longer than the timeout and connects that hang as long. */
static void sweep(struct ap_load_worker *w, int64_t now)
{
    int64_t limit = w->sh->timeout_ns;
    for (unsigned i = 0; i < w->n_conns; i++) {
        struct ap_load_conn *c = &w->conns[i];
        if (c->state == C_BUSY && now - c->t_sent > limit) {
            COUNT(w, now, timeouts);
            drop(w, i, now, 0);
        } else if (c->state == C_CONNECTING && now - c->t_connect > limit) {
            COUNT(w, now, connect_errors);
            drop(w, i, now, 1);
        }
    }
}

static void fire_timers(struct ap_load_worker *w, int64_t now)
{
    /* At most one entry per connection is due per pass. */
    for (unsigned n = 0; w->heap_n > 0 && w->heap[0].when <= now && n < w->n_conns; n++) {
        struct ap_load_timer t = heap_pop(w);
        struct ap_load_conn *c = &w->conns[t.conn];
        if (c->state == C_CLOSED && c->fd < 0 && may_send(w))
            start_connect(w, t.conn, now);
        else if (c->state == C_IDLE)
            next_request(w, t.conn, now);
    }
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int wait_events(int ep, struct epoll_event *evs, int64_t wait_ns)
{
    struct timespec ts = {wait_ns / NS, wait_ns % NS};
    int n = epoll_pwait2(ep, evs, MAX_EVENTS, &ts, NULL);
    if (n < 0 && errno == ENOSYS) {
        /* Kernels before 5.11: millisecond timeouts, rounded up. */
        n = epoll_wait(ep, evs, MAX_EVENTS, (int)((wait_ns + 999999) / 1000000));
    }
    return n;
}

/* Closed loop: the next requests of a batch of responses go out together, after the batch,
 * as they do from wrk (which defers each write to its next epoll_wait): the server then finds
 * them together, and a server on one CPU serves more of them per wake-up. */
static void send_pending(struct ap_load_worker *w)
{
    if (w->n_pending == 0)
        return;
    int64_t now = ap_clock_mono_ns();
    for (size_t k = 0; k < w->n_pending; k++) {
        unsigned i = w->pending[k];
        struct ap_load_conn *c = &w->conns[i];
        c->queued = 0;
        if (c->state == C_IDLE && c->fd >= 0 && may_send(w))
            send_request(w, i, now, now);
    }
    w->n_pending = 0;
}

static void run_loop(struct ap_load_worker *w)
{
    struct ap_load_shared *sh = w->sh;
    const struct ap_load_spec *spec = sh->spec;
    struct epoll_event evs[MAX_EVENTS];
    /* Every thread starts at start_ns, so the first connects fall in the window. */
    struct timespec at = {sh->start_ns / NS, sh->start_ns % NS};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
        ;
    int64_t now = ap_clock_mono_ns(), next_sweep = now + sh->sweep_ns;
    for (unsigned i = 0; i < w->n_conns && may_send(w); i++)
        start_connect(w, i, now);
    /* Ends at end_ns: checked every pass, and no wait reaches past it. */
    for (;;) {
        now = ap_clock_mono_ns();
        if (!w->measuring && now >= sh->measure_ns) {
            w->measuring = 1;
            w->t_measure = now;
            w->cpu0 = ap_clock_ns(CLOCK_THREAD_CPUTIME_ID);
        }
        if (now >= sh->end_ns)
            break;
        if (spec->stop != NULL && atomic_load_explicit(spec->stop, memory_order_relaxed)) {
            w->stopped = 1;
            break;
        }
        if (w->sent >= w->budget && w->active == 0)
            break;
        fire_timers(w, now);
        if (now >= next_sweep) {
            sweep(w, now);
            next_sweep = now + sh->sweep_ns;
        }
        int64_t until = min64(next_sweep, sh->end_ns);
        if (!w->measuring)
            until = min64(until, sh->measure_ns);
        if (w->heap_n > 0)
            until = min64(until, w->heap[0].when);
        int64_t wait = until - now;
        /* Poll without sleeping for a while after the last events: a sleeping client makes
         * the server pay a cross-CPU wake-up with many of its responses. */
        int spin = wait > 0 && now - w->last_event < sh->spin_ns;
        int n = wait_events(w->ep, evs, spin ? 0 : wait > 0 ? wait : 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            ap_error_make(&w->err, errno, "epoll_wait");
            break;
        }
        if (n == 0) {
            if (spin && w->measuring)
                w->spin_idle += ap_clock_mono_ns() - now;
            continue;
        }
        now = ap_clock_mono_ns();
        w->last_event = now;
        w->batching = 1;
        for (int k = 0; k < n; k++)
            on_event(w, evs[k].data.u32, evs[k].events, now);
        w->batching = 0;
        send_pending(w);
    }
    w->t_end = ap_clock_mono_ns();
    w->cpu1 = ap_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void *worker_main(void *arg)
{
    struct ap_load_worker *w = arg;
    struct ap_load_shared *sh = w->sh;
    const struct ap_load_spec *spec = sh->spec;
    if (spec->netns_fd >= 0 && setns(spec->netns_fd, CLONE_NEWNET) < 0)
        ap_error_make(&w->err, errno, "load thread %u: joining the network namespace", w->index);
    if (w->err == NULL && spec->cpus != NULL && spec->n_cpus > 0) {
        struct ap_cpuset one = {{0}};
        ap_cpuset_add(&one, spec->cpus[w->index % spec->n_cpus]);
        if (ap_cpuset_pin(&one, NULL, &w->err) < 0)
            ap_error_wrap(&w->err, "load thread %u", w->index);
    }
    /* Open-loop sends wake on time: no timer slack. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    if (w->err == NULL && (w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        ap_error_make(&w->err, errno, "load thread %u: epoll_create1", w->index);

    pthread_mutex_lock(&sh->lock);
    sh->ready++;
    pthread_cond_broadcast(&sh->cond);
    while (sh->go == 0)
        pthread_cond_wait(&sh->cond, &sh->lock);
    int go = sh->go;
    pthread_mutex_unlock(&sh->lock);

    if (go > 0 && w->err == NULL)
        run_loop(w);
    for (unsigned i = 0; i < w->n_conns; i++)
        if (w->conns[i].fd >= 0)
            close(w->conns[i].fd);
    if (w->ep >= 0)
        close(w->ep);
    return NULL;
}

static int check_spec(const struct ap_load_spec *s, ap_error **err)
{
    if (s->threads < 1 || s->threads > AP_LOAD_MAX_THREADS)
        return ap_error_make(err, EINVAL, "threads must be 1..%d", AP_LOAD_MAX_THREADS);
    if (s->connections < s->threads || s->connections > AP_LOAD_MAX_CONNECTIONS)
        return ap_error_make(err, EINVAL,
                             "connections must be at least the threads (%u) and at "
                             "most %d",
                             s->threads, AP_LOAD_MAX_CONNECTIONS);
    if (!(s->duration_s > 0) || s->duration_s > 86400 || !(s->warmup_s >= 0) || s->warmup_s > 86400)
        return ap_error_make(err, EINVAL, "duration must be in (0, 86400] s, warmup in [0, 86400]");
    if (s->spin_ns < 0 || s->spin_ns > NS)
        return ap_error_make(err, EINVAL, "spin must be in [0, 1] s");
    if (!(s->timeout_s >= 0) || s->timeout_s > 3600)
        return ap_error_make(err, EINVAL, "timeout must be in [0, 3600] s");
    if (s->mode == AP_LOAD_OPEN && (!(s->rate > 0) || s->rate > 1e9))
        return ap_error_make(err, EINVAL, "open loop needs a rate in (0, 1e9] requests/s");
    for (size_t i = 0; s->cpus != NULL && i < s->n_cpus; i++)
        if (s->cpus[i] < 0 || s->cpus[i] >= AP_CPUSET_MAX)
            return ap_error_make(err, EINVAL, "bad CPU %d", s->cpus[i]);
    return 0;
}

/* Each connection holds a socket; the process needs room for all of them. */
static int ensure_nofile(unsigned connections, unsigned threads, ap_error **err)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return ap_error_make(err, errno, "getrlimit");
    rlim_t need = (rlim_t)connections + threads + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
            ap_error_make(err, EMFILE,
                          "%u connections need %llu descriptors; the hard limit is "
                          "%llu",
                          connections, (unsigned long long)need, (unsigned long long)rl.rlim_max);
            return ap_error_hint(err, "raise it (ulimit -Hn) or use fewer connections");
        }
        rl.rlim_cur = need;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return ap_error_make(err, errno, "raising RLIMIT_NOFILE to %llu",
                                 (unsigned long long)need);
    }
    return 0;
}

/* The state all load threads share, from the spec: the target, timeouts, the open loop's
 * interval. NULL with err when the spec cannot run. */
static struct ap_load_shared *shared_new(const struct ap_load_spec *spec, ap_error **err)
{
    struct ap_load_shared *sh = calloc(1, sizeof(*sh));
    if (sh == NULL) {
        ap_error_make(err, ENOMEM, "allocating the load generator");
        return NULL;
    }
    sh->spec = spec;
    if (ap_load_target_make(spec->addr, spec->port, spec->path, &sh->tg, err) < 0 ||
        ensure_nofile(spec->connections, spec->threads, err) < 0) {
        free(sh);
        return NULL;
    }
    double timeout_s = spec->timeout_s > 0 ? spec->timeout_s : DEFAULT_TIMEOUT_S;
    sh->timeout_ns = (int64_t)(timeout_s * NS);
    sh->sweep_ns = min64(SWEEP_NS, sh->timeout_ns / 4 > 1000000 ? sh->timeout_ns / 4 : 1000000);
    if (spec->mode == AP_LOAD_OPEN)
        sh->interval_ns = (double)spec->connections * NS / spec->rate;
    sh->spin_ns = spec->spin_ns;
    pthread_mutex_init(&sh->lock, NULL);
    pthread_cond_init(&sh->cond, NULL);
    return sh;
}

/* Spreads the connections and the request budget evenly over the nt threads of ws and
 * allocates each one's connections. */
static int workers_init(struct ap_load_worker *ws, unsigned nt, struct ap_load_shared *sh,
                        ap_error **err)
{
    const struct ap_load_spec *spec = sh->spec;
    unsigned base = spec->connections / nt, extra = spec->connections % nt, first = 0;
    uint64_t bbase = spec->max_requests / nt, bextra = spec->max_requests % nt;
    for (unsigned t = 0; t < nt; t++) {
        struct ap_load_worker *w = &ws[t];
        w->sh = sh;
        w->index = t;
        w->ep = -1;
        w->n_conns = base + (t < extra);
        w->first = first;
        first += w->n_conns;
        w->budget = spec->max_requests ? bbase + (t < bextra) : UINT64_MAX;
        w->conns = calloc(w->n_conns, sizeof(*w->conns));
        w->heap = calloc(w->n_conns, sizeof(*w->heap));
        w->pending = calloc(w->n_conns, sizeof(*w->pending));
        if (w->conns == NULL || w->heap == NULL || w->pending == NULL)
            return ap_error_make(err, ENOMEM, "allocating %u connections", w->n_conns);
        ap_hist_init(&w->hist);
        for (unsigned i = 0; i < w->n_conns; i++) {
            struct ap_load_conn *c = &w->conns[i];
            c->fd = -1;
            ap_http_parser_init(&c->parser, c->body, sizeof(c->body), AP_LOAD_HEAD_MAX);
        }
    }
    return 0;
}

/* Starts the nt load threads, waits (bounded) until every one has joined its namespace and
 * CPU, then starts them together on one schedule, or aborts them all; returns when they have
 * ended. *fail gets the first failure to start. */
static void workers_run(struct ap_load_worker *ws, unsigned nt, struct ap_load_shared *sh,
                        ap_error **fail)
{
    const struct ap_load_spec *spec = sh->spec;
    unsigned created = 0;
    /* Load threads take no signals: the caller's handlers run on the caller's thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (; created < nt; created++) {
        int e = pthread_create(&ws[created].tid, NULL, worker_main, &ws[created]);
        if (e != 0) {
            ap_error_make(fail, e, "starting load thread %u", created);
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    pthread_mutex_lock(&sh->lock);
    struct timespec limit;
    clock_gettime(CLOCK_REALTIME, &limit);
    limit.tv_sec += START_WAIT_S;
    while (*fail == NULL && sh->ready < created)
        if (pthread_cond_timedwait(&sh->cond, &sh->lock, &limit) == ETIMEDOUT)
            break;
    if (*fail == NULL && sh->ready < created)
        ap_error_make(fail, ETIMEDOUT, "load threads did not start");
    for (unsigned t = 0; *fail == NULL && t < created; t++)
        if (ws[t].err != NULL) {
            *fail = steal_pointer(&ws[t].err);
            if ((*fail)->status == EPERM)
                ap_error_hint(fail, "joining a network namespace or pinning needs root");
        }
    if (*fail == NULL) {
        int64_t now = ap_clock_mono_ns();
        /* A little ahead, so the threads' first connects line up with the schedule. */
        sh->start_ns = now + 1000000;
        sh->measure_ns = sh->start_ns + (int64_t)(spec->warmup_s * NS);
        sh->end_ns = sh->measure_ns + (int64_t)(spec->duration_s * NS);
        if (spec->mode == AP_LOAD_OPEN) {
            for (unsigned t = 0; t < nt; t++)
                for (unsigned i = 0; i < ws[t].n_conns; i++)
                    ws[t].conns[i].sched0 =
                        sh->start_ns + (int64_t)((double)(ws[t].first + i) * NS / spec->rate);
        }
        sh->go = 1;
    } else {
        sh->go = -1;
    }
    pthread_cond_broadcast(&sh->cond);
    pthread_mutex_unlock(&sh->lock);
    for (unsigned t = 0; t < created; t++)
        pthread_join(ws[t].tid, NULL);
}

int ap_load_run(const struct ap_load_spec *spec, struct ap_load_result *res, ap_error **err)
{
    memset(res, 0, sizeof(*res));
    if (check_spec(spec, err) < 0)
        return -1;
    struct ap_load_shared *sh = shared_new(spec, err);
    if (sh == NULL)
        return -1;
    unsigned nt = spec->threads;
    ap_error *fail = NULL; /* handed to err at the end */
    struct ap_load_worker *ws = calloc(nt, sizeof(*ws));
    int rc = -1;
    if (ws == NULL)
        ap_error_make(&fail, ENOMEM, "allocating %u load threads", nt);
    else if (workers_init(ws, nt, sh, &fail) == 0)
        workers_run(ws, nt, sh, &fail);
    for (unsigned t = 0; fail == NULL && t < nt; t++)
        if (ws[t].err != NULL)
            fail = steal_pointer(&ws[t].err);
    if (fail == NULL) {
        ap_hist_init(&res->latency);
        ap_load_merge(res, ws, nt, sh);
        rc = 0;
    }
    for (unsigned t = 0; ws != NULL && t < nt; t++) {
        free(ws[t].conns);
        free(ws[t].heap);
        free(ws[t].pending);
        ap_error_release(&ws[t].err);
    }
    free(ws);
    pthread_cond_destroy(&sh->cond);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
    if (fail != NULL) {
        if (err != NULL && *err == NULL)
            *err = fail;
        else
            ap_error_release(&fail);
    }
    return rc;
}
