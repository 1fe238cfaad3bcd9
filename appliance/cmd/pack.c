/* appliance pack RUN_DIR [options]: a run directory into a signed, deterministic archive. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../bundle/archive.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/log.h"
#include "cmd.h"

#define PASSWORD_MAX 1023

static void pack_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance pack RUN_DIR [--key SECKEY] [--password-file FILE] [--unsigned]\n"
            "                      [--out DIR] [--with-inputs] [--claims FILE]\n"
            "\n"
            "Packs what a run wrote (results.json, results.csv, reports, logs: every regular\n"
            "file of RUN_DIR) into OUT/<run-id>.tar.zst with manifest.json, SHA256SUMS and an\n"
            "in-toto provenance statement, and signs it into OUT/<run-id>.tar.zst.minisig\n"
            "(minisign's format: `minisign -Vm ARCHIVE -p KEY.pub` verifies it). The same\n"
            "directory always gives the same bytes: sorted members, the run's start time as\n"
            "every mtime, owner 0, modes 0644/0755. Symbolic links and special files are refused.\n"
            "\n"
            "Options:\n"
            "  --key SECKEY          the minisign secret key that signs (default $APPLIANCE_KEY,\n"
            "                        else ~/.config/appliance/appliance.key)\n"
            "  --password-file FILE  the password of an encrypted key (its first line; without\n"
            "                        it the password is asked for on the terminal)\n"
            "  --unsigned            pack without a signature\n"
            "  --out DIR             where the archive goes (default results)\n"
            "  --with-inputs         also the OCI layouts of the run's images, their recipes and\n"
            "                        locks (and those of the builders their stages ran in), and\n"
            "                        every pinned input from the download cache, checked\n"
            "                        against its sha256: the run can be built and run again\n"
            "                        offline\n"
            "  --claims FILE         the claims file the run was judged against (its sha256 goes\n"
            "                        into the manifest; --with-inputs packs it too)\n"
            "  --images-out DIR, --cache DIR  where built layouts and downloads are\n"
            "\n"
            "Prints the archive's path, its sha256 and the signature's path. Nothing appears\n"
            "under the archive's name (or the signature's) until both are complete.\n"
            "\n"
            "Exit status: 0 packed, 1 failed, 2 usage error.\n");
}

enum {
    O_KEY = 256,
    O_PASSWORD_FILE,
    O_UNSIGNED,
    O_OUT,
    O_WITH_INPUTS,
    O_CLAIMS,
    O_IMGOUT,
    O_CACHE
};

static const struct option opts[] = {{"key", required_argument, NULL, O_KEY},
                                     {"password-file", required_argument, NULL, O_PASSWORD_FILE},
                                     {"unsigned", no_argument, NULL, O_UNSIGNED},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"with-inputs", no_argument, NULL, O_WITH_INPUTS},
                                     {"claims", required_argument, NULL, O_CLAIMS},
                                     {"images-out", required_argument, NULL, O_IMGOUT},
                                     {"cache", required_argument, NULL, O_CACHE},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* The options of appliance pack; strings point into argv. */
struct pack_opts {
    struct ap_pack_opts o; /* all but the secret key */
    const char *key, *password_file;
    const char *images_dir, *layouts_dir, *cache_dir; /* where the run's inputs are read */
    int unsigned_;
};

static int parse_pack_opts(struct pack_opts *p, const struct ap_settings *set, int argc,
                           char **argv)
{
    memset(p, 0, sizeof(*p));
    p->o = (struct ap_pack_opts){.out_dir = "results"};
    p->images_dir = set->images_dir;
    p->layouts_dir = set->out_dir;
    p->cache_dir = set->cache_dir;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_KEY:
            p->key = optarg;
            break;
        case O_PASSWORD_FILE:
            p->password_file = optarg;
            break;
        case O_UNSIGNED:
            p->unsigned_ = 1;
            break;
        case O_OUT:
            p->o.out_dir = optarg;
            break;
        case O_WITH_INPUTS:
            p->o.with_inputs = 1;
            break;
        case O_CLAIMS:
            p->o.claims_path = optarg;
            break;
        case O_IMGOUT:
            p->layouts_dir = optarg;
            break;
        case O_CACHE:
            p->cache_dir = optarg;
            break;
        case 'h':
            pack_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("pack", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return ap_cmd_usage("pack", "a run directory to pack is needed");
    if (optind + 1 < argc)
        return ap_cmd_usage("pack", "unexpected argument '%s'", argv[optind + 1]);
    p->o.run_dir = argv[optind];
    if (p->unsigned_ && (p->key != NULL || p->password_file != NULL))
        return ap_cmd_usage("pack", "--unsigned does not go with --key or --password-file");
    return AP_CMD_CONTINUE;
}

int ap_cmd_pack(struct ap_settings *set, int argc, char **argv)
{
    struct pack_opts p;
    int rc = parse_pack_opts(&p, set, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    struct ap_minisign_sk sk;
    memset(&sk, 0, sizeof(sk));
    if (!p.unsigned_) {
        if (ap_cmd_load_secret_key(p.key, p.password_file, &sk, &err) < 0) {
            if (p.key == NULL && strstr(err->msg, "no secret key") != NULL)
                ap_error_hint(&err, "make one with `appliance keygen`, pass --key SECKEY, or "
                                    "pack without a signature with --unsigned");
            return ap_cmd_fail(&err);
        }
        p.o.sk = &sk;
    } else {
        ap_log_warn("packing without a signature (--unsigned): appliance verify will refuse "
                    "the archive until it is signed");
    }
    struct ap_cmd_pack_inputs *inputs = NULL;
    cleanup_free struct ap_pack_result *res = calloc(1, sizeof(*res));
    rc = res == NULL
             ? ap_error_make(&err, ENOMEM, "packing")
             : ap_cmd_pack_inputs(&p.o, p.images_dir, p.layouts_dir, p.cache_dir, &inputs, &err);
    if (rc == 0)
        rc = ap_pack_run(&p.o, res, &err);
    ap_cmd_pack_inputs_free(inputs);
    ap_minisign_sk_wipe(&sk);
    if (rc < 0)
        return ap_cmd_fail(&err);
    printf("archive:   %s\n", res->archive);
    printf("sha256:    %s\n", res->sha256);
    printf("signature: %s\n", res->signature[0] ? res->signature : "none (--unsigned)");
    char human[32];
    ap_log_info("run %s: %llu members, %s", res->run_id, (unsigned long long)res->files,
                ap_fs_human_bytes(res->bytes, human, sizeof(human)));
    return AP_EXIT_OK;
}
