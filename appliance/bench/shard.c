/* The plan's groups, their partition into shards, the plan's digest and the dry run that
 * prints the partition (shard.h). */
#include "shard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/progress.h"
#include "runner.h"

/* ---- pure: parsing, ids, the partition ------------------------------------------------------ */

/* A decimal integer of 1 to 9 digits, nothing else (no sign, no space): *out, or -1. */
static int parse_uint(const char *s, size_t len, int *out)
{
    if (len == 0 || len > 9)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ap_bench_shard_parse(const char *text, int *index, int *count, ap_error **err)
{
    const char *slash = strchr(text, '/');
    int i = -1, n = -1;
    if (slash == NULL || parse_uint(text, (size_t)(slash - text), &i) < 0 ||
        parse_uint(slash + 1, strlen(slash + 1), &n) < 0) {
        ap_error_make(err, EINVAL, "'%.40s' is not I/N (two whole numbers, e.g. 0/4)", text);
        return ap_error_hint(err, "shards are numbered from 0: a run in 4 shards is --shard 0/4, "
                                  "1/4, 2/4 and 3/4");
    }
    if (n < 1 || n > AP_BENCH_SHARDS_MAX) {
        ap_error_make(err, EINVAL, "'%.40s': the count %d is not between 1 and %d", text, n,
                      AP_BENCH_SHARDS_MAX);
        return ap_error_hint(err, "split a plan into 1 to %d shards", AP_BENCH_SHARDS_MAX);
    }
    if (i >= n) {
        ap_error_make(err, EINVAL, "'%.40s': the index %d is not below the count %d", text, i, n);
        return ap_error_hint(err, "shards are numbered from 0: the last of %d is %d/%d", n, n - 1,
                             n);
    }
    *index = i;
    *count = n;
    return 0;
}

int ap_bench_group_id_valid(const char *id)
{
    size_t len = strlen(id);
    if (len == 0 || len >= AP_BENCH_GROUP_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' || c == '.' ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int ap_bench_groups_add(struct ap_bench_groups *g, double estimate_s, ap_error **err,
                        const char *fmt, ...)
{
    char id[AP_BENCH_GROUP_ID_MAX];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(id, sizeof(id), fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof(id) || !ap_bench_group_id_valid(id))
        return ap_error_make(err, EINVAL,
                             "the group id '%.80s' is not 1 to %d characters of a-z, 0-9, '/', "
                             "'.', '_' and '-'",
                             id, AP_BENCH_GROUP_ID_MAX - 1);
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->v[i].id, id) == 0) {
            g->v[i].estimate_s += estimate_s;
            return 0;
        }
    if (g->n == AP_BENCH_GROUPS_MAX)
        return ap_error_make(err, E2BIG, "the plan has more than %d groups (at %s)",
                             AP_BENCH_GROUPS_MAX, id);
    struct ap_bench_group *e = &g->v[g->n++];
    memcpy(e->id, id, (size_t)len + 1);
    e->estimate_s = estimate_s;
    e->shard = -1;
    return 0;
}

/* The n-th '/'-separated word of id (n from 0): its start and length, or NULL. */
static const char *word(const char *id, int n, size_t *len)
{
    const char *p = id;
    for (int k = 0; k < n; k++) {
        p = strchr(p, '/');
        if (p == NULL)
            return NULL;
        p++;
    }
    *len = strcspn(p, "/");
    return p;
}

static int starts(const char *id, const char *prefix)
{
    return strncmp(id, prefix, strlen(prefix)) == 0;
}

int ap_bench_group_of(const char *id, char *buf, size_t len)
{
    size_t wl = 0;
    const char *w = NULL;
    int n = -1;
    if (starts(id, "size/"))
        n = snprintf(buf, len, "size");
    else if (starts(id, "lang/"))
        n = snprintf(buf, len, "lang");
    else if (starts(id, "startup/service/"))
        n = snprintf(buf, len, "startup/service");
    else if (starts(id, "startup/process/") || starts(id, "startup/container/"))
        n = snprintf(buf, len, "startup");
    else if (starts(id, "threads/"))
        n = snprintf(buf, len, "threads");
    else if (starts(id, "memory/server/"))
        n = snprintf(buf, len, "memory/servers");
    else if (starts(id, "cpu/") && (w = word(id, 1, &wl)) != NULL && wl > 0)
        n = snprintf(buf, len, "task/%.*s", (int)wl, w);
    else if (starts(id, "memory/task/") && (w = word(id, 2, &wl)) != NULL && wl > 0)
        n = snprintf(buf, len, "task/%.*s", (int)wl, w);
    else if ((starts(id, "http/") || starts(id, "latency/")) && (w = word(id, 2, &wl)) != NULL &&
             wl > 1 && word(id, 3, &wl) == NULL)
        n = snprintf(buf, len, "%.*s/%s", (int)strcspn(id, "/"), id, w);
    return n < 0 || (size_t)n >= len || !ap_bench_group_id_valid(buf) ? -1 : 0;
}

