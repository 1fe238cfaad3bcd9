/* The reports (report/markdown.h, report/html.h, report/output.h): a verdicts document made by
 * hand with every verdict and every kind of claim, over a small results document, rendered to
 * Markdown and HTML: a row per claim, the counts, every chart, the conditions of the run,
 * escaping of a quote that holds markup, a pipe, a line break and a control character, the
 * sections' order, determinism, and the files written into a directory. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "report/html.h"
#include "report/markdown.h"
#include "report/output.h"
#include "report/format.h"
#include "test.h"

static const char verdicts_json[] =
    "{\"schema\":\"appliance-verdicts-1\","
    "\"claims\":{\"path\":\"t.claims.json\",\"sha256\":\"c0ffee\"},"
    "\"results\":{\"sha256\":\"beef\",\"run\":\"r1\",\"profile\":\"quick\"},"
    "\"source\":{\"title\":\"Go & <Python>\",\"url\":\"https://example.invalid/a\","
    "\"date\":\"2026-04-10\",\"checked\":false},"
    "\"sections\":[{\"id\":\"web\",\"title\":\"Web servers\"},{\"id\":\"cpu\",\"title\":\"CPU "
    "tasks\"}],"
    "\"verdicts\":["
    "{\"id\":\"nbody-ratio\",\"section\":\"cpu\",\"quote\":\"nbody <script>alert(1)</script> | "
    "30x\\nnext line \\u001b[31m\",\"kind\":\"ratio\",\"unit\":\"x\","
    "\"published\":{\"value\":30,\"unit\":\"x\"},\"band\":{\"low\":27.27,\"high\":33},"
    "\"measured\":{\"value\":10,\"low\":9,\"high\":11,\"coverage\":0.939},"
    "\"measured_over_published\":0.3333,\"verdict\":\"contradicted\",\"why\":\"outside\"},"
    "{\"id\":\"nbody-go\",\"section\":\"cpu\",\"quote\":\"Go: 0.1 s\",\"kind\":\"value\","
    "\"unit\":\"s\",\"published\":{\"value\":0.1,\"unit\":\"s\"},"
    "\"band\":{\"low\":0.0909,\"high\":0.11},"
    "\"measured\":{\"value\":0.1,\"low\":0.095,\"high\":0.105,\"coverage\":0.969},"
    "\"measured_over_published\":1,\"verdict\":\"holds\",\"why\":\"inside\"},"
    "{\"id\":\"go-memory\",\"section\":\"web\",\"quote\":\"8-20 MB\",\"kind\":\"range\","
    "\"unit\":\"MB\",\"published\":{\"low\":8,\"high\":20,\"unit\":\"MB\"},"
    "\"band\":{\"low\":8,\"high\":20},"
    "\"measured\":{\"value\":21,\"low\":15,\"high\":25,\"coverage\":0.969},"
    "\"measured_over_published\":1.05,\"verdict\":\"inconclusive\",\"why\":\"straddles\"},"
    "{\"id\":\"p99-bound\",\"section\":\"web\",\"quote\":\"p99 under 5 ms\",\"kind\":\"bound\","
    "\"unit\":\"ms\",\"published\":{\"upper\":5,\"unit\":\"ms\"},\"band\":{\"low\":0,"
    "\"high\":5},\"measured\":{\"value\":2,\"low\":1.9,\"high\":2.1,\"coverage\":0.969},"
    "\"measured_over_published\":1,\"verdict\":\"holds\",\"why\":\"inside\"},"
    "{\"id\":\"rps-lower\",\"section\":\"web\",\"quote\":\"over 40,000 req/s\","
    "\"kind\":\"bound\",\"unit\":\"req/s\",\"published\":{\"lower\":40000,\"unit\":\"req/s\"},"
    "\"measured\":{\"value\":30000},\"verdict\":\"not comparable\","
    "\"why\":\"not comparable across machines\"},"
    "{\"id\":\"order-fw\",\"section\":\"web\",\"quote\":\"fiber > gin > flask\","
    "\"kind\":\"ordering\",\"published\":{\"order\":\"descending\"},"
    "\"verdict\":\"not reproducible here\",\"why\":\"http/x is not in the results\"},"
    "{\"id\":\"go-version\",\"section\":\"extra\",\"quote\":\"Go 1.23\",\"kind\":\"value\","
    "\"published\":{\"text\":\"1.23\",\"match\":\"prefix\"},\"measured\":{\"text\":\"1.23.4\"},"
    "\"verdict\":\"holds\",\"why\":\"prefix\"}],"
    "\"untestable\":[{\"id\":\"salary\",\"section\":\"web\",\"quote\":\"$162,000 | a "
    "year\",\"reason\":\"salary\"}],"
    "\"counts\":{}}";

#define CLAIMS 7

static const char *const claim_ids[CLAIMS] = {"nbody-ratio", "nbody-go", "go-memory", "p99-bound",
                                              "rps-lower",   "order-fw", "go-version"};

/* A figure with its median and interval, as the results write it. */
#define FIG(name, unit, med, lo, hi)                                                               \
    "\"" name "\":{\"unit\":\"" unit "\",\"samples\":[" #med                                       \
    "],\"stats\":{\"n\":6,\"median\":" #med ",\"ci95_lo\":" #lo ",\"ci95_hi\":" #hi                \
    ",\"ci95_coverage\":0.969},\"status\":\"ok\"}"

