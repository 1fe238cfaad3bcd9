/* appliance verdict: a claims file judged against a run's results (docs/claims.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../bundle/archive.h"
#include "../bundle/compare-load.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../core/table.h"
#include "../core/text.h"
#include "../report/format.h"
#include "../report/output.h"
#include "../report/verdict.h"
#include "cmd.h"

static void verdict_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance verdict (RESULTS.json | RUN-DIR | ARCHIVE) [--claims FILE]\n"
            "                         [--source TEXT] [--out DIR] [--json]\n"
            "\n"
            "Judges every claim of a claims file (appliance-claims-1) against a run's results:\n"
            "holds, contradicted, inconclusive, not comparable or not reproducible here, by the\n"
            "rules of docs/claims.md, with each claim's measured interval, p-value and its\n"
            "Benjamini-Hochberg q across the file (q = %g). The verdicts are a pure function\n"
            "of the claims and the results: judging again gives the same file byte for byte.\n"
            "\n"
            "The results are a results.json, a run directory holding one, or a result archive\n"
            "(every member checked as 'appliance verify' does, without a signature check). An\n"
            "archive's claims.json is used when --claims is not given.\n"
            "\n"
            "Options:\n"
            "  --claims FILE   the claims file (required unless the archive holds one)\n"
            "  --source TEXT   the document the quotes were read from (default: the file that\n"
            "                  source.document names, beside the claims file, when it is\n"
            "                  there); its sha256 and every quote are checked first\n"
            "  --out DIR       where verdicts.json, report.md and report.html go (default: the\n"
            "                  current directory)\n"
            "  --json          print the verdicts document instead of the table\n"
            "\n"
            "Exit status: 0 when judged (whatever the verdicts), 1 on errors reading the\n"
            "results or writing, 2 on a usage error or a claims file that is wrong (its\n"
            "format, its source text, or a claim that does not fit the results).\n",
            AP_VERDICT_FDR_Q);
}

enum { O_CLAIMS = 256, O_SOURCE, O_OUT, O_JSON };

static const struct option opts[] = {{"claims", required_argument, NULL, O_CLAIMS},
                                     {"source", required_argument, NULL, O_SOURCE},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"json", no_argument, NULL, O_JSON},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* The options of appliance verdict; strings point into argv. */
struct verdict_opts {
    const char *results, *claims, *source, *out;
    int json;
};

static int parse_verdict_opts(struct verdict_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->out = ".";
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_CLAIMS:
            o->claims = optarg;
            break;
        case O_SOURCE:
            o->source = optarg;
            break;
        case O_OUT:
            o->out = optarg;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case 'h':
            verdict_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("verdict", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 1)
        return ap_cmd_usage("verdict", "the results to judge are needed: a results.json, a run "
                                       "directory or a result archive");
    if (argc - optind > 1)
        return ap_cmd_usage("verdict", "unexpected argument '%s'", argv[optind + 1]);
    o->results = argv[optind];
    return AP_CMD_CONTINUE;
}

/* A claims file that is wrong: its error, and the exit status of a usage error. */
static int claims_fail(ap_error **err)
{
    ap_cmd_fail(err);
    return AP_EXIT_USAGE;
}

/* The claims: --claims, else the archive's claims.json. */
static int load_claims(const struct verdict_opts *o, const struct ap_archive_scan *scan,
                       struct ap_claims *c)
{
    ap_error *err = NULL;
    if (o->claims != NULL)
        return ap_claims_load(o->claims, c, &err) < 0 ? claims_fail(&err) : AP_CMD_CONTINUE;
    if (scan->claims == NULL)
        return ap_cmd_usage("verdict", "--claims FILE is needed: %s holds no %s", o->results,
                            scan->members.n > 0 ? "claims.json" : "claims (it is no archive)");
    char what[4200];
    snprintf(what, sizeof(what), "%s:%s", o->results, AP_BUNDLE_CLAIMS);
    if (ap_claims_parse(scan->claims, scan->claims_len, what, c, &err) < 0)
        return claims_fail(&err);
    return AP_CMD_CONTINUE;
}

