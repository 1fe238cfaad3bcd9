#include "procmem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"

/* The value in kB of the line "key: N kB" in text, or -1. */
static int64_t field_kb(const char *text, const char *key)
{
    size_t k = strlen(key);
    for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, k) != 0 || p[k] != ':')
            continue;
        char *end = NULL;
        long long v = strtoll(p + k + 1, &end, 10);
        if (end == p + k + 1 || v < 0)
            return -1;
        while (*end == ' ')
            end++;
        return strncmp(end, "kB", 2) == 0 ? (int64_t)v : -1;
    }
    return -1;
}

int ap_procmem_parse(const char *text, struct ap_procmem *out, ap_error **err)
{
    int64_t rss = field_kb(text, "Rss"), pss = field_kb(text, "Pss"),
            pc = field_kb(text, "Private_Clean"), pd = field_kb(text, "Private_Dirty");
    if (rss < 0 || pss < 0 || pc < 0 || pd < 0)
        return ap_error_make(err, 0,
                             "smaps_rollup: no Rss, Pss, Private_Clean or Private_Dirty "
                             "line in kB");
    out->rss_bytes = rss * 1024;
    out->pss_bytes = pss * 1024;
    out->uss_bytes = (pc + pd) * 1024;
    out->processes = 1;
    return 0;
}

int ap_procmem_sum(const pid_t *pids, size_t n, pid_t skip, struct ap_procmem *out, ap_error **err)
{
    memset(out, 0, sizeof(*out));
    char text[8192];
    for (size_t i = 0; i < n; i++) {
        if (pids[i] == skip)
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pids[i]);
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        ap_error *e = NULL;
        struct ap_procmem one;
        if (fd < 0 || ap_fs_read_to_end(fd, path, text, sizeof(text), 0, &e) < 0 ||
            ap_procmem_parse(text, &one, &e) < 0) {
            /* Gone meanwhile (a worker restarting): not part of the figure. */
            ap_error_release(&e);
            continue;
        }
        out->rss_bytes += one.rss_bytes;
        out->pss_bytes += one.pss_bytes;
        out->uss_bytes += one.uss_bytes;
        out->processes++;
    }
    if (out->processes == 0)
        return ap_error_make(err, 0, "no process of the %zu listed could be read", n);
    return 0;
}
