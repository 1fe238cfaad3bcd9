/* The noise guard's side of the runner: each run's interval, speed probes and verdict, the
 * blocks of runs with their windows of short runs judged together, and the quiet check before
 * a block (noise.h has the measuring and judging; runner.h the contracts). Internal to
 * appliance/bench. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/log.h"
#include "runner.h"
#include "status.h"
#include "../core/clock.h"

/* The smallest threshold of the guard's time shares: what an interval must resolve to be
 * judged alone. */
static double guard_pct(const struct ap_bench *b)
{
    double o = b->noise.others_pct, s = b->noise.steal_pct;
    return o > 0 && (s <= 0 || o < s) ? o : s > 0 ? s : AP_NOISE_FOREIGN_PCT;
}

/* The verdict of a run's noise in its record: quiet, noisy or pending, over what it was judged
 * and why. */
static void noise_verdict_json(cJSON *n, const char *verdict, const char *over, const char *why)
{
    cJSON_DeleteItemFromObjectCaseSensitive(n, "verdict");
    cJSON_DeleteItemFromObjectCaseSensitive(n, "judged_over");
    cJSON_DeleteItemFromObjectCaseSensitive(n, "reason");
    cJSON_AddStringToObject(n, "verdict", verdict);
    cJSON_AddStringToObject(n, "judged_over", over);
    if (why != NULL && why[0] != '\0')
        cJSON_AddStringToObject(n, "reason", why);
    if (strcmp(verdict, "noisy") == 0 && cJSON_GetObjectItemCaseSensitive(n, "warning") == NULL)
        cJSON_AddStringToObject(n, "warning", why != NULL ? why : "");
}

/* ---- one run ------------------------------------------------------------------------------- */

/* The appliance's CPU time so far (every thread of it), when every CPU the appliance may run
 * on is in cpus: then its own work there (the sandbox's set-up and teardown before exec and
 * after exit, the output's reader) is ours, not other work. Else -1: it ran elsewhere, and is
 * nothing of the CPUs'. */
