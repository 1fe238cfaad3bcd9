#include "dynlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static __attribute__((noreturn)) void cannot_load(const struct ap_dynlib *lib, const char *what)
{
    const char *why = dlerror();
    fprintf(stderr, "appliance: cannot load %s%s%s: %s\nHint: install the package %s\n",
            what != NULL ? what : lib->soname, what != NULL ? " from " : "",
            what != NULL ? lib->soname : "", why != NULL ? why : "unknown error", lib->package);
    exit(127);
}

void *ap_dynlib_sym(struct ap_dynlib *lib, const char *name)
{
    void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
    if (h == NULL) {
        pthread_mutex_lock(&load_lock);
        h = lib->handle;
        if (h == NULL) {
            h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
            if (h == NULL)
                cannot_load(lib, NULL);
            __atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&load_lock);
    }
    /* dlsym on the handle searches the library and what it needs, never the appliance,
     * whose forwarders carry the same names. */
    void *fn = dlsym(h, name);
    if (fn == NULL)
        cannot_load(lib, name);
    return fn;
}

int ap_dynlib_loaded(const struct ap_dynlib *lib)
{
    return __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE) != NULL;
}
