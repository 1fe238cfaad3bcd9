#include "hash.h"

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"

int ap_hash_init(ap_error **err)
{
    if (sodium_init() < 0)
        return ap_error_make(err, 0, "libsodium failed to initialise");
    return 0;
}

void ap_sha256_init(struct ap_sha256 *h)
{
    crypto_hash_sha256_init(&h->st);
}

void ap_sha256_update(struct ap_sha256 *h, const void *data, size_t len)
{
    crypto_hash_sha256_update(&h->st, data, len);
}

static void to_hex(const unsigned char *bin, size_t len, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        hex[2 * i] = digits[bin[i] >> 4];
        hex[2 * i + 1] = digits[bin[i] & 15];
    }
    hex[2 * len] = '\0';
}

void ap_sha256_final_hex(struct ap_sha256 *h, char *hex)
{
    unsigned char out[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h->st, out);
    to_hex(out, sizeof(out), hex);
}

void ap_sha256_hex(const void *data, size_t len, char *hex)
{
    struct ap_sha256 h;
    ap_sha256_init(&h);
    ap_sha256_update(&h, data, len);
    ap_sha256_final_hex(&h, hex);
}

static void sha256_chunk(void *ctx, const void *chunk, size_t n)
{
    ap_sha256_update(ctx, chunk, n);
}

int ap_sha256_file(int dirfd, const char *path, char *hex, uint64_t *size, ap_error **err)
{
    cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    struct ap_sha256 h;
    ap_sha256_init(&h);
    enum { BUF_SIZE = 1 << 17 };
    cleanup_free unsigned char *buf = malloc(BUF_SIZE);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", path);
    if (ap_fs_each_chunk(fd, path, buf, BUF_SIZE, sha256_chunk, &h, size, err) < 0)
        return -1;
    ap_sha256_final_hex(&h, hex);
    return 0;
}

int ap_sha256_hex_valid(const char *s)
{
    if (s == NULL || strlen(s) != AP_SHA256_HEX_LEN)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}
