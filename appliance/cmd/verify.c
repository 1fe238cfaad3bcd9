/* appliance verify ARCHIVE -p PUBKEY [--sig FILE]: checks a result archive end to end. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../bundle/archive.h"
#include "../bundle/compare-load.h"
#include "../core/json.h"
#include "../core/fs.h"
#include "cmd.h"

static void verify_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance verify ARCHIVE (-p PUBKEY | -P KEY) [--sig FILE]\n"
            "\n"
            "Checks a result archive made by appliance pack, stopping at the first check that\n"
            "fails and naming it:\n"
            "  signature   ARCHIVE.minisig (or --sig) against the trusted public key given here\n"
            "              (never a key found in the archive), and its trusted comment's run id\n"
            "              and sha256 against the archive\n"
            "  archive     every member read safely: relative names without '..', regular files\n"
            "              only, sorted, sizes and the decompressed total bounded\n"
            "  SHA256SUMS  every member against it, none missing and none extra\n"
            "  provenance  every member against the in-toto statement's subjects\n"
            "  manifest    manifest.json's structure and run id\n"
            "  inputs      packed inputs against the manifest and their digests\n"
            "  results     results.json's schema id and required members\n"
            "  verdicts    verdicts.json, when there is one, judged again from the archived\n"
            "              claims.json and results.json: the same bytes, or it fails\n"
            "\n"
            "Options:\n"
            "  -p, --public FILE     the trusted public key (minisign format)\n"
            "  -P, --public-key KEY  the same key given as its base64 text (as minisign -P)\n"
            "  --sig FILE            the signature (default ARCHIVE.minisig)\n"
            "\n"
            "Exit status: 0 verified, 1 a check failed (the message names it), 2 usage error.\n");
}

enum { O_SIG = 256 };

static const struct option opts[] = {{"public", required_argument, NULL, 'p'},
                                     {"public-key", required_argument, NULL, 'P'},
                                     {"sig", required_argument, NULL, O_SIG},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* The options of appliance verify; strings point into argv. */
struct verify_opts {
    const char *archive;
    const char *pk_path, *pk_text; /* the trusted key: exactly one of them */
    const char *sig;               /* NULL: ARCHIVE.minisig */
};

static int parse_verify_opts(struct verify_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hp:P:", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->pk_path = optarg;
            break;
        case 'P':
            o->pk_text = optarg;
            break;
        case O_SIG:
            o->sig = optarg;
            break;
        case 'h':
            verify_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("verify", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return ap_cmd_usage("verify", "an archive to verify is needed");
    if (optind + 1 < argc)
        return ap_cmd_usage("verify", "unexpected argument '%s'", argv[optind + 1]);
    if ((o->pk_path == NULL) == (o->pk_text == NULL))
        return ap_cmd_usage("verify", "give the trusted public key, with -p FILE or -P KEY");
    o->archive = argv[optind];
    return AP_CMD_CONTINUE;
}

int ap_cmd_verify(struct ap_settings *set, int argc, char **argv)
{
    (void)set;
    struct verify_opts o;
    int rc = parse_verify_opts(&o, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    struct ap_minisign_pk pk;
    if (o.pk_path != NULL ? ap_minisign_read_pk(o.pk_path, &pk, &err)
                          : ap_minisign_parse_pk(o.pk_text, strlen(o.pk_text), &pk, &err))
        return ap_cmd_fail(&err);
    struct ap_verify_result res;
    if (ap_verify_archive(o.archive, o.sig, &pk, &res, &err) < 0)
        return ap_cmd_fail(&err);
    /* The verdicts are a pure function of the archived claims and results: judge again. */
    cleanup_cjson cJSON *results = NULL;
    struct ap_archive_scan scan;
    int judged = ap_compare_load(o.archive, &results, &scan, &err);
    if (judged == 0)
        judged = ap_cmd_rejudge(o.archive, &scan, results, &err);
    ap_archive_scan_free(&scan);
    if (judged < 0)
        return ap_cmd_fail(&err);
    char keyid[AP_MINISIGN_KEYID_HEX_LEN + 1], human[32];
    ap_minisign_keyid_hex(pk.keyid, keyid);
    printf("%s: verified\n", o.archive);
    printf("  run:       %s\n", res.run_id);
    printf("  sha256:    %s\n", res.sha256);
    printf("  members:   %llu (%s)%s\n", (unsigned long long)res.files,
           ap_fs_human_bytes(res.bytes, human, sizeof(human)),
           res.with_inputs ? ", with inputs" : "");
    printf("  signed by: key %s\n", keyid);
    if (judged > 0)
        printf("  verdicts:  judged again from claims.json and results.json: the same\n");
    return AP_EXIT_OK;
}
