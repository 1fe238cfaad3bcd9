/* minisign-compatible keys and signatures (bundle/minisign.c): the files keygen writes, byte
 * by byte; sign and verify; every tampering caught with the right message; encrypted keys;
 * parse errors; signatures and a key made by stock minisign 0.11 (golden, in memory).
 *
 * With MINISIGN_INTEROP_DIR set (tests/integration/85-minisign.sh), the interop_* tests also
 * read keys and signatures that stock minisign made there, and sign files there for stock
 * minisign to verify. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/minisign.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "test.h"

/* Cheap scrypt for the tests that need an encrypted key but not minisign's own cost. */
#define CHEAP_OPS crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_INTERACTIVE
#define CHEAP_MEM crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_INTERACTIVE

/* Made by stock minisign 0.11: `minisign -G -W`, then `minisign -S -t 'golden prehashed'` and
 * `minisign -S -l -t 'golden legacy'` of a file holding GOLDEN_DATA. */
#define GOLDEN_DATA "appliance golden file\n"
#define GOLDEN_KEYID "1BA9FFB3EEE0938F"
static const char golden_pk[] = "untrusted comment: minisign public key 1BA9FFB3EEE0938F\n"
                                "RWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+\n";
static const char golden_sk[] =
    "untrusted comment: minisign encrypted secret key\n"
    "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAj5Pg7rP/qRvmN/cIuAjB"
    "pHlGzxEmoqdn8pYzzV90GwBcq9wrEGoSVwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+AAAAAAAAAAAAAAAA"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
static const char golden_sig_prehashed[] =
    "untrusted comment: signature from minisign secret key\n"
    "RUSPk+Dus/+pG3XckOG+ZB4ayJa4kbzj0BCZnLU7wH6rI6HXKXBYZgrzua6UH66ooZur9R5zWBDynj6Gba53Y1hQQi5V1I"
    "6qVQ4=\n"
    "trusted comment: golden prehashed\n"
    "TtT1Jm/fKw6c+/VYwIoiSiqWqYC9zGIQ9U+1+MGcwexJ9ANIejX3mtBqiTy2qsBaInPd4ot+xkcZRnYw1yHKAA==\n";
static const char golden_sig_legacy[] =
    "untrusted comment: signature from minisign secret key\n"
    "RWSPk+Dus/+pGxR5C0J8ENwqP1/oEmIpBf5NoK9UId9cnIa9fO7ioEmoxCnYKnGm5shqfr+Jxar4uUFVpX518AFMe6XqZq"
    "MD6AM=\n"
    "trusted comment: golden legacy\n"
    "ZSZ4abETiBVCkLgby5XZ3/ac6xboU9nZR9XjbjQ5KZ8yJs5xDbxNCCeCF60Zrx4+wsFETFb3uDg7EvWg9s1DAw==\n";

static char tmpdir[4096];

/* "<tmpdir>/name" in one of a few rotating buffers, so a call can take several paths. */
static const char *at(const char *name)
{
    static char bufs[8][4200];
    static unsigned next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tmpdir, name);
    return b;
}

static int put(const char *path, const void *data, size_t len)
{
    ap_error *err = NULL;
    int rc = ap_fs_write_atomic(path, data, len, 0644, &err);
    if (rc < 0) {
        test_note("writing %s: %s", path, err->msg);
        ap_error_release(&err);
    }
    return rc;
}

static int put_text(const char *path, const char *text)
{
    return put(path, text, strlen(text));
}

/* The whole file, NUL-terminated (the caller frees it), or NULL. */
static char *slurp(const char *path)
{
    ap_error *err = NULL;
    char *text = NULL;
    if (ap_fs_read_file(AT_FDCWD, path, 1 << 20, &text, NULL, &err) < 0) {
        test_note("reading %s: %s", path, err->msg);
        ap_error_release(&err);
        return NULL;
    }
    return text;
}

/* Line n (from 0) of text into out, without its newline. */
static int line_of(const char *text, int n, char *out, size_t len)
{
    for (int i = 0; i < n && text != NULL; i++) {
        text = strchr(text, '\n');
        if (text != NULL)
            text++;
    }
    if (text == NULL)
        return -1;
    size_t l = strcspn(text, "\n");
    if (l >= len)
        return -1;
    memcpy(out, text, l);
    out[l] = '\0';
    return 0;
}

static int b64_decode(const char *s, unsigned char *out, size_t max, size_t *len)
{
    return sodium_base642bin(out, max, s, strlen(s), NULL, len, NULL,
                             sodium_base64_VARIANT_ORIGINAL);
}

/* Checks a failure: rc -1 and a message holding each of the needles (up to a NULL). */
static void expect_error(int rc, ap_error **err, int line, const char *const *needles)
{
    const char *msg = *err != NULL ? (*err)->msg : "(no error)";
    if (CHECK_MSG(rc == -1, "line %d: succeeded", line)) {
        for (size_t i = 0; needles[i] != NULL; i++)
            CHECK_MSG(test_contains(msg, needles[i]), "line %d: \"%s\" lacks \"%s\"", line, msg,
                      needles[i]);
    }
    ap_error_release(err);
}

#define EXPECT_ERROR(rc, err, ...)                                                                 \
    expect_error((rc), (err), __LINE__, (const char *const[]){__VA_ARGS__, NULL})

static int ok(int rc, ap_error **err, int line)
{
    int good = CHECK_MSG(rc == 0, "line %d: %s", line, *err != NULL ? (*err)->msg : "?");
    ap_error_release(err);
    return good;
}

#define OK(rc, err) ok((rc), (err), __LINE__)

