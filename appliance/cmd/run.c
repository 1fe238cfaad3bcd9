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

#define MAX_LIST 256
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

static int open_redirect(const char *path, int out, int *fd)
{
    *fd = out ? open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
              : open(path, O_RDONLY | O_CLOEXEC);
    return *fd < 0 ? -1 : 0;
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
    cJSON_AddNumberToObject(j, "wall_ns", (double)r->wall_ns);
    cJSON_AddNumberToObject(j, "start_ns", (double)r->start_ns);
    cJSON_AddNumberToObject(j, "run_ns", (double)r->run_ns);
    cJSON_AddNumberToObject(j, "cpu_user_ns", (double)r->cpu_user_ns);
    cJSON_AddNumberToObject(j, "cpu_system_ns", (double)r->cpu_system_ns);
    cJSON_AddNumberToObject(j, "cpu_total_ns", (double)r->cpu_total_ns);
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

int ap_cmd_run(struct ap_settings *set, int argc, char **argv)
{
    struct ap_sandbox_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.uid = spec.gid = 65534;
    spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = -1;
    spec.net = AP_NET_NONE;
    char *extra_env[MAX_LIST];
    size_t n_extra = 0;
    struct ap_bind binds[64];
    size_t n_binds = 0;
    const char *seccomp = "default", *workdir = NULL, *pid_file = NULL;
    int json = 0;
    cleanup_close int in_fd = -1;
    cleanup_close int out_fd = -1;
    cleanup_close int err_fd = -1;
    optind = 1;
    opterr = 0;
    int c;
    /* '+': options stop at IMAGE, so the command's own options are left alone. */
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case O_MEMORY:
            if (ap_sandbox_parse_bytes(optarg, &spec.limits.memory_bytes) < 0 ||
                spec.limits.memory_bytes < AP_SANDBOX_MIN_MEMORY)
                return ap_cmd_usage("run",
                                    "--memory takes a size of at least %dM (e.g. 64M, 1G), not "
                                    "'%s'",
                                    AP_SANDBOX_MIN_MEMORY >> 20, optarg);
            break;
        case O_CPUS: {
            char *end = NULL;
            double v = strtod(optarg, &end);
            /* A plain decimal: strtod also reads "nan", "inf" and hex. The bounds are
             * written to hold for NaN too. */
            if (end == optarg || *end || !(isdigit((unsigned char)optarg[0]) || optarg[0] == '.') ||
                strpbrk(optarg, "xX") != NULL ||
                !(v >= AP_SANDBOX_MIN_CPUS && v <= AP_SANDBOX_MAX_CPUS))
                return ap_cmd_usage("run", "--cpus takes a number from %.2f to %d, not '%s'",
                                    AP_SANDBOX_MIN_CPUS, AP_SANDBOX_MAX_CPUS, optarg);
            spec.limits.cpu_period_us = 100000;
            spec.limits.cpu_quota_us = (int64_t)llround(v * 100000);
            break;
        }
        case O_CPUSET:
            spec.limits.cpuset = optarg;
            break;
        case O_PIDS: {
            uint64_t v;
            if (parse_u64(optarg, &v) < 0 || v < 2 || v > INT64_MAX)
                return ap_cmd_usage("run",
                                    "--pids takes a number of at least 2 (the sandbox's init and "
                                    "the command), not '%s'",
                                    optarg);
            spec.limits.pids_max = (int64_t)v;
            break;
        }
        case O_TIMEOUT:
            if (ap_cmd_parse_seconds(optarg, &spec.timeout_s) < 0 ||
                spec.timeout_s > AP_SANDBOX_MAX_TIMEOUT_S)
                return ap_cmd_usage("run",
                                    "--timeout takes seconds from 0 to %.0f (2, 2s, 500ms), not "
                                    "'%s'",
                                    AP_SANDBOX_MAX_TIMEOUT_S, optarg);
            break;
        case O_NET:
            if (strcmp(optarg, "none") == 0)
                spec.net = AP_NET_NONE;
            else if (strcmp(optarg, "loopback") == 0)
                spec.net = AP_NET_LOOPBACK;
            else
                return ap_cmd_usage("run", "--net is none or loopback, not '%s'", optarg);
            break;
        case O_USERNS:
            spec.userns = 1;
            break;
        case O_USER: {
            char *end = NULL;
            unsigned long u = strtoul(optarg, &end, 10), g = u;
            if (end != optarg && *end == ':') {
                char *e2 = NULL;
                g = strtoul(end + 1, &e2, 10);
                end = e2 != end + 1 ? e2 : end;
            }
            if (end == optarg || *end != '\0' || u > 65535 || g > 65535)
                return ap_cmd_usage("run", "--user takes UID[:GID] (0-65535), not '%s'", optarg);
            spec.uid = (uid_t)u;
            spec.gid = (gid_t)g;
            break;
        }
        case O_WORKDIR:
            if (optarg[0] != '/')
                return ap_cmd_usage("run", "--workdir must be absolute");
            workdir = optarg;
            break;
        case O_ENV:
            if (strchr(optarg, '=') == NULL || optarg[0] == '=')
                return ap_cmd_usage("run", "--env takes K=V, not '%s'", optarg);
            if (n_extra + 1 >= MAX_LIST)
                return ap_cmd_usage("run", "too many --env");
            extra_env[n_extra++] = optarg;
            break;
        case O_BIND: {
            if (n_binds == AP_ARRAY_SIZE(binds))
                return ap_cmd_usage("run", "too many --bind");
            char *src = optarg, *dst = strchr(optarg, ':');
            if (dst == NULL || dst == src || dst[1] != '/')
                return ap_cmd_usage("run", "--bind takes SRC:/DST[:ro|rw], not '%s'", optarg);
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
            binds[n_binds++] = (struct ap_bind){src, dst, ro};
            break;
        }
        case O_HOSTNAME:
            spec.hostname = optarg;
            break;
        case O_TMPSIZE: {
            int64_t v;
            if (ap_sandbox_parse_bytes(optarg, &v) < 0 || v <= 0)
                return ap_cmd_usage("run", "--tmp-size takes a size such as 64M");
            spec.tmp_bytes = (uint64_t)v;
            break;
        }
        case O_NOFILE:
            if (parse_u64(optarg, &spec.nofile) < 0 || spec.nofile == 0)
                return ap_cmd_usage("run", "--nofile takes a positive number");
            break;
        case O_SECCOMP:
            seccomp = optarg;
            break;
        case O_STDIN:
            if (open_redirect(optarg, 0, &in_fd) < 0)
                return ap_cmd_usage("run", "--stdin %s: %s", optarg, strerror(errno));
            spec.stdin_fd = in_fd;
            break;
        case O_STDOUT:
            if (open_redirect(optarg, 1, &out_fd) < 0)
                return ap_cmd_usage("run", "--stdout %s: %s", optarg, strerror(errno));
            spec.stdout_fd = out_fd;
            break;
        case O_STDERR:
            if (open_redirect(optarg, 1, &err_fd) < 0)
                return ap_cmd_usage("run", "--stderr %s: %s", optarg, strerror(errno));
            spec.stderr_fd = err_fd;
            break;
        case O_JSON:
            json = 1;
            break;
        case O_OUT:
            set->out_dir = optarg;
            break;
        case O_CACHE:
            set->cache_dir = optarg;
            break;
        case O_PIDFILE:
            pid_file = optarg;
            break;
        case 'h':
            run_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("run", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return ap_cmd_usage("run", "expected IMAGE");
    const char *image = argv[optind++];
    if (image[0] == '\0')
        return ap_cmd_usage("run", "IMAGE is empty: give a built image's name or a directory");
    spec.binds = binds;
    spec.n_binds = n_binds;
    /* Every option is checked before an image is read or anything created. */
    ap_error *verr = NULL;
    if (ap_sandbox_validate(&spec, &verr) < 0) {
        ap_cmd_usage("run", "%s", verr->msg);
        ap_error_release(&verr);
        return AP_EXIT_USAGE;
    }
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;

    ap_error *err = NULL;
    char rootfs[4096];
    char *env[MAX_LIST] = {NULL};
    static char default_path[] =
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t n_env = 0;
    char *cmdv[MAX_LIST] = {NULL};
    size_t n_cmd = 0;
    cleanup_cjson cJSON *cfg = NULL;
    if (strchr(image, '/') != NULL) {
        snprintf(rootfs, sizeof(rootfs), "%s", image);
        env[n_env++] = default_path;
    } else {
        char layout[4096];
        snprintf(layout, sizeof(layout), "%s/%s", set->out_dir, image);
        if (ap_oci_rootfs(set->cache_dir, layout, rootfs, sizeof(rootfs), &err) < 0 ||
            ap_oci_read_config(layout, &cfg, &err) < 0) {
            ap_error_wrap(&err, "image %s", image);
            ap_cmd_fail(&err);
            return AP_EXIT_RUN_FAILED;
        }
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cfg, "Env"))
        {
            if (cJSON_IsString(it) && strchr(it->valuestring, '=') != NULL)
                ap_sandbox_env_set(env, &n_env, MAX_LIST, it->valuestring);
        }
        const cJSON *wd = cJSON_GetObjectItemCaseSensitive(cfg, "WorkingDir");
        if (workdir == NULL && cJSON_IsString(wd) && wd->valuestring[0] == '/')
            workdir = wd->valuestring;
        if (optind >= argc) {
            const char *keys[] = {"Entrypoint", "Cmd"};
            for (int k = 0; k < 2; k++) {
                cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(cfg, keys[k]))
                {
                    if (cJSON_IsString(it) && n_cmd + 1 < MAX_LIST)
                        cmdv[n_cmd++] = it->valuestring;
                }
            }
        }
    }
    for (size_t i = 0; i < n_extra; i++)
        if (ap_sandbox_env_set(env, &n_env, MAX_LIST, extra_env[i]) < 0)
            return ap_cmd_usage("run", "too many environment variables");
    for (; optind < argc && n_cmd + 1 < MAX_LIST; optind++)
        cmdv[n_cmd++] = argv[optind];
    if (n_cmd == 0)
        return ap_cmd_usage("run", "no command: give one after -- (the image has none)");
    spec.rootfs = rootfs;
    spec.argv = cmdv;
    spec.envp = env;
    spec.workdir = workdir;

    struct ap_seccomp filter;
    memset(&filter, 0, sizeof(filter));
    if (strcmp(seccomp, "unconfined") != 0) {
        cleanup_free char *buf = NULL;
        const char *json_text = ap_seccomp_default_profile();
        size_t len = strlen(json_text);
        const char *what = "default seccomp profile";
        if (strcmp(seccomp, "default") != 0) {
            if (ap_fs_read_file(AT_FDCWD, seccomp, 4u << 20, &buf, &len, &err) < 0) {
                ap_cmd_fail(&err);
                return AP_EXIT_RUN_FAILED;
            }
            json_text = buf;
            what = seccomp;
        }
        if (ap_seccomp_compile_cached(json_text, len, what, set->cache_dir, &filter, &err) < 0) {
            ap_cmd_fail(&err);
            return AP_EXIT_RUN_FAILED;
        }
        spec.seccomp = &filter;
    }
    char pid_path[4096];
    if (pid_file != NULL) {
        snprintf(pid_path, sizeof(pid_path), "%s", pid_file);
        spec.on_exec = write_pid_file;
        spec.ctx = pid_path;
    }
    struct ap_run_record rec;
    int rc = ap_sandbox_run(&spec, &rec, &err);
    if (pid_file != NULL)
        unlink(pid_file);
    ap_seccomp_free(&filter);
    if (rc < 0) {
        ap_cmd_fail(&err);
        return AP_EXIT_RUN_FAILED;
    }
    print_record(&rec, json);
    if (rec.interrupted)
        return 130;
    return rec.exited ? rec.exit_code : 128 + rec.term_signal;
}
