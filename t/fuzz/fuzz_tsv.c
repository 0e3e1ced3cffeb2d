/* fuzz_tsv.c: the TSV field writer, os_tsv_field (src/render/os_format.c).
 *
 * The input is one value, written as a value and as NULL into a heap block
 * of exactly OS_TSV_FIELD_MAX(len) bytes, so that ASan catches a byte past
 * the documented maximum. A value's field must hold no raw tab, LF or CR
 * (they would split the row), every backslash must start one of COPY's
 * escapes (\\ \t \n \r \b \f \v), and undoing them must give the value
 * back; NULL is \N, which no value can be written as.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "os_format.h"

/* Undoes COPY text's escapes of s[0..n) into out; 0 on a stray one. */
static int unescape(const char *s, size_t n, char *out, size_t *outlen)
{
    static const char from[] = "\\tnrbfv", to[] = "\\\t\n\r\b\f\v";
    size_t i, o = 0;
    const char *e;

    for (i = 0; i < n; i++) {
        if (s[i] != '\\') {
            out[o++] = s[i];
            continue;
        }
        if (i + 1 == n || !s[i + 1]
            || (e = memchr(from, s[i + 1], sizeof(from) - 1)) == NULL) {
            return 0;
        }
        out[o++] = to[e - from];
        i++;
    }
    *outlen = o;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data; /* a heap copy of size bytes */
    size_t max = OS_TSV_FIELD_MAX(size), n, got;
    char *dst = malloc(max), *back = malloc(max);

    FUZZ_CHECK(dst && back);
    n = os_tsv_field(dst, src, size, 1);
    FUZZ_CHECK(n == 2 && !memcmp(dst, "\\N", 2));

    n = os_tsv_field(dst, src, size, 0);
    FUZZ_CHECK(n <= max);
    FUZZ_CHECK(!memchr(dst, '\t', n) && !memchr(dst, '\n', n)
               && !memchr(dst, '\r', n));
    FUZZ_CHECK(unescape(dst, n, back, &got));
    FUZZ_CHECK(got == size && !memcmp(back, src, size));
    FUZZ_CHECK(!(n == 2 && !memcmp(dst, "\\N", 2)));
    free(dst);
    free(back);
    return 0;
}
