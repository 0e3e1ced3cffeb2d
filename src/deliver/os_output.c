/* os_output.c: one brigade per request, data in large heap buffers.
 *
 * Rows are formatted straight into a buffer of OS_OUT_BUFSIZE bytes. A full
 * buffer becomes a heap bucket that owns it (no copy) and is passed down at
 * once, then the brigade is emptied: httpd's core output filter writes what
 * the socket takes and blocks once about FlushMaxThreshold (64 KB) is
 * pending, so a slow client slows the export instead of growing memory.
 * Per export this holds at most one buffer here plus that threshold in the
 * core filter, whatever the size of the result.
 *
 * A FLUSH goes down once per batch, where the next FETCH may make us wait
 * for the database: the client gets the batch now (mod_deflate compresses
 * what it has), and there is no flush per row to fragment the stream.
 * The spool filter at the end of the request's chain (os_spool.c) decides
 * what a slow client makes it do: a pass blocks only there, within the
 * bounds, and never in the core.
 *
 * Layer deliver: may call its own layer and base, db.
 */
#include "os_private.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <apr_buckets.h>
#include <apr_network_io.h>
#include <apr_portable.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include "os_output.h"

/* Tens of KB: about 300 lines of the shop export per bucket and per pass,
 * so per-bucket costs vanish, while one buffer stays below the core output
 * filter's 64 KB threshold and leaves the socket as soon as it is full. */
#define OS_OUT_BUFSIZE (32 * 1024)

struct os_out {
    request_rec *r;
    apr_bucket_brigade *bb;
    char *buf;       /* current buffer, NULL until needed */
    apr_size_t cap;  /* its size */
    apr_size_t used; /* bytes written to it */
    apr_off_t bytes; /* bytes passed down */
    apr_status_t status;
    os_spool *spool;
    int detached; /* os_out_create_detached: nothing is passed down */
};

os_out *os_out_create(request_rec *r, os_spool *spool)
{
    os_out *o = apr_pcalloc(r->pool, sizeof(*o));

    o->r = r;
    o->spool = spool;
    o->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    return o;
}

static void append_buffer(os_out *o);

os_out *os_out_create_detached(request_rec *r)
{
    os_out *o = os_out_create(r, NULL);

    o->detached = 1;
    return o;
}

apr_bucket_brigade *os_out_take(os_out *o)
{
    append_buffer(o);
    return o->bb;
}

apr_status_t os_out_write(os_out *o, const char *bytes, apr_size_t len)
{
    while (len > 0) {
        apr_size_t n = len > OS_OUT_BUFSIZE ? OS_OUT_BUFSIZE : len;
        char *d = os_out_reserve(o, n);
        if (!d) {
            return o->status;
        }
        memcpy(d, bytes, n);
        os_out_commit(o, n);
        bytes += n;
        len -= n;
    }
    return APR_SUCCESS;
}

apr_status_t os_out_status(const os_out *o)
{
    return o->status;
}

request_rec *os_out_request(const os_out *o)
{
    return o->r;
}

apr_off_t os_out_bytes(const os_out *o)
{
    return o->bytes;
}

/* Hands the buffer to the brigade: the heap bucket frees it once sent. */
static void append_buffer(os_out *o)
{
    apr_bucket_alloc_t *ba = o->r->connection->bucket_alloc;
    apr_bucket *b;

    if (!o->buf) {
        return;
    }
    if (o->used) {
        b = apr_bucket_heap_create(o->buf, o->used, apr_bucket_free, ba);
        APR_BRIGADE_INSERT_TAIL(o->bb, b);
        o->bytes += o->used;
    }
    else {
        apr_bucket_free(o->buf);
    }
    o->buf = NULL;
    o->used = o->cap = 0;
}

/* Passes the brigade and empties it; records why if the client is gone.
 * last: the brigade ends the body, so a client that closes as soon as it
 * has it all (HTTP/2 clients do; mod_http2 then marks the stream's
 * connection aborted) has not gone away too early. */
static apr_status_t pass(os_out *o, int last)
{
    apr_status_t rv;

    if (o->detached) {
        return APR_SUCCESS; /* the buckets stay for os_out_take */
    }
    rv = ap_pass_brigade(o->r->output_filters, o->bb);

    apr_brigade_cleanup(o->bb);
    /* Success from the filters does not mean the client is still there. */
    if (rv == APR_SUCCESS && !last && o->r->connection->aborted) {
        rv = APR_ECONNABORTED;
    }
    if (rv != APR_SUCCESS && o->status == APR_SUCCESS) {
        o->status = rv;
    }
    return rv;
}

