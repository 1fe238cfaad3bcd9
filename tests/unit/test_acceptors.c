/* Unit tests for bench/acceptors.c: the listening sockets of a port from /proc/net/tcp text,
 * the epoll sets that watch them from fdinfo text, and the count on this process's own real
 * socket and epoll set (with a control: the same socket not in the set). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/acceptors.h"
#include "core/error.h"
#include "test.h"

/* Port 8080 (1F90) listening on 127.0.0.1 (inode 4242) and on :: (4243), a connection from it
 * (state 01, not a listener), another port listening (0050), and a line that does not parse. */
static const char tcp4[] =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
    "timeout inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
    "0 4242 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:1F90 0100007F:D2A4 01 00000000:00000000 00:00000000 00000000 65534        "
    "0 5555 1 0000000000000000 20 4 30 10 -1\n"
    "   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
    "0 6666 1 0000000000000000 100 0 0 10 0\n"
    "garbage\n";
static const char tcp6[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    "   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A "
    "00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 100 0 0 10 "
    "0\n";

TEST(listeners_of_a_port)
{
    ap_error *err = NULL;
    uint64_t ino[4];
    size_t n = 0;
    CHECK(ap_acceptors_parse_tcp(tcp4, 8080, ino, 4, &n, &err) == 0);
    CHECK_MSG(n == 1 && ino[0] == 4242, "%zu found", n);
    CHECK(ap_acceptors_parse_tcp(tcp6, 8080, ino, 4, &n, &err) == 0);
    CHECK(n == 2 && ino[1] == 4243);
    /* The same table again adds nothing; another port finds its own. */
    CHECK(ap_acceptors_parse_tcp(tcp4, 8080, ino, 4, &n, &err) == 0 && n == 2);
    size_t m = 0;
    CHECK(ap_acceptors_parse_tcp(tcp4, 80, ino, 4, &m, &err) == 0 && m == 1 && ino[0] == 6666);
    m = 0;
    CHECK(ap_acceptors_parse_tcp(tcp4, 9, ino, 4, &m, &err) == 0 && m == 0);
    CHECK(ap_acceptors_parse_tcp("", 8080, ino, 4, &m, &err) == 0 && m == 0);
    /* More listeners than room is an error, not a silent cut. */
    m = 0;
    CHECK(ap_acceptors_parse_tcp(tcp4, 8080, ino, 0, &m, &err) == -1);
    CHECK(err != NULL && test_contains(err->msg, "more than 0 sockets listen on port 8080"));
    ap_error_release(&err);
}

TEST(epoll_sets_that_watch_them)
{
    const uint64_t ino[] = {0x3039, 4243};
    CHECK(ap_acceptors_parse_epoll("pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n"
                                   "tfd:        5 events:       19 data:                5  "
                                   "pos:0 ino:3039 sdev:8\n",
                                   ino, 2) == 1);
    /* 4243 is hex 1093. */
    CHECK(ap_acceptors_parse_epoll("tfd:        7 events:       19 data: 7  pos:0 ino:1093 "
                                   "sdev:8\n",
                                   ino, 2) == 1);
    /* Decimal 4243 read as hex is another inode; the set's own ino: line is not a target. */
    CHECK(ap_acceptors_parse_epoll("tfd:        7 events:       19 data: 7  pos:0 ino:4243 "
                                   "sdev:8\n",
                                   ino, 2) == 0);
    CHECK(ap_acceptors_parse_epoll("pos:\t0\nino:\t3039\n", ino, 2) == 0);
    CHECK(ap_acceptors_parse_epoll("", ino, 2) == 0);
    CHECK(ap_acceptors_parse_epoll("tfd: 5 events: 19 data: 5 pos:0 ino:3039 sdev:8\n", ino, 0) ==
          0);
}

/* A socket of ours listening on a free loopback port; its port in *port. */
static int listen_here(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

TEST(this_process_counts_once_its_epoll_watches_the_socket)
{
    ap_error *err = NULL;
    uint16_t port = 0;
    int ls = listen_here(&port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!CHECK(ls >= 0 && ep >= 0))
        goto out;
    pid_t me = getpid();
    size_t n = 0;
    pid_t pids[4096];
    CHECK_MSG(ap_acceptors_netns_pids(me, pids, 4096, &n, &err) == 0, "%s", err ? err->msg : "");
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= pids[i] == me;
    CHECK_MSG(found, "this process is not among the %zu of its own network namespace", n);

    /* Control: the socket is ours, but no epoll set watches it yet. */
    int count = -1;
    CHECK(ap_acceptors_count(&me, 1, port, &count, &err) == 0 && count == 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    if (!CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) == 0))
        goto out;
    CHECK_MSG(ap_acceptors_count(&me, 1, port, &count, &err) == 0 && count == 1, "count %d: %s",
              count, err ? err->msg : "");
    /* Another port is not this one's. */
    CHECK(ap_acceptors_count(&me, 1, (uint16_t)(port ^ 1), &count, &err) == 0 && count == 0);
    /* A process that is gone counts 0; none at all, 0. */
    pid_t gone[] = {me, 0x3fffffff};
    CHECK(ap_acceptors_count(gone, 2, port, &count, &err) == 0 && count == 1);
    CHECK(ap_acceptors_count(NULL, 0, port, &count, &err) == 0 && count == 0);
out:
    ap_error_release(&err);
    if (ls >= 0)
        close(ls);
    if (ep >= 0)
        close(ep);
}

/* The processes of the wait: this one. */
static int just_me(void *ctx, pid_t *pids, size_t max, size_t *n, ap_error **err)
{
    (void)ctx;
    (void)err;
    *n = 0;
    if (max > 0)
        pids[(*n)++] = getpid();
    return 0;
}

TEST(wait_reaches_its_count_or_its_deadline)
{
    ap_error *err = NULL;
    uint16_t port = 0;
    int ls = listen_here(&port);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    if (!CHECK(ls >= 0 && ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev) == 0))
        goto out;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, ready = 0;
    int seen = -1;
    CHECK(ap_acceptors_wait(just_me, NULL, port, 1, now + 1000000000, -1, &ready, &seen, &err) ==
              0 &&
          seen == 1 && ready >= now);
    /* Two are never there: the deadline, naming the count. */
    CHECK(ap_acceptors_wait(just_me, NULL, port, 2, now + 20000000, -1, &ready, &seen, &err) == -1);
    CHECK_MSG(err != NULL && err->status == ETIMEDOUT &&
                  test_contains(err->msg, "1 of 2 workers wait for connections"),
              "%s", err ? err->msg : "");
out:
    ap_error_release(&err);
    if (ls >= 0)
        close(ls);
    if (ep >= 0)
        close(ep);
}
