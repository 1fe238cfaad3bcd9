#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/log.h"
#include "stats.h"
#include "status.h"

volatile sig_atomic_t ap_bench_interrupted;

struct ap_bench_image *ap_bench_image(struct ap_bench *b, const char *name)
{
    for (size_t i = 0; i < b->n_images; i++)
        if (strcmp(b->images[i].name, name) == 0)
            return &b->images[i];
    return NULL;
}

double ap_bench_num(const struct ap_bench *b, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b->profile, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int ap_bench_manifest(struct ap_bench *b, const char *rel, cJSON **out, ap_error **err)
{
    char path[2048];
    if (ap_fs_path(path, sizeof(path), "%s/%s/workload.json", b->o->workloads_dir, rel) < 0) {
        ap_error_make(err, ENAMETOOLONG, "workload path too long: %s", rel);
        return -1;
    }
    return ap_json_read_file(path, 1u << 20, out, err);
}

const cJSON *ap_bench_profile_entry(const struct ap_bench *b, const cJSON *manifest)
{
    const char *key = b->profile_name;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(manifest, "profiles");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(map, b->profile_name);
    if (cJSON_IsString(k))
        key = k->valuestring;
    else if (strcmp(key, "quick") == 0)
        key = "check";
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(manifest, key);
    if (!cJSON_IsObject(e) && strcmp(b->profile_name, "published") == 0)
        e = cJSON_GetObjectItemCaseSensitive(manifest, "standard");
    return cJSON_IsObject(e) ? e : NULL;
}

/* ---- one run -------------------------------------------------------------------------------- */

static int make_memfd(const char *name, ap_error **err)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        ap_error_make(err, errno, "memfd_create for the run's %s", name);
    return fd;
}

/* The command's standard output, read from a pipe by a thread of ours into a ring that a second
 * thread hashes, kept up to AP_BENCH_MAX_TEXT_OUTPUT bytes for text comparisons. The reader must
 * keep up with every task, or the task waits on a full pipe and the wait is timed as its own.
 * SHA-256 (OpenSSL, 1.7 GB/s here) is slower than a task writing from memory, and a hasher on the
 * reader's CPU delays the reader's wake-ups. Measured on Go's revcomp (pinned; its wall time
 * against its user + system time), at the standard size (305 MB out): piped to `cat`, off its
 * CPU 0.4-2.5 % of the time; a 32 MiB ring hashed as it filled, 8-12 %; a ring that holds the
 * whole output, hashed after the run, 0.1-0.7 %. At the published size (1 GB out): the 32 MiB
 * ring 12-15 %; a 320 MiB ring with the hasher at SCHED_IDLE 1.7-2.9 %; a 1.1 GB store hashed
 * after the run none, but it raised the task's system time from 0.9 s to 1.4-2.7 s (this
 * virtual machine serves the task's fresh pages more slowly while we hold that much). So: a
 * ring as large as the expected output (a manifest's length) up to RING_MAX or an eighth of
 * the machine's memory; when the output fits, it is hashed after the run (or when the ring
 * fills after all), else from the start by a hasher at SCHED_IDLE that the reader always
 * preempts. Measured so, interleaved with the 32 MiB ring: off its CPU 0-0.5 % at the standard
 * size (15 runs) and 0.1-0.9 % at the published one (6 runs), where its system time was 0.9-
 * 1.4 s against 0.7-0.9 s (holding the ring costs the task that much; the first run after the
 * ring is made, the most). The ring is faulted in before the run and kept for the next one: on a
 * virtual machine the first touch of a page is a fault the host serves, and the task's own faults
 * wait behind it. A pipe rather than a file or a memfd, whose pages would be charged to the
 * sandbox's memory cgroup and inflate its peak by the size of the output. */
enum { RING_MIN = 32u << 20, RING_MAX = 384u << 20, RING_STEP = 1u << 20, HASH_CHUNK = 4u << 20 };

struct ring {
    char *mem;
    size_t size;
};

/* One ring kept between runs (runs are one at a time; a second one at once gets its own). */
static struct ring *spare_ring;

static void ring_free(struct ring *r)
{
    if (r == NULL)
        return;
    munmap(r->mem, r->size);
    free(r);
}

/* A ring for an output of about `expect` bytes (0: unknown), faulted in; NULL when no memory can
 * be had (the reader then reads and hashes in turn). */
