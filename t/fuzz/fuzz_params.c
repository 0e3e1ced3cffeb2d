/* fuzz_params.c: the query string of an export, os_params_parse, and
 * through it every OrderStreamParam type (src/export/os_params.c).
 *
 * The input is the query string (r->args). It is parsed under three sets
 * of rules: a preview Location declaring a parameter of every type (text
 * with a small maxlength, to reach the limit), one with previews off and
 * required parameters and defaults of every type, and one with no
 * declarations and a limit cap. Each parse must give either a message fit
 * for a 400 body and a log line (printable ASCII, bounded: the input is
 * echoed at most 64 bytes a value), or values that:
 * - are what their type allows, checked here independently of
 *   src/export/os_params.c (a bigint without sign or leading zero, a calendar
 *   date, a timestamp with its offset, "true"/"false", UTF-8 text within
 *   maxlength characters);
 * - are normalised: os_param_value gives each back unchanged;
 * - are NULL only where nothing is required and there is no default,
 *   and always NULL for a parameter the server sets (expr=), which the
 *   query string may not name at all;
 * and offset, limit and format within what the Location allows.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "fuzz.h"
#include "os_params.h"

/* The longest message a parse may return: the longest fixed text, a
 * declared name and 64 input bytes shown as \xNN. */
#define MESSAGE_MAX 512

typedef struct ruleset {
    int preview;
    apr_int64_t max_limit;
    unsigned formats;
    const char *const *lines; /* OrderStreamParam arguments */
    os_params_rules rules;
} ruleset;

/* The names the unit tests' query strings use, so that seeds reach them. */
static const char *const every_type[] = {
    "since date",    "until date", "email text",         "i int", "x numeric",
    "t timestamptz", "b bool",     "s text maxlength=3", NULL
};
static const char *const required_and_defaults[] = {
    "n int required",
    "b bool default=yes",
    "t timestamptz default=2024-05-01",
    "x numeric default=-1.50",
    "d date default=2024-02-29",
    "s text maxlength=2 default=ab",
    "i int default=-0042",
    "who text expr=%{REMOTE_USER} required",
    NULL
};
static const char *const none[] = { NULL };

static ruleset sets[] = {
    { 1, 0, OS_FMT_ALL, every_type, { 0 } },
    { 0, 0, 0, required_and_defaults, { 0 } },
    { 1, 100, OS_FMT_CSV | OS_FMT_NDJSON, none, { 0 } },
};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

void fuzz_setup(apr_pool_t *p)
{
    size_t s;

    for (s = 0; s < NSETS; s++) {
        apr_array_header_t *decls =
            apr_array_make(p, 8, sizeof(os_param_decl));
        const char *const *l;
        for (l = sets[s].lines; *l; l++) {
            char *copy = apr_pstrdup(p, *l), *argv[4], *state, *w;
            int argc = 0;
            for (w = apr_strtok(copy, " ", &state); w && argc < 4;
                 w = apr_strtok(NULL, " ", &state)) {
                argv[argc++] = w;
            }
            FUZZ_CHECK(
                !os_param_declare(apr_array_push(decls), argc, argv, p));
        }
        sets[s].rules.preview = sets[s].preview;
        sets[s].rules.max_limit = sets[s].max_limit;
        sets[s].rules.formats = sets[s].formats;
        sets[s].rules.decls = decls->nelts ? decls : NULL;
    }
}

/* n decimal digits at s, from lo to hi, into *out. */
static int num(const char *s, int n, int lo, int hi, int *out)
{
    int i;

    for (*out = 0, i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
        *out = *out * 10 + (s[i] - '0');
    }
    return *out >= lo && *out <= hi;
}

/* YYYY-MM-DD of the proleptic Gregorian calendar, year 1 to 9999. */
static int calendar_date(const char *v)
{
    int y, m, d, leap, days;

    if (!num(v, 4, 1, 9999, &y) || v[4] != '-' || !num(v + 5, 2, 1, 12, &m)
        || v[7] != '-') {
        return 0;
    }
    leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    days = m == 2 ? 28 + leap : 30 + ((m + (m > 7)) & 1);
    return num(v + 8, 2, 1, days, &d);
}

