/* os_status_page.h: this module's section of mod_status's page.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#ifndef OS_STATUS_PAGE_H
#define OS_STATUS_PAGE_H

#include <httpd.h>

/* mod_status's status_hook: with ExtendedStatus On (AP_STATUS_EXTENDED),
 * the running exports and the totals, as HTML or, with ?auto
 * (AP_STATUS_SHORT), as "Key: value" lines. Always OK. */
int os_status_page_hook(request_rec *r, int flags);

#endif /* OS_STATUS_PAGE_H */
