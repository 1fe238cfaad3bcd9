/* The ar container parser (image/ar.c): well-formed archives and each kind of damage. */
#include <string.h>

#include "core/error.h"
#include "image/ar.h"
#include "test.h"

#define MAGIC "!<arch>\n"

/* Appends a 60-byte member header to buf at *len; `size` goes in verbatim so tests can write
 * bad sizes. */
static void put_header(unsigned char *buf, size_t *len, const char *name, const char *size)
{
    char h[128];
    int n = snprintf(h, sizeof(h), "%-16s%-12s%-6s%-6s%-8s%-10s`\n", name, "0", "0", "0", "100644",
                     size);
    if (n != 60) {
        fprintf(stderr, "bad test header for %s\n", name);
        abort();
    }
    memcpy(buf + *len, h, 60);
    *len += 60;
}

static void put_bytes(unsigned char *buf, size_t *len, const void *data, size_t n)
{
    memcpy(buf + *len, data, n);
    *len += n;
}

TEST(valid_archive_with_odd_member_padding)
{
    unsigned char buf[512];
    size_t len = 0;
    put_bytes(buf, &len, MAGIC, 8);
    put_header(buf, &len, "debian-binary", "4");
    put_bytes(buf, &len, "2.0\n", 4);
    put_header(buf, &len, "odd", "3");
    put_bytes(buf, &len, "abc\n", 4); /* 3 bytes and one byte of padding */
    put_header(buf, &len, "last", "5");
    put_bytes(buf, &len, "hello", 5); /* odd, at the very end: no padding byte */

    ap_error *err = NULL;
    size_t off = 0;
    struct ap_ar_member m;
    CHECK(ap_ar_open(buf, len, &off, &err) == 0);
    CHECK(off == 8);

    CHECK(ap_ar_next(buf, len, &off, &m, &err) == 1);
    CHECK(strcmp(m.name, "debian-binary") == 0);
    CHECK(m.size == 4 && memcmp(m.data, "2.0\n", 4) == 0);

    CHECK(ap_ar_next(buf, len, &off, &m, &err) == 1);
    CHECK(strcmp(m.name, "odd") == 0);
    CHECK(m.size == 3 && memcmp(m.data, "abc", 3) == 0);
    CHECK_MSG(off % 2 == 0, "offset %zu after an odd member is not padded", off);

    CHECK(ap_ar_next(buf, len, &off, &m, &err) == 1);
    CHECK(strcmp(m.name, "last") == 0);
    CHECK(m.size == 5 && memcmp(m.data, "hello", 5) == 0);
    CHECK(off == len);

    CHECK(ap_ar_next(buf, len, &off, &m, &err) == 0);
    CHECK(err == NULL);
    ap_error_release(&err);
}

TEST(bad_magic)
{
    static const unsigned char tar_like[] = "ustar\0\0\0\0\0";
    ap_error *err = NULL;
    size_t off = 0;
    CHECK(ap_ar_open(tar_like, sizeof(tar_like), &off, &err) == -1);
    CHECK_MSG(err != NULL && test_contains(err->msg, "magic"), "%s", err ? err->msg : "(none)");
    ap_error_release(&err);

    /* Shorter than the magic itself. */
    CHECK(ap_ar_open((const unsigned char *)"!<ar", 4, &off, &err) == -1);
    CHECK(err != NULL);
    ap_error_release(&err);
}

TEST(truncated_header)
{
    unsigned char buf[512];
    size_t len = 0;
    put_bytes(buf, &len, MAGIC, 8);
    put_header(buf, &len, "debian-binary", "4");
    len -= 30;
    ap_error *err = NULL;
    size_t off = 0;
    struct ap_ar_member m;
    CHECK(ap_ar_open(buf, len, &off, &err) == 0);
    CHECK(ap_ar_next(buf, len, &off, &m, &err) == -1);
    CHECK_MSG(test_contains(err ? err->msg : NULL, "truncated"), "%s", err ? err->msg : "(none)");
    ap_error_release(&err);
}

