/* A campaign on Slurm: its record (DIR/campaign.json), its submission, its state and the
 * submission again of the shards that left no part. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "slurm.h"

#define CAMPAIGN_MAX (1024 * 1024)
#define ID_LEN 32

/* ---- the record ------------------------------------------------------------------------- */

static cJSON *opt_string(const char *s)
{
    return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* The command lines the scripts run, for the record: the lines after "cd". */
static cJSON *commands(const char *array_script, const char *merge_script)
{
    cJSON *c = cJSON_CreateObject();
    const char *scripts[] = {array_script, merge_script};
    const char *keys[] = {"shard", "merge"};
    for (int i = 0; i < 2 && c != NULL; i++) {
        cJSON *lines = cJSON_AddArrayToObject(c, keys[i]);
        const char *p = strstr(scripts[i], "\ncd ");
        for (p = p != NULL ? strchr(p + 1, '\n') : NULL; p != NULL && p[1] != '\0';) {
            const char *nl = strchr(p + 1, '\n');
            size_t n = nl != NULL ? (size_t)(nl - p - 1) : strlen(p + 1);
            char *line = strndup(p + 1, n);
            if (lines == NULL || line == NULL) {
                free(line);
                cJSON_Delete(c);
                return NULL;
            }
            if (line[0] != '#')
                cJSON_AddItemToArray(lines, cJSON_CreateString(line));
            free(line);
            p = nl;
        }
    }
    return c;
}

static cJSON *plan_json(const struct ap_slurm_plan *p)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    cJSON_AddStringToObject(j, "format", AP_SLURM_CAMPAIGN_FORMAT);
    cJSON_AddStringToObject(j, "profile", p->profile);
    cJSON_AddNumberToObject(j, "shards", p->shards);
    cJSON_AddStringToObject(j, "claims", p->claims);
    cJSON_AddItemToObject(j, "partition", opt_string(p->partition));
    cJSON_AddItemToObject(j, "constraint", opt_string(p->constraint));
    cJSON_AddNumberToObject(j, "max_parallel", p->max_parallel);
    cJSON_AddBoolToObject(j, "allow_noisy", p->allow_noisy);
    cJSON_AddStringToObject(j, "results", p->results);
    cJSON_AddStringToObject(j, "checkout", p->checkout);
    cJSON_AddStringToObject(j, "appliance", p->appliance);
    cJSON_AddItemToObject(j, "key", opt_string(p->key));
    cJSON_AddItemToObject(j, "password_file", opt_string(p->password_file));
    cJSON_AddItemToObject(j, "trusted_keys", opt_string(p->trusted_keys));
    return j;
}

/* A string field that may be null. */
static int get_opt(const cJSON *j, const char *key, const char **out, ap_error **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 0;
    return ap_json_get_string(j, key, 1, AP_SLURM_CAMPAIGN_FILE, out, err);
}