static int cmp_group(const void *a, const void *b)
{
    const struct ap_bench_group *x = a, *y = b;
    if (x->estimate_s != y->estimate_s)
        return x->estimate_s > y->estimate_s ? -1 : 1;
    return strcmp(x->id, y->id);
}

void ap_bench_partition(struct ap_bench_groups *g, int count, double *totals)
{
    for (int s = 0; s < count; s++)
        totals[s] = 0;
    qsort(g->v, g->n, sizeof(g->v[0]), cmp_group);
    for (size_t i = 0; i < g->n; i++) {
        int least = 0;
        for (int s = 1; s < count; s++)
            if (totals[s] < totals[least])
                least = s;
        g->v[i].shard = least;
        totals[least] += g->v[i].estimate_s;
    }
}

void ap_bench_partition_print(FILE *out, const struct ap_bench_groups *g, int count, int index,
                              const double *totals, const char *plan_sha256)
{
    double total = 0, largest = 0;
    for (int s = 0; s < count; s++) {
        total += totals[s];
        largest = totals[s] > largest ? totals[s] : largest;
    }
    char d[32];
    if (plan_sha256 != NULL)
        fprintf(out, "plan_sha256 %s\n", plan_sha256);
    fprintf(out, "total %zu groups, estimated %.0f s (%s) on one node\n", g->n, total,
            ap_progress_format_duration(total, d, sizeof(d)));
    double fair = total / count;
    fprintf(out, "largest shard estimated %.0f s (%s), %.2f x total/%d\n", largest,
            ap_progress_format_duration(largest, d, sizeof(d)), fair > 0 ? largest / fair : 1.0,
            count);
    for (int s = 0; s < count; s++) {
        size_t n = 0;
        for (size_t i = 0; i < g->n; i++)
            n += g->v[i].shard == s;
        fprintf(out, "shard %d/%d estimated %.0f s (%s), %zu group%s%s\n", s, count, totals[s],
                ap_progress_format_duration(totals[s], d, sizeof(d)), n, n == 1 ? "" : "s",
                s == index ? " (this run)" : "");
        if (n == 0)
            fprintf(out, "  no group: %d shards for %zu groups; this shard measures nothing\n",
                    count, g->n);
        for (size_t i = 0; i < g->n; i++)
            if (g->v[i].shard == s)
                fprintf(out, "  %-24s %10.1f s\n", g->v[i].id, g->v[i].estimate_s);
    }
}

/* ---- with a loaded plan -----------------------------------------------------------------------
 */

int ap_bench_groups_list(struct ap_bench *b, unsigned suites, struct ap_bench_groups *g,
                         ap_error **err)
{
    g->n = 0;
    /* In the order run_suites (bench.c) runs them. */
    if ((suites & AP_SUITE_SIZE) && ap_bench_size_groups(b, g, err) < 0)
        return -1;
    if ((suites & AP_SUITE_LANG) && ap_bench_lang_groups(b, g, err) < 0)
        return -1;
    if ((suites & AP_SUITE_STARTUP) && ap_bench_startup_groups(b, g, err) < 0)
        return -1;
    if (ap_bench_cpu_groups(b, suites, g, err) < 0 || ap_bench_http_groups(b, suites, g, err) < 0)
        return -1;
    return 0;
}

double ap_bench_estimate(struct ap_bench *b, unsigned suites)
{
    struct ap_bench_groups *g = malloc(sizeof(*g));
    ap_error *e = NULL;
    double total = 0;
    if (g != NULL && ap_bench_groups_list(b, suites, g, &e) == 0)
        for (size_t i = 0; i < g->n; i++)
            total += g->v[i].estimate_s;
    ap_error_release(&e); /* the suites report it when they run */
    free(g);
    return total;
}

