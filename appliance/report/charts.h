/* The charts of the HTML report, each built from the verdicts or the results and drawn by
 * report/svg.h inside a <figure> with its caption. */
#ifndef AP_REPORT_CHARTS_H
#define AP_REPORT_CHARTS_H

#include <stdio.h>
#include <cjson/cJSON.h>

/* The ids of the page's charts, one <svg class="chart"> each, in the page's order. */
#define AP_REPORT_CHARTS 7
extern const char *const ap_report_chart_ids[AP_REPORT_CHARTS];

/* Writes the figures in the order of ap_report_chart_ids (report/html.h): measured against
 * published for every claim with a measured number, the CPU tasks, HTTP throughput, latency
 * percentiles, server memory, image sizes and startup. Returns 0, or -1 when out of memory. */
int ap_report_charts(FILE *out, const cJSON *verdicts, const cJSON *results);

#endif
