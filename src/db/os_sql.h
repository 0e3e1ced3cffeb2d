/* os_sql.h: what the config test needs to know of an OrderStreamSQL text:
 * its $N placeholders, and whether it is sorted by its first column first.
 * Needs only APR.
 *
 * Layer db: may call its own layer and base.
 */
#ifndef OS_SQL_H
#define OS_SQL_H

#include <apr_pools.h>
#include <apr_tables.h>

/* The largest $N PostgreSQL accepts (a Bind message counts in 16 bits). */
#define OS_SQL_MAX_PARAM 65535

/* Finds the $N placeholders of sql as PostgreSQL's lexer would: not inside
 * '...' / E'...' strings, "..." identifiers, -- and nested slash-star
 * comments, $tag$ ... $tag$ strings, nor as part of an identifier (a$1).
 * *found gets the distinct N (int), in ascending order. Returns NULL, or a
 * message: an unterminated string, identifier or comment, $0, or an N over
 * OS_SQL_MAX_PARAM. */
const char *os_sql_placeholders(const char *sql, apr_array_header_t **found,
                                apr_pool_t *p);

/* Whether sql's outermost ORDER BY starts with its first output column,
 * ascending with NULLs last: what OrderStreamParallel needs to read the
 * result in ranges of that column and send them one after the other.
 * Read with the lexer above, at parenthesis depth 0 only (CTE bodies,
 * subqueries, function arguments, OVER (...) do not count):
 * - the first column is the first item of the select list of the first
 *   SELECT (after a WITH prefix; past ALL, DISTINCT, DISTINCT ON (...));
 *   its name is its alias (AS name, or a bare one), else for a column
 *   reference a.b.col the last part; other expressions have none here;
 * - the outermost ORDER BY is the last one; its first item runs to a
 *   comma, LIMIT, OFFSET, FETCH, FOR or the end.
 * That item is accepted when it is the integer 1, the first column's name
 * (identifiers compared as PostgreSQL does), or the first item's text
 * (white space and comments left out, unquoted words in any case; a bare
 * name only when no other column is or may be called so), with nothing
 * after it but ASC and NULLS LAST. Returns NULL when accepted, else a
 * one-line message naming what was found: unterminated text, unbalanced
 * parentheses, two statements, no SELECT to read (VALUES, TABLE, "(...)
 * UNION ..."), no ORDER BY outside parentheses, DESC or USING, NULLS
 * FIRST, another first key. Quotes at most about 60 bytes of sql. */
const char *os_sql_leading_key(const char *sql, apr_pool_t *p);

#endif /* OS_SQL_H */
