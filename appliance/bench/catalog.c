/* The catalog of the plan (catalog.h): the measurement ids the suites build, listed from the
 * same plan, manifests and recipes the suites read. The ids' shapes are the suites' own
 * (suite-size.c, suite-startup.c, suite-cpu.c, suite-http.c, server.c, suite-lang.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "bench.h"
#include "catalog.h"
#include "pairs.h"

#define MANIFEST_MAX ((size_t)1 << 20)

/* The metrics of one kind of measurement, "name:unit" each, NULL-terminated. */
static const char *const m_size_image[] = {"compressed_bytes:B", "unpacked_bytes:B", "files:count",
                                           NULL};
static const char *const m_size_binary[] = {"bytes:B", NULL};
static const char *const m_start_process[] = {"wall_s:s", NULL};
static const char *const m_start_container[] = {"peak_bytes:B", "setup_s:s", "wall_s:s", NULL};
static const char *const m_start_service[] = {"container_ready_s:s", "memory_at_ready_bytes:B",
                                              "ready_s:s", NULL};
static const char *const m_cpu[] = {
    "cpu_s:s",      "cpu_system_s:s", "cpu_user_s:s", "maxrss_bytes:B",
    "peak_bytes:B", "sandbox_s:s",    "wall_s:s",     NULL};
static const char *const m_lang_version[] = {"major:count", "minor:count", "patch:count", NULL};
static const char *const m_lang_keywords_go[] = {"keywords:count", NULL};
static const char *const m_lang_keywords_py[] = {"keywords:count", "soft_keywords:count", NULL};
static const char *const m_lang_stack[] = {"private_bytes:B", "stack_bytes:B", NULL};
static const char *const m_mem_task[] = {"maxrss_bytes:B", "peak_bytes:B", NULL};
static const char *const m_threads[] = {"cpu_s:s", "peak_bytes:B", "sandbox_s:s", "wall_s:s", NULL};
static const char *const m_mem_server[] = {"idle_bytes:B",
                                           "idle_pss_bytes:B",
                                           "idle_rss_bytes:B",
                                           "idle_uss_bytes:B",
                                           "idle_working_set_bytes:B",
                                           "loaded_peak_bytes:B",
                                           "loaded_peak_pss_bytes:B",
                                           "loaded_peak_working_set_bytes:B",
                                           "rps:req/s",
                                           "steady_bytes:B",
                                           "steady_pss_bytes:B",
                                           "steady_working_set_bytes:B",
                                           NULL};
static const char *const m_http[] = {"errors:count",
                                     "max_ms:ms",
                                     "p50_ms:ms",
                                     "p90_ms:ms",
                                     "p95_ms:ms",
                                     "p999_ms:ms",
                                     "p99_ms:ms",
                                     "rps:req/s",
                                     "server_cpu_cores:CPUs",
                                     NULL};
static const char *const m_latency[] = {
    "achieved_rps:req/s", "max_ms:ms",  "p50_ms:ms", "p90_ms:ms",
    "p95_ms:ms",          "p999_ms:ms", "p99_ms:ms", "server_cpu_cores:CPUs",
    "sustained:bool",     NULL};

struct cat {
    const char *workloads_dir;
    const cJSON *plan;
    const cJSON *profile;
    cJSON *list;
};

/* Appends {"id", "suite", "workload", "image", "metrics"}; -1 when out of memory. */
static int add(struct cat *c, const char *id, const char *workload, const char *image,
               const char *const *metrics)
{
    cJSON *m = cJSON_CreateObject();
    cJSON *ms = cJSON_AddObjectToObject(m, "metrics");
    if (m == NULL || ms == NULL || cJSON_AddStringToObject(m, "id", id) == NULL ||
        cJSON_AddStringToObject(m, "suite", ap_bench_catalog_suite_of(id)) == NULL ||
        cJSON_AddStringToObject(m, "workload", workload) == NULL ||
        cJSON_AddStringToObject(m, "image", image) == NULL) {
        cJSON_Delete(m);
        return -1;
    }
    for (size_t i = 0; metrics[i] != NULL; i++) {
        const char *colon = strchr(metrics[i], ':');
        char name[64];
        snprintf(name, sizeof(name), "%.*s", (int)(colon - metrics[i]), metrics[i]);
        cJSON *u = cJSON_AddObjectToObject(ms, name);
        if (u == NULL || cJSON_AddStringToObject(u, "unit", colon + 1) == NULL) {
            cJSON_Delete(m);
            return -1;
        }
    }
    cJSON_AddItemToArray(c->list, m);
    return 0;
}

static const cJSON *plan_images(const struct cat *c, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->plan, "images"),
                                            key);
}

