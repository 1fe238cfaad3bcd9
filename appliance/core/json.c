#include "json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fs.h"

int ap_json_parse(const char *buf, size_t len, const char *what, cJSON **out, ap_error **err)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (j == NULL) {
        size_t off = end != NULL && end >= buf ? (size_t)(end - buf) : 0;
        size_t line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            if (buf[i] == '\n')
                line++;
        return ap_error_make(err, 0, "%s: invalid JSON near line %zu (byte %zu)", what, line, off);
    }
    *out = j;
    return 0;
}

int ap_json_read_file(const char *path, size_t max, cJSON **out, ap_error **err)
{
    cleanup_free char *buf = NULL;
    size_t len = 0;
    if (ap_fs_read_file(AT_FDCWD, path, max, &buf, &len, err) < 0)
        return -1;
    return ap_json_parse(buf, len, path, out, err);
}

static const cJSON *field(const cJSON *obj, const char *key, int required, const char *what,
                          ap_error **err, int *missing)
{
    *missing = 0;
    if (!cJSON_IsObject(obj)) {
        ap_error_make(err, 0, "%s: expected an object holding \"%s\"", what, key);
        return NULL;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL || cJSON_IsNull(v)) {
        *missing = 1;
        if (required)
            ap_error_make(err, 0, "%s: missing field \"%s\"", what, key);
        return NULL;
    }
    return v;
}

int ap_json_get_string(const cJSON *obj, const char *key, int required, const char *what,
                       const char **out, ap_error **err)
{
    int missing;
    const cJSON *v = field(obj, key, required, what, err, &missing);
    if (v == NULL)
        return missing && !required ? 0 : -1;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return ap_error_make(err, 0, "%s: field \"%s\" must be a string", what, key);
    *out = v->valuestring;
    return 0;
}

int ap_json_get_int(const cJSON *obj, const char *key, int required, int64_t min, int64_t max,
                    const char *what, int64_t *out, ap_error **err)
{
    int missing;
    const cJSON *v = field(obj, key, required, what, err, &missing);
    if (v == NULL)
        return missing && !required ? 0 : -1;
    if (!cJSON_IsNumber(v))
        return ap_error_make(err, 0, "%s: field \"%s\" must be a number", what, key);
    double d = v->valuedouble;
    if (d != floor(d) || d < (double)min || d > (double)max)
        return ap_error_make(err, 0, "%s: field \"%s\" must be a whole number from %lld to %lld",
                             what, key, (long long)min, (long long)max);
    *out = (int64_t)d;
    return 0;
}

int ap_json_get_string_array(const cJSON *obj, const char *key, int required, const char *what,
                             const char ***out, size_t *n, ap_error **err)
{
    int missing;
    const cJSON *v = field(obj, key, required, what, err, &missing);
    if (v == NULL && !(missing && !required))
        return -1;
    size_t count = v != NULL && cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 0;
    if (v != NULL && !cJSON_IsArray(v))
        return ap_error_make(err, 0, "%s: field \"%s\" must be an array of strings", what, key);
    const char **arr = calloc(count + 1, sizeof(*arr));
    if (arr == NULL)
        return ap_error_make(err, ENOMEM, "%s", what);
    size_t i = 0;
    const cJSON *it;
    if (v != NULL) {
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it)) {
                free(arr);
                return ap_error_make(err, 0, "%s: \"%s\"[%zu] must be a string", what, key, i);
            }
            arr[i++] = it->valuestring;
        }
    }
    *out = arr;
    if (n != NULL)
        *n = count;
    return 0;
}

char *ap_json_compact(const cJSON *j)
{
    return cJSON_PrintUnformatted(j);
}

int ap_json_write_file(const char *path, const cJSON *j, ap_error **err)
{
    cleanup_free char *s = cJSON_Print(j);
    if (s == NULL)
        return ap_error_make(err, ENOMEM, "serialising %s", path);
    size_t len = strlen(s);
    cleanup_free char *withnl = malloc(len + 2);
    if (withnl == NULL)
        return ap_error_make(err, ENOMEM, "serialising %s", path);
    memcpy(withnl, s, len);
    withnl[len] = '\n';
    return ap_fs_write_atomic(path, withnl, len + 1, 0644, err);
}
