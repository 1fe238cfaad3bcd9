/* The noise guard (bench/noise.c): CPU lists, /proc/stat and /proc/loadavg parsing on
 * synthetic text, the interval arithmetic and the judgement; then the real thing: a process
 * spinning on a CPU makes the guard fire, and stops making it fire once its CPU time is
 * declared as our own. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/noise.h"
#include "sandbox/cgroup.h"
#include "core/error.h"
#include "test.h"

/* ---- CPU lists ------------------------------------------------------------------------- */

/* Parses `in` and checks that it formats back as `want` with `count` CPUs. */
static void parses_to(const char *in, const char *want, int count, int line)
{
    ap_error *err = NULL;
    struct ap_cpuset set;
    if (!CHECK_MSG(ap_cpuset_parse(in, &set, &err) == 0, "line %d: \"%s\": %s", line, in,
                   err ? err->msg : "?")) {
        ap_error_release(&err);
        return;
    }
    char out[AP_CPUSET_STRLEN];
    int n = ap_cpuset_format(&set, out, sizeof(out), &err);
    CHECK_MSG(n >= 0 && strcmp(out, want) == 0 && (size_t)n == strlen(want),
              "line %d: \"%s\" formats as \"%s\", want \"%s\"", line, in, out, want);
    CHECK_MSG(ap_cpuset_count(&set) == count, "line %d: %d CPUs, want %d", line,
              ap_cpuset_count(&set), count);
    ap_error_release(&err);
}

/* Checks that `in` is refused with a message containing `reason`, leaving the set alone. */
static void refused(const char *in, const char *reason, int line)
{
    ap_error *err = NULL;
    struct ap_cpuset set = {{0}};
    ap_cpuset_add(&set, 7);
    int r = ap_cpuset_parse(in, &set, &err);
    if (CHECK_MSG(r == -1 && err != NULL, "line %d: \"%s\" accepted", line, in))
        CHECK_MSG(test_contains(err->msg, reason), "line %d: \"%s\": \"%s\", want \"%s\"", line, in,
                  err->msg, reason);
    CHECK_MSG(ap_cpuset_count(&set) == 1 && ap_cpuset_has(&set, 7),
              "line %d: the set changed on failure", line);
    ap_error_release(&err);
}

TEST(cpu_lists_parse_and_format)
{
    parses_to("0", "0", 1, __LINE__);
    parses_to("1", "1", 1, __LINE__);
    parses_to("0-1", "0-1", 2, __LINE__);
    parses_to("0,2-3", "0,2-3", 3, __LINE__);
    parses_to("0-1\n", "0-1", 2, __LINE__);
    parses_to("3,1,2", "1-3", 3, __LINE__);
    parses_to("5-5", "5", 1, __LINE__);
    parses_to("0-3,2-5", "0-5", 6, __LINE__);
    parses_to("1023", "1023", 1, __LINE__);
    parses_to("0-1023", "0-1023", 1024, __LINE__);
    parses_to("0,2,4,6,1000-1001", "0,2,4,6,1000-1001", 6, __LINE__);
}

TEST(cpu_list_errors_say_what_is_wrong)
{
    refused("", "empty", __LINE__);
    refused("\n", "empty", __LINE__);
    refused("a", "expected a CPU number at offset 0, found 'a'", __LINE__);
    refused(" 0", "found ' '", __LINE__);
    refused("-1", "expected a CPU number", __LINE__);
    refused("0,", "found the end of the list", __LINE__);
    refused("0,,1", "offset 2", __LINE__);
    refused(",0", "offset 0", __LINE__);
    refused("1-", "range at offset 0 has no end", __LINE__);
    refused("3-1", "range 3-1 at offset 0 runs backwards; write 1-3", __LINE__);
    refused("1024", "beyond the 1024 CPUs supported", __LINE__);
    refused("0-1024", "beyond", __LINE__);
    refused("99999999999999999999999", "beyond", __LINE__);
    refused("0 1", "unexpected ' ' at offset 1", __LINE__);
    refused("1-2-3", "unexpected '-' at offset 3", __LINE__);
    refused("0;1", "unexpected ';'", __LINE__);
    refused("0\n1", "CPU list \"0?1\": unexpected byte 0x0a", __LINE__);
}

TEST(cpu_list_format_refuses_a_short_buffer)
{
    struct ap_cpuset set = {{0}};
    for (int c = 0; c < 40; c += 2)
        ap_cpuset_add(&set, c);
    ap_error *err = NULL;
    char small[8];
    CHECK(ap_cpuset_format(&set, small, sizeof(small), &err) == -1);
    CHECK(err != NULL && test_contains(err->msg, "CPU list"));
    CHECK(small[0] == '\0');
    ap_error_release(&err);

    /* Near the worst case (pairs with one-CPU gaps: 2668 bytes; the longest is 2673). */
    struct ap_cpuset worst = {{0}};
    for (int c = 0; c + 1 < AP_CPUSET_MAX; c += 3) {
        ap_cpuset_add(&worst, c);
        ap_cpuset_add(&worst, c + 1);
    }
    char out[AP_CPUSET_STRLEN];
    int n = ap_cpuset_format(&worst, out, sizeof(out), &err);
    CHECK_MSG(n == 2668, "n %d", n);
    ap_error_release(&err);

    struct ap_cpuset none = {{0}};
    CHECK(ap_cpuset_format(&none, out, sizeof(out), &err) == 0 && out[0] == '\0');
    CHECK(ap_cpuset_has(&none, -1) == 0 && ap_cpuset_has(&none, AP_CPUSET_MAX) == 0);
}

TEST(cpu_list_parse_array_keeps_order_and_refuses_past_the_limit)
{
    int cpus[4];
    size_t n = 0;
    ap_error *err = NULL;
    CHECK(ap_cpuset_parse_array("3,0-1", cpus, 4, &n, &err) == 0);
    CHECK_MSG(n == 3 && cpus[0] == 0 && cpus[1] == 1 && cpus[2] == 3, "n %zu", n);
    /* Control: the same list with room for two is refused, naming the limit. */
    CHECK(ap_cpuset_parse_array("3,0-1", cpus, 2, &n, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "more than 2 CPUs"), "%s",
              err ? err->msg : "(no error)");
    ap_error_release(&err);
    CHECK(ap_cpuset_parse_array("", cpus, 4, &n, &err) == -1 && n == 0);
    ap_error_release(&err);
}

