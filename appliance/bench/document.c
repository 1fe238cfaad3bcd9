/* The results document: its run, plan and environment (the facts of the machine a run's
 * figures depend on), a kept one resumed, the measurements with their raw samples, flags and
 * statistics, and its atomic save (runner.h has the contracts). Internal to appliance/bench. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/log.h"
#include "../sandbox/cgroup.h"
#include "results.h"
#include "runner.h"
#include "stats.h"
#include "status.h"

#ifndef AP_VERSION
#define AP_VERSION "0"
#endif
#ifndef AP_COMMIT
#define AP_COMMIT "unknown"
#endif

/* ---- the environment ------------------------------------------------------------------------ */

static void read_first(const char *path, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    cleanup_file FILE *f = fopen(path, "re");
    char line[512];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (key != NULL && strncmp(line, key, strlen(key)) != 0)
            continue;
        char *v = key != NULL ? strchr(line, ':') : line;
        if (v == NULL)
            continue;
        if (key != NULL)
            v++;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\n")] = '\0';
        snprintf(out, len, "%s", v);
        return;
    }
}

/* The facts of the machine and of the appliance that a run's figures depend on: environment()
 * records them, and --resume refuses a file whose facts differ. */
static void machine_facts(const struct ap_bench *b, cJSON *env)
{
    struct utsname u;
    if (uname(&u) == 0) {
        char k[600];
        snprintf(k, sizeof(k), "%s %s %s", u.sysname, u.release, u.version);
        cJSON_AddStringToObject(env, "kernel", k);
        cJSON_AddStringToObject(env, "arch", u.machine);
        cJSON_AddStringToObject(env, "host", u.nodename);
    }
    char buf[600];
    read_first("/proc/cpuinfo", "model name", buf, sizeof(buf));
    cJSON_AddStringToObject(env, "cpu_model", buf);
    cJSON_AddNumberToObject(env, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
    read_first("/proc/meminfo", "MemTotal", buf, sizeof(buf));
    cJSON_AddNumberToObject(env, "memory_bytes", strtod(buf, NULL) * 1024);
    read_first("/sys/devices/system/clocksource/clocksource0/current_clocksource", NULL, buf,
               sizeof(buf));
    cJSON_AddStringToObject(env, "clocksource", buf);
    const struct ap_cgroup_manager *mgr = NULL;
    ap_error *e = NULL;
    cJSON_AddStringToObject(env, "cgroup", ap_cgroup_detect(&mgr, &e) == 0 ? mgr->name : "none");
    ap_error_release(&e);
    cJSON *app = cJSON_AddObjectToObject(env, "appliance");
    cJSON_AddStringToObject(app, "version", AP_VERSION);
    cJSON_AddStringToObject(app, "commit", AP_COMMIT);
    cJSON *cpus = cJSON_AddObjectToObject(env, "cpus");
    cJSON_AddStringToObject(cpus, "workload", b->wl_cpus);
    cJSON_AddStringToObject(cpus, "load_and_orchestrator", b->load_cpus);
    cJSON_AddStringToObject(cpus, "threads_suite", b->threads_cpus);
    if (b->topo != NULL)
        cJSON_AddItemToObject(env, "topology", ap_topology_json(b->topo, &b->placement));
}

/* The value of the environment variable name when it is 1 to 128 printable ASCII characters
 * (anything else is not recorded), else NULL. */
static const char *scheduler_var(const char *name)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0' || strlen(v) > 128)
        return NULL;
    for (const char *c = v; *c != '\0'; c++)
        if (*c < 0x21 || *c > 0x7e)
            return NULL;
    return v;
}

/* The batch scheduler's record of the job that ran this run, when one did: Slurm's job, array
 * task and node (SLURM_*), or Kubernetes' completion index and pod (an Indexed Job sets
 * JOB_COMPLETION_INDEX and HOSTNAME; NODE_NAME when the pod passes it down). A campaign's
 * merge lists each part's node from it. Not a machine fact: a shard resumed on another node
 * of the same machine type goes on. NULL when no scheduler ran the run. */
