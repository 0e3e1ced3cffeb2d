/* fuzz_sql.c: the placeholder scanner, os_sql_placeholders, and the sort
 * key check, os_sql_leading_key (src/db/os_sql.c).
 *
 * The input is an OrderStreamSQL text. The scan must give either a
 * message, or placeholders that are distinct, ascending, from 1 to
 * OS_SQL_MAX_PARAM, each written in the text as "$" and digits of its
 * value. And what is not SQL text must not count: the same text after a
 * block comment holding a placeholder, or followed by a line comment
 * holding one, gives the same answer.
 *
 * The sort key check must answer yes (NULL) or a one-line message of
 * bounded length, and the same yes or no for the text after a block
 * comment that says ORDER BY 1, or followed by a ";" on a line of its
 * own. A yes means the text lexes, so the placeholder scan does not find
 * it unterminated.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "fuzz.h"
#include "os_sql.h"

/* Whether sql has "$" followed by digits that make n. */
static int written(const char *sql, int n)
{
    const char *s;

    for (s = strchr(sql, '$'); s; s = strchr(s + 1, '$')) {
        long v = 0;
        const char *d = s + 1;
        while (*d >= '0' && *d <= '9' && v <= OS_SQL_MAX_PARAM) {
            v = v * 10 + (*d++ - '0');
        }
        if (d > s + 1 && (*d < '0' || *d > '9') && v == n) {
            return 1;
        }
    }
    return 0;
}

static int same(const apr_array_header_t *a, const apr_array_header_t *b)
{
    return a->nelts == b->nelts
        && !memcmp(a->elts, b->elts, (size_t)a->nelts * sizeof(int));
}

/* Whether err is one line of a bounded length: two quotes of about 60
 * bytes and the words around them. */
static int one_line(const char *err)
{
    const char *c;

    for (c = err; *c; c++) {
        if ((unsigned char)*c < 0x20) {
            return 0;
        }
    }
    return *err && c - err < 300;
}

/* The properties of os_sql_leading_key on sql; placeholders_err is what
 * os_sql_placeholders said of it. */
static void leading_key(const char *sql, const char *placeholders_err,
                        apr_pool_t *p)
{
    const char *key, *key2;

    key = os_sql_leading_key(sql, p);
    FUZZ_CHECK(!key || one_line(key));
    FUZZ_CHECK(key || !placeholders_err
               || strncmp(placeholders_err, "unterminated", 12));
    key2 =
        os_sql_leading_key(apr_pstrcat(p, "/* ORDER BY 1 */ ", sql, NULL), p);
    FUZZ_CHECK(!key == !key2);
    key2 = os_sql_leading_key(apr_pstrcat(p, sql, "\n;", NULL), p);
    FUZZ_CHECK(!key == !key2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = fuzz_cstr(data, size);
    apr_pool_t *p = fuzz_pool();
    apr_array_header_t *found, *again;
    const char *err, *err2;
    int i;

    err = os_sql_placeholders(sql, &found, p);
    if (err) {
        FUZZ_CHECK(*err);
    }
    else {
        for (i = 0; i < found->nelts; i++) {
            int n = APR_ARRAY_IDX(found, i, int);
            FUZZ_CHECK(n >= 1 && n <= OS_SQL_MAX_PARAM);
            FUZZ_CHECK(i == 0 || APR_ARRAY_IDX(found, i - 1, int) < n);
            FUZZ_CHECK(written(sql, n));
        }
    }
    err2 = os_sql_placeholders(apr_pstrcat(p, "/* $7 /* $8 */ */ ", sql, NULL),
                               &again, p);
    FUZZ_CHECK(!err == !err2 && (err || same(found, again)));
    err2 =
        os_sql_placeholders(apr_pstrcat(p, sql, "\n-- $9", NULL), &again, p);
    FUZZ_CHECK(!err == !err2 && (err || same(found, again)));
    leading_key(sql, err, p);
    apr_pool_destroy(p);
    free(sql);
    return 0;
}
