#include "recipe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/json.h"
#include "path.h"

void ap_recipe_free(struct ap_recipe *r)
{
    if (r == NULL)
        return;
    free((void *)r->suites);
    free((void *)r->env);
    free((void *)r->entrypoint);
    free((void *)r->cmd);
    free(r->files);
    cJSON_Delete(r->root);
    free(r);
}

static int name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == '_'))
            return 0;
    return s[0] != '.' && s[0] != '-';
}

static int parse_files(struct ap_recipe *r, const char *what, ap_error **err)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(r->root, "files");
    if (files == NULL)
        return 0;
    if (!cJSON_IsArray(files))
        return ap_error_make(err, 0, "%s: \"files\" must be an array", what);
    size_t n = (size_t)cJSON_GetArraySize(files);
    r->files = calloc(n + 1, sizeof(*r->files));
    if (r->files == NULL)
        return ap_error_make(err, ENOMEM, "%s", what);
    const cJSON *it;
    cJSON_ArrayForEach(it, files)
    {
        struct ap_recipe_file *f = &r->files[r->n_files];
        char where[256], norm[4096];
        const char *why = NULL, *mode = "0644";
        snprintf(where, sizeof(where), "%s: files[%zu]", what, r->n_files);
        if (ap_json_get_string(it, "src", 1, where, &f->src, err) < 0 ||
            ap_json_get_string(it, "dst", 1, where, &f->dst, err) < 0 ||
            ap_json_get_string(it, "mode", 0, where, &mode, err) < 0)
            return -1;
        if (ap_path_normalize(f->src, norm, sizeof(norm), &why) < 0 || norm[0] == '\0')
            return ap_error_make(err, 0, "%s: src \"%s\" must be a path inside the image folder",
                                 where, f->src);
        if (f->dst[0] != '/' || ap_path_normalize(f->dst + 1, norm, sizeof(norm), &why) < 0 ||
            norm[0] == '\0')
            return ap_error_make(err, 0, "%s: dst \"%s\" must be an absolute path without \"..\"",
                                 where, f->dst);
        char *end = NULL;
        unsigned long m = strspn(mode, "01234567") == strlen(mode) ? strtoul(mode, &end, 8) : 0;
        if (end == NULL || end == mode || *end != '\0' || m > 07777)
            return ap_error_make(err, 0, "%s: mode \"%s\" must be octal, e.g. \"0644\"", where,
                                 mode);
        f->mode = (unsigned)m;
        r->n_files++;
    }
    return 0;
}

int ap_recipe_parse(const char *buf, size_t len, const char *what, struct ap_recipe **out,
                    ap_error **err)
{
    struct ap_recipe *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return ap_error_make(err, ENOMEM, "%s", what);
    r->workdir = "/";
    r->description = "";
    if (ap_json_parse(buf, len, what, &r->root, err) < 0)
        goto fail;
    if (ap_json_get_string(r->root, "name", 1, what, &r->name, err) < 0 ||
        ap_json_get_string(r->root, "description", 0, what, &r->description, err) < 0 ||
        ap_json_get_string(r->root, "workdir", 0, what, &r->workdir, err) < 0 ||
        ap_json_get_int(r->root, "source_date_epoch", 1, 0, INT64_C(253402300799), what,
                        &r->source_date_epoch, err) < 0 ||
        ap_json_get_string_array(r->root, "suites", 1, what, &r->suites, &r->n_suites, err) < 0 ||
        ap_json_get_string_array(r->root, "env", 0, what, &r->env, &r->n_env, err) < 0 ||
        ap_json_get_string_array(r->root, "entrypoint", 0, what, &r->entrypoint,
                                 &r->n_entrypoint, err) < 0 ||
        ap_json_get_string_array(r->root, "cmd", 0, what, &r->cmd, &r->n_cmd, err) < 0)
        goto fail;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->root, "packages");
    if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) == 0) {
        ap_error_make(err, 0, "%s: \"packages\" must be a non-empty array", what);
        goto fail;
    }
    r->n_packages = (size_t)cJSON_GetArraySize(p);
    if (!name_ok(r->name)) {
        ap_error_make(err, 0, "%s: name \"%s\" must be lowercase letters, digits, '.', '-', '_'",
                      what, r->name);
        goto fail;
    }
    if (r->workdir[0] != '/') {
        ap_error_make(err, 0, "%s: workdir must be absolute", what);
        goto fail;
    }
    for (size_t i = 0; i < r->n_env; i++) {
        if (strchr(r->env[i], '=') == NULL || r->env[i][0] == '=') {
            ap_error_make(err, 0, "%s: env[%zu] \"%s\" must be NAME=VALUE", what, i, r->env[i]);
            goto fail;
        }
    }
    if (parse_files(r, what, err) < 0)
        goto fail;
    *out = r;
    return 0;
fail:
    ap_recipe_free(r);
    return -1;
}
