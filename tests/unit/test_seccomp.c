/* The seccomp profile compiler (sandbox/seccomp.c): the execve check, the limits on a profile
 * and how fast a profile at or past them is handled, de-duplication of repeated rules and the
 * refusal of contradicting ones, and the cache of compiled programs. The filters that compile are
 * loaded in a forked child, which must see the denial, beside a control call the filter lets
 * through. */
#include <dirent.h>
#include <errno.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "sandbox/seccomp.h"
#include "test.h"

#define WHAT "t/profile.json"
#define EXECVE_MSG "does not allow execve, so no command can start under it"
#define EXECVE_HINT "add \"execve\" to a rule with \"action\": \"SCMP_ACT_ALLOW\""

static int compile(const char *json, struct ap_seccomp *f, ap_error **err)
{
    return ap_seccomp_compile(json, strlen(json), WHAT, f, err);
}

/* Compiles json and expects success; the caller frees *f when this returns 1. */
static int compiles(const char *json, struct ap_seccomp *f, int line)
{
    ap_error *err = NULL;
    int r = compile(json, f, &err);
    if (!CHECK_MSG(r == 0, "line %d: refused: %s", line, err != NULL ? err->msg : "(no error)")) {
        ap_error_release(&err);
        return 0;
    }
    CHECK_MSG(f->insns != NULL && f->len > 0 && f->len <= BPF_MAXINSNS, "line %d: %u instructions",
              line, f->len);
    return 1;
}

/* Compiles json and expects a refusal whose message holds the profile's name and every
 * NULL-terminated needle. */
static void refused(const char *json, int line, ...)
{
    struct ap_seccomp f;
    ap_error *err = NULL;
    int r = compile(json, &f, &err);
    CHECK_MSG(r == -1, "line %d: compiled (%u instructions)", line, r == 0 ? f.len : 0);
    if (r == 0)
        ap_seccomp_free(&f);
    else
        CHECK_MSG(f.insns == NULL && f.rules == 0, "line %d: out not left empty", line);
    if (!CHECK_MSG(err != NULL, "line %d: no error", line))
        return;
    CHECK_MSG(test_contains(err->msg, WHAT ": "), "line %d: no profile name in: %s", line,
              err->msg);
    va_list ap;
    va_start(ap, line);
    for (const char *needle; (needle = va_arg(ap, const char *)) != NULL;)
        CHECK_MSG(test_contains(err->msg, needle), "line %d: \"%s\" not in: %s", line, needle,
                  err->msg);
    va_end(ap);
    ap_error_release(&err);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Every system call name of this architecture, in number order (malloc'd, NULL-terminated). */
static char **syscall_names(size_t *n)
{
    static char *names[1024];
    static size_t count;
    if (count == 0)
        for (int nr = 0; nr < 1024 && count + 1 < AP_ARRAY_SIZE(names); nr++) {
            char *s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
            if (s != NULL)
                names[count++] = s;
        }
    *n = count;
    return names;
}

/* Appends to b; aborts the test program when out of memory (test_buf does). */
static void put(struct test_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct test_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        fprintf(stderr, "test_seccomp: put: %d bytes do not fit\n", n);
        abort();
    }
    test_buf_append(b, tmp, (size_t)n);
}

static const char *finish(struct test_buf *b)
{
    test_buf_append(b, "", 1);
    return (const char *)b->data;
}

/* Runs fn in a child under filter f (none when f is NULL: the unconfined control); returns the
 * child's wait status (fn's return value is the exit code, 99 when the filter did not load). */
static int in_child(const struct ap_seccomp *f, int (*fn)(void))
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (f != NULL && ap_seccomp_load(f) < 0)
            _exit(99);
        _exit(fn());
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return st;
}

/* ---- execve ------------------------------------------------------------------------------ */

TEST(default_profile_compiles_and_allows_execve)
{
    struct ap_seccomp f;
    const char *p = ap_seccomp_default_profile();
    if (!compiles(p, &f, __LINE__))
        return;
    CHECK_MSG(f.rules >= 250, "rules %zu", f.rules);
    ap_seccomp_free(&f);
}

TEST(deny_all_is_refused_for_execve)
{
    refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\"}", __LINE__, EXECVE_MSG,
            "defaultAction SCMP_ACT_ERRNO(1)", EXECVE_HINT, NULL);
    refused("{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"syscalls\":[]}", __LINE__, EXECVE_MSG,
            "SCMP_ACT_KILL_PROCESS", NULL);
    /* A rule naming execve with the default's own action changes nothing. */
    refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"execve\"],"
            "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}",
            __LINE__, EXECVE_MSG, NULL);
}

