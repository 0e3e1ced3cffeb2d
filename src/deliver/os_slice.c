/* os_slice.c: one export read by N connections at once, in one snapshot,
 * sent in the serial order (OrderStreamParallel N "SPLIT-SQL").
 *
 * Why: PostgreSQL gives a cursor (and this query's COPY) no parallel plan,
 * so one backend's executor bounds an export while the server's other
 * cores idle. Several sessions can share one snapshot: the export's
 * REPEATABLE READ transaction runs pg_export_snapshot(), and each other
 * connection starts its own with SET TRANSACTION SNAPSHOT, so every one
 * of them sees exactly the same data, however long they run.
 *
 * How the rows are cut: the export's first column must be its leading
 * sort key (ORDER BY starts with it, ascending, NULLs last). Inside the
 * snapshot, N-1 boundaries b1 <= ... <= b(N-1) are picked as quantiles of
 * SPLIT-SQL (percentile_disc over its one column, a cheap source such as
 * the orders' ids), and slice i reads
 *     SELECT * FROM (query) AS s(c1, ..., cK) WHERE c1 >= b(i-1) AND c1 < b(i)
 * (the first without a lower bound, the last without an upper one and
 * with the NULL keys), a condition PostgreSQL pushes down into the query
 * below its ORDER BY (a subquery with ORDER BY is not pulled up, and keeps
 * its order). The slices in turn are then the serial result, row for row.
 *
 * Slice 1 runs on the export's own connection and goes to the writer as
 * it comes, exactly as a serial export does. The others run on
 * connections of their own, at the database's pace: whatever a later
 * slice returns before its turn is written to a nameless file in the
 * spool's directory (os_spool_tmpfile), in batches, within OrderStreamSpool
 * for all of them together; past that bound a slice simply waits with its
 * cursor open. When its turn comes its file is read back batch by batch
 * and then its connection directly. Rows are filed as they came from
 * libpq (lengths and bytes, NULL apart) and read back into a PGresult
 * (PQsetvalue) with the columns of the export: the format's writer sees
 * the same rows in the same order as in a serial export and writes the
 * same bytes, whatever the format (grouping across slice boundaries and
 * xlsx included), since it is one writer for the whole body.
 *
 * No threads: the request's thread services every connection with
 * libpq's non-blocking calls, between the rows it writes
 * (os_slice_consume) and while it waits for the slice it needs (poll on
 * every socket with a FETCH in flight). Memory: one batch per slice in
 * libpq at most, one batch read back from a file.
 *
 * Connections are taken through the same gate as exports (os_conn_open,
 * os_limit.h) without waiting: if the pool cannot give them all at once,
 * the ones taken go back and the export runs serially. Each slice's
 * connection has os_conn's pre-cleanup, which cancels and rolls back
 * whatever is open: on every failure every slice's statement is
 * cancelled (os_slice_abort) and every connection goes back idle.
 *
 * The wait for the slices is watched as every wait of the export is
 * (os_cursor_wait_any, os_watch.c): a client that leaves while the
 * slices read cancels them all within a tick.
 *
 * Layer deliver: may call its own layer, db and base.
 */
#include "os_private.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>
#include <http_log.h>

#include "os_slice.h"
#include "os_spool.h"

typedef struct os_slice {
    int i;         /* 0-based */
    os_conn *conn; /* NULL: the export's own */
    os_cursor *cur;
    PGconn *pg;
    int inflight;    /* a FETCH sent, its result not collected */
    int asked;       /* rows it asked for */
    int ended;       /* a FETCH returned fewer: the slice is read */
    int closed;      /* its transaction ended, its connection back */
    int fd;          /* its file, -1: none yet */
    apr_off_t wrote; /* bytes in the file */
    apr_off_t read;  /* of them, read back */
} os_slice;

