/* os_render.h: rows to bytes in the export's format (CSV, TSV, NDJSON, and
 * NDJSON's grouping), written into the request's os_out. */
#ifndef OS_RENDER_H
#define OS_RENDER_H

#include <libpq-fe.h>

#include "os_config.h"
#include "os_output.h"

typedef struct os_render os_render;

/* A group of OrderStreamGroupBy grew past OrderStreamMaxGroupRows. */
#define OS_RENDER_GROUP_FULL (APR_OS_START_USERERR + 1)

/* Prepares the rendering of rows described by desc (the first query's
 * columns and names; labels come from conf); types[i] is column i's type
 * in every query of the chain, 0 where they differ. Returns NULL with
 * *why when the config does not fit the columns (OrderStreamGroupBy N
 * with N not below the column count): a 500 before the first byte. */
os_render *os_render_create(const os_dir_conf *conf, os_format f,
                            const PGresult *desc, const Oid *types,
                            apr_pool_t *p, const char **why);

/* What goes before the first row: the byte order mark, the header row. */
apr_status_t os_render_begin(os_render *rd, os_out *out);

/* Rows from..to-1 of a batch; *rows counts the rows written. For NDJSON,
 * res comes from the query os_render_wrap_sql made. Returns the output's
 * status, or OS_RENDER_GROUP_FULL. */
apr_status_t os_render_rows(os_render *rd, os_out *out, const PGresult *res,
                            int from, int to, apr_int64_t *rows);

/* After the last row: closes a group still open. */
apr_status_t os_render_end(os_render *rd, os_out *out);

/* NDJSON: sql wrapped so that PostgreSQL renders with to_json the values
 * the module does not render itself; NULL when it renders them all (and
 * for the other formats): the query stays as it is. */
const char *os_render_wrap_sql(const os_render *rd, const char *sql,
                               apr_pool_t *p);

#endif /* OS_RENDER_H */
