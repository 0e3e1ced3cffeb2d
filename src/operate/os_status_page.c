/* os_status_page.c: the "orderstream" section of mod_status's page.
 *
 * mod_status runs its status_hook at the end of /server-status, and only
 * with ExtendedStatus On do we add to it: a table of the exports running
 * in every child (os_status_read), and a table of the totals per Location.
 * With ?auto (AP_STATUS_SHORT) the same as "Key: value" lines, named the
 * way mod_proxy_balancer names its own (OrderStreamExport[0]Location: ...),
 * one value per line: a line break or control character in a value is
 * shown as '?'. mod_status writes with ap_rputs, so this does too.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#include "os_private.h"

#include <apr_strings.h>
#include <http_protocol.h>
#include <mod_status.h>

#include "os_metrics.h"
#include "os_status.h"
#include "os_status_page.h"
#include "os_utf8.h"

/* mod_status's page says charset=ISO-8859-1: a UTF-8 name (a Location,
 * a user) goes as character references, a byte that is not UTF-8 as
 * U+FFFD, and < > & " as entities. */
static const char *html(request_rec *r, const char *s)
{
    const unsigned char *c = (const unsigned char *)(s && *s ? s : "-");
    apr_array_header_t *out = apr_array_make(r->pool, 16, sizeof(char *));
    unsigned cp;
    int n;

    for (; *c; c += n) {
        n = os_utf8_seq(c, OS_UTF8_NUL_ENDED, &cp);
        if (n == 1) {
            char one[2] = { (char)*c, 0 };
            APR_ARRAY_PUSH(out, const char *) =
                ap_escape_html2(r->pool, one, 0);
            continue;
        }
        cp = n ? cp : 0xfffd;
        APR_ARRAY_PUSH(out, const char *) =
            apr_psprintf(r->pool, "&#x%X;", (unsigned)cp);
        n = n ? n : 1;
    }
    return apr_array_pstrcat(r->pool, out, 0);
}

/* A value of a ?auto line: one line, printable. */
static const char *flat(request_rec *r, const char *s)
{
    char *out = apr_pstrdup(r->pool, s ? s : ""), *c;

    for (c = out; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            *c = '?';
        }
    }
    return out;
}

static const char *size(request_rec *r, apr_int64_t n)
{
    static const char *const units[] = { "kB", "MB", "GB", "TB" };
    double v = (double)n;
    int u = -1;

    while (v >= 1000 && u < 3) {
        v /= 1000;
        u++;
    }
    return u < 0 ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT "&nbsp;B", n)
                 : apr_psprintf(r->pool, "%.1f&nbsp;%s", v, units[u]);
}

static double seconds(apr_interval_time_t t)
{
    return (double)t / APR_USEC_PER_SEC;
}

/* The backend's pid, or "-" when the export holds no connection (before
 * it has one, or spooled after giving it back): a 0 would read as a pid. */
static const char *backend(request_rec *r, int pid)
{
    return pid ? apr_itoa(r->pool, pid) : "-";
}

static void html_running(request_rec *r, const os_status_view *v)
{
    int i;

    if (!v->nrun) {
        ap_rputs("<p>No export is running.</p>\n", r);
        return;
    }
    ap_rputs("<table border=\"0\"><tr><th>Location</th><th>Virtual "
             "host</th><th>Client</th><th>User</th><th>Format</th>"
             "<th>Started</th><th>Seconds</th><th>Phase</th><th>Rows</th>"
             "<th>Bytes</th><th>Backend PID</th><th>Slices</th>"
             "<th>Child PID</th></tr>\n",
             r);
    for (i = 0; i < v->nrun; i++) {
        const os_status_run *x = &v->run[i];
        ap_rprintf(r,
                   "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
                   "<td>%s</td><td>%s</td><td>%.1f</td><td>%s</td>"
                   "<td>%" APR_INT64_T_FMT "</td><td>%s</td><td>%s</td>"
                   "<td>%d</td><td>%" APR_PID_T_FMT "</td></tr>\n",
                   html(r, x->location), html(r, x->vhost), html(r, x->client),
                   html(r, x->user), html(r, x->format),
                   ap_ht_time(r->pool, x->started, "%Y-%m-%d %H:%M:%S", 0),
                   seconds(v->now - x->started),
                   os_status_phase_name(x->phase), x->rows, size(r, x->bytes),
                   backend(r, x->backend), x->slices, x->pid);
    }
    ap_rputs("</table>\n", r);
}

/* The mean duration of the exports that ran (the histogram's). */
static const char *mean(request_rec *r, const os_tally *t)
{
    apr_uint64_t n = 0;
    int b;

    for (b = 0; b <= OS_TALLY_BUCKETS; b++) {
        n += t->buckets[b];
    }
    return n ? apr_psprintf(r->pool, "%.2f", (double)t->micros / n / 1e6)
             : "-";
}

static void html_totals(request_rec *r, const os_status_view *v)
{
    int i, j;

    ap_rputs("<table border=\"0\"><tr><th>Location</th><th>Virtual host</th>"
             "<th>Running</th>",
             r);
    for (j = 0; j < OS_TALLY_OUTCOMES; j++) {
        ap_rprintf(r, "<th>%s</th>", os_tally_outcomes[j]);
    }
    for (j = 0; j < OS_TALLY_REFUSALS; j++) {
        ap_rprintf(r, "<th>rejected %d</th>", os_tally_refusals[j]);
    }
    ap_rputs("<th>Rows</th><th>Bytes</th><th>Spooled bytes</th>"
             "<th>Mean seconds</th></tr>\n",
             r);
    for (i = 0; i < v->ntotals; i++) {
        const os_status_total *t = &v->totals[i];
        ap_rprintf(r, "<tr><td>%s</td><td>%s</td><td>%d</td>",
                   html(r, t->location), html(r, t->vhost), t->running);
        for (j = 0; j < OS_TALLY_OUTCOMES; j++) {
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>",
                       t->counts.outcomes[j]);
        }
        for (j = 0; j < OS_TALLY_REFUSALS; j++) {
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>",
                       t->counts.refusals[j]);
        }
        ap_rprintf(r,
                   "<td>%" APR_UINT64_T_FMT
                   "</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                   t->counts.rows, size(r, (apr_int64_t)t->counts.bytes),
                   size(r, (apr_int64_t)t->counts.spooled),
                   mean(r, &t->counts));
    }
    ap_rputs("</table>\n", r);
}