/* A key pair without password in the temporary directory: NAME.pub and NAME.key. */
static int make_pair(const char *name, struct ap_minisign_pk *pk, struct ap_minisign_sk *sk)
{
    char pub[64], sec[64];
    snprintf(pub, sizeof(pub), "%s.pub", name);
    snprintf(sec, sizeof(sec), "%s.key", name);
    ap_error *err = NULL;
    if (!OK(ap_minisign_keygen(at(pub), at(sec), NULL, 0, &err), &err))
        return -1;
    if (!OK(ap_minisign_read_pk(at(pub), pk, &err), &err))
        return -1;
    if (!OK(ap_minisign_read_sk(at(sec), NULL, sk, &err), &err))
        return -1;
    return 0;
}

/* Rewrites line n (from 0) of the file at path. */
static int replace_line(const char *path, int n, const char *line)
{
    char *text = slurp(path);
    if (text == NULL)
        return -1;
    struct test_buf out = {0};
    const char *p = text;
    for (int i = 0; *p != '\0'; i++) {
        size_t l = strcspn(p, "\n");
        if (i == n)
            test_buf_append(&out, line, strlen(line));
        else
            test_buf_append(&out, p, l);
        test_buf_append(&out, "\n", 1);
        p += l + (p[l] == '\n');
    }
    int rc = put(path, out.data, out.len);
    test_buf_free(&out);
    free(text);
    return rc;
}

/* XORs byte `byte` of the base64 payload with mask on line n of the file at path. */
static int flip_b64_byte(const char *path, int n, size_t byte, unsigned char mask)
{
    char *text = slurp(path);
    char line[512];
    unsigned char bin[256];
    size_t len = 0;
    int rc = -1;
    if (text != NULL && line_of(text, n, line, sizeof(line)) == 0 &&
        b64_decode(line, bin, sizeof(bin), &len) == 0 && byte < len) {
        bin[byte] ^= mask;
        sodium_bin2base64(line, sizeof(line), bin, len, sodium_base64_VARIANT_ORIGINAL);
        rc = replace_line(path, n, line);
    }
    free(text);
    return rc;
}

TEST(keygen_writes_minisign_key_files)
{
    struct ap_minisign_pk pk, from_sk;
    struct ap_minisign_sk sk;
    if (make_pair("plain", &pk, &sk) < 0)
        return;
    char hex[AP_MINISIGN_KEYID_HEX_LEN + 1], want[128], line[512];
    ap_minisign_keyid_hex(pk.keyid, hex);
    /* minisign 0.11 prints the key id as a little-endian integer, without leading zeros. */
    uint64_t v = 0;
    char want_hex[32];
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | pk.keyid[i];
    snprintf(want_hex, sizeof(want_hex), "%" PRIX64, v);
    CHECK_MSG(strcmp(hex, want_hex) == 0, "%s, want %s", hex, want_hex);
    unsigned char low[AP_MINISIGN_KEYID_LEN] = {0xab, 0x01, 0, 0, 0, 0, 0, 0x0c};
    char low_hex[AP_MINISIGN_KEYID_HEX_LEN + 1];
    ap_minisign_keyid_hex(low, low_hex);
    CHECK_MSG(strcmp(low_hex, "C000000000001AB") == 0, "%s", low_hex);

    char *pub = slurp(at("plain.pub")), *sec = slurp(at("plain.key"));
    if (CHECK(pub != NULL && sec != NULL)) {
        snprintf(want, sizeof(want), "untrusted comment: minisign public key %s", hex);
        CHECK(line_of(pub, 0, line, sizeof(line)) == 0 && strcmp(line, want) == 0);
        unsigned char blob[200];
        size_t len = 0;
        CHECK(line_of(pub, 1, line, sizeof(line)) == 0 && strlen(line) == 56);
        if (CHECK(b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 42)) {
            CHECK(memcmp(blob, "Ed", 2) == 0);
            CHECK(memcmp(blob + 2, pk.keyid, 8) == 0 && memcmp(blob + 10, pk.pk, 32) == 0);
        }
        CHECK(strlen(pub) == strlen(want) + 1 + 56 + 1); /* exactly two lines */

        CHECK(line_of(sec, 0, line, sizeof(line)) == 0 &&
              strcmp(line, "untrusted comment: minisign encrypted secret key") == 0);
        CHECK(line_of(sec, 1, line, sizeof(line)) == 0 && strlen(line) == 212);
        if (CHECK(b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 158)) {
            static const unsigned char head[6] = {'E', 'd', 0, 0, 'B', '2'};
            unsigned char zero[48] = {0};
            CHECK(memcmp(blob, head, 6) == 0);
            CHECK(memcmp(blob + 6, zero, 48) == 0); /* salt, opslimit, memlimit: unused */
            CHECK(memcmp(blob + 54, pk.keyid, 8) == 0);
            CHECK(memcmp(blob + 62, sk.sk, 64) == 0);
            unsigned char chk[32];
            crypto_generichash_state st;
            crypto_generichash_init(&st, NULL, 0, 32);
            crypto_generichash_update(&st, (const unsigned char *)"Ed", 2);
            crypto_generichash_update(&st, blob + 54, 72);
            crypto_generichash_final(&st, chk, 32);
            CHECK(memcmp(blob + 126, chk, 32) == 0);
        }
    }
    free(pub);
    free(sec);

    struct stat st;
    CHECK(stat(at("plain.key"), &st) == 0 && (st.st_mode & 07777) == 0600);
    CHECK(stat(at("plain.pub"), &st) == 0 && (st.st_mode & 07777) == 0644);
    ap_minisign_sk_public(&sk, &from_sk);
    CHECK(memcmp(&from_sk, &pk, sizeof(pk)) == 0);
    char b64[64];
    ap_error *err = NULL;
    CHECK(ap_minisign_pk_base64(&pk, b64, sizeof(b64), &err) == 0 && strlen(b64) == 56);
    EXPECT_ERROR(ap_minisign_pk_base64(&pk, b64, 20, &err), &err, "public key", NULL, NULL);
    ap_minisign_sk_wipe(&sk);
    unsigned char zero[sizeof(sk)] = {0};
    CHECK(memcmp(&sk, zero, sizeof(sk)) == 0);
}

