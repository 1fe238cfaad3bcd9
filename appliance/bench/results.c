/* The results format's names, limit and check (results.h). */
#include "results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/text.h"
#include "../core/cleanup.h"
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
