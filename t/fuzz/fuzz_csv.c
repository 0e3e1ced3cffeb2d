/* fuzz_csv.c: the CSV field writer, os_csv_field (src/render/os_csv.c).
 *
 * The input is one value, written with each delimiter (',' ';' tab) and
 * each combination of the flags into a heap block of exactly
 * OS_CSV_FIELD_MAX(len) bytes, so that ASan catches a byte past the
 * documented maximum. What is written must read back through a plain
 * RFC 4180 reader as the value (with the formula guard's ' in front when
 * the guard applies, nothing for NULL), and be quoted exactly when COPY
 * quotes: the field is empty, holds the delimiter, a quote, CR or LF, or
 * is a lone \. alone in its row. A row is fields joined by the delimiter,
 * so a field that reads back whole, stopping exactly at its end, cannot
 * break a row.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "os_csv.h"

/* Reads s[0..n) as one RFC 4180 field into out (*outlen bytes). Returns 1
 * when s is exactly one field: unquoted without delim, '"', CR or LF, or
 * quoted with "" for a quote, ending at its closing quote. */
static int read_field(const char *s, size_t n, char delim, char *out,
                      size_t *outlen)
{
    size_t i, o = 0;

    if (n == 0 || s[0] != '"') {
        for (i = 0; i < n; i++) {
            if (s[i] == delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
                return 0;
            }
            out[o++] = s[i];
        }
        *outlen = o;
        return 1;
    }
    for (i = 1; i < n; i++) {
        if (s[i] != '"') {
            out[o++] = s[i];
        }
        else if (i + 1 < n && s[i + 1] == '"') {
            out[o++] = '"';
            i++;
        }
        else {
            *outlen = o;
            return i + 1 == n;
        }
    }
    return 0; /* no closing quote */
}

/* Whether COPY (FORMAT csv) quotes src as a non-NULL value. */
static int copy_quotes(const char *src, size_t len, char delim, int lone)
{
    size_t i;

    if (len == 0 || (lone && len == 2 && src[0] == '\\' && src[1] == '.')) {
        return 1;
    }
    for (i = 0; i < len; i++) {
        if (src[i] == delim || src[i] == '"' || src[i] == '\r'
            || src[i] == '\n') {
            return 1;
        }
    }
    return 0;
}

static void one(const char *src, size_t len, char delim, unsigned flags)
{
    os_csv_fmt fmt;
    size_t max = OS_CSV_FIELD_MAX(len), n, got;
    char *dst = malloc(max), *back = malloc(max);
    int guard = (flags & OS_CSV_GUARD) && len > 0
        && memchr("=+-@\t\r", src[0], 6) != NULL;

    FUZZ_CHECK(dst && back);
    os_csv_fmt_init(&fmt, delim);
    n = os_csv_field(&fmt, dst, src, len, flags);
    FUZZ_CHECK(n <= max);
    if (flags & OS_CSV_NULL) {
        FUZZ_CHECK(n == 0);
    }
    else {
        FUZZ_CHECK(read_field(dst, n, delim, back, &got));
        FUZZ_CHECK(got == len + (size_t)guard);
        FUZZ_CHECK(!guard || back[0] == '\'');
        FUZZ_CHECK(!memcmp(back + guard, src, len));
        FUZZ_CHECK((n > 0 && dst[0] == '"')
                   == copy_quotes(src, len, delim, flags & OS_CSV_LONE));
    }
    free(dst);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char delims[] = { ',', ';', '\t' };
    unsigned flags;
    size_t d;

    /* libFuzzer passes a heap copy of exactly size bytes: a read past the
     * value is caught too */
    for (d = 0; d < sizeof(delims); d++) {
        for (flags = 0; flags <= (OS_CSV_NULL | OS_CSV_LONE | OS_CSV_GUARD);
             flags++) {
            one((const char *)data, size, delims[d], flags);
        }
    }
    return 0;
}