TEST(sign_and_verify)
{
    struct ap_minisign_pk pk;
    struct ap_minisign_sk sk;
    if (make_pair("signer", &pk, &sk) < 0)
        return;
    /* More than one read block, so the prehash streams. */
    size_t n = 300000;
    unsigned char *data = malloc(n);
    if (!CHECK(data != NULL))
        return;
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 7 + i / 251);
    CHECK(put(at("data.bin"), data, n) == 0);
    free(data);

    ap_error *err = NULL;
    char trusted[AP_MINISIGN_COMMENT_MAX + 1];
    if (!OK(ap_minisign_sign(&sk, at("data.bin"), "run 42\tfile:data.bin", NULL,
                             at("data.bin.minisig"), &err),
            &err))
        return;
    if (OK(ap_minisign_verify(&pk, at("data.bin"), at("data.bin.minisig"), trusted, sizeof(trusted),
                              &err),
           &err))
        CHECK_MSG(strcmp(trusted, "run 42\tfile:data.bin") == 0, "trusted: %s", trusted);
    OK(ap_minisign_verify(&pk, at("data.bin"), at("data.bin.minisig"), NULL, 0, &err), &err);

    char *sig = slurp(at("data.bin.minisig"));
    char line[512];
    unsigned char blob[128];
    size_t len = 0;
    if (CHECK(sig != NULL)) {
        CHECK(line_of(sig, 0, line, sizeof(line)) == 0 &&
              strcmp(line, "untrusted comment: signature from appliance secret key") == 0);
        if (CHECK(line_of(sig, 1, line, sizeof(line)) == 0) &&
            CHECK(b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 74)) {
            CHECK(memcmp(blob, "ED", 2) == 0 && memcmp(blob + 2, pk.keyid, 8) == 0);
        }
        CHECK(line_of(sig, 2, line, sizeof(line)) == 0 &&
              strcmp(line, "trusted comment: run 42\tfile:data.bin") == 0);
        CHECK(line_of(sig, 3, line, sizeof(line)) == 0 &&
              b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 64);
        CHECK(line_of(sig, 4, line, sizeof(line)) == -1 || line[0] == '\0');
    }
    free(sig);

    /* minisign's default trusted comment, and an untrusted comment of our own. */
    if (OK(ap_minisign_sign(&sk, at("data.bin"), NULL, "made by a test", at("default.minisig"),
                            &err),
           &err) &&
        OK(ap_minisign_verify(&pk, at("data.bin"), at("default.minisig"), trusted, sizeof(trusted),
                              &err),
           &err)) {
        CHECK_MSG(strncmp(trusted, "timestamp:", 10) == 0 &&
                      test_contains(trusted, "\tfile:data.bin\thashed"),
                  "trusted: %s", trusted);
        sig = slurp(at("default.minisig"));
        CHECK(sig != NULL && strncmp(sig, "untrusted comment: made by a test\n", 34) == 0);
        free(sig);
    }

    /* An empty file signs and verifies too. */
    CHECK(put(at("empty"), "", 0) == 0);
    OK(ap_minisign_sign(&sk, at("empty"), "empty", NULL, at("empty.minisig"), &err), &err);
    OK(ap_minisign_verify(&pk, at("empty"), at("empty.minisig"), NULL, 0, &err), &err);
    ap_minisign_sk_wipe(&sk);
}

/* A signed file "t.txt" and its signature "t.minisig" by a fresh key. */
static int signed_file(struct ap_minisign_pk *pk, struct ap_minisign_sk *sk)
{
    static int round;
    char name[32];
    snprintf(name, sizeof(name), "tamper%d", round++);
    if (make_pair(name, pk, sk) < 0)
        return -1;
    ap_error *err = NULL;
    if (put_text(at("t.txt"), "results: 1 2 3\n") < 0)
        return -1;
    if (!OK(ap_minisign_sign(sk, at("t.txt"), "trusted words", NULL, at("t.minisig"), &err), &err))
        return -1;
    return 0;
}

TEST(flipped_file_byte_fails)
{
    struct ap_minisign_pk pk;
    struct ap_minisign_sk sk;
    if (signed_file(&pk, &sk) < 0)
        return;
    ap_error *err = NULL;
    CHECK(put_text(at("t.txt"), "results: 1 2 4\n") == 0);
    EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                 at("t.minisig"), "the signature does not match", "the file changed");
    CHECK(put_text(at("t.txt"), "results: 1 2 3\n\n") == 0);
    EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                 "does not match", at("t.txt"), NULL);
    EXPECT_ERROR(ap_minisign_verify(&pk, at("no-such-file"), at("t.minisig"), NULL, 0, &err), &err,
                 "no-such-file", "No such file", NULL);
}

TEST(flipped_signature_byte_fails)
{
    struct ap_minisign_pk pk;
    struct ap_minisign_sk sk;
    if (signed_file(&pk, &sk) < 0)
        return;
    ap_error *err = NULL;
    /* A byte of the Ed25519 signature (after "ED" and the key id). */
    if (CHECK(flip_b64_byte(at("t.minisig"), 1, 30, 0x01) == 0))
        EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                     "the signature does not match", NULL, NULL);
    /* A byte of the global signature. */
    OK(ap_minisign_sign(&sk, at("t.txt"), "trusted words", NULL, at("t.minisig"), &err), &err);
    if (CHECK(flip_b64_byte(at("t.minisig"), 3, 0, 0x01) == 0))
        EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                     "the trusted comment does not match the global signature", NULL, NULL);
    /* The algorithm: "ED" made "Ed" asks for a legacy signature over the file itself. */
    OK(ap_minisign_sign(&sk, at("t.txt"), "trusted words", NULL, at("t.minisig"), &err), &err);
    if (CHECK(flip_b64_byte(at("t.minisig"), 1, 1, 0x20) == 0))
        EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                     "the signature does not match", NULL, NULL);
    /* A byte of the key id. */
    OK(ap_minisign_sign(&sk, at("t.txt"), "trusted words", NULL, at("t.minisig"), &err), &err);
    if (CHECK(flip_b64_byte(at("t.minisig"), 1, 2, 0x01) == 0))
        EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                     "signature key id", "signed by another key", NULL);
}