static struct ring *ring_get(size_t expect)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    size_t most = RING_MAX;
    if (pages > 0 && page > 0 && (size_t)pages / 8 < most / (size_t)page)
        most = (size_t)pages / 8 * (size_t)page;
    size_t need = expect + RING_STEP;
    if (need > most)
        need = most;
    if (need < RING_MIN)
        need = RING_MIN;
    need = (need + RING_STEP - 1) / RING_STEP * RING_STEP;
    struct ring *r = __atomic_exchange_n(&spare_ring, NULL, __ATOMIC_ACQ_REL);
    if (r != NULL && r->size >= need && r->size <= 2 * need)
        return r;
    ring_free(r);
    for (;;) {
        r = calloc(1, sizeof(*r));
        if (r == NULL)
            return NULL;
        void *m = mmap(NULL, need, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (m != MAP_FAILED) {
            r->mem = m;
            r->size = need;
            return r;
        }
        free(r);
        if (need == RING_MIN)
            return NULL;
        need = RING_MIN;
    }
}

static void ring_put(struct ring *r)
{
    ring_free(__atomic_exchange_n(&spare_ring, r, __ATOMIC_ACQ_REL));
}

struct capture {
    int fd;
    struct ap_sha256 h;
    char *buf;
    size_t kept, total, cap;
    int oom;
    int keep; /* keep the output for a text comparison (no sha256 to compare) */
    struct ring *ring;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t head, tail; /* bytes read and bytes hashed: head - tail are in the ring */
    size_t start_at;   /* the hasher starts once this many bytes wait (or at the end) */
    int eof;
    pthread_t thread, hasher;
};

/* Hashes and, for a text comparison, keeps n more bytes of the output. */
static void capture_take(struct capture *c, const char *data, size_t n)
{
    ap_sha256_update(&c->h, data, n);
    c->total += n;
    if (c->keep && c->kept + n <= AP_BENCH_MAX_TEXT_OUTPUT && !c->oom) {
        if (c->kept + n > c->cap) {
            size_t cap = c->cap ? c->cap : 1 << 16;
            while (cap < c->kept + n)
                cap *= 2;
            char *grown = realloc(c->buf, cap);
            if (grown == NULL) {
                c->oom = 1;
                return;
            }
            c->buf = grown;
            c->cap = cap;
        }
        memcpy(c->buf + c->kept, data, n);
        c->kept += n;
    }
}

/* Without a ring: read and hash in turn. */
static void *capture_main(void *arg)
{
    struct capture *c = arg;
    char chunk[1 << 16];
    for (;;) {
        ssize_t n = read(c->fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        capture_take(c, chunk, (size_t)n);
    }
    return NULL;
}

static void *capture_reader(void *arg)
{
    struct capture *c = arg;
    size_t size = c->ring->size;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (c->head - c->tail == size)
            pthread_cond_wait(&c->cv, &c->mu);
        size_t at = c->head % size, room = size - (c->head - c->tail);
        pthread_mutex_unlock(&c->mu);
        if (room > size - at)
            room = size - at;
        ssize_t n;
        do
            n = read(c->fd, c->ring->mem + at, room);
        while (n < 0 && errno == EINTR);
        pthread_mutex_lock(&c->mu);
        size_t before = c->head - c->tail;
        if (n <= 0)
            c->eof = 1;
        else
            c->head += (size_t)n;
        if (n <= 0 || (before < c->start_at && c->head - c->tail >= c->start_at))
            pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (n <= 0)
            return NULL;
    }
}

static void *capture_hasher(void *arg)
{
    struct capture *c = arg;
    struct sched_param param = {0};
    int idle = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0;
    size_t size = c->ring->size;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (c->head - c->tail < c->start_at && !c->eof)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->eof && idle) { /* the task is gone: hash the rest at the usual priority */
            pthread_setschedparam(pthread_self(), SCHED_OTHER, &param);
            idle = 0;
        }
        size_t n = c->head - c->tail, at = c->tail % size;
        pthread_mutex_unlock(&c->mu);
        if (n == 0)
            return NULL;
        if (n > size - at)
            n = size - at;
        if (n > HASH_CHUNK)
            n = HASH_CHUNK;
        capture_take(c, c->ring->mem + at, n);
        pthread_mutex_lock(&c->mu);
        int was_full = c->head - c->tail == size;
        c->tail += n;
        if (was_full)
            pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
}

