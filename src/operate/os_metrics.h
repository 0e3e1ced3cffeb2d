/* os_metrics.h: the figures of os_status in Prometheus' text format.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#ifndef OS_METRICS_H
#define OS_METRICS_H

#include <apr_pools.h>

#include "os_status.h"

/* The media type of what os_metrics_text() returns (format 0.0.4). */
#define OS_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* v in the Prometheus text exposition format, from p: per virtual host
 * and Location, orderstream_running, orderstream_exports_total{outcome},
 * orderstream_rejected_total{code}, orderstream_rows_total,
 * orderstream_bytes_total, orderstream_unlisted_total and the
 * orderstream_export_duration_seconds histogram, then
 * orderstream_start_time_seconds. Every series is written, zeros too, so
 * that a scrape always has the same ones. */
char *os_metrics_text(const os_status_view *v, apr_pool_t *p);

/* s as a label value: backslash, double quote and line feed escaped as
 * the format says, and every byte that is not part of valid UTF-8 made
 * U+FFFD (a label value must be UTF-8; a config file need not be). */
char *os_metrics_label(const char *s, apr_pool_t *p);

#endif /* OS_METRICS_H */
