/* report.html: one self-contained page (inline CSS and SVG; no script, no network, no external
 * font) with the verdict tables, a chart per kind of figure and the conditions of the run;
 * readable on a phone (tables scroll sideways, charts scale to the width) and printable. */
#ifndef AP_REPORT_HTML_H
#define AP_REPORT_HTML_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "../core/error.h"
#include "charts.h"

/* Writes the HTML report of verdicts (appliance-verdicts-1, docs/claims.md) and results (the
 * appliance-results-2 document they were judged from) to out. Every claim is one table row
 * <tr class="claim" data-claim="ID">; every chart is drawn even when the results hold none of
 * its figures (it then says so). Every text from the documents is escaped for HTML, control
 * characters included. Pure: the same documents give the same bytes; nothing but out is
 * written. Returns 0, or -1 with *err set (a document not of its schema, memory, a write
 * error). */
int ap_report_html(FILE *out, const cJSON *verdicts, const cJSON *results, ap_error **err);

#endif
