/* os_render_writer.h: the interface every output format implements, one
 * file each (os_render_text.c: CSV and TSV, os_render_ndjson.c,
 * os_render_xlsx.c). os_render.c picks the writer of the request's format
 * and calls it; the handler sees only os_render.h and never learns which
 * format it streams. Private to the os_render*.c files.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_RENDER_WRITER_H
#define OS_RENDER_WRITER_H

#include <libpq-fe.h>

#include "os_format.h"
#include "os_output.h"
#include "os_render.h"

/* What every writer is told about the columns, before the first row. */
typedef struct os_render_cols {
    int ncols;
    const char *const *labels; /* per column: OrderStreamHeader's or the
                                  first query's names; never NULL */
    int header;                /* 0: OrderStreamHeader off, no header row */
    const Oid *types;   /* per column, its type in every query of the chain;
                           0 where the queries differ */
    const int *typmods; /* likewise its typmod; -1 where none or they differ */
    const Oid *first;   /* per column, the first query's type */
} os_render_cols;

typedef struct os_render_writer {
    os_format format;
    /* The writer's state for one export, from p; NULL with *why when the
     * config does not fit the columns (a 500 before the first byte). */
    void *(*create)(const os_render_cols *cols, const os_render_opts *o,
                    apr_pool_t *p, const char **why);
    /* A command of the module's own that the transaction runs before the
     * first FETCH (how values are to be printed), or NULL. */
    const char *setup_sql;
    /* The query to declare instead of sql, or NULL to keep it; may be NULL
     * itself. */
    const char *(*wrap_sql)(void *w, const char *sql, apr_pool_t *p);
    /* Before the first row (a byte order mark, a header, a zip header). */
    apr_status_t (*begin)(void *w, os_out *out);
    /* Rows from..to-1 of a batch; *rows counts those written. Returns the
     * output's status, or OS_RENDER_LIMIT when a limit of the format is
     * reached: the download is then cut. */
    apr_status_t (*rows)(void *w, os_out *out, const PGresult *res, int from,
                         int to, apr_int64_t *rows);
    /* After the last row. */
    apr_status_t (*end)(void *w, os_out *out);
    /* After OS_RENDER_LIMIT: which limit, for the error log, and the
     * request's outcome note in *outcome. */
    const char *(*limit)(void *w, const char **outcome);
} os_render_writer;

extern const os_render_writer os_render_csv;
extern const os_render_writer os_render_tsv;
extern const os_render_writer os_render_ndjson;
extern const os_render_writer os_render_xlsx;

/* n bytes of s into out: APR_SUCCESS or the output's status. */
apr_status_t os_render_put(os_out *out, const char *s, apr_size_t n);

#endif /* OS_RENDER_WRITER_H */
