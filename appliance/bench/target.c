/* Where a load or a probe goes: the literal address, the URL it came from and the request
 * both send (loadgen.h, target.h). */
#include "target.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int make_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
                         socklen_t *len, ap_error **err)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (addr != NULL && inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        *len = sizeof(*in4);
        return 0;
    }
    if (addr != NULL && inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        *len = sizeof(*in6);
        return 0;
    }
    return ap_error_make(err, EINVAL, "'%s' is not a literal IPv4 or IPv6 address",
                         addr ? addr : "(null)");
}

static int path_ok(const char *path)
{
    if (path == NULL || path[0] != '/' || strlen(path) >= AP_LOAD_PATH_MAX)
        return 0;
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return 0;
    return 1;
}

int ap_load_parse_url(const char *url, struct ap_load_url *out, ap_error **err)
{
    memset(out, 0, sizeof(*out));
    const char *p = url;
    if (strncmp(p, "http://", 7) != 0)
        return ap_error_make(err, EINVAL, "URL '%s' must start with http://", url);
    p += 7;
    const char *host_end;
    if (*p == '[') {
        host_end = strchr(p, ']');
        if (host_end == NULL)
            return ap_error_make(err, EINVAL, "URL '%s': no ']' after the IPv6 address", url);
        p++;
    } else {
        host_end = p + strcspn(p, ":/");
    }
    size_t hn = (size_t)(host_end - p);
    if (hn == 0 || hn >= sizeof(out->addr))
        return ap_error_make(err, EINVAL, "URL '%s': bad address", url);
    memcpy(out->addr, p, hn);
    p = host_end + (*host_end == ']');
    out->port = 80;
    if (*p == ':') {
        char *end = NULL;
        errno = 0;
        unsigned long v = strtoul(p + 1, &end, 10);
        if (end == p + 1 || errno != 0 || v == 0 || v > 65535 || (*end != '/' && *end != '\0'))
            return ap_error_make(err, EINVAL, "URL '%s': bad port", url);
        out->port = (uint16_t)v;
        p = end;
    }
    if (*p == '\0')
        p = "/";
    if (!path_ok(p))
        return ap_error_make(err, EINVAL,
                             "URL '%s': the path must be printable ASCII without "
                             "spaces, at most %d bytes",
                             url, AP_LOAD_PATH_MAX - 1);
    snprintf(out->path, sizeof(out->path), "%s", p);
    struct sockaddr_storage ss;
    socklen_t sl;
    if (make_sockaddr(out->addr, out->port, &ss, &sl, err) < 0)
        return ap_error_hint(err, "the load generator resolves no names: give an IP address");
    return 0;
}

/* "GET PATH HTTP/1.1\r\nHost: ADDR:PORT\r\n\r\n": what wrk sends, so both cost the server the
 * same. */
static int format_request(const char *addr, uint16_t port, const char *path, char *buf, size_t size,
                          size_t *len, ap_error **err)
{
    if (!path_ok(path))
        return ap_error_make(err, EINVAL,
                             "the path must start with '/' and hold printable "
                             "ASCII without spaces (at most %d bytes)",
                             AP_LOAD_PATH_MAX - 1);
    int v6 = strchr(addr, ':') != NULL;
    int n = snprintf(buf, size, "GET %s HTTP/1.1\r\nHost: %s%s%s:%u\r\n\r\n", path, v6 ? "[" : "",
                     addr, v6 ? "]" : "", (unsigned)port);
    if (n < 0 || (size_t)n >= size)
        return ap_error_make(err, ENAMETOOLONG, "request too long");
    *len = (size_t)n;
    return 0;
}

int ap_load_target_make(const char *addr, uint16_t port, const char *path, struct ap_load_target *t,
                        ap_error **err)
{
    if (make_sockaddr(addr, port, &t->sa, &t->sa_len, err) < 0 ||
        format_request(addr, port, path, t->req, sizeof(t->req), &t->req_len, err) < 0)
        return -1;
    return 0;
}
