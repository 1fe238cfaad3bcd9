/* The JSON servers of the http, latency, memory and service-start suites: their manifests and
 * one server's life in a sandbox of its own, from its start to the first valid answer (with
 * every worker accepting) to its stop, and its memory and CPU time while it runs (server.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/fs.h"
#include "acceptors.h"
#include "loadgen.h"
#include "server.h"

#define READY_TIMEOUT_S 60.0

/* ---- the servers' manifests ------------------------------------------------------------------ */

/* Copies v into dst; a value that does not fit is an error naming the manifest's field. */
static int copy_field(char *dst, size_t len, const char *v, const char *rel, const char *field,
                      ap_error **err)
{
    int n = snprintf(dst, len, "%s", v);
    if (n < 0 || (size_t)n >= len)
        return ap_error_make(err, ENAMETOOLONG,
                             "%s/workload.json: its %s %.64s... is longer than %zu bytes", rel,
                             field, v, len - 1);
    return 0;
}

static int add_arg(struct ap_bench_server *s, int *n, const char *v, ap_error **err)
{
    if (*n + 1 >= AP_BENCH_SERVER_MAX_ARGS)
        return ap_error_make(err, E2BIG, "server %s: its command has more than %d words", s->name,
                             AP_BENCH_SERVER_MAX_ARGS - 1);
    int len = snprintf(s->argv_store[*n], sizeof(s->argv_store[*n]), "%s", v);
    if (len < 0 || (size_t)len >= sizeof(s->argv_store[*n]))
        return ap_error_make(err, ENAMETOOLONG,
                             "server %s: the word %.64s... of its command is longer than %zu bytes",
                             s->name, v, sizeof(s->argv_store[*n]) - 1);
    s->argv[*n] = s->argv_store[*n];
    (*n)++;
    s->argv[*n] = NULL;
    return 0;
}

/* The server's argv: the manifest's command (a Go program found under the plan's servers
 * folder), then its address and workers flags when it names them. */
static int server_command(struct ap_bench *b, const char *lang, const cJSON *m,
                          struct ap_bench_server *s, ap_error **err)
{
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m, "command"))
    {
        if (!cJSON_IsString(it))
            continue;
        const char *word = it->valuestring;
        char full[160];
        if (n == 0 && strcmp(lang, "go") == 0) {
            /* The binary lives in the runtime image under the plan's servers folder. */
            const cJSON *dirj = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(b->plan, "go_binaries"), "servers");
            const char *dir = cJSON_IsString(dirj) ? dirj->valuestring : "/usr/local/bin/servers";
            const char *base = strrchr(word, '/');
            if (ap_fs_path(full, sizeof(full), "%s/%s", dir, base ? base + 1 : word) < 0)
                return ap_error_make(err, ENAMETOOLONG,
                                     "server %s: its program %.64s... in %.64s...", s->name,
                                     base ? base + 1 : word, dir);
            word = full;
        }
        if (add_arg(s, &n, word, err) < 0)
            return -1;
    }
    char addr[64], workers[16];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", s->port);
    snprintf(workers, sizeof(workers), "%d", b->n_wl_cpus);
    const cJSON *af =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "addr_param"), "flag");
    const cJSON *wf = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(m, "workers_param"), "flag");
    if (cJSON_IsString(af) &&
        (add_arg(s, &n, af->valuestring, err) < 0 || add_arg(s, &n, addr, err) < 0))
        return -1;
    s->workers = 1;
    if (cJSON_IsString(wf)) {
        if (add_arg(s, &n, wf->valuestring, err) < 0 || add_arg(s, &n, workers, err) < 0)
            return -1;
        s->workers = b->n_wl_cpus;
    }
    return 0;
}

/* The server's environment ("NAME=value", at most 15) and binds (at most 4) from m; more is
 * an error naming the limit. */
