/* libFuzzer harness for the load generator's HTTP response parser and JSON answer check.
 *
 * The input is parsed three ways: whole, one byte at a time, and in two pieces split where its
 * first byte says, each piece in a buffer of its own size (so ASan sees any read past it); the
 * three must give the same responses, and fail (if they do) at the same byte of the input: every
 * limit, such as a chunk-size line's AP_HTTP_CHUNK_LINE_MAX, holds wherever the input is split.
 * Any body the hand-written check accepts must also parse with cJSON to exactly
 * {"message": "Hello, World!"}. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BODY_MAX 1024
#define HEAD_MAX 2048
#define MAX_RESULTS 64

struct result {
    int rc, status, json, server, date, close;
    size_t at; /* offset in the input after the bytes consumed (for a failure, the bad byte) */
    size_t body_len;
    uint64_t body_hash;
};

struct run {
    struct result r[MAX_RESULTS];
    size_t n;
};

static uint64_t hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211u;
    return h;
}

static void check_hello(const char *body, size_t len)
{
    if (!ap_http_body_is_hello(body, len))
        return;
    cJSON *j = cJSON_ParseWithLength(body, len);
    if (j == NULL || !cJSON_IsObject(j) || cJSON_GetArraySize(j) != 1)
        abort();
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (!cJSON_IsString(m) || strcmp(m->valuestring, "Hello, World!") != 0)
        abort();
    cJSON_Delete(j);
}

/* Parses data in pieces of at most step bytes (0: whole), then the close. */
static void parse(const uint8_t *data, size_t size, size_t first, size_t step, struct run *out)
{
    static char body[BODY_MAX];
    struct ap_http_parser p;
    ap_http_parser_init(&p, body, BODY_MAX, HEAD_MAX);
    out->n = 0;
    size_t off = 0;
    int failed = 0;
    while (off < size && !failed) {
        size_t n = size - off;
        if (off == 0 && first > 0 && first < n)
            n = first;
        else if (step > 0 && step < n)
            n = step;
        char *piece = malloc(n);
        if (piece == NULL)
            abort();
        memcpy(piece, data + off, n);
        size_t pos = 0;
        while (pos < n && out->n < MAX_RESULTS) {
            struct ap_http_response r;
            size_t used = 0;
            int rc = ap_http_parse(&p, piece + pos, n - pos, &used, &r);
            if (used > n - pos)
                abort();
            pos += used;
            if (rc == AP_HTTP_MORE) {
                if (pos != n)
                    abort();
                break;
            }
            struct result *x = &out->r[out->n++];
            memset(x, 0, sizeof(*x));
            x->rc = rc;
            x->at = off + pos;
            if (rc < 0) {
                if (ap_http_parser_error(&p) == NULL)
                    abort();
                failed = 1;
                break;
            }
            if (r.body_len > BODY_MAX || r.head_len > HEAD_MAX)
                abort();
            x->status = r.status;
            x->json = r.json;
            x->server = r.has_server;
            x->date = r.has_date;
            x->close = r.must_close;
            x->body_len = r.body_len;
            x->body_hash = hash(r.body, r.body_len);
            check_hello(r.body, r.body_len);
            (void)ap_http_check_hello(&r);
        }
        free(piece);
        if (out->n == MAX_RESULTS)
            return;
        off += n;
    }
    if (!failed && out->n < MAX_RESULTS) {
        struct ap_http_response r;
        int rc = ap_http_parse_eof(&p, &r);
        if (rc != AP_HTTP_MORE) {
            struct result *x = &out->r[out->n++];
            memset(x, 0, sizeof(*x));
            x->rc = rc;
            x->at = size;
            if (rc == AP_HTTP_DONE) {
                x->status = r.status;
                x->close = r.must_close;
                x->body_len = r.body_len;
                x->body_hash = hash(r.body, r.body_len);
            }
        }
    }
}

static struct run whole, bytes, split;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_hello((const char *)data, size);
    parse(data, size, 0, 0, &whole);
    parse(data, size, 0, 1, &bytes);
    parse(data, size, size > 0 ? data[0] % (size + 1) : 0, 0, &split);
    if (whole.n != bytes.n || whole.n != split.n)
        abort();
    for (size_t i = 0; i < whole.n; i++)
        if (memcmp(&whole.r[i], &bytes.r[i], sizeof(whole.r[i])) != 0 ||
            memcmp(&whole.r[i], &split.r[i], sizeof(whole.r[i])) != 0)
            abort();
    return 0;
}