TEST(another_key_fails)
{
    struct ap_minisign_pk pk, other_pk;
    struct ap_minisign_sk sk, other_sk;
    if (signed_file(&pk, &sk) < 0 || make_pair("other", &other_pk, &other_sk) < 0)
        return;
    char theirs[AP_MINISIGN_KEYID_HEX_LEN + 1], ours[AP_MINISIGN_KEYID_HEX_LEN + 1];
    char want[256];
    ap_minisign_keyid_hex(pk.keyid, theirs);
    ap_minisign_keyid_hex(other_pk.keyid, ours);
    snprintf(want, sizeof(want),
             "signature key id %s is not the key id of the public key %s: signed by another key",
             theirs, ours);
    ap_error *err = NULL;
    EXPECT_ERROR(ap_minisign_verify(&other_pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                 want, at("t.minisig"), "Hint: verify with the public key");
    /* The same key id with another key's bytes: the signature itself fails. */
    memcpy(other_pk.keyid, pk.keyid, AP_MINISIGN_KEYID_LEN);
    EXPECT_ERROR(ap_minisign_verify(&other_pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                 "the signature does not match", NULL, NULL);
    ap_minisign_sk_wipe(&other_sk);
}

TEST(edited_trusted_comment_fails)
{
    struct ap_minisign_pk pk;
    struct ap_minisign_sk sk;
    if (signed_file(&pk, &sk) < 0)
        return;
    ap_error *err = NULL;
    char trusted[64] = "unchanged";
    if (CHECK(replace_line(at("t.minisig"), 2, "trusted comment: trusted wordz") == 0))
        EXPECT_ERROR(
            ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), trusted, sizeof(trusted), &err),
            &err, "the trusted comment does not match the global signature", "edited after signing",
            at("t.minisig"));
    CHECK(strcmp(trusted, "unchanged") == 0);
    /* A trailing blank is an edit too. */
    if (CHECK(replace_line(at("t.minisig"), 2, "trusted comment: trusted words ") == 0))
        EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err,
                     "the trusted comment does not match", NULL, NULL);
    /* The untrusted comment is not signed: editing it changes nothing. */
    CHECK(replace_line(at("t.minisig"), 2, "trusted comment: trusted words") == 0);
    CHECK(replace_line(at("t.minisig"), 0, "untrusted comment: anything at all") == 0);
    OK(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), NULL, 0, &err), &err);
    /* CRLF line ends (a copy through a Windows editor) still verify. */
    char *text = slurp(at("t.minisig"));
    struct test_buf crlf = {0};
    for (const char *p = text; p != NULL && *p != '\0'; p++) {
        if (*p == '\n')
            test_buf_append(&crlf, "\r", 1);
        test_buf_append(&crlf, p, 1);
    }
    CHECK(put(at("t.minisig"), crlf.data, crlf.len) == 0);
    OK(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), trusted, sizeof(trusted), &err), &err);
    CHECK(strcmp(trusted, "trusted words") == 0);
    test_buf_free(&crlf);
    free(text);
    /* The caller's buffer is too small for the comment: an error, not a cut comment. */
    EXPECT_ERROR(ap_minisign_verify(&pk, at("t.txt"), at("t.minisig"), trusted, 5, &err), &err,
                 "does not fit", NULL, NULL);
}

TEST(encrypted_key_right_and_wrong_password)
{
    ap_error *err = NULL;
    if (!OK(ap_minisign_keygen_kdf(at("enc.pub"), at("enc.key"), "correct horse", 0, CHEAP_OPS,
                                   CHEAP_MEM, &err),
            &err))
        return;
    char *sec = slurp(at("enc.key"));
    char line[512];
    unsigned char blob[200];
    size_t len = 0;
    if (CHECK(sec != NULL) && CHECK(line_of(sec, 1, line, sizeof(line)) == 0) &&
        CHECK(b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 158)) {
        CHECK(memcmp(blob, "EdScB2", 6) == 0);
        unsigned char ops[8] = {0}, mem[8] = {0};
        for (int i = 0; i < 8; i++) {
            ops[i] = (unsigned char)((uint64_t)CHEAP_OPS >> (8 * i));
            mem[i] = (unsigned char)((uint64_t)CHEAP_MEM >> (8 * i));
        }
        CHECK(memcmp(blob + 38, ops, 8) == 0 && memcmp(blob + 46, mem, 8) == 0);
    }
    free(sec);

    struct ap_minisign_pk pk, from_sk;
    struct ap_minisign_sk sk;
    if (!OK(ap_minisign_read_pk(at("enc.pub"), &pk, &err), &err))
        return;
    /* Stored encrypted: the key id in the file is not the public key's. */
    CHECK(memcmp(blob + 54, pk.keyid, 8) != 0);
    if (OK(ap_minisign_read_sk(at("enc.key"), "correct horse", &sk, &err), &err)) {
        ap_minisign_sk_public(&sk, &from_sk);
        CHECK(memcmp(&from_sk, &pk, sizeof(pk)) == 0);
        CHECK(put_text(at("e.txt"), "encrypted\n") == 0);
        OK(ap_minisign_sign(&sk, at("e.txt"), "e", NULL, at("e.minisig"), &err), &err);
        OK(ap_minisign_verify(&pk, at("e.txt"), at("e.minisig"), NULL, 0, &err), &err);
        ap_minisign_sk_wipe(&sk);
    }
    EXPECT_ERROR(ap_minisign_read_sk(at("enc.key"), "correct horsE", &sk, &err), &err,
                 at("enc.key"), "wrong password", "checksum");
    EXPECT_ERROR(ap_minisign_read_sk(at("enc.key"), NULL, &sk, &err), &err, at("enc.key"),
                 "encrypted and no password was given", NULL);
    EXPECT_ERROR(ap_minisign_read_sk(at("enc.key"), "", &sk, &err), &err, "no password", NULL,
                 NULL);
    /* More scrypt than minisign ever asks for is refused, when made and when read. */
    EXPECT_ERROR(ap_minisign_keygen_kdf(at("big.pub"), at("big.key"), "pw", 0,
                                        crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE,
                                        (size_t)2 << 30, &err),
                 &err, "above minisign's", NULL, NULL);
    CHECK(access(at("big.key"), F_OK) != 0);
}

