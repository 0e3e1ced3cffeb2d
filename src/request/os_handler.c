/* os_handler.c: one export, from request to last chunk.
 *
 * The order of events is what the client can rely on:
 *  1. acquire a pooled connection, BEGIN, DECLARE every query of the chain,
 *     describe them, MOVE past ?offset=, first FETCH: any failure here is
 *     still an ordinary HTTP status (503, 500) with nothing sent;
 *  2. only then the header row and the rows, batch by batch: a failure from
 *     here on ends the body as a cut download (os_out_fail), never as a
 *     short file that looks complete;
 *  3. COMMIT (which closes the cursors) as soon as the last batch is in,
 *     and the connection goes back to the pool (os_conn.c) while that
 *     batch is written; then EOS. A client that cannot keep up gets what
 *     it has not taken yet from a spool file (os_spool.c), so none of this
 *     waits for it, within OrderStreamSpool; past that, the export waits
 *     for it, within OrderStreamMinRate and OrderStreamMaxDuration.
 * On every other path a pre-cleanup on r->pool gives the connection back
 * idle (os_conn.c).
 *
 * Layer request: may call its own layer and base, db, deliver, render, export,
 * operate.
 */
#include "os_private.h"

#include <apr_dbd.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <ap_expr.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "os_config.h"
#include "os_conn.h"
#include "os_cursor.h"
#include "os_format.h"
#include "os_handler.h"
#include "os_handoff.h"
#include "os_identity.h"
#include "os_notes.h"
#include "os_output.h"
#include "os_pace.h"
#include "os_render.h"
#include "os_parallel.h"
#include "os_spool.h"
#include "os_status.h"
#include "os_watch.h"

typedef struct os_export {
    request_rec *r;
    const os_dir_conf *conf;
    os_cursor *cur;
    os_out *out;
    os_format f;            /* the format the request chose */
    os_render *rd;          /* rows to bytes in that format */
    os_cursor_binds *binds; /* the OrderStreamParam values, as bound */
    apr_pool_t *batch;      /* cleared after every FETCH: the rows live here */
    apr_int64_t rows;       /* data rows passed to the writer */
    const char *outcome;    /* for the orderstream-outcome note */
    os_params params;       /* ?offset=, ?limit= and the declared ones */
    apr_int64_t left;       /* rows the limit still allows; -1: no limit */
    int asked;              /* rows the last FETCH asked for */
    int q, nq;              /* the query of the chain being read, of nq */
    PGresult *desc;         /* the first query's columns, for the header */
    Oid *types;             /* per column: its type in every query, or 0 */
    int *typmods;           /* per column: its typmod in every query, or -1 */
    os_status *st;          /* its slot in mod_status; NULL: none */
    /* OrderStreamSetting and OrderStreamRole (os_identity.c); NULL: none */
    const os_cursor_local *local;
    os_conn *conn;   /* the pooled connection */
    int done;        /* the rows are read: COMMIT was sent */
    os_pace *pace;   /* OrderStreamMinRate, OrderStreamMaxDuration */
    os_spool *spool; /* the output filter that spools and waits */
    os_slices *par;  /* OrderStreamParallel's slices; NULL: serial */
} os_export;

/* A 503 the client may retry: says when, and why in the error log (a
 * limit reached under load is a warning; no connection at all, an error). */
static int unavailable(os_export *ex, int level, const char *why)
{
    request_rec *r = ex->r;

    ap_log_rerror(APLOG_MARK, level, 0, r,
                  OSLOGNO(00010) "%s: export refused (503): %s",
                  ex->conf->location, why);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_itoa(r->pool, os_config_retry_after(ex->conf)));
    ex->outcome = OS_REJECTED;
    return HTTP_SERVICE_UNAVAILABLE;
}

/* Borrows a connection (waiting for one if every connection of the
 * pool is held by exports: os_limit.c says why we count) and arranges
 * for it to go back clean. */
