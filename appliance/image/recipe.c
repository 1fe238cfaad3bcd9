#include "recipe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../core/cleanup.h"
#include "../core/json.h"
#include "../core/hash.h"
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
    for (size_t i = 0; i < r->n_stages; i++) {
        free((void *)r->stages[i].command);
        free((void *)r->stages[i].env);
        free(r->stages[i].sources);
        free(r->stages[i].fetch);
        free(r->stages[i].copy);
    }
    free(r->stages);
    cJSON_Delete(r->root);
    free(r);
}

static int name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 128)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
              *p == '_'))
            return 0;
    return s[0] != '.' && s[0] != '-';
}

/* A relative path without "..", or an absolute one when `absolute`. */
static int path_ok(const char *p, int absolute)
{
    char norm[4096];
    const char *why;
    if (absolute)
        return p[0] == '/' && ap_path_normalize(p + 1, norm, sizeof(norm), &why) == 0;
    return p[0] != '/' && ap_path_normalize(p, norm, sizeof(norm), &why) == 0 && norm[0] != '\0';
}

/* An absolute path below the root (not the root itself), without "..". */
static int file_path_ok(const char *p)
{
    char norm[4096];
    const char *why;
    return p[0] == '/' && ap_path_normalize(p + 1, norm, sizeof(norm), &why) == 0 &&
           norm[0] != '\0';
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
        const char *why = NULL, *mode = "0644", *tree = NULL;
        snprintf(where, sizeof(where), "%s: files[%zu]", what, r->n_files);
        if (ap_json_get_string(it, "src", 0, where, &f->src, err) < 0 ||
            ap_json_get_string(it, "path", 0, where, &tree, err) < 0 ||
            ap_json_get_string(it, "dst", 1, where, &f->dst, err) < 0 ||
            ap_json_get_string(it, "mode", 0, where, &mode, err) < 0)
            return -1;
        if ((f->src == NULL) == (tree == NULL))
            return ap_error_make(err, 0,
                                 "%s: give either \"src\" (a file of the image's folder) or "
                                 "\"path\" (a file of the tree that holds images/)",
                                 where);
        f->from_tree = tree != NULL;
        if (f->from_tree)
            f->src = tree;
        if (ap_path_normalize(f->src, norm, sizeof(norm), &why) < 0 || norm[0] == '\0')
            return ap_error_make(err, 0, "%s: %s \"%s\" must be a path inside the %s", where,
                                 f->from_tree ? "path" : "src", f->src,
                                 f->from_tree ? "tree" : "image folder");
        if (!file_path_ok(f->dst))
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

static int parse_size(const cJSON *st, const char *key, const char *where, int64_t *out,
                      ap_error **err)
{
    const char *v = NULL;
    if (ap_json_get_string(st, key, 0, where, &v, err) < 0)
        return -1;
    if (v == NULL)
        return 0;
    char *end = NULL;
    double d = strtod(v, &end);
    double mult = 1;
    if (end != v && (*end == 'K' || *end == 'M' || *end == 'G')) {
        mult = *end == 'K' ? 1024.0 : *end == 'M' ? 1048576.0 : 1073741824.0;
        end++;
    }
    if (end == v || *end != '\0' || d <= 0)
        return ap_error_make(err, 0, "%s: \"%s\" must be a size such as 512M or 4G", where, key);
    *out = (int64_t)(d * mult);
    return 0;
}

/* "copy": [{"from": ABSOLUTE, "to": ABSOLUTE}, ...], files of the builder image. */
static int parse_copy(const cJSON *st, const char *where, struct ap_recipe_stage *s, ap_error **err)
{
    const cJSON *copy = cJSON_GetObjectItemCaseSensitive(st, "copy");
    if (copy == NULL)
        return 0;
    if (!cJSON_IsArray(copy) || cJSON_GetArraySize(copy) == 0)
        return ap_error_make(err, 0, "%s: \"copy\" must be a non-empty array", where);
    s->copy = calloc((size_t)cJSON_GetArraySize(copy) + 1, sizeof(*s->copy));
    if (s->copy == NULL)
        return ap_error_make(err, ENOMEM, "%s", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, copy)
    {
        struct ap_stage_copy *c = &s->copy[s->n_copy];
        if (ap_json_get_string(it, "from", 1, where, &c->from, err) < 0 ||
            ap_json_get_string(it, "to", 1, where, &c->to, err) < 0)
            return -1;
        if (!file_path_ok(c->from) || !file_path_ok(c->to))
            return ap_error_make(err, 0,
                                 "%s: copy[%zu]: from and to must be absolute paths of files, "
                                 "without \"..\"",
                                 where, s->n_copy);
        s->n_copy++;
    }
    return 0;
}

static int parse_stage(const cJSON *st, size_t idx, const char *what, struct ap_recipe_stage *s,
                       ap_error **err)
{
    char where[256];
    snprintf(where, sizeof(where), "%s: stages[%zu]", what, idx);
    s->json = st;
    s->workdir = "/";
    s->install = "/";
    s->timeout_s = 3600;
    if (ap_json_get_string(st, "name", 1, where, &s->name, err) < 0 ||
        ap_json_get_string(st, "builder", 1, where, &s->builder, err) < 0 ||
        ap_json_get_string(st, "workdir", 0, where, &s->workdir, err) < 0 ||
        ap_json_get_string(st, "install", 0, where, &s->install, err) < 0 ||
        ap_json_get_string_array(st, "command", 0, where, &s->command, &s->n_command, err) < 0 ||
        ap_json_get_string_array(st, "env", 0, where, &s->env, &s->n_env, err) < 0 ||
        ap_json_get_int(st, "timeout_s", 0, 1, 86400, where, &s->timeout_s, err) < 0 ||
        parse_size(st, "memory", where, &s->memory_bytes, err) < 0 ||
        parse_size(st, "tmp_size", where, &s->tmp_bytes, err) < 0)
        return -1;
    if (!name_ok(s->name))
        return ap_error_make(err, 0, "%s: bad stage name \"%s\"", where, s->name);
    if (!name_ok(s->builder))
        return ap_error_make(err, 0, "%s: builder must be an image name", where);
    if (!path_ok(s->workdir, 1) || !path_ok(s->install, 1))
        return ap_error_make(err, 0, "%s: workdir and install must be absolute paths", where);
    for (size_t i = 0; i < s->n_env; i++)
        if (strchr(s->env[i], '=') == NULL || s->env[i][0] == '=')
            return ap_error_make(err, 0, "%s: env[%zu] must be NAME=VALUE", where, i);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(st, "sources");
    const cJSON *fet = cJSON_GetObjectItemCaseSensitive(st, "fetch");
    size_t ns = cJSON_IsArray(src) ? (size_t)cJSON_GetArraySize(src) : 0;
    size_t nf = cJSON_IsArray(fet) ? (size_t)cJSON_GetArraySize(fet) : 0;
    s->sources = calloc(ns + 1, sizeof(*s->sources));
    s->fetch = calloc(nf + 1, sizeof(*s->fetch));
    if (s->sources == NULL || s->fetch == NULL)
        return ap_error_make(err, ENOMEM, "%s", where);
    const cJSON *it;
    cJSON_ArrayForEach(it, src)
    {
        struct ap_stage_source *x = &s->sources[s->n_sources];
        if (ap_json_get_string(it, "path", 1, where, &x->path, err) < 0 ||
            ap_json_get_string(it, "mount", 1, where, &x->mount, err) < 0)
            return -1;
        if (!path_ok(x->path, 0) || !path_ok(x->mount, 1))
            return ap_error_make(err, 0,
                                 "%s: sources[%zu]: path must be relative (no \"..\"), mount "
                                 "absolute",
                                 where, s->n_sources);
        s->n_sources++;
    }
    cJSON_ArrayForEach(it, fet)
    {
        struct ap_stage_fetch *x = &s->fetch[s->n_fetch];
        int64_t size = 0;
        if (ap_json_get_string(it, "filename", 1, where, &x->filename, err) < 0 ||
            ap_json_get_string(it, "sha256", 1, where, &x->sha256, err) < 0 ||
            ap_json_get_string(it, "mount", 1, where, &x->mount, err) < 0 ||
            ap_json_get_int(it, "size", 1, 1, INT64_C(1) << 36, where, &size, err) < 0)
            return -1;
        x->size = (uint64_t)size;
        if (!path_ok(x->filename, 0) || !path_ok(x->mount, 1) || !ap_sha256_hex_valid(x->sha256))
            return ap_error_make(err, 0,
                                 "%s: fetch[%zu]: needs a relative filename, an absolute mount "
                                 "and a sha256 of 64 lowercase hex digits",
                                 where, s->n_fetch);
        s->n_fetch++;
    }
    if (parse_copy(st, where, s, err) < 0)
        return -1;
    if (s->n_copy == 0 && s->n_command == 0)
        return ap_error_make(err, 0,
                             "%s: command must not be empty (or give \"copy\": files to take "
                             "out of the builder)",
                             where);
    if (s->n_copy > 0 && (s->n_command > 0 || s->n_sources > 0 || s->n_fetch > 0 || s->n_env > 0))
        return ap_error_make(err, 0,
                             "%s: a copy stage runs nothing: no command, sources, fetch or env "
                             "beside \"copy\"",
                             where);
    return 0;
}

static int parse_stages(struct ap_recipe *r, int packages_empty, const char *what, ap_error **err)
{
    const cJSON *stages = cJSON_GetObjectItemCaseSensitive(r->root, "stages");
    if (stages == NULL)
        return 0;
    if (!cJSON_IsArray(stages))
        return ap_error_make(err, 0, "%s: \"stages\" must be an array", what);
    size_t n = (size_t)cJSON_GetArraySize(stages);
    r->stages = calloc(n + 1, sizeof(*r->stages));
    if (r->stages == NULL)
        return ap_error_make(err, ENOMEM, "%s", what);
    const cJSON *it;
    cJSON_ArrayForEach(it, stages)
    {
        /* Counted at once, so that ap_recipe_free frees it whatever is refused below. */
        size_t k = r->n_stages++;
        if (parse_stage(it, k, what, &r->stages[k], err) < 0)
            return -1;
        const struct ap_recipe_stage *st = &r->stages[k];
        if (strcmp(st->builder, r->name) == 0)
            return ap_error_make(err, 0,
                                 "%s: stage %s cannot be built in the image itself; "
                                 "\"builder\": \"" AP_RECIPE_BUILDER_SELF
                                 "\" runs it on the layers before it",
                                 what, st->name);
        /* An image of stages alone has nothing but the empty skeleton before its first one. */
        if (strcmp(st->builder, AP_RECIPE_BUILDER_SELF) == 0 && k == 0 && packages_empty)
            return ap_error_make(err, 0,
                                 "%s: stage %s: builder \"" AP_RECIPE_BUILDER_SELF
                                 "\" needs packages or an earlier stage to run on",
                                 what, st->name);
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
        ap_json_get_string_array(r->root, "entrypoint", 0, what, &r->entrypoint, &r->n_entrypoint,
                                 err) < 0 ||
        ap_json_get_string_array(r->root, "cmd", 0, what, &r->cmd, &r->n_cmd, err) < 0)
        goto fail;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(r->root, "packages");
    if (parse_stages(r, cJSON_IsArray(p) && cJSON_GetArraySize(p) == 0, what, err) < 0)
        goto fail;
    /* An image is packages, stage outputs, or both. */
    if (!cJSON_IsArray(p) || (cJSON_GetArraySize(p) == 0 && r->n_stages == 0)) {
        ap_error_make(err, 0, "%s: \"packages\" must be a non-empty array (or [] with stages)",
                      what);
        goto fail;
    }
    r->n_packages = (size_t)cJSON_GetArraySize(p);
    if (!name_ok(r->name)) {
        ap_error_make(err, 0, "%s: name \"%s\" must be lowercase letters, digits, '.', '-', '_'",
                      what, r->name);
        goto fail;
    }
    if (strcmp(r->name, AP_RECIPE_BUILDER_SELF) == 0) {
        ap_error_make(err, 0,
                      "%s: name \"%s\" is reserved (a stage's builder \"%s\" means "
                      "its own image)",
                      what, r->name, AP_RECIPE_BUILDER_SELF);
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
