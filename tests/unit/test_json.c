/* JSON helpers (core/json.c): parsing with a located error, typed field access (missing keys,
 * wrong types, ranges), limits, and deterministic writing that reads back the same. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/error.h"
#include "core/fs.h"
#include "core/json.h"
#include "test.h"

static char tmpdir[4096];

static int setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/test_json.XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}
TEST_SETUP(setup)

/* Parses a literal; NULL (with the error shown) when it does not parse. */
static cJSON *parse(const char *text)
{
    cJSON *j = NULL;
    ap_error *err = NULL;
    if (ap_json_parse(text, strlen(text), "test.json", &j, &err) < 0) {
        test_note("parsing: %s", err->msg);
        ap_error_release(&err);
        return NULL;
    }
    return j;
}

/* Checks that err holds a message containing each of the (NULL-ended) parts, then frees it. */
static void error_says(ap_error **err, int line, ...)
{
    if (!CHECK_MSG(*err != NULL, "line %d: no error", line))
        return;
    va_list ap;
    va_start(ap, line);
    const char *part;
    while ((part = va_arg(ap, const char *)) != NULL)
        CHECK_MSG(test_contains((*err)->msg, part), "line %d: \"%s\" does not say \"%s\"", line,
                  (*err)->msg, part);
    va_end(ap);
    ap_error_release(err);
}

TEST(parse_reports_the_line_and_byte_of_a_syntax_error)
{
    const char text[] = "{\n  \"a\": 1,\n  \"b\": tru\n}\n";
    cJSON *j = NULL;
    ap_error *err = NULL;
    CHECK(ap_json_parse(text, strlen(text), "images/x/lock.json", &j, &err) == -1);
    CHECK(j == NULL);
    /* The error is at "tru", on the third line. */
    char byte[32];
    snprintf(byte, sizeof(byte), "(byte %zu)", (size_t)(strstr(text, "tru") - text));
    error_says(&err, __LINE__, "images/x/lock.json", "invalid JSON", "line 3", byte, NULL);

    /* Control: the corrected text parses. */
    cleanup_cjson cJSON *ok = parse("{\n  \"a\": 1,\n  \"b\": true\n}\n");
    CHECK(ok != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ok, "b")));
}

TEST(parse_reads_only_len_bytes)
{
    /* What follows len is not part of the document (buffers need not end in NUL). */
    const char text[] = "[1,2]garbage";
    cJSON *j = NULL;
    ap_error *err = NULL;
    CHECK(ap_json_parse(text, 5, "t", &j, &err) == 0);
    CHECK(cJSON_GetArraySize(j) == 2);
    cJSON_Delete(j);
    j = NULL;
    CHECK(ap_json_parse(text, 4, "t", &j, &err) == -1);
    error_says(&err, __LINE__, "invalid JSON", NULL);
    CHECK(ap_json_parse("", 0, "empty.json", &j, &err) == -1);
    error_says(&err, __LINE__, "empty.json", NULL);
}

TEST(parse_refuses_nesting_beyond_the_limit)
{
    /* Deep nesting is refused with an error, not a stack overflow. */
    enum { DEPTH = 100000 };
    char *text = malloc(2 * DEPTH);
    if (!CHECK(text != NULL))
        return;
    memset(text, '[', DEPTH);
    memset(text + DEPTH, ']', DEPTH);
    cJSON *j = NULL;
    ap_error *err = NULL;
    CHECK(ap_json_parse(text, 2 * DEPTH, "deep.json", &j, &err) == -1);
    CHECK(j == NULL);
    error_says(&err, __LINE__, "deep.json", "invalid JSON", NULL);
    /* Control: a shallow one parses. */
    CHECK(ap_json_parse(text + DEPTH - 10, 20, "shallow.json", &j, &err) == 0);
    cJSON_Delete(j);
    free(text);
}

TEST(get_string_present_missing_null_and_wrong_type)
{
    cleanup_cjson cJSON *j = parse("{\"name\":\"go-1.23\",\"n\":3,\"none\":null}");
    if (!CHECK(j != NULL))
        return;
    ap_error *err = NULL;
    const char *s = "unchanged";
    CHECK(ap_json_get_string(j, "name", 1, "recipe", &s, &err) == 0);
    CHECK(strcmp(s, "go-1.23") == 0);
    CHECK(err == NULL);

    /* Missing and optional: 0, *out untouched, no error. A null counts as missing. */
    s = "unchanged";
    CHECK(ap_json_get_string(j, "absent", 0, "recipe", &s, &err) == 0);
    CHECK(ap_json_get_string(j, "none", 0, "recipe", &s, &err) == 0);
    CHECK(strcmp(s, "unchanged") == 0 && err == NULL);

    CHECK(ap_json_get_string(j, "absent", 1, "recipe", &s, &err) == -1);
    error_says(&err, __LINE__, "recipe", "missing field \"absent\"", NULL);
    CHECK(ap_json_get_string(j, "none", 1, "recipe", &s, &err) == -1);
    error_says(&err, __LINE__, "missing field \"none\"", NULL);
    CHECK(ap_json_get_string(j, "n", 0, "recipe", &s, &err) == -1);
    error_says(&err, __LINE__, "recipe", "\"n\" must be a string", NULL);
    CHECK(strcmp(s, "unchanged") == 0);
    /* Keys are case-sensitive. */
    CHECK(ap_json_get_string(j, "Name", 1, "recipe", &s, &err) == -1);
    error_says(&err, __LINE__, "missing field \"Name\"", NULL);
}

