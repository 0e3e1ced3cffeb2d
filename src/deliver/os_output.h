/* os_output.h: writing an export's body down httpd's output filters.
 *
 * Layer deliver: may call its own layer and base, db.
 */
#ifndef OS_OUTPUT_H
#define OS_OUTPUT_H

#include <apr_buckets.h>
#include <httpd.h>

#include "os_spool.h"

typedef struct os_out os_out;

/* One writer per request, allocated from r->pool. spool: the request's
 * spool filter (os_spool_add), or NULL. */
os_out *os_out_create(request_rec *r, os_spool *spool);

/* A writer whose buffers are kept, never passed down: what a format's
 * writer writes into it is taken back with os_out_take (os_slice.c renders
 * a later slice's rows ahead of their turn this way). */
os_out *os_out_create_detached(request_rec *r);

/* The detached writer's bytes so far, as heap buckets in *bb (the caller
 * reads and empties it); the writer goes on empty. */
apr_bucket_brigade *os_out_take(os_out *o);

/* Writes len bytes as they are (a piece rendered ahead), in buffers as
 * os_out_reserve gives them. */
apr_status_t os_out_write(os_out *o, const char *bytes, apr_size_t len);

/* Returns room for at least n bytes; what is written there counts once
 * os_out_commit() says how much. Passes full buffers down first. Returns
 * NULL when that pass failed or the client is gone (see os_out_status). */
char *os_out_reserve(os_out *o, apr_size_t n);
void os_out_commit(os_out *o, apr_size_t used);

/* Passes what is buffered and a FLUSH: the end of a batch, before the next
 * FETCH may block on the database. */
apr_status_t os_out_flush(os_out *o);

/* Passes what is buffered and EOS: the export is complete. */
apr_status_t os_out_finish(os_out *o);

/* Ends a body that has started but cannot be completed, the way mod_proxy
 * ends a response whose backend broke: the client sees a cut download,
 * never a short file that looks whole. What was spooled before it is sent
 * first. After a bound cut the client (HTTP/1.x: the connection) is
 * dropped at once instead, with what httpd still held for it. */
void os_out_fail(os_out *o);

/* APR_SUCCESS while the client takes the body; otherwise why it stopped
 * (the pass's error, APR_ECONNABORTED, or a bound: os_spool_bound). */
apr_status_t os_out_status(const os_out *o);

/* The request the body belongs to. */
request_rec *os_out_request(const os_out *o);

/* Bytes passed down so far. */
apr_off_t os_out_bytes(const os_out *o);

#endif /* OS_OUTPUT_H */
