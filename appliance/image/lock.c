#include "lock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/hash.h"
#include "../core/json.h"
#include "path.h"

#define MAX_PACKAGES 20000

static int charset_ok(const char *s, const char *extra, int first_alnum)
{
    if (s == NULL || *s == '\0' || strlen(s) > 256)
        return 0;
    for (const char *p = s; *p; p++) {
        int alnum =
            (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z');
        if (p == s && first_alnum && !alnum)
            return 0;
        if (!alnum && strchr(extra, *p) == NULL)
            return 0;
    }
    return 1;
}

static int pool_path_ok(const char *f)
{
    char norm[4096];
    const char *why;
    size_t n = strlen(f);
    if (ap_path_normalize(f, norm, sizeof(norm), &why) < 0 || strcmp(norm, f) != 0)
        return 0;
    if (strncmp(f, "pool/", 5) != 0 || n < 9 || strcmp(f + n - 4, ".deb") != 0)
        return 0;
    for (const char *p = f; *p; p++)
        if (!charset_ok((char[]){*p, 0}, "/.+~:_-", 0) || *p == ':')
            return 0;
    return 1;
}

void ap_lock_free(struct ap_lock *l)
{
    if (l == NULL)
        return;
    cJSON_Delete(l->root);
    free(l->pkgs);
    free(l);
}

static int parse_pkg(const cJSON *j, size_t i, const char *what, struct ap_lock_pkg *p,
                     ap_error **err)
{
    char where[512];
    snprintf(where, sizeof(where), "%s: packages[%zu]", what, i);
    int64_t size = 0;
    if (ap_json_get_string(j, "name", 1, where, &p->name, err) < 0 ||
        ap_json_get_string(j, "version", 1, where, &p->version, err) < 0 ||
        ap_json_get_string(j, "architecture", 1, where, &p->architecture, err) < 0 ||
        ap_json_get_string(j, "suite", 1, where, &p->suite, err) < 0 ||
        ap_json_get_string(j, "filename", 1, where, &p->filename, err) < 0 ||
        ap_json_get_string(j, "sha256", 1, where, &p->sha256, err) < 0 ||
        ap_json_get_int(j, "size", 1, 1, INT64_C(1) << 36, where, &size, err) < 0)
        return -1;
    p->size = (uint64_t)size;
    int upper = 0;
    for (const char *c = p->name; *c; c++)
        upper |= *c >= 'A' && *c <= 'Z';
    /* Debian package names: lowercase letters, digits, '+', '-', '.'; two characters or more. */
    if (!charset_ok(p->name, "+.-", 1) || strlen(p->name) < 2 || upper)
        return ap_error_make(err, 0, "%s: bad package name \"%s\"", where, p->name);
    if (!charset_ok(p->version, ".+~:-", 1))
        return ap_error_make(err, 0, "%s (%s): bad version \"%s\"", where, p->name, p->version);
    if (!charset_ok(p->architecture, "-", 1))
        return ap_error_make(err, 0, "%s (%s): bad architecture \"%s\"", where, p->name,
                             p->architecture);
    if (!charset_ok(p->suite, "-", 1))
        return ap_error_make(err, 0, "%s (%s): bad suite \"%s\"", where, p->name, p->suite);
    if (!pool_path_ok(p->filename))
        return ap_error_make(err, 0, "%s (%s): filename \"%s\" is not a plain pool/....deb path",
                             where, p->name, p->filename);
    if (!ap_sha256_hex_valid(p->sha256))
        return ap_error_make(err, 0, "%s (%s): sha256 must be 64 lowercase hex digits", where,
                             p->name);
    return 0;
}

int ap_lock_parse(const char *buf, size_t len, const char *what, struct ap_lock **out,
                  ap_error **err)
{
    cleanup_cjson cJSON *root = NULL;
    if (ap_json_parse(buf, len, what, &root, err) < 0)
        return -1;
    int64_t version = 0;
    if (ap_json_get_int(root, "lock_version", 1, 1, 1000, what, &version, err) < 0)
        return -1;
    if (version != 1) {
        ap_error_make(err, 0, "%s: lock_version %lld is not supported (this appliance reads 1)",
                      what, (long long)version);
        return ap_error_hint(err, "update the appliance, or re-pin with `make lock`");
    }
    struct ap_lock *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return ap_error_make(err, ENOMEM, "%s", what);
    l->mirror = NULL;
    if (ap_json_get_string(root, "image", 1, what, &l->image, err) < 0 ||
        ap_json_get_string(root, "architecture", 1, what, &l->architecture, err) < 0 ||
        ap_json_get_string(root, "mirror", 0, what, &l->mirror, err) < 0) {
        free(l);
        return -1;
    }
    const cJSON *pkgs = cJSON_GetObjectItemCaseSensitive(root, "packages");
    int n = cJSON_IsArray(pkgs) ? cJSON_GetArraySize(pkgs) : -1;
    if (n <= 0 || n > MAX_PACKAGES) {
        free(l);
        return ap_error_make(err, 0, "%s: \"packages\" must be an array of 1 to %d packages", what,
                             MAX_PACKAGES);
    }
    l->pkgs = calloc((size_t)n, sizeof(*l->pkgs));
    if (l->pkgs == NULL) {
        free(l);
        return ap_error_make(err, ENOMEM, "%s", what);
    }
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, pkgs)
    {
        if (parse_pkg(it, i, what, &l->pkgs[i], err) < 0) {
            ap_lock_free(l);
            return -1;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(l->pkgs[k].name, l->pkgs[i].name) == 0 &&
                strcmp(l->pkgs[k].architecture, l->pkgs[i].architecture) == 0) {
                ap_error_make(err, 0, "%s: package %s:%s is listed twice", what, l->pkgs[i].name,
                              l->pkgs[i].architecture);
                ap_lock_free(l);
                return -1;
            }
        }
        i++;
    }
    l->n = i;
    l->root = steal_pointer(&root);
    *out = l;
    return 0;
}
