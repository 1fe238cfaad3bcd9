/* The clocks the appliance reads, in nanoseconds: CLOCK_MONOTONIC for intervals and deadlines
 * (the clock of every *_ns time in the bench and the sandbox), and the CPU-time clocks. */
#ifndef AP_CORE_CLOCK_H
#define AP_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in ns. */
int64_t ap_clock_mono_ns(void);

/* Clock `id` now (CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID, ...), in ns; -1 when it
 * cannot be read. */
int64_t ap_clock_ns(clockid_t id);

#endif