/* Starts the capture of fd for an output of about `expect` bytes (0: unknown): a reader and a
 * hasher over a ring, or one thread doing both when no ring can be had. Returns -1 with errno
 * when no thread starts. */
static int capture_start(struct capture *c, size_t expect)
{
    c->ring = ring_get(expect);
    if (c->ring == NULL)
        return pthread_create(&c->thread, NULL, capture_main, c) == 0 ? 0 : -1;
    c->start_at = expect > 0 && expect < c->ring->size ? c->ring->size : 1;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->hasher, NULL, capture_hasher, c) != 0) {
        ring_put(steal_pointer(&c->ring));
        return pthread_create(&c->thread, NULL, capture_main, c) == 0 ? 0 : -1;
    }
    if (pthread_create(&c->thread, NULL, capture_reader, c) != 0) {
        pthread_mutex_lock(&c->mu);
        c->eof = 1;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->hasher, NULL);
        ring_put(steal_pointer(&c->ring));
        return -1;
    }
    return 0;
}

/* Waits for the end of the output (every write end closed) and of its hashing. */
static void capture_finish(struct capture *c)
{
    pthread_join(c->thread, NULL);
    if (c->ring != NULL) {
        pthread_join(c->hasher, NULL);
        ring_put(steal_pointer(&c->ring));
    }
}

/* Maps the whole of fd (NULL for an empty file); *len gets its size. */
static char *map_fd(int fd, size_t *len)
{
    struct stat st;
    *len = 0;
    if (fstat(fd, &st) < 0 || st.st_size == 0)
        return NULL;
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED)
        return NULL;
    *len = (size_t)st.st_size;
    return p;
}

/* The last line or so of what the command wrote on stderr, for error messages. */
static void stderr_tail(int fd, char *out, size_t len)
{
    size_t n = 0;
    char *p = map_fd(fd, &n);
    out[0] = '\0';
    if (p == NULL)
        return;
    size_t end = n;
    while (end > 0 && (p[end - 1] == '\n' || p[end - 1] == ' '))
        end--;
    size_t start = end > 300 ? end - 300 : 0;
    snprintf(out, len, "%.*s", (int)(end - start), p + start);
    for (char *c = out; *c; c++)
        if (*c == '\n')
            *c = ' ';
    munmap(p, n);
}

static cJSON *record_json(const struct ap_run_record *r)
{
    cJSON *j = cJSON_CreateObject();
    ap_run_record_times_json(j, r);
    cJSON_AddNumberToObject(j, "memory_peak_bytes", (double)r->memory_peak_bytes);
    cJSON_AddNumberToObject(j, "maxrss_bytes", (double)r->maxrss_bytes);
    cJSON_AddNumberToObject(j, "pids_peak", (double)r->pids_peak);
    cJSON_AddNumberToObject(j, "cpu_throttled_periods", (double)r->nr_throttled);
    if (r->exited)
        cJSON_AddNumberToObject(j, "exit_code", r->exit_code);
    else
        cJSON_AddNumberToObject(j, "signal", r->term_signal);
    return j;
}

static int env_set(char **env, size_t *n, char *kv)
{
    return ap_sandbox_env_set(env, n, AP_BENCH_MAX_ENV, kv);
}

/* The environment of run x: the image's, then x's own entries (NULL-terminated in env). */
static int exec_env(const struct ap_bench_exec *x, char **env, ap_error **err)
{
    size_t n_env = 0;
    for (size_t i = 0; i < x->image->run.n_env; i++)
        env_set(env, &n_env, x->image->run.env[i]);
    for (size_t i = 0; x->env != NULL && x->env[i] != NULL; i++)
        if (env_set(env, &n_env, x->env[i]) < 0)
            return ap_error_make(err, E2BIG, "%s: too many environment variables", x->label);
    return 0;
}

/* The sandbox that runs x: the image's root read-only as nobody, the plan's limits unless x
 * has its own, the default seccomp profile, the given descriptors. */