static cJSON *scheduler(void)
{
    static const struct {
        const char *key, *var;
    } slurm[] = {{"job_id", "SLURM_JOB_ID"},
                 {"array_job_id", "SLURM_ARRAY_JOB_ID"},
                 {"array_task_id", "SLURM_ARRAY_TASK_ID"},
                 {"node", "SLURMD_NODENAME"},
                 {"cluster", "SLURM_CLUSTER_NAME"}},
      k8s[] = {{"job_completion_index", "JOB_COMPLETION_INDEX"},
               {"pod", "HOSTNAME"},
               {"node", "NODE_NAME"}};
    const char *name = scheduler_var("SLURM_JOB_ID") != NULL           ? "slurm"
                       : scheduler_var("JOB_COMPLETION_INDEX") != NULL ? "kubernetes"
                                                                       : NULL;
    if (name == NULL)
        return NULL;
    int is_slurm = strcmp(name, "slurm") == 0;
    size_t n = is_slurm ? sizeof(slurm) / sizeof(slurm[0]) : sizeof(k8s) / sizeof(k8s[0]);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", name);
    for (size_t i = 0; i < n; i++) {
        const char *v = scheduler_var(is_slurm ? slurm[i].var : k8s[i].var);
        if (v != NULL)
            cJSON_AddStringToObject(j, is_slurm ? slurm[i].key : k8s[i].key, v);
    }
    return j;
}

static cJSON *environment(struct ap_bench *b)
{
    cJSON *env = cJSON_CreateObject();
    ap_error *e = NULL;
    machine_facts(b, env);
    cJSON *sched = scheduler();
    if (sched != NULL)
        cJSON_AddItemToObject(env, "scheduler", sched);
    cJSON_AddStringToObject(env, "output_hash", b->output_hash);
    cJSON *imgs = cJSON_AddObjectToObject(env, "images");
    for (size_t i = 0; i < b->n_images; i++) {
        const struct ap_bench_image *img = &b->images[i];
        cJSON *j = cJSON_AddObjectToObject(imgs, img->name);
        cJSON_AddStringToObject(j, "digest", img->digest);
        cJSON_AddStringToObject(j, "lock_sha256", img->lock_sha256);
        cJSON_AddStringToObject(j, "language", img->language);
        cJSON_AddNumberToObject(j, "compressed_bytes", (double)img->compressed_bytes);
        cJSON_AddNumberToObject(j, "unpacked_bytes", (double)img->unpacked_bytes);
        if (img->interpreter != NULL)
            cJSON_AddStringToObject(j, "interpreter", img->interpreter);
    }
    cJSON *lim = cJSON_AddObjectToObject(env, "limits");
    cJSON_AddNumberToObject(lim, "memory_bytes", (double)b->memory_limit);
    cJSON_AddNumberToObject(lim, "server_memory_bytes", (double)b->server_memory_limit);
    cJSON_AddNumberToObject(lim, "pids_max", (double)b->pids_max);
    cJSON_AddNumberToObject(lim, "tmp_bytes", (double)b->tmp_bytes);
    cJSON_AddNumberToObject(lim, "nofile", (double)b->nofile);
    cJSON_AddStringToObject(lim, "user", "65534:65534");
    cJSON_AddStringToObject(lim, "root", "read-only");
    cJSON *sc = cJSON_AddObjectToObject(env, "seccomp");
    cJSON_AddStringToObject(sc, "profile", "default");
    cJSON_AddStringToObject(sc, "sha256", b->seccomp_sha256);
    cJSON_AddNumberToObject(sc, "rules", (double)b->seccomp.rules);
    cJSON *nt = cJSON_AddObjectToObject(env, "noise_thresholds");
    cJSON_AddNumberToObject(nt, "others_pct", b->noise.others_pct);
    cJSON_AddNumberToObject(nt, "steal_pct", b->noise.steal_pct);
    cJSON_AddNumberToObject(nt, "load_per_cpu", b->noise.load_per_cpu);
    struct ap_noise_report nr;
    if (ap_noise_quiet_check(b->all_cpus, 0.5, &nr, &e) == 0) {
        cJSON *n = cJSON_AddObjectToObject(env, "noise_at_start");
        ap_noise_report_json(&nr, n);
    }
    ap_error_release(&e);
    return env;
}

