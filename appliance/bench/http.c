/* Incremental HTTP/1.1 response parser and the JSON answer check (see http.h). Line-oriented
 * parts (status line, headers, chunk sizes, trailers) are gathered into p->line and handled
 * when their LF arrives; bodies are copied into the caller's body buffer, or referenced in
 * place when they arrive whole. Bare LF line ends are accepted, as RFC 9112 allows. */
#include <string.h>

#include "http.h"

enum {
    S_STATUS,      /* status line (empty lines before it are skipped) */
    S_HEADER,      /* a header line, or the empty line ending the head */
    S_BODY_LENGTH, /* Content-Length body */
    S_CHUNK_SIZE,  /* chunk-size line */
    S_CHUNK_DATA,  /* chunk data */
    S_CHUNK_END,   /* the CRLF after chunk data */
    S_TRAILER,     /* trailer lines up to the empty line */
    S_BODY_CLOSE,  /* body delimited by the connection's close */
    S_ERROR,
};

_Static_assert(AP_HTTP_CHUNK_LINE_MAX >= AP_HTTP_LINE_MAX, "line[] holds either kind of line");
_Static_assert(AP_HTTP_CHUNK_END_MAX <= AP_HTTP_LINE_MAX, "line[] holds the line after chunk data");

static void reset_message(struct ap_http_parser *p)
{
    p->state = S_STATUS;
    p->started = 0;
    p->overflow = 0;
    p->line_len = 0;
    p->head_bytes = 0;
    p->body_len = 0;
    p->remaining = 0;
    p->content_length = -1;
    p->status = p->minor = p->json = p->has_server = p->has_date = 0;
    p->conn_close = p->conn_keep_alive = p->te = p->te_chunked = 0;
}

void ap_http_parser_init(struct ap_http_parser *p, char *body_buf, size_t max_body, size_t max_head)
{
    memset(p, 0, sizeof(*p));
    p->body_buf = body_buf;
    p->max_body = body_buf != NULL ? max_body : 0;
    p->max_head = max_head;
    reset_message(p);
}

void ap_http_parser_reset(struct ap_http_parser *p)
{
    p->error = NULL;
    reset_message(p);
}

static int fail(struct ap_http_parser *p, int rc, const char *why)
{
    p->state = S_ERROR;
    p->error = why;
    p->err_rc = rc;
    return rc;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive comparison of s[0..n) with the lower-case literal lit. */
static int eq_nocase(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lit[i])
            return 0;
    return 1;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && is_ows(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && is_ows((*s)[*n - 1]))
        (*n)--;
}

/* Calls fn on each comma-separated, trimmed, non-empty element of a header value. */
static void each_token(const char *v, size_t n,
                       void (*fn)(struct ap_http_parser *, const char *, size_t),
                       struct ap_http_parser *p)
{
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        const char *t = v + i;
        size_t tn = j - i;
        trim(&t, &tn);
        if (tn > 0)
            fn(p, t, tn);
        i = j + 1;
    }
}

static void connection_token(struct ap_http_parser *p, const char *t, size_t n)
{
    if (eq_nocase(t, n, "close"))
        p->conn_close = 1;
    else if (eq_nocase(t, n, "keep-alive"))
        p->conn_keep_alive = 1;
}

/* The final transfer coding decides the framing: chunked when it is "chunked". */
static void te_token(struct ap_http_parser *p, const char *t, size_t n)
{
    p->te_chunked = eq_nocase(t, n, "chunked");
}