TEST(cpu_pin_moves_the_thread_and_back)
{
    ap_error *err = NULL;
    struct ap_cpuset mine, one = {{0}}, home, now;
    if (!CHECK_MSG(ap_cpuset_affinity(&mine, &err) == 0, "%s", err ? err->msg : ""))
        return;
    int first = -1;
    for (int c = 0; c < AP_CPUSET_MAX && first < 0; c++)
        if (ap_cpuset_has(&mine, c))
            first = c;
    ap_cpuset_add(&one, first);
    CHECK(ap_cpuset_pin(&one, &home, &err) == 0);
    CHECK(ap_cpuset_affinity(&now, &err) == 0 && ap_cpuset_count(&now) == 1 &&
          ap_cpuset_has(&now, first));
    CHECK(memcmp(&home, &mine, sizeof(home)) == 0);
    CHECK(ap_cpuset_pin(&home, NULL, &err) == 0);
    CHECK(ap_cpuset_affinity(&now, &err) == 0 && memcmp(&now, &mine, sizeof(now)) == 0);
    /* Control: an empty set is refused by the kernel, and the error names it. */
    struct ap_cpuset none = {{0}};
    CHECK(ap_cpuset_pin(&none, NULL, &err) == -1);
    CHECK_MSG(err != NULL && err->status == EINVAL && test_contains(err->msg, "pinning to CPUs"),
              "%s", err ? err->msg : "(no error)");
    ap_error_release(&err);
    CHECK(ap_cpuset_affinity(&now, &err) == 0 && memcmp(&now, &mine, sizeof(now)) == 0);
}

/* ---- /proc/stat ------------------------------------------------------------------------ */

/* The CPU lists "1" and "0-1" of the synthetic texts. */
static void one_and_both(struct ap_cpuset *one, struct ap_cpuset *both)
{
    memset(one, 0, sizeof(*one));
    memset(both, 0, sizeof(*both));
    ap_cpuset_add(one, 1);
    ap_cpuset_add(both, 0);
    ap_cpuset_add(both, 1);
}

static const char stat_a[] = "cpu  1000 20 300 5000 40 5 6 7 0 0\n"
                             "cpu0 400 10 100 2500 20 2 3 3 0 0\n"
                             "cpu1 600 10 200 2500 20 3 3 4 0 0\n"
                             "intr 12345 0 0 1 2\n"
                             "ctxt 98765\n"
                             "btime 1700000000\n";
/* One second later at USER_HZ 100: CPU 0 idle, CPU 1 busy 80 ticks (user 50, system 20,
 * irq 4, softirq 6) with 10 ticks stolen; iowait of CPU 1 went backwards by 2. */
static const char stat_b[] = "cpu  1050 20 320 5110 58 9 12 17 0 0\n"
                             "cpu0 400 10 100 2600 20 2 3 3 0 0\n"
                             "cpu1 650 10 220 2510 18 7 9 14 0 0\n"
                             "intr 12399 0 0 1 2\n"
                             "ctxt 99999\n";