/* The plan recorded in j (strings point into j). */
static int plan_from_json(const cJSON *j, struct ap_slurm_plan *p, ap_error **err)
{
    memset(p, 0, sizeof(*p));
    const char *format = NULL;
    int64_t shards = 0, maxp = 0;
    const char *what = AP_SLURM_CAMPAIGN_FILE;
    if (ap_json_get_string(j, "format", 1, what, &format, err) < 0)
        return -1;
    if (strcmp(format, AP_SLURM_CAMPAIGN_FORMAT) != 0)
        return ap_error_make(err, 0, "format \"%s\" is not %s", format, AP_SLURM_CAMPAIGN_FORMAT);
    if (ap_json_get_string(j, "profile", 1, what, &p->profile, err) < 0 ||
        ap_json_get_int(j, "shards", 1, 1, AP_SLURM_MAX_SHARDS, what, &shards, err) < 0 ||
        ap_json_get_string(j, "claims", 1, what, &p->claims, err) < 0 ||
        get_opt(j, "partition", &p->partition, err) < 0 ||
        get_opt(j, "constraint", &p->constraint, err) < 0 ||
        ap_json_get_int(j, "max_parallel", 1, 0, AP_SLURM_MAX_SHARDS, what, &maxp, err) < 0 ||
        ap_json_get_string(j, "results", 1, what, &p->results, err) < 0 ||
        ap_json_get_string(j, "checkout", 1, what, &p->checkout, err) < 0 ||
        ap_json_get_string(j, "appliance", 1, what, &p->appliance, err) < 0 ||
        get_opt(j, "key", &p->key, err) < 0 ||
        get_opt(j, "password_file", &p->password_file, err) < 0 ||
        get_opt(j, "trusted_keys", &p->trusted_keys, err) < 0)
        return -1;
    p->shards = (int)shards;
    p->max_parallel = (int)maxp;
    const cJSON *noisy = cJSON_GetObjectItemCaseSensitive(j, "allow_noisy");
    if (!cJSON_IsBool(noisy))
        return ap_error_make(err, 0, "%s: allow_noisy must be true or false", what);
    p->allow_noisy = cJSON_IsTrue(noisy);
    return ap_slurm_plan_check(p, err);
}