static const char results_json[] =
    "{\"schema\":\"appliance-results-2\","
    "\"run\":{\"id\":\"r1\",\"started\":\"2026-01-01T00:00:00Z\",\"ended\":\"2026-01-01T00:01:"
    "00Z\",\"profile\":\"quick\",\"suites\":[\"cpu\",\"http\"],\"repeat\":6,\"warmup\":1},"
    "\"environment\":{\"kernel\":\"Linux 6.1.0-test\",\"arch\":\"x86_64\",\"cpu_model\":"
    "\"Test CPU 9000\",\"cpus_online\":4,\"memory_bytes\":8589934592,\"cgroup\":\"v2\","
    "\"clocksource\":\"tsc\",\"appliance\":{\"version\":\"0.1.0\",\"commit\":\"abc\"},"
    "\"cpus\":{\"workload\":\"1\",\"load_and_orchestrator\":\"0\"},"
    "\"topology\":{\"source\":\"sysfs\",\"cores\":4,\"smt\":false,\"nodes\":1},"
    "\"images\":{\"go-1.23-static\":{\"digest\":\"sha256:1111\"},\"python-3.13\":{\"digest\":"
    "\"sha256:2222\"}}},"
    "\"measurements\":["
    "{\"id\":\"cpu/nbody/go-1.23-static\",\"suite\":\"cpu\",\"workload\":\"nbody\",\"image\":"
    "\"go-1.23-static\",\"params\":{\"n\":5000},\"metrics\":{" FIG(
        "wall_s", "s", 0.1, 0.095,
        0.105) "}},"
               "{\"id\":\"cpu/nbody/"
               "python-3.13\",\"suite\":\"cpu\",\"workload\":\"nbody\",\"image\":"
               "\"python-3.13\",\"params\":{\"n\":5000},\"metrics\":{" FIG(
                   "wall_s", "s", 1.0, 0.9,
                   1.1) "}},"
                        "{\"id\":\"http/go-nethttp-json/"
                        "c64\",\"suite\":\"http\",\"workload\":\"go-nethttp-json\","
                        "\"image\":\"go-1.23-static\",\"params\":{\"connections\":64},\"metrics\":"
                        "{" FIG(
                            "rps", "req/s", 30000, 29000,
                            31000) "}},"
                                   "{\"id\":\"latency/go-nethttp-json/"
                                   "r1000\",\"suite\":\"latency\",\"workload\":\"go-"
                                   "nethttp-json\",\"image\":\"go-1.23-static\",\"params\":{"
                                   "\"rate\":1000},\"metrics\":{" FIG("p50_ms", "ms", 0.2, 0.19, 0.21) "," FIG(
                                       "p99_ms", "ms", 2,
                                       1.8,
                                       2.2) "}},"
                                            "{\"id\":\"memory/server/"
                                            "go-nethttp-json\",\"suite\":\"memory\",\"workload\":"
                                            "\"go-"
                                            "nethttp-json\",\"image\":\"go-1.23-static\","
                                            "\"params\":{\"connections\":1000},"
                                            "\"metrics\":{" FIG(
                                                "idle_pss_bytes",
                                                "B", 5000000,
                                                4900000,
                                                5100000) "," FIG("steady_pss_bytes", "B", 30000000,
                                                                 29000000,
                                                                 31000000) "}},"
                                                                           "{\"id\":\"startup/"
                                                                           "process/go-1.23-static/"
                                                                           "hello\",\"suite\":"
                                                                           "\"startup\","
                                                                           "\"workload\":"
                                                                           "\"hello\",\"image\":"
                                                                           "\"go-1.23-static\","
                                                                           "\"params\":{},"
                                                                           "\"metrics\":{" FIG(
                                                                               "wall_s", "s", 0.004,
                                                                               0.0038,
                                                                               0.0042) "}}],"
                                                                                       "\"size_"
                                                                                       "pairs\":[{"
                                                                                       "\"label\":"
                                                                                       "\"hello\","
                                                                                       "\"go\":"
                                                                                       "\"go-1.23-"
                                                                                       "hello\","
                                                                                       "\"python\":"
                                                                                       "\"python-3."
                                                                                       "13\","
                                                                                       "\"compresse"
                                                                                       "d_bytes\":{"
                                                                                       "\"go\":"
                                                                                       "1290047,"
                                                                                       "\"python\":"
                                                                                       "24624535},"
                                                                                       "\"unpacked_"
                                                                                       "bytes\":{"
                                                                                       "\"go\":"
                                                                                       "2126364,"
                                                                                       "\"python\":"
                                                                                       "63399701}}]"
                                                                                       "}";

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    if (j == NULL) {
        fprintf(stderr, "test_report: bad fixture near %.40s\n", cJSON_GetErrorPtr());
        abort();
    }
    return j;
}

