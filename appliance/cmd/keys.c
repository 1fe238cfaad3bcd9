/* Secret keys for the verbs that sign: the default path, the password and the loading. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "../bundle/minisign.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "cmd.h"

#define PASSWORD_MAX 1023      /* stock minisign reads at most this many bytes of a password */
#define PASSWORD_FILE_MAX 4096 /* bytes read from a password file at most */

/* The secret key's default path: $APPLIANCE_KEY, else ~/.config/appliance/appliance.key. */
int ap_cmd_default_secret_key(char *buf, size_t len, ap_error **err)
{
    const char *v = getenv("APPLIANCE_KEY");
    if (v != NULL && *v != '\0')
        return ap_fs_path(buf, len, "%s", v) < 0
                   ? ap_error_make(err, ENAMETOOLONG, "APPLIANCE_KEY is too long")
                   : 0;
    const char *home = getenv("HOME");
    if (home == NULL || *home == '\0') {
        ap_error_make(err, 0, "HOME is not set, so there is no default secret key path");
        return ap_error_hint(err, "give the key's path or set APPLIANCE_KEY");
    }
    if (ap_fs_path(buf, len, "%s/.config/appliance/appliance.key", home) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the default secret key path under %s", home);
    return 0;
}

/* The first line of a file, without its line break. The file may be a pipe
 * (--password-file <(...)): it is read up to the first line break, never more than
 * PASSWORD_FILE_MAX bytes. */
int ap_cmd_password_from_file(const char *path, char *pw, size_t len, ap_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening the password file %s", path);
    char buf[PASSWORD_FILE_MAX];
    size_t n = 0;
    int rc = 0;
    while (n < sizeof(buf) && memchr(buf, '\n', n) == NULL) {
        ssize_t r = read(fd, buf + n, sizeof(buf) - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ap_error_make(err, errno, "reading the password file %s", path);
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    const char *nl = memchr(buf, '\n', n);
    size_t line = nl != NULL ? (size_t)(nl - buf) : n;
    while (line > 0 && buf[line - 1] == '\r')
        line--;
    if (rc < 0) {
        /* The read error is in err already. */
    } else if (nl == NULL && n == sizeof(buf)) {
        rc = ap_error_make(err, 0, "the first line of %s is longer than %zu bytes", path,
                           sizeof(buf));
    } else if (line == 0) {
        ap_error_make(err, 0, "the first line of %s is empty", path);
        rc = ap_error_hint(err, "a key without a password is made with keygen -W and read "
                                "without a password file");
    } else if (line >= len) {
        rc = ap_error_make(err, 0, "the password in %s is longer than the %zu bytes minisign reads",
                           path, len - 1);
    } else {
        memcpy(pw, buf, line);
        pw[line] = '\0';
    }
    sodium_memzero(buf, sizeof(buf));
    return rc;
}

/* Asks once on the terminal, echo off. */
static int password_from_tty(const char *key, char *pw, size_t len, ap_error **err)
{
    cleanup_file FILE *tty = fopen("/dev/tty", "r+e");
    if (tty == NULL)
        return ap_error_make(err, errno, "opening the terminal for the key's password");
    struct termios old, quiet;
    int fd = fileno(tty);
    if (tcgetattr(fd, &old) < 0)
        return ap_error_make(err, errno, "reading the terminal's settings");
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    fprintf(tty, "Password for %s: ", key);
    fflush(tty);
    if (tcsetattr(fd, TCSAFLUSH, &quiet) < 0)
        return ap_error_make(err, errno, "turning the terminal's echo off");
    char *got = fgets(pw, (int)len, tty);
    tcsetattr(fd, TCSAFLUSH, &old);
    fprintf(tty, "\n");
    if (got == NULL)
        return ap_error_make(err, 0, "no password was typed");
    pw[strcspn(pw, "\r\n")] = '\0';
    return 0;
}

static int load_key(const char *path, const char *password_file, struct ap_minisign_sk *sk,
                    ap_error **err)
{
    char pw[PASSWORD_MAX + 2] = "";
    int rc = -1;
    if (password_file != NULL && ap_cmd_password_from_file(password_file, pw, sizeof(pw), err) < 0)
        goto out;
    if (ap_minisign_read_sk(path, pw[0] ? pw : NULL, sk, err) == 0) {
        rc = 0;
        goto out;
    }
    /* An encrypted key and no password yet: ask, when someone is there to answer. */
    if (password_file == NULL && strstr((*err)->msg, "encrypted") != NULL && isatty(STDIN_FILENO)) {
        ap_error_release(err);
        if (password_from_tty(path, pw, sizeof(pw), err) == 0 &&
            ap_minisign_read_sk(path, pw, sk, err) == 0)
            rc = 0;
    } else if (password_file == NULL && strstr((*err)->msg, "encrypted") != NULL) {
        ap_error_release(err);
        ap_error_make(err, 0, "%s is encrypted and no terminal is there to ask for its password",
                      path);
        ap_error_hint(err, "pass --password-file FILE (its first line is the password)");
    }
out:
    sodium_memzero(pw, sizeof(pw));
    return rc;
}

int ap_cmd_load_secret_key(const char *key, const char *password_file, struct ap_minisign_sk *sk,
                           ap_error **err)
{
    char path[4096];
    if (key != NULL) {
        if (ap_fs_path(path, sizeof(path), "%s", key) < 0)
            return ap_error_make(err, ENAMETOOLONG, "the secret key path is longer than %zu bytes",
                                 sizeof(path) - 1);
    } else if (ap_cmd_default_secret_key(path, sizeof(path), err) < 0)
        return -1;
    if (key == NULL && access(path, F_OK) < 0 && errno == ENOENT) {
        const char *env = getenv("APPLIANCE_KEY");
        ap_error_make(err, 0, "no secret key at %s%s to sign with", path,
                      env != NULL && *env != '\0' ? " ($APPLIANCE_KEY)" : "");
        return ap_error_hint(err, "make one with `appliance keygen`, or pass --key SECKEY");
    }
    return load_key(path, password_file, sk, err);
}
