/* The check of a run's output against its manifest's expectation: exact text, a file's
 * bytes, a file's numbers within a tolerance, or a sha256 and length (runner.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/fs.h"
#include "../core/hash.h"
#include "runner.h"

static int is_number(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    char buf[64];
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    strtod(buf, &end);
    return end == buf + n;
}

/* Same lines and words; words that are both numbers may differ by tol. */
static int float_same(const char *a, size_t na, const char *b, size_t nb, double tol, char *why,
                      size_t wlen)
{
    size_t i = 0, j = 0;
    int line = 1;
    for (;;) {
        while (i < na && (a[i] == ' ' || a[i] == '\t'))
            i++;
        while (j < nb && (b[j] == ' ' || b[j] == '\t'))
            j++;
        if (i >= na || j >= nb)
            break;
        if (a[i] == '\n' || b[j] == '\n') {
            if (a[i] != b[j]) {
                snprintf(why, wlen, "line %d has a different number of words", line);
                return -1;
            }
            i++, j++, line++;
            continue;
        }
        size_t si = i, sj = j;
        while (i < na && a[i] != ' ' && a[i] != '\t' && a[i] != '\n')
            i++;
        while (j < nb && b[j] != ' ' && b[j] != '\t' && b[j] != '\n')
            j++;
        if (i - si == j - sj && memcmp(a + si, b + sj, i - si) == 0)
            continue;
        if (is_number(a + si, i - si) && is_number(b + sj, j - sj)) {
            char x[64], y[64];
            snprintf(x, sizeof(x), "%.*s", (int)(i - si), a + si);
            snprintf(y, sizeof(y), "%.*s", (int)(j - sj), b + sj);
            if (fabs(strtod(x, NULL) - strtod(y, NULL)) <= tol)
                continue;
        }
        snprintf(why, wlen, "line %d: '%.*s' where '%.*s' is expected (tolerance %g)", line,
                 (int)(j - sj > 40 ? 40 : j - sj), b + sj, (int)(i - si > 40 ? 40 : i - si), a + si,
                 tol);
        return -1;
    }
    while (i < na && (a[i] == ' ' || a[i] == '\n'))
        i++;
    while (j < nb && (b[j] == ' ' || b[j] == '\n'))
        j++;
    if (i < na || j < nb) {
        snprintf(why, wlen, "the output is %s than expected", j < nb ? "longer" : "shorter");
        return -1;
    }
    return 0;
}

int ap_bench_check_output(const char *data, size_t len, const cJSON *expected, const char *dir,
                          char *why, size_t wlen)
{
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(expected, "text");
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(expected, "file");
    const cJSON *tol = cJSON_GetObjectItemCaseSensitive(expected, "float_tolerance");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(expected, "sha256");
    const cJSON *length = cJSON_GetObjectItemCaseSensitive(expected, "length");
    if (cJSON_IsString(text)) {
        size_t n = strlen(text->valuestring);
        if (n == len && memcmp(data, text->valuestring, n) == 0)
            return 0;
        snprintf(why, wlen, "the output '%.*s' is not the expected '%.*s'",
                 (int)(len > 60 ? 60 : len), data, (int)(n > 60 ? 60 : n), text->valuestring);
        return -1;
    }
    if (cJSON_IsString(file)) {
        char path[2048];
        cleanup_free char *want = NULL;
        size_t wn = 0;
        ap_error *e = NULL;
        if (ap_fs_path(path, sizeof(path), "%s/%s", dir, file->valuestring) < 0 ||
            ap_fs_read_file(AT_FDCWD, path, AP_BENCH_MAX_TEXT_OUTPUT, &want, &wn, &e) < 0) {
            snprintf(why, wlen, "cannot read the expected output %s: %s", path,
                     e ? e->msg : "path too long");
            ap_error_release(&e);
            return -1;
        }
        if (cJSON_IsNumber(tol))
            return float_same(want, wn, data, len, tol->valuedouble, why, wlen);
        if (wn == len && memcmp(want, data, len) == 0)
            return 0;
        size_t k = 0;
        while (k < wn && k < len && want[k] == data[k])
            k++;
        snprintf(why, wlen, "the output differs from %s at byte %zu (%zu bytes, expected %zu)",
                 file->valuestring, k, len, wn);
        return -1;
    }
    if (cJSON_IsString(sha)) {
        char hex[AP_SHA256_HEX_LEN + 1];
        ap_sha256_hex(data, len, hex);
        if (strcmp(hex, sha->valuestring) == 0 &&
            (!cJSON_IsNumber(length) || (double)len == length->valuedouble))
            return 0;
        snprintf(why, wlen,
                 "the output has sha256 %.16s... and %zu bytes, expected %.16s...%s%.0f%s", hex,
                 len, sha->valuestring, cJSON_IsNumber(length) ? " and " : "",
                 cJSON_IsNumber(length) ? length->valuedouble : 0,
                 cJSON_IsNumber(length) ? " bytes" : "");
        return -1;
    }
    snprintf(why, wlen,
             "the manifest gives no expected output this engine can check "
             "(text, file or sha256)");
    return -1;
}

int ap_bench_output_verdict(const struct ap_bench_exec *x, const char *hex, const char *data,
                            size_t len, size_t kept, int oom, ap_error **err)
{
    if (x->expected == NULL)
        return 0;
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(x->expected, "sha256");
    const cJSON *expect_len = cJSON_GetObjectItemCaseSensitive(x->expected, "length");
    char why[512];
    int bad;
    if (cJSON_IsString(sha)) {
        bad = strcmp(hex, sha->valuestring) != 0 ||
              (cJSON_IsNumber(expect_len) && (double)len != expect_len->valuedouble);
        snprintf(why, sizeof(why),
                 "the output has sha256 %.16s... and %zu bytes, expected "
                 "%.16s...",
                 hex, len, sha->valuestring);
    } else if (kept != len || oom) {
        bad = 1;
        snprintf(why, sizeof(why), "the output (%zu bytes) is too large to compare as text", len);
    } else {
        bad = ap_bench_check_output(data ? data : "", len, x->expected, x->expected_dir, why,
                                    sizeof(why)) < 0;
    }
    if (!bad)
        return 0;
    ap_error_make(err, 0, "%s: wrong output, not measured: %s", x->label, why);
    return ap_error_hint(err, "a wrong answer is never a number: check the program and the "
                              "manifest's expected output");
}
