/* os_utf8.c: one UTF-8 sequence by RFC 3629 (os_utf8.h).
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#include "os_utf8.h"

int os_utf8_seq(const unsigned char *s, apr_size_t n, unsigned *cp)
{
    unsigned c, v, min;
    int need, i;

    if (n == 0) {
        return 0;
    }
    c = s[0];
    if (c < 0x80) {
        need = 0, v = c, min = 0;
    }
    else if (c >= 0xc2 && c <= 0xdf) {
        need = 1, v = c & 0x1f, min = 0x80;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        need = 2, v = c & 0x0f, min = 0x800;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        need = 3, v = c & 0x07, min = 0x10000;
    }
    else {
        return 0;
    }
    if (n <= (apr_size_t)need) {
        return 0;
    }
    /* a NUL or any byte that is not 10xxxxxx ends the check: never read
     * past the end of a NUL-terminated string */
    for (i = 1; i <= need; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        return 0;
    }
    if (cp) {
        *cp = v;
    }
    return need + 1;
}