static int parse_status_line(struct ap_http_parser *p, const char *s, size_t n)
{
    /* "HTTP/1.x SSS" then the end of the line or a space and a reason phrase. */
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
        return fail(p, AP_HTTP_BAD_HEAD, "not an HTTP/1.x status line");
    if (s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9')
        return fail(p, AP_HTTP_BAD_HEAD, "bad status code");
    if (n > 12 && s[12] != ' ')
        return fail(p, AP_HTTP_BAD_HEAD, "bad status code");
    p->minor = s[7] - '0';
    p->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    p->state = S_HEADER;
    return 0;
}

static int parse_content_length(struct ap_http_parser *p, const char *v, size_t n)
{
    if (n == 0 || n > AP_HTTP_SIZE_DIGITS_MAX)
        return fail(p, AP_HTTP_BAD_HEAD, "bad Content-Length");
    int64_t cl = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(p, AP_HTTP_BAD_HEAD, "bad Content-Length");
        cl = cl * 10 + (v[i] - '0');
    }
    if (p->content_length >= 0 && p->content_length != cl)
        return fail(p, AP_HTTP_BAD_HEAD, "conflicting Content-Length headers");
    p->content_length = cl;
    return 0;
}

/* Header names the parser interprets; a longer line than AP_HTTP_LINE_MAX is refused for
 * them, ignored for any other. */
static int interpreted(const char *name, size_t n)
{
    return eq_nocase(name, n, "content-length") || eq_nocase(name, n, "transfer-encoding") ||
           eq_nocase(name, n, "connection") || eq_nocase(name, n, "content-type") ||
           eq_nocase(name, n, "server") || eq_nocase(name, n, "date");
}

static int parse_header(struct ap_http_parser *p, const char *s, size_t n)
{
    if (is_ows(s[0]))
        return fail(p, AP_HTTP_BAD_HEAD, "obsolete header line folding");
    const char *colon = memchr(s, ':', n);
    if (colon == NULL)
        return fail(p, AP_HTTP_BAD_HEAD,
                    p->overflow ? "header line too long" : "header without ':'");
    size_t nn = (size_t)(colon - s);
    if (nn == 0)
        return fail(p, AP_HTTP_BAD_HEAD, "empty header name");
    for (size_t i = 0; i < nn; i++)
        if (!is_tchar((unsigned char)s[i]))
            return fail(p, AP_HTTP_BAD_HEAD, "bad character in a header name");
    if (p->overflow) {
        if (interpreted(s, nn))
            return fail(p, AP_HTTP_BAD_HEAD, "header line too long");
        return 0;
    }
    const char *v = colon + 1;
    size_t vn = n - nn - 1;
    trim(&v, &vn);
    switch (nn) {
    case 4:
        if (eq_nocase(s, nn, "date"))
            p->has_date |= vn > 0;
        break;
    case 6:
        if (eq_nocase(s, nn, "server"))
            p->has_server |= vn > 0;
        break;
    case 10:
        if (eq_nocase(s, nn, "connection"))
            each_token(v, vn, connection_token, p);
        break;
    case 12:
        if (eq_nocase(s, nn, "content-type")) {
            size_t mt = 0;
            while (mt < vn && v[mt] != ';')
                mt++;
            const char *m = v;
            trim(&m, &mt);
            p->json = eq_nocase(m, mt, "application/json");
        }
        break;
    case 14:
        if (eq_nocase(s, nn, "content-length"))
            return parse_content_length(p, v, vn);
        break;
    case 17:
        if (eq_nocase(s, nn, "transfer-encoding")) {
            p->te = 1;
            p->te_chunked = 0;
            each_token(v, vn, te_token, p);
        }
        break;
    default:
        break;
    }
    return 0;
}

static int done(struct ap_http_parser *p, const char *body, struct ap_http_response *out)
{
    out->status = p->status;
    out->minor_version = p->minor;
    out->json = p->json;
    out->has_server = p->has_server;
    out->has_date = p->has_date;
    out->must_close = p->conn_close || (p->minor == 0 && !p->conn_keep_alive) ||
                      p->state == S_BODY_CLOSE || (p->te && p->content_length >= 0);
    out->body = body;
    out->body_len = p->body_len;
    out->head_len = p->head_bytes;
    reset_message(p);
    return AP_HTTP_DONE;
}

