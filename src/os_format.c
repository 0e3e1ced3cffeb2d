/* os_format.c: the output formats, their names, the choice among them, and
 * the escaping that TSV and JSON need (CSV's is os_csv.c).
 *
 * TSV is PostgreSQL's COPY text format (CopyAttributeOutText in
 * src/backend/commands/copyto.c), so a TSV export can be compared byte for
 * byte with COPY ... TO STDOUT (FORMAT text, HEADER). JSON strings escape
 * what RFC 8259 requires and nothing else, as PostgreSQL's escape_json.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "os_format.h"

typedef struct os_format_info {
    os_format f;
    const char *name;
    const char *type;
} os_format_info;

/* In the order of preference when nothing else decides. */
static const os_format_info formats[] = {
    { OS_FMT_CSV, "csv", "text/csv" },
    { OS_FMT_TSV, "tsv", "text/tab-separated-values" },
    { OS_FMT_NDJSON, "ndjson", "application/x-ndjson" },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static const os_format_info *info(os_format f)
{
    apr_size_t i;

    for (i = 0; i < NFORMATS; i++) {
        if (formats[i].f == f) {
            return &formats[i];
        }
    }
    return &formats[0];
}

os_format os_format_by_name(const char *name)
{
    apr_size_t i;

    for (i = 0; i < NFORMATS; i++) {
        if (!strcasecmp(name, formats[i].name)) {
            return formats[i].f;
        }
    }
    return OS_FMT_NONE;
}

const char *os_format_name(os_format f)
{
    return info(f)->name;
}

const char *os_format_media_type(os_format f)
{
    return info(f)->type;
}

const char *os_format_list(unsigned mask, apr_pool_t *p)
{
    const char *list = "";
    apr_size_t i;

    for (i = 0; i < NFORMATS; i++) {
        if (mask & formats[i].f) {
            list =
                apr_pstrcat(p, list, *list ? ", " : "", formats[i].name, NULL);
        }
    }
    return list;
}

os_format os_format_first(unsigned mask)
{
    apr_size_t i;

    for (i = 0; i < NFORMATS; i++) {
        if (mask & formats[i].f) {
            return formats[i].f;
        }
    }
    return OS_FMT_NONE;
}

/* The q of one media range's parameters ("; q=0.5; level=1"), 1 if none;
 * a malformed q counts as 0, as if the range were not there. */
static double quality(const char *params)
{
    const char *q = params;

    while ((q = strchr(q, ';')) != NULL) {
        q++;
        while (*q == ' ' || *q == '\t') {
            q++;
        }
        if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
            char *end;
            double v = strtod(q + 2, &end);
            return end == q + 2 || v < 0 || v > 1 ? 0 : v;
        }
    }
    return 1;
}

/* Whether media range (type/subtype, lower case) covers media type t. */
static int covers(const char *range, const char *t)
{
    const char *slash = strchr(t, '/');

    if (!strcmp(range, "*/*") || !strcmp(range, t)) {
        return 1;
    }
    return slash && !strncmp(range, t, (apr_size_t)(slash - t + 1))
        && !strcmp(range + (slash - t + 1), "*");
}