static int64_t ours_on(const char *cpus)
{
    struct ap_cpuset mine, set;
    ap_error *e = NULL;
    if (ap_cpuset_affinity(&mine, &e) < 0 || ap_cpuset_parse(cpus, &set, &e) < 0) {
        ap_error_release(&e);
        return -1;
    }
    for (size_t i = 0; i < AP_ARRAY_SIZE(mine.bits); i++)
        if (mine.bits[i] & ~set.bits[i])
            return -1;
    return ap_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

void ap_bench_guard_start(int check, const char *cpus, struct ap_bench_guard *g)
{
    memset(g, 0, sizeof(*g));
    if (!check)
        return;
    g->probed = ap_bench_speed_before(cpus, &g->before) == 0;
    g->ours_start = ours_on(cpus);
    g->watching = ap_noise_begin(cpus, &g->snap, NULL) == 0;
}

void ap_bench_guard_stop(struct ap_bench *b, const char *cpus, int64_t own_ns,
                         struct ap_bench_guard *g)
{
    if (!g->watching && !g->probed)
        return;
    /* /proc/stat counts in ticks (10 ms a CPU): a run too short to resolve the threshold is
     * judged with the block's other short runs, once they resolve it together. */
    if (g->ours_start >= 0) {
        int64_t now = ap_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        g->ours_ns = now > g->ours_start ? now - g->ours_start : 0;
        own_ns += g->ours_ns;
    }
    g->have = g->watching && ap_noise_end(&g->snap, own_ns, &g->nr, NULL) == 0;
    g->pending = g->have && !ap_noise_resolves(&g->nr, guard_pct(b));
    if (g->have && !g->pending)
        g->noisy = ap_noise_judge(&g->nr, &b->noise, g->why, sizeof(g->why)) == 1;
    /* The probe after the run, outside the interval (it is our own work on those CPUs). */
    g->speed = cJSON_CreateObject();
    char slow_why[400] = "";
    if (ap_bench_speed_after(b, cpus, &g->before, g->probed, g->speed, slow_why,
                             sizeof(slow_why)) == 1) {
        /* A slow CPU is the run's own verdict, whatever the ticks say. */
        size_t used = g->noisy ? strlen(g->why) : 0;
        snprintf(g->why + used, sizeof(g->why) - used, "%s%s", used ? "; " : "", slow_why);
        /* slow alone: the ticks saw no other work (a hog in the guest is not a speed). */
        g->slow = !g->noisy;
        g->noisy = 1;
        g->pending = 0;
    }
}

void ap_bench_guard_record(struct ap_bench_guard *g, const struct ap_run_record *rec, cJSON *run)
{
    if (!g->have)
        return;
    cJSON *n = cJSON_AddObjectToObject(run, "noise");
    ap_noise_report_json(&g->nr, n);
    if (g->ours_start >= 0)
        cJSON_AddNumberToObject(n, "appliance_ns", (double)g->ours_ns);
    if (g->speed != NULL)
        cJSON_AddItemToObject(n, "speed", steal_pointer(&g->speed));
    /* On one CPU the command is on it or waiting (blocked, or preempted by other work): the
     * share it waited, exact where the ticks are coarse. Recorded, not judged: a command that
     * blocks on a full output pipe waits too. A guest's clocks both run on through time the
     * hypervisor takes, so this does not see steal. */
    int64_t cpu = rec->ru_user_ns + rec->ru_system_ns;
    if (g->nr.ncpus == 1 && rec->run_ns > 0 && cpu > 0)
        cJSON_AddNumberToObject(
            n, "off_cpu_pct",
            cpu < rec->run_ns ? 100.0 * (double)(rec->run_ns - cpu) / (double)rec->run_ns : 0);
    if (g->pending)
        noise_verdict_json(n, "pending", "window", NULL);
    else
        noise_verdict_json(n, g->noisy ? "noisy" : "quiet", "run", g->why);
}

void ap_bench_guard_free(struct ap_bench_guard *g)
{
    cJSON_Delete(g->speed);
    g->speed = NULL;
}

/* A kept run's interval into the block's sums: every one into the total, a pending one into
 * the window. A run outside the block's CPUs (no block begun for them) is judged alone, with
 * the margin its resolution calls for. */
void ap_bench_guard_kept(struct ap_bench *b, cJSON *run, struct ap_bench_guard *an)
{
    struct ap_bench_block *k = &b->block;
    if (!an->have)
        return;
    if (strcmp(k->cpus, an->nr.cpus) != 0) {
        if (an->pending) {
            an->pending = 0;
            an->noisy = ap_noise_judge(&an->nr, &b->noise, an->why, sizeof(an->why)) == 1;
            noise_verdict_json(cJSON_GetObjectItemCaseSensitive(run, "noise"),
                               an->noisy ? "noisy" : "quiet", "run", an->why);
        }
        return;
    }
    ap_error *e = NULL;
    ap_noise_add(&k->total, &an->nr, &e);
    if (an->pending)
        ap_noise_add(&k->window, &an->nr, &e);
    ap_error_release(&e);
}

/* ---- blocks -------------------------------------------------------------------------------- */

int ap_bench_quiet_check(struct ap_bench *b, const char *what, const char *cpus, ap_error **err)
{
    char why[512] = "";
    struct ap_noise_report nr;
    for (int i = 0; i < 10; i++) {
        if (ap_bench_interrupted)
            return -2;
        if (ap_noise_quiet_check(cpus, AP_BENCH_QUIET_CHECK_S, &nr, err) < 0)
            return -1;
        if (ap_noise_judge(&nr, &b->noise, why, sizeof(why)) == 0)
            return 0;
        if (i == 0)
            ap_progress_line(&b->progress, "noise: before %s: %s; waiting for quiet", what, why);
        usleep(300000);
    }
    if (!b->o->allow_noisy) {
        ap_error_make(err, 0, "before %s: the machine is too noisy to measure: %s", what, why);
        ap_error_hint(err,
                      "stop what else runs on CPUs %s, or pass --allow-noisy to measure "
                      "anyway (the noise is recorded in the results)",
                      cpus);
        return -1;
    }
    cJSON *w = cJSON_GetObjectItemCaseSensitive(b->doc, "warnings");
    char text[700];
    snprintf(text, sizeof(text), "before %s: %s", what, why);
    cJSON_AddItemToArray(w, cJSON_CreateString(text));
    ap_progress_line(&b->progress, "warning: %s (kept: --allow-noisy)", text);
    return 0;
}

/* ---- blocks: short runs judged together --------------------------------------------------- */

static void block_reset(struct ap_bench_block *k)
{
    free(k->pending);
    memset(k, 0, sizeof(*k));
}

int ap_bench_block_begin(struct ap_bench *b, const char *what, const char *cpus, ap_error **err)
{
    block_reset(&b->block);
    snprintf(b->block.what, sizeof(b->block.what), "%s", what);
    struct ap_cpuset set;
    if (ap_cpuset_parse(cpus, &set, err) < 0 ||
        ap_cpuset_format(&set, b->block.cpus, sizeof(b->block.cpus), err) < 0)
        return ap_error_wrap(err, "the CPUs of %s", what);
    /* Every run is judged: the check before a block only keeps a block from starting in the
     * middle of someone else's work, which a check on the same CPUs a moment ago has done. */
    int64_t now = ap_clock_mono_ns();
    if (strcmp(b->quiet_cpus, b->block.cpus) == 0 &&
        now - b->quiet_ns < (int64_t)(AP_BENCH_QUIET_EVERY_S * 1e9))
        return 0;
    int rc = ap_bench_quiet_check(b, what, cpus, err);
    if (rc == 0) {
        snprintf(b->quiet_cpus, sizeof(b->quiet_cpus), "%s", b->block.cpus);
        b->quiet_ns = ap_clock_mono_ns();
    }
    return rc;
}

/* Flags sample `index` of every metric of m noisy (the metrics that have one), as the flags of
 * its run would have been. */
static void flag_noisy(cJSON *m, int index)
{
    cJSON *metric;
    cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(m, "metrics"))
    {
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(metric, "samples"));
        if (index >= n)
            continue;
        cJSON *fl = cJSON_GetObjectItemCaseSensitive(metric, "flags");
        if (fl == NULL)
            fl = cJSON_AddArrayToObject(metric, "flags");
        while (cJSON_GetArraySize(fl) < n)
            cJSON_AddItemToArray(fl, cJSON_CreateArray());
        unsigned bits =
            ap_bench_flags_bits(cJSON_GetArrayItem(fl, index)) | AP_STATUS_BIT(AP_STATUS_NOISY);
        cJSON_ReplaceItemInArray(fl, index, ap_bench_flags_json(bits));
    }
}

