/* The lang suite: what each language's runtime in the images says about the language, each
 * figure read from a probe run in the image in a fresh sandbox, as every workload runs: the
 * version the runtime reports, the number of keywords of the language's own keyword list, and
 * (Go) the stack memory of a blocked goroutine as the runtime accounts it, beside the growth of
 * the process's private memory per goroutine. Versions and keywords are counted (exact, one
 * sample); the goroutine figures are sampled lang_repeat times. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/log.h"
#include "../core/table.h"
#include "lang.h"
#include "runner.h"

/* The words of the probes' commands (exec takes them unqualified). The Python probes are `-c`
 * scripts printing what lang.h reads. */
static char w_version[] = "version", w_keywords[] = "keywords", w_stack[] = "stack", w_c[] = "-c";
static char py_version[] =
    "import sys; v = sys.version_info; print('%d.%d.%d' % v[:3], v.releaselevel, v.serial)";
static char py_keywords[] = "import keyword; print(*keyword.kwlist); print(*keyword.softkwlist)";

static cJSON *argv_json(char *const *argv)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; argv[k] != NULL; k++)
        cJSON_AddItemToArray(a, cJSON_CreateString(argv[k]));
    return a;
}

/* Runs argv in img in a fresh sandbox (the plan's limits, no network) with its output in *out
 * (owned by the caller). The figures are counts and bytes, which other work on the CPUs does
 * not change: the noise guard does not watch these runs. */
static int probe(struct ap_bench *b, const struct ap_bench_image *img, char *const *argv,
                 const char *what, char **out, cJSON **run, ap_error **err)
{
    char label[160];
    snprintf(label, sizeof(label), "lang %s on %s", what, img->name);
    ap_bench_progress(b, 0.1, label);
    struct ap_bench_exec x = {
        .image = img,
        .argv = argv,
        .timeout_s = 60,
        .net = AP_NET_NONE,
        .label = label,
        .output = out,
    };
    struct ap_run_record rec;
    return ap_bench_sample(b, &x, &rec, run, err);
}

/* A measurement of counted figures (exact at n = 1): params.counted says so. */
static cJSON *counted_measurement(struct ap_bench *b, const struct ap_bench_image *img,
                                  const char *workload, char *const *argv, const char *how)
{
    char id[160]; /* fits: an image name is under 64 bytes */
    snprintf(id, sizeof(id), "lang/%s/%s", workload, img->name);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "command", argv_json(argv));
    cJSON_AddStringToObject(p, "how", how);
    cJSON_AddBoolToObject(p, "counted", 1);
    return ap_bench_measurement(b, id, "lang", workload, img->name, p);
}

static int lang_version(struct ap_bench *b, const struct ap_bench_image *img, char *const *argv,
                        ap_error **err)
{
    const char *how = strcmp(img->language, "go") == 0
                          ? "runtime.Version() of a program in the image, its leading go dropped"
                          : "sys.version_info of the image's interpreter: major.minor.micro";
    cJSON *m = counted_measurement(b, img, "version", argv, how);
    cleanup_free char *out = NULL;
    cJSON *run = NULL;
    int rc = probe(b, img, argv, "version", &out, &run, err);
    if (rc < 0)
        return rc;
    struct ap_lang_version v;
    char why[300];
    if (ap_lang_parse_version(out, strlen(out), &v, why, sizeof(why)) < 0) {
        cJSON_Delete(run);
        return ap_error_make(err, EINVAL, "lang version on %s: %s", img->name, why);
    }
    cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "params");
    size_t n = strcspn(out, "\n");
    out[n] = '\0';
    cJSON_AddStringToObject(p, "version", v.text);
    cJSON_AddStringToObject(p, "reported", out);
    unsigned fl = ap_bench_run_flags(run);
    ap_bench_add_flagged(m, "major", "count", v.major, fl);
    ap_bench_add_flagged(m, "minor", "count", v.minor, fl);
    ap_bench_add_flagged(m, "patch", "count", v.patch, fl);
    ap_bench_add_run(m, run);
    return 0;
}