TEST(get_from_something_that_is_not_an_object)
{
    cleanup_cjson cJSON *j = parse("[\"name\"]");
    if (!CHECK(j != NULL))
        return;
    ap_error *err = NULL;
    const char *s = NULL;
    int64_t v = 0;
    /* Even an optional field: the container itself is wrong. */
    CHECK(ap_json_get_string(j, "name", 0, "lock.json", &s, &err) == -1);
    error_says(&err, __LINE__, "lock.json", "expected an object", NULL);
    CHECK(ap_json_get_int(NULL, "n", 0, 0, 10, "lock.json", &v, &err) == -1);
    error_says(&err, __LINE__, "expected an object", NULL);
}

TEST(get_int_whole_numbers_within_bounds)
{
    cleanup_cjson cJSON *j = parse("{\"zero\":0,\"ten\":10,\"neg\":-1,\"half\":1.5,\"s\":\"5\","
                                   "\"big\":9007199254740992,\"exp\":1e3,\"t\":true}");
    if (!CHECK(j != NULL))
        return;
    ap_error *err = NULL;
    int64_t v = 42;
    CHECK(ap_json_get_int(j, "ten", 1, 0, 10, "spec", &v, &err) == 0 && v == 10);
    CHECK(ap_json_get_int(j, "zero", 1, 0, 10, "spec", &v, &err) == 0 && v == 0);
    CHECK(ap_json_get_int(j, "exp", 1, 0, 1000, "spec", &v, &err) == 0 && v == 1000);
    CHECK(ap_json_get_int(j, "big", 1, 0, INT64_MAX, "spec", &v, &err) == 0 &&
          v == INT64_C(9007199254740992));
    CHECK(err == NULL);

    v = 42;
    CHECK(ap_json_get_int(j, "ten", 1, 0, 9, "spec", &v, &err) == -1);
    error_says(&err, __LINE__, "spec", "\"ten\" must be a whole number from 0 to 9", NULL);
    CHECK(ap_json_get_int(j, "neg", 1, 0, 9, "spec", &v, &err) == -1);
    error_says(&err, __LINE__, "\"neg\"", "from 0 to 9", NULL);
    CHECK(ap_json_get_int(j, "half", 1, 0, 9, "spec", &v, &err) == -1);
    error_says(&err, __LINE__, "\"half\" must be a whole number", NULL);
    CHECK(ap_json_get_int(j, "s", 1, 0, 9, "spec", &v, &err) == -1);
    error_says(&err, __LINE__, "\"s\" must be a number", NULL);
    CHECK(ap_json_get_int(j, "t", 1, 0, 9, "spec", &v, &err) == -1);
    error_says(&err, __LINE__, "\"t\" must be a number", NULL);
    CHECK(ap_json_get_int(j, "absent", 1, 0, 9, "spec", &v, &err) == -1);
    error_says(&err, __LINE__, "missing field \"absent\"", NULL);
    CHECK(v == 42);
    CHECK(ap_json_get_int(j, "absent", 0, 0, 9, "spec", &v, &err) == 0 && v == 42 && err == NULL);
}

TEST(get_string_array_elements_and_errors)
{
    cleanup_cjson cJSON *j = parse("{\"cmd\":[\"/bin/sh\",\"-c\",\"true\"],\"empty\":[],"
                                   "\"mixed\":[\"a\",2],\"str\":\"a\"}");
    if (!CHECK(j != NULL))
        return;
    ap_error *err = NULL;
    const char **arr = NULL;
    size_t n = 99;
    CHECK(ap_json_get_string_array(j, "cmd", 1, "image.json", &arr, &n, &err) == 0);
    if (CHECK(arr != NULL && n == 3)) {
        CHECK(strcmp(arr[0], "/bin/sh") == 0 && strcmp(arr[2], "true") == 0);
        CHECK(arr[3] == NULL);
    }
    free(arr);

    arr = NULL;
    CHECK(ap_json_get_string_array(j, "empty", 1, "image.json", &arr, &n, &err) == 0);
    CHECK(arr != NULL && n == 0 && arr[0] == NULL);
    free(arr);
    /* Missing and optional: an empty array, never NULL. */
    arr = NULL;
    n = 99;
    CHECK(ap_json_get_string_array(j, "absent", 0, "image.json", &arr, &n, &err) == 0);
    CHECK(arr != NULL && n == 0 && arr[0] == NULL);
    free(arr);

    arr = NULL;
    CHECK(ap_json_get_string_array(j, "absent", 1, "image.json", &arr, &n, &err) == -1);
    error_says(&err, __LINE__, "image.json", "missing field \"absent\"", NULL);
    CHECK(ap_json_get_string_array(j, "mixed", 1, "image.json", &arr, &n, &err) == -1);
    error_says(&err, __LINE__, "\"mixed\"[1] must be a string", NULL);
    CHECK(ap_json_get_string_array(j, "str", 1, "image.json", &arr, &n, &err) == -1);
    error_says(&err, __LINE__, "\"str\" must be an array of strings", NULL);
    CHECK(arr == NULL);
}

