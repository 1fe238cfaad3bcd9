/* The runner behind the suites: the images of a run, one measured run in a fresh sandbox
 * with its output checked and the machine's noise watched, and the measurements with their
 * raw samples, saved after every sample. Internal to appliance/bench. */
#ifndef AP_BENCH_RUNNER_H
#define AP_BENCH_RUNNER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "../image/oci.h"
#include "../core/error.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/progress.h"
#include "../sandbox/sandbox.h"
#include "bench.h"
#include "noise.h"
#include "shard.h"
#include "topology.h"

#define AP_BENCH_MAX_ENV AP_OCI_RUN_MAX /* a run's environment: the image's and its own */

/* A built image the run uses. */
struct ap_bench_image {
    char name[64];
    char language[16]; /* "go" or "python" */
    char layout[1024];
    char rootfs[1024];
    char digest[80]; /* "sha256:<hex>" of the manifest */
    char lock_sha256[80];
    uint64_t compressed_bytes, unpacked_bytes, files;
    struct ap_oci_run run; /* its environment, working directory and command (owned) */
    char *interpreter;     /* the command's first word in a Python image (points into run) */
};

/* A sample of a run whose noise is judged with its block's other short runs, not yet judged:
 * runs[index] of measurement m and the samples at index of each of m's metrics. */
struct ap_bench_pending {
    cJSON *m;
    int index;
};

/* The noise guard's view of the block of runs being measured (ap_bench_block_begin): the sum
 * of every run kept, and the window of runs too short to resolve the threshold alone, judged
 * together once they do or the block ends. */
struct ap_bench_block {
    char what[128];
    char cpus[AP_CPUSET_STRLEN];
    struct ap_noise_report total, window; /* intervals 0: empty */
    struct ap_bench_pending *pending;     /* the window's samples (owned array) */
    size_t n_pending, cap_pending;
    char noisy_why[512]; /* the last noisy judgement of the block, for the error */
};

struct ap_bench {
    const struct ap_bench_opts *o;
    cJSON *plan;          /* bench.json (owned) */
    const cJSON *profile; /* plan.profiles[profile] */
    const char *profile_name;
    const char *output_hash; /* the SHA-256 implementation that hashes outputs (core/hash.h) */
    int repeat, warmup;
    struct ap_bench_image images[AP_BENCH_MAX_IMAGES];
    size_t n_images;
    struct ap_seccomp seccomp;
    char seccomp_sha256[80];
    /* CPU lists: the workload's, the load generator's and orchestrator's, every CPU we may use,
     * the threads suite's (one per core); placement says why (bench/topology.h). */
    char wl_cpus[AP_CPUSET_STRLEN], load_cpus[AP_CPUSET_STRLEN], all_cpus[AP_CPUSET_STRLEN];
    char threads_cpus[AP_CPUSET_STRLEN];
    int n_wl_cpus;
    struct ap_topology *topo; /* owned */
    struct ap_placement placement;
    int64_t memory_limit, server_memory_limit, tmp_bytes, pids_max, nofile;
    cJSON *doc;          /* the results document (owned) */
    cJSON *measurements; /* doc.measurements */
    char inputs_dir[1024];
    struct ap_progress progress;
    double est_total_s, est_done_s; /* estimated seconds of the plan, and of what is done */
    struct ap_noise_thresholds noise;
    int noisy_samples;
    struct ap_bench_block block;
    struct ap_noise_speed_ref speed_ref; /* each CPU's last speed probes (noise.h) */
    char quiet_cpus[AP_CPUSET_STRLEN];   /* the CPUs of the last quiet check, and its end */
    int64_t quiet_ns;
    /* The plan's groups partitioned into o->shard_count shards (one when not sharded), each
     * shard's estimated total, and the plan's digest (shard.h). */
    struct ap_bench_groups *groups; /* owned */
    double shard_totals[AP_BENCH_SHARDS_MAX];
    char plan_sha256[AP_SHA256_HEX_LEN + 1];
};

