/* lock.json: the exact Debian packages an image is built from, pinned by version and sha256. */
#ifndef AP_IMAGE_LOCK_H
#define AP_IMAGE_LOCK_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "../core/error.h"

struct ap_lock_pkg {
    const char *name, *version, *architecture, *suite;
    const char *filename; /* pool path relative to the mirror root */
    const char *sha256;   /* 64 lowercase hex digits */
    uint64_t size;
};

struct ap_lock {
    const char *image, *architecture, *mirror;
    struct ap_lock_pkg *pkgs;
    size_t n;
    cJSON *root; /* owns every string above */
};

/* Parses and validates a lock (`what` names it in errors). Every field is checked: names and
 * versions by Debian's character sets, pool paths relative and free of "..", digests as hex,
 * sizes positive; duplicate packages are refused. The caller frees with ap_lock_free(). */
int ap_lock_parse(const char *buf, size_t len, const char *what, struct ap_lock **out,
                  ap_error **err);

void ap_lock_free(struct ap_lock *l);

static inline void ap_cleanup_lockp(struct ap_lock **l)
{
    ap_lock_free(*l);
}
#define cleanup_lock __attribute__((cleanup(ap_cleanup_lockp)))

#endif
