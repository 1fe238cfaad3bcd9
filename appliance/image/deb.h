/* Debian binary packages: the ar container, control data and the data tar. */
#ifndef AP_IMAGE_DEB_H
#define AP_IMAGE_DEB_H

#include <stddef.h>

#include "tar.h"

struct ap_deb {
    const unsigned char *control; /* control.tar[.gz|.xz|.zst] member */
    size_t control_size;
    const unsigned char *data; /* data.tar[.gz|.xz|.zst|.bz2] member */
    size_t data_size;
};

/* Parses the ar container of a .deb held in memory (buf must outlive d). `label` names the
 * package in errors. Checks debian-binary is 2.x and that both tars are present. */
int ap_deb_open(const unsigned char *buf, size_t len, const char *label, struct ap_deb *d,
                ap_error **err);

/* Returns the text of the package's control file (heap, NUL-terminated, at most 1 MiB). */
int ap_deb_control(const struct ap_deb *d, const char *label, char **out, ap_error **err);

/* Walks the data tar with the Debian policy (merged /usr) and calls fn for every checked
 * entry. */
int ap_deb_each_data_entry(const struct ap_deb *d, const char *label, ap_tar_entry_fn fn, void *ctx,
                           ap_error **err);

#endif
