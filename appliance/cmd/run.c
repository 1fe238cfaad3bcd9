/* appliance run [options] IMAGE -- CMD [ARG...] */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/json.h"
#include "../image/oci.h"
#include "../sandbox/sandbox.h"
#include "cmd.h"

#define MAX_LIST 256 /* argv and envp slots, the closing NULL included */
#define MAX_BINDS 64
#define AP_EXIT_RUN_FAILED 125

static void run_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance run [OPTIONS] IMAGE [-- CMD [ARG...]]\n"
            "\n"
            "Runs CMD (default: the image's entrypoint and cmd) in a sandbox of its own: mount,\n"
            "pid, net, uts, ipc and cgroup namespaces, a read-only root, no capabilities,\n"
            "no_new_privs, cgroup limits and a seccomp filter. IMAGE is a built image's name or\n"
            "a directory holding a root filesystem (a path with a '/').\n"
            "\n"
            "Options:\n"
            "  --memory SIZE        memory limit (e.g. 64M, 1G)\n"
            "  --cpus N             CPU quota in CPUs (e.g. 0.5, 2)\n"
            "  --cpuset LIST        CPUs to run on (e.g. 0, 0-1)\n"
            "  --pids N             most processes and threads at once\n"
            "  --timeout SECONDS    kill the whole sandbox after this long (e.g. 2, 2s, 500ms)\n"
            "  --net none|loopback  network namespace with lo down (default) or up\n"
            "  --userns             also a user namespace (ids map to 100000-165535)\n"
            "  --user UID[:GID]     ids to run as (default 65534:65534)\n"
            "  --workdir DIR        working directory (default: the image's, or /)\n"
            "  --env K=V            set a variable (repeatable; on top of the image's)\n"
            "  --bind SRC:DST[:ro|rw]  bind a host path (default ro)\n"
            "  --hostname NAME      (default sandbox)\n"
            "  --tmp-size SIZE      size of the /tmp tmpfs (default 64M)\n"
            "  --nofile N           RLIMIT_NOFILE (default 1024)\n"
            "  --seccomp FILE|default|unconfined  profile in Docker's JSON format\n"
            "  --stdin FILE, --stdout FILE, --stderr FILE  redirect (default: stdin /dev/null,\n"
            "                       the others passed through)\n"
            "  --json               print the run record as JSON on stdout\n"
            "  --pid-file FILE      once the command runs, write the sandbox's pid 1 there (its\n"
            "                       namespaces are /proc/PID/ns/*, e.g. nsenter --net=...)\n"
            "  --out DIR, --cache DIR  where built images and unpacked roots live\n"
            "\n"
            "Exit status: the command's (128+N when killed by signal N); 125 when the sandbox\n"
            "could not run it; 2 for a usage error.\n");
}

enum {
    O_MEMORY = 256,
    O_CPUS,
    O_CPUSET,
    O_PIDS,
    O_TIMEOUT,
    O_NET,
    O_USERNS,
    O_USER,
    O_WORKDIR,
    O_ENV,
    O_BIND,
    O_HOSTNAME,
    O_TMPSIZE,
    O_NOFILE,
    O_SECCOMP,
    O_STDIN,
    O_STDOUT,
    O_STDERR,
    O_JSON,
    O_OUT,
    O_CACHE,
    O_PIDFILE
};

static const struct option opts[] = {{"memory", required_argument, NULL, O_MEMORY},
                                     {"cpus", required_argument, NULL, O_CPUS},
                                     {"cpuset", required_argument, NULL, O_CPUSET},
                                     {"pids", required_argument, NULL, O_PIDS},
                                     {"timeout", required_argument, NULL, O_TIMEOUT},
                                     {"net", required_argument, NULL, O_NET},
                                     {"userns", no_argument, NULL, O_USERNS},
                                     {"user", required_argument, NULL, O_USER},
                                     {"workdir", required_argument, NULL, O_WORKDIR},
                                     {"env", required_argument, NULL, O_ENV},
                                     {"bind", required_argument, NULL, O_BIND},
                                     {"hostname", required_argument, NULL, O_HOSTNAME},
                                     {"tmp-size", required_argument, NULL, O_TMPSIZE},
                                     {"nofile", required_argument, NULL, O_NOFILE},
                                     {"seccomp", required_argument, NULL, O_SECCOMP},
                                     {"stdin", required_argument, NULL, O_STDIN},
                                     {"stdout", required_argument, NULL, O_STDOUT},
                                     {"stderr", required_argument, NULL, O_STDERR},
                                     {"json", no_argument, NULL, O_JSON},
                                     {"out", required_argument, NULL, O_OUT},
                                     {"cache", required_argument, NULL, O_CACHE},
                                     {"pid-file", required_argument, NULL, O_PIDFILE},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0 || s[0] == '-')
        return -1;
    *out = v;
    return 0;
}

