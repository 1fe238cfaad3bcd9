/* Deterministic layers (image/layer.c): a golden layer built in memory, read back entry by
 * entry, and the same tree written from a directory on disk. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/hash.h"
#include "image/layer.h"
#include "test.h"

#define MTIME INT64_C(1735689600) /* 2025-01-01T00:00:00Z */

/* Pins the layer format: any change in the bytes of the golden layer changes this digest.
 * When the change is intended, update it together with a note on why the bytes changed. */
#define GOLDEN_DIGEST "9cd712150c192dbb8e395da0bbf17e8cab8a6aca59bde366510e79a5c206a271"

static const char hostname_data[] = "appliance\n";
static const unsigned char tool_data[] = {'#',  '!',  't',  'o',  'o',  'l',  '\n',
                                          0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, '\n'};

struct golden_entry {
    enum ap_entry_type type;
    const char *path;
    unsigned mode;
    const char *link;
    const void *data;
    size_t size;
};

static const struct golden_entry golden[] = {
    {AP_ENTRY_DIR, "etc", 0755, NULL, NULL, 0},
    {AP_ENTRY_FILE, "etc/hostname", 0644, NULL, hostname_data, sizeof(hostname_data) - 1},
    {AP_ENTRY_DIR, "usr", 0755, NULL, NULL, 0},
    {AP_ENTRY_DIR, "usr/bin", 0755, NULL, NULL, 0},
    {AP_ENTRY_FILE, "usr/bin/tool", 0755, NULL, tool_data, sizeof(tool_data)},
    {AP_ENTRY_HARDLINK, "usr/bin/tool2", 0755, "usr/bin/tool", NULL, 0},
    {AP_ENTRY_DIR, "usr/lib", 0755, NULL, NULL, 0},
    /* lstat() reports 0777 for every symbolic link on Linux. */
    {AP_ENTRY_SYMLINK, "usr/lib/link", 0777, "../bin/tool", NULL, 0},
};

static int mem_sink(void *ctx, const void *data, size_t len)
{
    test_buf_append(ctx, data, len);
    return 0;
}

static void fill_entry(struct ap_entry *e, const struct golden_entry *g)
{
    memset(e, 0, sizeof(*e));
    e->type = g->type;
    snprintf(e->path, sizeof(e->path), "%s", g->path);
    snprintf(e->link, sizeof(e->link), "%s", g->link != NULL ? g->link : "");
    e->mode = g->mode;
    e->size = g->size;
}

/* Builds the golden layer into out. */
static int build_golden(struct test_buf *out, struct ap_layer_stats *st)
{
    static struct ap_entry e;
    struct ap_layer_writer *w = NULL;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_layer_open(MTIME, mem_sink, out, &w, &err) == 0, "%s", err->msg)) {
        ap_error_release(&err);
        return -1;
    }
    for (size_t i = 0; i < AP_ARRAY_SIZE(golden); i++) {
        fill_entry(&e, &golden[i]);
        if (!CHECK_MSG(ap_layer_add(w, &e, golden[i].data, -1, &err) == 0, "%s: %s", golden[i].path,
                       err->msg)) {
            ap_error_release(&err);
            ap_layer_abort(w);
            return -1;
        }
    }
    if (!CHECK_MSG(ap_layer_finish(w, st, &err) == 0, "%s", err->msg)) {
        ap_error_release(&err);
        return -1;
    }
    return 0;
}

/* gunzip through libarchive (zlib is not linked directly). */
static int gunzip(const struct test_buf *in, struct test_buf *out)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    struct archive_entry *ae;
    int rc = -1;
    if (archive_read_open_memory(a, in->data, in->len) != ARCHIVE_OK ||
        archive_read_next_header(a, &ae) != ARCHIVE_OK)
        goto out;
    for (;;) {
        char buf[4096];
        la_ssize_t n = archive_read_data(a, buf, sizeof(buf));
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        test_buf_append(out, buf, (size_t)n);
    }
    rc = 0;
out:
    CHECK_MSG(rc == 0, "gunzip: %s", archive_error_string(a));
    archive_read_free(a);
    return rc;
}

