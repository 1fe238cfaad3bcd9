/* The JSON servers the http, latency, memory and service-start suites measure: one per image
 * and framework, from the manifests under workloads/servers, each run in a sandbox of its own
 * on the workload CPUs. Internal to appliance/bench (suite-http.c). */
#ifndef AP_BENCH_SERVER_H
#define AP_BENCH_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/json.h"
#include "procmem.h"
#include "runner.h"

#define AP_BENCH_MAX_SERVERS 16
#define AP_BENCH_SERVER_MAX_ARGS 32
#define AP_BENCH_SERVER_MAX_ENV 16 /* entries of env, the NULL terminator included */
#define AP_BENCH_SERVER_MAX_BINDS 4

struct ap_bench_server {
    struct ap_bench *b;
    char name[64], framework[64];
    struct ap_bench_image *img;
    char *argv[AP_BENCH_SERVER_MAX_ARGS];
    char argv_store[AP_BENCH_SERVER_MAX_ARGS][160];
    char *env[AP_BENCH_SERVER_MAX_ENV];
    char env_store[AP_BENCH_SERVER_MAX_ENV][256];
    struct ap_bind binds[AP_BENCH_SERVER_MAX_BINDS];
    char bind_src[AP_BENCH_SERVER_MAX_BINDS][1100], bind_dst[AP_BENCH_SERVER_MAX_BINDS][256];
    size_t n_binds;
    int port;
    int workers; /* worker processes asked for (the manifest's workers_param), else 1 */
    char path[128];
    /* While it runs. */
    pthread_t thread;
    int started;
    int stop_fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int execd, finished;
    pid_t init_pid;
    struct ap_sandbox_live *live;
    int64_t t_call_ns, t_exec_ns, t_ready_ns;
    int rc;
    ap_error *err;
    struct ap_run_record rec;
    cJSON *run;
    int netns_fd, pidfd;
};

/* The servers of the run (those whose image takes part and whose name --only matches) into out
 * (room for AP_BENCH_MAX_SERVERS), *n how many. */
int ap_bench_servers_list(struct ap_bench *b, struct ap_bench_server *out, size_t *n,
                          ap_error **err);

/* Starts s and waits until it is ready: a valid HTTP 200, and with several workers every one
 * of them waiting for connections on its port. t_ready_ns is when. */
int ap_bench_server_start(struct ap_bench_server *s, ap_error **err);

/* Stops s; an error when it had ended by itself (crashed, OOM) rather than on our word.
 * ap_bench_servers_stop stops the n of sv, the first error into err, their runs released. */
int ap_bench_server_stop(struct ap_bench_server *s, ap_error **err);
void ap_bench_servers_stop(struct ap_bench_server *sv, size_t n, ap_error **err);

/* While s runs, from its cgroup: the memory charged (page cache included; *working_set without
 * the reclaimable cache) and its CPU time, -1 when they cannot be read; PSS, USS and RSS summed
 * over its processes (its sandbox's init left out), -1 when they cannot be read. */
int64_t ap_bench_server_memory(struct ap_bench_server *s, int64_t *working_set);
int64_t ap_bench_server_cpu_ns(struct ap_bench_server *s);
int ap_bench_server_procmem(struct ap_bench_server *s, struct ap_procmem *pm);

/* The parameters of a measurement of s (framework, command, endpoint, CPUs, limits, profile). */
cJSON *ap_bench_server_params(const struct ap_bench_server *s, const struct ap_bench *b);

#endif
