/* Escaping of untrusted text in messages (core/text.c) and its use by errors and logs. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/text.h"
#include "test.h"

static int escapes_to(const char *in, const char *want)
{
    char *got = ap_text_escape(in);
    int ok = got != NULL && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "#   escaping gave \"%s\", expected \"%s\"\n", got ? got : "(null)", want);
    free(got);
    return ok;
}

TEST(printable_text_is_kept)
{
    CHECK(escapes_to("", ""));
    CHECK(escapes_to("usr/bin/python3.13 ~ [x] \\ \"q\"", "usr/bin/python3.13 ~ [x] \\ \"q\""));
    /* UTF-8 of two, three and four bytes. */
    CHECK(escapes_to("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d",
                     "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x8d"));
}

TEST(control_characters_are_escaped)
{
    CHECK(escapes_to("a\nb\tc\rd", "a\\nb\\tc\\rd"));
    CHECK(escapes_to("\x1b[31mred", "\\033[31mred"));
    CHECK(escapes_to("\a\b\f\v\x7f\x01", "\\a\\b\\f\\v\\177\\001"));
    /* C1 controls: U+009B is a CSI on some terminals. */
    CHECK(escapes_to("x\xc2\x9b"
                     "1m",
                     "x\\302\\2331m"));
}

TEST(invalid_utf8_is_escaped_byte_by_byte)
{
    CHECK(escapes_to("\x9b", "\\233"));
    CHECK(escapes_to("\xc3", "\\303"));                            /* cut short */
    CHECK(escapes_to("\xc0\xaf", "\\300\\257"));                   /* overlong "/" */
    CHECK(escapes_to("\xed\xa0\x80", "\\355\\240\\200"));          /* a surrogate */
    CHECK(escapes_to("\xf4\x90\x80\x80", "\\364\\220\\200\\200")); /* past U+10FFFF */
}

TEST(error_messages_escape_what_they_format)
{
    ap_error *err = NULL;
    CHECK(ap_error_make(&err, 0, "refusing entry \"%s\"", "\x1b]0;title\a\nHint: fine") == -1);
    CHECK_MSG(err != NULL &&
                  strcmp(err->msg, "refusing entry \"\\033]0;title\\a\\nHint: fine\"") == 0,
              "%s", err ? err->msg : "(none)");
    ap_error_hint(&err, "rename %s", "a\nb");
    CHECK_MSG(err != NULL && strstr(err->msg, "\"\nHint: rename a\\nb") != NULL, "%s",
              err ? err->msg : "(none)");
    ap_error_wrap(&err, "package %s", "p\x1b");
    CHECK_MSG(err != NULL && strncmp(err->msg, "package p\\033: ", 15) == 0, "%s",
              err ? err->msg : "(none)");
    ap_error_release(&err);
}

TEST(error_lines_are_indented_and_escaped)
{
    ap_error *err = NULL;
    ap_error_make(&err, 0, "stage s failed; the end of its output:");
    CHECK(ap_error_lines(&err, "one\n\x1b[2Jtwo\n") == -1);
    CHECK_MSG(err != NULL && strcmp(err->msg, "stage s failed; the end of its output:\n  | one\n"
                                              "  | \\033[2Jtwo") == 0,
              "%s", err ? err->msg : "(none)");
    ap_error_release(&err);
}

TEST(ids_are_names_safe_in_files_and_messages)
{
    CHECK(ap_text_id_valid("20261205T101500Z-a1b2", 64));
    CHECK(ap_text_id_valid("go-1.23_static", 64));
    CHECK(!ap_text_id_valid("", 64));
    CHECK(!ap_text_id_valid("-leading", 64));
    CHECK(!ap_text_id_valid(".hidden", 64));
    CHECK(!ap_text_id_valid("a/b", 64));
    CHECK(!ap_text_id_valid("a\x1b", 64));
    CHECK(ap_text_id_valid("abcd", 4));
    CHECK(!ap_text_id_valid("abcde", 4));
}