TEST(stat_parsing_sums_the_requested_cpus)
{
    ap_error *err = NULL;
    struct ap_cpuset one, both;
    one_and_both(&one, &both);
    struct ap_noise_times t;
    if (!CHECK_MSG(ap_noise_parse_stat(stat_a, &one, &t, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    CHECK(t.user == 600 && t.nice == 10 && t.system == 200 && t.idle == 2500);
    CHECK(t.iowait == 20 && t.irq == 3 && t.softirq == 3 && t.steal == 4);
    if (!CHECK(ap_noise_parse_stat(stat_a, &both, &t, &err) == 0))
        goto out;
    CHECK(t.user == 1000 && t.nice == 20 && t.system == 300 && t.idle == 5000);
    CHECK(t.iowait == 40 && t.irq == 5 && t.softirq == 6 && t.steal == 7);

    /* Old kernels: four fields only; the rest count 0. A last line without a newline. */
    if (CHECK(ap_noise_parse_stat("cpu 1 2 3 4\ncpu1 11 12 13 14", &one, &t, &err) == 0))
        CHECK(t.user == 11 && t.idle == 14 && t.iowait == 0 && t.steal == 0);
out:
    ap_error_release(&err);
}

enum parser { P_STAT, P_SCHEDSTAT, P_PERCPU };

/* Checks that parsing `text` (as /proc/stat, /proc/schedstat or cpuacct.usage_percpu) for CPU
 * list `cpus` fails with `reason` in the message, leaving the output alone. */
static void text_refused(enum parser p, const char *text, const char *cpus, const char *reason,
                         int line)
{
    ap_error *err = NULL;
    struct ap_cpuset set = {{0}};
    if (cpus[0] != '\0' && ap_cpuset_parse(cpus, &set, &err) < 0) {
        CHECK_MSG(0, "line %d: bad CPU list in the test", line);
        ap_error_release(&err);
        return;
    }
    struct ap_noise_times t = {.user = 42};
    uint64_t ns = 42;
    int r = p == P_STAT        ? ap_noise_parse_stat(text, &set, &t, &err)
            : p == P_SCHEDSTAT ? ap_noise_parse_schedstat(text, &set, &ns, &err)
                               : ap_noise_parse_percpu(text, &set, &ns, &err);
    if (CHECK_MSG(r == -1 && err != NULL, "line %d: accepted", line))
        CHECK_MSG(test_contains(err->msg, reason), "line %d: \"%s\", want \"%s\"", line, err->msg,
                  reason);
    CHECK_MSG(t.user == 42 && ns == 42, "line %d: output written on failure", line);
    ap_error_release(&err);
}

TEST(stat_parsing_errors)
{
    text_refused(P_STAT, stat_a, "2", "CPU 2 has no line in /proc/stat", __LINE__);
    text_refused(P_STAT, stat_a, "0-2", "is CPU 2 offline?", __LINE__);
    text_refused(P_STAT, stat_a, "", "the CPU list is empty", __LINE__);
    text_refused(P_STAT, "cpu 1 2 3 4\ncpu0 1 2 x 4\n", "0",
                 "line 2 of /proc/stat (CPU 0): field 3", __LINE__);
    text_refused(P_STAT, "cpu0 1 2 3\n", "0", "3 fields, want at least 4", __LINE__);
    text_refused(P_STAT, "cpu0 1 2 3 4\ncpu0 1 2 3 4\n", "0",
                 "line 2 of /proc/stat: a second line for CPU 0", __LINE__);
    text_refused(P_STAT, "cpu0 1 2 3 99999999999999999999999\n", "0", "field 4 is not a number",
                 __LINE__);
    text_refused(P_STAT, "cpu0 1 2 3 -4\n", "0", "field 4", __LINE__);
    /* A bad line for a CPU we did not ask about is still a sign the format is not ours. */
    text_refused(P_STAT, "cpu0 1 2 3 4\ncpu1 1 2 3 4 5z\n", "0", "line 2", __LINE__);
}

/* /proc/schedstat of version 17 (Linux 6.x): field 7 of a CPU line is the time tasks ran on it,
 * in ns; domain lines follow each CPU. */
static const char schedstat[] = "version 17\n"
                                "timestamp 4295123456\n"
                                "cpu0 0 0 0 0 0 0 1000000000 200 300\n"
                                "domain0 MC 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
                                "cpu1 0 0 0 0 0 0 3000000007 400 500\n"
                                "domain0 MC 3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

TEST(tasks_time_parsing)
{
    ap_error *err = NULL;
    struct ap_cpuset one, both;
    one_and_both(&one, &both);
    uint64_t ns = 0;
    CHECK_MSG(ap_noise_parse_schedstat(schedstat, &one, &ns, &err) == 0 && ns == 3000000007,
              "%llu %s", (unsigned long long)ns, err ? err->msg : "");
    CHECK(ap_noise_parse_schedstat(schedstat, &both, &ns, &err) == 0 && ns == 4000000007);
    text_refused(P_SCHEDSTAT, schedstat, "2", "CPU 2 has no line in /proc/schedstat", __LINE__);
    text_refused(P_SCHEDSTAT, schedstat, "", "the CPU list is empty", __LINE__);
    text_refused(P_SCHEDSTAT, "version 14\ncpu0 0 0 0 0 0 0 1 2 3\n", "0", "version 14: want 15",
                 __LINE__);
    text_refused(P_SCHEDSTAT, "cpu0 0 0 0 0 0 0 1 2 3\n", "0",
                 "line 1 of /proc/schedstat: a CPU line "
                 "before the version line",
                 __LINE__);
    text_refused(P_SCHEDSTAT, "version 15\ncpu0 0 0 0 0 0 0\n", "0", "(CPU 0): field 7 is missing",
                 __LINE__);
    text_refused(P_SCHEDSTAT, "version 15\ncpu0 0 0 0 0 0 0 x1 2 3\n", "0", "field 7", __LINE__);
    text_refused(P_SCHEDSTAT, "version 15\ncpu0 0 0 0 0 0 0 1\ncpu0 0 0 0 0 0 0 1\n", "0",
                 "a second line for CPU 0", __LINE__);

    CHECK(ap_noise_parse_percpu("100 200 300 \n", &one, &ns, &err) == 0 && ns == 200);
    CHECK(ap_noise_parse_percpu("100 200 300 \n", &both, &ns, &err) == 0 && ns == 300);
    text_refused(P_PERCPU, "100 200 300 \n", "0,3", "figures for 3 CPUs: none for CPU 3", __LINE__);
    text_refused(P_PERCPU, "100 2x0 300\n", "0", "the figure of CPU 1 is not a number", __LINE__);
    text_refused(P_PERCPU, "100\n", "", "the CPU list is empty", __LINE__);
    ap_error_release(&err);
}

TEST(interval_arithmetic_on_synthetic_snapshots)
{
    ap_error *err = NULL;
    struct ap_cpuset one, both;
    one_and_both(&one, &both);
    struct ap_noise_times a, b;
    if (!CHECK(ap_noise_parse_stat(stat_a, &one, &a, &err) == 0) ||
        !CHECK(ap_noise_parse_stat(stat_b, &one, &b, &err) == 0))
        goto out;

    struct ap_noise_report r;
    /* CPU 1 over one second: busy 50 + 0 + 20 + 4 + 6 = 80 ticks = 0.8 s; steal 10 ticks. Our
     * own workload used 0.3 s of it. */
    if (!CHECK_MSG(ap_noise_compute(&one, &a, &b, 1000000000, 100, 300000000, 0.75, 2, &r, &err) ==
                       0,
                   "%s", err ? err->msg : ""))
        goto out;
    CHECK(strcmp(r.cpus, "1") == 0 && r.ncpus == 1 && r.online_cpus == 2);
    CHECK(r.wall_ns == 1000000000 && r.interval_s == 1.0);
    CHECK_MSG(r.busy_ns == 800000000, "busy %lld", (long long)r.busy_ns);
    CHECK_MSG(r.steal_ns == 100000000, "steal %lld", (long long)r.steal_ns);
    CHECK(r.own_ns == 300000000);
    CHECK_MSG(r.others_ns == 500000000, "others %lld", (long long)r.others_ns);
    CHECK(fabs(r.busy_pct - 80) < 1e-9 && fabs(r.steal_pct - 10) < 1e-9);
    CHECK(fabs(r.others_pct - 50) < 1e-9);
    CHECK(r.load1 == 0.75);

    /* Both CPUs over half a second: the same 80 ticks of busy time against 2 x 0.5 s. */
    if (!CHECK(ap_noise_parse_stat(stat_a, &both, &a, &err) == 0) ||
        !CHECK(ap_noise_parse_stat(stat_b, &both, &b, &err) == 0) ||
        !CHECK(ap_noise_compute(&both, &a, &b, 500000000, 100, 0, 0, 2, &r, &err) == 0))
        goto out;
    CHECK(strcmp(r.cpus, "0-1") == 0 && r.ncpus == 2);
    CHECK(r.busy_ns == 800000000 && r.others_ns == 800000000 && r.steal_ns == 100000000);
    CHECK(fabs(r.others_pct - 80) < 1e-9 && fabs(r.steal_pct - 10) < 1e-9);

    /* Own time beyond the ticks (rounding) leaves others at 0, never negative. */
    if (CHECK(ap_noise_compute(&one, &a, &b, 1000000000, 100, 900000000, 0, 2, &r, &err) == 0))
        CHECK(r.others_ns == 0 && r.others_pct == 0);

    /* Other tick rates convert too: 80 ticks at 250 Hz are 0.32 s. */
    if (CHECK(ap_noise_compute(&one, &a, &b, 1000000000, 250, 0, 0, 2, &r, &err) == 0))
        CHECK(r.busy_ns == 320000000);

    /* With the scheduler's clock on both ends, others are the tasks' time less our own: 0.6 s of
     * tasks, 0.3 s ours, where the ticks (which count 0.1 s of interrupts, on idle or not) made
     * it 0.5 s. */
    a.source = b.source = AP_NOISE_CPUACCT;
    a.tasks_ns = 1000000000;
    b.tasks_ns = 1600000000;
    if (CHECK(ap_noise_compute(&both, &a, &b, 1000000000, 100, 300000000, 0, 2, &r, &err) == 0)) {
        CHECK(r.source == AP_NOISE_CPUACCT && r.tasks_ns == 600000000);
        CHECK_MSG(r.others_ns == 300000000 && fabs(r.others_pct - 15) < 1e-9, "others %lld",
                  (long long)r.others_ns);
        CHECK_MSG(r.busy_ns == 800000000 && r.irq_ns == 100000000, "irq %lld", (long long)r.irq_ns);
        cJSON *j = cJSON_CreateObject();
        if (CHECK(j != NULL && ap_noise_report_json(&r, j) == 0))
            CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "source")),
                         "cpuacct") == 0);
        cJSON_Delete(j);
        /* A sum takes only reports counted the same way. */
        struct ap_noise_report sum = r, ticks;
        b.source = AP_NOISE_TICKS;
        if (CHECK(ap_noise_compute(&both, &a, &b, 1000000000, 100, 300000000, 0, 2, &ticks, &err) ==
                  0)) {
            /* One end without the clock: the ticks, which both ends have. */
            CHECK(ticks.source == AP_NOISE_TICKS && ticks.others_ns == 500000000);
            CHECK(ap_noise_add(&sum, &ticks, &err) == -1);
            CHECK_MSG(err != NULL && test_contains(err->msg, "counted by ticks to a sum counted "
                                                             "by cpuacct"),
                      "%s", err ? err->msg : "");
            ap_error_release(&err);
            /* A refused report leaves the sum as it was. */
            CHECK(sum.wall_ns == 1000000000 && sum.tasks_ns == 600000000 && sum.intervals == 1);
        }
        CHECK(ap_noise_add(&sum, &r, &err) == 0 && sum.tasks_ns == 1200000000 &&
              sum.others_ns == 600000000);
    }
    /* By /proc/schedstat, the user and system ticks are the floor: 0.7 s of them (CPUs 0 and 1:
     * user 50 + 0, nice 0 + 0, system 20 + 0 ticks) where the switches counted 0.6 s. */
    a.source = b.source = AP_NOISE_SCHEDSTAT;
    if (CHECK(ap_noise_compute(&both, &a, &b, 1000000000, 100, 300000000, 0, 2, &r, &err) == 0))
        CHECK_MSG(r.tasks_ns == 700000000 && r.others_ns == 400000000, "tasks %lld",
                  (long long)r.tasks_ns);
    b.tasks_ns = 1900000000;
    if (CHECK(ap_noise_compute(&both, &a, &b, 1000000000, 100, 300000000, 0, 2, &r, &err) == 0))
        CHECK(r.tasks_ns == 900000000 && r.others_ns == 600000000);
    a.source = b.source = AP_NOISE_TICKS;

    /* Nonsense is refused. */
    struct ap_cpuset none = {{0}};
    CHECK(ap_noise_compute(&none, &a, &b, 1000000000, 100, 0, 0, 2, &r, &err) == -1);
    ap_error_release(&err);
    CHECK(ap_noise_compute(&one, &a, &b, 0, 100, 0, 0, 2, &r, &err) == -1);
    ap_error_release(&err);
    CHECK(ap_noise_compute(&one, &a, &b, 1000, 100, -1, 0, 2, &r, &err) == -1);
