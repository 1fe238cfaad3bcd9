/* appliance rerun ARCHIVE: runs an archived run's plan again here and compares the results. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "../bundle/archive.h"
#include "../bundle/compare-load.h"
#include "../report/compare.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../core/log.h"
#include "../image/oci.h"
#include "cmd.h"

static void rerun_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance rerun ARCHIVE [-p PUBKEY [--sig FILE]] [--out DIR] [--allow-noisy]\n"
            "                       [--all] [--alpha Q] [--min-effect PCT] [--json]\n"
            "\n"
            "Runs the plan an archived run followed again on this machine, then compares the\n"
            "new results with the archived ones as 'appliance compare ARCHIVE NEW' does. The\n"
            "plan is the run's record in results.json: profile, suites, repeat, warmup, --only,\n"
            "and the images of its environment (built here under the same names). ARCHIVE is a\n"
            "result archive (.tar.zst) or a results.json.\n"
            "\n"
            "Options:\n"
            "  -p, --public FILE  verify the archive against this public key first (signature,\n"
            "                     checksums, provenance, structure) and refuse it on any\n"
            "                     failure; without -p the archive is read unverified\n"
            "  --sig FILE         the signature (default ARCHIVE.minisig)\n"
            "  --out DIR          where the new results.json goes (default\n"
            "                     results/rerun-<run id>)\n"
            "  --allow-noisy      keep samples taken while other work shared the CPUs\n"
            "  --all, --alpha Q, --min-effect PCT, --json\n"
            "                     as for 'appliance compare'\n"
            "\n"
            "The images' digests are checked before the run: an image rebuilt differently\n"
            "since the archived run is named in a warning (a change may then come from the\n"
            "image). The bench's own summary goes to standard error; standard output holds the\n"
            "comparison.\n"
            "\n"
            "Exit status: 0 when rerun and compared (whatever the result), 1 on errors, 2 usage\n"
            "error, 130 interrupted (the new results file keeps every finished sample).\n");
}

enum { O_OUT = 256, O_NOISY, O_ALL, O_ALPHA, O_JSON, O_SIG, O_MIN_EFFECT };

static const struct option opts[] = {{"public", required_argument, NULL, 'p'},
                                     {"sig", required_argument, NULL, O_SIG},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"allow-noisy", no_argument, NULL, O_NOISY},
                                     {"all", no_argument, NULL, O_ALL},
                                     {"alpha", required_argument, NULL, O_ALPHA},
                                     {"min-effect", required_argument, NULL, O_MIN_EFFECT},
                                     {"json", no_argument, NULL, O_JSON},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* A run id used as a folder name: it comes from an archive, so nothing that could leave the
 * results folder. */
static int safe_id(const char *s)
{
    if (s == NULL || *s == '\0' || *s == '.' || strlen(s) > 128)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    return 1;
}

/* The plan recorded in results.json's "run" and "environment", in bench's options. The
 * strings point into doc. */
static int recorded_plan(const cJSON *doc, struct ap_bench_opts *o, ap_error **err)
{
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run");
    const char *what = "the archived results' run";
    int64_t repeat = 0, warmup = 0;
    if (ap_json_get_string(run, "profile", 1, what, &o->profile, err) < 0 ||
        ap_json_get_int(run, "repeat", 1, 1, 100000, what, &repeat, err) < 0 ||
        ap_json_get_int(run, "warmup", 1, 0, 100000, what, &warmup, err) < 0 ||
        ap_json_get_string(run, "only", 0, what, &o->only, err) < 0)
        return -1;
    if (strcmp(o->profile, "quick") != 0 && strcmp(o->profile, "standard") != 0 &&
        strcmp(o->profile, "published") != 0)
        return ap_error_make(err, EINVAL, "%s: unknown profile '%s'", what, o->profile);
    o->repeat = (int)repeat;
    o->warmup = (int)warmup;
    const cJSON *suites = cJSON_GetObjectItemCaseSensitive(run, "suites");
    char list[256] = "";
    size_t used = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, suites)
    {
        if (!cJSON_IsString(s) || strlen(s->valuestring) + used + 2 > sizeof(list))
            return ap_error_make(err, EINVAL, "%s: \"suites\" must be a list of suite names", what);
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", used ? "," : "",
                                 s->valuestring);
    }
    if (used == 0)
        return ap_error_make(err, EINVAL, "%s: no suites", what);
    if (ap_bench_parse_suites(list, &o->suites, err) < 0)
        return ap_error_wrap(err, "%s", what);
    const cJSON *img;
    cJSON_ArrayForEach(img, cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(doc, "environment"), "images"))
    {
        if (o->n_images == AP_BENCH_MAX_IMAGES)
            return ap_error_make(err, E2BIG, "the archived run measured more than %d images",
                                 AP_BENCH_MAX_IMAGES);
        if (!safe_id(img->string))
            return ap_error_make(err, EINVAL,
                                 "the archived run names an image '%s' that is "
                                 "not a plain name",
                                 img->string);
        o->images[o->n_images++] = img->string;
    }
    if (o->n_images == 0)
        return ap_error_make(err, EINVAL, "the archived results name no images");
    return 0;
}

