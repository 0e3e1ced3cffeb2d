/* test_params.c: unit tests of the query-string parser and the
 * OrderStreamParam types (src/export/os_params.c), no server needed. Prints one
 * line per failure and a closing "N passed, N failed" line; exits non-zero
 * on any failure. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "os_params.h"

static int passed, failed;
static apr_pool_t *pool;

static void result(int ok, const char *what, const char *got, const char *want)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL [%s]: got %s, want %s\n", what, got ? got : "(null)",
           want ? want : "(null)");
}

/* offset/limit alone. want_err: the expected message, or NULL for success
 * with off/lim. */
static void check(const char *args, int preview, apr_int64_t max,
                  const char *want_err, apr_int64_t off, apr_int64_t lim)
{
    os_params_rules rules = { preview, max, NULL, OS_FMT_CSV | OS_FMT_NDJSON,
                              NULL };
    os_params out;
    const char *err = os_params_parse(args, &rules, &out, pool);
    int ok = want_err ? err && !strcmp(err, want_err)
                      : !err && out.offset == off && out.limit == lim;

    result(ok, args ? args : "(null)",
           err ? err
               : apr_psprintf(
                   pool, "offset=%" APR_INT64_T_FMT " limit=%" APR_INT64_T_FMT,
                   out.offset, out.limit),
           want_err ? want_err
                    : apr_psprintf(pool,
                                   "offset=%" APR_INT64_T_FMT
                                   " limit=%" APR_INT64_T_FMT,
                                   off, lim));
}

/* Declares one parameter from a directive line ("since date required"). */
static const char *declare(os_param_decl *d, const char *line)
{
    char *copy = apr_pstrdup(pool, line), *state, *w;
    char *argv[16];
    int argc = 0;

    for (w = apr_strtok(copy, " ", &state); w && argc < 16;
         w = apr_strtok(NULL, " ", &state)) {
        argv[argc++] = w;
    }
    return os_param_declare(d, argc, argv, pool);
}

/* OrderStreamParam line: want_err NULL means it must be accepted. */
static void decl(const char *line, const char *want_err)
{
    os_param_decl d;
    const char *err = declare(&d, line);

    result(want_err ? err && !strcmp(err, want_err) : !err, line,
           err ? err : "(ok)", want_err ? want_err : "(ok)");
}

/* One value of type line's: want the normalised value, or NULL for a
 * rejection whose message must then be 'NAME: expected FORM, got "V"'. */
static void value(const char *line, const char *v, const char *want)
{
    os_param_decl d;
    const char *out = NULL, *err;
    char *what = apr_psprintf(pool, "%s <- \"%s\"", line, v);

    if (declare(&d, line)) {
        result(0, what, "declaration refused", "accepted");
        return;
    }
    err = os_param_value(&d, v, &out, pool);
    if (want) {
        result(!err && out && !strcmp(out, want), what, err ? err : out, want);
    }
    else {
        result(err && !strncmp(err, d.name, strlen(d.name))
                   && strstr(err, ": expected ")
                   && strstr(err, os_param_form(&d, pool)),
               what, err ? err : out, "a rejection naming the form");
    }
}

/* A whole query string against declarations: want_err, or the bound
 * values joined with "|" (NULL shown as "NULL"). */
static void parse(const char *const *lines, const char *args, const char *want)
{
    apr_array_header_t *decls = apr_array_make(pool, 4, sizeof(os_param_decl));
    os_params_rules rules = { 1, 0, decls, 0, NULL };
    os_params out;
    const char *err, *got = "";
    int i;

    for (; *lines; lines++) {
        if (declare(apr_array_push(decls), *lines)) {
            result(0, *lines, "declaration refused", "accepted");
            return;
        }
    }
    err = os_params_parse(args, &rules, &out, pool);
    if (!err) {
        for (i = 0; i < out.nvalues; i++) {
            got = apr_pstrcat(pool, got, i ? "|" : "",
                              out.values[i] ? out.values[i] : "NULL", NULL);
        }
    }
    result(!strcmp(err ? err : got, want), args, err ? err : got, want);
}

