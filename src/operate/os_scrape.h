/* os_scrape.h: the "orderstream-metrics" handler, a Prometheus scrape.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#ifndef OS_SCRAPE_H
#define OS_SCRAPE_H

#include <httpd.h>

/* GET: os_metrics_text() of every child's figures; DECLINED for other
 * handlers. */
int os_scrape_handler(request_rec *r);

#endif /* OS_SCRAPE_H */