/* The empty line after the headers: decides how the body is framed. */
static int end_of_head(struct ap_http_parser *p, struct ap_http_response *out)
{
    if (p->status < 200) {
        if (p->status == 101)
            return fail(p, AP_HTTP_BAD_HEAD, "unexpected 101 Switching Protocols");
        /* An interim response: the real one follows, within the same head limit. */
        size_t head = p->head_bytes;
        reset_message(p);
        p->head_bytes = head;
        p->started = 1;
        return 0;
    }
    if (p->status == 204 || p->status == 304)
        return done(p, p->body_buf, out);
    if (p->te) {
        p->state = p->te_chunked ? S_CHUNK_SIZE : S_BODY_CLOSE;
        return 0;
    }
    if (p->content_length >= 0) {
        if ((uint64_t)p->content_length > p->max_body)
            return fail(p, AP_HTTP_BAD_BODY, "Content-Length over the body limit");
        if (p->content_length == 0)
            return done(p, p->body_buf, out);
        p->remaining = (uint64_t)p->content_length;
        p->state = S_BODY_LENGTH;
        return 0;
    }
    p->state = S_BODY_CLOSE;
    return 0;
}

/* The whole line is in s: a chunk-size line is never longer than line[] (see line_cap). */
static int parse_chunk_size(struct ap_http_parser *p, const char *s, size_t n)
{
    size_t i = 0;
    uint64_t size = 0;
    for (; i < n && i <= AP_HTTP_SIZE_DIGITS_MAX; i++) {
        int c = lower((unsigned char)s[i]), d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            break;
        size = size * 16 + (uint64_t)d;
    }
    if (i == 0 || i > AP_HTTP_SIZE_DIGITS_MAX)
        return fail(p, AP_HTTP_BAD_BODY, "bad chunk size");
    while (i < n && is_ows(s[i]))
        i++;
    if (i < n && s[i] != ';')
        return fail(p, AP_HTTP_BAD_BODY, "bad chunk size");
    if (size == 0) {
        p->state = S_TRAILER;
        return 0;
    }
    if (size > p->max_body - p->body_len)
        return fail(p, AP_HTTP_BAD_BODY, "chunked body over the body limit");
    p->remaining = size;
    p->state = S_CHUNK_DATA;
    return 0;
}

/* A whole line is in p->line (without its line end). */
static int handle_line(struct ap_http_parser *p, struct ap_http_response *out)
{
    const char *s = p->line;
    size_t n = p->line_len;
    switch (p->state) {
    case S_STATUS:
        if (n == 0 && !p->overflow)
            return 0;
        return parse_status_line(p, s, n);
    case S_HEADER:
        if (n == 0 && !p->overflow)
            return end_of_head(p, out);
        return parse_header(p, s, n);
    case S_CHUNK_SIZE:
        return parse_chunk_size(p, s, n);
    case S_CHUNK_END:
        if (n != 0 || p->overflow)
            return fail(p, AP_HTTP_BAD_BODY, "no CRLF after chunk data");
        p->state = S_CHUNK_SIZE;
        return 0;
    case S_TRAILER:
        if (n == 0 && !p->overflow)
            return done(p, p->body_buf, out);
        return 0;
    case S_BODY_LENGTH:
    case S_CHUNK_DATA:
    case S_BODY_CLOSE:
    case S_ERROR:
    default:
        return fail(p, AP_HTTP_BAD_HEAD, "parser state");
    }
}

static int is_head_state(int state)
{
    return state == S_STATUS || state == S_HEADER || state == S_TRAILER;
}

/* Longest line of a state of the chunked framing, its line end included; 0 for the lines the
 * head limit bounds instead (status, headers, trailers). Such a line is kept whole in line[]. */
static size_t line_cap(int state)
{
    if (state == S_CHUNK_SIZE)
        return AP_HTTP_CHUNK_LINE_MAX;
    if (state == S_CHUNK_END)
        return AP_HTTP_CHUNK_END_MAX;
    return 0;
}

