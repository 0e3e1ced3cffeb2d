/* os_watch.h: whether the client of a request is still there, looked at
 * while an export waits for the database (os_cursor_watch).
 *
 * Layer db: may call its own layer and base.
 */
#ifndef OS_WATCH_H
#define OS_WATCH_H

#include <httpd.h>

typedef struct os_watch os_watch;

/* A watch on c, the request's connection, allocated from p. Over HTTP/2 c
 * is the stream's secondary connection (c->master set). */
os_watch *os_watch_create(conn_rec *c, apr_pool_t *p);

/* The most database sockets one wait looks at (os_slice.c's most slices). */
#define OS_WATCH_MAX 16

/* An os_cursor_wait_fn (os_cursor.h) for os_cursor_watch: waits until one
 * of the n sockets fds (the database's: one, or an export's slices; past
 * OS_WATCH_MAX the rest are not looked at) has something to read,
 * returning APR_SUCCESS;
 * APR_TIMEUP after at most OS_WATCH_TICK with nothing to read (the caller
 * asks again); APR_ECONNABORTED as soon as the client is gone: its
 * connection closed or reset, or (HTTP/2) its stream reset. A client that
 * only stops reading is not gone. watch is an os_watch. */
apr_status_t os_watch_wait(void *watch, const int *fds, int n);

#endif /* OS_WATCH_H */
