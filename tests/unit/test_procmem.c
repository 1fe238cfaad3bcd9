/* Unit tests of the memory figures of a group of processes (bench/procmem.c): parsing
 * smaps_rollup, and summing real processes against the kernel's own figures. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/procmem.h"
#include "test.h"

static const char rollup[] =
    "55a1812e5000-7ffeb669a000 ---p 00000000 00:00 0                          [rollup]\n"
    "Rss:                1688 kB\n"
    "Pss:                 298 kB\n"
    "Pss_Dirty:           112 kB\n"
    "Shared_Clean:       1532 kB\n"
    "Shared_Dirty:          0 kB\n"
    "Private_Clean:        44 kB\n"
    "Private_Dirty:       112 kB\n"
    "Swap:                  0 kB\n";

TEST(parses_rss_pss_and_uss)
{
    struct ap_procmem pm;
    ap_error *err = NULL;
    CHECK(ap_procmem_parse(rollup, &pm, &err) == 0);
    CHECK_MSG(pm.rss_bytes == 1688 * 1024, "rss %lld", (long long)pm.rss_bytes);
    CHECK_MSG(pm.pss_bytes == 298 * 1024, "pss %lld", (long long)pm.pss_bytes);
    /* USS: private clean plus private dirty; Pss_Dirty is not Private_Dirty. */
    CHECK_MSG(pm.uss_bytes == (44 + 112) * 1024, "uss %lld", (long long)pm.uss_bytes);
}

TEST(refuses_missing_or_malformed_fields)
{
    struct ap_procmem pm;
    const char *bad[] = {"Rss: 1 kB\nPss: 1 kB\nPrivate_Clean: 1 kB\n",
                         "Rss: x kB\nPss: 1 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 1 kB\n",
                         "Rss: 1 MB\nPss: 1 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 1 kB\n",
                         "Rss: -1 kB\nPss: 1 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 1 kB\n",
                         /* "Pss_Dirty" must not be taken for "Pss". */
                         "Rss: 1 kB\nPss_Dirty: 1 kB\nPrivate_Clean: 1 kB\nPrivate_Dirty: 1 kB\n",
                         ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ap_error *err = NULL;
        CHECK_MSG(ap_procmem_parse(bad[i], &pm, &err) < 0 && err != NULL, "case %zu", i);
        ap_error_release(&err);
    }
}

/* A child that maps 32 MiB of private memory, touches it and waits: its USS grows by about
 * that; shared with nobody, its PSS equals its USS for those pages. */
TEST(sums_real_processes)
{
    int ready[2];
    if (!CHECK(pipe(ready) == 0))
        return;
    pid_t child = fork();
    if (child == 0) {
        size_t len = 32u << 20;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            _exit(1);
        memset(p, 1, len);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    close(ready[1]);
    char c;
    CHECK(read(ready[0], &c, 1) == 1);
    close(ready[0]);
    struct ap_procmem one, both, none;
    ap_error *err = NULL;
    pid_t pids[] = {child, getpid()};
    CHECK(ap_procmem_sum(pids, 1, -1, &one, &err) == 0);
    CHECK_MSG(one.uss_bytes >= (32 << 20) && one.uss_bytes < (40 << 20), "uss %lld",
              (long long)one.uss_bytes);
    CHECK(one.uss_bytes <= one.pss_bytes && one.pss_bytes <= one.rss_bytes);
    CHECK(ap_procmem_sum(pids, 2, -1, &both, &err) == 0);
    CHECK(both.processes == 2 && both.pss_bytes > one.pss_bytes);
    /* skip leaves a process out; a group with nothing left to read is an error. */
    CHECK(ap_procmem_sum(pids, 2, getpid(), &one, &err) == 0 && one.processes == 1);
    CHECK(ap_procmem_sum(pids, 1, child, &none, &err) < 0 && err != NULL);
    ap_error_release(&err);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    /* A process that is gone is left out, not an error, when others remain. */
    CHECK(ap_procmem_sum(pids, 2, -1, &one, &err) == 0 && one.processes == 1);
}
