/* SVG charts for the HTML report: horizontal dot plots on a logarithmic axis, one row per
 * subject and one marker (shape and colour both differ) per series, each point with the
 * whiskers of its interval, or drawn as a band (a published tolerance band). The SVG has a
 * viewBox and no fixed size, so that it scales to the width of the page. */
#ifndef AP_REPORT_SVG_H
#define AP_REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

#define AP_SVG_SERIES_MAX 8

/* A point: value NAN draws none; lo and hi NAN draw no interval. For a band series, lo <= 0
 * or hi infinite run the band to the edge of the axis. */
struct ap_svg_point {
    double value, lo, hi;
};

/* A chart being filled. Labels and series names are copies owned by the chart; title, desc
 * and axis are the caller's and must outlive ap_svg_write. */
struct ap_svg_chart {
    const char *title, *desc, *axis;
    char *series[AP_SVG_SERIES_MAX];
    size_t nseries;
    int band; /* the series drawn as a band, or -1 */
    char **labels;
    struct ap_svg_point *points; /* nrows x AP_SVG_SERIES_MAX */
    size_t nrows, cap;
};

/* An empty chart: its title (the SVG's <title>), its description (the SVG's <desc>: what was
 * measured) and the label of its axis (the quantity and its unit). */
void ap_svg_chart_init(struct ap_svg_chart *c, const char *title, const char *desc,
                       const char *axis);

/* The index of the series named name, added when new; -1 when the chart has
 * AP_SVG_SERIES_MAX series already or memory runs out. */
int ap_svg_series(struct ap_svg_chart *c, const char *name);

/* The index of the row labelled label, added (with no points) when new; -1 when out of memory. */
long ap_svg_row(struct ap_svg_chart *c, const char *label);

/* Sets the point of series s in row r. */
void ap_svg_set(struct ap_svg_chart *c, long r, int s, double value, double lo, double hi);

/* Writes the chart as an <svg> element with the given id (an XML id: the caller's, unescaped).
 * A chart with no positive value says so in the picture. Deterministic: the same chart gives
 * the same bytes. Returns 0, or -1 when out of memory. */
int ap_svg_write(FILE *out, const struct ap_svg_chart *c, const char *id);

/* Frees what the chart holds (not the chart itself). */
void ap_svg_chart_free(struct ap_svg_chart *c);

#endif