TEST(golden_layer_is_reproducible)
{
    struct test_buf a = {0}, b = {0};
    struct ap_layer_stats sa, sb;
    if (build_golden(&a, &sa) == 0 && build_golden(&b, &sb) == 0) {
        CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        CHECK(strcmp(sa.digest, sb.digest) == 0);
        CHECK(strcmp(sa.diff_id, sb.diff_id) == 0);
    }
    test_buf_free(&a);
    test_buf_free(&b);
}

TEST(golden_layer_digests_and_stats)
{
    struct test_buf gz = {0}, tar = {0};
    struct ap_layer_stats st;
    if (build_golden(&gz, &st) < 0)
        return;
    char hex[AP_SHA256_HEX_LEN + 1];
    ap_sha256_hex(gz.data, gz.len, hex);
    CHECK_MSG(strcmp(st.digest, hex) == 0, "digest %s, sha256 of the bytes %s", st.digest, hex);
    CHECK(st.compressed_size == gz.len);
    if (gunzip(&gz, &tar) == 0) {
        ap_sha256_hex(tar.data, tar.len, hex);
        CHECK_MSG(strcmp(st.diff_id, hex) == 0, "diff_id %s, sha256 of the tar %s", st.diff_id,
                  hex);
        CHECK(st.tar_size == tar.len);
        CHECK(tar.len % 512 == 0);
    }
    CHECK(st.entries == AP_ARRAY_SIZE(golden));
    CHECK(st.files == 2);
    CHECK(st.unpacked_bytes == sizeof(hostname_data) - 1 + sizeof(tool_data));
    /* gzip header: magic, deflate, and a zero MTIME field (bytes 4..7). */
    if (CHECK(gz.len > 10)) {
        CHECK(gz.data[0] == 0x1f && gz.data[1] == 0x8b && gz.data[2] == 8);
        CHECK_MSG(gz.data[4] == 0 && gz.data[5] == 0 && gz.data[6] == 0 && gz.data[7] == 0,
                  "gzip mtime %02x %02x %02x %02x", gz.data[4], gz.data[5], gz.data[6], gz.data[7]);
    }
    CHECK_MSG(strcmp(st.digest, GOLDEN_DIGEST) == 0, "layer digest %s, golden %s", st.digest,
              GOLDEN_DIGEST);
    test_buf_free(&gz);
    test_buf_free(&tar);
}