int ap_cmd_claims_source(const char *claims_path, const char *source, const struct ap_claims *c,
                         int *checked)
{
    char path[4096], dir[4096];
    ap_error *err = NULL;
    *checked = 0;
    if (source != NULL) {
        snprintf(path, sizeof(path), "%s", source);
    } else {
        struct stat st;
        if (claims_path == NULL || ap_fs_dirname(claims_path, dir, sizeof(dir)) < 0 ||
            ap_fs_path(path, sizeof(path), "%s/%s", dir, c->document) < 0 || stat(path, &st) < 0)
            return AP_CMD_CONTINUE;
    }
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (ap_fs_read_file(AT_FDCWD, path, (size_t)AP_CLAIMS_SOURCE_MAX, &text, &len, &err) < 0) {
        ap_error_wrap(&err, "--source");
        return claims_fail(&err);
    }
    if (ap_claims_check_source(c, text, len, path, &err) < 0)
        return claims_fail(&err);
    *checked = 1;
    return AP_CMD_CONTINUE;
}

/* The sha256 of the results.json judged: the archive member's, or the file's. */
static int results_sha256(const char *path, const struct ap_archive_scan *scan, char *hex,
                          ap_error **err)
{
    if (scan->members.n > 0) {
        const struct ap_bundle_file *f = ap_bundle_files_find(&scan->members, AP_BUNDLE_RESULTS);
        if (f == NULL)
            return ap_error_make(err, ENOENT, "%s has no %s", path, AP_BUNDLE_RESULTS);
        snprintf(hex, AP_SHA256_HEX_LEN + 1, "%s", f->sha256);
        return 0;
    }
    char file[4096];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (ap_fs_path(file, sizeof(file), "%s/results.json", path) < 0)
            return ap_error_make(err, ENAMETOOLONG, "%s", path);
        path = file;
    }
    return ap_sha256_file(AT_FDCWD, path, hex, NULL, err);
}

static int write_verdicts(const char *out, const cJSON *doc, char *path, size_t len, ap_error **err)
{
    if (ap_fs_mkdir_p(out, 0755, err) < 0)
        return ap_error_wrap(err, "--out");
    if (ap_fs_path(path, len, "%s/verdicts.json", out) < 0)
        return ap_error_make(err, ENAMETOOLONG, "--out %s", out);
    return ap_json_write_file(path, doc, err);
}

/* The three judged claims furthest off (largest |log(measured / published)|). */
static void print_furthest(FILE *out, const cJSON *doc)
{
    const cJSON *far[3];
    size_t n = ap_report_furthest(doc, far);
    if (n > 0)
        fprintf(out, "Furthest off:\n");
    for (size_t i = 0; i < n; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(far[i], "measured_over_published");
        char label[300];
        fprintf(out, "  %s: measured/published %.3g (%s)\n",
                ap_report_claim_label(label, sizeof(label), far[i]),
                cJSON_IsNumber(r) ? r->valuedouble : NAN, ap_report_string(far[i], "verdict"));
    }
}

/* The counts of one set of verdicts (a run, or one machine type of several). */
static void print_counts(FILE *out, const char *lead, const size_t counts[AP_VERDICT_KINDS],
                         size_t m)
{
    fprintf(out,
            "%s%zu holds, %zu contradicted, %zu inconclusive, %zu not comparable, %zu not "
            "reproducible here (false-discovery control over %zu discoveries, q = %g)\n",
            lead, counts[AP_VERDICT_HOLDS], counts[AP_VERDICT_CONTRADICTED],
            counts[AP_VERDICT_INCONCLUSIVE], counts[AP_VERDICT_NOT_COMPARABLE],
            counts[AP_VERDICT_NOT_REPRODUCIBLE], m, AP_VERDICT_FDR_Q);
}

