/* os_cursor.h: a server-side cursor over one READ ONLY transaction.
 *
 * Needs only APR and libpq (not httpd), on a PGconn that the caller owns
 * (here the one behind a mod_dbd connection). The rows of a result are only
 * ever in memory one FETCH at a time.
 *
 * Layer db: may call its own layer and base.
 */
#ifndef OS_CURSOR_H
#define OS_CURSOR_H

#include <apr_pools.h>
#include <libpq-fe.h>

typedef struct os_cursor os_cursor;

/* What PostgreSQL said when a step failed. Strings live in the cursor's
 * pool; sqlstate is "" when the connection itself broke. */
typedef struct os_pgerr {
    const char *step; /* "BEGIN", "DECLARE", "MOVE", "FETCH", "COMMIT", ... */
    int query;        /* which query of the chain, from 1; 0: none */
    const char *sqlstate;
    const char *message; /* one line, no trailing newline */
} os_pgerr;

/* The bind parameters every query of the chain gets: $1 to $n, typed (so
 * a query may leave some unused), values in text form, NULL for SQL
 * NULL. */
typedef struct os_cursor_binds {
    int n;
    const Oid *types;
    const char *const *values;
} os_cursor_binds;

/* What the export's transaction sets before its queries are declared, so
 * that PostgreSQL's grants, row-level security policies and views see
 * who asked: custom settings (set_config(name, value, true)), then a role
 * (set_config('role', role, true), which is SET LOCAL ROLE). All of it
 * ends with the transaction. Names and values are bound, never SQL text;
 * the caller has checked them (a role name not "none", at most 63 bytes:
 * os_identity.c says why). */
typedef struct os_cursor_local {
    int nsettings;
    const char *const *names;  /* custom settings: "shop.customer" */
    const char *const *values; /* UTF-8 text each */
    const char *role;          /* NULL: the connection's own */
} os_cursor_local;

/* A cursor on conn, allocated from p. Nothing is sent yet. */
os_cursor *os_cursor_create(PGconn *conn, apr_pool_t *p);

/* Waits until one of the n sockets fds (the database's) has something to
 * read (APR_SUCCESS), or a moment passed with nothing (APR_TIMEUP: asked
 * again), or the client the export is for is gone (APR_ECONNABORTED). */
typedef apr_status_t os_cursor_wait_fn(void *ctx, const int *fds, int n);

/* From now on every wait for the database goes through wait(ctx, ...)
 * (os_watch_wait): when it says the client is gone, the statement running
 * is cancelled, the step fails with os_cursor_client_gone() true, and the
 * caller ends the transaction (os_cursor_abort) as after any failure.
 * Without a watch, libpq waits on its own and nothing is watched. */
void os_cursor_watch(os_cursor *cur, os_cursor_wait_fn *wait, void *ctx);

/* cur watches what from watches (os_slice.c: a slice's cursor, the
 * export's client). */
void os_cursor_watch_like(os_cursor *cur, const os_cursor *from);

/* Waits until one of the n cursors, each with a FETCH in flight
 * (os_cursor_fetch_send), has something to read: APR_SUCCESS, or
 * APR_TIMEUP after a moment with nothing. The client is watched as by
 * curs[0]'s watch; when it is gone every statement in flight is
 * cancelled, each cursor's error says so (os_cursor_client_gone) and
 * APR_ECONNABORTED is returned. Without a watch it polls the sockets
 * for up to a second. */
apr_status_t os_cursor_wait_any(os_cursor *const *curs, int n);

/* The most cursors one os_cursor_wait_any looks at (os_watch.h's
 * OS_WATCH_MAX sockets): an export's most slices. */
#define OS_CURSOR_WAIT_MAX 16

/* Whether the last failure was the client going away (os_cursor_watch):
 * the query was cancelled, nothing went wrong in the database. */
int os_cursor_client_gone(const os_cursor *cur);

/* BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; DECLARE a NO SCROLL
 * cursor (never WITH HOLD: that would materialise the whole result at
 * commit) for each query of queries (const char *), all in the one
 * snapshot, each with binds (may be NULL). timeout_ms >= 0 sets
 * statement_timeout for the transaction alone (0: none); -1 leaves the
 * database's setting. local (may be NULL) is set after BEGIN and before
 * the first DECLARE (steps "SET" and "SET ROLE"). Returns APR_SUCCESS, or
 * APR_EGENERAL with os_cursor_error() filled in and the transaction
 * rolled back. Below, q is the query's index in queries, from 0. */
apr_status_t os_cursor_open(os_cursor *cur, const apr_array_header_t *queries,
                            const os_cursor_binds *binds, long timeout_ms,
                            const os_cursor_local *local);

/* FETCH FORWARD n from query q. On success *res holds at most n rows and
 * is freed when pool is cleared or destroyed (give it the per-batch pool).
 * Returns APR_EGENERAL on failure, with os_cursor_error() filled in. */
apr_status_t os_cursor_fetch(os_cursor *cur, int q, int n, PGresult **res,
                             apr_pool_t *pool);

