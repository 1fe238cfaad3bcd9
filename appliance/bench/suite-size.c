/* The size suite: the bytes of each image the plan's images.size lists (one program or one
 * service per image, as users ship them), the file of each Go image's program, and the pairs of
 * bench.json's size_pairs with the Python/Go ratio of each. Sizes are counted, not sampled:
 * exact at n = 1. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/fs.h"
#include "../core/log.h"
#include "../core/table.h"
#include "pairs.h"
#include "runner.h"

static void measure_image(struct ap_bench *b, const struct ap_bench_image *img)
{
    char id[160]; /* fits: an image name is under 64 bytes */
    snprintf(id, sizeof(id), "size/image/%s", img->name);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "digest", img->digest);
    cJSON *m = ap_bench_measurement(b, id, "size", "image", img->name, p);
    if (ap_bench_count(m, "compressed_bytes") == 0) {
        ap_bench_add(m, "compressed_bytes", "B", (double)img->compressed_bytes);
        ap_bench_add(m, "unpacked_bytes", "B", (double)img->unpacked_bytes);
        ap_bench_add(m, "files", "count", (double)img->files);
    }
}

/* A Go image's program: the regular file its entrypoint names. */
static int measure_program(struct ap_bench *b, const struct ap_bench_image *img, ap_error **err)
{
    const char *path = img->run.n_argv > 0 ? img->run.argv[0] : "";
    if (path[0] != '/')
        return ap_error_make(err, EINVAL, "image %s: no entrypoint names its program", img->name);
    const char *base = strrchr(path, '/') + 1;
    char full[2200];
    struct stat st;
    if (ap_fs_path(full, sizeof(full), "%s%s", img->rootfs, path) < 0)
        return ap_error_make(err, ENAMETOOLONG, "image %s: %s", img->name, path);
    if (lstat(full, &st) < 0)
        return ap_error_make(err, errno, "image %s: its program %s", img->name, path);
    if (!S_ISREG(st.st_mode))
        return ap_error_make(err, EINVAL, "image %s: its program %s is not a regular file",
                             img->name, path);
    char id[300];
    if (ap_fs_path(id, sizeof(id), "size/binary/%s/%s", img->name, base) < 0)
        return ap_error_make(err, ENAMETOOLONG,
                             "image %s: the measurement id of its program %.64s... is longer than "
                             "%zu bytes",
                             img->name, base, sizeof(id) - 1);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "path", path);
    cJSON *m = ap_bench_measurement(b, id, "size", base, img->name, p);
    if (ap_bench_count(m, "bytes") == 0)
        ap_bench_add(m, "bytes", "B", (double)st.st_size);
    return 0;
}

/* results.size_pairs: each pair of the plan whose two images this run measured. */
static int derive_pairs(struct ap_bench *b, const struct ap_size_pair *pairs, size_t n,
                        ap_error **err)
{
    cJSON *out = cJSON_CreateArray();
    for (size_t i = 0; out != NULL && i < n; i++) {
        char gid[160], pid[160];
        if (ap_fs_path(gid, sizeof(gid), "size/image/%s", pairs[i].go) < 0 ||
            ap_fs_path(pid, sizeof(pid), "size/image/%s", pairs[i].python) < 0)
            continue; /* no image has so long a name (bench.c), none was measured */
        const cJSON *gm = ap_bench_find_measurement(b, gid);
        const cJSON *pm = ap_bench_find_measurement(b, pid);
        if (gm == NULL || pm == NULL)
            continue; /* --images left one out */
        cJSON *f = ap_size_pair_figures(&pairs[i], gm, pm);
        if (f == NULL) {
            cJSON_Delete(out);
            return ap_error_make(err, ENOMEM, "the size pairs");
        }
        cJSON_AddItemToArray(out, f);
    }
    if (out == NULL)
        return ap_error_make(err, ENOMEM, "the size pairs");
    cJSON_DeleteItemFromObjectCaseSensitive(b->doc, "size_pairs");
    cJSON_AddItemToObject(b->doc, "size_pairs", out);
    return 0;
}

/* The images of the plan's images.size that this run loaded. */
static size_t size_images(struct ap_bench *b)
{
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(b->plan, "images"), "size"))
    {
        n += cJSON_IsString(it) && ap_bench_image(b, it->valuestring) != NULL;
    }
    return n;
}

int ap_bench_size_groups(struct ap_bench *b, struct ap_bench_groups *g, ap_error **err)
{
    /* Counted from the images' files, not run: a moment each. The group exists whatever
     * --images leaves of it, as the suite then says why it measured nothing. */
    return ap_bench_groups_add(g, 0.01 * (double)size_images(b), err, "size");
}

