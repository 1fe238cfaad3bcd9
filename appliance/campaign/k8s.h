/* The Kubernetes renderer of a campaign: the same contract as the Slurm adapter, as manifests
 * for a cluster's own scheduler. An Indexed Job of N pods (completion index = shard), each
 * measuring its shard and packing and signing its part into the results volume, and a merge
 * Job that waits for the N parts and merges them. JSON manifests (kubectl reads them); nothing
 * is submitted and no cluster is needed. */
#ifndef AP_CAMPAIGN_K8S_H
#define AP_CAMPAIGN_K8S_H

#include <cjson/cJSON.h>

#include "../core/error.h"

#define AP_K8S_MAX_SHARDS 64
/* Where the pods find the checkout (the image's working directory) and the results volume. */
#define AP_K8S_WORKDIR "/appliance"
#define AP_K8S_RESULTS "/results"

/* What the manifests run. Strings are borrowed; claims is a path inside the image (relative to
 * AP_K8S_WORKDIR, or absolute). */
struct ap_k8s_plan {
    int shards;                /* N, 1..AP_K8S_MAX_SHARDS */
    const char *profile;       /* quick, standard or published */
    const char *claims;        /* the claims file */
    const char *image;         /* the container image holding the checkout and the binary */
    const char *results_claim; /* the PersistentVolumeClaim of the shared results volume */
    long merge_deadline_s;     /* the merge Job's activeDeadlineSeconds: how long it waits */
};

/* The Indexed Job of the shards and the merge Job, new cJSON trees the caller frees. Values
 * reach the pods as arguments, never as shell text ('$' is written '$$', which Kubernetes
 * reads as a literal '$'). Returns 0, or -1 with err naming the value that cannot be used. */
int ap_k8s_render(const struct ap_k8s_plan *p, cJSON **shards_job, cJSON **merge_job,
                  ap_error **err);

#endif
