/* libFuzzer harness for the lang suite's probe outputs (bench/lang.c): what a program in an
 * image printed, read as a version, as keyword lines and as goroutine figures, from a buffer of
 * exactly its size (so ASan sees any read past it). Whatever is accepted must hold what the
 * parsers promise: a version's text re-reads to the same numbers; every keyword is an
 * identifier of at most AP_LANG_MAX_WORD bytes, used once, the first line naming at least one;
 * goroutine figures never shrink and count the goroutines asked for. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int identifier(const char *w)
{
    size_t n = strlen(w);
    if (n == 0 || n > AP_LANG_MAX_WORD || (w[0] >= '0' && w[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= 'A' && w[i] <= 'Z') || w[i] == '_' ||
              (w[i] >= '0' && w[i] <= '9')))
            return 0;
    return 1;
}

static void check_words(const cJSON *a, cJSON *seen)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !identifier(it->valuestring) ||
            cJSON_HasObjectItem(seen, it->valuestring))
            abort();
        cJSON_AddTrueToObject(seen, it->valuestring);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    char why[300];
    struct ap_lang_version v;
    if (ap_lang_parse_version(buf, size, &v, why, sizeof(why)) == 0) {
        struct ap_lang_version again;
        if (ap_lang_parse_version(v.text, strlen(v.text), &again, why, sizeof(why)) != 0 ||
            again.major != v.major || again.minor != v.minor || again.patch != v.patch ||
            strcmp(again.text, v.text) != 0)
            abort();
    }
    cJSON *kw = NULL, *soft = NULL;
    int lines = ap_lang_parse_keywords(buf, size, &kw, &soft, why, sizeof(why));
    if (lines > 0) {
        cJSON *seen = cJSON_CreateObject();
        if (cJSON_GetArraySize(kw) < 1 || (lines == 2) != (soft != NULL) ||
            cJSON_GetArraySize(kw) + cJSON_GetArraySize(soft) > AP_LANG_MAX_WORDS)
            abort();
        if (seen != NULL) {
            check_words(kw, seen);
            check_words(soft, seen);
        }
        cJSON_Delete(seen);
    } else if (lines != -1 || kw != NULL || soft != NULL) {
        abort();
    }
    cJSON_Delete(kw);
    cJSON_Delete(soft);
    struct ap_lang_stack s;
    int64_t n = size > 0 ? data[0] : 0;
    if (ap_lang_parse_stack(buf, size, n, &s, why, sizeof(why)) == 0 &&
        (s.goroutines != n || s.stack_inuse_after < s.stack_inuse_before ||
         s.private_after < s.private_before || s.stack_inuse_before < 0 || s.private_before < 0))
        abort();
    free(buf);
    return 0;
}
