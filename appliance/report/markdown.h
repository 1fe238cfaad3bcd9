/* report.md: the verdicts of a claims file as Markdown tables, one per section, with the counts
 * of verdicts, the claims furthest from their published values and the conditions of the run. */
#ifndef AP_REPORT_MARKDOWN_H
#define AP_REPORT_MARKDOWN_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

/* Writes the Markdown report of verdicts (an appliance-verdicts-1 document, docs/claims.md) and
 * results (the appliance-results-2 document they were judged from) to out. Pure: the same
 * documents give the same bytes; nothing but out is written. Every text taken from the
 * documents is escaped for a table cell (pipes, line breaks, HTML and Markdown markup, control
 * characters). Returns 0, or -1 with *err set when a document is not of its schema, memory runs
 * out or out reports a write error. */
int ap_report_markdown(FILE *out, const cJSON *verdicts, const cJSON *results, ap_error **err);

#endif
