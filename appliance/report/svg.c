#include "svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

/* Geometry of the picture, in viewBox units. */
#define WIDTH 640.0
#define X0 24.0
#define X1 612.0
#define ROW_LABEL 18.0
#define SERIES_STEP 10.0

/* Dark enough for 4.5:1 against white; markers differ in shape too. */
static const char *const colours[AP_SVG_SERIES_MAX] = {"#0b4f8a", "#a63c00", "#1b6e2d", "#6a1b9a",
                                                       "#7a5c00", "#222222", "#00695c", "#ad1457"};

void ap_svg_chart_init(struct ap_svg_chart *c, const char *title, const char *desc,
                       const char *axis)
{
    *c = (struct ap_svg_chart){.title = title, .desc = desc, .axis = axis, .band = -1};
}

int ap_svg_series(struct ap_svg_chart *c, const char *name)
{
    for (size_t i = 0; i < c->nseries; i++)
        if (strcmp(c->series[i], name) == 0)
            return (int)i;
    if (c->nseries == AP_SVG_SERIES_MAX || (c->series[c->nseries] = strdup(name)) == NULL)
        return -1;
    return (int)c->nseries++;
}

long ap_svg_row(struct ap_svg_chart *c, const char *label)
{
    for (size_t i = 0; i < c->nrows; i++)
        if (strcmp(c->labels[i], label) == 0)
            return (long)i;
    if (c->nrows == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        char **labels = realloc(c->labels, cap * sizeof(*labels));
        if (labels == NULL)
            return -1;
        c->labels = labels;
        struct ap_svg_point *points = realloc(c->points, cap * AP_SVG_SERIES_MAX * sizeof(*points));
        if (points == NULL)
            return -1;
        c->points = points;
        c->cap = cap;
    }
    if ((c->labels[c->nrows] = strdup(label)) == NULL)
        return -1;
    for (size_t s = 0; s < AP_SVG_SERIES_MAX; s++)
        c->points[c->nrows * AP_SVG_SERIES_MAX + s] = (struct ap_svg_point){NAN, NAN, NAN};
    return (long)c->nrows++;
}

void ap_svg_set(struct ap_svg_chart *c, long r, int s, double value, double lo, double hi)
{
    if (r >= 0 && (size_t)r < c->nrows && s >= 0 && s < AP_SVG_SERIES_MAX)
        c->points[(size_t)r * AP_SVG_SERIES_MAX + (size_t)s] = (struct ap_svg_point){value, lo, hi};
}

void ap_svg_chart_free(struct ap_svg_chart *c)
{
    for (size_t i = 0; i < c->nseries; i++)
        free(c->series[i]);
    for (size_t i = 0; i < c->nrows; i++)
        free(c->labels[i]);
    free(c->labels);
    free(c->points);
    c->nseries = c->nrows = c->cap = 0;
    c->labels = NULL;
    c->points = NULL;
}

/* The decades the axis spans: every positive finite value and interval end fits. */
static int axis_range(const struct ap_svg_chart *c, double *lo, double *hi)
{
    double min = INFINITY, max = -INFINITY;
    for (size_t i = 0; i < c->nrows * AP_SVG_SERIES_MAX; i++) {
        if (i % AP_SVG_SERIES_MAX >= c->nseries)
            continue;
        const double v[3] = {c->points[i].value, c->points[i].lo, c->points[i].hi};
        for (int k = 0; k < 3; k++)
            if (v[k] > 0 && isfinite(v[k])) {
                min = fmin(min, v[k]);
                max = fmax(max, v[k]);
            }
    }
    if (!isfinite(min))
        return 0;
    *lo = floor(log10(min));
    *hi = ceil(log10(max));
    if (*hi <= *lo)
        *hi = *lo + 1;
    return 1;
}

static double xpos(double v, double lo, double hi)
{
    if (!(v > 0))
        return X0;
    if (!isfinite(v))
        return X1;
    double x = X0 + (log10(v) - lo) / (hi - lo) * (X1 - X0);
    return x < X0 ? X0 : x > X1 ? X1 : x;
}

/* The marker of series s at (x, y): circle, square, diamond, triangles, cross, open shapes. */
static void marker(FILE *out, int s, double x, double y)
{
    const char *c = colours[s];
    switch (s) {
    case 0:
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>", x, y, c);
        break;
    case 1:
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>", x - 4,
                y - 4, c);
        break;
    case 2:
        fprintf(out, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\"/>", x, y - 5, c);
        break;
    case 3:
        fprintf(out, "<path d=\"M%.1f %.1fl5 9h-10z\" fill=\"%s\"/>", x, y - 5, c);
        break;
    case 4:
        fprintf(out, "<path d=\"M%.1f %.1fl5 -9h-10z\" fill=\"%s\"/>", x, y + 5, c);
        break;
    case 5:
        fprintf(out, "<path d=\"M%.1f %.1fl8 8m0 -8l-8 8\" stroke=\"%s\" stroke-width=\"2\"/>",
                x - 4, y - 4, c);
        break;
    case 6:
        fprintf(out,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#fff\" stroke=\"%s\" "
                "stroke-width=\"2\"/>",
                x, y, c);
        break;
    default:
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" fill=\"#fff\" "
                "stroke=\"%s\" stroke-width=\"2\"/>",
                x - 3.5, y - 3.5, c);
        break;
    }
}