static void test_preview(void)
{
    check(NULL, 1, 0, NULL, 0, -1);
    check("", 1, 0, NULL, 0, -1);
    check("offset=5", 1, 0, NULL, 5, -1);
    check("limit=0", 1, 0, NULL, 0, 0);
    check("offset=3&limit=7", 1, 0, NULL, 3, 7);
    check("limit=100", 1, 100, NULL, 0, 100);
    check("li%6Dit=1%30", 1, 0, NULL, 0, 10);
    /* An empty field of an HTML form is absent, as is a bare name. */
    check("offset=&limit=", 1, 0, NULL, 0, -1);
    check("offset&limit=4", 1, 0, NULL, 0, 4);
    check("limit=101", 1, 100,
          "limit: expected a whole number from 0 to 100, got \"101\"", 0, 0);
    check("limit=abc", 1, 100,
          "limit: expected a whole number from 0 to 100, got \"abc\"", 0, 0);
    check("offset=-1", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \"-1\"",
          0, 0);
    check("offset=+1", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \" 1\"",
          0, 0);
    check("offset=1.5", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \"1.5\"",
          0, 0);
    check("offset=99999999999999999999", 1, 0,
          "offset: expected a whole number from 0 to 9223372036854775807, "
          "got \"99999999999999999999\"",
          0, 0);
    check("limit=1&limit=2", 1, 0, "limit: given more than once", 0, 0);
    /* Empty is absent everywhere: a form's empty field, then a value. */
    check("limit=&limit=2", 1, 0, NULL, 0, 2);
    check("limit=2&limit=", 1, 0, NULL, 0, 2);
    check("limit=&limit=", 1, 0, NULL, 0, -1);
    check("offset=&offset=3&limit=&limit=2", 1, 0, NULL, 3, 2);
    check("format=&format=csv&format=", 1, 0, NULL, 0, -1);
    check("limit=", 0, 0, NULL, 0, -1);
    check("offset=&limit=", 0, 0, NULL, 0, -1);
    check("foo=1", 1, 0, "foo: not a parameter of this export", 0, 0);
    check("format=csv&limit=1", 1, 0, NULL, 0, 1);
    check("format=NDJSON", 1, 0, NULL, 0, -1);
    check("format=", 1, 0, NULL, 0, -1);
    check("format=tsv", 1, 0,
          "format: expected one of csv, ndjson, got \"tsv\"", 0, 0);
    check("format=xml", 1, 0,
          "format: expected one of csv, ndjson, got \"xml\"", 0, 0);
    check("format=csv&format=csv", 1, 0, "format: given more than once", 0, 0);
    check("limit=5", 0, 0, "limit: previews are off for this export", 0, 0);
    check("offset=%zz", 1, 0, "offset: badly escaped", 0, 0);
    check("offset=%00", 1, 0, "offset: badly escaped", 0, 0);
    check("a%41%zz=1", 1, 0, "a%41%zz: badly escaped", 0, 0);
    check("of%66set=%zz", 1, 0, "offset: badly escaped", 0, 0);
    check("limit=1;DROP TABLE x", 1, 0,
          "limit: expected a whole number from 0 to 9223372036854775807, "
          "got \"1;DROP TABLE x\"",
          0, 0);
    check("&&limit=2&", 1, 0, NULL, 0, 2);
    check("limit=1%0D%0AX-Injected:%20yes", 1, 0,
          "limit: expected a whole number from 0 to 9223372036854775807, "
          "got \"1\\x0d\\x0aX-Injected: yes\"",
          0, 0);
    check("limit=%FF%FE1", 1, 0,
          "limit: expected a whole number from 0 to 9223372036854775807, "
          "got \"\\xff\\xfe1\"",
          0, 0);
    check("f%C3%B6o=1", 1, 0, "f\\xc3\\xb6o: not a parameter of this export",
          0, 0);
    check("limit=1234567890123456789012345678901234567890123456789012345678901"
          "234567890",
          1, 0,
          "limit: expected a whole number from 0 to 9223372036854775807, got "
          "\"1234567890123456789012345678901234567890123456789012345678901234"
          "...\"",
          0, 0);
}

