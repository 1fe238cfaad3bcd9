/* The load generator's threads as loadgen.c runs them and loadgen-result.c adds them up: each
 * thread's connections, timers and counters, and what they share. Internal to loadgen*.c. */
#ifndef AP_BENCH_LOADGEN_THREADS_H
#define AP_BENCH_LOADGEN_THREADS_H

#include <pthread.h>
#include <stdint.h>

#include "../core/error.h"
#include "hist.h"
#include "http.h"
#include "loadgen.h"
#include "target.h"

#define AP_LOAD_READ_BUF (16 * 1024)

enum ap_load_conn_state {
    C_CLOSED,     /* no socket; reconnects when its timer fires (or at once) */
    C_CONNECTING, /* connect in progress */
    C_IDLE,       /* connected, no request outstanding */
    C_BUSY,       /* a request outstanding (maybe partly written) */
};

struct ap_load_conn {
    int fd;
    enum ap_load_conn_state state;
    int timer_armed;
    int queued;         /* in the worker's pending list */
    unsigned gen;       /* bumped at each drop: tells a handler its socket is gone */
    size_t wpos;        /* bytes of the request written */
    int64_t t_origin;   /* latency origin of the outstanding request */
    int64_t t_sent;     /* when it went out (the timeout counts from here) */
    int64_t t_connect;  /* when the connect began */
    int64_t backoff_ns; /* wait before the next connect after a failed one */
    uint64_t k;         /* open loop: index of the next request in the schedule */
    int64_t sched0;     /* open loop: intended time of request 0 */
    struct ap_http_parser parser;
    char body[AP_LOAD_BODY_MAX];
};

struct ap_load_timer {
    int64_t when;
    unsigned conn;
};

struct ap_load_counters {
    uint64_t requests, responses, invalid_status, invalid_headers, invalid_body;
    uint64_t connect_errors, read_errors, write_errors, timeouts, connects, bytes_read;
};

struct ap_load_shared;

struct ap_load_worker {
    struct ap_load_shared *sh;
    unsigned index;
    pthread_t tid;
    int ep;
    struct ap_load_conn *conns;
    unsigned n_conns;
    unsigned first; /* global index of conns[0] */
    struct ap_load_timer *heap;
    size_t heap_n;
    unsigned *pending; /* closed loop: connections whose next request goes out after the batch */
    size_t n_pending;
    int batching;
    uint64_t budget, sent; /* requests this thread may send, and has sent */
    unsigned active;       /* connections connecting or busy */
    int measuring, stopped;
    int64_t cpu0, cpu1, t_measure, t_end, max_lag;
    int64_t last_event; /* when epoll last returned events */
    int64_t spin_idle;  /* time in the window spent polling an empty queue */
    uint64_t late;      /* responses completed after the window to requests sent in it */
    struct ap_load_counters c;
    ap_error *err;
    struct ap_hist hist;
    char rbuf[AP_LOAD_READ_BUF];
};

struct ap_load_shared {
    const struct ap_load_spec *spec;
    struct ap_load_target tg;
    int64_t timeout_ns, sweep_ns, spin_ns;
    double interval_ns; /* open loop: between requests of one connection */
    int64_t start_ns, measure_ns, end_ns;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned ready;
    int go; /* 0 wait, 1 run, -1 abort */
};

/* Adds the n threads of ws up into *res (zeroed, its latency histogram initialised): counters,
 * latency (with the requests unanswered at the window's end, see loadgen-result.c), the
 * window as it ran, the client's CPU share and, in open loop, whether the rate was sustained. */
void ap_load_merge(struct ap_load_result *res, struct ap_load_worker *ws, unsigned n,
                   const struct ap_load_shared *sh);

#endif