int ap_http_parse(struct ap_http_parser *p, const char *buf, size_t len, size_t *used,
                  struct ap_http_response *out)
{
    size_t i = 0;
    *used = 0;
    if (p->state == S_ERROR)
        return p->err_rc;
    while (i < len) {
        switch (p->state) {
        case S_STATUS:
        case S_HEADER:
        case S_CHUNK_SIZE:
        case S_CHUNK_END:
        case S_TRAILER: {
            /* A capped line is kept whole, so line_len is what it has consumed so far: look
             * for its end only where it may be, and fail on the first byte past the cap. */
            size_t cap = line_cap(p->state);
            size_t scan = len - i;
            if (cap > 0 && scan > cap - p->line_len)
                scan = cap - p->line_len;
            const char *nl = memchr(buf + i, '\n', scan);
            if (nl == NULL && scan < len - i) {
                *used = i + scan + 1;
                return fail(p, AP_HTTP_BAD_BODY,
                            p->state == S_CHUNK_SIZE ? "chunk-size line too long"
                                                     : "no CRLF after chunk data");
            }
            size_t take = nl != NULL ? (size_t)(nl - (buf + i)) + 1 : scan;
            if (is_head_state(p->state)) {
                size_t left = p->max_head - p->head_bytes;
                if (take > left) {
                    *used = i + left + 1;
                    if (p->state == S_TRAILER)
                        return fail(p, AP_HTTP_BAD_BODY, "trailers over the head limit");
                    return fail(p, AP_HTTP_BAD_HEAD, "response head over the limit");
                }
                p->head_bytes += take;
            }
            p->started = 1;
            size_t keep = nl != NULL ? take - 1 : take;
            size_t room = (cap > 0 ? cap : AP_HTTP_LINE_MAX) - p->line_len;
            if (keep > room) {
                p->overflow = 1;
                keep = room;
            }
            memcpy(p->line + p->line_len, buf + i, keep);
            p->line_len += keep;
            i += take;
            if (nl == NULL)
                break;
            if (!p->overflow && p->line_len > 0 && p->line[p->line_len - 1] == '\r')
                p->line_len--;
            p->line[p->line_len] = '\0';
            int rc = handle_line(p, out);
            p->line_len = 0;
            p->overflow = 0;
            if (rc != 0) {
                *used = i;
                return rc;
            }
            break;
        }
        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
            size_t n = len - i;
            if (n > p->remaining)
                n = (size_t)p->remaining;
            int whole = p->state == S_BODY_LENGTH && p->body_len == 0 && n == p->remaining;
            if (!whole)
                memcpy(p->body_buf + p->body_len, buf + i, n);
            p->body_len += n;
            p->remaining -= n;
            i += n;
            if (p->remaining == 0) {
                if (p->state == S_CHUNK_DATA) {
                    p->state = S_CHUNK_END;
                    break;
                }
                *used = i;
                return done(p, whole ? buf + i - n : p->body_buf, out);
            }
            break;
        }
        case S_BODY_CLOSE: {
            size_t n = len - i;
            if (n > p->max_body - p->body_len) {
                *used = i + (p->max_body - p->body_len) + 1;
                return fail(p, AP_HTTP_BAD_BODY, "body over the body limit");
            }
            memcpy(p->body_buf + p->body_len, buf + i, n);
            p->body_len += n;
            i += n;
            break;
        }
        case S_ERROR:
        default:
            *used = i;
            return p->err_rc;
        }
    }
    *used = i;
    return AP_HTTP_MORE;
}

