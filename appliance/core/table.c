/* Text tables laid out to the output's width (table.h). */
#include "table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void ap_table_init(struct ap_table *t, size_t n_cols, unsigned right, int indent)
{
    memset(t, 0, sizeof(*t));
    t->n_cols = n_cols < AP_TABLE_MAX_COLS ? n_cols : AP_TABLE_MAX_COLS;
    t->right = right;
    t->indent = indent;
}

static void row_free(struct ap_table_row *r)
{
    free(r->key);
    for (size_t i = 0; i < AP_TABLE_MAX_COLS; i++)
        free(r->cells[i]);
    free(r->note);
}

/* A copy of s; NULL and "" both stay NULL, an empty cell. Returns -1 for want of memory. */
static int dup_or_null(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL || *s == '\0')
        return 0;
    *out = strdup(s);
    return *out == NULL ? -1 : 0;
}

int ap_table_add(struct ap_table *t, const char *key, const char *const *cells, size_t n,
                 const char *note, ap_error **err)
{
    if (t->n_rows == t->cap) {
        size_t cap = t->cap == 0 ? 16 : t->cap * 2;
        struct ap_table_row *grown = realloc(t->rows, cap * sizeof(*grown));
        if (grown == NULL)
            return ap_error_make(err, ENOMEM, "a table of %zu rows", cap);
        t->rows = grown;
        t->cap = cap;
    }
    struct ap_table_row *r = &t->rows[t->n_rows];
    memset(r, 0, sizeof(*r));
    int rc = dup_or_null(key, &r->key) | dup_or_null(note, &r->note);
    for (size_t i = 0; i < n && i < t->n_cols; i++)
        rc |= dup_or_null(cells[i], &r->cells[i]);
    if (rc != 0) {
        row_free(r);
        return ap_error_make(err, ENOMEM, "a table row");
    }
    t->n_rows++;
    return 0;
}

void ap_table_free(struct ap_table *t)
{
    for (size_t i = 0; i < t->n_rows; i++)
        row_free(&t->rows[i]);
    free(t->rows);
    t->rows = NULL;
    t->n_rows = t->cap = 0;
}