char *os_out_reserve(os_out *o, apr_size_t n)
{
    if (o->status != APR_SUCCESS) {
        return NULL;
    }
    if (o->buf && o->cap - o->used >= n) {
        return o->buf + o->used;
    }
    append_buffer(o);
    if (!APR_BRIGADE_EMPTY(o->bb) && pass(o, 0) != APR_SUCCESS) {
        return NULL;
    }
    /* A field larger than a buffer gets a buffer of its own size: bounded
     * by the batch, which holds that field already. */
    o->cap = n > OS_OUT_BUFSIZE ? n : OS_OUT_BUFSIZE;
    o->buf = apr_bucket_alloc(o->cap, o->r->connection->bucket_alloc);
    o->used = 0;
    return o->buf;
}

void os_out_commit(os_out *o, apr_size_t used)
{
    o->used += used;
}

static apr_status_t end_with(os_out *o, apr_bucket *b)
{
    int last = APR_BUCKET_IS_EOS(b);

    if (o->status != APR_SUCCESS) {
        apr_bucket_destroy(b);
        return o->status;
    }
    append_buffer(o);
    APR_BRIGADE_INSERT_TAIL(o->bb, b);
    return pass(o, last);
}

apr_status_t os_out_flush(os_out *o)
{
    return end_with(o,
                    apr_bucket_flush_create(o->r->connection->bucket_alloc));
}

apr_status_t os_out_finish(os_out *o)
{
    return end_with(o, apr_bucket_eos_create(o->r->connection->bucket_alloc));
}

/* Whether the client learns where the body ends only from the connection
 * closing: HTTP/1.0, or an HTTP/1.1 response httpd did not chunk (a GET
 * sent with "Expect: 100-continue": ap_set_keepalive() will not keep such
 * a connection, so it does not chunk). Known once the headers went out,
 * which they have when a body is cut. HTTP/2 frames its streams itself
 * (r->connection->master is set on its stream connections). */
static int close_delimited(const request_rec *r)
{
    return !r->chunked && !r->header_only && !r->connection->master
        && r->proto_num < HTTP_VERSION(2, 0);
}

/* Ends the connection with a TCP reset instead of a FIN. For a
 * close-delimited body a FIN is the normal end of the file, so a cut would
 * look complete; a reset makes the client's read fail (curl exits 56, a
 * browser marks the download failed). httpd has no call for this, but it
 * offers the two pieces: SO_LINGER with a zero timeout makes close() send
 * an RST (the kernel drops whatever is still unsent), and c->aborted makes
 * ap_start_lingering_close() close the socket at once, without the
 * shutdown(SHUT_WR) that would send a FIN first (server/connection.c; the
 * event MPM's process_lingering_close and the other MPMs' ap_lingering_close
 * both go through it). APR's own APR_SO_LINGER always sets a 30 s timeout,
 * hence setsockopt on the descriptor. */
static void reset_connection(request_rec *r)
{
    conn_rec *c = r->connection;
    struct linger now = { 1, 0 };
    apr_os_sock_t fd;

    if (!os_spool_client_fd(c, &fd)
        || setsockopt(fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, APR_FROM_OS_ERROR(errno), r,
                      OSLOGNO(00024) "cannot set SO_LINGER to reset the "
                                     "connection of a cut download");
    }
    c->aborted = 1;
}

/* As ap_proxy_backend_broke(): an error bucket with exactly
 * HTTP_BAD_GATEWAY makes the chunk filter leave out the last chunk and the
 * connection close (HTTP/2: the stream is reset), and r->no_cache keeps a
 * cache from storing the partial body. A 500 here would instead append an
 * error page and end the body normally.
 *
 * A close-delimited body ends with a reset, which drops whatever the
 * kernel and httpd still hold: so what was spooled for the client is sent
 * first (os_spool_drain). A bound cut is the server letting go of a client
 * that would hold it: an HTTP/1.x connection is reset at once, however it
 * is framed, an HTTP/2 stream too, with what httpd still held for it. */
void os_out_fail(os_out *o)
{
    request_rec *r = o->r;
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    int bound = os_spool_bound(o->status) != NULL;

    r->no_cache = 1;
    r->connection->keepalive = AP_CONN_CLOSE;
    if (o->buf) {
        apr_bucket_free(o->buf);
        o->buf = NULL;
        o->used = o->cap = 0;
    }
    if (o->status != APR_SUCCESS && !bound) {
        return; /* the client is gone: nobody to tell */
    }
    if (bound && r->connection->master) {
        /* HTTP/2: a stream whose output never ended (no EOS) is reset by
         * mod_http2 when the handler returns (h2_mplx.c, "processing
         * finished with incomplete output"), dropping what it still held
         * for the client; an error bucket would wait behind that. */
        return;
    }
    APR_BRIGADE_INSERT_TAIL(
        o->bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, r->pool, ba));
    APR_BRIGADE_INSERT_TAIL(o->bb, apr_bucket_eos_create(ba));
    pass(o, 1);
    if (r->connection->master) {
        return; /* HTTP/2: the stream is reset, the connection stays */
    }
    if (bound) {
        reset_connection(r);
    }
    else if (close_delimited(r)) {
        os_spool_drain(o->spool);
        reset_connection(r);
    }
}
