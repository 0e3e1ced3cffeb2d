/* os_metrics.c: os_status's figures in Prometheus' text format.
 *
 * The text exposition format 0.0.4 (what promtool check metrics reads):
 * "# HELP" and "# TYPE" once per metric family, then one line per series,
 * label values in double quotes with \\, \" and \n escaped. Counters end
 * in _total, durations are in seconds, the histogram's buckets are
 * cumulative and end with le="+Inf", equal to _count. Needs only APR (and
 * os_status.h's types): t/unit/test_metrics.c checks it without a server.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#include <stdio.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "os_metrics.h"
#include "os_utf8.h"

char *os_metrics_label(const char *s, apr_pool_t *p)
{
    const unsigned char *c = (const unsigned char *)s;
    /* at worst each byte becomes U+FFFD, 3 bytes */
    char *out = apr_palloc(p, 3 * strlen(s) + 1), *o = out;
    int n;

    while (*c) {
        if (*c == '\\' || *c == '"' || *c == '\n') {
            *o++ = '\\';
            *o++ = *c == '\n' ? 'n' : (char)*c;
            c++;
        }
        else if ((n = os_utf8_seq(c, OS_UTF8_NUL_ENDED, NULL)) > 0) {
            memcpy(o, c, (size_t)n);
            o += n;
            c += n;
        }
        else {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            c++;
        }
    }
    *o = '\0';
    return out;
}

typedef struct os_text {
    apr_array_header_t *parts; /* const char * */
    apr_pool_t *p;
} os_text;

static void put(os_text *t, const char *s)
{
    APR_ARRAY_PUSH(t->parts, const char *) = s;
}

static void family(os_text *t, const char *name, const char *type,
                   const char *help)
{
    put(t,
        apr_psprintf(t->p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                     type));
}

/* The labels every series of a Location has, with a comma after them
 * when more follow. */
static const char *labels(os_text *t, const os_status_total *tot)
{
    return apr_pstrcat(t->p, "vhost=\"", os_metrics_label(tot->vhost, t->p),
                       "\",location=\"", os_metrics_label(tot->location, t->p),
                       "\"", NULL);
}

static void sample(os_text *t, const char *name, const char *lbl,
                   apr_uint64_t value)
{
    put(t,
        apr_psprintf(t->p, "%s{%s} %" APR_UINT64_T_FMT "\n", name, lbl,
                     value));
}

static void outcomes(os_text *t, const os_status_view *v, const char **lbl)
{
    int i, j;

    family(t, "orderstream_exports_total", "counter",
           "Export requests that ended, by outcome (the "
           "orderstream-outcome note).");
    for (i = 0; i < v->ntotals; i++) {
        for (j = 0; j < OS_TALLY_OUTCOMES; j++) {
            sample(t, "orderstream_exports_total",
                   apr_pstrcat(t->p, lbl[i], ",outcome=\"",
                               os_tally_outcomes[j], "\"", NULL),
                   v->totals[i].counts.outcomes[j]);
        }
    }
    family(t, "orderstream_rejected_total", "counter",
           "Exports with outcome rejected, by HTTP status: 400 bad query "
           "string, 403 a value from the request absent or refused, 406 no "
           "acceptable format, 503 no database connection.");
    for (i = 0; i < v->ntotals; i++) {
        for (j = 0; j < OS_TALLY_REFUSALS; j++) {
            sample(t, "orderstream_rejected_total",
                   apr_psprintf(t->p, "%s,code=\"%d\"", lbl[i],
                                os_tally_refusals[j]),
                   v->totals[i].counts.refusals[j]);
        }
    }
}

/* One counter per Location; off is where in os_tally it is. */
static void counter(os_text *t, const os_status_view *v, const char **lbl,
                    const char *name, const char *help, apr_size_t off)
{
    int i;

    family(t, name, "counter", help);
    for (i = 0; i < v->ntotals; i++) {
        sample(
            t, name, lbl[i],
            *(const apr_uint64_t *)((const char *)&v->totals[i].counts + off));
    }
}

/* A bucket's bound as Prometheus' clients write it ("0.1", "5", "+Inf"):
 * C's %g (APR's own formatter writes ".1"). */
static const char *bound(os_text *t, int b)
{
    char buf[32];

    if (b == OS_TALLY_BUCKETS) {
        return "+Inf";
    }
    snprintf(buf, sizeof(buf), "%g", os_tally_buckets[b]);
    return apr_pstrdup(t->p, buf);
}

static void histogram(os_text *t, const os_status_view *v, const char **lbl)
{
    static const char name[] = "orderstream_export_duration_seconds";
    apr_uint64_t sum;
    int i, b;

    family(t, name, "histogram",
           "Time from the request to the end of the export, for every "
           "outcome but rejected.");
    for (i = 0; i < v->ntotals; i++) {
        const os_tally *c = &v->totals[i].counts;
        for (b = 0, sum = 0; b <= OS_TALLY_BUCKETS; b++) {
            sum += c->buckets[b];
            put(t,
                apr_psprintf(t->p,
                             "%s_bucket{%s,le=\"%s\"} %" APR_UINT64_T_FMT "\n",
                             name, lbl[i], bound(t, b), sum));
        }
        put(t,
            apr_psprintf(t->p, "%s_sum{%s} %.6f\n", name, lbl[i],
                         (double)c->micros / APR_USEC_PER_SEC));
        sample(t, apr_pstrcat(t->p, name, "_count", NULL), lbl[i], sum);
    }
}

char *os_metrics_text(const os_status_view *v, apr_pool_t *p)
{
    os_text t = { apr_array_make(p, 64, sizeof(const char *)), p };
    const char **lbl =
        apr_palloc(p, sizeof(*lbl) * ((apr_size_t)v->ntotals + 1));
    int i;

    for (i = 0; i < v->ntotals; i++) {
        lbl[i] = labels(&t, &v->totals[i]);
    }
    family(&t, "orderstream_running", "gauge",
           "Exports running now, in every child process.");
    for (i = 0; i < v->ntotals; i++) {
        sample(&t, "orderstream_running", lbl[i],
               (apr_uint64_t)v->totals[i].running);
    }
    outcomes(&t, v, lbl);
    counter(&t, v, lbl, "orderstream_rows_total",
            "Data rows sent (the orderstream-rows note, summed).",
            APR_OFFSETOF(os_tally, rows));
    counter(&t, v, lbl, "orderstream_bytes_total",
            "Body bytes that left for the clients' connections (the "
            "orderstream-bytes note, summed; %B of the access log).",
            APR_OFFSETOF(os_tally, bytes));
    counter(&t, v, lbl, "orderstream_spooled_bytes_total",
            "Bytes written to spool files for slow clients, sent or not "
            "(the orderstream-spooled-bytes note, summed): not bytes sent.",
            APR_OFFSETOF(os_tally, spooled));
    counter(&t, v, lbl, "orderstream_unlisted_total",
            "Exports that ran while every status slot was taken (counted, "
            "not listed as running).",
            APR_OFFSETOF(os_tally, unlisted));
    histogram(&t, v, lbl);
    family(&t, "orderstream_start_time_seconds", "gauge",
           "When the totals started: the server's last start or restart.");
    put(&t,
        apr_psprintf(p, "orderstream_start_time_seconds %.3f\n",
                     (double)v->since / APR_USEC_PER_SEC));
    return apr_array_pstrcat(p, t.parts, 0);
}
