/* figures: the figures `appliance bench` reads from a sandboxed run, for workloads of known
 * size, through the library calls the bench makes: ap_sandbox_run's record (cgroup CPU time
 * and memory peak, the command's maxrss and exec-to-exit time: a CPU task's figures), and
 * while a server or a holding process runs, ap_sandbox_live_stats (memory current, the
 * inactive file cache in memory.stat, the peak so far, CPU so far) and the PSS, USS and RSS
 * that ap_procmem_sum adds up over ap_sandbox_live_pids (a server's figures), with the
 * bench's readiness probe (ap_load_probe) for the HTTP servers.
 *
 * tests/integration/70-cgroup-v2-vm.sh runs it on the host (whatever cgroup version that has)
 * and in its cgroup v2 VM (tests/vm/init.sh checks the figures there), then compares the two.
 *
 * Usage: figures [--scratch DIR] [--go DIR] [--python DIR] [--scripts DIR] [CASE...]
 *   --scratch  a root holding the static tests/vm/probe.c at /probe
 *   --go       a root holding go-1.23-static's /usr/local/bin/hello and
 *              /usr/local/bin/servers/nethttp
 *   --python   the python-3.13 image's root
 *   --scripts  a directory holding status-http-server.py, bound at /tmp/t
 * Runs every case whose root is given (or only the CASEs named), one sandbox each, and prints
 * one line per case: "figure NAME key=value ..." (sizes in bytes, times in ns; "out" is the
 * command's first line with blanks as '_'), and for spin300 the noise guard's figures over its
 * run on every online CPU: "noise spin300 source=... tasks_ns=... own_ns=... ...". Exit status: 0 when every case ran, 1 when one
 * could not (said on stderr), 2 on a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench/loadgen.h"
#include "bench/noise.h"
#include "core/clock.h"
#include "bench/procmem.h"
#include "core/error.h"
#include "sandbox/sandbox.h"

#define MiB (1ll << 20)
/* The bench's limits for a server (bench.json's server_memory is larger: the VM is small). */
#define MEMORY_LIMIT (256 * MiB)
#define PIDS_MAX 512
/* After a server answers or a probe says it holds its pages: time for a runtime's start-up
 * work to end before the idle figures are read. */
#define SETTLE_MS 500
#define READY_TIMEOUT_S 60

enum root { R_SCRATCH, R_GO, R_PYTHON, R_N };
enum mode {
    M_TASK,  /* runs to its exit: the record's figures */
    M_READY, /* live figures once the command printed a line starting with `ready` */
    M_HTTP,  /* live figures once the command answers the bench's probe on 127.0.0.1:port */
};

/* Python allocates MiB MiB, every page written: b'x' * n fills a new bytes object. */
#define PY_ALLOC                                                                                   \
    "import sys; b = b'x' * (int(sys.argv[1]) << 20); print('allocated', len(b) >> 20, 'MiB')"

static const struct fig_case {
    const char *name;
    enum root root;
    enum mode mode;
    const char *ready; /* M_READY */
    int port;          /* M_HTTP */
    const char *argv[8];
} cases[] = {
    {"alloc16", R_SCRATCH, M_TASK, NULL, 0, {"/probe", "alloc", "16"}},
    {"alloc64", R_SCRATCH, M_TASK, NULL, 0, {"/probe", "alloc", "64"}},
    {"spin0", R_SCRATCH, M_TASK, NULL, 0, {"/probe", "spin", "0"}},
    {"spin300", R_SCRATCH, M_TASK, NULL, 0, {"/probe", "spin", "300"}},
    {"hold64", R_SCRATCH, M_READY, "holding", 0, {"/probe", "hold", "64"}},
    {"share32", R_SCRATCH, M_READY, "sharing", 0, {"/probe", "share", "32"}},
    {"go-hello", R_GO, M_TASK, NULL, 0, {"/usr/local/bin/hello"}},
    {"go-nethttp",
     R_GO,
     M_HTTP,
     NULL,
     8080,
     {"/usr/local/bin/servers/nethttp", "-addr", "127.0.0.1:8080", "-workers", "1"}},
    {"py-alloc16", R_PYTHON, M_TASK, NULL, 0, {"/usr/bin/python3.13", "-c", PY_ALLOC, "16"}},
    {"py-alloc64", R_PYTHON, M_TASK, NULL, 0, {"/usr/bin/python3.13", "-c", PY_ALLOC, "64"}},
    {"py-server",
     R_PYTHON,
     M_HTTP,
     NULL,
     8080,
     {"/usr/bin/python3.13", "/tmp/t/status-http-server.py", "ok", "8080", "60"}},
};

