/* minisign-compatible keys and signatures (minisign.h). The formats, as minisign 0.11 writes
 * and reads them (all base64 is libsodium's original variant, with padding):
 *
 *   public key  "untrusted comment: minisign public key <KEYID>\n" base64(PK) "\n"
 *               PK = "Ed" || keyid[8] || Ed25519 public key[32]                     (42 bytes)
 *   secret key  "untrusted comment: minisign encrypted secret key\n" base64(SK) "\n"
 *               SK = "Ed" || kdf ("Sc", or two zero bytes: not encrypted) || "B2" ||
 *                    kdf salt[32] || opslimit (u64 LE) || memlimit (u64 LE) || KEYNUM_SK
 *                                                                                   (158 bytes)
 *               KEYNUM_SK = keyid[8] || Ed25519 secret key[64] ||
 *                           BLAKE2b-256("Ed" || keyid || secret key)               (104 bytes),
 *               XORed with 104 bytes of scrypt (crypto_pwhash_scryptsalsa208sha256) of the
 *               password when the kdf is "Sc". Unencrypted, minisign leaves salt, limits and
 *               (0.11) the checksum zero; we write the checksum and check a non-zero one.
 *   signature   "untrusted comment: <text>\n" base64(SIG) "\n"
 *               "trusted comment: <text>\n" base64(Ed25519(signature[64] || text)) "\n"
 *               SIG = "ED" || keyid[8] || Ed25519(BLAKE2b-512(file))                (74 bytes)
 *               ("Ed": the legacy format, Ed25519 over the file itself.)
 *
 * KEYID is written as minisign 0.11 prints it: the 8 bytes read as a little-endian integer, in
 * upper-case hex without leading zeros (so `minisign -R` recreates our public key files byte for
 * byte). */
#include "minisign.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/cleanup.h"
#include "../core/fs.h"

#define PK_BLOB_LEN 42
#define SIG_BLOB_LEN 74
#define KEYNUM_SK_LEN 104
#define SK_BLOB_LEN 158
#define SIG_LEN 64
#define CHK_LEN 32
#define PREHASH_LEN 64

/* Where the fields of a secret key blob start. */
#define SK_KDF_ALG 2
#define SK_CHK_ALG 4
#define SK_SALT 6
#define SK_OPSLIMIT 38
#define SK_MEMLIMIT 46
#define SK_KEYNUM 54

/* Files read whole are bounded: a key file is two short lines; a signature file holds at most
 * an untrusted comment of 1 KiB and a trusted comment of 8 KiB, minisign's limits. A legacy
 * signature needs the whole signed file in memory; minisign refuses those beyond 1 GiB too. */
#define KEY_FILE_MAX 4096
#define SIG_FILE_MAX 16384
#define LEGACY_FILE_MAX ((size_t)1 << 30)

/* An encrypted key declares its scrypt cost; more than minisign ever writes (its "sensitive"
 * cost: 1 GiB, a few seconds) is refused rather than spent. */
#define KDF_OPSLIMIT_MAX crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE
#define KDF_MEMLIMIT_MAX crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE

#define UNTRUSTED_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define PK_COMMENT "minisign public key "
#define SK_COMMENT "minisign encrypted secret key"
#define DEFAULT_UNTRUSTED "signature from appliance secret key"

/* Heap text that held secret material: wiped before it is freed. */
struct secret_text {
    char *data;
    size_t len;
};

static void secret_text_release(struct secret_text *t)
{
    if (t->data != NULL) {
        sodium_memzero(t->data, t->len);
        free(t->data);
    }
}

static void wipe_sk_blob(unsigned char (*b)[SK_BLOB_LEN])
{
    sodium_memzero(*b, sizeof(*b));
}

static void wipe_keynum(unsigned char (*b)[KEYNUM_SK_LEN])
{
    sodium_memzero(*b, sizeof(*b));
}

#define cleanup_secret_text __attribute__((cleanup(secret_text_release)))
#define cleanup_sk_blob __attribute__((cleanup(wipe_sk_blob)))
#define cleanup_keynum __attribute__((cleanup(wipe_keynum)))

void ap_minisign_keyid_hex(const unsigned char keyid[AP_MINISIGN_KEYID_LEN],
                           char hex[AP_MINISIGN_KEYID_HEX_LEN + 1])
{
    uint64_t v = 0;
    for (int i = AP_MINISIGN_KEYID_LEN - 1; i >= 0; i--)
        v = (v << 8) | keyid[i];
    snprintf(hex, AP_MINISIGN_KEYID_HEX_LEN + 1, "%" PRIX64, v);
}