int ap_table_width(FILE *out)
{
    /* A file or a pipe is read by programs too: one row per line, whatever $COLUMNS says. */
    int fd = fileno(out);
    if (fd < 0 || !isatty(fd))
        return 0;
    const char *env = getenv("COLUMNS");
    char *end = NULL;
    long v = env != NULL ? strtol(env, &end, 10) : 0;
    if (env != NULL && end != env && *end == '\0' && v > 0 && v <= 100000)
        return (int)v;
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

/* ---- flowing text ---------------------------------------------------------------------------- */

/* Where the next character goes: a line holds `fresh` until something is written on it. */
struct cursor {
    FILE *out;
    int col, fresh, cont, width;
};

static void new_line(struct cursor *c)
{
    fprintf(c->out, "\n%*s", c->cont, "");
    c->col = c->cont;
    c->fresh = 1;
}

/* Writes text from the cursor on, breaking at spaces before the width (0: never); a word wider
 * than a whole line is cut at the width, so that every character is printed and no line passes
 * the width. */
static void flow(struct cursor *c, const char *text)
{
    const char *p = text;
    for (;;) {
        size_t sp = strspn(p, " ");
        const char *w = p + sp;
        size_t wl = strcspn(w, " ");
        if (wl == 0)
            return;
        if (c->width > 0 && !c->fresh && c->col + (int)(sp + wl) > c->width) {
            new_line(c);
            sp = 0;
        }
        fprintf(c->out, "%*s", (int)sp, "");
        c->col += (int)sp;
        while (c->width > 0 && c->col + (int)wl > c->width) {
            int room = c->width - c->col;
            if (room < 1)
                room = 1;
            fwrite(w, 1, (size_t)room, c->out);
            w += room;
            wl -= (size_t)room;
            new_line(c);
        }
        fwrite(w, 1, wl, c->out);
        c->col += (int)wl;
        c->fresh = 0;
        p = w + wl;
    }
}

void ap_table_print_text(FILE *out, const char *text, int indent, int hang, int width)
{
    if (width > 0 && width < AP_TABLE_MIN_WIDTH)
        width = AP_TABLE_MIN_WIDTH;
    struct cursor c = {out, indent, 1, hang, width};
    fprintf(out, "%*s", indent, "");
    flow(&c, text);
    fputc('\n', out);
}

/* ---- columns --------------------------------------------------------------------------------- */

static int len_of(const char *s)
{
    return s == NULL ? 0 : (int)strlen(s);
}

/* Writes s at column `at` (after the spaces up to it), or only moves *pos when out is NULL. An
 * empty s writes nothing, so that no line ends in padding. */
static void put_at(FILE *out, int *pos, int at, const char *s)
{
    if (s == NULL || *s == '\0')
        return;
    if (out != NULL)
        fprintf(out, "%*s%s", at - *pos, "", s);
    *pos = at + len_of(s);
}

/* Where a layout in columns puts things: rows start at col0, the key (if kw > 0) in a column kw
 * wide, then the cells in columns w wide (w 0: an empty column, left out), sep spaces apart. A
 * cell of the last column (the tail: a ratio, a reason) that would pass the width goes on a line
 * of its own below the row, indented, so that one long reason does not push the whole table
 * into a narrower layout. */
struct cols {
    int col0, kw, sep, width, tail;
    const int *w;
};

/* One row in columns. Returns where its first line ends (a tail moved below not counted); out
 * NULL prints nothing. */
static int row_line(FILE *out, const struct ap_table *t, const struct ap_table_row *r,
                    const struct cols *c)
{
    int pos = 0, at = c->col0;
    const char *below = NULL;
    if (c->kw > 0) {
        put_at(out, &pos, at, r->key);
        at += c->kw + c->sep;
    }
    for (int i = 0; i < (int)t->n_cols; i++) {
        if (c->w[i] == 0)
            continue;
        int x = (t->right >> i) & 1 ? at + c->w[i] - len_of(r->cells[i]) : at;
        if (i == c->tail && c->width > 0 && x + len_of(r->cells[i]) > c->width)
            below = r->cells[i];
        else
            put_at(out, &pos, x, r->cells[i]);
        at += c->w[i] + c->sep;
    }
    if (out != NULL) {
        if (below != NULL) {
            struct cursor cur = {out, c->col0 + 4, 1, c->col0 + 4, c->width};
            fprintf(out, "\n%*s", cur.col, "");
            flow(&cur, below);
        }
        fputc('\n', out);
    }
    return pos;
}

/* A new key starts a group: the first row with a key, or one whose key differs from the last. */
static int starts_group(const struct ap_table *t, size_t i)
{
    const char *k = t->rows[i].key, *prev = i > 0 ? t->rows[i - 1].key : NULL;
    return k != NULL && (prev == NULL || strcmp(k, prev) != 0);
}

/* The widest line of a layout in columns (notes and tails moved below aside: they wrap on their
 * own), key lines included when the key is not a column. */
static int widest(const struct ap_table *t, const struct cols *c)
{
    int max = 0;
    for (size_t i = 0; i < t->n_rows; i++) {
        int end = row_line(NULL, t, &t->rows[i], c);
        if (c->kw == 0 && starts_group(t, i) && t->indent + len_of(t->rows[i].key) > end)
            end = t->indent + len_of(t->rows[i].key);
        if (end > max)
            max = end;
    }
    return max;
}

/* A row's cells one after the other, each named by its column when the table has a header
 * (the columns no longer line up under it), wrapped before a cell that does not fit. */
static void print_flow_row(const struct ap_table *t, FILE *out, const struct ap_table_row *r,
                           int col0, int width)
{
    struct cursor c = {out, col0, 1, col0 + 2, width};
    fprintf(out, "%*s", col0, "");
    for (size_t i = 0; i < t->n_cols; i++) {
        if (r->cells[i] == NULL)
            continue;
        const char *name = t->header ? t->rows[0].cells[i] : NULL;
        int need = len_of(r->cells[i]) + (name != NULL ? len_of(name) + 2 : 0);
        if (!c.fresh && c.col + 2 + need > width) {
            new_line(&c);
        } else if (!c.fresh) {
            fputs("  ", out);
            c.col += 2;
        }
        if (name != NULL) {
            flow(&c, name);
            fputc(':', out);
            c.col++;
        }
        flow(&c, r->cells[i]);
    }
    fputc('\n', out);
}

void ap_table_print(const struct ap_table *t, FILE *out, int width)
{
    if (width > 0 && width < AP_TABLE_MIN_WIDTH)
        width = AP_TABLE_MIN_WIDTH;
    int kw = 0, w[AP_TABLE_MAX_COLS] = {0}, tail = -1;
    for (size_t i = 0; i < t->n_rows; i++) {
        if (len_of(t->rows[i].key) > kw)
            kw = len_of(t->rows[i].key);
        for (size_t j = 0; j < t->n_cols; j++)
            if (len_of(t->rows[i].cells[j]) > w[j])
                w[j] = len_of(t->rows[i].cells[j]);
    }
    /* Under a header a cell moved below would lose its column's name. */
    for (int j = 0; j < (int)t->n_cols && !t->header; j++)
        if (w[j] > 0)
            tail = j;
    /* Wide: the key is the first column. Grouped: the key on a line of its own, its rows
     * indented below it. Flow: as grouped, each row's cells wrapped where they must be. */
    struct cols wide = {t->indent, kw, 2, width, tail, w};
    struct cols grouped = {t->indent + (kw > 0 ? 4 : 0), 0, 2, width, tail, w};
    const struct cols *l = NULL;
    /* One space apart, labels with spaces in them ("wall (exec to exit)") run into the next
     * column: the key goes above first. */
    if (width == 0 || widest(t, &wide) <= width)
        l = &wide;
    for (int s = 2; s >= 1 && l == NULL; s--) {
        grouped.sep = s;
        if (widest(t, &grouped) <= width)
            l = &grouped;
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        const struct ap_table_row *r = &t->rows[i];
        if (t->header && i == 0) {
            /* Column names only mean something while the columns line up. */
            if (l != NULL)
                row_line(out, t, r, l);
            continue;
        }
        if (l != &wide && starts_group(t, i))
            ap_table_print_text(out, r->key, t->indent, t->indent + 2, width);
        if (l != NULL)
            row_line(out, t, r, l);
        else
            print_flow_row(t, out, r, grouped.col0, width);
        if (r->note != NULL)
            ap_table_print_text(out, r->note, t->indent + 4, t->indent + 6, width);
    }
}
