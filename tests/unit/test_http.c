/* The load generator's HTTP/1.1 response parser and the JSON answer check: every framing, input
 * split at every byte position, pipelined responses, bad input and limits. */
#include <stdint.h>
#include <stdlib.h>

#include "bench/http.h"
#include "test.h"

#define BODY_MAX 4096
#define HEAD_MAX 8192

/* What one parse produced, copied out of the parser; at is the offset in the stream after the
 * bytes it consumed (for a failure, the byte found wrong). */
struct result {
    int rc;
    int status, json, server, date, close;
    size_t at;
    size_t body_len;
    char body[BODY_MAX + 1];
};

struct run {
    struct result r[16];
    size_t n;
};

static char body_buf[BODY_MAX];

static void record(struct run *out, int rc, const struct ap_http_response *resp, size_t at)
{
    if (out->n == 16)
        return;
    struct result *r = &out->r[out->n++];
    memset(r, 0, sizeof(*r));
    r->rc = rc;
    r->at = at;
    if (rc == AP_HTTP_DONE) {
        r->status = resp->status;
        r->json = resp->json;
        r->server = resp->has_server;
        r->date = resp->has_date;
        r->close = resp->must_close;
        r->body_len = resp->body_len;
        if (resp->body_len <= BODY_MAX)
            memcpy(r->body, resp->body, resp->body_len);
    }
}

/* Feeds data in pieces of `step` bytes (0: all at once) then, when eof, the close. Each piece
 * is copied into a buffer of its own size, so ASan catches any read outside it. */
static void feed(const char *data, size_t len, size_t step, int eof, size_t max_body,
                 struct run *out)
{
    struct ap_http_parser p;
    ap_http_parser_init(&p, body_buf, max_body, HEAD_MAX);
    out->n = 0;
    size_t off = 0;
    int failed = 0;
    while (off < len && !failed) {
        size_t n = step == 0 || len - off < step ? len - off : step;
        char *piece = malloc(n);
        memcpy(piece, data + off, n);
        size_t pos = 0;
        while (pos < n) {
            struct ap_http_response resp;
            size_t used = 0;
            int rc = ap_http_parse(&p, piece + pos, n - pos, &used, &resp);
            pos += used;
            if (rc == AP_HTTP_MORE)
                break;
            record(out, rc, &resp, off + pos);
            if (rc < 0) {
                failed = 1;
                break;
            }
        }
        free(piece);
        off += n;
    }
    if (eof && !failed) {
        struct ap_http_response resp;
        int rc = ap_http_parse_eof(&p, &resp);
        if (rc != AP_HTTP_MORE)
            record(out, rc, &resp, len);
    }
}

static int same_run(const struct run *a, const struct run *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const struct result *x = &a->r[i], *y = &b->r[i];
        if (x->rc != y->rc || x->at != y->at || x->status != y->status || x->json != y->json ||
            x->server != y->server || x->date != y->date || x->close != y->close ||
            x->body_len != y->body_len || memcmp(x->body, y->body, x->body_len) != 0)
            return 0;
    }
    return 1;
}

/* Parses text whole, byte by byte, and split in two at every position: all must agree. */
static int split_everywhere(const char *text, int eof, struct run *whole)
{
    size_t len = strlen(text);
    feed(text, len, 0, eof, BODY_MAX, whole);
    static struct run other;
    feed(text, len, 1, eof, BODY_MAX, &other);
    if (!same_run(whole, &other))
        return 0;
    for (size_t cut = 1; cut < len; cut++) {
        struct ap_http_parser p;
        ap_http_parser_init(&p, body_buf, BODY_MAX, HEAD_MAX);
        other.n = 0;
        const char *parts[2] = {text, text + cut};
        size_t lens[2] = {cut, len - cut};
        int failed = 0;
        for (int k = 0; k < 2 && !failed; k++) {
            char *piece = malloc(lens[k]);
            memcpy(piece, parts[k], lens[k]);
            size_t pos = 0;
            while (pos < lens[k]) {
                struct ap_http_response resp;
                size_t used = 0;
                int rc = ap_http_parse(&p, piece + pos, lens[k] - pos, &used, &resp);
                pos += used;
                if (rc == AP_HTTP_MORE)
                    break;
                record(&other, rc, &resp, (size_t)(parts[k] - text) + pos);
                if (rc < 0) {
                    failed = 1;
                    break;
                }
            }
            free(piece);
        }
        if (eof && !failed) {
            struct ap_http_response resp;
            int rc = ap_http_parse_eof(&p, &resp);
            if (rc != AP_HTTP_MORE)
                record(&other, rc, &resp, len);
        }
        if (!same_run(whole, &other)) {
            test_note("differs when split at %zu", cut);
            return 0;
        }
    }
    return 1;
}

