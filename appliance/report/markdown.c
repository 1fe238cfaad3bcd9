#include "markdown.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/text.h"
#include "format.h"

/* Writes one line of s (len bytes) for a Markdown table cell: control characters escaped as
 * core/text.h does, then the characters Markdown or HTML would read as markup escaped. */
static int cell_line(FILE *out, const char *s, size_t len)
{
    cleanup_free char *line = strndup(s, len);
    cleanup_free char *safe = line != NULL ? ap_text_escape(line) : NULL;
    if (safe == NULL)
        return -1;
    for (const char *p = safe; *p != '\0'; p++) {
        if (*p == '<')
            fputs("&lt;", out);
        else if (*p == '>')
            fputs("&gt;", out);
        else if (*p == '&')
            fputs("&amp;", out);
        else {
            if (strchr("\\|*_`", *p) != NULL)
                fputc('\\', out);
            fputc(*p, out);
        }
    }
    return 0;
}

/* A table cell: lines joined by <br> (a line break ends a table row in Markdown). */
static int cell(FILE *out, const char *s)
{
    fputc(' ', out);
    while (s != NULL) {
        const char *nl = strchr(s, '\n');
        size_t len = nl != NULL ? (size_t)(nl - s) : strlen(s);
        if (len > 0 && s[len - 1] == '\r')
            len--;
        if (cell_line(out, s, len) < 0)
            return -1;
        if (nl != NULL)
            fputs("<br>", out);
        s = nl != NULL ? nl + 1 : NULL;
    }
    fputs(" |", out);
    return 0;
}

static int verdict_row(FILE *out, const cJSON *v)
{
    char published[256], measured[256], ratio[32], verdict[96];
    const char *word = ap_report_string(v, "verdict");
    snprintf(verdict, sizeof(verdict), "%s %s", ap_report_verdict_symbol(word), word);
    const char *cells[] = {
        ap_report_string(v, "id"),
        ap_report_string(v, "quote"),
        ap_report_published(published, sizeof(published), v),
        ap_report_measured(measured, sizeof(measured), v),
        ap_report_num(ratio, sizeof(ratio), ap_report_number(v, "measured_over_published")),
        verdict,
        ap_report_string(v, "why"),
    };
    fputc('|', out);
    for (size_t i = 0; i < AP_ARRAY_SIZE(cells); i++)
        if (cell(out, cells[i]) < 0)
            return -1;
    fputc('\n', out);
    return 0;
}

/* The cells of one claim on one machine (v NULL: it has no verdict there). */
static int machine_cells(FILE *out, const cJSON *v)
{
    char measured[256], ratio[32], verdict[96];
    const char *word = ap_report_string(v, "verdict");
    snprintf(verdict, sizeof(verdict), "%s %s", ap_report_verdict_symbol(word), word);
    const char *cells[] = {
        ap_report_measured(measured, sizeof(measured), v),
        ap_report_num(ratio, sizeof(ratio), ap_report_number(v, "measured_over_published")),
        v != NULL ? verdict : "-",
        ap_report_string(v, "why"),
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(cells); i++)
        if (cell(out, cells[i]) < 0)
            return -1;
    return 0;
}

/* Several machine types: one row per claim, a column group per machine, each headed by its CPU
 * model and kernel. */
static int machine_table(FILE *out, const cJSON *verdicts, const struct ap_report_section *s,
                         const cJSON *const *ms, size_t nm)
{
    static const char *const heads[] = {"measured [interval] coverage", "measured / published",
                                        "verdict", "why"};
    fputs("\n| claim | quote | published |", out);
    for (size_t k = 0; k < nm; k++)
        for (size_t h = 0; h < AP_ARRAY_SIZE(heads); h++) {
            char title[512], head[600];
            if (h == 0)
                snprintf(head, sizeof(head), "%s\n%s",
                         ap_report_machine_title(title, sizeof(title), ms[k]), heads[h]);
            else
                snprintf(head, sizeof(head), "%s: %s", ap_report_string(ms[k], "id"), heads[h]);
            if (cell(out, head) < 0)
                return -1;
        }
    fputs("\n| --- | --- | --- |", out);
    for (size_t k = 0; k < nm * AP_ARRAY_SIZE(heads); k++)
        fputs(" --- |", out);
    fputc('\n', out);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        if (!ap_report_row_of(v, s->id, ms))
            continue;
        char published[256];
        const char *id = ap_report_string(v, "id");
        fputc('|', out);
        if (cell(out, id) < 0 || cell(out, ap_report_string(v, "quote")) < 0 ||
            cell(out, ap_report_published(published, sizeof(published), v)) < 0)
            return -1;
        for (size_t k = 0; k < nm; k++)
            if (machine_cells(
                    out, ap_report_verdict_on(verdicts, id, ap_report_string(ms[k], "id"))) < 0)
                return -1;
        fputc('\n', out);
    }
    return 0;
}