struct os_slices {
    request_rec *r;
    const char *location;
    int n;
    int at; /* the slice whose rows the writer takes now */
    os_slice *s;
    int fetch_rows;
    apr_off_t limit;    /* bytes all files may hold */
    apr_off_t buffered; /* bytes in the files not read back yet */
    const char *dir;
    int ncols;
    PGresAttDesc *attrs; /* the export's columns, for read-back batches */
    os_cursor *failed;   /* the slice whose error stopped the export */
    apr_pool_t *scratch; /* one batch being filed */
    char *buf;           /* one filed batch being read back */
    apr_size_t bufcap;
    os_slice_render_fn *render; /* plan->render: batches filed rendered */
    void *render_ctx;
    os_out *ahead; /* where they are rendered (detached) */
    int piece;     /* a rendered piece waits for os_slice_piece */
    apr_size_t piece_len;
    apr_int64_t piece_rows;
};

/* ---- the plan: snapshot, boundaries, queries --------------------------- */

/* Whether id looks as pg_export_snapshot() makes them (hex and dashes),
 * since it goes into SQL text (SET TRANSACTION SNAPSHOT takes no
 * parameter). */
static int snapshot_id_ok(const char *id)
{
    return *id && strspn(id, "0123456789ABCDEFabcdef-") == strlen(id);
}

/* The n-1 quantiles of the split query's column, as text: fewer when it
 * has fewer values (then the caller runs serially). */