TEST(execve_under_an_args_condition_only_is_refused)
{
    refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
            "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
            "{\"names\":[\"execve\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":1,"
            "\"value\":0,\"op\":\"SCMP_CMP_NE\"}]}]}",
            __LINE__, EXECVE_MSG, "argument checks of syscalls[1]", EXECVE_HINT, NULL);
}

TEST(execve_denied_by_a_rule_or_allowed_only_with_a_capability_is_refused)
{
    refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
            "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"},"
            "{\"names\":[\"execve\",\"execveat\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
            __LINE__, EXECVE_MSG, "syscalls[1] gives it SCMP_ACT_KILL_PROCESS", NULL);
    /* No capability is held in the sandbox: the rule does not apply. */
    refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"execve\"],"
            "\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}}]}",
            __LINE__, EXECVE_MSG, NULL);
}

TEST(a_profile_allowing_execve_compiles)
{
    const char *cases[] = {
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"execve\"],"
        "\"action\":\"SCMP_ACT_ALLOW\"}]}",
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"name\":\"execve\","
        "\"action\":\"SCMP_ACT_LOG\"}]}",
        "{\"defaultAction\":\"SCMP_ACT_LOG\"}",
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"execve\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":0,\"op\":"
        "\"SCMP_CMP_EQ\"}]}]}",
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(cases); i++) {
        struct ap_seccomp f;
        if (compiles(cases[i], &f, __LINE__))
            ap_seccomp_free(&f);
    }
}

/* ---- limits ------------------------------------------------------------------------------ */

/* A profile that allows every call by name, `names` names in all: the first rule holds the
 * real names, cycled, in rules of `per_rule` names each. */