static void test_declare(void)
{
    decl("since date", NULL);
    decl("_x9 int required", NULL);
    decl("n numeric default=-1.50", NULL);
    decl("t timestamptz default=2024-05-01", NULL);
    decl("b bool default=YES", NULL);
    decl("s text maxlength=3 default=abc", NULL);
    decl("s TEXT maxlength=65536", NULL);
    decl("since",
         "since: give a type: int, numeric, date, timestamptz, bool "
         "or text");
    decl("since day",
         "since: \"day\" is not a type: int, numeric, date, timestamptz, "
         "bool or text");
    decl("9lives int",
         "\"9lives\" is not a parameter name: use letters, "
         "digits and _, not starting with a digit, at most 64");
    decl("a-b int",
         "\"a-b\" is not a parameter name: use letters, digits "
         "and _, not starting with a digit, at most 64");
    decl("offset int",
         "\"offset\" is reserved (offset, limit and format are "
         "the module's own)");
    decl("limit int",
         "\"limit\" is reserved (offset, limit and format are "
         "the module's own)");
    decl("format text",
         "\"format\" is reserved (offset, limit and format "
         "are the module's own)");
    decl("a int required default=1",
         "a: required and default= exclude each other");
    decl("a int default=", "a: default= needs a value");
    decl("a int default=x", "a: default=x is not a whole number such as 42");
    decl("a date default=2023-02-29",
         "a: default=2023-02-29 is not a date YYYY-MM-DD");
    decl("s text maxlength=2 default=abc",
         "s: default=abc is not UTF-8 text of at most 2 characters");
    decl("a int maxlength=3", "a: maxlength= is for text parameters only");
    decl("s text maxlength=0",
         "s: maxlength= wants a whole number from 1 to "
         "65536, got \"0\"");
    decl("s text maxlength=65537",
         "s: maxlength= wants a whole number from "
         "1 to 65536, got \"65537\"");
    decl("s text often",
         "s: \"often\" is not an option: required, default=VALUE, "
         "maxlength=N, expr=EXPRESSION or claim=KEY");
    decl("email text claim=email required", NULL);
    decl("email text claim=", "email: claim= needs a key");
    decl("email text claim=a expr=b", "email: expr= or claim=, not both");
    decl("email text expr=%{REMOTE_USER} required maxlength=254", NULL);
    decl("store int expr=%{HTTP:X-Store} default=1", NULL);
    decl("email text expr=", "email: expr= needs an expression");
    decl("a1234567890123456789012345678901234567890123456789012345678901234 "
         "int",
         "\"a1234567890123456789012345678901234567890123456789012345678901"
         "23...\" is not a parameter name: use letters, digits and _, not "
         "starting with a digit, at most 64");
}

