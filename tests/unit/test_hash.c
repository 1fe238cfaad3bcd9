/* SHA-256 (core/hash.c): both implementations give the published test vectors and the same
 * digest of the same bytes whatever the chunking. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "test.h"

static int setup(void)
{
    ap_error *e = NULL;
    return ap_hash_init(&e);
}
TEST_SETUP(setup)

/* The digest of data fed in chunks of `step` bytes. */
static void digest(const unsigned char *data, size_t len, size_t step, char *hex)
{
    struct ap_sha256 h;
    ap_sha256_init(&h);
    for (size_t off = 0; off < len; off += step)
        ap_sha256_update(&h, data + off, len - off < step ? len - off : step);
    ap_sha256_final_hex(&h, hex);
}

/* FIPS 180-2 vectors, with the backend chosen. */
static void vectors(const char *backend)
{
    static const struct {
        const char *in, *want;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char hex[AP_SHA256_HEX_LEN + 1];
        digest((const unsigned char *)v[i].in, strlen(v[i].in), 7, hex);
        CHECK_MSG(strcmp(hex, v[i].want) == 0, "%s: sha256(\"%s\") = %s, want %s", backend, v[i].in,
                  hex, v[i].want);
    }
}

TEST(libsodium_gives_the_test_vectors)
{
    CHECK(strcmp(ap_sha256_backend(0), "libsodium") == 0);
    vectors("libsodium");
}

TEST(openssl_gives_the_test_vectors)
{
    /* libcrypto is a dependency (make deps installs libssl3): its absence is a failure here,
     * not a skip, as the bench would then hash outputs at a quarter of the speed. */
    const char *b = ap_sha256_backend(1);
    if (!CHECK_MSG(strcmp(b, "openssl") == 0, "libcrypto.so.3 did not load: backend %s", b))
        return;
    vectors("openssl");
    ap_sha256_backend(0);
}

TEST(both_agree_on_large_inputs_in_any_chunking)
{
    size_t len = (3u << 20) + 12345;
    unsigned char *data = malloc(len);
    if (!CHECK(data != NULL))
        return;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    char want[AP_SHA256_HEX_LEN + 1], got[AP_SHA256_HEX_LEN + 1];
    ap_sha256_backend(0);
    digest(data, len, len, want);
    static const size_t steps[] = {1u << 20, 65536, 4093, 64, 63};
    ap_sha256_backend(1);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        digest(data, len, steps[i], got);
        CHECK_MSG(strcmp(got, want) == 0, "openssl in chunks of %zu: %s, libsodium whole: %s",
                  steps[i], got, want);
    }
    ap_sha256_backend(0);
    digest(data, len, 4093, got);
    CHECK_MSG(strcmp(got, want) == 0, "libsodium in chunks of 4093: %s, whole: %s", got, want);
    free(data);
}
