/* An incremental HTTP/1.1 response parser for the load generator, and the check of a
 * TechEmpower JSON answer.
 *
 * The parser is fed bytes as they arrive, split anywhere, several responses in one buffer.
 * It frames bodies by Content-Length, chunked transfer coding or the connection's close, skips
 * interim 1xx responses, and bounds every part of a response, so that a hostile server can
 * make it consume only a bounded number of bytes before it answers AP_HTTP_DONE or fails:
 * - the status line, the headers and the chunked trailers of one response (interim responses
 *   included) together: max_head bytes, given at init; over it, AP_HTTP_BAD_HEAD (in the
 *   trailers: AP_HTTP_BAD_BODY);
 * - each status, header or trailer line it keeps: AP_HTTP_LINE_MAX (the rest of a longer line
 *   is ignored, except that a header the parser interprets, or a header line without ':' in
 *   what was kept, is refused);
 * - each chunk-size line: AP_HTTP_CHUNK_LINE_MAX; the line end after chunk data:
 *   AP_HTTP_CHUNK_END_MAX; the digits of a size: AP_HTTP_SIZE_DIGITS_MAX; over them,
 *   AP_HTTP_BAD_BODY;
 * - the decoded body: max_body bytes, given at init; over it, AP_HTTP_BAD_BODY.
 * It never allocates and never reads outside the bytes it is given. Responses to HEAD requests
 * are not supported (the load generator only sends GET). */
#ifndef AP_BENCH_HTTP_H
#define AP_BENCH_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Longest status, header or trailer line kept, its line end excluded. */
#define AP_HTTP_LINE_MAX 512
/* Longest chunk-size line: the size, any chunk extensions and the line end (CRLF or a bare LF)
 * together. A line of up to AP_HTTP_CHUNK_LINE_MAX bytes is accepted; byte
 * AP_HTTP_CHUNK_LINE_MAX + 1 of a line fails the response as an invalid body as soon as it
 * arrives, whatever it is, so a server cannot make the parser consume more of such a line.
 * Extensions are skipped, not interpreted. */
#define AP_HTTP_CHUNK_LINE_MAX 1024
/* Longest line end after chunk data: CRLF (or a bare LF), nothing before it. */
#define AP_HTTP_CHUNK_END_MAX 2
/* Most digits of a Content-Length (decimal) or of a chunk size (hexadecimal, leading zeros
 * included): far above any max_body, far below an overflow of 64 bits. */
#define AP_HTTP_SIZE_DIGITS_MAX 15

/* Return values of ap_http_parse and ap_http_parse_eof. */
enum {
    AP_HTTP_MORE = 0,      /* every byte consumed; no response complete yet */
    AP_HTTP_DONE = 1,      /* one response complete: *out filled, *used bytes consumed */
    AP_HTTP_BAD_HEAD = -1, /* malformed or over-limit status line or headers */
    AP_HTTP_BAD_BODY = -2, /* malformed or over-limit chunked framing or trailers, body over
                              max_body, or cut short */
};

/* One complete response. body points either into the caller's buffer or into the parser's
 * body buffer: valid until the next call on the parser and while the caller's buffer is
 * unchanged. */
struct ap_http_response {
    int status;        /* 100..599 */
    int minor_version; /* HTTP/1.x */
    int json;          /* Content-Type is application/json (any case, parameters allowed) */
    int has_server;    /* a non-empty Server header */
    int has_date;      /* a non-empty Date header */
    int must_close;    /* Connection: close, HTTP/1.0 without keep-alive, or body ended by close */
    const char *body;
    size_t body_len;
    size_t head_len; /* bytes of the status line and headers (interim responses included) */
};

/* Parser state. Fields are private: use the functions. */
struct ap_http_parser {
    size_t max_head, max_body;
    char *body_buf; /* the caller's, max_body bytes */
    const char *error;
    int err_rc; /* what a failed parser keeps returning */
    int state;
    int started;  /* some byte of the current response was consumed */
    int overflow; /* the current line did not fit in line[] */
    size_t line_len, head_bytes, body_len;
    uint64_t remaining; /* bytes left of the Content-Length body or of the current chunk */
    int64_t content_length;
    int status, minor, json, has_server, has_date, conn_close, conn_keep_alive, te, te_chunked;
    char line[AP_HTTP_CHUNK_LINE_MAX + 1]; /* a chunk-size line is kept whole */
};

/* Prepares p. body_buf (max_body bytes, owned by the caller, outliving p) receives bodies that
 * do not arrive in one piece; max_head bounds the status line plus headers of one response. */
void ap_http_parser_init(struct ap_http_parser *p, char *body_buf, size_t max_body,
                         size_t max_head);

/* Forgets any partial response (after a reconnect). */
void ap_http_parser_reset(struct ap_http_parser *p);

/* Feeds len bytes. Returns AP_HTTP_DONE with *out filled and *used the bytes consumed (call
 * again with the rest for the next response), AP_HTTP_MORE with *used == len, or a negative
 * AP_HTTP_BAD_* after which the parser keeps failing until reset (ap_http_parser_error says
 * why; the connection's framing is lost: close it). On the first failure *used counts the
 * bytes up to the one found wrong: the end of a bad line, or the first byte over a limit;
 * wherever the input was split, a failure comes at the same byte of the stream. */
int ap_http_parse(struct ap_http_parser *p, const char *buf, size_t len, size_t *used,
                  struct ap_http_response *out);

/* The peer closed the connection. Returns AP_HTTP_DONE when that ends a close-delimited body
 * (*out filled), AP_HTTP_MORE when no response was under way, AP_HTTP_BAD_* when one was cut
 * short. */
int ap_http_parse_eof(struct ap_http_parser *p, struct ap_http_response *out);

/* 1 when part of a response has been consumed and the rest is awaited. */
int ap_http_parser_busy(const struct ap_http_parser *p);

/* Why the last call failed (a static string), or NULL. */
const char *ap_http_parser_error(const struct ap_http_parser *p);

/* 1 when body[0..len) is a JSON object with exactly one member, "message", whose value is the
 * string "Hello, World!" (any JSON whitespace, escapes decoded); 0 otherwise. */
int ap_http_body_is_hello(const char *body, size_t len);

/* Verdict on one response to GET /json, checked in this order. */
enum ap_http_verdict {
    AP_HTTP_VALID = 0,
    AP_HTTP_WRONG_STATUS,  /* status is not 200 */
    AP_HTTP_WRONG_HEADERS, /* Content-Type is not application/json, or no Server or Date */
    AP_HTTP_WRONG_BODY,    /* the body is not {"message":"Hello, World!"} */
};

enum ap_http_verdict ap_http_check_hello(const struct ap_http_response *r);

#endif
