/* os_spool.h: the output filter that keeps a slow client from holding the
 * database: what the client cannot take yet goes to an unlinked temporary
 * file, and what waits for the client anyway is bounded in pace
 * (os_pace.h). os_spool.c says how.
 *
 * Layer deliver: may call its own layer and base, db.
 */
#ifndef OS_SPOOL_H
#define OS_SPOOL_H

#include <apr_portable.h>
#include <httpd.h>
#include <util_filter.h>

#include "os_pace.h"

/* The filter's name, registered by the module (os_spool_register). */
#define OS_SPOOL_FILTER "ORDERSTREAM_SPOOL"

/* What a pass returns once a bound has cut the download: the client was
 * too slow (OrderStreamMinRate) or the export held its connection too
 * long (OrderStreamMaxDuration). */
#define OS_SPOOL_TOO_SLOW (APR_OS_START_USERERR + 1401)
#define OS_SPOOL_TOO_LONG (APR_OS_START_USERERR + 1402)

typedef struct os_spool os_spool;

/* register_hooks: the filter, and a log_transaction hook that runs before
 * the access log is written (see spool_log in os_spool.c). */
void os_spool_register(void);

/* The descriptor of c's socket to the client, for what APR has no call
 * for (TCP_INFO, SIOCOUTQ, SO_LINGER {1, 0}); 0 when there is none
 * (HTTP/2 stream connections). */
int os_spool_client_fd(conn_rec *c, apr_os_sock_t *fd);

/* Puts the filter on r, after every other filter of the request (deflate,
 * the chunk filter), before the connection's. limit: the most bytes the
 * file may hold (OrderStreamSpool; 0: no spool, the filter then only
 * waits and bounds); dir: where the file goes (NULL: httpd's temporary
 * directory); pace: the bounds, which the filter checks on every pass and
 * while it waits. Allocated from r->pool; the file, if one is made, is
 * closed with it. NULL if the filter could not be added (the functions
 * below accept NULL). */
os_spool *os_spool_add(request_rec *r, apr_off_t limit, const char *dir,
                       os_pace *pace);

/* The outcome note a pass status stands for: "too-slow", "too-long", or
 * NULL for any other status. */
const char *os_spool_bound(apr_status_t rv);

/* Waits (as the filter would, within the bounds and httpd's Timeout)
 * until nothing of the response is left in httpd's buffers, nor
 * unacknowledged in the kernel's: before a close-delimited response is
 * ended with a reset, which would drop it. APR_SUCCESS, or why the wait
 * ended. */
apr_status_t os_spool_drain(os_spool *spool);

/* A file with no name in *dir (NULL: httpd's temporary directory, which
 * *dir is then set to), as the spool makes its own: for the later slices
 * of a parallel export (os_slice.c). 0 with *fd open (the caller closes
 * it), or the errno. */
int os_spool_tmpfile(const char **dir, apr_pool_t *p, int *fd);

#endif /* OS_SPOOL_H */
