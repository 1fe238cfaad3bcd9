/* Debian packages (image/deb.c): .deb files built in memory, read back, and damaged. */
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "image/deb.h"
#include "test.h"

#define LABEL "hello_1.0-1_amd64.deb"

/* One tar entry: 'f' file with data, 'd' directory, 'l' symlink to data. */
struct spec {
    char type;
    const char *name;
    const char *data;
};

static const struct spec control_tar[] = {
    {'d', "./", NULL},
    {'f', "./control",
     "Package: hello\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: Nobody <n@example.org>\n"
     "Description: says hello\n"},
    {'f', "./md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/bin/hello\n"},
};

static const struct spec data_tar[] = {
    {'d', "./", NULL},
    {'d', "./bin/", NULL},
    {'f', "./bin/hello-compat", "compat\n"},
    {'d', "./usr/", NULL},
    {'d', "./usr/bin/", NULL},
    {'f', "./usr/bin/hello", "#!/bin/sh\necho hello\n"},
    {'l', "./usr/bin/hi", "hello"},
    {'d', "./usr/share/", NULL},
    {'d', "./usr/share/doc/", NULL},
    {'d', "./usr/share/doc/hello/", NULL},
    {'f', "./usr/share/doc/hello/copyright", "public domain\n"},
};

/* The entries ap_deb_each_data_entry should report for data_tar (merged /usr applied; the
 * root and the top-level ./bin/ directory skipped). */
static const char *const data_expected[] = {
    "f usr/bin/hello-compat compat\n",
    "d usr",
    "d usr/bin",
    "f usr/bin/hello #!/bin/sh\necho hello\n",
    "l usr/bin/hi hello",
    "d usr/share",
    "d usr/share/doc",
    "d usr/share/doc/hello",
    "f usr/share/doc/hello/copyright public domain\n",
};

/* Writes a tar of the entries through `filter` ("none", "gzip", "xz", "zstd", "bzip2"). */
static int make_tar(const struct spec *s, size_t n, const char *filter, struct test_buf *out)
{
    static unsigned char mem[1 << 18];
    size_t used = 0;
    struct archive *a = archive_write_new();
    archive_write_set_format_gnutar(a);
    int r = strcmp(filter, "none") == 0 ? archive_write_add_filter_none(a)
                                        : archive_write_add_filter_by_name(a, filter);
    int rc = -1;
    if (r != ARCHIVE_OK || archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
        archive_write_open_memory(a, mem, sizeof(mem), &used) != ARCHIVE_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, s[i].name);
        archive_entry_set_mtime(e, 1735689600, 0);
        archive_entry_set_uname(e, "root");
        archive_entry_set_gname(e, "root");
        size_t size = s[i].type == 'f' ? strlen(s[i].data) : 0;
        if (s[i].type == 'f') {
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, (la_int64_t)size);
        } else if (s[i].type == 'd') {
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
        } else {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, s[i].data);
        }
        r = archive_write_header(a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
            goto out;
        if (size > 0 && archive_write_data(a, s[i].data, size) != (la_ssize_t)size)
            goto out;
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        goto out;
    test_buf_append(out, mem, used);
    rc = 0;
out:
    CHECK_MSG(rc == 0, "building a %s tar: %s", filter, archive_error_string(a));
    archive_write_free(a);
    return rc;
}

static void ar_member(struct test_buf *b, const char *name, const void *data, size_t size)
{
    char h[128];
    int n = snprintf(h, sizeof(h), "%-16s%-12s%-6s%-6s%-8s%-10zu`\n", name, "1735689600", "0", "0",
                     "100644", size);
    if (n != 60)
        abort();
    test_buf_append(b, h, 60);
    test_buf_append(b, data, size);
    if (size % 2 != 0)
        test_buf_append(b, "\n", 1);
}

/* The members of a .deb, each given as name + bytes. */
struct member {
    const char *name;
    const struct test_buf *data;
};

static void make_ar(const struct member *m, size_t n, struct test_buf *out)
{
    test_buf_append(out, "!<arch>\n", 8);
    for (size_t i = 0; i < n; i++)
        ar_member(out, m[i].name, m[i].data->data, m[i].data->len);
}

/* The usual parts: debian-binary, control.tar.gz, and a data tar through `filter`. */
struct parts {
    struct test_buf version, control, data;
};