/* Judges the block's window of short runs: when it resolves the threshold, or whatever it holds
 * with force (then with the margin of its resolution). Its runs get the verdict; a noisy one
 * flags their samples. Returns the samples flagged. */
static int judge_window(struct ap_bench *b, int force)
{
    struct ap_bench_block *k = &b->block;
    if (k->window.intervals == 0 || (!force && !ap_noise_resolves(&k->window, guard_pct(b))))
        return 0;
    char why[512];
    int noisy = ap_noise_judge(&k->window, &b->noise, why, sizeof(why)) == 1;
    for (size_t i = 0; i < k->n_pending; i++) {
        cJSON *m = k->pending[i].m;
        cJSON *run =
            cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m, "runs"), k->pending[i].index);
        cJSON *n = cJSON_GetObjectItemCaseSensitive(run, "noise");
        if (n == NULL)
            continue;
        noise_verdict_json(n, noisy ? "noisy" : "quiet", "window", why);
        cJSON_DeleteItemFromObjectCaseSensitive(n, "window");
        ap_noise_report_json(&k->window, cJSON_AddObjectToObject(n, "window"));
        if (noisy) {
            cJSON_DeleteItemFromObjectCaseSensitive(run, "noisy");
            cJSON_AddBoolToObject(run, "noisy", 1);
            flag_noisy(m, k->pending[i].index);
        }
    }
    int flagged = noisy ? (int)k->n_pending : 0;
    if (noisy) {
        b->noisy_samples += flagged;
        snprintf(k->noisy_why, sizeof(k->noisy_why), "%s", why);
        ap_progress_line(&b->progress, "noise: %s: %s; %d samples flagged noisy", k->what, why,
                         flagged);
    }
    memset(&k->window, 0, sizeof(k->window));
    k->n_pending = 0;
    return flagged;
}