static int server_env_binds(struct ap_bench *b, const cJSON *m, struct ap_bench_server *s,
                            ap_error **err)
{
    size_t ne = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(m, "env"))
    {
        if (cJSON_IsString(it) && ne + 1 >= AP_BENCH_SERVER_MAX_ENV)
            return ap_error_make(err, E2BIG,
                                 "server %s: more than %d environment variables in its manifest",
                                 s->name, AP_BENCH_SERVER_MAX_ENV - 1);
        if (cJSON_IsString(it)) {
            int len = snprintf(s->env_store[ne], sizeof(s->env_store[ne]), "%s=%s", it->string,
                               it->valuestring);
            if (len < 0 || (size_t)len >= sizeof(s->env_store[ne]))
                return ap_error_make(err, ENAMETOOLONG,
                                     "server %s: its variable %.64s... is longer than %zu bytes",
                                     s->name, it->string, sizeof(s->env_store[ne]) - 1);
            s->env[ne] = s->env_store[ne];
            ne++;
        }
    }
    s->env[ne] = NULL;
    cJSON_ArrayForEach(
        it, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "run"), "binds"))
    {
        const cJSON *src = cJSON_GetObjectItemCaseSensitive(it, "src");
        const cJSON *dst = cJSON_GetObjectItemCaseSensitive(it, "dst");
        const cJSON *mode = cJSON_GetObjectItemCaseSensitive(it, "mode");
        if (!cJSON_IsString(src) || !cJSON_IsString(dst))
            continue;
        if (s->n_binds == AP_BENCH_SERVER_MAX_BINDS)
            return ap_error_make(err, E2BIG, "server %s: more than %d binds in its manifest",
                                 s->name, AP_BENCH_SERVER_MAX_BINDS);
        /* Sources are named from the top of the tree ("images/workloads/..."). */
        const char *prefix = "images/workloads";
        const char *rest = strncmp(src->valuestring, prefix, strlen(prefix)) == 0
                               ? src->valuestring + strlen(prefix)
                               : NULL;
        if (ap_fs_path(s->bind_src[s->n_binds], sizeof(s->bind_src[0]), "%s%s",
                       rest != NULL ? b->o->workloads_dir : "",
                       rest != NULL ? rest : src->valuestring) < 0 ||
            ap_fs_path(s->bind_dst[s->n_binds], sizeof(s->bind_dst[0]), "%s", dst->valuestring) < 0)
            return ap_error_make(err, ENAMETOOLONG, "server %s: its bind of %.64s... on %.64s...",
                                 s->name, src->valuestring, dst->valuestring);
        s->binds[s->n_binds] =
            (struct ap_bind){s->bind_src[s->n_binds], s->bind_dst[s->n_binds],
                             !cJSON_IsString(mode) || strcmp(mode->valuestring, "rw") != 0};
        s->n_binds++;
    }
    return 0;
}

static int load_server(struct ap_bench *b, const char *lang, const char *dir_name,
                       struct ap_bench_server *s, ap_error **err)
{
    char rel[300]; /* fits: lang is "go" or "python", dir_name a folder's name (NAME_MAX) */
    snprintf(rel, sizeof(rel), "servers/%s/%s", lang, dir_name);
    cleanup_cjson cJSON *m = NULL;
    if (ap_bench_manifest(b, rel, &m, err) < 0)
        return -1;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "available")))
        return 0;
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const cJSON *iname =
        cJSON_GetObjectItemCaseSensitive(imgs, strcmp(lang, "go") == 0 ? "go" : "python_web");
    s->img = cJSON_IsString(iname) ? ap_bench_image(b, iname->valuestring) : NULL;
    if (s->img == NULL)
        return 0;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
    const cJSON *fw = cJSON_GetObjectItemCaseSensitive(m, "framework");
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
    const cJSON *port = cJSON_GetObjectItemCaseSensitive(m, "port");
    const cJSON *ep = cJSON_GetObjectItemCaseSensitive(m, "endpoint");
    if (!cJSON_IsString(name) || !cJSON_IsArray(cmd) || !cJSON_IsNumber(port)) {
        ap_error_make(err, EINVAL, "%s/%s/workload.json: name, command and port are needed",
                      b->o->workloads_dir, rel);
        return -1;
    }
    if (!ap_bench_wanted(b, name->valuestring))
        return 0;
    /* The name bounds the ids built from it (suite-http.c). */
    if (copy_field(s->name, sizeof(s->name), name->valuestring, rel, "name", err) < 0 ||
        copy_field(s->framework, sizeof(s->framework), cJSON_IsString(fw) ? fw->valuestring : "",
                   rel, "framework", err) < 0 ||
        copy_field(s->path, sizeof(s->path), cJSON_IsString(ep) ? ep->valuestring : "/json", rel,
                   "endpoint", err) < 0)
        return -1;
    s->port = port->valueint;
    if (server_command(b, lang, m, s, err) < 0 || server_env_binds(b, m, s, err) < 0)
        return -1;
    return 1;
}