TEST(encrypted_key_with_minisigns_cost)
{
    ap_error *err = NULL;
    if (!OK(ap_minisign_keygen(at("costly.pub"), at("costly.key"), "pw", 0, &err), &err))
        return;
    char *sec = slurp(at("costly.key"));
    char line[512];
    unsigned char blob[200];
    size_t len = 0;
    if (CHECK(sec != NULL) && CHECK(line_of(sec, 1, line, sizeof(line)) == 0) &&
        CHECK(b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 158)) {
        /* opslimit 33554432 and memlimit 1073741824, little-endian: what minisign -G writes. */
        static const unsigned char limits[16] = {0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0};
        CHECK(memcmp(blob + 38, limits, 16) == 0);
    }
    free(sec);
    struct ap_minisign_pk pk, from_sk;
    struct ap_minisign_sk sk;
    if (OK(ap_minisign_read_pk(at("costly.pub"), &pk, &err), &err) &&
        OK(ap_minisign_read_sk(at("costly.key"), "pw", &sk, &err), &err)) {
        ap_minisign_sk_public(&sk, &from_sk);
        CHECK(memcmp(&from_sk, &pk, sizeof(pk)) == 0);
        ap_minisign_sk_wipe(&sk);
    }
}

TEST(keygen_refuses_to_replace)
{
    struct ap_minisign_pk pk, again;
    struct ap_minisign_sk sk;
    if (make_pair("keep", &pk, &sk) < 0)
        return;
    char *pub = slurp(at("keep.pub")), *sec = slurp(at("keep.key"));
    ap_error *err = NULL;
    EXPECT_ERROR(ap_minisign_keygen(at("keep.pub"), at("keep.key"), NULL, 0, &err), &err,
                 at("keep.key"), "already exists", NULL);
    EXPECT_ERROR(ap_minisign_keygen(at("keep.pub"), at("fresh.key"), NULL, 0, &err), &err,
                 at("keep.pub"), "already exists", NULL);
    CHECK(access(at("fresh.key"), F_OK) != 0);
    char *pub2 = slurp(at("keep.pub")), *sec2 = slurp(at("keep.key"));
    CHECK(pub != NULL && pub2 != NULL && strcmp(pub, pub2) == 0);
    CHECK(sec != NULL && sec2 != NULL && strcmp(sec, sec2) == 0);
    free(pub2);
    free(sec2);
    EXPECT_ERROR(ap_minisign_keygen(at("same"), at("same"), NULL, 1, &err), &err, "cannot both be",
                 NULL, NULL);
    /* force replaces both. */
    if (OK(ap_minisign_keygen(at("keep.pub"), at("keep.key"), NULL, 1, &err), &err) &&
        OK(ap_minisign_read_pk(at("keep.pub"), &again, &err), &err)) {
        CHECK(memcmp(&again, &pk, sizeof(pk)) != 0);
        struct stat st;
        CHECK(stat(at("keep.key"), &st) == 0 && (st.st_mode & 07777) == 0600);
    }
    free(pub);
    free(sec);
    /* A directory that does not exist is an error naming the file. */
    EXPECT_ERROR(ap_minisign_keygen(at("nodir/x.pub"), at("nodir/x.key"), NULL, 0, &err), &err,
                 "nodir/x.key", NULL, NULL);
    ap_minisign_sk_wipe(&sk);
}

TEST(stock_minisign_golden_files)
{
    struct ap_minisign_pk pk, bare, from_sk;
    struct ap_minisign_sk sk;
    ap_error *err = NULL;
    char trusted[128];
    char hex[AP_MINISIGN_KEYID_HEX_LEN + 1];
    CHECK(put_text(at("golden.txt"), GOLDEN_DATA) == 0);
    CHECK(put_text(at("golden.pub"), golden_pk) == 0);
    CHECK(put_text(at("golden.key"), golden_sk) == 0);
    CHECK(put_text(at("golden.ED.minisig"), golden_sig_prehashed) == 0);
    CHECK(put_text(at("golden.Ed.minisig"), golden_sig_legacy) == 0);
    if (!OK(ap_minisign_read_pk(at("golden.pub"), &pk, &err), &err))
        return;
    ap_minisign_keyid_hex(pk.keyid, hex);
    CHECK_MSG(strcmp(hex, GOLDEN_KEYID) == 0, "key id %s", hex);
    /* The bare base64 key, as minisign -P takes it. */
    const char *b64 = strchr(golden_pk, '\n') + 1;
    if (OK(ap_minisign_parse_pk(b64, strlen(b64) - 1, &bare, &err), &err))
        CHECK(memcmp(&bare, &pk, sizeof(pk)) == 0);
    if (OK(ap_minisign_verify(&pk, at("golden.txt"), at("golden.ED.minisig"), trusted,
                              sizeof(trusted), &err),
           &err))
        CHECK(strcmp(trusted, "golden prehashed") == 0);
    if (OK(ap_minisign_verify(&pk, at("golden.txt"), at("golden.Ed.minisig"), trusted,
                              sizeof(trusted), &err),
           &err))
        CHECK(strcmp(trusted, "golden legacy") == 0);
    /* A legacy signature covers the file itself: a changed file fails too. */
    CHECK(put_text(at("golden.txt"), "appliance golden filE\n") == 0);
    EXPECT_ERROR(ap_minisign_verify(&pk, at("golden.txt"), at("golden.Ed.minisig"), NULL, 0, &err),
                 &err, "the signature does not match", NULL, NULL);
    CHECK(put_text(at("golden.txt"), GOLDEN_DATA) == 0);
    /* minisign 0.11's -W key: zero checksum, read all the same, and it signs for its key. */
    if (OK(ap_minisign_read_sk(at("golden.key"), NULL, &sk, &err), &err)) {
        ap_minisign_sk_public(&sk, &from_sk);
        CHECK(memcmp(&from_sk, &pk, sizeof(pk)) == 0);
        OK(ap_minisign_sign(&sk, at("golden.txt"), "ours", NULL, at("golden.ours.minisig"), &err),
           &err);
        OK(ap_minisign_verify(&pk, at("golden.txt"), at("golden.ours.minisig"), NULL, 0, &err),
           &err);
        ap_minisign_sk_wipe(&sk);
    }
}