static const char GOOD[] = "HTTP/1.1 200 OK\r\n"
                           "Server: net/http\r\n"
                           "Content-Type: application/json\r\n"
                           "Content-Length: 27\r\n"
                           "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
                           "\r\n"
                           "{\"message\":\"Hello, World!\"}";

static struct run res;

TEST(content_length_response)
{
    CHECK(split_everywhere(GOOD, 0, &res));
    if (!CHECK(res.n == 1))
        return;
    struct result *r = &res.r[0];
    CHECK(r->rc == AP_HTTP_DONE && r->status == 200);
    CHECK(r->json && r->server && r->date && !r->close);
    CHECK(r->body_len == 27 && memcmp(r->body, "{\"message\":\"Hello, World!\"}", 27) == 0);
}

TEST(fields_of_a_complete_response)
{
    struct ap_http_parser p;
    ap_http_parser_init(&p, body_buf, BODY_MAX, HEAD_MAX);
    struct ap_http_response r;
    size_t used = 0;
    CHECK(!ap_http_parser_busy(&p));
    CHECK(ap_http_parse(&p, GOOD, strlen(GOOD), &used, &r) == AP_HTTP_DONE);
    CHECK(used == strlen(GOOD));
    CHECK(r.minor_version == 1 && r.head_len == strlen(GOOD) - 27);
    CHECK(ap_http_check_hello(&r) == AP_HTTP_VALID);
    CHECK(!ap_http_parser_busy(&p));
    /* The body arrived whole: it is referenced in place. */
    CHECK(r.body == GOOD + strlen(GOOD) - 27);
    CHECK(ap_http_parse(&p, GOOD, 5, &used, &r) == AP_HTTP_MORE && used == 5);
    CHECK(ap_http_parser_busy(&p));
}

TEST(pipelined_responses_in_one_buffer)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "%s"
             "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\n"
             "not found"
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n"
             "Server: x\r\nDate: y\r\n\r\n"
             "5\r\n{\"mes\r\n16\r\nsage\":\"Hello, World!\"}\r\n0\r\n\r\n"
             "%s",
             GOOD, GOOD);
    CHECK(split_everywhere(text, 0, &res));
    if (!CHECK_MSG(res.n == 4, "%zu results", res.n))
        return;
    CHECK(res.r[0].status == 200 && res.r[0].body_len == 27);
    CHECK(res.r[1].status == 404 && !res.r[1].json && res.r[1].body_len == 9 &&
          memcmp(res.r[1].body, "not found", 9) == 0);
    CHECK(res.r[2].status == 200 && res.r[2].json && res.r[2].body_len == 27);
    CHECK(memcmp(res.r[2].body, "{\"message\":\"Hello, World!\"}", 27) == 0);
    CHECK(res.r[3].status == 200 && res.r[3].rc == AP_HTTP_DONE);
}

TEST(chunked_with_extensions_and_trailers)
{
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
                       "3;name=value\r\nabc\r\n"
                       "A \r\n0123456789\r\n"
                       "0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n";
    CHECK(split_everywhere(text, 0, &res));
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_DONE && res.r[0].body_len == 13);
    CHECK(memcmp(res.r[0].body, "abc0123456789", 13) == 0);
    CHECK(!res.r[0].close);
    /* Bare LF line ends. */
    CHECK(split_everywhere("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nhi\n0\n\n", 0, &res));
    CHECK(res.n == 1 && res.r[0].body_len == 2 && memcmp(res.r[0].body, "hi", 2) == 0);
}

TEST(interim_and_bodyless_responses)
{
    const char *text = "HTTP/1.1 100 Continue\r\n\r\n"
                       "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                       "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
                       "HTTP/1.1 304 Not Modified\r\n\r\n"
                       "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    CHECK(split_everywhere(text, 0, &res));
    CHECK(res.n == 3);
    CHECK(res.r[0].status == 204 && res.r[0].body_len == 0);
    CHECK(res.r[1].status == 304 && res.r[2].status == 200 && res.r[2].body_len == 0);
}

