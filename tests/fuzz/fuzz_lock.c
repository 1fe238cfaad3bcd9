/* libFuzzer harness for the JSON inputs an image is built from: lock.json and image.json. */
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/lock.h"
#include "image/recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ap_error *err = NULL;

    struct ap_lock *l = NULL;
    if (ap_lock_parse(text, size, "fuzz/lock.json", &l, &err) == 0)
        ap_lock_free(l);
    ap_error_release(&err);

    struct ap_recipe *r = NULL;
    if (ap_recipe_parse(text, size, "fuzz/image.json", &r, &err) == 0)
        ap_recipe_free(r);
    ap_error_release(&err);
    return 0;
}
