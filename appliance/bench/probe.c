/* The readiness probe (loadgen.h): one connection and one GET at a time until a response
 * passes the load's check, bounded by a deadline and by the server's life. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/clock.h"
#include "http.h"
#include "loadgen.h"
#include "target.h"

#define NS 1000000000LL
#define READ_BUF (16 * 1024)

struct probe {
    const struct ap_load_probe_spec *spec;
    struct ap_load_target tg;
    char why[160]; /* the last attempt's failure */
    struct ap_load_probe_result res;
    ap_error *err;
    char body[AP_LOAD_BODY_MAX];
    char buf[READ_BUF];
};

enum { P_OK = 1, P_RETRY = 0, P_GONE = -1, P_DEADLINE = -2 };

static int server_gone(const struct ap_load_probe_spec *s)
{
    if (s->alive != NULL && !s->alive(s->ctx))
        return 1;
    if (s->pidfd >= 0) {
        struct pollfd p = {.fd = s->pidfd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            return 1;
    }
    return 0;
}

/* Waits until fd is ready for `events`, the pidfd is readable or `until` passes. */
static int probe_wait(const struct probe *pr, int fd, short events, int64_t until)
{
    const struct ap_load_probe_spec *s = pr->spec;
    for (unsigned pass = 0; pass < 1000000; pass++) {
        if (server_gone(s))
            return P_GONE;
        int64_t now = ap_clock_mono_ns();
        if (now >= until)
            return P_DEADLINE;
        /* Wake at least every 10 ms to ask alive(). */
        int64_t wait = until - now < 10 * 1000 * 1000LL ? until - now : 10 * 1000 * 1000LL;
        struct timespec ts = {wait / NS, wait % NS};
        struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = s->pidfd, .events = POLLIN}};
        int n = ppoll(p, s->pidfd >= 0 ? 2 : 1, &ts, NULL);
        if (n < 0 && errno != EINTR)
            return P_GONE;
        if (n > 0 && p[0].revents != 0)
            return P_OK;
    }
    return P_DEADLINE;
}

static int probe_once(struct probe *pr)
{
    const struct ap_load_probe_spec *s = pr->spec;
    cleanup_close int fd =
        socket(pr->tg.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(pr->why, sizeof(pr->why), "socket: %s", strerror(errno));
        return P_RETRY;
    }
    pr->res.attempts++;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&pr->tg.sa, pr->tg.sa_len) < 0) {
        if (errno != EINPROGRESS) {
            snprintf(pr->why, sizeof(pr->why), "connect: %s", strerror(errno));
            return P_RETRY;
        }
        int w = probe_wait(pr, fd, POLLOUT, s->deadline_ns);
        if (w != P_OK)
            return w;
        int soerr = 0;
        socklen_t sl = sizeof(soerr);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        if (soerr != 0) {
            snprintf(pr->why, sizeof(pr->why), "connect: %s", strerror(soerr));
            return P_RETRY;
        }
    }
    for (size_t off = 0, pass = 0; off < pr->tg.req_len && pass <= pr->tg.req_len; pass++) {
        ssize_t n = send(fd, pr->tg.req + off, pr->tg.req_len - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            int w = probe_wait(pr, fd, POLLOUT, s->deadline_ns);
            if (w != P_OK)
                return w;
        } else {
            snprintf(pr->why, sizeof(pr->why), "send: %s", strerror(errno));
            return P_RETRY;
        }
    }
    struct ap_http_parser p;
    ap_http_parser_init(&p, pr->body, sizeof(pr->body), AP_LOAD_HEAD_MAX);
    /* Each read brings at least one byte, and the parser's limits end any response: the
     * count bounds the loop, the deadline its time. */
    for (unsigned reads = 0; reads < 4096; reads++) {
        int w = probe_wait(pr, fd, POLLIN, s->deadline_ns);
        if (w != P_OK)
            return w;
        ssize_t n = read(fd, pr->buf, sizeof(pr->buf));
        struct ap_http_response r;
        int rc;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0) {
            snprintf(pr->why, sizeof(pr->why), "read: %s", strerror(errno));
            return P_RETRY;
        }
        if (n == 0) {
            rc = ap_http_parse_eof(&p, &r);
            if (rc != AP_HTTP_DONE) {
                snprintf(pr->why, sizeof(pr->why), "the server closed the connection");
                return P_RETRY;
            }
        } else {
            size_t used;
            rc = ap_http_parse(&p, pr->buf, (size_t)n, &used, &r);
            if (rc == AP_HTTP_MORE)
                continue;
            if (rc < 0) {
                snprintf(pr->why, sizeof(pr->why), "bad response: %s", ap_http_parser_error(&p));
                return P_RETRY;
            }
        }
        int64_t now = ap_clock_mono_ns();
        enum ap_http_verdict v = ap_http_check_hello(&r);
        if (v == AP_HTTP_VALID) {
            pr->res.ok_ns = now;
            return P_OK;
        }
        snprintf(pr->why, sizeof(pr->why), "status %d%s", r.status,
                 v == AP_HTTP_WRONG_STATUS    ? ""
                 : v == AP_HTTP_WRONG_HEADERS ? " without the JSON Content-Type, Server or Date"
                                              : " with an unexpected body");
        return P_RETRY;
    }
    snprintf(pr->why, sizeof(pr->why), "no complete response");
    return P_RETRY;
}