/* An algorithm tag for a message: "Ed", or its bytes in hex when they are not printable. */
static const char *alg_name(const unsigned char *a, char out[8])
{
    if (a[0] > 0x20 && a[0] < 0x7f && a[1] > 0x20 && a[1] < 0x7f)
        snprintf(out, 8, "%c%c", a[0], a[1]);
    else
        snprintf(out, 8, "%02x %02x", a[0], a[1]);
    return out;
}

static void store_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* The lines of a text file: next_line() hands out each line without its "\n" (and without
 * a "\r" before it, as minisign trims them). */
struct line {
    const char *p;
    size_t len;
};

static int next_line(const char **pos, const char *end, struct line *l)
{
    if (*pos >= end)
        return 0;
    const char *nl = memchr(*pos, '\n', (size_t)(end - *pos));
    const char *stop = nl != NULL ? nl : end;
    l->p = *pos;
    l->len = (size_t)(stop - *pos);
    while (l->len > 0 && l->p[l->len - 1] == '\r')
        l->len--;
    *pos = nl != NULL ? nl + 1 : end;
    return 1;
}

/* True when only empty lines remain. */
static int only_blank_lines(const char *pos, const char *end)
{
    for (; pos < end; pos++)
        if (*pos != '\n' && *pos != '\r')
            return 0;
    return 1;
}

static int has_prefix(const struct line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->len >= n && memcmp(l->p, prefix, n) == 0;
}

/* Decodes one base64 line into exactly want bytes; what names the field for the message. */
static int decode_b64(const struct line *l, unsigned char *out, size_t want, const char *name,
                      const char *what, ap_error **err)
{
    unsigned char buf[SK_BLOB_LEN + 3];
    size_t got = 0;
    if (l->len == 0)
        return ap_error_make(err, 0, "%s: the %s line is empty", name, what);
    if (l->len > sodium_base64_ENCODED_LEN(sizeof(buf), sodium_base64_VARIANT_ORIGINAL))
        return ap_error_make(err, 0, "%s: the %s line is %zu characters long, too long for a %s",
                             name, what, l->len, what);
    int rc = sodium_base642bin(buf, sizeof(buf), l->p, l->len, NULL, &got, NULL,
                               sodium_base64_VARIANT_ORIGINAL);
    if (rc != 0) {
        sodium_memzero(buf, sizeof(buf));
        return ap_error_make(err, 0, "%s: the %s line is not valid base64", name, what);
    }
    if (got != want) {
        sodium_memzero(buf, sizeof(buf));
        return ap_error_make(err, 0,
                             "%s: the %s decodes to %zu bytes, not the %zu of a minisign %s", name,
                             what, got, want, what);
    }
    memcpy(out, buf, want);
    sodium_memzero(buf, sizeof(buf));
    return 0;
}

/* base64 of len bytes into out (NUL-terminated); out holds at least
 * sodium_base64_ENCODED_LEN(len) bytes. */
