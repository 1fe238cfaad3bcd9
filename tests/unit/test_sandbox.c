/* The sandbox's pieces that need no namespaces: seccomp profiles (compiled and loaded in a
 * forked child, which must see the denial, as the kernel's seccomp selftests do, each beside a
 * control that shows the denial is the filter's), cgroup
 * accounting parsed from a fake cgroupfs tree (v1 and v2), and option parsing. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/fs.h"
#include "sandbox/cgroup.h"
#include "sandbox/sandbox.h"
#include "sandbox/seccomp.h"
#include "test.h"

static int compile(const char *json, struct ap_seccomp *f, ap_error **err)
{
    return ap_seccomp_compile(json, strlen(json), "test profile", f, err);
}

/* Runs fn in a child under filter f (none when f is NULL: the unconfined control); returns
 * the child's wait status. fn's return value becomes the exit code, 99 when f did not load. */
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

/* The denial probes return 0 when the call succeeded, else its errno (as the exit code, so the
 * parent can tell the filter's answer from the kernel's). */
static int errno_of(long r)
{
    return r < 0 ? (errno > 0 && errno < 256 ? errno : 255) : 0;
}
static int try_mount(void)
{
    return errno_of(mount("none", "/mnt", "tmpfs", 0, NULL));
}
static int try_unshare_user(void)
{
    return errno_of(unshare(CLONE_NEWUSER));
}
static int try_clone_newuser(void)
{
    long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    return errno_of(r);
}
static int try_plain_fork(void)
{
    pid_t p = fork(); /* clone3 gets ENOSYS; glibc falls back to clone */
    if (p == 0)
        _exit(7);
    int st = 0;
    if (p < 0 || waitpid(p, &st, 0) != p)
        return 1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 7 ? 0 : 1;
}
static int try_clone3(void)
{
    struct clone_args a;
    memset(&a, 0, sizeof(a));
    a.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &a, sizeof(a));
    if (r == 0)
        _exit(0);
    if (r > 0)
        waitpid((pid_t)r, NULL, 0);
    return errno_of(r);
}
static int try_keyctl(void)
{
    return errno_of(syscall(SYS_keyctl, 0, 0, 0, 0, 0));
}
static int try_ptrace(void)
{
    return errno_of(syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, getppid(), 0, 0));
}
static int try_bpf(void)
{
    return errno_of(syscall(SYS_bpf, 0, NULL, 0));
}
static int try_getpid_and_write(void)
{
    return getpid() > 0 && write(1, "", 0) == 0 ? 0 : 1;
}

TEST(default_profile_compiles_with_hundreds_of_rules)
{
    struct ap_seccomp f;
    ap_error *err = NULL;
    const char *p = ap_seccomp_default_profile();
    int r = ap_seccomp_compile(p, strlen(p), "default", &f, &err);
    if (!CHECK_MSG(r == 0, "%s", err ? err->msg : ""))
        return;
    CHECK_MSG(f.rules >= 250, "rules %zu", f.rules);
    CHECK(f.len > 10);
    ap_seccomp_free(&f);
}

/* Errnos no kernel gives for these calls: the default profile with its denials answering them
 * instead of EPERM and ENOSYS shows that each denial comes from the filter. */
enum { MARK_DEFAULT_ERRNO = 222, MARK_RULE_ERRNO = 223 };

/* The default profile with defaultErrnoRet MARK_DEFAULT_ERRNO and every SCMP_ACT_ERRNO rule's
 * errnoRet MARK_RULE_ERRNO, compiled into f; its rules are otherwise the same. */