void ap_bench_keep_run(struct ap_bench *b, cJSON *m, cJSON *run)
{
    struct ap_bench_block *k = &b->block;
    const cJSON *verdict =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(run, "noise"), "verdict");
    int pending = cJSON_IsString(verdict) && strcmp(verdict->valuestring, "pending") == 0;
    int index = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "runs"));
    ap_bench_add_run(m, run);
    if (!pending)
        return;
    if (k->n_pending == k->cap_pending) {
        size_t cap = k->cap_pending ? k->cap_pending * 2 : 64;
        struct ap_bench_pending *grown = realloc(k->pending, cap * sizeof(*grown));
        if (grown == NULL) {
            judge_window(b, 1); /* judged now rather than never */
            return;
        }
        k->pending = grown;
        k->cap_pending = cap;
    }
    k->pending[k->n_pending++] = (struct ap_bench_pending){m, index};
    judge_window(b, 0);
}

int ap_bench_count_clean(const cJSON *m, const char *metric)
{
    const cJSON *x =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "metrics"), metric);
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(x, "flags");
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(x, "samples")), clean = 0;
    for (int i = 0; i < n; i++)
        clean += !(ap_bench_flags_bits(cJSON_GetArrayItem(fl, i)) & AP_STATUS_BIT(AP_STATUS_NOISY));
    return clean;
}

int ap_bench_round_wants(const struct ap_bench *b, const cJSON *m, const char *metric, int r)
{
    int clean = ap_bench_count_clean(m, metric);
    if (clean >= b->repeat)
        return 0;
    return !(r >= 0 && r < b->repeat && clean > r);
}

/* The block's summed noise, judged, into run.noise_blocks. */
static void block_record(struct ap_bench *b)
{
    struct ap_bench_block *k = &b->block;
    if (k->total.intervals == 0)
        return;
    cJSON *run = cJSON_GetObjectItemCaseSensitive(b->doc, "run");
    cJSON *blocks = cJSON_GetObjectItemCaseSensitive(run, "noise_blocks");
    if (blocks == NULL)
        blocks = cJSON_AddArrayToObject(run, "noise_blocks");
    char why[512];
    int noisy = ap_noise_judge(&k->total, &b->noise, why, sizeof(why)) == 1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "block", k->what);
    ap_noise_report_json(&k->total, o);
    noise_verdict_json(o, noisy ? "noisy" : "quiet", "block", why);
    cJSON_AddItemToArray(blocks, o);
    memset(&k->total, 0, sizeof(k->total));
}

int ap_bench_speed_before(const char *cpus, struct ap_noise_speed *before)
{
    ap_error *e = NULL;
    int rc = ap_noise_speed_probe(cpus, before, &e);
    ap_error_release(&e);
    return rc;
}

static cJSON *speed_ms(const struct ap_noise_speed *p)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < p->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)p->ns[i] / 1e6));
    return a;
}

int ap_bench_speed_after(struct ap_bench *b, const char *cpus, const struct ap_noise_speed *before,
                         int have_before, cJSON *noise, char *why, size_t len)
{
    struct ap_noise_speed after;
    if (!have_before || ap_bench_speed_before(cpus, &after) < 0) {
        cJSON_AddBoolToObject(noise, "taken", 0);
        return 0;
    }
    int cpu = -1;
    int64_t ns = 0, usual = 0;
    double pct = ap_noise_speed_slowdown(before, &after, &b->speed_ref, &cpu, &ns, &usual);
    int slow = ap_noise_speed_judge(pct, cpu, ns, usual, AP_NOISE_SLOWDOWN_PCT, why, len);
    cJSON_AddBoolToObject(noise, "taken", 1);
    cJSON_AddStringToObject(noise, "cpus", cpus);
    cJSON_AddItemToObject(noise, "before_ms", speed_ms(before));
    cJSON_AddItemToObject(noise, "after_ms", speed_ms(&after));
    cJSON_AddNumberToObject(noise, "slowdown_pct", pct);
    cJSON_AddNumberToObject(noise, "slowest_cpu", cpu);
    cJSON_AddNumberToObject(noise, "usual_ms", (double)usual / 1e6);
    cJSON_AddNumberToObject(noise, "threshold_pct", AP_NOISE_SLOWDOWN_PCT);
    cJSON_AddBoolToObject(noise, "slow", slow);
    return slow;
}