static void encode_b64(char *out, size_t outlen, const unsigned char *bin, size_t len)
{
    sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

int ap_minisign_pk_base64(const struct ap_minisign_pk *pk, char *out, size_t len, ap_error **err)
{
    unsigned char blob[PK_BLOB_LEN];
    if (len < sodium_base64_ENCODED_LEN(PK_BLOB_LEN, sodium_base64_VARIANT_ORIGINAL))
        return ap_error_make(err, ENOBUFS, "encoding a public key");
    memcpy(blob, "Ed", 2);
    memcpy(blob + 2, pk->keyid, AP_MINISIGN_KEYID_LEN);
    memcpy(blob + 2 + AP_MINISIGN_KEYID_LEN, pk->pk, sizeof(pk->pk));
    encode_b64(out, len, blob, sizeof(blob));
    return 0;
}

static int decode_pk(const struct line *l, const char *name, struct ap_minisign_pk *out,
                     ap_error **err)
{
    unsigned char blob[PK_BLOB_LEN];
    if (decode_b64(l, blob, sizeof(blob), name, "public key", err) < 0)
        return -1;
    if (memcmp(blob, "Ed", 2) != 0) {
        char a[8];
        return ap_error_make(err, 0, "%s: the public key's algorithm is '%s', not Ed (Ed25519)",
                             name, alg_name(blob, a));
    }
    memcpy(out->keyid, blob + 2, AP_MINISIGN_KEYID_LEN);
    memcpy(out->pk, blob + 2 + AP_MINISIGN_KEYID_LEN, sizeof(out->pk));
    return 0;
}

static int parse_pk_named(const char *text, size_t len, const char *name,
                          struct ap_minisign_pk *out, ap_error **err)
{
    const char *pos = text, *end = text + len;
    struct line l;
    if (memchr(text, '\0', len) != NULL)
        return ap_error_make(err, 0, "%s: holds a NUL byte: not a minisign public key", name);
    if (memchr(text, '\n', len) == NULL) {
        /* A bare key, as `minisign -P` takes it; blanks around it are a paste's. */
        while (pos < end && (*pos == ' ' || *pos == '\t'))
            pos++;
        while (end > pos && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
            end--;
        l.p = pos;
        l.len = (size_t)(end - pos);
        return decode_pk(&l, name, out, err);
    }
    if (!next_line(&pos, end, &l) || !has_prefix(&l, "untrusted comment:"))
        return ap_error_make(err, 0,
                             "%s: the first line does not start with \"untrusted comment:\": "
                             "not a minisign public key file",
                             name);
    if (!next_line(&pos, end, &l))
        return ap_error_make(err, 0, "%s: the key line after the comment is missing", name);
    if (decode_pk(&l, name, out, err) < 0)
        return -1;
    if (!only_blank_lines(pos, end))
        return ap_error_make(err, 0, "%s: unexpected text after the key line", name);
    return 0;
}

int ap_minisign_parse_pk(const char *text, size_t len, struct ap_minisign_pk *out, ap_error **err)
{
    return parse_pk_named(text, len, "public key", out, err);
}

int ap_minisign_read_pk(const char *path, struct ap_minisign_pk *out, ap_error **err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (ap_fs_read_file(AT_FDCWD, path, KEY_FILE_MAX, &text, &len, err) < 0)
        return ap_error_wrap(err, "reading the public key");
    return parse_pk_named(text, len, path, out, err);
}

/* A file of several keys can hold one per signer of a campaign; more than this is surely
 * not a key file. */
#define KEYS_FILE_MAX (KEY_FILE_MAX * 256)

int ap_minisign_read_pks(const char *path, struct ap_minisign_pk *out, size_t max, size_t *n,
                         ap_error **err)
{
    cleanup_free char *text = NULL;
    size_t len = 0;
    *n = 0;
    if (ap_fs_read_file(AT_FDCWD, path, KEYS_FILE_MAX, &text, &len, err) < 0)
        return ap_error_wrap(err, "reading the trusted keys");
    if (memchr(text, '\0', len) != NULL)
        return ap_error_make(err, 0, "%s: holds a NUL byte: not a file of minisign public keys",
                             path);
    const char *pos = text, *end = text + len;
    struct line l;
    size_t lineno = 0;
    while (next_line(&pos, end, &l)) {
        lineno++;
        if (l.len == 0)
            continue;
        if (!has_prefix(&l, "untrusted comment:"))
            return ap_error_make(err, 0,
                                 "%s: line %zu does not start with \"untrusted comment:\": "
                                 "each key is a comment line and a key line, as in a public key "
                                 "file",
                                 path, lineno);
        if (!next_line(&pos, end, &l))
            return ap_error_make(err, 0, "%s: the key line after line %zu is missing", path,
                                 lineno);
        lineno++;
        if (*n == max)
            return ap_error_make(err, 0, "%s: more than %zu keys", path, max);
        char name[4200];
        snprintf(name, sizeof(name), "%s: line %zu", path, lineno);
        if (decode_pk(&l, name, &out[*n], err) < 0)
            return -1;
        (*n)++;
    }
    if (*n == 0)
        return ap_error_make(err, 0, "%s: holds no public key", path);
    return 0;
}

int ap_minisign_sig_keyid(const char *sig_path, unsigned char keyid[AP_MINISIGN_KEYID_LEN],
                          ap_error **err)
{
    cleanup_free char *text = NULL;
    size_t text_len = 0;
    if (ap_fs_read_file(AT_FDCWD, sig_path, SIG_FILE_MAX, &text, &text_len, err) < 0)
        return ap_error_wrap(err, "reading the signature");
    const char *pos = text, *end = text + text_len;
    struct line l;
    unsigned char sig_blob[SIG_BLOB_LEN];
    if (!next_line(&pos, end, &l) || !has_prefix(&l, UNTRUSTED_PREFIX) || !next_line(&pos, end, &l))
        return ap_error_make(err, 0,
                             "%s: not a minisign signature (no comment and signature "
                             "lines)",
                             sig_path);
    if (decode_b64(&l, sig_blob, sizeof(sig_blob), sig_path, "signature", err) < 0)
        return -1;
    memcpy(keyid, sig_blob + 2, AP_MINISIGN_KEYID_LEN);
    return 0;
}

/* BLAKE2b-256 of "Ed" || keyid || sk: what minisign stores to tell a right password. */
static void sk_checksum(const unsigned char *keynum_sk, unsigned char chk[CHK_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, CHK_LEN);
    crypto_generichash_update(&st, (const unsigned char *)"Ed", 2);
    crypto_generichash_update(&st, keynum_sk, AP_MINISIGN_KEYID_LEN + 64);
    crypto_generichash_final(&st, chk, CHK_LEN);
    sodium_memzero(&st, sizeof(st));
}

/* XORs keynum_sk with the scrypt stream of password: encrypts and decrypts alike. */
static int kdf_xor(unsigned char *keynum_sk, const char *password, const unsigned char *salt,
                   uint64_t opslimit, uint64_t memlimit, const char *name, ap_error **err)
{
    cleanup_keynum unsigned char stream[KEYNUM_SK_LEN];
    errno = 0;
    if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof(stream), password, strlen(password), salt,
                                           (unsigned long long)opslimit, (size_t)memlimit) != 0) {
        ap_error_make(err, errno != 0 ? errno : ENOMEM,
                      "%s: deriving a key from the password (scrypt, %llu MiB)", name,
                      (unsigned long long)(memlimit >> 20));
        return ap_error_hint(err, "scrypt needs that much free memory");
    }
    for (size_t i = 0; i < sizeof(stream); i++)
        keynum_sk[i] ^= stream[i];
    return 0;
}

