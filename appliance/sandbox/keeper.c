#include "keeper.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#define POOL 2
#define RELEASE_MAX 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t settled = PTHREAD_COND_INITIALIZER;
static int ready[POOL], n_ready;
static int to_close[RELEASE_MAX], n_close;
static int started, broken, takes, idle;

/* One namespace: the thread moves itself into a new one and keeps a descriptor of it. */
static int make_netns(void)
{
    if (unshare(CLONE_NEWNET) < 0)
        return -1;
    return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

static void *keeper_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (n_close > 0) {
            int fd = to_close[--n_close];
            pthread_mutex_unlock(&lock);
            close(fd);
            pthread_mutex_lock(&lock);
        }
        if (n_ready < POOL && !broken) {
            pthread_mutex_unlock(&lock);
            int fd = make_netns();
            pthread_mutex_lock(&lock);
            if (fd < 0)
                broken = 1; /* not allowed here: runs create their own */
            else if (n_ready < POOL)
                ready[n_ready++] = fd;
            else
                close(fd);
            continue;
        }
        idle = 1;
        pthread_cond_broadcast(&settled);
        pthread_cond_wait(&wake, &lock);
        idle = 0;
    }
    return NULL;
}

/* Starts the thread once; returns 0 when it runs. Called with the lock held. */
static int ensure_started(void)
{
    if (started)
        return started > 0 ? 0 : -1;
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* The default stack size: a thread's static TLS comes out of its stack (16 KiB now; at
     * over 600 KiB a small stack made pthread_create fail with EINVAL and every run did this
     * thread's work itself). */
    started = pthread_create(&t, &attr, keeper_main, NULL) == 0 ? 1 : -1;
    pthread_attr_destroy(&attr);
    return started > 0 ? 0 : -1;
}

int ap_keeper_take_netns(void)
{
    int fd = -1;
    pthread_mutex_lock(&lock);
    /* A process that runs one sandbox (`appliance run`) has no later run to make namespaces
     * for: the thread starts with the second run, and the first makes its own namespace. */
    if (++takes > 1 && ensure_started() == 0) {
        if (n_ready > 0)
            fd = ready[--n_ready];
        else
            pthread_cond_signal(&wake); /* ran dry (runs at once on several threads) */
    }
    pthread_mutex_unlock(&lock);
    return fd;
}

void ap_keeper_release(int fd)
{
    pthread_mutex_lock(&lock);
    if (started > 0) {
        if (fd >= 0 && n_close < RELEASE_MAX) {
            to_close[n_close++] = fd;
            fd = -1;
        }
        /* The pool is refilled now, after the run, rather than when the run took its
         * namespace: on a shared CPU that work would otherwise compete with the run's own
         * set-up. */
        pthread_cond_signal(&wake);
    }
    pthread_mutex_unlock(&lock);
    if (fd >= 0)
        close(fd);
}

void ap_keeper_settle(void)
{
    pthread_mutex_lock(&lock);
    while (started > 0 && !(idle && n_close == 0 && (n_ready == POOL || broken)))
        pthread_cond_wait(&settled, &lock);
    pthread_mutex_unlock(&lock);
}