/* Every available server whose image takes part: Go first, then Python. */
int ap_bench_servers_list(struct ap_bench *b, struct ap_bench_server *out, size_t *n,
                          ap_error **err)
{
    *n = 0;
    const char *langs[] = {"go", "python"};
    for (size_t l = 0; l < 2; l++) {
        char dir[1100];
        if (ap_fs_path(dir, sizeof(dir), "%s/servers/%s", b->o->workloads_dir, langs[l]) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the servers' folder servers/%s in %.64s...",
                                 langs[l], b->o->workloads_dir);
        char **names;
        size_t nn;
        if (ap_fs_list_names(dir, "workload.json", AP_FS_LIST_MISSING_EMPTY, &names, &nn, err) < 0)
            return -1; /* a missing folder: a language without servers */
        int rc = 0;
        for (size_t i = 0; i < nn && rc >= 0 && *n < AP_BENCH_MAX_SERVERS; i++) {
            memset(&out[*n], 0, sizeof(out[*n]));
            out[*n].b = b;
            rc = load_server(b, langs[l], names[i], &out[*n], err);
            if (rc > 0)
                (*n)++;
        }
        ap_fs_names_free(names, nn);
        if (rc < 0)
            return -1;
    }
    return 0;
}

size_t ap_bench_server_count(struct ap_bench *b)
{
    struct ap_bench_server *sv = calloc(AP_BENCH_MAX_SERVERS, sizeof(*sv));
    size_t n = 0;
    ap_error *e = NULL;
    if (sv != NULL && ap_bench_servers_list(b, sv, &n, &e) < 0)
        n = 0;
    ap_error_release(&e);
    free(sv);
    return n;
}

/* ---- one server's life ----------------------------------------------------------------------- */

static void on_exec(void *ctx, pid_t pid, struct ap_sandbox_live *live)
{
    struct ap_bench_server *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->t_exec_ns = ap_clock_mono_ns();
    s->init_pid = pid;
    s->live = live;
    s->execd = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *server_main(void *arg)
{
    struct ap_bench_server *s = arg;
    char label[160];
    snprintf(label, sizeof(label), "server %s", s->name);
    struct ap_bench_exec x = {
        .image = s->img,
        .argv = s->argv,
        .env = s->env,
        .binds = s->binds,
        .n_binds = s->n_binds,
        .memory_bytes = s->b->server_memory_limit,
        .timeout_s = 0,
        .net = AP_NET_LOOPBACK,
        .on_exec = on_exec,
        .ctx = s,
        .stop_fd = s->stop_fd,
        .label = label,
    };
    s->rc = ap_bench_sample(s->b, &x, &s->rec, &s->run, &s->err);
    pthread_mutex_lock(&s->mu);
    s->finished = 1;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* The server's processes, from its sandbox's cgroup. */
static int server_pids(void *ctx, pid_t *pids, size_t max, size_t *n, ap_error **err)
{
    struct ap_bench_server *s = ctx;
    return ap_sandbox_live_pids(s->live, pids, max, n, err);
}

/* Starts s and waits until it is ready (at most READY_TIMEOUT_S): a valid HTTP 200, and with
 * several workers every one of them waiting for connections on its port (acceptors.h), not
 * only the first to answer. t_ready_ns is the later of the two. */
int ap_bench_server_start(struct ap_bench_server *s, ap_error **err)
{
    s->execd = s->finished = 0;
    s->netns_fd = s->pidfd = -1;
    s->rc = 0;
    s->err = NULL;
    s->run = NULL;
    s->stop_fd = eventfd(0, EFD_CLOEXEC);
    if (s->stop_fd < 0) {
        ap_error_make(err, errno, "eventfd");
        return -1;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->t_call_ns = ap_clock_mono_ns();
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        ap_error_make(err, errno, "starting a thread for %s", s->name);
        close(s->stop_fd);
        return -1;
    }
    s->started = 1;
    pthread_mutex_lock(&s->mu);
    while (!s->execd && !s->finished)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    if (!s->execd) {
        ap_bench_server_stop(s, err);
        if (*err == NULL)
            ap_error_make(err, 0, "server %s ended before it ran", s->name);
        return -1;
    }
    char ns[64];
    snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)s->init_pid);
    s->netns_fd = open(ns, O_RDONLY | O_CLOEXEC);
    s->pidfd = (int)syscall(SYS_pidfd_open, s->init_pid, 0);
    if (s->netns_fd < 0 || s->pidfd < 0) {
        ap_error_make(err, errno, "server %s: joining its network namespace", s->name);
        ap_bench_server_stop(s, err);
        return -1;
    }
    struct ap_load_probe_spec probe = {
        .addr = "127.0.0.1",
        .port = (uint16_t)s->port,
        .path = s->path,
        .netns_fd = s->netns_fd,
        .deadline_ns = ap_clock_mono_ns() + (int64_t)(READY_TIMEOUT_S * 1e9),
        .interval_ns = AP_LOAD_PROBE_INTERVAL_NS,
        .pidfd = s->pidfd,
    };
    struct ap_load_probe_result pr;
    int prc = ap_load_probe(&probe, &pr, err);
    s->t_ready_ns = pr.ok_ns;
    int64_t all_ns = 0;
    int seen = 0;
    if (prc == 0 && s->workers > 1) {
        prc = ap_acceptors_wait(server_pids, s, (uint16_t)s->port, s->workers, probe.deadline_ns,
                                s->pidfd, &all_ns, &seen, err);
        if (all_ns > s->t_ready_ns)
            s->t_ready_ns = all_ns;
    }
    if (prc < 0) {
        ap_error_wrap(err, "server %s did not answer a valid HTTP 200", s->name);
        ap_error *e2 = NULL;
        ap_bench_server_stop(s, &e2);
        if (e2 != NULL) {
            ap_error_wrap(err, "%s", e2->msg);
            ap_error_release(&e2);
        }
        return -1;
    }
    return 0;
}