static void html_section(request_rec *r, const os_status_view *v)
{
    ap_rputs("<hr /><div id=\"orderstream-status\">\n"
             "<h2 id=\"orderstream\">orderstream</h2>\n",
             r);
    if (!v) {
        ap_rputs("<p>No running exports or totals: mod_slotmem_shm is not "
                 "loaded, or its shared memory failed at startup (see the "
                 "error log).</p>\n</div>\n",
                 r);
        return;
    }
    ap_rprintf(r,
               "<p>%d exports running (room for %d at once); totals since "
               "%s, the last start or restart.</p>\n",
               v->nrun, v->slots,
               ap_ht_time(r->pool, v->since, "%Y-%m-%d %H:%M:%S %Z", 0));
    html_running(r, v);
    ap_rputs("<h3>Totals per Location</h3>\n", r);
    if (v->ntotals) {
        html_totals(r, v);
    }
    else {
        ap_rputs("<p>No export is counted (OrderStreamStatus Off).</p>\n", r);
    }
    ap_rputs("</div>\n", r);
}

static void short_running(request_rec *r, const os_status_view *v)
{
    int i;

    for (i = 0; i < v->nrun; i++) {
        const os_status_run *x = &v->run[i];
        const char *k = apr_psprintf(r->pool, "OrderStreamExport[%d]", i);
        ap_rprintf(r, "%sLocation: %s\n", k, flat(r, x->location));
        ap_rprintf(r, "%sVirtualHost: %s\n", k, flat(r, x->vhost));
        ap_rprintf(r, "%sClient: %s\n", k, flat(r, x->client));
        ap_rprintf(r, "%sUser: %s\n", k, flat(r, x->user));
        ap_rprintf(r, "%sFormat: %s\n", k, flat(r, x->format));
        ap_rprintf(r, "%sStarted: %.3f\n", k, seconds(x->started));
        ap_rprintf(r, "%sSeconds: %.3f\n", k, seconds(v->now - x->started));
        ap_rprintf(r, "%sPhase: %s\n", k, os_status_phase_name(x->phase));
        ap_rprintf(r, "%sRows: %" APR_INT64_T_FMT "\n", k, x->rows);
        ap_rprintf(r, "%sBytes: %" APR_INT64_T_FMT "\n", k, x->bytes);
        ap_rprintf(r, "%sBackendPID: %d\n", k, x->backend);
        ap_rprintf(r, "%sSlices: %d\n", k, x->slices);
        ap_rprintf(r, "%sPID: %" APR_PID_T_FMT "\n", k, x->pid);
    }
}

static void short_totals(request_rec *r, const os_status_view *v)
{
    int i, j;

    for (i = 0; i < v->ntotals; i++) {
        const os_status_total *t = &v->totals[i];
        const char *k = apr_psprintf(r->pool, "OrderStreamTotal[%d]", i);
        ap_rprintf(r, "%sLocation: %s\n", k, flat(r, t->location));
        ap_rprintf(r, "%sVirtualHost: %s\n", k, flat(r, t->vhost));
        ap_rprintf(r, "%sRunning: %d\n", k, t->running);
        for (j = 0; j < OS_TALLY_OUTCOMES; j++) {
            ap_rprintf(r, "%sOutcome[%s]: %" APR_UINT64_T_FMT "\n", k,
                       os_tally_outcomes[j], t->counts.outcomes[j]);
        }
        for (j = 0; j < OS_TALLY_REFUSALS; j++) {
            ap_rprintf(r, "%sRejected[%d]: %" APR_UINT64_T_FMT "\n", k,
                       os_tally_refusals[j], t->counts.refusals[j]);
        }
        ap_rprintf(r, "%sRows: %" APR_UINT64_T_FMT "\n", k, t->counts.rows);
        ap_rprintf(r, "%sBytes: %" APR_UINT64_T_FMT "\n", k, t->counts.bytes);
        ap_rprintf(r, "%sSpooledBytes: %" APR_UINT64_T_FMT "\n", k,
                   t->counts.spooled);
        ap_rprintf(r, "%sSeconds: %.3f\n", k,
                   seconds((apr_interval_time_t)t->counts.micros));
        ap_rprintf(r, "%sUnlisted: %" APR_UINT64_T_FMT "\n", k,
                   t->counts.unlisted);
    }
}

int os_status_page_hook(request_rec *r, int flags)
{
    os_status_view *v;

    if (!(flags & AP_STATUS_EXTENDED)) {
        return OK;
    }
    v = os_status_read(r->pool);
    if (!(flags & AP_STATUS_SHORT)) {
        html_section(r, v);
        return OK;
    }
    if (v) {
        ap_rprintf(r, "OrderStreamSlots: %d\n", v->slots);
        ap_rprintf(r, "OrderStreamSince: %.3f\n", seconds(v->since));
        ap_rprintf(r, "OrderStreamRunning: %d\n", v->nrun);
        short_running(r, v);
        short_totals(r, v);
    }
    return OK;
}
