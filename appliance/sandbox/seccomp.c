#include "seccomp.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/json.h"

/* The default profile is linked in from seccomp-default.json. */
extern const char ap_seccomp_default_json[];

const char *ap_seccomp_default_profile(void)
{
    return ap_seccomp_default_json;
}

static inline void cleanup_scmp(scmp_filter_ctx *c)
{
    if (*c != NULL)
        seccomp_release(*c);
}

static int parse_action(const char *s, int64_t errno_ret, uint32_t *out)
{
    if (strcmp(s, "SCMP_ACT_ALLOW") == 0)
        *out = SCMP_ACT_ALLOW;
    else if (strcmp(s, "SCMP_ACT_ERRNO") == 0)
        *out = SCMP_ACT_ERRNO((uint16_t)errno_ret);
    else if (strcmp(s, "SCMP_ACT_KILL") == 0 || strcmp(s, "SCMP_ACT_KILL_THREAD") == 0)
        *out = SCMP_ACT_KILL_THREAD;
    else if (strcmp(s, "SCMP_ACT_KILL_PROCESS") == 0)
        *out = SCMP_ACT_KILL_PROCESS;
    else if (strcmp(s, "SCMP_ACT_TRAP") == 0)
        *out = SCMP_ACT_TRAP;
    else if (strcmp(s, "SCMP_ACT_LOG") == 0)
        *out = SCMP_ACT_LOG;
    else if (strcmp(s, "SCMP_ACT_TRACE") == 0)
        *out = SCMP_ACT_TRACE((uint16_t)errno_ret);
    else
        return -1;
    return 0;
}

