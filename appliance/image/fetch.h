/* Downloads pinned files into a content-addressed cache; a file is handed out only after its
 * sha256 and size match the pin. */
#ifndef AP_IMAGE_FETCH_H
#define AP_IMAGE_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"

#define AP_DEFAULT_MIRROR "http://deb.debian.org/debian"

struct ap_fetch {
    char **mirrors; /* tried in order */
    size_t n_mirrors;
    char *blob_dir; /* <cache>/blobs/sha256 */
    int attempts;   /* per mirror, for transient failures */
    long connect_timeout_s, low_speed_time_s;
    unsigned backoff_ms; /* first retry delay, doubled each time */
    void *curl;          /* reused handle (keeps connections alive) */
    uint64_t fetched_bytes, cached_hits;
};

/* Sets up f with the cache under cache_dir (created when missing) and a comma-separated list
 * of mirror base URLs (NULL: AP_DEFAULT_MIRROR). Release with ap_fetch_done(). The first call
 * in a process loads libcurl and initialises it. */
int ap_fetch_init(struct ap_fetch *f, const char *cache_dir, const char *mirrors, ap_error **err);
void ap_fetch_done(struct ap_fetch *f);

/* Makes the file at `relpath` (relative to each mirror) with the given sha256 and size
 * available in the cache and returns its path in *out (heap, caller frees). A cached copy is
 * re-hashed before use; a corrupt one is removed and fetched again. `label` ("python3.13
 * 3.13.5-2") names the file in messages. */
int ap_fetch_blob(struct ap_fetch *f, const char *relpath, const char *sha256, uint64_t size,
                  const char *label, char **out, ap_error **err);

/* Path the cache uses for a digest (heap, caller frees). */
char *ap_fetch_cache_path(const struct ap_fetch *f, const char *sha256);

#endif