/* Reads DIR/campaign.json into *out and its plan into p. */
static int load_campaign(const char *dir, char *path, size_t len, cJSON **out,
                         struct ap_slurm_plan *p, ap_error **err)
{
    if (ap_fs_path(path, len, "%s/%s", dir, AP_SLURM_CAMPAIGN_FILE) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the results directory %.64s...", dir);
    if (access(path, F_OK) < 0) {
        ap_error_make(err, errno, "%s", path);
        return ap_error_hint(err,
                             "give the results directory of a submitted campaign with "
                             "--results DIR (appliance slurm submit writes %s there)",
                             AP_SLURM_CAMPAIGN_FILE);
    }
    if (ap_json_read_file(path, CAMPAIGN_MAX, out, err) < 0 || plan_from_json(*out, p, err) < 0)
        return ap_error_wrap(err, "reading %s", path);
    return 0;
}

/* ---- writing and submitting scripts ---------------------------------------------------- */

static int write_script(const char *dir, const char *name, const char *text, char *path, size_t len,
                        ap_error **err)
{
    if (ap_fs_path(path, len, "%s/%s", dir, name) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the results directory %.64s...", dir);
    if (ap_fs_write_atomic(path, text, strlen(text), 0755, err) < 0)
        return ap_error_wrap(err, "writing the batch script");
    return 0;
}

/* Submits the merge script after array_id; its id into merge_id. */
static int submit_merge(const char *script, const char *array_id, char *merge_id, ap_error **err)
{
    char dep[64];
    snprintf(dep, sizeof(dep), "--dependency=afterok:%s", array_id);
    const char *extra[] = {dep, NULL};
    return ap_slurm_sbatch(script, extra, merge_id, ID_LEN, err);
}

static cJSON *submission(const char *array_id, const char *script, const int *idx, size_t n,
                         int shards)
{
    cJSON *s = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(s, "indices");
    if (s == NULL || a == NULL) {
        cJSON_Delete(s);
        return NULL;
    }
    cJSON_AddStringToObject(s, "array_job", array_id);
    cJSON_AddStringToObject(s, "script", script);
    for (int i = 0; i < (idx != NULL ? (int)n : shards); i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(idx != NULL ? idx[i] : i));
    return s;
}

/* The results directory and its logs/ and parts/ folders, writable. */
static int prepare_dir(const char *dir, ap_error **err)
{
    char sub[4200];
    const char *subs[] = {"logs", "parts"};
    if (ap_fs_mkdir_p(dir, 0755, err) < 0)
        return ap_error_wrap(err, "creating the results directory");
    for (int i = 0; i < 2; i++) {
        if (ap_fs_path(sub, sizeof(sub), "%s/%s", dir, subs[i]) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the results directory %.64s...", dir);
        if (ap_fs_mkdir_p(sub, 0755, err) < 0)
            return ap_error_wrap(err, "creating the results directory");
    }
    if (access(dir, W_OK | X_OK) < 0) {
        ap_error_make(err, errno, "the results directory %s is not writable", dir);
        return ap_error_hint(err, "give a directory you may write to, shared by every node, "
                                  "with --results DIR");
    }
    return 0;
}

int ap_slurm_submit(const struct ap_slurm_plan *p, char *array_id, char *merge_id, ap_error **err)
{
    char path[4200], array_path[4200], merge_path[4200];
    if (ap_slurm_plan_check(p, err) < 0)
        return -1;
    if (ap_fs_path(path, sizeof(path), "%s/%s", p->results, AP_SLURM_CAMPAIGN_FILE) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the results directory %.64s...", p->results);
    if (access(path, F_OK) == 0) {
        ap_error_make(err, EEXIST, "%s holds a campaign already", p->results);
        return ap_error_hint(err, "follow it with appliance slurm status, continue it with "
                                  "appliance slurm resume, or give another --results DIR");
    }
    cleanup_free char *array = NULL;
    cleanup_free char *merge = NULL;
    if (ap_slurm_array_script(p, NULL, 0, &array, err) < 0 ||
        ap_slurm_merge_script(p, &merge, err) < 0 || prepare_dir(p->results, err) < 0 ||
        write_script(p->results, "shards.sbatch", array, array_path, sizeof(array_path), err) < 0 ||
        write_script(p->results, "merge.sbatch", merge, merge_path, sizeof(merge_path), err) < 0)
        return -1;
    if (ap_slurm_sbatch(array_path, NULL, array_id, ID_LEN, err) < 0)
        return ap_error_wrap(err, "submitting the shards");
    if (submit_merge(merge_path, array_id, merge_id, err) < 0) {
        /* An array without its merge would run for nothing. */
        ap_error *e = NULL;
        if (ap_slurm_cancel(array_id, &e) < 0)
            ap_error_release(&e);
        return ap_error_wrap(err, "submitting the merge (the shards' job %s was cancelled)",
                             array_id);
    }
    cleanup_cjson cJSON *j = plan_json(p);
    cJSON *subs = j != NULL ? cJSON_AddArrayToObject(j, "submissions") : NULL;
    if (subs == NULL)
        return ap_error_make(err, ENOMEM, "writing %s", path);
    cJSON_AddItemToArray(subs, submission(array_id, "shards.sbatch", NULL, 0, p->shards));
    cJSON_AddStringToObject(j, "merge_job", merge_id);
    cJSON_AddStringToObject(j, "merge_script", "merge.sbatch");
    cJSON_AddArrayToObject(j, "replaced_merge_jobs");
    cJSON_AddItemToObject(j, "commands", commands(array, merge));
    return ap_json_write_file(path, j, err);
}

/* ---- state ------------------------------------------------------------------------------ */

/* Whether DIR/parts holds shard i's part and its signature. */
static int has_part(const struct ap_slurm_plan *p, int i)
{
    char a[4200], s[4300];
    if (ap_fs_path(a, sizeof(a), "%s/parts/shard-%d-of-%d.tar.zst", p->results, i, p->shards) < 0 ||
        ap_fs_path(s, sizeof(s), "%s.minisig", a) < 0)
        return 0;
    return access(a, F_OK) == 0 && access(s, F_OK) == 0;
}

/* Each shard's latest array job (from the submissions, the last one that ran it). */
static int shard_jobs(const cJSON *j, int shards, const char **job, ap_error **err)
{
    const cJSON *subs = cJSON_GetObjectItemCaseSensitive(j, "submissions");
    if (!cJSON_IsArray(subs) || cJSON_GetArraySize(subs) == 0)
        return ap_error_make(err, 0, "%s lists no submission", AP_SLURM_CAMPAIGN_FILE);
    for (int i = 0; i < shards; i++)
        job[i] = NULL;
    const cJSON *s;
    cJSON_ArrayForEach(s, subs)
    {
        const char *id = NULL;
        if (ap_json_get_string(s, "array_job", 1, "a submission", &id, err) < 0)
            return -1;
        const cJSON *idx;
        cJSON_ArrayForEach(idx, cJSON_GetObjectItemCaseSensitive(s, "indices"))
        {
            if (cJSON_IsNumber(idx) && idx->valueint >= 0 && idx->valueint < shards)
                job[idx->valueint] = id;
        }
    }
    return 0;
}

/* The states of every shard (st[i]) from their latest array jobs. */
static int shard_states(const cJSON *j, const struct ap_slurm_plan *p, const char **job,
                        struct ap_slurm_state *st, ap_error **err)
{
    if (shard_jobs(j, p->shards, job, err) < 0)
        return -1;
    struct ap_slurm_state tmp[AP_SLURM_MAX_SHARDS];
    for (int i = 0; i < p->shards; i++)
        st[i] = (struct ap_slurm_state){.source = NULL};
    /* One query per array job, for all of its shards. */
    for (int i = 0; i < p->shards; i++) {
        int first = 1;
        for (int k = 0; k < i; k++)
            first &= job[k] != job[i];
        if (!first || job[i] == NULL)
            continue;
        if (ap_slurm_job_states(job[i], tmp, (size_t)p->shards, err) < 0)
            return -1;
        for (int k = i; k < p->shards; k++)
            if (job[k] == job[i])
                st[k] = tmp[k];
    }
    return 0;
}

static int active(const struct ap_slurm_state *s)
{
    static const char *const states[] = {"PENDING",  "RUNNING",  "CONFIGURING", "COMPLETING",
                                         "REQUEUED", "RESIZING", "SUSPENDED",   "REQUEUE_HOLD"};
    for (size_t i = 0; i < AP_ARRAY_SIZE(states); i++)
        if (strcmp(s->state, states[i]) == 0)
            return 1;
    return 0;
}

int ap_slurm_status(const char *dir, FILE *out, ap_error **err)
{
    char path[4200];
    cleanup_cjson cJSON *j = NULL;
    struct ap_slurm_plan p;
    if (load_campaign(dir, path, sizeof(path), &j, &p, err) < 0)
        return -1;
    const char *job[AP_SLURM_MAX_SHARDS];
    struct ap_slurm_state st[AP_SLURM_MAX_SHARDS], ms;
    const char *merge = NULL;
    if (shard_states(j, &p, job, st, err) < 0 ||
        ap_json_get_string(j, "merge_job", 1, path, &merge, err) < 0 ||
        ap_slurm_job_states(merge, &ms, 0, err) < 0)
        return -1;
    int parts = 0;
    for (int i = 0; i < p.shards; i++) {
        int part = has_part(&p, i);
        parts += part;
        const char *state = st[i].state[0] ? st[i].state : part ? "DONE" : "MISSING";
        fprintf(out, "shard %d/%d  job %s_%d  %-11s (from %s)  part: %s%s%s%s\n", i, p.shards,
                job[i], i, state, st[i].source ? st[i].source : "the parts present",
                part ? "present" : "none", st[i].reason[0] ? "  [" : "", st[i].reason,
                st[i].reason[0] ? "]" : "");
    }
    fprintf(out, "merge     job %s  %-11s (from %s)%s%s%s\n", merge,
            ms.state[0] ? ms.state : "unknown", ms.source ? ms.source : "nowhere: Slurm forgot it",
            ms.reason[0] ? "  [" : "", ms.reason, ms.reason[0] ? "]" : "");
    fprintf(out, "%d of %d parts present in %s/parts\n", parts, p.shards, p.results);
    return 0;
}

/* The shards to submit again into idx (*n of them): no part, and not pending or running. */
static int missing_shards(const cJSON *j, const struct ap_slurm_plan *p, int *idx, size_t *n,
                          ap_error **err)
{
    const char *job[AP_SLURM_MAX_SHARDS];
    struct ap_slurm_state st[AP_SLURM_MAX_SHARDS];
    if (shard_states(j, p, job, st, err) < 0)
        return -1;
    *n = 0;
    for (int i = 0; i < p->shards; i++) {
        if (has_part(p, i))
            continue;
        if (active(&st[i])) {
            ap_error_make(err, EBUSY, "shard %d/%d (job %s_%d) is %s", i, p->shards, job[i], i,
                          st[i].state);
            return ap_error_hint(err,
                                 "wait until it ends (appliance slurm status), or cancel "
                                 "it with scancel %s_%d, then resume",
                                 job[i], i);
        }
        idx[(*n)++] = i;
    }
    return 0;
}

int ap_slurm_resume(const char *dir, FILE *out, ap_error **err)
{
    char path[4200], array_path[4200], merge_path[4200], name[64];
    cleanup_cjson cJSON *j = NULL;
    struct ap_slurm_plan p;
    if (load_campaign(dir, path, sizeof(path), &j, &p, err) < 0)
        return -1;
    int idx[AP_SLURM_MAX_SHARDS];
    size_t n = 0;
    const char *merge_job = NULL;
    char old_merge[ID_LEN];
    if (missing_shards(j, &p, idx, &n, err) < 0 ||
        ap_json_get_string(j, "merge_job", 1, path, &merge_job, err) < 0)
        return -1;
    if (strlen(merge_job) >= sizeof(old_merge))
        return ap_error_make(err, 0, "%s: the merge job id \"%s\" is too long", path, merge_job);
    strcpy(old_merge, merge_job);
    if (n == 0) {
        fprintf(out, "every part is present (%d of %d); nothing to submit (merge: job %s)\n",
                p.shards, p.shards, old_merge);
        return 0;
    }
    cJSON *subs = cJSON_GetObjectItemCaseSensitive(j, "submissions");
    snprintf(name, sizeof(name), "shards-resume-%d.sbatch", cJSON_GetArraySize(subs));
    cleanup_free char *array = NULL;
    cleanup_free char *merge = NULL;
    char array_id[ID_LEN], merge_id[ID_LEN];
    if (ap_slurm_array_script(&p, idx, n, &array, err) < 0 ||
        ap_slurm_merge_script(&p, &merge, err) < 0 || prepare_dir(p.results, err) < 0 ||
        write_script(p.results, name, array, array_path, sizeof(array_path), err) < 0 ||
        write_script(p.results, "merge.sbatch", merge, merge_path, sizeof(merge_path), err) < 0)
        return -1;
    /* The old merge waits on an array that failed: it would never run, or run too early. */
    if (ap_slurm_cancel(old_merge, err) < 0)
        return ap_error_wrap(err, "cancelling the old merge job %s", old_merge);
    if (ap_slurm_sbatch(array_path, NULL, array_id, ID_LEN, err) < 0)
        return ap_error_wrap(err, "submitting the missing shards");
    if (submit_merge(merge_path, array_id, merge_id, err) < 0)
        return ap_error_wrap(err, "submitting the merge after job %s", array_id);
    cJSON_AddItemToArray(subs, submission(array_id, name, idx, n, p.shards));
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(j, "replaced_merge_jobs"),
                         cJSON_CreateString(old_merge));
    cJSON_ReplaceItemInObjectCaseSensitive(j, "merge_job", cJSON_CreateString(merge_id));
    if (ap_json_write_file(path, j, err) < 0)
        return -1;
    fprintf(out, "resubmitted shards");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%d", i ? "," : " ", idx[i]);
    fprintf(out, " of %d: array job %s\nmerge job %s (after %s; replaces job %s)\n", p.shards,
            array_id, merge_id, array_id, old_merge);
    return 0;
}