TEST(connection_close_rules)
{
    CHECK(split_everywhere("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 1"
                           "\r\n\r\nx",
                           0, &res));
    CHECK(res.n == 1 && res.r[0].close);
    CHECK(split_everywhere("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, &res));
    CHECK(res.n == 1 && res.r[0].close);
    CHECK(split_everywhere(
        "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", 0, &res));
    CHECK(res.n == 1 && !res.r[0].close);
    /* No framing: the body runs to the close. */
    CHECK(split_everywhere("HTTP/1.1 200 OK\r\nServer: s\r\n\r\n{\"message\": \"Hello, World!\"}",
                           1, &res));
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_DONE && res.r[0].close && res.r[0].body_len == 28);
    /* Transfer-Encoding and Content-Length together: chunked wins, the connection closes. */
    CHECK(split_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked"
                           "\r\n\r\n1\r\nx\r\n0\r\n\r\n",
                           0, &res));
    CHECK(res.n == 1 && res.r[0].body_len == 1 && res.r[0].close);
}

TEST(content_type_forms)
{
    struct {
        const char *ct;
        int json;
    } cases[] = {
        {"application/json", 1},
        {"Application/JSON; charset=utf-8", 1},
        {"application/json ; charset=UTF-8", 1},
        {"  application/json", 1},
        {"application/jsonx", 0},
        {"text/json", 0},
        {"application/json-patch+json", 0},
        {"", 0},
        {"application/", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text),
                 "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: 0"
                 "\r\n\r\n",
                 cases[i].ct);
        feed(text, strlen(text), 0, 0, BODY_MAX, &res);
        CHECK_MSG(res.n == 1 && res.r[0].rc == AP_HTTP_DONE && res.r[0].json == cases[i].json,
                  "Content-Type '%s'", cases[i].ct);
    }
    /* Header names in any case; empty Server or Date do not count. */
    const char *t = "HTTP/1.1 200 OK\r\nCONTENT-TYPE:application/json\r\nserver:\r\nDATE:  \r\n"
                    "content-length:0\r\n\r\n";
    feed(t, strlen(t), 0, 0, BODY_MAX, &res);
    CHECK(res.n == 1 && res.r[0].json && !res.r[0].server && !res.r[0].date);
}

/* Expects text to fail with rc (after any earlier complete responses), split anywhere. */
static int fails_with(const char *text, int eof, int rc, size_t max_body)
{
    size_t len = strlen(text);
    feed(text, len, 0, eof, max_body, &res);
    if (res.n == 0 || res.r[res.n - 1].rc != rc)
        return 0;
    static struct run other;
    feed(text, len, 1, eof, max_body, &other);
    return same_run(&res, &other);
}