/* YYYY-MM-DD HH:MM:SS[.f{1,6}]+HH:MM (or -), offset at most 15:59. */
static int timestamp(const char *v)
{
    int x;
    size_t frac;
    const char *z;

    if (strlen(v) < 25 || !calendar_date(v) || v[10] != ' '
        || !num(v + 11, 2, 0, 23, &x) || v[13] != ':'
        || !num(v + 14, 2, 0, 59, &x) || v[16] != ':'
        || !num(v + 17, 2, 0, 59, &x)) {
        return 0;
    }
    z = v + 19;
    if (*z == '.') {
        frac = strspn(z + 1, "0123456789");
        if (frac < 1 || frac > 6) {
            return 0;
        }
        z += 1 + frac;
    }
    return (*z == '+' || *z == '-') && num(z + 1, 2, 0, 15, &x) && z[3] == ':'
        && num(z + 4, 2, 0, 59, &x) && !z[6];
}

/* 0, or -?[1-9][0-9]* within bigint. */
static int bigint(const char *v)
{
    const char *d = v + (*v == '-');
    size_t n = strlen(d);

    if (!strcmp(v, "0")) {
        return 1;
    }
    if (!n || n > 19 || *d < '1' || *d > '9' || strspn(d, "0123456789") != n) {
        return 0;
    }
    return n < 19
        || strcmp(d, *v == '-' ? "9223372036854775808" : "9223372036854775807")
        <= 0;
}

/* [+-](digits[.digits] | .digits), at most 1000 characters. */
static int numeric(const char *v)
{
    const char *s = v + (*v == '+' || *v == '-');
    size_t whole = strspn(s, "0123456789"), frac = 0;

    if (s[whole] == '.') {
        frac = strspn(s + whole + 1, "0123456789");
        s += 1;
    }
    return (whole || frac) && !s[whole + frac] && strlen(v) <= 1000;
}

/* UTF-8 of at most max characters. */
static int text(const char *v, int max)
{
    size_t n = strlen(v), i;
    int chars = 0;

    for (i = 0; i < n; i++) {
        chars += ((unsigned char)v[i] & 0xc0) != 0x80;
    }
    return fuzz_utf8(v, n) && chars <= max;
}

/* v is a value of d's type, as this file reads the type. */
static int of_type(const os_param_decl *d, const char *v)
{
    switch (d->type) {
    case OS_PARAM_INT:
        return bigint(v);
    case OS_PARAM_NUMERIC:
        return numeric(v);
    case OS_PARAM_DATE:
        return strlen(v) == 10 && calendar_date(v);
    case OS_PARAM_TIMESTAMPTZ:
        return timestamp(v);
    case OS_PARAM_BOOL:
        return !strcmp(v, "true") || !strcmp(v, "false");
    case OS_PARAM_TEXT:
        return *v && text(v, d->maxlength);
    }
    return 0;
}

static void check_message(const char *err)
{
    const char *c;

    FUZZ_CHECK(strlen(err) <= MESSAGE_MAX && strstr(err, ": "));
    for (c = err; *c; c++) {
        FUZZ_CHECK(*c >= 0x20 && *c <= 0x7e);
    }
}

static void check_values(const os_params_rules *rules, const os_params *out,
                         apr_pool_t *p)
{
    int n = rules->decls ? rules->decls->nelts : 0, i;
    unsigned allowed = rules->formats ? rules->formats : OS_FMT_ALL;

    FUZZ_CHECK(out->offset >= 0);
    FUZZ_CHECK(out->limit >= -1);
    FUZZ_CHECK(!rules->max_limit || out->limit <= rules->max_limit);
    FUZZ_CHECK(rules->preview || (out->offset == 0 && out->limit == -1));
    FUZZ_CHECK(!out->format || (out->format & allowed));
    FUZZ_CHECK(out->nvalues == n);
    for (i = 0; i < n; i++) {
        const os_param_decl *d =
            &APR_ARRAY_IDX(rules->decls, i, os_param_decl);
        const char *v = out->values[i], *again = NULL;
        if (d->expr) {
            FUZZ_CHECK(!v);
            continue;
        }
        if (!v) {
            FUZZ_CHECK(!d->required && !d->dflt);
            continue;
        }
        FUZZ_CHECK(of_type(d, v));
        FUZZ_CHECK(!os_param_value(d, v, &again, p));
        FUZZ_CHECK(again && !strcmp(again, v));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args = fuzz_cstr(data, size);
    apr_pool_t *p = fuzz_pool();
    size_t s;

    for (s = 0; s < NSETS; s++) {
        os_params out;
        const char *err = os_params_parse(args, &sets[s].rules, &out, p);
        if (err) {
            check_message(err);
        }
        else {
            check_values(&sets[s].rules, &out, p);
        }
    }
    apr_pool_destroy(p);
    free(args);
    return 0;
}
