/* Verbs: each parses its own options, calls modules and prints. Exit codes are AP_EXIT_*. */
#ifndef AP_CMD_H
#define AP_CMD_H

#include <cjson/cJSON.h>

#include "../core/error.h"

/* Exit statuses: 130 is an interrupted run (continue it with --resume). */
enum { AP_EXIT_OK = 0, AP_EXIT_FAIL = 1, AP_EXIT_USAGE = 2, AP_EXIT_INTERRUPTED = 130 };

/* What a verb's option parser returns when the verb goes on; any other value is the exit
 * status to end with (AP_EXIT_OK after --help, AP_EXIT_USAGE after a usage error). */
enum { AP_CMD_CONTINUE = -1 };

/* Settings shared by every verb, from the environment and the global options. */
struct ap_settings {
    const char *cache_dir;  /* APPLIANCE_CACHE, default ~/.cache/appliance */
    const char *mirrors;    /* APPLIANCE_MIRROR, default Debian's main mirror */
    const char *images_dir; /* APPLIANCE_IMAGES, default images */
    const char *out_dir;    /* APPLIANCE_OUT, default build/images */
};

/* Fills s from the environment. A cache folder derived from XDG_CACHE_HOME or HOME that does
 * not fit is an error (APPLIANCE_CACHE is taken as it is). */
int ap_cmd_settings_init(struct ap_settings *s, ap_error **err) __attribute__((warn_unused_result));

struct ap_minisign_sk;

/* The secret key's default path: $APPLIANCE_KEY, else ~/.config/appliance/appliance.key. */
int ap_cmd_default_secret_key(char *buf, size_t len, ap_error **err)
    __attribute__((warn_unused_result));
/* The first line of a file (or pipe), without its line break, into pw (len bytes). */
int ap_cmd_password_from_file(const char *path, char *pw, size_t len, ap_error **err);
/* Loads the secret key at key (NULL: the default path), decrypting it with the first line of
 * password_file, or with a password asked on the terminal when it is encrypted and there is
 * one. Wipe sk with ap_minisign_sk_wipe when done. */
int ap_cmd_load_secret_key(const char *key, const char *password_file, struct ap_minisign_sk *sk,
                           ap_error **err);

/* "2", "2s", "500ms", "1.5m" into seconds (>= 0); -1 when it is none of those. */
int ap_cmd_parse_seconds(const char *s, double *out);
/* A whole decimal number from lo to hi into *out; -1 when s is anything else. */
int ap_cmd_parse_count(const char *s, long lo, long hi, long *out);
/* A significance level strictly between 0 and 1; -1 otherwise. */
int ap_cmd_parse_alpha(const char *s, double *out);
/* The value of a percentage option (option, e.g. "--min-effect", of verb): from 0 to max, with
 * or without a trailing '%' ("5", "2.5%"). AP_CMD_CONTINUE, or the usage error (printed). */
int ap_cmd_option_pct(const char *verb, const char *option, const char *s, double max, double *out);

/* "appliance VERB ARG..." (argv[0] is the verb) as one heap string, whatever its length, for
 * the results' record of the command line; the caller frees it. NULL when out of memory. */
char *ap_cmd_commandline(int argc, char **argv);

/* Prints an error (and frees it); returns AP_EXIT_FAIL. */
int ap_cmd_fail(ap_error **err);
/* Prints a usage error with the verb's hint; returns AP_EXIT_USAGE. */
/* Prints a line on standard error with its control characters escaped, for what a verb says
 * beside its errors (an interrupted run, where its samples are). */
void ap_cmd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For `pack` and `bench --sign` (cmd/inputs.c): reads the images the run in o->run_dir
 * measured from its results.json, asks image/ for their locks in the tree (and, with
 * o->with_inputs, for every pinned input) and points o's images and inputs at the lists,
 * which *keep owns until ap_cmd_pack_inputs_free(). A missing or unreadable results.json lists
 * nothing (pack reports it). NULL directories mean images/ and build/images. */
struct ap_pack_opts;
struct ap_cmd_pack_inputs;
int ap_cmd_pack_inputs(struct ap_pack_opts *o, const char *images_dir, const char *layouts_dir,
                       const char *cache_dir, struct ap_cmd_pack_inputs **keep, ap_error **err);
