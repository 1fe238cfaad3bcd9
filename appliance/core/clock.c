#include "clock.h"

int64_t ap_clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0)
        return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t ap_clock_mono_ns(void)
{
    return ap_clock_ns(CLOCK_MONOTONIC);
}