static int compile_marked_default(struct ap_seccomp *f)
{
    cJSON *root = cJSON_Parse(ap_seccomp_default_profile());
    if (!CHECK(root != NULL))
        return -1;
    cJSON *def = cJSON_GetObjectItemCaseSensitive(root, "defaultErrnoRet");
    CHECK_MSG(cJSON_IsNumber(def) && def->valueint == EPERM, "defaultErrnoRet is not EPERM");
    cJSON_ReplaceItemInObjectCaseSensitive(root, "defaultErrnoRet",
                                           cJSON_CreateNumber(MARK_DEFAULT_ERRNO));
    size_t marked = 0;
    cJSON *rule;
    cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(root, "syscalls"))
    {
        const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rule, "action"));
        if (act == NULL || strcmp(act, "SCMP_ACT_ERRNO") != 0)
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(rule, "errnoRet");
        cJSON_AddNumberToObject(rule, "errnoRet", MARK_RULE_ERRNO);
        marked++;
    }
    CHECK_MSG(marked >= 1, "no SCMP_ACT_ERRNO rule (clone3's) to mark");
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!CHECK(json != NULL))
        return -1;
    ap_error *err = NULL;
    int r = compile(json, f, &err);
    CHECK_MSG(r == 0, "the marked default profile: %s", err ? err->msg : "");
    ap_error_release(&err);
    free(json);
    return r;
}

TEST(default_profile_denies_escapes_and_allows_the_runtime)
{
    struct ap_seccomp f, marked;
    ap_error *err = NULL;
    const char *p = ap_seccomp_default_profile();
    if (!CHECK(ap_seccomp_compile(p, strlen(p), "default", &f, &err) == 0))
        return;
    if (compile_marked_default(&marked) < 0) {
        ap_seccomp_free(&f);
        return;
    }
    static const struct {
        const char *name;
        int (*fn)(void);
        int want, marked;
    } probes[] = {
        {"mount", try_mount, EPERM, MARK_DEFAULT_ERRNO},
        {"unshare", try_unshare_user, EPERM, MARK_DEFAULT_ERRNO},
        {"clone(NEWUSER)", try_clone_newuser, EPERM, MARK_DEFAULT_ERRNO},
        {"keyctl", try_keyctl, EPERM, MARK_DEFAULT_ERRNO},
        {"ptrace", try_ptrace, EPERM, MARK_DEFAULT_ERRNO},
        {"bpf", try_bpf, EPERM, MARK_DEFAULT_ERRNO},
        {"clone3", try_clone3, ENOSYS, MARK_RULE_ERRNO},
    };
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        int st = in_child(&f, probes[i].fn);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == probes[i].want,
                  "%s: status %#x, want errno %d", probes[i].name, st, probes[i].want);
        /* Control: the same rules with marked errnos give the marked errno, so the answer
         * above is the filter's, not the kernel's (a caller without CAP_SYS_ADMIN gets EPERM
         * from mount and bpf with no filter at all). */
        st = in_child(&marked, probes[i].fn);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == probes[i].marked,
                  "%s under the marked profile: status %#x, want errno %d", probes[i].name, st,
                  probes[i].marked);
    }
    for (int m = 0; m < 2; m++) {
        const struct ap_seccomp *g = m == 0 ? &f : &marked;
        int st = in_child(g, try_plain_fork);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork under the filter (%d): status %#x",
                  m, st);
        st = in_child(g, try_getpid_and_write);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "getpid/write (%d): status %#x", m, st);
    }
    ap_seccomp_free(&marked);
    ap_seccomp_free(&f);
}

static int call_getppid(void)
{
    getppid();
    return 0;
}
static int call_uname(void)
{
    struct utsname u;
    return uname(&u) < 0 && errno == EACCES ? 0 : 1;
}

TEST(kill_and_errno_actions_are_honoured)
{
    struct ap_seccomp f;
    ap_error *err = NULL;
    const char *kill_json =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
        "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}";
    if (CHECK_MSG(compile(kill_json, &f, &err) == 0, "%s", err ? err->msg : "")) {
        int st = in_child(&f, call_getppid);
        CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "status %#x", st);
        st = in_child(NULL, call_getppid);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "control, unconfined: status %#x", st);
        ap_seccomp_free(&f);
    }
    const char *errno_json =
        "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
        "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}";
    if (CHECK(compile(errno_json, &f, &err) == 0)) {
        int st = in_child(&f, call_uname);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
        /* Control: uname succeeds unconfined, so the EACCES above is the filter's. */
        st = in_child(NULL, call_uname);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 1, "control, unconfined: status %#x", st);
        ap_seccomp_free(&f);
    }
}

