/* appliance bench [options]: the measurement engine's verb. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../bench/catalog.h"
#include "../bench/shard.h"
#include "../bundle/archive.h"
#include "../bundle/minisign.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../core/log.h"
#include "cmd.h"

static void bench_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance bench [OPTIONS]\n"
            "\n"
            "Measures the built images: image size, process and service start, memory, the\n"
            "Benchmarks Game tasks, HTTP throughput and latency, thread scaling, and what each\n"
            "language's runtime reports (version, keywords, goroutine stack). Every\n"
            "measured run has a fresh sandbox; its output is checked (a wrong answer is an\n"
            "error, never a number). Samples are interleaved across images, the workload\n"
            "pinned apart from the load generator, and the machine watched for noise.\n"
            "\n"
            "Options:\n"
            "  --suite LIST        size,startup,memory,cpu,http,latency,threads,lang (default\n"
            "                      all)\n"
            "  --images LIST       only these images (comma-separated)\n"
            "  --only TEXT[,TEXT]  only workloads whose name contains one of the TEXTs\n"
            "  --profile NAME      quick (minutes), standard (default; under an hour) or\n"
            "                      published (the published sizes: hours; resumable)\n"
            "  --repeat N          measured runs per measurement (default: the profile's)\n"
            "  --warmup N          unmeasured runs first (default: the profile's)\n"
            "  --out FILE          results file (default results/latest/results.json); its\n"
            "                      folder is the run directory that --sign packs\n"
            "  --csv FILE          also write one CSV row per measurement and metric\n"
            "  --list              print what the profile measures (every measurement id with\n"
            "                      its suite, image and metrics, as JSON) and run nothing\n"
            "  --shard I/N         run shard I of N (0 <= I < N <= 64): the plan's comparison\n"
            "                      groups (everything one ratio needs: a task on every image,\n"
            "                      the servers at one level) split into N by estimated time,\n"
            "                      the same way on every node; each group in exactly one shard\n"
            "  --dry-run           print the plan's digest and its partition (each shard's\n"
            "                      groups and estimate, and the total) and run nothing; no\n"
            "                      image needs to be built\n"
            "  --sign              once the run is complete, pack its folder into\n"
            "                      results/<run-id>.tar.zst with a minisign signature\n"
            "  --key SECKEY        the secret key that signs (default $APPLIANCE_KEY, else\n"
            "                      ~/.config/appliance/appliance.key)\n"
            "  --password-file F   the key's password (first line of F)\n"
            "  --resume            keep the samples already in --out and go on\n"
            "  --allow-noisy       keep samples taken while other work shared the CPUs\n"
            "                      instead of refusing: flagged noisy, and left out of the\n"
            "                      statistics\n"
            "  --include-noisy     count the samples flagged noisy in the statistics too\n"
            "                      (their metrics' status is then noisy)\n"
            "  --workload-cpus L   CPUs for the workloads (default: upper half of the cores)\n"
            "  --load-cpus L       CPUs for the load generator and the appliance (lower half;\n"
            "                      never SMT siblings of the workload's while there is a choice)\n"
            "  --images-out DIR, --cache DIR  where built images and unpacked roots live\n"
            "\n"
            "Every metric has a status, shown beside its median and in the CSV: the first of\n"
            "errors, no-valid-response, unsustained, client-saturated, noisy, n-too-small,\n"
            "unstable that applies, else ok. A ratio to Go is made between ok figures only.\n"
            "\n"
            "Environment: NO_COLOR turns colour off; the progress bar shows on a terminal.\n"
            "On a terminal the summary fits its width ($COLUMNS, if set, overrides it); in a\n"
            "file or a pipe it is one row per line.\n"
            "Exit status: 0 done, 1 failed (the results file keeps every finished sample),\n"
            "2 usage error, 130 interrupted (continue with --resume).\n");
}

enum {
    O_SUITE = 256,
    O_IMAGES,
    O_ONLY,
    O_PROFILE,
    O_REPEAT,
    O_WARMUP,
    O_OUT,
    O_CSV,
    O_RESUME,
    O_NOISY,
    O_WLCPUS,
    O_LOADCPUS,
    O_IMGOUT,
    O_CACHE,
    O_SIGN,
    O_KEY,
    O_PASSWORD_FILE,
    O_INCLUDE_NOISY,
    O_LIST,
    O_SHARD,
    O_DRY_RUN
};

static const struct option opts[] = {{"suite", required_argument, NULL, O_SUITE},
                                     {"images", required_argument, NULL, O_IMAGES},
                                     {"only", required_argument, NULL, O_ONLY},
                                     {"profile", required_argument, NULL, O_PROFILE},
                                     {"repeat", required_argument, NULL, O_REPEAT},
                                     {"warmup", required_argument, NULL, O_WARMUP},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"csv", required_argument, NULL, O_CSV},
                                     {"resume", no_argument, NULL, O_RESUME},
                                     {"allow-noisy", no_argument, NULL, O_NOISY},
                                     {"include-noisy", no_argument, NULL, O_INCLUDE_NOISY},
                                     {"workload-cpus", required_argument, NULL, O_WLCPUS},
                                     {"load-cpus", required_argument, NULL, O_LOADCPUS},
                                     {"images-out", required_argument, NULL, O_IMGOUT},
                                     {"cache", required_argument, NULL, O_CACHE},
                                     {"sign", no_argument, NULL, O_SIGN},
                                     {"key", required_argument, NULL, O_KEY},
                                     {"password-file", required_argument, NULL, O_PASSWORD_FILE},
                                     {"list", no_argument, NULL, O_LIST},
                                     {"shard", required_argument, NULL, O_SHARD},
                                     {"dry-run", no_argument, NULL, O_DRY_RUN},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

#define MAX_COUNT 100000 /* --repeat and --warmup at most */

