#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "../core/log.h"

/* Set by the Makefile to the digest of this file: a cached program is only ever one this
 * very compiler made. */
#ifndef AP_SECCOMP_SOURCE_DIGEST
#define AP_SECCOMP_SOURCE_DIGEST "unknown"
#endif

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
    } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
               {"SCMP_CMP_LT", SCMP_CMP_LT},
               {"SCMP_CMP_LE", SCMP_CMP_LE},
               {"SCMP_CMP_EQ", SCMP_CMP_EQ},
               {"SCMP_CMP_GE", SCMP_CMP_GE},
               {"SCMP_CMP_GT", SCMP_CMP_GT},
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
    } arches[] = {{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
                  {"SCMP_ARCH_X86", SCMP_ARCH_X86},
                  {"SCMP_ARCH_X32", SCMP_ARCH_X32},
                  {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
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

/* Strings from the profile go into messages with control characters and non-ASCII bytes
 * escaped and cut at a length that keeps the message readable. */
enum { SHOWN_LEN = 80 };

static const char *shown(const char *s, char *buf, size_t len)
{
    size_t o = 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (o + 8 >= len) {
            memcpy(buf + o, "...", 4);
            return buf;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
    return buf;
}

/* The profile's spelling of an action, for messages. */
static const char *action_name(uint32_t act, char *buf, size_t len)
{
    const uint32_t data = act & 0xffffU;
    if (act == SCMP_ACT_ALLOW)
        return "SCMP_ACT_ALLOW";
    if (act == SCMP_ACT_LOG)
        return "SCMP_ACT_LOG";
    if (act == SCMP_ACT_KILL_PROCESS)
        return "SCMP_ACT_KILL_PROCESS";
    if (act == SCMP_ACT_KILL_THREAD)
        return "SCMP_ACT_KILL_THREAD";
    if (act == SCMP_ACT_TRAP)
        return "SCMP_ACT_TRAP";
    if (act == SCMP_ACT_ERRNO(data))
        snprintf(buf, len, "SCMP_ACT_ERRNO(%u)", data);
    else if (act == SCMP_ACT_TRACE(data))
        snprintf(buf, len, "SCMP_ACT_TRACE(%u)", data);
    else
        snprintf(buf, len, "action %#x", act);
    return buf;
}

/* The names of a rule: "names" (an array) or the single "name". */
static size_t count_names(const cJSON *rule)
{
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(rule, "names");
    if (cJSON_IsArray(names))
        return (size_t)cJSON_GetArraySize(names);
    return cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rule, "name")) ? 1 : 0;
}

/* The limits of seccomp.h, checked by counting alone, before libseccomp sees anything: a
 * profile past them costs no more than its parse. */
static int check_limits(const cJSON *rules, const char *what, ap_error **err)
{
    size_t idx = 0, names = 0, checks = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, rules)
    {
        if (idx == AP_SECCOMP_MAX_RULES) {
            ap_error_make(err, 0,
                          "%s: syscalls[%zu]: more than %d rules, the limit on entries of "
                          "\"syscalls\" (the profile has %d)",
                          what, idx, AP_SECCOMP_MAX_RULES, cJSON_GetArraySize(rules));
            return ap_error_hint(err, "merge the rules that share an action, \"errnoRet\" and "
                                      "\"args\" into one rule's \"names\"");
        }
        size_t n = count_names(r);
        names += n;
        if (names > AP_SECCOMP_MAX_NAMES) {
            ap_error_make(err, 0,
                          "%s: syscalls[%zu]: more than %d system call names, the limit summed "
                          "over all rules (%zu up to and including this rule)",
                          what, idx, AP_SECCOMP_MAX_NAMES, names);
            return ap_error_hint(err, "name each system call once (a repeat with the same action "
                                      "adds nothing); a profile that denies only a few calls is "
                                      "shorter with \"defaultAction\": \"SCMP_ACT_ALLOW\" and "
                                      "rules for those calls");
        }
        const cJSON *args = cJSON_GetObjectItemCaseSensitive(r, "args");
        if (cJSON_IsArray(args))
            checks += n * (size_t)cJSON_GetArraySize(args);
        if (checks > AP_SECCOMP_MAX_ARG_CHECKS) {
            ap_error_make(err, 0,
                          "%s: syscalls[%zu]: more than %d argument checks, the limit summed "
                          "over all rules (each entry of \"args\" counts once per name of its "
                          "rule; %zu up to and including this rule)",
                          what, idx, AP_SECCOMP_MAX_ARG_CHECKS, checks);
            return ap_error_hint(err,
                                 "each check costs several of the %d BPF instructions the "
                                 "kernel runs per filter and slows libseccomp down: check "
                                 "fewer arguments, or give the whole call one action",
                                 BPF_MAXINSNS);
        }
        idx++;
    }
    return 0;
}

/* One entry of "syscalls", checked. */
struct rule {
    size_t idx;
    uint32_t act;
    unsigned n_cmp;
    struct scmp_arg_cmp cmp[6]; /* sorted, so that equal sets compare equal */
    const cJSON *names;         /* the "names" array, or the single "name" string */
};

static int cmp_order(const struct scmp_arg_cmp *a, const struct scmp_arg_cmp *b)
{
    if (a->arg != b->arg)
        return a->arg < b->arg ? -1 : 1;
    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    if (a->datum_a != b->datum_a)
        return a->datum_a < b->datum_a ? -1 : 1;
    if (a->datum_b != b->datum_b)
        return a->datum_b < b->datum_b ? -1 : 1;
    return 0;
}

/* A JSON number is a double: integers above 2^53 would silently change. */
#define MAX_EXACT_VALUE (INT64_C(1) << 53)

static int parse_arg(const cJSON *a, const char *where, struct scmp_arg_cmp *out, ap_error **err)
{
    int64_t index = 0, v1 = 0, v2 = 0;
    const char *op = NULL;
    if (ap_json_get_int(a, "index", 1, 0, 5, where, &index, err) < 0 ||
        ap_json_get_string(a, "op", 1, where, &op, err) < 0)
        return -1;
    if (ap_json_get_int(a, "value", 1, 0, MAX_EXACT_VALUE, where, &v1, err) < 0 ||
        ap_json_get_int(a, "valueTwo", 0, 0, MAX_EXACT_VALUE, where, &v2, err) < 0)
        return ap_error_hint(err, "argument values are whole numbers from 0 to 2^53, the largest "
                                  "a JSON number holds exactly");
    enum scmp_compare cmp;
    char buf[SHOWN_LEN];
    if (parse_op(op, &cmp) < 0)
        return ap_error_make(err, 0, "%s: unknown op \"%s\"", where, shown(op, buf, sizeof(buf)));
    *out = (struct scmp_arg_cmp){(unsigned)index, cmp, (scmp_datum_t)v1, (scmp_datum_t)v2};
    return 0;
}

static int parse_rule(const cJSON *j, size_t idx, const char *where, int64_t default_errno,
                      struct rule *r, ap_error **err)
{
    memset(r, 0, sizeof(*r));
    r->idx = idx;
    const char *action = NULL;
    int64_t eret = default_errno;
    if (ap_json_get_string(j, "action", 1, where, &action, err) < 0 ||
        ap_json_get_int(j, "errnoRet", 0, 0, 4095, where, &eret, err) < 0)
        return -1;
    char buf[SHOWN_LEN];
    if (parse_action(action, eret, &r->act) < 0)
        return ap_error_make(err, 0, "%s: unknown action \"%s\"", where,
                             shown(action, buf, sizeof(buf)));
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(j, "args");
    if (args != NULL && !cJSON_IsNull(args) && !cJSON_IsArray(args))
        return ap_error_make(err, 0, "%s: \"args\" must be an array", where);
    const cJSON *a;
    cJSON_ArrayForEach(a, args)
    {
        if (r->n_cmp == AP_ARRAY_SIZE(r->cmp))
            return ap_error_make(err, 0, "%s: more than %zu argument checks in one rule", where,
                                 AP_ARRAY_SIZE(r->cmp));
        if (parse_arg(a, where, &r->cmp[r->n_cmp], err) < 0)
            return -1;
        /* Insertion sort: at most six. */
        for (unsigned k = r->n_cmp; k > 0 && cmp_order(&r->cmp[k], &r->cmp[k - 1]) < 0; k--) {
            struct scmp_arg_cmp t = r->cmp[k];
            r->cmp[k] = r->cmp[k - 1];
            r->cmp[k - 1] = t;
        }
        r->n_cmp++;
    }
    const cJSON *names = cJSON_GetObjectItemCaseSensitive(j, "names");
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(j, "name");
    if (!cJSON_IsArray(names) && !cJSON_IsString(single))
        return ap_error_make(err, 0, "%s: needs \"names\"", where);
    r->names = cJSON_IsArray(names) ? names : single;
    return 0;
}

/* What the filter already does for one system call, so that libseccomp gets each
 * (syscall, action, args) once and a contradiction is refused, not resolved silently. The
 * table is open-addressed on the syscall number (negative for libseccomp's pseudo-syscalls). */
struct sys_entry {
    int nr;
    unsigned char used, has_uncond;
    uint32_t uncond_act; /* the action whatever the arguments, when has_uncond */
    size_t uncond_rule;
    size_t first_cond; /* 1 + index into sys_table.cond, 0 for none */
};

struct cond_entry {
    uint32_t act;
    unsigned n_cmp;
    struct scmp_arg_cmp cmp[6];
    size_t rule;
    size_t next; /* 1 + index of the next one for the same syscall, 0 for none */
};

struct sys_table {
    struct sys_entry *slot;
    size_t mask, used;
    struct cond_entry *cond;
    size_t n_cond;
};

/* Twice the most names a profile may hold: every lookup finds a free slot quickly. */
enum { SYS_SLOTS = 2 * AP_SECCOMP_MAX_NAMES, SYS_CONDS = AP_SECCOMP_MAX_ARG_CHECKS };

static void cleanup_sys_table(struct sys_table *t)
{
    free(t->slot);
    free(t->cond);
}

static const struct sys_entry *sys_find(const struct sys_table *t, int nr)
{
    for (size_t i = ((uint32_t)nr * 2654435761U) & t->mask;; i = (i + 1) & t->mask) {
        if (!t->slot[i].used)
            return NULL;
        if (t->slot[i].nr == nr)
            return &t->slot[i];
    }
}

/* The entry for nr, made empty when new; NULL when the table is full (the limits keep it from
 * filling). */
static struct sys_entry *sys_get(struct sys_table *t, int nr)
{
    size_t i = ((uint32_t)nr * 2654435761U) & t->mask;
    for (; t->slot[i].used; i = (i + 1) & t->mask)
        if (t->slot[i].nr == nr)
            return &t->slot[i];
    if (t->used + 1 >= SYS_SLOTS)
        return NULL;
    t->used++;
    t->slot[i] = (struct sys_entry){.nr = nr, .used = 1};
    return &t->slot[i];
}

static int same_args(const struct cond_entry *c, const struct rule *r)
{
    if (c->n_cmp != r->n_cmp)
        return 0;
    for (unsigned k = 0; k < c->n_cmp; k++)
        if (cmp_order(&c->cmp[k], &r->cmp[k]) != 0)
            return 0;
    return 1;
}

/* Sets *dup when rule r adds nothing to what e holds; refuses a rule that contradicts it. */
static int check_conflict(const struct sys_table *t, const struct sys_entry *e,
                          const struct rule *r, const char *name, const char *where, int *dup,
                          ap_error **err)
{
    char a[48], b[48];
    const char *mine = action_name(r->act, a, sizeof(a));
    *dup = 0;
    if (e->has_uncond && e->uncond_act == r->act) {
        *dup = 1; /* already r->act whatever the arguments */
        return 0;
    }
    if (e->has_uncond) {
        const char *theirs = action_name(e->uncond_act, b, sizeof(b));
        if (r->n_cmp == 0)
            ap_error_make(err, 0, "%s: gives %s %s, but syscalls[%zu] already gives it %s", where,
                          name, mine, e->uncond_rule, theirs);
        else
            ap_error_make(err, 0,
                          "%s: its argument checks on %s (%s) would never apply: syscalls[%zu] "
                          "already gives %s %s whatever its arguments",
                          where, name, mine, e->uncond_rule, name, theirs);
        return ap_error_hint(err,
                             "a system call takes one action for a given set of argument "
                             "checks; remove %s from one of the two rules",
                             name);
    }
    for (size_t i = e->first_cond; i != 0; i = t->cond[i - 1].next) {
        const struct cond_entry *c = &t->cond[i - 1];
        if (r->n_cmp == 0 && c->act != r->act) {
            /* libseccomp would replace the checked rule by this one. */
            ap_error_make(err, 0,
                          "%s: gives %s %s whatever its arguments, which would drop the argument "
                          "checks of syscalls[%zu] (%s)",
                          where, name, mine, c->rule, action_name(c->act, b, sizeof(b)));
            return ap_error_hint(err,
                                 "put the rule with \"args\" for %s on calls the other "
                                 "rule does not name, or drop one of the two",
                                 name);
        }
        if (r->n_cmp > 0 && same_args(c, r)) {
            if (c->act == r->act) {
                *dup = 1;
                return 0;
            }
            ap_error_make(err, 0,
                          "%s: gives %s %s for the same argument checks that syscalls[%zu] "
                          "gives %s",
                          where, name, mine, c->rule, action_name(c->act, b, sizeof(b)));
            return ap_error_hint(err, "remove %s from one of the two rules", name);
        }
    }
    return 0;
}

static int record(struct sys_table *t, struct sys_entry *e, const struct rule *r)
{
    if (r->n_cmp == 0) {
        e->has_uncond = 1;
        e->uncond_act = r->act;
        e->uncond_rule = r->idx;
        return 0;
    }
    if (t->n_cond == SYS_CONDS)
        return -1;
    struct cond_entry *c = &t->cond[t->n_cond++];
    *c = (struct cond_entry){
        .act = r->act, .n_cmp = r->n_cmp, .rule = r->idx, .next = e->first_cond};
    memcpy(c->cmp, r->cmp, sizeof(c->cmp));
    e->first_cond = t->n_cond;
    return 0;
}

/* Hands libseccomp the rule's names that the table does not hold yet. */
static int add_rule(scmp_filter_ctx ctx, struct sys_table *t, const struct rule *r,
                    uint32_t def_act, const char *where, struct ap_seccomp *out, ap_error **err)
{
    const cJSON *list = cJSON_IsArray(r->names) ? r->names : NULL;
    for (const cJSON *n = list != NULL ? list->child : r->names; n != NULL;
         n = list != NULL ? n->next : NULL) {
        if (!cJSON_IsString(n))
            return ap_error_make(err, 0, "%s: names must be strings", where);
        int nr = seccomp_syscall_resolve_name(n->valuestring);
        /* Not a syscall on this architecture, or the default action: Docker skips both (and
         * libseccomp refuses the latter). */
        if (nr == __NR_SCMP_ERROR || r->act == def_act) {
            out->skipped++;
            continue;
        }
        /* A name that resolved is libseccomp's own: safe to print. */
        const char *name = n->valuestring;
        struct sys_entry *e = sys_get(t, nr);
        if (e == NULL)
            return ap_error_make(err, 0, "%s: too many distinct system calls", where);
        int dup = 0;
        if (check_conflict(t, e, r, name, where, &dup, err) < 0)
            return -1;
        if (dup) {
            out->skipped++;
            continue;
        }
        int rc = seccomp_rule_add_array(ctx, r->act, nr, r->n_cmp, r->cmp);
        if (rc < 0)
            return ap_error_make(err, -rc, "%s: libseccomp refused the rule for %s", where, name);
        if (record(t, e, r) < 0)
            return ap_error_make(err, 0, "%s: too many argument checks", where);
        out->rules++;
    }
    return 0;
}

/* The filter is loaded before the command's execve: a profile that denies it would show up as
 * a command that died at once, not as the profile's fault. */
static int check_execve(const struct sys_table *t, uint32_t def_act, const char *what,
                        ap_error **err)
{
    int nr = seccomp_syscall_resolve_name("execve");
    const struct sys_entry *e = nr == __NR_SCMP_ERROR ? NULL : sys_find(t, nr);
    uint32_t act = e != NULL && e->has_uncond ? e->uncond_act : def_act;
    if (act == SCMP_ACT_ALLOW || act == SCMP_ACT_LOG)
        return 0;
    char a[48];
    const char *name = action_name(act, a, sizeof(a));
    if (e != NULL && e->has_uncond)
        ap_error_make(err, 0,
                      "%s: does not allow execve, so no command can start under it "
                      "(syscalls[%zu] gives it %s)",
                      what, e->uncond_rule, name);
    else if (e != NULL && e->first_cond != 0)
        ap_error_make(err, 0,
                      "%s: does not allow execve, so no command can start under it (only "
                      "under the argument checks of syscalls[%zu]; otherwise defaultAction %s "
                      "applies)",
                      what, t->cond[e->first_cond - 1].rule, name);
    else
        ap_error_make(err, 0,
                      "%s: does not allow execve, so no command can start under it "
                      "(defaultAction %s applies to it)",
                      what, name);
    return ap_error_hint(err, "add \"execve\" to a rule with \"action\": \"SCMP_ACT_ALLOW\" and "
                              "no \"args\"");
}

static int add_arches(scmp_filter_ctx ctx, const cJSON *root, const char *what, ap_error **err)
{
    const cJSON *arches = cJSON_GetObjectItemCaseSensitive(root, "architectures");
    const cJSON *archmap = cJSON_GetObjectItemCaseSensitive(root, "archMap");
    const cJSON *it;
    char buf[SHOWN_LEN];
    cJSON_ArrayForEach(it, arches)
    {
        uint32_t a = cJSON_IsString(it) ? arch_token(it->valuestring) : 0;
        if (a != 0 && a != seccomp_arch_native()) {
            int r = seccomp_arch_add(ctx, a);
            if (r < 0 && r != -EEXIST)
                return ap_error_make(err, -r, "%s: adding architecture %s", what,
                                     shown(it->valuestring, buf, sizeof(buf)));
        }
    }
    cJSON_ArrayForEach(it, archmap)
    {
        const cJSON *main_arch = cJSON_GetObjectItemCaseSensitive(it, "architecture");
        if (!cJSON_IsString(main_arch) ||
            arch_token(main_arch->valuestring) != seccomp_arch_native())
            continue;
        const cJSON *sub;
        cJSON_ArrayForEach(sub, cJSON_GetObjectItemCaseSensitive(it, "subArchitectures"))
        {
            uint32_t a = cJSON_IsString(sub) ? arch_token(sub->valuestring) : 0;
            if (a != 0) {
                int r = seccomp_arch_add(ctx, a);
                if (r < 0 && r != -EEXIST)
                    return ap_error_make(err, -r, "%s: adding architecture %s", what,
                                         shown(sub->valuestring, buf, sizeof(buf)));
            }
        }
    }
    return 0;
}

static int export_bpf(scmp_filter_ctx ctx, const char *what, struct ap_seccomp *out, ap_error **err)
{
    cleanup_close int fd = memfd_create("seccomp-bpf", MFD_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "%s: memfd_create", what);
    int r = seccomp_export_bpf(ctx, fd);
    if (r < 0)
        return ap_error_make(err, -r, "%s: libseccomp could not generate the BPF program", what);
    off_t size = lseek(fd, 0, SEEK_END);
    if (size < 0)
        return ap_error_make(err, errno, "%s: measuring the BPF program", what);
    off_t n = size / (off_t)sizeof(struct sock_filter);
    if (size == 0 || size % (off_t)sizeof(struct sock_filter) != 0)
        return ap_error_make(err, 0, "%s: libseccomp wrote a BPF program of %lld bytes", what,
                             (long long)size);
    if (n > BPF_MAXINSNS) {
        ap_error_make(err, 0,
                      "%s: the filter compiles to %lld BPF instructions, more than the kernel's "
                      "limit of %d (BPF_MAXINSNS)",
                      what, (long long)n, BPF_MAXINSNS);
        return ap_error_hint(err, "check fewer arguments (each check costs a few instructions "
                                  "on every architecture the profile lists), or list fewer "
                                  "architectures");
    }
    cleanup_free struct sock_filter *insns = malloc((size_t)size);
    if (insns == NULL)
        return ap_error_make(err, ENOMEM, "%s: reading the BPF program", what);
    for (size_t done = 0; done < (size_t)size;) {
        ssize_t k = pread(fd, (char *)insns + done, (size_t)size - done, (off_t)done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return ap_error_make(err, k < 0 ? errno : EIO, "%s: reading the BPF program", what);
        done += (size_t)k;
    }
    out->insns = steal_pointer(&insns);
    out->len = (unsigned short)n;
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
    char buf[SHOWN_LEN];
    if (parse_action(def, def_errno, &def_act) < 0)
        return ap_error_make(err, 0, "%s: unknown defaultAction \"%s\"", what,
                             shown(def, buf, sizeof(buf)));
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(root, "syscalls");
    if (rules != NULL && !cJSON_IsNull(rules) && !cJSON_IsArray(rules))
        return ap_error_make(err, 0, "%s: \"syscalls\" must be an array", what);
    if (check_limits(rules, what, err) < 0)
        return -1;
    __attribute__((cleanup(cleanup_scmp))) scmp_filter_ctx ctx = seccomp_init(def_act);
    if (ctx == NULL)
        return ap_error_make(err, 0, "%s: libseccomp could not start a filter", what);
    /* Kills a process that makes system calls of an architecture it never mentioned. A binary
     * tree keeps lookups logarithmic however long the allowlist. */
    int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    if (r == 0)
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (r < 0)
        return ap_error_make(err, -r, "%s: setting libseccomp's filter attributes", what);
    if (add_arches(ctx, root, what, err) < 0)
        return -1;
    __attribute__((cleanup(cleanup_sys_table))) struct sys_table table = {
        .slot = calloc(SYS_SLOTS, sizeof(struct sys_entry)),
        .mask = SYS_SLOTS - 1,
        .cond = calloc(SYS_CONDS, sizeof(struct cond_entry)),
    };
    if (table.slot == NULL || table.cond == NULL)
        return ap_error_make(err, ENOMEM, "%s: compiling", what);
    struct ap_seccomp res;
    memset(&res, 0, sizeof(res));
    size_t idx = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, rules)
    {
        cleanup_free char *where = NULL;
        if (asprintf(&where, "%s: syscalls[%zu]", what, idx) < 0)
            return ap_error_make(err, ENOMEM, "%s: compiling", what);
        struct rule rule;
        if (parse_rule(it, idx++, where, def_errno, &rule, err) < 0)
            return -1;
        if (!rule_applies(it)) {
            res.skipped++;
            continue;
        }
        if (add_rule(ctx, &table, &rule, def_act, where, &res, err) < 0)
            return -1;
    }
    if (check_execve(&table, def_act, what, err) < 0 || export_bpf(ctx, what, &res, err) < 0)
        return -1;
    *out = res;
    return 0;
}

/* The cache file: this header, then the instructions. */
struct cache_header {
    char magic[8];
    uint64_t rules, skipped;
    uint32_t len, pad;
    char digest[AP_SHA256_HEX_LEN + 1]; /* of the instructions */
    char pad2[7];
};

static const char cache_magic[8] = "apbpf1\n";

/* The digest of everything the program depends on: the profile, this compiler, libseccomp,
 * and the kernel release and machine (minKernel and the native architecture). */
static void cache_key(const char *json, size_t len, char *hex)
{
    struct utsname u;
    memset(&u, 0, sizeof(u));
    uname(&u);
    const struct scmp_version *v = seccomp_version();
    char meta[512];
    int n = snprintf(meta, sizeof(meta), "%s\n%u.%u.%u\n%s\n%s\n", AP_SECCOMP_SOURCE_DIGEST,
                     v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, u.release, u.machine);
    struct ap_sha256 h;
    ap_sha256_init(&h);
    ap_sha256_update(&h, meta, (size_t)n);
    ap_sha256_update(&h, json, len);
    ap_sha256_final_hex(&h, hex);
}

/* Reads a cached program; 0 on a hit, -1 when there is none or it fails a check. */
static int cache_read(const char *path, struct ap_seccomp *out)
{
    cleanup_free char *buf = NULL;
    size_t size = 0;
    ap_error *e = NULL;
    size_t max = sizeof(struct cache_header) + BPF_MAXINSNS * sizeof(struct sock_filter);
    if (ap_fs_read_file(AT_FDCWD, path, max, &buf, &size, &e) < 0) {
        ap_error_release(&e);
        return -1;
    }
    struct cache_header h;
    if (size < sizeof(h))
        return -1;
    memcpy(&h, buf, sizeof(h));
    size_t bytes = (size_t)h.len * sizeof(struct sock_filter);
    if (memcmp(h.magic, cache_magic, sizeof(h.magic)) != 0 || h.len == 0 || h.len > BPF_MAXINSNS ||
        size != sizeof(h) + bytes || h.digest[AP_SHA256_HEX_LEN] != '\0')
        return -1;
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(buf + sizeof(h), bytes, hex);
    if (strcmp(hex, h.digest) != 0)
        return -1;
    struct sock_filter *insns = malloc(bytes);
    if (insns == NULL)
        return -1;
    memcpy(insns, buf + sizeof(h), bytes);
    *out = (struct ap_seccomp){insns, (unsigned short)h.len, h.rules, h.skipped};
    return 0;
}

/* Stores a program; a failure only costs the next run a compile. */
static void cache_write(const char *dir, const char *path, const struct ap_seccomp *f)
{
    size_t bytes = (size_t)f->len * sizeof(struct sock_filter);
    struct cache_header h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, cache_magic, sizeof(h.magic));
    h.rules = f->rules;
    h.skipped = f->skipped;
    h.len = f->len;
    ap_sha256_hex(f->insns, bytes, h.digest);
    cleanup_free char *buf = malloc(sizeof(h) + bytes);
    ap_error *e = NULL;
    if (buf != NULL) {
        memcpy(buf, &h, sizeof(h));
        memcpy(buf + sizeof(h), f->insns, bytes);
        if (ap_fs_mkdir_p(dir, 0755, &e) == 0)
            ap_fs_write_atomic(path, buf, sizeof(h) + bytes, 0644, &e);
    }
    if (e != NULL)
        ap_log_debug("seccomp cache: %s", e->msg);
    ap_error_release(&e);
}

int ap_seccomp_compile_cached(const char *json, size_t len, const char *what, const char *cache_dir,
                              struct ap_seccomp *out, ap_error **err)
{
    char key[AP_SHA256_HEX_LEN + 1], dir[4096], path[4200];
    if (cache_dir == NULL || *cache_dir == '\0' ||
        ap_fs_path(dir, sizeof(dir), "%s/seccomp", cache_dir) < 0)
        return ap_seccomp_compile(json, len, what, out, err);
    cache_key(json, len, key);
    if (ap_fs_path(path, sizeof(path), "%s/%s.bpf", dir, key) < 0)
        return ap_seccomp_compile(json, len, what, out, err);
    if (cache_read(path, out) == 0)
        return 0;
    if (ap_seccomp_compile(json, len, what, out, err) < 0)
        return -1;
    cache_write(dir, path, out);
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
