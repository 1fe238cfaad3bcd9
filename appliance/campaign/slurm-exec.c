/* Calling Slurm's commands: sbatch, squeue, sacct, scancel, found on PATH and run without a
 * shell, their output read back with a bound. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "slurm.h"

#define OUTPUT_MAX (1024 * 1024)

/* The path of prog on PATH into buf, or -1 with an error saying so. */
static int find_on_path(const char *prog, char *buf, size_t len, ap_error **err)
{
    const char *path = getenv("PATH");
    if (path == NULL || *path == '\0')
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
        if (n > 0 && ap_fs_path(buf, len, "%.*s/%s", (int)n, p, prog) == 0 &&
            access(buf, X_OK) == 0)
            return 0;
        p += n + (end != NULL);
    }
    ap_error_make(err, ENOENT, "%s is not on PATH (%s)", prog, path);
    return ap_error_hint(err, "install Slurm's client commands (Debian: slurm-client or "
                              "slurm-wlm) or add their folder to PATH");
}

/* Reads both pipes to their ends into out[0] and out[1] (at most OUTPUT_MAX bytes each). */
static int read_both(int fds[2], char *out[2], const char *prog, ap_error **err)
{
    size_t len[2] = {0, 0}, cap[2] = {0, 0};
    int open_fds = 2;
    while (open_fds > 0) {
        struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return ap_error_make(err, errno, "reading the output of %s", prog);
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (cap[i] - len[i] < 4097) {
                size_t ncap = cap[i] ? cap[i] * 2 : 8192;
                char *n = realloc(out[i], ncap);
                if (n == NULL)
                    return ap_error_make(err, ENOMEM, "reading the output of %s", prog);
                out[i] = n;
                cap[i] = ncap;
            }
            ssize_t r = ap_fs_read_some(fds[i], out[i] + len[i], 4096);
            if (r < 0)
                return ap_error_make(err, errno, "reading the output of %s", prog);
            if (r == 0) {
                close(fds[i]);
                fds[i] = -1;
                open_fds--;
            }
            len[i] += (size_t)r;
            out[i][len[i]] = '\0';
            if (len[i] > OUTPUT_MAX)
                return ap_error_make(err, EFBIG, "%s wrote more than %d bytes", prog, OUTPUT_MAX);
        }
    }
    return 0;
}

static void child(const char *path, const char *const *args, int out, int errfd)
{
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(127);
    signal(SIGPIPE, SIG_DFL);
    /* execv's argv is not const for historical reasons only: it does not change the words. */
    union {
        const char *const *c;
        char *const *m;
    } words = {.c = args};
    execv(path, words.m);
    dprintf(2, "exec %s: %s\n", path, strerror(errno));
    _exit(127);
}

int ap_slurm_command(const char *const *args, char **out, char **errout, int *status,
                     ap_error **err)
{
    char path[4096];
    if (find_on_path(args[0], path, sizeof(path), err) < 0)
        return -1;
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        int e = errno;
        for (int i = 0; i < 2; i++) {
            if (po[i] >= 0)
                close(po[i]);
        }
        return ap_error_make(err, e, "running %s", path);
    }
    pid_t pid = fork();
    if (pid == 0)
        child(path, args, po[1], pe[1]);
    int e = errno;
    close(po[1]);
    close(pe[1]);
    int fds[2] = {po[0], pe[0]};
    char *bufs[2] = {NULL, NULL};
    int rc =
        pid < 0 ? ap_error_make(err, e, "running %s", path) : read_both(fds, bufs, args[0], err);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    int ws = 0;
    while (pid > 0 && waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (rc < 0) {
        free(bufs[0]);
        free(bufs[1]);
        return -1;
    }
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    *out = bufs[0] != NULL ? bufs[0] : strdup("");
    *errout = bufs[1] != NULL ? bufs[1] : strdup("");
    if (*out == NULL || *errout == NULL) {
        free(*out);
        free(*errout);
        return ap_error_make(err, ENOMEM, "running %s", path);
    }
    return 0;
}

int ap_slurm_sbatch(const char *script, const char *const *extra, char *id, size_t len,
                    ap_error **err)
{
    const char *args[16] = {"sbatch", "--parsable"};
    size_t n = 2;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 14; i++)
        args[n++] = extra[i];
    args[n++] = script;
    args[n] = NULL;
    cleanup_free char *out = NULL;
    cleanup_free char *errout = NULL;
    int status = 0;
    if (ap_slurm_command(args, &out, &errout, &status, err) < 0)
        return ap_error_wrap(err, "submitting %s", script);
    if (status != 0) {
        ap_error_make(err, 0, "sbatch %s failed (exit %d); it said:", script, status);
        ap_error_lines(err, errout);
        return ap_error_hint(err,
                             "check the partition and constraint against sinfo, and that "
                             "SLURM_CONF (%s) names the cluster's slurm.conf",
                             getenv("SLURM_CONF") ? getenv("SLURM_CONF") : "unset");
    }
    /* --parsable prints "jobid" or "jobid;cluster". */
    size_t k = strspn(out, "0123456789");
    if (k == 0 || k >= len || (out[k] != '\0' && out[k] != '\n' && out[k] != ';')) {
        ap_error_make(err, 0, "sbatch %s printed no job id; it printed:", script);
        return ap_error_lines(err, out);
    }
    memcpy(id, out, k);
    id[k] = '\0';
    return 0;
}

