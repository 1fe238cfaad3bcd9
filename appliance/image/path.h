/* Checks and rewrites for path names read from untrusted archives (.deb members, layers). */
#ifndef AP_IMAGE_PATH_H
#define AP_IMAGE_PATH_H

#include <stddef.h>

/* Normalises an archive member name into `out`: leading "./" and "." components, repeated and
 * trailing slashes removed ("./usr//bin/" -> "usr/bin"). The root itself gives "". Returns 0,
 * or -1 with *why set to a static reason for an absolute path, a ".." component, a NUL-free
 * but over-long name or a control character. */
int ap_path_normalize(const char *in, char *out, size_t outlen, const char **why)
    __attribute__((warn_unused_result));

/* Returns 1 when a component of the normalised path starts with ".wh.": the OCI image spec
 * reserves such names for whiteouts (".wh.bin" in a layer deletes "bin" of the layers
 * below it; ".wh..wh..opq" empties its directory), so a layer must not carry them as files. */
int ap_path_is_whiteout(const char *path);

/* Rewrites a top-level bin, sbin, lib, lib32, lib64 or libx32 into usr/..., as on a
 * merged-/usr system where those are symbolic links into /usr. Returns 0, or -1 when the
 * result would not fit in len bytes. */
int ap_path_merged_usr(char *path, size_t len) __attribute__((warn_unused_result));

/* True when path is exactly one of the top-level directories that merged-/usr links. */
int ap_path_is_merged_top(const char *path);

/* Returns 1 when the symbolic link at normalised path `link` with contents `target` would
 * point outside the root when resolved lexically (relative targets from the link's directory,
 * absolute ones from the root), 0 when it stays inside. Empty targets count as escaping. */
int ap_path_symlink_escapes(const char *link, const char *target);

#endif