TEST(compact_has_no_whitespace_and_keeps_insertion_order)
{
    cleanup_cjson cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "z", "last letter");
    cJSON_AddNumberToObject(j, "a", 2);
    cJSON *arr = cJSON_AddArrayToObject(j, "m");
    cJSON_AddItemToArray(arr, cJSON_CreateString("x"));
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(1.5));
    cleanup_free char *s = ap_json_compact(j);
    const char want[] = "{\"z\":\"last letter\",\"a\":2,\"m\":[\"x\",1.5]}";
    CHECK_MSG(s != NULL && strcmp(s, want) == 0, "compact \"%s\", want \"%s\"", s ? s : "(null)",
              want);
    /* The same tree gives the same bytes: what content-addressed blobs rely on. */
    cleanup_free char *again = ap_json_compact(j);
    CHECK(s != NULL && again != NULL && strcmp(s, again) == 0);
}

TEST(write_file_then_read_file_round_trips)
{
    char path[4200];
    if (!CHECK(ap_fs_path(path, sizeof(path), "%s/doc.json", tmpdir) == 0))
        return;
    cleanup_cjson cJSON *j =
        parse("{\"name\":\"python-3.13t\",\"sizes\":[1,2,3],\"nested\":{\"k\":\"v\\n\\u0001\"}}");
    if (!CHECK(j != NULL))
        return;
    ap_error *err = NULL;
    if (!CHECK_MSG(ap_json_write_file(path, j, &err) == 0, "%s", err ? err->msg : "")) {
        ap_error_release(&err);
        return;
    }
    char *text = NULL;
    size_t len = 0;
    CHECK(ap_fs_read_file(AT_FDCWD, path, 1 << 20, &text, &len, &err) == 0);
    /* Indented for people, with a final newline. */
    CHECK(text != NULL && len > 2 && text[len - 1] == '\n' && text[len - 2] != '\n');
    CHECK(test_contains(text, "\n\t\"name\":"));
    free(text);

    cleanup_cjson cJSON *back = NULL;
    CHECK(ap_json_read_file(path, 1 << 20, &back, &err) == 0);
    CHECK(back != NULL && cJSON_Compare(j, back, 1));
}

TEST(read_file_limits_and_missing_files)
{
    char path[4200], missing[4200];
    if (!CHECK(ap_fs_path(path, sizeof(path), "%s/small.json", tmpdir) == 0 &&
               ap_fs_path(missing, sizeof(missing), "%s/absent.json", tmpdir) == 0))
        return;
    ap_error *err = NULL;
    const char doc[] = "{\"a\":1}";
    CHECK(ap_fs_write_atomic(path, doc, sizeof(doc) - 1, 0644, &err) == 0);
    cJSON *j = NULL;
    CHECK(ap_json_read_file(path, sizeof(doc) - 2, &j, &err) == -1);
    CHECK(j == NULL);
    error_says(&err, __LINE__, path, "more than the", NULL);
    /* Control: a limit of the file's size reads it. */
    CHECK(ap_json_read_file(path, sizeof(doc) - 1, &j, &err) == 0);
    cJSON_Delete(j);
    j = NULL;

    CHECK(ap_json_read_file(missing, 1 << 20, &j, &err) == -1);
    if (CHECK(err != NULL))
        CHECK(err->status == ENOENT);
    error_says(&err, __LINE__, missing, NULL);

    /* A file that is not JSON names itself in the error. */
    CHECK(ap_fs_write_atomic(path, "{\"a\":", 5, 0644, &err) == 0);
    CHECK(ap_json_read_file(path, 1 << 20, &j, &err) == -1);
    error_says(&err, __LINE__, path, "invalid JSON", NULL);
}

TEST(cleanup_removes_the_test_tree)
{
    ap_error *err = NULL;
    CHECK(ap_fs_remove_tree(tmpdir, &err) == 0);
    CHECK(access(tmpdir, F_OK) < 0 && errno == ENOENT);
    ap_error_release(&err);
}
