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
 *
 * Every statement is sent and then waited for in one place (collect): with
 * a watch (os_cursor_watch) the wait also notices a client that left, and
 * cancels the statement then rather than when it returns.
 *
 * Layer db: may call its own layer and base.
 */
#include <poll.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "os_cursor.h"

/* Cursor names are per session and each export holds its connection
 * alone, so fixed names are enough: orderstream_1 for the first query of
 * the chain, and so on. */
#define OS_CURSOR_FMT "orderstream_%d"

struct os_cursor {
    PGconn *conn;
    apr_pool_t *pool;
    os_pgerr err;
    int pending_q; /* the query of the FETCH sent and not yet collected */
    os_cursor_wait_fn *wait; /* NULL: libpq waits, nothing is watched */
    void *wait_ctx;
    int gone;             /* the last failure: the client went away */
    const char *snapshot; /* imported at BEGIN (os_slice.c); NULL: none */
};

os_cursor *os_cursor_create(PGconn *conn, apr_pool_t *p)
{
    os_cursor *cur = apr_pcalloc(p, sizeof(*cur));

    cur->conn = conn;
    cur->pool = p;
    return cur;
}

void os_cursor_watch(os_cursor *cur, os_cursor_wait_fn *wait, void *ctx)
{
    cur->wait = wait;
    cur->wait_ctx = ctx;
}

void os_cursor_watch_like(os_cursor *cur, const os_cursor *from)
{
    cur->wait = from->wait;
    cur->wait_ctx = from->wait_ctx;
}