/* Writes data to a new file at path (no existing file is replaced, even one created meanwhile):
 * a temporary file made with mode 0600 (mkostemp), chmod to mode when that differs, fsync,
 * then an atomic rename that refuses to replace. */
static int write_new_file(const char *path, const void *data, size_t len, mode_t mode,
                          ap_error **err)
{
    char tmp[PATH_MAX];
    if (ap_fs_path(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) < 0)
        return ap_error_make(err, ENAMETOOLONG, "writing %s", path);
    cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "creating a temporary file for %s", path);
    if (ap_fs_write_all(fd, data, len) < 0 || (mode != 0600 && fchmod(fd, mode) < 0) ||
        fsync(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return ap_error_make(err, e, "writing %s", tmp);
    }
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
        int e = errno;
        /* File systems without RENAME_NOREPLACE: link() refuses to replace as well. */
        if (e == EINVAL || e == ENOSYS) {
            e = link(tmp, path) == 0 ? 0 : errno;
        }
        unlink(tmp);
        if (e == EEXIST)
            return ap_error_make(err, 0, "%s already exists; it is not replaced", path);
        if (e != 0)
            return ap_error_make(err, e, "renaming %s to %s", tmp, path);
    }
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int n = slash == NULL ? snprintf(dir, sizeof(dir), ".")
                          : snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
    if (n > 0 && (size_t)n < sizeof(dir)) {
        cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
            fsync(dfd);
    }
    return 0;
}

static int write_key_file(const char *path, const char *text, size_t len, mode_t mode, int force,
                          ap_error **err)
{
    if (force)
        return ap_fs_write_atomic(path, text, len, mode, err);
    return write_new_file(path, text, len, mode, err);
}

