/* os_cursor.c: walking a query with DECLARE / FETCH on a borrowed PGconn.
 *
 * Why not apr_dbd_select: apr_dbd_pgsql reads every select into client
 * memory in full (PQexec, or PQsendQuery without single-row mode), about
 * 265 bytes per row before the first row is returned. A cursor inside one
 * transaction lets the server hold the result and hands us one FETCH at a
 * time, so memory is bounded by the batch, never by the result.
 *
 * Why libpq and not apr_dbd's transaction calls: apr_dbd_transaction_start
 * keeps a record allocated from the caller's pool inside the connection and
 * ends the transaction from a cleanup on that pool; a pooled connection
 * would outlive both. Here the transaction is ours from BEGIN to COMMIT or
 * ROLLBACK, and apr_dbd's own state is never touched.
 */
#include <string.h>

#include <apr_strings.h>

#include "os_cursor.h"

/* Cursor names are per session and each export holds its connection
 * alone, so one fixed name is enough. */
#define OS_CURSOR_NAME "orderstream_cursor"

struct os_cursor {
    PGconn *conn;
    apr_pool_t *pool;
    os_pgerr err;
};

os_cursor *os_cursor_create(PGconn *conn, apr_pool_t *p)
{
    os_cursor *cur = apr_pcalloc(p, sizeof(*cur));

    cur->conn = conn;
    cur->pool = p;
    return cur;
}

const os_pgerr *os_cursor_error(const os_cursor *cur)
{
    return &cur->err;
}

int os_cursor_broken(const os_cursor *cur)
{
    return PQstatus(cur->conn) != CONNECTION_OK;
}

apr_status_t os_cursor_reconnect(os_cursor *cur)
{
    if (!os_cursor_broken(cur) || !cur->err.step
        || strcmp(cur->err.step, "BEGIN")) {
        return APR_EGENERAL;
    }
    /* The same PGconn, so apr_dbd's handle stays valid; as mod_dbd's own
     * check would on the next acquire, but in time for this request. */
    PQreset(cur->conn);
    return os_cursor_broken(cur) ? APR_ECONNREFUSED : APR_SUCCESS;
}

int os_cursor_timed_out(const os_cursor *cur)
{
    return cur->err.sqlstate && !strcmp(cur->err.sqlstate, "57014");
}

/* Keeps what PostgreSQL (or libpq, when the connection broke) said. */
static void keep_error(os_cursor *cur, const char *step, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char *m;
    size_t n;

    if (!msg || !*msg) {
        msg = PQerrorMessage(cur->conn);
    }
    m = apr_pstrdup(cur->pool, msg ? msg : "unknown error");
    /* libpq's messages end in newlines and may span lines: keep one line */
    for (n = strlen(m); n && (m[n - 1] == '\n' || m[n - 1] == ' '); n--) {
        m[n - 1] = '\0';
    }
    for (n = 0; m[n]; n++) {
        if (m[n] == '\n' || m[n] == '\r' || m[n] == '\t') {
            m[n] = ' ';
        }
    }
    cur->err.step = step;
    cur->err.sqlstate = apr_pstrdup(cur->pool, state ? state : "");
    cur->err.message = m;
}

/* Runs a command that returns no rows. */
static apr_status_t command(os_cursor *cur, const char *step, const char *sql)
{
    PGresult *res = PQexec(cur->conn, sql);
    apr_status_t rv = APR_SUCCESS;

    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        keep_error(cur, step, res);
        rv = APR_EGENERAL;
    }
    PQclear(res);
    return rv;
}

