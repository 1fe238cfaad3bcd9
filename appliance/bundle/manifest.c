#include "manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/text.h"
#include "../core/cleanup.h"
#include "../core/json.h"

/* ---- names, ids, times ---- */

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not well-formed (overlong forms,
 * surrogates and code points past U+10FFFF included). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned min, cp;
    if ((c & 0xe0) == 0xc0) {
        n = 2, min = 0x80, cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, min = 0x800, cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int ap_bundle_check_name(const char *name, const char **why)
{
    size_t len = strlen(name);
    if (len == 0)
        return *why = "empty name", -1;
    if (len > AP_BUNDLE_NAME_MAX)
        return *why = "name too long", -1;
    if (name[0] == '/')
        return *why = "absolute path", -1;
    if (name[len - 1] == '/')
        return *why = "trailing slash", -1;
    const unsigned char *p = (const unsigned char *)name;
    const unsigned char *comp = p;
    for (size_t i = 0; i <= len;) {
        if (i == len || p[i] == '/') {
            size_t clen = (size_t)(p + i - comp);
            if (clen == 0)
                return *why = "empty path component", -1;
            if (clen == 1 && comp[0] == '.')
                return *why = "\".\" component", -1;
            if (clen == 2 && comp[0] == '.' && comp[1] == '.')
                return *why = "\"..\" component", -1;
            i++;
            comp = p + i;
            continue;
        }
        if (p[i] < 0x20 || p[i] == 0x7f)
            return *why = "control character", -1;
        if (p[i] == '\\')
            return *why = "backslash", -1;
        size_t n = utf8_len(p + i);
        if (n == 0 || i + n > len)
            return *why = "not UTF-8", -1;
        i += n;
    }
    return 0;
}

int ap_bundle_run_id_valid(const char *id)
{
    return ap_bench_results_run_id_valid(id);
}

int ap_bundle_image_name_valid(const char *name)
{
    return ap_text_id_valid(name, 128);
}

int ap_bundle_digest_valid(const char *s)
{
    return strncmp(s, "sha256:", 7) == 0 && ap_sha256_hex_valid(s + 7);
}

const char *ap_bundle_printable(const char *s, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    buf[i] = '\0';
    if (s[i] != '\0' && len > 4)
        memcpy(buf + len - 4, "...", 4);
    return buf;
}

/* A printable copy of an untrusted string for one error message. */
static const char *shown(const char *s)
{
    static __thread char buf[128];
    return ap_bundle_printable(s != NULL ? s : "", buf, sizeof(buf));
}

/* ---- file lists ---- */

int ap_bundle_files_add(struct ap_bundle_files *f, const char *name, uint64_t size,
                        const char *sha256, ap_error **err)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        struct ap_bundle_file *v = realloc(f->v, cap * sizeof(*v));
        if (v == NULL)
            return ap_error_make(err, ENOMEM, "listing %s", name);
        f->v = v;
        f->cap = cap;
    }
    struct ap_bundle_file *e = &f->v[f->n];
    e->name = strdup(name);
    if (e->name == NULL)
        return ap_error_make(err, ENOMEM, "listing %s", name);
    e->size = size;
    snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
    f->n++;
    return 0;
}

void ap_bundle_files_free(struct ap_bundle_files *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].name);
    free(f->v);
    *f = (struct ap_bundle_files){0};
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct ap_bundle_file *)a)->name,
                  ((const struct ap_bundle_file *)b)->name);
}

void ap_bundle_files_sort(struct ap_bundle_files *f)
{
    if (f->n > 1)
        qsort(f->v, f->n, sizeof(*f->v), cmp_file);
}