static const char *cycled_names(struct test_buf *b, size_t names, size_t per_rule)
{
    size_t n;
    char **all = syscall_names(&n);
    put(b, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[");
    for (size_t i = 0; i < names; i++) {
        if (i % per_rule == 0)
            put(b, "%s{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[", i == 0 ? "" : "]},");
        put(b, "%s\"%s\"", i % per_rule == 0 ? "" : ",", all[i % n]);
    }
    put(b, "]}]}");
    return finish(b);
}

TEST(the_name_limit_is_refused_naming_the_rule)
{
    struct test_buf b = {0};
    /* 4000 names in syscalls[0], then 97 more. */
    put(&b, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\","
            "\"names\":[\"execve\"");
    for (int i = 1; i < 4000; i++)
        put(&b, ",\"read\"");
    put(&b, "]},{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"write\"");
    for (int i = 1; i < 97; i++)
        put(&b, ",\"write\"");
    put(&b, "]}]}");
    refused(finish(&b), __LINE__, "syscalls[1]: ", "more than 4096 system call names",
            "4097 up to and including this rule", "Hint: name each system call once", NULL);
    test_buf_free(&b);
}

TEST(the_rule_limit_is_refused_naming_the_rule)
{
    struct test_buf b = {0};
    put(&b, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[");
    for (int i = 0; i < AP_SECCOMP_MAX_RULES + 1; i++)
        put(&b, "%s{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"}", i ? "," : "");
    put(&b, "]}");
    refused(finish(&b), __LINE__, "syscalls[1024]: ", "more than 1024 rules",
            "the profile has 1025", "Hint: merge the rules", NULL);
    test_buf_free(&b);
}

TEST(the_argument_check_limit_is_refused_naming_the_rule)
{
    struct test_buf b = {0};
    /* 2 names x 2 checks = 4 per rule: rule 64 brings the total to 260. */
    put(&b, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[");
    for (int i = 0; i < 65; i++)
        put(&b,
            "%s{\"names\":[\"ioctl\",\"fcntl\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":["
            "{\"index\":1,\"value\":%d,\"op\":\"SCMP_CMP_EQ\"},"
            "{\"index\":2,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}",
            i ? "," : "", i + 1);
    put(&b, "]}");
    refused(finish(&b), __LINE__, "syscalls[64]: ", "more than 256 argument checks",
            "260 up to and including this rule", "4096 BPF instructions", "Hint: ", NULL);
    test_buf_free(&b);
}

TEST(a_hundred_thousand_duplicate_names_are_refused_quickly)
{
    struct test_buf b = {0};
    put(&b, "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\","
            "\"names\":[\"execve\"");
    for (int i = 1; i < 100000; i++)
        put(&b, ",\"read\"");
    put(&b, "]}]}");
    const char *json = finish(&b);
    double t0 = now_s();
    refused(json, __LINE__, "syscalls[0]: ", "more than 4096 system call names",
            "100000 up to and including this rule", NULL);
    double took = now_s() - t0;
    /* It took some 25 s of libseccomp's time before the limit; parsing alone is ~40 ms. */
    CHECK_MSG(took < 2.0, "took %.3f s", took);
    test_buf_free(&b);
}

TEST(names_at_the_limit_cycling_through_real_syscalls_compile)
{
    size_t n;
    syscall_names(&n);
    if (!CHECK_MSG(n > 200, "only %zu syscall names", n))
        return;
    /* One rule of 4096 names, then 1024 rules of 4 (the rule limit too). */
    size_t shapes[][2] = {{AP_SECCOMP_MAX_NAMES, AP_SECCOMP_MAX_NAMES},
                          {AP_SECCOMP_MAX_NAMES, AP_SECCOMP_MAX_NAMES / AP_SECCOMP_MAX_RULES}};
    for (size_t s = 0; s < AP_ARRAY_SIZE(shapes); s++) {
        struct test_buf b = {0};
        const char *json = cycled_names(&b, shapes[s][0], shapes[s][1]);
        struct ap_seccomp f;
        double t0 = now_s();
        if (compiles(json, &f, __LINE__)) {
            double took = now_s() - t0;
            /* Each call reaches libseccomp once; every repeat is skipped. */
            CHECK_MSG(f.rules == n && f.rules + f.skipped == AP_SECCOMP_MAX_NAMES,
                      "shape %zu: rules %zu skipped %zu (%zu names)", s, f.rules, f.skipped, n);
            CHECK_MSG(took < 2.0, "shape %zu: took %.3f s", s, took);
            ap_seccomp_free(&f);
        }
        test_buf_free(&b);
    }
}

/* The costliest argument checks measured: 64-bit values on both halves, each check on a
 * call of its own, three architectures. */
TEST(argument_checks_at_the_limit_compile)
{
    size_t n;
    char **all = syscall_names(&n);
    if (!CHECK_MSG(n > AP_SECCOMP_MAX_ARG_CHECKS, "only %zu syscall names", n))
        return;
    struct test_buf b = {0};
    put(&b, "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
            "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[");
    size_t used = 0;
    for (size_t i = 0; used < AP_SECCOMP_MAX_ARG_CHECKS; i++) {
        if (strcmp(all[i], "execve") == 0)
            continue;
        put(&b,
            "%s{\"names\":[\"%s\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
            "\"value\":%llu,\"op\":\"SCMP_CMP_EQ\"}]}",
            used ? "," : "", all[i], ((unsigned long long)(i + 1) << 33) + i);
        used++;
    }
    put(&b, "]}");
    struct ap_seccomp f;
    double t0 = now_s();
    if (compiles(finish(&b), &f, __LINE__)) {
        double took = now_s() - t0;
        CHECK_MSG(f.rules == AP_SECCOMP_MAX_ARG_CHECKS, "rules %zu", f.rules);
        CHECK_MSG(took < 2.0, "took %.3f s", took);
        test_note("%d checks: %u instructions in %.3f s", AP_SECCOMP_MAX_ARG_CHECKS, f.len, took);
        ap_seccomp_free(&f);
    }
    test_buf_free(&b);
}

/* ---- duplicates and contradictions ------------------------------------------------------- */

static int getpriority_guarded(void)
{
    /* The guard answers EACCES; the kernel itself answers EINVAL for a bad `which`. */
    errno = 0;
    long r = syscall(SYS_getpriority, 0x7777, 0);
    return r < 0 && errno == EACCES ? 0 : 1;
}
static int getpriority_control(void)
{
    errno = 0;
    long r = syscall(SYS_getpriority, 0x7778, 0);
    return r < 0 && errno == EINVAL ? 0 : 1;
}

TEST(repeated_rules_reach_libseccomp_once_and_still_apply)
{
    /* The same checks in another order, the same name twice, and a whole repeated rule. */
    const char *json =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
        "{\"names\":[\"getpriority\",\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\","
        "\"errnoRet\":13,\"args\":[{\"index\":0,\"value\":30583,\"op\":\"SCMP_CMP_EQ\"},"
        "{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
        "\"args\":[{\"index\":1,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},"
        "{\"index\":0,\"value\":30583,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"mount\",\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"},"
        "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"},"
        "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
    struct ap_seccomp f;
    if (!compiles(json, &f, __LINE__))
        return;
    /* getpriority and mount once each; three repeats and read (the default action) skipped. */
    CHECK_MSG(f.rules == 2 && f.skipped == 5, "rules %zu skipped %zu", f.rules, f.skipped);
    int st = in_child(&f, getpriority_guarded);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "guarded call: status %#x", st);
    st = in_child(&f, getpriority_control);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "control call: status %#x", st);
    /* Control: unconfined, the guarded call gets the kernel's EINVAL, not EACCES. */
    st = in_child(NULL, getpriority_guarded);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "guarded call, unconfined: status %#x", st);
    ap_seccomp_free(&f);
}

TEST(contradicting_rules_are_refused_naming_both)
{
    const char *head = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[";
    const char *args1 = "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]";
    char json[1024];
    /* Two unconditional actions: libseccomp would keep the first silently. */
    snprintf(json, sizeof(json),
             "%s{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\"},"
             "{\"names\":[\"uname\",\"getppid\"],\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
             head);
    refused(json, __LINE__, "syscalls[1]: gives getppid SCMP_ACT_KILL_PROCESS",
            "syscalls[0] already gives it SCMP_ACT_ERRNO(1)", "Hint: ", NULL);
    /* A checked rule after an unconditional one with another action would never apply. */
    snprintf(json, sizeof(json),
             "%s{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\"},"
             "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_KILL_PROCESS\",%s}]}",
             head, args1);
    refused(json, __LINE__, "syscalls[1]: its argument checks on close", "would never apply",
            "syscalls[0]", NULL);
    /* An unconditional rule after a checked one with another action would replace it. */
    snprintf(json, sizeof(json),
             "%s{\"names\":[\"close\"],\"action\":\"SCMP_ACT_KILL_PROCESS\",%s},"
             "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
             head, args1);
    refused(json, __LINE__, "syscalls[1]: gives close SCMP_ACT_ERRNO(1) whatever its arguments",
            "argument checks of syscalls[0]", NULL);
    /* The same checks with two actions. */
    snprintf(json, sizeof(json),
             "%s{\"names\":[\"close\"],\"action\":\"SCMP_ACT_KILL_PROCESS\",%s},"
             "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":2,%s}]}",
             head, args1, args1);
    refused(json, __LINE__, "syscalls[1]: gives close SCMP_ACT_ERRNO(2) for the same argument",
            "syscalls[0] gives SCMP_ACT_KILL_PROCESS", NULL);
}

