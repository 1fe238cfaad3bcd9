/* Kubernetes manifests of a campaign: an Indexed Job of the shards and a merge Job. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/json.h"
#include "k8s.h"

/* Task I of the Indexed Job: $1 is "I/N" (Kubernetes puts the completion index in), $2 the
 * profile, $3 the claims file. The part appears under its final name only when complete. */
static const char shard_script[] =
    "set -eu\n"
    "i=${1%/*}\n"
    "n=${1#*/}\n"
    "dir=" AP_K8S_RESULTS "\n"
    "out=\"$dir/shard-$i-of-$n\"\n"
    "mkdir -p \"$dir/parts\"\n"
    "resume=\n"
    "if [ -f \"$out/results.json\" ]; then resume=--resume; fi\n"
    "build/appliance reproduce --claims \"$3\" --profile \"$2\" --shard \"$1\" --out \"$out\" "
    "$resume\n"
    "stage=\"$dir/parts/.shard-$i-of-$n.tmp\"\n"
    "rm -rf \"$stage\"\n"
    "build/appliance pack \"$out\" --out \"$stage\" --claims \"$3\"\n"
    "set -- \"$stage\"/*.tar.zst\n"
    "[ -f \"$1\" ] && [ -f \"$1.minisig\" ]\n"
    "mv \"$1.minisig\" \"$dir/parts/shard-$i-of-$n.tar.zst.minisig\"\n"
    "mv \"$1\" \"$dir/parts/shard-$i-of-$n.tar.zst\"\n"
    "rmdir \"$stage\"\n";

/* The merge: $1 is N; it waits until the N parts are there, then merges them. */
static const char merge_script[] =
    "set -eu\n"
    "n=$1\n"
    "dir=" AP_K8S_RESULTS "\n"
    "until [ \"$(ls \"$dir\"/parts/shard-*-of-\"$n\".tar.zst 2>/dev/null | wc -l)\" -ge \"$n\" ]; "
    "do\n"
    "    sleep 30\n"
    "done\n"
    "exec build/appliance merge \"$dir\"/parts/shard-*-of-\"$n\".tar.zst --expect \"$n\" "
    "--out \"$dir/merged\" --sign --archive-dir \"$dir\"\n";

/* s with every '$' doubled: Kubernetes expands $(VAR) in arguments, and reads $$ as '$'. */
static char *k8s_literal(const char *s)
{
    size_t n = strlen(s) + 1;
    for (const char *c = s; *c; c++)
        n += *c == '$';
    char *out = malloc(n), *w = out;
    if (out == NULL)
        return NULL;
    for (const char *c = s; *c; c++) {
        *w++ = *c;
        if (*c == '$')
            *w++ = '$';
    }
    *w = '\0';
    return out;
}

static int check(const char *what, const char *v, ap_error **err)
{
    if (v == NULL || *v == '\0')
        return ap_error_make(err, EINVAL, "%s is empty", what);
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return ap_error_make(err, EINVAL, "%s \"%s\" holds a control character", what, v);
    return 0;
}

static cJSON *labels(const char *role)
{
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "app.kubernetes.io/name", "appliance");
    cJSON_AddStringToObject(l, "app.kubernetes.io/component", role);
    return l;
}

/* A container running sh -c script with args, in the checkout, the results volume mounted. */
static cJSON *container(const char *name, const struct ap_k8s_plan *p, const char *script,
                        const char *const *args, int privileged)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddStringToObject(c, "image", p->image);
    cJSON_AddStringToObject(c, "workingDir", AP_K8S_WORKDIR);
    cJSON *cmd = cJSON_AddArrayToObject(c, "command");
    cJSON_AddItemToArray(cmd, cJSON_CreateString("/bin/sh"));
    cJSON_AddItemToArray(cmd, cJSON_CreateString("-c"));
    cJSON_AddItemToArray(cmd, cJSON_CreateString(script));
    cJSON_AddItemToArray(cmd, cJSON_CreateString(name));
    cJSON *a = cJSON_AddArrayToObject(c, "args");
    for (size_t i = 0; args[i] != NULL; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(args[i]));
    if (privileged) {
        /* The sandbox makes namespaces, mounts and cgroups of its own. */
        cJSON *sc = cJSON_AddObjectToObject(c, "securityContext");
        cJSON_AddTrueToObject(sc, "privileged");
    }
    cJSON *mounts = cJSON_AddArrayToObject(c, "volumeMounts");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "name", "results");
    cJSON_AddStringToObject(m, "mountPath", AP_K8S_RESULTS);
    cJSON_AddItemToArray(mounts, m);
    return c;
}