out:
    ap_error_release(&err);
}

TEST(loadavg_parsing)
{
    ap_error *err = NULL;
    double l = -1;
    CHECK(ap_noise_parse_loadavg("0.52 0.58 0.59 1/123 4567\n", &l, &err) == 0 && l == 0.52);
    CHECK(ap_noise_parse_loadavg("12.00 1 1 1/1 1", &l, &err) == 0 && l == 12.0);
    l = -1;
    CHECK(ap_noise_parse_loadavg("", &l, &err) == -1 && l == -1);
    ap_error_release(&err);
    CHECK(ap_noise_parse_loadavg("x 1 2", &l, &err) == -1);
    CHECK(err != NULL && test_contains(err->msg, "/proc/loadavg"));
    ap_error_release(&err);
    CHECK(ap_noise_parse_loadavg("1.5x 1 2", &l, &err) == -1);
    ap_error_release(&err);
    CHECK(ap_noise_parse_loadavg("-1 1 2", &l, &err) == -1);
    ap_error_release(&err);
}

/* ---- Judging ----------------------------------------------------------------------------- */

/* A report of an interval of `seconds` on ncpus CPUs at USER_HZ 100, as ap_noise_compute would
 * give it: long enough (1 s) to resolve the default threshold unless said otherwise. */
static struct ap_noise_report report_over(const char *cpus, int ncpus, double seconds,
                                          double others, double steal, double load1)
{
    struct ap_noise_report r = {.ncpus = ncpus, .online_cpus = 2, .interval_s = seconds};
    snprintf(r.cpus, sizeof(r.cpus), "%s", cpus);
    r.wall_ns = (int64_t)(seconds * 1e9);
    r.tick_ns = 10000000;
    r.intervals = 1;
    r.others_pct = others;
    r.steal_pct = steal;
    r.load1 = load1;
    return r;
}

static struct ap_noise_report report(const char *cpus, int ncpus, double others, double steal,
                                     double load1)
{
    return report_over(cpus, ncpus, 1.0, others, steal, load1);
}

TEST(judge_names_the_cpus_and_the_figures)
{
    char why[512];
    CHECK(AP_NOISE_FOREIGN_PCT >= 2 && AP_NOISE_FOREIGN_PCT <= 3);
    struct ap_noise_report r = report("1", 1, 2.0, 0.5, 0.3);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 0);
    CHECK_MSG(test_contains(why, "CPU 1 quiet over 1.00 s: other work 2.0 %, hypervisor steal "
                                 "0.5 %, load average 0.30 on 2 online CPUs"),
              "%s", why);

    r = report("1", 1, 20.0, 0.5, 0.3);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "CPU 1 noisy") &&
                  test_contains(why, "other work used 20.0 % of its time (more than 2.5 %)"),
              "%s", why);
    CHECK_MSG(!test_contains(why, "stole") && !test_contains(why, "load"), "%s", why);

    r = report("0-1", 2, 1.0, 7.5, 0.3);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "CPUs 0-1 noisy") &&
                  test_contains(why, "the hypervisor stole 7.5 % of their time (more than 2.5 %)"),
              "%s", why);

    r = report("0", 1, 1.0, 0.0, 2.5);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "load average is 2.50 on 2 online CPUs (more than 2)"), "%s", why);

    r = report("0", 1, 30.0, 9.0, 4.0);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "(more than 2.5 %); the hypervisor") &&
                  test_contains(why, "(more than 2.5 %); the 1-minute"),
              "%s", why);

    /* At the threshold is not above it; thresholds of 0 switch checks off; a stricter one. */
    r = report("0", 1, 2.5, 2.5, 2.0);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 0);
    r = report("0", 1, 2.6, 0, 0);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    struct ap_noise_thresholds off = {0, 0, 0};
    r = report("0", 1, 90.0, 50.0, 20.0);
    CHECK(ap_noise_judge(&r, &off, why, sizeof(why)) == 0);
    struct ap_noise_thresholds strict = {1.0, 0, 0};
    r = report_over("0", 1, 2.0, 2.0, 0, 0);
    CHECK(ap_noise_judge(&r, &strict, NULL, 0) == 1);

    /* A short buffer gets a terminated prefix. */
    char small[10];
    r = report("1", 1, 20.0, 0, 0);
    CHECK(ap_noise_judge(&r, NULL, small, sizeof(small)) == 1 && strlen(small) == 9);
}

TEST(resolution_of_the_ticks)
{
    /* One tick per CPU of the interval's time, whatever the number of CPUs. */
    struct ap_noise_report r = report_over("1", 1, 1.0, 0, 0, 0);
    CHECK(fabs(ap_noise_resolution_pct(&r) - 1.0) < 1e-9);
    r = report_over("0-3", 4, 0.1, 0, 0, 0);
    CHECK(fabs(ap_noise_resolution_pct(&r) - 10.0) < 1e-9);
    /* 0.8 s is the shortest single interval that resolves 2.5 % (half of it: 1.25 %). */
    r = report_over("1", 1, 0.8, 0, 0, 0);
    CHECK(ap_noise_resolves(&r, AP_NOISE_FOREIGN_PCT));
    r = report_over("1", 1, 0.79, 0, 0, 0);
    CHECK(!ap_noise_resolves(&r, AP_NOISE_FOREIGN_PCT));
    /* A sum: the square root of the intervals, so 16 runs of 0.1 s resolve 2.5 %. */
    r = report_over("1", 1, 1.6, 0, 0, 0);
    r.intervals = 16;
    CHECK(fabs(ap_noise_resolution_pct(&r) - 2.5) < 1e-9);
    CHECK(ap_noise_resolution_pct(&(struct ap_noise_report){.ncpus = 1}) == 100);
}