void ap_cmd_pack_inputs_free(struct ap_cmd_pack_inputs *k);

int ap_cmd_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int ap_cmd_image(struct ap_settings *s, int argc, char **argv);
int ap_cmd_run(struct ap_settings *s, int argc, char **argv);
int ap_cmd_load(struct ap_settings *s, int argc, char **argv);
int ap_cmd_bench(struct ap_settings *s, int argc, char **argv);
int ap_cmd_keygen(struct ap_settings *s, int argc, char **argv);
int ap_cmd_compare(struct ap_settings *s, int argc, char **argv);
int ap_cmd_rerun(struct ap_settings *s, int argc, char **argv);
int ap_cmd_pack(struct ap_settings *s, int argc, char **argv);
int ap_cmd_verify(struct ap_settings *s, int argc, char **argv);
int ap_cmd_verdict(struct ap_settings *s, int argc, char **argv);
int ap_cmd_reproduce(struct ap_settings *s, int argc, char **argv);
int ap_cmd_merge(struct ap_settings *s, int argc, char **argv);
int ap_cmd_slurm(struct ap_settings *s, int argc, char **argv);
int ap_cmd_k8s(struct ap_settings *s, int argc, char **argv);

/* Packs and signs the finished run's folder dir into archive_dir (NULL: results/) (with the images'
 * inputs the manifest lists, and claims, when not NULL, as the claims file it was judged against)
 * and prints the archive's and the signature's paths. */
struct ap_minisign_sk;
int ap_cmd_sign_run(const struct ap_settings *set, const char *dir, const char *archive_dir,
                    const char *claims, struct ap_minisign_sk *sk, ap_error **err);

/* Judges an archive's claims.json again on its results.json (results, parsed) and compares the
 * outcome byte for byte with its verdicts.json (scan: the archive's walk). 0 when it holds no
 * verdicts, 1 when they are the same, -1 with err naming what differs or is missing. */
struct ap_archive_scan;
int ap_cmd_rejudge(const char *archive, const struct ap_archive_scan *scan, const cJSON *results,
                   ap_error **err);

/* --shard I/N of bench and reproduce (verb names the verb): *index and *count, or a usage error
 * saying what is wrong (AP_EXIT_USAGE). AP_CMD_CONTINUE when it parsed. */
int ap_cmd_parse_shard(const char *verb, const char *arg, int *index, int *count);

/* --dry-run of bench and reproduce: the partition of the plan of o into its shards on stdout
 * (bench/shard.h), nothing run. The exit status. */
struct ap_bench_opts;
int ap_cmd_dry_run(const struct ap_bench_opts *o);

/* Removes the judgement of an older run from a run directory (claims.json, verdicts.json,
 * report.md, report.html), so that a new run's folder never packs another run's verdicts. */
int ap_cmd_clear_judgement(const char *dir, ap_error **err);

/* ---- judging claims (verdict and reproduce share it) ------------------------------------- */
struct ap_claims;

/* The source check of claims c: the text at source, else the file source.document names
 * beside claims_path when it is there (claims_path NULL: none). *checked says whether a text
 * was checked. AP_CMD_CONTINUE, or the exit status of a failed check (printed). */
int ap_cmd_claims_source(const char *claims_path, const char *source, const struct ap_claims *c,
                         int *checked);

/* Where a judgement goes: claims names the claims file in the verdicts (NULL: the archive's
 * member), out the directory of verdicts.json, report.md and report.html; json prints the
 * verdicts document instead of the table. */
struct ap_cmd_judge {
    const char *claims;
    const char *out;
    int json;
};

/* Judges c against results (whose results.json has sha256 results_hex), writes verdicts.json
 * and the reports into o->out, and prints the table, the counts and the claims furthest off.
 * Returns an exit status (AP_EXIT_OK when judged, whatever the verdicts). */
int ap_cmd_judge(const struct ap_cmd_judge *o, const struct ap_claims *c, const cJSON *results,
                 const char *results_hex, int checked);
int ap_cmd_version(struct ap_settings *s, int argc, char **argv);

#endif
