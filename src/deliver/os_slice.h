/* os_slice.h: one export read by several connections in one snapshot
 * (OrderStreamParallel), handed to the writer in the serial order.
 * os_slice.c says how.
 *
 * Layer deliver: may call its own layer, db and base.
 */
#ifndef OS_SLICE_H
#define OS_SLICE_H

#include <httpd.h>
#include <libpq-fe.h>

#include "os_conn.h"
#include "os_cursor.h"
#include "os_output.h"

typedef struct os_slices os_slices;

/* The most slices (OrderStreamParallel's range): each is a backend and a
 * pooled connection, past the server's cores nothing is gained, and every
 * slice's socket is waited on at once (os_cursor_wait_any). */
#define OS_SLICE_MAX OS_CURSOR_WAIT_MAX

/* How the format wraps a query (NDJSON's to_json; os_render_wrap_sql):
 * the wrapped text, or NULL when it leaves it as it is. */
typedef const char *os_slice_wrap_fn(const void *ctx, const char *sql,
                                     apr_pool_t *p);

/* Writes the rows of a batch into out (a detached os_out, os_output.h),
 * as the export's writer would, counting them in *rows: a later slice's
 * rows rendered ahead of their turn. */
typedef apr_status_t os_slice_render_fn(void *ctx, os_out *out,
                                        const PGresult *res,
                                        apr_int64_t *rows);

/* What the slices are made from. sql is the export's one query as
 * configured; wrap and setup (SET LOCAL DateStyle) are the format's, which
 * every slice gets as the export's own cursor had them. */
typedef struct os_slice_plan {
    request_rec *r;
    const char *location; /* for the logs */
    int n;                /* OrderStreamParallel N */
    const char *split;    /* its SPLIT-SQL */
    const char *sql;
    os_slice_wrap_fn *wrap; /* NULL: none */
    const void *wrap_ctx;
    const char *setup; /* NULL: none */
    /* A format whose rows render alone (CSV, TSV: no state from one row
     * to the next) renders the later slices' rows as they come in, and
     * their turn only copies bytes; NULL: the rows are filed as they came
     * and rendered at their turn (NDJSON's groups, a workbook). */
    os_slice_render_fn *render;
    void *render_ctx;
    const os_cursor_binds *binds;
    long timeout_ms;
    const os_cursor_local *local;
    int max_concurrent; /* the gate (os_limit.h), as the export's own */
    int alongside;      /* connections other exports may hold (os_limit.h) */
    int fetch_rows;     /* OrderStreamFetchRows, for the later slices */
    apr_off_t spool;    /* OrderStreamSpool: what the files may hold */
    const char *spool_dir;
    const PGresult *desc; /* the columns (DESCRIBE of the export's cursor) */
} os_slice_plan;

/* Inside the export's transaction (cursor main, on conn main_conn,
 * declared and described, nothing fetched): exports its snapshot, picks
 * plan->n - 1 boundaries as quantiles of SPLIT-SQL, takes n - 1 more
 * pooled connections without waiting and only while the pool stays at
 * most half used (os_conn_open_spare), imports the snapshot on each and
 * declares every slice, the first on main (declared again over its
 * range). APR_SUCCESS with *out set: fetch through os_slice_* from now
 * on. APR_SUCCESS with *out NULL and *why set: run serially (the pool is
 * busy, too few split values, no spool); main is as it was. APR_EGENERAL:
 * a database error, os_slice_failed() says where (the caller aborts). */
apr_status_t os_slice_start(const os_slice_plan *plan, os_cursor *main,
                            os_conn *main_conn, os_slices **out,
                            const char **why);

/* The FETCH of n rows of the slice being sent (the export's next batch),
 * then its rows: from that slice's connection, or from its file when
 * they came in before its turn. A batch may be short or empty without
 * the export being over: os_slice_done() says when it is. Failures as
 * os_cursor_fetch_send/_wait, on whichever slice failed. */
apr_status_t os_slice_send(os_slices *s, int n);
apr_status_t os_slice_wait(os_slices *s, PGresult **res, apr_pool_t *pool);

/* After os_slice_wait: when the batch it returned (then with no rows) is a
 * later slice's piece rendered ahead (plan->render), 1 with its bytes and
 * row count, valid until the next os_slice_wait; else 0. Once per piece. */
int os_slice_piece(os_slices *s, const char **bytes, apr_size_t *len,
                   apr_int64_t *rows);

/* While a batch is written: reads what every connection has sent, files
 * the later slices' batches and asks for their next ones. Never blocks
 * on the database; a failure shows at the next os_slice_wait. */
void os_slice_consume(os_slices *s);

/* Whether the batch just returned was the export's last. */
int os_slice_done(const os_slices *s);

/* The rows are all read: COMMIT on every slice's connection but the
 * export's own (whose COMMIT is the caller's), and they go back to the
 * pool. APR_EGENERAL as os_cursor_close. */
apr_status_t os_slice_close(os_slices *s);

/* Given up: every slice's statement is cancelled, its transaction rolled
 * back and its connection given back (the export's own is the caller's).
 * Safe to call more than once, and with NULL. */
void os_slice_abort(os_slices *s);

/* The cursor whose error stopped the export: a slice's, or main. */
os_cursor *os_slice_failed(const os_slices *s, os_cursor *main);

/* How many slices run (for the status and the notes). */
int os_slice_count(const os_slices *s);

#endif /* OS_SLICE_H */
