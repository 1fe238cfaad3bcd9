/* appliance merge PART... --expect N: the signed parts of a sharded campaign into one results
 * file (campaign/merge.h), judged again when the parts carry one claims file, and signed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/results.h"
#include "../bundle/minisign.h"
#include "../campaign/merge.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../core/text.h"
#include "../report/claims.h"
#include "cmd.h"

static void merge_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance merge PART.tar.zst... --expect N [--trusted-keys FILE]\n"
            "                       [--out DIR] [--pool] [--sign [--key SECKEY]\n"
            "                       [--password-file F] [--archive-dir ADIR]]\n"
            "\n"
            "Merges the parts of a sharded campaign (each the signed archive of an\n"
            "'appliance bench --shard I/N --sign' run) into one results file. Every part is\n"
            "verified as 'appliance verify' does, its signature against the trusted keys; the\n"
            "parts must be complete runs of the same plan (run.plan_sha256) with the same image\n"
            "digests, each of N shards, and every shard 0..N-1 given exactly once for each\n"
            "machine type (CPU model and kernel). Anything else is refused, naming the part.\n"
            "\n"
            "DIR/results.json lists every part's archive and sha256 (run.merged), the machine\n"
            "types (environment.machines), and each measurement's shard and host. Measurements\n"
            "of different machine types are kept apart (each with its machine) unless --pool.\n"
            "DIR/results.csv has a row per measurement and metric (with a machine column\n"
            "when there are several machine types).\n"
            "When every part carries the same claims.json, it is kept and the merged results\n"
            "are judged (verdicts.json, report.md, report.html), as reproduce does.\n"
            "\n"
            "Options:\n"
            "  --expect N            the campaign's shard count (1 to %d); required\n"
            "  --trusted-keys FILE   the public keys parts may be signed with, minisign public\n"
            "                        key files concatenated (default: the public key beside the\n"
            "                        default secret key, its .key replaced by .pub)\n"
            "  --out DIR             where the merged files go (default results/merged)\n"
            "  --pool                pool the measurements of different machine types into one\n"
            "                        sample set each (said in run.merged.pooled and a warning)\n"
            "  --sign                pack DIR into a signed archive under ADIR\n"
            "  --archive-dir ADIR    where --sign puts the archive (default results)\n"
            "  --key FILE, --password-file FILE   the secret key (as for bench --sign)\n"
            "\n"
            "Exit status: 0 merged, 1 a part refused or an error, 2 usage error.\n",
            AP_MERGE_SHARDS_MAX);
}

enum { O_EXPECT = 256, O_KEYS, O_OUT, O_POOL, O_SIGN, O_KEY, O_PW, O_ADIR };

static const struct option opts[] = {{"expect", required_argument, NULL, O_EXPECT},
                                     {"trusted-keys", required_argument, NULL, O_KEYS},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"pool", no_argument, NULL, O_POOL},
                                     {"sign", no_argument, NULL, O_SIGN},
                                     {"key", required_argument, NULL, O_KEY},
                                     {"password-file", required_argument, NULL, O_PW},
                                     {"archive-dir", required_argument, NULL, O_ADIR},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* The options of appliance merge; strings point into argv. */
struct merge_opts {
    const char *keys, *out, *key, *password_file, *archive_dir;
    int expect, pool, sign;
    char **parts;
    size_t n_parts;
};