static apr_status_t boundaries(const os_slice_plan *plan, os_cursor *main,
                               const char ***b, int *nb, apr_pool_t *p)
{
    const char *fractions = "{", *sql, *vals[1];
    PGresult *res;
    apr_status_t rv;
    int i;

    for (i = 1; i < plan->n; i++) {
        fractions = apr_psprintf(p, "%s%s%.17g", fractions, i > 1 ? "," : "",
                                 (double)i / plan->n);
    }
    vals[0] = apr_pstrcat(p, fractions, "}", NULL);
    /* percentile_disc orders the values as ORDER BY does (the type's
     * default operator class): the boundaries are values of the key,
     * NULLs left out. The query on lines of its own, as a trailing --
     * comment would otherwise swallow the parenthesis. */
    sql = apr_pstrcat(p,
                      "SELECT b::text FROM unnest((SELECT percentile_disc("
                      "$1::float8[]) WITHIN GROUP (ORDER BY orderstream_k) "
                      "FROM (\n",
                      plan->split,
                      "\n) AS orderstream_split(orderstream_k))) AS b", NULL);
    rv = os_cursor_select(main, "SPLIT", sql, 1, vals, &res, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *nb = 0;
    *b = apr_pcalloc(p, sizeof(**b) * (apr_size_t)plan->n);
    for (i = 0; i < PQntuples(res) && *nb < plan->n - 1; i++) {
        if (!PQgetisnull(res, i, 0)) {
            (*b)[(*nb)++] = apr_pstrdup(p, PQgetvalue(res, i, 0));
        }
    }
    return APR_SUCCESS;
}

/* Slice i's query: the export's over its range of the first column, as
 * the format declares it. */
static const char *slice_sql(const os_slice_plan *plan, int ncols, int i,
                             int nparams, apr_pool_t *p)
{
    const char *alias = "", *cond, *sql, *w;
    int c;

    for (c = 1; c <= ncols; c++) {
        alias = apr_psprintf(p, "%s%sc%d", alias, c > 1 ? ", " : "", c);
    }
    if (i == 0) {
        cond = apr_psprintf(p, "c1 < $%d", nparams + 1);
    }
    else if (i == plan->n - 1) {
        cond = apr_psprintf(p, "(c1 >= $%d OR c1 IS NULL)", nparams + 1);
    }
    else {
        cond = apr_psprintf(p, "c1 >= $%d AND c1 < $%d", nparams + 1,
                            nparams + 2);
    }
    sql = apr_psprintf(p,
                       "SELECT * FROM (\n%s\n) AS orderstream_slice(%s) "
                       "WHERE %s",
                       plan->sql, alias, cond);
    w = plan->wrap ? plan->wrap(plan->wrap_ctx, sql, p) : NULL;
    return w ? w : sql;
}

/* The export's parameters and slice i's boundaries after them (their
 * type left to PostgreSQL: the first column's). */
static os_cursor_binds *slice_binds(const os_slice_plan *plan, const char **b,
                                    int i, apr_pool_t *p)
{
    const os_cursor_binds *e = plan->binds;
    os_cursor_binds *sb = apr_pcalloc(p, sizeof(*sb));
    Oid *types;
    const char **values;
    int n = e ? e->n : 0;

    types = apr_pcalloc(p, sizeof(*types) * (apr_size_t)(n + 2));
    values = apr_pcalloc(p, sizeof(*values) * (apr_size_t)(n + 2));
    if (n) {
        memcpy(types, e->types, sizeof(*types) * (apr_size_t)n);
        memcpy(values, e->values, sizeof(*values) * (apr_size_t)n);
    }
    sb->n = n;
    if (i > 0) {
        values[sb->n++] = b[i - 1];
    }
    if (i < plan->n - 1) {
        values[sb->n++] = b[i];
    }
    sb->types = types;
    sb->values = values;
    return sb;
}

/* The export's columns, kept for the batches read back from files. */
static void keep_columns(os_slices *s, const PGresult *desc, apr_pool_t *p)
{
    int c;

    s->ncols = PQnfields(desc);
    s->attrs = apr_pcalloc(p, sizeof(*s->attrs) * (apr_size_t)(s->ncols + 1));
    for (c = 0; c < s->ncols; c++) {
        s->attrs[c].name = apr_pstrdup(p, PQfname(desc, c));
        s->attrs[c].tableid = PQftable(desc, c);
        s->attrs[c].columnid = PQftablecol(desc, c);
        s->attrs[c].format = PQfformat(desc, c);
        s->attrs[c].typid = PQftype(desc, c);
        s->attrs[c].typlen = PQfsize(desc, c);
        s->attrs[c].atttypmod = PQfmod(desc, c);
    }
}

/* n-1 more connections from the gate and the pool, without waiting; on
 * any refusal the ones taken go back: 0. */
static int take_connections(os_slices *s, const os_slice_plan *plan)
{
    int i;

    for (i = 1; i < s->n; i++) {
        if (os_conn_open_spare(plan->r, plan->max_concurrent, i,
                               plan->alongside, &s->s[i].conn)
                != OS_CONN_OK
            || os_conn_shared(s->s[i].conn)) {
            s->s[i].conn = s->s[i].conn && !os_conn_shared(s->s[i].conn)
                ? s->s[i].conn
                : NULL;
            os_slice_abort(s);
            return 0;
        }
        s->s[i].pg = os_conn_pg(s->s[i].conn);
    }
    return 1;
}

/* Slice i on its own connection: the snapshot imported, the settings and
 * role of the export, the format's setup, the slice declared. */
static apr_status_t open_slice(os_slices *s, const os_slice_plan *plan, int i,
                               const char *snapshot, const char **b)
{
    os_slice *sl = &s->s[i];
    apr_pool_t *p = plan->r->pool;
    apr_array_header_t *q = apr_array_make(p, 1, sizeof(const char *));
    int nparams = plan->binds ? plan->binds->n : 0;
    apr_status_t rv;

    sl->cur = os_cursor_create(sl->pg, p);
    os_cursor_watch_like(sl->cur, s->s[0].cur);
    os_conn_guard(sl->conn, sl->cur);
    os_cursor_set_snapshot(sl->cur, snapshot);
    APR_ARRAY_PUSH(q, const char *) = slice_sql(plan, s->ncols, i, nparams, p);
    rv = os_cursor_open(sl->cur, q, slice_binds(plan, b, i, p),
                        plan->timeout_ms, plan->local);
    if (rv == APR_SUCCESS && plan->setup) {
        rv = os_cursor_exec(sl->cur, "SET", plan->setup);
    }
    if (rv != APR_SUCCESS) {
        s->failed = sl->cur;
    }
    return rv;
}

static os_slices *create(const os_slice_plan *plan, os_cursor *main)
{
    apr_pool_t *p = plan->r->pool;
    os_slices *s = apr_pcalloc(p, sizeof(*s));
    int i;

    s->r = plan->r;
    s->location = plan->location;
    s->n = plan->n;
    s->s = apr_pcalloc(p, sizeof(*s->s) * (apr_size_t)s->n);
    for (i = 0; i < s->n; i++) {
        s->s[i].i = i;
        s->s[i].fd = -1;
    }
    s->s[0].cur = main;
    s->s[0].pg = os_cursor_conn(main);
    s->fetch_rows = plan->fetch_rows;
    s->render = plan->render;
    s->render_ctx = plan->render_ctx;
    if (s->render) {
        s->ahead = os_out_create_detached(plan->r);
    }
    s->limit = plan->spool;
    s->dir = plan->spool_dir;
    keep_columns(s, plan->desc, p);
    apr_pool_create(&s->scratch, p);
    apr_pool_tag(s->scratch, "orderstream_slice");
    return s;
}

static apr_status_t close_files(void *data)
{
    os_slices *s = data;
    int i;

    for (i = 0; i < s->n; i++) {
        if (s->s[i].fd >= 0) {
            close(s->s[i].fd);
            s->s[i].fd = -1;
        }
    }
    return APR_SUCCESS;
}

apr_status_t os_slice_start(const os_slice_plan *plan, os_cursor *main,
                            os_conn *main_conn, os_slices **out,
                            const char **why)
{
    apr_pool_t *p = plan->r->pool;
    const char **b = NULL, *snapshot;
    PGresult *res;
    os_slices *s;
    apr_status_t rv;
    int nb = 0, i, nparams = plan->binds ? plan->binds->n : 0;

    *out = NULL;
    if (os_conn_shared(main_conn)) {
        *why = "the request already holds a connection of another module";
        return APR_SUCCESS;
    }
    if (plan->spool <= 0) {
        *why =
            "OrderStreamSpool is off: the later slices have nowhere to wait";
        return APR_SUCCESS;
    }
    rv = os_cursor_select(main, "SNAPSHOT", "SELECT pg_export_snapshot()", 0,
                          NULL, &res, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    snapshot = apr_pstrdup(p, PQgetvalue(res, 0, 0));
    if (!snapshot_id_ok(snapshot)) {
        *why = "PostgreSQL returned a snapshot id this module does not know";
        return APR_SUCCESS;
    }
    if ((rv = boundaries(plan, main, &b, &nb, p)) != APR_SUCCESS) {
        return rv;
    }
    if (nb < plan->n - 1) {
        *why = apr_psprintf(p, "SPLIT-SQL gave %d values, fewer than %d", nb,
                            plan->n - 1);
        return APR_SUCCESS;
    }
    s = create(plan, main);
    if (!take_connections(s, plan)) {
        *why =
            apr_psprintf(p,
                         "the pool could not give %d more connection%s: "
                         "other exports hold connections (alongside=%d), "
                         "or half of it would be in use",
                         plan->n - 1, plan->n > 2 ? "s" : "", plan->alongside);
        return APR_SUCCESS;
    }
    apr_pool_cleanup_register(p, s, close_files, apr_pool_cleanup_null);
    for (i = 1; i < s->n && rv == APR_SUCCESS; i++) {
        rv = open_slice(s, plan, i, snapshot, b);
    }
    if (rv != APR_SUCCESS) {
        /* A slice that cannot begin (a pooler with no server connection
         * to spare, a connection that landed on another server, which
         * does not know the snapshot): the export's own transaction is
         * untouched, so it runs serially rather than fail. */
        const os_pgerr *e = os_cursor_error(s->failed);
        *why = apr_psprintf(
            p, "slice %d of %d could not begin: SQLSTATE %s: %s", i, s->n,
            *e->sqlstate ? e->sqlstate : "none", e->message);
        os_slice_abort(s);
        return APR_SUCCESS;
    }
    /* The export's own cursor becomes slice 1. */
    if (rv == APR_SUCCESS) {
        rv = os_cursor_redeclare(main, 0,
                                 slice_sql(plan, s->ncols, 0, nparams, p),
                                 slice_binds(plan, b, 0, p));
        if (rv != APR_SUCCESS) {
            s->failed = main;
        }
    }
    if (rv != APR_SUCCESS) {
        os_slice_abort(s);
        *out = s; /* for os_slice_failed */
        return rv;
    }
    *out = s;
    return APR_SUCCESS;
}

/* ---- the files ---------------------------------------------------------- */

/* A filed batch: its row count and byte count, then per row per column
 * a 4-byte length (-1: NULL) and the bytes. */
typedef struct {
    apr_uint32_t rows, bytes;
} os_slice_block;

static apr_status_t file_error(os_slices *s, os_slice *sl, int err,
                               const char *what)
{
    ap_log_rerror(
        APLOG_MARK, APLOG_ERR, APR_FROM_OS_ERROR(err), s->r,
        OSLOGNO(00451) "%s: slice %d of %d: cannot %s its spool "
                       "file in %s (OrderStreamSpoolDir): export cut",
        s->location, sl->i + 1, s->n, what, s->dir ? s->dir : "?");
    return APR_EGENERAL;
}

static apr_status_t write_all(int fd, const char *buf, apr_size_t len,
                              apr_off_t at)
{
    ssize_t w;

    while (len > 0) {
        w = pwrite(fd, buf, len, at);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return w < 0 ? errno : EIO;
        }
        buf += w;
        len -= (apr_size_t)w;
        at += w;
    }
    return 0;
}

/* Writes n bytes at the end of sl's file (making it first). */
static apr_status_t append(os_slices *s, os_slice *sl, const void *data,
                           apr_size_t n)
{
    int err;

    if (sl->fd < 0 && (err = os_spool_tmpfile(&s->dir, s->r->pool, &sl->fd))) {
        sl->fd = -1;
        return file_error(s, sl, err, "make");
    }
    if ((err = write_all(sl->fd, data, n, sl->wrote)) != 0) {
        return file_error(s, sl, err, "write");
    }
    sl->wrote += (apr_off_t)n;
    s->buffered += (apr_off_t)n;
    return APR_SUCCESS;
}

/* A batch as filed rows: the block header, then per row per column a
 * 4-byte length (-1: NULL) and the bytes, built in s->scratch. */
static apr_status_t file_rows(os_slices *s, os_slice *sl, const PGresult *res)
{
    int rows = PQntuples(res), r, c;
    apr_size_t len = sizeof(os_slice_block), at = len;
    os_slice_block blk;
    apr_status_t rv;
    char *buf;

    for (r = 0; r < rows; r++) {
        for (c = 0; c < s->ncols; c++) {
            len += 4 + (apr_size_t)PQgetlength(res, r, c);
        }
    }
    buf = apr_palloc(s->scratch, len);
    for (r = 0; r < rows; r++) {
        for (c = 0; c < s->ncols; c++) {
            apr_int32_t n =
                PQgetisnull(res, r, c) ? -1 : PQgetlength(res, r, c);
            memcpy(buf + at, &n, 4);
            at += 4;
            if (n > 0) {
                memcpy(buf + at, PQgetvalue(res, r, c), (apr_size_t)n);
                at += (apr_size_t)n;
            }
        }
    }
    blk.rows = (apr_uint32_t)rows;
    blk.bytes = (apr_uint32_t)(len - sizeof(blk));
    memcpy(buf, &blk, sizeof(blk));
    rv = append(s, sl, buf, len);
    apr_pool_clear(s->scratch);
    return rv;
}

/* A batch rendered by the export's writer (plan->render): the block
 * header, then the writer's buffers as they are, with no copy between. */
static apr_status_t file_rendered(os_slices *s, os_slice *sl,
                                  const PGresult *res)
{
    apr_int64_t rows = 0;
    apr_bucket_brigade *bb;
    apr_off_t total = 0;
    os_slice_block blk;
    apr_bucket *b;
    apr_status_t rv;

    if (s->render(s->render_ctx, s->ahead, res, &rows) != APR_SUCCESS) {
        apr_brigade_cleanup(os_out_take(s->ahead));
        return file_error(s, sl, ENOMEM, "render into");
    }
    bb = os_out_take(s->ahead);
    apr_brigade_length(bb, 1, &total);
    blk.rows = (apr_uint32_t)rows;
    blk.bytes = (apr_uint32_t)total;
    rv = append(s, sl, &blk, sizeof(blk));
    for (b = APR_BRIGADE_FIRST(bb);
         rv == APR_SUCCESS && b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t n;
        rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
        if (rv == APR_SUCCESS) {
            rv = append(s, sl, data, n);
        }
    }
    apr_brigade_cleanup(bb);
    return rv;
}

/* Appends a batch of slice sl to its file. */
static apr_status_t file_batch(os_slices *s, os_slice *sl, const PGresult *res)
{
    if (PQntuples(res) == 0) {
        return APR_SUCCESS;
    }
    return s->render ? file_rendered(s, sl, res) : file_rows(s, sl, res);
}

static apr_status_t clear_result(void *res)
{
    PQclear(res);
    return APR_SUCCESS;
}

static apr_status_t read_all(int fd, char *buf, apr_size_t len, apr_off_t at)
{
    ssize_t got;

    while (len > 0) {
        got = pread(fd, buf, len, at);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return got < 0 ? errno : EIO;
        }
        buf += got;
        len -= (apr_size_t)got;
        at += got;
    }
    return 0;
}

