/* spawn-loop ROOT PATH RUNS: the least a process start can cost, as a third instrument beside
 * appliance bench and hyperfine. Enters ROOT by chroot ("-": stays where it is), becomes
 * nobody (65534) as the bench's bare starts do, then runs PATH with posix_spawn (a vfork, as a
 * shell or hyperfine starts a program) and waits for it, RUNS times after five unmeasured runs,
 * stdout to /dev/null. Each run is timed from before the spawn to after the reap, with nothing
 * else in between; prints "median_s X min_s X max_s X". Run it pinned (taskset), as root. */
#include <fcntl.h>
#include <grp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int runs = argc == 4 ? atoi(argv[3]) : 0;
    if (runs < 1 || runs > 10000) {
        fprintf(stderr, "usage: spawn-loop ROOT|- PATH RUNS (1 to 10000)\n");
        return 2;
    }
    /* Before the chroot: an unpacked image's /dev is empty. */
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null_fd < 0) {
        perror("spawn-loop: /dev/null");
        return 1;
    }
    if (argv[1][0] != '-' && (chroot(argv[1]) < 0 || chdir("/") < 0)) {
        perror("spawn-loop: chroot");
        return 1;
    }
    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0) {
        perror("spawn-loop: becoming nobody");
        return 1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, null_fd, 1);
    double *t = calloc((size_t)runs, sizeof(*t));
    if (t == NULL)
        return 1;
    char *av[] = {argv[2], NULL};
    for (int i = -5; i < runs; i++) {
        pid_t pid;
        int status;
        double t0 = now_s();
        int e = posix_spawn(&pid, argv[2], &fa, NULL, av, environ);
        if (e != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            fprintf(stderr, "spawn-loop: %s did not run and exit 0\n", argv[2]);
            return 1;
        }
        if (i >= 0)
            t[i] = now_s() - t0;
    }
    qsort(t, (size_t)runs, sizeof(*t), cmp_double);
    double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    printf("median_s %.9f min_s %.9f max_s %.9f\n", med, t[0], t[runs - 1]);
    free(t);
    return 0;
}
