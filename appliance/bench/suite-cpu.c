/* The cpu suite (the ten Benchmarks Game tasks, wall and CPU time), the memory peak of each
 * task, and the threads suite (one CPU-bound task split over 1, 2, 4, 8 workers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "runner.h"

#define MAX_ARGS 32

/* The images taking part, Go first then the Python ones, in the plan's order. */
static size_t cpu_images(struct ap_bench *b, const cJSON *python_only, struct ap_bench_image **out)
{
    size_t n = 0;
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const cJSON *go = cJSON_GetObjectItemCaseSensitive(imgs, "go");
    struct ap_bench_image *g = cJSON_IsString(go) ? ap_bench_image(b, go->valuestring) : NULL;
    if (g != NULL)
        out[n++] = g;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(imgs, "python"))
    {
        if (!cJSON_IsString(it) || n == AP_BENCH_MAX_IMAGES)
            continue;
        if (python_only != NULL) {
            int listed = 0;
            const cJSON *p;
            cJSON_ArrayForEach(p, python_only) listed |=
                cJSON_IsString(p) && strcmp(p->valuestring, it->valuestring) == 0;
            if (!listed)
                continue;
        }
        struct ap_bench_image *p = ap_bench_image(b, it->valuestring);
        if (p != NULL)
            out[n++] = p;
    }
    return n;
}

/* argv for the image's language from a manifest's languages.<lang>.command: "N" and "W"
 * replaced, a Go program looked up by name in the image's PATH, a Python program run by the
 * image's own interpreter. Strings are kept in store (size MAX_ARGS x 64). */
static int task_argv(const cJSON *manifest, const struct ap_bench_image *img, const char *n,
                     const char *w, char **argv, char (*store)[64], ap_error **err)
{
    const cJSON *lang = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(manifest, "languages"), img->language);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(lang, "command");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(manifest, "name");
    if (!cJSON_IsArray(cmd) || cJSON_GetArraySize(cmd) == 0) {
        ap_error_make(err, EINVAL, "workload %s has no %s command",
                      cJSON_IsString(name) ? name->valuestring : "?", img->language);
        return -1;
    }
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cmd)
    {
        if (!cJSON_IsString(it))
            continue;
        if (i + 1 >= MAX_ARGS)
            return ap_error_make(err, E2BIG, "workload %s: its %s command has more than %d words",
                                 cJSON_IsString(name) ? name->valuestring : "?", img->language,
                                 MAX_ARGS - 1);
        const char *s = it->valuestring;
        if (strcmp(s, "N") == 0 && n != NULL)
            s = n;
        else if (strcmp(s, "W") == 0 && w != NULL)
            s = w;
        if (i == 0 && strcmp(img->language, "go") == 0 && strrchr(s, '/') != NULL)
            s = strrchr(s, '/') + 1;
        if (i == 0 && strcmp(img->language, "python") == 0 && img->interpreter != NULL)
            s = img->interpreter;
        int len = snprintf(store[i], 64, "%s", s);
        if (len < 0 || len >= 64)
            return ap_error_make(err, ENAMETOOLONG,
                                 "workload %s: the word %.32s... of its command on %s is longer "
                                 "than 63 bytes",
                                 cJSON_IsString(name) ? name->valuestring : "?", s, img->name);
        argv[i] = store[i];
        i++;
    }
    argv[i] = NULL;
    return 0;
}

/* The task folders under workloads/bg that the run wants, sorted, into *names (free with
 * ap_fs_names_free) and *count; none when there is no such folder. -1 with err otherwise. */
