/* The results format's names, limit and check (results.h). */
#include "results.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/text.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "shard.h"

int ap_bench_results_schema_known(const char *id)
{
    return id != NULL &&
           (strcmp(id, AP_RESULTS_SCHEMA) == 0 || strcmp(id, AP_RESULTS_SCHEMA_1) == 0);
}

int ap_bench_results_run_id_valid(const char *s)
{
    return ap_text_id_valid(s, AP_RESULTS_RUN_ID_MAX);
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int ap_bench_results_parse_time(const char *s, int64_t *out)
{
    /* YYYY-MM-DDTHH:MM:SSZ */
    if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return -1;
    int y, mo, d, h, mi, se;
    if (digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 || digits(s + 8, 2, &d) < 0 ||
        digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 || digits(s + 17, 2, &se) < 0)
        return -1;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return -1;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t;
    return 0;
}

/* True when S holds no control character and is valid UTF-8 (it prints as it is). */
static int printable(const char *s)
{
    char *e = ap_text_escape(s);
    int same = e != NULL && strcmp(e, s) == 0;
    free(e);
    return same;
}

/* The names compare and the summaries print come from the file: measurement ids, metric
 * names and units must print as they are (a crafted file could otherwise move the cursor or
 * recolour the terminal of whoever compares it). */
static int names_printable(const cJSON *measurements, ap_error **err)
{
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, measurements)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "id");
        if (cJSON_IsString(id) && !printable(id->valuestring))
            return ap_error_make(err, 0,
                                 "results.json: measurement %zu: its id \"%.100s\" holds a "
                                 "control character or bytes that are not UTF-8",
                                 i, id->valuestring);
        const cJSON *metric;
        cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(m, "metrics"))
        {
            const cJSON *unit = cJSON_GetObjectItemCaseSensitive(metric, "unit");
            if ((metric->string != NULL && !printable(metric->string)) ||
                (cJSON_IsString(unit) && !printable(unit->valuestring)))
                return ap_error_make(err, 0,
                                     "results.json: measurement %zu: the metric \"%.100s\" or "
                                     "its unit holds a control character or bytes that are not "
                                     "UTF-8",
                                     i, metric->string != NULL ? metric->string : "");
        }
        i++;
    }
    return 0;
}

/* run.plan_sha256 and run.shard, when present (a run that could be sharded, a sharded run),
 * and each measurement's group: the shapes merge and the parts' checks rely on. */
static int shard_check(const cJSON *run, const cJSON *measurements, ap_error **err)
{
    const cJSON *digest = cJSON_GetObjectItemCaseSensitive(run, "plan_sha256");
    if (digest != NULL && (!cJSON_IsString(digest) || !ap_sha256_hex_valid(digest->valuestring)))
        return ap_error_make(err, 0,
                             "results.json: run.plan_sha256 is not 64 lowercase hex digits");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(run, "shard");
    if (sh != NULL) {
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(sh, "index");
        const cJSON *ct = cJSON_GetObjectItemCaseSensitive(sh, "count");
        const cJSON *groups = cJSON_GetObjectItemCaseSensitive(sh, "groups");
        if (!cJSON_IsNumber(ix) || !cJSON_IsNumber(ct) || ct->valuedouble < 1 ||
            ct->valuedouble > AP_BENCH_SHARDS_MAX || ix->valuedouble < 0 ||
            ix->valuedouble >= ct->valuedouble || ix->valuedouble != (double)ix->valueint ||
            ct->valuedouble != (double)ct->valueint || !cJSON_IsArray(groups))
            return ap_error_make(err, 0,
                                 "results.json: run.shard is not {index, count, groups} with "
                                 "0 <= index < count <= %d",
                                 AP_BENCH_SHARDS_MAX);
        if (digest == NULL)
            return ap_error_make(err, 0, "results.json: run.shard without run.plan_sha256");
        const cJSON *g;
        cJSON_ArrayForEach(g, groups)
        {
            if (!cJSON_IsString(g) || !ap_bench_group_id_valid(g->valuestring))
                return ap_error_make(err, 0, "results.json: run.shard.groups holds a bad group id");
        }
    }
    size_t i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, measurements)
    {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(m, "group");
        if (g != NULL && (!cJSON_IsString(g) || !ap_bench_group_id_valid(g->valuestring)))
            return ap_error_make(err, 0,
                                 "results.json: measurement %zu: its group is not 1 to %d "
                                 "characters of a-z, 0-9, '/', '.', '_' and '-'",
                                 i, AP_BENCH_GROUP_ID_MAX - 1);
        i++;
    }
    return 0;
}