const struct ap_bundle_file *ap_bundle_files_find(const struct ap_bundle_files *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->v[mid].name, name);
        if (c == 0)
            return &f->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int skipped(const char *name, const char *const *skip)
{
    for (size_t i = 0; skip != NULL && skip[i] != NULL; i++)
        if (strcmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

int ap_bundle_files_compare(const struct ap_bundle_files *actual,
                            const struct ap_bundle_files *listed, const char *what,
                            const char *const *skip, ap_error **err)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < actual->n && skipped(actual->v[i].name, skip))
            i++;
        if (i == actual->n && j == listed->n)
            return 0;
        int c = i == actual->n   ? 1
                : j == listed->n ? -1
                                 : strcmp(actual->v[i].name, listed->v[j].name);
        if (c < 0)
            return ap_error_make(err, 0, "member \"%s\" is not listed in %s", actual->v[i].name,
                                 what);
        if (c > 0)
            return ap_error_make(err, 0, "%s lists \"%s\", which the archive does not hold", what,
                                 listed->v[j].name);
        if (strcmp(actual->v[i].sha256, listed->v[j].sha256) != 0)
            return ap_error_make(err, 0, "member \"%s\" has sha256 %s, %s lists %s",
                                 actual->v[i].name, actual->v[i].sha256, what, listed->v[j].sha256);
        i++;
        j++;
    }
}

/* ---- SHA256SUMS ---- */

int ap_bundle_sums_format(const struct ap_bundle_files *f, char **out, size_t *len, ap_error **err)
{
    size_t total = 0;
    for (size_t i = 0; i < f->n; i++) {
        const char *why = NULL;
        if (ap_bundle_check_name(f->v[i].name, &why) < 0)
            return ap_error_make(err, 0, "SHA256SUMS: \"%s\": %s", f->v[i].name, why);
        if (!ap_sha256_hex_valid(f->v[i].sha256))
            return ap_error_make(err, 0, "SHA256SUMS: \"%s\": not a sha256", f->v[i].name);
        if (i > 0 && strcmp(f->v[i - 1].name, f->v[i].name) >= 0)
            return ap_error_make(err, 0, "SHA256SUMS: \"%s\" is out of order or repeated",
                                 f->v[i].name);
        total += AP_SHA256_HEX_LEN + 2 + strlen(f->v[i].name) + 1;
    }
    char *buf = malloc(total + 1);
    if (buf == NULL)
        return ap_error_make(err, ENOMEM, "formatting SHA256SUMS");
    size_t off = 0;
    for (size_t i = 0; i < f->n; i++)
        off += (size_t)sprintf(buf + off, "%s  %s\n", f->v[i].sha256, f->v[i].name);
    buf[off] = '\0';
    *out = buf;
    *len = off;
    return 0;
}

int ap_bundle_sums_parse(const char *buf, size_t len, size_t max_lines, struct ap_bundle_files *out,
                         ap_error **err)
{
    size_t off = 0, line = 0;
    cleanup_free char *name = malloc(AP_BUNDLE_NAME_MAX + 1);
    cleanup_free char *prev = calloc(1, AP_BUNDLE_NAME_MAX + 1);
    if (name == NULL || prev == NULL)
        return ap_error_make(err, ENOMEM, "reading SHA256SUMS");
    while (off < len) {
        line++;
        if (line > max_lines)
            return ap_error_make(err, 0, "SHA256SUMS: more than %zu lines", max_lines);
        const char *nl = memchr(buf + off, '\n', len - off);
        if (nl == NULL)
            return ap_error_make(err, 0, "SHA256SUMS line %zu: no newline at its end", line);
        size_t n = (size_t)(nl - (buf + off));
        const char *s = buf + off;
        if (n < AP_SHA256_HEX_LEN + 3 || s[AP_SHA256_HEX_LEN] != ' ' ||
            s[AP_SHA256_HEX_LEN + 1] != ' ')
            return ap_error_make(
                err, 0, "SHA256SUMS line %zu: not \"<sha256>  <name>\" (two spaces)", line);
        char hex[AP_SHA256_HEX_LEN + 1];
        memcpy(hex, s, AP_SHA256_HEX_LEN);
        hex[AP_SHA256_HEX_LEN] = '\0';
        if (!ap_sha256_hex_valid(hex))
            return ap_error_make(err, 0, "SHA256SUMS line %zu: not 64 lowercase hex digits", line);
        size_t nlen = n - AP_SHA256_HEX_LEN - 2;
        if (nlen > AP_BUNDLE_NAME_MAX)
            return ap_error_make(err, 0, "SHA256SUMS line %zu: name too long", line);
        if (memchr(s + AP_SHA256_HEX_LEN + 2, '\0', nlen) != NULL)
            return ap_error_make(err, 0, "SHA256SUMS line %zu: NUL in the name", line);
        memcpy(name, s + AP_SHA256_HEX_LEN + 2, nlen);
        name[nlen] = '\0';
        const char *why = NULL;
        char shown[128];
        if (ap_bundle_check_name(name, &why) < 0)
            return ap_error_make(err, 0, "SHA256SUMS line %zu: \"%s\": %s", line,
                                 ap_bundle_printable(name, shown, sizeof(shown)), why);
        if (line > 1 && strcmp(prev, name) >= 0)
            return ap_error_make(err, 0, "SHA256SUMS line %zu: \"%s\" is out of order or repeated",
                                 line, name);
        if (ap_bundle_files_add(out, name, 0, hex, err) < 0)
            return -1;
        memcpy(prev, name, nlen + 1);
        off += n + 1;
    }
    return 0;
}

