/* os_private.h: included first by every httpd-side source file.
 *
 * APLOG_USE_MODULE makes every ap_log_*error call in these files carry the
 * module index, so "LogLevel orderstream:debug" works across all of them
 * (as modules/http2/h2_private.h does for mod_http2).
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#ifndef OS_PRIVATE_H
#define OS_PRIVATE_H

#include <httpd.h>
#include <http_log.h>

APLOG_USE_MODULE(orderstream);

extern module AP_MODULE_DECLARE_DATA orderstream_module;

/* Our own log tag, one number per call site: the AH numbers are httpd's.
 * grep -r OSLOGNO src/ lists them all. */
#define OSLOGNO(n) "OS" #n ": "

/* The handler names that SetHandler selects: an export, the download
 * page, the Prometheus metrics. */
#define OS_HANDLER "orderstream"
#define OS_INDEX_HANDLER "orderstream-index"
#define OS_METRICS_HANDLER "orderstream-metrics"

#endif /* OS_PRIVATE_H */