static int acquire(os_export *ex)
{
    request_rec *r = ex->r;
    const os_dir_conf *conf = ex->conf;
    apr_interval_time_t wait = os_config_acquire_timeout(conf);

    switch (os_conn_open(r, os_config_max_concurrent(conf), wait, &ex->conn)) {
    case OS_CONN_FULL:
        return unavailable(
            ex, APLOG_WARNING,
            apr_psprintf(r->pool,
                         "OrderStreamMaxConcurrent %d reached in "
                         "this child",
                         os_config_max_concurrent(conf)));
    case OS_CONN_TIMEOUT:
        return unavailable(
            ex, APLOG_WARNING,
            apr_psprintf(r->pool,
                         "every pooled connection (DBDMax) stayed "
                         "busy for OrderStreamAcquireTimeout %" APR_TIME_T_FMT
                         " ms",
                         apr_time_as_msec(wait)));
    case OS_CONN_NONE:
        return unavailable(ex, APLOG_ERR,
                           "no database connection from mod_dbd (see "
                           "its messages above)");
    default:
        break;
    }
    if (strcmp(os_conn_driver(ex->conn), "pgsql")) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      OSLOGNO(00011) "%s: DBDriver is %s; orderstream needs "
                                     "DBDriver pgsql",
                      conf->location, os_conn_driver(ex->conn));
        ex->outcome = OS_DB_ERROR;
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    os_status_connected(ex->st, os_conn_pg(ex->conn));
    ex->cur = os_cursor_create(os_conn_pg(ex->conn), r->pool);
    os_cursor_watch(ex->cur, os_watch_wait,
                    os_watch_create(r->connection, r->pool));
    os_conn_guard(ex->conn, ex->cur);
    return OK;
}

/* The cursor whose error stopped the export: a slice's, or the export's. */
static os_cursor *failed(const os_export *ex)
{
    return os_slice_failed(ex->par, ex->cur);
}

static void log_pgerr(os_export *ex, const char *tag, const char *what)
{
    const os_pgerr *e = os_cursor_error(failed(ex));
    const char *which = e->query && ex->nq > 1
        ? apr_psprintf(ex->r->pool, " of query %d/%d", e->query, ex->nq)
        : "";

    /* No APR status says "SQL error": the SQLSTATE does. */
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ex->r,
                  "%s%s: %s at %s%s after %" APR_INT64_T_FMT
                  " rows, %" APR_OFF_T_FMT " bytes: SQLSTATE %s: %s",
                  tag, ex->conf->location, what, e->step, which, ex->rows,
                  ex->out ? os_out_bytes(ex->out) : 0,
                  *e->sqlstate ? e->sqlstate : "none (connection lost)",
                  e->message);
}

/* The declared parameters, as PQexecParams takes them. */
static os_cursor_binds *binds(os_export *ex)
{
    const apr_array_header_t *decls = ex->conf->params;
    os_cursor_binds *b = apr_pcalloc(ex->r->pool, sizeof(*b));
    Oid *types;
    int i;

    b->n = decls ? decls->nelts : 0;
    types = apr_pcalloc(ex->r->pool, sizeof(*types) * ((apr_size_t)b->n + 1));
    for (i = 0; i < b->n; i++) {
        types[i] = os_param_oid(APR_ARRAY_IDX(decls, i, os_param_decl).type);
    }
    b->types = types;
    b->values = ex->params.values;
    return b;
}

/* BEGIN and DECLARE; once more on a fresh connection when the pooled one
 * turned out to be dead before anything was sent. */
static apr_status_t open_cursor(os_export *ex)
{
    long timeout_ms = os_config_stmt_timeout_ms(ex->conf);
    os_cursor_binds *b = ex->binds = binds(ex);
    apr_status_t rv =
        os_cursor_open(ex->cur, ex->conf->sql, b, timeout_ms, ex->local);

    if (rv != APR_SUCCESS && os_cursor_reconnect(ex->cur) == APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, ex->r,
                      OSLOGNO(00018) "%s: pooled connection was closed by "
                                     "the server; reconnected",
                      ex->conf->location);
        rv = os_cursor_open(ex->cur, ex->conf->sql, b, timeout_ms, ex->local);
    }
    return rv;
}

/* ?offset=: skipped in the database, query after query of the chain. */
static apr_status_t skip(os_export *ex)
{
    apr_int64_t n = ex->params.offset, moved;
    apr_status_t rv = APR_SUCCESS;

    while (n > 0 && rv == APR_SUCCESS) {
        rv = os_cursor_move(ex->cur, ex->q, n, &moved);
        n -= moved;
        if (n > 0 && ex->q == ex->nq - 1) {
            break; /* past the end: the header alone */
        }
        if (n > 0) {
            ex->q++;
        }
    }
    return rv;
}

/* Rows the next FETCH asks for: a batch, or what the limit leaves. */
static int batch_size(const os_export *ex)
{
    int n = os_config_fetch_rows(ex->conf);

    return ex->left >= 0 && ex->left < n ? (int)ex->left : n;
}

/* The next batch's FETCH, and its rows: from the export's cursor, or
 * from its slices (os_slice.c). */