/* ---- building ---- */

static cJSON *str_or_null(const char *s)
{
    return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* Adds item to obj; a NULL item (out of memory) marks the whole build failed. */
static void put(cJSON *obj, const char *key, cJSON *item, int *oom)
{
    if (item == NULL || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *oom = 1;
    }
}

cJSON *ap_bundle_environment_summary(const cJSON *env)
{
    if (!cJSON_IsObject(env))
        return cJSON_CreateNull();
    static const char *const keys[] = {"kernel",       "arch",        "cpu_model", "cpus_online",
                                       "memory_bytes", "clocksource", "cgroup",    "appliance"};
    cJSON *s = cJSON_CreateObject();
    int oom = s == NULL;
    for (size_t i = 0; !oom && i < AP_ARRAY_SIZE(keys); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(env, keys[i]);
        if (v != NULL)
            put(s, keys[i], cJSON_Duplicate(v, 1), &oom);
    }
    if (oom) {
        cJSON_Delete(s);
        return NULL;
    }
    return s;
}

static cJSON *digest_or_null(const char *d)
{
    return d != NULL && *d ? cJSON_CreateString(d) : cJSON_CreateNull();
}

static cJSON *images_object(const struct ap_bundle_info *b)
{
    cJSON *o = cJSON_CreateObject();
    int oom = o == NULL;
    for (size_t i = 0; !oom && i < b->n_images; i++) {
        cJSON *img = cJSON_CreateObject();
        put(o, b->images[i].name, img, &oom);
        if (oom)
            break;
        put(img, "digest", cJSON_CreateString(b->images[i].digest), &oom);
        put(img, "lock_sha256", digest_or_null(b->images[i].lock_sha256), &oom);
    }
    if (oom) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *claims_digest(const struct ap_bundle_info *b)
{
    if (b->claims_sha256 == NULL)
        return cJSON_CreateNull();
    char d[AP_DIGEST_STR_LEN];
    snprintf(d, sizeof(d), "sha256:%s", b->claims_sha256);
    return cJSON_CreateString(d);
}

int ap_bundle_manifest_build(const struct ap_bundle_info *b, cJSON **out, ap_error **err)
{
    cJSON *m = cJSON_CreateObject();
    int oom = m == NULL;
    if (!oom) {
        put(m, "schema", cJSON_CreateString(AP_MANIFEST_SCHEMA), &oom);
        put(m, "run_id", cJSON_CreateString(b->run_id), &oom);
        put(m, "started", str_or_null(b->started), &oom);
        put(m, "ended", str_or_null(b->ended), &oom);
        put(m, "profile", str_or_null(b->profile), &oom);
        put(m, "results_schema", str_or_null(b->results_schema), &oom);
        put(m, "environment", ap_bundle_environment_summary(b->environment), &oom);
        put(m, "images", images_object(b), &oom);
        put(m, "appliance_version", cJSON_CreateString(b->version), &oom);
        put(m, "claims_sha256", claims_digest(b), &oom);
        put(m, "with_inputs", cJSON_CreateBool(b->with_inputs), &oom);
        put(m, "inputs", b->inputs != NULL ? cJSON_Duplicate(b->inputs, 1) : cJSON_CreateNull(),
            &oom);
    }
    if (oom) {
        cJSON_Delete(m);
        return ap_error_make(err, ENOMEM, "building manifest.json");
    }
    *out = m;
    return 0;
}

int ap_bundle_provenance_build(const struct ap_bundle_info *b, const struct ap_bundle_files *files,
                               cJSON **out, ap_error **err)
{
    cJSON *st = cJSON_CreateObject();
    int oom = st == NULL;
    cJSON *subjects = NULL, *pred = NULL, *run = NULL, *inputs = NULL, *archiver = NULL;
    if (!oom) {
        put(st, "_type", cJSON_CreateString(AP_INTOTO_STATEMENT), &oom);
        put(st, "subject", subjects = cJSON_CreateArray(), &oom);
        put(st, "predicateType", cJSON_CreateString(AP_PROVENANCE_PREDICATE), &oom);
        put(st, "predicate", pred = cJSON_CreateObject(), &oom);
    }
    for (size_t i = 0; !oom && i < files->n; i++) {
        cJSON *s = cJSON_CreateObject(), *d = NULL;
        if (s == NULL || !cJSON_AddItemToArray(subjects, s)) {
            cJSON_Delete(s);
            oom = 1;
            break;
        }
        put(s, "name", cJSON_CreateString(files->v[i].name), &oom);
        put(s, "digest", d = cJSON_CreateObject(), &oom);
        if (!oom)
            put(d, "sha256", cJSON_CreateString(files->v[i].sha256), &oom);
    }
    if (!oom) {
        put(pred, "run", run = cJSON_CreateObject(), &oom);
        if (!oom) {
            put(run, "id", cJSON_CreateString(b->run_id), &oom);
            put(run, "profile", str_or_null(b->profile), &oom);
            put(run, "command", str_or_null(b->command), &oom);
            put(run, "started", str_or_null(b->started), &oom);
            put(run, "ended", str_or_null(b->ended), &oom);
            put(run, "complete",
                b->complete < 0 ? cJSON_CreateNull() : cJSON_CreateBool(b->complete), &oom);
        }
        put(pred, "environment", ap_bundle_environment_summary(b->environment), &oom);
        put(pred, "images", images_object(b), &oom);
        put(pred, "inputs", inputs = cJSON_CreateObject(), &oom);
        if (!oom) {
            put(inputs, "results_schema", str_or_null(b->results_schema), &oom);
            put(inputs, "claims_sha256", claims_digest(b), &oom);
            put(inputs, "packed", cJSON_CreateBool(b->with_inputs), &oom);
        }
        put(pred, "archiver", archiver = cJSON_CreateObject(), &oom);
        if (!oom) {
            put(archiver, "name", cJSON_CreateString("appliance"), &oom);
            put(archiver, "version", cJSON_CreateString(b->version), &oom);
        }
    }
    if (oom) {
        cJSON_Delete(st);
        return ap_error_make(err, ENOMEM, "building provenance.json");
    }
    *out = st;
    return 0;
}

/* ---- checking ---- */

enum kind { K_STRING, K_TIME, K_DIGEST, K_OBJECT, K_ARRAY, K_BOOL };

/* Checks obj[key]: present, of the kind asked, or null when nullable. *out gets the item
 * (NULL for a JSON null). */
static int field(const cJSON *obj, const char *key, enum kind k, int nullable, const char *what,
                 const cJSON **out, ap_error **err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (out != NULL)
        *out = NULL;
    if (v == NULL)
        return ap_error_make(err, 0, "%s: missing \"%s\"", what, key);
    if (cJSON_IsNull(v)) {
        if (nullable)
            return 0;
        return ap_error_make(err, 0, "%s: \"%s\" is null", what, key);
    }
    int64_t t;
    int ok = 0;
    const char *want = "";
    switch (k) {
    case K_STRING:
        ok = cJSON_IsString(v), want = "a string";
        break;
    case K_TIME:
        ok = cJSON_IsString(v) && ap_bench_results_parse_time(v->valuestring, &t) == 0;
        want = "a time (YYYY-MM-DDTHH:MM:SSZ)";
        break;
    case K_DIGEST:
        ok = cJSON_IsString(v) && ap_bundle_digest_valid(v->valuestring);
        want = "a digest (sha256:<64 hex>)";
        break;
    case K_OBJECT:
        ok = cJSON_IsObject(v), want = "an object";
        break;
    case K_ARRAY:
        ok = cJSON_IsArray(v), want = "an array";
        break;
    case K_BOOL:
        ok = cJSON_IsBool(v), want = "true or false";
        break;
    }
    if (!ok)
        return ap_error_make(err, 0, "%s: \"%s\" is not %s", what, key, want);
    if (out != NULL)
        *out = v;
    return 0;
}

static int check_images(const cJSON *images, const char *what, size_t *n, ap_error **err)
{
    size_t count = 0;
    const cJSON *img;
    cJSON_ArrayForEach(img, images)
    {
        if (img->string == NULL || !ap_bundle_image_name_valid(img->string))
            return ap_error_make(err, 0, "%s: images: \"%s\" is not an image name", what,
                                 shown(img->string));
        if (!cJSON_IsObject(img))
            return ap_error_make(err, 0, "%s: images.%s is not an object", what, img->string);
        char w[256];
        snprintf(w, sizeof(w), "%s: images.%s", what, img->string);
        if (field(img, "digest", K_DIGEST, 0, w, NULL, err) < 0 ||
            field(img, "lock_sha256", K_DIGEST, 1, w, NULL, err) < 0)
            return -1;
        count++;
    }
    if (n != NULL)
        *n = count;
    return 0;
}

int ap_bundle_manifest_check(const char *buf, size_t len, struct ap_manifest_info *info,
                             ap_error **err)
{
    const char *what = AP_BUNDLE_MANIFEST;
    memset(info, 0, sizeof(*info));
    cleanup_cjson cJSON *m = NULL;
    if (ap_json_parse(buf, len, what, &m, err) < 0)
        return -1;
    if (!cJSON_IsObject(m))
        return ap_error_make(err, 0, "%s is not a JSON object", what);
    const cJSON *v = NULL;
    if (field(m, "schema", K_STRING, 0, what, &v, err) < 0)
        return -1;
    if (strcmp(v->valuestring, AP_MANIFEST_SCHEMA) != 0)
        return ap_error_make(err, 0, "%s: schema \"%s\" is not \"%s\"", what, shown(v->valuestring),
                             AP_MANIFEST_SCHEMA);
    if (field(m, "run_id", K_STRING, 0, what, &v, err) < 0)
        return -1;
    if (!ap_bundle_run_id_valid(v->valuestring))
        return ap_error_make(err, 0, "%s: run_id \"%s\" is not a run id", what,
                             shown(v->valuestring));
    snprintf(info->run_id, sizeof(info->run_id), "%s", v->valuestring);
    const cJSON *rs = NULL, *images = NULL, *wi = NULL, *inputs = NULL;
    if (field(m, "started", K_TIME, 1, what, NULL, err) < 0 ||
        field(m, "ended", K_TIME, 1, what, NULL, err) < 0 ||
        field(m, "profile", K_STRING, 1, what, NULL, err) < 0 ||
        field(m, "results_schema", K_STRING, 1, what, &rs, err) < 0 ||
        field(m, "environment", K_OBJECT, 1, what, NULL, err) < 0 ||
        field(m, "images", K_OBJECT, 0, what, &images, err) < 0 ||
        field(m, "appliance_version", K_STRING, 0, what, NULL, err) < 0 ||
        field(m, "claims_sha256", K_DIGEST, 1, what, NULL, err) < 0 ||
        field(m, "with_inputs", K_BOOL, 0, what, &wi, err) < 0 ||
        field(m, "inputs", K_OBJECT, 1, what, &inputs, err) < 0)
        return -1;
    if (check_images(images, what, &info->n_images, err) < 0)
        return -1;
    info->with_inputs = cJSON_IsTrue(wi);
    info->has_results = rs != NULL;
    if (info->with_inputs != (inputs != NULL))
        return ap_error_make(err, 0,
                             "%s: \"inputs\" must be an object exactly when "
                             "\"with_inputs\" is true",
                             what);
    if (rs != NULL && !ap_bench_results_schema_known(rs->valuestring))
        return ap_error_make(err, 0, "%s: results_schema \"%s\" is neither \"%s\" nor \"%s\"", what,
                             shown(rs->valuestring), AP_RESULTS_SCHEMA, AP_RESULTS_SCHEMA_1);
    return 0;
}

int ap_bundle_provenance_check(const char *buf, size_t len, struct ap_bundle_files *subjects,
                               char *run_id, ap_error **err)
{
    const char *what = AP_BUNDLE_PROVENANCE;
    cleanup_cjson cJSON *st = NULL;
    if (ap_json_parse(buf, len, what, &st, err) < 0)
        return -1;
    if (!cJSON_IsObject(st))
        return ap_error_make(err, 0, "%s is not a JSON object", what);
    const cJSON *v = NULL, *subject = NULL, *pred = NULL, *run = NULL, *inputs = NULL, *arch = NULL,
                *images = NULL;
    if (field(st, "_type", K_STRING, 0, what, &v, err) < 0)
        return -1;
    if (strcmp(v->valuestring, AP_INTOTO_STATEMENT) != 0)
        return ap_error_make(err, 0, "%s: _type \"%s\" is not \"%s\"", what, shown(v->valuestring),
                             AP_INTOTO_STATEMENT);
    if (field(st, "predicateType", K_STRING, 0, what, &v, err) < 0)
        return -1;
    if (strcmp(v->valuestring, AP_PROVENANCE_PREDICATE) != 0)
        return ap_error_make(err, 0, "%s: predicateType \"%s\" is not \"%s\"", what,
                             shown(v->valuestring), AP_PROVENANCE_PREDICATE);
    if (field(st, "subject", K_ARRAY, 0, what, &subject, err) < 0 ||
        field(st, "predicate", K_OBJECT, 0, what, &pred, err) < 0)
        return -1;
    size_t first = subjects->n, i = 0;
    const cJSON *s;
    cJSON_ArrayForEach(s, subject)
    {
        char w[64];
        snprintf(w, sizeof(w), "%s: subject[%zu]", what, i++);
        const cJSON *name = NULL, *digest = NULL, *hex = NULL;
        if (!cJSON_IsObject(s))
            return ap_error_make(err, 0, "%s is not an object", w);
        if (field(s, "name", K_STRING, 0, w, &name, err) < 0 ||
            field(s, "digest", K_OBJECT, 0, w, &digest, err) < 0 ||
            field(digest, "sha256", K_STRING, 0, w, &hex, err) < 0)
            return -1;
        const char *why = NULL;
        char shown[128];
        if (ap_bundle_check_name(name->valuestring, &why) < 0)
            return ap_error_make(err, 0, "%s: name \"%s\": %s", w,
                                 ap_bundle_printable(name->valuestring, shown, sizeof(shown)), why);
        if (!ap_sha256_hex_valid(hex->valuestring))
            return ap_error_make(err, 0, "%s: digest.sha256 is not 64 lowercase hex digits", w);
        if (ap_bundle_files_add(subjects, name->valuestring, 0, hex->valuestring, err) < 0)
            return -1;
    }
    /* Sort only what this call added, then refuse repeated names. */
    struct ap_bundle_files added = {subjects->v + first, subjects->n - first, 0};
    ap_bundle_files_sort(&added);
    for (size_t k = 1; k < added.n; k++)
        if (strcmp(added.v[k - 1].name, added.v[k].name) == 0)
            return ap_error_make(err, 0, "%s: subject \"%s\" appears twice", what,
                                 shown(added.v[k].name));
    char w[64];
    snprintf(w, sizeof(w), "%s: predicate", what);
    if (field(pred, "run", K_OBJECT, 0, w, &run, err) < 0 ||
        field(pred, "environment", K_OBJECT, 1, w, NULL, err) < 0 ||
        field(pred, "images", K_OBJECT, 0, w, &images, err) < 0 ||
        field(pred, "inputs", K_OBJECT, 0, w, &inputs, err) < 0 ||
        field(pred, "archiver", K_OBJECT, 0, w, &arch, err) < 0)
        return -1;
    snprintf(w, sizeof(w), "%s: predicate.run", what);
    if (field(run, "id", K_STRING, 0, w, &v, err) < 0)
        return -1;
    if (!ap_bundle_run_id_valid(v->valuestring))
        return ap_error_make(err, 0, "%s: id \"%s\" is not a run id", w, shown(v->valuestring));
    snprintf(run_id, AP_RUN_ID_MAX + 1, "%s", v->valuestring);
    if (field(run, "profile", K_STRING, 1, w, NULL, err) < 0 ||
        field(run, "command", K_STRING, 1, w, NULL, err) < 0 ||
        field(run, "started", K_TIME, 1, w, NULL, err) < 0 ||
        field(run, "ended", K_TIME, 1, w, NULL, err) < 0 ||
        field(run, "complete", K_BOOL, 1, w, NULL, err) < 0)
        return -1;
    snprintf(w, sizeof(w), "%s: predicate", what);
    if (check_images(images, w, NULL, err) < 0)
        return -1;
    snprintf(w, sizeof(w), "%s: predicate.inputs", what);
    if (field(inputs, "results_schema", K_STRING, 1, w, NULL, err) < 0 ||
        field(inputs, "claims_sha256", K_DIGEST, 1, w, NULL, err) < 0 ||
        field(inputs, "packed", K_BOOL, 0, w, NULL, err) < 0)
        return -1;
    snprintf(w, sizeof(w), "%s: predicate.archiver", what);
    if (field(arch, "name", K_STRING, 0, w, NULL, err) < 0 ||
        field(arch, "version", K_STRING, 0, w, NULL, err) < 0)
        return -1;
    return 0;
}

/* True when name ends in "blobs/sha256/<64 hex>"; *hex points at the digits. */
static int blob_name(const char *name, const char **hex)
{
    static const char tail[] = "blobs/sha256/";
    size_t n = strlen(name), t = sizeof(tail) - 1;
    if (n < t + AP_SHA256_HEX_LEN)
        return 0;
    const char *p = name + n - AP_SHA256_HEX_LEN - t;
    if (strncmp(p, tail, t) != 0 || (p != name && p[-1] != '/'))
        return 0;
    *hex = p + t;
    return 1;
}

static int need_member(const struct ap_bundle_files *members, const char *name, const char *why,
                       ap_error **err)
{
    if (ap_bundle_files_find(members, name) == NULL)
        return ap_error_make(err, 0, "%s lists %s, but the archive has no member \"%s\"",
                             AP_BUNDLE_MANIFEST, why, name);
    return 0;
}

int ap_bundle_inputs_check(const char *manifest, size_t len, const struct ap_bundle_files *members,
                           ap_error **err)
{
    for (size_t i = 0; i < members->n; i++) {
        const char *hex = NULL;
        const char *name = members->v[i].name;
        if (strncmp(name, AP_BUNDLE_INPUTS_DIR "/", sizeof(AP_BUNDLE_INPUTS_DIR)) == 0 &&
            blob_name(name, &hex) && strcmp(hex, members->v[i].sha256) != 0)
            return ap_error_make(err, 0, "member \"%s\" has sha256 %s, not the one its name says",
                                 name, members->v[i].sha256);
    }
    cleanup_cjson cJSON *m = NULL;
    if (ap_json_parse(manifest, len, AP_BUNDLE_MANIFEST, &m, err) < 0)
        return -1;
    const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(m, "inputs");
    if (!cJSON_IsObject(inputs))
        return 0;
    const char *what = "manifest.json: inputs";
    const cJSON *layouts = NULL, *recipes = NULL, *blobs = NULL, *it;
    if (field(inputs, "layouts", K_OBJECT, 0, what, &layouts, err) < 0 ||
        field(inputs, "recipes", K_ARRAY, 0, what, &recipes, err) < 0 ||
        field(inputs, "blobs", K_ARRAY, 0, what, &blobs, err) < 0)
        return -1;
    char path[AP_BUNDLE_NAME_MAX + 64];
    cJSON_ArrayForEach(it, layouts)
    {
        if (it->string == NULL || !ap_bundle_image_name_valid(it->string) || !cJSON_IsString(it) ||
            !ap_bundle_digest_valid(it->valuestring))
            return ap_error_make(err, 0, "%s: layouts: \"%s\" is not an image name with a digest",
                                 what, shown(it->string));
        snprintf(path, sizeof(path), "inputs/images/%s/index.json", it->string);
        if (need_member(members, path, "a layout", err) < 0)
            return -1;
    }
    cJSON_ArrayForEach(it, recipes)
    {
        if (!cJSON_IsString(it) || !ap_bundle_image_name_valid(it->valuestring))
            return ap_error_make(err, 0, "%s: recipes: an entry is not an image name", what);
        snprintf(path, sizeof(path), "inputs/recipes/%s/image.json", it->valuestring);
        if (need_member(members, path, "a recipe", err) < 0)
            return -1;
    }
    const cJSON *claims = cJSON_GetObjectItemCaseSensitive(inputs, "claims");
    if (claims != NULL && !cJSON_IsNull(claims)) {
        const char *why = NULL;
        if (!cJSON_IsString(claims) || ap_bundle_check_name(claims->valuestring, &why) < 0)
            return ap_error_make(err, 0, "%s: claims is not a member name", what);
        if (need_member(members, claims->valuestring, "a claims file", err) < 0)
            return -1;
    }
    size_t i = 0;
    cJSON_ArrayForEach(it, blobs)
    {
        char w[64];
        snprintf(w, sizeof(w), "%s: blobs[%zu]", what, i++);
        const cJSON *hex = NULL, *size = NULL;
        if (!cJSON_IsObject(it))
            return ap_error_make(err, 0, "%s is not an object", w);
        if (field(it, "sha256", K_STRING, 0, w, &hex, err) < 0 ||
            field(it, "filename", K_STRING, 0, w, NULL, err) < 0)
            return -1;
        size = cJSON_GetObjectItemCaseSensitive(it, "size");
        if (!ap_sha256_hex_valid(hex->valuestring))
            return ap_error_make(err, 0, "%s: sha256 is not 64 lowercase hex digits", w);
        if (!cJSON_IsNumber(size) || size->valuedouble < 0)
            return ap_error_make(err, 0, "%s: size is not a byte count", w);
        snprintf(path, sizeof(path), "inputs/blobs/sha256/%s", hex->valuestring);
        const struct ap_bundle_file *f = ap_bundle_files_find(members, path);
        if (f == NULL)
            return need_member(members, path, "a pinned input", err);
        if ((double)f->size != size->valuedouble)
            return ap_error_make(err, 0, "member \"%s\" is %llu bytes, %s says %.0f", path,
                                 (unsigned long long)f->size, w, size->valuedouble);
    }
    return 0;
}
