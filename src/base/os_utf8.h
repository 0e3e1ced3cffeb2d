/* os_utf8.h: one UTF-8 sequence by RFC 3629, for every place that checks
 * or walks UTF-8 (OrderStreamParam text, XLSX cells, metric labels, the
 * status page). Needs only APR.
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#ifndef OS_UTF8_H
#define OS_UTF8_H

#include <apr.h>

/* n for a NUL-terminated string: a sequence never runs past its NUL,
 * which is no continuation byte. */
#define OS_UTF8_NUL_ENDED ((apr_size_t)-1)

/* The length (1 to 4) of the valid UTF-8 sequence at s[0..n), its code
 * point in *cp (cp may be NULL); 0 when it is not valid: a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF, or cut
 * off by n. */
int os_utf8_seq(const unsigned char *s, apr_size_t n, unsigned *cp);

#endif /* OS_UTF8_H */