/* A Go image's program: the file its recipe's entrypoint names (images/<name>/image.json). */
static int size_binary(struct cat *c, const char *img, ap_error **err)
{
    char path[1400];
    if (ap_fs_path(path, sizeof(path), "%s/../%s/image.json", c->workloads_dir, img) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the recipe of image %s", img);
    cleanup_cjson cJSON *r = NULL;
    if (ap_json_read_file(path, MANIFEST_MAX, &r, err) < 0)
        return ap_error_wrap(err, "the catalog of the size suite");
    const cJSON *ep = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r, "entrypoint"), 0);
    const char *slash = cJSON_IsString(ep) ? strrchr(ep->valuestring, '/') : NULL;
    if (slash == NULL || slash[1] == '\0')
        return ap_error_make(err, EINVAL, "%s: the entrypoint names no program", path);
    char id[300];
    if (ap_fs_path(id, sizeof(id), "size/binary/%s/%s", img, slash + 1) < 0)
        return ap_error_make(err, ENAMETOOLONG, "%s: the program's name", path);
    return add(c, id, slash + 1, img, m_size_binary) < 0 ? ap_error_make(err, ENOMEM, "%s", id) : 0;
}

static int suite_size(struct cat *c, ap_error **err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, plan_images(c, "size"))
    {
        if (!cJSON_IsString(it))
            continue;
        char id[200];
        if (ap_fs_path(id, sizeof(id), "size/image/%s", it->valuestring) < 0 ||
            add(c, id, "image", it->valuestring, m_size_image) < 0)
            return ap_error_make(err, ENOMEM, "the catalog of the size suite");
        if (strcmp(ap_bench_image_language(it->valuestring), "go") == 0 &&
            size_binary(c, it->valuestring, err) < 0)
            return -1;
    }
    return 0;
}

/* The Go image, then the Python images: the images the startup, cpu and threads suites run. */
static size_t runtime_images(const struct cat *c, const char **out, size_t max)
{
    size_t n = 0;
    const cJSON *go = plan_images(c, "go");
    if (cJSON_IsString(go) && n < max)
        out[n++] = go->valuestring;
    const cJSON *it;
    cJSON_ArrayForEach(it, plan_images(c, "python"))
    {
        if (cJSON_IsString(it) && n < max)
            out[n++] = it->valuestring;
    }
    return n;
}

static int suite_startup(struct cat *c, const char *const *imgs, size_t ni)
{
    static const char *const go_progs[] = {"hello", "hello-stripped"};
    static const char *const py_progs[] = {"hello", "pass"};
    for (size_t i = 0; i < ni; i++) {
        int go = strcmp(ap_bench_image_language(imgs[i]), "go") == 0;
        for (size_t k = 0; k < 2; k++) {
            const char *prog = go ? go_progs[k] : py_progs[k];
            char id[300];
            snprintf(id, sizeof(id), "startup/process/%s/%s", imgs[i], prog);
            if (add(c, id, prog, imgs[i], m_start_process) < 0)
                return -1;
            snprintf(id, sizeof(id), "startup/container/%s/%s", imgs[i], prog);
            if (add(c, id, prog, imgs[i], m_start_container) < 0)
                return -1;
        }
    }
    return 0;
}

/* suite-lang.c: each runtime image's version and keywords (soft keywords apart in Python's),
 * and the Go image's goroutine stack. */
static int suite_lang(struct cat *c, const char *const *imgs, size_t ni)
{
    for (size_t i = 0; i < ni; i++) {
        int go = strcmp(ap_bench_image_language(imgs[i]), "go") == 0;
        char id[300];
        snprintf(id, sizeof(id), "lang/version/%s", imgs[i]);
        if (add(c, id, "version", imgs[i], m_lang_version) < 0)
            return -1;
        snprintf(id, sizeof(id), "lang/keywords/%s", imgs[i]);
        if (add(c, id, "keywords", imgs[i], go ? m_lang_keywords_go : m_lang_keywords_py) < 0)
            return -1;
        snprintf(id, sizeof(id), "lang/goroutine-stack/%s", imgs[i]);
        if (go && add(c, id, "goroutine-stack", imgs[i], m_lang_stack) < 0)
            return -1;
    }
    return 0;
}

static int suite_cpu(struct cat *c, const char *const *imgs, size_t ni, ap_error **err)
{
    char dir[1100], **tasks;
    size_t nt;
    if (ap_fs_path(dir, sizeof(dir), "%s/bg", c->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the cpu tasks' folder bg in %.64s...",
                             c->workloads_dir);
    if (ap_fs_list_names(dir, NULL, 0, &tasks, &nt, err) < 0)
        return ap_error_wrap(err, "the cpu tasks");
    int rc = 0;
    for (size_t t = 0; t < nt && rc == 0; t++)
        for (size_t i = 0; i < ni && rc == 0; i++) {
            char id[300];
            snprintf(id, sizeof(id), "cpu/%s/%s", tasks[t], imgs[i]);
            rc = add(c, id, tasks[t], imgs[i], m_cpu);
            snprintf(id, sizeof(id), "memory/task/%s/%s", tasks[t], imgs[i]);
            rc = rc < 0 ? rc : add(c, id, tasks[t], imgs[i], m_mem_task);
        }
    ap_fs_names_free(tasks, nt);
    if (rc < 0)
        return ap_error_make(err, ENOMEM, "the catalog of the cpu suite");
    const cJSON *w;
    cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(c->profile, "threads_workers"))
    {
        for (size_t i = 0; cJSON_IsNumber(w) && i < ni; i++) {
            char id[300];
            snprintf(id, sizeof(id), "threads/threads/%s/w%d", imgs[i], w->valueint);
            if (add(c, id, "threads", imgs[i], m_threads) < 0)
                return ap_error_make(err, ENOMEM, "the catalog of the threads suite");
        }
    }
    return 0;
}

