/* Which processes of a server wait for connections on its listening TCP socket: how a service
 * start tells that every worker of a multi-process server (gunicorn's, uvicorn's with
 * --workers) is up, and not only the first one to answer. A worker counts once one of its
 * epoll sets watches a socket listening on the server's port (/proc/PID/fdinfo of its
 * eventpoll descriptors): Go's netpoller, asyncio (uvicorn) and gunicorn's gthread workers
 * register the listener so when they start accepting, after the application is loaded. A
 * worker that only inherited the socket, still importing its application, does not count; nor
 * does a process that waits in poll(), select() or a blocking accept(), which this cannot see.
 *
 *     pid_t pids[256]; size_t n;
 *     ap_acceptors_netns_pids(server_pid, pids, 256, &n, err);   or the sandbox's own list
 *     ap_acceptors_count(pids, n, 8080, &count, err);
 */
#ifndef AP_BENCH_ACCEPTORS_H
#define AP_BENCH_ACCEPTORS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/error.h"

/* Listening sockets one port may have: one, or one per worker with SO_REUSEPORT. */
#define AP_ACCEPTORS_MAX_LISTENERS 256

/* Adds to inodes (room for max, *n of them used) the inodes of the sockets in /proc/net/tcp or
 * tcp6 text (NUL-terminated) that listen (state 0A) on `port`, skipping those already there.
 * Lines that do not parse are skipped (the header among them). Returns -1 with err when more
 * than max are found. */
int ap_acceptors_parse_tcp(const char *text, uint16_t port, uint64_t *inodes, size_t max, size_t *n,
                           ap_error **err);

/* 1 when the fdinfo text of an eventpoll descriptor ("tfd: 5 events: 19 data: ... ino:3039
 * sdev:8") watches one of inodes[0..n) (ino is hex), else 0. */
int ap_acceptors_parse_epoll(const char *fdinfo, const uint64_t *inodes, size_t n);

/* The processes (thread-group leaders) that share the network namespace of process pid, pid
 * among them, into out (room for max; *n found, capped at max). */
int ap_acceptors_netns_pids(pid_t pid, pid_t *out, size_t max, size_t *n, ap_error **err);

/* Counts into *count the processes among pids[0..n) that watch a socket listening on `port` in
 * their network namespace through epoll. A process that ended meanwhile counts 0. Returns -1
 * with err when /proc cannot be read at all. */
int ap_acceptors_count(const pid_t *pids, size_t n, uint16_t port, int *count, ap_error **err);

/* How often the wait below counts: a count reads /proc for every process of the server. */
#define AP_ACCEPTORS_POLL_NS 1000000

/* The server's processes now: fills pids (room for max) and *n, or returns -1 with err. */
typedef int (*ap_acceptors_list_fn)(void *ctx, pid_t *pids, size_t max, size_t *n, ap_error **err);

/* Waits until at least `want` of the server's processes (list(ctx)) wait for connections on
 * port, counting every AP_ACCEPTORS_POLL_NS until deadline_ns (CLOCK_MONOTONIC) or the
 * server's end (pidfd readable; -1 for none). *ready_ns gets the time of the count that found
 * them all (so a start is known to about a millisecond), *seen the last count. Returns -1 with
 * err (ETIMEDOUT naming how many of want were up, ESRCH when the server ended). */
int ap_acceptors_wait(ap_acceptors_list_fn list, void *ctx, uint16_t port, int want,
                      int64_t deadline_ns, int pidfd, int64_t *ready_ns, int *seen, ap_error **err);

#endif