typedef int (*render_fn)(FILE *, const cJSON *, const cJSON *, ap_error **);

/* The report as a heap string (NULL when rendering failed; the error is then in *err). */
__attribute__((noinline)) static char *render(render_fn fn, const cJSON *v, const cJSON *r,
                                              ap_error **err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        abort();
    int rc = fn(f, v, r, err);
    fclose(f);
    if (rc < 0) {
        free(text);
        return NULL;
    }
    return text;
}

static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; p != NULL && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

TEST(markdown_has_a_row_per_claim_and_the_conditions)
{
    cJSON *v = parse(verdicts_json), *r = parse(results_json);
    ap_error *err = NULL;
    char *md = render(ap_report_markdown, v, r, &err);
    if (!CHECK_MSG(md != NULL, "%s", err ? err->msg : "")) {
        ap_error_release(&err);
        return;
    }
    for (size_t i = 0; i < CLAIMS; i++) {
        char row[96];
        snprintf(row, sizeof(row), "\n| %s |", claim_ids[i]);
        CHECK_MSG(count(md, row) == 1, "row of %s", claim_ids[i]);
    }
    CHECK(test_contains(md, "| \u2713 holds | 3 |"));
    CHECK(test_contains(md, "| \u2717 contradicted | 1 |"));
    CHECK(test_contains(md, "| ? inconclusive | 1 |"));
    CHECK(test_contains(md, "| \u2260 not comparable | 1 |"));
    CHECK(test_contains(md, "| \u2205 not reproducible here | 1 |"));
    CHECK(test_contains(md, "| \u2013 untestable | 1 |"));
    CHECK(test_contains(md, "| 10.0 x [9.00, 11.0] 93.9 % | 0.333 | \u2717 contradicted |"));
    CHECK(test_contains(md, "| 8-20 MB |"));
    CHECK(test_contains(md, "| \u2264 5 ms |"));
    CHECK(test_contains(md, "| 1.23 (prefix) | 1.23.4 |"));
    /* The quote: markup, a pipe, a line break and an escape character, each made harmless. */
    CHECK(test_contains(md, "nbody &lt;script&gt;alert(1)&lt;/script&gt; \\| 30x<br>next "
                            "line \\\\033[31m |"));
    CHECK(!test_contains(md, "<script"));
    CHECK(strchr(md, '\033') == NULL);
    CHECK(test_contains(md, "| $162,000 \\| a year | salary |"));
    CHECK(test_contains(md, "| kernel | Linux 6.1.0-test |"));
    CHECK(test_contains(md, "| cgroup version | v2 |"));
    CHECK(test_contains(md, "| CPU | Test CPU 9000 (x86\\_64), 4 CPUs online |"));
    CHECK(test_contains(md, "| topology | 4 cores, no SMT, 1 NUMA node(s) (from sysfs) |"));
    CHECK(test_contains(md, "| image python-3.13 | sha256:2222 |"));
    CHECK(test_contains(md, "| N of nbody | 5000 |"));
    CHECK(test_contains(md, "| profile | quick; 6 repetitions after 1 warm-up |"));
    /* Sections in the order the verdicts give, then one they lack, titled by its id. */
    const char *web = strstr(md, "## Web servers"), *cpu = strstr(md, "## CPU tasks"),
               *extra = strstr(md, "## extra");
    CHECK(web != NULL && cpu != NULL && extra != NULL && web < cpu && cpu < extra);
    /* The furthest off: 10 / 30 first. */
    CHECK(test_contains(md, "1. nbody-ratio: 0.333 (contradicted)\n2. go-memory: 1.05"));
    free(md);
    cJSON_Delete(v);
    cJSON_Delete(r);
}

