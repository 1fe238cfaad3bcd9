/* What a sandbox spec may ask for: every value is checked before anything is created, so a
 * bad limit is a clear error rather than a kernel's errno or a command killed at its start. */
#include "sandbox.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/cpuset.h"

void ap_run_record_times_json(cJSON *j, const struct ap_run_record *r)
{
    cJSON_AddNumberToObject(j, "wall_ns", (double)r->wall_ns);
    cJSON_AddNumberToObject(j, "start_ns", (double)r->start_ns);
    cJSON_AddNumberToObject(j, "run_ns", (double)r->run_ns);
    cJSON_AddNumberToObject(j, "cpu_user_ns", (double)r->cpu_user_ns);
    cJSON_AddNumberToObject(j, "cpu_system_ns", (double)r->cpu_system_ns);
    cJSON_AddNumberToObject(j, "cpu_total_ns", (double)r->cpu_total_ns);
}

int ap_sandbox_env_set(char **env, size_t *n, size_t max, char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq != NULL ? (size_t)(eq - kv) : strlen(kv);
    for (size_t i = 0; i < *n; i++) {
        if (strncmp(env[i], kv, klen) == 0 && env[i][klen] == '=') {
            env[i] = kv;
            return 0;
        }
    }
    if (*n + 1 >= max)
        return -1;
    env[(*n)++] = kv;
    env[*n] = NULL;
    return 0;
}

int ap_sandbox_parse_bytes(const char *s, int64_t *out)
{
    /* Digits first: strtod would also take "nan", "inf", hex and a sign. */
    if (!isdigit((unsigned char)s[0]))
        return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v) || v < 0)
        return -1;
    double mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1024.0 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1024.0 * 1024 * 1024;
        end++;
        break;
    case '\0':
        break;
    default:
        return -1;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end != '\0' || v * mult > 9.0e18)
        return -1;
    *out = (int64_t)(v * mult);
    return 0;
}

/* Bind targets may not cover what the sandbox itself provides, nor its root. */
static const char *const reserved_targets[] = {"/proc", "/sys", "/dev"};

/* Checks a bind target: absolute, in canonical form (no "//", "/./", "..", trailing '/'),
 * and neither the root nor at or below a reserved directory. */
static int check_bind_target(const char *dst, ap_error **err)
{
    if (dst == NULL || dst[0] != '/')
        return ap_error_make(err, 0, "bind target '%s' is not an absolute path",
                             dst != NULL ? dst : "");
    if (strlen(dst) >= AP_SANDBOX_PATH_MAX)
        return ap_error_make(err, 0, "bind target is longer than %d bytes",
                             AP_SANDBOX_PATH_MAX - 1);
    if (strcmp(dst, "/") == 0)
        return ap_error_make(err, 0,
                             "bind target / would replace the sandbox's root; "
                             "bind below it, e.g. /mnt");
    for (const char *c = dst; *c != '\0';) {
        const char *end = strchr(c + 1, '/');
        size_t n = end != NULL ? (size_t)(end - c) : strlen(c);
        /* c points at the '/' that starts a component of n - 1 bytes. */
        if (n == 1 || (n == 2 && c[1] == '.') || (n == 3 && c[1] == '.' && c[2] == '.'))
            return ap_error_make(err, 0,
                                 "bind target '%s' has an empty, '.' or '..' component; write "
                                 "the path in its plain form",
                                 dst);
        c += n;
    }
    for (size_t i = 0; i < AP_ARRAY_SIZE(reserved_targets); i++) {
        size_t n = strlen(reserved_targets[i]);
        if (strncmp(dst, reserved_targets[i], n) == 0 && (dst[n] == '\0' || dst[n] == '/'))
            return ap_error_make(err, 0,
                                 "bind target %s is at or below %s, which the sandbox provides "
                                 "itself (its own /proc, a minimal /dev, no /sys); bind "
                                 "elsewhere, e.g. /mnt",
                                 dst, reserved_targets[i]);
    }
    return 0;
}

static int check_hostname(const char *h, ap_error **err)
{
    size_t n = strlen(h);
    if (n == 0 || n > 64)
        return ap_error_make(err, 0, "hostname must be 1 to 64 characters, not %zu", n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)h[i];
        if (!isalnum(c) && !((c == '-' || c == '.') && i > 0))
            return ap_error_make(err, 0,
                                 "hostname: character %zu (0x%02x) is not a letter, digit, or "
                                 "a '-' or '.' after the first",
                                 i + 1, c);
    }
    return 0;
}