static int make_parts(struct parts *p, const char *filter)
{
    *p = (struct parts){0};
    test_buf_append(&p->version, "2.0\n", 4);
    if (make_tar(control_tar, AP_ARRAY_SIZE(control_tar), "gzip", &p->control) < 0)
        return -1;
    return make_tar(data_tar, AP_ARRAY_SIZE(data_tar), filter, &p->data);
}

static void free_parts(struct parts *p)
{
    test_buf_free(&p->version);
    test_buf_free(&p->control);
    test_buf_free(&p->data);
}

struct collected {
    char *lines[64];
    size_t n;
};

/* Records each entry as "<type> <path> <data or link>", reading a file's bytes. */
static int collect(void *ctx, const struct ap_entry *e, struct archive *a, ap_error **err)
{
    struct collected *c = ctx;
    char line[512];
    int len = 0;
    switch (e->type) {
    case AP_ENTRY_FILE: {
        char data[256];
        size_t got = 0;
        la_ssize_t r;
        while ((r = archive_read_data(a, data + got, sizeof(data) - 1 - got)) > 0)
            got += (size_t)r;
        if (r < 0)
            return ap_error_make(err, 0, "reading %s: %s", e->path, archive_error_string(a));
        data[got] = '\0';
        len = snprintf(line, sizeof(line), "f %s %s", e->path, data);
        break;
    }
    case AP_ENTRY_DIR:
        len = snprintf(line, sizeof(line), "d %s", e->path);
        break;
    case AP_ENTRY_SYMLINK:
        len = snprintf(line, sizeof(line), "l %s %s", e->path, e->link);
        break;
    case AP_ENTRY_HARDLINK:
        len = snprintf(line, sizeof(line), "h %s %s", e->path, e->link);
        break;
    }
    if (len < 0 || c->n == AP_ARRAY_SIZE(c->lines))
        return ap_error_make(err, 0, "too many entries");
    c->lines[c->n++] = strdup(line);
    return 0;
}

static void free_collected(struct collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->lines[i]);
    c->n = 0;
}

/* Opens deb and checks control text and data entries. */
static void check_valid(const struct test_buf *deb, const char *what)
{
    struct ap_deb d;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_deb_open(deb->data, deb->len, LABEL, &d, &err) == 0, "%s: %s", what,
                   err ? err->msg : "?")) {
        ap_error_release(&err);
        return;
    }
    char *control = NULL;
    CHECK_MSG(ap_deb_control(&d, LABEL, &control, &err) == 0, "%s: %s", what, err ? err->msg : "?");
    CHECK_MSG(control != NULL && strncmp(control, "Package: hello\nVersion: 1.0-1\n", 30) == 0,
              "%s: control \"%s\"", what, control ? control : "(none)");
    free(control);
    ap_error_release(&err);

    struct collected c = {0};
    CHECK_MSG(ap_deb_each_data_entry(&d, LABEL, collect, &c, &err) == 0, "%s: %s", what,
              err ? err->msg : "?");
    ap_error_release(&err);
    CHECK_MSG(c.n == AP_ARRAY_SIZE(data_expected), "%s: %zu entries", what, c.n);
    for (size_t i = 0; i < c.n && i < AP_ARRAY_SIZE(data_expected); i++)
        CHECK_MSG(strcmp(c.lines[i], data_expected[i]) == 0, "%s: entry %zu \"%s\", want \"%s\"",
                  what, i, c.lines[i], data_expected[i]);
    free_collected(&c);
}

TEST(valid_deb_with_each_compression)
{
    static const struct {
        const char *filter, *member;
    } kinds[] = {{"xz", "data.tar.xz"},
                 {"gzip", "data.tar.gz"},
                 {"zstd", "data.tar.zst"},
                 {"bzip2", "data.tar.bz2"},
                 {"none", "data.tar"}};
    for (size_t i = 0; i < AP_ARRAY_SIZE(kinds); i++) {
        struct parts p;
        struct test_buf deb = {0};
        if (make_parts(&p, kinds[i].filter) == 0) {
            const struct member m[] = {{"debian-binary", &p.version},
                                       {"control.tar.gz", &p.control},
                                       {kinds[i].member, &p.data}};
            make_ar(m, AP_ARRAY_SIZE(m), &deb);
            check_valid(&deb, kinds[i].member);
            struct ap_deb d;
            ap_error *err = NULL;
            if (CHECK(ap_deb_open(deb.data, deb.len, LABEL, &d, &err) == 0)) {
                CHECK(d.control_size == p.control.len &&
                      memcmp(d.control, p.control.data, p.control.len) == 0);
                CHECK(d.data_size == p.data.len && memcmp(d.data, p.data.data, p.data.len) == 0);
            }
            ap_error_release(&err);
        }
        test_buf_free(&deb);
        free_parts(&p);
    }
}