/* The plan of o into b (zeroed by the caller): bench.json and its profile, repeat and warmup,
 * limits, the images (names_only: their names and languages alone, nothing read from their
 * layouts, no CPU chosen: for a dry run, before anything is built), the groups partitioned
 * into o's shards and the plan's digest. ap_bench_free releases what b holds (not b). */
int ap_bench_load(struct ap_bench *b, const struct ap_bench_opts *o, int names_only,
                  ap_error **err);
void ap_bench_free(struct ap_bench *b);

/* The coefficient of variation a CPU task's figure may show when the run found the host's
 * caches shared (environment.memory_latency): what the noise guard cannot see run by run shows
 * as spread, so a figure is unstable beyond this rather than beyond AP_STATS_UNSTABLE_CV
 * (tests/bench/cross-check's repeatability target). */
#define AP_BENCH_SHARED_CV 0.02

/* Extra rounds a block may run to replace samples the noise guard flagged. */
#define AP_BENCH_NOISE_ROUNDS 2
/* Length of the quiet check before a block: enough to resolve AP_NOISE_FOREIGN_PCT. A block
 * on the CPUs of a check that ended less than AP_BENCH_QUIET_EVERY_S ago goes without one. */
#define AP_BENCH_QUIET_CHECK_S 0.8
#define AP_BENCH_QUIET_EVERY_S 60.0

/* Set by SIGINT/SIGTERM between sandboxed runs (a run in progress is torn down by the
 * sandbox itself and reports `interrupted`). */
extern volatile sig_atomic_t ap_bench_interrupted;

/* The time now in UTC, as results write it (2026-12-04T20:30:00Z). */
void ap_bench_iso_now(char *buf, size_t len);

/* The image named `name` among those loaded, or NULL. */
struct ap_bench_image *ap_bench_image(struct ap_bench *b, const char *name);

/* One measured run. */
struct ap_bench_exec {
    const struct ap_bench_image *image;
    char *const *argv; /* NULL-terminated */
    char *const *env;  /* extra NAME=VALUE entries (NULL-terminated) or NULL */
    const struct ap_bind *binds;
    size_t n_binds;
    const char *stdin_path;   /* NULL: /dev/null */
    const cJSON *expected;    /* expected stdout ({text}|{file[,float_tolerance]}|
                               * {sha256,length}) or NULL: not checked */
    const char *expected_dir; /* where {file} lives */
    const char *cpus;         /* cpuset (default: the workload CPUs) */
    int64_t memory_bytes;     /* 0: the plan's limit */
    double timeout_s;
    enum ap_net_mode net;
    int nofile; /* 0: the plan's */
    void (*on_exec)(void *ctx, pid_t init_pid, struct ap_sandbox_live *live);
    void *ctx;
    int stop_fd;
    int noise_check;   /* watch the workload CPUs for other work during the run */
    const char *label; /* "nbody on python-3.13", for messages */
    /* When not NULL: *output gets the run's whole standard output, NUL-terminated, owned by the
     * caller (free); an output over AP_BENCH_MAX_TEXT_OUTPUT bytes, or one holding a NUL byte
     * (not text), is an error. */
    char **output;
};

/* Runs x in a fresh sandbox and fills rec; *run gets a JSON record of the run (the record's
 * figures, the noise seen, the output's sha256). A set-up failure, a non-zero exit, an OOM
 * kill, a timeout or an output that differs from x->expected is an error naming the run.
 * With noise_check, the run's interval on its CPUs is judged: alone when it resolves the
 * threshold (a noisy run is retried twice, then refused unless --allow-noisy keeps it,
 * flagged), else with the block's other short runs: its record's noise says "pending" until
 * ap_bench_keep_run has kept it and the window is judged. Returns -2 when interrupted. */
int ap_bench_sample(struct ap_bench *b, const struct ap_bench_exec *x, struct ap_run_record *rec,
                    cJSON **run, ap_error **err);

/* Round r of a block (r < 0: a warm-up) of x, through ap_bench_sample, the noise guard watching
 * every round but the warm-ups (x->noise_check is set so). Returns 1 with *rec and *run (owned
 * by the caller) for a round to keep, 0 for a warm-up (its run dropped, *run NULL), or
 * ap_bench_sample's negative value. */
