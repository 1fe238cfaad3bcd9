/* Errors travel up as an ap_error: a status (an errno value, or 0) and a message
 * that each caller may prefix with its own context. */
#ifndef AP_CORE_ERROR_H
#define AP_CORE_ERROR_H

#include <stdarg.h>

typedef struct ap_error {
    int status; /* errno value behind the failure, or 0 */
    char *msg;  /* heap string, owned by the error */
} ap_error;

/* Every text formatted into a message (by make, wrap and hint) has its control characters
 * escaped (core/text.h): a message is one line, and the only line breaks are the ones these
 * functions put there themselves. */

/* Fills *err (when err is not NULL and *err is NULL) with a message built from fmt; when
 * status is non-zero, ": strerror(status)" is appended. Always returns -1, so callers can
 * write `return ap_error_make(err, errno, "opening %s", path);`. */
int ap_error_make(ap_error **err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message of *err with "context: ". Returns -1. A NULL *err is left alone. */
int ap_error_wrap(ap_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends "\nHint: ..." to the message of *err. Returns -1. */
int ap_error_hint(ap_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends each line of TEXT (output of a program, say) to the message of *err as a line of its
 * own, indented with "  | " and with its control characters escaped. Returns -1. */
int ap_error_lines(ap_error **err, const char *text);

/* Frees the error and sets *err to NULL. */
void ap_error_release(ap_error **err);

#endif
