/* The process and container start of hello world and of an empty Python program. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "noise.h"
#include "runner.h"
#include "../core/clock.h"

/* ---- process start without a sandbox --------------------------------------------------------- */

struct spawn_args {
    const char *root, *path;
    char *const *argv, *const *envp;
    int in_fd, out_fd, null_fd;
};

/* vfork: the child only makes system calls before exec, and the parent's page tables are not
 * copied, as a shell or hyperfine would start the program. */
static pid_t spawn_chrooted(const struct spawn_args *a)
{
    pid_t pid = vfork();
    if (pid == 0) {
        /* Raw set*id calls: glibc's would signal every thread of the parent, whose memory
         * this child shares. */
        if (chroot(a->root) < 0 || chdir("/") < 0 || dup2(a->in_fd, 0) < 0 ||
            dup2(a->out_fd, 1) < 0 || dup2(a->null_fd, 2) < 0 ||
            syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setgid, 65534) < 0 ||
            syscall(SYS_setuid, 65534) < 0)
            _exit(126);
        execve(a->path, a->argv, a->envp);
        _exit(127);
    }
    return pid;
}

/* Runs argv in the image's root with chroot only (no namespaces, no cgroup, no filter): the
 * bare cost of starting the process, from a thread already on the workload CPUs (run_startup).
 * stdin from in_fd (or /dev/null when -1), stdout into out_fd. Returns the wall time from fork
 * to reap. */
