/* Text tables for people: columns sized from their content, laid out to the width of the
 * output. A table that fits the width (or any table when the width is 0, not a terminal) is one
 * row per line; below that, the key (the measurement's id) goes on a line of its own above its
 * rows; below that, a row's cells flow over as many lines as they need. Nothing is ever cut:
 * every cell is printed whole in every layout, wrapped at spaces when one cell alone is wider
 * than the line. */
#ifndef AP_CORE_TABLE_H
#define AP_CORE_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

#define AP_TABLE_MAX_COLS 12
/* Widths below this are laid out as if they were this wide. */
#define AP_TABLE_MIN_WIDTH 24

struct ap_table_row {
    char *key;                      /* first column, or the line above the row; NULL: none */
    char *cells[AP_TABLE_MAX_COLS]; /* NULL or "": empty */
    char *note;                     /* a line of text under the row; NULL: none */
};

struct ap_table {
    size_t n_cols;
    unsigned right; /* bit i set: column i is right-aligned */
    int indent;     /* spaces before every line */
    int header;     /* rows[0] names the columns: shown only while the columns line up */
    struct ap_table_row *rows;
    size_t n_rows, cap;
};

/* An empty table of n_cols columns (at most AP_TABLE_MAX_COLS) besides the key. */
void ap_table_init(struct ap_table *t, size_t n_cols, unsigned right, int indent);

/* Appends a row: copies of key, of the first n cells (n <= n_cols; the rest are empty) and of
 * note. Any of them may be NULL. Fails only for want of memory. */
int ap_table_add(struct ap_table *t, const char *key, const char *const *cells, size_t n,
                 const char *note, ap_error **err);

/* Prints t on out laid out to `width` columns (0: no limit, one row per line). The caller keeps
 * t. Every line ends in a cell, never in padding. */
void ap_table_print(const struct ap_table *t, FILE *out, int width);

/* Frees the rows; t may be initialised again. */
void ap_table_free(struct ap_table *t);

/* Prints text on out, indented by `indent` spaces and word-wrapped to `width` (0: one line),
 * its continuation lines indented by `hang`; ends with a newline. */
void ap_table_print_text(FILE *out, const char *text, int indent, int hang, int width);

/* The width to lay out for on out. On a terminal: $COLUMNS when it is a number (set by hand),
 * else the terminal's (TIOCGWINSZ). Anything else (a file, a pipe) gets 0, no limit: plain text
 * stays one row per line. */
int ap_table_width(FILE *out);

#endif
