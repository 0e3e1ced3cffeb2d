/* os_params.c: the query string, strictly: ?offset=M&limit=N and the
 * parameters a Location declares with OrderStreamParam.
 *
 * User input is data: offset and limit are only ever numbers handed to
 * MOVE and FETCH counts after they parse as such; a declared parameter is
 * only ever a bind parameter of PQexecParams, and is checked against its
 * type here first, so a bad value is a 400 that says what was expected
 * rather than a 500 from PostgreSQL. Anything this export does not declare
 * is refused with a 400 that names it, rather than ignored, so a typo
 * ("limt=10") never turns a preview into a 40-million-row download.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "os_date.h"
#include "os_params.h"
#include "os_utf8.h"

/* URL-decodes s in place ("+" is a space). Returns 0 on a bad escape. */
static int unescape(char *s)
{
    char *d = s;

    for (; *s; s++, d++) {
        if (*s == '+') {
            *d = ' ';
        }
        else if (*s != '%') {
            *d = *s;
        }
        else if (apr_isxdigit(s[1]) && apr_isxdigit(s[2])) {
            char hex[3] = { s[1], s[2], '\0' };
            *d = (char)strtol(hex, NULL, 16);
            if (!*d) {
                return 0; /* %00 would cut the value short */
            }
            s += 2;
        }
        else {
            return 0;
        }
    }
    *d = '\0';
    return 1;
}

const char *os_params_shown(const char *v, apr_pool_t *p)
{
    char *out = apr_palloc(p, 64 * 4 + 4), *d = out;
    const unsigned char *s = (const unsigned char *)v;
    int n;

    for (n = 0; *s && n < 64; s++, n++) {
        if (*s < 0x20 || *s > 0x7e) {
            d += apr_snprintf(d, 5, "\\x%02x", *s);
        }
        else {
            *d++ = (char)*s;
        }
    }
    strcpy(d, *s ? "..." : "");
    return out;
}

/* ---- the types ---------------------------------------------------------- */

typedef struct os_type_info {
    const char *name;
    unsigned int oid; /* pg_type.oid, fixed since PostgreSQL 7 */
    const char *form; /* the accepted form, for 400s */
} os_type_info;

/* Indexed by os_param_type. */
static const os_type_info types[] = {
    { "int", 20, "a whole number such as 42" },
    { "numeric", 1700, "a decimal number such as -12.50" },
    { "date", 1082, "a date YYYY-MM-DD" },
    { "timestamptz", 1184,
      "a timestamp YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM] (ISO 8601)" },
    { "bool", 16, "true or false" },
    { "text", 25, NULL }, /* os_param_form: it says the length */
};

/* A numeric of 1000 characters is far past any real filter, and keeps a
 * value from costing PostgreSQL more than a moment to parse. */
#define OS_NUMERIC_MAX 1000
/* The largest maxlength=: a request line is limited to 8190 bytes by
 * default anyway (LimitRequestLine). */
#define OS_TEXT_MAXLENGTH_MAX 65536
#define OS_NAME_MAX 64

const char *os_param_type_name(os_param_type t)
{
    return types[t].name;
}

unsigned int os_param_oid(os_param_type t)
{
    return types[t].oid;
}

const char *os_param_form(const os_param_decl *d, apr_pool_t *p)
{
    if (d->type == OS_PARAM_TEXT) {
        return apr_psprintf(p, "UTF-8 text of at most %d characters",
                            d->maxlength);
    }
    return types[d->type].form;
}

/* [+-]digits within bigint; normalised without sign or leading zeros. */
static const char *check_int(const char *v, apr_pool_t *p)
{
    const char *d = v + (*v == '+' || *v == '-');
    char *end;
    apr_int64_t n;

    if (!apr_isdigit(*d)) {
        return NULL;
    }
    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    return errno || *end ? NULL : apr_psprintf(p, "%" APR_INT64_T_FMT, n);
}

/* [+-](digits[.digits] | .digits): what a person types; no exponent, NaN
 * or Infinity, which no filter needs. */
