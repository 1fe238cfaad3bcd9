/* What a group of processes holds in memory, as a user would read it: RSS (what ps and top
 * show, shared pages counted in full by every process), PSS (shared pages split between the
 * processes that map them: summed over a server's processes, that server's footprint) and USS
 * (private pages only: what one more instance would cost), from /proc/PID/smaps_rollup. */
#ifndef AP_BENCH_PROCMEM_H
#define AP_BENCH_PROCMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/error.h"

struct ap_procmem {
    int64_t rss_bytes, pss_bytes, uss_bytes;
    size_t processes; /* how many were read */
};

/* Parses one smaps_rollup text (its "Rss:", "Pss:", "Private_Clean:" and "Private_Dirty:"
 * lines, in kB) into out. Returns -1 with err when a field is missing or malformed. */
int ap_procmem_parse(const char *text, struct ap_procmem *out, ap_error **err);

/* Sums the figures of pids (leaving out `skip`, e.g. a sandbox's own init; -1 for none) into
 * out. A process that ended meanwhile is left out; -1 with err when none could be read. */
int ap_procmem_sum(const pid_t *pids, size_t n, pid_t skip, struct ap_procmem *out, ap_error **err);

#endif