/* on_exec: publishes the sandbox's pid 1 (written whole, then renamed into place). */
static void write_pid_file(void *ctx, pid_t pid, struct ap_sandbox_live *live)
{
    (void)live;
    char text[32];
    int n = snprintf(text, sizeof(text), "%d\n", (int)pid);
    ap_error *err = NULL;
    if (ap_fs_write_atomic(ctx, text, (size_t)n, 0644, &err) < 0) {
        fprintf(stderr, "appliance run: %s\n", err->msg);
        ap_error_release(&err);
    }
}

static void print_record(const struct ap_run_record *r, int json)
{
    if (!json) {
        char how[32];
        snprintf(how, sizeof(how), r->exited ? "exit %d" : "signal %d",
                 r->exited ? r->exit_code : r->term_signal);
        fprintf(stderr,
                "run: %s, wall %.3f ms, start %.3f ms, exec to exit %.3f ms, cpu user %.3f ms sys "
                "%.3f ms, "
                "memory peak %lld B, maxrss %lld B, pids peak %lld%s%s\n",
                how, r->wall_ns / 1e6, r->start_ns / 1e6, r->run_ns / 1e6, r->cpu_user_ns / 1e6,
                r->cpu_system_ns / 1e6, (long long)r->memory_peak_bytes, (long long)r->maxrss_bytes,
                (long long)r->pids_peak, r->oom_killed ? ", OOM killed" : "",
                r->timed_out ? ", timed out" : "");
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddBoolToObject(j, "exited", r->exited);
    if (r->exited)
        cJSON_AddNumberToObject(j, "exit_code", r->exit_code);
    else
        cJSON_AddNullToObject(j, "exit_code");
    cJSON_AddNumberToObject(j, "signal", r->term_signal);
    cJSON_AddBoolToObject(j, "oom_killed", r->oom_killed);
    cJSON_AddBoolToObject(j, "timed_out", r->timed_out);
    cJSON_AddBoolToObject(j, "interrupted", r->interrupted);
    ap_run_record_times_json(j, r);
    cJSON_AddNumberToObject(j, "rusage_user_ns", (double)r->ru_user_ns);
    cJSON_AddNumberToObject(j, "rusage_system_ns", (double)r->ru_system_ns);
    cJSON_AddNumberToObject(j, "memory_peak_bytes", (double)r->memory_peak_bytes);
    cJSON_AddNumberToObject(j, "maxrss_bytes", (double)r->maxrss_bytes);
    cJSON_AddNumberToObject(j, "pids_peak", (double)r->pids_peak);
    cJSON_AddNumberToObject(j, "cpu_periods", (double)r->nr_periods);
    cJSON_AddNumberToObject(j, "cpu_throttled_periods", (double)r->nr_throttled);
    cJSON_AddNumberToObject(j, "cpu_throttled_ns", (double)r->throttled_ns);
    cJSON_AddStringToObject(j, "cgroup", r->cgroup_backend ? r->cgroup_backend : "");
    char *s = cJSON_Print(j);
    if (s != NULL)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(j);
}

/* The options of appliance run. Strings point into argv; the redirections are open
 * descriptors owned here (-1 when none), closed by run_opts_close. */
struct run_opts {
    struct ap_sandbox_spec spec; /* all but rootfs, argv, envp, workdir and seccomp */
    char *extra_env[MAX_LIST];   /* --env K=V, in order */
    size_t n_extra;
    struct ap_bind binds[MAX_BINDS];
    size_t n_binds;
    const char *seccomp; /* FILE, "default" or "unconfined" */
    const char *workdir; /* --workdir; NULL: the image's, or / */
    const char *pid_file;
    int json;
    int in_fd, out_fd, err_fd;
    const char *image;
    char **cmd; /* CMD [ARG...] after IMAGE (and --): n_cmd words, none for the image's */
    size_t n_cmd;
};

static void run_opts_close(struct run_opts *o)
{
    int *fds[] = {&o->in_fd, &o->out_fd, &o->err_fd};
    for (size_t i = 0; i < AP_ARRAY_SIZE(fds); i++)
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
}

static int parse_cpus(const char *arg, struct ap_cgroup_limits *l)
{
    char *end = NULL;
    double v = strtod(arg, &end);
    /* A plain decimal: strtod also reads "nan", "inf" and hex. The bounds are written to hold
     * for NaN too. */
    if (end == arg || *end || !(isdigit((unsigned char)arg[0]) || arg[0] == '.') ||
        strpbrk(arg, "xX") != NULL || !(v >= AP_SANDBOX_MIN_CPUS && v <= AP_SANDBOX_MAX_CPUS))
        return ap_cmd_usage("run", "--cpus takes a number from %.2f to %d, not '%s'",
                            AP_SANDBOX_MIN_CPUS, AP_SANDBOX_MAX_CPUS, arg);
    l->cpu_period_us = 100000;
    l->cpu_quota_us = (int64_t)llround(v * 100000);
    return AP_CMD_CONTINUE;
}

static int parse_user(const char *arg, struct ap_sandbox_spec *spec)
{
    char *end = NULL;
    unsigned long u = strtoul(arg, &end, 10), g = u;
    if (end != arg && *end == ':') {
        char *e2 = NULL;
        g = strtoul(end + 1, &e2, 10);
        end = e2 != end + 1 ? e2 : end;
    }
    if (end == arg || *end != '\0' || u > 65535 || g > 65535)
        return ap_cmd_usage("run", "--user takes UID[:GID] (0-65535), not '%s'", arg);
    spec->uid = (uid_t)u;
    spec->gid = (gid_t)g;
    return AP_CMD_CONTINUE;
}

/* SRC:/DST[:ro|rw], split in place. */
static int parse_bind(char *arg, struct run_opts *o)
{
    if (o->n_binds == MAX_BINDS)
        return ap_cmd_usage("run", "too many --bind: at most %d are supported", MAX_BINDS);
    char *src = arg, *dst = strchr(arg, ':');
    if (dst == NULL || dst == src || dst[1] != '/')
        return ap_cmd_usage("run", "--bind takes SRC:/DST[:ro|rw], not '%s'", arg);
    *dst++ = '\0';
    char *mode = strchr(dst, ':');
    int ro = 1;
    if (mode != NULL) {
        *mode++ = '\0';
        if (strcmp(mode, "rw") == 0)
            ro = 0;
        else if (strcmp(mode, "ro") != 0)
            return ap_cmd_usage("run", "--bind mode is ro or rw, not '%s'", mode);
    }
    o->binds[o->n_binds++] = (struct ap_bind){src, dst, ro};
    return AP_CMD_CONTINUE;
}

/* --stdin, --stdout or --stderr: the file opened now, so a bad path is a usage error. */
static int parse_redirect(const char *opt, const char *path, int out, int *fd, int *spec_fd)
{
    int nfd = out ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                  : open(path, O_RDONLY | O_CLOEXEC);
    if (nfd < 0)
        return ap_cmd_usage("run", "%s %s: %s", opt, path, strerror(errno));
    if (*fd >= 0)
        close(*fd);
    *fd = *spec_fd = nfd;
    return AP_CMD_CONTINUE;
}

/* The options that set the sandbox's limits; -2 when c is none of them. */
static int parse_limit(int c, char *arg, struct ap_sandbox_spec *spec)
{
    uint64_t v;
    int64_t bytes;
    switch (c) {
    case O_MEMORY:
        if (ap_sandbox_parse_bytes(arg, &spec->limits.memory_bytes) < 0 ||
            spec->limits.memory_bytes < AP_SANDBOX_MIN_MEMORY)
            return ap_cmd_usage("run",
                                "--memory takes a size of at least %dM (e.g. 64M, 1G), not '%s'",
                                AP_SANDBOX_MIN_MEMORY >> 20, arg);
        return AP_CMD_CONTINUE;
    case O_CPUS:
        return parse_cpus(arg, &spec->limits);
    case O_CPUSET:
        spec->limits.cpuset = arg;
        return AP_CMD_CONTINUE;
    case O_PIDS:
        if (parse_u64(arg, &v) < 0 || v < 2 || v > INT64_MAX)
            return ap_cmd_usage("run",
                                "--pids takes a number of at least 2 (the sandbox's init and the "
                                "command), not '%s'",
                                arg);
        spec->limits.pids_max = (int64_t)v;
        return AP_CMD_CONTINUE;
    case O_TIMEOUT:
        if (ap_cmd_parse_seconds(arg, &spec->timeout_s) < 0 ||
            spec->timeout_s > AP_SANDBOX_MAX_TIMEOUT_S)
            return ap_cmd_usage("run",
                                "--timeout takes seconds from 0 to %.0f (2, 2s, 500ms), not '%s'",
                                AP_SANDBOX_MAX_TIMEOUT_S, arg);
        return AP_CMD_CONTINUE;
    case O_TMPSIZE:
        if (ap_sandbox_parse_bytes(arg, &bytes) < 0 || bytes <= 0)
            return ap_cmd_usage("run", "--tmp-size takes a size such as 64M");
        spec->tmp_bytes = (uint64_t)bytes;
        return AP_CMD_CONTINUE;
    case O_NOFILE:
        if (parse_u64(arg, &spec->nofile) < 0 || spec->nofile == 0)
            return ap_cmd_usage("run", "--nofile takes a positive number");
        return AP_CMD_CONTINUE;
    default:
        return -2;
    }
}

/* One option of appliance run. */
static int parse_option(int c, char *arg, struct run_opts *o, struct ap_settings *set)
{
    int rc = parse_limit(c, arg, &o->spec);
    if (rc != -2)
        return rc;
    switch (c) {
    case O_NET:
        if (strcmp(arg, "none") == 0)
            o->spec.net = AP_NET_NONE;
        else if (strcmp(arg, "loopback") == 0)
            o->spec.net = AP_NET_LOOPBACK;
        else
            return ap_cmd_usage("run", "--net is none or loopback, not '%s'", arg);
        return AP_CMD_CONTINUE;
    case O_USERNS:
        o->spec.userns = 1;
        return AP_CMD_CONTINUE;
    case O_USER:
        return parse_user(arg, &o->spec);
    case O_WORKDIR:
        if (arg[0] != '/')
            return ap_cmd_usage("run", "--workdir must be absolute");
        o->workdir = arg;
        return AP_CMD_CONTINUE;
    case O_ENV:
        if (strchr(arg, '=') == NULL || arg[0] == '=')
            return ap_cmd_usage("run", "--env takes K=V, not '%s'", arg);
        if (o->n_extra + 1 >= MAX_LIST)
            return ap_cmd_usage("run", "too many --env: at most %d are supported", MAX_LIST - 1);
        o->extra_env[o->n_extra++] = arg;
        return AP_CMD_CONTINUE;
    case O_BIND:
        return parse_bind(arg, o);
    case O_HOSTNAME:
        o->spec.hostname = arg;
        return AP_CMD_CONTINUE;
    case O_SECCOMP:
        o->seccomp = arg;
        return AP_CMD_CONTINUE;
    case O_STDIN:
        return parse_redirect("--stdin", arg, 0, &o->in_fd, &o->spec.stdin_fd);
    case O_STDOUT:
        return parse_redirect("--stdout", arg, 1, &o->out_fd, &o->spec.stdout_fd);
    case O_STDERR:
        return parse_redirect("--stderr", arg, 1, &o->err_fd, &o->spec.stderr_fd);
    case O_JSON:
        o->json = 1;
        return AP_CMD_CONTINUE;
    case O_OUT:
        set->out_dir = arg;
        return AP_CMD_CONTINUE;
    case O_CACHE:
        set->cache_dir = arg;
        return AP_CMD_CONTINUE;
    case O_PIDFILE:
        o->pid_file = arg;
        return AP_CMD_CONTINUE;
    default:
        return -2;
    }
}

/* Parses and checks every option, IMAGE and the command's length before an image is read or
 * anything created. */
static int parse_run_opts(struct run_opts *o, struct ap_settings *set, int argc, char **argv)
{
    memset(o, 0, sizeof(*o));
    o->spec.uid = o->spec.gid = 65534;
    o->spec.stdin_fd = o->spec.stdout_fd = o->spec.stderr_fd = -1;
    o->spec.net = AP_NET_NONE;
    o->in_fd = o->out_fd = o->err_fd = -1;
    o->seccomp = "default";
    optind = 1;
    opterr = 0;
    int c;
    /* '+': options stop at IMAGE, so the command's own options are left alone. */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        if (c == 'h') {
            run_usage(stdout);
            return AP_EXIT_OK;
        }
        int rc = parse_option(c, optarg, o, set);
        if (rc == -2)
            return ap_cmd_usage("run", "unknown or incomplete option '%s'", argv[optind - 1]);
        if (rc != AP_CMD_CONTINUE)
            return rc;
    }
    if (optind >= argc)
        return ap_cmd_usage("run", "expected IMAGE");
    o->image = argv[optind++];
    if (o->image[0] == '\0')
        return ap_cmd_usage("run", "IMAGE is empty: give a built image's name or a directory");
    o->spec.binds = o->binds;
    o->spec.n_binds = o->n_binds;
    ap_error *verr = NULL;
    if (ap_sandbox_validate(&o->spec, &verr) < 0) {
        ap_cmd_usage("run", "%s", verr->msg);
        ap_error_release(&verr);
        return AP_EXIT_USAGE;
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    o->cmd = argv + optind;
    o->n_cmd = (size_t)(argc - optind);
    if (o->n_cmd >= MAX_LIST)
        return ap_cmd_usage("run", "%zu command arguments; at most %d are supported", o->n_cmd,
                            MAX_LIST - 1);
    return AP_CMD_CONTINUE;
}

/* What the sandbox runs: the root, the environment and the command, from IMAGE and the
 * options. The strings point into argv and the image's settings. */
struct run_target {
    char rootfs[4096];
    char *env[MAX_LIST];
    size_t n_env;
    char *argv[MAX_LIST];
    size_t n_argv;
    const char *workdir;
    struct ap_oci_run image; /* the image's runtime settings (empty for a directory) */
};

/* The image's environment, working directory and (without a command given) its entrypoint
 * and cmd, from its runtime settings (image/oci.c); what does not fit is a usage error. */
static int apply_image_config(struct run_target *t, const struct run_opts *o, const char *layout)
{
    ap_error *err = NULL;
    if (ap_oci_run_read(layout, o->n_cmd == 0, &t->image, &err) < 0) {
        /* With its config read, what failed is a limit of its settings: a usage error. */
        if (t->image.cfg == NULL) {
            ap_error_wrap(&err, "image %s", o->image);
            ap_cmd_fail(&err);
            return AP_EXIT_RUN_FAILED;
        }
        int rc = ap_cmd_usage("run", "image %s: %s (give the command after --)", o->image,
                              err != NULL ? err->msg : "its settings are refused");
        ap_error_release(&err);
        return rc;
    }
    for (size_t i = 0; i < t->image.n_env; i++)
        t->env[t->n_env++] = t->image.env[i];
    if (t->workdir == NULL)
        t->workdir = t->image.workdir;
    for (size_t i = 0; i < t->image.n_argv; i++)
        t->argv[t->n_argv++] = t->image.argv[i];
    return AP_CMD_CONTINUE;
}

static void run_target_close(struct run_target *t)
{
    ap_oci_run_free(&t->image);
}

/* Resolves IMAGE (a built image's name, or a directory) into what the sandbox runs. */
static int resolve_target(struct run_target *t, const struct run_opts *o,
                          const struct ap_settings *set)
{
    static char default_path[] =
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    t->workdir = o->workdir;
    if (strchr(o->image, '/') != NULL) {
        if (strlen(o->image) >= AP_SANDBOX_PATH_MAX ||
            ap_fs_path(t->rootfs, sizeof(t->rootfs), "%s", o->image) < 0)
            return ap_cmd_usage("run",
                                "the root directory's path is longer than %d bytes, the "
                                "sandbox's limit (name it through a shorter path)",
                                AP_SANDBOX_PATH_MAX - 1);
        t->env[t->n_env++] = default_path;
    } else {
        char layout[4096];
        ap_error *err = NULL;
        if (ap_fs_path(layout, sizeof(layout), "%s/%s", set->out_dir, o->image) < 0)
            ap_error_make(&err, ENAMETOOLONG, "the layout path under %s", set->out_dir);
        if (err != NULL) {
            ap_cmd_fail(&err);
            return AP_EXIT_RUN_FAILED;
        }
        int rc = apply_image_config(t, o, layout);
        if (rc != AP_CMD_CONTINUE)
            return rc;
        if (ap_oci_rootfs(set->cache_dir, layout, t->rootfs, sizeof(t->rootfs), &err) < 0) {
            ap_error_wrap(&err, "image %s", o->image);
            ap_cmd_fail(&err);
            return AP_EXIT_RUN_FAILED;
        }
    }
    for (size_t i = 0; i < o->n_extra; i++)
        if (ap_sandbox_env_set(t->env, &t->n_env, MAX_LIST, o->extra_env[i]) < 0)
            return ap_cmd_usage(
                "run",
                "too many environment variables (the image's and --env): at most %d are supported",
                MAX_LIST - 1);
    for (size_t i = 0; i < o->n_cmd; i++)
        t->argv[t->n_argv++] = o->cmd[i];
    if (t->n_argv == 0)
        return ap_cmd_usage("run", "no command: give one after -- (the image has none)");
    return AP_CMD_CONTINUE;
}

/* Compiles the seccomp profile the options name into filter; 1 when there is none. */
static int load_filter(const char *seccomp, const char *cache_dir, struct ap_seccomp *filter,
                       ap_error **err)
{
    if (strcmp(seccomp, "unconfined") == 0)
        return 1;
    cleanup_free char *buf = NULL;
    const char *json_text = ap_seccomp_default_profile();
    size_t len = strlen(json_text);
    const char *what = "default seccomp profile";
    if (strcmp(seccomp, "default") != 0) {
        if (ap_fs_read_file(AT_FDCWD, seccomp, 4u << 20, &buf, &len, err) < 0)
            return -1;
        json_text = buf;
        what = seccomp;
    }
    return ap_seccomp_compile_cached(json_text, len, what, cache_dir, filter, err) < 0 ? -1 : 0;
}

int ap_cmd_run(struct ap_settings *set, int argc, char **argv)
{
    __attribute__((cleanup(run_opts_close))) struct run_opts o;
    int rc = parse_run_opts(&o, set, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    __attribute__((cleanup(run_target_close))) struct run_target t;
    memset(&t, 0, sizeof(t));
    rc = resolve_target(&t, &o, set);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    o.spec.rootfs = t.rootfs;
    o.spec.argv = t.argv;
    o.spec.envp = t.env;
    o.spec.workdir = t.workdir;

    ap_error *err = NULL;
    struct ap_seccomp filter;
    memset(&filter, 0, sizeof(filter));
    rc = load_filter(o.seccomp, set->cache_dir, &filter, &err);
    if (rc < 0) {
        ap_cmd_fail(&err);
        return AP_EXIT_RUN_FAILED;
    }
    if (rc == 0)
        o.spec.seccomp = &filter;
    char pid_path[4096];
    if (o.pid_file != NULL) {
        if (ap_fs_path(pid_path, sizeof(pid_path), "%s", o.pid_file) < 0) {
            ap_seccomp_free(&filter);
            return ap_cmd_usage("run", "--pid-file is longer than %zu bytes", sizeof(pid_path) - 1);
        }
        o.spec.on_exec = write_pid_file;
        o.spec.ctx = pid_path;
    }
    struct ap_run_record rec;
    rc = ap_sandbox_run(&o.spec, &rec, &err);
    if (o.pid_file != NULL)
        unlink(o.pid_file);
    ap_seccomp_free(&filter);
    if (rc < 0) {
        ap_cmd_fail(&err);
        return AP_EXIT_RUN_FAILED;
    }
    print_record(&rec, o.json);
    if (rec.interrupted)
        return 130;
    return rec.exited ? rec.exit_code : 128 + rec.term_signal;
}