TEST(compatible_rules_on_one_call_compile)
{
    const char *cases[] = {
        /* Checked, then the same action whatever the arguments (it covers the check). */
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
        "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
        "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
        /* Different checks, different actions. */
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
        "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
        "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]},"
        "{\"names\":[\"close\"],\"action\":\"SCMP_ACT_KILL_PROCESS\",\"args\":[{\"index\":0,"
        "\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]}]}",
        /* A rule with the default action adds nothing (as in Docker), whatever follows. */
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":["
        "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
        "{\"names\":[\"read\",\"execve\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
    };
    for (size_t i = 0; i < AP_ARRAY_SIZE(cases); i++) {
        struct ap_seccomp f;
        if (compiles(cases[i], &f, __LINE__))
            ap_seccomp_free(&f);
    }
}

/* ---- values from outside ----------------------------------------------------------------- */

TEST(argument_values_a_json_number_cannot_hold_are_refused)
{
    refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"close\"],"
            "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":-1,\"op\":"
            "\"SCMP_CMP_EQ\"}]}]}",
            __LINE__, "syscalls[0]: ", "\"value\"", "2^53", NULL);
    refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"close\"],"
            "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"valueTwo\":"
            "18446744073709551615,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
            __LINE__, "syscalls[0]: ", "\"valueTwo\"", NULL);
    refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"close\"],"
            "\"action\":\"SCMP_ACT_ERRNO\",\"args\":{\"index\":0}}]}",
            __LINE__, "syscalls[0]: \"args\" must be an array", NULL);
}

TEST(strings_from_the_profile_are_printed_escaped)
{
    refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"close\"],"
            "\"action\":\"SCMP_ACT_\\u001b[31mRED\"}]}",
            __LINE__, "unknown action \"SCMP_ACT_\\x1b[31mRED\"", NULL);
}

/* ---- the cache of compiled programs ------------------------------------------------------ */

