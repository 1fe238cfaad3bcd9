/* procmem-probe PID...: prints the PSS, USS and RSS the appliance's bench would record for
 * these processes (bench/procmem.c), in bytes: "pss N uss N rss N processes N". Lets
 * tests/bench/cross-check hold the engine's figures against smem on the same processes. */
#include <stdio.h>
#include <stdlib.h>

#include "bench/procmem.h"

int main(int argc, char **argv)
{
    pid_t pids[256];
    size_t n = 0;
    for (int i = 1; i < argc && n < 256; i++)
        pids[n++] = (pid_t)atoi(argv[i]);
    struct ap_procmem pm;
    ap_error *err = NULL;
    if (n == 0 || ap_procmem_sum(pids, n, -1, &pm, &err) < 0) {
        fprintf(stderr, "procmem-probe: %s\n", err != NULL ? err->msg : "usage: procmem-probe PID...");
        return 1;
    }
    printf("pss %lld uss %lld rss %lld processes %zu\n", (long long)pm.pss_bytes,
           (long long)pm.uss_bytes, (long long)pm.rss_bytes, pm.processes);
    return 0;
}
