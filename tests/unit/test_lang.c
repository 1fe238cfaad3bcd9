/* The lang suite's probe outputs (bench/lang.c): a runtime's version, keyword lines and the
 * goroutine stack figures, each read from what a probe printed, and refused when it is not
 * what the probe prints. */
#include <stdio.h>
#include <string.h>

#include "bench/lang.h"
#include "test.h"

static int version(const char *out, struct ap_lang_version *v, char *why, size_t wlen)
{
    return ap_lang_parse_version(out, strlen(out), v, why, wlen);
}

TEST(version_read)
{
    static const struct {
        const char *out, *text;
        unsigned major, minor, patch;
    } cases[] = {
        {"go1.23.5\n", "1.23.5", 1, 23, 5},
        {"go1.23.4", "1.23.4", 1, 23, 4},
        {"go1.23.0 X:boringcrypto\n", "1.23.0", 1, 23, 0},
        {"3.13.3 final 0\n", "3.13.3", 3, 13, 3},
        {"3.14.0 beta 2\n", "3.14.0", 3, 14, 0},
        {"10.200.3000\n", "10.200.3000", 10, 200, 3000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ap_lang_version v;
        char why[200] = "";
        if (!CHECK_MSG(version(cases[i].out, &v, why, sizeof(why)) == 0, "'%s': %s", cases[i].out,
                       why))
            continue;
        CHECK_MSG(strcmp(v.text, cases[i].text) == 0, "'%s' gave %s", cases[i].out, v.text);
        CHECK(v.major == cases[i].major && v.minor == cases[i].minor && v.patch == cases[i].patch);
    }
}

TEST(version_refused)
{
    static const char *const bad[] = {
        "",
        "\n",
        "go\n",
        "1.23\n",
        "go1.23rc1\n",
        "go1.23.",
        "1..2.3\n",
        "v1.23.4\n",
        "devel go1.24-abc\n",
        "1.23.4rc1\n",
        "1.23.4\n\n",
        "1.23.4\nx\n",
        "1.23.4 \x01\n",
        "1234567.1.1\n",
        " 1.23.4\n",
        "-1.2.3\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ap_lang_version v;
        char why[200] = "";
        CHECK_MSG(version(bad[i], &v, why, sizeof(why)) == -1, "'%s' was read", bad[i]);
        CHECK_MSG(why[0] != '\0', "'%s' refused without a reason", bad[i]);
    }
    /* A control character is shown escaped in the reason. */
    struct ap_lang_version v;
    char why[200];
    CHECK(version("3.13\x1b[2J\n", &v, why, sizeof(why)) == -1);
    CHECK_MSG(strchr(why, '\x1b') == NULL && strstr(why, "\\x1b") != NULL, "%s", why);
}

static int keywords(const char *out, cJSON **kw, cJSON **soft, char *why)
{
    return ap_lang_parse_keywords(out, strlen(out), kw, soft, why, 200);
}

TEST(keywords_read)
{
    cJSON *kw = NULL, *soft = NULL;
    char why[200] = "";
    /* Go's: one line. */
    const char go[] = "break case chan const continue default defer else fallthrough for func go "
                      "goto if import interface map package range return select struct switch "
                      "type var\n";
    if (CHECK_MSG(keywords(go, &kw, &soft, why) == 1, "%s", why)) {
        CHECK(cJSON_GetArraySize(kw) == 25 && soft == NULL);
        CHECK(strcmp(cJSON_GetArrayItem(kw, 0)->valuestring, "break") == 0);
        CHECK(strcmp(cJSON_GetArrayItem(kw, 24)->valuestring, "var") == 0);
    }
    cJSON_Delete(kw);
    /* Python's: keywords, then soft keywords. */
    const char py[] = "False None True and as assert async await break class continue def del "
                      "elif else except finally for from global if import in is lambda nonlocal "
                      "not or pass raise return try while with yield\n_ case match type\n";
    if (CHECK_MSG(keywords(py, &kw, &soft, why) == 2, "%s", why)) {
        CHECK(cJSON_GetArraySize(kw) == 35 && cJSON_GetArraySize(soft) == 4);
        CHECK(strcmp(cJSON_GetArrayItem(soft, 0)->valuestring, "_") == 0);
    }
    cJSON_Delete(kw);
    cJSON_Delete(soft);
    /* An empty soft list is a list of none. */
    if (CHECK_MSG(keywords("if else\n\n", &kw, &soft, why) == 2, "%s", why))
        CHECK(cJSON_GetArraySize(kw) == 2 && cJSON_GetArraySize(soft) == 0);
    cJSON_Delete(kw);
    cJSON_Delete(soft);
}

TEST(keywords_refused)
{
    static const char *const bad[] = {
        "",
        "\n",
        "if else",
        "if  else\n",
        " if\n",
        "if \n",
        "if\tfor\n",
        "if 2x\n",
        "if else-x\n",
        "if if\n",
        "if\nif\n",
        "a\nb\nc\n",
        "a\nb",
        "if\n\n\n",
        "\nmatch\n",
        "if \xc3\xa9\n",
        "abcdefghijklmnopqrstuvwxyzabcdefg\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cJSON *kw = (cJSON *)1, *soft = (cJSON *)1;
        char why[200] = "";
        CHECK_MSG(keywords(bad[i], &kw, &soft, why) == -1, "'%s' was read", bad[i]);
        CHECK_MSG(kw == NULL && soft == NULL && why[0] != '\0', "'%s': %s", bad[i], why);
    }
    /* The longest word there may be is read. */
    cJSON *kw = NULL, *soft = NULL;
    char why[200] = "";
    CHECK_MSG(keywords("abcdefghijklmnopqrstuvwxyzabcdef\n", &kw, &soft, why) == 1, "%s", why);
    cJSON_Delete(kw);
    /* More words than AP_LANG_MAX_WORDS. */
    char many[AP_LANG_MAX_WORDS * 8 + 16] = "";
    size_t at = 0;
    for (int i = 0; i <= AP_LANG_MAX_WORDS; i++)
        at += (size_t)snprintf(many + at, sizeof(many) - at, "%sk%d", i ? " " : "", i);
    snprintf(many + at, sizeof(many) - at, "\n");
    CHECK(keywords(many, &kw, &soft, why) == -1 && strstr(why, "more than") != NULL);
}

#define STACK_OK                                                                                   \
    "goroutines 10000\nstack_inuse_before 294912\nstack_inuse_after 20742144\n"                    \
    "private_before 2158592\nprivate_after 28680192\n"

static int stack(const char *out, int64_t n, struct ap_lang_stack *s, char *why)
{
    return ap_lang_parse_stack(out, strlen(out), n, s, why, 200);
}

TEST(stack_read)
{
    struct ap_lang_stack s;
    char why[200] = "";
    if (CHECK_MSG(stack(STACK_OK, 10000, &s, why) == 0, "%s", why)) {
        CHECK(s.goroutines == 10000);
        CHECK(s.stack_inuse_before == 294912 && s.stack_inuse_after == 20742144);
        CHECK(s.private_before == 2158592 && s.private_after == 28680192);
    }
    /* Any order of the lines. */
    CHECK(stack("private_after 5\nprivate_before 5\nstack_inuse_after 9\nstack_inuse_before 1\n"
                "goroutines 1\n",
                1, &s, why) == 0);
}

TEST(stack_refused)
{
    static const struct {
        const char *out, *needle;
    } bad[] = {
        {STACK_OK "goroutines 10000\n", "not seen before"},
        {"goroutines 10000\nstack_inuse_before 1\nstack_inuse_after 2\nprivate_before 3\n",
         "no line 'private_after'"},
        {"goroutines 9999\nstack_inuse_before 1\nstack_inuse_after 2\nprivate_before 3\n"
         "private_after 4\n",
         "not the 10000 started"},
        {"goroutines 10000\nstack_inuse_before 3\nstack_inuse_after 2\nprivate_before 3\n"
         "private_after 4\n",
         "shrank"},
        {"goroutines 10000\nstack_inuse_before 1\nstack_inuse_after 2\nprivate_before 5\n"
         "private_after 4\n",
         "shrank"},
        {"goroutines 10000\nstack_inuse_before -1\n", "not a line"},
        {"goroutines 10000\nstack_inuse_before 1 kB\n", "not a line"},
        {"goroutines 10000\nstack_inuse_before 1", "not a line"},
        {"goroutines 10000\nstack_inuse_before  1\n", "not a line"},
        {"goroutines 10000\nheap 1\n", "not a line"},
        {"goroutines 10000\nstack_inuse_before 1234567890123456789\n", "not a line"},
        {"", "no line 'goroutines'"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ap_lang_stack s;
        char why[200] = "";
        CHECK_MSG(stack(bad[i].out, 10000, &s, why) == -1, "case %zu was read", i);
        CHECK_MSG(strstr(why, bad[i].needle) != NULL, "case %zu: '%s' lacks '%s'", i, why,
                  bad[i].needle);
    }
}
