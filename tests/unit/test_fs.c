/* Files (core/fs.c): atomic writes that leave either the old or the whole new file and never a
 * temporary; path builders that refuse what does not fit instead of cutting it; bounded reads. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "test.h"

static char tmpdir[4096];

/* A fresh directory under tmpdir for one test; its path goes into buf. */
static int fresh_dir(const char *name, char *buf, size_t len)
{
    ap_error *err = NULL;
    if (ap_fs_path(buf, len, "%s/%s", tmpdir, name) < 0 || ap_fs_mkdir_p(buf, 0700, &err) < 0) {
        test_note("making %s: %s", name, err ? err->msg : "too long");
        ap_error_release(&err);
        return -1;
    }
    return 0;
}

/* The number of entries in dir other than "." and "..", and the first such name into first. */
static int count_entries(const char *dir, char *first, size_t len)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n++ == 0 && first != NULL)
            snprintf(first, len, "%s", de->d_name);
    }
    closedir(d);
    return n;
}

/* The whole file, NUL-terminated (caller frees), or NULL. */
static char *slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    ap_error *err = NULL;
    if (ap_fs_read_file(AT_FDCWD, path, 1 << 20, &buf, len, &err) < 0) {
        ap_error_release(&err);
        return NULL;
    }
    return buf;
}

static int setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_fs.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}
TEST_SETUP(setup)

TEST(atomic_write_creates_the_file_with_its_mode_and_nothing_else)
{
    char dir[4200], path[4300], first[256] = "";
    if (fresh_dir("create", dir, sizeof(dir)) < 0 ||
        ap_fs_path(path, sizeof(path), "%s/out.json", dir) < 0)
        return;
    ap_error *err = NULL;
    const char data[] = "{\"a\":1}\n";
    if (!CHECK_MSG(ap_fs_write_atomic(path, data, sizeof(data) - 1, 0640, &err) == 0, "%s",
                   err ? err->msg : "")) {
        ap_error_release(&err);
        return;
    }
    CHECK(err == NULL);
    size_t len = 0;
    cleanup_free char *got = slurp(path, &len);
    CHECK(got != NULL && len == sizeof(data) - 1 && memcmp(got, data, len) == 0);
    struct stat st;
    /* The mode is set with fchmod, so the umask does not change it. */
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
    CHECK_MSG(count_entries(dir, first, sizeof(first)) == 1 && strcmp(first, "out.json") == 0,
              "the directory holds %d entries, first \"%s\"", count_entries(dir, NULL, 0), first);
}

TEST(atomic_write_replaces_an_existing_file_whole)
{
    char dir[4200], path[4300], link_path[4300];
    if (fresh_dir("replace", dir, sizeof(dir)) < 0 ||
        ap_fs_path(path, sizeof(path), "%s/f", dir) < 0 ||
        ap_fs_path(link_path, sizeof(link_path), "%s/old", dir) < 0)
        return;
    ap_error *err = NULL;
    char old[8192];
    memset(old, 'o', sizeof(old));
    CHECK(ap_fs_write_atomic(path, old, sizeof(old), 0644, &err) == 0);
    /* A second name for the old inode shows whether the old file was written over in place. */
    CHECK(link(path, link_path) == 0);
    struct stat before, after;
    CHECK(stat(path, &before) == 0);

    const char fresh[] = "short";
    CHECK(ap_fs_write_atomic(path, fresh, sizeof(fresh) - 1, 0600, &err) == 0);
    ap_error_release(&err);
    size_t len = 0;
    cleanup_free char *got = slurp(path, &len);
    CHECK_MSG(got != NULL && len == sizeof(fresh) - 1 && memcmp(got, fresh, len) == 0,
              "%zu bytes after the rewrite, want %zu", len, sizeof(fresh) - 1);
    CHECK(stat(path, &after) == 0 && after.st_ino != before.st_ino);
    CHECK((after.st_mode & 07777) == 0600);
    size_t old_len = 0;
    cleanup_free char *kept = slurp(link_path, &old_len);
    CHECK_MSG(kept != NULL && old_len == sizeof(old) && kept[0] == 'o' && kept[old_len - 1] == 'o',
              "the old inode holds %zu bytes", old_len);
    CHECK(count_entries(dir, NULL, 0) == 2);
}

/* Writes len bytes to path with the file size limit at limit bytes, as a full disk would stop
 * the write half-way. Returns what ap_fs_write_atomic returned. */
