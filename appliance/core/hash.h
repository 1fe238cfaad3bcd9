/* SHA-256 with lowercase hex digests: libsodium's portable code (0.4 GB/s on the reference
 * machine), or, once ap_sha256_backend(1) has loaded it, OpenSSL's libcrypto, whose assembly uses
 * the CPU's SHA instructions (1.7 GB/s there). Both give the same digests. The speed matters where
 * the bench hashes a task's output as it comes: a hash slower than the task's writes makes the
 * task wait on its pipe, and that wait would be timed as the task's. Other commands do not load
 * libcrypto (`appliance run` would pay for mapping it at every start). */
#ifndef AP_CORE_HASH_H
#define AP_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "error.h"

#define AP_SHA256_HEX_LEN 64

struct ap_sha256 {
    int openssl; /* which of the two states below is in use */
    crypto_hash_sha256_state st;
    /* OpenSSL's SHA256_CTX (112 bytes on every platform it supports), opaque here. */
    _Alignas(16) unsigned char ctx[256];
};

/* Which implementation ap_sha256_init uses from now on, returned as "openssl" or "libsodium":
 * want_openssl 1 loads libcrypto (once) and uses it when it loads, 0 goes back to libsodium.
 * Call it before other threads hash. */
const char *ap_sha256_backend(int want_openssl);

void ap_sha256_init(struct ap_sha256 *h);
void ap_sha256_update(struct ap_sha256 *h, const void *data, size_t len);
/* Writes 64 hex digits and a NUL into hex (at least 65 bytes). */
void ap_sha256_final_hex(struct ap_sha256 *h, char *hex);

/* One-shot digest of a buffer into hex (65 bytes). */
void ap_sha256_hex(const void *data, size_t len, char *hex);

/* Digest of a whole file, opened relative to dirfd (AT_FDCWD for a plain path). When size is
 * not NULL it receives the byte count. */
int ap_sha256_file(int dirfd, const char *path, char *hex, uint64_t *size, ap_error **err);

/* True when s is exactly 64 lowercase hex digits. */
int ap_sha256_hex_valid(const char *s);

/* Must run once before any other call; returns -1 with err filled if libsodium fails. */
int ap_hash_init(ap_error **err);

#endif
