/* appliance reproduce: one command from a claims file to verdicts. The claims are checked
 * (format, source text, and every subject and metric against the profile's catalog) before
 * anything runs; then the images the claims need are built, exactly the suites, images and
 * workloads they need are measured, the claims are judged, and the reports are written (and,
 * with --sign, the run with its claims file, verdicts and reports packed and signed). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../bench/catalog.h"
#include "../bench/results.h"
#include "../bundle/minisign.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../image/build.h"
#include "../report/claims.h"
#include "../report/verdict.h"
#include "cmd.h"

#define DEFAULT_CLAIMS "results/published/go-vs-python-2026.claims.json"
#define MAX_WORDS 128

static void reproduce_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance reproduce [--claims FILE] [--profile quick|standard|published]\n"
            "                           [--source TEXT] [--out DIR] [--shard I/N] [--dry-run]\n"
            "                           [--resume]\n"
            "                           [--allow-noisy] [--sign [--key SECKEY]\n"
            "                           [--password-file F]]\n"
            "\n"
            "From a claims file to verdicts in one command. The claims file is checked first\n"
            "(its format, its source text when it is found, and every subject and metric\n"
            "against what the profile measures): a claim that does not fit is an error naming\n"
            "it, before anything is built or run. Then the images the claims need are built\n"
            "(from the cache when they are there), the suites, images and workloads the claims\n"
            "need are measured (a claims file about startup alone runs startup alone), every\n"
            "claim is judged, and results.json, results.csv, claims.json, verdicts.json,\n"
            "report.md and report.html are written into the run directory.\n"
            "\n"
            "Options:\n"
            "  --claims FILE     the claims file (default " DEFAULT_CLAIMS ")\n"
            "  --profile NAME    quick, standard (default) or published\n"
            "  --source TEXT     the document the quotes were read from (default: the file\n"
            "                    source.document names, beside the claims file, when there)\n"
            "  --out DIR         the run directory (default results/latest)\n"
            "  --shard I/N       measure shard I of N (0 <= I < N <= 64) of what the claims\n"
            "                    need: its comparison groups split by estimated time, the same\n"
            "                    way on every node (appliance bench --help); a shard keeps\n"
            "                    the claims file beside its results and is not judged: its\n"
            "                    figures are part of a whole that appliance merge judges\n"
            "  --dry-run         check the claims and print what would be built and run, the\n"
            "                    plan's digest and its partition into the shards (each\n"
            "                    shard's groups and estimate, and the total); nothing is built\n"
            "  --resume          continue an interrupted run in DIR\n"
            "  --allow-noisy     record noise and go on (the figures carry their status)\n"
            "  --sign            pack the run, its claims file, verdicts and reports into a\n"
            "                    signed archive under results/\n"
            "  --key FILE, --password-file FILE   the secret key (as for bench --sign)\n"
            "\n"
            "Exit status: 0 judged (whatever the verdicts), 1 failed, 2 usage error or a claims\n"
            "file that is wrong, 130 interrupted (continue with --resume).\n");
}

enum {
    O_CLAIMS = 256,
    O_PROFILE,
    O_SOURCE,
    O_OUT,
    O_DRY,
    O_RESUME,
    O_NOISY,
    O_SIGN,
    O_KEY,
    O_PW,
    O_SHARD
};

static const struct option opts[] = {{"claims", required_argument, NULL, O_CLAIMS},
                                     {"profile", required_argument, NULL, O_PROFILE},
                                     {"source", required_argument, NULL, O_SOURCE},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"dry-run", no_argument, NULL, O_DRY},
                                     {"shard", required_argument, NULL, O_SHARD},
                                     {"resume", no_argument, NULL, O_RESUME},
                                     {"allow-noisy", no_argument, NULL, O_NOISY},
                                     {"sign", no_argument, NULL, O_SIGN},
                                     {"key", required_argument, NULL, O_KEY},
                                     {"password-file", required_argument, NULL, O_PW},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

struct reproduce_opts {
    const char *claims, *profile, *source, *out, *key, *password_file;
    int dry_run, resume, allow_noisy, sign;
    int shard_index, shard_count; /* --shard I/N; count 0: not sharded */
};

