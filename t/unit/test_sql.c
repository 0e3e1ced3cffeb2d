/* test_sql.c: unit tests of the placeholder scanner (src/db/os_sql.c), no
 * server needed. Prints one line per failure and a closing
 * "N passed, N failed" line; exits non-zero on any failure. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "os_sql.h"

static int passed, failed;
static apr_pool_t *pool;

/* want: the placeholders found, as "1,2,5" ("" for none), or the start of
 * the expected error message prefixed with "!". */
static void check(const char *sql, const char *want)
{
    apr_array_header_t *found;
    const char *err = os_sql_placeholders(sql, &found, pool);
    const char *got = "";
    int i, ok;

    if (err) {
        got = apr_pstrcat(pool, "!", err, NULL);
        ok = *want == '!' && !strncmp(got, want, strlen(want));
    }
    else {
        for (i = 0; i < found->nelts; i++) {
            got = apr_psprintf(pool, "%s%s%d", got, i ? "," : "",
                               APR_ARRAY_IDX(found, i, int));
        }
        ok = !strcmp(got, want);
    }
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL [%s]: got %s, want %s\n", sql, got, want);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    check("SELECT 1", "");
    check("SELECT $1", "1");
    check("SELECT $2, $1, $2::int, ($1)", "1,2");
    check("SELECT * FROM t WHERE a = $10 AND b = $3", "3,10");
    check("SELECT $1::date + 1", "1");
    check("SELECT $1+$2", "1,2");
    /* not SQL text: strings, identifiers, comments, dollar quotes */
    check("SELECT '$1', $2", "2");
    check("SELECT 'it''s $1', $2", "2");
    check("SELECT E'\\'$1', $2", "2");
    check("SELECT e'a\\\\', $3", "3");
    check("SELECT 'a\\', $3", "3"); /* a backslash ends nothing in '...' */
    check("SELECT \"$1\", \"a\"\"$2\", $3", "3");
    check("SELECT 1 -- $1\n, $2", "2");
    check("SELECT 1 -- $1", "");
    check("SELECT /* $1 /* $2 */ $3 */ $4", "4");
    check("SELECT $$ $1 $$, $2", "2");
    check("SELECT $tag$ $1 $$ $2 $tag$, $3", "3");
    check("SELECT $a1$ $1 $a1$, $2", "2");
    check("SELECT a$1, b$$, $2 FROM t", "2");
    check("SELECT \xc3\xa9$1 FROM t", ""); /* é starts an identifier */
    check("SELECT 100%, '%', $1", "1");
    check("SELECT 1e5, 1.5, $1", "1");
    /* mistakes */
    check("SELECT 'abc", "!unterminated quoted string");
    check("SELECT E'abc\\'", "!unterminated quoted string");
    check("SELECT \"abc", "!unterminated quoted identifier");
    check("SELECT /* /* */ 1", "!unterminated comment");
    check("SELECT $x$ 1 $y$", "!unterminated dollar-quoted string");
    check("SELECT $0", "!$0 is not a placeholder");
    check("SELECT $65535", "65535");
    check("SELECT $65536", "!$65536 is not a placeholder");
    check("SELECT $99999999999999999999", "!$99999999999999999999 is not");

    printf("%d passed, %d failed\n", passed, failed);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
