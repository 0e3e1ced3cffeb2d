/* os_watch.c: noticing a client that left while the database works.
 *
 * An export that waits for the database (a slow query's first FETCH, a
 * slow later batch, the next query of a chain) writes nothing to its
 * client meanwhile, so httpd cannot learn that the client went away: a
 * FETCH that takes minutes would hold its backend, its transaction and a
 * pooled connection for nobody. So the wait polls the database's socket
 * and the client's together (what nginx does for a proxied request,
 * ngx_http_upstream_check_broken_connection), and the cursor cancels the
 * query as soon as the client is gone.
 *
 * "Gone" is what the transport says, never a guess from silence:
 *  - HTTP/1.x: the client's socket reports POLLRDHUP (its FIN: the client
 *    closed, or shut down its sending side, as nginx also takes it),
 *    POLLHUP or POLLERR (a reset). Bytes it sends (a pipelined request)
 *    are left for httpd to read: only the hang-up is polled for, so they
 *    neither count nor wake the wait. A client that stops reading sends
 *    nothing and stays; the spool and the bounds on its pace deal with it
 *    (os_spool.c, os_pace.c).
 *  - HTTP/2: the request runs on a secondary connection with no socket of
 *    its own (mod_http2 gives it a placeholder that is not connected:
 *    polling it would say "hang-up" at once); the client's socket belongs
 *    to the primary connection's thread. mod_http2 marks the secondary
 *    connection aborted when the client resets the stream or the
 *    connection ends (h2_mplx.c, m_stream_cleanup), so that flag, and the
 *    primary's, are looked at every OS_WATCH_TICK.
 * Linux's poll(2), for POLLRDHUP, which apr_poll does not offer; the rest
 * of the module is Linux-only too (TCP_INFO, SIOCOUTQ).
 *
 * Layer db: may call its own layer and base.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* POLLRDHUP (apxs defines it already) */
#endif
#include "os_private.h"

#include <errno.h>
#include <poll.h>

#include <apr_portable.h>
#include <http_connection.h>
#include <http_core.h>

#include "os_watch.h"

/* The longest a wait sleeps between looks at the aborted flags: HTTP/2's
 * only signal. A reset stream is noticed within this; a poll wakeup per
 * 100 ms of a query that takes seconds costs nothing measurable. */
#define OS_WATCH_TICK_MS 100

struct os_watch {
    conn_rec *c;
    int fd; /* the client's socket; -1: none of its own (HTTP/2) */
};

os_watch *os_watch_create(conn_rec *c, apr_pool_t *p)
{
    os_watch *w = apr_pcalloc(p, sizeof(*w));
    apr_socket_t *sock = c->master ? NULL : ap_get_conn_socket(c);
    apr_os_sock_t fd;

    w->c = c;
    w->fd = sock && apr_os_sock_get(&fd, sock) == APR_SUCCESS ? fd : -1;
    return w;
}

/* What httpd (or mod_http2) already knows. */
static int aborted(const os_watch *w)
{
    return w->c->aborted || (w->c->master && w->c->master->aborted);
}

apr_status_t os_watch_wait(void *watch, const int *fds, int n)
{
    os_watch *w = watch;
    /* The database's sockets (at most OS_WATCH_MAX: an export's slices,
     * os_slice.c) and the client's last. */
    struct pollfd pfd[OS_WATCH_MAX + 1];
    int i, k, got;

    n = n > OS_WATCH_MAX ? OS_WATCH_MAX : n;
    for (i = 0; i < n; i++) {
        pfd[i] = (struct pollfd){ fds[i], POLLIN, 0 };
    }
    k = n;
    if (w->fd >= 0) {
        pfd[k++] = (struct pollfd){ w->fd, POLLRDHUP, 0 };
    }
    got = poll(pfd, (nfds_t)k, OS_WATCH_TICK_MS);
    if (aborted(w)
        || (got > 0 && w->fd >= 0
            && (pfd[n].revents & (POLLRDHUP | POLLHUP | POLLERR)))) {
        return APR_ECONNABORTED;
    }
    /* Readable, or a database socket failed: libpq finds out which when
     * it reads. */
    for (i = 0; got > 0 && i < n; i++) {
        if (pfd[i].revents) {
            return APR_SUCCESS;
        }
    }
    return APR_TIMEUP;
}
