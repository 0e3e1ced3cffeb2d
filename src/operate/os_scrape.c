/* os_scrape.c: "SetHandler orderstream-metrics", what Prometheus scrapes.
 *
 * The same figures as the mod_status section (os_status_read), rendered by
 * os_metrics.c. Who may scrape is left to httpd's access control (the
 * shop's config: Require local). A scrape takes the status mutex once, to
 * copy, and writes the text with nothing held.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#include "os_private.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <http_request.h>

#include "os_metrics.h"
#include "os_scrape.h"
#include "os_status.h"

int os_scrape_handler(request_rec *r)
{
    apr_bucket_brigade *bb;
    os_status_view *v;

    if (!r->handler || strcasecmp(r->handler, OS_METRICS_HANDLER)) {
        return DECLINED;
    }
    /* GET covers HEAD; the Allow header of a 405 says so. */
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, -1);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!(v = os_status_read(r->pool))) {
        /* The config test requires mod_slotmem_shm for this handler, so
         * its shared memory or mutex failed at startup (logged then). */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      OSLOGNO(00165) "%s: no status to serve: see the "
                                     "messages at startup",
                      r->uri);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_set_content_type(r, OS_METRICS_TYPE);
    /* Figures of this instant: a cache must not keep them. */
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_puts(bb, NULL, NULL, os_metrics_text(v, r->pool));
    APR_BRIGADE_INSERT_TAIL(
        bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS
        ? OK
        : AP_FILTER_ERROR;
}
