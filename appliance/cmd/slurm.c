/* appliance slurm submit|status|resume: a sharded campaign as a Slurm job array and a merge job
 * (campaign/slurm.h renders the scripts and calls Slurm's commands). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../campaign/slurm.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "cmd.h"

#define DEFAULT_CLAIMS "results/published/go-vs-python-2026.claims.json"
#define DEFAULT_RESULTS "results/campaign"

static void slurm_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance slurm submit [--profile P] [--shards N] [--claims FILE]\n"
            "                              [--partition P] [--constraint FEATURE]\n"
            "                              [--max-parallel K] [--allow-noisy] [--results DIR]\n"
            "                              [--key SECKEY] [--password-file F]\n"
            "                              [--trusted-keys FILE] [--dry-run]\n"
            "       appliance slurm status [--results DIR]\n"
            "       appliance slurm resume [--results DIR]\n"
            "\n"
            "Runs a campaign on a Slurm cluster. submit writes into DIR (a directory every node\n"
            "sees) campaign.json and two sbatch scripts: a job array of N tasks, task I running\n"
            "`appliance reproduce --shard I/N` alone on its node (--exclusive) into\n"
            "DIR/shard-I-of-N and packing and signing it as DIR/parts/shard-I-of-N.tar.zst;\n"
            "and a merge job that runs after every task ended well (--dependency=afterok) and\n"
            "merges the parts into DIR/merged. Both are submitted with `sbatch --parsable`\n"
            "(Slurm's commands are found on PATH, the cluster through SLURM_CONF) and their\n"
            "job ids printed. The jobs run from this directory, with this appliance binary.\n"
            "\n"
            "status prints each shard's state (from sacct; without accounting storage from\n"
            "squeue and the parts present) and the merge job's. resume submits again the\n"
            "shards that left no part (they continue with --resume), and a new merge job\n"
            "in place of the old one.\n"
            "\n"
            "Options:\n"
            "  --profile NAME       quick, standard (default) or published\n"
            "  --shards N           shards, 1 to %d (default 2)\n"
            "  --claims FILE        the claims file (default " DEFAULT_CLAIMS ")\n"
            "  --partition P        the partition of every job\n"
            "  --constraint F       node features the shard tasks need (a machine type)\n"
            "  --max-parallel K     at most K shard tasks at once\n"
            "  --allow-noisy        the shards record noise and go on (reproduce --allow-noisy:\n"
            "                       noisy samples are flagged and left out of the statistics)\n"
            "  --results DIR        the shared results directory (default " DEFAULT_RESULTS ")\n"
            "  --key SECKEY, --password-file F   the secret key the jobs sign with (default\n"
            "                       $APPLIANCE_KEY, else ~/.config/appliance/appliance.key)\n"
            "  --trusted-keys FILE  the public keys the merge accepts parts from (default:\n"
            "                       the merge's own default, the signer's public key)\n"
            "  --dry-run            print the scripts and the sbatch commands; submit nothing\n"
            "\n"
            "Exit status: 0 done, 1 failed, 2 usage error.\n",
            AP_SLURM_MAX_SHARDS);
}

enum {
    O_PROFILE = 256,
    O_SHARDS,
    O_CLAIMS,
    O_PARTITION,
    O_CONSTRAINT,
    O_MAXP,
    O_NOISY,
    O_RESULTS,
    O_KEY,
    O_PW,
    O_TRUSTED,
    O_DRY
};

static const struct option opts[] = {{"profile", required_argument, NULL, O_PROFILE},
                                     {"shards", required_argument, NULL, O_SHARDS},
                                     {"claims", required_argument, NULL, O_CLAIMS},
                                     {"partition", required_argument, NULL, O_PARTITION},
                                     {"constraint", required_argument, NULL, O_CONSTRAINT},
                                     {"max-parallel", required_argument, NULL, O_MAXP},
                                     {"allow-noisy", no_argument, NULL, O_NOISY},
                                     {"results", required_argument, NULL, O_RESULTS},
                                     {"key", required_argument, NULL, O_KEY},
                                     {"password-file", required_argument, NULL, O_PW},
                                     {"trusted-keys", required_argument, NULL, O_TRUSTED},
                                     {"dry-run", no_argument, NULL, O_DRY},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* The options of appliance slurm; strings point into argv or into the buffers. */
