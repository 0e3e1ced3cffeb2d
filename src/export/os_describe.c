/* os_describe.c: what columns an export returns, for the download page.
 *
 * A person choosing a download wants to know what is in it before asking
 * for a million rows. The database knows: describing a statement gives
 * the names and types of its columns, and costs a parse, not a run. So
 * the first query of the export's chain (the one whose columns name the
 * header row) goes to PostgreSQL as the unnamed prepared statement,
 * typed with the export's OrderStreamParams and bound to no value
 * (PQprepare), and is described (PQdescribePrepared): nothing is planned
 * or executed, so a query that would take an hour, or fail on its data,
 * describes in a millisecond. A second query names the types as
 * PostgreSQL writes them (format_type: "numeric(12,2)", "timestamp
 * without time zone"), including the typmod. All of it happens in a
 * READ ONLY transaction (os_cursor_open with no queries) with the
 * export's statement_timeout and client_encoding UTF8, whose COMMIT also
 * drops the unnamed statement: the pooled connection goes back clean.
 *
 * The answer depends only on the config and the schema, so each child
 * keeps it for the life of its config: one entry per section of
 * os_config_sections(), found by the section id that every merged config
 * of an export carries. The cache is as big as the config's exports and
 * columns, allocated once per export per child; after that, the page
 * costs the database nothing. A schema change shows after the next
 * graceful restart. Failures are not kept: a database that is down now
 * is asked again by the next page.
 *
 * The connection is borrowed through the gate of exports (os_conn.c,
 * os_limit.c), so that a page never waits forever in mod_dbd for a pool
 * that exports hold; it waits less than an export would (OS_DESCRIBE_WAIT)
 * and shows no columns rather than keep a person waiting.
 *
 * A lower layer than the page: it knows configs and connections, not
 * HTML or JSON.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#include "os_private.h"

#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "os_config.h"
#include "os_conn.h"
#include "os_cursor.h"
#include "os_describe.h"

/* How long a page waits for a connection when every one is held by
 * exports: at most this, or the export's OrderStreamAcquireTimeout if
 * shorter. A page is read by a person; without its columns at once is
 * better than complete after the 10 s an export may wait. */
#define OS_DESCRIBE_WAIT apr_time_from_sec(2)

/* The type names of the described columns, in their order: one round
 * trip for all. Bound as two arrays, though they come from the server. */
#define OS_TYPE_NAMES_SQL                                                     \
    "SELECT format_type(t, m) "                                               \
    "FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS c(t, m, i) "       \
    "ORDER BY i"

typedef struct os_described {
    int n;
    const os_column *cols;
} os_described;

/* This child's answers, by section id; written once each, under lock. */
static struct {
    apr_pool_t *pool; /* the entries and their strings */
    int n;            /* sections in the config */
    const os_described **entries;
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
#endif
} cache;

struct os_describe {
    request_rec *r;
    os_conn *conn;          /* NULL until a first miss */
    os_cursor *cur;         /* on conn */
    os_describe_got failed; /* OS_DESCRIBED: no failure to repeat */
};

void os_describe_child_init(apr_pool_t *pchild)
{
    const apr_array_header_t *sections = os_config_sections();

    apr_pool_create(&cache.pool, pchild);
    apr_pool_tag(cache.pool, "orderstream_describe");
    cache.n = sections ? sections->nelts : 0;
    cache.entries = apr_pcalloc(
        cache.pool, sizeof(*cache.entries) * ((apr_size_t)cache.n + 1));
#if APR_HAS_THREADS
    apr_thread_mutex_create(&cache.lock, APR_THREAD_MUTEX_DEFAULT, pchild);
#endif
}

static void lock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_lock(cache.lock);
#endif
}

static void unlock(void)
{
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(cache.lock);
#endif
}

static const os_described *cached(int id)
{
    const os_described *e;

    if (id < 0 || id >= cache.n || !cache.entries) {
        return NULL;
    }
    lock();
    e = cache.entries[id];
    unlock();
    return e;
}

/* Copies the request's answer into the cache, unless another thread was
 * first; returns the one kept. */