static int parse_reproduce_opts(struct reproduce_opts *o, int argc, char **argv)
{
    *o = (struct reproduce_opts){
        .claims = DEFAULT_CLAIMS, .profile = "standard", .out = "results/latest"};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_PROFILE:
            if (strcmp(optarg, "quick") != 0 && strcmp(optarg, "standard") != 0 &&
                strcmp(optarg, "published") != 0)
                return ap_cmd_usage("reproduce",
                                    "--profile: '%s' is not quick, standard or published", optarg);
            o->profile = optarg;
            break;
        case O_CLAIMS:
            o->claims = optarg;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_SOURCE:
            o->source = optarg;
            break;
        case O_DRY:
            o->dry_run = 1;
            break;
        case O_RESUME:
            o->resume = 1;
            break;
        case O_NOISY:
            o->allow_noisy = 1;
            break;
        case O_SIGN:
            o->sign = 1;
            break;
        case O_KEY:
            o->key = optarg;
            break;
        case O_PW:
            o->password_file = optarg;
            break;
        case O_SHARD: {
            int rc = ap_cmd_parse_shard("reproduce", optarg, &o->shard_index, &o->shard_count);
            if (rc != AP_CMD_CONTINUE)
                return rc;
            break;
        }
        case 'h':
            reproduce_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("reproduce", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ap_cmd_usage("reproduce", "unexpected argument '%s'", argv[optind]);
    if (!o->sign && (o->key != NULL || o->password_file != NULL))
        return ap_cmd_usage("reproduce", "--key and --password-file go with --sign");
    return AP_CMD_CONTINUE;
}

/* What the claims need, as bench options: the suites, the images and the --only words. */
struct need {
    unsigned suites;
    const char *images[AP_BENCH_MAX_IMAGES];
    size_t n_images;
    const char *words[MAX_WORDS];
    size_t n_words;
    int only_all; /* a needed measurement of a suite --only does not cut */
    size_t n_ids;
};

static void add_unique(const char **v, size_t *n, size_t max, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(v[i], s) == 0)
            return;
    if (*n < max)
        v[(*n)++] = s;
}

/* The suites, images and workloads of every measurement the claims need (checked to be in
 * the catalog before). Strings point into the catalog. */
static int plan_need(const struct ap_claims *c, const cJSON *cat, struct need *nd, ap_error **err)
{
    memset(nd, 0, sizeof(*nd));
    size_t n = 0;
    cleanup_free const char **ids = ap_claims_needed(c, &n);
    if (ids == NULL)
        return ap_error_make(err, ENOMEM, "listing the measurements the claims need");
    nd->n_ids = n;
    for (size_t i = 0; i < n; i++) {
        const cJSON *e = ap_verdict_find(cat, ids[i]);
        const char *suite = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "suite"));
        const char *image = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "image"));
        const char *work = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "workload"));
        if (suite == NULL || image == NULL || work == NULL)
            return ap_error_make(err, ENOENT, "measurement %s is not in the catalog", ids[i]);
        unsigned bit = 0;
        if (ap_bench_parse_suites(suite, &bit, err) < 0)
            return -1;
        nd->suites |= bit;
        add_unique(nd->images, &nd->n_images, AP_BENCH_MAX_IMAGES, image);
        if (strcmp(suite, "size") == 0)
            continue; /* --only does not cut the size suite */
        add_unique(nd->words, &nd->n_words, MAX_WORDS, work);
    }
    if (nd->n_words == MAX_WORDS)
        nd->only_all = 1;
    return 0;
}

/* The --only list of the words ("a,b,c"), or NULL for every workload. Caller frees. */
static char *only_list(const struct need *nd)
{
    if (nd->only_all || nd->n_words == 0)
        return NULL;
    size_t len = 1;
    for (size_t i = 0; i < nd->n_words; i++)
        len += strlen(nd->words[i]) + 1;
    char *s = calloc(1, len);
    for (size_t i = 0; s != NULL && i < nd->n_words; i++) {
        if (i > 0)
            strcat(s, ",");
        strcat(s, nd->words[i]);
    }
    return s;
}

static void print_plan(FILE *out, const struct need *nd, const char *only, const char *profile)
{
    fprintf(out, "%zu measurements needed; profile %s\nsuites:", nd->n_ids, profile);
    for (unsigned bit = 1; bit & AP_SUITE_ALL; bit <<= 1)
        if (nd->suites & bit)
            fprintf(out, " %s", ap_bench_suite_name(bit));
    fprintf(out, "\nimages:");
    for (size_t i = 0; i < nd->n_images; i++)
        fprintf(out, " %s", nd->images[i]);
    fprintf(out, "\nworkloads: %s\n", only != NULL ? only : "every one");
}

