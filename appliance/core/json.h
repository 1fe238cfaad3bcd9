/* cJSON helpers: parse with a located error, typed field access, deterministic writing. */
#ifndef AP_CORE_JSON_H
#define AP_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "error.h"

static inline void ap_cleanup_cjsonp(cJSON **j)
{
    if (*j != NULL)
        cJSON_Delete(*j);
}
#define cleanup_cjson __attribute__((cleanup(ap_cleanup_cjsonp)))

/* Parses len bytes of JSON; `what` names the input in errors ("images/x/lock.json").
 * The caller owns *out. */
int ap_json_parse(const char *buf, size_t len, const char *what, cJSON **out, ap_error **err);

/* Reads and parses a file of at most max bytes. */
int ap_json_read_file(const char *path, size_t max, cJSON **out, ap_error **err);

/* Field access. The returned string points into obj. A missing optional field leaves *out
 * unchanged and returns 0; a missing required field or a wrong type is an error naming
 * `what` and the key. */
int ap_json_get_string(const cJSON *obj, const char *key, int required, const char *what,
                       const char **out, ap_error **err);
/* Integers must be whole numbers within [min, max]. */
int ap_json_get_int(const cJSON *obj, const char *key, int required, int64_t min, int64_t max,
                    const char *what, int64_t *out, ap_error **err);
/* An array of strings; *out is a NULL-terminated array of pointers into obj, owned by the
 * caller (free the array only). A missing optional field gives an empty array. */
int ap_json_get_string_array(const cJSON *obj, const char *key, int required, const char *what,
                             const char ***out, size_t *n, ap_error **err);

/* Serialises compactly (no whitespace) in insertion order: the form used for content-addressed
 * blobs. The caller frees the string. */
char *ap_json_compact(const cJSON *j);

/* Writes j indented to path atomically, with a trailing newline. */
int ap_json_write_file(const char *path, const cJSON *j, ap_error **err);

#endif
