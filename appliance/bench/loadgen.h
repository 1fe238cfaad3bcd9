/* The appliance's HTTP/1.1 load generator and readiness probe.
 *
 * Each load thread runs one epoll loop over its share of the connections and shares nothing
 * with the others until the end (counters and latency histogram merged then). Connections
 * are keep-alive, nonblocking, TCP_NODELAY, registered with epoll once (edge-triggered, in and
 * out), so a request costs one send and one read: after a complete response the next request
 * is written at once. Every response is parsed and checked (status 200, Content-Type
 * application/json, Server and Date, body {"message":"Hello, World!"}).
 *
 * Closed loop: each connection sends its next request as soon as the previous response is
 * complete; latency runs from the send. Open loop (wrk2's model): connection j of C sends its
 * k-th request at the intended time start + (j + k * C) / rate, the total rate being `rate`;
 * latency runs from the intended time, so a server that falls behind shows it in the latency
 * and no omission is coordinated. A rate not sustained (achieved below 95 % of the target, or
 * more than 5 % of the window's requests still unsent at its end) is reported as such.
 * Requests unanswered when the window closes, in flight or (open loop) never sent, count in the
 * latency as the time they had waited by then: no percentile leaves out the slowest requests.
 *
 * Only literal IPv4 and IPv6 addresses: no name is ever resolved. */
#ifndef AP_BENCH_LOADGEN_H
#define AP_BENCH_LOADGEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "hist.h"

#define AP_LOAD_MAX_THREADS 256
#define AP_LOAD_MAX_CONNECTIONS 100000
#define AP_LOAD_PATH_MAX 2048
/* A load thread on CPU for this share of its wall time or more measured itself. */
#define AP_LOAD_SATURATED 0.90
/* Open loop: the least share of the target rate that counts as sustained. */
#define AP_LOAD_SUSTAINED 0.95
/* A spin that pays off when the load threads have CPUs of their own (see spin_ns). 15 us:
 * longer than a fast server takes to answer the next of 64 connections, so it finds a Go
 * server's responses without sleeping, as a busy client would; shorter than the gap between a
 * slow server's responses, so a Python server pays the same wake-ups it pays wrk. Measured
 * side by side with wrk here (3 rounds each): net/http 59-60K req/s at 15 and 50 us, 46-54K
 * at 0, wrk 50-54K; Flask 4,455-4,549 at 15 us, 4,691-4,723 at 50 us (4-6 % above wrk), wrk
 * 4,455-4,559. */
#define AP_LOAD_SPIN_NS 15000

enum ap_load_mode {
    AP_LOAD_CLOSED = 0, /* next request as soon as the previous response completed */
    AP_LOAD_OPEN,       /* requests at a constant total rate, on a schedule per connection */
};

/* Descriptor fields take -1 for "none": a zero-initialised spec must set them (0 is stdin). */
struct ap_load_spec {
    const char *addr; /* IPv4 or IPv6 literal ("127.0.0.1", "::1") */
    uint16_t port;
    const char *path; /* request target: '/' then printable ASCII, no spaces */
    int netns_fd;     /* -1: the caller's network namespace; else each load thread joins
                         it (setns CLONE_NEWNET, for itself only) before its sockets */
    unsigned threads; /* load threads, 1..AP_LOAD_MAX_THREADS */
    const int *cpus;  /* NULL: no pinning; else load thread i runs on cpus[i % n_cpus] */
    size_t n_cpus;
    unsigned connections;  /* threads..AP_LOAD_MAX_CONNECTIONS, spread evenly over threads */
    double duration_s;     /* the measured window, > 0 */
    double warmup_s;       /* load before the window, not counted; >= 0 */
    double timeout_s;      /* per request, from its send; 0: 2 s */
    uint64_t max_requests; /* 0: no bound; else at most this many requests are sent in all
                              (warmup included), after which the run ends as they complete */
    enum ap_load_mode mode;
    double rate;            /* open loop: requests per second over all connections, > 0 */
    const atomic_int *stop; /* NULL, or a flag (set by a signal handler, say) ending the run */
    int64_t spin_ns;        /* after events, poll this long before sleeping (0: never); the
                               polling counts as idle in cpu_share. A sleeping client makes a
                               server on another CPU pay a wake-up for many responses: with
                               CPUs of its own, AP_LOAD_SPIN_NS lets the server go as fast as
                               it can; never spin on the server's CPUs */
};