/* The digests the archive recorded: its manifest's when it has one (a member SHA256SUMS and
 * the signature cover), else those of results.json's environment. */
static const char *recorded_digest(const cJSON *manifest, const cJSON *doc, const char *image)
{
    const cJSON *imgs = manifest != NULL
                            ? cJSON_GetObjectItemCaseSensitive(manifest, "images")
                            : cJSON_GetObjectItemCaseSensitive(
                                  cJSON_GetObjectItemCaseSensitive(doc, "environment"), "images");
    const cJSON *d =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(imgs, image), "digest");
    return cJSON_IsString(d) ? d->valuestring : NULL;
}

/* Warns about each image whose build here is not the one the archived run measured. */
static void check_images(const struct ap_bench_opts *o, const cJSON *manifest, const cJSON *doc)
{
    for (size_t i = 0; i < o->n_images; i++) {
        const char *want = recorded_digest(manifest, doc, o->images[i]);
        char layout[4096];
        struct ap_oci_info info;
        ap_error *e = NULL;
        if (ap_fs_path(layout, sizeof(layout), "%s/%s", o->out_dir, o->images[i]) < 0)
            continue;
        if (ap_oci_read(layout, &info, &e) < 0) {
            /* The bench says so with a hint on how to build it. */
            ap_error_release(&e);
            continue;
        }
        char now[80];
        snprintf(now, sizeof(now), "sha256:%s", info.manifest_digest);
        if (want != NULL && strcmp(want, now) != 0)
            ap_log_warn("image %s here is not the build the archived run measured (digest %s, "
                        "recorded %s): a change may come from the image, not the run",
                        o->images[i], now, want);
    }
}

/* Parses the manifest.json the walk of the archive kept; NULL (nothing said) when the archive
 * has none. */
static cJSON *read_manifest(const char *archive, const struct ap_archive_scan *s, const cJSON *doc)
{
    if (s->manifest == NULL)
        return NULL;
    ap_error *e = NULL;
    cJSON *m = NULL;
    if (ap_json_parse(s->manifest, s->manifest_len, "manifest.json", &m, &e) < 0 ||
        !cJSON_IsObject(m)) {
        ap_log_warn("%s: %s; using the digests in results.json", archive,
                    e != NULL ? e->msg : "manifest.json is not an object");
        ap_error_release(&e);
        cJSON_Delete(m);
        return NULL;
    }
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(m, "run_id");
    const cJSON *rid =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "run"), "id");
    if (cJSON_IsString(mid) && cJSON_IsString(rid) &&
        strcmp(mid->valuestring, rid->valuestring) != 0)
        ap_log_warn("%s: manifest.json names run %s, results.json run %s", archive,
                    mid->valuestring, rid->valuestring);
    return m;
}

/* Runs the bench with its standard output (the summary table) sent to standard error, so
 * that standard output carries the comparison alone. */