static int write_with_size_limit(const char *path, size_t len, rlim_t limit, ap_error **err)
{
    struct rlimit saved, lim;
    if (getrlimit(RLIMIT_FSIZE, &saved) < 0)
        return ap_error_make(err, errno, "getrlimit");
    lim = saved;
    lim.rlim_cur = limit;
    /* Past the limit write() fails with EFBIG instead of the signal killing us. */
    void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &lim) < 0) {
        signal(SIGXFSZ, old);
        return ap_error_make(err, errno, "setrlimit");
    }
    char *data = malloc(len);
    int rc = -1;
    if (data != NULL) {
        memset(data, 'x', len);
        rc = ap_fs_write_atomic(path, data, len, 0644, err);
        free(data);
    }
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old);
    return rc;
}

TEST(a_failed_write_leaves_no_file_and_no_temporary)
{
    char dir[4200], path[4300];
    if (fresh_dir("fail-new", dir, sizeof(dir)) < 0 ||
        ap_fs_path(path, sizeof(path), "%s/big", dir) < 0)
        return;
    ap_error *err = NULL;
    CHECK(write_with_size_limit(path, 100000, 4096, &err) == -1);
    if (CHECK(err != NULL)) {
        CHECK_MSG(err->status == EFBIG, "status %d (%s)", err->status, err->msg);
        CHECK_MSG(test_contains(err->msg, "writing") && test_contains(err->msg, dir), "%s",
                  err->msg);
    }
    ap_error_release(&err);
    CHECK(access(path, F_OK) < 0 && errno == ENOENT);
    char first[256] = "";
    CHECK_MSG(count_entries(dir, first, sizeof(first)) == 0, "left behind: %s", first);

    /* Control: the same write under a limit it fits in succeeds. */
    CHECK(write_with_size_limit(path, 1000, 4096, &err) == 0);
    ap_error_release(&err);
    CHECK(access(path, F_OK) == 0);
}

TEST(a_failed_write_keeps_the_old_file_intact)
{
    char dir[4200], path[4300];
    if (fresh_dir("fail-old", dir, sizeof(dir)) < 0 ||
        ap_fs_path(path, sizeof(path), "%s/keep", dir) < 0)
        return;
    ap_error *err = NULL;
    const char old[] = "the old content\n";
    CHECK(ap_fs_write_atomic(path, old, sizeof(old) - 1, 0644, &err) == 0);
    CHECK(write_with_size_limit(path, 100000, 4096, &err) == -1);
    ap_error_release(&err);
    size_t len = 0;
    cleanup_free char *got = slurp(path, &len);
    CHECK_MSG(got != NULL && len == sizeof(old) - 1 && memcmp(got, old, len) == 0,
              "after a failed write the file holds %zu bytes", len);
    CHECK(count_entries(dir, NULL, 0) == 1);
}