TEST(docker_includes_excludes_and_unknown_names)
{
    struct ap_seccomp f;
    ap_error *err = NULL;
    /* A rule that needs CAP_SYS_ADMIN is skipped (we hold no capabilities); a name no kernel
     * knows is skipped, not fatal, as Docker does. */
    const char *json =
        "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
        "\"syscalls\":[{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\","
        "\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\"]}},"
        "{\"names\":[\"read\",\"execve\",\"no_such_syscall_xyz\"],"
        "\"action\":\"SCMP_ACT_ALLOW\"}]}";
    if (!CHECK_MSG(compile(json, &f, &err) == 0, "%s", err ? err->msg : ""))
        return;
    CHECK_MSG(f.rules == 2, "rules %zu", f.rules);
    CHECK_MSG(f.skipped == 2, "skipped %zu", f.skipped);
    ap_seccomp_free(&f);
}

TEST(bad_profiles_are_refused_with_the_place)
{
    struct ap_seccomp f;
    struct {
        const char *json, *want;
    } cases[] = {
        {"{\"syscalls\":[]}", "defaultAction"},
        {"{\"defaultAction\":\"SCMP_ACT_NOPE\"}", "SCMP_ACT_NOPE"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}",
         "syscalls[0]"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"value\":1,\"op\":"
         "\"SCMP_CMP_EQ\"}]}]}",
         "index"},
        {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],"
         "\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"LIKE\"}]}]}",
         "LIKE"},
        {"{\"defaultAction\":", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ap_error *err = NULL;
        int r = compile(cases[i].json, &f, &err);
        CHECK_MSG(r == -1 && err != NULL && test_contains(err->msg, cases[i].want),
                  "case %zu: r=%d msg=%s", i, r, err ? err->msg : "(none)");
        ap_error_release(&err);
    }
}

