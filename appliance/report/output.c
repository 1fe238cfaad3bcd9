#include "output.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "html.h"
#include "markdown.h"

typedef int (*render_fn)(FILE *out, const cJSON *verdicts, const cJSON *results, ap_error **err);

/* One report rendered into a heap buffer (*text, owned by the caller). */
static int render(render_fn fn, const cJSON *verdicts, const cJSON *results, char **text,
                  size_t *len, ap_error **err)
{
    FILE *f = open_memstream(text, len);
    if (f == NULL)
        return ap_error_make(err, errno, "rendering a report in memory");
    int rc = fn(f, verdicts, results, err);
    if (fclose(f) != 0 && rc == 0)
        rc = ap_error_make(err, errno, "rendering a report in memory");
    return rc;
}

int ap_report_write_dir(const char *dir, const cJSON *verdicts, const cJSON *results,
                        ap_error **err)
{
    static const struct {
        const char *name;
        render_fn fn;
    } reports[] = {{"report.md", ap_report_markdown}, {"report.html", ap_report_html}};
    char *text[2] = {NULL, NULL};
    size_t len[2] = {0, 0};
    int rc = 0;
    for (size_t i = 0; i < 2 && rc == 0; i++)
        if (render(reports[i].fn, verdicts, results, &text[i], &len[i], err) < 0)
            rc = ap_error_wrap(err, "%s", reports[i].name);
    if (rc == 0 && ap_fs_mkdir_p(dir, 0755, err) < 0)
        rc = ap_error_wrap(err, "writing the reports into %s", dir);
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        char path[PATH_MAX];
        if (ap_fs_path(path, sizeof(path), "%s/%s", dir, reports[i].name) < 0)
            rc = ap_error_make(err, ENAMETOOLONG, "writing %s into %s", reports[i].name, dir);
        else if (ap_fs_write_atomic(path, text[i], len[i], 0644, err) < 0)
            rc = -1;
    }
    free(text[0]);
    free(text[1]);
    return rc;
}