static int lang_keywords(struct ap_bench *b, const struct ap_bench_image *img, char *const *argv,
                         ap_error **err)
{
    const char *how =
        strcmp(img->language, "go") == 0
            ? "go/token: every token t with t.IsKeyword(), token.IsKeyword(t.String()) "
              "and token.Lookup(t.String()) == t, by a program in the image"
            : "keyword.kwlist of the image's interpreter; keyword.softkwlist (soft "
              "keywords, names only in some places) apart";
    cJSON *m = counted_measurement(b, img, "keywords", argv, how);
    cleanup_free char *out = NULL;
    cJSON *run = NULL;
    int rc = probe(b, img, argv, "keywords", &out, &run, err);
    if (rc < 0)
        return rc;
    cJSON *kw = NULL, *soft = NULL;
    char why[300];
    int lines = ap_lang_parse_keywords(out, strlen(out), &kw, &soft, why, sizeof(why));
    if (lines < 0) {
        cJSON_Delete(run);
        return ap_error_make(err, EINVAL, "lang keywords on %s: %s", img->name, why);
    }
    cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "params");
    unsigned fl = ap_bench_run_flags(run);
    ap_bench_add_flagged(m, "keywords", "count", cJSON_GetArraySize(kw), fl);
    cJSON_AddItemToObject(p, "keywords", kw);
    if (soft != NULL) {
        ap_bench_add_flagged(m, "soft_keywords", "count", cJSON_GetArraySize(soft), fl);
        cJSON_AddItemToObject(p, "soft_keywords", soft);
    }
    ap_bench_add_run(m, run);
    return 0;
}

/* The stack memory of a blocked goroutine: `lang stack N`, lang_repeat runs. */
static int lang_stack(struct ap_bench *b, const struct ap_bench_image *img, char *prog,
                      ap_error **err)
{
    int64_t n = (int64_t)ap_bench_num(b, "lang_goroutines", 10000);
    int repeat = (int)ap_bench_num(b, "lang_repeat", 6);
    char nbuf[24];
    snprintf(nbuf, sizeof(nbuf), "%lld", (long long)n);
    char *argv[] = {prog, w_stack, nbuf, NULL};
    char id[160];
    snprintf(id, sizeof(id), "lang/goroutine-stack/%s", img->name);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToObject(p, "command", argv_json(argv));
    cJSON_AddNumberToObject(p, "goroutines", (double)n);
    cJSON_AddStringToObject(p, "how",
                            "N goroutines started, each blocked on a channel: "
                            "runtime.MemStats.StackInuse after less before, over N (stack_bytes); "
                            "the process's Private_Clean + Private_Dirty (smaps_rollup) after "
                            "less before, over N (private_bytes)");
    cJSON *m = ap_bench_measurement(b, id, "lang", "goroutine-stack", img->name, p);
    for (int r = ap_bench_count(m, "stack_bytes"); r < repeat; r++) {
        cleanup_free char *out = NULL;
        cJSON *run = NULL;
        int rc = probe(b, img, argv, "goroutine-stack", &out, &run, err);
        if (rc < 0)
            return rc;
        struct ap_lang_stack s;
        char why[300];
        if (ap_lang_parse_stack(out, strlen(out), n, &s, why, sizeof(why)) < 0) {
            cJSON_Delete(run);
            return ap_error_make(err, EINVAL, "lang goroutine-stack on %s: %s", img->name, why);
        }
        cJSON *raw = cJSON_AddObjectToObject(run, "probe");
        cJSON_AddNumberToObject(raw, "stack_inuse_before", (double)s.stack_inuse_before);
        cJSON_AddNumberToObject(raw, "stack_inuse_after", (double)s.stack_inuse_after);
        cJSON_AddNumberToObject(raw, "private_before", (double)s.private_before);
        cJSON_AddNumberToObject(raw, "private_after", (double)s.private_after);
        unsigned fl = ap_bench_run_flags(run);
        ap_bench_add_flagged(m, "stack_bytes", "B",
                             (double)(s.stack_inuse_after - s.stack_inuse_before) / (double)n, fl);
        ap_bench_add_flagged(m, "private_bytes", "B",
                             (double)(s.private_after - s.private_before) / (double)n, fl);
        ap_bench_add_run(m, run);
        if (ap_bench_save(b, err) < 0)
            return -1;
    }
    return 0;
}