static apr_status_t send_batch(os_export *ex)
{
    return ex->par ? os_slice_send(ex->par, ex->asked)
                   : os_cursor_fetch_send(ex->cur, ex->q, ex->asked);
}

static apr_status_t wait_batch(os_export *ex, PGresult **res)
{
    return ex->par ? os_slice_wait(ex->par, res, ex->batch)
                   : os_cursor_fetch_wait(ex->cur, res, ex->batch);
}

/* After a FETCH of query ex->q came back empty: the rows of the next
 * queries of the chain, if any. */
static apr_status_t skip_empty(os_export *ex, PGresult **res)
{
    apr_status_t rv = APR_SUCCESS;

    while (rv == APR_SUCCESS && PQntuples(*res) == 0 && ex->q < ex->nq - 1) {
        ex->q++;
        rv = os_cursor_fetch(ex->cur, ex->q, ex->asked, res, ex->batch);
    }
    return rv;
}

/* The first batch into *res (NULL when the limit wants no rows), before
 * the status is sent. */
static apr_status_t fetch(os_export *ex, PGresult **res)
{
    apr_status_t rv;

    *res = NULL;
    ex->asked = batch_size(ex);
    if (ex->asked == 0) {
        return APR_SUCCESS;
    }
    rv = send_batch(ex);
    if (rv == APR_SUCCESS) {
        rv = wait_batch(ex, res);
    }
    return rv == APR_SUCCESS ? skip_empty(ex, res) : rv;
}

/* What comes after a batch of got rows: 1 with ex->q and ex->asked set
 * for the next FETCH, 0 when the export has all its rows (the last query
 * ran short, or the limit is reached). */
static int next_batch(os_export *ex, int got)
{
    if (ex->left > 0) {
        ex->left -= got;
    }
    if (ex->par) { /* a slice may end short: the slices know */
        ex->asked = batch_size(ex);
        return !os_slice_done(ex->par);
    }
    /* A short batch means the query is exhausted: on to the next one of
     * the chain, or done. */
    if (got < ex->asked) {
        if (ex->q == ex->nq - 1) {
            return 0;
        }
        ex->q++;
    }
    ex->asked = batch_size(ex);
    return ex->asked > 0;
}

/* The columns of every query, before the first byte: a chain whose
 * queries disagree would be a ragged file, and labels that do not match
 * a wrong one. Keeps the first query's for the header. APR_EGENERAL: the
 * database failed; APR_EINVAL: they disagree (logged here). */
static apr_status_t check_columns(os_export *ex)
{
    const os_dir_conf *conf = ex->conf;
    PGresult *res;
    int q, i, n = 0;

    for (q = 0; q < ex->nq; q++) {
        if (os_cursor_describe(ex->cur, q, &res, ex->batch) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
        if (q == 0) {
            ex->desc = res;
            n = PQnfields(res);
            ex->types = apr_pcalloc(ex->r->pool, sizeof(Oid) * (n + 1));
            ex->typmods = apr_pcalloc(ex->r->pool, sizeof(int) * (n + 1));
            for (i = 0; i < n; i++) {
                ex->types[i] = PQftype(res, i);
                ex->typmods[i] = PQfmod(res, i);
            }
        }
        else if (PQnfields(res) != n) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ex->r,
                          OSLOGNO(00020) "%s: OrderStreamSQL #%d returns %d "
                                         "columns, #1 returns %d; the queries "
                                         "of a chain must agree",
                          conf->location, q + 1, PQnfields(res), n);
            return APR_EINVAL;
        }
        for (i = 0; q > 0 && i < n; i++) {
            if (PQftype(res, i) != ex->types[i]) {
                ex->types[i] = 0; /* a column whose type varies */
            }
            if (PQfmod(res, i) != ex->typmods[i]) {
                ex->typmods[i] = -1;
            }
        }
    }
    if (os_config_header_mode(conf) == OS_HEADER_LABELS
        && conf->labels->nelts != n) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ex->r,
                      OSLOGNO(00013) "%s: OrderStreamHeader has %d labels "
                                     "but the query returns %d columns",
                      conf->location, conf->labels->nelts, n);
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The writer for the chosen format, which needs the columns; the
 * format's own setting (how values are printed) and, where the format
 * has PostgreSQL render some columns, every cursor declared again over
 * its wrapped query: still before anything is fetched. */
