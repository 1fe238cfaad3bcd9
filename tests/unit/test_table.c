/* Text tables laid out to a width (core/table.h): at 80, 100 and 120 columns and without a limit
 * every line fits, every row keeps all its figures in order, a row is one line while it fits,
 * and no line ends in padding. The rows are those of `appliance bench`'s summary. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/table.h"
#include "test.h"

/* Rows as the bench summary makes them: id; label, median, unit, status, interval, cv, n, ratio;
 * and the note under a flagged figure. Every figure is distinct, so that finding it finds it in
 * its own row. */
static const struct {
    const char *id, *cells[8], *note;
} summary[] = {
    {"cpu/pidigits/go-1.23-static",
     {"wall (exec to exit)", "0.8123", "s", "ok", "[0.8012, 0.8254] 96.9%", "cv 1.3%", "n 10", ""},
     NULL},
    {"cpu/pidigits/go-1.23-static",
     {"cpu (cgroup)", "0.8097", "s", "ok", "[0.7991, 0.8231] 96.9%", "cv 1.1%", "n 10", ""},
     NULL},
    {"cpu/pidigits/python-3.13",
     {"wall (exec to exit)", "2.468", "s", "unstable", "[2.401, 2.622] 96.9%", "cv 7.4%", "n 11",
      "3.04x"},
     "unstable: the spread of the samples is over 5 % of the median (cv 7.4 %); the figure is "
     "shown but no claim should rest on it until a quieter run confirms it"},
    {"cpu/pidigits/python-3.13",
     {"cpu (cgroup)", "2.439", "s", "ok", "[2.398, 2.512] 96.9%", "cv 2.2%", "n 12",
      "no ratio: Go unstable"},
     NULL},
    {"cpu/binarytrees/python-3.13",
     {"wall (exec to exit)", "14.52", "s", "ok", "n too small", "cv 0.4%", "n 3",
      "no ratio: does not predict the published size"},
     NULL},
    {"startup/container/go-1.23-static/hello-stripped",
     {"sandbox to first 200", "123.4", "ms", "client-saturated", "none: all 9 samples noisy",
      "cv -", "n 0", "no ratio: client-saturated"},
     NULL},
    {"latency/python-3.13-fastapi/c64",
     {"achieved", "4567", "req/s", "no-valid-response", "no figure (see warnings)", "cv 12.5%",
      "n 5", ""},
     NULL},
};

static void fill(struct ap_table *t, int with_notes)
{
    ap_table_init(t, 8, 1u << 1, 2);
    for (size_t i = 0; i < sizeof(summary) / sizeof(summary[0]); i++) {
        ap_error *err = NULL;
        CHECK(ap_table_add(t, summary[i].id, summary[i].cells, 8,
                           with_notes ? summary[i].note : NULL, &err) == 0);
        ap_error_release(&err);
    }
}

/* The table as printed at width (a heap string). Not inlined: GCC then takes the stream's
 * buffer for the local that open_memstream fills and warns of a dangling pointer. */
__attribute__((noinline)) static char *render(const struct ap_table *t, int width)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    ap_table_print(t, f, width);
    fclose(f);
    return text;
}

/* s with every run of white space (line breaks and indentation included) made one space. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    if (out == NULL)
        abort();
    for (; *s != '\0'; s++) {
        if (isspace((unsigned char)*s)) {
            if (o > out && o[-1] != ' ')
                *o++ = ' ';
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

/* Lines of text, the widest, and whether one ends in a space. */
static void measure(const char *text, int *lines, int *widest, int *padded)
{
    *lines = *widest = *padded = 0;
    for (const char *p = text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        int len = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        (*lines)++;
        if (len > *widest)
            *widest = len;
        if (len > 0 && p[len - 1] == ' ')
            *padded = 1;
        p += len + (nl != NULL);
    }
}

