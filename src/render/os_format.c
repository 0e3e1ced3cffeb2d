/* os_format.c: the output formats, their names, the choice among them, and
 * the escaping that TSV and JSON need (CSV's is os_csv.c).
 *
 * TSV is PostgreSQL's COPY text format (CopyAttributeOutText in
 * src/backend/commands/copyto.c), so a TSV export can be compared byte for
 * byte with COPY ... TO STDOUT (FORMAT text, HEADER). JSON strings escape
 * what RFC 8259 requires and nothing else, as PostgreSQL's escape_json.
 *
 * Layer render: may call its own layer and base, db, deliver.
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
    const char *content_type; /* what is sent */
} os_format_info;

/* In the order of preference when nothing else decides. */
static const os_format_info formats[] = {
    { OS_FMT_CSV, "csv", "text/csv", "text/csv; charset=utf-8" },
    { OS_FMT_TSV, "tsv", "text/tab-separated-values",
      "text/tab-separated-values; charset=utf-8" },
    { OS_FMT_NDJSON, "ndjson", "application/x-ndjson",
      "application/x-ndjson" },
    { OS_FMT_XLSX, "xlsx",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
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

const char *os_format_content_type(os_format f)
{
    return info(f)->content_type;
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

/* ---- Accept (RFC 9110 12.5.1) ----------------------------------------
 *
 * Each element of the header is parsed by the RFC's grammar:
 *   media-range = ( "* / *" / type "/ *" / type "/" subtype )
 *                 *( OWS ";" OWS [ parameter ] )
 *   weight      = OWS ";" OWS "q=" qvalue
 *   qvalue      = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 * An element that does not parse (a bad q such as 0.5000, 2, NaN or 0x1p-1;
 * a range without a slash) is ignored, as if it were not there: it neither
 * accepts nor refuses anything. q is kept in thousandths, so no float
 * parsing is involved.
 *
 * Each allowed format takes the q of the most specific element that covers
 * it (its own type over "type/ *" over "* / *", as the RFC says), so
 * "text/csv;q=0, * / *" refuses CSV and accepts the rest. Two elements of
 * the same specificity: a q=0 refusal stands, else the higher q. */

typedef struct os_accept_pref {
    int spec; /* 0: not covered; 1: * / *; 2: type/ *; 3: the type itself */
    int q;    /* thousandths, 0..1000 */
} os_accept_pref;

static int is_tchar(int c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* A token: its end, s itself when there is none. */
static const char *token_end(const char *s)
{
    while (is_tchar((unsigned char)*s)) {
        s++;
    }
    return s;
}

/* A quoted-string starting at s (on the '"'): its end after the closing
 * quote, NULL when it does not close. */
static const char *quoted_end(const char *s)
{
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\' && !*++s) {
            return NULL;
        }
    }
    return *s ? s + 1 : NULL;
}

/* qvalue in [v, end): thousandths, or -1 when it is not one. */
static int qvalue(const char *v, const char *end)
{
    int q, digits = 0;

    if (v == end || (*v != '0' && *v != '1')) {
        return -1;
    }
    q = (*v++ - '0') * 1000;
    if (v < end && *v++ != '.') {
        return -1;
    }
    for (; v < end && digits < 3; v++, digits++) {
        if (!apr_isdigit(*v) || (q == 1000 && *v != '0')) {
            return -1;
        }
        q += (*v - '0') * (digits == 0 ? 100 : digits == 1 ? 10 : 1);
    }
    return v == end ? q : -1;
}

/* One parameter at s (after "; " and OWS): its end, NULL when it does not
 * parse. Sets *q when it is the first q. */
static const char *parameter(const char *s, int *q)
{
    const char *name = s, *eq = token_end(s), *end;

    if (eq == name || *eq != '=') {
        return NULL;
    }
    end = eq[1] == '"' ? quoted_end(eq + 1) : token_end(eq + 1);
    if (!end || (end == eq + 1 && eq[1] != '"')) {
        return NULL;
    }
    if (eq - name == 1 && (*name == 'q' || *name == 'Q') && *q < 0) {
        if (eq[1] == '"' || (*q = qvalue(eq + 1, end)) < 0) {
            *q = -2; /* a q that is not a qvalue: the element is invalid */
        }
    }
    return end;
}

/* One element at s: its range in type/subtype (lower case, into buf of
 * size n) and *q; returns where it ends (at ',' or the end), and sets
 * *ok to whether it parsed. */
static const char *element(const char *s, char *buf, apr_size_t n, int *q,
                           int *ok)
{
    const char *t = s, *slash = token_end(s), *sub_end, *e;
    apr_size_t len, i;

    *q = -1;
    *ok = 0;
    sub_end = *slash == '/' ? token_end(slash + 1) : slash;
    len = (apr_size_t)(sub_end - t);
    *ok = slash > t && *slash == '/' && sub_end > slash + 1 && len < n;
    for (e = skip_ows(sub_end); *ok && *e == ';';) {
        e = skip_ows(e + 1);
        if (*e && *e != ';' && *e != ',') {
            e = parameter(e, q);
            *ok = e != NULL && *q != -2;
            e = *ok ? skip_ows(e) : e;
        }
    }
    *ok = *ok && (!*e || *e == ',');
    for (i = 0; *ok && i < len; i++) {
        buf[i] = (char)apr_tolower(t[i]);
    }
    if (*ok) {
        buf[len] = '\0';
        *ok = strncmp(buf, "*/", 2) || !strcmp(buf, "*/*");
        *q = *q < 0 ? 1000 : *q;
    }
    /* skip to the next top-level comma, over quoted strings */
    for (e = s; *e && *e != ',';) {
        const char *qe = *e == '"' ? quoted_end(e) : e + 1;
        e = qe ? qe : e + strlen(e);
    }
    return e;
}

/* How specifically range covers media type t: 3, 2, 1, or 0 (not). */
static int specificity(const char *range, const char *t)
{
    apr_size_t type_len = strcspn(t, "/") + 1;

    if (!strcmp(range, t)) {
        return 3;
    }
    if (!strncmp(range, t, type_len) && !strcmp(range + type_len, "*")) {
        return 2;
    }
    return !strcmp(range, "*/*");
}

static void weigh(os_accept_pref *pref, const char *range, int q,
                  unsigned allowed)
{
    apr_size_t i;
    int spec;

    for (i = 0; i < NFORMATS; i++) {
        if (!(allowed & formats[i].f)
            || !(spec = specificity(range, formats[i].type))) {
            continue;
        }
        if (spec > pref[i].spec) {
            pref[i].spec = spec;
            pref[i].q = q;
        }
        else if (spec == pref[i].spec && pref[i].q > 0) {
            pref[i].q = q == 0 || q > pref[i].q ? q : pref[i].q;
        }
    }
}

/* Whether a beats b: higher q, then named over a range, then the export's
 * own format. Equal otherwise: the table's order decides. */
static int better(const os_accept_pref *a, int a_dflt, const os_accept_pref *b,
                  int b_dflt)
{
    if (a->q != b->q) {
        return a->q > b->q;
    }
    if ((a->spec == 3) != (b->spec == 3)) {
        return a->spec == 3;
    }
    return a_dflt && !b_dflt;
}

os_format os_format_from_accept(const char *accept, unsigned allowed,
                                os_format dflt, apr_pool_t *p)
{
    os_accept_pref pref[NFORMATS] = { { 0, 0 } };
    char range[256];
    const char *s = accept;
    apr_size_t i, best = NFORMATS;
    int q, ok, valid = 0;

    (void)p;
    while (s && *(s = skip_ows(s))) {
        if (*s == ',') {
            s++; /* empty list elements are allowed (RFC 9110 5.6.1) */
            continue;
        }
        s = element(s, range, sizeof(range), &q, &ok);
        if (ok) {
            valid = 1;
            weigh(pref, range, q, allowed);
        }
    }
    if (!valid) {
        /* absent, empty, or nothing that parses: no preference stated */
        return allowed & dflt ? dflt : os_format_first(allowed);
    }
    for (i = 0; i < NFORMATS; i++) {
        if (pref[i].q > 0
            && (best == NFORMATS
                || better(&pref[i], formats[i].f == dflt, &pref[best],
                          formats[best].f == dflt))) {
            best = i;
        }
    }
    return best < NFORMATS ? formats[best].f : OS_FMT_NONE;
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
