/* The end of `pack`: the finished archive signed (and the signature checked with the public
 * half of the key), then both put under their final names. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fs.h"
#include "pack.h"

/* The archive's file: anonymous (O_TMPFILE) where the file system allows it, so a process
 * killed while writing leaves nothing behind; else a hidden temporary name. */
int ap_pack_open_output(const char *out_dir, int outfd, const char *id, char *tmp, size_t len,
                        ap_error **err)
{
    tmp[0] = '\0';
    int fd = openat(outfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
            return ap_error_make(err, errno, "creating the archive in %s", out_dir);
        if (ap_fs_path(tmp, len, "%s/.%s.tar.zst.XXXXXX", out_dir, id) < 0)
            return ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
            int saved = errno;
            tmp[0] = '\0';
            return ap_error_make(err, saved, "creating the archive in %s", out_dir);
        }
    }
    if (fchmod(fd, 0644) < 0) {
        int saved = errno;
        close(fd);
        if (tmp[0] != '\0')
            unlink(tmp);
        tmp[0] = '\0';
        return ap_error_make(err, saved, "creating the archive in %s", out_dir);
    }
    return fd;
}

/* Signs the archive at path into sig_tmp and checks the signature right away with the public
 * half of the key. */
static int sign(const struct ap_minisign_sk *sk, const char *path, const char *sig_tmp,
                const char *comment, ap_error **err)
{
    if (ap_minisign_sign(sk, path, comment, AP_ARCHIVE_UNTRUSTED_COMMENT, sig_tmp, err) < 0)
        return ap_error_wrap(err, "signing %s", path);
    struct ap_minisign_pk pk;
    ap_minisign_sk_public(sk, &pk);
    char trusted[AP_MINISIGN_COMMENT_MAX + 1];
    if (ap_minisign_verify(&pk, path, sig_tmp, trusted, sizeof(trusted), err) < 0)
        return ap_error_wrap(err, "checking the signature just made");
    if (strcmp(trusted, comment) != 0)
        return ap_error_make(err, 0,
                             "checking the signature just made: its trusted comment "
                             "differs from the one signed");
    return 0;
}

/* Gives the finished archive (and its signature) their final names. The old signature goes
 * first: at no moment does a signature sit beside an archive it does not belong to. */
int ap_pack_publish(const struct ap_pack_opts *o, const char *out_dir, int outfd, int fd, char *tmp,
                    size_t tmplen, struct ap_pack_result *res, ap_error **err)
{
    char sig_tmp[4096] = "", comment[AP_MINISIGN_COMMENT_MAX];
    const char *base = strrchr(res->archive, '/') + 1;
    int rc = -1;
    if (tmp[0] == '\0') {
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (ap_fs_path(tmp, tmplen, "%s/.%s.%ld.part", out_dir, base, (long)getpid()) < 0) {
            ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
            tmp[0] = '\0';
            goto out;
        }
        unlink(tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0 &&
            linkat(fd, "", AT_FDCWD, tmp, AT_EMPTY_PATH) < 0) {
            ap_error_make(err, errno, "naming the archive %s", tmp);
            tmp[0] = '\0';
            goto out;
        }
    }
    if (o->sk != NULL) {
        snprintf(comment, sizeof(comment), "appliance run %s sha256:%s", res->run_id, res->sha256);
        if (ap_fs_path(sig_tmp, sizeof(sig_tmp), "%s/.%s.minisig.%ld.part", out_dir, base,
                       (long)getpid()) < 0) {
            ap_error_make(err, ENAMETOOLONG, "%s", out_dir);
            sig_tmp[0] = '\0';
            goto out;
        }
        if (sign(o->sk, tmp, sig_tmp, comment, err) < 0)
            goto out;
    }
    char sig_base[512];
    if (ap_fs_path(sig_base, sizeof(sig_base), "%s.minisig", base) < 0) {
        ap_error_make(err, ENAMETOOLONG, "the signature of %.64s... in %.64s...", base, out_dir);
        goto out;
    }
    if (unlinkat(outfd, sig_base, 0) < 0 && errno != ENOENT) {
        ap_error_make(err, errno, "removing the old %s/%s", out_dir, sig_base);
        goto out;
    }
    if (rename(tmp, res->archive) < 0) {
        ap_error_make(err, errno, "renaming %s to %s", tmp, res->archive);
        goto out;
    }
    tmp[0] = '\0';
    if (o->sk != NULL) {
        if (rename(sig_tmp, res->signature) < 0) {
            ap_error_make(err, errno, "renaming %s to %s", sig_tmp, res->signature);
            goto out;
        }
        sig_tmp[0] = '\0';
    }
    if (fsync(outfd) < 0) {
        ap_error_make(err, errno, "syncing %s", out_dir);
        goto out;
    }
    rc = 0;
out:
    if (tmp[0] != '\0')
        unlink(tmp);
    if (sig_tmp[0] != '\0')
        unlink(sig_tmp);
    return rc;
}