int ap_bench_suite_lang(struct ap_bench *b, ap_error **err)
{
    if (!ap_bench_in_shard(b, "lang"))
        return 0;
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const cJSON *go = cJSON_GetObjectItemCaseSensitive(imgs, "go");
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(b->plan, "go_binaries"), "lang");
    struct ap_bench_image *g = cJSON_IsString(go) ? ap_bench_image(b, go->valuestring) : NULL;
    int rc = 0;
    if (g != NULL && !cJSON_IsString(prog))
        return ap_error_make(err, EINVAL, "bench.json: go_binaries.lang names no program");
    if (g != NULL) {
        char *version[] = {prog->valuestring, w_version, NULL};
        char *keywords[] = {prog->valuestring, w_keywords, NULL};
        if ((ap_bench_wanted(b, "version") && (rc = lang_version(b, g, version, err)) < 0) ||
            (ap_bench_wanted(b, "keywords") && (rc = lang_keywords(b, g, keywords, err)) < 0) ||
            (ap_bench_wanted(b, "goroutine-stack") &&
             (rc = lang_stack(b, g, prog->valuestring, err)) < 0))
            return rc;
    }
    /* Every Python image of the plan that this run loaded (--images), by its interpreter. */
    const cJSON *py = cJSON_GetObjectItemCaseSensitive(imgs, "python");
    for (int i = 0; i < cJSON_GetArraySize(py); i++) {
        const cJSON *name = cJSON_GetArrayItem(py, i);
        struct ap_bench_image *p =
            cJSON_IsString(name) ? ap_bench_image(b, name->valuestring) : NULL;
        char *version[] = {p ? p->interpreter : NULL, w_c, py_version, NULL};
        char *keywords[] = {version[0], w_c, py_keywords, NULL};
        if (version[0] != NULL &&
            ((ap_bench_wanted(b, "version") && (rc = lang_version(b, p, version, err)) < 0) ||
             (ap_bench_wanted(b, "keywords") && (rc = lang_keywords(b, p, keywords, err)) < 0)))
            return rc;
    }
    return ap_bench_save(b, err);
}

int ap_bench_lang_groups(struct ap_bench *b, struct ap_bench_groups *g, ap_error **err)
{
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const cJSON *go = cJSON_GetObjectItemCaseSensitive(imgs, "go");
    int have_go = cJSON_IsString(go) && ap_bench_image(b, go->valuestring) != NULL;
    int version = ap_bench_wanted(b, "version"), keywords = ap_bench_wanted(b, "keywords");
    int stack = have_go && ap_bench_wanted(b, "goroutine-stack");
    double pythons = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(imgs, "python"))
    {
        pythons += cJSON_IsString(it) && ap_bench_image(b, it->valuestring) != NULL;
    }
    double probes = (have_go + pythons) * (version + keywords);
    if (probes == 0 && !stack)
        return 0;
    return ap_bench_groups_add(g, 0.1 * (probes + (stack ? ap_bench_num(b, "lang_repeat", 6) : 0)),
                               err, "lang");
}

void ap_bench_lang_summary(const struct ap_bench *b, int width)
{
    struct ap_table t;
    ap_table_init(&t, 2, 0, 2);
    t.header = 1;
    const char *head[] = {"version", "as reported"};
    ap_error *err = NULL;
    int rc = ap_table_add(&t, "image", head, 2, NULL, &err);
    const cJSON *m;
    cJSON_ArrayForEach(m, b->measurements)
    {
        const cJSON *wl = cJSON_GetObjectItemCaseSensitive(m, "workload");
        const cJSON *suite = cJSON_GetObjectItemCaseSensitive(m, "suite");
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "params");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "version");
        const cJSON *rep = cJSON_GetObjectItemCaseSensitive(p, "reported");
        if (!cJSON_IsString(suite) || strcmp(suite->valuestring, "lang") != 0 ||
            !cJSON_IsString(wl) || strcmp(wl->valuestring, "version") != 0 || !cJSON_IsString(v) ||
            !cJSON_IsString(rep))
            continue;
        const char *cells[] = {v->valuestring, rep->valuestring};
        if (rc == 0)
            rc = ap_table_add(&t, cJSON_GetObjectItemCaseSensitive(m, "image")->valuestring, cells,
                              2, NULL, &err);
    }
    if (rc == 0 && t.n_rows > 1) {
        putchar('\n');
        ap_table_print_text(stdout,
                            "lang versions: each image's language version as its runtime reports "
                            "it (lang/version/<image>, params.version)",
                            0, 4, width);
        ap_table_print(&t, stdout, width);
    } else if (rc < 0) {
        ap_log_warn("the lang versions' summary: %s (the results file has every version)",
                    err->msg);
        ap_error_release(&err);
    }
    ap_table_free(&t);
}