int ap_minisign_keygen_kdf(const char *pk_path, const char *sk_path, const char *password,
                           int force, unsigned long long opslimit, size_t memlimit, ap_error **err)
{
    if (strcmp(pk_path, sk_path) == 0)
        return ap_error_make(err, 0, "the public and the secret key cannot both be %s", pk_path);
    int encrypt = password != NULL && *password != '\0';
    if (encrypt && (opslimit > KDF_OPSLIMIT_MAX || memlimit > KDF_MEMLIMIT_MAX))
        return ap_error_make(err, 0,
                             "making %s: scrypt cost (opslimit %llu, memlimit %zu) above "
                             "minisign's (%llu, %llu)",
                             sk_path, opslimit, memlimit, (unsigned long long)KDF_OPSLIMIT_MAX,
                             (unsigned long long)KDF_MEMLIMIT_MAX);
    if (!force) {
        struct stat st;
        const char *paths[] = {sk_path, pk_path};
        for (size_t i = 0; i < AP_ARRAY_SIZE(paths); i++)
            if (lstat(paths[i], &st) == 0)
                return ap_error_make(err, 0, "%s already exists; it is not replaced", paths[i]);
    }

    unsigned char pk[32];
    cleanup_sk_blob unsigned char blob[SK_BLOB_LEN];
    memset(blob, 0, sizeof(blob));
    unsigned char *keynum_sk = blob + SK_KEYNUM;
    unsigned char *keyid = keynum_sk;
    unsigned char *sk = keynum_sk + AP_MINISIGN_KEYID_LEN;
    memcpy(blob, "Ed", 2);
    memcpy(blob + SK_CHK_ALG, "B2", 2);
    randombytes_buf(keyid, AP_MINISIGN_KEYID_LEN);
    if (crypto_sign_keypair(pk, sk) != 0)
        return ap_error_make(err, 0, "making an Ed25519 key pair");
    sk_checksum(keynum_sk, keynum_sk + AP_MINISIGN_KEYID_LEN + 64);
    /* The public key takes the key id before encryption scrambles it in the blob. */
    struct ap_minisign_pk pub;
    memcpy(pub.keyid, keyid, AP_MINISIGN_KEYID_LEN);
    memcpy(pub.pk, pk, sizeof(pk));
    if (encrypt) {
        memcpy(blob + SK_KDF_ALG, "Sc", 2);
        randombytes_buf(blob + SK_SALT, 32);
        store_le64(blob + SK_OPSLIMIT, opslimit);
        store_le64(blob + SK_MEMLIMIT, memlimit);
        if (kdf_xor(keynum_sk, password, blob + SK_SALT, opslimit, memlimit, sk_path, err) < 0)
            return -1;
    }

    /* "untrusted comment: minisign encrypted secret key\n" + 212 base64 digits + "\n". */
    struct secret_text sk_text cleanup_secret_text = {NULL, 0};
    size_t b64_len = sodium_base64_ENCODED_LEN(SK_BLOB_LEN, sodium_base64_VARIANT_ORIGINAL);
    sk_text.len = strlen(UNTRUSTED_PREFIX SK_COMMENT "\n") + b64_len + 1;
    sk_text.data = calloc(1, sk_text.len);
    if (sk_text.data == NULL)
        return ap_error_make(err, ENOMEM, "writing %s", sk_path);
    size_t off =
        (size_t)snprintf(sk_text.data, sk_text.len, "%s", UNTRUSTED_PREFIX SK_COMMENT "\n");
    encode_b64(sk_text.data + off, sk_text.len - off, blob, sizeof(blob));
    off += strlen(sk_text.data + off);
    sk_text.data[off++] = '\n';

    char hex[AP_MINISIGN_KEYID_HEX_LEN + 1], b64[64];
    ap_minisign_keyid_hex(pub.keyid, hex);
    if (ap_minisign_pk_base64(&pub, b64, sizeof(b64), err) < 0)
        return -1;
    char pk_text[256];
    int pk_len =
        snprintf(pk_text, sizeof(pk_text), UNTRUSTED_PREFIX PK_COMMENT "%s\n%s\n", hex, b64);

    /* The secret key first: a public key without its secret key would be useless. */
    if (write_key_file(sk_path, sk_text.data, off, 0600, force, err) < 0)
        return ap_error_wrap(err, "writing the secret key");
    if (write_key_file(pk_path, pk_text, (size_t)pk_len, 0644, force, err) < 0) {
        if (!force)
            unlink(sk_path);
        return ap_error_wrap(err, "writing the public key");
    }
    return 0;
}

int ap_minisign_keygen(const char *pk_path, const char *sk_path, const char *password, int force,
                       ap_error **err)
{
    return ap_minisign_keygen_kdf(pk_path, sk_path, password, force,
                                  crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE,
                                  crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE, err);
}

static int all_zero(const unsigned char *p, size_t len)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