TEST(local_members_are_ignored)
{
    struct parts p;
    struct test_buf deb = {0}, sig = {0};
    test_buf_append(&sig, "signature", 9);
    if (make_parts(&p, "xz") == 0) {
        const struct member m[] = {{"debian-binary", &p.version},
                                   {"control.tar.gz", &p.control},
                                   {"data.tar.xz", &p.data},
                                   {"_gpgorigin", &sig}};
        make_ar(m, AP_ARRAY_SIZE(m), &deb);
        check_valid(&deb, "with _gpgorigin");
    }
    test_buf_free(&deb);
    test_buf_free(&sig);
    free_parts(&p);
}

/* Builds a .deb from the members and expects ap_deb_open to refuse it naming `needle`. */
static void open_refused(const struct member *m, size_t n, const char *needle, int line)
{
    struct test_buf deb = {0};
    make_ar(m, n, &deb);
    struct ap_deb d;
    ap_error *err = NULL;
    CHECK_MSG(ap_deb_open(deb.data, deb.len, LABEL, &d, &err) == -1, "line %d: accepted", line);
    CHECK_MSG(test_contains(err ? err->msg : NULL, LABEL), "line %d: %s", line,
              err ? err->msg : "(none)");
    CHECK_MSG(test_contains(err ? err->msg : NULL, needle), "line %d: \"%s\" not in: %s", line,
              needle, err ? err->msg : "(none)");
    ap_error_release(&err);
    test_buf_free(&deb);
}

TEST(damaged_containers_are_refused)
{
    struct parts p;
    struct test_buf v3 = {0}, junk = {0};
    test_buf_append(&v3, "3.0\n", 4);
    test_buf_append(&junk, "junk", 4);
    if (make_parts(&p, "xz") == 0) {
        const struct member no_data[] = {{"debian-binary", &p.version},
                                         {"control.tar.gz", &p.control}};
        open_refused(no_data, AP_ARRAY_SIZE(no_data), "data.tar", __LINE__);
        const struct member no_control[] = {{"debian-binary", &p.version},
                                            {"data.tar.xz", &p.data}};
        open_refused(no_control, AP_ARRAY_SIZE(no_control), "control.tar", __LINE__);
        const struct member first[] = {{"control.tar.gz", &p.control},
                                       {"debian-binary", &p.version},
                                       {"data.tar.xz", &p.data}};
        open_refused(first, AP_ARRAY_SIZE(first), "debian-binary", __LINE__);
        const struct member version[] = {
            {"debian-binary", &v3}, {"control.tar.gz", &p.control}, {"data.tar.xz", &p.data}};
        open_refused(version, AP_ARRAY_SIZE(version), "debian-binary", __LINE__);
        const struct member unexpected[] = {{"debian-binary", &p.version},
                                            {"control.tar.gz", &p.control},
                                            {"evil.sh", &junk},
                                            {"data.tar.xz", &p.data}};
        open_refused(unexpected, AP_ARRAY_SIZE(unexpected), "unexpected member evil.sh", __LINE__);
        const struct member odd_ext[] = {{"debian-binary", &p.version},
                                         {"control.tar.gz", &p.control},
                                         {"data.tar.lzma", &p.data}};
        open_refused(odd_ext, AP_ARRAY_SIZE(odd_ext), "data.tar.lzma", __LINE__);
        const struct member two_data[] = {{"debian-binary", &p.version},
                                          {"control.tar.gz", &p.control},
                                          {"data.tar.xz", &p.data},
                                          {"data.tar", &junk}};
        open_refused(two_data, AP_ARRAY_SIZE(two_data), "two data", __LINE__);
    }
    test_buf_free(&v3);
    test_buf_free(&junk);
    free_parts(&p);
}