static apr_status_t prepare_render(os_export *ex)
{
    apr_status_t rv = APR_SUCCESS;
    const char *why = NULL, *sql;
    os_render_opts o;
    int q;

    os_config_render(ex->conf, &o);
    ex->rd = os_render_create(&o, ex->f, ex->desc, ex->types, ex->typmods,
                              ex->r->pool, &why);
    if (!ex->rd) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ex->r, OSLOGNO(00021) "%s: %s",
                      ex->conf->location, why);
        return APR_EINVAL;
    }
    if ((sql = os_render_setup_sql(ex->rd)) != NULL) {
        rv = os_cursor_exec(ex->cur, "SET", sql);
    }
    for (q = 0; q < ex->nq && rv == APR_SUCCESS; q++) {
        sql = os_render_wrap_sql(ex->rd,
                                 APR_ARRAY_IDX(ex->conf->sql, q, const char *),
                                 ex->r->pool);
        if (sql) {
            rv = os_cursor_redeclare(ex->cur, q, sql, ex->binds);
        }
    }
    return rv;
}

static int left_waiting(os_export *ex);
/* OrderStreamParallel: the export read in slices (os_slice.c), or
 * serially (a preview, a chain inherited, the pool busy: the same bytes
 * either way). */
static apr_status_t parallel(os_export *ex)
{
    int serial = ex->params.offset || ex->left >= 0 || ex->nq != 1;

    return os_parallel_begin(ex->r, ex->conf, serial, ex->f, ex->cur, ex->conn,
                             ex->rd, ex->binds, ex->local, ex->desc, ex->st,
                             &ex->par);
}

/* Everything that can still become an HTTP status: the queries are
 * declared and described, ?offset= rows skipped in the database, and the
 * first batch is in *res. */
static int start(os_export *ex, PGresult **res)
{
    apr_status_t rv = open_cursor(ex);

    if (rv == APR_SUCCESS) {
        rv = check_columns(ex);
    }
    if (rv == APR_SUCCESS) {
        rv = prepare_render(ex);
    }
    if (rv == APR_SUCCESS) {
        rv = parallel(ex);
    }
    if (rv == APR_SUCCESS) {
        rv = skip(ex);
    }
    if (rv == APR_SUCCESS) {
        rv = fetch(ex, res);
    }
    if (rv == APR_SUCCESS) {
        return OK;
    }
    os_slice_abort(ex->par);
    if (rv != APR_EINVAL && os_cursor_client_gone(failed(ex))) {
        return left_waiting(ex);
    }
    if (rv != APR_EINVAL && os_cursor_broken(failed(ex))) {
        log_pgerr(ex, OSLOGNO(00017), "database unreachable");
        return unavailable(ex, APLOG_ERR, "the database connection is lost");
    }
    if (os_cursor_role_refused(ex->cur)) {
        /* The request's role is not one this connection may take: the
         * request is not entitled to the export. Never a fallback to
         * the pool's own role. */
        log_pgerr(ex, OSLOGNO(00031), "role refused (403)");
        ex->outcome = OS_REJECTED;
        return HTTP_FORBIDDEN;
    }
    if (rv != APR_EINVAL) {
        log_pgerr(ex, OSLOGNO(00012), "query failed");
    }
    os_cursor_abort(ex->cur);
    ex->outcome = rv != APR_EINVAL && os_cursor_timed_out(failed(ex))
        ? OS_TIMEOUT
        : OS_DB_ERROR;
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* The rows are read, or given up: the connection goes back to the pool
 * now, idle, rather than when the response ends (os_conn.c). */
static void let_go(os_export *ex)
{
    os_slice_abort(ex->par);
    os_cursor_abort(ex->cur);
    if (os_conn_release(ex->conn)) {
        if (ex->pace) { /* none before the first byte */
            os_pace_release(ex->pace);
        }
        os_status_released(ex->st);
    }
}

/* The client went away: not an error of ours, nothing left to tell it. */
static int client_gone(os_export *ex)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, os_out_status(ex->out), ex->r,
                  OSLOGNO(00014) "%s: client gone after %" APR_INT64_T_FMT
                                 " rows, %" APR_OFF_T_FMT " bytes",
                  ex->conf->location, ex->rows, os_out_bytes(ex->out));
    let_go(ex);
    ex->outcome = OS_CLIENT_GONE;
    return OK;
}

/* The client left while the export waited for the database: the watch
 * (os_watch.c) saw it and the statement was cancelled, so the backend,
 * the transaction and the pooled connection are free within a tick, not
 * when the query would have ended. Nothing more may go out: over HTTP/1.1
 * httpd would otherwise end the body (or send an empty 200) as if it were
 * whole, to a client that may only have shut down its sending side. */