static int parse_merge_opts(struct merge_opts *o, int argc, char **argv)
{
    *o = (struct merge_opts){.out = "results/merged"};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_EXPECT: {
            long v;
            if (ap_cmd_parse_count(optarg, 1, AP_MERGE_SHARDS_MAX, &v) < 0)
                return ap_cmd_usage("merge", "--expect: '%s' is not a shard count from 1 to %d",
                                    optarg, AP_MERGE_SHARDS_MAX);
            o->expect = (int)v;
            break;
        }
        case O_KEYS:
            o->keys = optarg;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_POOL:
            o->pool = 1;
            break;
        case O_KEY:
            o->key = optarg;
            break;
        case O_SIGN:
            o->sign = 1;
            break;
        case O_PW:
            o->password_file = optarg;
            break;
        case O_ADIR:
            o->archive_dir = optarg;
            break;
        case 'h':
            merge_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("merge", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return ap_cmd_usage("merge", "the parts to merge are needed (their .tar.zst archives)");
    if (o->expect == 0)
        return ap_cmd_usage("merge", "--expect N is needed: the number of shards of the campaign");
    if ((size_t)(argc - optind) > AP_MERGE_PARTS_MAX)
        return ap_cmd_usage("merge", "%d parts: at most %d are merged at once", argc - optind,
                            AP_MERGE_PARTS_MAX);
    if (!o->sign && (o->key != NULL || o->password_file != NULL || o->archive_dir != NULL))
        return ap_cmd_usage("merge", "--key, --password-file and --archive-dir go with --sign");
    o->parts = argv + optind;
    o->n_parts = (size_t)(argc - optind);
    return AP_CMD_CONTINUE;
}

/* --trusted-keys, else the default secret key's path with .pub for its .key (or .pub added). */
static int trusted_keys_path(const struct merge_opts *o, char *buf, size_t len, ap_error **err)
{
    if (o->keys != NULL)
        return ap_fs_path(buf, len, "%s", o->keys) < 0
                   ? ap_error_make(err, ENAMETOOLONG, "--trusted-keys")
                   : 0;
    char sk[4096];
    if (ap_cmd_default_secret_key(sk, sizeof(sk), err) < 0)
        return ap_error_hint(err, "give the trusted public keys with --trusted-keys FILE");
    size_t n = strlen(sk);
    if (n > 4 && strcmp(sk + n - 4, ".key") == 0)
        sk[n - 4] = '\0';
    if (ap_fs_path(buf, len, "%s.pub", sk) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the default public key beside %s", sk);
    return 0;
}

/* The parts' claims.json when every part carries the same one, else NULL (with a note when
 * some do). */
static const struct ap_merge_part *common_claims(const struct ap_merge_part *p, size_t n)
{
    size_t with = 0;
    int same = 1;
    for (size_t i = 0; i < n; i++) {
        if (p[i].claims == NULL)
            continue;
        with++;
        same &= p[i].claims_len == p[0].claims_len && p[0].claims != NULL &&
                memcmp(p[i].claims, p[0].claims, p[0].claims_len) == 0;
    }
    if (with == n && same)
        return &p[0];
    if (with > 0)
        ap_cmd_note("appliance merge: %s; the merged results are not judged",
                    with < n ? "not every part carries a claims.json"
                             : "the parts carry different claims.json files");
    return NULL;
}

/* Writes DIR/results.json (whole, under its final name only when complete), DIR/results.csv
 * and, when the parts share a claims file, DIR/claims.json and the judgement. claims gets the
 * claims path ("" for none). */
static int write_out(const struct merge_opts *o, const struct ap_merge_part *parts, size_t n,
                     const cJSON *doc, char *claims, size_t len)
{
    ap_error *err = NULL;
    char results[4200], csv[4200];
    claims[0] = '\0';
    if (ap_fs_path(results, sizeof(results), "%s/results.json", o->out) < 0 ||
        ap_fs_path(csv, sizeof(csv), "%s/results.csv", o->out) < 0 ||
        ap_fs_path(claims, len, "%s/claims.json", o->out) < 0) {
        ap_error_make(&err, ENAMETOOLONG, "--out %.64s...", o->out);
        return ap_cmd_fail(&err);
    }
    /* No file of an older run stays beside the merged results to be packed with them. */
    if (ap_fs_mkdir_p(o->out, 0755, &err) < 0 || ap_cmd_clear_judgement(o->out, &err) < 0 ||
        ap_json_write_file(results, doc, &err) < 0 || ap_bench_results_csv(doc, csv, &err) < 0)
        return ap_cmd_fail(&err);
    const struct ap_merge_part *with = common_claims(parts, n);
    if (with == NULL) {
        claims[0] = '\0';
        return AP_EXIT_OK;
    }
    struct ap_claims c;
    char hex[AP_SHA256_HEX_LEN + 1];
    if (ap_fs_write_atomic(claims, with->claims, with->claims_len, 0644, &err) < 0 ||
        ap_sha256_file(AT_FDCWD, results, hex, NULL, &err) < 0)
        return ap_cmd_fail(&err);
    if (ap_claims_parse(with->claims, with->claims_len, claims, &c, &err) < 0) {
        ap_error_wrap(&err, "the claims.json of part %s", with->name);
        return ap_cmd_fail(&err);
    }
    struct ap_cmd_judge j = {claims, o->out, 0};
    int rc = ap_cmd_judge(&j, &c, doc, hex, 0);
    ap_claims_free(&c);
    return rc;
}

/* What was merged: the parts, the machine types, the groups and the measurements. */
static void print_summary(const struct merge_opts *o, const cJSON *doc, size_t n)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run");
    const cJSON *merged = cJSON_GetObjectItemCaseSensitive(run, "merged");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(doc, "measurements");
    printf("merged %zu parts of %d shards (plan %.12s...) into %s/results.json\n", n, o->expect,
           cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(merged, "plan_sha256")), o->out);
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(merged, "parts"))
    {
        cleanup_free char *name =
            ap_text_escape(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "archive")));
        cleanup_free char *host =
            ap_text_escape(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "host")));
        printf("  part %s: shard %d/%d on %s (%s), sha256 %.16s...\n", name ? name : "?",
               cJSON_GetObjectItemCaseSensitive(p, "shard")->valueint, o->expect, host ? host : "?",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "machine")),
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "sha256")));
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(
                              cJSON_GetObjectItemCaseSensitive(doc, "environment"), "machines"))
    {
        cleanup_free char *cpu =
            ap_text_escape(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "cpu_model")));
        cleanup_free char *kernel =
            ap_text_escape(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "kernel")));
        printf("  machine %s: %s, %s; %d hosts, %d shards\n",
               cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "id")), cpu ? cpu : "?",
               kernel ? kernel : "?",
               cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "hosts")),
               cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "shards")));
    }
    /* Groups: the distinct measurement.group ids bench writes. */
    cleanup_cjson cJSON *groups = cJSON_CreateArray();
    cJSON_ArrayForEach(m, ms)
    {
        const char *g = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "group"));
        int seen = g == NULL;
        const cJSON *x;
        cJSON_ArrayForEach(x, groups) seen |= g != NULL && strcmp(x->valuestring, g) == 0;
        if (!seen)
            cJSON_AddItemToArray(groups, cJSON_CreateString(g));
    }
    printf("  groups: %d; measurements: %d%s\n", cJSON_GetArraySize(groups), cJSON_GetArraySize(ms),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(merged, "pooled"))
               ? " (machine types pooled: --pool)"
               : "");
}

