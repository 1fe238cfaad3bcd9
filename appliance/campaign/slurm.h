/* The Slurm adapter of a campaign: renders the sbatch scripts of a sharded run (a job array
 * of N shard tasks, each packing and signing its part, and a merge job), and calls Slurm's own
 * commands (sbatch --parsable, squeue, sacct, scancel) to submit them, follow them and submit
 * the missing shards again. Nothing of Slurm is reimplemented; no workload runs here. The
 * campaign's record, DIR/campaign.json, is written and read only by this module. */
#ifndef AP_CAMPAIGN_SLURM_H
#define AP_CAMPAIGN_SLURM_H

#include <stddef.h>
#include <stdio.h>

#include "../core/error.h"

#define AP_SLURM_MAX_SHARDS 64
#define AP_SLURM_CAMPAIGN_FILE "campaign.json"
#define AP_SLURM_CAMPAIGN_FORMAT "appliance-slurm-campaign/1"

/* What a campaign runs and where. Paths are absolute (the jobs run on other nodes, from the
 * checkout directory); optional strings are NULL. Strings are borrowed. */
struct ap_slurm_plan {
    const char *profile;    /* quick, standard or published */
    int shards;             /* N, 1..AP_SLURM_MAX_SHARDS */
    const char *claims;     /* the claims file */
    const char *partition;  /* --partition, or NULL */
    const char *constraint; /* --constraint (node features: a machine type), or NULL */
    int max_parallel;       /* at most this many shard tasks at once (%K), 0: no limit */
    int allow_noisy;        /* the shards record noise and go on (reproduce --allow-noisy) */
    const char *results;    /* DIR: the shared results directory */
    const char *checkout;   /* the folder the jobs run from */
    const char *appliance;  /* the appliance binary the jobs run */
    const char *key, *password_file; /* the secret key that signs the parts, or NULL */
    const char *trusted_keys;        /* merge --trusted-keys FILE, or NULL */
};

/* Checks every value of p that goes into a script: no control character anywhere, none of
 * '"', '\\' or '%' where Slurm reads it (#SBATCH values, the log paths), the counts in range.
 * Returns 0, or -1 with err naming the value and what to change. */
int ap_slurm_plan_check(const struct ap_slurm_plan *p, ap_error **err);

/* s between single quotes for sh, each ' written as '\''; a heap string the caller frees
 * (NULL when out of memory). */
char *ap_slurm_sh_quote(const char *s) __attribute__((warn_unused_result));

/* The sbatch script of the shard array: indices (n of them, ascending) are the shards it runs
 * (NULL: every shard, --array=0-(N-1)). Task I runs reproduce --shard I/N into
 * DIR/shard-I-of-N (with --resume when that folder holds a results.json), then packs and signs
 * it as DIR/parts/shard-I-of-N.tar.zst (+ .minisig), which appears only when complete. The
 * caller frees *out. */
int ap_slurm_array_script(const struct ap_slurm_plan *p, const int *indices, size_t n, char **out,
                          ap_error **err);

/* The sbatch script of the merge job: appliance merge DIR/parts/\*.tar.zst --expect N into
 * DIR/merged, signed. Its dependency (afterok on the array) is given to sbatch when it is
 * submitted. The caller frees *out. */
int ap_slurm_merge_script(const struct ap_slurm_plan *p, char **out, ap_error **err);

/* ---- calling Slurm ---------------------------------------------------------------------- */

/* Runs prog (looked up on PATH) with args (argv[0] included, NULL-terminated), no shell; its
 * standard output and error (each at most 1 MiB) into *out and *errout (heap strings the caller
 * frees), its exit status into *status (128 + signal when killed). Returns 0 when it ran, -1
 * with err when it could not (not on PATH: an error naming PATH and the package). */
int ap_slurm_command(const char *const *args, char **out, char **errout, int *status,
                     ap_error **err);

/* sbatch --parsable [extra...] script: the job id it printed into id (len bytes). A failure
 * is an error with sbatch's standard error. extra is NULL-terminated (or NULL). */
int ap_slurm_sbatch(const char *script, const char *const *extra, char *id, size_t len,
                    ap_error **err);

/* The state of one job or array task, and where it was read. */
struct ap_slurm_state {
    char state[32];     /* PENDING, RUNNING, COMPLETED, FAILED, CANCELLED... or "" when unknown */
    char reason[64];    /* squeue's reason, or sacct's exit code, or "" */
    const char *source; /* "sacct", "squeue" or NULL */
};

/* The states of job (an array when tasks > 0: task i into st[i]; otherwise one job into st[0])
 * from sacct, else (accounting storage off, or sacct missing) from squeue --states=all, which
 * knows jobs until the controller forgets them (MinJobAge). A job neither knows keeps
 * state "". Returns 0, or -1 when neither command could be run. */
int ap_slurm_job_states(const char *job, struct ap_slurm_state *st, size_t tasks, ap_error **err);

/* scancel job; a job that has already ended is not an error. */
int ap_slurm_cancel(const char *job, ap_error **err);

/* ---- the campaign ----------------------------------------------------------------------- */

/* Submits a campaign: checks p, refuses a DIR that already holds a campaign, writes
 * DIR/shards.sbatch and DIR/merge.sbatch, submits the array and then the merge job
 * (--dependency=afterok:<array>), and writes DIR/campaign.json with both ids, which are also
 * copied into array_id and merge_id (32 bytes each). */
int ap_slurm_submit(const struct ap_slurm_plan *p, char *array_id, char *merge_id, ap_error **err);

/* Prints on out one line per shard (its job, its state and where the state came from: sacct,
 * squeue, or the parts present in DIR/parts) and one for the merge job, from DIR/campaign.json. */
int ap_slurm_status(const char *dir, FILE *out, ap_error **err);

/* Submits again the shards that have no part in DIR/parts and no pending or running task (an
 * array of exactly those indices), cancels the old merge job when it has not run and submits
 * a new one after the new array; records both in DIR/campaign.json and prints the ids. With
 * every part present, submits nothing. Prints what it did on out. */
int ap_slurm_resume(const char *dir, FILE *out, ap_error **err);

#endif