int ap_bench_results_check(const cJSON *results, char *run_id, ap_error **err)
{
    run_id[0] = '\0';
    if (!cJSON_IsObject(results))
        return ap_error_make(err, 0, "results.json is not a JSON object");
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(results, "schema");
    if (!cJSON_IsString(schema))
        return ap_error_make(err, 0, "results.json has no \"schema\" string");
    if (!ap_bench_results_schema_known(schema->valuestring))
        return ap_error_make(err, 0, "results.json: schema \"%.100s\" is neither \"%s\" nor \"%s\"",
                             schema->valuestring, AP_RESULTS_SCHEMA, AP_RESULTS_SCHEMA_1);
    static const char *const objects[] = {"run", "plan", "environment"};
    static const char *const arrays[] = {"warnings", "measurements"};
    for (size_t i = 0; i < AP_ARRAY_SIZE(objects); i++)
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(results, objects[i])))
            return ap_error_make(err, 0, "results.json: \"%s\" is missing or not an object",
                                 objects[i]);
    for (size_t i = 0; i < AP_ARRAY_SIZE(arrays); i++)
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(results, arrays[i])))
            return ap_error_make(err, 0, "results.json: \"%s\" is missing or not an array",
                                 arrays[i]);
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(results, "run");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");
    if (id != NULL) {
        if (!cJSON_IsString(id) || !ap_bench_results_run_id_valid(id->valuestring))
            return ap_error_make(err, 0,
                                 "results.json: run.id is not a run id (letters, digits, '.', "
                                 "'_', '-'; at most %d)",
                                 AP_RESULTS_RUN_ID_MAX);
        snprintf(run_id, AP_RESULTS_RUN_ID_MAX + 1, "%s", id->valuestring);
    }
    if (names_printable(cJSON_GetObjectItemCaseSensitive(results, "measurements"), err) < 0 ||
        shard_check(run, cJSON_GetObjectItemCaseSensitive(results, "measurements"), err) < 0)
        return -1;
    static const char *const times[] = {"started", "ended"};
    for (size_t i = 0; i < AP_ARRAY_SIZE(times); i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(run, times[i]);
        int64_t v;
        if (t != NULL && !cJSON_IsNull(t) &&
            (!cJSON_IsString(t) || ap_bench_results_parse_time(t->valuestring, &v) < 0))
            return ap_error_make(err, 0,
                                 "results.json: run.%s is not a time "
                                 "(YYYY-MM-DDTHH:MM:SSZ)",
                                 times[i]);
    }
    return 0;
}

/* A statistic as text: `prec` significant digits, or "" where it is null (undefined: the spread
 * at n = 1, the interval below AP_STATS_CI_MIN_N). */
static const char *stat_text(const cJSON *st, const char *key, int prec, char *buf, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, key);
    if (!cJSON_IsNumber(v))
        return "";
    snprintf(buf, len, "%.*g", prec, v->valuedouble);
    return buf;
}

/* A member's text, "" when it is missing or not a string. */
static const char *text_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void csv_row(FILE *f, const cJSON *m, const cJSON *metric, int machines)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(metric, "stats");
    char n[40], med[40], min[40], max[40], mad[40], cv[40], lo[40], hi[40], cov[40];
    fprintf(f, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s", text_of(m, "id"),
            text_of(m, "suite"), text_of(m, "workload"), text_of(m, "image"),
            text_of(m, "language"), metric->string, text_of(metric, "unit"),
            cJSON_IsObject(st) ? stat_text(st, "n", 9, n, sizeof(n)) : "0",
            stat_text(st, "median", 9, med, sizeof(med)), stat_text(st, "min", 9, min, sizeof(min)),
            stat_text(st, "max", 9, max, sizeof(max)), stat_text(st, "mad", 9, mad, sizeof(mad)),
            stat_text(st, "cv", 6, cv, sizeof(cv)), stat_text(st, "ci95_lo", 9, lo, sizeof(lo)),
            stat_text(st, "ci95_hi", 9, hi, sizeof(hi)),
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "unstable")),
            stat_text(st, "ci95_coverage", 9, cov, sizeof(cov)),
            cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(st, "n_too_small")) ? "ok"
                                                                               : "n-too-small",
            text_of(metric, "status"));
    if (machines)
        fprintf(f, ",%s", text_of(m, "machine"));
    fputc('\n', f);
}

int ap_bench_results_csv(const cJSON *results, const char *path, ap_error **err)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(results, "measurements"), *m;
    int machines = 0;
    cJSON_ArrayForEach(m, ms)
    {
        machines |= cJSON_GetObjectItemCaseSensitive(m, "machine") != NULL;
    }
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (f == NULL)
        return ap_error_make(err, errno, "the CSV of %s", path);
    /* Undefined statistics are empty fields; ci95_status says why the interval's are, status
     * what the figure is worth (status.h). A metric whose every sample was left out (noisy)
     * has n 0 and no statistics. */
    fputs("id,suite,workload,image,language,metric,unit,n,median,min,max,mad,cv,ci95_lo,ci95_hi,"
          "unstable,ci95_coverage,ci95_status,status",
          f);
    fputs(machines ? ",machine\n" : "\n", f);
    cJSON_ArrayForEach(m, ms)
    {
        const cJSON *metric;
        cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(m, "metrics"))
        {
            if (cJSON_GetObjectItemCaseSensitive(metric, "stats") != NULL)
                csv_row(f, m, metric, machines);
        }
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(out);
        return ap_error_make(err, ENOMEM, "the CSV of %s", path);
    }
    int rc = ap_fs_write_atomic(path, out, len, 0644, err);
    free(out);
    return rc;
}