int ap_bench_round_sample(struct ap_bench *b, struct ap_bench_exec *x, int r,
                          struct ap_run_record *rec, cJSON **run, ap_error **err);

/* ---- the noise guard (guard.c) ------------------------------------------------------------- */

/* What the guard sees of one run: the interval on its CPUs (nr, when have) and the speed probes
 * around it (speed, owned: their record). A run whose interval resolves the threshold is judged
 * alone (noisy, why); a shorter one is pending, judged with its block's window; a slow CPU
 * makes it noisy alone whatever the ticks say. */
struct ap_bench_guard {
    int watching, probed, have, pending, noisy;
    int slow; /* noisy only because a CPU stayed slower than its usual time (the speed probe) */
    /* The appliance's own CPU time at the start, when all of it runs on the run's CPUs (the
     * threads suite uses every CPU), else -1; and its share of the interval at the end. */
    int64_t ours_start, ours_ns;
    struct ap_noise_snapshot snap;
    struct ap_noise_speed before;
    struct ap_noise_report nr;
    cJSON *speed;
    char why[512];
};

/* Around a run on cpus: the probe and the interval's start (nothing unless check), then their
 * end and the verdict (own_ns: the run's own CPU time), then the record under run.noise with
 * the verdict (rec gives the command's wait on one CPU, off_cpu_pct), then the release of what
 * the record did not take. */
void ap_bench_guard_start(int check, const char *cpus, struct ap_bench_guard *g);
void ap_bench_guard_stop(struct ap_bench *b, const char *cpus, int64_t own_ns,
                         struct ap_bench_guard *g);
void ap_bench_guard_record(struct ap_bench_guard *g, const struct ap_run_record *rec, cJSON *run);
void ap_bench_guard_free(struct ap_bench_guard *g);

/* A kept run's interval (g, its record run) into the block's sums: the total, and the window
 * when it is pending. A pending run outside the block's CPUs is judged alone now. */
void ap_bench_guard_kept(struct ap_bench *b, cJSON *run, struct ap_bench_guard *g);

/* A metric of m with samples flagged noisy gets the guard's first reason (from m's runs)
 * appended to its warning. */
void ap_bench_noisy_warning(cJSON *metric, const cJSON *m);

/* Before a block of runs on the CPUs `cpus`: waits (up to a few seconds) for them to be quiet;
 * noisy after that is an error unless --allow-noisy (then a warning in the results). */
int ap_bench_quiet_check(struct ap_bench *b, const char *what, const char *cpus, ap_error **err);

/* Starts the block `what` of runs on `cpus` (ap_bench_quiet_check first, unless one on the same
 * CPUs passed less than AP_BENCH_QUIET_EVERY_S ago) and empties the guard's sums. A block left
 * unfinished (an error) is dropped by the next one. */
int ap_bench_block_begin(struct ap_bench *b, const char *what, const char *cpus, ap_error **err);

/* The speed probes around a run (noise.h): *before is taken by ap_bench_speed_before on the
 * run's CPUs, ap_bench_speed_after takes the one after, compares both with the fastest of each
 * CPU so far, records them under noise.speed in run (when not NULL) and returns 1 when a CPU
 * was slower than AP_NOISE_SLOWDOWN_PCT allows (why filled), 0 when not, or when a probe could
 * not be taken (recorded as not taken). */
int ap_bench_speed_before(const char *cpus, struct ap_noise_speed *before);
int ap_bench_speed_after(struct ap_bench *b, const char *cpus, const struct ap_noise_speed *before,
                         int have_before, cJSON *noise, char *why, size_t len);