int ap_minisign_read_sk(const char *path, const char *password, struct ap_minisign_sk *out,
                        ap_error **err)
{
    struct secret_text text cleanup_secret_text = {NULL, 0};
    if (ap_fs_read_file(AT_FDCWD, path, KEY_FILE_MAX, &text.data, &text.len, err) < 0)
        return ap_error_wrap(err, "reading the secret key");
    const char *pos = text.data, *end = text.data + text.len;
    struct line l;
    if (!next_line(&pos, end, &l) || !has_prefix(&l, "untrusted comment:"))
        return ap_error_make(err, 0,
                             "%s: the first line does not start with \"untrusted comment:\": "
                             "not a minisign secret key file",
                             path);
    if (!next_line(&pos, end, &l))
        return ap_error_make(err, 0, "%s: the key line after the comment is missing", path);
    cleanup_sk_blob unsigned char blob[SK_BLOB_LEN];
    if (decode_b64(&l, blob, sizeof(blob), path, "secret key", err) < 0)
        return -1;
    if (!only_blank_lines(pos, end))
        return ap_error_make(err, 0, "%s: unexpected text after the key line", path);

    char a[8];
    if (memcmp(blob, "Ed", 2) != 0)
        return ap_error_make(err, 0, "%s: the secret key's algorithm is '%s', not Ed (Ed25519)",
                             path, alg_name(blob, a));
    if (memcmp(blob + SK_CHK_ALG, "B2", 2) != 0)
        return ap_error_make(err, 0, "%s: the checksum algorithm is '%s', not B2 (BLAKE2b)", path,
                             alg_name(blob + SK_CHK_ALG, a));
    unsigned char *keynum_sk = blob + SK_KEYNUM;
    unsigned char *stored_chk = keynum_sk + AP_MINISIGN_KEYID_LEN + 64;
    int encrypted;
    if (memcmp(blob + SK_KDF_ALG, "Sc", 2) == 0) {
        encrypted = 1;
    } else if (blob[SK_KDF_ALG] == 0 && blob[SK_KDF_ALG + 1] == 0) {
        encrypted = 0;
    } else {
        return ap_error_make(err, 0, "%s: the key derivation is '%s', neither Sc (scrypt) nor none",
                             path, alg_name(blob + SK_KDF_ALG, a));
    }
    if (encrypted) {
        if (password == NULL || *password == '\0') {
            ap_error_make(err, 0, "%s is encrypted and no password was given", path);
            return ap_error_hint(err, "give the password the key was made with");
        }
        uint64_t ops = load_le64(blob + SK_OPSLIMIT), mem = load_le64(blob + SK_MEMLIMIT);
        if (ops > KDF_OPSLIMIT_MAX || mem > KDF_MEMLIMIT_MAX)
            return ap_error_make(err, 0,
                                 "%s: its scrypt cost (opslimit %llu, memlimit %llu) is above "
                                 "minisign's (%llu, %llu): refused",
                                 path, (unsigned long long)ops, (unsigned long long)mem,
                                 (unsigned long long)KDF_OPSLIMIT_MAX,
                                 (unsigned long long)KDF_MEMLIMIT_MAX);
        if (kdf_xor(keynum_sk, password, blob + SK_SALT, ops, mem, path, err) < 0)
            return -1;
    }
    unsigned char chk[CHK_LEN];
    sk_checksum(keynum_sk, chk);
    int chk_ok = sodium_memcmp(chk, stored_chk, CHK_LEN) == 0;
    sodium_memzero(chk, sizeof(chk));
    if (encrypted && !chk_ok)
        return ap_error_make(err, 0,
                             "%s: wrong password: the checksum of the decrypted key does not "
                             "match",
                             path);
    /* minisign 0.11 leaves the checksum of an unencrypted key zero. */
    if (!encrypted && !chk_ok && !all_zero(stored_chk, CHK_LEN))
        return ap_error_make(err, 0, "%s: the secret key does not match its checksum: damaged",
                             path);

    /* An Ed25519 secret key is seed || public key: the two halves must belong together, or
     * every signature would fail to verify. */
    unsigned char *sk = keynum_sk + AP_MINISIGN_KEYID_LEN;
    unsigned char pk2[32], sk2[64];
    crypto_sign_seed_keypair(pk2, sk2, sk);
    int halves_ok = memcmp(pk2, sk + 32, sizeof(pk2)) == 0;
    sodium_memzero(sk2, sizeof(sk2));
    if (!halves_ok)
        return ap_error_make(err, 0,
                             "%s: the public half of the secret key does not match its seed: "
                             "damaged",
                             path);
    memcpy(out->keyid, keynum_sk, AP_MINISIGN_KEYID_LEN);
    memcpy(out->sk, sk, sizeof(out->sk));
    return 0;
}

void ap_minisign_sk_wipe(struct ap_minisign_sk *sk)
{
    sodium_memzero(sk, sizeof(*sk));
}

void ap_minisign_sk_public(const struct ap_minisign_sk *sk, struct ap_minisign_pk *out)
{
    memcpy(out->keyid, sk->keyid, AP_MINISIGN_KEYID_LEN);
    memcpy(out->pk, sk->sk + 32, sizeof(out->pk));
}

static void blake2b_chunk(void *ctx, const void *chunk, size_t n)
{
    crypto_generichash_update(ctx, chunk, n);
}

/* BLAKE2b-512 of a whole file, read in blocks. */
static int hash_file(const char *path, unsigned char out[PREHASH_LEN], ap_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, PREHASH_LEN);
    enum { BUF_SIZE = 1 << 16 };
    cleanup_free unsigned char *buf = malloc(BUF_SIZE);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "reading %s", path);
    if (ap_fs_each_chunk(fd, path, buf, BUF_SIZE, blake2b_chunk, &st, NULL, err) < 0)
        return -1;
    crypto_generichash_final(&st, out, PREHASH_LEN);
    return 0;
}

