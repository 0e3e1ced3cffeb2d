/* test_sql.c: unit tests of the placeholder scanner and the leading sort
 * key check (src/db/os_sql.c), no server needed. Prints one line per failure
 * and a closing "N passed, N failed" line; exits non-zero on any failure. */
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

/* want: NULL when os_sql_leading_key must accept sql, else the start of
 * the message it must refuse it with. */
static void key(const char *sql, const char *want)
{
    const char *err = os_sql_leading_key(sql, pool);

    if (want ? err && !strncmp(err, want, strlen(want)) : !err) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL key [%s]: got %s, want %s\n", sql, err ? err : "(accepted)",
           want ? want : "(accepted)");
}

/* The shop's order items export (conf/orderstream.conf's is the same with
 * a parameter), the one OrderStreamParallel is for. */
#define SHOP                                                                  \
    "SELECT o.id, o.created_at, u.email, p.name, oi.price, oi.quantity, "     \
    "oi.price * oi.quantity AS total FROM shop_orderitem oi JOIN "            \
    "shop_order o ON o.id = oi.order_id JOIN auth_user u ON u.id = "          \
    "o.user_id JOIN shop_product p ON p.id = oi.product_id "

static void leading_key(void)
{
    /* conf/orderstream.conf's /exports/orders.csv, as shipped */
    key("SELECT o.id,\n"
        "    to_char(o.order_date AT TIME ZONE 'UTC', 'YYYY-MM-DD "
        "HH24:MI:SS'),\n"
        "    o.customer_email, p.name, p.price, i.quantity,\n"
        "    CAST(i.quantity * p.price AS numeric(12, 2))\n"
        "    FROM shop_orderitem i\n"
        "    JOIN shop_order o ON o.id = i.order_id\n"
        "    JOIN shop_product p ON p.id = i.product_id\n"
        "    WHERE ($1::date IS NULL\n"
        "           OR o.order_date >= $1::timestamp AT TIME ZONE 'UTC')\n"
        "      AND ($2::date IS NULL\n"
        "           OR o.order_date < ($2 + 1)::timestamp AT TIME ZONE "
        "'UTC')\n"
        "      AND ($3::text IS NULL OR o.customer_email = $3)\n"
        "    ORDER BY o.id, i.id",
        NULL);
    key(SHOP "ORDER BY o.id, oi.id", NULL);
    key(SHOP "ORDER BY o.id, oi.id LIMIT 5", NULL);
    key(SHOP "ORDER BY O . ID ASC NULLS LAST, oi.id", NULL);
    key(SHOP "ORDER BY o.created_at, o.id",
        "ORDER BY starts with \"o.created_at\", not the first column "
        "\"o.id\"");
    key(SHOP "ORDER BY 2", "ORDER BY starts with \"2\", not the first");
    key(SHOP "ORDER BY o.id DESC, oi.id",
        "ORDER BY o.id DESC: slices need ascending order");
    key(SHOP "ORDER BY o.id NULLS FIRST",
        "ORDER BY o.id NULLS FIRST: slices need NULLs last");
    key(SHOP "ORDER BY o.id ASC NULLS FIRST", "ORDER BY o.id ASC NULLS FIRST");
    key(SHOP "ORDER BY o.id USING <",
        "ORDER BY o.id USING <: slices need ascending order");
    key(SHOP "ORDER BY o.id DESC NULLS LAST", "ORDER BY o.id DESC NULLS");
    key(SHOP, "the query has no ORDER BY");
    key(SHOP "ORDER BY 1;", NULL);
    key(SHOP "ORDER BY 1; ;", NULL);
    key(SHOP "ORDER BY 1; DELETE FROM shop_order",
        "two statements: \"DELETE FROM shop_order\" follows");
    /* positions and names */
    key("SELECT a, b FROM t ORDER BY 1", NULL);
    key("SELECT a, b FROM t ORDER BY 001 asc", NULL);
    key("SELECT * FROM t ORDER BY 1", NULL);
    key("SELECT * FROM t ORDER BY id",
        "ORDER BY starts with \"id\", not "
        "the first column \"*\"");
    key("SELECT 2, a FROM t ORDER BY 2", "ORDER BY starts with \"2\"");
    key("SELECT a, b FROM t ORDER BY b", "ORDER BY starts with \"b\"");
    key("SELECT o.id AS order_id, o.total FROM o ORDER BY order_id", NULL);
    key("SELECT o.id AS order_id FROM o ORDER BY ORDER_ID", NULL);
    key("SELECT o.id oid, o.total FROM o ORDER BY oid", NULL);
    key("SELECT count(*) n, k FROM o GROUP BY k ORDER BY n", NULL);
    key("SELECT o.id AS \"Order ID\", 2 FROM o ORDER BY \"Order ID\"", NULL);
    key("SELECT o.id AS \"Order ID\" FROM o ORDER BY \"order id\"",
        "ORDER BY starts with \"\"order id\"\"");
    key("SELECT o.id AS \"Order ID\" FROM o ORDER BY order_id",
        "ORDER BY starts with \"order_id\"");
    key("SELECT o.id AS \"a\"\"b\" FROM o ORDER BY \"a\"\"b\"", NULL);
    key("SELECT o.id AS ID FROM o ORDER BY \"id\"", NULL);
    key("SELECT a.b.c FROM x ORDER BY c", NULL);
    key("SELECT a.b.c, d FROM x ORDER BY A.B.C", NULL);
    key("SELECT \"A\" FROM x ORDER BY a", "ORDER BY starts with \"a\"");
    /* the first item's text */
    key("SELECT oi.price * oi.quantity AS total, x FROM oi "
        "ORDER BY OI.PRICE*oi . quantity",
        NULL);
    key("SELECT lower(u.email), x FROM u ORDER BY LOWER( u.email /* c */ )",
        NULL);
    key("SELECT lower(u.email), x FROM u ORDER BY lower(u.name)",
        "ORDER BY starts with \"lower(u.name)\", not the first column "
        "\"lower(u.email)\"");
    key("SELECT a || 'X', b FROM t ORDER BY a || 'x'",
        "ORDER BY starts with \"a || 'x'\"");
    key("SELECT a AS k, b FROM t ORDER BY a", NULL);
    key("SELECT a AS k, b AS a FROM t ORDER BY a",
        "ORDER BY a names column 2, not the first");
    key("SELECT a AS k, t.a FROM t ORDER BY a",
        "ORDER BY a names column 2, not the first");
    key("SELECT a AS k, a::text FROM t ORDER BY a",
        "ORDER BY a: cannot tell whether it names column 2");
    key("SELECT a AS k, a::text AS s FROM t ORDER BY a", NULL);
    key("SELECT x COLLATE \"C\", y AS \"C\" FROM t ORDER BY \"C\"",
        "ORDER BY starts with \"\"C\"\", not the first column \"x COLLATE");
    /* DISTINCT, ALL */
    key("SELECT DISTINCT ON (o.id, o.x) o.id, o.x FROM o ORDER BY o.id, o.x",
        NULL);
    key("SELECT DISTINCT ON (o.x) o.id, o.x FROM o ORDER BY o.x",
        "ORDER BY starts with \"o.x\", not the first column \"o.id\"");
    key("SELECT DISTINCT o.id FROM o ORDER BY o.id", NULL);
    key("select all id from o order by id", NULL);
    /* only depth 0 counts */
    key("SELECT id, row_number() OVER (ORDER BY id) FROM t",
        "the query has no ORDER BY outside parentheses");
    key("SELECT id FROM (SELECT id FROM t ORDER BY id) s",
        "the query has no ORDER BY outside parentheses");
    key("SELECT f(a, b), c FROM t ORDER BY f(a, b), c", NULL);
    key("SELECT coalesce(a, b), c FROM t ORDER BY coalesce(a, c), b",
        "ORDER BY starts with \"coalesce(a, c)\", not the first column "
        "\"coalesce(a, b)\"");
    key("SELECT ARRAY[a, b], c FROM t ORDER BY ARRAY[a,b]", NULL);
    key("SELECT (SELECT max(x) FROM u ORDER BY 2), c FROM t "
        "ORDER BY c",
        "ORDER BY starts with \"c\", not the first column \"(SELECT max");
    key("WITH s AS (SELECT id, x FROM t ORDER BY x DESC) "
        "SELECT s.id, s.x FROM s ORDER BY s.id",
        NULL);
    key("WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r), "
        "q AS NOT MATERIALIZED (SELECT 2) SELECT n FROM r, q ORDER BY n",
        NULL);
    key("WITH s AS (SELECT id FROM t ORDER BY id) SELECT id FROM s",
        "the query has no ORDER BY outside parentheses");
    key("SELECT a, b FROM t UNION ALL SELECT c, d FROM u ORDER BY 1", NULL);
    key("SELECT a, b FROM t ORDER BY a UNION ALL SELECT c, d FROM u "
        "ORDER BY b",
        "ORDER BY starts with \"b\""); /* the last one counts */
    key("SELECT a, b FROM t ORDER BY a LIMIT 10 OFFSET 5 FOR SHARE", NULL);
    key("SELECT a, b FROM t ORDER BY a FETCH FIRST 5 ROWS ONLY", NULL);
    key("SELECT a, b FROM t UNION ALL SELECT c, d FROM u ORDER BY b",
        "ORDER BY starts with \"b\"");
    key("SELECT string_agg(x, ',' ORDER BY x) AS s FROM t GROUP BY k",
        "the query has no ORDER BY outside parentheses");
    /* not SQL text */
    key("SELECT 'ORDER BY', b FROM t -- ORDER BY 1", "the query has no ORDER");
    key("SELECT a /* ORDER BY 1 */ FROM t", "the query has no ORDER BY");
    key("SELECT a, \"ORDER BY 1\" FROM t", "the query has no ORDER BY");
    key("SELECT a, $$ ORDER BY 1 $$ FROM t", "the query has no ORDER BY");
    key("SELECT a, E'\\' ORDER BY 1' FROM t", "the query has no ORDER BY");
    key("SELECT a, b FROM t ORDER BY b -- ORDER BY 1", "ORDER BY starts with");
    key("SELECT a, b FROM t WHERE a = $1 ORDER BY a /* , b */", NULL);
    key("SELECT a FROM t ORDER BY 1 ;/* end */ -- end", NULL);
    /* unsure: refused */
    key("VALUES (1), (2) ORDER BY 1",
        "cannot tell the first column: the query does not start with SELECT "
        "(\"VALUES (1), (2) ORDER BY 1\")");
    key("TABLE t ORDER BY 1", "cannot tell the first column");
    key("(SELECT a FROM t) UNION (SELECT b FROM u) ORDER BY 1",
        "cannot tell the first column");
    key("", "cannot tell the first column");
    key("SELECT FROM t ORDER BY 1", "cannot tell the first column: the sel");
    key("SELECT , a FROM t ORDER BY 1", "cannot tell the first column");
    key("SELECT a FROM t ORDER BY", "ORDER BY has no first item");
    key("SELECT a FROM t ORDER BY LIMIT 1", "ORDER BY has no first item");
    key("SELECT a FROM t ORDER BY 'x", "unterminated quoted string");
    key("SELECT a FROM \"t\nORDER BY 1",
        "unterminated quoted identifier at \"\"t ORDER BY 1\"");
    key("SELECT f(a FROM t ORDER BY 1", "unbalanced parentheses");
    key("SELECT a) FROM t ORDER BY 1", "unbalanced \")\" at \") FROM t");
    key("SELECT a, b FROM t ORDER BY b, a"
        "                                                               ",
        "ORDER BY starts with \"b\"");
    key("SELECT aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaa FROM t ORDER BY b",
        "ORDER BY starts with \"b\", not the first column \"aaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
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

    leading_key();

    printf("%d passed, %d failed\n", passed, failed);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