/* After a run that a CPU of `cpus` was too slow for (the speed probe): probes those CPUs
 * AP_BENCH_SETTLE_PROBES times, AP_BENCH_SETTLE_GAP_MS apart, to tell a passing slowdown from a
 * lasting change of the CPU's speed. Returns 0 as soon as every CPU is back within
 * AP_NOISE_SLOWDOWN_PCT of its usual time, or when the slowdown is neither steady nor within
 * AP_NOISE_STATE_PCT of the CPU's fastest (work that takes the CPU: the run is measured again
 * and refused as before). Returns 1 when a CPU settled at a new, steady level: its usual time
 * becomes that level (noise.h, ap_noise_speed_rebase), and the change is recorded in
 * run.speed_changes and in the results' warnings, so that the figures measured across it say
 * so (their spread shows it, and their status). On this kind of host the loop moves between
 * levels 10-15 % apart for minutes at a time. */
#define AP_BENCH_SETTLE_PROBES 10
#define AP_BENCH_SETTLE_GAP_MS 500
int ap_bench_speed_settle(struct ap_bench *b, const char *cpus);

/* Judges the interval nr of a run measured outside ap_bench_sample (a load against a server)
 * alone, with the margin its resolution calls for when it is short, records it with the
 * verdict under run.noise (speed, the probes' record, owned from now on, under noise.speed;
 * slow_why, when not NULL, makes it noisy for that reason too) and in the block's sum.
 * Returns 0 when quiet, else (why filled) 1 when the ticks saw other work, 2 when it is noisy
 * only because a CPU was slow (slow_why). */
int ap_bench_judge_run(struct ap_bench *b, cJSON *run, const struct ap_noise_report *nr,
                       cJSON *speed, const char *slow_why, char *why, size_t len);

/* What follows a noisy try of `what` on cpus, judged noisy for `why` (slow_alone: only because
 * a CPU was slow, the ticks saw no other work), for ap_bench_sample and for the loads of the
 * http suite alike. A slow CPU that settled at a new speed (ap_bench_speed_settle; at most twice
 * a sample, *rebased counts) makes the next try a first try again (*tries back to 0); the first
 * two tries are run again (*tries counts them); after the third, --allow-noisy keeps it
 * (counted in noisy_samples, why kept as the block's last noisy judgement) and otherwise it is
 * refused: "too noisy to measure". Returns 1 to run it again, 0 to keep it flagged noisy (the
 * caller flags it), -1 with err. Start with *tries and *rebased at 0. */
int ap_bench_noisy_next(struct ap_bench *b, const char *what, const char *cpus, const char *why,
                        int slow_alone, int *tries, int *rebased, ap_error **err);

/* Ends the block: its window judged whatever its length, its sum recorded in run.noise_blocks.
 * Returns the samples the window flagged noisy. ap_bench_block_done calls it. */
int ap_bench_block_end(struct ap_bench *b);

/* Appends run (owned by m from now on) to m's runs, as ap_bench_add_run; a run whose noise is
 * pending joins the block's window, which is judged as soon as it resolves the threshold. The
 * samples of the run must be in m already, at the run's index in every metric (as the cpu and
 * threads suites add them): a noisy window flags them all noisy, and their runs. */
void ap_bench_keep_run(struct ap_bench *b, cJSON *m, cJSON *run);

/* Samples of `metric` in m that are not flagged noisy. */
int ap_bench_count_clean(const cJSON *m, const char *metric);

/* Whether m takes part in round r of its block (r < 0: a warmup): while it has fewer than
 * repeat clean samples of metric, and in the first repeat rounds only once per round (a
 * resumed measurement skips the rounds it has). */
int ap_bench_round_wants(const struct ap_bench *b, const cJSON *m, const char *metric, int r);

/* After round r of a block whose measurements are ms[0..n): 1 when the block is done (every
 * one has repeat clean samples of metric, its last window judged), 0 when another round is
 * needed (samples flagged noisy to replace, at most AP_BENCH_NOISE_ROUNDS rounds past
 * repeat), or -1 when those rounds did not give clean samples and --allow-noisy was not
 * passed: "too noisy to measure", with the last noisy judgement. The block's summed noise
 * goes into run.noise_blocks once it is done. */
int ap_bench_block_done(struct ap_bench *b, cJSON *const *ms, size_t n, const char *metric, int r,
                        ap_error **err);

/* ---- the results document (document.c) ------------------------------------------------------ */