/* A batch/v1 Job around one container. */
static cJSON *job(const char *name, const struct ap_k8s_plan *p, cJSON *spec, cJSON *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "apiVersion", "batch/v1");
    cJSON_AddStringToObject(j, "kind", "Job");
    cJSON *meta = cJSON_AddObjectToObject(j, "metadata");
    cJSON_AddStringToObject(meta, "name", name);
    cJSON_AddItemToObject(meta, "labels", labels(name));
    cJSON_AddItemToObject(j, "spec", spec);
    cJSON *tmpl = cJSON_AddObjectToObject(spec, "template");
    cJSON *tmeta = cJSON_AddObjectToObject(tmpl, "metadata");
    cJSON_AddItemToObject(tmeta, "labels", labels(name));
    cJSON *pod = cJSON_AddObjectToObject(tmpl, "spec");
    cJSON_AddStringToObject(pod, "restartPolicy", "Never");
    cJSON_AddItemToArray(cJSON_AddArrayToObject(pod, "containers"), c);
    cJSON *vol = cJSON_CreateObject();
    cJSON_AddStringToObject(vol, "name", "results");
    cJSON *pvc = cJSON_AddObjectToObject(vol, "persistentVolumeClaim");
    cJSON_AddStringToObject(pvc, "claimName", p->results_claim);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(pod, "volumes"), vol);
    return j;
}

int ap_k8s_render(const struct ap_k8s_plan *p, cJSON **shards_job, cJSON **merge_job,
                  ap_error **err)
{
    if (p->shards < 1 || p->shards > AP_K8S_MAX_SHARDS)
        return ap_error_make(err, EINVAL, "%d shards: the count must be 1 to %d", p->shards,
                             AP_K8S_MAX_SHARDS);
    if (p->merge_deadline_s < 1)
        return ap_error_make(err, EINVAL, "a merge deadline of %ld s: it must be at least 1 s",
                             p->merge_deadline_s);
    if (check("--profile", p->profile, err) < 0 || check("--claims", p->claims, err) < 0 ||
        check("--image", p->image, err) < 0 || check("--results-claim", p->results_claim, err) < 0)
        return -1;
    char shard[64], n[16];
    snprintf(shard, sizeof(shard), "$(JOB_COMPLETION_INDEX)/%d", p->shards);
    snprintf(n, sizeof(n), "%d", p->shards);
    cleanup_free char *profile = k8s_literal(p->profile);
    cleanup_free char *claims = k8s_literal(p->claims);
    if (profile == NULL || claims == NULL)
        return ap_error_make(err, ENOMEM, "rendering the manifests");
    const char *shard_args[] = {shard, profile, claims, NULL};
    const char *merge_args[] = {n, NULL};

    cJSON *spec = cJSON_CreateObject();
    cJSON_AddStringToObject(spec, "completionMode", "Indexed");
    cJSON_AddNumberToObject(spec, "completions", p->shards);
    cJSON_AddNumberToObject(spec, "parallelism", p->shards);
    /* A failed shard is not tried again by Kubernetes: like a Slurm task, it is resumed. */
    cJSON_AddNumberToObject(spec, "backoffLimit", 0);
    cleanup_cjson cJSON *s =
        job("appliance-shards", p, spec, container("shard", p, shard_script, shard_args, 1));
    cJSON *mspec = cJSON_CreateObject();
    cJSON_AddNumberToObject(mspec, "completions", 1);
    cJSON_AddNumberToObject(mspec, "parallelism", 1);
    cJSON_AddNumberToObject(mspec, "backoffLimit", 0);
    /* It waits for the parts: a shard that never ends must not keep it waiting for ever. */
    cJSON_AddNumberToObject(mspec, "activeDeadlineSeconds", (double)p->merge_deadline_s);
    cleanup_cjson cJSON *m =
        job("appliance-merge", p, mspec, container("merge", p, merge_script, merge_args, 0));
    char *check_s = s != NULL ? ap_json_compact(s) : NULL;
    char *check_m = m != NULL ? ap_json_compact(m) : NULL;
    int ok = check_s != NULL && check_m != NULL;
    free(check_s);
    free(check_m);
    if (!ok)
        return ap_error_make(err, ENOMEM, "rendering the manifests");
    *shards_job = steal_pointer(&s);
    *merge_job = steal_pointer(&m);
    return 0;
}