int ap_bench_in_shard(const struct ap_bench *b, const char *id)
{
    if (b->o->shard_count == 0)
        return 1;
    for (size_t i = 0; b->groups != NULL && i < b->groups->n; i++)
        if (strcmp(b->groups->v[i].id, id) == 0)
            return b->groups->v[i].shard == b->o->shard_index;
    return 0;
}

/* ---- the plan's digest ---------------------------------------------------------------------- */

#define DIGEST_FILES_MAX 8192
#define DIGEST_DEPTH_MAX 16

/* "relative/path\0<sha256 hex>" of each file found. */
struct file_list {
    char **v;
    size_t n, cap;
};

static int list_push(struct file_list *l, const char *rel, const char *hex, ap_error **err)
{
    if (l->n == DIGEST_FILES_MAX)
        return ap_error_make(err, E2BIG, "the workloads folder holds more than %d files",
                             DIGEST_FILES_MAX);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 128;
        char **v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL)
            return ap_error_make(err, ENOMEM, "the plan's digest");
        l->v = v;
        l->cap = cap;
    }
    char *e = NULL;
    if (asprintf(&e, "%s  %s", hex, rel) < 0)
        return ap_error_make(err, ENOMEM, "the plan's digest");
    l->v[l->n++] = e;
    return 0;
}

