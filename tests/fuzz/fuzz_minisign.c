/* libFuzzer harness for minisign files, which come from other people: the bytes as a public
 * key (a file, and a bare key), as a secret key file (no password, so an encrypted key's
 * declared scrypt cost is never spent), and as a signature of a fixed file checked against a
 * fixed public key (the corpus holds signatures by that key, so mutations reach the signature
 * checks and the trusted comment, not only the key id). The readers take paths: the bytes go
 * through a memory file. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bundle/minisign.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The key and file of tests/unit/test_minisign.c's golden signatures (stock minisign 0.11);
 * the corpus signatures sign SIGNED_DATA with this key. */
#define SIGNED_DATA "appliance golden file\n"
static const char fixed_pk[] = "RWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+";

static int input_fd = -1;
static char input_path[64], signed_path[64];
static struct ap_minisign_pk pk;

/* A memory file holding len bytes, reachable by path through /proc/self/fd. */
static int memory_file(int *fd, char *path, size_t path_len, const void *data, size_t len)
{
    if (*fd < 0) {
        *fd = memfd_create("fuzz", MFD_CLOEXEC);
        if (*fd < 0)
            return -1;
        snprintf(path, path_len, "/proc/self/fd/%d", *fd);
    }
    if (ftruncate(*fd, 0) < 0)
        return -1;
    return len == 0 || pwrite(*fd, data, len, 0) == (ssize_t)len ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    ap_error *err = NULL;
    if (!ready) {
        int signed_fd = -1;
        if (ap_hash_init(&err) < 0 ||
            ap_minisign_parse_pk(fixed_pk, sizeof(fixed_pk) - 1, &pk, &err) < 0 ||
            memory_file(&signed_fd, signed_path, sizeof(signed_path), SIGNED_DATA,
                        sizeof(SIGNED_DATA) - 1) < 0)
            __builtin_trap();
        ready = 1;
    }

    struct ap_minisign_pk parsed;
    if (ap_minisign_parse_pk((const char *)data, size, &parsed, &err) < 0)
        ap_error_release(&err);

    if (memory_file(&input_fd, input_path, sizeof(input_path), data, size) < 0)
        __builtin_trap();
    if (ap_minisign_read_pk(input_path, &parsed, &err) < 0)
        ap_error_release(&err);

    struct ap_minisign_sk sk;
    if (ap_minisign_read_sk(input_path, NULL, &sk, &err) == 0)
        ap_minisign_sk_wipe(&sk);
    ap_error_release(&err);

    char trusted[AP_MINISIGN_COMMENT_MAX + 1];
    if (ap_minisign_verify(&pk, signed_path, input_path, trusted, sizeof(trusted), &err) < 0)
        ap_error_release(&err);
    return 0;
}
