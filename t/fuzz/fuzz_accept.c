/* fuzz_accept.c: the Accept header, os_format_from_accept
 * (src/render/os_format.c).
 *
 * The input is the header's value. It is negotiated for every set of
 * allowed formats (OrderStreamFormats) with every default in the set
 * (OrderStreamFormat: the config keeps the default inside the set), and
 * the answer must be:
 * - a format of the set, or none (a 406);
 * - the default when the header is empty;
 * - a format the header covers (its media type, its "type/ *" or "* / *"
 *   appears in it), when it is not the default: nothing else can bring in
 *   another format (RFC 9110 12.5.1: a range accepts what it covers);
 * - the same for the header in upper case (media types and q are case-
 *   insensitive, RFC 9110 8.3.1 and 12.4.2).
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "os_format.h"

/* Whether the lower-case form of h contains the media type t. */
static int names(const char *h, const char *t, apr_pool_t *p)
{
    char *lower = apr_pstrdup(p, h), *c;

    for (c = lower; *c; c++) {
        *c = (char)apr_tolower(*c);
    }
    return strstr(lower, t) != NULL;
}

/* Whether h has an element that could cover media type t: t itself, its
 * "type/ *", or "* / *". */
static int covers(const char *h, const char *t, apr_pool_t *p)
{
    const char *slash = strchr(t, '/');
    char *range = apr_pstrcat(p, apr_pstrndup(p, t, (apr_size_t)(slash - t)),
                              "/*", NULL);

    return names(h, t, p) || names(h, range, p) || names(h, "*/*", p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *header = fuzz_cstr(data, size), *upper = fuzz_cstr(data, size), *c;
    apr_pool_t *p = fuzz_pool();
    unsigned allowed, d;
    os_format dflt, got;

    for (c = upper; *c; c++) {
        *c = (char)apr_toupper(*c);
    }
    for (allowed = 1; allowed <= OS_FMT_ALL; allowed++) {
        for (d = OS_FMT_FIRST; d <= OS_FMT_LAST; d <<= 1) {
            if (!(allowed & d)) {
                continue;
            }
            dflt = (os_format)d;
            got = os_format_from_accept(header, allowed, dflt, p);
            FUZZ_CHECK(got == OS_FMT_NONE || (got & allowed));
            FUZZ_CHECK(*header || got == dflt);
            FUZZ_CHECK(got == OS_FMT_NONE || got == dflt
                       || covers(header, os_format_media_type(got), p));
            FUZZ_CHECK(os_format_from_accept(upper, allowed, dflt, p) == got);
        }
    }
    FUZZ_CHECK(os_format_from_accept(NULL, OS_FMT_ALL, OS_FMT_TSV, p)
               == OS_FMT_TSV);
    apr_pool_destroy(p);
    free(header);
    free(upper);
    return 0;
}