/* Every regular file (its bytes) and symbolic link (its target) under dfd/rel, never followed. */
static int walk(int dfd, const char *rel, int depth, struct file_list *l, ap_error **err)
{
    if (depth > DIGEST_DEPTH_MAX)
        return ap_error_make(err, ELOOP, "the workloads folder is deeper than %d at %s",
                             DIGEST_DEPTH_MAX, rel);
    int fd = openat(dfd, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "reading the workloads folder %s", rel[0] ? rel : ".");
    cleanup_dir DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return ap_error_make(err, errno, "reading the workloads folder %s", rel);
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[4096], hex[AP_SHA256_HEX_LEN + 1];
        if (ap_fs_path(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name) < 0)
            return ap_error_make(err, ENAMETOOLONG, "a path in the workloads folder under %s", rel);
        struct stat st;
        if (fstatat(dfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return ap_error_make(err, errno, "the workloads folder's %s", path);
        if (S_ISDIR(st.st_mode)) {
            if (walk(dfd, path, depth + 1, l, err) < 0)
                return -1;
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t n = readlinkat(dfd, path, target, sizeof(target));
            if (n < 0 || (size_t)n >= sizeof(target))
                return ap_error_make(err, n < 0 ? errno : ENAMETOOLONG,
                                     "the workloads folder's link %s", path);
            ap_sha256_hex(target, (size_t)n, hex);
            if (list_push(l, path, hex, err) < 0)
                return -1;
        } else if (S_ISREG(st.st_mode)) {
            if (ap_sha256_file(dfd, path, hex, NULL, err) < 0 || list_push(l, path, hex, err) < 0)
                return -1;
        }
    }
    return 0;
}

/* By path: each entry is "<64 hex>  <path>". */
static int cmp_entry(const void *a, const void *b)
{
    return strcmp(*(char *const *)a + AP_SHA256_HEX_LEN + 2,
                  *(char *const *)b + AP_SHA256_HEX_LEN + 2);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ap_bench_plan_digest(const struct ap_bench *b, char *hex, ap_error **err)
{
    cleanup_close int dfd = open(b->o->workloads_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ap_error_make(err, errno, "the workloads folder %s", b->o->workloads_dir);
    struct file_list l = {0};
    int rc = walk(dfd, "", 0, &l, err);
    if (rc == 0) {
        qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
        struct ap_sha256 h;
        ap_sha256_init(&h);
        for (size_t i = 0; i < l.n; i++) {
            ap_sha256_update(&h, l.v[i], strlen(l.v[i]));
            ap_sha256_update(&h, "\n", 1);
        }
        char line[1100];
        int n = snprintf(line, sizeof(line), "profile %s\nsuites", b->profile_name);
        ap_sha256_update(&h, line, (size_t)n);
        for (unsigned bit = 1; bit & AP_SUITE_ALL; bit <<= 1)
            if (b->o->suites & bit) {
                n = snprintf(line, sizeof(line), " %s", ap_bench_suite_name(bit));
                ap_sha256_update(&h, line, (size_t)n);
            }
        n = snprintf(line, sizeof(line), "\nrepeat %d\nwarmup %d\nonly ", b->repeat, b->warmup);
        ap_sha256_update(&h, line, (size_t)n);
        /* --only is hashed whole, whatever its length. */
        if (b->o->only != NULL)
            ap_sha256_update(&h, b->o->only, strlen(b->o->only));
        ap_sha256_update(&h, "\nimages", 7);
        const char *names[AP_BENCH_MAX_IMAGES];
        for (size_t i = 0; i < b->n_images; i++)
            names[i] = b->images[i].name;
        qsort(names, b->n_images, sizeof(names[0]), cmp_cstr);
        for (size_t i = 0; i < b->n_images; i++) {
            ap_sha256_update(&h, " ", 1);
            ap_sha256_update(&h, names[i], strlen(names[i]));
        }
        ap_sha256_update(&h, "\n", 1);
        ap_sha256_final_hex(&h, hex);
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i]);
    free(l.v);
    return rc;
}

/* The groups of the plan partitioned into the run's shards, and the plan's digest. */
int ap_bench_shard_plan(struct ap_bench *b, ap_error **err)
{
    b->groups = malloc(sizeof(*b->groups));
    if (b->groups == NULL)
        return ap_error_make(err, ENOMEM, "the plan's groups");
    if (ap_bench_groups_list(b, b->o->suites, b->groups, err) < 0)
        return ap_error_wrap(err, "the plan's groups");
    ap_bench_partition(b->groups, b->o->shard_count > 0 ? b->o->shard_count : 1, b->shard_totals);
    return ap_bench_plan_digest(b, b->plan_sha256, err);
}

/* A sharded run's record: run.shard with its index, count, groups (sorted) and estimate; a
 * shard without a group says so in the warnings. */
void ap_bench_shard_record(struct ap_bench *b)
{
    cJSON *run = cJSON_GetObjectItemCaseSensitive(b->doc, "run");
    cJSON_DeleteItemFromObjectCaseSensitive(run, "plan_sha256");
    cJSON_AddStringToObject(run, "plan_sha256", b->plan_sha256);
    if (b->o->shard_count == 0)
        return;
    const char *ids[AP_BENCH_GROUPS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < b->groups->n; i++)
        if (b->groups->v[i].shard == b->o->shard_index)
            ids[n++] = b->groups->v[i].id;
    qsort(ids, n, sizeof(ids[0]), cmp_cstr);
    cJSON *sh = cJSON_CreateObject();
    cJSON_AddNumberToObject(sh, "index", b->o->shard_index);
    cJSON_AddNumberToObject(sh, "count", b->o->shard_count);
    cJSON_AddItemToObject(sh, "groups", cJSON_CreateStringArray(ids, (int)n));
    cJSON_AddNumberToObject(sh, "estimate_s", b->shard_totals[b->o->shard_index]);
    cJSON_DeleteItemFromObjectCaseSensitive(run, "shard");
    cJSON_AddItemToObject(run, "shard", sh);
    if (n > 0)
        return;
    char text[300];
    snprintf(text, sizeof(text),
             "shard %d/%d has no group: the plan has %zu groups for %d shards; nothing measured",
             b->o->shard_index, b->o->shard_count, b->groups->n, b->o->shard_count);
    cJSON *w = cJSON_GetObjectItemCaseSensitive(b->doc, "warnings");
    const cJSON *it;
    cJSON_ArrayForEach(it, w)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, text) == 0)
            return;
    }
    cJSON_AddItemToArray(w, cJSON_CreateString(text));
    ap_progress_line(&b->progress, "warning: %s", text);
}

/* ---- the dry run ------------------------------------------------------------------------------
 */

int ap_bench_dry_run(const struct ap_bench_opts *o, FILE *out, ap_error **err)
{
    struct ap_bench *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return ap_error_make(err, ENOMEM, "the plan");
    int rc = ap_bench_load(b, o, 1, err);
    char hex[AP_SHA256_HEX_LEN + 1];
    int count = o->shard_count > 0 ? o->shard_count : 1;
    if (rc == 0)
        rc = ap_bench_plan_digest(b, hex, err);
    if (rc == 0) {
        fprintf(out, "profile %s, %d repeats, %d warmup; nothing is run (--dry-run)\n",
                b->profile_name, b->repeat, b->warmup);
        ap_bench_partition_print(out, b->groups, count, o->shard_count > 0 ? o->shard_index : -1,
                                 b->shard_totals, hex);
    }
    ap_bench_free(b);
    free(b);
    return rc;
}