TEST(a_failed_rename_leaves_no_temporary)
{
    /* The final name is a directory that is not empty: the rename fails after the temporary
     * file was written in full. */
    char dir[4200], path[4300], inner[4400];
    if (fresh_dir("fail-rename", dir, sizeof(dir)) < 0 ||
        ap_fs_path(path, sizeof(path), "%s/target", dir) < 0 ||
        ap_fs_path(inner, sizeof(inner), "%s/target/inside", dir) < 0)
        return;
    ap_error *err = NULL;
    CHECK(ap_fs_mkdir_p(inner, 0700, &err) == 0);
    CHECK(ap_fs_write_atomic(path, "x", 1, 0644, &err) == -1);
    if (CHECK(err != NULL))
        CHECK_MSG(test_contains(err->msg, "renaming") && err->status != 0, "%s", err->msg);
    ap_error_release(&err);
    struct stat st;
    CHECK(stat(inner, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(count_entries(dir, NULL, 0) == 1);
}

TEST(an_atomic_write_to_a_too_long_path_is_an_error)
{
    char dir[4200];
    if (fresh_dir("long", dir, sizeof(dir)) < 0)
        return;
    /* Fits PATH_MAX by itself, but not with the temporary suffix. */
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/", dir);
    memset(path + n, 'a', sizeof(path) - 1 - (size_t)n - 4);
    path[sizeof(path) - 5] = '\0';
    ap_error *err = NULL;
    CHECK(ap_fs_write_atomic(path, "x", 1, 0644, &err) == -1);
    if (CHECK(err != NULL))
        CHECK_MSG(err->status == ENAMETOOLONG, "status %d: %s", err->status, err->msg);
    ap_error_release(&err);
    CHECK(count_entries(dir, NULL, 0) == 0);
}

TEST(path_joins_what_fits)
{
    char buf[32];
    CHECK(ap_fs_path(buf, sizeof(buf), "%s/%s", "images", "go-1.23") == 0);
    CHECK(strcmp(buf, "images/go-1.23") == 0);
    /* Exactly len - 1 characters fit (the NUL takes the last byte). */
    char exact[16];
    CHECK(ap_fs_path(exact, sizeof(exact), "%s/%s", "abcdefg", "hijklmn") == 0);
    CHECK(strlen(exact) == sizeof(exact) - 1);
}

TEST(path_too_long_is_an_error_not_a_cut_path)
{
    char buf[16];
    errno = 0;
    CHECK(ap_fs_path(buf, sizeof(buf), "%s/%s", "abcdefgh", "ijklmnop") == -1);
    CHECK(errno == ENAMETOOLONG);
    errno = 0;
    CHECK(ap_fs_path(buf, 0, "%s", "") == -1);
    CHECK(errno == ENAMETOOLONG);

    char big[PATH_MAX + 10];
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char out[PATH_MAX];
    CHECK(ap_fs_path(out, sizeof(out), "%s", big) == -1);
}

TEST(dirname_of_each_kind_of_path)
{
    char dir[64];
    CHECK(ap_fs_dirname("build/images/go/index.json", dir, sizeof(dir)) == 0);
    CHECK(strcmp(dir, "build/images/go") == 0);
    CHECK(ap_fs_dirname("index.json", dir, sizeof(dir)) == 0);
    CHECK(strcmp(dir, ".") == 0);
    CHECK(ap_fs_dirname("/vmlinuz", dir, sizeof(dir)) == 0);
    CHECK(strcmp(dir, "/") == 0);
    /* The folder part must fit whole. */
    char small[4];
    CHECK(ap_fs_dirname("abcd/x", small, sizeof(small)) == -1);
    CHECK(ap_fs_dirname("abc/x", small, sizeof(small)) == 0 && strcmp(small, "abc") == 0);
    CHECK(ap_fs_dirname("x", small, 1) == -1);
}

TEST(mkdir_p_refuses_a_too_long_path)
{
    char path[PATH_MAX + 16];
    int n = snprintf(path, sizeof(path), "%s/", tmpdir);
    memset(path + n, 'd', sizeof(path) - 1 - (size_t)n);
    path[sizeof(path) - 1] = '\0';
    ap_error *err = NULL;
    CHECK(ap_fs_mkdir_p(path, 0700, &err) == -1);
    if (CHECK(err != NULL))
        CHECK_MSG(err->status == ENAMETOOLONG, "status %d: %s", err->status, err->msg);
    ap_error_release(&err);
}

TEST(read_file_refuses_more_than_max)
{
    char dir[4200], path[4300];
    if (fresh_dir("read", dir, sizeof(dir)) < 0 ||
        ap_fs_path(path, sizeof(path), "%s/ten", dir) < 0)
        return;
    ap_error *err = NULL;
    CHECK(ap_fs_write_atomic(path, "0123456789", 10, 0644, &err) == 0);
    char *buf = NULL;
    size_t len = 0;
    CHECK(ap_fs_read_file(AT_FDCWD, path, 9, &buf, &len, &err) == -1);
    CHECK(buf == NULL);
    if (CHECK(err != NULL))
        CHECK_MSG(test_contains(err->msg, "more than the 9 allowed"), "%s", err->msg);
    ap_error_release(&err);
    /* Control: a limit of exactly the size reads it, NUL-terminated. */
    CHECK(ap_fs_read_file(AT_FDCWD, path, 10, &buf, &len, &err) == 0);
    CHECK(buf != NULL && len == 10 && buf[10] == '\0' && strcmp(buf, "0123456789") == 0);
    free(buf);
    buf = NULL;
    CHECK(ap_fs_read_file(AT_FDCWD, dir, 1 << 20, &buf, &len, &err) == -1);
    if (CHECK(err != NULL))
        CHECK_MSG(test_contains(err->msg, "not a regular file"), "%s", err->msg);
    ap_error_release(&err);
}

TEST(read_to_end_whole_refuses_a_longer_stream)
{
    int fds[2];
    if (!CHECK(pipe(fds) == 0))
        return;
    CHECK(write(fds[1], "abcdefgh", 8) == 8);
    close(fds[1]);
    char buf[8];
    ap_error *err = NULL;
    CHECK(ap_fs_read_to_end(fds[0], "pipe", buf, sizeof(buf), 1, &err) == -1);
    if (CHECK(err != NULL))
        CHECK_MSG(test_contains(err->msg, "larger than the 7 bytes"), "%s", err->msg);
    ap_error_release(&err);
    close(fds[0]);

    /* Without whole, the first len - 1 bytes are read and the rest left. */
    if (!CHECK(pipe(fds) == 0))
        return;
    CHECK(write(fds[1], "abcdefgh", 8) == 8);
    close(fds[1]);
    CHECK(ap_fs_read_to_end(fds[0], "pipe", buf, sizeof(buf), 0, &err) == 7);
    CHECK(strcmp(buf, "abcdefg") == 0);
    close(fds[0]);
}

TEST(list_names_sorts_skips_hidden_and_keeps_marked_folders)
{
    char dir[4200], p[4300];
    if (fresh_dir("list", dir, sizeof(dir)) < 0)
        return;
    ap_error *err = NULL;
    /* zeta and alpha hold the marker; beta has none; gamma's marker is a folder; .hidden has
     * one but is hidden; plain is a file. */
    const char *made[] = {"zeta/workload.json", "alpha/workload.json", ".hidden/workload.json",
                          "plain"};
    for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
        char d[4300];
        if (ap_fs_path(p, sizeof(p), "%s/%s", dir, made[i]) < 0 ||
            ap_fs_dirname(p, d, sizeof(d)) < 0 || ap_fs_mkdir_p(d, 0700, &err) < 0 ||
            ap_fs_write_atomic(p, "{}", 2, 0644, &err) < 0) {
            CHECK_MSG(0, "making %s: %s", made[i], err ? err->msg : "too long");
            ap_error_release(&err);
            return;
        }
    }
    if (ap_fs_path(p, sizeof(p), "%s/beta", dir) < 0 || ap_fs_mkdir_p(p, 0700, &err) < 0 ||
        ap_fs_path(p, sizeof(p), "%s/gamma/workload.json", dir) < 0 ||
        ap_fs_mkdir_p(p, 0700, &err) < 0) {
        CHECK_MSG(0, "making beta and gamma: %s", err ? err->msg : "too long");
        ap_error_release(&err);
        return;
    }
    char **names = NULL;
    size_t n = 0;
    CHECK(ap_fs_list_names(dir, "workload.json", 0, &names, &n, &err) == 0);
    if (CHECK_MSG(n == 2, "%zu marked folders", n))
        CHECK(strcmp(names[0], "alpha") == 0 && strcmp(names[1], "zeta") == 0);
    ap_fs_names_free(names, n);
    /* Control: without a marker every name but the hidden one, sorted. */
    CHECK(ap_fs_list_names(dir, NULL, 0, &names, &n, &err) == 0);
    if (CHECK_MSG(n == 5, "%zu names", n))
        CHECK(strcmp(names[0], "alpha") == 0 && strcmp(names[1], "beta") == 0 &&
              strcmp(names[2], "gamma") == 0 && strcmp(names[3], "plain") == 0 &&
              strcmp(names[4], "zeta") == 0);
    ap_fs_names_free(names, n);
}

TEST(list_names_of_a_missing_folder_is_an_error_unless_asked_otherwise)
{
    char dir[4200];
    if (fresh_dir("list-missing", dir, sizeof(dir)) < 0)
        return;
    char gone[4300];
    if (ap_fs_path(gone, sizeof(gone), "%s/gone", dir) < 0)
        return;
    char **names = (char **)1;
    size_t n = 7;
    ap_error *err = NULL;
    CHECK(ap_fs_list_names(gone, NULL, 0, &names, &n, &err) == -1);
    CHECK(names == NULL && n == 0);
    if (CHECK(err != NULL))
        CHECK_MSG(err->status == ENOENT && test_contains(err->msg, "listing") &&
                      test_contains(err->msg, "gone"),
                  "%s", err->msg);
    ap_error_release(&err);
    CHECK(ap_fs_list_names(gone, NULL, AP_FS_LIST_MISSING_EMPTY, &names, &n, &err) == 0);
    CHECK(names == NULL && n == 0 && err == NULL);
    /* A file is not a missing folder: the flag does not hide it. */
    char file[4300];
    if (ap_fs_path(file, sizeof(file), "%s/file", dir) < 0 ||
        ap_fs_write_atomic(file, "x", 1, 0644, &err) < 0)
        return;
    CHECK(ap_fs_list_names(file, NULL, AP_FS_LIST_MISSING_EMPTY, &names, &n, &err) == -1);
    if (CHECK(err != NULL))
        CHECK_MSG(err->status == ENOTDIR, "%s", err->msg);
    ap_error_release(&err);
}

TEST(cleanup_removes_the_test_tree)
{
    ap_error *err = NULL;
    CHECK(ap_fs_remove_tree(tmpdir, &err) == 0);
    CHECK(access(tmpdir, F_OK) < 0 && errno == ENOENT);
    ap_error_release(&err);
}