/* ---- a new document, or a kept one resumed -------------------------------------------------- */

void ap_bench_doc_new(struct ap_bench *b, cJSON *suites)
{
    b->doc = cJSON_CreateObject();
    cJSON_AddStringToObject(b->doc, "schema", AP_RESULTS_SCHEMA);
    cJSON *run = cJSON_AddObjectToObject(b->doc, "run");
    unsigned char rnd[4] = {0};
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        memset(rnd, 0, sizeof(rnd));
    char stamp[32], id[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(id, sizeof(id), "%s-%02x%02x%02x%02x", stamp, rnd[0], rnd[1], rnd[2], rnd[3]);
    cJSON_AddStringToObject(run, "id", id);
    char now[32];
    ap_bench_iso_now(now, sizeof(now));
    cJSON_AddStringToObject(run, "started", now);
    cJSON_AddNullToObject(run, "ended");
    cJSON_AddBoolToObject(run, "complete", 0);
    cJSON_AddStringToObject(run, "profile", b->profile_name);
    cJSON_AddItemToObject(run, "suites", suites);
    cJSON_AddNumberToObject(run, "repeat", b->repeat);
    cJSON_AddNumberToObject(run, "warmup", b->warmup);
    if (b->o->only != NULL)
        cJSON_AddStringToObject(run, "only", b->o->only);
    cJSON_AddStringToObject(run, "command", b->o->commandline ? b->o->commandline : "");
    cJSON_AddArrayToObject(run, "resumed");
    cJSON_AddItemToObject(b->doc, "plan", cJSON_Duplicate(b->plan, 1));
    cJSON_AddItemToObject(b->doc, "environment", environment(b));
    cJSON_AddArrayToObject(b->doc, "warnings");
    b->measurements = cJSON_AddArrayToObject(b->doc, "measurements");
}

/* Whether the kept run's plan or shard differs from this run's (why into buf): another
 * plan's samples, or another shard's groups, would be mixed into this one's. */
static int resume_plan_differs(const struct ap_bench *b, const cJSON *run, char *buf, size_t len)
{
    const cJSON *digest = cJSON_GetObjectItemCaseSensitive(run, "plan_sha256");
    if (!cJSON_IsString(digest) || strcmp(digest->valuestring, b->plan_sha256) != 0) {
        snprintf(buf, len,
                 "it was made from another plan (run.plan_sha256: its workloads, profile, "
                 "suites, repeat, warmup, --only or images differ)");
        return 1;
    }
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(run, "shard");
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(sh, "index");
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(sh, "count");
    int was_index = cJSON_IsNumber(ix) ? ix->valueint : -1;
    int was_count = cJSON_IsNumber(ct) ? ct->valueint : 0;
    int index = b->o->shard_count > 0 ? b->o->shard_index : -1;
    if (was_index == index && was_count == b->o->shard_count)
        return 0;
    char was[40] = "an unsharded run", now[40] = "an unsharded run";
    if (was_count > 0)
        snprintf(was, sizeof(was), "shard %d/%d", was_index, was_count);
    if (b->o->shard_count > 0)
        snprintf(now, sizeof(now), "shard %d/%d", index, b->o->shard_count);
    snprintf(buf, len, "it holds the results of %s, and this run is %s", was, now);
    return 1;
}

/* --resume: the kept document must be ours, of the same profile and suites, made on this
 * machine (kernel, CPU model and count, memory, clock source, cgroup version, CPU assignment)
 * by this build of the appliance, and its images the same builds; its measurements are kept
 * and the run goes on. */
int ap_bench_doc_resume(struct ap_bench *b, ap_error **err)
{
    cJSON *doc = NULL;
    if (ap_json_read_file(b->o->results_path, 1u << 30, &doc, err) < 0) {
        ap_error_hint(err, "--resume continues a results file an interrupted run left; "
                           "leave it out to start afresh");
        return -1;
    }
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(doc, "schema");
    cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run");
    const cJSON *profile = cJSON_GetObjectItemCaseSensitive(run, "profile");
    const char *why = NULL;
    char shard_why[200];
    /* Not AP_RESULTS_SCHEMA_1 either: one file records the samples of one appliance. */
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, AP_RESULTS_SCHEMA) != 0)
        why = "it is not a results file of this version";
    else if (!cJSON_IsString(profile) || strcmp(profile->valuestring, b->profile_name) != 0)
        why = "it was made with another profile";
    else if (resume_plan_differs(b, run, shard_why, sizeof(shard_why)))
        why = shard_why;
    /* Samples from another machine, kernel, CPU assignment or build of the appliance would
     * be mixed into one figure: refuse, naming what differs. */
    static const char *const facts[][2] = {{"kernel", NULL},
                                           {"arch", NULL},
                                           {"cpu_model", NULL},
                                           {"cpus_online", NULL},
                                           {"memory_bytes", NULL},
                                           {"clocksource", NULL},
                                           {"cgroup", NULL},
                                           {"appliance", "version"},
                                           {"appliance", "commit"},
                                           {"cpus", "workload"},
                                           {"cpus", "load_and_orchestrator"}};
    cJSON *here = cJSON_CreateObject();
    machine_facts(b, here);
    const cJSON *was_env = cJSON_GetObjectItemCaseSensitive(doc, "environment");
    char differs[1024] = "";
    for (size_t i = 0; why == NULL && i < AP_ARRAY_SIZE(facts); i++) {
        const cJSON *was = cJSON_GetObjectItemCaseSensitive(was_env, facts[i][0]);
        const cJSON *now = cJSON_GetObjectItemCaseSensitive(here, facts[i][0]);
        if (facts[i][1] != NULL) {
            was = cJSON_GetObjectItemCaseSensitive(was, facts[i][1]);
            now = cJSON_GetObjectItemCaseSensitive(now, facts[i][1]);
        }
        if (cJSON_Compare(was, now, 1))
            continue;
        cleanup_free char *a = was != NULL ? cJSON_PrintUnformatted(was) : NULL;
        cleanup_free char *c = now != NULL ? cJSON_PrintUnformatted(now) : NULL;
        snprintf(differs, sizeof(differs), "its %s%s%s was %.200s, here it is %.200s", facts[i][0],
                 facts[i][1] ? "." : "", facts[i][1] ? facts[i][1] : "", a ? a : "missing",
                 c ? c : "missing");
        why = differs;
    }
    cJSON_Delete(here);
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(was_env, "images");
    for (size_t i = 0; why == NULL && i < b->n_images; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(imgs, b->images[i].name), "digest");
        if (cJSON_IsString(d) && strcmp(d->valuestring, b->images[i].digest) != 0)
            why = "an image has been rebuilt differently since";
    }
    if (why != NULL) {
        ap_error_make(err, 0, "cannot resume %s: %s", b->o->results_path, why);
        ap_error_hint(err, "start afresh with another --out, or without --resume");
        cJSON_Delete(doc);
        return -1;
    }
    char now[32];
    ap_bench_iso_now(now, sizeof(now));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(run, "resumed"), cJSON_CreateString(now));
    cJSON_ReplaceItemInObjectCaseSensitive(run, "complete", cJSON_CreateFalse());
    b->doc = doc;
    b->measurements = cJSON_GetObjectItemCaseSensitive(doc, "measurements");
    if (!cJSON_IsArray(b->measurements))
        b->measurements = cJSON_AddArrayToObject(doc, "measurements");
    return 0;
}