/* CPU cpu's settled level into the results: run.speed_changes and a warning. */
static void speed_change_record(struct ap_bench *b, int cpu, int64_t from_ns, int64_t to_ns,
                                const int64_t *probes, int n)
{
    cJSON *run = cJSON_GetObjectItemCaseSensitive(b->doc, "run");
    cJSON *changes = cJSON_GetObjectItemCaseSensitive(run, "speed_changes");
    if (changes == NULL)
        changes = cJSON_AddArrayToObject(run, "speed_changes");
    char now[32];
    ap_bench_iso_now(now, sizeof(now));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "at", now);
    cJSON_AddNumberToObject(o, "cpu", cpu);
    cJSON_AddNumberToObject(o, "usual_ms_before", (double)from_ns / 1e6);
    cJSON_AddNumberToObject(o, "usual_ms_after", (double)to_ns / 1e6);
    cJSON *a = cJSON_AddArrayToObject(o, "probes_ms");
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)probes[i] / 1e6));
    if (b->block.what[0])
        cJSON_AddStringToObject(o, "block", b->block.what);
    cJSON_AddItemToArray(changes, o);
    char text[600];
    snprintf(text, sizeof(text),
             "CPU %d changed speed for good at %s%s%s: its fixed loop's usual time went from "
             "%.2f to %.2f ms (%+.1f %%) and held for %d probes over %.1f s; later runs were "
             "judged against the new time, and a figure with runs on both sides of the change "
             "has the change in its spread",
             cpu, now, b->block.what[0] ? ", in " : "", b->block.what, (double)from_ns / 1e6,
             (double)to_ns / 1e6, 100.0 * ((double)to_ns / (double)from_ns - 1), n,
             (n - 1) * AP_BENCH_SETTLE_GAP_MS / 1000.0);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(b->doc, "warnings"),
                         cJSON_CreateString(text));
    ap_progress_line(&b->progress, "noise: %s", text);
}

int ap_bench_speed_settle(struct ap_bench *b, const char *cpus)
{
    struct ap_noise_speed p[AP_BENCH_SETTLE_PROBES];
    int n = 0;
    for (; n < AP_BENCH_SETTLE_PROBES && !ap_bench_interrupted; n++) {
        if (n > 0)
            usleep(AP_BENCH_SETTLE_GAP_MS * 1000);
        if (ap_bench_speed_before(cpus, &p[n]) < 0)
            return 0;
        int back = 1;
        for (int i = 0; i < p[n].n; i++) {
            int64_t usual = ap_noise_speed_usual(&b->speed_ref, p[n].cpu[i]);
            if (usual > 0 && (double)p[n].ns[i] > (double)usual * (1 + AP_NOISE_SLOWDOWN_PCT / 100))
                back = 0;
        }
        if (back)
            return 0;
    }
    if (n < AP_BENCH_SETTLE_PROBES)
        return 0;
    int rebased = 0;
    for (int i = 0; i < p[0].n; i++) {
        int cpu = p[0].cpu[i];
        int64_t t[AP_BENCH_SETTLE_PROBES], level = 0;
        for (int k = 0; k < n; k++)
            t[k] = p[k].cpu[i] == cpu ? p[k].ns[i] : 0;
        int64_t usual = ap_noise_speed_usual(&b->speed_ref, cpu);
        if (usual <= 0)
            continue;
        if (!ap_noise_speed_level(t, n, ap_noise_speed_fastest(&b->speed_ref, cpu), &level) ||
            (double)level <= (double)usual * (1 + AP_NOISE_SLOWDOWN_PCT / 100))
            continue;
        if (ap_noise_speed_rebase(&b->speed_ref, cpu, t, n) == 0) {
            speed_change_record(b, cpu, usual, ap_noise_speed_usual(&b->speed_ref, cpu), t, n);
            rebased = 1;
        }
    }
    return rebased;
}

