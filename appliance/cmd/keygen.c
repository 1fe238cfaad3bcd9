/* appliance keygen: makes the minisign-compatible key pair that signs result archives. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../bundle/minisign.h"
#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/log.h"
#include "cmd.h"

/* Stock minisign reads at most 1023 bytes of a password; a longer one would make a key that
 * minisign cannot open. */
#define PASSWORD_MAX 1023

static void keygen_usage(FILE *out)
{
    fprintf(out,
            "Usage: appliance keygen [-p PUBKEY] [-s SECKEY] [-W] [--password-file FILE] [-f]\n"
            "\n"
            "Makes an Ed25519 key pair in minisign's formats: result archives are signed with\n"
            "the secret key, and anyone verifies them with the public key, with the appliance\n"
            "or with stock minisign (minisign -Vm FILE -p PUBKEY).\n"
            "\n"
            "Options:\n"
            "  -p, --public FILE     public key (default appliance.pub)\n"
            "  -s, --secret FILE     secret key (default $APPLIANCE_KEY, else\n"
            "                        ~/.config/appliance/appliance.key; missing directories are\n"
            "                        made with mode 0700, the key with mode 0600)\n"
            "  -W, --no-password     store the secret key unencrypted\n"
            "  --password-file FILE  encrypt it with the first line of FILE as the password\n"
            "                        (without either, the password is asked for twice on the\n"
            "                        terminal)\n"
            "  -f, --force           replace an existing key pair (signatures made with the old\n"
            "                        key no longer verify against the new public key)\n"
            "\n"
            "An encrypted key is protected as minisign does it (scrypt, 1 GiB of memory and a\n"
            "few seconds to open). The secret key is never printed.\n"
            "\n"
            "Environment:\n"
            "  APPLIANCE_KEY  the secret key's default path\n"
            "\n"
            "Exit status: 0 when the key pair was written, 1 on failure, 2 for a usage error.\n");
}

enum { O_PASSWORD_FILE = 256 };

static const struct option opts[] = {{"public", required_argument, NULL, 'p'},
                                     {"secret", required_argument, NULL, 's'},
                                     {"no-password", no_argument, NULL, 'W'},
                                     {"password-file", required_argument, NULL, O_PASSWORD_FILE},
                                     {"force", no_argument, NULL, 'f'},
                                     {"help", no_argument, NULL, 'h'},
                                     {NULL, 0, NULL, 0}};

/* Makes the directory that will hold path, when it is missing. */
static int make_parent(const char *path, mode_t mode, ap_error **err)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return 0;
    if (ap_fs_path(dir, sizeof(dir), "%.*s", (int)(slash - path), path) < 0)
        return ap_error_make(err, ENAMETOOLONG, "the directory of %s", path);
    struct stat st;
    if (stat(dir, &st) == 0)
        return 0;
    return ap_fs_mkdir_p(dir, mode, err);
}

/* The terminal's settings while echo is off, restored when a signal ends the prompt. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

static void restore_tty_and_die(int sig)
{
    if (tty_changed)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Asks for a line on the terminal with echo off. Returns its length, or -1. */
static int ask(const char *prompt, char *buf, size_t len, ap_error **err)
{
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    size_t n = 0;
    int too_long = 0;
    for (;;) {
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            fprintf(stderr, "\n");
            return ap_error_make(err, errno, "reading the password");
        }
        if (r == 0 || c == '\n')
            break;
        if (n + 1 < len)
            buf[n++] = c;
        else
            too_long = 1;
    }
    fprintf(stderr, "\n");
    while (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (too_long)
        return ap_error_make(err, 0, "the password is longer than the %zu bytes minisign reads",
                             len - 1);
    return (int)n;
}

/* Asks for the password twice on the terminal, echo off. */
static int password_from_tty(char *pw, char *again, size_t len, ap_error **err)
{
    if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
        return ap_error_make(err, errno, "reading the terminal's settings");
    struct termios quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    struct sigaction sa, old[3];
    const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = restore_tty_and_die;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &old[i]);
    int rc = 0;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) < 0) {
        rc = ap_error_make(err, errno, "turning the terminal's echo off");
    } else {
        tty_changed = 1;
        int n = ask("Password for the secret key: ", pw, len, err);
        int m = n <= 0 ? -1 : ask("Password (again): ", again, len, err);
        if (n == 0) {
            ap_error_make(err, 0, "the password is empty");
            rc = ap_error_hint(err, "pass -W for a secret key without a password");
        } else if (n < 0 || m < 0) {
            rc = -1;
        } else if (strcmp(pw, again) != 0) {
            rc = ap_error_make(err, 0, "the two passwords differ");
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        tty_changed = 0;
    }
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &old[i], NULL);
    return rc;
}

/* The options of appliance keygen; strings point into argv, sk_path is resolved (the
 * default when -s is not given). */
struct keygen_opts {
    const char *pk_path;
    char sk_path[PATH_MAX];
    const char *password_file;
    int no_password, force;
};

