/* Reading a run for appliance compare and rerun: a results file, a run directory holding one,
 * or a result archive, read through the walk appliance verify makes. It stays in bundle/,
 * which owns the archive format; the comparison itself is report/compare.h's. */
#ifndef AP_BUNDLE_COMPARE_LOAD_H
#define AP_BUNDLE_COMPARE_LOAD_H

#include <cjson/cJSON.h>

#include "../core/error.h"

struct ap_archive_scan;

/* Reads a results document from path: a results.json, a run directory holding one, or a
 * result archive (.tar.zst; no signature check), told apart by content (zstd magic, or JSON),
 * not by name. An archive is read whole by ap_archive_scan_file, the walk appliance verify
 * makes: an archive whose members verify refuses is refused with verify's error; its
 * results.json member is the document. results.json is at most AP_RESULTS_MAX bytes
 * either way. Checks the schema and the shape comparing needs (ap_compare_check_doc). The
 * caller owns *out. archive, when not NULL, receives what the walk of an archive kept
 * (members, metadata members' bytes; free it with ap_archive_scan_free); it is all zero
 * (members.n == 0) when path was no archive, and on failure. */
int ap_compare_load(const char *path, cJSON **out, struct ap_archive_scan *archive, ap_error **err);

#endif