/* ---- measurements --------------------------------------------------------------------------- */

/* The placement's warning that applies to m's figures, added once (the run's warnings and the
 * terminal have it already): a size is placed nowhere, the lang suite's counts and bytes do not
 * depend on what shares a core, the threads suite has its own CPUs. */
static void placement_warning(const struct ap_bench *b, cJSON *m, const char *suite)
{
    const char *text = strcmp(suite, "threads") == 0 ? b->placement.threads_warning
                       : strcmp(suite, "size") == 0 || strcmp(suite, "lang") == 0
                           ? ""
                           : b->placement.warning;
    cJSON *w = cJSON_GetObjectItemCaseSensitive(m, "warnings");
    const cJSON *it;
    cJSON_ArrayForEach(it, w)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, text) == 0)
            return;
    }
    if (text[0] != '\0')
        cJSON_AddItemToArray(w, cJSON_CreateString(text));
}

/* m's group (shard.h), from its id. */
static void measurement_group(cJSON *m, const char *id)
{
    char group[AP_BENCH_GROUP_ID_MAX];
    if (ap_bench_group_of(id, group, sizeof(group)) == 0)
        cJSON_AddStringToObject(m, "group", group);
}

cJSON *ap_bench_measurement(struct ap_bench *b, const char *id, const char *suite,
                            const char *workload, const char *image, cJSON *params)
{
    cJSON *m;
    cJSON_ArrayForEach(m, b->measurements)
    {
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (!cJSON_IsString(mid) || strcmp(mid->valuestring, id) != 0)
            continue;
        const cJSON *kept = cJSON_GetObjectItemCaseSensitive(m, "params");
        if (!cJSON_HasObjectItem(m, "group"))
            measurement_group(m, id);
        if (cJSON_Compare(kept, params, 1)) {
            cJSON_Delete(params);
            placement_warning(b, m, suite);
            return m;
        }
        /* A resumed run with other parameters: its samples measure something else. */
        cJSON_DeleteItemFromObjectCaseSensitive(m, "metrics");
        cJSON_DeleteItemFromObjectCaseSensitive(m, "runs");
        cJSON_DeleteItemFromObjectCaseSensitive(m, "warnings");
        cJSON_ReplaceItemInObjectCaseSensitive(m, "params", params);
        cJSON_AddObjectToObject(m, "metrics");
        cJSON_AddArrayToObject(m, "runs");
        cJSON_AddArrayToObject(m, "warnings");
        placement_warning(b, m, suite);
        return m;
    }
    m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", id);
    measurement_group(m, id);
    cJSON_AddStringToObject(m, "suite", suite);
    cJSON_AddStringToObject(m, "workload", workload);
    cJSON_AddStringToObject(m, "image", image);
    struct ap_bench_image *img = ap_bench_image(b, image);
    cJSON_AddStringToObject(m, "language", img ? img->language : "");
    cJSON_AddItemToObject(m, "params", params);
    cJSON_AddObjectToObject(m, "metrics");
    cJSON_AddArrayToObject(m, "runs");
    cJSON_AddArrayToObject(m, "warnings");
    placement_warning(b, m, suite);
    cJSON_AddItemToArray(b->measurements, m);
    return m;
}