/* --repeat and --warmup: a whole number from min to MAX_COUNT into *out. */
static int parse_count(const char *s, int min, int *out)
{
    long v;
    if (ap_cmd_parse_count(s, min, MAX_COUNT, &v) < 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* The options of appliance bench: the engine's own, and the signing that follows the run.
 * images_list is a copy of --images that o.images point into (argv stays whole for the
 * record of the command line); bench_opts_free frees it. */
struct bench_opts {
    struct ap_bench_opts o;
    int sign;
    int list;    /* --list: print the catalog, run nothing */
    int dry_run; /* --dry-run: print the partition, run nothing */
    const char *key, *password_file;
    char *images_list;
};

static void bench_opts_free(struct bench_opts *b)
{
    free(b->images_list);
    b->images_list = NULL;
}

/* --images LIST: the names, as many as the engine takes (the last --images given wins). */
static int parse_images(const char *arg, struct bench_opts *b)
{
    free(b->images_list);
    b->images_list = strdup(arg);
    if (b->images_list == NULL)
        return ap_cmd_usage("bench", "--images: out of memory");
    b->o.n_images = 0;
    char *save = NULL;
    for (char *t = strtok_r(b->images_list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (b->o.n_images == AP_BENCH_MAX_IMAGES)
            return ap_cmd_usage("bench", "--images: at most %d images", AP_BENCH_MAX_IMAGES);
        b->o.images[b->o.n_images++] = t;
    }
    return AP_CMD_CONTINUE;
}

/* One option of appliance bench; -2 when c is none. */
static int parse_option(int c, char *arg, struct bench_opts *b)
{
    struct ap_bench_opts *o = &b->o;
    ap_error *err = NULL;
    switch (c) {
    case O_SUITE:
        if (ap_bench_parse_suites(arg, &o->suites, &err) < 0) {
            int rc = ap_cmd_usage("bench", "--suite: %s", err->msg);
            ap_error_release(&err);
            return rc;
        }
        return AP_CMD_CONTINUE;
    case O_IMAGES:
        return parse_images(arg, b);
    case O_ONLY:
        o->only = arg;
        return AP_CMD_CONTINUE;
    case O_PROFILE:
        if (strcmp(arg, "quick") != 0 && strcmp(arg, "standard") != 0 &&
            strcmp(arg, "published") != 0)
            return ap_cmd_usage("bench", "--profile: '%s' is not quick, standard or published",
                                arg);
        o->profile = arg;
        return AP_CMD_CONTINUE;
    case O_REPEAT:
        if (parse_count(arg, 1, &o->repeat) < 0)
            return ap_cmd_usage("bench", "--repeat: '%s' is not a count of 1 or more (at most %d)",
                                arg, MAX_COUNT);
        return AP_CMD_CONTINUE;
    case O_WARMUP:
        if (parse_count(arg, 0, &o->warmup) < 0)
            return ap_cmd_usage("bench", "--warmup: '%s' is not a count (at most %d)", arg,
                                MAX_COUNT);
        return AP_CMD_CONTINUE;
    case O_OUT:
        o->results_path = arg;
        return AP_CMD_CONTINUE;
    case O_CSV:
        o->csv_path = arg;
        return AP_CMD_CONTINUE;
    case O_RESUME:
        o->resume = 1;
        return AP_CMD_CONTINUE;
    case O_NOISY:
        o->allow_noisy = 1;
        return AP_CMD_CONTINUE;
    case O_INCLUDE_NOISY:
        o->include_noisy = 1;
        return AP_CMD_CONTINUE;
    case O_WLCPUS:
        o->workload_cpus = arg;
        return AP_CMD_CONTINUE;
    case O_LOADCPUS:
        o->load_cpus = arg;
        return AP_CMD_CONTINUE;
    case O_IMGOUT:
        o->out_dir = arg;
        return AP_CMD_CONTINUE;
    case O_CACHE:
        o->cache_dir = arg;
        return AP_CMD_CONTINUE;
    case O_SIGN:
        b->sign = 1;
        return AP_CMD_CONTINUE;
    case O_KEY:
        b->key = arg;
        return AP_CMD_CONTINUE;
    case O_PASSWORD_FILE:
        b->password_file = arg;
        return AP_CMD_CONTINUE;
    case O_LIST:
        b->list = 1;
        return AP_CMD_CONTINUE;
    case O_SHARD:
        return ap_cmd_parse_shard("bench", arg, &o->shard_index, &o->shard_count);
    case O_DRY_RUN:
        b->dry_run = 1;
        return AP_CMD_CONTINUE;
    default:
        return -2;
    }
}

static int parse_bench_opts(struct bench_opts *b, const struct ap_settings *set, int argc,
                            char **argv)
{
    memset(b, 0, sizeof(*b));
    struct ap_bench_opts *o = &b->o;
    o->images_dir = set->images_dir;
    o->out_dir = set->out_dir;
    o->cache_dir = set->cache_dir;
    o->suites = AP_SUITE_ALL;
    o->profile = "standard";
    o->warmup = -1;
    o->results_path = "results/latest/results.json";
    o->quiet = ap_log_get_level() == AP_LOG_QUIET;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            bench_usage(stdout);
            return AP_EXIT_OK;
        }
        int rc = parse_option(c, optarg, b);
        if (rc == -2)
            return ap_cmd_usage("bench", "unknown or incomplete option '%s'", argv[optind - 1]);
        if (rc != AP_CMD_CONTINUE)
            return rc;
    }
    if (optind < argc)
        return ap_cmd_usage("bench", "unexpected argument '%s'", argv[optind]);
    if (!b->sign && (b->key != NULL || b->password_file != NULL))
        return ap_cmd_usage("bench", "--key and --password-file go with --sign");
    return AP_CMD_CONTINUE;
}

/* --list: the catalog of the profile on standard output. */
static int list_plan(const struct ap_bench_opts *o)
{
    ap_error *err = NULL;
    cleanup_cjson cJSON *cat = NULL;
    if (ap_bench_catalog(o->workloads_dir, o->profile, &cat, &err) < 0)
        return ap_cmd_fail(&err);
    cleanup_free char *text = cJSON_Print(cat);
    if (text == NULL) {
        ap_error_make(&err, ENOMEM, "printing the catalog");
        return ap_cmd_fail(&err);
    }
    puts(text);
    return AP_EXIT_OK;
}

int ap_cmd_parse_shard(const char *verb, const char *arg, int *index, int *count)
{
    ap_error *err = NULL;
    if (ap_bench_shard_parse(arg, index, count, &err) == 0)
        return AP_CMD_CONTINUE;
    int rc = ap_cmd_usage(verb, "--shard: %s", err->msg);
    ap_error_release(&err);
    return rc;
}

int ap_cmd_dry_run(const struct ap_bench_opts *o)
{
    ap_error *err = NULL;
    if (ap_bench_dry_run(o, stdout, &err) < 0)
        return ap_cmd_fail(&err);
    return AP_EXIT_OK;
}

int ap_cmd_sign_run(const struct ap_settings *set, const char *dir, const char *archive_dir,
                    const char *claims, struct ap_minisign_sk *sk, ap_error **err)
{
    struct ap_pack_opts po = {.run_dir = dir,
                              .out_dir = archive_dir != NULL ? archive_dir : "results",
                              .sk = sk,
                              .claims_path = claims};
    struct ap_cmd_pack_inputs *inputs = NULL;
    char archive[4096];
    int packed =
        ap_cmd_pack_inputs(&po, set->images_dir, set->out_dir, set->cache_dir, &inputs, err);
    if (packed == 0)
        packed = ap_pack(&po, archive, sizeof(archive), err);
    ap_cmd_pack_inputs_free(inputs);
    if (packed < 0)
        return ap_error_wrap(err, "packing the run %s", dir);
    printf("archive: %s\nsignature: %s.minisig\n", archive, archive);
    return 0;
}

int ap_cmd_clear_judgement(const char *dir, ap_error **err)
{
    static const char *const files[] = {"claims.json", "verdicts.json", "report.md", "report.html"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[4200];
        if (ap_fs_path(path, sizeof(path), "%s/%s", dir, files[i]) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the run directory %.64s...", dir);
        int r = unlink(path);
        if (r < 0 && errno != ENOENT)
            return ap_error_make(err, errno, "removing the older run's %s", path);
        if (r == 0)
            ap_log_info("removed the older run's %s", path);
    }
    return 0;
}

/* The exit status of a run that ended with rc (0, -1 failed, -2 interrupted). */
static int run_status(int rc, const char *results_path, ap_error **err)
{
    if (rc == -2) {
        ap_cmd_note("appliance bench: interrupted; the finished samples are in %s (continue with "
                    "--resume)",
                    results_path);
        ap_error_release(err);
        return AP_EXIT_INTERRUPTED;
    }
    if (rc < 0) {
        ap_cmd_fail(err);
        /* A run that failed before its first sample has written no results file. */
        if (access(results_path, F_OK) == 0)
            ap_cmd_note("appliance bench: the finished samples are in %s (continue with --resume)",
                        results_path);
        return AP_EXIT_FAIL;
    }
    return AP_EXIT_OK;
}

int ap_cmd_bench(struct ap_settings *set, int argc, char **argv)
{
    __attribute__((cleanup(bench_opts_free))) struct bench_opts b;
    int rc = parse_bench_opts(&b, set, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    struct ap_bench_opts *o = &b.o;
    char workloads[4096], dir[2048];
    if (ap_fs_path(workloads, sizeof(workloads), "%s/workloads", o->images_dir) < 0)
        return ap_cmd_usage("bench", "the images folder is longer than %zu bytes",
                            sizeof(workloads) - sizeof("/workloads"));
    o->workloads_dir = workloads;
    if (b.list)
        return list_plan(o);
    if (b.dry_run)
        return ap_cmd_dry_run(o);
    if (ap_fs_dirname(o->results_path, dir, sizeof(dir)) < 0)
        return ap_cmd_usage("bench", "--out: the path is too long");
    ap_error *err = NULL;
    /* The key is read before the run, not after an hour of it. */
    struct ap_minisign_sk sk;
    memset(&sk, 0, sizeof(sk));
    if (b.sign && ap_cmd_load_secret_key(b.key, b.password_file, &sk, &err) < 0)
        return ap_cmd_fail(&err);
    cleanup_free char *cmdline = ap_cmd_commandline(argc, argv);
    if (cmdline == NULL) {
        ap_minisign_sk_wipe(&sk);
        ap_error_make(&err, ENOMEM, "recording the command line");
        return ap_cmd_fail(&err);
    }
    o->commandline = cmdline;
    /* The results folder is made; the file itself is always written whole (temp + rename). */
    if (ap_fs_mkdir_p(dir, 0755, &err) < 0) {
        ap_minisign_sk_wipe(&sk);
        return ap_cmd_fail(&err);
    }
    /* A new run's folder holds no judgement of an older run: reproduce judges its own. */
    if (!o->resume && ap_cmd_clear_judgement(dir, &err) < 0) {
        ap_minisign_sk_wipe(&sk);
        return ap_cmd_fail(&err);
    }
    rc = ap_bench_run(o, &err);
    if (rc == 0 && b.sign)
        rc = ap_cmd_sign_run(set, dir, NULL, NULL, &sk, &err);
    ap_minisign_sk_wipe(&sk);
    return run_status(rc, o->results_path, &err);
}
