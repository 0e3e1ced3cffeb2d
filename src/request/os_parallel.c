/* os_parallel.c: the export's OrderStreamParallel: the plan for its slices
 * (os_slice.c) made from its config, its format and its request, and what
 * the operators see of it: the status's slices, the orderstream-parallel
 * note, and OS00452 when it runs serially.
 *
 * Why apart from os_slice.c: the slices only know a query, connections
 * and files (they sit below the formats and the config); which format
 * wraps the query and which limits apply is the request's to say.
 *
 * Layer request: may call its own layer and base, db, deliver, render, export,
 * operate.
 */
#include "os_private.h"

#include <apr_strings.h>
#include <http_log.h>

#include "os_parallel.h"

/* The format's wrap (os_render_wrap_sql), as the slices call it. */
static const char *wrap(const void *rd, const char *sql, apr_pool_t *p)
{
    return os_render_wrap_sql(rd, sql, p);
}

/* A later slice's batch rendered ahead by the export's own writer: only
 * for CSV and TSV, whose writer keeps nothing from one row to the next
 * (the header and BOM are written by os_render_begin, once). */
static apr_status_t render_ahead(void *rd, os_out *out, const PGresult *res,
                                 apr_int64_t *rows)
{
    return os_render_rows(rd, out, res, 0, PQntuples(res), rows);
}

/* The plan: the export's one query, its format, binds and limits. */
static void make_plan(os_slice_plan *plan, request_rec *r,
                      const os_dir_conf *conf, os_format f,
                      const os_render *rd, const os_cursor_binds *binds,
                      const os_cursor_local *local, const PGresult *desc)
{
    plan->r = r;
    plan->location = conf->location;
    plan->sql = APR_ARRAY_IDX(conf->sql, 0, const char *);
    plan->wrap = wrap;
    plan->wrap_ctx = rd;
    plan->setup = os_render_setup_sql(rd);
    if (f == OS_FMT_CSV || f == OS_FMT_TSV) {
        plan->render = render_ahead;
        plan->render_ctx = (void *)rd;
    }
    plan->binds = binds;
    plan->timeout_ms = os_config_stmt_timeout_ms(conf);
    plan->local = local;
    plan->max_concurrent = os_config_max_concurrent(conf);
    plan->alongside = os_config_parallel_alongside(conf);
    plan->fetch_rows = os_config_fetch_rows(conf);
    plan->spool = os_config_spool(conf);
    plan->spool_dir = os_config_spool_dir(conf);
    plan->desc = desc;
}

apr_status_t os_parallel_begin(request_rec *r, const os_dir_conf *conf,
                               int serial, os_format f, os_cursor *main,
                               os_conn *main_conn, const os_render *rd,
                               const os_cursor_binds *binds,
                               const os_cursor_local *local,
                               const PGresult *desc, os_status *st,
                               os_slices **out)
{
    os_slice_plan plan = { 0 };
    const char *why = "a preview (?offset=, ?limit=)";
    apr_status_t rv;

    *out = NULL;
    plan.n = os_config_parallel(conf, &plan.split);
    if (!plan.n) {
        return APR_SUCCESS;
    }
    if (!serial && !(os_config_parallel_formats(conf) & f)) {
        why = apr_psprintf(r->pool,
                           "%s is not in its formats=", os_format_name(f));
        serial = 1;
    }
    if (!serial) {
        make_plan(&plan, r, conf, f, rd, binds, local, desc);
        rv = os_slice_start(&plan, main, main_conn, out, &why);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (*out) {
        os_status_slices(st, plan.n);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      OSLOGNO(00452) "%s: OrderStreamParallel %d: run "
                                     "serially: %s",
                      conf->location, plan.n, why);
    }
    apr_table_setn(r->notes, "orderstream-parallel",
                   *out ? apr_itoa(r->pool, plan.n) : "serial");
    return APR_SUCCESS;
}