/* Reads and checks the parts, and builds the merged document. */
static int merge_parts(const struct merge_opts *o, const char *cmdline, struct ap_merge_part *parts,
                       cJSON **doc)
{
    ap_error *err = NULL;
    char keys_path[4096];
    size_t n_keys = 0, n_machines = 0;
    cleanup_free struct ap_minisign_pk *keys = calloc(AP_MERGE_KEYS_MAX, sizeof(*keys));
    if (keys == NULL) {
        ap_error_make(&err, ENOMEM, "reading the trusted keys");
        return ap_cmd_fail(&err);
    }
    if (trusted_keys_path(o, keys_path, sizeof(keys_path), &err) < 0 ||
        ap_minisign_read_pks(keys_path, keys, AP_MERGE_KEYS_MAX, &n_keys, &err) < 0)
        return ap_cmd_fail(&err);
    for (size_t i = 0; i < o->n_parts; i++)
        if (ap_merge_read_part(o->parts[i], keys, n_keys, keys_path, &parts[i], &err) < 0)
            return ap_cmd_fail(&err);
    struct ap_merge_opts mo = {o->expect, o->pool, cmdline};
    if (ap_merge_check(parts, o->n_parts, &mo, &n_machines, &err) < 0 ||
        ap_merge_build(parts, o->n_parts, n_machines, &mo, doc, &err) < 0)
        return ap_cmd_fail(&err);
    if (o->pool && n_machines > 1)
        ap_cmd_note("appliance merge: warning: the measurements of %zu machine types were "
                    "pooled (--pool)",
                    n_machines);
    else if (o->pool)
        ap_cmd_note("appliance merge: --pool: the parts ran on one machine type, nothing to pool");
    return AP_CMD_CONTINUE;
}

int ap_cmd_merge(struct ap_settings *set, int argc, char **argv)
{
    struct merge_opts o;
    int rc = parse_merge_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    struct ap_minisign_sk sk;
    memset(&sk, 0, sizeof(sk));
    if (o.sign && ap_cmd_load_secret_key(o.key, o.password_file, &sk, &err) < 0)
        return ap_cmd_fail(&err);
    cleanup_free char *cmdline = ap_cmd_commandline(argc, argv);
    struct ap_merge_part *parts = calloc(o.n_parts, sizeof(*parts));
    cleanup_cjson cJSON *doc = NULL;
    char claims[4200] = "";
    if (parts == NULL || cmdline == NULL) {
        ap_error_make(&err, ENOMEM, "merging");
        rc = ap_cmd_fail(&err);
    } else {
        rc = merge_parts(&o, cmdline, parts, &doc);
    }
    if (rc == AP_CMD_CONTINUE) {
        rc = write_out(&o, parts, o.n_parts, doc, claims, sizeof(claims));
        if (rc == AP_EXIT_OK)
            print_summary(&o, doc, o.n_parts);
    }
    if (rc == AP_EXIT_OK && o.sign &&
        ap_cmd_sign_run(set, o.out, o.archive_dir, claims[0] != '\0' ? claims : NULL, &sk, &err) <
            0)
        rc = ap_cmd_fail(&err);
    ap_minisign_sk_wipe(&sk);
    for (size_t i = 0; parts != NULL && i < o.n_parts; i++)
        ap_merge_part_free(&parts[i]);
    free(parts);
    return rc;
}