static int same_program(const struct ap_seccomp *a, const struct ap_seccomp *b)
{
    return a->len == b->len && a->rules == b->rules && a->skipped == b->skipped &&
           memcmp(a->insns, b->insns, (size_t)a->len * sizeof(*a->insns)) == 0;
}

/* The one cache file of the profile json under dir (the newest when several), or "". */
static void cache_file_of(const char *dir, const char *json, char *out, size_t len)
{
    struct ap_seccomp f;
    ap_error *err = NULL;
    out[0] = '\0';
    /* Compiling records it; the file written last is the one. */
    if (ap_seccomp_compile_cached(json, strlen(json), WHAT, dir, &f, &err) < 0) {
        ap_error_release(&err);
        return;
    }
    ap_seccomp_free(&f);
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/seccomp", dir);
    cleanup_dir DIR *d = opendir(sub);
    struct dirent *de;
    struct timespec best = {0, 0};
    while (d != NULL && (de = readdir(d)) != NULL) {
        char p[1200];
        struct stat st;
        snprintf(p, sizeof(p), "%s/%s", sub, de->d_name);
        if (de->d_name[0] == '.' || stat(p, &st) < 0)
            continue;
        if (st.st_mtim.tv_sec > best.tv_sec ||
            (st.st_mtim.tv_sec == best.tv_sec && st.st_mtim.tv_nsec >= best.tv_nsec)) {
            best = st.st_mtim;
            snprintf(out, len, "%s", p);
        }
    }
}

static ino_t inode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_ino : 0;
}

static int cached_equals(const char *dir, const char *json, const struct ap_seccomp *want)
{
    struct ap_seccomp f;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_seccomp_compile_cached(json, strlen(json), WHAT, dir, &f, &err) == 0, "%s",
                   err ? err->msg : "")) {
        ap_error_release(&err);
        return 0;
    }
    int same = same_program(&f, want);
    ap_seccomp_free(&f);
    return same;
}

TEST(a_compiled_program_is_cached_under_the_digest_of_its_inputs)
{
    char dir[] = "/tmp/test_seccomp.XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    const char *def = ap_seccomp_default_profile();
    const char *other = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
                        "[\"mount\"],\"action\":\"SCMP_ACT_ERRNO\"}]}";
    struct ap_seccomp p_def, p_other;
    if (!compiles(def, &p_def, __LINE__))
        return;
    if (!compiles(other, &p_other, __LINE__)) {
        ap_seccomp_free(&p_def);
        return;
    }
    char f_def[1200], f_other[1200];
    cache_file_of(dir, def, f_def, sizeof(f_def));
    cache_file_of(dir, other, f_other, sizeof(f_other));
    CHECK_MSG(f_def[0] && f_other[0] && strcmp(f_def, f_other) != 0, "files '%s' and '%s'", f_def,
              f_other);
    /* A hit gives the compiler's program and leaves the file as it is. */
    ino_t ino = inode_of(f_def);
    CHECK(cached_equals(dir, def, &p_def));
    CHECK(cached_equals(dir, other, &p_other));
    CHECK_MSG(ino != 0 && inode_of(f_def) == ino, "the cache file was rewritten on a hit");
    /* Control: a hit really is read from the file (which is why the cache is trusted as the
     * rest of the cache directory is): another valid program there is what comes back. */
    char cmd[2600];
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", f_other, f_def);
    CHECK(system(cmd) == 0);
    CHECK_MSG(cached_equals(dir, def, &p_other), "the cache file was not read");
    /* A damaged file (one instruction changed, or cut short) is compiled again and replaced. */
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'.bak", f_def, f_def);
    CHECK(system(cmd) == 0);
    snprintf(cmd, sizeof(cmd),
             "printf '\\377' | dd of='%s' bs=1 seek=$(($(stat -c %%s '%s') - 3)) conv=notrunc "
             "status=none",
             f_def, f_def);
    CHECK(system(cmd) == 0);
    CHECK_MSG(cached_equals(dir, def, &p_def), "a damaged program was used");
    snprintf(cmd, sizeof(cmd), "truncate -s -8 '%s'", f_def);
    CHECK(system(cmd) == 0);
    CHECK_MSG(cached_equals(dir, def, &p_def), "a truncated program was used");
    CHECK(cached_equals(dir, def, &p_def));
    /* No cache directory: compiled every time. */
    CHECK(cached_equals(NULL, def, &p_def));
    ap_seccomp_free(&p_def);
    ap_seccomp_free(&p_other);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}
