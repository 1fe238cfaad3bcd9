/* The reports of a judgement written into a directory: what `appliance verdict --out DIR`
 * calls. */
#ifndef AP_REPORT_OUTPUT_H
#define AP_REPORT_OUTPUT_H

#include <cjson/cJSON.h>

#include "../core/error.h"

/* Renders report.md (report/markdown.h) and report.html (report/html.h) of verdicts (an
 * appliance-verdicts-1 document) and results (the appliance-results-2 document they were
 * judged from) in memory, then writes both into dir (created with its parents, mode 0755, when
 * missing), each atomically (temporary file, fsync, rename; mode 0644): a reader sees either
 * the old file or the whole new one. Nothing is written when rendering fails. The documents
 * stay the caller's. Returns 0, or -1 with *err naming the file or the document at fault. */
int ap_report_write_dir(const char *dir, const cJSON *verdicts, const cJSON *results,
                        ap_error **err);

#endif