/* FETCH in two halves, so that the database produces the next batch while
 * this one is written to the client (sequential FETCHes leave each side
 * idle while the other works: STACK-NOTES measured 0.65x COPY's speed for
 * them, about 1.0x with the next FETCH already sent). _send() sends FETCH
 * FORWARD n FROM query q's cursor and returns; _wait() collects its rows
 * into *res (freed with pool), failing as os_cursor_fetch. Nothing else
 * may be sent in between; os_cursor_abort() cancels a FETCH in flight. */
apr_status_t os_cursor_fetch_send(os_cursor *cur, int q, int n);
apr_status_t os_cursor_fetch_wait(os_cursor *cur, PGresult **res,
                                  apr_pool_t *pool);

/* Reads what the server has sent of a FETCH in flight, without waiting:
 * called while a batch is written, it keeps the socket drained so the
 * server is not held up writing the next one. */
void os_cursor_consume(os_cursor *cur);

/* MOVE FORWARD n in query q: skips up to n rows in the database, none is
 * transferred; *moved says how many there were. APR_EGENERAL on failure,
 * with os_cursor_error() filled in. */
apr_status_t os_cursor_move(os_cursor *cur, int q, apr_int64_t n,
                            apr_int64_t *moved);

/* Query q's columns without fetching a row. *res is freed with pool, as
 * os_cursor_fetch's. */
apr_status_t os_cursor_describe(os_cursor *cur, int q, PGresult **res,
                                apr_pool_t *pool);

/* The columns sql would return, without running it: PostgreSQL parses
 * and analyses it as the unnamed prepared statement (PQprepare, with the
 * n parameter types given) and describes that (PQdescribePrepared);
 * nothing is planned or executed and no value is bound. For a
 * transaction opened by os_cursor_open (with no queries): its COMMIT or
 * ROLLBACK, sent as a simple query, also drops the unnamed statement, so
 * the connection goes back with nothing of it. *res is freed with pool.
 * On failure, as os_cursor_exec (step "DESCRIBE", query 1). */
apr_status_t os_cursor_describe_sql(os_cursor *cur, const char *sql, int n,
                                    const Oid *types, PGresult **res,
                                    apr_pool_t *pool);

/* Runs sql, a query of ours with n text parameters (never request
 * input), in the open transaction; *res holds its rows, freed with pool.
 * On failure, as os_cursor_exec. */
apr_status_t os_cursor_select(os_cursor *cur, const char *step,
                              const char *sql, int n,
                              const char *const *values, PGresult **res,
                              apr_pool_t *pool);

/* COMMIT, which closes every cursor. APR_EGENERAL on failure (the
 * transaction is then rolled back). */
apr_status_t os_cursor_close(os_cursor *cur);

/* Replaces query q's cursor, not yet fetched from, by one over sql with
 * the same parameters, in the same transaction and snapshot: NDJSON wraps
 * the query once its columns are known. On failure, as os_cursor_open. */
apr_status_t os_cursor_redeclare(os_cursor *cur, int q, const char *sql,
                                 const os_cursor_binds *binds);

/* Runs sql, a command of the config (never request input), inside the
 * open transaction, before the first FETCH: a format's session setting
 * such as SET LOCAL DateStyle, which applies when rows are sent. step
 * names it in os_cursor_error(). On failure, as os_cursor_open. */
apr_status_t os_cursor_exec(os_cursor *cur, const char *step, const char *sql);

/* Leaves the connection as mod_dbd must get it back: no command running,
 * no result pending, no transaction open. Cancels a running statement
 * rather than reading the rest of its result. Safe to call at any time and
 * more than once; does nothing on a connection already idle. */
void os_cursor_abort(os_cursor *cur);

const os_pgerr *os_cursor_error(const os_cursor *cur);

/* After a failed os_cursor_open(): when the connection was already dead
 * before BEGIN (the server restarted while it sat idle in the pool; mod_dbd
 * only checks a local flag when it hands one out), reconnects it and
 * returns APR_SUCCESS, so the caller may open again: nothing was sent to
 * the client yet. APR_ECONNREFUSED when the database is still unreachable,
 * APR_EGENERAL when the failure was not of that kind. */
apr_status_t os_cursor_reconnect(os_cursor *cur);

/* Whether the connection is gone (the database is unreachable). */
int os_cursor_broken(const os_cursor *cur);

/* SQLSTATE 57014: the statement was cancelled (statement_timeout). */
int os_cursor_timed_out(const os_cursor *cur);

/* Whether os_cursor_open failed because PostgreSQL refused the role: it
 * does not exist (SQLSTATE 22023, or 42704) or the connection's user may
 * not take it (42501). */
int os_cursor_role_refused(const os_cursor *cur);

/* The snapshot (pg_export_snapshot()'s id: hex digits and dashes only)
 * that the next os_cursor_open imports with SET TRANSACTION SNAPSHOT, so
 * that this connection sees what another transaction sees (os_slice.c).
 * id must outlive the cursor. */
void os_cursor_set_snapshot(os_cursor *cur, const char *id);

/* The connection the cursor runs on. */
PGconn *os_cursor_conn(const os_cursor *cur);

#endif /* OS_CURSOR_H */