TEST(bad_input_is_refused)
{
    CHECK(fails_with("HTTP/2 200 OK\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("ICY 200 OK\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 20 OK\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 2000 OK\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 600 OK\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nBad Name: b\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\n: b\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(
        fails_with("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(
        fails_with("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", 0,
                     AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 0,
                     AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 101 Switching Protocols\r\n\r\n", 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 0,
                     AP_HTTP_BAD_BODY, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 0,
                     AP_HTTP_BAD_BODY, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 0,
                     AP_HTTP_BAD_BODY, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "ffffffffffffffffffff\r\n",
                     0, AP_HTTP_BAD_BODY, BODY_MAX));
    /* The failure sticks until reset. */
    struct ap_http_parser p;
    ap_http_parser_init(&p, body_buf, BODY_MAX, HEAD_MAX);
    struct ap_http_response r;
    size_t used;
    CHECK(ap_http_parse(&p, "XTTP/1.1 200\r\n", 14, &used, &r) == AP_HTTP_BAD_HEAD);
    CHECK(ap_http_parser_error(&p) != NULL);
    CHECK(ap_http_parse(&p, GOOD, strlen(GOOD), &used, &r) == AP_HTTP_BAD_HEAD);
    ap_http_parser_reset(&p);
    CHECK(ap_http_parse(&p, GOOD, strlen(GOOD), &used, &r) == AP_HTTP_DONE);
}

TEST(connection_closed_mid_response)
{
    CHECK(fails_with("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1, AP_HTTP_BAD_BODY,
                     BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nContent-Le", 1, AP_HTTP_BAD_HEAD, BODY_MAX));
    CHECK(fails_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", 1,
                     AP_HTTP_BAD_BODY, BODY_MAX));
    /* A close between responses is not an error. */
    feed(GOOD, strlen(GOOD), 0, 1, BODY_MAX, &res);
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_DONE);
}

TEST(limits_on_head_and_body)
{
    /* Body over the limit: by Content-Length, chunked and until close. */
    CHECK(fails_with("HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n", 0, AP_HTTP_BAD_BODY, 64));
    static char text[HEAD_MAX * 2];
    size_t n = (size_t)snprintf(text, sizeof(text),
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                "chunked\r\n\r\n");
    for (int i = 0; i < 3; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "20\r\n%032d\r\n", i);
    CHECK(fails_with(text, 0, AP_HTTP_BAD_BODY, 64));
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\n\r\n");
    memset(text + n, 'x', 65);
    text[n + 65] = '\0';
    CHECK(fails_with(text, 1, AP_HTTP_BAD_BODY, 64));
    /* Exactly at the limit is fine. */
    text[n + 64] = '\0';
    feed(text, strlen(text), 7, 1, 64, &res);
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_DONE && res.r[0].body_len == 64);

    /* Headers over HEAD_MAX in total, made of many short lines. */
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\n");
    while (n < HEAD_MAX + 100)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "X-Filler: 0123456789abcdef\r\n");
    snprintf(text + n, sizeof(text) - n, "\r\n");
    CHECK(fails_with(text, 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    /* An endless stream of interim responses hits the same limit. */
    n = 0;
    while (n < HEAD_MAX + 100)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "HTTP/1.1 100 Continue\r\n\r\n");
    CHECK(fails_with(text, 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    /* A long line of a header the parser ignores is fine; of one it reads, refused. */
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nX-Long: ");
    memset(text + n, 'a', 2000);
    n += 2000;
    n += (size_t)snprintf(text + n, sizeof(text) - n, "\r\nContent-Length: 0\r\n\r\n");
    feed(text, n, 0, 0, BODY_MAX, &res);
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_DONE);
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\nContent-Type: ");
    memset(text + n, 'a', 2000);
    n += 2000;
    snprintf(text + n, sizeof(text) - n, "\r\nContent-Length: 0\r\n\r\n");
    CHECK(fails_with(text, 0, AP_HTTP_BAD_HEAD, BODY_MAX));
    /* A long line with no colon at all. */
    n = (size_t)snprintf(text, sizeof(text), "HTTP/1.1 200 OK\r\n");
    memset(text + n, 'a', 2000);
    n += 2000;
    snprintf(text + n, sizeof(text) - n, "\r\n\r\n");
    CHECK(fails_with(text, 0, AP_HTTP_BAD_HEAD, BODY_MAX));
}

static const char CHUNKED_HEAD[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/* Writes a chunked response whose first chunk-size line, "1;" and an extension of 'a', is
 * line_len bytes long with its line end (CRLF, or a bare LF when bare_lf), then the chunk data
 * "x" and the last chunk. */
static void chunk_line_response(char *text, size_t size, size_t line_len, int bare_lf)
{
    const char *end = bare_lf ? "\n" : "\r\n";
    size_t ext = line_len - 2 - strlen(end);
    size_t n = (size_t)snprintf(text, size, "%s1;", CHUNKED_HEAD);
    memset(text + n, 'a', ext);
    n += ext;
    snprintf(text + n, size - n, "%sx\r\n0\r\n\r\n", end);
}

TEST(chunk_size_line_capped)
{
    static char text[AP_HTTP_CHUNK_LINE_MAX + 256];
    size_t head = strlen(CHUNKED_HEAD);
    for (int lf = 0; lf <= 1; lf++) {
        /* The cap counts the size, the extensions and the line end: a line of exactly
         * AP_HTTP_CHUNK_LINE_MAX bytes is accepted, split anywhere. */
        chunk_line_response(text, sizeof(text), AP_HTTP_CHUNK_LINE_MAX, lf);
        CHECK_MSG(split_everywhere(text, 0, &res), "%s line of the cap", lf ? "LF" : "CRLF");
        CHECK_MSG(res.n == 1 && res.r[0].rc == AP_HTTP_DONE && res.r[0].body_len == 1 &&
                      res.r[0].body[0] == 'x',
                  "%s line of %d bytes: %zu results, rc %d", lf ? "LF" : "CRLF",
                  AP_HTTP_CHUNK_LINE_MAX, res.n, res.n > 0 ? res.r[0].rc : 0);
        /* One byte more is an invalid body, found at that byte (the LF ending the line). */
        chunk_line_response(text, sizeof(text), AP_HTTP_CHUNK_LINE_MAX + 1, lf);
        CHECK_MSG(split_everywhere(text, 0, &res), "%s line over the cap", lf ? "LF" : "CRLF");
        CHECK_MSG(res.n == 1 && res.r[0].rc == AP_HTTP_BAD_BODY &&
                      res.r[0].at == head + AP_HTTP_CHUNK_LINE_MAX + 1,
                  "%s line of %d bytes: %zu results, rc %d at %zu", lf ? "LF" : "CRLF",
                  AP_HTTP_CHUNK_LINE_MAX + 1, res.n, res.n > 0 ? res.r[0].rc : 0,
                  res.n > 0 ? res.r[0].at : 0);
    }
    /* Far over the cap, line end included: refused at the same byte. */
    chunk_line_response(text, sizeof(text), AP_HTTP_CHUNK_LINE_MAX + 200, 0);
    CHECK(split_everywhere(text, 0, &res));
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_BAD_BODY &&
          res.r[0].at == head + AP_HTTP_CHUNK_LINE_MAX + 1);
}

TEST(line_end_after_chunk_data)
{
    /* A bare LF is fine; anything else fails at the byte past AP_HTTP_CHUNK_END_MAX. */
    CHECK(split_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\n0\r\n\r\n",
                           0, &res));
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_DONE && res.r[0].body_len == 1);
    const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\r\n0\r\n\r\n";
    CHECK(split_everywhere(text, 0, &res));
    CHECK(res.n == 1 && res.r[0].rc == AP_HTTP_BAD_BODY &&
          res.r[0].at == strlen(CHUNKED_HEAD) + strlen("1\r\nx\r\r\n"));
}

TEST(trailers_over_the_head_limit)
{
    static char text[HEAD_MAX * 2];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s0\r\n", CHUNKED_HEAD);
    while (n < HEAD_MAX + 100)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "X-Trailer: 0123456789abcdef\r\n");
    snprintf(text + n, sizeof(text) - n, "\r\n");
    CHECK(fails_with(text, 0, AP_HTTP_BAD_BODY, BODY_MAX));
    /* Found at the first byte over the limit; the chunk-size line "0" is not part of it. */
    CHECK(res.r[res.n - 1].at == HEAD_MAX + 1 + strlen("0\r\n"));
}

