/* The load generator's end of window: requests still unanswered when it closes count in the
 * latency as the time they had waited, in flight (closed and open loop) and due but never sent
 * (open loop), so no percentile leaves out the slowest. Driven against a listening socket that
 * never accepts nor answers (the kernel completes the handshakes): no server, and in a network
 * namespace of the test's own, so its only traffic is to 127.0.0.1 there. Needs root for that
 * namespace; without it the tests say they are skipped. */
#include <errno.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/loadgen.h"
#include "bench/status.h"
#include "test.h"

#define NS 1000000000LL

static int listener = -1;
static uint16_t port;
static struct ap_hist want;

/* A network namespace of our own with its loopback up, and a socket listening on 127.0.0.1 that
 * nobody accepts from. Load threads started after this inherit the namespace. */
static int setup(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        printf("    skipped: unshare(CLONE_NEWNET): %s (these tests need root)\n", strerror(errno));
        return 0;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return -1;
    close(s);
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (listener < 0 || bind(listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(listener, 128) < 0 || getsockname(listener, (struct sockaddr *)&sa, &len) < 0)
        return -1;
    port = ntohs(sa.sin_port);
    return 0;
}
TEST_SETUP(setup)

static struct ap_load_result *load(unsigned conns, double secs, double rate)
{
    struct ap_load_spec spec = {
        .addr = "127.0.0.1",
        .port = port,
        .path = "/json",
        .netns_fd = -1,
        .threads = 1,
        .connections = conns,
        .duration_s = secs,
        .timeout_s = 30, /* far beyond the window: nothing times out */
        .mode = rate > 0 ? AP_LOAD_OPEN : AP_LOAD_CLOSED,
        .rate = rate,
    };
    struct ap_load_result *r = calloc(1, sizeof(*r));
    ap_error *err = NULL;
    if (r == NULL || ap_load_run(&spec, r, &err) < 0) {
        test_note("load: %s", err ? err->msg : "out of memory");
        ap_error_release(&err);
        free(r);
        return NULL;
    }
    return r;
}

TEST(closed_loop_in_flight_requests_count_as_their_wait)
{
    if (listener < 0)
        return;
    /* Four connections, each sends one request at the start and waits the whole window. */
    struct ap_load_result *r = load(4, 0.3, 0);
    if (!CHECK(r != NULL))
        return;
    CHECK_MSG(r->connects == 4 && r->responses == 0 && r->timeouts == 0,
              "connects %llu responses %llu timeouts %llu", (unsigned long long)r->connects,
              (unsigned long long)r->responses, (unsigned long long)r->timeouts);
    CHECK_MSG(r->in_flight == 4, "in flight %llu", (unsigned long long)r->in_flight);
    CHECK_MSG(ap_hist_count(&r->latency) == 4, "latency count %llu",
              (unsigned long long)ap_hist_count(&r->latency));
    /* Each waited from its send, at the start, to the window's end: about 0.3 s. Without the
     * accounting the histogram is empty and p50 reads 0. */
    int64_t p50 = ap_hist_percentile(&r->latency, 50), mx = ap_hist_max(&r->latency);
    CHECK_MSG(p50 >= (int64_t)(0.25 * NS) && mx <= (int64_t)(0.31 * NS), "p50 %lld max %lld",
              (long long)p50, (long long)mx);
    /* No valid response: that is the status, and there is no latency figure to give. */
    CHECK(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_NO_VALID_RESPONSE);
    CHECK(!ap_status_load_has_latency(r));
    free(r);
}

TEST(open_loop_unsent_and_in_flight_requests_count_from_their_intended_time)
{
    if (listener < 0)
        return;
    /* 4 connections at 40 req/s: connection j's requests are due at j/40 + k/10 s. Each sends
     * its first and waits; by the end of the 0.5 s window the rest of its schedule is due and
     * unsent. The window's start and the schedule's coincide (no warmup). */
    struct ap_load_result *r = load(4, 0.5, 40);
    if (!CHECK(r != NULL))
        return;
    ap_hist_init(&want);
    uint64_t unsent = 0;
    for (int j = 0; j < 4; j++) {
        int64_t sched0 = (int64_t)j * NS / 40, end = NS / 2;
        ap_hist_record(&want, end - sched0); /* the first request, in flight */
        for (int64_t k = 1; sched0 + k * NS / 10 <= end; k++, unsent++)
            ap_hist_record(&want, end - (sched0 + k * NS / 10));
    }
    CHECK_MSG(r->in_flight == 4 && r->backlog == unsent && unsent == 17,
              "in flight %llu backlog %llu (want 4 and %llu)", (unsigned long long)r->in_flight,
              (unsigned long long)r->backlog, (unsigned long long)unsent);
    CHECK_MSG(ap_hist_count(&r->latency) == 21, "latency count %llu",
              (unsigned long long)ap_hist_count(&r->latency));
    /* The very values, each request's wait from its intended time to the end. */
    CHECK(memcmp(r->latency.counts, want.counts, sizeof(want.counts)) == 0);
    CHECK_MSG(ap_hist_max(&r->latency) == NS / 2 && ap_hist_min(&r->latency) == 0,
              "min %lld max %lld", (long long)ap_hist_min(&r->latency),
              (long long)ap_hist_max(&r->latency));
    CHECK(fabs(ap_hist_mean(&r->latency) - ap_hist_mean(&want)) < 10);
    CHECK(!r->sustained);
    CHECK(ap_status_pick(ap_status_of_load(r)) == AP_STATUS_NO_VALID_RESPONSE);
    CHECK(ap_status_of_load(r) & AP_STATUS_BIT(AP_STATUS_UNSUSTAINED));
    free(r);
}