static int bare_run(const struct ap_bench_image *img, char *const *argv, int in_fd, int out_fd,
                    int64_t *wall_ns, ap_error **err)
{
    struct spawn_args a;
    memset(&a, 0, sizeof(a));
    cleanup_close int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    char path[1200];
    if (ap_fs_path(path, sizeof(path), "%s%s", argv[0][0] != '/' ? "/usr/local/bin/" : "",
                   argv[0]) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the program %.64s... on %s", argv[0], img->name);
    a.root = img->rootfs;
    a.path = path;
    a.argv = argv;
    a.envp = img->run.env;
    a.in_fd = in_fd >= 0 ? in_fd : null_fd;
    a.out_fd = out_fd;
    a.null_fd = null_fd;
    int64_t t0 = ap_clock_mono_ns();
    pid_t pid = spawn_chrooted(&a);
    int status = 0;
    if (pid > 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    *wall_ns = ap_clock_mono_ns() - t0;
    if (pid < 0)
        return ap_error_make(err, errno, "vfork");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return ap_error_make(err, 0, "%s in %s without a sandbox: %s %d", argv[0], img->name,
                             WIFEXITED(status) ? "exit status" : "signal",
                             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

struct startup_prog {
    const char *name; /* hello, hello-stripped, pass */
    char *argv[8];
    int stdin_script; /* the hello script on stdin */
    const cJSON *expected;
};

/* One process start without a sandbox, its output checked; its wall time goes to mp (none
 * for a warm-up run, mp NULL). */
static int bare_sample(struct ap_bench_image *img, struct startup_prog *p, const char *script,
                       const char *hello_dir, int out, cJSON *mp, ap_error **err)
{
    cleanup_close int in = p->stdin_script ? open(script, O_RDONLY | O_CLOEXEC) : -1;
    if (ftruncate(out, 0) < 0 || lseek(out, 0, SEEK_SET) < 0)
        return ap_error_make(err, errno, "resetting the output");
    int64_t wall = 0;
    if (bare_run(img, p->argv, in, out, &wall, err) < 0)
        return -1;
    struct stat st;
    char why[300];
    char *data = NULL;
    if (fstat(out, &st) == 0 && st.st_size > 0)
        data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, out, 0);
    int ok = data != NULL && data != MAP_FAILED;
    int bad =
        p->expected != NULL && ap_bench_check_output(ok ? data : "", ok ? (size_t)st.st_size : 0,
                                                     p->expected, hello_dir, why, sizeof(why)) < 0;
    if (ok)
        munmap(data, (size_t)st.st_size);
    if (bad)
        return ap_error_make(err, 0, "%s on %s without a sandbox: wrong output: %s", p->name,
                             img->name, why);
    if (mp != NULL)
        ap_bench_add(mp, "wall_s", "s", (double)wall / 1e9);
    return 0;
}

static int run_startup(struct ap_bench *b, struct ap_bench_image *img, struct startup_prog *p,
                       const char *script, const char *hello_dir, ap_error **err)
{
    char id[200]; /* fits: an image name is under 64 bytes, the programs' names are short */
    cJSON *params = cJSON_CreateObject();
    cJSON *av = cJSON_AddArrayToObject(params, "command");
    for (int k = 0; p->argv[k] != NULL; k++)
        cJSON_AddItemToArray(av, cJSON_CreateString(p->argv[k]));
    cJSON_AddBoolToObject(params, "script_on_stdin", p->stdin_script);
    cJSON_AddStringToObject(params, "cpuset", b->wl_cpus);
    cJSON *cparams = cJSON_Duplicate(params, 1);
    cJSON_AddStringToObject(params, "how",
                            "fork, chroot, exec, wait: no namespaces, cgroup or "
                            "seccomp");
    cJSON_AddStringToObject(cparams, "how",
                            "a fresh sandbox: namespaces, read-only root, "
                            "cgroup, seccomp, exec, reap");
    snprintf(id, sizeof(id), "startup/process/%s/%s", img->name, p->name);
    cJSON *mp = ap_bench_measurement(b, id, "startup", p->name, img->name, params);
    snprintf(id, sizeof(id), "startup/container/%s/%s", img->name, p->name);
    cJSON *mc = ap_bench_measurement(b, id, "startup", p->name, img->name, cparams);
    int repeat = (int)ap_bench_num(b, "startup_repeat", 10);
    cleanup_close int out = memfd_create("stdout", MFD_CLOEXEC);
    if (out < 0) {
        ap_error_make(err, errno, "memfd_create");
        return -1;
    }
    /* A block per program: its container runs are judged by the noise guard, together (each
     * lasts milliseconds); a noisy window's samples are flagged and left out, not measured
     * again. */
    char block[160];
    snprintf(block, sizeof(block), "startup %s on %s", p->name, img->name);
    int rc = ap_bench_block_begin(b, block, b->wl_cpus, err);
    if (rc < 0)
        return rc;
    /* The process starts first, then the containers: a sandbox's teardown (its network
     * namespace and cgroup are released by kernel workers after the reap) runs on the CPU for
     * a while, and would be timed as part of the bare start that followed it (14 % of Go's
     * hello against hyperfine -N, seen here). Each kind is warmed with one run first. */
    /* On the workload CPUs for the bare starts, as under `taskset -c CPU hyperfine`: the child
     * starts there instead of migrating on its way, and the thread that waits for it does not
     * move between CPUs at every run. */
    struct ap_cpuset wl, home;
    if (ap_cpuset_parse(b->wl_cpus, &wl, err) < 0 || ap_cpuset_pin(&wl, &home, err) < 0)
        return ap_error_wrap(err, "the workload CPUs");
    int bare = 0;
    for (int r = -1; r < repeat && bare == 0; r++) {
        if (r >= 0 && ap_bench_count(mp, "wall_s") > r)
            continue;
        if (ap_bench_interrupted)
            bare = -2;
        else if (bare_sample(img, p, script, hello_dir, out, r >= 0 ? mp : NULL, err) < 0)
            bare = -1;
        else
            ap_bench_progress(b, 0.05, block);
    }
    ap_cpuset_pin(&home, NULL, NULL);
    if (bare < 0)
        return bare;
    for (int r = -1; r < repeat; r++) {
        if (r >= 0 && ap_bench_count(mc, "wall_s") > r)
            continue;
        if (ap_bench_interrupted)
            return -2;
        char what[160];
        snprintf(what, sizeof(what), "startup %s on %s %d/%d", p->name, img->name, r + 1, repeat);
        ap_bench_progress(b, 0.05, what);
        char label[160];
        snprintf(label, sizeof(label), "%s on %s in a sandbox", p->name, img->name);
        struct ap_bench_exec x = {
            .image = img,
            .argv = p->argv,
            .stdin_path = p->stdin_script ? script : NULL,
            .expected = p->expected,
            .expected_dir = hello_dir,
            .timeout_s = 60,
            .net = AP_NET_NONE,
            .label = label,
        };
        struct ap_run_record rec;
        cJSON *run = NULL;
        rc = ap_bench_round_sample(b, &x, r, &rec, &run, err);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        unsigned fl = ap_bench_run_flags(run);
        ap_bench_add_flagged(mc, "wall_s", "s", (double)rec.wall_ns / 1e9, fl);
        ap_bench_add_flagged(mc, "setup_s", "s", (double)rec.start_ns / 1e9, fl);
        ap_bench_add_flagged(mc, "peak_bytes", "B", (double)rec.memory_peak_bytes, fl);
        ap_bench_keep_run(b, mc, run);
    }
    if (ap_bench_block_end(b) > 0 && !b->o->allow_noisy) {
        ap_error *e = NULL;
        ap_bench_save(b, &e); /* the flagged samples are kept, as with --allow-noisy */
        ap_error_release(&e);
        ap_error_make(err, 0, "%s: the machine is too noisy to measure: %s", block,
                      b->block.noisy_why);
        return ap_error_hint(err,
                             "stop what else runs on CPUs %s, or pass --allow-noisy to keep "
                             "such samples (they are flagged in the results)",
                             b->wl_cpus);
    }
    return ap_bench_save(b, err);
}

int ap_bench_startup_groups(struct ap_bench *b, struct ap_bench_groups *g, ap_error **err)
{
    /* The Go image and the Python ones, each program's process and container starts. */
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const cJSON *go = cJSON_GetObjectItemCaseSensitive(imgs, "go");
    double ni = cJSON_IsString(go) && ap_bench_image(b, go->valuestring) != NULL;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(imgs, "python"))
    {
        ni += cJSON_IsString(it) && ap_bench_image(b, it->valuestring) != NULL;
    }
    /* "hello" is in "hello-stripped": --only stripped runs that one alone. */
    int progs = ap_bench_wanted(b, "hello") + ap_bench_wanted(b, "pass");
    if (progs == 0)
        progs = ap_bench_wanted(b, "hello-stripped");
    if (ni == 0 || progs == 0)
        return 0;
    return ap_bench_groups_add(g, ap_bench_num(b, "startup_repeat", 10) * ni * progs * 0.1, err,
                               "startup");
}

int ap_bench_suite_startup(struct ap_bench *b, ap_error **err)
{
    if (!ap_bench_in_shard(b, "startup"))
        return 0;
    cleanup_cjson cJSON *man = NULL;
    if (ap_bench_manifest(b, "hello", &man, err) < 0)
        return -1;
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(man, "check"), "expected");
    /* `-c pass` must print nothing at all. */
    cleanup_cjson cJSON *empty = cJSON_CreateObject();
    cJSON_AddStringToObject(empty, "text", "");
    char hello_dir[1100], script[1100];
    if (ap_fs_path(hello_dir, sizeof(hello_dir), "%s/hello", b->o->workloads_dir) < 0 ||
        ap_fs_path(script, sizeof(script), "%s/hello/hello.py", b->o->workloads_dir) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the hello script hello/hello.py in %.64s...",
                             b->o->workloads_dir);
    const cJSON *imgs = cJSON_GetObjectItemCaseSensitive(b->plan, "images");
    const cJSON *bins = cJSON_GetObjectItemCaseSensitive(b->plan, "go_binaries");
    const cJSON *go = cJSON_GetObjectItemCaseSensitive(imgs, "go");
    struct ap_bench_image *g = cJSON_IsString(go) ? ap_bench_image(b, go->valuestring) : NULL;
    int rc = 0;
    if (g != NULL) {
        const char *keys[] = {"hello", "hello_stripped"};
        const char *names[] = {"hello", "hello-stripped"};
        for (int k = 0; k < 2; k++) {
            const cJSON *path = cJSON_GetObjectItemCaseSensitive(bins, keys[k]);
            if (!cJSON_IsString(path) || !ap_bench_wanted(b, names[k]))
                continue;
            struct startup_prog p = {names[k], {path->valuestring, NULL}, 0, expected};
            if ((rc = run_startup(b, g, &p, script, hello_dir, err)) < 0)
                return rc;
        }
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(imgs, "python"))
    {
        struct ap_bench_image *img = cJSON_IsString(it) ? ap_bench_image(b, it->valuestring) : NULL;
        if (img == NULL || img->interpreter == NULL)
            continue;
        /* The script comes on standard input so the same command runs with and without the
         * sandbox (a chroot has no bind mounts). */
        static char dash[] = "-", dash_c[] = "-c", pass_src[] = "pass";
        struct startup_prog hello = {"hello", {img->interpreter, dash, NULL}, 1, expected};
        struct startup_prog pass = {"pass", {img->interpreter, dash_c, pass_src, NULL}, 0, empty};
        if (ap_bench_wanted(b, "hello") &&
            (rc = run_startup(b, img, &hello, script, hello_dir, err)) < 0)
            return rc;
        if (ap_bench_wanted(b, "pass") &&
            (rc = run_startup(b, img, &pass, script, hello_dir, err)) < 0)
            return rc;
    }
    return 0;
}
