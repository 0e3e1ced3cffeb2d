/* os_limit.h: how many exports run at once, per child and virtual host.
 *
 * Layer db: may call its own layer and base.
 */
#ifndef OS_LIMIT_H
#define OS_LIMIT_H

#include <httpd.h>

/* Per-server config: the gate of one virtual host. */
void *os_limit_create_server(apr_pool_t *p, server_rec *s);

/* check_config: learns each virtual host's DBDMax (and DBDPersist) from the
 * parsed config, since mod_dbd keeps its own config private. */
void os_limit_read_dbd(server_rec *main_server);

/* child_init: the per-child lock and counters of every virtual host. */
void os_limit_child_init(apr_pool_t *pchild, server_rec *main_server);

typedef enum {
    OS_SLOT_OK,     /* go on; the slot is given back with r->pool */
    OS_SLOT_FULL,   /* max_concurrent exports already run */
    OS_SLOT_TIMEOUT /* every pooled connection stayed busy for wait */
} os_slot;

/* Takes a slot for one export of r's virtual host: refuses at once when
 * max_concurrent (0: no limit) exports run, and waits up to wait while all
 * DBDMax connections of this child are held by exports, so that mod_dbd's
 * acquire (which would wait forever) is only called when one is free. */
os_slot os_limit_enter(request_rec *r, int max_concurrent,
                       apr_interval_time_t wait);

/* Takes one more place for r's export, for a connection it may do without
 * (a slice of OrderStreamParallel, os_slice.c), whose export already holds
 * mine places: only at once, only while other exports hold at most
 * alongside places (they already use the database's cores, which slices
 * would share rather than add), and only while it leaves the gate at most
 * half full: of max_concurrent (when set) and of DBDMax, at most half the
 * places are held after it is taken. Why half: an extra connection is
 * held for the export's whole read, and exports that arrive meanwhile
 * must still find the other half free, as they would without
 * OrderStreamParallel. OS_SLOT_FULL when it would pass either; never
 * waits. The place goes back as os_limit_enter's (os_limit_leave, or with
 * r->pool). */
os_slot os_limit_enter_spare(request_rec *r, int max_concurrent, int mine,
                             int alongside);

/* Gives r's slot back now: its export has returned its connection to the
 * pool while the response goes on (the spool). Only for a request whose
 * os_limit_enter gave OS_SLOT_OK, and once (os_conn.c's held flag sees
 * to both); without it the slot goes back with r->pool. */
void os_limit_leave(request_rec *r);

#endif /* OS_LIMIT_H */