int ap_http_parse_eof(struct ap_http_parser *p, struct ap_http_response *out)
{
    switch (p->state) {
    case S_BODY_CLOSE:
        return done(p, p->body_buf, out);
    case S_STATUS:
        if (!p->started)
            return AP_HTTP_MORE;
        return fail(p, AP_HTTP_BAD_HEAD, "connection closed inside the response head");
    case S_HEADER:
        return fail(p, AP_HTTP_BAD_HEAD, "connection closed inside the response head");
    case S_ERROR:
        return p->err_rc;
    case S_BODY_LENGTH:
    case S_CHUNK_SIZE:
    case S_CHUNK_DATA:
    case S_CHUNK_END:
    case S_TRAILER:
    default:
        return fail(p, AP_HTTP_BAD_BODY, "connection closed inside the response body");
    }
}

int ap_http_parser_busy(const struct ap_http_parser *p)
{
    return p->started || p->state != S_STATUS;
}

const char *ap_http_parser_error(const struct ap_http_parser *p)
{
    return p->error;
}

/* ---- the JSON answer ------------------------------------------------------------------------ */

static size_t skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

static int hex_digit(char c)
{
    int l = lower((unsigned char)c);
    if (l >= '0' && l <= '9')
        return l - '0';
    if (l >= 'a' && l <= 'f')
        return l - 'a' + 10;
    return -1;
}

/* Decodes the JSON string starting at s[i] == '"' and compares it with the ASCII string want.
 * Returns the index after the closing quote when it is a valid JSON string equal to want, 0
 * otherwise (the answer is then wrong whatever follows, so decoding can stop early). */
static size_t string_equals(const char *s, size_t n, size_t i, const char *want)
{
    if (i >= n || s[i] != '"')
        return 0;
    i++;
    size_t w = 0, wn = strlen(want);
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        unsigned cp;
        if (c == '"')
            return w == wn ? i + 1 : 0;
        if (c < 0x20 || c >= 0x80)
            return 0; /* control characters are invalid; non-ASCII cannot match */
        if (c != '\\') {
            cp = c;
            i++;
        } else {
            if (i + 1 >= n)
                return 0;
            switch (s[i + 1]) {
            case '"':
                cp = '"';
                break;
            case '\\':
                cp = '\\';
                break;
            case '/':
                cp = '/';
                break;
            case 'b':
                cp = '\b';
                break;
            case 'f':
                cp = '\f';
                break;
            case 'n':
                cp = '\n';
                break;
            case 'r':
                cp = '\r';
                break;
            case 't':
                cp = '\t';
                break;
            case 'u': {
                if (n - i < 6)
                    return 0;
                cp = 0;
                for (size_t k = 2; k < 6; k++) {
                    int d = hex_digit(s[i + k]);
                    if (d < 0)
                        return 0;
                    cp = cp * 16 + (unsigned)d;
                }
                if (cp >= 0x80)
                    return 0;
                i += 4;
                break;
            }
            default:
                return 0;
            }
            i += 2;
        }
        if (w >= wn || (unsigned char)want[w] != cp)
            return 0;
        w++;
    }
    return 0;
}

int ap_http_body_is_hello(const char *body, size_t len)
{
    if (body == NULL)
        return 0;
    size_t i = skip_ws(body, len, 0);
    if (i >= len || body[i] != '{')
        return 0;
    i = skip_ws(body, len, i + 1);
    if ((i = string_equals(body, len, i, "message")) == 0)
        return 0;
    i = skip_ws(body, len, i);
    if (i >= len || body[i] != ':')
        return 0;
    i = skip_ws(body, len, i + 1);
    if ((i = string_equals(body, len, i, "Hello, World!")) == 0)
        return 0;
    i = skip_ws(body, len, i);
    if (i >= len || body[i] != '}')
        return 0;
    return skip_ws(body, len, i + 1) == len;
}

enum ap_http_verdict ap_http_check_hello(const struct ap_http_response *r)
{
    if (r->status != 200)
        return AP_HTTP_WRONG_STATUS;
    if (!r->json || !r->has_server || !r->has_date)
        return AP_HTTP_WRONG_HEADERS;
    if (!ap_http_body_is_hello(r->body, r->body_len))
        return AP_HTTP_WRONG_BODY;
    return AP_HTTP_VALID;
}