/* Every id and every figure of every row, in the rows' order, and every note whole. */
static int all_figures_in_order(const char *text)
{
    char *flat = squeeze(text);
    const char *at = flat;
    int ok = 1;
    for (size_t i = 0; i < sizeof(summary) / sizeof(summary[0]) && ok; i++) {
        ok = strstr(flat, summary[i].id) != NULL;
        for (size_t k = 0; k < 8 && ok; k++) {
            if (summary[i].cells[k][0] == '\0')
                continue;
            const char *found = strstr(at, summary[i].cells[k]);
            if (found == NULL)
                test_note("row %zu: '%s' missing or out of order", i, summary[i].cells[k]);
            ok = found != NULL;
            at = ok ? found + strlen(summary[i].cells[k]) : at;
        }
        if (ok && summary[i].note != NULL) {
            char *note = squeeze(summary[i].note);
            const char *found = strstr(at, note);
            ok = found != NULL;
            at = ok ? found + strlen(note) : at;
            free(note);
        }
    }
    free(flat);
    return ok;
}

TEST(every_line_fits_and_keeps_its_figures)
{
    const int widths[] = {80, 100, 120, 0};
    struct ap_table t;
    fill(&t, 1);
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        char *text = render(&t, widths[i]);
        int lines, widest, padded;
        measure(text, &lines, &widest, &padded);
        if (widths[i] > 0)
            CHECK_MSG(widest <= widths[i], "width %d: a line of %d columns:\n%s", widths[i], widest,
                      text);
        CHECK_MSG(all_figures_in_order(text), "width %d:\n%s", widths[i], text);
        CHECK_MSG(!padded, "width %d: a line ends in a space:\n%s", widths[i], text);
        free(text);
    }
    ap_table_free(&t);
}

TEST(without_a_limit_a_row_is_one_line_with_its_id)
{
    struct ap_table t;
    fill(&t, 0);
    char *text = render(&t, 0);
    int lines, widest, padded;
    measure(text, &lines, &widest, &padded);
    size_t n = sizeof(summary) / sizeof(summary[0]);
    CHECK_MSG(lines == (int)n, "%d lines for %zu rows:\n%s", lines, n, text);
    /* The widest row is wider than the terminals below: they need another layout. */
    CHECK_MSG(widest > 120, "the widest row is %d columns", widest);
    /* Each line holds its row's id and its figures. */
    const char *line = text;
    for (size_t i = 0; i < n; i++) {
        const char *nl = strchr(line, '\n');
        CHECK(nl != NULL && strncmp(line + 2, summary[i].id, strlen(summary[i].id)) == 0);
        if (nl == NULL)
            break;
        CHECK(memmem(line, (size_t)(nl - line), summary[i].cells[4], strlen(summary[i].cells[4])) !=
              NULL);
        line = nl + 1;
    }
    free(text);
    ap_table_free(&t);
}

/* The column where the first needle in text ends, or -1. */
static int end_column(const char *text, const char *needle)
{
    const char *m = strstr(text, needle);
    if (m == NULL)
        return -1;
    const char *bol = m;
    while (bol > text && bol[-1] != '\n')
        bol--;
    return (int)(m - bol) + (int)strlen(needle);
}

/* Whether every row's median ends at the same column (it is right-aligned) on the line of its
 * label: the rows are laid out in columns. */
static int medians_aligned(const char *text, size_t n)
{
    int end = -1;
    for (size_t r = 0; r < n; r++) {
        int e = end_column(text, summary[r].cells[1]);
        int label = end_column(text, summary[r].cells[0]);
        if (e < 0 || label < 0 || e <= label || (end >= 0 && e != end))
            return 0;
        end = e;
    }
    return 1;
}

TEST(at_120_and_100_the_columns_line_up)
{
    const int widths[] = {120, 100};
    struct ap_table t;
    fill(&t, 1);
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        char *text = render(&t, widths[i]);
        CHECK_MSG(medians_aligned(text, sizeof(summary) / sizeof(summary[0])),
                  "width %d: the medians do not line up:\n%s", widths[i], text);
        free(text);
    }
    ap_table_free(&t);
}

TEST(at_120_and_100_a_typical_block_is_one_line_a_row)
{
    /* The cpu block of a quick run: two images, two metrics each, short ratios. */
    struct ap_table t;
    ap_table_init(&t, 8, 1u << 1, 2);
    for (size_t i = 0; i < 3; i++) {
        ap_error *err = NULL;
        CHECK(ap_table_add(&t, summary[i].id, summary[i].cells, 8, NULL, &err) == 0);
        ap_error_release(&err);
    }
    const int widths[] = {120, 100};
    for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
        char *text = render(&t, widths[i]);
        int lines, widest, padded;
        measure(text, &lines, &widest, &padded);
        /* Wide (3 lines) or the ids above their rows (5 lines); never a row over two lines. */
        CHECK_MSG((lines == 3 || lines == 2 + 3) && widest <= widths[i] && medians_aligned(text, 3),
                  "width %d: %d lines:\n%s", widths[i], lines, text);
        free(text);
    }
    ap_table_free(&t);
}