static int left_waiting(os_export *ex)
{
    const os_pgerr *e = os_cursor_error(failed(ex));

    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, ex->r,
                  OSLOGNO(00350) "%s: client gone while the database worked "
                                 "(at %s, after %" APR_INT64_T_FMT
                                 " rows): query cancelled",
                  ex->conf->location, e->step, ex->rows);
    let_go(ex);
    ex->r->connection->aborted = 1;
    ex->outcome = OS_CLIENT_GONE;
    return DONE;
}

/* The body has started and the database failed: cut the download. */
static int broke(os_export *ex)
{
    if (os_cursor_client_gone(failed(ex))) {
        return left_waiting(ex);
    }
    log_pgerr(ex, OSLOGNO(00015), "export cut");
    ex->outcome = os_cursor_timed_out(failed(ex)) ? OS_TIMEOUT : OS_DB_ERROR;
    let_go(ex);
    os_out_fail(ex->out);
    return DONE;
}

/* A bound on the client's pace cut the download (os_pace.h): a warning,
 * since it is the server protecting itself, with what the client got. */
static int bound_cut(os_export *ex, const char *outcome)
{
    const os_dir_conf *conf = ex->conf;
    apr_interval_time_t window;
    apr_uint64_t rate = os_config_min_rate(conf, &window);

    if (!strcmp(outcome, OS_TOO_SLOW)) {
        ap_log_rerror(
            APLOG_MARK, APLOG_WARNING, 0, ex->r,
            OSLOGNO(
                00053) "%s: export cut after %" APR_INT64_T_FMT
                       " rows, %" APR_OFF_T_FMT " bytes: "
                       "the client took %" APR_UINT64_T_FMT
                       " bytes/s, under OrderStreamMinRate %" APR_UINT64_T_FMT
                       " over %" APR_TIME_T_FMT " s of waiting for it",
            conf->location, ex->rows, os_out_bytes(ex->out),
            os_pace_rate(ex->pace), rate, apr_time_sec(window));
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, ex->r,
                      OSLOGNO(00054) "%s: export cut after %" APR_INT64_T_FMT
                                     " rows, %" APR_OFF_T_FMT " bytes: it "
                                     "held its database connection for "
                                     "OrderStreamMaxDuration %" APR_TIME_T_FMT
                                     " s",
                      conf->location, ex->rows, os_out_bytes(ex->out),
                      apr_time_sec(os_config_max_duration(conf)));
    }
    ex->outcome = outcome;
    let_go(ex);
    os_out_fail(ex->out);
    return DONE;
}

/* A pass failed: the client went away, or a bound cut it. */
static int out_failed(os_export *ex)
{
    const char *bound = os_spool_bound(os_out_status(ex->out));

    return bound ? bound_cut(ex, bound) : client_gone(ex);
}

/* Rows written between two looks at the socket of the FETCH in flight: a
 * recv() per 100 rows costs nothing next to formatting them, and keeps
 * the next batch flowing instead of stalling in full socket buffers. */
#define OS_CONSUME_ROWS 100

/* Writes a batch; next: a FETCH is in flight, whose rows are read from
 * the socket as they arrive. */
static apr_status_t put_batch(os_export *ex, const PGresult *res, int next)
{
    int from, to, n = PQntuples(res);
    apr_status_t rv = APR_SUCCESS;
    const char *bytes;
    apr_size_t len;
    apr_int64_t rows;

    /* A later slice's rows rendered ahead (os_slice.c): their bytes. */
    if (os_slice_piece(ex->par, &bytes, &len, &rows)) {
        rv = os_out_write(ex->out, bytes, len);
        ex->rows += rows;
        if (next) {
            os_slice_consume(ex->par);
        }
    }
    for (from = 0; from < n && rv == APR_SUCCESS; from = to) {
        to = n - from > OS_CONSUME_ROWS ? from + OS_CONSUME_ROWS : n;
        rv = os_render_rows(ex->rd, ex->out, res, from, to, &ex->rows);
        if (next && ex->par) {
            os_slice_consume(ex->par);
        }
        else if (next) {
            os_cursor_consume(ex->cur);
        }
    }
    return rv;
}

/* The format reached a limit of its own (a group of OrderStreamGroupBy
 * outgrew OrderStreamMaxGroupRows, a workbook would pass 4 GiB): what was
 * begun cannot be finished, so the download is cut, visibly. */
static int writer_limit(os_export *ex)
{
    const char *outcome, *why = os_render_limit(ex->rd, &outcome);

    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, ex->r,
                  OSLOGNO(00022) "%s: export cut after %" APR_INT64_T_FMT
                                 " rows: %s",
                  ex->conf->location, ex->rows, why);
    ex->outcome = outcome;
    let_go(ex);
    os_out_fail(ex->out);
    return DONE;
}

