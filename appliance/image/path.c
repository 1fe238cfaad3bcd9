#include "path.h"

#include <stdio.h>
#include <string.h>

/* Moves *p past the slashes before the next component and returns that component's length
 * (0 at the end of the name). */
static size_t next_component(const char **p)
{
    while (**p == '/')
        (*p)++;
    const char *end = strchr(*p, '/');
    return end != NULL ? (size_t)(end - *p) : strlen(*p);
}

int ap_path_normalize(const char *in, char *out, size_t outlen, const char **why)
{
    if (in == NULL || outlen == 0) {
        *why = "no name";
        return -1;
    }
    if (in[0] == '/') {
        *why = "absolute path";
        return -1;
    }
    size_t o = 0;
    const char *p = in;
    size_t n;
    while ((n = next_component(&p)) > 0) {
        if (n == 1 && p[0] == '.') {
            p += n;
            continue;
        }
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            *why = "\"..\" component";
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
                *why = "control character in name";
                return -1;
            }
        }
        if (o + n + 2 > outlen) {
            *why = "name too long";
            return -1;
        }
        if (o > 0)
            out[o++] = '/';
        memcpy(out + o, p, n);
        o += n;
        p += n;
    }
    out[o] = '\0';
    return 0;
}

static const char *const merged_dirs[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

int ap_path_is_merged_top(const char *path)
{
    for (size_t i = 0; i < sizeof(merged_dirs) / sizeof(merged_dirs[0]); i++)
        if (strcmp(path, merged_dirs[i]) == 0)
            return 1;
    return 0;
}

int ap_path_merged_usr(char *path, size_t len)
{
    for (size_t i = 0; i < sizeof(merged_dirs) / sizeof(merged_dirs[0]); i++) {
        size_t n = strlen(merged_dirs[i]);
        if (strncmp(path, merged_dirs[i], n) != 0 || (path[n] != '/' && path[n] != '\0'))
            continue;
        size_t cur = strlen(path);
        if (cur + 4 + 1 > len)
            return -1;
        memmove(path + 4, path, cur + 1);
        memcpy(path, "usr/", 4);
        return 0;
    }
    return 0;
}

int ap_path_symlink_escapes(const char *link, const char *target)
{
    if (target == NULL || target[0] == '\0')
        return 1;
    long depth = 0;
    if (target[0] != '/') {
        /* Start in the directory that holds the link. */
        for (const char *p = link; *p; p++)
            if (*p == '/')
                depth++;
    }
    const char *p = target;
    size_t n;
    while ((n = next_component(&p)) > 0) {
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return 1;
        } else if (!(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
    }
    return 0;
}

int ap_path_is_whiteout(const char *path)
{
    for (const char *c = path; c != NULL && *c != '\0';) {
        if (strncmp(c, ".wh.", 4) == 0)
            return 1;
        c = strchr(c, '/');
        if (c != NULL)
            c++;
    }
    return 0;
}
