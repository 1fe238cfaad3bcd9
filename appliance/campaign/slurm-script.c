/* The sbatch scripts of a campaign. Every value that comes from the user is a value in the
 * script, never shell: paths and names are single-quoted in the shell part, and #SBATCH values
 * (read by sbatch, not by the shell) are double-quoted after ap_slurm_plan_check refused the
 * characters sbatch would read otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "slurm.h"

char *ap_slurm_sh_quote(const char *s)
{
    size_t n = 3;
    for (const char *c = s; *c; c++)
        n += *c == '\'' ? 4 : 1;
    char *q = malloc(n);
    if (q == NULL)
        return NULL;
    char *w = q;
    *w++ = '\'';
    for (const char *c = s; *c; c++) {
        if (*c == '\'') {
            memcpy(w, "'\\''", 4);
            w += 4;
        } else {
            *w++ = *c;
        }
    }
    *w++ = '\'';
    *w = '\0';
    return q;
}

/* A value of the plan: no control character; with bad (or NULL), none of those either. */
static int check_value(const char *what, const char *v, const char *bad, const char *hint,
                       ap_error **err)
{
    if (v == NULL)
        return 0;
    if (*v == '\0')
        return ap_error_make(err, EINVAL, "%s is empty", what);
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c < 0x20 || *c == 0x7f) {
            ap_error_make(err, EINVAL, "%s \"%s\" holds a control character", what, v);
            return ap_error_hint(err, "%s", hint);
        }
        if (bad != NULL && strchr(bad, *c) != NULL) {
            ap_error_make(err, EINVAL, "%s \"%s\" holds '%c', which sbatch would read", what, v,
                          *c);
            return ap_error_hint(err, "%s", hint);
        }
    }
    return 0;
}

int ap_slurm_plan_check(const struct ap_slurm_plan *p, ap_error **err)
{
    static const char sbatch_bad[] = "\"\\%";
    if (p->shards < 1 || p->shards > AP_SLURM_MAX_SHARDS)
        return ap_error_make(err, EINVAL, "%d shards: the count must be 1 to %d", p->shards,
                             AP_SLURM_MAX_SHARDS);
    if (p->max_parallel < 0)
        return ap_error_make(err, EINVAL, "--max-parallel %d is negative", p->max_parallel);
    const char *paths = "use a path without it (a symbolic link to the folder will do)";
    if (check_value("--partition", p->partition, sbatch_bad,
                    "give the partition's name as sinfo "
                    "lists it",
                    err) < 0 ||
        check_value("--constraint", p->constraint, sbatch_bad,
                    "give node features as Slurm's --constraint reads them (a&b, a|b)", err) < 0 ||
        check_value("the results directory", p->results, sbatch_bad, paths, err) < 0 ||
        check_value("--profile", p->profile, NULL, "quick, standard or published", err) < 0 ||
        check_value("the claims file", p->claims, NULL, paths, err) < 0 ||
        check_value("the checkout directory", p->checkout, NULL, paths, err) < 0 ||
        check_value("the appliance binary", p->appliance, NULL, paths, err) < 0 ||
        check_value("--key", p->key, NULL, paths, err) < 0 ||
        check_value("--password-file", p->password_file, NULL, paths, err) < 0 ||
        check_value("--trusted-keys", p->trusted_keys, NULL, paths, err) < 0)
        return -1;
    if (p->results[0] != '/' || p->checkout[0] != '/' || p->appliance[0] != '/' ||
        p->claims[0] != '/')
        return ap_error_make(err, EINVAL, "the campaign's paths must be absolute (%s)", p->results);
    return 0;
}

/* fputs of a single-quoted s; -1 when out of memory. */
static int put_quoted(FILE *f, const char *s)
{
    cleanup_free char *q = ap_slurm_sh_quote(s);
    if (q == NULL)
        return -1;
    fputs(q, f);
    return 0;
}

/* " --opt 'value'" when value is not NULL. */
static int put_option(FILE *f, const char *opt, const char *value)
{
    if (value == NULL)
        return 0;
    fprintf(f, " %s ", opt);
    return put_quoted(f, value);
}

/* The #SBATCH lines both scripts share: name, one node, partition, logs under DIR/logs. */
static void put_common(FILE *f, const struct ap_slurm_plan *p, const char *name, const char *log)
{
    fprintf(f, "#SBATCH --job-name=%s\n#SBATCH --nodes=1\n", name);
    if (p->partition != NULL)
        fprintf(f, "#SBATCH --partition=\"%s\"\n", p->partition);
    fprintf(f, "#SBATCH --output=\"%s/logs/%s.out\"\n", p->results, log);
    fprintf(f, "#SBATCH --error=\"%s/logs/%s.err\"\n", p->results, log);
}

/* Ends a script written into a memstream: its text into *out, or an error. */
static int finish(FILE *f, char **buf, int failed, char **out, ap_error **err)
{
    int bad = failed || ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (bad) {
        free(*buf);
        *buf = NULL;
        return ap_error_make(err, ENOMEM, "writing a batch script");
    }
    *out = *buf;
    *buf = NULL;
    return 0;
}

