/* The target of a load or a readiness probe: its socket address and the request sent to it,
 * made once from a literal address, a port and a path (no name is ever resolved), and the
 * limits of the responses both read. Internal to appliance/bench (loadgen.c, probe.c). */
#ifndef AP_BENCH_TARGET_H
#define AP_BENCH_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../core/error.h"
#include "loadgen.h"

/* The largest response body and head a load or a probe accepts (far above a valid answer). */
#define AP_LOAD_BODY_MAX 4096
#define AP_LOAD_HEAD_MAX 8192

struct ap_load_target {
    struct sockaddr_storage sa;
    socklen_t sa_len;
    char req[AP_LOAD_PATH_MAX + 128]; /* "GET PATH HTTP/1.1\r\nHost: ADDR:PORT\r\n\r\n" */
    size_t req_len;
};

/* Fills *t for addr (an IPv4 or IPv6 literal), port and path ('/' then printable ASCII, no
 * spaces, shorter than AP_LOAD_PATH_MAX); an error says which of them is wrong. */
int ap_load_target_make(const char *addr, uint16_t port, const char *path, struct ap_load_target *t,
                        ap_error **err);

#endif
