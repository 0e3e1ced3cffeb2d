/* os_render_xlsx.c: the XLSX format, rows of a batch handed to the
 * streaming workbook writer (os_xlsx.c), its bytes to the request's output
 * as the writer produces them.
 *
 * The writer types each cell from its column's type and reads the values
 * from PostgreSQL's text output; dates and timestamps in DateStyle ISO,
 * which setup_sql makes sure of inside the export's transaction (it
 * applies when the rows are sent, so after the DECLAREs is in time), so an
 * export behind a connection with DateStyle SQL, DMY still gets date
 * cells. Text cells hold exactly the text output, which the other formats
 * send too.
 *
 * Limits of a workbook (4 GiB, OS_XLSX_SHEETS_MAX sheets) are reached
 * mid-stream: OS_RENDER_LIMIT, and the handler cuts the download, so a
 * client never gets a workbook that opens but lacks rows. Texts longer
 * than a cell holds are cut by the writer; their count goes to the request
 * note orderstream-xlsx-cut after each batch (a cut download keeps it) and
 * to the error log once the workbook is whole.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include "os_private.h"

#include <string.h>

#include <apr_strings.h>
#include <http_request.h>

#include "os_render.h"
#include "os_render_writer.h"
#include "os_xlsx.h"

/* Pieces handed to os_out: one of its buffers at most (libarchive gives
 * 64 KiB at a time), so that a piece never needs a buffer of its own. */
#define OS_XLSX_PIECE (16 * 1024)

typedef struct os_xlsx_render {
    os_xlsx *x;
    os_out *out;          /* the sink's: set at begin */
    const char *location; /* for the log */
    int ncols;
    const char **values; /* one row's, reused: no allocation per row */
    apr_size_t *lens;
    long cut_noted; /* cut cells already in the request note */
    apr_status_t failed;
} os_xlsx_render;

/* The writer's bytes into the response. */
static apr_status_t sink(void *ctx, const char *buf, apr_size_t len)
{
    os_xlsx_render *xr = ctx;

    while (len) {
        apr_size_t n = len > OS_XLSX_PIECE ? OS_XLSX_PIECE : len;
        apr_status_t rv = os_render_put(xr->out, buf, n);

        if (rv != APR_SUCCESS) {
            return rv;
        }
        buf += n;
        len -= n;
    }
    return APR_SUCCESS;
}

static void *create(const os_render_cols *c, const os_render_opts *ro,
                    apr_pool_t *p, const char **why)
{
    os_xlsx_render *xr = apr_pcalloc(p, sizeof(*xr));
    os_xlsx_opts o = { 0 };
    apr_status_t rv;

    xr->location = ro->location;
    xr->ncols = c->ncols;
    xr->values = apr_pcalloc(p, sizeof(*xr->values) * ((apr_size_t)c->ncols));
    xr->lens = apr_pcalloc(p, sizeof(*xr->lens) * ((apr_size_t)c->ncols));
    o.ncols = c->ncols;
    o.types = c->types;
    o.typmods = c->typmods;
    o.labels = c->header ? c->labels : NULL;
    o.sheet_rows = ro->sheet_rows;
    o.level = ro->xlsx_level;
    o.exact_numbers = ro->xlsx_exact;
    o.sink = sink;
    o.ctx = xr;
    if ((rv = os_xlsx_create(&xr->x, &o, p)) != APR_SUCCESS) {
        *why = rv == APR_EINVAL
            ? apr_psprintf(p,
                           "a workbook holds at most %d columns; the query "
                           "returns %d",
                           OS_XLSX_COLUMNS_MAX, c->ncols)
            : "the XLSX writer could not start (out of memory?)";
        return NULL;
    }
    return xr;
}

/* Why the module needs ISO dates: see the banner. */
#define OS_XLSX_SETUP "SET LOCAL DateStyle TO 'ISO, YMD'"

/* The writer's status as the handler reads it: the output's own failure
 * (the client gone) as it is, a limit of the workbook as
 * OS_RENDER_LIMIT. */
static apr_status_t result(os_xlsx_render *xr, apr_status_t rv)
{
    if (rv == APR_SUCCESS || rv == os_out_status(xr->out)) {
        return rv;
    }
    xr->failed = rv;
    return OS_RENDER_LIMIT;
}

static apr_status_t begin(void *w, os_out *out)
{
    os_xlsx_render *xr = w;

    xr->out = out;
    return result(xr, os_xlsx_begin(xr->x));
}

/* The cut cells so far in the request note: a download cut later still
 * says how many. */
static void note_cut(os_xlsx_render *xr)
{
    long cut = os_xlsx_get_stats(xr->x)->cut_cells;
    request_rec *r = os_out_request(xr->out);

    if (cut != xr->cut_noted) {
        xr->cut_noted = cut;
        apr_table_setn(r->notes, "orderstream-xlsx-cut",
                       apr_ltoa(r->pool, cut));
    }
}

static apr_status_t rows(void *w, os_out *out, const PGresult *res, int from,
                         int to, apr_int64_t *count)
{
    os_xlsx_render *xr = w;
    apr_status_t rv = APR_SUCCESS;
    int row, col;

    (void)out;
    for (row = from; row < to && rv == APR_SUCCESS; row++) {
        for (col = 0; col < xr->ncols; col++) {
            xr->values[col] =
                PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
            xr->lens[col] = (apr_size_t)PQgetlength(res, row, col);
        }
        rv = os_xlsx_row(xr->x, xr->values, xr->lens);
        if (rv == APR_SUCCESS) {
            (*count)++;
        }
    }
    note_cut(xr);
    return result(xr, rv);
}

static apr_status_t end(void *w, os_out *out)
{
    os_xlsx_render *xr = w;
    request_rec *r = os_out_request(out);
    apr_status_t rv = os_xlsx_end(xr->x);

    if (rv == APR_SUCCESS && xr->cut_noted) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      OSLOGNO(00025) "%s: %ld text cells were longer than "
                                     "Excel's 32,767 characters and were "
                                     "cut there",
                      xr->location, xr->cut_noted);
    }
    return result(xr, rv);
}

static const char *limit(void *w, const char **outcome)
{
    os_xlsx_render *xr = w;

    *outcome = xr->failed == OS_XLSX_EARCHIVE ? "writer-error" : "too-large";
    return os_xlsx_error(xr->x);
}

const os_render_writer os_render_xlsx = {
    OS_FMT_XLSX, create, OS_XLSX_SETUP, NULL, begin, rows, end, limit,
};