static apr_status_t empty(os_slices *s, PGresult **res, apr_pool_t *pool);

/* All of sl's file read back: it starts again empty, so that a slice's
 * file never holds more than what waits in it. */
static void rewind_if_read(os_slice *sl)
{
    if (sl->read == sl->wrote) {
        (void)!ftruncate(sl->fd, 0);
        sl->read = sl->wrote = 0;
    }
}

/* The next filed batch of sl as a PGresult with the export's columns,
 * freed with pool. */
static apr_status_t read_batch(os_slices *s, os_slice *sl, PGresult **res,
                               apr_pool_t *pool)
{
    os_slice_block blk;
    apr_size_t at = 0;
    int r, c, err;

    if ((err = read_all(sl->fd, (char *)&blk, sizeof(blk), sl->read)) != 0) {
        return file_error(s, sl, err, "read");
    }
    if (blk.bytes > s->bufcap) {
        s->bufcap = blk.bytes;
        s->buf = apr_palloc(s->r->pool, s->bufcap);
    }
    err =
        read_all(sl->fd, s->buf, blk.bytes, sl->read + (apr_off_t)sizeof(blk));
    if (err) {
        return file_error(s, sl, err, "read");
    }
    sl->read += (apr_off_t)(sizeof(blk) + blk.bytes);
    s->buffered -= (apr_off_t)(sizeof(blk) + blk.bytes);
    if (s->render) {
        /* Bytes rendered ahead: an empty batch, and the piece beside. */
        s->piece = 1;
        s->piece_len = blk.bytes;
        s->piece_rows = blk.rows;
        rewind_if_read(sl);
        return empty(s, res, pool);
    }
    *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    if (!*res || !PQsetResultAttrs(*res, s->ncols, s->attrs)) {
        PQclear(*res);
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    for (r = 0; r < (int)blk.rows; r++) {
        for (c = 0; c < s->ncols; c++) {
            apr_int32_t n;
            memcpy(&n, s->buf + at, 4);
            at += 4;
            if (!PQsetvalue(*res, r, c, s->buf + at, n < 0 ? -1 : n)) {
                return APR_ENOMEM;
            }
            at += n > 0 ? (apr_size_t)n : 0;
        }
    }
    rewind_if_read(sl);
    return APR_SUCCESS;
}

/* ---- the connections ------------------------------------------------------
 */

static apr_status_t send_fetch(os_slices *s, os_slice *sl, int n)
{
    sl->asked = n;
    sl->inflight = 1;
    if (os_cursor_fetch_send(sl->cur, 0, n) != APR_SUCCESS) {
        s->failed = sl->cur;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* A later slice is read: its transaction ends and its connection goes
 * back to the pool now, not with the export. */
static apr_status_t finish(os_slices *s, os_slice *sl)
{
    if (!sl->conn || sl->closed) {
        return APR_SUCCESS;
    }
    sl->closed = 1;
    if (os_cursor_close(sl->cur) != APR_SUCCESS) {
        s->failed = sl->cur;
        return APR_EGENERAL;
    }
    os_conn_release(sl->conn);
    return APR_SUCCESS;
}

/* Collects the result of sl's FETCH in flight (it must be ready, or this
 * blocks) into *res. */
static apr_status_t collect(os_slices *s, os_slice *sl, PGresult **res,
                            apr_pool_t *pool)
{
    sl->inflight = 0;
    if (os_cursor_fetch_wait(sl->cur, res, pool) != APR_SUCCESS) {
        s->failed = sl->cur;
        return APR_EGENERAL;
    }
    if (PQntuples(*res) < sl->asked) {
        sl->ended = 1;
    }
    return APR_SUCCESS;
}

/* One later slice, not the writer's: files what arrived, asks for more
 * while the files have room. */
static apr_status_t service_one(os_slices *s, os_slice *sl)
{
    PGresult *res;
    apr_status_t rv;

    if (sl->inflight) {
        if (!PQconsumeInput(sl->pg)) {
            return collect(s, sl, &res, s->scratch); /* keeps the error */
        }
        if (PQisBusy(sl->pg)) {
            return APR_SUCCESS;
        }
        rv = collect(s, sl, &res, s->scratch);
        if (rv == APR_SUCCESS) {
            rv = file_batch(s, sl, res);
        }
        apr_pool_clear(s->scratch);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        if (sl->ended) {
            return finish(s, sl);
        }
    }
    if (!sl->inflight && !sl->ended && s->buffered < s->limit) {
        return send_fetch(s, sl, s->fetch_rows);
    }
    return APR_SUCCESS;
}

static apr_status_t service(os_slices *s)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    /* After a failure nothing more is sent: a slice's aborted transaction
     * would answer every command with 25P02 and hide the first error. */
    if (s->failed) {
        return APR_EGENERAL;
    }
    for (i = s->at + 1; i < s->n && rv == APR_SUCCESS; i++) {
        rv = service_one(s, &s->s[i]);
    }
    return rv;
}

void os_slice_consume(os_slices *s)
{
    os_slice *sl = &s->s[s->at];

    if (sl->inflight) {
        PQconsumeInput(sl->pg);
    }
    /* A failure is kept in s->failed; the next os_slice_wait reports it. */
    (void)service(s);
}

/* Sleeps until a connection with a FETCH in flight has something, the
 * slice being sent first (its cursor's watch is the client's). A client
 * gone: every FETCH in flight was cancelled; the slice being sent is the
 * one that failed, so the export ends as "client-gone". */
static apr_status_t wait_sockets(os_slices *s)
{
    os_cursor *curs[OS_SLICE_MAX];
    int i, n = 0;
    apr_status_t rv;

    for (i = s->at; i < s->n; i++) {
        if (s->s[i].inflight && PQsocket(s->s[i].pg) >= 0) {
            curs[n++] = s->s[i].cur;
        }
    }
    rv = os_cursor_wait_any(curs, n);
    if (rv == APR_ECONNABORTED) {
        for (i = s->at; i < s->n; i++) {
            s->s[i].inflight = 0;
        }
        s->failed = s->s[s->at].cur;
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t os_slice_send(os_slices *s, int n)
{
    os_slice *sl = &s->s[s->at];

    if (s->failed) {
        return APR_EGENERAL;
    }
    if (sl->read < sl->wrote || sl->inflight || sl->ended) {
        return APR_SUCCESS; /* os_slice_wait takes it from there */
    }
    return send_fetch(s, sl, n);
}

/* An empty batch with the export's columns: a slice with no rows left. */
static apr_status_t empty(os_slices *s, PGresult **res, apr_pool_t *pool)
{
    *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    if (!*res || !PQsetResultAttrs(*res, s->ncols, s->attrs)) {
        PQclear(*res);
        return APR_ENOMEM;
    }
    apr_pool_cleanup_register(pool, *res, clear_result, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

apr_status_t os_slice_wait(os_slices *s, PGresult **res, apr_pool_t *pool)
{
    apr_status_t rv = APR_SUCCESS;

    *res = NULL;
    s->piece = 0;
    while (rv == APR_SUCCESS && !s->failed) {
        os_slice *sl = &s->s[s->at];
        if (sl->read < sl->wrote) {
            return read_batch(s, sl, res, pool);
        }
        if (sl->inflight) {
            if (!PQconsumeInput(sl->pg) || !PQisBusy(sl->pg)) {
                rv = collect(s, sl, res, pool);
                if (rv == APR_SUCCESS && sl->ended) {
                    rv = finish(s, sl);
                }
                return rv;
            }
            rv = service(s);
            if (rv == APR_SUCCESS) {
                rv = wait_sockets(s);
            }
            continue;
        }
        if (sl->ended) {
            if (s->at == s->n - 1) {
                return empty(s, res, pool);
            }
            s->at++;
            continue;
        }
        rv = send_fetch(s, sl, s->fetch_rows);
    }
    return APR_EGENERAL;
}

int os_slice_piece(os_slices *s, const char **bytes, apr_size_t *len,
                   apr_int64_t *rows)
{
    if (!s || !s->piece) {
        return 0;
    }
    s->piece = 0;
    *bytes = s->buf;
    *len = s->piece_len;
    *rows = s->piece_rows;
    return 1;
}

int os_slice_done(const os_slices *s)
{
    const os_slice *sl = &s->s[s->n - 1];

    return s->at == s->n - 1 && sl->ended && !sl->inflight
        && sl->read == sl->wrote;
}

apr_status_t os_slice_close(os_slices *s)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    for (i = 1; i < s->n && rv == APR_SUCCESS; i++) {
        rv = finish(s, &s->s[i]);
    }
    if (rv != APR_SUCCESS) {
        os_slice_abort(s);
    }
    return rv;
}

void os_slice_abort(os_slices *s)
{
    int i;

    if (!s) {
        return;
    }
    /* Cancel every statement first, then end the transactions: the
     * slices stop together rather than one after the other. */
    for (i = 1; i < s->n; i++) {
        os_slice *sl = &s->s[i];
        if (sl->conn && !sl->closed && sl->inflight) {
            PGcancel *c = PQgetCancel(sl->pg);
            char err[256];
            if (c) {
                PQcancel(c, err, sizeof(err));
                PQfreeCancel(c);
            }
        }
    }
    for (i = 1; i < s->n; i++) {
        os_slice *sl = &s->s[i];
        if (sl->conn && !sl->closed) {
            sl->closed = 1;
            if (sl->cur) {
                os_cursor_abort(sl->cur);
            }
            os_conn_release(sl->conn);
        }
    }
}

os_cursor *os_slice_failed(const os_slices *s, os_cursor *main)
{
    return s && s->failed ? s->failed : main;
}

int os_slice_count(const os_slices *s)
{
    return s ? s->n : 1;
}
