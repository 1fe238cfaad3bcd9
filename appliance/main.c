/* appliance: settles published Go-vs-Python performance claims. This file only dispatches. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/hash.h"
#include "core/log.h"
#include "image/fetch.h" /* AP_DEFAULT_MIRROR */

static const struct {
    const char *name;
    int (*fn)(struct ap_settings *, int, char **);
    const char *summary;
} verbs[] = {
    {"image", ap_cmd_image, "build, list, inspect and unpack pinned images"},
    {"run", ap_cmd_run, "run a command in a sandbox and measure it"},
    {"load", ap_cmd_load, "HTTP load against a server in its network namespace"},
    {"bench", ap_cmd_bench, "measure the images: size, start, memory, CPU, HTTP, threads"},
    {"keygen", ap_cmd_keygen, "make the key pair that signs result archives (minisign)"},
    {"compare", ap_cmd_compare, "compare two runs: changes of the medians and their significance"},
    {"rerun", ap_cmd_rerun, "run an archived run's plan again and compare the results"},
    {"pack", ap_cmd_pack, "pack a run directory into a signed, deterministic archive"},
    {"verify", ap_cmd_verify, "verify a result archive: signature, digests, provenance, schemas"},
    {"reproduce", ap_cmd_reproduce,
     "check a claims file, build and measure what it needs, judge it, write the reports"},
    {"slurm", ap_cmd_slurm, "run a sharded campaign on a Slurm cluster: submit, status, resume"},
    {"k8s", ap_cmd_k8s, "render a sharded campaign as Kubernetes Jobs (an Indexed Job, a merge)"},
    {"verdict", ap_cmd_verdict, "judge a claims file against a run's results: a verdict per claim"},
    {"merge", ap_cmd_merge, "merge the signed parts of a sharded campaign into one results file"},
    {"version", ap_cmd_version, "print the version"},
};

static void usage(FILE *out)
{
    fprintf(out, "appliance settles published Go-vs-Python performance claims: it builds pinned\n"
                 "images from checksum-verified Debian packages, runs workloads in a sandbox,\n"
                 "measures them, and writes signed result archives that anyone can verify and\n"
                 "compare offline.\n\n"
                 "Usage: appliance [--quiet|--verbose] VERB [OPTIONS...]\n\n"
                 "Verbs:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out,
            "\nEnvironment:\n"
            "  APPLIANCE_CACHE   download and build cache (default ~/.cache/appliance)\n"
            "  APPLIANCE_MIRROR  comma-separated Debian mirror URLs (default %s)\n"
            "  APPLIANCE_IMAGES  folder of image recipes (default images)\n"
            "  APPLIANCE_OUT     where image layouts go (default build/images)\n\n"
            "Exit status: 0 success, 1 failure, 2 usage error.\n"
            "'appliance VERB --help' describes a verb.\n",
            AP_DEFAULT_MIRROR);
}

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            ap_log_set_level(AP_LOG_QUIET);
        } else if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
            ap_log_set_level(AP_LOG_VERBOSE);
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return AP_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            return ap_cmd_version(NULL, 1, argv + i);
        } else {
            ap_cmd_note("appliance: unknown option '%s'", argv[i]);
            usage(stderr);
            return AP_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return AP_EXIT_USAGE;
    }
    ap_error *err = NULL;
    if (ap_hash_init(&err) < 0)
        return ap_cmd_fail(&err);
    struct ap_settings s;
    if (ap_cmd_settings_init(&s, &err) < 0)
        return ap_cmd_fail(&err);
    for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
        if (strcmp(argv[i], verbs[v].name) == 0)
            return verbs[v].fn(&s, argc - i, argv + i);
    ap_cmd_note("appliance: unknown verb '%s'", argv[i]);
    usage(stderr);
    return AP_EXIT_USAGE;
}