/* The claims: loaded, the source checked, and every claim checked against the catalog. */
static int check_claims(const struct reproduce_opts *o, const char *workloads, struct ap_claims *c,
                        cJSON **cat, int *checked)
{
    ap_error *err = NULL;
    if (ap_claims_load(o->claims, c, &err) < 0) {
        ap_cmd_fail(&err);
        return AP_EXIT_USAGE;
    }
    int rc = ap_cmd_claims_source(o->claims, o->source, c, checked);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    if (ap_bench_catalog(workloads, o->profile, cat, &err) < 0)
        return ap_cmd_fail(&err);
    if (ap_claims_check_results(c, *cat, &err) < 0) {
        ap_error_wrap(&err, "%s against what the %s profile measures (appliance bench --list)",
                      o->claims, o->profile);
        ap_cmd_fail(&err);
        return AP_EXIT_USAGE;
    }
    return AP_CMD_CONTINUE;
}

/* Builds the images the run needs (and their builders on the way). */
static int build_images(const struct ap_settings *set, const struct need *nd, ap_error **err)
{
    struct ap_fetch fetch;
    if (ap_fetch_init(&fetch, set->cache_dir, set->mirrors, err) < 0)
        return -1;
    struct ap_build_opts bo = {.images_dir = set->images_dir,
                               .out_dir = set->out_dir,
                               .cache_dir = set->cache_dir,
                               .fetch = &fetch};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nd->n_images; i++) {
        struct ap_build_result r;
        ap_log_info("image %s", nd->images[i]);
        if (ap_image_build(&bo, nd->images[i], &r, err) < 0)
            rc = ap_error_wrap(err, "building image %s", nd->images[i]);
    }
    ap_fetch_done(&fetch);
    return rc;
}

/* The claims file into the run directory as claims.json, byte for byte (its sha256 is the
 * one the verdicts and the manifest name), so that the archive carries it and `appliance
 * verdict ARCHIVE` judges again without --claims. */
static int copy_claims(const struct ap_claims *c, const char *claims, const char *out,
                       ap_error **err)
{
    char path[4200], hex[AP_SHA256_HEX_LEN + 1];
    cleanup_free char *bytes = NULL;
    size_t len = 0;
    if (ap_fs_path(path, sizeof(path), "%s/claims.json", out) < 0)
        return ap_error_make(err, ENAMETOOLONG, "--out %s", out);
    if (ap_fs_read_file(AT_FDCWD, claims, (size_t)AP_CLAIMS_MAX, &bytes, &len, err) < 0)
        return ap_error_wrap(err, "--claims");
    ap_sha256_hex(bytes, len, hex);
    if (strcmp(hex, c->sha256) != 0)
        return ap_error_make(err, 0, "%s changed while the run was measured", claims);
    return ap_fs_write_atomic(path, bytes, len, 0644, err);
}

/* The bench options that measure what the claims need (nd, only), shard and all. */
static struct ap_bench_opts bench_opts(const struct ap_settings *set,
                                       const struct reproduce_opts *o, const char *workloads,
                                       const struct need *nd, const char *only)
{
    struct ap_bench_opts bo = {.images_dir = set->images_dir,
                               .workloads_dir = workloads,
                               .out_dir = set->out_dir,
                               .cache_dir = set->cache_dir,
                               .suites = nd->suites,
                               .profile = o->profile,
                               .warmup = -1,
                               .only = only,
                               .resume = o->resume,
                               .allow_noisy = o->allow_noisy,
                               .quiet = ap_log_get_level() == AP_LOG_QUIET,
                               .shard_index = o->shard_index,
                               .shard_count = o->shard_count};
    for (size_t i = 0; i < nd->n_images; i++)
        bo.images[bo.n_images++] = nd->images[i];
    return bo;
}

/* Runs bench for what the claims need into out/results.json. Returns bench's rc (0, -1, -2). */
static int measure(const struct ap_settings *set, const struct reproduce_opts *o,
                   const char *workloads, const struct need *nd, const char *only,
                   const char *cmdline, char *results, size_t len, ap_error **err)
{
    char csv[4200];
    if (ap_fs_path(results, len, "%s/results.json", o->out) < 0 ||
        ap_fs_path(csv, sizeof(csv), "%s/results.csv", o->out) < 0)
        return ap_error_make(err, ENAMETOOLONG, "--out %s", o->out);
    struct ap_bench_opts bo = bench_opts(set, o, workloads, nd, only);
    bo.results_path = results;
    bo.csv_path = csv;
    bo.commandline = cmdline;
    return ap_bench_run(&bo, err);
}