static const os_described *keep(int id, const os_described *mine)
{
    os_described *e;
    os_column *cols;
    int i;

    if (id < 0 || id >= cache.n || !cache.entries) {
        return mine; /* a section the cache does not know: not kept */
    }
    lock();
    if (!cache.entries[id]) {
        e = apr_palloc(cache.pool, sizeof(*e));
        cols =
            apr_palloc(cache.pool, sizeof(*cols) * ((apr_size_t)mine->n + 1));
        for (i = 0; i < mine->n; i++) {
            cols[i].name = apr_pstrdup(cache.pool, mine->cols[i].name);
            cols[i].type = apr_pstrdup(cache.pool, mine->cols[i].type);
        }
        e->n = mine->n;
        e->cols = cols;
        cache.entries[id] = e;
    }
    mine = cache.entries[id];
    unlock();
    return mine;
}

os_describe *os_describe_create(request_rec *r)
{
    os_describe *d = apr_pcalloc(r->pool, sizeof(*d));

    d->r = r;
    d->failed = OS_DESCRIBED;
    return d;
}

void os_describe_done(os_describe *d)
{
    if (d->cur) {
        os_cursor_abort(d->cur);
    }
    if (d->conn) {
        os_conn_release(d->conn);
    }
    d->cur = NULL;
    d->conn = NULL;
}

/* The first miss of the request borrows the connection. */
static os_describe_got borrow(os_describe *d, const os_dir_conf *conf)
{
    request_rec *r = d->r;
    apr_interval_time_t wait = os_config_acquire_timeout(conf);

    if (wait > OS_DESCRIBE_WAIT) {
        wait = OS_DESCRIBE_WAIT;
    }
    /* No OrderStreamMaxConcurrent: the page is not an export; the gate
     * still counts the connection, and waits while DBDMax are held. */
    switch (os_conn_open(r, 0, wait, &d->conn)) {
    case OS_CONN_OK:
        break;
    case OS_CONN_NONE:
        d->conn = NULL;
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      OSLOGNO(00500) "%s: columns not shown on the page: no "
                                     "database connection from mod_dbd (see "
                                     "its messages above)",
                      conf->location);
        return OS_DESCRIBE_UNREACHABLE;
    default:
        d->conn = NULL;
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      OSLOGNO(00501) "%s: columns not shown on the page: "
                                     "every pooled connection (DBDMax) stayed "
                                     "busy for %" APR_TIME_T_FMT " ms",
                      conf->location, apr_time_as_msec(wait));
        return OS_DESCRIBE_BUSY;
    }
    if (strcmp(os_conn_driver(d->conn), "pgsql")) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      OSLOGNO(00502) "%s: DBDriver is %s; orderstream needs "
                                     "DBDriver pgsql",
                      conf->location, os_conn_driver(d->conn));
        return OS_DESCRIBE_FAILED;
    }
    d->cur = os_cursor_create(os_conn_pg(d->conn), r->pool);
    os_conn_guard(d->conn, d->cur);
    return OS_DESCRIBED;
}

/* The transaction; once more on a fresh connection when the pooled one
 * was closed by the server while it sat in the pool (as an export does). */
static apr_status_t begin(os_describe *d, const os_dir_conf *conf)
{
    const apr_array_header_t *none =
        apr_array_make(d->r->pool, 1, sizeof(const char *));
    long timeout_ms = os_config_stmt_timeout_ms(conf);
    apr_status_t rv = os_cursor_open(d->cur, none, NULL, timeout_ms, NULL);

    if (rv != APR_SUCCESS && os_cursor_reconnect(d->cur) == APR_SUCCESS) {
        rv = os_cursor_open(d->cur, none, NULL, timeout_ms, NULL);
    }
    return rv;
}

/* The parameter types, as the export binds them (os_handler.c): the same
 * query text then resolves to the same column types. */
static const Oid *param_types(const os_dir_conf *conf, int *n, apr_pool_t *p)
{
    Oid *types;
    int i;

    *n = conf->params ? conf->params->nelts : 0;
    types = apr_pcalloc(p, sizeof(*types) * ((apr_size_t)*n + 1));
    for (i = 0; i < *n; i++) {
        types[i] =
            os_param_oid(APR_ARRAY_IDX(conf->params, i, os_param_decl).type);
    }
    return types;
}

/* The type OIDs (oids) or the typmods of desc's columns as an array
 * literal, "{20,1700}". */