struct slurm_opts {
    const char *sub; /* submit, status or resume */
    struct ap_slurm_plan plan;
    int dry_run;
    char results[4096], claims[4096], checkout[4096], appliance[4096];
    char key[4096], password_file[4096], trusted_keys[4096];
};

/* A whole number from lo to hi, or -1. */
static int parse_count(const char *s, int lo, int hi)
{
    long v;
    return ap_cmd_parse_count(s, lo, hi, &v) < 0 ? -1 : (int)v;
}

/* path made absolute against the current directory into buf (NULL stays NULL). */
static int absolute(const char *path, const char *cwd, char *buf, size_t len, const char **out)
{
    if (path == NULL)
        return 0;
    if (ap_fs_path(buf, len, "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/", path) <
        0)
        return ap_cmd_usage("slurm", "the path %.64s... is too long", path);
    *out = buf;
    return 0;
}

/* The plan's paths, absolute: the jobs run on other nodes from the checkout directory. */
static int resolve_paths(struct slurm_opts *o, int submit)
{
    struct ap_slurm_plan *p = &o->plan;
    if (getcwd(o->checkout, sizeof(o->checkout)) == NULL)
        return ap_cmd_usage("slurm", "the current directory: %s", strerror(errno));
    p->checkout = o->checkout;
    ssize_t n = readlink("/proc/self/exe", o->appliance, sizeof(o->appliance) - 1);
    if (n < 0 || (size_t)n >= sizeof(o->appliance) - 1)
        return ap_cmd_usage("slurm", "cannot tell where this appliance binary is");
    o->appliance[n] = '\0';
    p->appliance = o->appliance;
    if (absolute(p->results, o->checkout, o->results, sizeof(o->results), &p->results) != 0 ||
        absolute(p->claims, o->checkout, o->claims, sizeof(o->claims), &p->claims) != 0 ||
        absolute(p->key, o->checkout, o->key, sizeof(o->key), &p->key) != 0 ||
        absolute(p->password_file, o->checkout, o->password_file, sizeof(o->password_file),
                 &p->password_file) != 0 ||
        absolute(p->trusted_keys, o->checkout, o->trusted_keys, sizeof(o->trusted_keys),
                 &p->trusted_keys) != 0)
        return AP_EXIT_USAGE;
    const char *files[] = {p->claims, p->key, p->password_file, p->trusted_keys};
    const char *names[] = {"--claims", "--key", "--password-file", "--trusted-keys"};
    for (int i = 0; i < 4 && submit; i++)
        if (files[i] != NULL && access(files[i], R_OK) < 0)
            return ap_cmd_usage("slurm", "%s %s: %s", names[i], files[i], strerror(errno));
    return AP_CMD_CONTINUE;
}

static int take_option(struct slurm_opts *o, int c)
{
    struct ap_slurm_plan *p = &o->plan;
    switch (c) {
    case O_PROFILE:
        if (strcmp(optarg, "quick") != 0 && strcmp(optarg, "standard") != 0 &&
            strcmp(optarg, "published") != 0)
            return ap_cmd_usage("slurm", "--profile %s: quick, standard or published", optarg);
        p->profile = optarg;
        break;
    case O_SHARDS:
        if ((p->shards = parse_count(optarg, 1, AP_SLURM_MAX_SHARDS)) < 0)
            return ap_cmd_usage("slurm", "--shards %s: a count from 1 to %d", optarg,
                                AP_SLURM_MAX_SHARDS);
        break;
    case O_MAXP:
        if ((p->max_parallel = parse_count(optarg, 1, AP_SLURM_MAX_SHARDS)) < 0)
            return ap_cmd_usage("slurm", "--max-parallel %s: a count from 1 to %d", optarg,
                                AP_SLURM_MAX_SHARDS);
        break;
    case O_NOISY:
        p->allow_noisy = 1;
        break;
    case O_CLAIMS:
        p->claims = optarg;
        break;
    case O_PARTITION:
        p->partition = optarg;
        break;
    case O_CONSTRAINT:
        p->constraint = optarg;
        break;
    case O_RESULTS:
        p->results = optarg;
        break;
    case O_KEY:
        p->key = optarg;
        break;
    case O_PW:
        p->password_file = optarg;
        break;
    case O_TRUSTED:
        p->trusted_keys = optarg;
        break;
    case O_DRY:
        o->dry_run = 1;
        break;
    default:
        return AP_EXIT_USAGE;
    }
    return AP_CMD_CONTINUE;
}