/* Stops s; an error when it had ended by itself (crashed, OOM) rather than on our word. */
int ap_bench_server_stop(struct ap_bench_server *s, ap_error **err)
{
    if (!s->started)
        return 0;
    uint64_t one = 1;
    if (write(s->stop_fd, &one, sizeof(one)) < 0) {
        /* the thread still ends at the sandbox's end */
    }
    pthread_join(s->thread, NULL);
    s->started = 0;
    close(s->stop_fd);
    if (s->netns_fd >= 0)
        close(s->netns_fd);
    if (s->pidfd >= 0)
        close(s->pidfd);
    s->netns_fd = s->pidfd = -1;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    int rc = 0;
    if (s->rc < 0) {
        if (*err == NULL) {
            *err = s->err;
            s->err = NULL;
        }
        rc = s->rc;
    } else if (!s->rec.stopped) {
        if (*err == NULL)
            ap_error_make(err, 0, "server %s ended by itself during the run (%s %d)", s->name,
                          s->rec.exited ? "exit status" : "signal",
                          s->rec.exited ? s->rec.exit_code : s->rec.term_signal);
        rc = -1;
    }
    ap_error_release(&s->err);
    return rc;
}

void ap_bench_servers_stop(struct ap_bench_server *sv, size_t n, ap_error **err)
{
    for (size_t i = 0; i < n; i++) {
        ap_error *e = NULL;
        ap_bench_server_stop(&sv[i], err != NULL && *err == NULL ? err : &e);
        ap_error_release(&e);
        cJSON_Delete(sv[i].run);
        sv[i].run = NULL;
    }
}

/* The accounting of s's cgroup now; -1 when it cannot be read. */
static int server_stats(struct ap_bench_server *s, struct ap_cgroup_stats *st)
{
    ap_error *e = NULL;
    if (s->live == NULL || ap_sandbox_live_stats(s->live, st, &e) < 0) {
        ap_error_release(&e);
        return -1;
    }
    return 0;
}

int64_t ap_bench_server_memory(struct ap_bench_server *s, int64_t *working_set)
{
    struct ap_cgroup_stats st;
    if (server_stats(s, &st) < 0)
        return -1;
    *working_set = st.memory_current_bytes - st.memory_inactive_file_bytes;
    return st.memory_current_bytes;
}

/* PSS, USS and RSS summed over the server's processes (its sandbox's init left out). */
int ap_bench_server_procmem(struct ap_bench_server *s, struct ap_procmem *pm)
{
    pid_t pids[256];
    size_t n = 0;
    ap_error *e = NULL;
    if (s->live == NULL || ap_sandbox_live_pids(s->live, pids, AP_ARRAY_SIZE(pids), &n, &e) < 0 ||
        ap_procmem_sum(pids, n < AP_ARRAY_SIZE(pids) ? n : AP_ARRAY_SIZE(pids), s->init_pid, pm,
                       &e) < 0) {
        ap_error_release(&e);
        return -1;
    }
    return 0;
}

int64_t ap_bench_server_cpu_ns(struct ap_bench_server *s)
{
    struct ap_cgroup_stats st;
    return server_stats(s, &st) < 0 ? -1 : st.cpu_usage_ns;
}

cJSON *ap_bench_server_params(const struct ap_bench_server *s, const struct ap_bench *b)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "framework", s->framework);
    cJSON *av = cJSON_AddArrayToObject(p, "command");
    for (int k = 0; s->argv[k] != NULL; k++)
        cJSON_AddItemToArray(av, cJSON_CreateString(s->argv[k]));
    cJSON_AddStringToObject(p, "endpoint", s->path);
    cJSON_AddStringToObject(p, "server_cpuset", b->wl_cpus);
    cJSON_AddNumberToObject(p, "workers", s->workers);
    cJSON_AddStringToObject(p, "load_cpuset", b->load_cpus);
    cJSON_AddNumberToObject(p, "server_memory_limit_bytes", (double)b->server_memory_limit);
    cJSON_AddStringToObject(p, "profile", b->profile_name);
    return p;
}
