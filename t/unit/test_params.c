/* test_params.c: unit tests of the query-string parser (src/os_params.c),
 * no server needed. Prints one line per failure and a closing
 * "N passed, N failed" line; exits non-zero on any failure. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>

#include "../../src/os_params.h"

static int passed, failed;
static apr_pool_t *pool;

/* want_err: the expected message, or NULL for success with off/lim. */
static void check(const char *args, int preview, apr_int64_t max,
                  const char *want_err, apr_int64_t off, apr_int64_t lim)
{
    os_params_rules rules = { preview, max };
    os_params out;
    const char *err = os_params_parse(args, &rules, &out, pool);
    int ok = want_err ? err && !strcmp(err, want_err)
                      : !err && out.offset == off && out.limit == lim;

    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL [%s]: got %s offset=%" APR_INT64_T_FMT
           " limit=%" APR_INT64_T_FMT ", want %s\n",
           args ? args : "(null)", err ? err : "(ok)", out.offset, out.limit,
           want_err ? want_err : "(ok)");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);

    check(NULL, 1, 0, NULL, 0, -1);
    check("", 1, 0, NULL, 0, -1);
    check("offset=5", 1, 0, NULL, 5, -1);
    check("limit=0", 1, 0, NULL, 0, 0);
    check("offset=3&limit=7", 1, 0, NULL, 3, 7);
    check("limit=100", 1, 100, NULL, 0, 100);
    check("li%6Dit=1%30", 1, 0, NULL, 0, 10);
    check("limit=101", 1, 100,
          "limit: expected a whole number from 0 to "
          "100, got \"101\"",
          0, 0);
    check("limit=abc", 1, 100,
          "limit: expected a whole number from 0 to "
          "100, got \"abc\"",
          0, 0);
    check("offset=-1", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \"-1\"",
          0, 0);
    check("offset=+1", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \" 1\"",
          0, 0);
    check("offset=", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \"\"",
          0, 0);
    check("offset", 1, 0,
          "offset: expected a whole number from 0 to "
          "9223372036854775807, got \"\"",
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
    check("foo=1", 1, 0, "foo: not a parameter of this export", 0, 0);
    check("format=csv", 1, 0, "format: not a parameter of this export", 0, 0);
    check("limit=5", 0, 0, "limit: previews are off for this export", 0, 0);
    check("offset=%zz", 1, 0, "offset: badly escaped", 0, 0);
    check("offset=%00", 1, 0, "offset: badly escaped", 0, 0);
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

    printf("%d passed, %d failed\n", passed, failed);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
