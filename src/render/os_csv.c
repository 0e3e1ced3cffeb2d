/* os_csv.c: one CSV field, quoted exactly as PostgreSQL's COPY ... (FORMAT
 * csv) quotes it, so that an export can be compared byte for byte with COPY
 * (see CopyAttributeOutCSV in PostgreSQL's src/backend/commands/copyto.c).
 *
 * COPY quotes a field when it contains the delimiter, the quote, CR or LF,
 * when it equals the NULL string (the empty string in CSV mode, so an empty
 * value is written "" and NULL as nothing), and when a single-column row is
 * exactly \. (which would otherwise read back as the end-of-data marker).
 * Leading and trailing spaces do not cause quoting.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include <string.h>

#include "os_csv.h"

void os_csv_fmt_init(os_csv_fmt *fmt, char delim)
{
    memset(fmt->special, 0, sizeof(fmt->special));
    fmt->special[(unsigned char)delim] = 1;
    fmt->special['"'] = 1;
    fmt->special['\r'] = 1;
    fmt->special['\n'] = 1;
    fmt->delim = delim;
}

/* Length of the leading run of src that needs no quoting. */
static size_t plain_prefix(const os_csv_fmt *fmt, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;

    while (i < len && !fmt->special[s[i]]) {
        i++;
    }
    return i;
}

/* guard: a ' to write first, inside the quotes */
static size_t quoted(char *dst, const char *src, size_t len, int guard)
{
    char *d = dst;
    const char *q;

    *d++ = '"';
    if (guard) {
        *d++ = '\'';
    }
    /* Copy runs between quotes in one memcpy each; a quote is doubled. */
    while ((q = memchr(src, '"', len)) != NULL) {
        size_t run = (size_t)(q - src) + 1;
        memcpy(d, src, run);
        d += run;
        *d++ = '"';
        src += run;
        len -= run;
    }
    memcpy(d, src, len);
    d += len;
    *d++ = '"';
    return (size_t)(d - dst);
}

/* What spreadsheets read as the start of a formula (OWASP's list). A
 * switch, not strchr: it runs for every guarded field of every row, and
 * the call cost 30 instructions a field (callgrind, issue 23). */
static int formula_start(const char *src, size_t len)
{
    if (len == 0) {
        return 0;
    }
    switch (src[0]) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
        return 1;
    default:
        return 0;
    }
}

size_t os_csv_field(const os_csv_fmt *fmt, char *dst, const char *src,
                    size_t len, unsigned flags)
{
    int guard;

    if (flags & OS_CSV_NULL) {
        return 0;
    }
    guard = (flags & OS_CSV_GUARD) && formula_start(src, len);
    if (len == 0 || plain_prefix(fmt, src, len) < len
        || ((flags & OS_CSV_LONE) && len == 2 && src[0] == '\\'
            && src[1] == '.')) {
        return quoted(dst, src, len, guard);
    }
    if (guard) {
        *dst++ = '\'';
    }
    memcpy(dst, src, len);
    return len + (size_t)guard;
}
