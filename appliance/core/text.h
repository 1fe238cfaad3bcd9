/* Text that comes from other people (names in packages and archives, HTTP responses,
 * command-line words) made safe to print on a terminal. */
#ifndef AP_CORE_TEXT_H
#define AP_CORE_TEXT_H

#include <stddef.h>

/* A heap copy of S in which every control character (C0, DEL, and the C1 controls U+0080 to
 * U+009F) and every byte that is not part of valid UTF-8 is written as an escape, as tar and
 * ls do: \n \t \r \a \b \f \v, and \ooo (three octal digits) for the others. Printable text,
 * UTF-8 included, is copied as is. NULL when out of memory. */
char *ap_text_escape(const char *s) __attribute__((warn_unused_result));

/* True when S is 1 to MAX characters of [A-Za-z0-9._-] starting with a letter or digit: a
 * name safe as a file name and in a message (run ids, image names in archives). */
int ap_text_id_valid(const char *s, size_t max);

/* The length of the valid UTF-8 sequence at S (1-4), or 0 when S does not start one; a
 * sequence that ends before N bytes is not valid. Exposed for the tests. */
size_t ap_text_utf8_len(const unsigned char *s, size_t n);

#endif