static int check_limits(const struct ap_cgroup_limits *l, ap_error **err)
{
    if (l->memory_bytes != 0 && l->memory_bytes < AP_SANDBOX_MIN_MEMORY)
        return ap_error_make(err, 0,
                             "memory limit of %lld bytes is below the smallest a sandbox starts "
                             "in, %d MiB",
                             (long long)l->memory_bytes, AP_SANDBOX_MIN_MEMORY >> 20);
    int64_t period = l->cpu_period_us > 0 ? l->cpu_period_us : 100000;
    if (l->cpu_quota_us != 0 && (period < 1000 || period > 1000000 || l->cpu_quota_us < 1000 ||
                                 l->cpu_quota_us > AP_SANDBOX_MAX_CPUS * period))
        return ap_error_make(err, 0,
                             "CPU quota %lld us per %lld us is outside the kernel's bounds: "
                             "%.2f to %d CPUs",
                             (long long)l->cpu_quota_us, (long long)period, AP_SANDBOX_MIN_CPUS,
                             AP_SANDBOX_MAX_CPUS);
    if (l->pids_max != 0 && l->pids_max < 2)
        return ap_error_make(err, 0,
                             "a process limit of %lld leaves no room for the command beside the "
                             "sandbox's init: the smallest is 2",
                             (long long)l->pids_max);
    if (l->cpuset != NULL) {
        struct ap_cpuset want, online;
        if (ap_cpuset_parse(l->cpuset, &want, err) < 0)
            return -1;
        if (ap_cpuset_online(&online, err) < 0)
            return -1;
        for (int c = 0; c < AP_CPUSET_MAX; c++)
            if (ap_cpuset_has(&want, c) && !ap_cpuset_has(&online, c)) {
                char list[AP_CPUSET_STRLEN];
                ap_cpuset_format(&online, list, sizeof(list), NULL);
                return ap_error_make(err, 0, "CPU %d is not online here (online: %s)", c, list);
            }
    }
    return 0;
}

int ap_sandbox_validate(const struct ap_sandbox_spec *s, ap_error **err)
{
    if (s->rootfs != NULL && s->rootfs[0] == '\0')
        return ap_error_make(err, 0, "the root filesystem path is empty");
    if (s->rootfs != NULL && strlen(s->rootfs) >= AP_SANDBOX_PATH_MAX)
        return ap_error_make(err, 0, "root filesystem path is longer than %d bytes",
                             AP_SANDBOX_PATH_MAX - 1);
    if (s->argv != NULL && (s->argv[0] == NULL || s->argv[0][0] == '\0'))
        return ap_error_make(err, 0, "the command is empty");
    if (s->workdir != NULL && s->workdir[0] != '/')
        return ap_error_make(err, 0, "working directory '%s' is not absolute", s->workdir);
    if (s->hostname != NULL && check_hostname(s->hostname, err) < 0)
        return -1;
    if (!isfinite(s->timeout_s) || s->timeout_s < 0 || s->timeout_s > AP_SANDBOX_MAX_TIMEOUT_S)
        return ap_error_make(err, 0, "timeout must be between 0 and %.0f seconds",
                             AP_SANDBOX_MAX_TIMEOUT_S);
    if (check_limits(&s->limits, err) < 0)
        return -1;
    for (size_t i = 0; i < s->n_binds; i++) {
        const struct ap_bind *b = &s->binds[i];
        if (b->src == NULL || b->src[0] == '\0')
            return ap_error_make(err, 0, "bind %zu has no source", i + 1);
        if (strlen(b->src) >= AP_SANDBOX_PATH_MAX)
            return ap_error_make(err, 0, "bind source is longer than %d bytes",
                                 AP_SANDBOX_PATH_MAX - 1);
        if (check_bind_target(b->dst, err) < 0)
            return -1;
        /* Without a user namespace uid 0 is the host's root minus its capabilities: it still
         * owns every root-owned file, so a writable bind would hand it the host's (a bind of
         * / reaches /proc/sys). Read-only binds, the read-only root and /proc's read-only
         * host-wide files leave it nothing of the host's to write. */
        if (!b->readonly && !s->userns && (s->uid == 0 || s->gid == 0)) {
            ap_error_make(err, 0,
                          "read-write bind of %s for uid or gid 0 outside a user namespace: "
                          "that uid owns every root-owned file below it",
                          b->src);
            return ap_error_hint(err, "add a user namespace (--userns), run as another user, "
                                      "or bind read-only");
        }
    }
    return 0;
}
