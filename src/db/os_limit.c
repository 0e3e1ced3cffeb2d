/* os_limit.c: a counting gate in front of mod_dbd's pool.
 *
 * mod_dbd's ap_dbd_open (and ap_dbd_acquire) blocks with no timeout when
 * all DBDMax connections of the child are in use, and an export holds its
 * connection until its last row is read, or longer when its client is
 * slower than its spool (os_spool.c). Left alone, one export too many
 * makes every further export hang. So each child counts the exports that
 * hold a connection per virtual host and lets one through to mod_dbd only
 * while a connection is free, waiting on a condition variable with a
 * deadline otherwise; an export leaves the count when it gives its
 * connection back (os_conn.c), not when its response ends. (Other modules
 * sharing the pool, such as mod_authn_dbd, hold connections only for a query,
 * which the gate does not count.)
 *
 * mod_dbd does not export its configuration, so DBDMax and DBDPersist are
 * read from the parsed config tree, with mod_dbd's defaults and its merge
 * rule (a virtual host inherits what it does not set).
 *
 * Layer db: may call its own layer and base.
 */
#include "os_private.h"

#include <apr_strings.h>
#include <apr_thread_cond.h>
#include <apr_thread_mutex.h>
#include <http_config.h>

#include "os_limit.h"

/* mod_dbd's default DBDMax (DEFAULT_NMAX in modules/database/mod_dbd.c). */
#define OS_DBD_DEFAULT_MAX 10

typedef struct os_gate {
    int dbd_max; /* connections per child; 0: no pool, no limit */
    int active;  /* exports holding (or about to take) a connection */
#if APR_HAS_THREADS
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *freed;
#endif
} os_gate;

void *os_limit_create_server(apr_pool_t *p, server_rec *s)
{
    os_gate *gate = apr_pcalloc(p, sizeof(*gate));

    (void)s;
    gate->dbd_max = OS_DBD_DEFAULT_MAX;
    return gate;
}

static os_gate *gate_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &orderstream_module);
}

/* DBDMax and DBDPersist among the directives of one level. */
static void read_level(const ap_directive_t *first, int *max, int *persist)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "DBDMax")) {
            *max = atoi(d->args);
        }
        else if (!strcasecmp(d->directive, "DBDPersist")) {
            *persist = strcasecmp(d->args, "off") != 0;
        }
    }
}

/* The server_rec of a <VirtualHost> section: httpd records where each was
 * defined. */
static server_rec *vhost_at(server_rec *main_server, const ap_directive_t *d)
{
    server_rec *s;

    for (s = main_server->next; s; s = s->next) {
        if ((int)s->defn_line_number == d->line_num && s->defn_name
            && d->filename && !strcmp(s->defn_name, d->filename)) {
            return s;
        }
    }
    return NULL;
}

void os_limit_read_dbd(server_rec *main_server)
{
    const ap_directive_t *d;
    int max = OS_DBD_DEFAULT_MAX, persist = 1;
    server_rec *s;

    read_level(ap_conftree, &max, &persist);
    for (s = main_server; s; s = s->next) {
        gate_of(s)->dbd_max = persist ? max : 0;
    }
    for (d = ap_conftree; d; d = d->next) {
        int vmax = max, vpersist = persist;
        if (strcasecmp(d->directive, "<VirtualHost")
            || !(s = vhost_at(main_server, d))) {
            continue;
        }
        /* A virtual host with no directive of ours has no gate of its
         * own: httpd hands it the main server's (no merge function), and
         * its DBDMax must not become the main server's. */
        if (gate_of(s) == gate_of(main_server)) {
            continue;
        }
        read_level(d->first_child, &vmax, &vpersist);
        gate_of(s)->dbd_max = vpersist ? vmax : 0;
    }
}

void os_limit_child_init(apr_pool_t *pchild, server_rec *main_server)
{
#if APR_HAS_THREADS
    server_rec *s;

    for (s = main_server; s; s = s->next) {
        os_gate *gate = gate_of(s);
        apr_thread_mutex_create(&gate->lock, APR_THREAD_MUTEX_DEFAULT, pchild);
        apr_thread_cond_create(&gate->freed, pchild);
    }
#else
    (void)pchild;
    (void)main_server;
#endif
}

#if APR_HAS_THREADS
/* A request's place in its gate, given back once: early, by
 * os_limit_leave(), when the export returns its connection before the
 * response ends, or by the cleanup on r->pool. */
static apr_status_t leave(void *g)
{
    os_gate *gate = g;

    apr_thread_mutex_lock(gate->lock);
    gate->active--;
    apr_thread_cond_signal(gate->freed);
    apr_thread_mutex_unlock(gate->lock);
    return APR_SUCCESS;
}

/* Unregisters the cleanup and runs it: the place is given back once.
 * Called only for a request that entered (os_conn.c). */
void os_limit_leave(request_rec *r)
{
    apr_pool_cleanup_run(r->pool, gate_of(r->server), leave);
}

os_slot os_limit_enter(request_rec *r, int max_concurrent,
                       apr_interval_time_t wait)
{
    os_gate *gate = gate_of(r->server);
    apr_time_t deadline = apr_time_now() + wait;
    os_slot slot = OS_SLOT_OK;

    apr_thread_mutex_lock(gate->lock);
    if (max_concurrent && gate->active >= max_concurrent) {
        slot = OS_SLOT_FULL;
        goto done;
    }
    while (gate->dbd_max && gate->active >= gate->dbd_max) {
        apr_interval_time_t left = deadline - apr_time_now();
        if (left <= 0) {
            slot = OS_SLOT_TIMEOUT;
            goto done;
        }
        apr_thread_cond_timedwait(gate->freed, gate->lock, left);
    }
    gate->active++;
    /* Registered before the connection is borrowed, so that when both go
     * back with r->pool, the connection is in the pool first (cleanups
     * run in reverse) and the export woken here finds it there. */
    apr_pool_cleanup_register(r->pool, gate, leave, apr_pool_cleanup_null);

done:
    apr_thread_mutex_unlock(gate->lock);
    return slot;
}
/* Whether k places held leave the gate at most half full: of each limit
 * that is set. */
static int half_free(const os_gate *gate, int max_concurrent, int k)
{
    return (!max_concurrent || 2 * k <= max_concurrent)
        && (!gate->dbd_max || 2 * k <= gate->dbd_max);
}

os_slot os_limit_enter_spare(request_rec *r, int max_concurrent, int mine,
                             int alongside)
{
    os_gate *gate = gate_of(r->server);
    os_slot slot = OS_SLOT_FULL;

    apr_thread_mutex_lock(gate->lock);
    if (gate->active - mine <= alongside
        && half_free(gate, max_concurrent, gate->active + 1)) {
        gate->active++;
        apr_pool_cleanup_register(r->pool, gate, leave, apr_pool_cleanup_null);
        slot = OS_SLOT_OK;
    }
    apr_thread_mutex_unlock(gate->lock);
    return slot;
}
#else
/* One request at a time per process: nothing to count. */
os_slot os_limit_enter_spare(request_rec *r, int max_concurrent, int mine,
                             int alongside)
{
    (void)r;
    (void)max_concurrent;
    (void)mine;
    (void)alongside;
    return OS_SLOT_OK;
}

os_slot os_limit_enter(request_rec *r, int max_concurrent,
                       apr_interval_time_t wait)
{
    (void)r;
    (void)max_concurrent;
    (void)wait;
    return OS_SLOT_OK;
}

void os_limit_leave(request_rec *r)
{
    (void)r;
}
#endif