TEST(public_key_parse_errors)
{
    struct ap_minisign_pk pk;
    ap_error *err = NULL;
    const char *good = "RWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+";
#define PARSE(s) ap_minisign_parse_pk((s), strlen(s), &pk, &err)
    OK(PARSE(good), &err);
    OK(PARSE("  RWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+ \r"), &err);
    EXPECT_ERROR(PARSE("RWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk"), &err,
                 "not valid base64", NULL, NULL);
    EXPECT_ERROR(PARSE("RWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+AAAA"), &err,
                 "decodes to 45 bytes, not the 42", NULL, NULL);
    EXPECT_ERROR(PARSE("RXSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+"), &err,
                 "algorithm is 'E", "not Ed", NULL);
    EXPECT_ERROR(PARSE(""), &err, "empty", NULL, NULL);
    EXPECT_ERROR(PARSE("comment: x\nRWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+\n"),
                 &err, "untrusted comment:", NULL, NULL);
    EXPECT_ERROR(PARSE("untrusted comment: x\n"), &err, "key line", "missing", NULL);
    EXPECT_ERROR(
        PARSE(
            "untrusted comment: x\nRWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/hKxYeFdk+\nx\n"),
        &err, "unexpected text", NULL, NULL);
    OK(PARSE("untrusted comment: x\r\nRWSPk+Dus/+pGwDALCgAhTBszb+Kj4ZuyUWQ1N4F90+LRE/"
             "hKxYeFdk+\r\n\r\n"),
       &err);
    EXPECT_ERROR(ap_minisign_parse_pk("RWSPk\0+Dus", 10, &pk, &err), &err, "NUL", NULL, NULL);
#undef PARSE
    /* A signature is not a public key. */
    CHECK(put_text(at("sig-as-pk"), golden_sig_prehashed) == 0);
    EXPECT_ERROR(ap_minisign_read_pk(at("sig-as-pk"), &pk, &err), &err, at("sig-as-pk"),
                 "decodes to 74 bytes", NULL);
    EXPECT_ERROR(ap_minisign_read_pk(at("missing.pub"), &pk, &err), &err, at("missing.pub"),
                 "No such file", NULL);
    /* Files are read with a bound. */
    char big[5000];
    memset(big, 'A', sizeof(big));
    CHECK(put(at("big.pub"), big, sizeof(big)) == 0);
    EXPECT_ERROR(ap_minisign_read_pk(at("big.pub"), &pk, &err), &err, at("big.pub"),
                 "more than the 4096 allowed", NULL);
}

TEST(secret_key_parse_errors)
{
    struct ap_minisign_sk sk;
    ap_error *err = NULL;
    char line[512];
    unsigned char blob[200];
    size_t len = 0;
    CHECK(line_of(golden_sk, 1, line, sizeof(line)) == 0);
    CHECK(b64_decode(line, blob, sizeof(blob), &len) == 0 && len == 158);

    /* Re-encodes blob with one change into a key file and reads it. */
#define WITH_BYTE(off, val)                                                                        \
    do {                                                                                           \
        unsigned char copy[158];                                                                   \
        char text[400], b64[260];                                                                  \
        memcpy(copy, blob, sizeof(copy));                                                          \
        copy[off] = (val);                                                                         \
        sodium_bin2base64(b64, sizeof(b64), copy, sizeof(copy), sodium_base64_VARIANT_ORIGINAL);   \
        snprintf(text, sizeof(text), "untrusted comment: x\n%s\n", b64);                           \
        CHECK(put_text(at("mod.key"), text) == 0);                                                 \
    } while (0)
    WITH_BYTE(1, 'x');
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err, at("mod.key"),
                 "algorithm is 'Ex'", NULL);
    WITH_BYTE(2, 'Q');
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err,
                 "key derivation is '51 00'", NULL, NULL);
    WITH_BYTE(5, '3');
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err,
                 "checksum algorithm is 'B3'", NULL, NULL);
    /* A non-zero checksum that does not match: damaged. */
    WITH_BYTE(130, 1);
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err,
                 "does not match its checksum", "damaged", NULL);
    /* A secret key whose public half is not its seed's (the checksum cannot tell: zero). */
    WITH_BYTE(100, (unsigned char)(blob[100] ^ 1));
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err,
                 "public half of the secret key does not match its seed", NULL, NULL);
    /* An encrypted key declaring more scrypt than minisign's. */
    {
        unsigned char copy[158];
        char text[400], b64[260];
        memcpy(copy, blob, sizeof(copy));
        memcpy(copy + 2, "Sc", 2);
        copy[38 + 4] = 1; /* opslimit 2^32 */
        sodium_bin2base64(b64, sizeof(b64), copy, sizeof(copy), sodium_base64_VARIANT_ORIGINAL);
        snprintf(text, sizeof(text), "untrusted comment: x\n%s\n", b64);
        CHECK(put_text(at("mod.key"), text) == 0);
    }
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), "pw", &sk, &err), &err, "scrypt cost",
                 "above minisign's", NULL);