apr_status_t os_cursor_open(os_cursor *cur, const char *sql, long timeout_ms)
{
    const char *declare = apr_pstrcat(
        cur->pool, "DECLARE " OS_CURSOR_NAME " NO SCROLL CURSOR FOR ", sql,
        NULL);
    const char *begin;
    PGresult *res = NULL;
    apr_status_t rv;

    /* Someone else's transaction left open on a pooled connection would
     * swallow our BEGIN (a warning, not an error) and its settings. */
    if (PQtransactionStatus(cur->conn) != PQTRANS_IDLE) {
        os_cursor_abort(cur);
    }
    /* REPEATABLE READ: one snapshot for the whole export, however long it
     * runs. READ ONLY: an export can never write, whatever the SQL says.
     * client_encoding: the body is declared UTF-8 whatever the database's
     * encoding. SET LOCAL ends with the transaction, so the next user of
     * the connection (or a transaction-pooling PgBouncer) never sees it.
     * One round trip for all. */
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
            "SET LOCAL client_encoding TO 'UTF8'";
    if (timeout_ms >= 0) {
        begin =
            apr_psprintf(cur->pool, "%s; SET LOCAL statement_timeout = %ld",
                         begin, timeout_ms);
    }
    rv = command(cur, "BEGIN", begin);
    if (rv != APR_SUCCESS) {
        goto fail;
    }
    /* PQexecParams (extended protocol) refuses a second statement in the
     * string, and is where bind parameters will go. */
    res = PQexecParams(cur->conn, declare, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        keep_error(cur, "DECLARE", res);
        rv = APR_EGENERAL;
        goto fail;
    }
    PQclear(res);
    return APR_SUCCESS;

fail:
    PQclear(res);
    os_cursor_abort(cur);
    return rv;
}

static apr_status_t clear_result(void *res)
{
    PQclear(res);
    return APR_SUCCESS;
}

apr_status_t os_cursor_fetch(os_cursor *cur, int n, PGresult **res,
                             apr_pool_t *pool)
{
    char sql[64];

    apr_snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM " OS_CURSOR_NAME, n);
    *res = PQexec(cur->conn, sql);
    if (PQresultStatus(*res) != PGRES_TUPLES_OK) {
        keep_error(cur, "FETCH", *res);
        PQclear(*res);
        *res = NULL;
        return APR_EGENERAL;
    }
    /* The batch pool owns the rows: clearing it frees them. */
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* PostgreSQL's MOVE takes a 32-bit count. */
#define OS_MOVE_MAX 2147483647

apr_status_t os_cursor_move(os_cursor *cur, apr_int64_t n)
{
    char sql[80];
    PGresult *res;
    apr_int64_t step, moved;

    /* In steps a MOVE can take; one that moves fewer rows than asked has
     * reached the end, so a huge offset costs no more than the rows. */
    while (n > 0) {
        step = n < OS_MOVE_MAX ? n : OS_MOVE_MAX;
        apr_snprintf(sql, sizeof(sql),
                     "MOVE FORWARD %" APR_INT64_T_FMT " FROM " OS_CURSOR_NAME,
                     step);
        res = PQexec(cur->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            keep_error(cur, "MOVE", res);
            PQclear(res);
            return APR_EGENERAL;
        }
        moved = apr_atoi64(PQcmdTuples(res));
        PQclear(res);
        if (moved < step) {
            break;
        }
        n -= step;
    }
    return APR_SUCCESS;
}

apr_status_t os_cursor_describe(os_cursor *cur, PGresult **res,
                                apr_pool_t *pool)
{
    *res = PQdescribePortal(cur->conn, OS_CURSOR_NAME);
    if (PQresultStatus(*res) != PGRES_COMMAND_OK) {
        keep_error(cur, "DESCRIBE", *res);
        PQclear(*res);
        *res = NULL;
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t os_cursor_close(os_cursor *cur)
{
    apr_status_t rv = command(cur, "CLOSE", "CLOSE " OS_CURSOR_NAME);

    if (rv == APR_SUCCESS) {
        rv = command(cur, "COMMIT", "COMMIT");
    }
    if (rv != APR_SUCCESS) {
        os_cursor_abort(cur);
    }
    return rv;
}

/* Stops a statement in progress. Reading its remaining result instead
 * could take seconds for millions of rows in flight. */
static void cancel_running(PGconn *conn)
{
    PGcancel *cancel = PQgetCancel(conn);
    char errbuf[256];
    PGresult *res;

    if (cancel) {
        PQcancel(cancel, errbuf, sizeof(errbuf));
        PQfreeCancel(cancel);
    }
    while ((res = PQgetResult(conn)) != NULL) {
        PQclear(res);
    }
}

void os_cursor_abort(os_cursor *cur)
{
    PGconn *conn = cur->conn;
    PGresult *res;

    /* A broken connection has no transaction left on the server; mod_dbd
     * resets it (PQreset) on its next acquire. */
    if (PQstatus(conn) != CONNECTION_OK) {
        return;
    }
    if (PQtransactionStatus(conn) == PQTRANS_ACTIVE) {
        cancel_running(conn);
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        /* Ends the transaction and with it the cursor. */
        res = PQexec(conn, "ROLLBACK");
        PQclear(res);
    }
}
