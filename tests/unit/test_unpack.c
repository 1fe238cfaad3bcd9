/* Unpacking untrusted tar streams (image/tar.c + image/unpack.c): crafted archives that try
 * to leave the root, and a check after each that nothing appeared outside it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "image/tar.h"
#include "image/unpack.h"
#include "test.h"

/* One entry of a crafted archive. type: 'f' file, 'd' directory, 'l' symlink (target),
 * 'h' hardlink (target), 'c' character device, 'p' FIFO. */
struct spec {
    char type;
    const char *name;
    unsigned mode;
    const char *target;
    const char *data;
};

/* Writes the entries as a restricted-pax tar into out. */
static int make_tar(const struct spec *s, size_t n, struct test_buf *out)
{
    static unsigned char mem[1 << 18];
    size_t used = 0;
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_none(a);
    archive_write_set_bytes_in_last_block(a, 1);
    int rc = -1;
    if (archive_write_open_memory(a, mem, sizeof(mem), &used) != ARCHIVE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, s[i].name);
        archive_entry_set_perm(e, s[i].mode);
        archive_entry_set_mtime(e, 1735689600, 0);
        size_t size = s[i].data != NULL ? strlen(s[i].data) : 0;
        switch (s[i].type) {
        case 'f':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)size);
            break;
        case 'd':
            archive_entry_set_filetype(e, AE_IFDIR);
            break;
        case 'l':
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, s[i].target);
            break;
        case 'h':
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_hardlink(e, s[i].target);
            archive_entry_set_size(e, 0);
            break;
        case 'c':
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_rdev(e, makedev(1, 3));
            break;
        case 'p':
            archive_entry_set_filetype(e, AE_IFIFO);
            break;
        default:
            abort();
        }
        int r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
            goto out;
        if (s[i].type == 'f' && size > 0 &&
            archive_write_data(a, s[i].data, size) != (la_ssize_t)size)
            goto out;
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        goto out;
    test_buf_append(out, mem, used);
    rc = 0;
out:
    CHECK_MSG(rc == 0, "building the tar: %s", archive_error_string(a));
    archive_write_free(a);
    return rc;
}

/* A fresh "<tmp>/ap-test-unpack.XXXXXX/root": the parent holds nothing but the root, so
 * anything else that shows up there came out of the root. */
struct sandbox {
    char parent[1024], root[1100];
    int rootfd;
};

static int sandbox_open(struct sandbox *sb)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(sb->parent, sizeof(sb->parent), "%s/ap-test-unpack.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    sb->rootfd = -1;
    if (!CHECK_MSG(mkdtemp(sb->parent) != NULL, "mkdtemp: %s", strerror(errno)))
        return -1;
    snprintf(sb->root, sizeof(sb->root), "%s/root", sb->parent);
    if (!CHECK(mkdir(sb->root, 0755) == 0))
        return -1;
    sb->rootfd = open(sb->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return CHECK(sb->rootfd >= 0) ? 0 : -1;
}

/* Checks that the parent still holds only the root, then removes everything. */
static void sandbox_close(struct sandbox *sb, int line)
{
    DIR *d = opendir(sb->parent);
    if (CHECK(d != NULL)) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            CHECK_MSG(strcmp(de->d_name, "root") == 0, "line %d: \"%s\" appeared outside the root",
                      line, de->d_name);
        }
        closedir(d);
    }
    if (sb->rootfd >= 0)
        close(sb->rootfd);
    ap_error *err = NULL;
    CHECK(ap_fs_remove_tree(sb->parent, &err) == 0);
    ap_error_release(&err);
}

/* Unpacks the tar in buf under rootfd with policy p. */
static int unpack(const struct test_buf *buf, int rootfd, const struct ap_tar_policy *p,
                  ap_error **err)
{
    struct archive *a = NULL;
    if (ap_tar_open_memory(buf->data, buf->len, "test.tar", &a, err) < 0)
        return -1;
    struct ap_unpack u;
    ap_unpack_init(&u, rootfd);
    int r = ap_tar_each(a, "test.tar", p, ap_unpack_entry, &u, err);
    ap_unpack_done(&u);
    archive_read_free(a);
    return r;
}

/* Expects the archive to be refused with a message naming `name`, with nothing written
 * outside a fresh root. */
static void refused(const struct spec *s, size_t n, const struct ap_tar_policy *p, const char *name,
                    int line)
{
    struct sandbox sb;
    struct test_buf buf = {0};
    if (sandbox_open(&sb) == 0 && make_tar(s, n, &buf) == 0) {
        ap_error *err = NULL;
        int r = unpack(&buf, sb.rootfd, p, &err);
        CHECK_MSG(r == -1, "line %d: archive with \"%s\" accepted", line, name);
        CHECK_MSG(test_contains(err ? err->msg : NULL, name), "line %d: \"%s\" not in: %s", line,
                  name, err ? err->msg : "(none)");
        ap_error_release(&err);
    }
    sandbox_close(&sb, line);
    test_buf_free(&buf);
}

