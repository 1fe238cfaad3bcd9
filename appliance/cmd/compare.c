/* appliance compare A B: what changed between two runs of appliance bench. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bundle/compare-load.h"
#include "../report/compare.h"
#include "../report/stats.h"
#include "../core/cleanup.h"
#include "../core/json.h"
#include "../core/log.h"
#include "cmd.h"

static void compare_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance compare A B [--all] [--json] [--alpha Q] [--min-effect PCT]\n"
            "                         [--metric NAME[,NAME...]]\n"
            "\n"
            "Compares run B with run A (the baseline): for every measurement in both (matched\n"
            "by id) and every metric in both, the medians, their change and whether the raw\n"
            "samples show it to be significant. A and B are each a results.json written by\n"
            "'appliance bench', a result archive (.tar.zst; its results.json is read, every\n"
            "member checked as 'appliance verify' checks it, without a signature check) or a\n"
            "run directory holding results.json; told apart by content.\n"
            "\n"
            "The test: Mann-Whitney U (two-sided; exact without ties) when both runs have %d\n"
            "or more samples, Welch's t-test when either has 2 to %d (with 3 against 3 the\n"
            "smallest Mann-Whitney p is 0.1); both p-values are in --json. Sizes (the size\n"
            "suite) are exact figures, no tests: any difference counts. A side with one sample\n"
            "is not tested. Of the m tests one comparison makes, about alpha x m would come\n"
            "out below alpha by chance alone, so the p-values are adjusted together\n"
            "(Benjamini-Hochberg): a row is significant when its adjusted p (q) is at or\n"
            "below alpha, which keeps the expected share of false changes among those shown\n"
            "at alpha.\n"
            "\n"
            "Significance is not importance: a change smaller than the metric's minimum\n"
            "effect (%g%% of A's median unless the metric has its own; docs/comparing.md) is\n"
            "'no change', however small its p; sizes too.\n"
            "\n"
            "The verdict says what B is against A: faster or slower for times (lower is\n"
            "better) and rates (req/s: higher is better), larger or smaller for bytes, counts\n"
            "and CPUs; 'better' or 'worse' follows when the metric has a preferred direction.\n"
            "\n"
            "Options:\n"
            "  --all            show every comparison, not only changes\n"
            "  --json           print the comparison as one JSON object (every comparison)\n"
            "  --alpha Q        false discovery rate, 0 < Q < 1 (default 0.05)\n"
            "  --min-effect PCT the minimum effect for every metric, in %% (0 to %g; 0 counts\n"
            "                   every significant change)\n"
            "  --metric LIST    only these metrics (e.g. cpu_s or wall_s,rps)\n"
            "\n"
            "Warnings (standard error) say when the runs differ in profile, parameters such as\n"
            "the size N, image digests, machine (kernel, CPU model) or appliance build.\n"
            "\n"
            "Exit status: 0 when compared (whatever the result), 1 on errors, 2 usage error.\n",
            AP_COMPARE_MWU_MIN_N, AP_COMPARE_MWU_MIN_N - 1, AP_REPORT_MIN_EFFECT_DEFAULT,
            AP_COMPARE_MIN_EFFECT_MAX);
}

enum { O_ALL = 256, O_JSON, O_ALPHA, O_METRIC, O_MIN_EFFECT };

static const struct option opts[] = {{"all", no_argument, NULL, O_ALL},
                                     {"json", no_argument, NULL, O_JSON},
                                     {"alpha", required_argument, NULL, O_ALPHA},
                                     {"min-effect", required_argument, NULL, O_MIN_EFFECT},
                                     {"metric", required_argument, NULL, O_METRIC},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* The options of appliance compare; strings point into argv. */
struct compare_opts {
    const char *a, *b; /* the runs: A the baseline, B the one compared with it */
    int all, json;
    struct ap_compare_opts co;
};

static int parse_compare_opts(struct compare_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->co.alpha = AP_COMPARE_ALPHA_DEFAULT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_ALL:
            o->all = 1;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case O_ALPHA:
            if (ap_cmd_parse_alpha(optarg, &o->co.alpha) < 0)
                return ap_cmd_usage("compare", "--alpha: '%s' is not a number between 0 and 1",
                                    optarg);
            break;
        case O_MIN_EFFECT:
            o->co.min_effect_given = 1;
            if (ap_cmd_option_pct("compare", "--min-effect", optarg, AP_COMPARE_MIN_EFFECT_MAX,
                                  &o->co.min_effect_pct) != AP_CMD_CONTINUE)
                return AP_EXIT_USAGE;
            break;
        case O_METRIC:
            if (*optarg == '\0')
                return ap_cmd_usage("compare", "--metric: empty list");
            o->co.metrics = optarg;
            break;
        case 'h':
            compare_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("compare", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2)
        return ap_cmd_usage("compare", "two runs are needed: A (the baseline) and B");
    if (argc - optind > 2)
        return ap_cmd_usage("compare", "unexpected argument '%s'", argv[optind + 2]);
    o->a = argv[optind];
    o->b = argv[optind + 1];
    return AP_CMD_CONTINUE;
}

int ap_cmd_compare(struct ap_settings *set, int argc, char **argv)
{
    (void)set;
    struct compare_opts o;
    int rc = parse_compare_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    cleanup_cjson cJSON *a = NULL;
    cleanup_cjson cJSON *b = NULL;
    if (ap_compare_load(o.a, &a, NULL, &err) < 0 || ap_compare_load(o.b, &b, NULL, &err) < 0)
        return ap_cmd_fail(&err);
    struct ap_compare *cmp = NULL;
    if (ap_compare_results(a, b, &o.co, &cmp, &err) < 0)
        return ap_cmd_fail(&err);
    for (size_t i = 0; i < cmp->n_warnings; i++)
        ap_log_warn("%s", cmp->warnings[i]);
    rc = AP_EXIT_OK;
    if (o.json) {
        if (ap_compare_print_json(stdout, cmp, a, o.a, b, o.b, &err) < 0)
            rc = ap_cmd_fail(&err);
    } else {
        ap_compare_print(stdout, cmp, o.all);
    }
    ap_compare_free(cmp);
    if (fflush(stdout) != 0 && rc == AP_EXIT_OK) {
        ap_error_make(&err, errno, "writing the comparison");
        rc = ap_cmd_fail(&err);
    }
    return rc;
}
