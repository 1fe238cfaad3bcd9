/* Scope-bound cleanup for heap memory, descriptors and streams (GCC/Clang cleanup attribute).
 * Initialise to NULL / -1; hand ownership out with steal_pointer() / steal_fd(). */
#ifndef AP_CORE_CLEANUP_H
#define AP_CORE_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <errno.h>
#include <dirent.h>

static inline void ap_cleanup_freep(void *p)
{
    void **pp = (void **)p;
    free(*pp);
}

static inline void ap_cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

static inline void ap_cleanup_fclosep(FILE **f)
{
    if (*f != NULL)
        fclose(*f);
}

static inline void ap_cleanup_closedirp(DIR **d)
{
    if (*d != NULL)
        closedir(*d);
}

#define cleanup_free __attribute__((cleanup(ap_cleanup_freep)))
#define cleanup_close __attribute__((cleanup(ap_cleanup_closep)))
#define cleanup_file __attribute__((cleanup(ap_cleanup_fclosep)))
#define cleanup_dir __attribute__((cleanup(ap_cleanup_closedirp)))

static inline void *ap_steal_pointer(void *pp)
{
    void **p = (void **)pp;
    void *v = *p;
    *p = NULL;
    return v;
}

static inline int ap_steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

#define steal_pointer(pp) ap_steal_pointer(pp)
#define steal_fd(fd) ap_steal_fd(fd)

#define AP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