static int list_tasks(struct ap_bench *b, char ***names, size_t *count, ap_error **err)
{
    char dir[1100];
    *names = NULL;
    *count = 0;
    if (ap_fs_path(dir, sizeof(dir), "%s/bg", b->o->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the cpu tasks' folder bg in %.64s...",
                             b->o->workloads_dir);
    char **all;
    size_t n, kept = 0;
    if (ap_fs_list_names(dir, NULL, AP_FS_LIST_MISSING_EMPTY, &all, &n, err) < 0)
        return -1; /* a missing folder: no cpu tasks in this plan */
    for (size_t i = 0; i < n; i++) {
        if (ap_bench_wanted(b, all[i]))
            all[kept++] = all[i];
        else
            free(all[i]);
    }
    *names = all;
    *count = kept;
    return 0;
}

/* Estimated seconds of one run, for the ETA. */
static double run_estimate(const struct ap_bench *b, const char *task,
                           const struct ap_bench_image *img)
{
    int py = strcmp(img->language, "python") == 0;
    if (strcmp(b->profile_name, "quick") == 0)
        return py ? 0.3 : 0.05;
    if (strcmp(b->profile_name, "standard") == 0)
        return py ? 3.0 : 0.4;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->plan, "published_estimates_s"), task);
    const cJSON *v = cJSON_GetArrayItem(t, py ? 1 : 0);
    return cJSON_IsNumber(v) ? v->valuedouble : (py ? 300 : 20);
}

int ap_bench_cpu_groups(struct ap_bench *b, unsigned suites, struct ap_bench_groups *g,
                        ap_error **err)
{
    struct ap_bench_image *imgs[AP_BENCH_MAX_IMAGES];
    size_t ni = cpu_images(b, NULL, imgs);
    int runs = b->repeat + b->warmup;
    if (ni == 0)
        return 0;
    if (suites & (AP_SUITE_CPU | AP_SUITE_MEMORY)) {
        /* A task's figures on every image are one group: its ratios are between them (Go and
         * each Python, and the Python builds with each other), measured in rounds together. */
        char **tasks = NULL;
        size_t nt = 0;
        int rc = list_tasks(b, &tasks, &nt, err);
        for (size_t t = 0; t < nt && rc == 0; t++) {
            double est = 0;
            for (size_t i = 0; i < ni; i++)
                est += runs * run_estimate(b, tasks[t], imgs[i]);
            rc = ap_bench_groups_add(g, est, err, "task/%s", tasks[t]);
        }
        ap_fs_names_free(tasks, nt);
        if (rc < 0)
            return -1;
    }
    if ((suites & AP_SUITE_THREADS) && ap_bench_wanted(b, "threads")) {
        int workers =
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(b->profile, "threads_workers"));
        return ap_bench_groups_add(g,
                                   (double)ni * (workers > 0 ? workers : 4) * runs *
                                       (strcmp(b->profile_name, "quick") == 0 ? 0.3 : 3.0),
                                   err, "threads");
    }
    return 0;
}

/* The run of a task's command on img: the workloads folder bound read-only for a Python image
 * (bind), no network. */
static struct ap_bench_exec task_exec(const struct ap_bench_image *img, char *const *argv,
                                      const struct ap_bind *bind, const cJSON *expected,
                                      double timeout_s, const char *label)
{
    int py = strcmp(img->language, "python") == 0;
    struct ap_bench_exec x = {
        .image = img,
        .argv = argv,
        .binds = py ? bind : NULL,
        .n_binds = py ? 1 : 0,
        .expected = expected,
        .timeout_s = timeout_s,
        .net = AP_NET_NONE,
        .label = label,
    };
    return x;
}

/* The figures of a task's run into m, flagged fl: the task alone (its exec to its exit, timed
 * inside the sandbox), the sandbox's set-up and teardown as a figure of its own, CPU time and
 * memory; with detail, the CPU time split into user and system and the maximum RSS too. */
static void add_task_figures(cJSON *m, const struct ap_run_record *rec, unsigned fl, int detail)
{
    ap_bench_add_flagged(m, "wall_s", "s", (double)rec->run_ns / 1e9, fl);
    ap_bench_add_flagged(m, "sandbox_s", "s", (double)(rec->wall_ns - rec->run_ns) / 1e9, fl);
    ap_bench_add_flagged(m, "cpu_s", "s", (double)rec->cpu_total_ns / 1e9, fl);
    if (detail) {
        ap_bench_add_flagged(m, "cpu_user_s", "s", (double)rec->cpu_user_ns / 1e9, fl);
        ap_bench_add_flagged(m, "cpu_system_s", "s", (double)rec->cpu_system_ns / 1e9, fl);
    }
    ap_bench_add_flagged(m, "peak_bytes", "B", (double)rec->memory_peak_bytes, fl);
    if (detail)
        ap_bench_add_flagged(m, "maxrss_bytes", "B", (double)rec->maxrss_bytes, fl);
}