static int parse_slurm_opts(struct slurm_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->plan = (struct ap_slurm_plan){
        .profile = "standard", .shards = 2, .claims = DEFAULT_CLAIMS, .results = DEFAULT_RESULTS};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        slurm_usage(stdout);
        return AP_EXIT_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "submit") != 0 && strcmp(argv[1], "status") != 0 &&
                     strcmp(argv[1], "resume") != 0))
        return ap_cmd_usage("slurm", "submit, status or resume is needed");
    o->sub = argv[1];
    int submit = strcmp(o->sub, "submit") == 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            slurm_usage(stdout);
            return AP_EXIT_OK;
        }
        if (c == '?' || c == ':')
            return ap_cmd_usage("slurm", "unknown or incomplete option '%s'", argv[optind]);
        if (!submit && c != O_RESULTS)
            return ap_cmd_usage("slurm", "slurm %s takes --results DIR only", o->sub);
        int rc = take_option(o, c);
        if (rc != AP_CMD_CONTINUE)
            return rc;
    }
    if (optind + 1 < argc)
        return ap_cmd_usage("slurm", "unexpected argument '%s'", argv[optind + 1]);
    if (o->plan.max_parallel > o->plan.shards)
        o->plan.max_parallel = 0;
    return resolve_paths(o, submit);
}

static int dry_run(const struct ap_slurm_plan *p)
{
    ap_error *err = NULL;
    cleanup_free char *array = NULL;
    cleanup_free char *merge = NULL;
    if (ap_slurm_plan_check(p, &err) < 0 || ap_slurm_array_script(p, NULL, 0, &array, &err) < 0 ||
        ap_slurm_merge_script(p, &merge, &err) < 0)
        return ap_cmd_fail(&err);
    printf("# %s/shards.sbatch\n%s\n# %s/merge.sbatch\n%s\n", p->results, array, p->results, merge);
    printf("# submit would run:\n#   sbatch --parsable %s/shards.sbatch\n"
           "#   sbatch --parsable --dependency=afterok:<its job id> %s/merge.sbatch\n",
           p->results, p->results);
    return AP_EXIT_OK;
}

int ap_cmd_slurm(struct ap_settings *set, int argc, char **argv)
{
    (void)set;
    struct slurm_opts o;
    int rc = parse_slurm_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    if (strcmp(o.sub, "status") == 0)
        return ap_slurm_status(o.plan.results, stdout, &err) < 0 ? ap_cmd_fail(&err) : AP_EXIT_OK;
    if (strcmp(o.sub, "resume") == 0)
        return ap_slurm_resume(o.plan.results, stdout, &err) < 0 ? ap_cmd_fail(&err) : AP_EXIT_OK;
    if (o.dry_run)
        return dry_run(&o.plan);
    char array_id[32], merge_id[32];
    if (ap_slurm_submit(&o.plan, array_id, merge_id, &err) < 0)
        return ap_cmd_fail(&err);
    printf("shards: job array %s (%d tasks)\nmerge: job %s (after %s)\ncampaign: %s/%s\n", array_id,
           o.plan.shards, merge_id, array_id, o.plan.results, AP_SLURM_CAMPAIGN_FILE);
    return AP_EXIT_OK;
}
