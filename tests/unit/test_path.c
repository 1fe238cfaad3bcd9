/* Path checks for untrusted archive names (image/path.c). */
#include <string.h>

#include "image/path.h"
#include "test.h"

/* Normalises `in` and checks the result is `want`. */
static void normalizes_to(const char *in, const char *want, int line)
{
    char out[256];
    const char *why = NULL;
    int r = ap_path_normalize(in, out, sizeof(out), &why);
    if (!CHECK_MSG(r == 0, "line %d: \"%s\" refused: %s", line, in, why ? why : "?"))
        return;
    CHECK_MSG(strcmp(out, want) == 0, "line %d: \"%s\" gave \"%s\", want \"%s\"", line, in, out,
              want);
}

/* Checks that `in` is refused with a reason containing `reason`. */
static void refused(const char *in, size_t outlen, const char *reason, int line)
{
    char out[4096];
    const char *why = NULL;
    int r = ap_path_normalize(in, out, outlen, &why);
    if (!CHECK_MSG(r == -1, "line %d: \"%s\" accepted as \"%s\"", line, in, out))
        return;
    CHECK_MSG(test_contains(why, reason), "line %d: \"%s\": reason \"%s\", want \"%s\"", line, in,
              why ? why : "(none)", reason);
}

TEST(normalize_strips_dot_slash_and_repeated_slashes)
{
    normalizes_to("./usr//bin/", "usr/bin", __LINE__);
    normalizes_to("usr/bin", "usr/bin", __LINE__);
    normalizes_to("././etc/passwd", "etc/passwd", __LINE__);
    normalizes_to("etc///hostname", "etc/hostname", __LINE__);
    normalizes_to("usr/lib/", "usr/lib", __LINE__);
    normalizes_to("usr/./lib/./x", "usr/lib/x", __LINE__);
    normalizes_to(".hidden/..dots/...", ".hidden/..dots/...", __LINE__);
}

TEST(normalize_root_is_empty)
{
    normalizes_to("./", "", __LINE__);
    normalizes_to(".", "", __LINE__);
    normalizes_to("", "", __LINE__);
    normalizes_to(".//./", "", __LINE__);
}

TEST(normalize_refusals)
{
    refused("/etc/passwd", 256, "absolute", __LINE__);
    refused("..", 256, "..", __LINE__);
    refused("../x", 256, "..", __LINE__);
    refused("a/../b", 256, "..", __LINE__);
    refused("./a/b/..", 256, "..", __LINE__);
    refused("a/b\nc", 256, "control", __LINE__);
    refused("a\x1b[31m", 256, "control", __LINE__);
    refused("del\x7f", 256, "control", __LINE__);
    refused("abcdefgh/ijklmnop", 8, "too long", __LINE__);

    char longname[5000];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    refused(longname, 4096, "too long", __LINE__);
}

TEST(normalize_long_names_near_the_limit)
{
    /* A name well inside the buffer fits; one as long as the buffer cannot (no room for the
     * NUL). */
    char in[64], out[64];
    const char *why = NULL;
    memset(in, 'a', 30);
    in[30] = '\0';
    CHECK(ap_path_normalize(in, out, 40, &why) == 0 && strlen(out) == 30);
    in[30] = 'a';
    in[31] = 'a';
    in[32] = '\0';
    CHECK(ap_path_normalize(in, out, 32, &why) == -1);
}

static void merged_to(const char *in, const char *want, int line)
{
    char p[64];
    snprintf(p, sizeof(p), "%s", in);
    if (!CHECK_MSG(ap_path_merged_usr(p, sizeof(p)) == 0, "line %d: \"%s\" failed", line, in))
        return;
    CHECK_MSG(strcmp(p, want) == 0, "line %d: \"%s\" gave \"%s\", want \"%s\"", line, in, p, want);
}

TEST(merged_usr_rewrites)
{
    merged_to("bin/x", "usr/bin/x", __LINE__);
    merged_to("bin", "usr/bin", __LINE__);
    merged_to("sbin/init", "usr/sbin/init", __LINE__);
    merged_to("lib/x86_64-linux-gnu/libc.so.6", "usr/lib/x86_64-linux-gnu/libc.so.6", __LINE__);
    merged_to("lib64", "usr/lib64", __LINE__);
    merged_to("lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2", __LINE__);
    merged_to("libx32/x", "usr/libx32/x", __LINE__);
    merged_to("binx/y", "binx/y", __LINE__);
    merged_to("library/y", "library/y", __LINE__);
    merged_to("usr/bin", "usr/bin", __LINE__);
    merged_to("usr/lib/bin/x", "usr/lib/bin/x", __LINE__);
    merged_to("etc/bin", "etc/bin", __LINE__);
    merged_to("", "", __LINE__);
}

TEST(merged_usr_too_long)
{
    char p[8] = "bin/abc"; /* 7 characters + NUL; "usr/" does not fit */
    CHECK(ap_path_merged_usr(p, sizeof(p)) == -1);
    CHECK(strcmp(p, "bin/abc") == 0);
}

TEST(merged_top)
{
    CHECK(ap_path_is_merged_top("bin"));
    CHECK(ap_path_is_merged_top("lib64"));
    CHECK(!ap_path_is_merged_top("usr"));
    CHECK(!ap_path_is_merged_top("bin/x"));
    CHECK(!ap_path_is_merged_top(""));
}

TEST(symlink_escapes)
{
    /* Relative, inside. */
    CHECK(!ap_path_symlink_escapes("usr/lib/link", "../bin/tool"));
    CHECK(!ap_path_symlink_escapes("usr/lib/link", "../../etc/passwd"));
    CHECK(!ap_path_symlink_escapes("link", "target"));
    CHECK(!ap_path_symlink_escapes("a/link", "./b/../c"));
    CHECK(!ap_path_symlink_escapes("a/link", "."));
    /* Relative, escaping through "..". */
    CHECK(ap_path_symlink_escapes("usr/lib/link", "../../../etc"));
    CHECK(ap_path_symlink_escapes("link", ".."));
    CHECK(ap_path_symlink_escapes("a/link", "b/../../../x"));
    /* Absolute targets resolve from the root. */
    CHECK(!ap_path_symlink_escapes("usr/bin/sh", "/usr/bin/dash"));
    CHECK(!ap_path_symlink_escapes("a/b/c/link", "/"));
    CHECK(!ap_path_symlink_escapes("a/b/c/link", "/etc/../usr"));
    CHECK(ap_path_symlink_escapes("a/b/c/link", "/../.."));
    CHECK(ap_path_symlink_escapes("link", "/.."));
    CHECK(ap_path_symlink_escapes("a/b/c/link", "/etc/../../x"));
    /* Empty targets count as escaping. */
    CHECK(ap_path_symlink_escapes("link", ""));
    CHECK(ap_path_symlink_escapes("link", NULL));
}