static struct ap_sandbox_spec exec_spec(const struct ap_bench *b, const struct ap_bench_exec *x,
                                        char **env, int in, int out, int errfd)
{
    const struct ap_bench_image *img = x->image;
    struct ap_sandbox_spec spec = {
        .rootfs = img->rootfs,
        .argv = x->argv,
        .envp = env,
        .workdir = img->run.workdir != NULL ? img->run.workdir : "/",
        .uid = 65534,
        .gid = 65534,
        .binds = x->binds,
        .n_binds = x->n_binds,
        .tmp_bytes = (uint64_t)b->tmp_bytes,
        .net = x->net,
        .limits = {.memory_bytes = x->memory_bytes ? x->memory_bytes : b->memory_limit,
                   .cpuset = x->cpus ? x->cpus : b->wl_cpus,
                   .pids_max = b->pids_max},
        .nofile = (uint64_t)(x->nofile ? x->nofile : b->nofile),
        .timeout_s = x->timeout_s,
        .seccomp = &b->seccomp,
        .stdin_fd = in,
        .stdout_fd = out,
        .stderr_fd = errfd,
        .on_exec = x->on_exec,
        .ctx = x->ctx,
        .stop_fd = x->stop_fd,
    };
    return spec;
}

/* How run x ended, from its record: 0 when it exited 0 (or was stopped on purpose), -2 when
 * interrupted, else -1 with an error that says how (timeout, OOM kill at memory_bytes, exit
 * status or signal, with the end of its stderr from errfd). */
static int run_verdict(const struct ap_bench_exec *x, const struct ap_run_record *rec, int errfd,
                       int64_t memory_bytes, ap_error **err)
{
    if (rec->interrupted) {
        ap_error_make(err, EINTR, "%s: interrupted", x->label);
        return -2;
    }
    char tail[400];
    stderr_tail(errfd, tail, sizeof(tail));
    if (rec->timed_out) {
        ap_error_make(err, ETIMEDOUT, "%s: timed out after %.0f s", x->label, x->timeout_s);
        return ap_error_hint(err, "a slower machine needs a smaller profile (--profile quick)");
    }
    if (rec->oom_killed)
        return ap_error_make(err, ENOMEM,
                             "%s: killed by the OOM killer at its memory limit (%lld B)", x->label,
                             (long long)memory_bytes);
    if (!rec->stopped && (!rec->exited || rec->exit_code != 0))
        return ap_error_make(
            err, 0, "%s: %s %d%s%s", x->label, rec->exited ? "exit status" : "signal",
            rec->exited ? rec->exit_code : rec->term_signal, tail[0] ? ": " : "", tail);
    return 0;
}

/* x->output: the kept output (*data, kept of len bytes; NULL when empty) handed to the caller,
 * NUL-terminated; *data is NULL after. An output not kept whole, or holding a NUL byte, is an
 * error. */
static int hand_output(const struct ap_bench_exec *x, char **data, size_t len, size_t kept, int oom,
                       ap_error **err)
{
    if (x->output == NULL)
        return 0;
    if (oom || kept != len)
        return ap_error_make(err, oom ? ENOMEM : EFBIG,
                             "%s: its output of %zu bytes could not be kept (at most %u bytes are)",
                             x->label, len, AP_BENCH_MAX_TEXT_OUTPUT);
    /* Text: a NUL byte would end it early for the reader, which would see less than was said. */
    const char *nul = kept > 0 ? memchr(*data, '\0', kept) : NULL;
    if (nul != NULL)
        return ap_error_make(err, EINVAL, "%s: its output holds a NUL byte (at byte %zu): not text",
                             x->label, (size_t)(nul - *data));
    char *s = realloc(*data, kept + 1);
    if (s == NULL)
        return ap_error_make(err, ENOMEM, "%s: keeping its output", x->label);
    s[kept] = '\0';
    *data = NULL;
    free(*x->output); /* an earlier attempt's */
    *x->output = s;
    return 0;
}