int ap_bench_judge_run(struct ap_bench *b, cJSON *run, const struct ap_noise_report *nr,
                       cJSON *speed, const char *slow_why, char *why, size_t len)
{
    struct ap_bench_guard an = {.have = 1, .nr = *nr};
    an.noisy = ap_noise_judge(nr, &b->noise, an.why, sizeof(an.why)) == 1;
    an.slow = slow_why != NULL && !an.noisy;
    if (slow_why != NULL) {
        size_t used = an.noisy ? strlen(an.why) : 0;
        snprintf(an.why + used, sizeof(an.why) - used, "%s%s", used ? "; " : "", slow_why);
        an.noisy = 1;
    }
    cJSON *n = cJSON_AddObjectToObject(run, "noise");
    ap_noise_report_json(nr, n);
    if (speed != NULL)
        cJSON_AddItemToObject(n, "speed", speed);
    noise_verdict_json(n, an.noisy ? "noisy" : "quiet", "run", an.why);
    ap_bench_guard_kept(b, run, &an);
    if (an.noisy)
        snprintf(b->block.noisy_why, sizeof(b->block.noisy_why), "%s", an.why);
    snprintf(why, len, "%s", an.why);
    return an.slow ? 2 : an.noisy;
}

int ap_bench_noisy_next(struct ap_bench *b, const char *what, const char *cpus, const char *why,
                        int slow_alone, int *tries, int *rebased, ap_error **err)
{
    if (slow_alone && *rebased < 2 && ap_bench_speed_settle(b, cpus)) {
        (*rebased)++;
        *tries = 0;
        return 1;
    }
    if (*tries < 2) {
        ap_progress_line(&b->progress, "noise: %s: %s; running it again", what, why);
        (*tries)++;
        return 1;
    }
    if (!b->o->allow_noisy) {
        ap_error_make(err, 0, "%s: the machine is too noisy to measure: %s", what, why);
        return ap_error_hint(err,
                             "stop what else runs on CPUs %s, or pass --allow-noisy to keep "
                             "such samples (they are flagged in the results)",
                             cpus);
    }
    b->noisy_samples++;
    snprintf(b->block.noisy_why, sizeof(b->block.noisy_why), "%s", why);
    return 0;
}

int ap_bench_block_end(struct ap_bench *b)
{
    int flagged = judge_window(b, 1);
    block_record(b);
    return flagged;
}

int ap_bench_block_done(struct ap_bench *b, cJSON *const *ms, size_t n, const char *metric, int r,
                        ap_error **err)
{
    if (r + 1 < b->repeat)
        return 0;
    int complete = 1;
    for (size_t i = 0; i < n; i++)
        complete &= ms[i] == NULL || ap_bench_count_clean(ms[i], metric) >= b->repeat;
    /* The last window is judged once nothing else would run, whatever its length. */
    if (complete && judge_window(b, 1) == 0) {
        block_record(b);
        return 1;
    }
    if (r + 1 < b->repeat + AP_BENCH_NOISE_ROUNDS)
        return 0;
    ap_bench_block_end(b);
    if (b->o->allow_noisy)
        return 1;
    ap_error_make(err, 0, "%s: the machine is too noisy to measure: %s", b->block.what,
                  b->block.noisy_why[0] ? b->block.noisy_why : "samples were flagged noisy");
    return ap_error_hint(err,
                         "stop what else runs on CPUs %s, or pass --allow-noisy to keep such "
                         "samples (they are flagged in the results)",
                         b->block.cpus);
}

/* ---- the warning of a metric ---------------------------------------------------------------- */

/* The guard's reason for the first of m's runs it judged noisy, or NULL. */
static const char *noisy_reason(const cJSON *m)
{
    const cJSON *run;
    cJSON_ArrayForEach(run, cJSON_GetObjectItemCaseSensitive(m, "runs"))
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(run, "noisy")))
            continue;
        const cJSON *why = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(run, "noise"), "reason");
        return cJSON_IsString(why) ? why->valuestring : NULL;
    }
    return NULL;
}

void ap_bench_noisy_warning(cJSON *metric, const cJSON *m)
{
    const char *why = noisy_reason(m);
    if (why == NULL || !(ap_bench_flags_union(metric) & AP_STATUS_BIT(AP_STATUS_NOISY)))
        return;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(metric, "warning");
    char text[1200];
    snprintf(text, sizeof(text), "%s%snoise guard: %s", cJSON_IsString(w) ? w->valuestring : "",
             cJSON_IsString(w) ? "; " : "", why);
    cJSON_DeleteItemFromObjectCaseSensitive(metric, "warning");
    cJSON_AddStringToObject(metric, "warning", text);
}