/* A new results document in b->doc: the run (a fresh id, the profile, suites, the JSON array
 * of their names, owned by the document from now on, and the command), the plan, the
 * environment (the machine's facts, images, limits, seccomp profile, noise thresholds and the
 * noise at the start) and no measurements yet. */
void ap_bench_doc_new(struct ap_bench *b, cJSON *suites);

/* --resume: the kept document at the results path into b->doc. It must be ours, of the same
 * profile, made on this machine (kernel, CPU model and count, memory, clock source, cgroup
 * version, CPU assignment) by this build of the appliance, and its images the same builds;
 * else an error names what differs. Its measurements are kept and the run goes on. */
int ap_bench_doc_resume(struct ap_bench *b, ap_error **err);

/* Finds the measurement `id` (kept from a resumed run) or adds it, with its suite, workload,
 * image and params (params is owned by the measurement from now on; it replaces the kept
 * one only when the kept one differs, and then the kept samples are dropped). */
cJSON *ap_bench_measurement(struct ap_bench *b, const char *id, const char *suite,
                            const char *workload, const char *image, cJSON *params);

/* A sample's flags (AP_STATUS_SAMPLE_BITS) as a JSON array of names, worst first; the bits of
 * such an array (names that are no status are ignored); every flag any sample of a metric
 * carries. */
cJSON *ap_bench_flags_json(unsigned bits);
unsigned ap_bench_flags_bits(const cJSON *a);
unsigned ap_bench_flags_union(const cJSON *metric);

/* The measurement `id` of the results, or NULL. */
const cJSON *ap_bench_find_measurement(const struct ap_bench *b, const char *id);

/* Samples of `metric` already in m. */
int ap_bench_count(const cJSON *m, const char *metric);
/* Appends one raw sample to m's metric (created with its unit on first use). */
void ap_bench_add(cJSON *m, const char *metric, const char *unit, double value);
/* The same, the sample flagged with the conditions of the run it came from: flags is a set of
 * AP_STATUS_SAMPLE_BITS (status.h), from ap_bench_run_flags or ap_status_of_load. The metric's
 * "flags" array, parallel to "samples", is written once any sample has a flag. */
void ap_bench_add_flagged(cJSON *m, const char *metric, const char *unit, double value,
                          unsigned flags);
/* The flags of a sample from a run ap_bench_sample returned: noisy when --allow-noisy kept it
 * although the noise guard judged it noisy; else none. */
unsigned ap_bench_run_flags(const cJSON *run);
/* Recomputes a metric's "stats", "status" and "warning" from its "samples" and "flags": the
 * statistics of every sample but those flagged noisy (all of them with include_noisy), null
 * when none is left; the status the first by precedence (status.h) of the conditions of the
 * samples counted and of their statistics (noisy alone when none is left). With exact (the size
 * suite's counted figures) the statistics add no condition: one sample is the exact figure.
 * shared_cv > 0 is the repeatability a figure must show on a host found sharing its caches
 * (AP_BENCH_SHARED_CV): a larger coefficient of variation is unstable too, saying why. */
void ap_bench_metric_update(cJSON *metric, int include_noisy, int exact, double shared_cv);
/* Whether measurement m holds counted figures, exact at n = 1: the size suite's, and those whose
 * params say "counted": true (the lang suite's versions and keyword counts). */
int ap_bench_counted(const cJSON *m);
/* Appends a run record (owned by m from now on) to m's runs. */
void ap_bench_add_run(cJSON *m, cJSON *run);
/* Appends a warning text to m. */
void ap_bench_warn(struct ap_bench *b, cJSON *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Recomputes every metric's statistics and status (ap_bench_metric_update, under
 * --include-noisy, which it records in the run) and writes the results file atomically. */
int ap_bench_save(struct ap_bench *b, ap_error **err);

/* Progress: `est_s` estimated seconds just done; what runs next. */
void ap_bench_progress(struct ap_bench *b, double est_s, const char *what);

/* Profile numbers from the plan. */
double ap_bench_num(const struct ap_bench *b, const char *key, double dflt);