static int parse_keygen_opts(struct keygen_opts *k, int argc, char **argv)
{
    memset(k, 0, sizeof(*k));
    k->pk_path = "appliance.pub";
    const char *sk_opt = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "+hp:s:Wf", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            k->pk_path = optarg;
            break;
        case 's':
            sk_opt = optarg;
            break;
        case 'W':
            k->no_password = 1;
            break;
        case O_PASSWORD_FILE:
            k->password_file = optarg;
            break;
        case 'f':
            k->force = 1;
            break;
        case 'h':
            keygen_usage(stdout);
            return AP_EXIT_OK;
        default:
            return ap_cmd_usage("keygen", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return ap_cmd_usage("keygen", "unexpected argument '%s'", argv[optind]);
    if (k->no_password && k->password_file != NULL)
        return ap_cmd_usage("keygen", "give -W or --password-file, not both");
    if (*k->pk_path == '\0' || (sk_opt != NULL && *sk_opt == '\0'))
        return ap_cmd_usage("keygen", "-p and -s take a file name");
    if (!k->no_password && k->password_file == NULL && !isatty(STDIN_FILENO))
        return ap_cmd_usage("keygen",
                            "a password is needed and standard input is not a terminal to ask "
                            "for it on: pass --password-file FILE, or -W for a secret key "
                            "without a password");
    ap_error *err = NULL;
    if (sk_opt != NULL) {
        if (ap_fs_path(k->sk_path, sizeof(k->sk_path), "%s", sk_opt) < 0)
            return ap_cmd_usage("keygen", "the secret key path is too long");
    } else if (ap_cmd_default_secret_key(k->sk_path, sizeof(k->sk_path), &err) < 0) {
        return ap_cmd_fail(&err);
    }
    if (strcmp(k->sk_path, k->pk_path) == 0)
        return ap_cmd_usage("keygen", "the public and the secret key cannot both be %s",
                            k->pk_path);
    return AP_CMD_CONTINUE;
}

/* Without -f, an existing key file is never replaced. */
static int refuse_existing(const struct keygen_opts *k, ap_error **err)
{
    if (k->force)
        return 0;
    const char *paths[] = {k->sk_path, k->pk_path};
    struct stat st;
    for (size_t i = 0; i < AP_ARRAY_SIZE(paths); i++) {
        if (lstat(paths[i], &st) == 0) {
            ap_error_make(err, 0, "%s already exists; it is not replaced", paths[i]);
            return ap_error_hint(err, "pass -f to replace the key pair (what the old key signed "
                                      "then no longer verifies against the new public key), or "
                                      "choose other paths with -p and -s");
        }
    }
    return 0;
}

/* Gets the password, makes the directories and writes the key pair. */
static int make_keys(const struct keygen_opts *k, ap_error **err)
{
    char pw[PASSWORD_MAX + 1] = "", again[PASSWORD_MAX + 1] = "";
    int rc = 0;
    if (k->password_file != NULL)
        rc = ap_cmd_password_from_file(k->password_file, pw, sizeof(pw), err);
    else if (!k->no_password)
        rc = password_from_tty(pw, again, sizeof(pw), err);
    sodium_memzero(again, sizeof(again));
    if (rc == 0 &&
        (make_parent(k->sk_path, 0700, err) < 0 || make_parent(k->pk_path, 0755, err) < 0))
        rc = -1;
    if (rc == 0) {
        if (!k->no_password)
            ap_log_info("appliance keygen: deriving a key from the password (scrypt, 1 GiB, a "
                        "few seconds)...");
        rc = ap_minisign_keygen(k->pk_path, k->sk_path, k->no_password ? NULL : pw, k->force, err);
    }
    sodium_memzero(pw, sizeof(pw));
    return rc;
}

int ap_cmd_keygen(struct ap_settings *s, int argc, char **argv)
{
    (void)s;
    struct keygen_opts k;
    int rc = parse_keygen_opts(&k, argc, argv);
    if (rc != AP_CMD_CONTINUE)
        return rc;
    ap_error *err = NULL;
    if (refuse_existing(&k, &err) < 0 || make_keys(&k, &err) < 0)
        return ap_cmd_fail(&err);

    /* Read back what was written: the key id printed is the one in the file. */
    struct ap_minisign_pk pk;
    char hex[AP_MINISIGN_KEYID_HEX_LEN + 1], b64[64];
    if (ap_minisign_read_pk(k.pk_path, &pk, &err) < 0 ||
        ap_minisign_pk_base64(&pk, b64, sizeof(b64), &err) < 0)
        return ap_cmd_fail(&err);
    ap_minisign_keyid_hex(pk.keyid, hex);
    printf("public key: %s\n", k.pk_path);
    printf("key id:     %s\n", hex);
    printf("secret key: %s (%s, mode 0600; keep it private)\n", k.sk_path,
           k.no_password ? "not encrypted" : "encrypted");
    printf("verify with stock minisign:\n");
    printf("  minisign -Vm FILE -p %s\n", k.pk_path);
    printf("  minisign -Vm FILE -P %s\n", b64);
    return AP_EXIT_OK;
}