/* Judges the finished run: verdicts.json, report.md and report.html beside results.json; a
 * shard only gets claims.json (appliance merge judges the merged parts). */
static int judge_run(const struct reproduce_opts *o, const struct ap_claims *c, const char *results,
                     int checked)
{
    ap_error *err = NULL;
    cleanup_cjson cJSON *doc = NULL;
    char hex[AP_SHA256_HEX_LEN + 1];
    if (ap_json_read_file(results, AP_RESULTS_MAX, &doc, &err) < 0 ||
        ap_sha256_file(AT_FDCWD, results, hex, NULL, &err) < 0 ||
        copy_claims(c, o->claims, o->out, &err) < 0)
        return ap_cmd_fail(&err);
    if (o->shard_count > 0) {
        /* A claim's figures may lie in other shards: judging one shard alone would call them
         * missing. The merge judges the whole. */
        printf("shard %d/%d measured; its claims are judged once the parts are merged "
               "(appliance merge): %s\n",
               o->shard_index, o->shard_count, o->out);
        return AP_EXIT_OK;
    }
    struct ap_cmd_judge j = {o->claims, o->out, 0};
    return ap_cmd_judge(&j, c, doc, hex, checked);
}

static int run_all(struct ap_settings *set, const struct reproduce_opts *o, const char *workloads,
                   const struct ap_claims *c, const struct need *nd, const char *only, int checked,
                   const char *cmdline, struct ap_minisign_sk *sk)
{
    ap_error *err = NULL;
    char results[4200];
    if (build_images(set, nd, &err) < 0 || ap_fs_mkdir_p(o->out, 0755, &err) < 0 ||
        (!o->resume && ap_cmd_clear_judgement(o->out, &err) < 0))
        return ap_cmd_fail(&err);
    int rc = measure(set, o, workloads, nd, only, cmdline, results, sizeof(results), &err);
    if (rc == -2) {
        ap_error_release(&err);
        ap_cmd_note("appliance reproduce: interrupted; the finished samples are in %s "
                    "(continue with --resume)",
                    results);
        return AP_EXIT_INTERRUPTED;
    }
    if (rc < 0)
        return ap_cmd_fail(&err);
    rc = judge_run(o, c, results, checked);
    if (rc != AP_EXIT_OK || !o->sign)
        return rc;
    if (ap_cmd_sign_run(set, o->out, NULL, o->claims, sk, &err) < 0)
        return ap_cmd_fail(&err);
    return AP_EXIT_OK;
}

int ap_cmd_reproduce(struct ap_settings *set, int argc, char **argv)
{
    struct reproduce_opts o;
    int rc = parse_reproduce_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    char workloads[4096];
    if (ap_fs_path(workloads, sizeof(workloads), "%s/workloads", set->images_dir) < 0)
        return ap_cmd_usage("reproduce", "the images folder is too long");
    struct ap_claims c;
    memset(&c, 0, sizeof(c));
    cleanup_cjson cJSON *cat = NULL;
    int checked = 0;
    struct need nd;
    ap_error *err = NULL;
    rc = check_claims(&o, workloads, &c, &cat, &checked);
    if (rc == AP_CMD_CONTINUE && plan_need(&c, cat, &nd, &err) < 0)
        rc = ap_cmd_fail(&err);
    cleanup_free char *only = rc == AP_CMD_CONTINUE ? only_list(&nd) : NULL;
    if (rc == AP_CMD_CONTINUE && o.dry_run) {
        print_plan(stdout, &nd, only, o.profile);
        struct ap_bench_opts bo = bench_opts(set, &o, workloads, &nd, only);
        rc = ap_cmd_dry_run(&bo);
    }
    struct ap_minisign_sk sk;
    memset(&sk, 0, sizeof(sk));
    /* The key is read before the run, not after an hour of it. */
    if (rc == AP_CMD_CONTINUE && o.sign &&
        ap_cmd_load_secret_key(o.key, o.password_file, &sk, &err) < 0)
        rc = ap_cmd_fail(&err);
    cleanup_free char *cmdline = rc == AP_CMD_CONTINUE ? ap_cmd_commandline(argc, argv) : NULL;
    if (rc == AP_CMD_CONTINUE) {
        if (ap_log_get_level() != AP_LOG_QUIET)
            print_plan(stderr, &nd, only, o.profile);
        rc = run_all(set, &o, workloads, &c, &nd, only, checked,
                     cmdline != NULL ? cmdline : "appliance reproduce", &sk);
    }
    ap_minisign_sk_wipe(&sk);
    ap_claims_free(&c);
    return rc;
}
