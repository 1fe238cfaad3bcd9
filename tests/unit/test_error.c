/* Errors and hints (core/error.c): building an error, the errno text, context added on the way
 * up, hints at the end, and the line the user finally reads (cmd/common.c's ap_cmd_fail). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/cleanup.h"
#include "core/error.h"
#include "test.h"

/* Checks that err holds exactly want (and frees it). */
static void msg_is(ap_error **err, const char *want, int line)
{
    if (!CHECK_MSG(*err != NULL, "line %d: no error", line))
        return;
    CHECK_MSG(strcmp((*err)->msg, want) == 0, "line %d: message \"%s\", want \"%s\"", line,
              (*err)->msg, want);
    ap_error_release(err);
}

TEST(make_without_status_is_the_message_alone)
{
    ap_error *err = NULL;
    CHECK(ap_error_make(&err, 0, "reading %s: %d fields", "lock.json", 3) == -1);
    if (CHECK(err != NULL))
        CHECK(err->status == 0);
    msg_is(&err, "reading lock.json: 3 fields", __LINE__);
    CHECK(err == NULL);
}

TEST(make_with_status_appends_the_errno_text)
{
    ap_error *err = NULL;
    char want[256];
    snprintf(want, sizeof(want), "opening %s: %s", "x.json", strerror(ENOENT));
    CHECK(ap_error_make(&err, ENOENT, "opening %s", "x.json") == -1);
    if (CHECK(err != NULL))
        CHECK(err->status == ENOENT);
    msg_is(&err, want, __LINE__);
}

TEST(make_keeps_the_first_error)
{
    /* The first failure is the cause; a later one (a clean-up failing) must not replace it. */
    ap_error *err = NULL;
    ap_error_make(&err, EACCES, "first");
    ap_error *first = err;
    CHECK(ap_error_make(&err, EIO, "second") == -1);
    CHECK(err == first);
    if (CHECK(err != NULL)) {
        CHECK(err->status == EACCES);
        CHECK_MSG(!test_contains(err->msg, "second"), "message \"%s\"", err->msg);
    }
    ap_error_release(&err);
}

TEST(make_and_wrap_without_a_place_to_put_it)
{
    /* A caller that does not want the error passes NULL: still -1, nothing to free. */
    CHECK(ap_error_make(NULL, ENOENT, "ignored") == -1);
    CHECK(ap_error_wrap(NULL, "ignored") == -1);
    CHECK(ap_error_hint(NULL, "ignored") == -1);
    ap_error *err = NULL;
    CHECK(ap_error_wrap(&err, "context") == -1);
    CHECK(ap_error_hint(&err, "hint") == -1);
    CHECK(err == NULL);
    ap_error_release(&err);
    ap_error_release(NULL);
}

TEST(wrap_prefixes_context_and_keeps_the_status)
{
    ap_error *err = NULL;
    ap_error_make(&err, 0, "bad magic");
    CHECK(ap_error_wrap(&err, "reading %s", "a.deb") == -1);
    CHECK(ap_error_wrap(&err, "fetching %s", "pkg") == -1);
    if (CHECK(err != NULL))
        CHECK(err->status == 0);
    msg_is(&err, "fetching pkg: reading a.deb: bad magic", __LINE__);

    ap_error_make(&err, EPERM, "mounting");
    ap_error_wrap(&err, "sandbox");
    if (CHECK(err != NULL))
        CHECK(err->status == EPERM);
    ap_error_release(&err);
}

TEST(hint_goes_on_a_line_of_its_own_at_the_end)
{
    ap_error *err = NULL;
    ap_error_make(&err, 0, "seccomp is not available");
    CHECK(ap_error_hint(&err, "use a kernel with %s", "CONFIG_SECCOMP_FILTER") == -1);
    msg_is(&err, "seccomp is not available\nHint: use a kernel with CONFIG_SECCOMP_FILTER",
           __LINE__);
}

/* Three layers, as an error travels: the lowest knows errno, the middle one the file, the top
 * one what the user asked for and how to fix it. */
