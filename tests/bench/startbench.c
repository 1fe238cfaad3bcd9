/* Sandbox start cost, measured from outside every runtime in the same way, like with like.
 *
 * Variants, run interleaved round-robin (a b c d e f, a b c d e f, ...) after warm-up rounds,
 * every one pinned to one CPU (sched_setaffinity; the sandboxes get the same CPU as their
 * cpuset):
 *   bare       fork + exec + wait of the trivial static binary
 *   bwrap      bubblewrap with namespaces, read-only root, /proc, /dev, /tmp, running it
 *   crun       `crun run --bundle DIR ID` of an OCI bundle running it
 *   runc       `runc run --bundle DIR ID` likewise
 *   appliance  the whole `appliance run --json ...` command
 *   library    ap_sandbox_run in this process, as the appliance's benchmarks call it (the
 *              default seccomp filter compiled once, network namespaces made ahead by its
 *              helper thread); what that thread still has to do when the call returns is
 *              waited for (ap_sandbox_settle) before the next variant and shown as a detail
 * A command's time runs from before fork() to after waitpid() returns; the library call's from
 * the call to its return. The headlines compare like with like:
 *   appliance run / bwrap   whole command against whole command (crun and runc beside it)
 *   library / bare          the library call against a bare fork+exec+wait of the same binary
 * The clone-to-reap and clone-to-exec spans the appliance times inside itself are printed as
 * details only: they leave out the process start, the set-up before clone and the teardown.
 *
 * The appliance runs with a cache directory of its own (--cache), which the warm-up rounds fill
 * as any earlier run of the command would (the compiled seccomp filter).
 *
 * Before anything runs, the process moves into a private mount namespace and detaches
 * /sys/fs/cgroup/unified when it is a cgroup2 mount beside v1 hierarchies (a "hybrid" host):
 * crun refuses that layout. Every variant runs in that same namespace.
 *
 * The noise guard (bench/noise.h) judges the CPU: for a second before the rounds with nothing
 * of ours on it, and over the rounds with our own CPU time taken out. Other work on the CPU
 * stretches short runs more than long ones (each waits for the CPU at every wake-up), so
 * a noisy CPU makes the ratios look better than they are: a noisy result is refused unless
 * --allow-noisy, and then marked.
 *
 * Exit status: 0 when both targets hold (appliance run / bwrap <= 1, library / bare <= 2) on a
 * quiet CPU, 1 when one fails, 2 on a usage error, when a variant the targets need could not
 * run, or when the CPU was noisy (without --allow-noisy). */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/noise.h"
#include "core/hash.h"
#include "sandbox/sandbox.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define TARGET_CMD_VS_BWRAP 1.0
#define TARGET_LIB_VS_BARE 2.0

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
    int64_t *ext;    /* fork to wait, or call to return, ns */
    int64_t *wall;   /* ours: wall_ns, clone to reap, timed inside */
    int64_t *start;  /* ours: start_ns, clone to exec, timed inside */
    int64_t *settle; /* library: its helper thread's work left after the return, ns */
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
    /* Everything runs on one CPU: what the helper thread still has to do (namespaces for later
     * runs, unmounting this one's) would otherwise land in the next variant's time. */
    ap_sandbox_settle();
    int64_t t2 = now_ns();
    if (r < 0 || !rec.exited || rec.exit_code != 0) {
        snprintf(v->reason, sizeof(v->reason), "%s", err ? err->msg : "the command failed");
        ap_error_release(&err);
        return -1;
    }
    if (record) {
        v->ext[v->n] = t1 - t0;
        v->wall[v->n] = rec.wall_ns;
        v->start[v->n] = rec.start_ns;
        v->settle[v->n] = t2 - t1;
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
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
    qsort(d, n, sizeof(*d), cmp_double);
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
    printf("  %-52s %5zu %10.1f %10.1f %10.1f %9.1f\n", label, n, st.median, st.min, st.max,
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
            "Usage: startbench --rootfs DIR --trivial FILE --appliance FILE --cache DIR "
            "[OPTIONS]\n"
            "\n"
            "  --rootfs DIR        root filesystem with the trivial binary at /trivial\n"
            "  --trivial FILE      the trivial binary on the host (the bare variant)\n"
            "  --appliance FILE    the appliance binary\n"
            "  --cache DIR         the appliance's cache directory (--cache of appliance run)\n"
            "  --bwrap FILE        bubblewrap (default /usr/bin/bwrap; 'none' skips it)\n"
            "  --crun FILE         crun (default /usr/bin/crun; 'none' skips it)\n"
            "  --runc FILE         runc (default /usr/sbin/runc; 'none' skips it)\n"
            "  --bundle DIR        OCI bundle for crun and runc (config.json; no bundle skips both)\n"
            "  --id-prefix STR     container ids are STR<N> (default startbench-PID-)\n"
            "  -n, --iterations N  measured rounds (default 200)\n"
            "  -w, --warmup N      discarded rounds first (default 20)\n"
            "  --cpu N             CPU to pin everything to (default 1)\n"
            "  --allow-noisy       measure and judge even when other work shares the CPU (the\n"
            "                      verdicts are then marked noisy)\n");
}