TEST(html_has_a_row_per_claim_every_chart_and_escapes_text)
{
    cJSON *v = parse(verdicts_json), *r = parse(results_json);
    ap_error *err = NULL;
    char *html = render(ap_report_html, v, r, &err);
    if (!CHECK_MSG(html != NULL, "%s", err ? err->msg : "")) {
        ap_error_release(&err);
        return;
    }
    CHECK(count(html, "<tr class=\"claim\"") == CLAIMS);
    for (size_t i = 0; i < CLAIMS; i++) {
        char row[96];
        snprintf(row, sizeof(row), "<tr class=\"claim\" data-claim=\"%s\">", claim_ids[i]);
        CHECK_MSG(count(html, row) == 1, "row of %s", claim_ids[i]);
    }
    CHECK(count(html, "<svg ") == AP_REPORT_CHARTS);
    CHECK(count(html, "<figcaption>") == AP_REPORT_CHARTS);
    for (size_t i = 0; i < AP_REPORT_CHARTS; i++) {
        char id[64];
        snprintf(id, sizeof(id), "id=\"%s\" class=\"chart\" viewBox=\"0 0 ",
                 ap_report_chart_ids[i]);
        CHECK_MSG(count(html, id) == 1, "chart %s", ap_report_chart_ids[i]);
    }
    CHECK(count(html, "<title id=\"chart-") == AP_REPORT_CHARTS);
    CHECK(count(html, "width=\"100%\"") == AP_REPORT_CHARTS);
    CHECK(test_contains(html, "<meta name=\"viewport\""));
    CHECK(test_contains(html, "@media print"));
    CHECK(test_contains(html, "overflow-x:auto"));
    /* Self-contained: no script, no link, no external reference but the source's own text. */
    CHECK(!test_contains(html, "<script"));
    CHECK(!test_contains(html, "<link"));
    CHECK(!test_contains(html, "src="));
    CHECK(!test_contains(html, "@import") && !test_contains(html, "url("));
    CHECK(test_contains(html, "nbody &lt;script&gt;alert(1)&lt;/script&gt; | 30x\\nnext line "
                              "\\033[31m"));
    CHECK(strchr(html, '\033') == NULL);
    CHECK(test_contains(html, "<title>Claims and verdicts: Go &amp; &lt;Python&gt;</title>"));
    /* A verdict is a word and a symbol, not only a colour. */
    CHECK(test_contains(html, "<td class=\"v contradicted\">\u2717 contradicted</td>"));
    CHECK(test_contains(html, "<td class=\"v holds\">\u2713 holds</td><td class=\"n\">3</td>"));
    CHECK(test_contains(html, "<td class=\"v not-reproducible\">\u2205 not reproducible "
                              "here</td><td class=\"n\">1</td>"));
    CHECK(count(html, "<tr class=\"untestable-entry\">") == 1);
    /* The charts hold the results' figures: CPU rows per task, the size pair, the memory. */
    CHECK(test_contains(html, "nbody (N = 5000)"));
    CHECK(test_contains(html, "hello: go-1.23-hello against python-3.13"));
    CHECK(test_contains(html, "idle: 5.00"));
    CHECK(test_contains(html, "go-nethttp-json at 1000 req/s"));
    CHECK(test_contains(html, "\u2717 contradicted: nbody-ratio"));
    CHECK(test_contains(html, "<td class=\"value\">Linux 6.1.0-test</td>"));
    free(html);
    cJSON_Delete(v);
    cJSON_Delete(r);
}

TEST(same_documents_give_the_same_bytes)
{
    cJSON *v = parse(verdicts_json), *r = parse(results_json);
    ap_error *err = NULL;
    render_fn fns[] = {ap_report_markdown, ap_report_html};
    for (size_t i = 0; i < 2; i++) {
        char *a = render(fns[i], v, r, &err), *b = render(fns[i], v, r, &err);
        CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
        free(a);
        free(b);
    }
    /* A change of one figure changes the page (the control). */
    char *before = render(ap_report_html, v, r, &err);
    cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "measurements"), 0);
    cJSON *stats = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(m, "metrics"), "wall_s"), "stats");
    cJSON_SetNumberValue(cJSON_GetObjectItem(stats, "median"), 0.2);
    char *after = render(ap_report_html, v, r, &err);
    CHECK(before != NULL && after != NULL && strcmp(before, after) != 0);
    free(before);
    free(after);
    ap_error_release(&err);
    cJSON_Delete(v);
    cJSON_Delete(r);
}