struct ap_load_result {
    /* Counted in the window only. Each complete response is exactly one of requests,
     * invalid_status, invalid_headers, invalid_body. */
    uint64_t requests;        /* valid responses */
    uint64_t responses;       /* complete responses, valid or not */
    uint64_t invalid_status;  /* status other than 200 */
    uint64_t invalid_headers; /* no JSON Content-Type, Server or Date; or a malformed head */
    uint64_t invalid_body;    /* not the expected JSON; or malformed or oversized framing */
    uint64_t connect_errors;  /* refused, failed or timed-out connects */
    uint64_t read_errors;     /* reset, closed mid-response, unsolicited bytes */
    uint64_t write_errors;
    uint64_t timeouts; /* no complete response within timeout_s of the send */
    uint64_t connects; /* connections established */
    uint64_t bytes_read;
    double duration_s;     /* the window as it ran (shorter when stopped or bounded) */
    double requests_per_s; /* requests / duration_s */
    /* Latency in ns: of each valid response in the window, and of each request unanswered at
     * the window's end (in_flight, and backlog in open loop), as the time it had waited by then
     * from its intended send time: a lower bound of its latency, so every percentile is a lower
     * bound of the true one. Its count is requests + in_flight + backlog. */
    struct ap_hist latency;
    uint64_t in_flight; /* requests sent and unanswered at the window's end */
    int64_t cpu_ns;     /* CPU time of all load threads in the window */
    int64_t spin_ns;    /* of it, polling an empty event queue (idle time, see spin_ns) */
    double cpu_share;   /* highest share of the window one load thread spent on CPU */
    int saturated;      /* cpu_share >= AP_LOAD_SATURATED: the client was the limit */
    int stopped;        /* spec.stop ended the run early */
    /* Open loop only (zero in closed loop). */
    double target_rate;   /* spec.rate */
    double achieved_rate; /* responses / duration_s */
    uint64_t backlog;     /* requests due by the window's end that were never sent (their
                             wait is in latency) */
    int64_t max_lag_ns;   /* longest a request in the window went out after its time */
    int sustained;        /* achieved >= 95 % of target and backlog <= 5 % of the window */
};

/* Runs the load spec describes and fills *res (about 40 KiB: not on a small stack). Returns
 * 0 when the load ran, whatever the errors counted; -1 with err when it could not run (bad
 * spec, no threads, setns or pinning refused, descriptors exhausted). Blocks the calling
 * thread for warmup_s + duration_s at most (less with max_requests or stop); its signal
 * handlers keep running on it, the load threads block every signal. Raises the process's
 * soft RLIMIT_NOFILE when the connections need more descriptors. */
int ap_load_run(const struct ap_load_spec *spec, struct ap_load_result *res, ap_error **err);

/* Splits "http://ADDR[:PORT]/PATH" (ADDR a literal IPv4 address or [IPv6]; PORT default 80;
 * PATH default "/") into its parts. */
struct ap_load_url {
    char addr[64];
    uint16_t port;
    char path[AP_LOAD_PATH_MAX];
};
int ap_load_parse_url(const char *url, struct ap_load_url *out, ap_error **err);

/* How often the readiness probe tries a server that is not up yet: a service start is known
 * to this resolution, so it is kept well below the starts it measures (~1 ms for Go). */
#define AP_LOAD_PROBE_INTERVAL_NS 100000

/* Readiness probe: one connection and one GET every interval_ns until a response passes the
 * same check as the load (a valid 200), bounded by deadline_ns and by the server's life.
 * netns_fd and pidfd take -1 for "none" (set them: 0 is stdin). */
struct ap_load_probe_spec {
    const char *addr;
    uint16_t port;
    const char *path;
    int netns_fd;            /* -1: the caller's namespace; else the probe runs on a
                                short-lived thread that joins it (the caller's is untouched) */
    int64_t deadline_ns;     /* CLOCK_MONOTONIC time to give up at */
    int64_t interval_ns;     /* between attempts; 0: 100 us (the resolution of a start time) */
    int pidfd;               /* -1, or a pidfd of the server: readable once it has exited */
    int (*alive)(void *ctx); /* NULL, or returns 0 once the server is gone */
    void *ctx;
};

struct ap_load_probe_result {
    int64_t ok_ns;     /* CLOCK_MONOTONIC time the first valid response was complete */
    uint64_t attempts; /* connections tried */
};

/* Returns 0 with *res filled at the first valid response; -1 with err otherwise: ETIMEDOUT
 * at the deadline, ESRCH when the server is gone (pidfd readable, alive() == 0), or the
 * failure to set up; the message names the last attempt's failure. */
int ap_load_probe(const struct ap_load_probe_spec *spec, struct ap_load_probe_result *res,
                  ap_error **err);

#endif
