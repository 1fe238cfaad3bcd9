#include "cpuset.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

#define ONLINE_PATH "/sys/devices/system/cpu/online"
#define SMALL_FILE_MAX 4096
#define CPULIST_EXAMPLE "want e.g. \"0\", \"0-3\" or \"0,2-3\""

void ap_cpuset_add(struct ap_cpuset *set, int cpu)
{
    if (cpu >= 0 && cpu < AP_CPUSET_MAX)
        set->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

int ap_cpuset_has(const struct ap_cpuset *set, int cpu)
{
    if (cpu < 0 || cpu >= AP_CPUSET_MAX)
        return 0;
    return (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

int ap_cpuset_count(const struct ap_cpuset *set)
{
    int n = 0;
    for (size_t i = 0; i < AP_ARRAY_SIZE(set->bits); i++)
        n += __builtin_popcountll(set->bits[i]);
    return n;
}

/* Reads a decimal CPU number at *p. Returns 0, or -1 when there is no digit there; values
 * too large for any CPU saturate at AP_CPUSET_MAX, which the caller refuses. */
int ap_cpuset_read_number(const char **p, long *out)
{
    if (!isdigit((unsigned char)**p))
        return -1;
    long v = 0;
    while (isdigit((unsigned char)**p)) {
        if (v < AP_CPUSET_MAX)
            v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v < AP_CPUSET_MAX ? v : AP_CPUSET_MAX;
    return 0;
}

/* What is at p, for an error message. */
static void describe_at(const char *p, char *buf, size_t len)
{
    if (*p == '\0')
        snprintf(buf, len, "the end of the list");
    else if (isprint((unsigned char)*p))
        snprintf(buf, len, "'%c'", *p);
    else
        snprintf(buf, len, "byte 0x%02x", (unsigned char)*p);
}

/* The list as an error message quotes it: at most 64 bytes, unprintable ones as '?'. */
static void quote_list(const char *text, char *buf, size_t len)
{
    size_t i = 0;
    for (; text[i] != '\0' && i < 64 && i + 1 < len; i++)
        buf[i] = isprint((unsigned char)text[i]) ? text[i] : '?';
    buf[i] = '\0';
}

int ap_cpuset_parse(const char *text, struct ap_cpuset *out, ap_error **err)
{
    if (text == NULL || *text == '\0' || strcmp(text, "\n") == 0)
        return ap_error_make(err, 0, "the CPU list is empty; " CPULIST_EXAMPLE);
    struct ap_cpuset set = {{0}};
    const char *p = text;
    char what[32], quoted[72];
    quote_list(text, quoted, sizeof(quoted));
    for (;;) {
        long a, b;
        size_t at = (size_t)(p - text);
        if (ap_cpuset_read_number(&p, &a) < 0) {
            describe_at(p, what, sizeof(what));
            return ap_error_make(err, 0,
                                 "CPU list \"%s\": expected a CPU number at offset %zu, found "
                                 "%s; " CPULIST_EXAMPLE,
                                 quoted, at, what);
        }
        b = a;
        if (*p == '-') {
            p++;
            if (ap_cpuset_read_number(&p, &b) < 0) {
                describe_at(p, what, sizeof(what));
                return ap_error_make(err, 0,
                                     "CPU list \"%s\": the range at offset %zu has no end (found "
                                     "%s); " CPULIST_EXAMPLE,
                                     quoted, at, what);
            }
        }
        if (a >= AP_CPUSET_MAX || b >= AP_CPUSET_MAX)
            return ap_error_make(err, 0,
                                 "CPU list \"%s\": the CPU number at offset %zu is beyond the "
                                 "%d CPUs supported (0-%d)",
                                 quoted, at, AP_CPUSET_MAX, AP_CPUSET_MAX - 1);
        if (b < a)
            return ap_error_make(err, 0,
                                 "CPU list \"%s\": the range %ld-%ld at offset %zu runs "
                                 "backwards; write %ld-%ld",
                                 quoted, a, b, at, b, a);
        for (long c = a; c <= b; c++)
            ap_cpuset_add(&set, (int)c);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0' || (*p == '\n' && p[1] == '\0'))
            break;
        describe_at(p, what, sizeof(what));
        return ap_error_make(err, 0,
                             "CPU list \"%s\": unexpected %s at offset %zu; " CPULIST_EXAMPLE,
                             quoted, what, (size_t)(p - text));
    }
    *out = set;
    return 0;
}

int ap_cpuset_format(const struct ap_cpuset *set, char *buf, size_t len, ap_error **err)
{
    assert(len > 0); /* a caller's bug, not the user's: every caller passes its buffer */
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        if (!ap_cpuset_has(set, c))
            continue;
        int end = c;
        while (end + 1 < AP_CPUSET_MAX && ap_cpuset_has(set, end + 1))
            end++;
        int n;
        const char *sep = used > 0 ? "," : "";
        if (end == c)
            n = snprintf(buf + used, len - used, "%s%d", sep, c);
        else
            n = snprintf(buf + used, len - used, "%s%d-%d", sep, c, end);
        if (n < 0 || (size_t)n >= len - used) {
            buf[0] = '\0';
            return ap_error_make(err, 0, "formatting a CPU list: more than %zu bytes", len - 1);
        }
        used += (size_t)n;
        c = end;
    }
    return (int)used;
}

int ap_cpuset_online(struct ap_cpuset *out, ap_error **err)
{
    char buf[SMALL_FILE_MAX];
    if (ap_fs_read_small(ONLINE_PATH, buf, sizeof(buf), err) < 0)
        return -1;
    if (ap_cpuset_parse(buf, out, err) < 0)
        return ap_error_wrap(err, "reading %s", ONLINE_PATH);
    return 0;
}

int ap_cpuset_parse_array(const char *text, int *cpus, size_t max, size_t *n, ap_error **err)
{
    struct ap_cpuset set;
    *n = 0;
    if (ap_cpuset_parse(text, &set, err) < 0)
        return -1;
    for (int c = 0; c < AP_CPUSET_MAX; c++) {
        if (!ap_cpuset_has(&set, c))
            continue;
        if (*n >= max)
            return ap_error_make(err, E2BIG, "CPU list '%s' names more than %zu CPUs", text, max);
        cpus[(*n)++] = c;
    }
    return 0;
}

int ap_cpuset_affinity(struct ap_cpuset *out, ap_error **err)
{
    cpu_set_t mine;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof(mine), &mine) < 0)
        return ap_error_make(err, errno, "reading the CPU affinity");
    struct ap_cpuset set = {{0}};
    for (int c = 0; c < AP_CPUSET_MAX && c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &mine))
            ap_cpuset_add(&set, c);
    *out = set;
    return 0;
}

int ap_cpuset_pin(const struct ap_cpuset *set, struct ap_cpuset *home, ap_error **err)
{
    struct ap_cpuset was;
    if (home != NULL && ap_cpuset_affinity(&was, err) < 0)
        return -1;
    cpu_set_t to;
    CPU_ZERO(&to);
    for (int c = 0; c < AP_CPUSET_MAX && c < CPU_SETSIZE; c++)
        if (ap_cpuset_has(set, c))
            CPU_SET(c, &to);
    if (sched_setaffinity(0, sizeof(to), &to) < 0) {
        char list[AP_CPUSET_STRLEN];
        ap_cpuset_format(set, list, sizeof(list), NULL);
        return ap_error_make(err, errno, "pinning to CPUs %s", list[0] ? list : "(none)");
    }
    if (home != NULL)
        *home = was;
    return 0;
}