static int lowest(const char *path, ap_error **err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ap_error_make(err, errno, "opening %s", path);
    close(fd);
    return 0;
}

static int middle(const char *path, ap_error **err)
{
    if (lowest(path, err) < 0)
        return ap_error_wrap(err, "reading the lock");
    return 0;
}

static int top(const char *path, ap_error **err)
{
    if (middle(path, err) < 0) {
        ap_error_wrap(err, "building image %s", "go-1.23");
        return ap_error_hint(err, "run `appliance image lock %s` first", "go-1.23");
    }
    return 0;
}

TEST(propagation_reads_what_where_why_and_how_to_fix)
{
    ap_error *err = NULL;
    const char *missing = "/nonexistent-dir/lock.json";
    CHECK(top(missing, &err) == -1);
    char want[512];
    snprintf(want, sizeof(want),
             "building image go-1.23: reading the lock: opening %s: %s\n"
             "Hint: run `appliance image lock go-1.23` first",
             missing, strerror(ENOENT));
    if (CHECK(err != NULL))
        CHECK(err->status == ENOENT);
    msg_is(&err, want, __LINE__);

    /* Control: the same chain on a file that exists succeeds and leaves err alone. */
    CHECK(top("/dev/null", &err) == 0);
    CHECK(err == NULL);
}

TEST(a_wrap_after_a_hint_keeps_the_hint_last)
{
    ap_error *err = NULL;
    ap_error_make(&err, 0, "no key");
    ap_error_hint(&err, "run keygen");
    ap_error_wrap(&err, "signing");
    msg_is(&err, "signing: no key\nHint: run keygen", __LINE__);
}

TEST(long_messages_are_not_cut)
{
    char name[5000];
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    ap_error *err = NULL;
    ap_error_make(&err, 0, "%s", name);
    ap_error_wrap(&err, "%s", name);
    ap_error_hint(&err, "%s", name);
    if (CHECK(err != NULL)) {
        size_t want = 2 * strlen(name) + strlen(": ") + strlen("\nHint: ") + strlen(name);
        CHECK_MSG(strlen(err->msg) == want, "%zu bytes, want %zu", strlen(err->msg), want);
    }
    ap_error_release(&err);
}

/* Runs ap_cmd_fail with stderr sent to a temporary file; returns what it printed (caller
 * frees) and its exit code in *rc. */
static char *printed(ap_error **err, int *rc)
{
    FILE *f = tmpfile();
    if (f == NULL)
        return NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(f), STDERR_FILENO);
    *rc = ap_cmd_fail(err);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t n = lseek(fileno(f), 0, SEEK_END);
    char *out = n >= 0 ? calloc(1, (size_t)n + 1) : NULL;
    if (out != NULL && pread(fileno(f), out, (size_t)n, 0) != n) {
        free(out);
        out = NULL;
    }
    fclose(f);
    return out;
}

TEST(the_user_reads_one_error_line_then_the_hint)
{
    ap_error *err = NULL;
    ap_error_make(&err, EACCES, "opening %s", "key");
    ap_error_hint(&err, "check the key's owner");
    int rc = -1;
    cleanup_free char *out = printed(&err, &rc);
    char want[256];
    snprintf(want, sizeof(want), "appliance: error: opening key: %s\nHint: check the key's owner\n",
             strerror(EACCES));
    CHECK_MSG(out != NULL && strcmp(out, want) == 0, "printed \"%s\", want \"%s\"",
              out ? out : "(nothing)", want);
    CHECK(rc == AP_EXIT_FAIL);
    CHECK(err == NULL);
}

TEST(printing_no_error_still_says_something)
{
    ap_error *err = NULL;
    int rc = -1;
    cleanup_free char *out = printed(&err, &rc);
    CHECK_MSG(test_contains(out, "appliance: error: "), "printed \"%s\"", out ? out : "(nothing)");
    CHECK(rc == AP_EXIT_FAIL);
}