/* The last batch is in: COMMIT (which closes the cursors) and give the
 * connection back, before that batch is written: whatever the client does
 * from here on, the database is done with this export. */
static apr_status_t rows_read(os_export *ex)
{
    apr_status_t rv = ex->par ? os_slice_close(ex->par) : APR_SUCCESS;

    if (rv == APR_SUCCESS) {
        rv = os_cursor_close(ex->cur);
    }

    ex->done = 1;
    if (rv == APR_SUCCESS) {
        let_go(ex);
    }
    return rv;
}

/* The output filter that spools for a slow client and bounds its pace,
 * put on before the first byte. */
static void add_spool(os_export *ex)
{
    const os_dir_conf *conf = ex->conf;
    apr_interval_time_t window;
    apr_uint64_t rate = os_config_min_rate(conf, &window);

    ex->pace = os_pace_create(ex->r->request_time, rate, window,
                              os_config_max_duration(conf), ex->r->pool);
    ex->spool = os_spool_add(ex->r, os_config_spool(conf),
                             os_config_spool_dir(conf), ex->pace);
}

/* Streams batch after batch; res is the first, already fetched. */
static int stream(os_export *ex, PGresult *res)
{
    apr_status_t rv;
    int more;

    add_spool(ex);
    ex->out = os_out_create(ex->r, ex->spool);
    rv = os_render_begin(ex->rd, ex->out);
    if (rv == OS_RENDER_LIMIT) {
        return writer_limit(ex);
    }
    if (rv != APR_SUCCESS) {
        return out_failed(ex);
    }
    ex->desc = NULL; /* it lives in the batch pool, cleared below */
    while (res) {
        /* The next FETCH goes out before this batch is written, so the
         * database produces it meanwhile: at most two batches in memory,
         * this one and the next arriving. */
        more = next_batch(ex, PQntuples(res));
        if (more ? send_batch(ex) != APR_SUCCESS
                 : rows_read(ex) != APR_SUCCESS) {
            return broke(ex);
        }
        os_status_set_phase(ex->st, OS_PHASE_SENDING);
        rv = put_batch(ex, res, more);
        if (rv == OS_RENDER_LIMIT) {
            return writer_limit(ex);
        }
        if (rv != APR_SUCCESS || os_out_flush(ex->out) != APR_SUCCESS) {
            return out_failed(ex);
        }
        os_status_progress(ex->st, ex->rows, os_out_bytes(ex->out));
        apr_pool_clear(ex->batch);
        res = NULL;
        if (more
            && (wait_batch(ex, &res) != APR_SUCCESS
                || skip_empty(ex, &res) != APR_SUCCESS)) {
            return broke(ex);
        }
    }
    if (!ex->done && rows_read(ex) != APR_SUCCESS) {
        return broke(ex);
    }
    rv = os_render_end(ex->rd, ex->out);
    if (rv == OS_RENDER_LIMIT) {
        return writer_limit(ex);
    }
    if (rv != APR_SUCCESS || os_out_finish(ex->out) != APR_SUCCESS) {
        return out_failed(ex);
    }
    ex->outcome = OS_COMPLETE;
    return OK;
}

static void set_notes(const os_export *ex)
{
    os_notes_set(ex->r, ex->outcome, ex->rows,
                 ex->out ? os_out_bytes(ex->out) : 0);
}

static int run(os_export *ex)
{
    PGresult *res = NULL;
    int status = acquire(ex);

    if (status != OK) {
        return status;
    }
    apr_pool_create(&ex->batch, ex->r->pool);
    apr_pool_tag(ex->batch, "orderstream_batch");
    status = start(ex, &res);
    if (status != OK) {
        return status;
    }
    return stream(ex, res);
}

static int export(request_rec *r, const os_dir_conf *conf,
                  const os_params *params, os_format f,
                  const os_cursor_local *local)
{
    os_export ex = { 0 };
    int status;

    ex.r = r;
    ex.conf = conf;
    ex.local = local;
    ex.params = *params;
    ex.left = params->limit;
    ex.nq = conf->sql->nelts;
    ex.f = f;
    ex.outcome = OS_DB_ERROR; /* until something says otherwise */
    ex.st = os_status_begin(r, os_format_name(f));
    status = run(&ex);
    set_notes(&ex);
    return status;
}

/* ?format=, else the Accept header, else OrderStreamFormat. OS_FMT_NONE
 * when Accept names nothing this export serves (a 406). */