TEST(golden_layer_reads_back)
{
    struct test_buf gz = {0};
    struct ap_layer_stats st;
    if (build_golden(&gz, &st) < 0)
        return;
    struct archive *a = archive_read_new();
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    CHECK(archive_read_open_memory(a, gz.data, gz.len) == ARCHIVE_OK);
    size_t i = 0;
    struct archive_entry *ae;
    int r;
    while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
        if (!CHECK_MSG(i < AP_ARRAY_SIZE(golden), "extra entry %s", archive_entry_pathname(ae)))
            break;
        const struct golden_entry *g = &golden[i++];
        /* The tar writer gives directories a trailing slash. */
        char want[256];
        snprintf(want, sizeof(want), "%s%s", g->path, g->type == AP_ENTRY_DIR ? "/" : "");
        const char *p = archive_entry_pathname(ae);
        CHECK_MSG(strcmp(p, want) == 0, "entry %zu is %s, want %s", i - 1, p, want);
        CHECK_MSG(archive_entry_perm(ae) == g->mode, "%s: mode %o, want %o", g->path,
                  (unsigned)archive_entry_perm(ae), g->mode);
        CHECK_MSG(archive_entry_uid(ae) == 0 && archive_entry_gid(ae) == 0, "%s: uid %lld gid %lld",
                  g->path, (long long)archive_entry_uid(ae), (long long)archive_entry_gid(ae));
        const char *un = archive_entry_uname(ae), *gn = archive_entry_gname(ae);
        CHECK_MSG((un == NULL || *un == '\0') && (gn == NULL || *gn == '\0'),
                  "%s: uname \"%s\" gname \"%s\"", g->path, un ? un : "", gn ? gn : "");
        CHECK_MSG(archive_entry_mtime(ae) == MTIME && archive_entry_mtime_nsec(ae) == 0,
                  "%s: mtime %lld", g->path, (long long)archive_entry_mtime(ae));
        CHECK(!archive_entry_atime_is_set(ae) && !archive_entry_ctime_is_set(ae));
        switch (g->type) {
        case AP_ENTRY_DIR:
            CHECK(archive_entry_filetype(ae) == AE_IFDIR);
            break;
        case AP_ENTRY_FILE: {
            CHECK(archive_entry_filetype(ae) == AE_IFREG);
            CHECK(archive_entry_size(ae) == (la_int64_t)g->size);
            unsigned char data[256];
            la_ssize_t n = archive_read_data(a, data, sizeof(data));
            CHECK_MSG(n == (la_ssize_t)g->size && memcmp(data, g->data, g->size) == 0,
                      "%s: %zd bytes of data", g->path, (ssize_t)n);
            break;
        }
        case AP_ENTRY_HARDLINK: {
            const char *h = archive_entry_hardlink(ae);
            CHECK_MSG(h != NULL && strcmp(h, g->link) == 0, "%s: hardlink to %s", g->path,
                      h ? h : "(none)");
            CHECK(archive_entry_size(ae) == 0);
            break;
        }
        case AP_ENTRY_SYMLINK: {
            const char *s = archive_entry_symlink(ae);
            CHECK(archive_entry_filetype(ae) == AE_IFLNK);
            CHECK_MSG(s != NULL && strcmp(s, g->link) == 0, "%s: symlink to %s", g->path,
                      s ? s : "(none)");
            break;
        }
        }
    }
    CHECK_MSG(r == ARCHIVE_EOF, "reading the layer: %s", archive_error_string(a));
    CHECK(i == AP_ARRAY_SIZE(golden));
    archive_read_free(a);
    test_buf_free(&gz);
}

TEST(entries_out_of_order_are_refused)
{
    struct test_buf out = {0};
    struct ap_layer_writer *w = NULL;
    ap_error *err = NULL;
    static struct ap_entry e;
    if (!CHECK(ap_layer_open(MTIME, mem_sink, &out, &w, &err) == 0))
        return;
    fill_entry(&e, &golden[2]); /* usr */
    CHECK(ap_layer_add(w, &e, NULL, -1, &err) == 0);
    fill_entry(&e, &golden[0]); /* etc, after usr */
    CHECK(ap_layer_add(w, &e, NULL, -1, &err) == -1);
    CHECK_MSG(test_contains(err ? err->msg : NULL, "out of order"), "%s",
              err ? err->msg : "(none)");
    ap_error_release(&err);
    fill_entry(&e, &golden[2]); /* usr again */
    CHECK(ap_layer_add(w, &e, NULL, -1, &err) == -1);
    CHECK(err != NULL);
    ap_error_release(&err);
    ap_layer_abort(w);
    test_buf_free(&out);
}