const cJSON *ap_bench_find_measurement(const struct ap_bench *b, const char *id)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, b->measurements)
    {
        const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsString(mid) && strcmp(mid->valuestring, id) == 0)
            return m;
    }
    return NULL;
}

int ap_bench_count(const cJSON *m, const char *metric)
{
    const cJSON *x =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), metric);
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x, "samples"));
}

cJSON *ap_bench_flags_json(unsigned bits)
{
    cJSON *a = cJSON_CreateArray();
    for (unsigned s = AP_STATUS_COUNT; s-- > 1;)
        if (bits & AP_STATUS_SAMPLE_BITS & AP_STATUS_BIT(s))
            cJSON_AddItemToArray(a, cJSON_CreateString(ap_status_name((enum ap_status)s)));
    return a;
}

unsigned ap_bench_flags_bits(const cJSON *a)
{
    unsigned bits = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        enum ap_status s;
        if (cJSON_IsString(it) && ap_status_parse(it->valuestring, &s) == 0)
            bits |= AP_STATUS_BIT(s);
    }
    return bits & AP_STATUS_SAMPLE_BITS;
}

void ap_bench_add_flagged(cJSON *m, const char *metric, const char *unit, double value,
                          unsigned flags)
{
    cJSON *metrics = cJSON_GetObjectItemCaseSensitive(m, "metrics");
    cJSON *x = cJSON_GetObjectItemCaseSensitive(metrics, metric);
    if (x == NULL) {
        x = cJSON_AddObjectToObject(metrics, metric);
        cJSON_AddStringToObject(x, "unit", unit);
        cJSON_AddArrayToObject(x, "samples");
    }
    cJSON *samples = cJSON_GetObjectItemCaseSensitive(x, "samples");
    cJSON_AddItemToArray(samples, cJSON_CreateNumber(value));
    /* "flags" runs beside "samples" once any sample has one; the samples before it had none. */
    cJSON *fl = cJSON_GetObjectItemCaseSensitive(x, "flags");
    flags &= AP_STATUS_SAMPLE_BITS;
    if (fl == NULL && flags == 0)
        return;
    if (fl == NULL)
        fl = cJSON_AddArrayToObject(x, "flags");
    for (int i = cJSON_GetArraySize(fl), n = cJSON_GetArraySize(samples); i < n - 1; i++)
        cJSON_AddItemToArray(fl, cJSON_CreateArray());
    cJSON_AddItemToArray(fl, ap_bench_flags_json(flags));
}