TEST(every_truncation_is_refused)
{
    struct parts p;
    struct test_buf deb = {0};
    if (make_parts(&p, "xz") == 0) {
        const struct member m[] = {{"debian-binary", &p.version},
                                   {"control.tar.gz", &p.control},
                                   {"data.tar.xz", &p.data}};
        make_ar(m, AP_ARRAY_SIZE(m), &deb);
        /* Up to the last byte of data.tar.xz; a missing final padding byte is harmless. */
        size_t end = deb.len - p.data.len % 2;
        size_t accepted = 0;
        for (size_t cut = 0; cut < end; cut++) {
            struct ap_deb d;
            ap_error *err = NULL;
            if (ap_deb_open(deb.data, cut, LABEL, &d, &err) == 0) {
                accepted++;
                test_note("accepted %zu of %zu bytes", cut, deb.len);
            } else if (err == NULL) {
                accepted++;
                test_note("refused %zu of %zu bytes without an error", cut, deb.len);
            }
            ap_error_release(&err);
        }
        CHECK(accepted == 0);
    }
    test_buf_free(&deb);
    free_parts(&p);
}

TEST(truncated_data_tar_is_an_error)
{
    /* The ar container is whole but the xz stream inside was cut short when it was built. */
    struct parts p;
    struct test_buf deb = {0}, cut = {0};
    if (make_parts(&p, "xz") == 0) {
        test_buf_append(&cut, p.data.data, p.data.len / 2);
        const struct member m[] = {
            {"debian-binary", &p.version}, {"control.tar.gz", &p.control}, {"data.tar.xz", &cut}};
        make_ar(m, AP_ARRAY_SIZE(m), &deb);
        struct ap_deb d;
        ap_error *err = NULL;
        if (CHECK(ap_deb_open(deb.data, deb.len, LABEL, &d, &err) == 0)) {
            struct collected c = {0};
            CHECK(ap_deb_each_data_entry(&d, LABEL, collect, &c, &err) == -1);
            CHECK_MSG(test_contains(err ? err->msg : NULL, LABEL), "%s", err ? err->msg : "(none)");
            free_collected(&c);
        }
        ap_error_release(&err);
    }
    test_buf_free(&deb);
    test_buf_free(&cut);
    free_parts(&p);
}

TEST(control_tar_without_control)
{
    static const struct spec only_md5[] = {{'f', "./md5sums", "x\n"}};
    struct parts p;
    struct test_buf deb = {0}, control = {0};
    if (make_parts(&p, "xz") == 0 &&
        make_tar(only_md5, AP_ARRAY_SIZE(only_md5), "gzip", &control) == 0) {
        const struct member m[] = {
            {"debian-binary", &p.version}, {"control.tar.gz", &control}, {"data.tar.xz", &p.data}};
        make_ar(m, AP_ARRAY_SIZE(m), &deb);
        struct ap_deb d;
        ap_error *err = NULL;
        char *text = NULL;
        if (CHECK(ap_deb_open(deb.data, deb.len, LABEL, &d, &err) == 0)) {
            CHECK(ap_deb_control(&d, LABEL, &text, &err) == -1);
            CHECK_MSG(test_contains(err ? err->msg : NULL, "no control file"), "%s",
                      err ? err->msg : "(none)");
        }
        free(text);
        ap_error_release(&err);
    }
    test_buf_free(&deb);
    test_buf_free(&control);
    free_parts(&p);
}

TEST(data_tar_escaping_the_root)
{
    static const struct spec evil[] = {{'d', "./", NULL}, {'f', "./../../etc/cron.d/x", "x"}};
    struct parts p;
    struct test_buf deb = {0}, data = {0};
    if (make_parts(&p, "xz") == 0 && make_tar(evil, AP_ARRAY_SIZE(evil), "xz", &data) == 0) {
        const struct member m[] = {
            {"debian-binary", &p.version}, {"control.tar.gz", &p.control}, {"data.tar.xz", &data}};
        make_ar(m, AP_ARRAY_SIZE(m), &deb);
        struct ap_deb d;
        ap_error *err = NULL;
        if (CHECK(ap_deb_open(deb.data, deb.len, LABEL, &d, &err) == 0)) {
            struct collected c = {0};
            CHECK(ap_deb_each_data_entry(&d, LABEL, collect, &c, &err) == -1);
            CHECK(c.n == 0);
            CHECK_MSG(test_contains(err ? err->msg : NULL, "./../../etc/cron.d/x"), "%s",
                      err ? err->msg : "(none)");
            free_collected(&c);
        }
        ap_error_release(&err);
    }
    test_buf_free(&deb);
    test_buf_free(&data);
    free_parts(&p);
}