static const char *check_numeric(const char *v)
{
    const char *s = v + (*v == '+' || *v == '-');
    apr_size_t whole = strspn(s, "0123456789"), frac = 0;
    const char *end = s + whole;

    if (*end == '.') {
        frac = strspn(end + 1, "0123456789");
        end += 1 + frac;
    }
    return (whole || frac) && !*end && strlen(v) <= OS_NUMERIC_MAX ? v : NULL;
}

/* YYYY-MM-DD, a day the calendar has, year 1 to 9999. */
static int is_date(const char *v)
{
    int y, m, d;

    return os_date_ymd(v, &y, &m, &d);
}

static const char *check_date(const char *v)
{
    return strlen(v) == 10 && is_date(v) ? v : NULL;
}

/* Z, +HH, +HHMM or +HH:MM (or -), at most 15:59 as PostgreSQL allows;
 * written as +HH:MM. */
static const char *zone(const char *s, apr_pool_t *p)
{
    int h, m = 0;

    if (!*s || ((*s == 'Z' || *s == 'z') && !s[1])) {
        return "+00:00"; /* no offset: UTC, as the file names are */
    }
    if ((*s != '+' && *s != '-') || !os_date_digits(s + 1, 2, &h)) {
        return NULL;
    }
    if (s[3] == ':' ? !os_date_digits(s + 4, 2, &m) || s[6]
            : s[3]  ? !os_date_digits(s + 3, 2, &m) || s[5]
                    : 0) {
        return NULL;
    }
    return h <= 15 && m <= 59 ? apr_psprintf(p, "%c%02d:%02d", *s, h, m)
                              : NULL;
}

/* ISO 8601: a date, or date T|space HH:MM[:SS[.f{1,6}]] and a zone. */
static const char *check_timestamptz(const char *v, apr_pool_t *p)
{
    const char *s = v + 10, *z;
    int h, mi, sec = 0;
    apr_size_t frac = 0;

    if (strlen(v) < 10 || !is_date(v)) {
        return NULL;
    }
    if (!*s) {
        return apr_pstrcat(p, v, " 00:00:00+00:00", NULL);
    }
    if ((*s != 'T' && *s != 't' && *s != ' ') || !os_date_digits(s + 1, 2, &h)
        || s[3] != ':' || !os_date_digits(s + 4, 2, &mi)) {
        return NULL;
    }
    s += 6;
    if (*s == ':' && os_date_digits(s + 1, 2, &sec)) {
        s += 3;
        if (*s == '.') {
            frac = strspn(s + 1, "0123456789");
            if (frac < 1 || frac > 6) {
                return NULL;
            }
            s += 1 + frac;
        }
    }
    if (h > 23 || mi > 59 || sec > 59 || (z = zone(s, p)) == NULL) {
        return NULL;
    }
    return apr_psprintf(p, "%.10s %02d:%02d:%02d%s%.*s%s", v, h, mi, sec,
                        frac ? "." : "", (int)frac, frac ? s - frac : "", z);
}

static const char *check_bool(const char *v)
{
    static const char *const yes[] = { "true", "t", "yes", "on", "1", NULL };
    static const char *const no[] = { "false", "f", "no", "off", "0", NULL };
    int i;

    for (i = 0; yes[i]; i++) {
        if (!strcasecmp(v, yes[i])) {
            return "true";
        }
        if (!strcasecmp(v, no[i])) {
            return "false";
        }
    }
    return NULL;
}

/* UTF-8 (the database's client_encoding is), at most max characters. */
static const char *check_text(const char *v, int max)
{
    const unsigned char *s = (const unsigned char *)v;
    int chars = 0, n;

    for (; *s; s += n, chars++) {
        if ((n = os_utf8_seq(s, OS_UTF8_NUL_ENDED, NULL)) == 0
            || chars >= max) {
            return NULL;
        }
    }
    return v;
}

/* v as d's type, normalised; NULL when it is not one. */
static const char *check(const os_param_decl *d, const char *v, apr_pool_t *p)
{
    switch (d->type) {
    case OS_PARAM_INT:
        return check_int(v, p);
    case OS_PARAM_NUMERIC:
        return check_numeric(v);
    case OS_PARAM_DATE:
        return check_date(v);
    case OS_PARAM_TIMESTAMPTZ:
        return check_timestamptz(v, p);
    case OS_PARAM_BOOL:
        return check_bool(v);
    default:
        return check_text(v, d->maxlength);
    }
}