TEST(at_80_a_row_flows_over_lines_that_fit)
{
    struct ap_table t;
    fill(&t, 1);
    char *text = render(&t, 80);
    int lines, widest, padded;
    measure(text, &lines, &widest, &padded);
    CHECK_MSG(widest <= 80 && lines > (int)(2 * sizeof(summary) / sizeof(summary[0])),
              "%d lines, the widest %d:\n%s", lines, widest, text);
    free(text);
    ap_table_free(&t);
}

TEST(a_narrow_table_names_each_cell_by_its_header)
{
    struct ap_table t;
    ap_table_init(&t, 2, 0, 2);
    t.header = 1;
    ap_error *err = NULL;
    const char *head[] = {"compressed (Go / Python)", "unpacked (Go / Python)"};
    const char *row[] = {"    1.23 /    23.48 MiB ok      19.09x",
                         "    2.01 /    60.46 MiB ok      30.08x"};
    CHECK(ap_table_add(&t, "pair", head, 2, NULL, &err) == 0);
    CHECK(ap_table_add(&t, "net/http vs FastAPI", row, 2, NULL, &err) == 0);
    char *wide = render(&t, 0), *narrow = render(&t, 60);
    CHECK_MSG(test_contains(wide, "pair") && test_contains(wide, head[0]), "%s", wide);
    CHECK_MSG(test_contains(narrow, "compressed (Go / Python):") &&
                  test_contains(narrow, "unpacked (Go / Python):") &&
                  !test_contains(narrow, "pair"),
              "%s", narrow);
    int lines, widest, padded;
    measure(narrow, &lines, &widest, &padded);
    CHECK_MSG(widest <= 60 && !padded, "%s", narrow);
    free(wide);
    free(narrow);
    ap_table_free(&t);
    ap_error_release(&err);
}

TEST(a_word_wider_than_the_line_is_cut_never_dropped)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!CHECK(f != NULL))
        return;
    const char *word = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    ap_table_print_text(f, word, 2, 4, 30);
    fclose(f);
    int lines, widest, padded;
    measure(text, &lines, &widest, &padded);
    char *flat = squeeze(text);
    /* The pieces, joined, give the word back. */
    char joined[128] = "";
    for (char *p = strtok(flat, " "); p != NULL; p = strtok(NULL, " "))
        strncat(joined, p, sizeof(joined) - strlen(joined) - 1);
    CHECK_MSG(widest <= 30 && lines == 3 && strcmp(joined, word) == 0, "%s", text);
    free(flat);
    free(text);
}

/* Sets $COLUMNS (NULL: unsets it). */
static void columns(const char *v)
{
    if (v != NULL)
        setenv("COLUMNS", v, 1);
    else
        unsetenv("COLUMNS");
}

TEST(the_width_is_the_terminals_or_columns_and_plain_output_has_none)
{
    const char *saved = getenv("COLUMNS");
    char *keep = saved != NULL ? strdup(saved) : NULL;
    /* A memory stream is no terminal: no limit, even with $COLUMNS set. */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!CHECK(mem != NULL))
        return;
    columns("90");
    CHECK(ap_table_width(mem) == 0);
    fclose(mem);
    free(text);
    /* A terminal: its width, or $COLUMNS when it is a number. */
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname(master) == NULL) {
        printf("skip - no pseudo-terminal here (%s): the terminal's width is not tested\n",
               strerror(errno));
    } else {
        FILE *tty = fopen(ptsname(master), "w");
        struct winsize ws = {.ws_row = 24, .ws_col = 100};
        if (CHECK(tty != NULL) && CHECK(ioctl(fileno(tty), TIOCSWINSZ, &ws) == 0)) {
            columns(NULL);
            CHECK(ap_table_width(tty) == 100);
            columns("90");
            CHECK(ap_table_width(tty) == 90);
            columns("wide");
            CHECK(ap_table_width(tty) == 100);
        }
        if (tty != NULL)
            fclose(tty);
    }
    if (master >= 0)
        close(master);
    columns(keep);
    free(keep);
}
