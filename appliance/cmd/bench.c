/* appliance bench [options]: the measurement engine's verb. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../bundle/archive.h"
#include "../bundle/minisign.h"
#include "../core/fs.h"
#include "../core/log.h"
#include "cmd.h"

#define AP_EXIT_INTERRUPTED 130

static void bench_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance bench [OPTIONS]\n"
            "\n"
            "Measures the built images: image size, process and service start, memory, the\n"
            "Benchmarks Game tasks, HTTP throughput and latency, and thread scaling. Every\n"
            "measured run has a fresh sandbox; its output is checked (a wrong answer is an\n"
            "error, never a number). Samples are interleaved across images, the workload\n"
            "pinned apart from the load generator, and the machine watched for noise.\n"
            "\n"
            "Options:\n"
            "  --suite LIST        size,startup,memory,cpu,http,latency,threads (default all)\n"
            "  --images LIST       only these images (comma-separated)\n"
            "  --only TEXT         only workloads whose name contains TEXT\n"
            "  --profile NAME      quick (minutes), standard (default; under an hour) or\n"
            "                      published (the published sizes: hours; resumable)\n"
            "  --repeat N          measured runs per measurement (default: the profile's)\n"
            "  --warmup N          unmeasured runs first (default: the profile's)\n"
            "  --out FILE          results file (default results/latest/results.json); its\n"
            "                      folder is the run directory that --sign packs\n"
            "  --csv FILE          also write one CSV row per measurement and metric\n"
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
    O_INCLUDE_NOISY
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
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

static int parse_count(const char *s, int min, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > 100000)
        return -1;
    *out = (int)v;
    return 0;
}

int ap_cmd_bench(struct ap_settings *set, int argc, char **argv)
{
    struct ap_bench_opts o;
    memset(&o, 0, sizeof(o));
    o.images_dir = set->images_dir;
    o.out_dir = set->out_dir;
    o.cache_dir = set->cache_dir;
    o.suites = AP_SUITE_ALL;
    o.profile = "standard";
    o.warmup = -1;
    o.results_path = "results/latest/results.json";
    int sign = 0;
    const char *key = NULL, *password_file = NULL;
    o.quiet = ap_log_get_level() == AP_LOG_QUIET;
    static char images_buf[1024];
    static char workloads[1100];
    ap_error *err = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_SUITE:
            if (ap_bench_parse_suites(optarg, &o.suites, &err) < 0) {
                int rc = ap_cmd_usage("bench", "--suite: %s", err->msg);
                ap_error_release(&err);
                return rc;
            }
            break;
        case O_IMAGES: {
            snprintf(images_buf, sizeof(images_buf), "%s", optarg);
            char *save = NULL;
            for (char *t = strtok_r(images_buf, ",", &save); t != NULL;
                 t = strtok_r(NULL, ",", &save)) {
                if (o.n_images == AP_BENCH_MAX_IMAGES)
                    return ap_cmd_usage("bench", "--images: at most %d images",
                                        AP_BENCH_MAX_IMAGES);
                o.images[o.n_images++] = t;
            }
            break;
        }
        case O_ONLY:
            o.only = optarg;
            break;
        case O_PROFILE:
            if (strcmp(optarg, "quick") != 0 && strcmp(optarg, "standard") != 0 &&
                strcmp(optarg, "published") != 0)
                return ap_cmd_usage("bench",
                                    "--profile: '%s' is not quick, standard or "
                                    "published",
                                    optarg);
            o.profile = optarg;
            break;
        case O_REPEAT:
            if (parse_count(optarg, 1, &o.repeat) < 0)
                return ap_cmd_usage("bench", "--repeat: '%s' is not a count of 1 or more", optarg);
            break;
        case O_WARMUP:
            if (parse_count(optarg, 0, &o.warmup) < 0)
                return ap_cmd_usage("bench", "--warmup: '%s' is not a count", optarg);
            break;
        case O_OUT:
            o.results_path = optarg;
            break;
        case O_CSV:
            o.csv_path = optarg;
            break;
        case O_RESUME:
            o.resume = 1;
            break;
        case O_NOISY:
            o.allow_noisy = 1;
            break;
        case O_INCLUDE_NOISY:
            o.include_noisy = 1;
            break;
        case O_WLCPUS:
            o.workload_cpus = optarg;
            break;
        case O_LOADCPUS:
            o.load_cpus = optarg;
            break;
        case O_IMGOUT:
            o.out_dir = optarg;
            break;
        case O_CACHE:
            o.cache_dir = optarg;
            break;
        case O_SIGN:
            sign = 1;
            break;
        case O_KEY:
            key = optarg;
            break;
        case O_PASSWORD_FILE:
            password_file = optarg;
            break;
        case 'h':
            bench_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("bench", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ap_cmd_usage("bench", "unexpected argument '%s'", argv[optind]);
    if (!sign && (key != NULL || password_file != NULL))
        return ap_cmd_usage("bench", "--key and --password-file go with --sign");
    /* The key is read before the run, not after an hour of it. */
    struct ap_minisign_sk sk;
    memset(&sk, 0, sizeof(sk));
    if (sign && ap_cmd_load_secret_key(key, password_file, &sk, &err) < 0)
        return ap_cmd_fail(&err);
    snprintf(workloads, sizeof(workloads), "%s/workloads", o.images_dir);
    o.workloads_dir = workloads;
    static char cmdline[2048];
    size_t used = (size_t)snprintf(cmdline, sizeof(cmdline), "appliance");
    for (int i = 0; i < argc && used < sizeof(cmdline); i++)
        used += (size_t)snprintf(cmdline + used, sizeof(cmdline) - used, " %s", argv[i]);
    o.commandline = cmdline;
    /* The results folder is made; the file itself is always written whole (temp + rename). */
    char dir[2048];
    if (ap_fs_dirname(o.results_path, dir, sizeof(dir)) < 0)
        return ap_cmd_usage("bench", "--out: the path is too long");
    if (ap_fs_mkdir_p(dir, 0755, &err) < 0)
        return ap_cmd_fail(&err);
    int rc = ap_bench_run(&o, &err);
    if (rc == 0 && sign) {
        struct ap_pack_opts po = {.run_dir = dir, .out_dir = "results", .sk = &sk};
        struct ap_cmd_pack_inputs *inputs = NULL;
        char archive[4096];
        int packed = ap_cmd_pack_inputs(&po, o.images_dir, o.out_dir, o.cache_dir, &inputs, &err);
        if (packed == 0)
            packed = ap_pack(&po, archive, sizeof(archive), &err);
        ap_cmd_pack_inputs_free(inputs);
        if (packed < 0) {
            ap_error_wrap(&err, "packing the run %s", dir);
            rc = -1;
        } else {
            printf("archive: %s\nsignature: %s.minisig\n", archive, archive);
        }
    }
    ap_minisign_sk_wipe(&sk);
    if (rc == -2) {
        fprintf(stderr,
                "appliance bench: interrupted; the finished samples are in %s "
                "(continue with --resume)\n",
                o.results_path);
        ap_error_release(&err);
        return AP_EXIT_INTERRUPTED;
    }
    if (rc < 0) {
        ap_cmd_fail(&err);
        /* A run that failed before its first sample has written no results file. */
        if (access(o.results_path, F_OK) == 0)
            fprintf(stderr,
                    "appliance bench: the finished samples are in %s (continue with "
                    "--resume)\n",
                    o.results_path);
        return AP_EXIT_FAIL;
    }
    return AP_EXIT_OK;
}