static void probe_run(struct probe *pr)
{
    const struct ap_load_probe_spec *s = pr->spec;
    int64_t interval = s->interval_ns > 0 ? s->interval_ns : AP_LOAD_PROBE_INTERVAL_NS;
    int64_t start = ap_clock_mono_ns();
    uint64_t max_attempts =
        s->deadline_ns > start ? (uint64_t)((s->deadline_ns - start) / interval) + 2 : 1;
    snprintf(pr->why, sizeof(pr->why), "no attempt made");
    for (uint64_t a = 0; a < max_attempts; a++) {
        int64_t t0 = ap_clock_mono_ns();
        int rc = probe_once(pr);
        if (rc == P_OK)
            return;
        if (rc == P_GONE) {
            ap_error_make(&pr->err, ESRCH, "the server ended before it answered (last attempt: %s)",
                          pr->why);
            return;
        }
        if (rc == P_DEADLINE)
            break;
        /* Next attempt one interval after this one began (at once when it took longer). */
        int w =
            probe_wait(pr, -1, 0, t0 + interval < s->deadline_ns ? t0 + interval : s->deadline_ns);
        if (w == P_GONE) {
            ap_error_make(&pr->err, ESRCH, "the server ended before it answered (last attempt: %s)",
                          pr->why);
            return;
        }
        if (ap_clock_mono_ns() >= s->deadline_ns)
            break;
    }
    ap_error_make(&pr->err, ETIMEDOUT,
                  "no valid answer from %s port %u within the deadline "
                  "after %llu attempts (last: %s)",
                  s->addr, (unsigned)s->port, (unsigned long long)pr->res.attempts, pr->why);
}

static void *probe_thread(void *arg)
{
    struct probe *pr = arg;
    if (setns(pr->spec->netns_fd, CLONE_NEWNET) < 0) {
        ap_error_make(&pr->err, errno, "probe: joining the network namespace");
        return NULL;
    }
    probe_run(pr);
    return NULL;
}

int ap_load_probe(const struct ap_load_probe_spec *spec, struct ap_load_probe_result *res,
                  ap_error **err)
{
    memset(res, 0, sizeof(*res));
    struct probe *pr = calloc(1, sizeof(*pr));
    if (pr == NULL)
        return ap_error_make(err, ENOMEM, "allocating the probe");
    pr->spec = spec;
    if (ap_load_target_make(spec->addr, spec->port, spec->path, &pr->tg, err) < 0) {
        free(pr);
        return -1;
    }
    if (spec->netns_fd >= 0) {
        /* setns changes only the calling thread's namespace: a thread of its own keeps the
         * caller's untouched. */
        pthread_t tid;
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        int e = pthread_create(&tid, NULL, probe_thread, pr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (e != 0) {
            free(pr);
            return ap_error_make(err, e, "starting the probe thread");
        }
        pthread_join(tid, NULL);
    } else {
        probe_run(pr);
    }
    int rc = 0;
    if (pr->err != NULL) {
        if (err != NULL && *err == NULL)
            *err = steal_pointer(&pr->err);
        else
            ap_error_release(&pr->err);
        rc = -1;
    } else {
        *res = pr->res;
    }
    free(pr);
    return rc;
}