static os_format choose_format(request_rec *r, const os_dir_conf *conf,
                               const os_params *params)
{
    unsigned allowed = os_config_formats(conf);

    if (allowed & (allowed - 1)) {
        /* more than one: a cache must keep them apart */
        apr_table_mergen(r->headers_out, "Vary", "Accept");
    }
    if (params->format) {
        return params->format;
    }
    return os_format_from_accept(apr_table_get(r->headers_in, "Accept"),
                                 allowed, os_config_format(conf), r->pool);
}

/* RFC 6266: an ASCII name as filename="..."; a UTF-8 one as filename*=
 * (RFC 8187 percent-encoding) after an ASCII fallback with _ for each
 * character that is not ASCII, for clients that know no better. */
static const char *disposition(request_rec *r, const char *name)
{
    static const char attr[] = "!#$&+-.^_`|~";
    const unsigned char *s;
    char *fallback = apr_palloc(r->pool, strlen(name) + 1), *fb = fallback;
    char *enc = apr_palloc(r->pool, 3 * strlen(name) + 1), *e = enc;
    int ascii = 1;

    for (s = (const unsigned char *)name; *s; s++) {
        if (*s >= 0x80) {
            ascii = 0;
            if ((*s & 0xc0) != 0x80) {
                *fb++ = '_'; /* a character's first byte */
            }
        }
        else {
            *fb++ = (char)*s;
        }
        if (apr_isalnum(*s) || (*s < 0x80 && strchr(attr, *s) && *s)) {
            *e++ = (char)*s;
        }
        else {
            e += apr_snprintf(e, 4, "%%%02X", *s);
        }
    }
    *fb = *e = '\0';
    if (ascii) {
        return apr_pstrcat(r->pool, "attachment; filename=\"", name, "\"",
                           NULL);
    }
    return apr_pstrcat(r->pool, "attachment; filename=\"", fallback,
                       "\"; filename*=UTF-8''", enc, NULL);
}

static void set_headers(request_rec *r, const os_dir_conf *conf, os_format f)
{
    ap_set_content_type(r, os_format_content_type(f));
    if (conf->filename) {
        apr_table_setn(
            r->headers_out, "Content-Disposition",
            disposition(r,
                        os_format_file_name(conf->filename, f, r->request_time,
                                            r->pool)));
    }
}

/* An export is not a file. Left alone, httpd maps its URL below
 * DocumentRoot and walks that path, which as root with a DocumentRoot the
 * unprivileged children cannot search answers 403 before the handler runs.
 * So, as mod_proxy does with "proxy:", a URL whose <Location> streams an
 * export (or serves the download page) gets a filename no file can have,
 * and map_to_storage skips the directory walk for it. <Location> access
 * control still applies (it is walked again after map_to_storage);
 * <Directory> sections do not. */
#define OS_FILENAME_PREFIX "orderstream:"

/* Whether the <Location> config (all that is walked at translate time)
 * sets "SetHandler orderstream" and a query, or "SetHandler
 * orderstream-index" (the download page is no file either). */
static int is_ours(request_rec *r)
{
    const os_dir_conf *conf =
        ap_get_module_config(r->per_dir_config, &orderstream_module);
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *handler, *err = NULL;

    if (!core->expr_handler) {
        return 0;
    }
    handler = ap_expr_str_exec(r, core->expr_handler, &err);
    if (err || !handler) {
        return 0;
    }
    return !strcasecmp(handler, OS_INDEX_HANDLER)
        || !strcasecmp(handler, OS_METRICS_HANDLER)
        || (!strcasecmp(handler, OS_HANDLER) && os_config_has_sql(conf));
}

int os_handler_translate(request_rec *r)
{
    if (!is_ours(r)) {
        return DECLINED;
    }
    r->filename = apr_pstrcat(r->pool, OS_FILENAME_PREFIX, r->uri, NULL);
    return OK;
}

int os_handler_map_to_storage(request_rec *r)
{
    if (r->filename
        && !strncmp(r->filename, OS_FILENAME_PREFIX,
                    sizeof(OS_FILENAME_PREFIX) - 1)) {
        return OK;
    }
    return DECLINED;
}

void os_handler_nosniff(request_rec *r)
{
    /* err_headers_out: kept on the error pages httpd makes (404, 405,
     * 500, 503) as on ours. */
    apr_table_setn(r->err_headers_out, "X-Content-Type-Options", "nosniff");
}

/* An export's URL is exactly its <Location>: a <Location> matches by
 * prefix, so without this /exports/orders.csv/anything (or a trailing
 * slash) would run the export too, and a link that should fail would
 * download. 404, as "AcceptPathInfo Off" answers for a file. The
 * <Location> is the most specific literal one of ours that applies (a
 * nested <Location /exports/orders.csv/gz> that changes a setting is an
 * export URL of its own); one given by <LocationMatch> says by itself
 * which URLs it wants. */
