/* Diagnostics on stderr. Data goes to stdout; everything a human reads while waiting goes here. */
#ifndef AP_CORE_LOG_H
#define AP_CORE_LOG_H

#include <stdarg.h>

enum ap_log_level { AP_LOG_QUIET = 0, AP_LOG_NORMAL = 1, AP_LOG_VERBOSE = 2 };

/* Sets the global verbosity (default AP_LOG_NORMAL). */
void ap_log_set_level(enum ap_log_level level);
enum ap_log_level ap_log_get_level(void);

/* Progress and information (hidden with --quiet). */
void ap_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Detail shown with --verbose only. */
void ap_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints PREFIX and the message on standard error as one line, control characters escaped,
 * whatever the level (for callers with their own prefix, such as usage errors). */
void ap_log_vline(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Warnings are always shown. */
void ap_log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
