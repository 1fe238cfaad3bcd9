/* A tiny test framework for the unit tests: header-only, one test program per file.
 *
 *     TEST(parses_magic) { CHECK(x == 1); CHECK_MSG(n == 2, "n is %d", n); }
 *
 * TEST() registers the function through a constructor; the header's main() runs every test
 * in source order (or only those whose name contains argv[1]) and ends with the closing line
 * "N passed, N failed" that tests/run-all adds up. Every CHECK counts as one pass or one fail.
 * A file that needs set-up (ap_hash_init) writes TEST_SETUP(fn) with `static int fn(void)`
 * returning 0 on success. */
#ifndef AP_TEST_H
#define AP_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_MAX 256

struct test_case {
    const char *name;
    void (*fn)(void);
    int line;
};

static struct test_case test_cases[TEST_MAX];
static size_t test_count;
static int (*test_setup_fn)(void);
static const char *test_current = "";
static unsigned long test_passed, test_failed;

static inline void test_register(const char *name, void (*fn)(void), int line)
{
    if (test_count == TEST_MAX) {
        fprintf(stderr, "test.h: more than %d tests in one file\n", TEST_MAX);
        abort();
    }
    test_cases[test_count++] = (struct test_case){name, fn, line};
}

/* Records one check; returns cond so a test can stop early: `if (!CHECK(p)) return;`. */
static inline int test_check(int cond, const char *file, int line, const char *expr)
{
    if (cond) {
        test_passed++;
        return 1;
    }
    test_failed++;
    printf("FAIL %s:%d: %s: CHECK(%s)\n", file, line, test_current, expr);
    fflush(stdout);
    return 0;
}

static inline void test_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void test_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("    ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* True when s is not NULL and contains needle. */
static inline int test_contains(const char *s, const char *needle)
{
    return s != NULL && strstr(s, needle) != NULL;
}

/* A growable byte buffer for building archives and collecting output in memory. */
struct test_buf {
    unsigned char *data;
    size_t len, cap;
};

static inline void test_buf_append(struct test_buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (p == NULL) {
            fprintf(stderr, "test.h: out of memory\n");
            abort();
        }
        b->data = p;
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
}

static inline void test_buf_free(struct test_buf *b)
{
    free(b->data);
    *b = (struct test_buf){NULL, 0, 0};
}

#define CHECK(cond) test_check(!!(cond), __FILE__, __LINE__, #cond)

/* Like CHECK, and on failure also prints the formatted message (values seen, error text). */
#define CHECK_MSG(cond, ...)                                                                       \
    (test_check(!!(cond), __FILE__, __LINE__, #cond) ? 1 : (test_note(__VA_ARGS__), 0))

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void name##_register(void)                                 \
    {                                                                                              \
        test_register(#name, name, __LINE__);                                                      \
    }                                                                                              \
    static void name(void)

#define TEST_SETUP(fn)                                                                             \
    __attribute__((constructor)) static void test_setup_register(void)                             \
    {                                                                                              \
        test_setup_fn = fn;                                                                        \
    }

static int test_by_line(const void *a, const void *b)
{
    const struct test_case *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

int main(int argc, char **argv)
{
    /* Constructors run in an order the toolchain picks; the source order is the one a reader
     * expects. */
    qsort(test_cases, test_count, sizeof(test_cases[0]), test_by_line);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (test_setup_fn != NULL && test_setup_fn() != 0) {
        printf("FAIL: set-up failed\n");
        test_failed++;
    } else {
        for (size_t i = 0; i < test_count; i++) {
            if (argc > 1 && strstr(test_cases[i].name, argv[1]) == NULL)
                continue;
            test_current = test_cases[i].name;
            unsigned long failed_before = test_failed;
            test_cases[i].fn();
            printf("%s %s\n", test_failed == failed_before ? "ok  " : "FAIL", test_current);
        }
    }
    printf("%lu passed, %lu failed\n", test_passed, test_failed);
    return test_failed > 0 ? 1 : 0;
}

#endif
