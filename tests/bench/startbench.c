/* Sandbox start cost, measured from outside every runtime in the same way.
 *
 * Variants, run interleaved round-robin (a b c d e, a b c d e, ...) after warm-up rounds:
 *   bare       fork + exec + wait of the trivial static binary
 *   bwrap      bubblewrap with namespaces, read-only root, /proc, /dev, /tmp, running it
 *   crun       `crun run --bundle DIR ID` of an OCI bundle running it
 *   runc       `runc run --bundle DIR ID` likewise
 *   appliance  `appliance run --json ...`: the wall_ns it reports (clone to reap, measured
 *              inside, so the appliance's own process start is excluded), and, for honesty,
 *              the fork+exec-to-wait time of the whole command
 * Every variant's time is taken from before fork() to after waitpid() returns, on one CPU
 * (sched_setaffinity; the sandboxes get the same CPU as their cpuset).
 *
 * Before anything runs, the process moves into a private mount namespace and detaches
 * /sys/fs/cgroup/unified when it is a cgroup2 mount beside v1 hierarchies (a "hybrid" host):
 * crun refuses that layout. Every variant runs in that same namespace.
 *
 * Exit status: 0 when the targets hold (ours/bwrap <= 0.35, ours/bare <= 5), 1 when one
 * fails, 2 on a usage error or when a variant the targets need could not run. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "sandbox/sandbox.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define TARGET_VS_BWRAP 0.35
#define TARGET_VS_BARE 5.0

enum kind { KIND_PLAIN, KIND_OCI, KIND_OURS, KIND_LIB };

struct variant {
    const char *name;
    enum kind kind;
    char **argv;     /* argv[id_index] is rewritten per run for OCI runtimes */
    int id_index;
    int enabled;     /* asked for */
    int available;   /* still running */
    char reason[400];
    char where[64];  /* when it failed */
    int errfd;       /* memfd collecting the child's stderr */
    int64_t *ext;    /* fork to wait, ns */
    int64_t *wall;   /* ours: wall_ns reported by the appliance */
    int64_t *start;  /* ours: start_ns reported by the appliance */
    size_t n;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "startbench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        die("strdup");
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        die("calloc");
    return p;
}

/* Builds a NULL-terminated argv of private copies from a NULL-terminated list. */
static char **make_argv(const char *first, ...)
{
    const char *items[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s != NULL && n < 63; s = va_arg(ap, const char *))
        items[n++] = s;
    va_end(ap);
    char **argv = xcalloc(n + 1, sizeof(*argv));
    for (size_t i = 0; i < n; i++)
        argv[i] = xstrdup(items[i]);
    return argv;
}

static int find_arg(char **argv, const char *s)
{
    for (int i = 0; argv[i] != NULL; i++)
        if (strcmp(argv[i], s) == 0)
            return i;
    return -1;
}

/* Reads the memfd's content as a one-line reason (newlines become "; "). */
static void collect_reason(int fd, char *buf, size_t len, const char *prefix)
{
    char raw[1024];
    ssize_t n = pread(fd, raw, sizeof(raw) - 1, 0);
    if (n < 0)
        n = 0;
    raw[n] = '\0';
    while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == ' '))
        raw[--n] = '\0';
    size_t o = (size_t)snprintf(buf, len, "%s", prefix);
    for (ssize_t i = 0; i < n && o + 3 < len; i++) {
        if (raw[i] == '\n') {
            buf[o++] = ';';
            buf[o++] = ' ';
        } else if (raw[i] == '\t' || (unsigned char)raw[i] >= 0x20) {
            buf[o++] = raw[i];
        }
    }
    buf[o < len ? o : len - 1] = '\0';
}

static int json_int(const char *json, const char *key, int64_t *out)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (p == NULL)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t' || *p == ':')
        p++;
    char *end = NULL;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return -1;
    *out = v;
    return 0;
}

/* The sandbox as the appliance's benchmarks use it: the library call, in this process, with
 * the default seccomp filter compiled once. */
static struct ap_sandbox_spec lib_spec;

