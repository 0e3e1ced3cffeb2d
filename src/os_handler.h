/* os_handler.h: the "orderstream" content handler. */
#ifndef OS_HANDLER_H
#define OS_HANDLER_H

#include <httpd.h>

/* Streams the Location's query as CSV; DECLINED for other handlers. */
int os_handler(request_rec *r);

#endif /* OS_HANDLER_H */