const char *os_param_value(const os_param_decl *d, const char *v,
                           const char **out, apr_pool_t *p)
{
    *out = check(d, v, p);
    if (*out) {
        return NULL;
    }
    return apr_psprintf(p, "%s: expected %s, got \"%s\"", d->name,
                        os_param_form(d, p), os_params_shown(v, p));
}

/* ---- OrderStreamParam NAME TYPE [required | default=V] [maxlength=N] ---- */

static const char *declare_name(os_param_decl *d, const char *name,
                                apr_pool_t *p)
{
    apr_size_t n = strlen(name);

    if (!n || n > OS_NAME_MAX || apr_isdigit(*name)
        || strspn(name,
                  "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
            != n) {
        return apr_psprintf(p,
                            "\"%s\" is not a parameter name: use letters, "
                            "digits and _, not starting with a digit, at "
                            "most %d",
                            os_params_shown(name, p), OS_NAME_MAX);
    }
    if (!strcmp(name, "offset") || !strcmp(name, "limit")
        || !strcmp(name, "format")) {
        return apr_psprintf(p,
                            "\"%s\" is reserved (offset, limit and format "
                            "are the module's own)",
                            name);
    }
    d->name = name;
    return NULL;
}

static const char *declare_type(os_param_decl *d, const char *type,
                                apr_pool_t *p)
{
    int t;

    for (t = 0; t < (int)(sizeof(types) / sizeof(types[0])); t++) {
        if (!strcasecmp(type, types[t].name)) {
            d->type = (os_param_type)t;
            d->maxlength = t == OS_PARAM_TEXT ? OS_PARAM_TEXT_MAX : 0;
            return NULL;
        }
    }
    return apr_psprintf(p,
                        "%s: \"%s\" is not a type: int, numeric, date, "
                        "timestamptz, bool or text",
                        d->name, os_params_shown(type, p));
}

static const char *declare_maxlength(os_param_decl *d, const char *v,
                                     apr_pool_t *p)
{
    char *end;
    apr_int64_t n;

    if (d->type != OS_PARAM_TEXT) {
        return apr_psprintf(p, "%s: maxlength= is for text parameters only",
                            d->name);
    }
    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (!apr_isdigit(*v) || errno || *end || n < 1
        || n > OS_TEXT_MAXLENGTH_MAX) {
        return apr_psprintf(p,
                            "%s: maxlength= wants a whole number from 1 to "
                            "%d, got \"%s\"",
                            d->name, OS_TEXT_MAXLENGTH_MAX,
                            os_params_shown(v, p));
    }
    d->maxlength = (int)n;
    return NULL;
}

/* The options after the type; default= is checked once maxlength= is
 * known. expr= is kept as text: parsing it needs httpd (os_config.c). */
static const char *declare_options(os_param_decl *d, int argc,
                                   char *const argv[], const char **dflt,
                                   apr_pool_t *p)
{
    const char *err;
    int i;

    for (i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (!strcasecmp(o, "required")) {
            d->required = 1;
        }
        else if (!strncasecmp(o, "default=", 8)) {
            *dflt = o + 8;
        }
        else if (!strncasecmp(o, "maxlength=", 10)) {
            if ((err = declare_maxlength(d, o + 10, p)) != NULL) {
                return err;
            }
        }
        else if (!strncasecmp(o, "expr=", 5)) {
            if (!o[5]) {
                return apr_psprintf(p, "%s: expr= needs an expression",
                                    d->name);
            }
            d->expr = o + 5;
        }
        else if (!strncasecmp(o, "claim=", 6)) {
            if (!o[6]) {
                return apr_psprintf(p, "%s: claim= needs a key", d->name);
            }
            d->claim = o + 6;
        }
        else {
            return apr_psprintf(p,
                                "%s: \"%s\" is not an option: required, "
                                "default=VALUE, maxlength=N, "
                                "expr=EXPRESSION or claim=KEY",
                                d->name, os_params_shown(o, p));
        }
    }
    if (d->expr && d->claim) {
        return apr_psprintf(p, "%s: expr= or claim=, not both", d->name);
    }
    return NULL;
}

const char *os_param_declare(os_param_decl *d, int argc, char *const argv[],
                             apr_pool_t *p)
{
    const char *err, *dflt = NULL;

    memset(d, 0, sizeof(*d));
    if (argc < 1 || (err = declare_name(d, argv[0], p)) != NULL) {
        return argc < 1 ? "give a name and a type" : err;
    }
    if (argc < 2) {
        return apr_psprintf(p,
                            "%s: give a type: int, numeric, date, "
                            "timestamptz, bool or text",
                            d->name);
    }
    if ((err = declare_type(d, argv[1], p)) != NULL
        || (err = declare_options(d, argc, argv, &dflt, p)) != NULL) {
        return err;
    }
    if (dflt && d->required) {
        return apr_psprintf(p, "%s: required and default= exclude each other",
                            d->name);
    }
    if (dflt && !*dflt) {
        return apr_psprintf(p, "%s: default= needs a value", d->name);
    }
    if (dflt && (d->dflt = check(d, dflt, p)) == NULL) {
        return apr_psprintf(p, "%s: default=%s is not %s", d->name,
                            os_params_shown(dflt, p), os_param_form(d, p));
    }
    return NULL;
}

/* ---- the query string --------------------------------------------------- */

/* A whole number from 0 to max into *out, or an error naming name. */
static const char *whole(const char *name, const char *v, apr_int64_t max,
                         apr_int64_t *out, apr_pool_t *p)
{
    char *end;

    errno = 0;
    *out = apr_strtoi64(v, &end, 10);
    if (!apr_isdigit(*v) || errno || *end || *out > max) {
        return apr_psprintf(
            p,
            "%s: expected a whole number from 0 to %" APR_INT64_T_FMT
            ", got \"%s\"",
            os_params_shown(name, p), max, os_params_shown(v, p));
    }
    return NULL;
}

/* offset or limit (bit 1 or 2 of *seen). */
static const char *preview(const char *name, const char *value,
                           const os_params_rules *rules, os_params *out,
                           unsigned *seen, apr_pool_t *p)
{
    unsigned bit = !strcmp(name, "offset") ? 1 : 2;
    apr_int64_t max;

    if (!*value) {
        return NULL; /* empty: absent, as an HTML form's empty field */
    }
    if (!rules->preview) {
        return apr_psprintf(p, "%s: previews are off for this export", name);
    }
    if (*seen & bit) {
        return apr_psprintf(p, "%s: given more than once", name);
    }
    *seen |= bit;
    max = bit == 2 && rules->max_limit ? rules->max_limit : APR_INT64_MAX;
    return whole(name, value, max, bit == 1 ? &out->offset : &out->limit, p);
}

/* ?format= (bit 4 of *seen): one of the formats the export allows. */
static const char *format(const char *value, const os_params_rules *rules,
                          os_params *out, unsigned *seen, apr_pool_t *p)
{
    unsigned allowed = rules->formats ? rules->formats : OS_FMT_ALL;

    if (!*value) {
        return NULL; /* empty: absent */
    }
    if (*seen & 4) {
        return "format: given more than once";
    }
    *seen |= 4;
    out->format = os_format_by_name(value);
    if (!(out->format & allowed)) {
        return apr_psprintf(p, "format: expected one of %s, got \"%s\"",
                            os_format_list(allowed, p),
                            os_params_shown(value, p));
    }
    return NULL;
}

/* The declaration called name, or -1. */
static int find_decl(const os_params_rules *rules, const char *name)
{
    int i;

    for (i = 0; rules->decls && i < rules->decls->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(rules->decls, i, os_param_decl).name,
                    name)) {
            return i;
        }
    }
    return -1;
}