static void put(const char *dir, const char *file, const char *text)
{
    char path[1024];
    if (ap_fs_path(path, sizeof(path), "%s/%s", dir, file) < 0)
        return;
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(v2_accounting_from_a_fake_cgroupfs)
{
    char tmpl[] = "/tmp/ap-cgroup-v2.XXXXXX";
    if (!CHECK(mkdtemp(tmpl) != NULL))
        return;
    struct ap_cgroup cg;
    memset(&cg, 0, sizeof(cg));
    cg.mgr = &ap_cgroup_v2;
    cg.into_cgroup_fd = -1;
    snprintf(cg.dirs[0], sizeof(cg.dirs[0]), "%s", tmpl);
    cg.n_dirs = 1;
    put(tmpl, "cpu.stat",
        "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\n"
        "throttled_usec 2000\n");
    put(tmpl, "memory.peak", "1048576\n");
    put(tmpl, "memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 0\n");
    put(tmpl, "pids.peak", "7\n");
    struct ap_cgroup_stats st;
    CHECK(ap_cgroup_v2.stats(&cg, &st, NULL) == 0);
    CHECK(st.cpu_usage_ns == 1500000 && st.cpu_user_ns == 1000000 && st.cpu_system_ns == 500000);
    CHECK(st.nr_periods == 10 && st.nr_throttled == 3 && st.throttled_ns == 2000000);
    CHECK(st.memory_peak_bytes == 1048576);
    CHECK_MSG(st.oom_kills == 1, "oom_kill %lld (\"oom 2\" must not be read for it)",
              (long long)st.oom_kills);
    CHECK(st.pids_peak == 7);
    ap_error *err = NULL;
    ap_fs_remove_tree(tmpl, &err);
    ap_error_release(&err);
}

TEST(v1_accounting_from_a_fake_cgroupfs)
{
    char tmpl[] = "/tmp/ap-cgroup-v1.XXXXXX";
    if (!CHECK(mkdtemp(tmpl) != NULL))
        return;
    static const char *const ctrls[] = {"memory", "cpu", "cpuacct", "pids"};
    struct ap_cgroup cg;
    memset(&cg, 0, sizeof(cg));
    cg.mgr = &ap_cgroup_v1;
    cg.into_cgroup_fd = -1;
    for (int i = 0; i < 4; i++) {
        snprintf(cg.dirs[i], sizeof(cg.dirs[i]), "%s/%s", tmpl, ctrls[i]);
        mkdir(cg.dirs[i], 0755);
        cg.controllers[i] = ctrls[i];
    }
    cg.n_dirs = 4;
    put(cg.dirs[0], "memory.max_usage_in_bytes", "67108864\n");
    put(cg.dirs[0], "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    put(cg.dirs[0], "memory.failcnt", "99\n");
    put(cg.dirs[1], "cpu.stat", "nr_periods 4\nnr_throttled 1\nthrottled_time 123456\n");
    put(cg.dirs[2], "cpuacct.usage", "3000000\n");
    put(cg.dirs[2], "cpuacct.usage_user", "2000000\n");
    put(cg.dirs[2], "cpuacct.usage_sys", "1000000\n");
    put(cg.dirs[3], "pids.peak", "64\n");
    struct ap_cgroup_stats st;
    CHECK(ap_cgroup_v1.stats(&cg, &st, NULL) == 0);
    CHECK(st.cpu_usage_ns == 3000000 && st.cpu_user_ns == 2000000 && st.cpu_system_ns == 1000000);
    CHECK(st.memory_peak_bytes == 67108864);
    CHECK_MSG(st.oom_kills == 2, "oom_kill from memory.oom_control, not failcnt: %lld",
              (long long)st.oom_kills);
    CHECK(st.nr_periods == 4 && st.nr_throttled == 1 && st.throttled_ns == 123456);
    CHECK(st.pids_peak == 64);
    ap_error *err = NULL;
    ap_fs_remove_tree(tmpl, &err);
    ap_error_release(&err);
}

TEST(own_cgroup_path_tells_missing_from_too_long)
{
    const char *self = "5:cpu,cpuacct:/user.slice/session-3.scope\n0::/init.scope\n";
    char out[64];
    CHECK(ap_cgroup_self_path(self, "cpuacct", out, sizeof(out)) == 0 &&
          strcmp(out, "/user.slice/session-3.scope") == 0);
    CHECK(ap_cgroup_self_path(self, "", out, sizeof(out)) == 0 && strcmp(out, "/init.scope") == 0);
    /* The same path into a buffer one byte too small: too long, not "not listed". */
    errno = 0;
    CHECK(ap_cgroup_self_path(self, "cpuacct", out, strlen("/user.slice/session-3.scope")) < 0);
    CHECK_MSG(errno == ENAMETOOLONG, "errno %d", errno);
    errno = 0;
    CHECK(ap_cgroup_self_path(self, "memory", out, sizeof(out)) < 0);
    CHECK_MSG(errno == ENOENT, "errno %d", errno);
}

TEST(stale_group_names)
{
    char name[64];
    snprintf(name, sizeof(name), AP_CGROUP_PREFIX "%d-3", (int)getpid());
    CHECK(!ap_cgroup_name_is_stale(name));
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    snprintf(name, sizeof(name), AP_CGROUP_PREFIX "%d-1", (int)p);
    CHECK(ap_cgroup_name_is_stale(name));
    CHECK(!ap_cgroup_name_is_stale("system.slice"));
    CHECK(!ap_cgroup_name_is_stale(AP_CGROUP_PREFIX "x-1"));
    /* A live pid with its start time is its appliance's; with another start time the pid was
     * taken by a later process after the appliance died (pids wrap). */
    pid_t live = fork();
    if (live == 0) {
        pause();
        _exit(0);
    }
    unsigned long long start = 0;
    CHECK(ap_cgroup_start_ticks(live, &start) == 0 && start > 0);
    snprintf(name, sizeof(name), AP_CGROUP_PREFIX "%d-%llu-7", (int)live, start);
    CHECK_MSG(!ap_cgroup_name_is_stale(name), "%s: the live owner's group", name);
    snprintf(name, sizeof(name), AP_CGROUP_PREFIX "%d-%llu-7", (int)live, start + 1);
    CHECK_MSG(ap_cgroup_name_is_stale(name), "%s: its pid belongs to a process started later",
              name);
    snprintf(name, sizeof(name), AP_CGROUP_PREFIX "%d-7", (int)live);
    CHECK_MSG(!ap_cgroup_name_is_stale(name), "%s: the older form without a start time", name);
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
    snprintf(name, sizeof(name), AP_CGROUP_PREFIX "%d-%llu-7", (int)live, start);
    CHECK_MSG(ap_cgroup_name_is_stale(name), "%s: its owner is gone", name);
}

/* The directories the fake backend was asked to kill, for clean_dir_kills_and_removes_stale. */
static char killed[4][800];
static int n_killed;

static void fake_kill_stale(const char *dir)
{
    if (n_killed < 4)
        snprintf(killed[n_killed], sizeof(killed[0]), "%s", dir);
    n_killed++;
}

TEST(clean_dir_kills_and_removes_stale_groups_only)
{
    static const struct ap_cgroup_manager fake = {.name = "fake", .kill_stale = fake_kill_stale};
    char tmpl[] = "/tmp/ap-test-clean-XXXXXX", path[1000], gone[900];
    if (!CHECK(mkdtemp(tmpl) != NULL))
        return;
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    snprintf(gone, sizeof(gone), "%s/" AP_CGROUP_PREFIX "%d-1", tmpl, (int)p);
    CHECK(mkdir(gone, 0700) == 0);
    snprintf(path, sizeof(path), "%s/" AP_CGROUP_PREFIX "%d-2", tmpl, (int)getpid());
    CHECK(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/system.slice", tmpl);
    CHECK(mkdir(path, 0700) == 0);
    n_killed = 0;
    CHECK(ap_cgroup_clean_dir(&fake, tmpl, 0) == 0);
    CHECK_MSG(n_killed == 1 && strcmp(killed[0], gone) == 0, "%d killed, first %s", n_killed,
              killed[0]);
    CHECK(access(gone, F_OK) < 0 && errno == ENOENT);
    snprintf(path, sizeof(path), "%s/" AP_CGROUP_PREFIX "%d-2", tmpl, (int)getpid());
    CHECK_MSG(access(path, F_OK) == 0, "our own group is kept");
    snprintf(path, sizeof(path), "%s/system.slice", tmpl);
    CHECK_MSG(access(path, F_OK) == 0, "a group not of ours is kept");
    /* Control: a stale group that cannot be removed is killed, kept and counted. */
    CHECK(mkdir(gone, 0700) == 0);
    snprintf(path, sizeof(path), "%s/task", gone);
    CHECK(mkdir(path, 0700) == 0);
    n_killed = 0;
    CHECK(ap_cgroup_clean_dir(&fake, tmpl, 0) == 1 && n_killed == 1);
    CHECK(access(gone, F_OK) == 0);
    ap_error *err = NULL;
    CHECK(ap_fs_remove_tree(tmpl, &err) == 0);
    ap_error_release(&err);
}

TEST(byte_sizes)
{
    int64_t v = 0;
    CHECK(ap_sandbox_parse_bytes("64M", &v) == 0 && v == 64 << 20);
    CHECK(ap_sandbox_parse_bytes("1G", &v) == 0 && v == 1 << 30);
    CHECK(ap_sandbox_parse_bytes("1.5k", &v) == 0 && v == 1536);
    CHECK(ap_sandbox_parse_bytes("2MiB", &v) == 0 && v == 2 << 20);
    CHECK(ap_sandbox_parse_bytes("4096", &v) == 0 && v == 4096);
    CHECK(ap_sandbox_parse_bytes("12Q", &v) == -1);
    CHECK(ap_sandbox_parse_bytes("-1M", &v) == -1);
    CHECK(ap_sandbox_parse_bytes("", &v) == -1);
}