/* The claims of one section, then its untestable entries. */
static int section(FILE *out, const cJSON *verdicts, const struct ap_report_section *s)
{
    const cJSON *v, *ms[AP_REPORT_MACHINES_MAX];
    size_t nm = ap_report_machines(verdicts, ms);
    fputs("\n## ", out);
    if (cell_line(out, s->title, strlen(s->title)) < 0)
        return -1;
    fputc('\n', out);
    if (nm > 0 && machine_table(out, verdicts, s, ms, nm) < 0)
        return -1;
    if (nm == 0)
        fputs("\n| claim | quote | published | measured [interval] coverage | measured / "
              "published | verdict | why |\n| --- | --- | --- | --- | --- | --- | --- |\n",
              out);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        if (nm == 0 && strcmp(ap_report_string(v, "section"), s->id) == 0 &&
            verdict_row(out, v) < 0)
            return -1;
    }
    int header = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "untestable"))
    {
        if (strcmp(ap_report_string(v, "section"), s->id) != 0)
            continue;
        if (!header++)
            fputs("\nNot testable by measurement:\n\n| entry | quote | reason |\n"
                  "| --- | --- | --- |\n",
                  out);
        fputc('|', out);
        if (cell(out, ap_report_string(v, "id")) < 0 ||
            cell(out, ap_report_string(v, "quote")) < 0 ||
            cell(out, ap_report_string(v, "reason")) < 0)
            return -1;
        fputc('\n', out);
    }
    return 0;
}

/* Several machine types: the counts of each, side by side. */
static int machine_counts(FILE *out, const cJSON *const *ms, size_t nm)
{
    fputs("\n## Summary\n\n| verdict |", out);
    for (size_t k = 0; k < nm; k++) {
        char title[512];
        if (cell(out, ap_report_machine_title(title, sizeof(title), ms[k])) < 0)
            return -1;
    }
    fputs("\n| --- |", out);
    for (size_t k = 0; k < nm; k++)
        fputs(" --- |", out);
    fputc('\n', out);
    for (int i = 0; i < AP_REPORT_VERDICTS; i++) {
        fprintf(out, "| %s %s |", ap_report_verdict_symbol(ap_report_verdict_words[i]),
                ap_report_verdict_words[i]);
        for (size_t k = 0; k < nm; k++)
            fprintf(out, " %.0f |",
                    ap_report_number(cJSON_GetObjectItemCaseSensitive(ms[k], "counts"),
                                     ap_report_verdict_words[i]));
        fputc('\n', out);
    }
    return 0;
}

static int summary(FILE *out, const cJSON *verdicts)
{
    size_t counts[AP_REPORT_VERDICTS];
    const cJSON *ms[AP_REPORT_MACHINES_MAX];
    size_t nm = ap_report_machines(verdicts, ms);
    ap_report_count(verdicts, counts);
    if (nm > 0 && machine_counts(out, ms, nm) < 0)
        return -1;
    if (nm == 0)
        fputs("\n## Summary\n\n| verdict | claims |\n| --- | --- |\n", out);
    for (int i = 0; nm == 0 && i < AP_REPORT_VERDICTS; i++)
        fprintf(out, "| %s %s | %zu |\n", ap_report_verdict_symbol(ap_report_verdict_words[i]),
                ap_report_verdict_words[i], counts[i]);
    const cJSON *far[3];
    size_t n = ap_report_furthest(verdicts, far);
    if (n > 0)
        fputs("\nFurthest from the published value (measured / published):\n\n", out);
    for (size_t i = 0; i < n; i++) {
        char ratio[32], label[300];
        fprintf(out, "%zu. ", i + 1);
        ap_report_claim_label(label, sizeof(label), far[i]);
        if (cell_line(out, label, strlen(label)) < 0)
            return -1;
        fprintf(out, ": %s (%s)\n",
                ap_report_num(ratio, sizeof(ratio),
                              ap_report_number(far[i], "measured_over_published")),
                ap_report_string(far[i], "verdict"));
    }
    return 0;
}

struct md_conditions {
    FILE *out;
    int failed;
};

static void condition(void *ctx, const char *label, const char *value)
{
    struct md_conditions *c = ctx;
    fputc('|', c->out);
    if (cell(c->out, label) < 0 || cell(c->out, value) < 0)
        c->failed = 1;
    fputc('\n', c->out);
}

int ap_report_markdown(FILE *out, const cJSON *verdicts, const cJSON *results, ap_error **err)
{
    if (ap_report_check(verdicts, results, err) < 0)
        return -1;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(verdicts, "source");
    const char *title = ap_report_string(src, "title");
    fputs("# Claims and verdicts: ", out);
    if (cell_line(out, title, strlen(title)) < 0)
        return ap_error_make(err, ENOMEM, "writing the Markdown report");
    fputs("\n\nSource: ", out);
    const char *url = ap_report_string(src, "url");
    cell_line(out, url, strlen(url));
    fprintf(out, " (%s); %s.\n",
            *ap_report_string(src, "date") ? ap_report_string(src, "date") : "undated",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "checked"))
                ? "every quote was found in the source text"
                : "source text not checked");
    cleanup_free struct ap_report_section *sections = NULL;
    int n = ap_report_sections(verdicts, &sections);
    struct md_conditions c = {out, n < 0 || summary(out, verdicts) < 0};
    for (int i = 0; i < n && !c.failed; i++)
        c.failed = section(out, verdicts, &sections[i]) < 0;
    fputs("\n## Conditions of the run\n\n| condition | value |\n| --- | --- |\n", out);
    if (!c.failed)
        ap_report_conditions(verdicts, results, condition, &c);
    if (c.failed)
        return ap_error_make(err, ENOMEM, "writing the Markdown report");
    if (fflush(out) != 0 || ferror(out))
        return ap_error_make(err, errno, "writing the Markdown report");
    return 0;
}
