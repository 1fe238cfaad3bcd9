#include "html.h"

#include <errno.h>
#include <string.h>

#include "../core/cleanup.h"
#include "format.h"

/* Colours of the verdicts: each text colour against its background is over 7:1; the verdict is
 * also written as a word and a symbol. */
static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;"
    "max-width:72rem;padding:0 1rem;color:#1a1a1a;background:#fff;line-height:1.45}\n"
    "h1{font-size:1.5rem}h2{font-size:1.25rem;margin-top:2rem}\n"
    ".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}\n"
    "table{border-collapse:collapse;font-size:.9rem;margin:.5rem 0 1rem}\n"
    "th,td{border:1px solid #c8c8c8;padding:.3rem .45rem;text-align:left;vertical-align:top}\n"
    "th{background:#f0f0f0}td.quote{min-width:14rem}td.n{white-space:nowrap}\n"
    "code{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.85em}\n"
    "small{color:#444}.v{white-space:nowrap;font-weight:600}\n"
    ".holds{background:#e3f1e5;color:#14532d}.contradicted{background:#fbe4e4;color:#8b1111}\n"
    ".inconclusive{background:#fdf3d7;color:#5c4300}"
    ".not-comparable{background:#e8ecef;color:#2f3b45}\n"
    ".not-reproducible{background:#efe6f5;color:#4a1670}"
    ".untestable,.unknown{background:#f3f3f3;color:#333}\n"
    "figure{margin:1.5rem 0}svg.chart{width:100%;height:auto;display:block}\n"
    "svg text{font-family:inherit;fill:#1a1a1a}.heading{font-size:16px;font-weight:700}\n"
    ".label{font-size:14px;paint-order:stroke;stroke:#fff;stroke-width:3px}"
    ".legend{font-size:13px}.tick{font-size:12px;text-anchor:middle}\n"
    ".axis{font-size:13px;text-anchor:middle}.none{font-size:13px}\n"
    "figcaption{font-size:.85rem;color:#333}\n"
    "@media print{body{max-width:none;padding:0;font-size:10pt}.scroll{overflow:visible}"
    "table{font-size:8pt}th,td{padding:2px 4px}a{color:#000;text-decoration:none}"
    "figure,tr{break-inside:avoid}h2{break-after:avoid}"
    ".holds,.contradicted,.inconclusive,.not-comparable,.not-reproducible{"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void text(FILE *out, const char *s)
{
    ap_report_html_text(out, s);
}

/* <td class="cls">s</td>, s escaped. */
static void td(FILE *out, const char *cls, const char *s)
{
    fprintf(out, "<td class=\"%s\">", cls);
    text(out, s);
    fputs("</td>", out);
}

static void verdict_cell(FILE *out, const char *word)
{
    fprintf(out, "<td class=\"v %s\">%s ", ap_report_verdict_class(word),
            ap_report_verdict_symbol(word));
    text(out, word);
    fputs("</td>", out);
}

static void verdict_row(FILE *out, const cJSON *v)
{
    char published[256], measured[256], ratio[32];
    fputs("<tr class=\"claim\" data-claim=\"", out);
    text(out, ap_report_string(v, "id"));
    fputs("\"><td><code>", out);
    text(out, ap_report_string(v, "id"));
    fputs("</code><br><small>", out);
    text(out, ap_report_string(v, "where"));
    fputs("</small></td>", out);
    td(out, "quote", ap_report_string(v, "quote"));
    td(out, "n", ap_report_published(published, sizeof(published), v));
    td(out, "n", ap_report_measured(measured, sizeof(measured), v));
    td(out, "n",
       ap_report_num(ratio, sizeof(ratio), ap_report_number(v, "measured_over_published")));
    verdict_cell(out, ap_report_string(v, "verdict"));
    td(out, "why", ap_report_string(v, "why"));
    fputs("</tr>\n", out);
}

/* One claim on one machine: its cells, each marked with the machine (v NULL: no verdict). */
static void machine_cells(FILE *out, const cJSON *v, const char *machine)
{
    char measured[256], ratio[32];
    const char *word = v != NULL ? ap_report_string(v, "verdict") : "-";
    fputs("<td class=\"n\" data-machine=\"", out);
    text(out, machine);
    fputs("\">", out);
    text(out, ap_report_measured(measured, sizeof(measured), v));
    fputs("</td>", out);
    td(out, "n",
       ap_report_num(ratio, sizeof(ratio), ap_report_number(v, "measured_over_published")));
    fprintf(out, "<td class=\"v %s\" data-machine=\"", ap_report_verdict_class(word));
    text(out, machine);
    fprintf(out, "\">%s ", ap_report_verdict_symbol(word));
    text(out, word);
    fputs("</td>", out);
    td(out, "why", ap_report_string(v, "why"));
}