static void put_array_range(FILE *f, const struct ap_slurm_plan *p, const int *indices, size_t n)
{
    fputs("#SBATCH --array=", f);
    if (indices == NULL) {
        fprintf(f, "0-%d", p->shards - 1);
    } else {
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s%d", i ? "," : "", indices[i]);
    }
    if (p->max_parallel > 0)
        fprintf(f, "%%%d", p->max_parallel);
    fputc('\n', f);
}

int ap_slurm_array_script(const struct ap_slurm_plan *p, const int *indices, size_t n, char **out,
                          ap_error **err)
{
    if (indices != NULL && n == 0)
        return ap_error_make(err, EINVAL, "an array of no shard");
    for (size_t i = 0; indices != NULL && i < n; i++)
        if (indices[i] < 0 || indices[i] >= p->shards || (i > 0 && indices[i] <= indices[i - 1]))
            return ap_error_make(err, EINVAL, "shard index %d is out of order or not below %d",
                                 indices[i], p->shards);
    cleanup_free char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return ap_error_make(err, errno, "writing a batch script");
    char log[64];
    snprintf(log, sizeof(log), "shard-%%a-of-%d", p->shards);
    fputs("#!/bin/sh\n# One shard of an appliance campaign: task I of this array measures shard "
          "I/N\n# and packs and signs it as a part (written by appliance slurm submit).\n",
          f);
    put_array_range(f, p, indices, n);
    put_common(f, p, "appliance-shards", log);
    fputs("#SBATCH --exclusive\n", f);
    if (p->constraint != NULL)
        fprintf(f, "#SBATCH --constraint=\"%s\"\n", p->constraint);
    int bad = 0;
    fputs("set -eu\ndir=", f);
    bad |= put_quoted(f, p->results);
    fprintf(f, "\nn=%d\ni=$SLURM_ARRAY_TASK_ID\ncd ", p->shards);
    bad |= put_quoted(f, p->checkout);
    fputs("\nout=\"$dir/shard-$i-of-$n\"\n"
          "# A task run again continues its shard where it stopped, on the same host; on\n"
          "# another host it starts the shard over (a group's ratios come from one machine).\n"
          "resume=\n"
          "if [ -f \"$out/results.json\" ]; then\n"
          "    if grep -Eq \"\\\"host\\\":[[:space:]]*\\\"$(uname -n)\\\"\" \"$out/results.json\"; "
          "then\n"
          "        resume=--resume\n"
          "    else\n"
          "        rm -rf \"$out\"\n"
          "    fi\n"
          "fi\n",
          f);
    bad |= put_quoted(f, p->appliance);
    bad |= put_option(f, "reproduce --claims", p->claims);
    bad |= put_option(f, "--profile", p->profile);
    if (p->allow_noisy)
        fputs(" --allow-noisy", f);
    fputs(" --shard \"$i/$n\" --out \"$out\" $resume\n"
          "# The part appears under its final name only when it and its signature are complete.\n"
          "stage=\"$dir/parts/.shard-$i-of-$n.tmp\"\n"
          "rm -rf \"$stage\"\n",
          f);
    bad |= put_quoted(f, p->appliance);
    fputs(" pack \"$out\" --out \"$stage\"", f);
    bad |= put_option(f, "--claims", p->claims);
    bad |= put_option(f, "--key", p->key);
    bad |= put_option(f, "--password-file", p->password_file);
    fputs("\nset -- \"$stage\"/*.tar.zst\n"
          "[ -f \"$1\" ] && [ -f \"$1.minisig\" ]\n"
          "mv \"$1.minisig\" \"$dir/parts/shard-$i-of-$n.tar.zst.minisig\"\n"
          "mv \"$1\" \"$dir/parts/shard-$i-of-$n.tar.zst\"\n"
          "rmdir \"$stage\"\n",
          f);
    return finish(f, &buf, bad, out, err);
}

int ap_slurm_merge_script(const struct ap_slurm_plan *p, char **out, ap_error **err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return ap_error_make(err, errno, "writing a batch script");
    fputs("#!/bin/sh\n# The merge of an appliance campaign: runs after every shard task ended well"
          "\n# (--dependency=afterok on the array, given by appliance slurm submit).\n",
          f);
    put_common(f, p, "appliance-merge", "merge");
    int bad = 0;
    fputs("set -eu\ndir=", f);
    bad |= put_quoted(f, p->results);
    fputs("\ncd ", f);
    bad |= put_quoted(f, p->checkout);
    fputc('\n', f);
    bad |= put_quoted(f, p->appliance);
    fprintf(f, " merge \"$dir\"/parts/*.tar.zst --expect %d", p->shards);
    bad |= put_option(f, "--trusted-keys", p->trusted_keys);
    fputs(" --out \"$dir/merged\" --sign --archive-dir \"$dir\"", f);
    bad |= put_option(f, "--key", p->key);
    bad |= put_option(f, "--password-file", p->password_file);
    fputc('\n', f);
    return finish(f, &buf, bad, out, err);
}
