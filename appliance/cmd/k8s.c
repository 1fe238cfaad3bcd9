/* appliance k8s render: a sharded campaign as Kubernetes manifests (campaign/k8s.h). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../campaign/k8s.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "cmd.h"

#define DEFAULT_CLAIMS "results/published/go-vs-python-2026.claims.json"

static void k8s_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance k8s render --shards N [--profile P] [--claims FILE]\n"
            "                            [--image IMAGE] [--results-claim PVC]\n"
            "                            [--merge-deadline SECONDS] [--out DIR]\n"
            "\n"
            "Writes a campaign as Kubernetes manifests (JSON, which kubectl apply -f reads):\n"
            "DIR/shards-job.json, an Indexed Job of N pods, pod I (its completion index)\n"
            "running `appliance reproduce --shard I/N` privileged (the sandbox needs it) and\n"
            "packing and signing its part into the results volume (" AP_K8S_RESULTS "/parts);\n"
            "and DIR/merge-job.json, a Job that waits for the N parts and merges them "
            "into\n" AP_K8S_RESULTS
            "/merged. The image holds the checkout, built, in " AP_K8S_WORKDIR " and the signing\n"
            "key (APPLIANCE_KEY); the results volume is a claim every pod can mount.\n"
            "\n"
            "Options:\n"
            "  --shards N           shards, 1 to %d\n"
            "  --profile NAME       quick, standard (default) or published\n"
            "  --claims FILE        the claims file in the image (default " DEFAULT_CLAIMS ")\n"
            "  --image IMAGE        the container image (default appliance:" AP_VERSION ")\n"
            "  --results-claim PVC  the results volume's claim (default appliance-results)\n"
            "  --merge-deadline S   how long the merge Job waits for the parts before it fails\n"
            "                       (its activeDeadlineSeconds; default 172800, two days)\n"
            "  --out DIR            where the manifests go (default results/k8s)\n"
            "\n"
            "Exit status: 0 written, 1 failed, 2 usage error.\n",
            AP_K8S_MAX_SHARDS);
}

enum { O_SHARDS = 256, O_PROFILE, O_CLAIMS, O_IMAGE, O_PVC, O_DEADLINE, O_OUT };

static const struct option opts[] = {{"shards", required_argument, NULL, O_SHARDS},
                                     {"profile", required_argument, NULL, O_PROFILE},
                                     {"claims", required_argument, NULL, O_CLAIMS},
                                     {"image", required_argument, NULL, O_IMAGE},
                                     {"results-claim", required_argument, NULL, O_PVC},
                                     {"merge-deadline", required_argument, NULL, O_DEADLINE},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

struct k8s_opts {
    struct ap_k8s_plan plan;
    const char *out;
};

static int parse_k8s_opts(struct k8s_opts *o, int argc, char **argv)
{
    o->plan = (struct ap_k8s_plan){.profile = "standard",
                                   .claims = DEFAULT_CLAIMS,
                                   .image = "appliance:" AP_VERSION,
                                   .results_claim = "appliance-results",
                                   .merge_deadline_s = 172800};
    o->out = "results/k8s";
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        k8s_usage(stdout);
        return AP_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "render") != 0)
        return ap_cmd_usage("k8s", "render is needed");
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_SHARDS: {
            long v;
            if (ap_cmd_parse_count(optarg, 1, AP_K8S_MAX_SHARDS, &v) < 0)
                return ap_cmd_usage("k8s", "--shards %s: a count from 1 to %d", optarg,
                                    AP_K8S_MAX_SHARDS);
            o->plan.shards = (int)v;
            break;
        }
        case O_PROFILE:
            if (strcmp(optarg, "quick") != 0 && strcmp(optarg, "standard") != 0 &&
                strcmp(optarg, "published") != 0)
                return ap_cmd_usage("k8s", "--profile %s: quick, standard or published", optarg);
            o->plan.profile = optarg;
            break;
        case O_CLAIMS:
            o->plan.claims = optarg;
            break;
        case O_IMAGE:
            o->plan.image = optarg;
            break;
        case O_PVC:
            o->plan.results_claim = optarg;
            break;
        case O_DEADLINE: {
            long d;
            if (ap_cmd_parse_count(optarg, 60, 31536000, &d) < 0)
                return ap_cmd_usage("k8s", "--merge-deadline %s: seconds, from 60 to 31536000",
                                    optarg);
            o->plan.merge_deadline_s = d;
            break;
        }
        case O_OUT:
            o->out = optarg;
            break;
        case 'h':
            k8s_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("k8s", "unknown or incomplete option '%s'", argv[optind]);
        }
    }
    if (optind + 1 < argc)
        return ap_cmd_usage("k8s", "unexpected argument '%s'", argv[optind + 1]);
    if (o->plan.shards == 0)
        return ap_cmd_usage("k8s", "--shards N is needed");
    return AP_CMD_CONTINUE;
}

int ap_cmd_k8s(struct ap_settings *set, int argc, char **argv)
{
    (void)set;
    struct k8s_opts o;
    int rc = parse_k8s_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    cleanup_cjson cJSON *shards = NULL;
    cleanup_cjson cJSON *merge = NULL;
    if (ap_k8s_render(&o.plan, &shards, &merge, &err) < 0)
        return ap_cmd_fail(&err);
    char a[4200], b[4200];
    if (ap_fs_path(a, sizeof(a), "%s/shards-job.json", o.out) < 0 ||
        ap_fs_path(b, sizeof(b), "%s/merge-job.json", o.out) < 0)
        return ap_cmd_usage("k8s", "--out %.64s... is too long", o.out);
    if (ap_fs_mkdir_p(o.out, 0755, &err) < 0 || ap_json_write_file(a, shards, &err) < 0 ||
        ap_json_write_file(b, merge, &err) < 0)
        return ap_cmd_fail(&err);
    printf("%s\n%s\n", a, b);
    return AP_EXIT_OK;
}
