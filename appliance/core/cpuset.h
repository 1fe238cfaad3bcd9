/* Sets of CPU numbers and the kernel's CPU list format ("0-1,4"): what --cpuset, the load
 * generator's CPUs, the noise guard and cpuset.cpus all speak. */
#ifndef AP_CORE_CPUSET_H
#define AP_CORE_CPUSET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define AP_CPUSET_MAX 1024

/* A set of CPU numbers below AP_CPUSET_MAX. Zero-initialise for the empty set. */
struct ap_cpuset {
    uint64_t bits[AP_CPUSET_MAX / 64];
};

/* Room for any set's list: the longest, pairs "a-b" with one-CPU gaps, is 2673 bytes. */
#define AP_CPUSET_STRLEN 4096

/* Parses a CPU list in the kernel's format ("0", "0-1", "0,2-3"; the forms of cpuset.cpus and
 * /sys/devices/system/cpu/online) into *out. A trailing newline is allowed; anything else
 * that is not a number, a range a-b with a <= b, or a comma between two such is an error
 * that quotes the list and says what is wrong, as are numbers at or above
 * AP_CPUSET_MAX and the empty list. *out is written only on success. */
int ap_cpuset_parse(const char *text, struct ap_cpuset *out, ap_error **err);

/* Writes the set in canonical form (ascending, runs as ranges: "0-1,4") into buf of len
 * bytes (len > 0: asserted); "" for the empty set. Returns the length, or -1 with an error
 * (and buf "") when it does not fit. len >= AP_CPUSET_STRLEN always fits. */
int ap_cpuset_format(const struct ap_cpuset *set, char *buf, size_t len, ap_error **err);

/* Set operations. Numbers outside [0, AP_CPUSET_MAX) are ignored / never members. */
void ap_cpuset_add(struct ap_cpuset *set, int cpu);
int ap_cpuset_has(const struct ap_cpuset *set, int cpu);
int ap_cpuset_count(const struct ap_cpuset *set);

/* The CPUs online now, from /sys/devices/system/cpu/online. */
int ap_cpuset_online(struct ap_cpuset *out, ap_error **err);

/* Parses a CPU list as ap_cpuset_parse and writes its CPUs, ascending, into cpus (room for
 * max); *n gets how many. More than max CPUs is an error that names the limit. */
int ap_cpuset_parse_array(const char *text, int *cpus, size_t max, size_t *n, ap_error **err);

/* The CPUs the calling thread may run on (its affinity). */
int ap_cpuset_affinity(struct ap_cpuset *out, ap_error **err);

/* Moves the calling thread onto the CPUs of set (sched_setaffinity); *home, when not NULL,
 * gets the affinity it had, to move back to with another call. The error names the CPUs. */
int ap_cpuset_pin(const struct ap_cpuset *set, struct ap_cpuset *home, ap_error **err);

/* Reads a decimal CPU number at *p and moves *p past it. Returns 0, or -1 when there is no
 * digit there; values too large for any CPU saturate at AP_CPUSET_MAX. */
int ap_cpuset_read_number(const char **p, long *out);

#endif