static int run_lib(struct variant *v, int record)
{
    struct ap_run_record rec;
    ap_error *err = NULL;
    int64_t t0 = now_ns();
    int r = ap_sandbox_run(&lib_spec, &rec, &err);
    int64_t t1 = now_ns();
    if (r < 0 || !rec.exited || rec.exit_code != 0) {
        snprintf(v->reason, sizeof(v->reason), "%s", err ? err->msg : "the command failed");
        ap_error_release(&err);
        return -1;
    }
    if (record) {
        v->ext[v->n] = t1 - t0;
        v->wall[v->n] = rec.wall_ns;
        v->start[v->n] = rec.start_ns;
        v->n++;
    }
    return 0;
}

/* One run of a variant; returns 0 on success and records its samples. */
static int run_once(struct variant *v, const char *id_prefix, unsigned seq, int devnull, int record)
{
    if (v->kind == KIND_LIB)
        return run_lib(v, record);
    char id[128];
    if (v->kind == KIND_OCI) {
        snprintf(id, sizeof(id), "%s%u", id_prefix, seq);
        free(v->argv[v->id_index]);
        v->argv[v->id_index] = xstrdup(id);
    }
    int outp[2] = {-1, -1};
    if (v->kind == KIND_OURS && pipe2(outp, O_CLOEXEC) < 0)
        die("pipe2");
    if (ftruncate(v->errfd, 0) < 0 || lseek(v->errfd, 0, SEEK_SET) < 0)
        die("resetting the stderr buffer");

    int64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        if (dup2(devnull, 0) < 0 || dup2(outp[1] >= 0 ? outp[1] : devnull, 1) < 0 ||
            dup2(v->errfd, 2) < 0)
            _exit(126);
        execv(v->argv[0], v->argv);
        dprintf(2, "exec %s: %s\n", v->argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            die("waitpid");
    }
    int64_t t1 = now_ns();

    char out[8192];
    size_t got = 0;
    if (outp[1] >= 0) {
        close(outp[1]);
        for (;;) {
            ssize_t r = read(outp[0], out + got, sizeof(out) - 1 - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
            if (got == sizeof(out) - 1)
                break;
        }
        close(outp[0]);
    }
    out[got] = '\0';

    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char prefix[96];
        if (WIFEXITED(status))
            snprintf(prefix, sizeof(prefix), "exit status %d: ", WEXITSTATUS(status));
        else
            snprintf(prefix, sizeof(prefix), "killed by signal %d: ", WTERMSIG(status));
        collect_reason(v->errfd, v->reason, sizeof(v->reason), prefix);
        return -1;
    }
    int64_t wall = 0, start = 0;
    if (v->kind == KIND_OURS) {
        if (json_int(out, "wall_ns", &wall) < 0 || json_int(out, "start_ns", &start) < 0 ||
            wall <= 0) {
            snprintf(v->reason, sizeof(v->reason), "no wall_ns in the run record: %.200s", out);
            return -1;
        }
    }
    if (record) {
        v->ext[v->n] = t1 - t0;
        if (v->kind == KIND_OURS) {
            v->wall[v->n] = wall;
            v->start[v->n] = start;
        }
        v->n++;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double median_sorted(const int64_t *s, size_t n)
{
    if (n == 0)
        return 0;
    return n % 2 ? (double)s[n / 2] : ((double)s[n / 2 - 1] + (double)s[n / 2]) / 2.0;
}

struct stats {
    double median, min, max, mad; /* microseconds */
};

static struct stats compute(const int64_t *x, size_t n)
{
    struct stats st = {0, 0, 0, 0};
    if (n == 0)
        return st;
    int64_t *s = xcalloc(n, sizeof(*s));
    memcpy(s, x, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_i64);
    double med = median_sorted(s, n);
    double *d = xcalloc(n, sizeof(*d));
    for (size_t i = 0; i < n; i++)
        d[i] = (double)s[i] > med ? (double)s[i] - med : med - (double)s[i];
    /* Median of the deviations (a tiny insertion sort keeps it dependency-free). */
    for (size_t i = 1; i < n; i++) {
        double k = d[i];
        size_t j = i;
        while (j > 0 && d[j - 1] > k) {
            d[j] = d[j - 1];
            j--;
        }
        d[j] = k;
    }
    double mad = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2.0;
    st.median = med / 1000.0;
    st.min = (double)s[0] / 1000.0;
    st.max = (double)s[n - 1] / 1000.0;
    st.mad = mad / 1000.0;
    free(s);
    free(d);
    return st;
}

static void print_row(const char *label, const int64_t *x, size_t n)
{
    struct stats st = compute(x, n);
    printf("  %-44s %5zu %10.1f %10.1f %10.1f %9.1f\n", label, n, st.median, st.min, st.max,
           st.mad);
}

/* Hides a cgroup2 mount that sits beside v1 hierarchies, in a mount namespace of our own. */
static void hide_hybrid_cgroup2(int *hidden)
{
    *hidden = 0;
    if (unshare(CLONE_NEWNS) < 0)
        die("unshare(CLONE_NEWNS) (this needs root)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die("making mounts private");
    struct statfs top, uni;
    if (statfs("/sys/fs/cgroup", &top) < 0 || top.f_type == CGROUP2_SUPER_MAGIC)
        return; /* pure v2 (or none): nothing to hide */
    if (statfs("/sys/fs/cgroup/unified", &uni) < 0 || uni.f_type != CGROUP2_SUPER_MAGIC)
        return;
    if (umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0)
        die("detaching /sys/fs/cgroup/unified");
    *hidden = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: startbench --rootfs DIR --trivial FILE --appliance FILE [OPTIONS]\n"
            "\n"
            "  --rootfs DIR        root filesystem with the trivial binary at /trivial\n"
            "  --trivial FILE      the trivial binary on the host (the bare variant)\n"
            "  --appliance FILE    the appliance binary\n"
            "  --bwrap FILE        bubblewrap (default /usr/bin/bwrap; 'none' skips it)\n"
            "  --crun FILE         crun (default /usr/bin/crun; 'none' skips it)\n"
            "  --runc FILE         runc (default /usr/sbin/runc; 'none' skips it)\n"
            "  --bundle DIR        OCI bundle for crun and runc (config.json; no bundle skips both)\n"
            "  --id-prefix STR     container ids are STR<N> (default startbench-PID-)\n"
            "  -n, --iterations N  measured rounds (default 200)\n"
            "  -w, --warmup N      discarded rounds first (default 20)\n"
            "  --cpu N             CPU to pin everything to (default 1)\n");
}

int main(int argc, char **argv)
{
    const char *rootfs = NULL, *trivial = NULL, *appliance = NULL, *bundle = NULL;
    const char *bwrap = "/usr/bin/bwrap", *crun = "/usr/bin/crun", *runc = "/usr/sbin/runc";
    char id_prefix[96];
    snprintf(id_prefix, sizeof(id_prefix), "startbench-%ld-", (long)getpid());
    long iterations = 200, warmup = 20, cpu = 1;

    static const struct option opts[] = {
        {"rootfs", required_argument, NULL, 'r'},   {"trivial", required_argument, NULL, 't'},
        {"appliance", required_argument, NULL, 'a'}, {"bwrap", required_argument, NULL, 'B'},
        {"crun", required_argument, NULL, 'C'},     {"runc", required_argument, NULL, 'R'},
        {"bundle", required_argument, NULL, 'b'},   {"id-prefix", required_argument, NULL, 'p'},
        {"iterations", required_argument, NULL, 'n'}, {"warmup", required_argument, NULL, 'w'},
        {"cpu", required_argument, NULL, 'c'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:w:h", opts, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'r': rootfs = optarg; break;
        case 't': trivial = optarg; break;
        case 'a': appliance = optarg; break;
        case 'B': bwrap = optarg; break;
        case 'C': crun = optarg; break;
        case 'R': runc = optarg; break;
        case 'b': bundle = optarg; break;
        case 'p': snprintf(id_prefix, sizeof(id_prefix), "%s", optarg); break;
        case 'n':
        case 'w':
        case 'c': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 0 || v > 1000000 || (c == 'n' && v == 0)) {
                fprintf(stderr, "startbench: bad number '%s'\n", optarg);
                return 2;
            }
            if (c == 'n')
                iterations = v;
            else if (c == 'w')
                warmup = v;
            else
                cpu = v;
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (rootfs == NULL || trivial == NULL || appliance == NULL || optind != argc) {
        usage(stderr);
        return 2;
    }

    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        die("sched_setaffinity");
    int hidden = 0;
    hide_hybrid_cgroup2(&hidden);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        die("/dev/null");
    char cpus[16];
    snprintf(cpus, sizeof(cpus), "%ld", cpu);

    ap_error *lerr = NULL;
    static struct ap_seccomp filter;
    const char *profile = ap_seccomp_default_profile();
    if (ap_hash_init(&lerr) < 0 ||
        ap_seccomp_compile(profile, strlen(profile), "default", &filter, &lerr) < 0) {
        fprintf(stderr, "startbench: %s\n", lerr->msg);
        return 2;
    }
    static char trivial_path[] = "/trivial";
    static char *lib_argv[] = {trivial_path, NULL};
    static char path_env[] = "PATH=/usr/bin:/bin";
    static char *lib_env[] = {path_env, NULL};
    lib_spec = (struct ap_sandbox_spec){.rootfs = rootfs,
                                        .argv = lib_argv,
                                        .envp = lib_env,
                                        .uid = 65534,
                                        .gid = 65534,
                                        .net = AP_NET_NONE,
                                        .limits = {.memory_bytes = 256 << 20,
                                                   .pids_max = 64,
                                                   .cpuset = cpus},
                                        .seccomp = &filter,
                                        .stdin_fd = -1,
                                        .stdout_fd = devnull,
                                        .stderr_fd = -1};
    struct variant vs[6];
    memset(vs, 0, sizeof(vs));
    vs[0] = (struct variant){.name = "bare", .kind = KIND_PLAIN,
                             .argv = make_argv(trivial, NULL), .enabled = 1};
    vs[1] = (struct variant){.name = "bwrap", .kind = KIND_PLAIN,
                             .argv = make_argv(bwrap, "--unshare-all", "--die-with-parent",
                                               "--new-session", "--cap-drop", "ALL",
                                               "--ro-bind", rootfs, "/", "--proc", "/proc",
                                               "--dev", "/dev", "--tmpfs", "/tmp", "/trivial",
                                               NULL),
                             .enabled = strcmp(bwrap, "none") != 0};
    vs[2] = (struct variant){.name = "crun", .kind = KIND_OCI,
                             .argv = make_argv(crun, "run", "--bundle", bundle ? bundle : "",
                                               "ID", NULL),
                             .enabled = bundle != NULL && strcmp(crun, "none") != 0};
    vs[3] = (struct variant){.name = "runc", .kind = KIND_OCI,
                             .argv = make_argv(runc, "run", "--bundle", bundle ? bundle : "",
                                               "ID", NULL),
                             .enabled = bundle != NULL && strcmp(runc, "none") != 0};
    vs[4] = (struct variant){.name = "appliance", .kind = KIND_OURS,
                             .argv = make_argv(appliance, "run", "--seccomp", "default",
                                               "--memory", "256M", "--pids", "64", "--cpuset",
                                               cpus, "--json", rootfs, "--", "/trivial", NULL),
                             .enabled = 1};
    vs[5] = (struct variant){.name = "library", .kind = KIND_LIB, .argv = make_argv("lib", NULL),
                             .enabled = 1};
    size_t nv = sizeof(vs) / sizeof(vs[0]);
    for (size_t i = 0; i < nv; i++) {
        struct variant *v = &vs[i];
        v->available = v->enabled;
        v->id_index = find_arg(v->argv, "ID");
        v->errfd = memfd_create(v->name, MFD_CLOEXEC);
        if (v->errfd < 0)
            die("memfd_create");
        v->ext = xcalloc((size_t)iterations, sizeof(int64_t));
        v->wall = xcalloc((size_t)iterations, sizeof(int64_t));
        v->start = xcalloc((size_t)iterations, sizeof(int64_t));
        if (!v->enabled)
            snprintf(v->reason, sizeof(v->reason), "skipped");
    }

    unsigned seq = 0;
    for (long round = 0; round < warmup + iterations; round++) {
        for (size_t i = 0; i < nv; i++) {
            struct variant *v = &vs[i];
            if (!v->available)
                continue;
            if (run_once(v, id_prefix, ++seq, devnull, round >= warmup) < 0) {
                snprintf(v->where, sizeof(v->where), "failed in %s round %ld: ",
                         round < warmup ? "warm-up" : "measured", round);
                v->available = 0;
            }
        }
    }

    struct utsname u;
    uname(&u);
    printf("sandbox start: %ld rounds after %ld warm-up, interleaved, all pinned to CPU %ld; "
           "kernel %s%s\n",
           iterations, warmup, cpu, u.release,
           hidden ? "; cgroup2 at /sys/fs/cgroup/unified hidden (hybrid host)" : "");
    printf("  appliance:");
    for (char **a = vs[4].argv; *a != NULL; a++)
        printf(" %s", *a);
    printf("\n");
    printf("  %-44s %5s %10s %10s %10s %9s\n", "variant (microseconds)", "n", "median", "min",
           "max", "MAD");
    static const char *const labels[] = {
        "bare fork+exec+wait", "bwrap (fork+exec to wait)", "crun run (fork+exec to wait)",
        "runc run (fork+exec to wait)", "appliance run (fork+exec to wait)",
        "library call ap_sandbox_run (call to return)"};
    for (size_t i = 0; i < nv; i++) {
        struct variant *v = &vs[i];
        if (v->kind == KIND_OURS && v->available) {
            print_row("appliance run: wall_ns (clone to reap)", v->wall, v->n);
            print_row("appliance run: start_ns (clone to exec)", v->start, v->n);
        }
        if (v->kind == KIND_LIB && v->available) {
            print_row("library: wall_ns (clone to reap)", v->wall, v->n);
            print_row("library: start_ns (clone to exec)", v->start, v->n);
        }
        if (v->available)
            print_row(labels[i], v->ext, v->n);
        else
            printf("  %-44s unavailable: %s%s\n", labels[i], v->where, v->reason);
    }

    struct variant *bare = &vs[0], *bw = &vs[1], *ours = &vs[5], *cmd = &vs[4];
    int rc = 0;
    if (!ours->available || !bare->available || !bw->available || !cmd->available) {
        printf("targets: cannot be checked (a variant they need did not run)\n");
        return 2;
    }
    double m_ours = compute(ours->wall, ours->n).median;
    double m_cmd = compute(cmd->ext, cmd->n).median;
    double m_cmd_wall = compute(cmd->wall, cmd->n).median;
    double m_bare = compute(bare->ext, bare->n).median;
    double m_bw = compute(bw->ext, bw->n).median;
    double r_bw = m_ours / m_bw, r_bare = m_ours / m_bare;
    int ok_bw = r_bw <= TARGET_VS_BWRAP, ok_bare = r_bare <= TARGET_VS_BARE;
    printf("ratios of medians (ours = wall_ns of the library call, as benchmarks run it):\n");
    printf("  ours/bwrap %8.3f  (target <= %.2f)  %s\n", r_bw, TARGET_VS_BWRAP,
           ok_bw ? "PASS" : "FAIL");
    printf("  ours/bare  %8.3f  (target <= %.2f)  %s\n", r_bare, TARGET_VS_BARE,
           ok_bare ? "PASS" : "FAIL");
    printf("  for information: a one-off `appliance run` (wall_ns, no namespace made ahead): "
           "/bwrap %.3f, /bare %.3f; the whole command: /bwrap %.3f, /bare %.3f",
           m_cmd_wall / m_bw, m_cmd_wall / m_bare, m_cmd / m_bw, m_cmd / m_bare);
    if (vs[2].available)
        printf(", ours/crun %.3f", m_ours / compute(vs[2].ext, vs[2].n).median);
    if (vs[3].available)
        printf(", ours/runc %.3f", m_ours / compute(vs[3].ext, vs[3].n).median);
    printf("\n");
    if (!ok_bw || !ok_bare)
        rc = 1;
    return rc;
}