/* The images' environments (image.json's env), and no bytecode written into the read-only
 * root. */
static char go_path[] = "PATH=/usr/local/bin";
static char py_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
static char py_lang[] = "LANG=C.UTF-8", py_nopyc[] = "PYTHONDONTWRITEBYTECODE=1";
static char *env_go[] = {go_path, NULL};
static char *env_py[] = {py_path, py_lang, py_nopyc, NULL};

/* One run: the sandbox on a thread of its own, the live figures read from this one. */
struct run {
    const struct fig_case *c;
    struct ap_sandbox_spec spec;
    struct ap_run_record rec;
    ap_error *err;
    int rc;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int execd, finished;
    pid_t init_pid;
    struct ap_sandbox_live *live;
    /* Live figures, once read. */
    struct ap_cgroup_stats st;
    int have_st;
    struct ap_procmem pm;
    int have_pm;
    long threads; /* of the processes PSS is summed over */
    char out[128];
};

static void on_exec(void *ctx, pid_t pid, struct ap_sandbox_live *live)
{
    struct run *r = ctx;
    pthread_mutex_lock(&r->mu);
    r->init_pid = pid;
    r->live = live;
    r->execd = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *run_main(void *arg)
{
    struct run *r = arg;
    r->rc = ap_sandbox_run(&r->spec, &r->rec, &r->err);
    pthread_mutex_lock(&r->mu);
    r->finished = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Waits for on_exec (or the run's end); 0 once the command runs. */
static int wait_exec(struct run *r)
{
    pthread_mutex_lock(&r->mu);
    while (!r->execd && !r->finished)
        pthread_cond_wait(&r->cv, &r->mu);
    int ok = r->execd;
    pthread_mutex_unlock(&r->mu);
    return ok ? 0 : -1;
}

/* Reads fd (non-blocking) into r->out until a line starting with `ready` or the deadline. */
static int wait_line(struct run *r, int fd, const char *ready, int64_t deadline_ns)
{
    size_t len = strlen(r->out);
    for (;;) {
        char *nl = strchr(r->out, '\n');
        if (nl != NULL && strncmp(r->out, ready, strlen(ready)) == 0)
            return 0;
        if (nl != NULL || len + 1 >= sizeof(r->out))
            return -1; /* a first line that is not the one awaited */
        int64_t left = deadline_ns - ap_clock_mono_ns();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = poll(&p, 1, (int)(left / 1000000) + 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        ssize_t got = read(fd, r->out + len, sizeof(r->out) - 1 - len);
        if (got <= 0)
            return -1;
        len += (size_t)got;
        r->out[len] = '\0';
    }
}

static int wait_http(struct run *r, ap_error **err)
{
    char ns[64];
    snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)r->init_pid);
    int netns = open(ns, O_RDONLY | O_CLOEXEC);
    int pidfd = (int)syscall(SYS_pidfd_open, r->init_pid, 0);
    struct ap_load_probe_spec probe = {
        .addr = "127.0.0.1",
        .port = (uint16_t)r->c->port,
        .path = "/json",
        .netns_fd = netns,
        .deadline_ns = ap_clock_mono_ns() + READY_TIMEOUT_S * 1000000000ll,
        .pidfd = pidfd,
    };
    struct ap_load_probe_result pr;
    int rc = netns < 0 || pidfd < 0 ? ap_error_make(err, errno, "opening %s", ns)
                                    : ap_load_probe(&probe, &pr, err);
    if (netns >= 0)
        close(netns);
    if (pidfd >= 0)
        close(pidfd);
    return rc;
}

/* The live figures, as the bench reads them (server.c): the cgroup's, and PSS/USS/RSS summed
 * over the sandbox's processes but its init. */
/* Threads of pid (its /proc/PID/status), 0 when it is gone. */
static long threads_of(pid_t pid)
{
    char path[64], line[256];
    long n = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "Threads: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

static void read_live(struct run *r)
{
    ap_error *e = NULL;
    r->have_st = ap_sandbox_live_stats(r->live, &r->st, &e) == 0;
    ap_error_release(&e);
    pid_t pids[256];
    size_t n = 0;
    r->have_pm = ap_sandbox_live_pids(r->live, pids, 256, &n, &e) == 0 &&
                 ap_procmem_sum(pids, n < 256 ? n : 256, r->init_pid, &r->pm, &e) == 0;
    for (size_t i = 0; r->have_pm && i < n && i < 256; i++)
        if (pids[i] != r->init_pid)
            r->threads += threads_of(pids[i]);
    if (!r->have_pm)
        fprintf(stderr, "figures: %s: PSS: %s\n", r->c->name, e != NULL ? e->msg : "?");
    ap_error_release(&e);
}

static void print_figures(const struct run *r)
{
    const struct ap_run_record *x = &r->rec;
    char out[64];
    size_t k = 0;
    for (const char *p = r->out; *p && *p != '\n' && k + 1 < sizeof(out); p++)
        out[k++] = *p == ' ' || *p == '\t' ? '_' : *p;
    out[k] = '\0';
    printf("figure %s cgroup=%s exit=%d signal=%d oom=%d wall_ns=%lld run_ns=%lld cpu_ns=%lld "
           "cpu_user_ns=%lld cpu_system_ns=%lld ru_cpu_ns=%lld peak=%lld maxrss=%lld",
           r->c->name, x->cgroup_backend ? x->cgroup_backend : "?", x->exited ? x->exit_code : -1,
           x->term_signal, x->oom_killed, (long long)x->wall_ns, (long long)x->run_ns,
           (long long)x->cpu_total_ns, (long long)x->cpu_user_ns, (long long)x->cpu_system_ns,
           (long long)(x->ru_user_ns + x->ru_system_ns), (long long)x->memory_peak_bytes,
           (long long)x->maxrss_bytes);
    if (r->have_st)
        printf(" live_current=%lld live_inactive_file=%lld live_working_set=%lld live_peak=%lld "
               "live_cpu_ns=%lld",
               (long long)r->st.memory_current_bytes, (long long)r->st.memory_inactive_file_bytes,
               (long long)(r->st.memory_current_bytes - r->st.memory_inactive_file_bytes),
               (long long)r->st.memory_peak_bytes, (long long)r->st.cpu_usage_ns);
    if (r->have_pm)
        printf(" pss=%lld uss=%lld rss=%lld processes=%zu threads=%ld", (long long)r->pm.pss_bytes,
               (long long)r->pm.uss_bytes, (long long)r->pm.rss_bytes, r->pm.processes, r->threads);
    printf(" out=%s\n", out[0] ? out : "-");
    fflush(stdout);
}

/* The spec the bench gives a run (runner.c's attempt): nobody, the default seccomp profile, a
 * memory and a pids limit, the network a server needs. */
static void make_spec(struct run *r, const char *root, const struct ap_bind *bind, char **argv,
                      const struct ap_seccomp *filter, int stdout_fd, int stderr_fd, int stop_fd)
{
    int py = r->c->root == R_PYTHON;
    r->spec = (struct ap_sandbox_spec){
        .rootfs = root,
        .argv = argv,
        .envp = py ? env_py : env_go,
        .workdir = "/",
        .uid = 65534,
        .gid = 65534,
        .binds = py && bind->src != NULL ? bind : NULL,
        .n_binds = py && bind->src != NULL ? 1 : 0,
        .net = r->c->mode == M_HTTP ? AP_NET_LOOPBACK : AP_NET_NONE,
        .limits = {.memory_bytes = MEMORY_LIMIT, .pids_max = PIDS_MAX},
        .timeout_s = 120,
        .seccomp = filter,
        .stdin_fd = -1,
        .stdout_fd = stdout_fd,
        .stderr_fd = stderr_fd,
        .on_exec = on_exec,
        .ctx = r,
        .stop_fd = stop_fd,
    };
}

/* A server or holding process: waits until it is ready, lets it settle, reads its live
 * figures, then stops its sandbox. 0 when the figures were read. */
static int live_figures(struct run *r, int out_fd, int stop_fd)
{
    ap_error *err = NULL;
    int64_t deadline = ap_clock_mono_ns() + READY_TIMEOUT_S * 1000000000ll;
    int rc = wait_exec(r);
    if (rc == 0)
        rc = r->c->mode == M_READY ? wait_line(r, out_fd, r->c->ready, deadline)
                                   : wait_http(r, &err);
    if (rc < 0) {
        fprintf(stderr, "figures: %s never got ready%s%s\n", r->c->name, err ? ": " : "",
                err ? err->msg : "");
    } else {
        struct timespec ts = {SETTLE_MS / 1000, (SETTLE_MS % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        read_live(r);
    }
    ap_error_release(&err);
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof(one)) < 0)
        perror("figures: stopping the sandbox");
    return rc;
}

/* What is left of the command's output after its run (a few bytes: the pipe never fills). */
static void read_rest(struct run *r, int fd)
{
    size_t len = strlen(r->out);
    ssize_t got;
    while (len + 1 < sizeof(r->out) && (got = read(fd, r->out + len, sizeof(r->out) - 1 - len)) > 0)
        len += (size_t)got;
    r->out[len] = '\0';
}

/* Runs one case in a fresh sandbox; 0 when it ran and its figures are printed. *cpu_ns (may be
 * NULL) gets the run's cgroup CPU time. */
static int run_case(const struct fig_case *c, const char *root, const char *scripts,
                    const struct ap_seccomp *filter, int64_t *cpu_ns)
{
    struct run r;
    memset(&r, 0, sizeof(r));
    r.c = c;
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    int out_p[2];
    int stop = eventfd(0, EFD_CLOEXEC);
    int errfd = memfd_create("stderr", MFD_CLOEXEC);
    if (stop < 0 || errfd < 0 || pipe2(out_p, O_CLOEXEC) < 0) {
        perror("figures: eventfd, memfd or pipe");
        return -1;
    }
    fcntl(out_p[0], F_SETFL, O_NONBLOCK);
    char *argv[8] = {NULL};
    for (size_t k = 0; k + 1 < 8 && c->argv[k] != NULL; k++)
        argv[k] = strdup(c->argv[k]);
    struct ap_bind bind = {scripts, "/tmp/t", 1};
    make_spec(&r, root, &bind, argv, filter, out_p[1], errfd, stop);
    pthread_t th;
    int started = pthread_create(&th, NULL, run_main, &r) == 0;
    if (!started)
        perror("figures: pthread_create");
    int ok = started && (c->mode == M_TASK || live_figures(&r, out_p[0], stop) == 0);
    if (started)
        pthread_join(th, NULL);
    close(out_p[1]);
    read_rest(&r, out_p[0]);
    if (r.rc < 0)
        fprintf(stderr, "figures: %s: %s\n", c->name, r.err ? r.err->msg : "failed");
    else if (started)
        print_figures(&r);
    int failed = !ok || r.rc < 0 || (c->mode == M_TASK && (!r.rec.exited || r.rec.exit_code));
    if (cpu_ns != NULL)
        *cpu_ns = r.rec.cpu_total_ns;
    char tail[400];
    ssize_t n = failed ? pread(errfd, tail, sizeof(tail), 0) : 0;
    if (n > 0)
        fprintf(stderr, "figures: %s: its stderr: %.*s\n", c->name, (int)n, tail);
    ap_error_release(&r.err);
    for (size_t k = 0; argv[k] != NULL; k++)
        free(argv[k]);
    close(out_p[0]);
    close(stop);
    close(errfd);
    return failed ? -1 : 0;
}

/* The time tasks ran on the CPUs by /proc/schedstat alone (the guard takes the larger of it
 * and the ticks), so that the VM shows whether the kernel's counter moves. */
static int read_schedstat(const struct ap_cpuset *cpus, uint64_t *ns)
{
    static char buf[1 << 16];
    FILE *f = fopen("/proc/schedstat", "re");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    ap_error *err = NULL;
    int rc = ap_noise_parse_schedstat(buf, cpus, ns, &err);
    ap_error_release(&err);
    return rc;
}

static int wanted(const struct fig_case *c, char **names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], c->name) == 0)
            return 1;
    return n == 0;
}