/* One attempt: runs x; g->noisy tells whether other work shared the workload CPUs. */
static int attempt(struct ap_bench *b, const struct ap_bench_exec *x, struct ap_run_record *rec,
                   cJSON **run, struct ap_bench_guard *g, ap_error **err)
{
    char *env[AP_BENCH_MAX_ENV] = {NULL};
    if (exec_env(x, env, err) < 0)
        return -1;
    cleanup_close int in = -1, errfd = -1;
    int out_p[2] = {-1, -1};
    if (x->stdin_path != NULL) {
        in = open(x->stdin_path, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
            ap_error_make(err, errno, "%s: opening the input %s", x->label, x->stdin_path);
            return -1;
        }
    }
    if ((errfd = make_memfd("stderr", err)) < 0)
        return -1;
    if (pipe2(out_p, O_CLOEXEC) < 0) {
        ap_error_make(err, errno, "%s: a pipe for its output", x->label);
        return -1;
    }
    /* The largest pipe an unprivileged process may ask for: fewer wake-ups of a task that
     * fills it. Where it is refused, the default 64 KiB pipe still works. */
    (void)fcntl(out_p[1], F_SETPIPE_SZ, 1 << 20);
    struct capture cap;
    memset(&cap, 0, sizeof(cap));
    cap.fd = out_p[0];
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(x->expected, "sha256");
    const cJSON *expect_len = cJSON_GetObjectItemCaseSensitive(x->expected, "length");
    cap.keep = (x->expected != NULL && !cJSON_IsString(sha)) || x->output != NULL;
    ap_sha256_init(&cap.h);
    if (capture_start(&cap, cJSON_IsNumber(expect_len) && expect_len->valuedouble > 0
                                ? (size_t)expect_len->valuedouble
                                : 0) < 0) {
        ap_error_make(err, errno, "%s: a thread to read its output", x->label);
        close(out_p[0]);
        close(out_p[1]);
        return -1;
    }
    struct ap_sandbox_spec spec = exec_spec(b, x, env, in, out_p[1], errfd);
    ap_bench_guard_start(x->noise_check, spec.limits.cpuset, g);
    int ran = ap_sandbox_run(&spec, rec, err);
    /* The sandbox is gone with every copy of the pipe's write end but ours. */
    close(out_p[1]);
    if (ran >= 0)
        ap_bench_guard_stop(b, spec.limits.cpuset, rec->cpu_total_ns, g);
    capture_finish(&cap);
    close(out_p[0]);
    cleanup_free char *data = cap.buf;
    size_t len = cap.total;
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_final_hex(&cap.h, hex);
    if (ran < 0) {
        ap_error_wrap(err, "%s", x->label);
        return -1;
    }
    if ((ran = run_verdict(x, rec, errfd, spec.limits.memory_bytes, err)) < 0)
        return ran;
    if (ap_bench_output_verdict(x, hex, data, len, cap.kept, cap.oom, err) < 0 ||
        hand_output(x, &data, len, cap.kept, cap.oom, err) < 0)
        return -1;
    *run = record_json(rec);
    cJSON_AddStringToObject(*run, "stdout_sha256", hex);
    cJSON_AddNumberToObject(*run, "stdout_bytes", (double)len);
    cJSON_AddBoolToObject(*run, "output_checked", x->expected != NULL);
    ap_bench_guard_record(g, rec, *run);
    return 0;
}

int ap_bench_sample(struct ap_bench *b, const struct ap_bench_exec *x, struct ap_run_record *rec,
                    cJSON **run, ap_error **err)
{
    *run = NULL;
    int tries = 0, rebased = 0;
    for (;;) {
        if (ap_bench_interrupted) {
            ap_error_make(err, EINTR, "interrupted");
            return -2;
        }
        struct ap_bench_guard g = {0};
        cJSON *r = NULL;
        int rc = attempt(b, x, rec, &r, &g, err);
        ap_bench_guard_free(&g);
        if (rc < 0)
            return rc;
        if (g.noisy) {
            /* A CPU that settled at a new speed: the run again, judged against that speed. */
            rc = ap_bench_noisy_next(b, x->label, x->cpus ? x->cpus : b->wl_cpus, g.why, g.slow,
                                     &tries, &rebased, err);
            if (rc != 0) {
                cJSON_Delete(r);
                if (rc < 0)
                    return -1;
                continue;
            }
        }
        ap_bench_guard_kept(b, r, &g);
        if (g.noisy)
            cJSON_AddBoolToObject(r, "noisy", 1);
        *run = r;
        return 0;
    }
}

int ap_bench_round_sample(struct ap_bench *b, struct ap_bench_exec *x, int r,
                          struct ap_run_record *rec, cJSON **run, ap_error **err)
{
    x->noise_check = r >= 0;
    int rc = ap_bench_sample(b, x, rec, run, err);
    if (rc < 0)
        return rc;
    if (r < 0) {
        cJSON_Delete(*run);
        *run = NULL;
        return 0;
    }
    return 1;
}