struct opts {
    const char *rootfs, *trivial, *appliance, *cache, *bundle, *bwrap, *crun, *runc;
    char id_prefix[96];
    long iterations, warmup, cpu;
    int allow_noisy;
};

static int parse_number(int c, const char *arg, struct opts *o)
{
    char *end = NULL;
    long v = strtol(arg, &end, 10);
    if (end == arg || *end != '\0' || v < 0 || v > 1000000 || (c == 'n' && v == 0)) {
        fprintf(stderr, "startbench: bad number '%s'\n", arg);
        return -1;
    }
    if (c == 'n')
        o->iterations = v;
    else if (c == 'w')
        o->warmup = v;
    else
        o->cpu = v;
    return 0;
}

/* Returns 0, 1 after --help, or 2 on a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.bwrap = "/usr/bin/bwrap", .crun = "/usr/bin/crun",
                       .runc = "/usr/sbin/runc", .iterations = 200, .warmup = 20, .cpu = 1};
    snprintf(o->id_prefix, sizeof(o->id_prefix), "startbench-%ld-", (long)getpid());
    static const struct option opts[] = {
        {"rootfs", required_argument, NULL, 'r'},   {"trivial", required_argument, NULL, 't'},
        {"appliance", required_argument, NULL, 'a'}, {"cache", required_argument, NULL, 'k'},
        {"bwrap", required_argument, NULL, 'B'},    {"crun", required_argument, NULL, 'C'},
        {"runc", required_argument, NULL, 'R'},     {"bundle", required_argument, NULL, 'b'},
        {"id-prefix", required_argument, NULL, 'p'}, {"iterations", required_argument, NULL, 'n'},
        {"warmup", required_argument, NULL, 'w'},   {"cpu", required_argument, NULL, 'c'},
        {"allow-noisy", no_argument, NULL, 'N'},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "n:w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o->rootfs = optarg; break;
        case 't': o->trivial = optarg; break;
        case 'a': o->appliance = optarg; break;
        case 'k': o->cache = optarg; break;
        case 'B': o->bwrap = optarg; break;
        case 'C': o->crun = optarg; break;
        case 'R': o->runc = optarg; break;
        case 'b': o->bundle = optarg; break;
        case 'p': snprintf(o->id_prefix, sizeof(o->id_prefix), "%s", optarg); break;
        case 'n':
        case 'w':
        case 'c':
            if (parse_number(c, optarg, o) < 0)
                return 2;
            break;
        case 'N': o->allow_noisy = 1; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return 2;
        }
    }
    if (o->rootfs == NULL || o->trivial == NULL || o->appliance == NULL || o->cache == NULL ||
        optind != argc) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* The library variant's spec: what `appliance run` below asks for. */
