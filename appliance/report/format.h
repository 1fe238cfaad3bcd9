/* What the Markdown and HTML reports share: the words and symbols of verdicts, numbers written
 * the same way in both, escaping for HTML, the sections of a verdicts document (docs/claims.md,
 * appliance-verdicts-1), figures looked up in a results document (appliance-results-2) and the
 * conditions of the run. Everything here is pure: it reads the documents it is given and writes
 * only into the buffers or the stream it is handed. */
#ifndef AP_REPORT_FORMAT_H
#define AP_REPORT_FORMAT_H

#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

/* The verdicts in the order the reports count them; the last, "untestable", is the count of
 * untestable entries. */
#define AP_REPORT_VERDICTS 6
extern const char *const ap_report_verdict_words[AP_REPORT_VERDICTS];

/* Counts the verdicts of a verdicts document by word, in the order of ap_report_verdict_words;
 * counts[5] is the number of untestable entries. A verdict of another word is not counted. */
void ap_report_count(const cJSON *verdicts, size_t counts[AP_REPORT_VERDICTS]);

/* Checks that verdicts is an appliance-verdicts-1 document (an object with a "verdicts" array)
 * and results an appliance-results-2 one; -1 with *err naming what is wrong otherwise. */
int ap_report_check(const cJSON *verdicts, const cJSON *results, ap_error **err);

/* The symbol that carries a verdict beside its word ("✓" for holds, "✗" for contradicted, ...),
 * and a CSS class name for it ("holds", "not-comparable", ...). An unknown verdict gets "?" and
 * "unknown". */
const char *ap_report_verdict_symbol(const char *verdict);
const char *ap_report_verdict_class(const char *verdict);

/* A number with three significant digits and no exponent for 0.001 <= |v| < 1e15 ("3.54",
 * "0.0123", "21400"); "-" for NaN or infinity. Returns buf. */
char *ap_report_num(char *buf, size_t len, double v);

/* A number as a person wrote it: up to six significant digits, no trailing zeros ("21",
 * "0.001", "162000"). Returns buf. */
char *ap_report_exact(char *buf, size_t len, double v);

/* The published value of a verdict ("21 x", "8-20 MB", "<= 20 MB", ">= 1000 req/s",
 * "descending", "1.23.4 (prefix)"), or "-" when there is none. Returns buf. */
char *ap_report_published(char *buf, size_t len, const cJSON *verdict);

/* The measured value of a verdict with its interval and coverage ("3.54 x [3.41, 3.70]
 * 93.9 %"), its text for a text claim, or "-" (nothing measured). Returns buf. */
char *ap_report_measured(char *buf, size_t len, const cJSON *verdict);

/* A number field of obj (NAN when missing or not a number) and a string field ("" when missing
 * or not a string). */
double ap_report_number(const cJSON *obj, const char *key);
const char *ap_report_string(const cJSON *obj, const char *key);

/* Writes s to out escaped for HTML text and attribute values (& < > " '), with control
 * characters and invalid UTF-8 first escaped as core/text.h does. Returns 0, or -1 when out of
 * memory. */
int ap_report_html_text(FILE *out, const char *s);

/* A section of the report: its id and title (pointers into the verdicts document). */
struct ap_report_section {
    const char *id, *title;
};

/* The sections of a verdicts document in the order of its "sections", followed by any section
 * a verdict or untestable entry names that "sections" lacks (titled by its id), so that no
 * claim is left out. *out is a heap array owned by the caller; returns the count, or -1 when
 * out of memory. */
int ap_report_sections(const cJSON *verdicts, struct ap_report_section **out);

/* The (up to) three verdicts whose measured / published is furthest from 1 (largest
 * |log(measured / published)|), furthest first; ties keep the document's order. Returns how
 * many were found. */
size_t ap_report_furthest(const cJSON *verdicts, const cJSON *out[3]);

/* The median and 95 % interval of one metric of a measurement (ap_verdict_find finds it by
 * id): returns 1 with *median set (lo and hi NAN when there is no interval), or 0 when the
 * measurement, the metric or its median is missing. */
int ap_report_figure(const cJSON *measurement, const char *metric, double *median, double *lo,
                     double *hi);

/* Machine types: a verdicts document judged on several (verdict.h) lists them in "machines" and
 * names the machine of every verdict. The reports then show each claim once, with a column
 * group per machine. */
#define AP_REPORT_MACHINES_MAX 64

/* The entries of the verdicts document's "machines" (at most AP_REPORT_MACHINES_MAX, in its
 * order) into out; returns how many: 0 with one machine type. */
size_t ap_report_machines(const cJSON *verdicts, const cJSON *out[AP_REPORT_MACHINES_MAX]);

/* Whether verdict v begins a row of section in a table of several machine types: it is of that
 * section and on the first machine, ms[0] (every claim has a verdict on each). */
int ap_report_row_of(const cJSON *v, const char *section, const cJSON *const *ms);

/* The verdict of claim id on machine (its "machine"), or NULL. */
const cJSON *ap_report_verdict_on(const cJSON *verdicts, const char *id, const char *machine);

/* A machine entry's title, "m1: CPU model, kernel 6.1.0". Returns buf. */
char *ap_report_machine_title(char *buf, size_t len, const cJSON *machine);

/* How a report names a verdict: its claim id, followed by " on m1" when it names a machine.
 * Returns buf. */
char *ap_report_claim_label(char *buf, size_t len, const cJSON *verdict);

/* Calls fn once for each condition of the run, in a fixed order: the run, the machine (CPU
 * model, topology, memory), kernel, cgroup version, the appliance, each machine type of merged
 * results (environment.machines: CPU model, kernel, cgroup, CPUs, hosts, shards), each
 * image's digest and each CPU task's N; and from the verdicts the claims file, the results'
 * digest and the source. Label and value are plain text (the caller escapes them). */
void ap_report_conditions(const cJSON *verdicts, const cJSON *results,
                          void (*fn)(void *ctx, const char *label, const char *value), void *ctx);

#endif