void ap_bench_progress(struct ap_bench *b, double est_s, const char *what)
{
    b->est_done_s += est_s;
    double f = b->est_total_s > 0 ? b->est_done_s / b->est_total_s : 0;
    double eta = -1;
    double spent = (double)(ap_clock_mono_ns() - b->progress.t0_ns) / 1e9;
    /* The estimate scaled by how fast this machine has gone through it so far. */
    if (b->est_done_s > 0 && spent > 1)
        eta = (b->est_total_s - b->est_done_s) * (spent / b->est_done_s);
    ap_progress_update(&b->progress, f, eta, what);
}

/* ---- inputs --------------------------------------------------------------------------------- */

int ap_bench_input(struct ap_bench *b, const cJSON *in_spec, char *out, size_t len, ap_error **err)
{
    const cJSON *gen = cJSON_GetObjectItemCaseSensitive(in_spec, "generator");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(in_spec, "n");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(in_spec, "sha256");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(in_spec, "length");
    if (!cJSON_IsString(gen) || !cJSON_IsNumber(n) || !cJSON_IsString(sha) ||
        !ap_sha256_hex_valid(sha->valuestring)) {
        ap_error_make(err, EINVAL, "a stdin input needs generator, n and sha256");
        return -1;
    }
    if (ap_fs_path(out, len, "%s/%s", b->inputs_dir, sha->valuestring) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the input %s in %.64s...", sha->valuestring,
                      b->inputs_dir);
        return -1;
    }
    char hex[AP_SHA256_HEX_LEN + 1];
    uint64_t got = 0;
    ap_error *e = NULL;
    if (ap_sha256_file(AT_FDCWD, out, hex, &got, &e) == 0 && strcmp(hex, sha->valuestring) == 0)
        return 0;
    ap_error_release(&e);
    if (ap_fs_mkdir_p(b->inputs_dir, 0755, err) < 0)
        return -1;
    /* The generator's Go program writes into a temporary file: a wrong or partial input is
     * never kept under its digest's name. */
    struct ap_bench_image *go = ap_bench_image(b, "go-1.23-static");
    if (go == NULL) {
        ap_error_make(err, ENOENT, "generating the %s input needs the image go-1.23-static",
                      gen->valuestring);
        return -1;
    }
    char tmp[1100], nbuf[32], label[128];
    if (ap_fs_path(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid()) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the temporary file of input %s in %.64s...",
                      sha->valuestring, b->inputs_dir);
        return -1;
    }
    snprintf(nbuf, sizeof(nbuf), "%.0f", n->valuedouble);
    snprintf(label, sizeof(label), "generating the input: %s %s", gen->valuestring, nbuf);
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ap_error_make(err, errno, "creating %s", tmp);
        return -1;
    }
    char *argv[] = {(char *)gen->valuestring, nbuf, NULL};
    struct ap_sandbox_spec spec = {
        .rootfs = go->rootfs,
        .argv = argv,
        .envp = go->run.env,
        .workdir = "/",
        .uid = 65534,
        .gid = 65534,
        .net = AP_NET_NONE,
        .limits = {.memory_bytes = b->memory_limit, .pids_max = b->pids_max},
        .timeout_s = 3600,
        .seccomp = &b->seccomp,
        .stdin_fd = -1,
        .stdout_fd = fd,
        .stderr_fd = -1,
    };
    ap_progress_line(&b->progress, "%s", label);
    struct ap_run_record rec;
    if (ap_sandbox_run(&spec, &rec, err) < 0 || !rec.exited || rec.exit_code != 0 ||
        fsync(fd) < 0) {
        if (*err == NULL)
            ap_error_make(err, 0, "%s failed (%s %d)", label, rec.exited ? "exit" : "signal",
                          rec.exited ? rec.exit_code : rec.term_signal);
        unlink(tmp);
        return -1;
    }
    if (ap_sha256_file(AT_FDCWD, tmp, hex, &got, err) < 0) {
        unlink(tmp);
        return -1;
    }
    if (strcmp(hex, sha->valuestring) != 0 ||
        (cJSON_IsNumber(size) && (double)got != size->valuedouble)) {
        unlink(tmp);
        ap_error_make(err, 0,
                      "%s: the input has sha256 %s and %llu bytes, the manifest expects "
                      "%s",
                      label, hex, (unsigned long long)got, sha->valuestring);
        return -1;
    }
    if (rename(tmp, out) < 0) {
        ap_error_make(err, errno, "renaming %s", tmp);
        unlink(tmp);
        return -1;
    }
    return 0;
}
