/* os_conn.c: borrowing a pooled connection for one export and giving it
 * back as soon as the rows are read.
 *
 * mod_dbd's ap_dbd_acquire ties a connection to the request: it goes back
 * to the pool when r->pool is destroyed, which is after the whole
 * response has been written (with the event MPM, after write completion).
 * An export whose tail is still being sent from its spool (os_spool.c)
 * has no use for it by then. So the connection is borrowed with
 * ap_dbd_open and returned with ap_dbd_close, mod_dbd's own pair for
 * connections that are not the request's (what mod_dbd's
 * ap_dbd_acquire does inside, minus the cleanup), as soon as the export
 * has committed; the gate's slot (os_limit.c) is given back with it.
 *
 * Every other path goes through a pre-cleanup on r->pool: it aborts the
 * cursor (cancel, drain, ROLLBACK) and then closes. A pre-cleanup, because
 * with DBDPersist Off ap_dbd_open makes the connection in a subpool of
 * r->pool, which is destroyed before ordinary cleanups run; ap_dbd_close
 * then closes that connection early too.
 *
 * A request in which another module already borrowed a connection with
 * ap_dbd_acquire (mod_authn_dbd checking a password) keeps it until the
 * request ends anyway: the export uses that one, as before, rather than
 * take a second from a pool that may have no more (DBDMax 1 would wait
 * forever).
 *
 * Layer db: may call its own layer and base.
 */
#include "os_private.h"

#include <apr_dbd.h>
#include <apr_optional.h>
#include <http_config.h>
#include <http_request.h>
#include <mod_dbd.h>

#include "os_conn.h"
#include "os_limit.h"

APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *os_dbd_acquire;

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;
/* mod_dbd, whose request config says whether a connection is held */
static module *dbd_module;

struct os_conn {
    request_rec *r;
    ap_dbd_t *dbd;
    os_cursor *cur; /* aborted by the pre-cleanup */
    int held;       /* not given back yet */
    int shared;     /* the request's own, from ap_dbd_acquire */
};

void os_conn_child_init(void)
{
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    dbd_module = ap_find_linked_module("mod_dbd.c");
}

/* Whether a module of this request already holds a connection from
 * ap_dbd_acquire: mod_dbd keeps it in the initial request's config. */
static int request_has_one(request_rec *r)
{
    while (r->prev || r->main) {
        r = r->prev ? r->prev : r->main;
    }
    return dbd_module
        && ap_get_module_config(r->request_config, dbd_module) != NULL;
}

static void give_back(os_conn *c)
{
    c->held = 0;
    dbd_close(c->r->server, c->dbd);
    os_limit_leave(c->r);
}

static apr_status_t safety_net(void *data)
{
    os_conn *c = data;

    if (c->held && c->cur) {
        os_cursor_abort(c->cur);
    }
    if (c->held && !c->shared) {
        give_back(c);
    }
    c->held = 0;
    return APR_SUCCESS;
}

/* The connection, once the gate gave r its place (slot). */
static os_conn_got borrow(request_rec *r, os_slot slot, os_conn **conn)
{
    os_conn *c;

    switch (slot) {
    case OS_SLOT_FULL:
        return OS_CONN_FULL;
    case OS_SLOT_TIMEOUT:
        return OS_CONN_TIMEOUT;
    default:
        break;
    }
    *conn = c = apr_pcalloc(r->pool, sizeof(*c));
    c->r = r;
    c->shared = request_has_one(r) || !dbd_open || !dbd_close;
    c->dbd = c->shared ? os_dbd_acquire(r) : dbd_open(r->pool, r->server);
    if (!c->dbd) {
        /* The gate's place goes back now: a slice's connection that could
         * not be had must not count for the rest of the export. */
        os_limit_leave(r);
        return OS_CONN_NONE;
    }
    c->held = 1;
    apr_pool_pre_cleanup_register(r->pool, c, safety_net);
    return OS_CONN_OK;
}

os_conn_got os_conn_open(request_rec *r, int max_concurrent,
                         apr_interval_time_t wait, os_conn **conn)
{
    return borrow(r, os_limit_enter(r, max_concurrent, wait), conn);
}

os_conn_got os_conn_open_spare(request_rec *r, int max_concurrent, int mine,
                               int alongside, os_conn **conn)
{
    return borrow(r, os_limit_enter_spare(r, max_concurrent, mine, alongside),
                  conn);
}

const char *os_conn_driver(const os_conn *c)
{
    return apr_dbd_name(c->dbd->driver);
}

PGconn *os_conn_pg(const os_conn *c)
{
    return apr_dbd_native_handle(c->dbd->driver, c->dbd->handle);
}

void os_conn_guard(os_conn *c, os_cursor *cur)
{
    c->cur = cur;
}

int os_conn_release(os_conn *c)
{
    if (!c || c->shared) {
        return 0;
    }
    if (c->held) {
        give_back(c);
    }
    return 1;
}

int os_conn_shared(const os_conn *c)
{
    return c->shared;
}