static const char *array_of(const PGresult *desc, int oids, apr_pool_t *p)
{
    int i, n = PQnfields(desc);
    const char *s = "{";

    for (i = 0; i < n; i++) {
        s = oids ? apr_psprintf(p, "%s%s%u", s, i ? "," : "",
                                (unsigned)PQftype(desc, i))
                 : apr_psprintf(p, "%s%s%d", s, i ? "," : "", PQfmod(desc, i));
    }
    return apr_pstrcat(p, s, "}", NULL);
}

/* The columns of desc, named by format_type, into *out. */
static apr_status_t name_types(os_describe *d, const PGresult *desc,
                               os_described *out)
{
    apr_pool_t *p = d->r->pool;
    const char *values[2];
    os_column *cols;
    PGresult *names;
    apr_status_t rv;
    int i;

    out->n = PQnfields(desc);
    values[0] = array_of(desc, 1, p);
    values[1] = array_of(desc, 0, p);
    rv = os_cursor_select(d->cur, "TYPES", OS_TYPE_NAMES_SQL, 2, values,
                          &names, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    cols = apr_pcalloc(p, sizeof(*cols) * ((apr_size_t)out->n + 1));
    for (i = 0; i < out->n; i++) {
        cols[i].name = apr_pstrdup(p, PQfname(desc, i));
        cols[i].type = apr_pstrdup(
            p, i < PQntuples(names) ? PQgetvalue(names, i, 0) : "?");
    }
    out->cols = cols;
    return APR_SUCCESS;
}

/* One describe of conf's first query, on the request's connection. */
static os_describe_got describe(os_describe *d, const os_dir_conf *conf,
                                os_described *out)
{
    apr_pool_t *p = d->r->pool;
    const Oid *types;
    const os_pgerr *e;
    PGresult *desc;
    apr_status_t rv;
    int n;

    rv = begin(d, conf);
    if (rv == APR_SUCCESS) {
        types = param_types(conf, &n, p);
        rv = os_cursor_describe_sql(d->cur,
                                    APR_ARRAY_IDX(conf->sql, 0, const char *),
                                    n, types, &desc, p);
    }
    if (rv == APR_SUCCESS) {
        rv = name_types(d, desc, out);
    }
    if (rv == APR_SUCCESS) {
        rv = os_cursor_close(d->cur);
    }
    if (rv == APR_SUCCESS) {
        return OS_DESCRIBED;
    }
    e = os_cursor_error(d->cur);
    ap_log_rerror(APLOG_MARK,
                  os_cursor_broken(d->cur) ? APLOG_WARNING : APLOG_ERR, 0,
                  d->r,
                  OSLOGNO(00503) "%s: columns not shown on the page: %s "
                                 "at %s: SQLSTATE %s: %s",
                  conf->location,
                  os_cursor_broken(d->cur) ? "database unreachable"
                                           : "the query cannot be described",
                  e->step, *e->sqlstate ? e->sqlstate : "none (no connection)",
                  e->message);
    return os_cursor_broken(d->cur) ? OS_DESCRIBE_UNREACHABLE
                                    : OS_DESCRIBE_FAILED;
}

os_describe_got os_describe_columns(os_describe *d, const os_dir_conf *conf,
                                    int *ncols, const os_column **cols)
{
    const os_described *e = cached(conf->id);
    os_described mine = { 0, NULL };
    os_describe_got got = OS_DESCRIBED;

    *ncols = 0;
    *cols = NULL;
    if (!e && d->failed != OS_DESCRIBED) {
        return d->failed; /* this request tried the database already */
    }
    if (!e && !d->cur) {
        got = borrow(d, conf);
    }
    if (!e && got == OS_DESCRIBED) {
        got = describe(d, conf, &mine);
    }
    if (!e && got == OS_DESCRIBED) {
        e = keep(conf->id, &mine);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, d->r,
                      OSLOGNO(00504) "%s: %d columns described for the page, "
                                     "kept for this child",
                      conf->location, e->n);
    }
    /* Without a connection, or without a live one, the next export of
     * this request would only fail the same way, later. */
    if (got != OS_DESCRIBED && (!d->cur || got == OS_DESCRIBE_UNREACHABLE)) {
        d->failed = got;
    }
    if (e) {
        *ncols = e->n;
        *cols = e->cols;
    }
    return got;
}
