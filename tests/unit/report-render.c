/* report-render VERDICTS RESULTS DIR: writes report.md and report.html of a verdicts file and
 * the results file it was judged from into DIR (report/output.h), as `appliance verdict --out
 * DIR` does; for tests/integration/91-report-html.sh, which renders reports of real results
 * without judging them. Exit 0, or 1 with the error on stderr. */
#include <stdio.h>

#include "core/json.h"
#include "report/output.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: report-render VERDICTS RESULTS DIR\n");
        return 2;
    }
    ap_error *err = NULL;
    cleanup_cjson cJSON *verdicts = NULL, *results = NULL;
    if (ap_json_read_file(argv[1], 64u << 20, &verdicts, &err) < 0 ||
        ap_json_read_file(argv[2], 512u << 20, &results, &err) < 0 ||
        ap_report_write_dir(argv[3], verdicts, results, &err) < 0) {
        fprintf(stderr, "report-render: %s\n", err->msg);
        ap_error_release(&err);
        return 1;
    }
    return 0;
}