static int bench_to_stderr(const struct ap_bench_opts *o, ap_error **err)
{
    fflush(stdout);
    cleanup_close int saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (saved < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
        return ap_error_make(err, errno, "redirecting the bench's summary");
    int rc = ap_bench_run(o, err);
    fflush(stdout);
    if (dup2(saved, STDOUT_FILENO) < 0 && rc == 0)
        return ap_error_make(err, errno, "restoring standard output");
    return rc;
}

/* The options of appliance rerun; strings point into argv. */
struct rerun_opts {
    const char *archive;
    const char *pubkey, *sig, *out_dir;
    int all, json, allow_noisy;
    struct ap_compare_opts co;
};

static int parse_rerun_opts(struct rerun_opts *r, int argc, char **argv)
{
    memset(r, 0, sizeof(*r));
    r->co.alpha = AP_COMPARE_ALPHA_DEFAULT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hp:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            r->pubkey = optarg;
            break;
        case O_SIG:
            r->sig = optarg;
            break;
        case O_OUT:
            r->out_dir = optarg;
            break;
        case O_NOISY:
            r->allow_noisy = 1;
            break;
        case O_ALL:
            r->all = 1;
            break;
        case O_ALPHA:
            if (ap_cmd_parse_alpha(optarg, &r->co.alpha) < 0)
                return ap_cmd_usage("rerun", "--alpha: '%s' is not a number between 0 and 1",
                                    optarg);
            break;
        case O_MIN_EFFECT:
            r->co.min_effect_given = 1;
            if (ap_cmd_option_pct("rerun", "--min-effect", optarg, AP_COMPARE_MIN_EFFECT_MAX,
                                  &r->co.min_effect_pct) != AP_CMD_CONTINUE)
                return AP_EXIT_USAGE;
            break;
        case O_JSON:
            r->json = 1;
            break;
        case 'h':
            rerun_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("rerun", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return ap_cmd_usage("rerun", "an archive to rerun is needed");
    if (r->sig != NULL && r->pubkey == NULL)
        return ap_cmd_usage("rerun", "--sig needs -p PUBKEY");
    if (argc - optind > 1)
        return ap_cmd_usage("rerun", "unexpected argument '%s'", argv[optind + 1]);
    r->archive = argv[optind];
    return AP_CMD_CONTINUE;
}

/* Reads the archived results into *old (verified first with -p) and its manifest, when it
 * is an archive that has one, into *manifest. */
static int load_archived(const struct rerun_opts *r, cJSON **old, cJSON **manifest, ap_error **err)
{
    if (r->pubkey != NULL) {
        struct ap_minisign_pk pk;
        if (ap_minisign_read_pk(r->pubkey, &pk, err) < 0 ||
            ap_verify(r->archive, r->sig, &pk, err) < 0)
            return ap_error_wrap(err, "not rerunning %s", r->archive);
        ap_log_info("rerun: %s verified against %s", r->archive, r->pubkey);
    }
    struct ap_archive_scan scan;
    if (ap_compare_load(r->archive, old, &scan, err) < 0)
        return -1;
    /* An archive read has members (results.json at least); a results file has none, and
     * nothing to free. */
    int is_archive = scan.members.n > 0;
    if (r->pubkey != NULL && !is_archive)
        return ap_error_make(err, EINVAL, "%s is not a result archive", r->archive);
    if (is_archive && r->pubkey == NULL)
        ap_log_warn("%s is read without verifying it (give -p PUBKEY to check its signature "
                    "first)",
                    r->archive);
    /* The walk that read the results kept the manifest too: no second pass for it. */
    *manifest = is_archive ? read_manifest(r->archive, &scan, *old) : NULL;
    ap_archive_scan_free(&scan);
    return 0;
}

/* The paths a rerun's bench options point to. */
struct rerun_paths {
    char workloads[4096], dir[4096], results[4096];
};

/* What the bench runs: the archived plan, here, with its results in --out (default
 * results/rerun-<run id>), a folder made now. */
static int plan_rerun(const struct rerun_opts *r, const struct ap_settings *set, const cJSON *old,
                      const char *id, struct ap_bench_opts *o, struct rerun_paths *p,
                      ap_error **err)
{
    memset(o, 0, sizeof(*o));
    o->images_dir = set->images_dir;
    o->out_dir = set->out_dir;
    o->cache_dir = set->cache_dir;
    o->allow_noisy = r->allow_noisy;
    o->quiet = ap_log_get_level() == AP_LOG_QUIET;
    if (recorded_plan(old, o, err) < 0)
        return ap_error_wrap(err, "%s", r->archive);
    if (ap_fs_path(p->workloads, sizeof(p->workloads), "%s/workloads", o->images_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the workloads folder under %s", o->images_dir);
    o->workloads_dir = p->workloads;
    if (r->out_dir == NULL && !safe_id(id)) {
        ap_error_make(err, EINVAL, "%s: the run id is not a plain name", r->archive);
        return ap_error_hint(err, "give --out DIR");
    }
    int too_long = r->out_dir == NULL ? ap_fs_path(p->dir, sizeof(p->dir), "results/rerun-%s", id)
                                      : ap_fs_path(p->dir, sizeof(p->dir), "%s", r->out_dir);
    if (too_long < 0 || ap_fs_path(p->results, sizeof(p->results), "%s/results.json", p->dir) < 0 ||
        ap_fs_mkdir_p(p->dir, 0755, err) < 0)
        return ap_error_make(err, errno, "%s", r->out_dir != NULL ? r->out_dir : p->dir);
    o->results_path = p->results;
    return 0;
}

/* Compares the new results with the archived ones and prints the comparison. */
static int compare_rerun(const struct rerun_opts *r, const cJSON *old, const char *id,
                         const char *results)
{
    ap_error *err = NULL;
    cleanup_cjson cJSON *now = NULL;
    struct ap_compare *cmp = NULL;
    if (ap_compare_load(results, &now, NULL, &err) < 0 ||
        ap_compare_results(old, now, &r->co, &cmp, &err) < 0)
        return ap_cmd_fail(&err);
    for (size_t i = 0; i < cmp->n_warnings; i++)
        ap_log_warn("%s", cmp->warnings[i]);
    int ret = AP_EXIT_OK;
    if (r->json) {
        if (ap_compare_print_json(stdout, cmp, old, r->archive, now, results, &err) < 0)
            ret = ap_cmd_fail(&err);
    } else {
        printf("A: %s (run %s), B: this rerun (%s)\n", r->archive, id, results);
        ap_compare_print(stdout, cmp, r->all);
    }
    ap_compare_free(cmp);
    return ret;
}

int ap_cmd_rerun(struct ap_settings *set, int argc, char **argv)
{
    struct rerun_opts r;
    int rc = parse_rerun_opts(&r, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    cleanup_cjson cJSON *old = NULL;
    cleanup_cjson cJSON *manifest = NULL;
    if (load_archived(&r, &old, &manifest, &err) < 0)
        return ap_cmd_fail(&err);
    const cJSON *rid =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(old, "run"), "id");
    const char *id = cJSON_IsString(rid) ? rid->valuestring : "";
    struct ap_bench_opts o;
    struct rerun_paths paths;
    if (plan_rerun(&r, set, old, id, &o, &paths, &err) < 0)
        return ap_cmd_fail(&err);
    cleanup_free char *cmdline = ap_cmd_commandline(argc, argv);
    if (cmdline == NULL) {
        ap_error_make(&err, ENOMEM, "recording the command line");
        return ap_cmd_fail(&err);
    }
    o.commandline = cmdline;

    check_images(&o, manifest, old);
    ap_log_info("rerun: run %s again: profile %s, suites of the record, %d repeats, %d warmup, "
                "%zu images%s%s; results in %s",
                id, o.profile, o.repeat, o.warmup, o.n_images, o.only ? ", only " : "",
                o.only ? o.only : "", paths.results);
    rc = bench_to_stderr(&o, &err);
    if (rc == -2) {
        ap_cmd_note("appliance rerun: interrupted; the finished samples are in %s", paths.results);
        ap_error_release(&err);
        return AP_EXIT_INTERRUPTED;
    }
    if (rc < 0) {
        ap_error_wrap(&err, "rerunning %s", r.archive);
        return ap_cmd_fail(&err);
    }
    return compare_rerun(&r, old, id, paths.results);
}