/* A comment is one line of at most max bytes. */
static int check_comment(const char *c, size_t max, const char *what, ap_error **err)
{
    size_t n = strlen(c);
    if (n > max)
        return ap_error_make(err, 0, "the %s is %zu bytes, more than the %zu allowed", what, n,
                             max);
    if (strpbrk(c, "\r\n") != NULL)
        return ap_error_make(err, 0, "the %s must be one line (it holds a line break)", what);
    return 0;
}

int ap_minisign_sign(const struct ap_minisign_sk *sk, const char *file_path,
                     const char *trusted_comment, const char *untrusted_comment,
                     const char *sig_path, ap_error **err)
{
    cleanup_free char *default_tc = NULL;
    if (trusted_comment == NULL || *trusted_comment == '\0') {
        /* minisign's own default for a prehashed signature. */
        const char *slash = strrchr(file_path, '/');
        if (asprintf(&default_tc, "timestamp:%lld\tfile:%s\thashed", (long long)time(NULL),
                     slash != NULL ? slash + 1 : file_path) < 0) {
            default_tc = NULL;
            return ap_error_make(err, ENOMEM, "signing %s", file_path);
        }
        trusted_comment = default_tc;
    }
    if (untrusted_comment == NULL)
        untrusted_comment = DEFAULT_UNTRUSTED;
    if (check_comment(trusted_comment, AP_MINISIGN_COMMENT_MAX, "trusted comment", err) < 0 ||
        check_comment(untrusted_comment, AP_MINISIGN_COMMENT_MAX, "untrusted comment", err) < 0)
        return ap_error_wrap(err, "signing %s", file_path);

    unsigned char hash[PREHASH_LEN];
    if (hash_file(file_path, hash, err) < 0)
        return ap_error_wrap(err, "signing");
    unsigned char sig_blob[SIG_BLOB_LEN];
    unsigned char *sig = sig_blob + 2 + AP_MINISIGN_KEYID_LEN;
    memcpy(sig_blob, "ED", 2);
    memcpy(sig_blob + 2, sk->keyid, AP_MINISIGN_KEYID_LEN);
    crypto_sign_detached(sig, NULL, hash, sizeof(hash), sk->sk);

    size_t tc_len = strlen(trusted_comment);
    unsigned char signed_tc[SIG_LEN + AP_MINISIGN_COMMENT_MAX];
    memcpy(signed_tc, sig, SIG_LEN);
    memcpy(signed_tc + SIG_LEN, trusted_comment, tc_len);
    unsigned char global[SIG_LEN];
    crypto_sign_detached(global, NULL, signed_tc, SIG_LEN + tc_len, sk->sk);

    /* What we write must verify with the key's public half (as minisign checks). */
    if (crypto_sign_verify_detached(sig, hash, sizeof(hash), sk->sk + 32) != 0 ||
        crypto_sign_verify_detached(global, signed_tc, SIG_LEN + tc_len, sk->sk + 32) != 0)
        return ap_error_make(err, 0,
                             "signing %s: the signature does not verify with the key's "
                             "own public half: the secret key is damaged",
                             file_path);

    char sig_b64[sodium_base64_ENCODED_LEN(SIG_BLOB_LEN, sodium_base64_VARIANT_ORIGINAL)];
    char global_b64[sodium_base64_ENCODED_LEN(SIG_LEN, sodium_base64_VARIANT_ORIGINAL)];
    encode_b64(sig_b64, sizeof(sig_b64), sig_blob, sizeof(sig_blob));
    encode_b64(global_b64, sizeof(global_b64), global, sizeof(global));
    cleanup_free char *text = NULL;
    int len = asprintf(&text, "%s%s\n%s\n%s%s\n%s\n", UNTRUSTED_PREFIX, untrusted_comment, sig_b64,
                       TRUSTED_PREFIX, trusted_comment, global_b64);
    if (len < 0) {
        text = NULL;
        return ap_error_make(err, ENOMEM, "signing %s", file_path);
    }
    if (ap_fs_write_atomic(sig_path, text, (size_t)len, 0644, err) < 0)
        return ap_error_wrap(err, "writing the signature of %s", file_path);
    return 0;
}