static int parse_op(const char *s, enum scmp_compare *out)
{
    static const struct {
        const char *name;
        enum scmp_compare op;
    } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
               {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
               {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
               {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(ops); i++) {
        if (strcmp(s, ops[i].name) == 0) {
            *out = ops[i].op;
            return 0;
        }
    }
    return -1;
}

static uint32_t arch_token(const char *s)
{
    static const struct {
        const char *name;
        uint32_t arch;
    } arches[] = {{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64}, {"SCMP_ARCH_X86", SCMP_ARCH_X86},
                  {"SCMP_ARCH_X32", SCMP_ARCH_X32},       {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
                  {"SCMP_ARCH_ARM", SCMP_ARCH_ARM}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(arches); i++)
        if (strcmp(s, arches[i].name) == 0)
            return arches[i].arch;
    return 0;
}

/* "5.8" style versions against the running kernel. */
static int kernel_at_least(const char *v)
{
    struct utsname u;
    if (uname(&u) < 0)
        return 1;
    int a = 0, b = 0, x = 0, y = 0;
    sscanf(u.release, "%d.%d", &a, &b);
    sscanf(v, "%d.%d", &x, &y);
    return a > x || (a == x && b >= y);
}

static int array_has(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

/* Docker's includes/excludes: caps (we hold none), arches, minKernel. */
static int rule_applies(const cJSON *rule)
{
    const cJSON *inc = cJSON_GetObjectItemCaseSensitive(rule, "includes");
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(rule, "excludes");
    if (cJSON_IsObject(inc)) {
        const cJSON *caps = cJSON_GetObjectItemCaseSensitive(inc, "caps");
        if (cJSON_IsArray(caps) && cJSON_GetArraySize(caps) > 0)
            return 0;
        const cJSON *arches = cJSON_GetObjectItemCaseSensitive(inc, "arches");
        if (cJSON_IsArray(arches) && cJSON_GetArraySize(arches) > 0 &&
            !array_has(arches, "amd64") && !array_has(arches, "x86_64") &&
            !array_has(arches, "x32") && !array_has(arches, "386"))
            return 0;
        const cJSON *mk = cJSON_GetObjectItemCaseSensitive(inc, "minKernel");
        if (cJSON_IsString(mk) && !kernel_at_least(mk->valuestring))
            return 0;
    }
    if (cJSON_IsObject(exc)) {
        const cJSON *arches = cJSON_GetObjectItemCaseSensitive(exc, "arches");
        if (cJSON_IsArray(arches) && (array_has(arches, "amd64") || array_has(arches, "x86_64")))
            return 0;
    }
    return 1;
}

static int add_rule(scmp_filter_ctx ctx, const cJSON *rule, size_t idx, const char *what,
                    int64_t default_errno, struct ap_seccomp *out, ap_error **err)
{
    char where[256];
    snprintf(where, sizeof(where), "%s: syscalls[%zu]", what, idx);
    const char *action = NULL;
    int64_t eret = default_errno;
    if (ap_json_get_string(rule, "action", 1, where, &action, err) < 0 ||
        ap_json_get_int(rule, "errnoRet", 0, 0, 4095, where, &eret, err) < 0)
        return -1;
    uint32_t act;
    if (parse_action(action, eret, &act) < 0)
        return ap_error_make(err, 0, "%s: unknown action \"%s\"", where, action);
    struct scmp_arg_cmp cmps[6];
    unsigned ncmp = 0;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(rule, "args");
    const cJSON *a;
    cJSON_ArrayForEach(a, args)
    {
        if (ncmp == 6)
            return ap_error_make(err, 0, "%s: more than 6 argument checks", where);
        int64_t index = 0;
        const char *op = NULL;
        const cJSON *v1 = cJSON_GetObjectItemCaseSensitive(a, "value");
        const cJSON *v2 = cJSON_GetObjectItemCaseSensitive(a, "valueTwo");
        if (ap_json_get_int(a, "index", 1, 0, 5, where, &index, err) < 0 ||
            ap_json_get_string(a, "op", 1, where, &op, err) < 0)
            return -1;
        enum scmp_compare cmp;
        if (parse_op(op, &cmp) < 0)
            return ap_error_make(err, 0, "%s: unknown op \"%s\"", where, op);
        if (!cJSON_IsNumber(v1))
            return ap_error_make(err, 0, "%s: args need a numeric value", where);
        cmps[ncmp++] = (struct scmp_arg_cmp){(unsigned)index, cmp, (scmp_datum_t)v1->valuedouble,
                                             cJSON_IsNumber(v2) ? (scmp_datum_t)v2->valuedouble
                                                                : 0};
    }
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(rule, "names");
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(rule, "name");
    if (!cJSON_IsArray(names) && !cJSON_IsString(single))
        return ap_error_make(err, 0, "%s: needs \"names\"", where);
    if (!rule_applies(rule)) {
        out->skipped++;
        return 0;
    }
    const cJSON *n;
    const cJSON *list = cJSON_IsArray(names) ? names : NULL;
    for (n = list != NULL ? list->child : single; n != NULL; n = list != NULL ? n->next : NULL) {
        if (!cJSON_IsString(n))
            return ap_error_make(err, 0, "%s: names must be strings", where);
        int nr = seccomp_syscall_resolve_name(n->valuestring);
        if (nr == __NR_SCMP_ERROR) {
            out->skipped++; /* not a syscall on this architecture */
            continue;
        }
        int r = seccomp_rule_add_array(ctx, act, nr, ncmp, cmps);
        if (r == -EEXIST || r == -EACCES) {
            /* Same action as the default, or already there: nothing to add. */
            out->skipped++;
            continue;
        }
        if (r < 0) {
            errno = -r;
            return ap_error_make(err, -r, "%s: adding %s", where, n->valuestring);
        }
        out->rules++;
    }
    return 0;
}

int ap_seccomp_compile(const char *json, size_t len, const char *what, struct ap_seccomp *out,
                       ap_error **err)
{
    memset(out, 0, sizeof(*out));
    cleanup_cjson cJSON *root = NULL;
    if (ap_json_parse(json, len, what, &root, err) < 0)
        return -1;
    const char *def = NULL;
    int64_t def_errno = EPERM;
    if (ap_json_get_string(root, "defaultAction", 1, what, &def, err) < 0 ||
        ap_json_get_int(root, "defaultErrnoRet", 0, 0, 4095, what, &def_errno, err) < 0)
        return -1;
    uint32_t def_act;
    if (parse_action(def, def_errno, &def_act) < 0)
        return ap_error_make(err, 0, "%s: unknown defaultAction \"%s\"", what, def);
    __attribute__((cleanup(cleanup_scmp))) scmp_filter_ctx ctx = seccomp_init(def_act);
    if (ctx == NULL)
        return ap_error_make(err, 0, "%s: libseccomp could not start a filter", what);
    /* Kills a process that makes system calls of an architecture it never mentioned. */
    seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    /* A binary tree keeps lookups logarithmic however long the allowlist. */
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    const cJSON *arches = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *archmap = cJSON_GetObjectItemCaseSensitive(root, "archMap");
    const cJSON *it;
    cJSON_ArrayForEach(it, arches)
    {
        uint32_t a = cJSON_IsString(it) ? arch_token(it->valuestring) : 0;
        if (a != 0 && a != seccomp_arch_native()) {
            int r = seccomp_arch_add(ctx, a);
            if (r < 0 && r != -EEXIST)
                return ap_error_make(err, -r, "%s: adding architecture %s", what,
                                     it->valuestring);
        }
    }
    cJSON_ArrayForEach(it, archmap)
    {
        const cJSON *main_arch = cJSON_GetObjectItemCaseSensitive(it, "architecture");
        if (!cJSON_IsString(main_arch) || arch_token(main_arch->valuestring) != seccomp_arch_native())
            continue;
        const cJSON *sub;
        cJSON_ArrayForEach(sub, cJSON_GetObjectItemCaseSensitive(it, "subArchitectures"))
        {
            uint32_t a = cJSON_IsString(sub) ? arch_token(sub->valuestring) : 0;
            if (a != 0) {
                int r = seccomp_arch_add(ctx, a);
                if (r < 0 && r != -EEXIST)
                    return ap_error_make(err, -r, "%s: adding architecture", what);
            }
        }
    }
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "syscalls");
    if (rules != NULL && !cJSON_IsArray(rules))
        return ap_error_make(err, 0, "%s: \"syscalls\" must be an array", what);
    size_t idx = 0;
    cJSON_ArrayForEach(it, rules)
    {
        if (add_rule(ctx, it, idx++, what, def_errno, out, err) < 0)
            return -1;
    }
    int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "%s: memfd_create", what);
    int r = seccomp_export_bpf(ctx, fd);
    off_t size = r == 0 ? lseek(fd, 0, SEEK_END) : -1;
    if (r < 0 || size <= 0 || size % (off_t)sizeof(struct sock_filter) != 0 ||
        size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS) {
        close(fd);
        return ap_error_make(err, r < 0 ? -r : 0, "%s: exporting the BPF program%s", what,
                             size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS
                                 ? " (too many instructions)"
                                 : "");
    }
    out->insns = malloc((size_t)size);
    if (out->insns == NULL || pread(fd, out->insns, (size_t)size, 0) != size) {
        close(fd);
        free(out->insns);
        out->insns = NULL;
        return ap_error_make(err, EIO, "%s: reading the BPF program", what);
    }
    close(fd);
    out->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
    return 0;
}

int ap_seccomp_load(const struct ap_seccomp *f)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    struct sock_fprog prog = {.len = f->len, .filter = f->insns};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return -errno;
    return 0;
}

void ap_seccomp_free(struct ap_seccomp *f)
{
    free(f->insns);
    memset(f, 0, sizeof(*f));
}