static void test_types(void)
{
    value("i int", "42", "42");
    value("i int", "-0042", "-42");
    value("i int", "+7", "7");
    value("i int", "9223372036854775807", "9223372036854775807");
    value("i int", "-9223372036854775808", "-9223372036854775808");
    value("i int", "9223372036854775808", NULL);
    value("i int", "1.0", NULL);
    value("i int", "1e3", NULL);
    value("i int", " 1", NULL);
    value("i int", "-", NULL);
    value("i int", "0x10", NULL);

    value("n numeric", "-12.50", "-12.50");
    value("n numeric", ".5", ".5");
    value("n numeric", "5.", "5.");
    value("n numeric", "+3", "+3");
    value("n numeric", ".", NULL);
    value("n numeric", "1e5", NULL);
    value("n numeric", "NaN", NULL);
    value("n numeric", "Infinity", NULL);
    value("n numeric", "1,5", NULL);
    value("n numeric", "1.2.3", NULL);

    value("d date", "2024-02-29", "2024-02-29");
    value("d date", "2000-02-29", "2000-02-29");
    value("d date", "1900-02-29", NULL);
    value("d date", "2023-02-29", NULL);
    value("d date", "2024-13-01", NULL);
    value("d date", "2024-04-31", NULL);
    value("d date", "0000-01-01", NULL);
    value("d date", "2024-1-01", NULL);
    value("d date", "2024-01-01T00:00", NULL);
    value("d date", "20240101", NULL);
    value("d date", "today", NULL);

    value("t timestamptz", "2024-05-01", "2024-05-01 00:00:00+00:00");
    value("t timestamptz", "2024-05-01T13:45", "2024-05-01 13:45:00+00:00");
    value("t timestamptz", "2024-05-01 13:45:07Z",
          "2024-05-01 13:45:07+00:00");
    value("t timestamptz", "2024-05-01T13:45:07.123456+02:00",
          "2024-05-01 13:45:07.123456+02:00");
    value("t timestamptz", "2024-05-01T13:45:07.5-0330",
          "2024-05-01 13:45:07.5-03:30");
    value("t timestamptz", "2024-05-01T13:45+05", "2024-05-01 13:45:00+05:00");
    value("t timestamptz", "2024-05-01T24:00", NULL);
    value("t timestamptz", "2024-05-01T13:60", NULL);
    value("t timestamptz", "2024-05-01T13:45:61", NULL);
    value("t timestamptz", "2024-05-01T13:45:07.1234567", NULL);
    value("t timestamptz", "2024-05-01T13:45:07.", NULL);
    value("t timestamptz", "2024-05-01T13:45+16:00", NULL);
    value("t timestamptz", "2024-05-01T13:45 UTC", NULL);
    value("t timestamptz", "2024-05-01T13", NULL);
    value("t timestamptz", "2024-05-01X13:45", NULL);

    value("b bool", "TRUE", "true");
    value("b bool", "on", "true");
    value("b bool", "1", "true");
    value("b bool", "No", "false");
    value("b bool", "f", "false");
    value("b bool", "2", NULL);
    value("b bool", "tru", NULL);

    value("s text", "' OR 1=1 --", "' OR 1=1 --");
    value("s text", "100% $1 \\", "100% $1 \\");
    value("s text",
          "Gr\xc3\xb6\xc3\x9f"
          "e \xf0\x9f\x98\x80",
          "Gr\xc3\xb6\xc3\x9f"
          "e \xf0\x9f\x98\x80");
    value("s text maxlength=3", "\xc3\xa4\xc3\xb6\xc3\xbc",
          "\xc3\xa4\xc3\xb6\xc3\xbc");
    value("s text maxlength=3", "abcd", NULL);
    value("s text", "\xff", NULL);
    value("s text", "\xc0\xaf", NULL);         /* overlong "/" */
    value("s text", "\xed\xa0\x80", NULL);     /* a surrogate */
    value("s text", "\xf4\x90\x80\x80", NULL); /* past U+10FFFF */
    value("s text", "abc\xe2\x82", NULL);      /* cut short */
}

/* A request-bound parameter (expr=): never from the query string, even
 * empty; left NULL by the parse, set by os_params_server. want: the
 * message, or the values joined as parse() joins them. */