int os_cursor_client_gone(const os_cursor *cur)
{
    return cur->gone;
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

int os_cursor_role_refused(const os_cursor *cur)
{
    /* PostgreSQL 15 reports a role that does not exist as 22023 (the
     * role setting's check), 42704 in other paths; 42501 is "permission
     * denied to set role". */
    return cur->err.step && !strcmp(cur->err.step, "SET ROLE")
        && cur->err.sqlstate
        && (!strcmp(cur->err.sqlstate, "22023")
            || !strcmp(cur->err.sqlstate, "42704")
            || !strcmp(cur->err.sqlstate, "42501"));
}

/* Keeps what PostgreSQL (or libpq, when the connection broke) said. */
static void keep_error(os_cursor *cur, const char *step, int query,
                       const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg =
        res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char *m;
    size_t n;

    if (cur->gone) {
        msg = "the client went away: statement cancelled";
    }
    else if (!msg || !*msg) {
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
    cur->err.query = query;
    cur->err.sqlstate = apr_pstrdup(cur->pool, state ? state : "");
    cur->err.message = m;
}

static void cancel_running(PGconn *conn);

/* Until the result of what was sent can be read without blocking,
 * watching the client meanwhile. APR_ECONNABORTED: it is gone, and the
 * statement was cancelled (its results drained). */
static apr_status_t await(os_cursor *cur)
{
    apr_status_t rv;

    while (cur->wait && PQisBusy(cur->conn)) {
        int fd = PQsocket(cur->conn);
        rv = cur->wait(cur->wait_ctx, &fd, 1);
        if (rv == APR_ECONNABORTED) {
            cancel_running(cur->conn);
            return rv;
        }
        if (rv == APR_SUCCESS && !PQconsumeInput(cur->conn)) {
            break; /* the connection broke: PQgetResult says so */
        }
    }
    return APR_SUCCESS;
}

/* The result of the statement just sent (sent: PQsend* succeeded), as
 * PQexec returns it: the last of its results. NULL when sending failed or
 * the client went away (cur->gone); the caller keeps the error. */
static PGresult *collect(os_cursor *cur, int sent)
{
    PGresult *res, *last = NULL;

    cur->gone = 0;
    if (!sent) {
        return NULL;
    }
    while (await(cur) == APR_SUCCESS) {
        if ((res = PQgetResult(cur->conn)) == NULL) {
            return last;
        }
        PQclear(last);
        last = res;
    }
    PQclear(last);
    cur->gone = 1;
    return NULL;
}

/* Takes a result whose rows nobody reads: success when its status is
 * want; otherwise the error is kept for the caller (step, query). Clears
 * res either way. */
static apr_status_t expect(os_cursor *cur, PGresult *res, ExecStatusType want,
                           const char *step, int query)
{
    apr_status_t rv = APR_SUCCESS;

    if (PQresultStatus(res) != want) {
        keep_error(cur, step, query, res);
        rv = APR_EGENERAL;
    }
    PQclear(res);
    return rv;
}

/* Runs a command that returns no rows. */
static apr_status_t command(os_cursor *cur, const char *step, const char *sql)
{
    return expect(cur, collect(cur, PQsendQuery(cur->conn, sql)),
                  PGRES_COMMAND_OK, step, 0);
}

/* The name of query q's cursor, in buf. */
static const char *cursor_name(char *buf, apr_size_t len, int q)
{
    apr_snprintf(buf, len, OS_CURSOR_FMT, q + 1);
    return buf;
}

/* DECLARE query q. PQexecParams (extended protocol) refuses a second
 * statement in the string, and sends the values apart from the SQL text:
 * they are never parsed as SQL. */
static apr_status_t declare(os_cursor *cur, int q, const char *sql,
                            const os_cursor_binds *b)
{
    char name[32];
    const char *declare =
        apr_pstrcat(cur->pool, "DECLARE ", cursor_name(name, sizeof(name), q),
                    " NO SCROLL CURSOR FOR ", sql, NULL);
    PGresult *res =
        collect(cur,
                PQsendQueryParams(cur->conn, declare, b ? b->n : 0,
                                  b ? b->types : NULL, b ? b->values : NULL,
                                  NULL, NULL, 0));

    return expect(cur, res, PGRES_COMMAND_OK, "DECLARE", q + 1);
}

/* Runs sql with n text parameters, which returns one row. */
static apr_status_t select_params(os_cursor *cur, const char *step,
                                  const char *sql, int n,
                                  const char *const *values)
{
    PGresult *res = collect(
        cur,
        PQsendQueryParams(cur->conn, sql, n, NULL, values, NULL, NULL, 0));

    return expect(cur, res, PGRES_TUPLES_OK, step, 0);
}

/* The settings, then the role, each bound. set_config(..., true) is SET
 * LOCAL: it ends with the transaction, so neither the next user of the
 * pooled connection nor PgBouncer's next client (transaction pooling)
 * inherits it. The role goes through set_config('role', $1, true) rather
 * than SET LOCAL ROLE: SET takes no bind parameter, so the name would
 * have to be spliced into the SQL text as a quoted identifier; bound, it
 * is data like every other value from a request. All settings in one
 * statement, one round trip; the role in its own, so that a refusal is
 * told apart ("SET ROLE", os_cursor_role_refused). */
static apr_status_t set_local(os_cursor *cur, const os_cursor_local *local)
{
    const char **values;
    const char *sql = "SELECT";
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (local->nsettings > 0) {
        values = apr_palloc(cur->pool, sizeof(*values) * 2 * local->nsettings);
        for (i = 0; i < local->nsettings; i++) {
            sql = apr_psprintf(cur->pool, "%s%s set_config($%d, $%d, true)",
                               sql, i ? "," : "", 2 * i + 1, 2 * i + 2);
            values[2 * i] = local->names[i];
            values[2 * i + 1] = local->values[i];
        }
        rv = select_params(cur, "SET", sql, 2 * local->nsettings, values);
    }
    if (rv == APR_SUCCESS && local->role) {
        rv = select_params(cur, "SET ROLE",
                           "SELECT set_config('role', $1, true)", 1,
                           &local->role);
    }
    return rv;
}

apr_status_t os_cursor_open(os_cursor *cur, const apr_array_header_t *queries,
                            const os_cursor_binds *binds, long timeout_ms,
                            const os_cursor_local *local)
{
    const char *begin;
    apr_status_t rv;
    int q;

    /* Someone else's transaction left open on a pooled connection would
     * swallow our BEGIN (a warning, not an error) and its settings. */
    if (PQtransactionStatus(cur->conn) != PQTRANS_IDLE) {
        os_cursor_abort(cur);
    }
    /* REPEATABLE READ: one snapshot for the whole export, however long it
     * runs, and for every query of a chain. READ ONLY: an export can never
     * write, whatever the SQL says. client_encoding: the body is declared
     * UTF-8 whatever the database's encoding. SET LOCAL ends with the
     * transaction, so the next user of the connection (or a
     * transaction-pooling PgBouncer) never sees it. One round trip for
     * all. */
    begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
            "SET LOCAL client_encoding TO 'UTF8'";
    if (cur->snapshot) {
        /* Must come first in the transaction; the id was checked to be
         * pg_export_snapshot()'s hex digits and dashes, so it cannot
         * break out of its quotes (SET takes no bind parameter). */
        begin = apr_pstrcat(cur->pool, begin, "; SET TRANSACTION SNAPSHOT '",
                            cur->snapshot, "'", NULL);
    }
    if (timeout_ms >= 0) {
        begin =
            apr_psprintf(cur->pool, "%s; SET LOCAL statement_timeout = %ld",
                         begin, timeout_ms);
    }
    rv = command(cur, "BEGIN", begin);
    if (rv == APR_SUCCESS && local) {
        rv = set_local(cur, local);
    }
    /* Every cursor now, before the first byte: a query that cannot run is
     * still a 500, and all of them read the transaction's one snapshot. */
    for (q = 0; rv == APR_SUCCESS && q < queries->nelts; q++) {
        rv = declare(cur, q, APR_ARRAY_IDX(queries, q, const char *), binds);
    }
    if (rv != APR_SUCCESS) {
        os_cursor_abort(cur);
    }
    return rv;
}

apr_status_t os_cursor_redeclare(os_cursor *cur, int q, const char *sql,
                                 const os_cursor_binds *binds)
{
    char close[48], name[32];
    apr_status_t rv;

    apr_snprintf(close, sizeof(close), "CLOSE %s",
                 cursor_name(name, sizeof(name), q));
    rv = command(cur, "CLOSE", close);
    if (rv == APR_SUCCESS) {
        rv = declare(cur, q, sql, binds);
    }
    if (rv != APR_SUCCESS) {
        os_cursor_abort(cur);
    }
    return rv;
}

apr_status_t os_cursor_exec(os_cursor *cur, const char *step, const char *sql)
{
    apr_status_t rv = command(cur, step, sql);

    if (rv != APR_SUCCESS) {
        os_cursor_abort(cur);
    }
    return rv;
}

static apr_status_t clear_result(void *res)
{
    PQclear(res);
    return APR_SUCCESS;
}

apr_status_t os_cursor_fetch_send(os_cursor *cur, int q, int n)
{
    char sql[64], name[32];

    apr_snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM %s", n,
                 cursor_name(name, sizeof(name), q));
    cur->pending_q = q;
    if (!PQsendQuery(cur->conn, sql)) {
        keep_error(cur, "FETCH", q + 1, NULL);
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t os_cursor_fetch_wait(os_cursor *cur, PGresult **res,
                                  apr_pool_t *pool)
{
    /* One statement, one result: reading up to the NULL that ends it
     * leaves the connection ready for the next command. */
    *res = collect(cur, 1);
    if (PQresultStatus(*res) != PGRES_TUPLES_OK) {
        keep_error(cur, "FETCH", cur->pending_q + 1, *res);
        PQclear(*res);
        *res = NULL;
        return APR_EGENERAL;
    }
    /* The batch pool owns the rows: clearing it frees them. */
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t os_cursor_fetch(os_cursor *cur, int q, int n, PGresult **res,
                             apr_pool_t *pool)
{
    apr_status_t rv = os_cursor_fetch_send(cur, q, n);

    return rv == APR_SUCCESS ? os_cursor_fetch_wait(cur, res, pool) : rv;
}

void os_cursor_consume(os_cursor *cur)
{
    /* Never blocks: libpq's socket is non-blocking and this reads only
     * what has arrived. A failure shows in os_cursor_fetch_wait. */
    PQconsumeInput(cur->conn);
}

/* PostgreSQL's MOVE takes a 32-bit count. */
#define OS_MOVE_MAX 2147483647

apr_status_t os_cursor_move(os_cursor *cur, int q, apr_int64_t n,
                            apr_int64_t *moved)
{
    char sql[96], name[32];
    PGresult *res;
    apr_int64_t step, done;

    /* In steps a MOVE can take; one that moves fewer rows than asked has
     * reached the end, so a huge offset costs no more than the rows. */
    *moved = 0;
    while (n > 0) {
        step = n < OS_MOVE_MAX ? n : OS_MOVE_MAX;
        apr_snprintf(sql, sizeof(sql),
                     "MOVE FORWARD %" APR_INT64_T_FMT " FROM %s", step,
                     cursor_name(name, sizeof(name), q));
        res = collect(cur, PQsendQuery(cur->conn, sql));
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            keep_error(cur, "MOVE", q + 1, res);
            PQclear(res);
            return APR_EGENERAL;
        }
        done = apr_atoi64(PQcmdTuples(res));
        PQclear(res);
        *moved += done;
        if (done < step) {
            break;
        }
        n -= step;
    }
    return APR_SUCCESS;
}

apr_status_t os_cursor_describe(os_cursor *cur, int q, PGresult **res,
                                apr_pool_t *pool)
{
    char name[32];

    *res = collect(
        cur,
        PQsendDescribePortal(cur->conn, cursor_name(name, sizeof(name), q)));
    if (PQresultStatus(*res) != PGRES_COMMAND_OK) {
        keep_error(cur, "DESCRIBE", q + 1, *res);
        PQclear(*res);
        *res = NULL;
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* Keeps *res for pool when its status is want; else as expect(), and the
 * transaction is ended. */
static apr_status_t keep_result(os_cursor *cur, PGresult **res,
                                ExecStatusType want, const char *step,
                                int query, apr_pool_t *pool)
{
    if (PQresultStatus(*res) != want) {
        expect(cur, *res, want, step, query);
        *res = NULL;
        os_cursor_abort(cur);
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t os_cursor_describe_sql(os_cursor *cur, const char *sql, int n,
                                    const Oid *types, PGresult **res,
                                    apr_pool_t *pool)
{
    /* "": the unnamed statement, replaced by the next Parse and dropped
     * by the next simple query; a named one would outlive the
     * transaction on a pooled connection. */
    *res = PQprepare(cur->conn, "", sql, n, types);
    if (PQresultStatus(*res) != PGRES_COMMAND_OK) {
        return keep_result(cur, res, PGRES_COMMAND_OK, "DESCRIBE", 1, pool);
    }
    PQclear(*res);
    *res = PQdescribePrepared(cur->conn, "");
    return keep_result(cur, res, PGRES_COMMAND_OK, "DESCRIBE", 1, pool);
}

apr_status_t os_cursor_select(os_cursor *cur, const char *step,
                              const char *sql, int n,
                              const char *const *values, PGresult **res,
                              apr_pool_t *pool)
{
    /* Sent and collected as every statement is, so that the client is
     * watched while a slow one (OrderStreamParallel's SPLIT-SQL) runs. */
    *res = collect(
        cur,
        PQsendQueryParams(cur->conn, sql, n, NULL, values, NULL, NULL, 0));
    return keep_result(cur, res, PGRES_TUPLES_OK, step, 0, pool);
}

apr_status_t os_cursor_close(os_cursor *cur)
{
    /* COMMIT closes every cursor of the transaction (none is WITH HOLD):
     * one round trip, however long the chain. */
    apr_status_t rv = command(cur, "COMMIT", "COMMIT");

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

void os_cursor_set_snapshot(os_cursor *cur, const char *id)
{
    cur->snapshot = id;
}

/* Without a watch: a plain poll, bounded so the caller looks again. */
static apr_status_t poll_plain(const int *fds, int n)
{
    struct pollfd pfd[OS_CURSOR_WAIT_MAX];
    int i;

    for (i = 0; i < n; i++) {
        pfd[i] = (struct pollfd){ fds[i], POLLIN, 0 };
    }
    return poll(pfd, (nfds_t)n, 1000) > 0 ? APR_SUCCESS : APR_TIMEUP;
}

apr_status_t os_cursor_wait_any(os_cursor *const *curs, int n)
{
    int fds[OS_CURSOR_WAIT_MAX] = { 0 }, i;
    apr_status_t rv;

    n = n > OS_CURSOR_WAIT_MAX ? OS_CURSOR_WAIT_MAX : n;
    if (n <= 0) {
        return APR_TIMEUP;
    }
    for (i = 0; i < n; i++) {
        fds[i] = PQsocket(curs[i]->conn);
    }
    if (!curs[0]->wait) {
        return poll_plain(fds, n);
    }
    rv = curs[0]->wait(curs[0]->wait_ctx, fds, n);
    if (rv == APR_ECONNABORTED) {
        for (i = 0; i < n; i++) {
            cancel_running(curs[i]->conn);
            curs[i]->gone = 1;
            keep_error(curs[i], "FETCH", 0, NULL);
        }
    }
    return rv;
}

PGconn *os_cursor_conn(const os_cursor *cur)
{
    return cur->conn;
}
