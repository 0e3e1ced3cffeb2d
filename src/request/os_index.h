/* os_index.h: the "orderstream-index" content handler, the download page.
 *
 * Layer request: may call its own layer and base, db, deliver, render, export,
 * operate.
 */
#ifndef OS_INDEX_H
#define OS_INDEX_H

#include <httpd.h>

/* Serves the list of the exports of r's virtual host: an HTML page with a
 * form per export, or JSON with ?format=json. A 400 for any other query
 * string, a 405 for methods other than GET and HEAD; DECLINED for other
 * handlers. */
int os_index_handler(request_rec *r);

#endif /* OS_INDEX_H */