/* Feeds prefix, then the byte c again and again in pieces of step bytes, until the parser
 * answers something else than AP_HTTP_MORE or limit bytes were fed. Returns that answer, with
 * *consumed the bytes the parser consumed in all. */
static int endless(const char *prefix, char c, size_t step, size_t limit, size_t *consumed)
{
    struct ap_http_parser p;
    ap_http_parser_init(&p, body_buf, BODY_MAX, HEAD_MAX);
    struct ap_http_response r;
    size_t used = 0;
    int rc = ap_http_parse(&p, prefix, strlen(prefix), &used, &r);
    *consumed = used;
    char *piece = malloc(step);
    memset(piece, c, step);
    while (rc == AP_HTTP_MORE && *consumed < limit) {
        rc = ap_http_parse(&p, piece, step, &used, &r);
        *consumed += used;
    }
    free(piece);
    return rc;
}

TEST(endless_streams_stop_at_a_limit)
{
    struct {
        const char *prefix;
        int rc;
        size_t at; /* where the parser must fail */
    } cases[] = {
        /* A chunk extension that never ends: the chunk-size line's cap. */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;", AP_HTTP_BAD_BODY,
         sizeof(CHUNKED_HEAD) - 1 + AP_HTTP_CHUNK_LINE_MAX + 1},
        /* Chunk data followed by anything but its line end. */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx", AP_HTTP_BAD_BODY,
         sizeof(CHUNKED_HEAD) - 1 + 4 + AP_HTTP_CHUNK_END_MAX + 1},
        /* A trailer line that never ends: the head limit, the chunk-size line not counted. */
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ", AP_HTTP_BAD_BODY,
         HEAD_MAX + 1 + 3},
        /* A header line that never ends. */
        {"HTTP/1.1 200 OK\r\nX: ", AP_HTTP_BAD_HEAD, HEAD_MAX + 1},
        /* A body until the close that never closes. */
        {"HTTP/1.1 200 OK\r\n\r\n", AP_HTTP_BAD_BODY, 19 + BODY_MAX + 1},
    };
    size_t steps[] = {1, 3, 511, 1024, 1025, 4096, 16384};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
            size_t consumed = 0;
            int rc = endless(cases[i].prefix, 'a', steps[k], 1 << 20, &consumed);
            CHECK_MSG(rc == cases[i].rc && consumed == cases[i].at,
                      "case %zu in pieces of %zu: rc %d after %zu bytes, expected %d after %zu", i,
                      steps[k], rc, consumed, cases[i].rc, cases[i].at);
        }
}