#undef WITH_BYTE
    CHECK(put_text(at("mod.key"), "untrusted comment: x\nRWQAAEIy\n") == 0);
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err,
                 "decodes to 6 bytes, not the 158", NULL, NULL);
    CHECK(put_text(at("mod.key"), golden_pk) == 0);
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err, "decodes to 42 bytes",
                 NULL, NULL);
    CHECK(put_text(at("mod.key"), "RWQAAEIy\n") == 0);
    EXPECT_ERROR(ap_minisign_read_sk(at("mod.key"), NULL, &sk, &err), &err,
                 "not a minisign secret key file", NULL, NULL);
}

TEST(signature_parse_errors)
{
    struct ap_minisign_pk pk;
    ap_error *err = NULL;
    CHECK(put_text(at("golden.txt"), GOLDEN_DATA) == 0);
    if (!OK(ap_minisign_parse_pk(golden_pk, strlen(golden_pk), &pk, &err), &err))
        return;
    char text[2048];
    const char *sig = at("bad.minisig");
#define VERIFY() ap_minisign_verify(&pk, at("golden.txt"), sig, NULL, 0, &err)
    CHECK(put_text(sig, strchr(golden_sig_prehashed, '\n') + 1) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "does not start with \"untrusted comment: \"", NULL);
    snprintf(text, sizeof(text), "%.*s",
             (int)(strstr(golden_sig_prehashed, "trusted comment: g") - golden_sig_prehashed),
             golden_sig_prehashed);
    CHECK(put_text(sig, text) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "third line", "trusted comment: ", NULL);
    snprintf(text, sizeof(text), "%s", golden_sig_prehashed);
    *strrchr(text, '\n') = '\0';
    *(strrchr(text, '\n') + 1) = '\0';
    CHECK(put_text(sig, text) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "global signature line is missing", NULL);
    snprintf(text, sizeof(text), "%sextra\n", golden_sig_prehashed);
    CHECK(put_text(sig, text) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "unexpected text after the global signature", NULL);
    snprintf(text, sizeof(text), "%s", golden_sig_prehashed);
    text[strlen("untrusted comment: signature from minisign secret key\nRU")] = '*';
    CHECK(put_text(sig, text) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "signature line is not valid base64", NULL);
    CHECK(put_text(sig, "untrusted comment: x\nRWQAAEIy\ntrusted comment: y\nAAAA\n") == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "decodes to 6 bytes, not the 74", NULL);
    CHECK(put(sig, "untrusted comment: x\0\n", 22) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "NUL byte", NULL);
    CHECK(put_text(sig, "") == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "not a minisign signature", NULL);
    /* An unknown algorithm ("EX"). */
    CHECK(put_text(sig, golden_sig_prehashed) == 0);
    CHECK(flip_b64_byte(sig, 1, 1, 0x01) == 0); /* 'D' ^ 1 = 'E' */
    EXPECT_ERROR(VERIFY(), &err, sig, "signature algorithm is 'EE'", "neither ED", NULL);
    /* A signature file beyond its bound. */
    static char big[20000];
    memset(big, 'A', sizeof(big));
    CHECK(put(sig, big, sizeof(big)) == 0);
    EXPECT_ERROR(VERIFY(), &err, sig, "more than the 16384 allowed", NULL);
    EXPECT_ERROR(ap_minisign_verify(&pk, at("golden.txt"), at("none.minisig"), NULL, 0, &err), &err,
                 at("none.minisig"), "No such file", NULL);
#undef VERIFY
}

TEST(comments_must_be_one_bounded_line)
{
    struct ap_minisign_pk pk;
    struct ap_minisign_sk sk;
    if (make_pair("comments", &pk, &sk) < 0)
        return;
    ap_error *err = NULL;
    CHECK(put_text(at("c.txt"), "c\n") == 0);
    EXPECT_ERROR(ap_minisign_sign(&sk, at("c.txt"), "two\nlines", NULL, at("c.minisig"), &err),
                 &err, "trusted comment must be one line", at("c.txt"), NULL);
    EXPECT_ERROR(
        ap_minisign_sign(&sk, at("c.txt"), "ok", "carriage\rreturn", at("c.minisig"), &err), &err,
        "untrusted comment must be one line", NULL, NULL);
    static char long_comment[AP_MINISIGN_COMMENT_MAX + 2];
    memset(long_comment, 'x', AP_MINISIGN_COMMENT_MAX + 1);
    EXPECT_ERROR(ap_minisign_sign(&sk, at("c.txt"), long_comment, NULL, at("c.minisig"), &err),
                 &err, "1025 bytes, more than the 1024 allowed", NULL, NULL);
    CHECK(access(at("c.minisig"), F_OK) != 0);
    long_comment[AP_MINISIGN_COMMENT_MAX] = '\0';
    static char trusted[AP_MINISIGN_COMMENT_MAX + 1];
    OK(ap_minisign_sign(&sk, at("c.txt"), long_comment, NULL, at("c.minisig"), &err), &err);
    if (OK(ap_minisign_verify(&pk, at("c.txt"), at("c.minisig"), trusted, sizeof(trusted), &err),
           &err))
        CHECK(strcmp(trusted, long_comment) == 0);
    EXPECT_ERROR(ap_minisign_sign(&sk, at("no-such"), "x", NULL, at("n.minisig"), &err), &err,
                 at("no-such"), "No such file", NULL);
    ap_minisign_sk_wipe(&sk);
}

