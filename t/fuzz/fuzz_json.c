/* fuzz_json.c: the JSON string writer, os_json_string (src/render/os_format.c).
 *
 * The input is one value, written into a heap block of exactly
 * OS_JSON_STRING_MAX(len) bytes, so that ASan catches a byte past the
 * documented maximum. What is written must be one JSON string token as
 * RFC 8259 section 7 spells it (quotes around it, no raw control
 * character, no quote or backslash but in an escape, only the escapes
 * \" \\ \/ \b \f \n \r \t \uXXXX), must decode to the value, and must be
 * UTF-8 whenever the value is (NDJSON is UTF-8 by definition).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "os_format.h"

static int hex(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'f'  ? c - 'a' + 10
        : c >= 'A' && c <= 'F'  ? c - 'A' + 10
                                : -1;
}

/* Decodes the JSON string token s[0..n) into out. Returns 0 when s is not
 * exactly one token, or holds a \u escape above U+007F, which the writer
 * never needs (it escapes control characters only). */
static int decode(const char *s, size_t n, char *out, size_t *outlen)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    size_t i, o = 0;
    const char *e;

    if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
        return 0;
    }
    for (i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"') {
            return 0; /* raw control character, or an early end */
        }
        if (c != '\\') {
            out[o++] = (char)c;
        }
        else if (i + 1 < n - 1 && s[i + 1] == 'u') {
            int k, v = 0;
            for (k = 2; k < 6; k++) {
                if (i + k >= n - 1 || hex(s[i + k]) < 0) {
                    return 0;
                }
                v = v * 16 + hex(s[i + k]);
            }
            if (v > 0x7f) {
                return 0;
            }
            out[o++] = (char)v;
            i += 5;
        }
        else if (i + 1 < n - 1 && s[i + 1]
                 && (e = memchr(from, s[i + 1], sizeof(from) - 1)) != NULL) {
            out[o++] = to[e - from];
            i++;
        }
        else {
            return 0;
        }
    }
    *outlen = o;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *src = (const char *)data; /* a heap copy of size bytes */
    size_t max = OS_JSON_STRING_MAX(size), n, got;
    char *dst = malloc(max), *back = malloc(max);

    FUZZ_CHECK(dst && back);
    n = os_json_string(dst, src, size);
    FUZZ_CHECK(n <= max);
    FUZZ_CHECK(decode(dst, n, back, &got));
    FUZZ_CHECK(got == size && !memcmp(back, src, size));
    FUZZ_CHECK(!fuzz_utf8(src, size) || fuzz_utf8(dst, n));
    free(dst);
    free(back);
    return 0;
}