static int print_table(FILE *out, const struct ap_verdicts *v, const cJSON *doc, int checked,
                       const char *path, ap_error **err)
{
    struct ap_table t;
    ap_table_init(&t, 4, 1u << 2, 0);
    t.header = 1;
    const char *head[] = {"published", "measured (interval, coverage)", "meas/pub", "verdict"};
    int rc = ap_table_add(&t, "claim", head, 4, NULL, err);
    for (size_t i = 0; rc == 0 && i < v->n; i++) {
        const struct ap_verdict *x = &v->v[i];
        char ratio[32] = "-";
        if (isfinite(x->measured_over_published))
            snprintf(ratio, sizeof(ratio), "%.3g", x->measured_over_published);
        cleanup_free char *why = ap_text_escape(x->why);
        const char *cells[] = {x->published_text, x->measured_display, ratio,
                               ap_verdict_name(x->verdict)};
        char claim[300];
        snprintf(claim, sizeof(claim), "%s%s%s", x->claim->id, x->machine != NULL ? " on " : "",
                 x->machine != NULL ? x->machine : "");
        rc = ap_table_add(
            &t, claim, cells, 4,
            x->verdict == AP_VERDICT_HOLDS || x->verdict == AP_VERDICT_CONTRADICTED ? NULL : why,
            err);
    }
    if (rc == 0)
        ap_table_print(&t, out, ap_table_width(out));
    ap_table_free(&t);
    if (rc < 0)
        return -1;
    if (v->n_machines == 0)
        print_counts(out, "\n", v->counts, v->m);
    for (size_t k = 0; k < v->n_machines; k++) {
        const struct ap_verdict_machine *m = &v->machines[k];
        cleanup_free char *cpu = ap_text_escape(m->cpu_model);
        cleanup_free char *kernel = ap_text_escape(m->kernel);
        fprintf(out, "%s%s (%s, kernel %s): ", k == 0 ? "\n" : "", m->id, cpu != NULL ? cpu : "?",
                kernel != NULL ? kernel : "?");
        print_counts(out, "", m->counts, m->m);
    }
    if (!checked)
        fprintf(out, "source text not checked: no --source, and no source document beside the "
                     "claims file\n");
    print_furthest(out, doc);
    fprintf(out, "Wrote %s and report.md, report.html beside it\n", path);
    return 0;
}

int ap_cmd_judge(const struct ap_cmd_judge *o, const struct ap_claims *c, const cJSON *results,
                 const char *hex, int checked)
{
    ap_error *err = NULL;
    char path[4200];
    struct ap_verdicts v;
    struct ap_verdict_machine *machines = NULL;
    size_t n_machines = 0;
    /* Results of the wrong shape are the results' fault, not the claims file's (exit 1). */
    if (ap_verdict_machines(results, &machines, &n_machines, &err) < 0)
        return ap_cmd_fail(&err);
    free(machines);
    if (ap_verdict_judge(c, results, &v, &err) < 0)
        return claims_fail(&err);
    const char *slash = o->claims != NULL ? strrchr(o->claims, '/') : NULL;
    struct ap_verdict_inputs in = {o->claims == NULL ? AP_BUNDLE_CLAIMS
                                   : slash != NULL   ? slash + 1
                                                     : o->claims,
                                   hex, checked};
    cleanup_cjson cJSON *doc = ap_verdict_document(c, results, &v, &in);
    int rc = AP_EXIT_OK;
    if (doc == NULL) {
        ap_error_make(&err, ENOMEM, "building the verdicts");
        rc = ap_cmd_fail(&err);
    } else if (write_verdicts(o->out, doc, path, sizeof(path), &err) < 0 ||
               ap_report_write_dir(o->out, doc, results, &err) < 0) {
        rc = ap_cmd_fail(&err);
    } else if (o->json) {
        char *s = cJSON_Print(doc);
        if (s != NULL)
            printf("%s\n", s);
        free(s);
    } else if (print_table(stdout, &v, doc, checked, path, &err) < 0) {
        rc = ap_cmd_fail(&err);
    }
    ap_verdicts_free(&v);
    if (fflush(stdout) != 0 && rc == AP_EXIT_OK) {
        ap_error_make(&err, errno, "writing the verdicts");
        rc = ap_cmd_fail(&err);
    }
    return rc;
}

/* The archived verdicts' own inputs that judging cannot recompute offline: the claims file's
 * name and whether the source text was checked when they were made. */
static void archived_inputs(const cJSON *archived, const char **claims_name, int *checked)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(archived, "claims"), "path");
    *claims_name = cJSON_IsString(p) ? p->valuestring : AP_BUNDLE_CLAIMS;
    *checked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(archived, "source"), "checked"));
}