int ap_minisign_verify(const struct ap_minisign_pk *pk, const char *file_path, const char *sig_path,
                       char *trusted, size_t len, ap_error **err)
{
    cleanup_free char *text = NULL;
    size_t text_len = 0;
    if (ap_fs_read_file(AT_FDCWD, sig_path, SIG_FILE_MAX, &text, &text_len, err) < 0)
        return ap_error_wrap(err, "reading the signature");
    if (memchr(text, '\0', text_len) != NULL)
        return ap_error_make(err, 0, "%s: holds a NUL byte: not a minisign signature", sig_path);
    const char *pos = text, *end = text + text_len;
    struct line l, tc;
    if (!next_line(&pos, end, &l) || !has_prefix(&l, UNTRUSTED_PREFIX))
        return ap_error_make(err, 0,
                             "%s: the first line does not start with \"" UNTRUSTED_PREFIX
                             "\": not a minisign signature",
                             sig_path);
    if (!next_line(&pos, end, &l))
        return ap_error_make(err, 0, "%s: the signature line is missing", sig_path);
    unsigned char sig_blob[SIG_BLOB_LEN];
    if (decode_b64(&l, sig_blob, sizeof(sig_blob), sig_path, "signature", err) < 0)
        return -1;
    if (!next_line(&pos, end, &tc) || !has_prefix(&tc, TRUSTED_PREFIX))
        return ap_error_make(
            err, 0, "%s: the third line does not start with \"" TRUSTED_PREFIX "\"", sig_path);
    tc.p += strlen(TRUSTED_PREFIX);
    tc.len -= strlen(TRUSTED_PREFIX);
    if (!next_line(&pos, end, &l))
        return ap_error_make(err, 0, "%s: the global signature line is missing", sig_path);
    unsigned char global[SIG_LEN];
    if (decode_b64(&l, global, sizeof(global), sig_path, "global signature", err) < 0)
        return -1;
    if (!only_blank_lines(pos, end))
        return ap_error_make(err, 0, "%s: unexpected text after the global signature", sig_path);

    int prehashed;
    char a[8];
    if (memcmp(sig_blob, "ED", 2) == 0)
        prehashed = 1;
    else if (memcmp(sig_blob, "Ed", 2) == 0)
        prehashed = 0;
    else
        return ap_error_make(err, 0,
                             "%s: the signature algorithm is '%s', neither ED (prehashed "
                             "Ed25519) nor Ed",
                             sig_path, alg_name(sig_blob, a));
    const unsigned char *keyid = sig_blob + 2, *sig = sig_blob + 2 + AP_MINISIGN_KEYID_LEN;
    if (memcmp(keyid, pk->keyid, AP_MINISIGN_KEYID_LEN) != 0) {
        char want[AP_MINISIGN_KEYID_HEX_LEN + 1], got[AP_MINISIGN_KEYID_HEX_LEN + 1];
        ap_minisign_keyid_hex(keyid, got);
        ap_minisign_keyid_hex(pk->keyid, want);
        ap_error_make(err, 0,
                      "%s: signature key id %s is not the key id of the public key %s: signed by "
                      "another key",
                      sig_path, got, want);
        return ap_error_hint(err, "verify with the public key of the key pair that signed it");
    }

    int ok;
    if (prehashed) {
        unsigned char hash[PREHASH_LEN];
        if (hash_file(file_path, hash, err) < 0)
            return ap_error_wrap(err, "verifying %s", sig_path);
        ok = crypto_sign_verify_detached(sig, hash, sizeof(hash), pk->pk) == 0;
    } else {
        cleanup_free char *msg = NULL;
        size_t msg_len = 0;
        if (ap_fs_read_file(AT_FDCWD, file_path, LEGACY_FILE_MAX, &msg, &msg_len, err) < 0) {
            ap_error_wrap(err, "verifying the legacy (not prehashed) signature %s", sig_path);
            return ap_error_hint(err, "sign it again with a current minisign, which prehashes");
        }
        ok = crypto_sign_verify_detached(sig, (const unsigned char *)msg, msg_len, pk->pk) == 0;
    }
    if (!ok)
        return ap_error_make(err, 0,
                             "%s: the signature does not match %s: the file changed after it was "
                             "signed, or the signature is damaged",
                             sig_path, file_path);

    cleanup_free unsigned char *signed_tc = malloc(SIG_LEN + tc.len);
    if (signed_tc == NULL)
        return ap_error_make(err, ENOMEM, "verifying %s", sig_path);
    memcpy(signed_tc, sig, SIG_LEN);
    memcpy(signed_tc + SIG_LEN, tc.p, tc.len);
    if (crypto_sign_verify_detached(global, signed_tc, SIG_LEN + tc.len, pk->pk) != 0)
        return ap_error_make(err, 0,
                             "%s: the trusted comment does not match the global signature: it "
                             "was edited after signing, or the signature is damaged",
                             sig_path);
    if (trusted != NULL) {
        if (tc.len >= len)
            return ap_error_make(err, 0,
                                 "%s: the trusted comment (%zu bytes) does not fit in the %zu "
                                 "bytes given for it",
                                 sig_path, tc.len, len);
        memcpy(trusted, tc.p, tc.len);
        trusted[tc.len] = '\0';
    }
    return 0;
}