int ap_slurm_cancel(const char *job, ap_error **err)
{
    const char *args[] = {"scancel", job, NULL};
    cleanup_free char *out = NULL;
    cleanup_free char *errout = NULL;
    int status = 0;
    if (ap_slurm_command(args, &out, &errout, &status, err) < 0)
        return -1;
    /* scancel of a job that has ended says "already completing or completed" or "Invalid job
     * id": the job is gone either way. */
    if (status != 0 && strstr(errout, "already") == NULL && strstr(errout, "Invalid job") == NULL) {
        ap_error_make(err, 0, "scancel %s failed (exit %d); it said:", job, status);
        return ap_error_lines(err, errout);
    }
    return 0;
}

/* Copies a field of at most len - 1 bytes. */
static void copy_field(char *dst, size_t len, const char *s, size_t n)
{
    if (n >= len)
        n = len - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* The slots "[0-2,5%2]" names (sacct's pending array tasks, not yet split): each marked in on. */
static void task_ranges(const char *s, const char *end, unsigned char *on, size_t tasks)
{
    while (s < end && *s != ']' && *s != '%') {
        char *e = NULL;
        long a = strtol(s, &e, 10), b = a;
        if (e == s)
            return;
        if (*e == '-') {
            s = e + 1;
            b = strtol(s, &e, 10);
            if (e == s)
                return;
        }
        for (long t = a; t <= b && t >= 0 && (size_t)t < tasks; t++)
            on[t] = 1;
        s = *e == ',' ? e + 1 : e;
    }
}

static void set_state(struct ap_slurm_state *st, const char *line, size_t n, const char *bar1,
                      const char *source)
{
    const char *bar2 = memchr(bar1 + 1, '|', n - (size_t)(bar1 + 1 - line));
    const char *sv = bar1 + 1;
    size_t sl = bar2 != NULL ? (size_t)(bar2 - sv) : n - (size_t)(sv - line);
    /* sacct writes "CANCELLED by 0". */
    const char *sp = memchr(sv, ' ', sl);
    copy_field(st->state, sizeof(st->state), sv, sp != NULL ? (size_t)(sp - sv) : sl);
    if (bar2 != NULL)
        copy_field(st->reason, sizeof(st->reason), bar2 + 1, n - (size_t)(bar2 + 1 - line));
    st->source = source;
}

/* One line "JOBID|STATE|EXTRA" of sacct or squeue (JOBID: "J", "J_T" or "J_[ranges]") into st. */
static void take_line(const char *job, const char *line, size_t n, struct ap_slurm_state *st,
                      size_t tasks, const char *source)
{
    const char *bar1 = memchr(line, '|', n);
    if (bar1 == NULL)
        return;
    size_t jl = strlen(job);
    if ((size_t)(bar1 - line) < jl || memcmp(line, job, jl) != 0)
        return;
    const char *rest = line + jl;
    if (tasks == 0) {
        if (rest == bar1)
            set_state(&st[0], line, n, bar1, source);
        return;
    }
    if (*rest != '_')
        return;
    if (rest[1] == '[') {
        unsigned char on[AP_SLURM_MAX_SHARDS] = {0};
        task_ranges(rest + 2, bar1, on, tasks < AP_SLURM_MAX_SHARDS ? tasks : AP_SLURM_MAX_SHARDS);
        for (size_t t = 0; t < tasks && t < AP_SLURM_MAX_SHARDS; t++)
            if (on[t])
                set_state(&st[t], line, n, bar1, source);
        return;
    }
    char *end = NULL;
    long t = strtol(rest + 1, &end, 10);
    if (end == bar1 && t >= 0 && (size_t)t < tasks)
        set_state(&st[t], line, n, bar1, source);
}

static void take_lines(const char *job, const char *text, struct ap_slurm_state *st, size_t tasks,
                       const char *source)
{
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        take_line(job, p, n, st, tasks, source);
        p += n + (nl != NULL);
    }
}

int ap_slurm_job_states(const char *job, struct ap_slurm_state *st, size_t tasks, ap_error **err)
{
    size_t slots = tasks > 0 ? tasks : 1;
    for (size_t i = 0; i < slots; i++)
        st[i] = (struct ap_slurm_state){.source = NULL};
    const char *sacct[] = {"sacct",
                           "--noheader",
                           "--parsable2",
                           "--allocations",
                           "--jobs",
                           job,
                           "--format=JobID,State,ExitCode",
                           NULL};
    cleanup_free char *out = NULL;
    cleanup_free char *errout = NULL;
    int status = 0;
    ap_error *e = NULL;
    /* Without accounting storage sacct fails ("Slurm accounting storage is disabled"). */
    if (ap_slurm_command(sacct, &out, &errout, &status, &e) == 0 && status == 0 && *out != '\0') {
        take_lines(job, out, st, tasks, "sacct");
        return 0;
    }
    ap_error_release(&e);
    free(out);
    free(errout);
    out = errout = NULL;
    /* Every job the controller still holds, finished ones included: asking for one job id
     * that it has forgotten would be an error. */
    const char *squeue[] = {"squeue",       "--noheader",        "--array",
                            "--states=all", "--format=%i|%T|%r", NULL};
    if (ap_slurm_command(squeue, &out, &errout, &status, err) < 0)
        return ap_error_wrap(err, "reading the state of job %s", job);
    if (status != 0) {
        ap_error_make(err, 0, "squeue failed (exit %d); it said:", status);
        return ap_error_lines(err, errout);
    }
    take_lines(job, out, st, tasks, "squeue");
    return 0;
}