/* The header cell of machine m (its id in data-machine, its CPU model and kernel as the text);
 * with colgroup, the head of its group of four columns. */
static void machine_th(FILE *out, const cJSON *m, int colgroup)
{
    char title[512];
    fputs(colgroup ? "<th colspan=\"4\" class=\"machine\" scope=\"colgroup\" data-machine=\""
                   : "<th class=\"machine\" data-machine=\"",
          out);
    text(out, ap_report_string(m, "id"));
    fputs("\">", out);
    text(out, ap_report_machine_title(title, sizeof(title), m));
    fputs("</th>", out);
}

/* Several machine types: one row per claim, a column group per machine headed by its CPU model
 * and kernel. */
static void machine_table(FILE *out, const cJSON *verdicts, const struct ap_report_section *s,
                          const cJSON *const *ms, size_t nm)
{
    fputs("<thead><tr><th rowspan=\"2\">claim</th><th rowspan=\"2\">quote</th>"
          "<th rowspan=\"2\">published</th>",
          out);
    for (size_t k = 0; k < nm; k++)
        machine_th(out, ms[k], 1);
    fputs("</tr>\n<tr>", out);
    for (size_t k = 0; k < nm; k++)
        fputs("<th>measured [interval] coverage</th><th>measured / published</th><th>verdict</th>"
              "<th>why</th>",
              out);
    fputs("</tr></thead>\n<tbody>\n", out);
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        const char *id = ap_report_string(v, "id");
        if (!ap_report_row_of(v, s->id, ms))
            continue;
        char published[256];
        fputs("<tr class=\"claim\" data-claim=\"", out);
        text(out, id);
        fputs("\"><td><code>", out);
        text(out, id);
        fputs("</code><br><small>", out);
        text(out, ap_report_string(v, "where"));
        fputs("</small></td>", out);
        td(out, "quote", ap_report_string(v, "quote"));
        td(out, "n", ap_report_published(published, sizeof(published), v));
        for (size_t k = 0; k < nm; k++) {
            const char *machine = ap_report_string(ms[k], "id");
            machine_cells(out, ap_report_verdict_on(verdicts, id, machine), machine);
        }
        fputs("</tr>\n", out);
    }
}

static void section(FILE *out, const cJSON *verdicts, const struct ap_report_section *s)
{
    const cJSON *v, *ms[AP_REPORT_MACHINES_MAX];
    size_t nm = ap_report_machines(verdicts, ms);
    fputs("<section class=\"claims\">\n<h2>", out);
    text(out, s->title);
    fputs("</h2>\n<div class=\"scroll\"><table class=\"verdicts\">\n", out);
    if (nm > 0)
        machine_table(out, verdicts, s, ms, nm);
    else
        fputs("<thead><tr><th>claim</th>"
              "<th>quote</th><th>published</th><th>measured [interval] coverage</th>"
              "<th>measured / published</th><th>verdict</th><th>why</th></tr></thead>\n<tbody>\n",
              out);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "verdicts"))
    {
        if (nm == 0 && strcmp(ap_report_string(v, "section"), s->id) == 0)
            verdict_row(out, v);
    }
    fputs("</tbody></table></div>\n", out);
    int header = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(verdicts, "untestable"))
    {
        if (strcmp(ap_report_string(v, "section"), s->id) != 0)
            continue;
        if (!header++)
            fputs("<p>Not testable by measurement:</p>\n<div class=\"scroll\"><table "
                  "class=\"untestable-entries\">\n<thead><tr><th>entry</th><th>quote</th>"
                  "<th>reason</th></tr></thead>\n<tbody>\n",
                  out);
        fputs("<tr class=\"untestable-entry\">", out);
        td(out, "id", ap_report_string(v, "id"));
        td(out, "quote", ap_report_string(v, "quote"));
        td(out, "untestable", ap_report_string(v, "reason"));
        fputs("</tr>\n", out);
    }
    if (header)
        fputs("</tbody></table></div>\n", out);
    fputs("</section>\n", out);
}