/* One task of the cpu suite: its manifest's entry for the profile, its command per image and
 * its measurements (cpu and memory, either may be NULL). */
struct task {
    const char *name;
    char rel[256], nbuf[32], dir[1100], input[1100], wl[1100];
    cJSON *man; /* owned */
    const cJSON *entry, *expected, *stdin_spec;
    const char *stdin_path;
    double n, timeout_s;
    struct ap_bind bind;
    cJSON *mcpu[AP_BENCH_MAX_IMAGES], *mmem[AP_BENCH_MAX_IMAGES];
    char *argv[AP_BENCH_MAX_IMAGES][MAX_ARGS];
    char store[AP_BENCH_MAX_IMAGES][MAX_ARGS][64];
};

/* Reads the task's manifest and its input (generated once, when it reads stdin). */
static int task_load(struct ap_bench *b, struct task *t, ap_error **err)
{
    if (ap_fs_path(t->rel, sizeof(t->rel), "bg/%s", t->name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the folder bg/%.64s... of a cpu task in %.64s...",
                             t->name, b->o->workloads_dir);
    if (ap_bench_manifest(b, t->rel, &t->man, err) < 0)
        return -1;
    t->entry = ap_bench_profile_entry(b, t->man);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(t->entry, "n");
    t->expected = cJSON_GetObjectItemCaseSensitive(t->entry, "expected");
    t->stdin_spec = cJSON_GetObjectItemCaseSensitive(t->entry, "stdin");
    if (!cJSON_IsNumber(n) || !cJSON_IsObject(t->expected)) {
        ap_error_make(err, EINVAL, "%s/%s/workload.json has no %s entry with n and expected",
                      b->o->workloads_dir, t->rel, b->profile_name);
        return -1;
    }
    t->n = n->valuedouble;
    snprintf(t->nbuf, sizeof(t->nbuf), "%.0f", t->n);
    if (ap_fs_path(t->dir, sizeof(t->dir), "%s/%s", b->o->workloads_dir, t->rel) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the folder of cpu task %.64s... in %.64s...",
                             t->name, b->o->workloads_dir);
    if (cJSON_IsObject(t->stdin_spec)) {
        if (ap_bench_input(b, t->stdin_spec, t->input, sizeof(t->input), err) < 0) {
            ap_error_wrap(err, "%s", t->name);
            return -1;
        }
        t->stdin_path = t->input;
    }
    t->timeout_s = ap_bench_num(b, "cpu_timeout_s", 600);
    if (ap_fs_path(t->wl, sizeof(t->wl), "%s", b->o->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the workloads folder %.64s... (task %s's bind)",
                             b->o->workloads_dir, t->name);
    t->bind = (struct ap_bind){t->wl, "/workloads", 1};
    return 0;
}

/* The task's command and measurements per image (found again when resumed). Returns 1 when
 * one of them still needs samples, 0 when none does, -1 with err. */
static int task_measurements(struct ap_bench *b, struct task *t, int with_cpu, int with_memory,
                             struct ap_bench_image **imgs, size_t ni, ap_error **err)
{
    int need = 0;
    for (size_t i = 0; i < ni; i++) {
        if (task_argv(t->man, imgs[i], t->nbuf, NULL, t->argv[i], t->store[i], err) < 0)
            return -1;
        char id[256], mid[256];
        if (ap_fs_path(id, sizeof(id), "cpu/%s/%s", t->name, imgs[i]->name) < 0 ||
            ap_fs_path(mid, sizeof(mid), "memory/task/%s/%s", t->name, imgs[i]->name) < 0)
            return ap_error_make(err, ENAMETOOLONG,
                                 "the measurement ids of cpu task %.64s... on %s are longer than "
                                 "%zu bytes",
                                 t->name, imgs[i]->name, sizeof(id) - 1);
        cJSON *params = cJSON_CreateObject();
        cJSON_AddNumberToObject(params, "n", t->n);
        if (t->stdin_path != NULL)
            cJSON_AddItemToObject(params, "stdin", cJSON_Duplicate(t->stdin_spec, 1));
        cJSON *av = cJSON_AddArrayToObject(params, "command");
        for (int k = 0; t->argv[i][k] != NULL; k++)
            cJSON_AddItemToArray(av, cJSON_CreateString(t->argv[i][k]));
        cJSON_AddStringToObject(params, "cpuset", b->wl_cpus);
        cJSON_AddNumberToObject(params, "memory_limit_bytes", (double)b->memory_limit);
        cJSON_AddNumberToObject(params, "warmup", b->warmup);
        cJSON_AddNumberToObject(params, "repeat", b->repeat);
        cJSON_AddStringToObject(params, "profile", b->profile_name);
        cJSON *mparams = cJSON_Duplicate(params, 1);
        if (with_cpu) {
            /* A size whose ratio is known not to predict the published size's says so, with
             * every figure, and its ratio is withheld (the profile's entry in the task's
             * manifest; tests/bench/ratio-transfer measures it): the seconds stand, a ratio
             * to Go would mislead. */
            const cJSON *tw = cJSON_GetObjectItemCaseSensitive(t->entry, "transfer_warning");
            if (cJSON_IsString(tw))
                cJSON_AddStringToObject(params, "ratio_withheld",
                                        "this size does not predict the published size's ratio");
            t->mcpu[i] = ap_bench_measurement(b, id, "cpu", t->name, imgs[i]->name, params);
            need |= ap_bench_count_clean(t->mcpu[i], "wall_s") < b->repeat;
            if (cJSON_IsString(tw))
                ap_bench_warn(b, t->mcpu[i], "%s", tw->valuestring);
        } else {
            cJSON_Delete(params);
        }
        if (with_memory) {
            if (with_cpu)
                cJSON_AddStringToObject(mparams, "same_runs_as", id);
            t->mmem[i] = ap_bench_measurement(b, mid, "memory", t->name, imgs[i]->name, mparams);
            need |= ap_bench_count_clean(t->mmem[i], "peak_bytes") < b->repeat;
        } else {
            cJSON_Delete(mparams);
        }
    }
    return need;
}

/* One run of the task on imgs[i] in round r (r < 0: a warm-up), its figures into the task's
 * measurements. */
static int task_run(struct ap_bench *b, struct task *t, const struct ap_bench_image *img, size_t i,
                    int r, ap_error **err)
{
    char label[160], what[160];
    snprintf(label, sizeof(label), "%s %s on %s", t->name, t->nbuf, img->name);
    snprintf(what, sizeof(what), "%s %s%s %d/%d", t->name, img->name, r < 0 ? " warmup" : "",
             r < 0 ? r + b->warmup + 1 : r + 1,
             r < 0           ? b->warmup
             : r < b->repeat ? b->repeat
                             : r + 1);
    ap_bench_progress(b, 0, what);
    struct ap_bench_exec x = task_exec(img, t->argv[i], &t->bind, t->expected, t->timeout_s, label);
    x.stdin_path = t->stdin_path;
    x.expected_dir = t->dir;
    struct ap_run_record rec;
    cJSON *run = NULL;
    int rc = ap_bench_round_sample(b, &x, r, &rec, &run, err);
    if (rc < 0)
        return rc;
    ap_bench_progress(b, run_estimate(b, t->name, img), what);
    if (rc == 0)
        return 0;
    /* A noisy run kept with --allow-noisy: its samples are flagged. */
    unsigned fl = ap_bench_run_flags(run);
    if (t->mcpu[i] != NULL)
        add_task_figures(t->mcpu[i], &rec, fl, 1);
    if (t->mmem[i] != NULL) {
        ap_bench_add_flagged(t->mmem[i], "peak_bytes", "B", (double)rec.memory_peak_bytes, fl);
        ap_bench_add_flagged(t->mmem[i], "maxrss_bytes", "B", (double)rec.maxrss_bytes, fl);
    }
    if (t->mcpu[i] != NULL && t->mmem[i] != NULL)
        ap_bench_keep_run(b, t->mmem[i], cJSON_Duplicate(run, 1));
    ap_bench_keep_run(b, t->mcpu[i] ? t->mcpu[i] : t->mmem[i], run);
    return ap_bench_save(b, err);
}

/* The rounds of a task, in a block of its own: warmups, then rounds in which every image runs
 * once, the order rotating each round so drift hits every image alike, until every image has
 * its clean samples of metric (samples the noise guard flags are measured again, in at most
 * AP_BENCH_NOISE_ROUNDS more rounds). */
static int task_rounds(struct ap_bench *b, struct task *t, struct ap_bench_image **imgs, size_t ni,
                       const char *metric, ap_error **err)
{
    int rc = ap_bench_block_begin(b, t->name, b->wl_cpus, err);
    if (rc < 0)
        return rc;
    cJSON *ms[AP_BENCH_MAX_IMAGES];
    for (size_t i = 0; i < ni; i++)
        ms[i] = t->mcpu[i] ? t->mcpu[i] : t->mmem[i];
    for (int r = -b->warmup;; r++) {
        for (size_t k = 0; k < ni; k++) {
            size_t i = (k + (size_t)(r < 0 ? 0 : r)) % ni;
            /* Resumed: an image whose samples are all kept needs no warmup either. */
            if (ap_bench_round_wants(b, ms[i], metric, r) &&
                (rc = task_run(b, t, imgs[i], i, r, err)) < 0)
                return rc;
        }
        if (r >= 0 && (rc = ap_bench_block_done(b, ms, ni, metric, r, err)) != 0)
            return rc < 0 ? rc : ap_bench_save(b, err);
    }
}

static int run_task(struct ap_bench *b, const char *name, int with_cpu, int with_memory,
                    struct ap_bench_image **imgs, size_t ni, ap_error **err)
{
    struct task *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ap_error_make(err, ENOMEM, "running %s", name);
    t->name = name;
    int rc = task_load(b, t, err);
    if (rc == 0)
        rc = task_measurements(b, t, with_cpu, with_memory, imgs, ni, err);
    if (rc == 0) { /* every sample kept already (a resumed run) */
        for (size_t i = 0; i < ni; i++)
            ap_bench_progress(b, (b->repeat + b->warmup) * run_estimate(b, name, imgs[i]), name);
    } else if (rc > 0) {
        rc = task_rounds(b, t, imgs, ni, with_cpu ? "wall_s" : "peak_bytes", err);
    }
    cJSON_Delete(t->man);
    free(t);
    return rc;
}

int ap_bench_suite_cpu(struct ap_bench *b, int with_cpu, int with_memory, ap_error **err)
{
    struct ap_bench_image *imgs[AP_BENCH_MAX_IMAGES];
    size_t ni = cpu_images(b, NULL, imgs);
    if (ni == 0)
        return 0;
    char **tasks;
    size_t nt;
    if (list_tasks(b, &tasks, &nt, err) < 0)
        return -1;
    int rc = 0;
    for (size_t t = 0; t < nt && rc == 0; t++) {
        char group[AP_BENCH_GROUP_ID_MAX];
        snprintf(group, sizeof(group), "task/%s", tasks[t]);
        if (ap_bench_in_shard(b, group))
            rc = run_task(b, tasks[t], with_cpu, with_memory, imgs, ni, err);
    }
    ap_fs_names_free(tasks, nt);
    return rc;
}

int ap_bench_suite_threads(struct ap_bench *b, ap_error **err)
{
    if (!ap_bench_wanted(b, "threads") || !ap_bench_in_shard(b, "threads"))
        return 0;
    cleanup_cjson cJSON *man = NULL;
    if (ap_bench_manifest(b, "threads", &man, err) < 0)
        return -1;
    const cJSON *entry = ap_bench_profile_entry(b, man);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(entry, "n");
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(entry, "expected");
    if (!cJSON_IsNumber(n) || !cJSON_IsObject(expected)) {
        ap_error_make(err, EINVAL, "threads/workload.json has no %s entry with n and expected",
                      b->profile_name);
        return -1;
    }
    const cJSON *py_images = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(man, "languages"),
                                         "python"),
        "images");
    struct ap_bench_image *imgs[AP_BENCH_MAX_IMAGES];
    size_t ni = cpu_images(b, py_images, imgs);
    const cJSON *workers = cJSON_GetObjectItemCaseSensitive(b->profile, "threads_workers");
    if (!cJSON_IsArray(workers))
        workers = cJSON_GetObjectItemCaseSensitive(man, "workers");
    char nbuf[32], wl[1100];
    snprintf(nbuf, sizeof(nbuf), "%.0f", n->valuedouble);
    if (ap_fs_path(wl, sizeof(wl), "%s", b->o->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the workloads folder %.64s... (threads' bind)",
                             b->o->workloads_dir);
    struct ap_bind bind = {wl, "/workloads", 1};
    int rc = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers)
    {
        if (!cJSON_IsNumber(w))
            continue;
        char wbuf[16];
        snprintf(wbuf, sizeof(wbuf), "%d", w->valueint);
        cJSON *ms[AP_BENCH_MAX_IMAGES];
        char *argv[AP_BENCH_MAX_IMAGES][MAX_ARGS];
        char store[AP_BENCH_MAX_IMAGES][MAX_ARGS][64];
        for (size_t i = 0; i < ni; i++) {
            if (task_argv(man, imgs[i], nbuf, wbuf, argv[i], store[i], err) < 0)
                return -1;
            /* Fits: 16 bytes of prefix, an image name under 64 and "/w" with an int. */
            char id[160];
            snprintf(id, sizeof(id), "threads/%s/%s/w%d", "threads", imgs[i]->name, w->valueint);
            cJSON *params = cJSON_CreateObject();
            cJSON_AddNumberToObject(params, "n", n->valuedouble);
            cJSON_AddNumberToObject(params, "workers", w->valueint);
            cJSON_AddStringToObject(params, "cpuset", b->threads_cpus);
            cJSON_AddNumberToObject(params, "repeat", b->repeat);
            cJSON_AddStringToObject(params, "profile", b->profile_name);
            ms[i] = ap_bench_measurement(b, id, "threads", "threads", imgs[i]->name, params);
        }
        /* A block per worker count, on every CPU the suite uses. */
        char what[64];
        snprintf(what, sizeof(what), "threads with %s workers", wbuf);
        if ((rc = ap_bench_block_begin(b, what, b->threads_cpus, err)) < 0)
            return rc;
        for (int r = -b->warmup;; r++) {
            for (size_t k = 0; k < ni; k++) {
                size_t i = (k + (size_t)(r < 0 ? 0 : r)) % ni;
                if (!ap_bench_round_wants(b, ms[i], "wall_s", r))
                    continue;
                char label[160];
                snprintf(label, sizeof(label), "threads %s with %s workers on %s", nbuf, wbuf,
                         imgs[i]->name);
                ap_bench_progress(b, 0, label);
                struct ap_bench_exec x = task_exec(imgs[i], argv[i], &bind, expected,
                                                   ap_bench_num(b, "cpu_timeout_s", 600), label);
                x.cpus = b->threads_cpus;
                struct ap_run_record rec;
                cJSON *run = NULL;
                rc = ap_bench_round_sample(b, &x, r, &rec, &run, err);
                if (rc < 0)
                    return rc;
                ap_bench_progress(b, strcmp(b->profile_name, "quick") == 0 ? 0.3 : 3.0, label);
                if (rc == 0)
                    continue;
                add_task_figures(ms[i], &rec, ap_bench_run_flags(run), 0);
                ap_bench_keep_run(b, ms[i], run);
                if ((rc = ap_bench_save(b, err)) < 0)
                    return rc;
            }
            if (r >= 0 && (rc = ap_bench_block_done(b, ms, ni, "wall_s", r, err)) != 0) {
                if (rc < 0 || (rc = ap_bench_save(b, err)) < 0)
                    return rc;
                break;
            }
        }
    }
    return 0;
}