/* Interop with stock minisign, on files 85-minisign.sh prepared in MINISIGN_INTEROP_DIR:
 * stock-w.{pub,key} (minisign -G -W), stock-e.{pub,key} (minisign -G, password in
 * `password`), ours-w.{pub,key} and ours-e.{pub,key} (appliance keygen), `data`, and
 * signatures of it: data.stock-w.minisig, data.stock-legacy.minisig, data.stock-e.minisig
 * (stock minisign with its keys), data.stock-by-ours-w.minisig and data.stock-by-ours-e.minisig
 * (stock minisign with our keys). All carry the trusted comment INTEROP_COMMENT. */
#define INTEROP_COMMENT "interop trusted comment"

static const char *interop_dir(void)
{
    const char *d = getenv("MINISIGN_INTEROP_DIR");
    if (d == NULL || *d == '\0') {
        test_note("MINISIGN_INTEROP_DIR is not set: skipped (85-minisign.sh runs it)");
        return NULL;
    }
    return d;
}

static const char *in_dir(const char *dir, const char *name)
{
    static char bufs[4][4200];
    static unsigned next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name);
    return b;
}

static void interop_verify(const char *dir, const char *pub, const char *sig)
{
    struct ap_minisign_pk pk;
    ap_error *err = NULL;
    char trusted[256];
    if (!CHECK_MSG(ap_minisign_read_pk(in_dir(dir, pub), &pk, &err) == 0, "%s",
                   err ? err->msg : "?")) {
        ap_error_release(&err);
        return;
    }
    int rc = ap_minisign_verify(&pk, in_dir(dir, "data"), in_dir(dir, sig), trusted,
                                sizeof(trusted), &err);
    if (CHECK_MSG(rc == 0, "%s with %s: %s", sig, pub, err ? err->msg : "?"))
        CHECK_MSG(strcmp(trusted, INTEROP_COMMENT) == 0, "%s: trusted comment '%s'", sig, trusted);
    ap_error_release(&err);
}

/* Reads a secret key made by stock minisign or by us, checks it belongs to its public key and
 * signs `data` with it into data.ours-by-NAME.minisig for stock minisign to verify. */
static void interop_sign(const char *dir, const char *name, const char *password)
{
    char pub[64], sec[64], sig[96];
    snprintf(pub, sizeof(pub), "%s.pub", name);
    snprintf(sec, sizeof(sec), "%s.key", name);
    snprintf(sig, sizeof(sig), "data.ours-by-%s.minisig", name);
    struct ap_minisign_pk pk, from_sk;
    struct ap_minisign_sk sk;
    ap_error *err = NULL;
    if (!OK(ap_minisign_read_pk(in_dir(dir, pub), &pk, &err), &err))
        return;
    if (!CHECK_MSG(ap_minisign_read_sk(in_dir(dir, sec), password, &sk, &err) == 0, "%s: %s", sec,
                   err ? err->msg : "?")) {
        ap_error_release(&err);
        return;
    }
    ap_minisign_sk_public(&sk, &from_sk);
    CHECK_MSG(memcmp(&from_sk, &pk, sizeof(pk)) == 0, "%s is not the secret key of %s", sec, pub);
    OK(ap_minisign_sign(&sk, in_dir(dir, "data"), INTEROP_COMMENT, NULL, in_dir(dir, sig), &err),
       &err);
    ap_minisign_sk_wipe(&sk);
    interop_verify(dir, pub, sig);
}

TEST(interop_stock_signatures_verify)
{
    const char *dir = interop_dir();
    if (dir == NULL)
        return;
    interop_verify(dir, "stock-w.pub", "data.stock-w.minisig");
    interop_verify(dir, "stock-w.pub", "data.stock-legacy.minisig");
    interop_verify(dir, "stock-e.pub", "data.stock-e.minisig");
    interop_verify(dir, "ours-w.pub", "data.stock-by-ours-w.minisig");
    interop_verify(dir, "ours-e.pub", "data.stock-by-ours-e.minisig");
    /* And a stock signature against the wrong stock key. */
    struct ap_minisign_pk pk;
    ap_error *err = NULL;
    if (OK(ap_minisign_read_pk(in_dir(dir, "stock-e.pub"), &pk, &err), &err))
        EXPECT_ERROR(ap_minisign_verify(&pk, in_dir(dir, "data"),
                                        in_dir(dir, "data.stock-w.minisig"), NULL, 0, &err),
                     &err, "signed by another key", NULL, NULL);
}

TEST(interop_keys_load_and_sign)
{
    const char *dir = interop_dir();
    if (dir == NULL)
        return;
    char *pw = slurp(in_dir(dir, "password"));
    if (!CHECK(pw != NULL))
        return;
    pw[strcspn(pw, "\n")] = '\0';
    interop_sign(dir, "stock-w", NULL);
    interop_sign(dir, "stock-e", pw);
    interop_sign(dir, "ours-w", NULL);
    interop_sign(dir, "ours-e", pw);
    struct ap_minisign_sk sk;
    ap_error *err = NULL;
    EXPECT_ERROR(ap_minisign_read_sk(in_dir(dir, "stock-e.key"), "not the password", &sk, &err),
                 &err, "wrong password", NULL, NULL);
    sodium_memzero(pw, strlen(pw));
    free(pw);
}

static void remove_tmpdir(void)
{
    ap_error *err = NULL;
    if (tmpdir[0] != '\0' && ap_fs_remove_tree(tmpdir, &err) < 0) {
        fprintf(stderr, "removing %s: %s\n", tmpdir, err->msg);
        ap_error_release(&err);
    }
}

static int setup(void)
{
    ap_error *err = NULL;
    if (ap_hash_init(&err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        ap_error_release(&err);
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/ap-test-minisign.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(tmpdir) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", tmpdir, strerror(errno));
        tmpdir[0] = '\0';
        return -1;
    }
    atexit(remove_tmpdir);
    return 0;
}
TEST_SETUP(setup)