/* The counts table: one column of claims, or one per machine type. */
static void counts_table(FILE *out, const cJSON *verdicts)
{
    size_t counts[AP_REPORT_VERDICTS];
    const cJSON *ms[AP_REPORT_MACHINES_MAX];
    size_t nm = ap_report_machines(verdicts, ms);
    ap_report_count(verdicts, counts);
    fputs("<table class=\"counts\">\n<thead><tr><th>verdict</th>", out);
    if (nm == 0)
        fputs("<th>claims</th>", out);
    for (size_t k = 0; k < nm; k++)
        machine_th(out, ms[k], 0);
    fputs("</tr></thead>\n<tbody>\n", out);
    for (int i = 0; i < AP_REPORT_VERDICTS; i++) {
        fputs("<tr>", out);
        verdict_cell(out, ap_report_verdict_words[i]);
        if (nm == 0)
            fprintf(out, "<td class=\"n\">%zu</td>", counts[i]);
        for (size_t k = 0; k < nm; k++)
            fprintf(out, "<td class=\"n\">%.0f</td>",
                    ap_report_number(cJSON_GetObjectItemCaseSensitive(ms[k], "counts"),
                                     ap_report_verdict_words[i]));
        fputs("</tr>\n", out);
    }
}

static void summary(FILE *out, const cJSON *verdicts)
{
    fputs("<section id=\"summary\">\n<h2>Summary</h2>\n", out);
    counts_table(out, verdicts);
    fputs("</tbody></table>\n", out);
    const cJSON *far[3];
    size_t n = ap_report_furthest(verdicts, far);
    if (n > 0)
        fputs("<p>Furthest from the published value (measured / published):</p>\n<ol>\n", out);
    for (size_t i = 0; i < n; i++) {
        char ratio[32], label[300];
        fputs("<li><code>", out);
        text(out, ap_report_claim_label(label, sizeof(label), far[i]));
        fprintf(out, "</code>: %s (",
                ap_report_num(ratio, sizeof(ratio),
                              ap_report_number(far[i], "measured_over_published")));
        text(out, ap_report_string(far[i], "verdict"));
        fputs(")</li>\n", out);
    }
    fputs(n > 0 ? "</ol>\n</section>\n" : "</section>\n", out);
}

static void condition(void *ctx, const char *label, const char *value)
{
    FILE *out = ctx;
    fputs("<tr><th scope=\"row\">", out);
    text(out, label);
    fputs("</th>", out);
    td(out, "value", value);
    fputs("</tr>\n", out);
}

static void header(FILE *out, const cJSON *verdicts)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(verdicts, "source");
    const char *title = ap_report_string(src, "title");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>Claims and verdicts: ",
          out);
    text(out, title);
    fprintf(out,
            "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>Claims and "
            "verdicts: ",
            css);
    text(out, title);
    fputs("</h1>\n<p>Source: ", out);
    text(out, ap_report_string(src, "url"));
    fputs(" (", out);
    text(out, *ap_report_string(src, "date") ? ap_report_string(src, "date") : "undated");
    fprintf(out, "); %s.</p>\n</header>\n",
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(src, "checked"))
                ? "every quote was found in the source text"
                : "source text not checked");
}

int ap_report_html(FILE *out, const cJSON *verdicts, const cJSON *results, ap_error **err)
{
    if (ap_report_check(verdicts, results, err) < 0)
        return -1;
    cleanup_free struct ap_report_section *sections = NULL;
    int n = ap_report_sections(verdicts, &sections);
    if (n < 0)
        return ap_error_make(err, ENOMEM, "writing the HTML report");
    header(out, verdicts);
    summary(out, verdicts);
    for (int i = 0; i < n; i++)
        section(out, verdicts, &sections[i]);
    fputs("<section id=\"figures\">\n<h2>Figures</h2>\n", out);
    if (ap_report_charts(out, verdicts, results) < 0)
        return ap_error_make(err, ENOMEM, "writing the HTML report's charts");
    fputs("</section>\n<section id=\"conditions\">\n<h2>Conditions of the run</h2>\n"
          "<div class=\"scroll\"><table class=\"conditions\">\n<tbody>\n",
          out);
    ap_report_conditions(verdicts, results, condition, out);
    fputs("</tbody></table></div>\n</section>\n</body>\n</html>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return ap_error_make(err, errno, "writing the HTML report");
    return 0;
}
