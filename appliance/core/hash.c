#include "hash.h"

#include "fs.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

/* libcrypto's low-level SHA-256, looked up once. Its context is a plain struct (no allocation,
 * so a state abandoned on an error path leaks nothing), deprecated in OpenSSL 3 but exported. */
static struct {
    pthread_once_t once;
    int (*init)(void *ctx);
    int (*update)(void *ctx, const void *data, size_t len);
    int (*final)(unsigned char *md, void *ctx);
    int use;
} ossl = {.once = PTHREAD_ONCE_INIT};

static void ossl_load(void)
{
    void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL)
        return;
    ossl.init = (int (*)(void *))dlsym(lib, "SHA256_Init");
    ossl.update = (int (*)(void *, const void *, size_t))dlsym(lib, "SHA256_Update");
    ossl.final = (int (*)(unsigned char *, void *))dlsym(lib, "SHA256_Final");
}

const char *ap_sha256_backend(int want_openssl)
{
    pthread_once(&ossl.once, ossl_load);
    ossl.use = want_openssl && ossl.init != NULL && ossl.update != NULL && ossl.final != NULL;
    return ossl.use ? "openssl" : "libsodium";
}

void ap_sha256_init(struct ap_sha256 *h)
{
    h->openssl = ossl.use && ossl.init(h->ctx) == 1;
    if (!h->openssl)
        crypto_hash_sha256_init(&h->st);
}

void ap_sha256_update(struct ap_sha256 *h, const void *data, size_t len)
{
    if (h->openssl)
        ossl.update(h->ctx, data, len);
    else
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
    if (h->openssl)
        ossl.final(out, h->ctx);
    else
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
