/* The ar container of .deb files, parsed from memory. */
#ifndef AP_IMAGE_AR_H
#define AP_IMAGE_AR_H

#include <stddef.h>

#include "../core/error.h"

struct ap_ar_member {
    char name[17];             /* NUL-terminated, trailing spaces and GNU '/' removed */
    const unsigned char *data; /* points into the caller's buffer */
    size_t size;
};

/* Checks the "!<arch>\n" magic and sets *off to the first member. */
int ap_ar_open(const unsigned char *buf, size_t len, size_t *off, ap_error **err);

/* Reads the member at *off and advances *off past it (and its padding). Returns 1 with *m
 * filled, 0 at the end of the archive, -1 on a malformed header or a member that runs past
 * the end of the buffer. */
int ap_ar_next(const unsigned char *buf, size_t len, size_t *off, struct ap_ar_member *m,
               ap_error **err);

#endif
