/* os_conn.h: the pooled database connection of one export, from the gate
 * (os_limit.h) to its return to mod_dbd's pool.
 *
 * Layer db: may call its own layer and base.
 */
#ifndef OS_CONN_H
#define OS_CONN_H

#include <httpd.h>
#include <libpq-fe.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

#include "os_cursor.h"

typedef struct os_conn os_conn;

/* mod_dbd's ap_dbd_acquire, looked up when the config is read (os_config.c
 * fails the config test when it is missing, so a handler never sees NULL). */
extern APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *os_dbd_acquire;

typedef enum {
    OS_CONN_OK,
    OS_CONN_FULL,    /* OrderStreamMaxConcurrent exports already run */
    OS_CONN_TIMEOUT, /* every connection stayed busy for the wait */
    OS_CONN_NONE     /* mod_dbd had none to give (see its log) */
} os_conn_got;

/* child_init: mod_dbd's ap_dbd_open and ap_dbd_close. */
void os_conn_child_init(void);

/* Takes r's place in its virtual host's gate (waiting up to wait; see
 * os_limit.h) and a connection from mod_dbd's pool, for this request.
 * *conn is allocated from r->pool; a pre-cleanup on r->pool gives the
 * connection back clean (os_cursor_abort on the cursor given to
 * os_conn_guard) on every path that did not call os_conn_release(). */
os_conn_got os_conn_open(request_rec *r, int max_concurrent,
                         apr_interval_time_t wait, os_conn **conn);

/* As os_conn_open, for a connection the export can do without (a slice
 * of OrderStreamParallel) whose export holds mine connections: taken only
 * at once, while other exports hold at most alongside and the gate stays
 * at most half full (os_limit_enter_spare); OS_CONN_FULL otherwise. */
os_conn_got os_conn_open_spare(request_rec *r, int max_concurrent, int mine,
                               int alongside, os_conn **conn);

/* The apr_dbd driver's name ("pgsql") and the PGconn behind it. */
const char *os_conn_driver(const os_conn *conn);
PGconn *os_conn_pg(const os_conn *conn);

/* The cursor the pre-cleanup aborts if the connection is still held. */
void os_conn_guard(os_conn *conn, os_cursor *cur);

/* Gives the connection back to the pool now, before the response ends,
 * and r's place in the gate with it: the next export may have it while
 * this one's client still downloads. The connection must be idle (after
 * COMMIT or os_cursor_abort); neither it nor its PGconn may be used
 * afterwards. Returns 0, doing nothing, when it cannot go back early: it
 * is the one another module of this request borrowed with
 * ap_dbd_acquire (mod_authn_dbd), which mod_dbd gives back with the
 * request. Safe to call more than once. */
int os_conn_release(os_conn *conn);

/* Whether the connection is the one another module of the request
 * borrowed with ap_dbd_acquire: then no second one is taken for the same
 * request (os_slice.c runs such an export serially). */
int os_conn_shared(const os_conn *conn);

#endif /* OS_CONN_H */
