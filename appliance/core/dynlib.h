/* Libraries loaded on first use. libcurl (fetching) and libarchive (packages, layers,
 * bundles) bring ~40 shared objects with them (OpenSSL, GnuTLS, Kerberos, LDAP, ICU, libxml2,
 * libstdc++, ...); linked in, the dynamic loader mapped and relocated all of them before
 * main() of every command, `appliance run` included, which needs none. Instead the appliance
 * defines their functions itself (dynlib-curl.c, dynlib-archive.c), each forwarding to the
 * real one, which it looks up once, the first time it is called. Callers include the
 * libraries' own headers and call them as usual; the compiler checks every forwarder against
 * the library's declaration. */
#ifndef AP_CORE_DYNLIB_H
#define AP_CORE_DYNLIB_H

struct ap_dynlib {
    const char *soname;  /* what dlopen loads, e.g. "libcurl.so.4" */
    const char *package; /* the Debian package that ships it, named in the error */
    void *handle;        /* set once loaded */
};

/* The address of the function `name` of lib, loading lib the first time (thread-safe). A
 * library or function that cannot be loaded ends the process with status 127 and a message
 * naming it and the package to install: the same end, for the same cause, as the dynamic
 * loader's at start when a library linked in is missing. */
void *ap_dynlib_sym(struct ap_dynlib *lib, const char *name);

/* True once lib has been loaded by this process. */
int ap_dynlib_loaded(const struct ap_dynlib *lib);

/* The real function behind the forwarder `name` of lib, looked up once per forwarder. */
#define AP_DYNLIB_FN(lib, name)                                                                    \
    __extension__({                                                                                \
        static __typeof__(name) *real_;                                                            \
        __typeof__(name) *fn_ = __atomic_load_n(&real_, __ATOMIC_ACQUIRE);                         \
        if (fn_ == NULL) {                                                                         \
            fn_ = (__typeof__(name) *)ap_dynlib_sym(&(lib), #name);                                \
            __atomic_store_n(&real_, fn_, __ATOMIC_RELEASE);                                       \
        }                                                                                          \
        fn_;                                                                                       \
    })

extern struct ap_dynlib ap_dynlib_curl;
extern struct ap_dynlib ap_dynlib_archive;

#endif