/* The workload manifest at <workloads>/<rel>/workload.json (caller owns). */
int ap_bench_manifest(struct ap_bench *b, const char *rel, cJSON **out, ap_error **err);

/* The entry of a manifest a profile uses ("check", "standard" or "published"), or NULL. */
const cJSON *ap_bench_profile_entry(const struct ap_bench *b, const cJSON *manifest);

/* The input file for a task reading stdin (generated once with our Go fasta in a sandbox,
 * checked against the manifest's sha256/length, kept in the cache); path in out. */
int ap_bench_input(struct ap_bench *b, const cJSON *stdin_spec, char *out, size_t len,
                   ap_error **err);

/* ---- output checks (check.c) ---------------------------------------------------------------- */

/* Largest output kept for a text comparison; larger ones are compared by hash only. */
#define AP_BENCH_MAX_TEXT_OUTPUT (64u << 20)

/* Checks output bytes against an expected spec; 0 same, -1 with why filled. */
int ap_bench_check_output(const char *data, size_t len, const cJSON *expected, const char *dir,
                          char *why, size_t wlen);

/* The verdict on the output of run x against x->expected (nothing expected: 0): len bytes with
 * sha256 hex, of which data holds the first kept for a text comparison (oom: keeping them
 * failed). Returns 0 when it is as expected, else -1 with an error naming the run ("wrong
 * output, not measured"). */
int ap_bench_output_verdict(const struct ap_bench_exec *x, const char *hex, const char *data,
                            size_t len, size_t kept, int oom, ap_error **err);

/* The suites. */
int ap_bench_suite_size(struct ap_bench *b, ap_error **err);
/* The summary's block of the size pairs (results' size_pairs), if any, on stdout laid out to
 * `width` columns (core/table.h; 0: one pair per line). */
void ap_bench_size_pairs_summary(const struct ap_bench *b, int width);
int ap_bench_suite_startup(struct ap_bench *b, ap_error **err);
int ap_bench_suite_cpu(struct ap_bench *b, int with_cpu, int with_memory, ap_error **err);
int ap_bench_suite_threads(struct ap_bench *b, ap_error **err);
int ap_bench_suite_http(struct ap_bench *b, unsigned suites, ap_error **err);
int ap_bench_suite_lang(struct ap_bench *b, ap_error **err);
/* The summary's block of the lang suite's versions (params.version of lang/version/<image>),
 * if any, on stdout laid out to `width` columns. */
void ap_bench_lang_summary(const struct ap_bench *b, int width);

/* Each suite's groups (shard.h) with their estimated seconds, appended to g in the order the
 * suite runs them: size; lang; startup; task/<task> (cpu, memory) and threads; startup/service,
 * http/c<N>, latency/r<R> and memory/servers (the servers). Only groups with something to run
 * (--images, --only) are listed. -1 with err. */
int ap_bench_size_groups(struct ap_bench *b, struct ap_bench_groups *g, ap_error **err);
int ap_bench_lang_groups(struct ap_bench *b, struct ap_bench_groups *g, ap_error **err);
int ap_bench_startup_groups(struct ap_bench *b, struct ap_bench_groups *g, ap_error **err);
int ap_bench_cpu_groups(struct ap_bench *b, unsigned suites, struct ap_bench_groups *g,
                        ap_error **err);
int ap_bench_http_groups(struct ap_bench *b, unsigned suites, struct ap_bench_groups *g,
                         ap_error **err);

/* How many servers the http, latency, memory and service-start suites would run (those whose
 * image takes part and whose name --only matches); 0 when none or their manifests are bad
 * (the suite itself then says why). */
size_t ap_bench_server_count(struct ap_bench *b);

/* Whether --only lets the workload `name` run: no --only, or one of its comma-separated
 * words occurs in name. */
int ap_bench_wanted(const struct ap_bench *b, const char *name);

/* The plan's estimated seconds with these suites, for the ETA (before anything runs): the sum
 * of its groups' estimates (ap_bench_groups_list). */
double ap_bench_estimate(struct ap_bench *b, unsigned suites);

#endif
