/* os_handler.h: the "orderstream" content handler.
 *
 * Layer request: may call its own layer and base, db, deliver, render, export,
 * operate.
 */
#ifndef OS_HANDLER_H
#define OS_HANDLER_H

#include <httpd.h>

/* Streams the Location's query as CSV; DECLINED for other handlers. */
int os_handler(request_rec *r);

/* translate_name: claims the URL of an export (OK), so that it is not
 * mapped below DocumentRoot; DECLINED for anything else. */
int os_handler_translate(request_rec *r);

/* map_to_storage: OK (no directory walk) for a URL claimed above. */
int os_handler_map_to_storage(request_rec *r);

/* Sets X-Content-Type-Options: nosniff on r, error pages included: our
 * plain-text answers echo what the request sent, and no browser may run
 * them as anything else. */
void os_handler_nosniff(request_rec *r);

#endif /* OS_HANDLER_H */