TEST(a_short_run_is_flagged_only_beyond_its_resolution)
{
    char why[512];
    /* 0.1 s on one CPU resolves 10 %: one tick of rounding (10 %) is not noise... */
    struct ap_noise_report r = report_over("1", 1, 0.1, 10.0, 0, 0);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 0);
    CHECK_MSG(test_contains(why, "CPU 1 quiet over 0.10 s (resolution 10.0 %)"), "%s", why);
    /* ... 12 % is within it too, but a hog that took most of the run is. */
    r = report_over("1", 1, 0.1, 12.0, 0, 0);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 0);
    r = report_over("1", 1, 0.1, 60.0, 0, 0);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "noisy over 0.10 s (resolution 10.0 %): other work used 60.0 %"),
              "%s", why);
}

/* /proc/stat of CPU 1 after `ticks` busy ticks and `idle` idle ones since the start. */
static void stat_text(char *buf, size_t len, unsigned busy, unsigned idle)
{
    snprintf(buf, len,
             "cpu  0 0 0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n"
             "cpu1 %u 0 0 %u 0 0 0 0 0 0\n",
             busy, idle);
}

/* The report of a 0.1 s run on CPU 1 in which `busy` of its 10 ticks were busy and `own_ms` of
 * the busy time was the run's own, from synthetic /proc/stat readings. */
static int short_run(unsigned busy0, unsigned busy, int64_t own_ms, struct ap_noise_report *r,
                     ap_error **err)
{
    struct ap_cpuset one = {{0}};
    ap_cpuset_add(&one, 1);
    char a[256], b[256];
    stat_text(a, sizeof(a), busy0, 1000 - busy0);
    stat_text(b, sizeof(b), busy0 + busy, 1000 - busy0 + 10 - busy);
    struct ap_noise_times t0, t1;
    if (ap_noise_parse_stat(a, &one, &t0, err) < 0 || ap_noise_parse_stat(b, &one, &t1, err) < 0)
        return -1;
    return ap_noise_compute(&one, &t0, &t1, 100000000, 100, own_ms * 1000000, 0, 2, r, err);
}

TEST(short_runs_are_judged_cumulatively)
{
    ap_error *err = NULL;
    char why[512];
    /* 16 runs of 0.1 s, each 9 ticks busy of which 80 ms were the run's own: one tick (10 %)
     * of other work in each, within the resolution of each run alone... */
    struct ap_noise_report sum = {0}, r;
    int alone_noisy = 0;
    for (unsigned i = 0; i < 16; i++) {
        if (!CHECK_MSG(short_run(i * 10, 9, 80, &r, &err) == 0, "%s", err ? err->msg : ""))
            goto out;
        CHECK(r.others_ns == 10000000 && fabs(r.others_pct - 10) < 1e-9 && r.intervals == 1);
        alone_noisy += ap_noise_judge(&r, NULL, NULL, 0);
        if (!CHECK(ap_noise_add(&sum, &r, &err) == 0))
            goto out;
    }
    CHECK_MSG(alone_noisy == 0, "%d of 16 short runs judged noisy alone", alone_noisy);
    /* ... but not together: 10 % of 1.6 s, resolved to 2.5 %. */
    CHECK(sum.intervals == 16 && sum.wall_ns == 1600000000 && sum.own_ns == 1280000000);
    CHECK(sum.busy_ns == 1440000000 && sum.others_ns == 160000000);
    CHECK(fabs(sum.others_pct - 10) < 1e-9);
    CHECK(ap_noise_judge(&sum, NULL, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "CPU 1 noisy over 16 runs, 1.60 s") &&
                  test_contains(why, "other work used 10.0 %"),
              "%s", why);

    /* Control: the same runs with all the busy time their own are quiet together too. */
    struct ap_noise_report clean = {0};
    for (unsigned i = 0; i < 16; i++) {
        if (!CHECK(short_run(i * 10, 9, 90, &r, &err) == 0) ||
            !CHECK(ap_noise_add(&clean, &r, &err) == 0))
            goto out;
    }
    CHECK(clean.others_ns == 0 && ap_noise_judge(&clean, NULL, why, sizeof(why)) == 0);

    /* Rounding that goes both ways cancels in the sum: runs whose own time exceeds their ticks
     * by a tick make up for runs one tick short. */
    struct ap_noise_report mixed = {0};
    for (unsigned i = 0; i < 16; i++) {
        if (!CHECK(short_run(i * 10, i % 2 ? 10 : 8, 90, &r, &err) == 0) ||
            !CHECK(ap_noise_add(&mixed, &r, &err) == 0))
            goto out;
    }
    CHECK_MSG(mixed.others_ns == 0, "others %lld", (long long)mixed.others_ns);

    /* Sums are of one CPU list. */
    struct ap_noise_report other = report("0", 1, 0, 0, 0);
    CHECK(ap_noise_add(&sum, &other, &err) == -1);
    CHECK(err != NULL && test_contains(err->msg, "CPUs 0 to that of CPUs 1"));
out:
    ap_error_release(&err);
}