/* The legend, wrapped to the width; returns the y below it. With out NULL it only measures.
 */
static double legend(FILE *out, const struct ap_svg_chart *c, double y)
{
    double x = X0;
    for (size_t s = 0; s < c->nseries; s++) {
        double w = 22 + 7.4 * (double)strlen(c->series[s]);
        if (x > X0 && x + w > X1) {
            x = X0;
            y += 18;
        }
        if (out != NULL) {
            marker(out, (int)s, x + 5, y - 4);
            fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"legend\">", x + 14, y);
            ap_report_html_text(out, c->series[s]);
            fputs("</text>\n", out);
        }
        x += w + 12;
    }
    return y + 14;
}

/* One point of a row: band or whiskers, then the marker, with its figures as a tooltip. */
static void point(FILE *out, const struct ap_svg_chart *c, int s, const struct ap_svg_point *p,
                  double y, double lo, double hi)
{
    char a[32], b[32], v[32];
    int has_interval = !isnan(p->lo) && !isnan(p->hi);
    double xl = xpos(p->lo, lo, hi), xh = xpos(p->hi, lo, hi);
    fputs("<g><title>", out);
    ap_report_html_text(out, c->series[s]);
    fprintf(out, ": %s", ap_report_num(v, sizeof(v), p->value));
    if (has_interval)
        fprintf(out, " [%s, %s]", ap_report_num(a, sizeof(a), p->lo),
                ap_report_num(b, sizeof(b), p->hi));
    fputs("</title>", out);
    if (has_interval && s == c->band)
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\" fill=\"#dddddd\" "
                "stroke=\"#555555\"/>",
                xl, y - 5, xh - xl);
    else if (has_interval)
        fprintf(out,
                "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fv8M%.1f %.1fv8\" stroke=\"%s\" "
                "stroke-width=\"1.5\" fill=\"none\"/>",
                xl, y, xh, xl, y - 4, xh, y - 4, colours[s]);
    if (!isnan(p->value) && p->value > 0)
        marker(out, s, xpos(p->value, lo, hi), y);
    fputs("</g>\n", out);
}

/* Vertical grid lines and labels at each decade (and at 2 and 5 when the axis spans at most
 * two decades), the axis line and its label. */
static void axis(FILE *out, const struct ap_svg_chart *c, double top, double y, double lo,
                 double hi)
{
    static const double steps[] = {1, 2, 5};
    fprintf(out, "<path d=\"M%.1f %.1fH%.1f\" stroke=\"#333\"/>\n", X0, y, X1);
    for (double d = lo; d <= hi; d++)
        for (int k = 0; k < 3; k++) {
            double v = steps[k] * pow(10, d);
            if ((k > 0 && hi - lo > 2) || log10(v) > hi + 1e-9)
                continue;
            double x = xpos(v, lo, hi);
            char t[32];
            fprintf(out,
                    "<path d=\"M%.1f %.1fV%.1f\" stroke=\"%s\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%s</text>\n",
                    x, top, y + 4, k == 0 ? "#bbbbbb" : "#e2e2e2", x, y + 16,
                    ap_report_exact(t, sizeof(t), v));
        }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">", (X0 + X1) / 2, y + 34);
    ap_report_html_text(out, c->axis);
    fputs(" (logarithmic axis)</text>\n", out);
}

int ap_svg_write(FILE *out, const struct ap_svg_chart *c, const char *id)
{
    double lo = 0, hi = 1;
    int any = axis_range(c, &lo, &hi);
    double step = SERIES_STEP * (double)(c->nseries ? c->nseries : 1);
    double row_h = ROW_LABEL + step + 8;
    double top = legend(NULL, c, 44);
    double height = top + (any ? (double)c->nrows * row_h + 48 : 40);
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"chart\" "
            "viewBox=\"0 0 %.0f %.0f\" width=\"100%%\" role=\"img\" aria-labelledby=\"%s-t "
            "%s-d\">\n<title id=\"%s-t\">",
            id, WIDTH, height, id, id, id);
    if (ap_report_html_text(out, c->title) < 0)
        return -1;
    fprintf(out, "</title>\n<desc id=\"%s-d\">", id);
    ap_report_html_text(out, c->desc);
    fputs("</desc>\n<text x=\"16\" y=\"22\" class=\"heading\">", out);
    ap_report_html_text(out, c->title);
    fputs("</text>\n", out);
    legend(out, c, 44);
    if (!any) {
        fprintf(out,
                "<text x=\"16\" y=\"%.1f\" class=\"none\">No figure of this kind in these "
                "results.</text>\n</svg>\n",
                top + 16);
        return 0;
    }
    for (size_t r = 0; r < c->nrows; r++) {
        double y = top + (double)r * row_h;
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"label\">", X0, y + 14);
        ap_report_html_text(out, c->labels[r]);
        fputs("</text>\n", out);
        for (size_t s = 0; s < c->nseries; s++) {
            const struct ap_svg_point *p = &c->points[r * AP_SVG_SERIES_MAX + s];
            if (!isnan(p->value) || (!isnan(p->lo) && !isnan(p->hi)))
                point(out, c, (int)s, p, y + ROW_LABEL + 6 + SERIES_STEP * (double)s, lo, hi);
        }
    }
    axis(out, c, top, top + (double)c->nrows * row_h + 4, lo, hi);
    fputs("</svg>\n", out);
    return 0;
}