void ap_bench_add(cJSON *m, const char *metric, const char *unit, double value)
{
    ap_bench_add_flagged(m, metric, unit, value, 0);
}

unsigned ap_bench_flags_union(const cJSON *metric)
{
    unsigned bits = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(metric, "flags")) bits |=
        ap_bench_flags_bits(it);
    return bits;
}

unsigned ap_bench_run_flags(const cJSON *run)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "noisy"))
               ? AP_STATUS_BIT(AP_STATUS_NOISY)
               : 0;
}

void ap_bench_add_run(cJSON *m, cJSON *run)
{
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(m, "runs"), run);
}

void ap_bench_warn(struct ap_bench *b, cJSON *m, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    cJSON *w = cJSON_GetObjectItemCaseSensitive(m, "warnings");
    const cJSON *it;
    cJSON_ArrayForEach(it, w)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, text) == 0)
            return;
    }
    cJSON_AddItemToArray(w, cJSON_CreateString(text));
    ap_progress_line(&b->progress, "warning: %s: %s",
                     cJSON_GetObjectItemCaseSensitive(m, "id")->valuestring, text);
}

static void add_number_or_null(cJSON *o, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, key, v);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_stats(cJSON *metric, const struct ap_stats *s)
{
    cJSON *j = cJSON_AddObjectToObject(metric, "stats");
    cJSON_AddNumberToObject(j, "n", (double)s->n);
    cJSON_AddNumberToObject(j, "median", s->median);
    cJSON_AddNumberToObject(j, "min", s->min);
    cJSON_AddNumberToObject(j, "max", s->max);
    cJSON_AddNumberToObject(j, "mean", s->mean);
    /* Undefined figures (the spread at n = 1, cv about a mean of 0, the interval below
     * AP_STATS_CI_MIN_N) are null, never a number that could be read as a measurement. */
    add_number_or_null(j, "stddev", s->stddev);
    add_number_or_null(j, "mad", s->mad);
    add_number_or_null(j, "cv", s->cv);
    add_number_or_null(j, "ci95_lo", s->ci95_lo);
    add_number_or_null(j, "ci95_hi", s->ci95_hi);
    add_number_or_null(j, "ci95_coverage", s->ci95_coverage);
    cJSON_AddBoolToObject(j, "n_too_small", s->n_too_small);
    cJSON_AddNumberToObject(j, "range_coverage", s->range_coverage);
    cJSON_AddBoolToObject(j, "unstable", s->unstable);
}