int main(int argc, char **argv)
{
    const char *roots[R_N] = {NULL}, *scripts = NULL;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--scratch") == 0)
            roots[R_SCRATCH] = argv[i + 1];
        else if (strcmp(argv[i], "--go") == 0)
            roots[R_GO] = argv[i + 1];
        else if (strcmp(argv[i], "--python") == 0)
            roots[R_PYTHON] = argv[i + 1];
        else if (strcmp(argv[i], "--scripts") == 0)
            scripts = argv[i + 1];
        else
            break;
    }
    if (i < argc && strncmp(argv[i], "--", 2) == 0) {
        fprintf(stderr, "usage: figures [--scratch DIR] [--go DIR] [--python DIR] "
                        "[--scripts DIR] [CASE...]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct ap_seccomp filter;
    ap_error *err = NULL;
    const char *profile = ap_seccomp_default_profile();
    if (ap_seccomp_compile(profile, strlen(profile), "default seccomp profile", &filter, &err) <
        0) {
        fprintf(stderr, "figures: %s\n", err->msg);
        return 1;
    }
    int rc = 0;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct fig_case *c = &cases[k];
        if (!wanted(c, argv + i, argc - i))
            continue;
        if (roots[c->root] == NULL) {
            if (argc > i) {
                fprintf(stderr, "figures: %s needs its root (--scratch, --go or --python)\n",
                        c->name);
                rc = 1;
            }
            continue;
        }
        /* The noise guard around one case, as the bench has it around each run: the time
         * tasks ran on every CPU, by the source this kernel offers, less the run's own. */
        int watch = strcmp(c->name, "spin300") == 0;
        struct ap_noise_snapshot snap;
        char cpus[AP_CPUSET_STRLEN];
        struct ap_cpuset online;
        if (watch && (ap_cpuset_online(&online, &err) < 0 ||
                      ap_cpuset_format(&online, cpus, sizeof(cpus), &err) < 0 ||
                      ap_noise_begin(cpus, &snap, &err) < 0)) {
            fprintf(stderr, "figures: noise: %s\n", err->msg);
            ap_error_release(&err);
            watch = 0;
            rc = 1;
        }
        uint64_t sched0 = 0, sched1 = 0;
        int sched = watch && read_schedstat(&online, &sched0) == 0;
        int64_t own = 0;
        if (run_case(c, roots[c->root], scripts, &filter, &own) < 0)
            rc = 1;
        sched = sched && read_schedstat(&online, &sched1) == 0;
        struct ap_noise_report nr;
        if (watch && ap_noise_end(&snap, own, &nr, &err) < 0) {
            fprintf(stderr, "figures: noise: %s\n", err->msg);
            ap_error_release(&err);
            rc = 1;
        } else if (watch) {
            printf("noise %s source=%s cpus=%s wall_ns=%lld tasks_ns=%lld busy_ns=%lld "
                   "own_ns=%lld others_ns=%lld schedstat_ns=%lld\n",
                   c->name, ap_noise_source_name(nr.source), nr.cpus, (long long)nr.wall_ns,
                   (long long)nr.tasks_ns, (long long)nr.busy_ns, (long long)nr.own_ns,
                   (long long)nr.others_ns, sched ? (long long)(sched1 - sched0) : -1ll);
        }
    }
    ap_seccomp_free(&filter);
    return rc;
}