static int beyond_location(request_rec *r, const os_dir_conf *conf)
{
    if (!os_config_has_sql(conf) || !conf->literal || !conf->section
        || !strcmp(r->uri, conf->section)) {
        return 0;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  OSLOGNO(00023) "%s: 404 for %s: an export's URL is "
                                 "exactly its Location",
                  conf->section, r->uri);
    return 1;
}

/* A 400 or 406 in plain text, one line that names the parameter or says
 * what is available (or a token's 403 or 410, saying why); the database
 * is not touched. */
static int refuse(request_rec *r, int status, const char *msg)
{
    apr_bucket_brigade *bb =
        apr_brigade_create(r->pool, r->connection->bucket_alloc);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OSLOGNO(00019) "%s: %d: %s",
                  r->uri, status, msg);
    os_notes_set(r, OS_REJECTED, 0, 0);
    r->status = status;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    apr_brigade_printf(bb, NULL, NULL, "%s\n", msg);
    APR_BRIGADE_INSERT_TAIL(
        bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS
        ? OK
        : AP_FILTER_ERROR;
}

/* The values the request itself gives (os_identity.c): expr= parameters
 * into params, the role and settings into *local. Cache-Control and Vary
 * come first, so that a 400 or 403 carries them too. A 403 is logged
 * with the Location; httpd answers it with its own page. */
static int identify(request_rec *r, const os_dir_conf *conf, os_params *params,
                    const os_cursor_local **local)
{
    os_identity_spec spec;
    os_identity *id;
    const char *msg;
    int status;

    os_config_identity(conf, &spec);
    status = os_identity_resolve(r, &spec, params, &id, &msg);

    os_identity_headers(r, id);
    *local = os_identity_local(id);
    if (status == OK || status == HTTP_BAD_REQUEST) {
        return status == OK ? OK : refuse(r, status, msg);
    }
    ap_log_rerror(APLOG_MARK,
                  status == HTTP_FORBIDDEN ? APLOG_WARNING : APLOG_ERR, 0, r,
                  OSLOGNO(00030) "%s: %d: %s", conf->location, status, msg);
    os_notes_set(r, OS_REJECTED, 0, 0);
    return status;
}

int os_handler(request_rec *r)
{
    const os_dir_conf *conf;
    const os_cursor_local *local;
    os_identity_spec spec;
    os_params_rules rules;
    os_params params;
    const char *err;
    os_format f;
    int status;

    /* Case-blind, as the config test matches SetHandler. */
    if (!r->handler || strcasecmp(r->handler, OS_HANDLER)) {
        return DECLINED;
    }
    os_handler_nosniff(r);
    /* The Allow header of a 405 is made from r->allowed_methods. GET
     * covers HEAD (r->method_number is M_GET for both). */
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, -1);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    conf = ap_get_module_config(r->per_dir_config, &orderstream_module);
    if (beyond_location(r, conf)) {
        return HTTP_NOT_FOUND;
    }
    if (!os_config_has_sql(conf)) {
        /* The config test refuses this; reachable only by AddHandler. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      OSLOGNO(00016) "%s: SetHandler orderstream without "
                                     "OrderStreamSQL",
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    os_config_identity(conf, &spec);
    os_identity_private(r, &spec);
    /* The Django hand-off's token first: nothing is read for a request
     * that may not have the export. */
    if ((status = os_handoff_admit(r, conf->token, conf->token_keys, &err))
        != OK) {
        return status == HTTP_INTERNAL_SERVER_ERROR ? status
                                                    : refuse(r, status, err);
    }
    os_config_params_rules(conf, &rules);
    err = os_params_parse(r->args, &rules, &params, r->pool);
    if (err) {
        return refuse(r, HTTP_BAD_REQUEST, err);
    }
    if ((status = identify(r, conf, &params, &local)) != OK) {
        return status;
    }
    f = choose_format(r, conf, &params);
    if (!f) {
        return refuse(
            r, HTTP_NOT_ACCEPTABLE,
            apr_psprintf(r->pool,
                         "Accept: none of the formats of this export (%s) "
                         "is acceptable; or ask with ?format=",
                         os_format_list(os_config_formats(conf), r->pool)));
    }
    set_headers(r, conf, f);
    if (r->header_only) {
        return OK; /* HEAD: the headers a GET would get, no query run */
    }
    return export(r, conf, &params, f, local);
}