void ap_bench_metric_update(cJSON *metric, int include_noisy, int exact, double shared_cv)
{
    const cJSON *samples = cJSON_GetObjectItemCaseSensitive(metric, "samples");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(metric, "flags");
    int n = cJSON_GetArraySize(samples);
    cJSON_DeleteItemFromObjectCaseSensitive(metric, "stats");
    cJSON_DeleteItemFromObjectCaseSensitive(metric, "status");
    cJSON_DeleteItemFromObjectCaseSensitive(metric, "warning");
    if (n == 0)
        return;
    cleanup_free double *x = calloc((size_t)n, sizeof(*x));
    if (x == NULL)
        return;
    /* The statistics are those of the samples that count: every one but those taken on noisy
     * CPUs, unless the user asked for them too. The status is that of what counts. */
    unsigned counted = 0, all = 0;
    size_t k = 0;
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, samples)
    {
        unsigned bits = ap_bench_flags_bits(cJSON_GetArrayItem(fl, i++));
        all |= bits;
        if ((bits & AP_STATUS_BIT(AP_STATUS_NOISY)) && !include_noisy)
            continue;
        counted |= bits;
        x[k++] = it->valuedouble;
    }
    char why[400] = "", left[200] = "";
    if (k < (size_t)n)
        snprintf(left, sizeof(left),
                 "%zu of %d samples, taken on noisy CPUs, are left out of the statistics "
                 "(--include-noisy keeps them)",
                 (size_t)n - k, n);
    struct ap_stats s;
    if (k == 0) {
        /* Nothing left to say anything with: no statistics, and the status says why. */
        cJSON_AddNullToObject(metric, "stats");
        counted = all;
    } else if (ap_stats_compute(x, k, &s) == 0) {
        add_stats(metric, &s);
        /* A counted figure (a size in bytes) is exact at n = 1: no spread to estimate. */
        if (!exact) {
            counted |= ap_status_of_stats(&s);
            if (s.unstable) {
                ap_stats_unstable_reason(&s, why, sizeof(why));
            } else if (shared_cv > 0 && s.cv > shared_cv) {
                counted |= AP_STATUS_BIT(AP_STATUS_UNSTABLE);
                snprintf(why, sizeof(why),
                         "the standard deviation is %.1f %% of the mean (n = %zu), more than the "
                         "%g %% a figure may show on a host whose caches this run found shared "
                         "(environment.memory_latency): repeatability was not reached, so the "
                         "figure is unstable and a ratio or verdict on it inconclusive",
                         s.cv * 100.0, s.n, shared_cv * 100.0);
            }
        }
    } else {
        return;
    }
    cJSON_AddStringToObject(metric, "status", ap_status_name(ap_status_pick(counted)));
    if (why[0] != '\0' || left[0] != '\0') {
        char text[620];
        snprintf(text, sizeof(text), "%s%s%s", left, left[0] && why[0] ? "; " : "", why);
        cJSON_AddStringToObject(metric, "warning", text);
    }
}

int ap_bench_counted(const cJSON *m)
{
    const cJSON *suite = cJSON_GetObjectItemCaseSensitive(m, "suite");
    return (cJSON_IsString(suite) && strcmp(suite->valuestring, "size") == 0) ||
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(m, "params"), "counted"));
}

void ap_bench_results_restat(cJSON *results)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    int include_noisy = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "include_noisy"));
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(results, "environment"),
                                         "memory_latency"),
        "verdict");
    int shared = cJSON_IsString(verdict) && strcmp(verdict->valuestring, "shared") == 0;
    cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(results, "measurements"))
    {
        const cJSON *suite = cJSON_GetObjectItemCaseSensitive(m, "suite");
        int exact = ap_bench_counted(m);
        double shared_cv = shared && cJSON_IsString(suite) && strcmp(suite->valuestring, "cpu") == 0
                               ? AP_BENCH_SHARED_CV
                               : 0;
        cJSON *metric;
        cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(m, "metrics"))
        {
            ap_bench_metric_update(metric, include_noisy, exact, shared_cv);
            ap_bench_noisy_warning(metric, m);
        }
    }
}

int ap_bench_save(struct ap_bench *b, ap_error **err)
{
    /* Every statistic is recomputed under this invocation's --include-noisy, which the run
     * records (a resumed run's too). */
    cJSON *run = cJSON_GetObjectItemCaseSensitive(b->doc, "run");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "include_noisy");
    cJSON_AddBoolToObject(run, "include_noisy", b->o->include_noisy);
    ap_bench_results_restat(b->doc);
    if (ap_json_write_file(b->o->results_path, b->doc, err) < 0) {
        ap_error_wrap(err, "writing the results");
        return -1;
    }
    return 0;
}