static void server(const char *args, const char *v, const char *want,
                   int want_missing)
{
    static const char *const lines[] = {
        "since date", "email text expr=%{REMOTE_USER} required maxlength=5",
        "store int expr=%{HTTP:X-Store} default=7", NULL
    };
    apr_array_header_t *decls = apr_array_make(pool, 4, sizeof(os_param_decl));
    os_params_rules rules = { 1, 0, decls, 0, NULL };
    os_params out;
    const char *const *l;
    const char *err, *got = "";
    char *what = apr_psprintf(pool, "%s <- %s", args, v ? v : "(null)");
    int i, missing = -1;

    for (l = lines; *l; l++) {
        if (declare(apr_array_push(decls), *l)) {
            result(0, *l, "declaration refused", "accepted");
            return;
        }
    }
    err = os_params_parse(args, &rules, &out, pool);
    if (!err && (out.values[1] || out.values[2])) {
        result(0, what, "a request-bound value from the parse", "NULL");
        return;
    }
    if (!err) {
        err = os_params_server(&rules, &out, 1, v, &missing, pool);
    }
    if (!err) {
        err = os_params_server(&rules, &out, 2, NULL, &missing, pool);
    }
    if (!err) {
        for (i = 0; i < out.nvalues; i++) {
            got = apr_pstrcat(pool, got, i ? "|" : "",
                              out.values[i] ? out.values[i] : "NULL", NULL);
        }
    }
    result(!strcmp(err ? err : got, want)
               && (want_missing < 0 || missing == want_missing),
           what, err ? err : got, want);
}

static void test_server(void)
{
    server("since=2024-01-01", "a@b.c", "2024-01-01|a@b.c|7", 0);
    server("", "a@b", "NULL|a@b|7", 0);
    server("email=a@b", "a@b",
           "email: set by the server, not by the query "
           "string",
           -1);
    server("email=", "a@b",
           "email: set by the server, not by the query "
           "string",
           -1);
    server("email", "a@b",
           "email: set by the server, not by the query "
           "string",
           -1);
    server("store=3", "a@b",
           "store: set by the server, not by the query "
           "string",
           -1);
    server("", "", "email: missing", 1);
    server("", NULL, "email: missing", 1);
    server("", "abcdef",
           "email: expected UTF-8 text of at most 5 characters, got "
           "\"abcdef\"",
           0);
}

static void test_parse(void)
{
    static const char *const shop[] = { "since date", "until date",
                                        "email text", NULL };
    static const char *const req[] = { "n int required", "b bool default=yes",
                                       NULL };
    char *big = apr_palloc(pool, 10 * 1024 + 3);

    parse(shop, "", "NULL|NULL|NULL");
    parse(shop, "since=2024-01-01&until=2024-01-31",
          "2024-01-01|2024-01-31|NULL");
    parse(shop,
          "email=a%2Bb%40example.com&since=", "NULL|NULL|a+b@example.com");
    parse(shop, "email=+x+", "NULL|NULL| x ");
    parse(shop, "until&limit=3", "NULL|NULL|NULL");
    parse(shop, "since=2024-13-01",
          "since: expected a date YYYY-MM-DD, got \"2024-13-01\"");
    parse(shop, "since=2024-01-01&since=2024-01-02",
          "since: given more than once");
    parse(shop, "since=&since=2024-01-01", "2024-01-01|NULL|NULL");
    parse(shop, "since=2024-01-01&since=&until=&until=2024-02-01",
          "2024-01-01|2024-02-01|NULL");
    parse(shop, "since=&since=", "NULL|NULL|NULL");
    parse(shop, "Since=2024-01-01", "Since: not a parameter of this export");
    parse(shop, "email=%C3%28",
          "email: expected UTF-8 text of at most 256 characters, got "
          "\"\\xc3(\"");
    parse(shop, "email=a%00b", "email: badly escaped");
    parse(shop, "email=%27%20OR%201%3D1%20--", "NULL|NULL|' OR 1=1 --");
    memset(big, 'x', 10 * 1024);
    memcpy(big, "email=", 6);
    big[10 * 1024] = '\0';
    parse(shop, big,
          "email: expected UTF-8 text of at most 256 characters, got "
          "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
          "...\"");
    parse(req, "", "n: missing; expected a whole number such as 42");
    parse(req, "n=", "n: missing; expected a whole number such as 42");
    parse(req, "n=5", "5|true");
    parse(req, "b=off&n=-1", "-1|false");
    /* Given values are checked in order before missing ones are named. */
    parse(req, "b=maybe", "b: expected true or false, got \"maybe\"");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    test_preview();
    test_declare();
    test_types();
    test_parse();
    test_server();

    printf("%d passed, %d failed\n", passed, failed);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