TEST(speed_probe_slowdown)
{
    static struct ap_noise_speed_ref ref;
    memset(&ref, 0, sizeof(ref));
    int cpu = -2;
    int64_t ns = 0, usual = 0;
    /* No usual time yet: 0 % slow; the probes then set it. */
    struct ap_noise_speed a = {.n = 2, .cpu = {2, 3}, .ns = {2000000, 2100000}};
    struct ap_noise_speed b = {.n = 2, .cpu = {2, 3}, .ns = {2000000, 2200000}};
    CHECK(ap_noise_speed_slowdown(&a, &b, &ref, &cpu, &ns, &usual) == 0);
    CHECK(ap_noise_speed_usual(&ref, 2) == 2000000 && ap_noise_speed_usual(&ref, 3) == 2100000);
    CHECK(ap_noise_speed_usual(&ref, 4) == 0);
    /* CPU 3 20 % slower before the run and 12 % after: 12 % lasted; CPU 2 faster (its fastest
     * is its usual time while it has fewer than four probes). */
    a = (struct ap_noise_speed){.n = 2, .cpu = {2, 3}, .ns = {1900000, 2520000}};
    b = (struct ap_noise_speed){.n = 2, .cpu = {2, 3}, .ns = {1950000, 2352000}};
    double pct = ap_noise_speed_slowdown(&a, &b, &ref, &cpu, &ns, &usual);
    CHECK_MSG(fabs(pct - 12) < 1e-9 && cpu == 3 && ns == 2352000 && usual == 2100000,
              "%.3f on CPU %d against %lld", pct, cpu, (long long)usual);
    CHECK(ap_noise_speed_usual(&ref, 2) == 1950000); /* 1.9, 1.95, 2, 2: the lower quartile */
    /* One slow probe is a moment, not the run's: a hit before, none after. */
    a = (struct ap_noise_speed){.n = 1, .cpu = {3}, .ns = {4200000}};
    b = (struct ap_noise_speed){.n = 1, .cpu = {3}, .ns = {2100000}};
    CHECK(ap_noise_speed_slowdown(&a, &b, &ref, &cpu, &ns, NULL) == 0);
    /* A CPU in one probe only is left out. */
    b = (struct ap_noise_speed){.n = 1, .cpu = {2}, .ns = {9000000}};
    CHECK(ap_noise_speed_slowdown(&a, &b, &ref, NULL, NULL, NULL) == 0);

    /* The usual time is the lower quartile, not the fastest: a host whose loop takes 2.85 ms
     * with a rare quiet 2.57 ms does not call its usual 2.85 ms 11 % slow. */
    memset(&ref, 0, sizeof(ref));
    for (int i = 0; i < 40; i++) {
        a = (struct ap_noise_speed){.n = 1, .cpu = {1}, .ns = {i % 5 == 0 ? 2570000 : 2850000}};
        ap_noise_speed_slowdown(&a, &a, &ref, NULL, NULL, NULL);
    }
    CHECK(ap_noise_speed_usual(&ref, 1) == 2850000);
    CHECK(ap_noise_speed_slowdown(&a, &a, &ref, NULL, NULL, NULL) < 1e-9);
    /* ... while a run whose CPU was 20 % slower before and after still is slow. */
    a = (struct ap_noise_speed){.n = 1, .cpu = {1}, .ns = {3420000}};
    pct = ap_noise_speed_slowdown(&a, &a, &ref, &cpu, &ns, &usual);
    CHECK_MSG(fabs(pct - 20) < 1e-9 && cpu == 1 && usual == 2850000, "%.3f", pct);
    /* Only the last AP_NOISE_SPEED_KEEP probes count: a new level becomes the usual time. */
    for (int i = 0; i < AP_NOISE_SPEED_KEEP / 2; i++)
        ap_noise_speed_slowdown(&a, &a, &ref, NULL, NULL, NULL);
    CHECK(ap_noise_speed_usual(&ref, 1) == 3420000);

    char why[512];
    CHECK(ap_noise_speed_judge(12, 3, 2352000, 2100000, AP_NOISE_SLOWDOWN_PCT, why, sizeof(why)) ==
          1);
    CHECK_MSG(test_contains(why, "CPU 3 ran a fixed loop 12.0 % slower than its usual time") &&
                  test_contains(why, "before and after the run (2.35 ms against 2.10 ms, the "
                                     "lower quartile of its last probes; more than 10 %)") &&
                  test_contains(why, "without reporting steal"),
              "%s", why);
    CHECK(ap_noise_speed_judge(9.9, 3, 1, 1, AP_NOISE_SLOWDOWN_PCT, why, sizeof(why)) == 0);
    CHECK(ap_noise_speed_judge(50, 3, 1, 1, 0, NULL, 0) == 0);
}

TEST(speed_level_after_a_slow_run)
{
    /* This host's loop flips between about 2.56 and 2.94 ms for minutes: ten steady probes at
     * 2.92-2.96 ms are a level 14.8 % above the fastest 2.56 ms, within the 25 % of a state. */
    int64_t t[10] = {2930000, 2950000, 2920000, 2940000, 2960000,
                     2930000, 2950000, 2940000, 2920000, 2950000};
    int64_t level = 0;
    CHECK(ap_noise_speed_level(t, 10, 2560000, &level) == 1);
    CHECK_MSG(level == 2940000, "%lld", (long long)level);
    /* A hog that takes half the CPU: twice as slow is no state of the host's. */
    int64_t hog[10];
    for (int i = 0; i < 10; i++)
        hog[i] = 5120000 + i * 1000;
    CHECK(ap_noise_speed_level(hog, 10, 2560000, &level) == 0);
    /* Not steady: a neighbour coming and going (2.9 and 3.2 ms in turn, 10 % apart). */
    int64_t flip[10];
    for (int i = 0; i < 10; i++)
        flip[i] = i % 2 ? 2900000 : 3200000;
    CHECK(ap_noise_speed_level(flip, 10, 2700000, &level) == 0);
    /* Too few probes, or no fastest to compare with. */
    CHECK(ap_noise_speed_level(t, 3, 2560000, &level) == 0);
    CHECK(ap_noise_speed_level(t, 10, 0, &level) == 0);

    /* The rebase: the CPU's usual time becomes the level's lower quartile at once, its fastest
     * stays, and a CPU the reference does not know is refused. */
    struct ap_noise_speed_ref ref;
    memset(&ref, 0, sizeof(ref));
    struct ap_noise_speed a = {.n = 1, .cpu = {1}, .ns = {2560000}};
    for (int i = 0; i < 16; i++)
        ap_noise_speed_slowdown(&a, &a, &ref, NULL, NULL, NULL);
    CHECK(ap_noise_speed_usual(&ref, 1) == 2560000);
    CHECK(ap_noise_speed_rebase(&ref, 1, t, 10) == 0);
    CHECK_MSG(ap_noise_speed_usual(&ref, 1) == 2930000, "%lld",
              (long long)ap_noise_speed_usual(&ref, 1));
    CHECK(ap_noise_speed_fastest(&ref, 1) == 2560000);
    CHECK(ap_noise_speed_rebase(&ref, 7, t, 10) == -1);
    CHECK(ap_noise_speed_rebase(&ref, 1, t, 0) == -1);
    CHECK(ap_noise_speed_rebase(&ref, 1, t, AP_NOISE_SPEED_KEEP + 1) == -1);
    /* A run at the new level is not slow against it; one 20 % above it is. */
    a = (struct ap_noise_speed){.n = 1, .cpu = {1}, .ns = {2950000}};
    CHECK(ap_noise_speed_slowdown(&a, &a, &ref, NULL, NULL, NULL) < 1);
    a = (struct ap_noise_speed){.n = 1, .cpu = {1}, .ns = {3540000}};
    CHECK(ap_noise_speed_slowdown(&a, &a, &ref, NULL, NULL, NULL) > 15);
}

