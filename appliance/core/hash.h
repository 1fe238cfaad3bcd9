/* SHA-256 (libsodium) with lowercase hex digests. */
#ifndef AP_CORE_HASH_H
#define AP_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>

#include "error.h"

#define AP_SHA256_HEX_LEN 64

struct ap_sha256 {
    crypto_hash_sha256_state st;
};

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
