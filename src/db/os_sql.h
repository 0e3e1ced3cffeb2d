/* os_sql.h: what the config test needs to know of an OrderStreamSQL text:
 * its $N placeholders. Needs only APR.
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

#endif /* OS_SQL_H */