int ap_bench_suite_size(struct ap_bench *b, ap_error **err)
{
    if (!ap_bench_in_shard(b, "size"))
        return 0;
    struct ap_size_pair pairs[AP_SIZE_PAIRS_MAX];
    char what[1100];
    if (ap_fs_path(what, sizeof(what), "%s/bench.json", b->o->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the plan bench.json in %.64s...",
                             b->o->workloads_dir);
    int n = ap_size_pairs_parse(b->plan, what, pairs, AP_SIZE_PAIRS_MAX, err);
    if (n < 0)
        return -1;
    const cJSON *it;
    size_t measured = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(b->plan, "images"), "size"))
    {
        const struct ap_bench_image *img =
            cJSON_IsString(it) ? ap_bench_image(b, it->valuestring) : NULL;
        if (img == NULL)
            continue; /* not among --images */
        measure_image(b, img);
        if (strcmp(img->language, "go") == 0 && measure_program(b, img, err) < 0)
            return -1;
        measured++;
    }
    if (measured == 0) {
        static const char text[] = "size: no image of the plan's images.size is among --images "
                                   "(it measures one program or one service per image, e.g. "
                                   "go-1.23-hello and python-3.13): nothing measured";
        cJSON *w = cJSON_GetObjectItemCaseSensitive(b->doc, "warnings");
        int have = 0; /* a resumed run has it already */
        cJSON_ArrayForEach(it, w)
        {
            have |= cJSON_IsString(it) && strcmp(it->valuestring, text) == 0;
        }
        if (!have)
            cJSON_AddItemToArray(w, cJSON_CreateString(text));
        ap_progress_line(&b->progress, "warning: %s", text);
    }
    /* The pairs read the figures' statistics and statuses, which saving computes. */
    if (ap_bench_save(b, err) < 0 || derive_pairs(b, pairs, (size_t)n, err) < 0)
        return -1;
    return ap_bench_save(b, err);
}

/* "   1.23 / 23.48 MiB ok     19.09x" for one metric of a pair. */
static void pair_metric(const cJSON *f, char *buf, size_t len)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(f, "go");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(f, "python");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(f, "ratio");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(f, "status");
    const cJSON *why = cJSON_GetObjectItemCaseSensitive(f, "no_ratio");
    if (!cJSON_IsNumber(g) || !cJSON_IsNumber(p)) {
        snprintf(buf, len, "-");
        return;
    }
    char ratio[100];
    if (cJSON_IsNumber(r))
        snprintf(ratio, sizeof(ratio), "%.2fx", r->valuedouble);
    else
        snprintf(ratio, sizeof(ratio), "no ratio: %s",
                 cJSON_IsString(why) ? why->valuestring : "?");
    snprintf(buf, len, "%8.2f / %8.2f MiB %-4s %8s", g->valuedouble / (1 << 20),
             p->valuedouble / (1 << 20), cJSON_IsString(s) ? s->valuestring : "?", ratio);
}

void ap_bench_size_pairs_summary(const struct ap_bench *b, int width)
{
    const cJSON *pairs = cJSON_GetObjectItemCaseSensitive(b->doc, "size_pairs");
    if (cJSON_GetArraySize(pairs) == 0)
        return;
    struct ap_table t;
    ap_table_init(&t, 4, 0, 2);
    t.header = 1;
    const char *head[] = {"Go image", "Python image", "compressed (Go / Python)",
                          "unpacked (Go / Python)"};
    ap_error *err = NULL;
    int rc = ap_table_add(&t, "pair", head, 4, NULL, &err);
    const cJSON *it;
    cJSON_ArrayForEach(it, pairs)
    {
        char c[160], u[160];
        pair_metric(cJSON_GetObjectItemCaseSensitive(it, "compressed_bytes"), c, sizeof(c));
        pair_metric(cJSON_GetObjectItemCaseSensitive(it, "unpacked_bytes"), u, sizeof(u));
        const char *cells[] = {cJSON_GetObjectItemCaseSensitive(it, "go")->valuestring,
                               cJSON_GetObjectItemCaseSensitive(it, "python")->valuestring, c, u};
        if (rc == 0)
            rc = ap_table_add(&t, cJSON_GetObjectItemCaseSensitive(it, "label")->valuestring, cells,
                              4, NULL, &err);
    }
    putchar('\n');
    ap_table_print_text(stdout,
                        "size pairs (bench.json size_pairs): Go / Python image, counted (exact), "
                        "status, x: Python/Go",
                        0, 4, width);
    if (rc == 0) {
        ap_table_print(&t, stdout, width);
    } else {
        ap_log_warn("the size pairs' summary: %s (the results file has every pair)", err->msg);
        ap_error_release(&err);
    }
    ap_table_free(&t);
}