TEST(charts_say_when_the_results_hold_none_of_their_figures)
{
    cJSON *v = parse(verdicts_json);
    cJSON *r = parse("{\"schema\":\"appliance-results-2\",\"measurements\":[]}");
    ap_error *err = NULL;
    char *html = render(ap_report_html, v, r, &err);
    CHECK(html != NULL);
    CHECK(count(html, "<svg ") == AP_REPORT_CHARTS);
    /* Every chart but the claims' (which the verdicts feed) has nothing to draw. */
    CHECK(count(html, "No figure of this kind in these results.") == AP_REPORT_CHARTS - 1);
    free(html);
    cJSON_Delete(v);
    cJSON_Delete(r);
}

TEST(documents_of_another_schema_are_refused)
{
    cJSON *v = parse(verdicts_json), *r = parse(results_json);
    cJSON *bad = parse("{\"schema\":\"appliance-claims-1\"}");
    ap_error *err = NULL;
    CHECK(render(ap_report_markdown, bad, r, &err) == NULL);
    CHECK(err != NULL && test_contains(err->msg, "appliance-verdicts-1") &&
          test_contains(err->msg, "Hint:"));
    ap_error_release(&err);
    CHECK(render(ap_report_html, v, bad, &err) == NULL);
    CHECK(err != NULL && test_contains(err->msg, "appliance-results-2"));
    ap_error_release(&err);
    cJSON_Delete(bad);
    cJSON_Delete(v);
    cJSON_Delete(r);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    struct test_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        test_buf_append(&b, chunk, n);
    test_buf_append(&b, "", 1);
    fclose(f);
    return (char *)b.data;
}

TEST(the_reports_are_written_into_a_directory)
{
    cJSON *v = parse(verdicts_json), *r = parse(results_json);
    char tmp[] = "/tmp/test_report.XXXXXX", dir[64], path[96];
    if (!CHECK(mkdtemp(tmp) != NULL))
        return;
    snprintf(dir, sizeof(dir), "%s/out/nested", tmp);
    ap_error *err = NULL;
    CHECK_MSG(ap_report_write_dir(dir, v, r, &err) == 0, "%s", err ? err->msg : "");
    ap_error_release(&err);
    char *md = render(ap_report_markdown, v, r, &err), *html = render(ap_report_html, v, r, &err);
    snprintf(path, sizeof(path), "%s/report.md", dir);
    char *md_file = slurp(path);
    snprintf(path, sizeof(path), "%s/report.html", dir);
    char *html_file = slurp(path);
    CHECK(md_file != NULL && md != NULL && strcmp(md_file, md) == 0);
    CHECK(html_file != NULL && html != NULL && strcmp(html_file, html) == 0);
    /* Nothing else is left in the directory (no temporary file). */
    DIR *d = opendir(dir);
    size_t entries = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        entries += e->d_name[0] != '.';
    if (d != NULL)
        closedir(d);
    CHECK(entries == 2);
    /* A bad document writes nothing. */
    cJSON *bad = parse("{}");
    snprintf(path, sizeof(path), "%s/none", tmp);
    CHECK(ap_report_write_dir(path, bad, r, &err) < 0 && access(path, F_OK) != 0);
    ap_error_release(&err);
    free(md);
    free(html);
    free(md_file);
    free(html_file);
    cJSON_Delete(bad);
    cJSON_Delete(v);
    cJSON_Delete(r);
    char cmd[96];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
}

TEST(numbers_are_written_with_three_significant_digits)
{
    char b[32];
    CHECK(strcmp(ap_report_num(b, sizeof(b), 3.5412), "3.54") == 0);
    CHECK(strcmp(ap_report_num(b, sizeof(b), 0.012345), "0.0123") == 0);
    CHECK(strcmp(ap_report_num(b, sizeof(b), 21400.4), "21400") == 0);
    CHECK(strcmp(ap_report_num(b, sizeof(b), 0), "0") == 0);
    CHECK(strcmp(ap_report_num(b, sizeof(b), 0.0001234), "0.000123") == 0);
    CHECK(strcmp(ap_report_exact(b, sizeof(b), 21), "21") == 0);
    CHECK(strcmp(ap_report_exact(b, sizeof(b), 162000), "162000") == 0);
}