const char *os_params_each(const char *args, os_params_pair_fn *fn, void *ctx,
                           apr_pool_t *p)
{
    char *copy = apr_pstrdup(p, args ? args : ""), *pair, *value, *state;
    const char *sent, *err;

    for (pair = apr_strtok(copy, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        if ((value = strchr(pair, '=')) != NULL) {
            *value++ = '\0';
        }
        /* unescape() stops half way on a bad escape: name it as sent */
        sent = apr_pstrdup(p, pair);
        if (!unescape(pair)) {
            return apr_psprintf(p, "%s: badly escaped",
                                os_params_shown(sent, p));
        }
        if (value && !unescape(value)) {
            return apr_psprintf(p, "%s: badly escaped",
                                os_params_shown(pair, p));
        }
        /* "?since" is "?since=": absent */
        if ((err = fn(pair, value ? value : "", ctx, p)) != NULL) {
            return err;
        }
    }
    return NULL;
}

/* What os_params_parse is filling in. */
typedef struct os_parse {
    const os_params_rules *rules;
    os_params *out;
    unsigned seen; /* offset, limit, format: bits 1, 2, 4 */
    char *given;   /* the declared ones seen */
} os_parse;

/* One name=value pair of an export's query string. */
static const char *one(const char *name, const char *value, void *ctx,
                       apr_pool_t *p)
{
    os_parse *ps = ctx;
    const os_params_rules *rules = ps->rules;
    int i;

    if (!strcmp(name, "offset") || !strcmp(name, "limit")) {
        return preview(name, value, rules, ps->out, &ps->seen, p);
    }
    if (!strcmp(name, "format")) {
        return format(value, rules, ps->out, &ps->seen, p);
    }
    if (rules->token_param && !strcmp(name, rules->token_param)) {
        return NULL; /* os_handoff.c's */
    }
    if ((i = find_decl(rules, name)) < 0) {
        return apr_psprintf(p, "%s: not a parameter of this export",
                            os_params_shown(name, p));
    }
    /* Even empty: a link that names a request-bound parameter was made
     * in the belief that it could choose the value, and cannot. */
    if (APR_ARRAY_IDX(rules->decls, i, os_param_decl).expr
        || APR_ARRAY_IDX(rules->decls, i, os_param_decl).claim) {
        return apr_psprintf(p,
                            "%s: set by the server, not by the query "
                            "string",
                            name);
    }
    /* Empty is absent, so "?since=&since=2023-01-01" (a form's empty
     * field, then the value) is since=2023-01-01; two values stay a 400. */
    if (!*value) {
        return NULL;
    }
    if (ps->given[i]) {
        return apr_psprintf(p, "%s: given more than once", name);
    }
    ps->given[i] = 1;
    return os_param_value(&APR_ARRAY_IDX(rules->decls, i, os_param_decl),
                          value, &ps->out->values[i], p);
}

/* Absent parameters: their default, SQL NULL, or a 400 when required. */
static const char *absent(const os_params_rules *rules, os_params *out,
                          apr_pool_t *p)
{
    int i;

    for (i = 0; i < out->nvalues; i++) {
        const os_param_decl *d =
            &APR_ARRAY_IDX(rules->decls, i, os_param_decl);
        if (out->values[i] || d->expr || d->claim) {
            continue; /* given, or the server's (os_params_server) */
        }
        if (d->required) {
            return apr_psprintf(p, "%s: missing; expected %s", d->name,
                                os_param_form(d, p));
        }
        out->values[i] = d->dflt;
    }
    return NULL;
}

const char *os_params_parse(const char *args, const os_params_rules *rules,
                            os_params *out, apr_pool_t *p)
{
    os_parse ps = { rules, out, 0, NULL };
    const char *err;

    out->offset = 0;
    out->limit = -1;
    out->format = OS_FMT_NONE;
    out->nvalues = rules->decls ? rules->decls->nelts : 0;
    out->values = apr_pcalloc(p, sizeof(*out->values) * (out->nvalues + 1));
    ps.given = apr_pcalloc(p, (apr_size_t)out->nvalues + 1);
    if ((err = os_params_each(args, one, &ps, p)) != NULL) {
        return err;
    }
    return absent(rules, out, p);
}

const char *os_params_server(const os_params_rules *rules, os_params *out,
                             int i, const char *v, int *missing, apr_pool_t *p)
{
    const os_param_decl *d = &APR_ARRAY_IDX(rules->decls, i, os_param_decl);

    *missing = 0;
    out->values[i] = NULL;
    if (v && *v) {
        return os_param_value(d, v, &out->values[i], p);
    }
    if (d->required) {
        *missing = 1;
        return apr_psprintf(p, "%s: missing", d->name);
    }
    out->values[i] = d->dflt;
    return NULL;
}