TEST(json_answer_check)
{
    const char *good[] = {
        "{\"message\":\"Hello, World!\"}",
        "{\"message\": \"Hello, World!\"}",
        " \r\n\t{ \"message\" :\n\"Hello, World!\" } \n",
        "{\"m\\u0065ssage\":\"Hello, World\\u0021\"}",
        "{\"message\":\"Hello,\\u0020World!\"}",
    };
    const char *bad[] = {
        "",
        "{}",
        "{\"message\":\"Hello, World\"}",
        "{\"message\":\"Hello, World!!\"}",
        "{\"message\":\"hello, world!\"}",
        "{\"Message\":\"Hello, World!\"}",
        "{\"message\":\"Hello, World!\",}",
        "{\"message\":\"Hello, World!\",\"x\":1}",
        "{\"message\":\"Hello, World!\"",
        "{\"message\":\"Hello, World!\"}x",
        "{\"message\":\"Hello, World!\"}}",
        "[\"message\",\"Hello, World!\"]",
        "{\"message\":\"Hello, World!}",
        "{'message':'Hello, World!'}",
        "{\"message\" \"Hello, World!\"}",
        "{\"message\":\"Hello,\tWorld!\"}",
        "{\"message\":\"Hello, World!\\\"}",
        "{\"message\":\"Hello, World!\\u00\"}",
        "{\"message\":\"Hello, World!\\x\"}",
        "\v{\"message\":\"Hello, World!\"}",
        "{\"message\":\"Hello, W\xc3\xb6rld!\"}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_MSG(ap_http_body_is_hello(good[i], strlen(good[i])), "should pass: %s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_MSG(!ap_http_body_is_hello(bad[i], strlen(bad[i])), "should fail: %s", bad[i]);
    /* Every prefix of a good answer is refused, read without going past its end. */
    const char *g = good[2];
    for (size_t n = 0; n < strlen(g) - 2; n++) {
        char *copy = malloc(n + 1);
        memcpy(copy, g, n);
        CHECK_MSG(!ap_http_body_is_hello(copy, n), "prefix of %zu bytes", n);
        free(copy);
    }
    CHECK(!ap_http_body_is_hello(NULL, 0));
}

TEST(verdicts)
{
    struct ap_http_response r = {200, 1, 1, 1, 1, 0, "{\"message\":\"Hello, World!\"}", 27, 0};
    CHECK(ap_http_check_hello(&r) == AP_HTTP_VALID);
    r.status = 404;
    CHECK(ap_http_check_hello(&r) == AP_HTTP_WRONG_STATUS);
    r.status = 200;
    r.json = 0;
    CHECK(ap_http_check_hello(&r) == AP_HTTP_WRONG_HEADERS);
    r.json = 1;
    r.has_date = 0;
    CHECK(ap_http_check_hello(&r) == AP_HTTP_WRONG_HEADERS);
    r.has_date = 1;
    r.body_len = 26;
    CHECK(ap_http_check_hello(&r) == AP_HTTP_WRONG_BODY);
}

TEST(random_bytes_never_crash)
{
    /* Mutations of good responses, fed in random pieces: ASan checks every access. */
    static const char *seeds[] = {
        GOOD,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        "HTTP/1.0 200 OK\r\n\r\nbody until close",
    };
    uint64_t s = 88172645463325252u;
    int ok = 1;
    for (int iter = 0; iter < 20000; iter++) {
        char text[512];
        const char *seed = seeds[iter % 3];
        size_t len = strlen(seed);
        memcpy(text, seed, len);
        for (int m = 0; m < 1 + iter % 4; m++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            text[s % len] = (char)(s >> 24);
        }
        feed(text, len, 1 + (size_t)(s % 9), (int)(s & 1), 64, &res);
        for (size_t i = 0; i < res.n; i++)
            if (res.r[i].rc == AP_HTTP_DONE && res.r[i].body_len > 64)
                ok = 0;
    }
    CHECK(ok);
}