/* One server's measurements: its start, memory, and every level and rate of the profile. */
static int server(struct cat *c, const char *name, const char *image)
{
    char id[300];
    snprintf(id, sizeof(id), "startup/service/%s", name);
    if (add(c, id, name, image, m_start_service) < 0)
        return -1;
    snprintf(id, sizeof(id), "memory/server/%s", name);
    if (add(c, id, name, image, m_mem_server) < 0)
        return -1;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c->profile, "http_connections"))
    {
        snprintf(id, sizeof(id), "http/%s/c%d", name, v->valueint);
        if (cJSON_IsNumber(v) && add(c, id, name, image, m_http) < 0)
            return -1;
    }
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(c->profile, "latency_rates"))
    {
        snprintf(id, sizeof(id), "latency/%s/r%d", name, v->valueint);
        if (cJSON_IsNumber(v) && add(c, id, name, image, m_latency) < 0)
            return -1;
    }
    return 0;
}

/* Every available server (servers/<language>/<name>/workload.json), Go first, then Python, on
 * the image the plan runs that language's servers in. */
static int suite_servers(struct cat *c, ap_error **err)
{
    static const char *const langs[] = {"go", "python"};
    for (size_t l = 0; l < 2; l++) {
        const cJSON *img = plan_images(c, l == 0 ? "go" : "python_web");
        char dir[1100], **names;
        size_t nn;
        if (ap_fs_path(dir, sizeof(dir), "%s/servers/%s", c->workloads_dir, langs[l]) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the servers' folder servers/%s in %.64s...",
                                 langs[l], c->workloads_dir);
        if (ap_fs_list_names(dir, "workload.json", AP_FS_LIST_MISSING_EMPTY, &names, &nn, err) < 0)
            return -1; /* a missing folder: no server of that language */
        int rc = 0;
        for (size_t i = 0; i < nn && rc == 0; i++) {
            char path[1400];
            snprintf(path, sizeof(path), "%s/%s/workload.json", dir, names[i]);
            cleanup_cjson cJSON *m = NULL;
            ap_error *e = NULL;
            if (ap_json_read_file(path, MANIFEST_MAX, &m, &e) < 0) {
                ap_error_release(&e); /* not a server's folder */
                continue;
            }
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "available")) &&
                cJSON_IsString(name) && cJSON_IsString(img))
                rc = server(c, name->valuestring, img->valuestring);
        }
        ap_fs_names_free(names, nn);
        if (rc < 0)
            return ap_error_make(err, ENOMEM, "the catalog of the servers");
    }
    return 0;
}

const char *ap_bench_catalog_suite_of(const char *id)
{
    const char *slash = strchr(id, '/');
    unsigned bit = slash != NULL ? ap_bench_suite_bit(id, (size_t)(slash - id)) : 0;
    return bit != 0 ? ap_bench_suite_name(bit) : NULL;
}

int ap_bench_catalog(const char *workloads_dir, const char *profile, cJSON **out, ap_error **err)
{
    *out = NULL;
    char path[1100];
    if (ap_fs_path(path, sizeof(path), "%s/bench.json", workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the plan bench.json in %.64s...", workloads_dir);
    cleanup_cjson cJSON *plan = NULL;
    if (ap_json_read_file(path, MANIFEST_MAX, &plan, err) < 0)
        return -1;
    const cJSON *prof = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(plan, "profiles"), profile);
    if (!cJSON_IsObject(prof)) {
        ap_error_make(err, EINVAL, "%s has no profile '%s'", path, profile);
        return ap_error_hint(err, "the profiles are quick, standard and published");
    }
    cleanup_cjson cJSON *doc = cJSON_CreateObject();
    struct cat c = {workloads_dir, plan, prof, NULL};
    if (doc == NULL || cJSON_AddStringToObject(doc, "schema", AP_BENCH_CATALOG_SCHEMA) == NULL ||
        cJSON_AddStringToObject(doc, "profile", profile) == NULL ||
        (c.list = cJSON_AddArrayToObject(doc, "measurements")) == NULL)
        return ap_error_make(err, ENOMEM, "the catalog");
    const char *imgs[32];
    size_t ni = runtime_images(&c, imgs, 32);
    if (suite_size(&c, err) < 0)
        return -1;
    if (suite_startup(&c, imgs, ni) < 0)
        return ap_error_make(err, ENOMEM, "the catalog of the startup suite");
    if (suite_lang(&c, imgs, ni) < 0)
        return ap_error_make(err, ENOMEM, "the catalog of the lang suite");
    if (suite_cpu(&c, imgs, ni, err) < 0 || suite_servers(&c, err) < 0)
        return -1;
    *out = doc;
    doc = NULL;
    return 0;
}
