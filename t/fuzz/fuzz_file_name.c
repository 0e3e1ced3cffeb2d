/* fuzz_file_name.c: the OrderStreamFilename pattern, os_format_file_name
 * (src/render/os_format.c).
 *
 * The input is the pattern; it is expanded in each format at a few times
 * (the unit tests' 2026-11-24 13:05:09, the epoch, a leap day, the last
 * second of year 9999). Whatever the pattern, the name must be non-empty
 * and hold no control character, '"', '\\' or '/' (it goes into a
 * Content-Disposition header and names a file). For a pattern the config
 * accepts (non-empty, printable, UTF-8, at most 255 characters: see
 * set_filename in src/export/os_config.c) the name must also be UTF-8, and end in
 * the format's extension unless it has a non-empty one of its own that is
 * not csv, tsv or ndjson.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_time.h>

#include "fuzz.h"
#include "os_format.h"

/* What set_filename accepts. */
static int configurable(const char *pattern)
{
    size_t n = strlen(pattern), i, chars = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)pattern[i];
        if (c < 0x20 || c == 0x7f || strchr("\"\\/", c)) {
            return 0;
        }
        chars += (c & 0xc0) != 0x80;
    }
    return n > 0 && chars <= 255 && fuzz_utf8(pattern, n);
}

static void check(const char *pattern, os_format f, apr_time_t t,
                  apr_pool_t *p)
{
    const char *name = os_format_file_name(pattern, f, t, p), *c, *dot, *ext;
    size_t n;

    FUZZ_CHECK(name && *name);
    n = strlen(name);
    FUZZ_CHECK(n <= 1023 + sizeof(".ndjson") - 1);
    for (c = name; *c; c++) {
        FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f
                   && !strchr("\"\\/", *c));
    }
    if (!configurable(pattern)) {
        return;
    }
    FUZZ_CHECK(fuzz_utf8(name, n));
    dot = strrchr(name, '.');
    ext = os_format_name(f);
    FUZZ_CHECK(dot && dot > name);
    FUZZ_CHECK(!strcmp(dot + 1, ext)
               || (dot[1] && os_format_by_name(dot + 1) == OS_FMT_NONE));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const apr_int64_t times[] = { 1795525509, 0, 1709164800,
                                         253402300799 };
    char *pattern = fuzz_cstr(data, size);
    apr_pool_t *p = fuzz_pool();
    unsigned f;
    size_t t;

    for (f = OS_FMT_FIRST; f <= OS_FMT_LAST; f <<= 1) {
        for (t = 0; t < sizeof(times) / sizeof(times[0]); t++) {
            check(pattern, (os_format)f, apr_time_from_sec(times[t]), p);
        }
    }
    apr_pool_destroy(p);
    free(pattern);
    return 0;
}