static struct ap_tar_policy plain_policy(void)
{
    struct ap_tar_policy p;
    ap_tar_default_policy(&p, 0);
    return p;
}

/* Reads a file under rootfd into buf (NUL-terminated) without following symlinks. */
static int read_at(int rootfd, const char *path, char *buf, size_t len)
{
    int fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static unsigned mode_at(int rootfd, const char *path)
{
    struct stat st;
    if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0xffffffffu;
    return (unsigned)st.st_mode;
}

TEST(normal_tree_unpacks)
{
    static const struct spec s[] = {
        {'d', "./", 0755, NULL, NULL},
        {'d', "./etc/", 0755, NULL, NULL},
        {'f', "./etc/hostname", 0644, NULL, "appliance\n"},
        {'d', "./usr/", 0755, NULL, NULL},
        {'d', "./usr/bin/", 0755, NULL, NULL},
        {'f', "./usr/bin/tool", 04755, NULL, "#!/bin/true\n"},
        {'h', "./usr/bin/tool2", 0755, "./usr/bin/tool", NULL},
        {'l', "./usr/bin/rel", 0777, "tool", NULL},
        {'l', "./usr/bin/abs", 0777, "/usr/bin/tool", NULL},
        {'f', "./usr/share/doc/x/empty", 0600, NULL, NULL}, /* parents created on the way */
        {'f', "./etc/hostname", 0640, NULL, "replaced\n"},  /* a later file replaces */
    };
    struct sandbox sb;
    struct test_buf buf = {0};
    if (sandbox_open(&sb) == 0 && make_tar(s, AP_ARRAY_SIZE(s), &buf) == 0) {
        struct ap_tar_policy p = plain_policy();
        ap_error *err = NULL;
        int r = unpack(&buf, sb.rootfd, &p, &err);
        CHECK_MSG(r == 0, "%s", err ? err->msg : "?");
        ap_error_release(&err);
        char data[256];
        CHECK(read_at(sb.rootfd, "etc/hostname", data, sizeof(data)) == 0 &&
              strcmp(data, "replaced\n") == 0);
        CHECK(mode_at(sb.rootfd, "etc/hostname") == (S_IFREG | 0640));
        CHECK(mode_at(sb.rootfd, "etc") == (S_IFDIR | 0755));
        CHECK(read_at(sb.rootfd, "usr/bin/tool", data, sizeof(data)) == 0 &&
              strcmp(data, "#!/bin/true\n") == 0);
        CHECK_MSG(mode_at(sb.rootfd, "usr/bin/tool") == (S_IFREG | 04755), "mode %o",
                  mode_at(sb.rootfd, "usr/bin/tool"));
        struct stat a, b;
        CHECK(fstatat(sb.rootfd, "usr/bin/tool", &a, AT_SYMLINK_NOFOLLOW) == 0 &&
              fstatat(sb.rootfd, "usr/bin/tool2", &b, AT_SYMLINK_NOFOLLOW) == 0 &&
              a.st_ino == b.st_ino && a.st_nlink == 2);
        char link[256];
        ssize_t n = readlinkat(sb.rootfd, "usr/bin/rel", link, sizeof(link) - 1);
        CHECK(n == 4 && memcmp(link, "tool", 4) == 0);
        n = readlinkat(sb.rootfd, "usr/bin/abs", link, sizeof(link) - 1);
        CHECK(n == 13 && memcmp(link, "/usr/bin/tool", 13) == 0);
        CHECK(mode_at(sb.rootfd, "usr/share/doc/x/empty") == (S_IFREG | 0600));
        CHECK(mode_at(sb.rootfd, "usr/share/doc") == (S_IFDIR | 0755));
    }
    sandbox_close(&sb, __LINE__);
    test_buf_free(&buf);
}

TEST(names_leaving_the_root_are_refused)
{
    struct ap_tar_policy p = plain_policy();
    static const struct spec dotdot[] = {{'f', "../escape", 0644, NULL, "x"}};
    refused(dotdot, 1, &p, "../escape", __LINE__);
    static const struct spec abs[] = {{'f', "/etc/abs", 0644, NULL, "x"}};
    refused(abs, 1, &p, "/etc/abs", __LINE__);
    static const struct spec inner[] = {{'d', "a/", 0755, NULL, NULL},
                                        {'f', "a/../../x", 0644, NULL, "x"}};
    refused(inner, 2, &p, "a/../../x", __LINE__);
    static const struct spec dir[] = {{'d', "../up/", 0755, NULL, NULL}};
    refused(dir, 1, &p, "../up/", __LINE__);
}

TEST(escaping_links_are_refused)
{
    struct ap_tar_policy p = plain_policy();
    static const struct spec rel[] = {{'l', "evil", 0777, "../../../etc", NULL}};
    refused(rel, 1, &p, "evil", __LINE__);
    static const struct spec deep[] = {{'d', "a/", 0755, NULL, NULL},
                                       {'l', "a/evil", 0777, "../../etc", NULL}};
    refused(deep, 2, &p, "a/evil", __LINE__);
    static const struct spec abs[] = {{'l', "evil", 0777, "/../../x", NULL}};
    refused(abs, 1, &p, "evil", __LINE__);
    static const struct spec empty[] = {{'l', "evil", 0777, "", NULL}};
    refused(empty, 1, &p, "evil", __LINE__);
    static const struct spec hard[] = {{'h', "link", 0644, "../outside", NULL}};
    refused(hard, 1, &p, "link", __LINE__);
    static const struct spec hard_abs[] = {{'h', "link", 0644, "/etc/passwd", NULL}};
    refused(hard_abs, 1, &p, "link", __LINE__);
    /* A hardlink to something the archive never unpacked (here: a directory). */
    static const struct spec hard_dir[] = {{'d', "d/", 0755, NULL, NULL},
                                           {'h', "link", 0644, "d", NULL}};
    refused(hard_dir, 2, &p, "link", __LINE__);
}

TEST(special_files_are_refused)
{
    struct ap_tar_policy p = plain_policy();
    static const struct spec chr[] = {{'c', "dev-null", 0666, NULL, NULL}};
    refused(chr, 1, &p, "dev-null", __LINE__);
    static const struct spec fifo[] = {{'p', "a-fifo", 0644, NULL, NULL}};
    refused(fifo, 1, &p, "a-fifo", __LINE__);
}

TEST(policy_bounds_are_enforced)
{
    struct ap_tar_policy p = plain_policy();
    p.max_entry = 16;
    static const struct spec big[] = {{'f', "small", 0644, NULL, "0123456789abcdef"},
                                      {'f', "too-big", 0644, NULL, "0123456789abcdefg"}};
    refused(big, 2, &p, "too-big", __LINE__);

    p = plain_policy();
    p.max_total = 20;
    static const struct spec total[] = {{'f', "one", 0644, NULL, "0123456789"},
                                        {'f', "two", 0644, NULL, "0123456789"},
                                        {'f', "three", 0644, NULL, "0"}};
    refused(total, 3, &p, "three", __LINE__);

    p = plain_policy();
    p.max_entries = 2;
    static const struct spec many[] = {{'d', "a/", 0755, NULL, NULL},
                                       {'d', "b/", 0755, NULL, NULL},
                                       {'d', "c/", 0755, NULL, NULL}};
    refused(many, 3, &p, "more than 2 entries", __LINE__);
}

TEST(never_writes_through_a_symlink)
{
    struct sandbox sb;
    if (sandbox_open(&sb) < 0) {
        sandbox_close(&sb, __LINE__);
        return;
    }
    /* An absolute target is allowed (it resolves inside the root when the image runs), but on
     * the build host it points at the sandbox's parent, outside the root. */
    struct spec s[] = {{'l', "d", 0777, sb.parent, NULL}, {'f', "d/file", 0644, NULL, "owned\n"}};
    struct test_buf buf = {0};
    if (make_tar(s, AP_ARRAY_SIZE(s), &buf) == 0) {
        struct ap_tar_policy p = plain_policy();
        ap_error *err = NULL;
        CHECK(unpack(&buf, sb.rootfd, &p, &err) == -1);
        CHECK_MSG(test_contains(err ? err->msg : NULL, "d/file"), "%s", err ? err->msg : "(none)");
        ap_error_release(&err);
        CHECK(S_ISLNK(mode_at(sb.rootfd, "d")));
    }
    test_buf_free(&buf);

    /* The same through a directory entry and a hardlink, after the link is in place. */
    struct spec s2[] = {{'l', "d", 0777, sb.parent, NULL}, {'d', "d/sub/", 0755, NULL, NULL}};
    struct spec s3[] = {{'f', "f", 0644, NULL, "x"},
                        {'l', "d", 0777, sb.parent, NULL},
                        {'h', "d/hard", 0644, "f", NULL}};
    /* Case 2 unpacks into root/case2, so "d/root/case2/x" reaches its own x through d. */
    struct spec s4[] = {{'l', "d", 0777, sb.parent, NULL},
                        {'f', "x", 0644, NULL, "x"},
                        {'h', "y", 0644, "d/root/case2/x", NULL}};
    const struct {
        struct spec *s;
        size_t n;
        const char *name;
    } cases[] = {{s2, 2, "d/sub/"}, {s3, 3, "d/hard"}, {s4, 3, "\"y\""}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(cases); i++) {
        struct test_buf b = {0};
        char root2[1200];
        snprintf(root2, sizeof(root2), "%s/root/case%zu", sb.parent, i);
        if (CHECK(mkdir(root2, 0755) == 0) && make_tar(cases[i].s, cases[i].n, &b) == 0) {
            int fd = open(root2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            struct ap_tar_policy p = plain_policy();
            ap_error *err = NULL;
            CHECK_MSG(unpack(&b, fd, &p, &err) == -1, "case %zu accepted", i);
            CHECK_MSG(test_contains(err ? err->msg : NULL, cases[i].name), "case %zu: %s", i,
                      err ? err->msg : "(none)");
            ap_error_release(&err);
            close(fd);
        }
        test_buf_free(&b);
    }
    sandbox_close(&sb, __LINE__);
}

TEST(a_directory_is_never_replaced_by_a_file)
{
    static const struct spec s[] = {{'d', "etc/", 0755, NULL, NULL},
                                    {'f', "etc/keep", 0644, NULL, "x"},
                                    {'f', "etc", 0644, NULL, "flat"}};
    struct ap_tar_policy p = plain_policy();
    refused(s, AP_ARRAY_SIZE(s), &p, "\"etc\"", __LINE__);
}

TEST(merged_usr_policy)
{
    static const struct spec s[] = {
        {'d', "./", 0755, NULL, NULL},
        {'d', "./bin/", 0755, NULL, NULL},
        {'f', "./bin/sh", 0755, NULL, "#!sh\n"},
        {'d', "./lib64", 0755, NULL, NULL},
        {'l', "./lib64", 0777, "usr/lib64", NULL},
        {'f', "./lib64/ld.so", 0755, NULL, "ld"},
        {'d', "./binx/", 0755, NULL, NULL},
        {'l', "./sbin/halt", 0777, "/bin/true", NULL},
    };
    struct sandbox sb;
    struct test_buf buf = {0};
    if (sandbox_open(&sb) == 0 && make_tar(s, AP_ARRAY_SIZE(s), &buf) == 0) {
        struct ap_tar_policy p;
        ap_tar_default_policy(&p, 1);
        ap_error *err = NULL;
        int r = unpack(&buf, sb.rootfd, &p, &err);
        CHECK_MSG(r == 0, "%s", err ? err->msg : "?");
        ap_error_release(&err);
        char data[64];
        CHECK(read_at(sb.rootfd, "usr/bin/sh", data, sizeof(data)) == 0 &&
              strcmp(data, "#!sh\n") == 0);
        CHECK(mode_at(sb.rootfd, "bin") == 0xffffffffu);
        CHECK(mode_at(sb.rootfd, "lib64") == 0xffffffffu);
        CHECK(read_at(sb.rootfd, "usr/lib64/ld.so", data, sizeof(data)) == 0 &&
              strcmp(data, "ld") == 0);
        CHECK(S_ISDIR(mode_at(sb.rootfd, "binx")));
        CHECK(S_ISLNK(mode_at(sb.rootfd, "usr/sbin/halt")));
    }
    sandbox_close(&sb, __LINE__);
    test_buf_free(&buf);
}

TEST(skeleton)
{
    struct sandbox sb;
    if (sandbox_open(&sb) == 0) {
        ap_error *err = NULL;
        CHECK_MSG(ap_unpack_skeleton(sb.rootfd, &err) == 0, "%s", err ? err->msg : "?");
        ap_error_release(&err);
        char link[64];
        ssize_t n = readlinkat(sb.rootfd, "bin", link, sizeof(link) - 1);
        CHECK(n == 7 && memcmp(link, "usr/bin", 7) == 0);
        CHECK(mode_at(sb.rootfd, "tmp") == (S_IFDIR | 01777));
        CHECK(mode_at(sb.rootfd, "root") == (S_IFDIR | 0700));
        /* Then a package's ./bin/ls lands in usr/bin through the skeleton's real directory. */
        static const struct spec s[] = {{'f', "./bin/ls", 0755, NULL, "ls"}};
        struct test_buf buf = {0};
        struct ap_tar_policy p;
        ap_tar_default_policy(&p, 1);
        if (make_tar(s, 1, &buf) == 0) {
            CHECK_MSG(unpack(&buf, sb.rootfd, &p, &err) == 0, "%s", err ? err->msg : "?");
            ap_error_release(&err);
            CHECK(S_ISREG(mode_at(sb.rootfd, "usr/bin/ls")));
        }
        test_buf_free(&buf);
    }
    sandbox_close(&sb, __LINE__);
}