static void make_lib_spec(const struct opts *o, const char *cpus, int devnull)
{
    ap_error *lerr = NULL;
    static struct ap_seccomp filter;
    const char *profile = ap_seccomp_default_profile();
    if (ap_hash_init(&lerr) < 0 ||
        ap_seccomp_compile(profile, strlen(profile), "default", &filter, &lerr) < 0) {
        fprintf(stderr, "startbench: %s\n", lerr->msg);
        exit(2);
    }
    static char trivial_path[] = "/trivial";
    static char *lib_argv[] = {trivial_path, NULL};
    static char path_env[] = "PATH=/usr/bin:/bin";
    static char *lib_env[] = {path_env, NULL};
    lib_spec = (struct ap_sandbox_spec){.rootfs = o->rootfs,
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
}

enum { V_BARE, V_BWRAP, V_CRUN, V_RUNC, V_CMD, V_LIB, N_VARIANTS };

static const char *const labels[N_VARIANTS] = {
    "bare fork+exec+wait",
    "bwrap: whole command (fork+exec to wait)",
    "crun run: whole command (fork+exec to wait)",
    "runc run: whole command (fork+exec to wait)",
    "appliance run: whole command (fork+exec to wait)",
    "library ap_sandbox_run (call to return)"};

static void make_variants(struct variant *vs, const struct opts *o, const char *cpus)
{
    const char *bundle = o->bundle ? o->bundle : "";
    vs[V_BARE] = (struct variant){.name = "bare", .kind = KIND_PLAIN,
                                  .argv = make_argv(o->trivial, NULL), .enabled = 1};
    vs[V_BWRAP] = (struct variant){
        .name = "bwrap", .kind = KIND_PLAIN,
        .argv = make_argv(o->bwrap, "--unshare-all", "--die-with-parent", "--new-session",
                          "--cap-drop", "ALL", "--ro-bind", o->rootfs, "/", "--proc", "/proc",
                          "--dev", "/dev", "--tmpfs", "/tmp", "/trivial", NULL),
        .enabled = strcmp(o->bwrap, "none") != 0};
    vs[V_CRUN] = (struct variant){
        .name = "crun", .kind = KIND_OCI,
        .argv = make_argv(o->crun, "run", "--bundle", bundle, "ID", NULL),
        .enabled = o->bundle != NULL && strcmp(o->crun, "none") != 0};
    vs[V_RUNC] = (struct variant){
        .name = "runc", .kind = KIND_OCI,
        .argv = make_argv(o->runc, "run", "--bundle", bundle, "ID", NULL),
        .enabled = o->bundle != NULL && strcmp(o->runc, "none") != 0};
    vs[V_CMD] = (struct variant){
        .name = "appliance", .kind = KIND_OURS,
        .argv = make_argv(o->appliance, "run", "--cache", o->cache, "--seccomp", "default",
                          "--memory", "256M", "--pids", "64", "--cpuset", cpus, "--json",
                          o->rootfs, "--", "/trivial", NULL),
        .enabled = 1};
    vs[V_LIB] = (struct variant){.name = "library", .kind = KIND_LIB,
                                 .argv = make_argv("lib", NULL), .enabled = 1};
    for (size_t i = 0; i < N_VARIANTS; i++) {
        struct variant *v = &vs[i];
        v->available = v->enabled;
        v->id_index = find_arg(v->argv, "ID");
        v->errfd = memfd_create(v->name, MFD_CLOEXEC);
        if (v->errfd < 0)
            die("memfd_create");
        v->ext = xcalloc((size_t)o->iterations, sizeof(int64_t));
        v->wall = xcalloc((size_t)o->iterations, sizeof(int64_t));
        v->start = xcalloc((size_t)o->iterations, sizeof(int64_t));
        v->settle = xcalloc((size_t)o->iterations, sizeof(int64_t));
        if (!v->enabled)
            snprintf(v->reason, sizeof(v->reason), "skipped");
    }
}

static void run_rounds(struct variant *vs, const struct opts *o, int devnull)
{
    unsigned seq = 0;
    for (long round = 0; round < o->warmup + o->iterations; round++) {
        for (size_t i = 0; i < N_VARIANTS; i++) {
            struct variant *v = &vs[i];
            if (!v->available)
                continue;
            if (run_once(v, o->id_prefix, ++seq, devnull, round >= o->warmup) < 0) {
                snprintf(v->where, sizeof(v->where), "failed in %s round %ld: ",
                         round < o->warmup ? "warm-up" : "measured", round);
                v->available = 0;
            }
        }
    }
}

static void print_table(const struct variant *vs)
{
    printf("  %-52s %5s %10s %10s %10s %9s\n", "variant (microseconds)", "n", "median", "min",
           "max", "MAD");
    for (size_t i = 0; i < N_VARIANTS; i++) {
        const struct variant *v = &vs[i];
        if (v->available)
            print_row(labels[i], v->ext, v->n);
        else
            printf("  %-52s unavailable: %s%s\n", labels[i], v->where, v->reason);
    }
    printf("  details, compared with nothing (spans timed inside the appliance, leaving out\n"
           "  its process start, its set-up before clone and its teardown after the reap):\n");
    static const int inner[] = {V_CMD, V_LIB};
    static const char *const names[] = {"appliance run", "library"};
    for (size_t k = 0; k < 2; k++) {
        const struct variant *v = &vs[inner[k]];
        if (!v->available)
            continue;
        char label[96];
        snprintf(label, sizeof(label), "  %s: clone to reap (wall_ns)", names[k]);
        print_row(label, v->wall, v->n);
        snprintf(label, sizeof(label), "  %s: clone to exec (start_ns)", names[k]);
        print_row(label, v->start, v->n);
    }
    if (vs[V_LIB].available)
        print_row("  library: helper thread's work after the return", vs[V_LIB].settle,
                  vs[V_LIB].n);
}

/* Prints a/b as the ratio of the medians, with the 10th and 90th percentiles of the ratios
 * of each round's pair (the rounds interleave, so a pair ran side by side). Returns it. */
static double print_ratio(const char *label, const struct variant *a, const struct variant *b,
                          double target)
{
    size_t n = a->n < b->n ? a->n : b->n;
    double *r = xcalloc(n, sizeof(*r));
    for (size_t i = 0; i < n; i++)
        r[i] = (double)a->ext[i] / (double)b->ext[i];
    qsort(r, n, sizeof(*r), cmp_double);
    double ratio = compute(a->ext, a->n).median / compute(b->ext, b->n).median;
    printf("  %-34s %7.3f  (per round p10-p90 %.3f-%.3f)", label, ratio, r[n / 10],
           r[n - 1 - n / 10]);
    if (target > 0)
        printf("  target <= %.2f  %s", target, ratio <= target ? "PASS" : "FAIL");
    printf("\n");
    free(r);
    return ratio;
}

/* Returns the exit status: 0 targets met, 1 one missed, 2 not measurable. */
static int report(const struct variant *vs, int noisy)
{
    const struct variant *bare = &vs[V_BARE], *bw = &vs[V_BWRAP], *cmd = &vs[V_CMD],
                         *lib = &vs[V_LIB];
    if (!bare->available || !bw->available || !cmd->available || !lib->available) {
        printf("targets: cannot be checked (a variant they need did not run)\n");
        return 2;
    }
    printf("ratios of medians, like with like%s:\n",
           noisy ? " (NOISY: other work shared the CPU; short runs suffer most, so these look "
                   "better than they are)"
                 : "");
    double r_cmd = print_ratio("appliance run / bwrap (commands)", cmd, bw, TARGET_CMD_VS_BWRAP);
    double r_lib = print_ratio("library call / bare fork+exec+wait", lib, bare, TARGET_LIB_VS_BARE);
    if (vs[V_CRUN].available)
        print_ratio("appliance run / crun run", cmd, &vs[V_CRUN], 0);
    if (vs[V_RUNC].available)
        print_ratio("appliance run / runc run", cmd, &vs[V_RUNC], 0);
    print_ratio("bwrap / bare (for scale)", bw, bare, 0);
    return r_cmd <= TARGET_CMD_VS_BWRAP && r_lib <= TARGET_LIB_VS_BARE ? 0 : 1;
}

/* CPU time of this process and of the children it reaped, every variant's processes. */
static int64_t own_cpu_ns(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    const struct timeval *tv[] = {&self.ru_utime, &self.ru_stime, &kids.ru_utime, &kids.ru_stime};
    int64_t ns = 0;
    for (size_t i = 0; i < 4; i++)
        ns += (int64_t)tv[i]->tv_sec * 1000000000 + (int64_t)tv[i]->tv_usec * 1000;
    return ns;
}

/* Prints the guard's sentence; returns 1 when noisy, -1 when it could not tell. */
static int judge_noise(const char *when, const struct ap_noise_report *r)
{
    char why[512];
    int noisy = ap_noise_judge(r, NULL, why, sizeof(why));
    printf("noise %s: %s\n", when, why);
    return noisy;
}

int main(int argc, char **argv)
{
    struct opts o;
    int pr = parse_opts(argc, argv, &o);
    if (pr != 0)
        return pr == 1 ? 0 : 2;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)o.cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) < 0)
        die("sched_setaffinity");
    int hidden = 0;
    hide_hybrid_cgroup2(&hidden);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        die("/dev/null");
    char cpus[16];
    snprintf(cpus, sizeof(cpus), "%ld", o.cpu);
    make_lib_spec(&o, cpus, devnull);
    struct variant vs[N_VARIANTS];
    memset(vs, 0, sizeof(vs));
    make_variants(vs, &o, cpus);
    ap_error *nerr = NULL;
    struct ap_noise_report before, during;
    if (ap_noise_quiet_check(cpus, 1.0, &before, &nerr) < 0) {
        fprintf(stderr, "startbench: noise guard: %s\n", nerr->msg);
        return 2;
    }
    if (ap_noise_judge(&before, NULL, NULL, 0) == 1 && !o.allow_noisy) {
        judge_noise("before the rounds (1 s, nothing of ours running)", &before);
        printf("refused: the CPU is busy with other work; rerun on a quiet machine, or with "
               "--allow-noisy (ALLOW_NOISY=1) to measure anyway with the verdicts marked noisy\n");
        return 2;
    }
    struct ap_noise_snapshot snap;
    int64_t own0 = own_cpu_ns();
    if (ap_noise_begin(cpus, &snap, &nerr) < 0) {
        fprintf(stderr, "startbench: noise guard: %s\n", nerr->msg);
        return 2;
    }
    run_rounds(vs, &o, devnull);
    if (ap_noise_end(&snap, own_cpu_ns() - own0, &during, &nerr) < 0) {
        fprintf(stderr, "startbench: noise guard: %s\n", nerr->msg);
        return 2;
    }

    struct utsname u;
    uname(&u);
    printf("sandbox start: %ld rounds after %ld warm-up, interleaved, all pinned to CPU %ld; "
           "kernel %s%s\n",
           o.iterations, o.warmup, o.cpu, u.release,
           hidden ? "; cgroup2 at /sys/fs/cgroup/unified hidden (hybrid host)" : "");
    printf("  appliance:");
    for (char **a = vs[V_CMD].argv; *a != NULL; a++)
        printf(" %s", *a);
    printf("\n");
    print_table(vs);
    int noisy = judge_noise("before the rounds (1 s, nothing of ours running)", &before) == 1;
    noisy |= judge_noise("over the rounds (our own CPU time taken out)", &during) == 1;
    int rc = report(vs, noisy);
    if (noisy && !o.allow_noisy) {
        printf("not judged: the CPU was noisy (--allow-noisy to judge anyway)\n");
        return 2;
    }
    return rc;
}
