/* A fixed amount of work that times itself, so the same binary can run inside and outside a
 * sandbox and the sandbox's set-up stays out of the number.
 *
 * Usage: overhead cpu [ITERATIONS]      integer and floating-point dependency chains
 *        overhead syscall [CALLS]       getppid() through syscall(2), CALLS times
 * Prints one line: "TASK ns=ELAPSED cpu_ns=CPU count=N check=VALUE": ELAPSED is CLOCK_MONOTONIC
 * around the work only, CPU the process's CPU time over the same span (it shows whether the
 * task waited for the CPU), VALUE keeps the compiler from dropping the work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64 and a multiply-add chain: each step depends on the one before, so the time is
 * latency-bound and does not change with memory, vector units or the scheduler's whims. */
static uint64_t cpu_work(long n)
{
    uint64_t x = 88172645463325252ULL;
    double f = 1.0;
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f = f * 0.9999999 + (double)(x & 0xff) * 1e-9;
    }
    uint64_t bits;
    memcpy(&bits, &f, sizeof(bits));
    return x ^ bits;
}

static uint64_t syscall_work(long n)
{
    uint64_t sum = 0;
    for (long i = 0; i < n; i++)
        sum += (uint64_t)syscall(SYS_getppid);
    return sum;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (strcmp(argv[1], "cpu") != 0 && strcmp(argv[1], "syscall") != 0)) {
        fprintf(stderr, "usage: overhead cpu|syscall [COUNT]\n");
        return 2;
    }
    int cpu = strcmp(argv[1], "cpu") == 0;
    long n = cpu ? 140000000L : 1000000L;
    if (argc == 3) {
        char *end = NULL;
        n = strtol(argv[2], &end, 10);
        if (end == argv[2] || *end != '\0' || n <= 0) {
            fprintf(stderr, "overhead: bad count '%s'\n", argv[2]);
            return 2;
        }
    }
    int64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    int64_t t0 = clock_ns(CLOCK_MONOTONIC);
    uint64_t check = cpu ? cpu_work(n) : syscall_work(n);
    int64_t t1 = clock_ns(CLOCK_MONOTONIC);
    int64_t c1 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    printf("%s ns=%lld cpu_ns=%lld count=%ld check=%llu\n", argv[1], (long long)(t1 - t0),
           (long long)(c1 - c0), n, (unsigned long long)check);
    return 0;
}