TEST(speed_probe_on_the_real_cpus)
{
    ap_error *err = NULL;
    struct ap_cpuset online;
    char list[AP_CPUSET_STRLEN];
    if (!CHECK(ap_cpuset_online(&online, &err) == 0) ||
        !CHECK(ap_cpuset_format(&online, list, sizeof(list), &err) > 0))
        goto out;
    cpu_set_t home, after;
    CHECK(sched_getaffinity(0, sizeof(home), &home) == 0);
    struct ap_noise_speed p;
    if (!CHECK_MSG(ap_noise_speed_probe(list, &p, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    CHECK(p.n == ap_cpuset_count(&online));
    for (int i = 0; i < p.n; i++) {
        test_note("CPU %d: fixed loop %.3f ms", p.cpu[i], (double)p.ns[i] / 1e6);
        /* 2^20 xorshift steps: at least 0.1 ms on any machine, under a second on any. */
        CHECK(p.ns[i] > 100000 && p.ns[i] < 1000000000);
    }
    /* The thread is back on its own CPUs. */
    CHECK(sched_getaffinity(0, sizeof(after), &after) == 0 && CPU_EQUAL(&home, &after));
    CHECK(ap_noise_speed_probe("1023", &p, &err) == -1);
    CHECK(err != NULL && test_contains(err->msg, "CPU 1023"));
out:
    ap_error_release(&err);
}

/* ---- The caches' share ---------------------------------------------------------------- */

TEST(chase_judge)
{
    char why[600];
    /* Steady: 18 chases within 30 %. */
    double steady[18];
    for (int i = 0; i < 18; i++)
        steady[i] = 20 + (i % 6);
    CHECK(ap_noise_chase_judge(steady, 18, AP_NOISE_CHASE_FACTOR, why, sizeof(why)) == 0);
    CHECK_MSG(test_contains(why, "20.0-25.0 ns a step") && test_contains(why, "over 18 chases"),
              "%s", why);
    /* One chase that met an interrupt does not make the caches shared... */
    steady[7] = 90;
    CHECK(ap_noise_chase_judge(steady, 18, AP_NOISE_CHASE_FACTOR, why, sizeof(why)) == 0);
    /* ...two do, and the sentence names the figures. */
    steady[11] = 60;
    CHECK(ap_noise_chase_judge(steady, 18, AP_NOISE_CHASE_FACTOR, why, sizeof(why)) == 1);
    CHECK_MSG(test_contains(why, "caches were shared") && test_contains(why, "20.0-60.0 ns") &&
                  test_contains(why, "4 MiB") && test_contains(why, "more than 2x apart"),
              "%s", why);
    /* Exactly at the factor is steady. */
    double edge[3] = {10, 20, 20};
    CHECK(ap_noise_chase_judge(edge, 3, 2.0, why, sizeof(why)) == 0);
    edge[1] = 20.5;
    edge[2] = 20.5;
    CHECK(ap_noise_chase_judge(edge, 3, 2.0, NULL, 0) == 1);
    /* Too few to judge. */
    CHECK(ap_noise_chase_judge(edge, 1, 2.0, why, sizeof(why)) == 0);
    CHECK_MSG(test_contains(why, "too few"), "%s", why);
}

/* The chase on the real machine: a step through 4 MiB costs more than a step through data in
 * the L1 (the register loop's 3 xorshift operations a step) and less than a millisecond; the
 * thread goes back to its CPUs; a CPU that is not ours is refused. */
TEST(chase_on_the_real_cpus)
{
    ap_error *err = NULL;
    cpu_set_t home, after;
    CHECK(sched_getaffinity(0, sizeof(home), &home) == 0);
    int cpu = -1;
    for (int c = CPU_SETSIZE - 1; c >= 0 && cpu < 0; c--)
        if (CPU_ISSET(c, &home))
            cpu = c;
    double ns[3];
    if (!CHECK_MSG(ap_noise_chase(cpu, 3, 1, ns, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    char list[16];
    snprintf(list, sizeof(list), "%d", cpu);
    struct ap_noise_speed p;
    if (!CHECK_MSG(ap_noise_speed_probe(list, &p, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    double loop_step = (double)p.ns[0] / (double)AP_NOISE_PROBE_STEPS;
    test_note("CPU %d: %.1f %.1f %.1f ns a step of the chase through %u MiB; %.2f ns a step of the "
              "register loop",
              cpu, ns[0], ns[1], ns[2], AP_NOISE_CHASE_BYTES >> 20, loop_step);
    for (int i = 0; i < 3; i++)
        CHECK_MSG(ns[i] > loop_step && ns[i] < 1e6, "chase %d: %.2f ns", i, ns[i]);
    CHECK(sched_getaffinity(0, sizeof(after), &after) == 0 && CPU_EQUAL(&home, &after));
    CHECK(ap_noise_chase(1023, 1, 0, ns, &err) == -1);
    CHECK(err != NULL && test_contains(err->msg, "CPU 1023"));
out:
    ap_error_release(&err);
}

/* ---- The real machine -------------------------------------------------------------------- */

TEST(real_proc_files_read)
{
    ap_error *err = NULL;
    struct ap_cpuset online;
    if (!CHECK_MSG(ap_cpuset_online(&online, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    CHECK_MSG(ap_cpuset_count(&online) == sysconf(_SC_NPROCESSORS_ONLN), "%d online",
              ap_cpuset_count(&online));
    struct ap_noise_times t;
    CHECK_MSG(ap_noise_read_stat(&online, &t, &err) == 0 && t.user + t.system + t.idle > 0, "%s",
              err ? err->msg : "");
    double l = -1;
    CHECK(ap_noise_read_loadavg(&l, &err) == 0 && l >= 0);

    char list[AP_CPUSET_STRLEN];
    if (!CHECK(ap_cpuset_format(&online, list, sizeof(list), &err) > 0))
        goto out;
    struct ap_noise_report r;
    CHECK(ap_noise_quiet_check(list, 0, &r, &err) == -1);
    ap_error_release(&err);
    CHECK(ap_noise_quiet_check(list, 61, &r, &err) == -1);
    ap_error_release(&err);
    struct ap_noise_snapshot snap;
    CHECK(ap_noise_begin("1023", &snap, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "CPU 1023 has no line"), "%s",
              err ? err->msg : "");
    ap_error_release(&err);
    CHECK(ap_noise_begin("0-", &snap, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "starting the noise measurement: CPU list"),
              "%s", err ? err->msg : "");
    ap_error_release(&err);

    /* A short real interval: figures in range, whatever else the machine is doing. */
    if (!CHECK_MSG(ap_noise_quiet_check(list, 0.05, &r, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    CHECK(r.wall_ns >= 50000000 && r.wall_ns < 5000000000);
    CHECK(r.ncpus == ap_cpuset_count(&online) && r.online_cpus == r.ncpus);
    CHECK(r.busy_pct >= 0 && r.others_pct >= 0 && r.steal_pct >= 0 && r.own_ns == 0);
    CHECK(r.others_ns == (r.source == AP_NOISE_TICKS ? r.busy_ns : r.tasks_ns));
    CHECK(strcmp(r.cpus, list) == 0);
    /* The scheduler's clock is used wherever this kernel shows it per CPU. */
    char path[512];
    snprintf(path, sizeof(path), "%s/cpuacct/cpuacct.usage_percpu", ap_cgroup_root());
    enum ap_noise_source want = access(path, R_OK) == 0                ? AP_NOISE_CPUACCT
                                : access("/proc/schedstat", R_OK) == 0 ? AP_NOISE_SCHEDSTAT
                                                                       : AP_NOISE_TICKS;
    CHECK_MSG(r.source == want, "source %s, want %s", ap_noise_source_name(r.source),
              ap_noise_source_name(want));
    test_note("other work is counted by %s here", ap_noise_source_name(r.source));

    /* What results.json gets. */
    cJSON *j = cJSON_CreateObject();
    if (CHECK(j != NULL && ap_noise_report_json(&r, j) == 0)) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cpus");
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(j, "others_pct");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "wall_ns");
        CHECK(cJSON_IsString(c) && strcmp(c->valuestring, list) == 0);
        CHECK(cJSON_IsNumber(o) && o->valuedouble == r.others_pct);
        CHECK(cJSON_IsNumber(w) && w->valuedouble == (double)r.wall_ns);
        CHECK(cJSON_GetArraySize(j) == 19);
    }
    cJSON_Delete(j);
out:
    ap_error_release(&err);
}

/* A child process spinning on one CPU; killed and reaped when the variable leaves scope. */
struct hog {
    pid_t pid;
};

static void hog_stop(struct hog *h)
{
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGKILL);
    while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    h->pid = -1;
}

/* Starts a process that spins on `cpu` for at most 20 s and returns once it runs there. */
static int hog_start(struct hog *h, int cpu)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    h->pid = fork();
    if (h->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (h->pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || sched_setaffinity(0, sizeof(set), &set) < 0)
            _exit(1);
        /* Best effort: the hog should win its CPU from whatever else the machine runs, so the
         * test sees the hog and not the neighbours. */
        setpriority(PRIO_PROCESS, 0, -20);
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        volatile unsigned long spins = 0;
        do {
            for (int i = 0; i < 100000; i++)
                spins++;
            clock_gettime(CLOCK_MONOTONIC, &now);
        } while (now.tv_sec - start.tv_sec < 20);
        _exit(0);
    }
    close(fds[1]);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    char c;
    int ok = poll(&p, 1, 5000) == 1 && read(fds[0], &c, 1) == 1;
    close(fds[0]);
    if (!ok) {
        hog_stop(h);
        return -1;
    }
    return 0;
}

static int64_t clock_ns(clockid_t clk)
{
    struct timespec ts;
    if (clock_gettime(clk, &ts) < 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The CPU we may run on that other work uses least, by quiet checks of 0.2 s each (a few
 * rounds until one is below 5 %), with its figure in *others_pct. Other people's benchmarks
 * pin themselves to CPUs, and a pinned neighbour would share the hog's CPU whatever its
 * priority. */
static int quietest_cpu(double *others_pct)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) < 0)
        return -1;
    int best = -1;
    *others_pct = 1e9;
    for (int round = 0; round < 5 && *others_pct >= 5; round++) {
        for (int c = CPU_SETSIZE - 1; c >= 0 && c < AP_CPUSET_MAX; c--) {
            if (!CPU_ISSET(c, &set))
                continue;
            char list[16];
            snprintf(list, sizeof(list), "%d", c);
            struct ap_noise_report r;
            ap_error *err = NULL;
            if (ap_noise_quiet_check(list, 0.2, &r, &err) < 0) {
                ap_error_release(&err);
                continue;
            }
            if (r.others_pct < *others_pct) {
                best = c;
                *others_pct = r.others_pct;
            }
        }
    }
    return best;
}

TEST(guard_fires_on_a_cpu_hog_and_not_on_our_own_work)
{
    ap_error *err = NULL;
    double before;
    int cpu = quietest_cpu(&before);
    if (!CHECK(cpu >= 0))
        return;
    test_note("CPU %d before the hog: others %.1f %%", cpu, before);
    char cpus[16];
    snprintf(cpus, sizeof(cpus), "%d", cpu);
    struct hog hog __attribute__((cleanup(hog_stop))) = {-1};
    if (!CHECK(hog_start(&hog, cpu) == 0))
        return;

    /* Nothing of ours is declared: the hog is somebody else's work. */
    struct ap_noise_report r;
    char why[512];
    if (!CHECK_MSG(ap_noise_quiet_check(cpus, 0.3, &r, &err) == 0, "%s", err ? err->msg : ""))
        goto out;
    test_note("hog undeclared on CPU %d: busy %.1f %%, others %.1f %%, steal %.1f %%", cpu,
              r.busy_pct, r.others_pct, r.steal_pct);
    CHECK_MSG(r.others_pct > 50, "others %.1f %%", r.others_pct);
    CHECK(ap_noise_judge(&r, NULL, why, sizeof(why)) == 1);
    char cpu_name[32];
    snprintf(cpu_name, sizeof(cpu_name), "CPU %d noisy", cpu);
    CHECK_MSG(test_contains(why, cpu_name) && test_contains(why, "other work used"), "%s", why);

    /* The hog's CPU time over the interval declared as our own: what is left is the rest of
     * the machine's work on that CPU, which the nice -20 hog crowds out. A neighbour may still
     * take the CPU for a while: a few attempts, each one checked for consistency. */
    clockid_t clk;
    if (!CHECK(clock_getcpuclockid(hog.pid, &clk) == 0))
        goto out;
    int quiet = 0;
    for (int attempt = 0; attempt < 5 && !quiet; attempt++) {
        struct ap_noise_snapshot snap;
        if (!CHECK_MSG(ap_noise_begin(cpus, &snap, &err) == 0, "%s", err ? err->msg : ""))
            goto out;
        int64_t c0 = clock_ns(clk);
        struct timespec d = {0, 300000000};
        while (nanosleep(&d, &d) < 0 && errno == EINTR)
            ;
        int64_t c1 = clock_ns(clk);
        if (!CHECK(c0 >= 0 && c1 >= c0) ||
            !CHECK_MSG(ap_noise_end(&snap, c1 - c0, &r, &err) == 0, "%s", err ? err->msg : ""))
            goto out;
        test_note("hog declared (attempt %d): own %.1f %%, busy %.1f %%, others %.1f %%, steal "
                  "%.1f %%",
                  attempt + 1, 100.0 * (double)r.own_ns / (double)r.wall_ns, r.busy_pct,
                  r.others_pct, r.steal_pct);
        /* Whatever the neighbours do: the hog ran, and its CPU time shows in the busy ticks of
         * the CPU it is pinned to (less a tick or two of rounding), so the right /proc/stat
         * line was read and ticks were converted to the caller's unit. */
        CHECK_MSG(r.own_ns > r.wall_ns / 4, "own %lld ns of %lld", (long long)r.own_ns,
                  (long long)r.wall_ns);
        CHECK_MSG(r.busy_ns >= r.own_ns - 30000000, "busy %lld ns < own %lld ns",
                  (long long)r.busy_ns, (long long)r.own_ns);
        /* The scheduler's clock saw the hog's time too. A running task's time reaches the
         * per-CPU counters at the next scheduler tick (4-10 ms), while its own clock is read
         * up to the moment: a tick of lag is allowed. */
        int64_t all = r.source == AP_NOISE_TICKS ? r.busy_ns : r.tasks_ns;
        if (r.source != AP_NOISE_TICKS)
            CHECK_MSG(r.tasks_ns >= r.own_ns - 10000000, "tasks %lld ns < own %lld ns",
                      (long long)r.tasks_ns, (long long)r.own_ns);
        CHECK(r.others_ns == (all > r.own_ns ? all - r.own_ns : 0));
        /* Only the figure under test: the load average and steal are the machine's. */
        struct ap_noise_thresholds others_only = AP_NOISE_THRESHOLDS_DEFAULT;
        others_only.steal_pct = others_only.load_per_cpu = 0;
        quiet = ap_noise_judge(&r, &others_only, why, sizeof(why)) == 0;
    }
    if (before < 5)
        CHECK_MSG(quiet && r.others_pct <= 10, "%s", why);
    else
        test_note("every CPU had other work before the hog started (at least %.1f %%): whether "
                  "declaring the hog leaves CPU %d quiet cannot be told on this machine now",
                  before, cpu);
out:
    ap_error_release(&err);
}