os_format os_format_from_accept(const char *accept, unsigned allowed,
                                os_format dflt, apr_pool_t *p)
{
    double best_q = 0, dflt_q = -1, q_of[NFORMATS] = { 0 };
    os_format best = OS_FMT_NONE;
    char *copy, *item, *state;
    apr_size_t i;

    if (!accept || !*accept) {
        return dflt;
    }
    copy = apr_pstrdup(p, accept);
    for (item = apr_strtok(copy, ",", &state); item;
         item = apr_strtok(NULL, ",", &state)) {
        char *range = item, *params = item + strcspn(item, ";");
        double q = quality(params);
        char *end;

        *params = '\0';
        while (apr_isspace(*range)) {
            range++;
        }
        for (end = range + strlen(range); end > range && apr_isspace(end[-1]);
             end--) {
        }
        *end = '\0';
        for (end = range; *end; end++) {
            *end = (char)apr_tolower(*end);
        }
        for (i = 0; i < NFORMATS; i++) {
            if (!(allowed & formats[i].f)) {
                continue;
            }
            if (!strcmp(range, formats[i].type)) {
                /* named with q=0: refused, whatever a wildcard says */
                q_of[i] =
                    q > 0 && q_of[i] >= 0 ? (q > q_of[i] ? q : q_of[i]) : -1;
            }
        }
        if (covers(range, os_format_media_type(dflt)) && q > dflt_q) {
            dflt_q = q;
        }
    }
    /* the highest q; a tie goes to the first in the order csv, tsv, ndjson */
    for (i = 0; i < NFORMATS; i++) {
        if (q_of[i] > best_q) {
            best_q = q_of[i];
            best = formats[i].f;
        }
    }
    if (best != OS_FMT_NONE) {
        return best;
    }
    for (i = 0; i < NFORMATS; i++) {
        if (formats[i].f == dflt && q_of[i] < 0) {
            return OS_FMT_NONE;
        }
    }
    return dflt_q > 0 ? dflt : OS_FMT_NONE;
}

char *os_format_file_name(const char *pattern, os_format f, apr_time_t t,
                          apr_pool_t *p)
{
    char buf[1024], *dot, *c;
    apr_time_exp_t now;
    apr_size_t len = 0;

    apr_time_exp_gmt(&now, t);
    if (apr_strftime(buf, &len, sizeof(buf), pattern, &now) != APR_SUCCESS
        || len == 0) {
        apr_cpystrn(buf, pattern, sizeof(buf));
    }
    for (c = buf; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr("\"\\/", *c)) {
            *c = '_';
        }
    }
    dot = strrchr(buf, '.');
    /* a trailing dot is no extension: "orders." gets ".csv" too */
    if (dot && dot != buf && dot[1] && !os_format_by_name(dot + 1)) {
        return apr_pstrdup(p, buf); /* an extension of its own */
    }
    if (dot && dot != buf) {
        *dot = '\0';
    }
    return apr_pstrcat(p, buf, ".", os_format_name(f), NULL);
}

size_t os_tsv_field(char *dst, const char *src, size_t len, int is_null)
{
    char *d = dst;
    size_t i;

    if (is_null) {
        memcpy(dst, "\\N", 2);
        return 2;
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        char e = 0;
        switch (c) {
        case '\\':
            e = '\\';
            break;
        case '\t':
            e = 't';
            break;
        case '\n':
            e = 'n';
            break;
        case '\r':
            e = 'r';
            break;
        case '\b':
            e = 'b';
            break;
        case '\f':
            e = 'f';
            break;
        case '\v':
            e = 'v';
            break;
        default:
            break;
        }
        if (e) {
            *d++ = '\\';
            *d++ = e;
        }
        else {
            *d++ = (char)c;
        }
    }
    return (size_t)(d - dst);
}

size_t os_json_string(char *dst, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *d = dst;
    size_t i;

    *d++ = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '"' || c == '\\') {
            *d++ = '\\';
            *d++ = (char)c;
        }
        else if (c >= 0x20) {
            *d++ = (char)c;
        }
        else if (c == '\n' || c == '\r' || c == '\t' || c == '\b'
                 || c == '\f') {
            *d++ = '\\';
            *d++ = c == '\n' ? 'n'
                : c == '\r'  ? 'r'
                : c == '\t'  ? 't'
                : c == '\b'  ? 'b'
                             : 'f';
        }
        else {
            memcpy(d, "\\u00", 4);
            d[4] = hex[c >> 4];
            d[5] = hex[c & 15];
            d += 6;
        }
    }
    *d++ = '"';
    return (size_t)(d - dst);
}