/* The manifest's claims_sha256, when it names one, is the claims.json member's. */
static int claims_pinned(const char *archive, const struct ap_archive_scan *scan, ap_error **err)
{
    const struct ap_bundle_file *cf = ap_bundle_files_find(&scan->members, AP_BUNDLE_CLAIMS);
    cleanup_cjson cJSON *m = cJSON_ParseWithLength(scan->manifest, scan->manifest_len);
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(m, "claims_sha256");
    if (!cJSON_IsString(pin))
        return 0;
    if (cf == NULL || strncmp(pin->valuestring, "sha256:", 7) != 0 ||
        strcmp(pin->valuestring + 7, cf->sha256) != 0)
        return ap_error_make(err, 0,
                             "verdicts check failed: %s: %s is not the claims file the manifest "
                             "names (%s)",
                             archive, AP_BUNDLE_CLAIMS, pin->valuestring);
    return 0;
}

int ap_cmd_rejudge(const char *archive, const struct ap_archive_scan *scan, const cJSON *results,
                   ap_error **err)
{
    if (scan->verdicts == NULL)
        return 0;
    if (scan->claims == NULL)
        return ap_error_make(err, 0, "verdicts check failed: %s holds %s but no %s to judge again",
                             archive, AP_BUNDLE_VERDICTS, AP_BUNDLE_CLAIMS);
    const struct ap_bundle_file *rf = ap_bundle_files_find(&scan->members, AP_BUNDLE_RESULTS);
    cleanup_cjson cJSON *archived = NULL;
    char what[4200];
    snprintf(what, sizeof(what), "%s:%s", archive, AP_BUNDLE_VERDICTS);
    if (rf == NULL || ap_json_parse(scan->verdicts, scan->verdicts_len, what, &archived, err) < 0)
        return ap_error_wrap(err, "verdicts check failed");
    if (claims_pinned(archive, scan, err) < 0)
        return -1;
    snprintf(what, sizeof(what), "%s:%s", archive, AP_BUNDLE_CLAIMS);
    struct ap_claims c;
    if (ap_claims_parse(scan->claims, scan->claims_len, what, &c, err) < 0)
        return ap_error_wrap(err, "verdicts check failed");
    struct ap_verdicts v;
    struct ap_verdict_inputs in = {NULL, rf->sha256, 0};
    archived_inputs(archived, &in.claims_name, &in.source_checked);
    int rc = ap_verdict_judge(&c, results, &v, err);
    cleanup_cjson cJSON *doc = rc == 0 ? ap_verdict_document(&c, results, &v, &in) : NULL;
    cleanup_free char *text = doc != NULL ? cJSON_Print(doc) : NULL;
    if (rc == 0)
        ap_verdicts_free(&v);
    ap_claims_free(&c);
    if (rc < 0)
        return ap_error_wrap(err, "verdicts check failed: judging %s again", archive);
    if (text == NULL)
        return ap_error_make(err, ENOMEM, "judging %s again", archive);
    size_t len = strlen(text);
    if (scan->verdicts_len != len + 1 || memcmp(scan->verdicts, text, len) != 0 ||
        scan->verdicts[len] != '\n') {
        ap_error_make(err, 0,
                      "verdicts check failed: %s: %s is not what its %s judged on its %s gives",
                      archive, AP_BUNDLE_VERDICTS, AP_BUNDLE_CLAIMS, AP_BUNDLE_RESULTS);
        return ap_error_hint(err, "judge again with 'appliance verdict %s --out DIR' and compare",
                             archive);
    }
    return 1;
}

int ap_cmd_verdict(struct ap_settings *set, int argc, char **argv)
{
    (void)set;
    struct verdict_opts o;
    int rc = parse_verdict_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    cleanup_cjson cJSON *results = NULL;
    struct ap_archive_scan scan;
    if (ap_compare_load(o.results, &results, &scan, &err) < 0)
        return ap_cmd_fail(&err);
    struct ap_claims c;
    int checked = 0;
    memset(&c, 0, sizeof(c));
    rc = load_claims(&o, &scan, &c);
    if (rc == AP_CMD_CONTINUE)
        rc = ap_cmd_claims_source(o.claims, o.source, &c, &checked);
    char hex[AP_SHA256_HEX_LEN + 1];
    if (rc == AP_CMD_CONTINUE && results_sha256(o.results, &scan, hex, &err) < 0)
        rc = ap_cmd_fail(&err);
    struct ap_cmd_judge j = {o.claims, o.out, o.json};
    if (rc == AP_CMD_CONTINUE)
        rc = ap_cmd_judge(&j, &c, results, hex, checked);
    ap_claims_free(&c);
    ap_archive_scan_free(&scan);
    return rc;
}
