/* minisign-compatible Ed25519 keys and signatures (libsodium): the key files and the signature
 * format of minisign 0.11, so stock `minisign -Vm FILE -p KEY.pub` verifies what we sign and we
 * verify what it signs. Signatures are always prehashed (algorithm "ED": Ed25519 over the
 * file's BLAKE2b-512), with a trusted comment covered by the global signature. */
#ifndef AP_BUNDLE_MINISIGN_H
#define AP_BUNDLE_MINISIGN_H

#include <stddef.h>

#include "../core/error.h"

#define AP_MINISIGN_KEYID_LEN 8
#define AP_MINISIGN_KEYID_HEX_LEN 16
#define AP_MINISIGN_COMMENT_MAX 1024

struct ap_minisign_pk {
    unsigned char keyid[AP_MINISIGN_KEYID_LEN];
    unsigned char pk[32];
};

/* A secret key in memory (wipe it with ap_minisign_sk_wipe when done). */
struct ap_minisign_sk {
    unsigned char keyid[AP_MINISIGN_KEYID_LEN];
    unsigned char sk[64];
};

/* Makes a key pair and writes the public key to pk_path and the secret key to sk_path (mode
 * 0600), each whole (temp + fsync + rename). password NULL or "": the secret key is stored
 * unencrypted (minisign -W); else encrypted as minisign does (scrypt). Refuses to replace an
 * existing file unless force. The secret key is never printed. */
int ap_minisign_keygen(const char *pk_path, const char *sk_path, const char *password, int force,
                       ap_error **err);

/* ap_minisign_keygen with the scrypt cost of an encrypted key chosen by the caller, as
 * libsodium's crypto_pwhash_scryptsalsa208sha256 takes it (ap_minisign_keygen uses minisign's:
 * ..._OPSLIMIT_SENSITIVE and ..._MEMLIMIT_SENSITIVE, 1 GiB and seconds; more is refused). The
 * cost is stored in the key, so stock minisign reads cheaper keys too: for tests. */
int ap_minisign_keygen_kdf(const char *pk_path, const char *sk_path, const char *password,
                           int force, unsigned long long opslimit, size_t memlimit, ap_error **err);

/* Reads a public key file (an "untrusted comment:" line, then the base64 key) or, when
 * `text` holds no newline, the bare base64 key (as minisign -P takes it). */
int ap_minisign_read_pk(const char *path, struct ap_minisign_pk *out, ap_error **err);
int ap_minisign_parse_pk(const char *text, size_t len, struct ap_minisign_pk *out, ap_error **err);

/* Reads a file of one or more public keys, each as in a key file (an "untrusted comment:"
 * line, then the base64 key), concatenated, blank lines between them allowed: the keys a
 * verifier trusts. Fills out[0..*n) (at most max; more is an error naming the limit). A file
 * with no key, or with text that is no key, is an error naming the line. */
int ap_minisign_read_pks(const char *path, struct ap_minisign_pk *out, size_t max, size_t *n,
                         ap_error **err);

/* The key id a signature file names (the key that made it, whether or not it verifies). */
int ap_minisign_sig_keyid(const char *sig_path, unsigned char keyid[AP_MINISIGN_KEYID_LEN],
                          ap_error **err);

/* The key id as minisign 0.11 prints it in key files and messages: the 8 bytes as a
 * little-endian integer in upper-case hex without leading zeros (at most 16 digits),
 * NUL-terminated into hex. */
void ap_minisign_keyid_hex(const unsigned char keyid[AP_MINISIGN_KEYID_LEN],
                           char hex[AP_MINISIGN_KEYID_HEX_LEN + 1]);

/* The public key in base64, as `minisign -P` takes it (56 characters and a NUL; len >= 57). */
int ap_minisign_pk_base64(const struct ap_minisign_pk *pk, char *out, size_t len, ap_error **err);

/* Reads a secret key file, decrypting it with password when it is encrypted (a wrong
 * password is an error that says so: the checksum does not match). */
int ap_minisign_read_sk(const char *path, const char *password, struct ap_minisign_sk *out,
                        ap_error **err);
void ap_minisign_sk_wipe(struct ap_minisign_sk *sk);

/* The public key of a secret key (its key id and the public half of the Ed25519 key). */
void ap_minisign_sk_public(const struct ap_minisign_sk *sk, struct ap_minisign_pk *out);

/* Signs the file at file_path and writes its signature to sig_path whole (temp + fsync +
 * rename). trusted_comment must be one line (at most AP_MINISIGN_COMMENT_MAX bytes); NULL or ""
 * trusted_comment: minisign's default, "timestamp:<unix time>\tfile:<base name>\thashed"; NULL
 * untrusted_comment: "signature from appliance secret key". */
int ap_minisign_sign(const struct ap_minisign_sk *sk, const char *file_path,
                     const char *trusted_comment, const char *untrusted_comment,
                     const char *sig_path, ap_error **err);

/* Verifies the signature at sig_path of the file at file_path against pk: key id, signature
 * over the BLAKE2b-512 of the file, then the global signature over the trusted comment. On
 * success copies the trusted comment into trusted (len bytes, NUL-terminated) when not NULL
 * (a comment that does not fit is an error, never cut). Any failure is an error naming the file
 * and the check that failed. Signatures made by minisign without
 * prehashing ("Ed") are accepted too. */
int ap_minisign_verify(const struct ap_minisign_pk *pk, const char *file_path, const char *sig_path,
                       char *trusted, size_t len, ap_error **err);

#endif