/* Creates the golden tree under the directory rootfd. */
static int make_tree(int rootfd)
{
    for (size_t i = 0; i < AP_ARRAY_SIZE(golden); i++) {
        const struct golden_entry *g = &golden[i];
        int ok = 0;
        switch (g->type) {
        case AP_ENTRY_DIR:
            ok = mkdirat(rootfd, g->path, 0700) == 0 && fchmodat(rootfd, g->path, g->mode, 0) == 0;
            break;
        case AP_ENTRY_FILE: {
            int fd = openat(rootfd, g->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            ok = fd >= 0 && ap_fs_write_all(fd, g->data, g->size) == 0 && fchmod(fd, g->mode) == 0;
            if (fd >= 0)
                close(fd);
            break;
        }
        case AP_ENTRY_HARDLINK:
            ok = linkat(rootfd, g->link, rootfd, g->path, 0) == 0;
            break;
        case AP_ENTRY_SYMLINK:
            ok = symlinkat(g->link, rootfd, g->path) == 0;
            break;
        }
        if (!CHECK_MSG(ok, "creating %s: %s", g->path, strerror(errno)))
            return -1;
    }
    return 0;
}

TEST(tree_on_disk_matches_memory)
{
    char tmpl[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof(tmpl), "%s/ap-test-layer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!CHECK_MSG(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno)))
        return;
    int rootfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct test_buf mem = {0}, disk = {0};
    struct ap_layer_stats sm, sd;
    ap_error *err = NULL;
    if (CHECK(rootfd >= 0) && make_tree(rootfd) == 0 && build_golden(&mem, &sm) == 0) {
        int r = ap_layer_write_tree(tmpl, MTIME, mem_sink, &disk, &sd, &err);
        if (CHECK_MSG(r == 0, "%s", err ? err->msg : "?")) {
            CHECK_MSG(strcmp(sd.digest, sm.digest) == 0, "tree %s, memory %s", sd.digest,
                      sm.digest);
            CHECK(strcmp(sd.diff_id, sm.diff_id) == 0);
            CHECK(disk.len == mem.len && memcmp(disk.data, mem.data, mem.len) == 0);
            CHECK(sd.entries == sm.entries && sd.files == sm.files);
            CHECK(sd.unpacked_bytes == sm.unpacked_bytes);
        }
    }
    ap_error_release(&err);
    if (rootfd >= 0)
        close(rootfd);
    CHECK(ap_fs_remove_tree(tmpl, &err) == 0);
    ap_error_release(&err);
    test_buf_free(&mem);
    test_buf_free(&disk);
}

TEST(tree_with_a_fifo_is_refused)
{
    char tmpl[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof(tmpl), "%s/ap-test-layer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!CHECK(mkdtemp(tmpl) != NULL))
        return;
    char fifo[4200];
    snprintf(fifo, sizeof(fifo), "%s/pipe", tmpl);
    struct test_buf out = {0};
    struct ap_layer_stats st;
    ap_error *err = NULL;
    if (CHECK(mkfifo(fifo, 0644) == 0)) {
        CHECK(ap_layer_write_tree(tmpl, MTIME, mem_sink, &out, &st, &err) == -1);
        CHECK_MSG(test_contains(err ? err->msg : NULL, "pipe"), "%s", err ? err->msg : "(none)");
    }
    ap_error_release(&err);
    CHECK(ap_fs_remove_tree(tmpl, &err) == 0);
    ap_error_release(&err);
    test_buf_free(&out);
}

/* A stage's /out holding a whiteout name is refused, naming it; the same tree with the name
 * changed is the control that packs. */
TEST(tree_with_a_whiteout_is_refused)
{
    char tmpl[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof(tmpl), "%s/ap-test-layer.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!CHECK(mkdtemp(tmpl) != NULL))
        return;
    char dir[4200], wh[4300], plain[4300];
    snprintf(dir, sizeof(dir), "%s/usr", tmpl);
    snprintf(wh, sizeof(wh), "%s/.wh.bin", dir);
    snprintf(plain, sizeof(plain), "%s/wh.bin", dir);
    struct ap_layer_stats st;
    ap_error *err = NULL;
    if (CHECK(mkdir(dir, 0755) == 0)) {
        int fd = open(wh, O_WRONLY | O_CREAT | O_EXCL, 0644);
        CHECK(fd >= 0 && close(fd) == 0);
        struct test_buf out = {0};
        CHECK(ap_layer_write_tree(tmpl, MTIME, mem_sink, &out, &st, &err) == -1);
        CHECK_MSG(test_contains(err ? err->msg : NULL, "usr/.wh.bin") &&
                      test_contains(err ? err->msg : NULL, "whiteout"),
                  "%s", err ? err->msg : "(none)");
        ap_error_release(&err);
        test_buf_free(&out);
        CHECK(rename(wh, plain) == 0);
        CHECK_MSG(ap_layer_write_tree(tmpl, MTIME, mem_sink, &out, &st, &err) == 0, "%s",
                  err ? err->msg : "(none)");
        ap_error_release(&err);
        test_buf_free(&out);
    }
    CHECK(ap_fs_remove_tree(tmpl, &err) == 0);
    ap_error_release(&err);
}

static int setup(void)
{
    ap_error *err = NULL;
    if (ap_hash_init(&err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        ap_error_release(&err);
        return -1;
    }
    return 0;
}
TEST_SETUP(setup)