TEST(size_beyond_buffer)
{
    unsigned char buf[512];
    size_t len = 0;
    put_bytes(buf, &len, MAGIC, 8);
    put_header(buf, &len, "data.tar.xz", "1000");
    put_bytes(buf, &len, "only a few bytes", 16);
    ap_error *err = NULL;
    size_t off = 8;
    struct ap_ar_member m;
    CHECK(ap_ar_next(buf, len, &off, &m, &err) == -1);
    CHECK_MSG(test_contains(err ? err->msg : NULL, "data.tar.xz"), "%s", err ? err->msg : "(none)");
    ap_error_release(&err);

    /* A size so large that start + size would wrap around. */
    len = 0;
    put_bytes(buf, &len, MAGIC, 8);
    put_header(buf, &len, "huge", "9999999999");
    off = 8;
    CHECK(ap_ar_next(buf, len, &off, &m, &err) == -1);
    CHECK(err != NULL);
    ap_error_release(&err);
}

TEST(bad_size_digits)
{
    static const char *const bad[] = {"12x4", "-1", "", "0x10", "1 2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char buf[512];
        size_t len = 0;
        put_bytes(buf, &len, MAGIC, 8);
        put_header(buf, &len, "member", bad[i]);
        put_bytes(buf, &len, "0123456789abcdef", 16);
        ap_error *err = NULL;
        size_t off = 8;
        struct ap_ar_member m;
        CHECK_MSG(ap_ar_next(buf, len, &off, &m, &err) == -1, "size \"%s\" accepted", bad[i]);
        CHECK_MSG(test_contains(err ? err->msg : NULL, "bad size"), "size \"%s\": %s", bad[i],
                  err ? err->msg : "(none)");
        ap_error_release(&err);
    }
}

TEST(bad_header_terminator)
{
    unsigned char buf[512];
    size_t len = 0;
    put_bytes(buf, &len, MAGIC, 8);
    put_header(buf, &len, "member", "2");
    put_bytes(buf, &len, "ok", 2);
    buf[8 + 58] = 'X';
    ap_error *err = NULL;
    size_t off = 8;
    struct ap_ar_member m;
    CHECK(ap_ar_next(buf, len, &off, &m, &err) == -1);
    CHECK(err != NULL);
    ap_error_release(&err);
}

TEST(gnu_name_with_slash_suffix)
{
    unsigned char buf[512];
    size_t len = 0;
    put_bytes(buf, &len, MAGIC, 8);
    put_header(buf, &len, "control.tar.gz/", "2");
    put_bytes(buf, &len, "ab", 2);
    ap_error *err = NULL;
    size_t off = 8;
    struct ap_ar_member m;
    CHECK(ap_ar_next(buf, len, &off, &m, &err) == 1);
    CHECK_MSG(strcmp(m.name, "control.tar.gz") == 0, "name \"%s\"", m.name);
    CHECK(m.size == 2 && memcmp(m.data, "ab", 2) == 0);
    ap_error_release(&err);
}

TEST(names_that_are_refused)
{
    /* "/" alone (the GNU symbol table), a slash inside the name, a control character. */
    static const char *const bad[] = {"/", "a/b", "bad\tname"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char buf[512];
        size_t len = 0;
        put_bytes(buf, &len, MAGIC, 8);
        put_header(buf, &len, bad[i], "2");
        put_bytes(buf, &len, "ab", 2);
        ap_error *err = NULL;
        size_t off = 8;
        struct ap_ar_member m;
        CHECK_MSG(ap_ar_next(buf, len, &off, &m, &err) == -1, "name \"%s\" accepted", bad[i]);
        ap_error_release(&err);
    }
}

TEST(empty_archive_after_magic)
{
    const unsigned char *buf = (const unsigned char *)MAGIC;
    ap_error *err = NULL;
    size_t off = 0;
    struct ap_ar_member m;
    CHECK(ap_ar_open(buf, 8, &off, &err) == 0);
    CHECK(ap_ar_next(buf, 8, &off, &m, &err) == 0);
    CHECK(err == NULL);
    ap_error_release(&err);
}
