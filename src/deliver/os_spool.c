/* os_spool.c: a slow client never holds the database.
 *
 * Without this filter a slow client sets the pace of the whole export:
 * httpd's core output filter blocks in ap_pass_brigade once about 64 KB
 * (FlushMaxThreshold) of memory is waiting for the socket, or on a FLUSH,
 * and the handler, its pooled connection, its REPEATABLE READ snapshot and
 * a worker thread wait with it for as long as the client likes.
 *
 * The core filter treats FILE buckets differently: it writes what the
 * socket takes and sets the rest aside without counting it against that
 * threshold, and once the handler has returned, the event MPM finishes the
 * response in write completion, polling the socket without a worker
 * thread. So what the client cannot take yet is written to a temporary
 * file and passed down as FILE buckets over it: the export reads the
 * database at the database's pace, gives its connection back after the
 * last row, and httpd sends the rest from the file.
 *
 * The filter sits after every other filter of the request (mod_deflate,
 * the chunk filter), so it spools the bytes as they go on the wire: a
 * compressed or chunked response decouples as well. It never passes a
 * FLUSH down (that would make the core block), and decides per piece of
 * at most OS_SPOOL_PIECE bytes:
 *  - nothing waits in httpd's buffers: the piece goes down as it is, in
 *    memory, so a client that keeps up costs nothing (no file is made);
 *  - the client is behind: the piece is appended to the file, and the
 *    bytes not yet passed go down as one FILE bucket when the core has
 *    run dry or OS_SPOOL_PASS of them have gathered, so the buckets the
 *    core holds stay few whatever the spool's size; when the client has
 *    taken all of it the file is truncated and starts again;
 *  - no spool (off, full, the directory unwritable, the disk full): the
 *    filter waits for the client itself, polling the socket and asking
 *    the core to write, rather than letting the core block, so that the
 *    bounds (os_pace.c) are checked while it waits: OrderStreamMinRate
 *    against the bytes the client's TCP stack acknowledged (TCP_INFO), and
 *    OrderStreamMaxDuration; httpd's Timeout still ends a wait in which the
 *    client took nothing at all. Only then does the piece go down.
 *
 * The file: made in OrderStreamSpoolDir with O_TMPFILE, so it never has
 * a name (where the file system cannot, mkstemp and an unlink at once):
 * nothing is left behind whatever happens to the request or the child.
 * Data is written with pwrite at our own offset, since the core's reads
 * of the FILE buckets move the shared file offset. Every FILE bucket gets
 * an apr_file_t of its own over the one descriptor, made without a
 * cleanup: httpd and mod_http2 set buckets aside by moving their
 * apr_file_t to another pool, which invalidates the one moved, so one
 * shared apr_file_t would break the next bucket. The descriptor is closed
 * with the request's pool, which lives until the last byte before the
 * request's end-of-request bucket is sent (HTTP/1.1, write completion) or
 * the stream is done (HTTP/2), after every bucket over it. mmap is off for
 * these buckets: a truncated file must never be mapped.
 *
 * sendfile is on for them, whatever EnableSendfile says (it applies to the
 * files httpd serves, and marks their apr_file_t; this one is ours). It
 * has to be: without it the core reads a FILE bucket into memory to write
 * it, in 8000-byte heap buckets up to FlushMaxThreshold and one more, and
 * when the socket then takes nothing those stay in its buffer as memory:
 * more than the threshold, so the next pass blocks until the client has
 * taken everything. Measured: with the files' default (no sendfile) a
 * client at 2 MB/s held the transaction open for the whole 55 MB
 * download, as without a spool; with sendfile it was idle within the
 * first second. The file is local (OrderStreamSpoolDir), where sendfile
 * is sound.
 *
 * HTTP/2: the request runs on a secondary connection whose output goes
 * to mod_http2's beam, which blocks on more than H2StreamMaxMemSize (64
 * KB) of memory but takes FILE buckets without counting them, and there
 * is no "data pending" flag to read. So every piece is spooled, and the
 * primary connection reads the file sequentially (h2_c1_io.c: seek, read)
 * as the client takes it: the file offset says how far it got, which
 * tells when the file may be truncated and how fast the client is.
 *
 * A filter between this one and the core that must read FILE buckets into
 * memory (mod_ssl, to encrypt them) would turn the spool back into memory
 * that the core blocks on. Then the file is fed to it a piece at a time,
 * whenever the core has run dry, and the tail after the last row by this
 * filter itself, waiting: the database is released just the same, only a
 * worker thread is held until the client has it all.
 *
 * Layer deliver: may call its own layer and base, db.
 */
#include "os_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include <apr_atomic.h>
#include <apr_buckets.h>
#include <apr_file_io.h>
#include <apr_poll.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "os_notes.h"
#include "os_spool.h"

/* A piece: about one output buffer of os_output.c (32 KB) with its chunk
 * framing, at most 16 buckets (one pwritev). Passed in memory, a piece
 * stays below the core's 64 KB threshold, so a pass never blocks. */
#define OS_SPOOL_PIECE (32 * 1024)
#define OS_SPOOL_IOV 16

/* Spooled bytes passed down as one FILE bucket at the latest: the core
 * holds one bucket (~250 bytes with its apr_file_t) per MB of spool, not
 * one per piece. */
#define OS_SPOOL_PASS (1024 * 1024)

/* The longest a wait sleeps between looks at the clock: bounds are judged
 * at least this often. HTTP/2 has no socket of its own to poll, so it
 * looks at the file offset this often. */
#define OS_SPOOL_TICK apr_time_from_msec(250)
#define OS_SPOOL_H2_TICK apr_time_from_msec(50)

/* The spool never fills the file system it is on past this: a full disk
 * would hurt everything else on it, the database first when it shares
 * the disk. Looked at (fstatvfs) every OS_SPOOL_PASS spooled bytes. */
#define OS_SPOOL_KEEP_FREE_PERCENT 10

struct os_spool {
    request_rec *r;
    ap_filter_t *f;
    os_pace *pace;
    apr_off_t limit;  /* OrderStreamSpool; 0: none */
    const char *dir;  /* NULL: httpd's temporary directory */
    int fd;           /* -1: no file yet */
    int failed;       /* no spool for the rest of this response */
    int h2;           /* a mod_http2 stream: no core filter below */
    int feed;         /* a filter below reads FILE buckets into memory */
    int to_client;    /* a wait lasts until the client acknowledged it all */
    apr_off_t size;   /* bytes in the file */
    apr_off_t passed; /* of them, passed down as FILE buckets */
    /* size at the last look at the free space, less what was truncated
     * since: bytes spooled since that look are size - statted */
    apr_off_t statted;
    apr_uint64_t base;  /* HTTP/2: bytes read from the file before the
                         * last truncation */
    apr_uint64_t sent;  /* HTTP/2 without a file: bytes passed */
    apr_off_t wire;     /* bytes the filter was given (see spool_bytes) */
    apr_off_t spooled;  /* bytes written to the file, all truncations */
    apr_uint64_t out0;  /* HTTP/1.x: bytes the connection had sent when the
                         * filter was added (out_bytes) */
    apr_status_t bound; /* set once a bound cut the response */
    apr_bucket_brigade *piece, *out;
    apr_pool_t *wrap; /* the FILE buckets' apr_file_t, until passed */
};

/* One warning per child and kind, then debug: a spool directory that
 * cannot be written is a config mistake, said once, not per download. */
static apr_uint32_t warned_make, warned_write, warned_full;

/* (A variable, not an argument of ap_log_rerror: that macro evaluates
 * its level more than once.) */
static int level_once(apr_uint32_t *flag)
{
    return apr_atomic_cas32(flag, 1, 0) == 0 ? APLOG_WARNING : APLOG_DEBUG;
}

const char *os_spool_bound(apr_status_t rv)
{
    return rv == OS_SPOOL_TOO_SLOW ? "too-slow"
        : rv == OS_SPOOL_TOO_LONG  ? "too-long"
                                   : NULL;
}

static apr_uint64_t out_bytes(os_spool *s);

/* ---- the file ----------------------------------------------------------- */

static apr_status_t close_file(void *data)
{
    os_spool *s = data;

    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    return APR_SUCCESS;
}

/* A file with no name in dir: O_TMPFILE, or mkstemp and unlink at once
 * where the file system has no O_TMPFILE. 0, or the errno. */
static int make_nameless(const char *dir, apr_pool_t *p, int *fd)
{
    char *name;

#ifdef O_TMPFILE
    *fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (*fd >= 0) {
        return 0;
    }
    if (errno == EACCES || errno == ENOENT || errno == EROFS || errno == ENOSPC
        || errno == EDQUOT) {
        return errno;
    }
#endif
    name = apr_pstrcat(p, dir, "/orderstream-XXXXXX", NULL);
    *fd = mkostemp(name, O_CLOEXEC);
    if (*fd < 0) {
        return errno;
    }
    unlink(name);
    return 0;
}

static int open_file(os_spool *s)
{
    request_rec *r = s->r;
    const char *dir = s->dir;
    int err;

    if (!dir && apr_temp_dir_get(&dir, r->pool) != APR_SUCCESS) {
        dir = "/tmp";
    }
    err = make_nameless(dir, r->pool, &s->fd);
    if (err) {
        int level = level_once(&warned_make);
        ap_log_rerror(APLOG_MARK, level, APR_FROM_OS_ERROR(err), r,
                      OSLOGNO(00050) "cannot make a spool file in %s: "
                                     "slow clients are waited for "
                                     "(OrderStreamSpoolDir)",
                      dir);
        s->failed = 1;
        s->fd = -1;
        return 0;
    }
    s->dir = dir;
    apr_pool_cleanup_register(r->pool, s, close_file, apr_pool_cleanup_null);
    return 1;
}

/* Whether the file system keeps OS_SPOOL_KEEP_FREE_PERCENT free. */
static int disk_has_room(os_spool *s)
{
    struct statvfs v;
    int level;

    s->statted = s->size;
    if (fstatvfs(s->fd, &v) || !v.f_blocks
        || (double)v.f_bavail * 100.0
            >= (double)v.f_blocks * OS_SPOOL_KEEP_FREE_PERCENT) {
        return 1;
    }
    level = level_once(&warned_full);
    ap_log_rerror(APLOG_MARK, level, 0, s->r,
                  OSLOGNO(00052) "the spool's file system (%s) has less "
                                 "than %d%% free: slow clients are waited "
                                 "for",
                  s->dir, OS_SPOOL_KEEP_FREE_PERCENT);
    s->failed = 1;
    return 0;
}

/* Whether len more bytes may go to the file. */
static int room(os_spool *s, apr_size_t len)
{
    if (!s->limit || s->failed || s->size + (apr_off_t)len > s->limit) {
        return 0;
    }
    if (s->fd < 0 && !open_file(s)) {
        return 0;
    }
    if (s->size - s->statted >= OS_SPOOL_PASS && !disk_has_room(s)) {
        return 0;
    }
    return 1;
}

/* Appends the piece to the file with pwritev; on failure (a full disk)
 * the piece is left as it was, the spool is given up for this response
 * and the caller waits for the client instead. */
static apr_status_t spool_write(os_spool *s, apr_bucket_brigade *piece)
{
    struct iovec vec[OS_SPOOL_IOV], *v = vec;
    int n = OS_SPOOL_IOV;
    apr_status_t rv = apr_brigade_to_iovec(piece, vec, &n);
    apr_off_t at = s->size;
    ssize_t w;

    while (rv == APR_SUCCESS && n > 0) {
        w = pwritev(s->fd, v, n, at);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            rv = w < 0 ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
            break;
        }
        at += w;
        while (n > 0 && (size_t)w >= v->iov_len) {
            w -= (ssize_t)v->iov_len;
            v++;
            n--;
        }
        if (n > 0) {
            v->iov_base = (char *)v->iov_base + w;
            v->iov_len -= (size_t)w;
        }
    }
    if (rv != APR_SUCCESS) {
        int level = level_once(&warned_write);
        ap_log_rerror(APLOG_MARK, level, rv, s->r,
                      OSLOGNO(00051) "cannot write the spool file in %s: "
                                     "this client is waited for",
                      s->dir);
        s->failed = 1;
        return rv;
    }
    s->spooled += at - s->size;
    s->size = at;
    apr_brigade_cleanup(piece);
    return APR_SUCCESS;
}

/* The file is no longer needed by anything passed down: it starts again
 * empty (no disk kept for bytes the client has). */
static void truncate_file(os_spool *s)
{
    if (s->fd < 0 || s->size == 0) {
        return;
    }
    /* Should it fail, the next bytes overwrite the old ones all the same:
     * offsets are ours. */
    (void)!ftruncate(s->fd, 0);
    s->base += (apr_uint64_t)s->passed;
    /* HTTP/2 measures the reader by the offset: back to 0. */
    lseek(s->fd, 0, SEEK_SET);
    /* the look at the free space counts what was spooled, not restarts */
    s->statted -= s->size;
    s->size = s->passed = 0;
}

/* ---- passing down ------------------------------------------------------- */

static apr_status_t pass(os_spool *s, apr_bucket_brigade *bb)
{
    apr_status_t rv = ap_pass_brigade(s->f->next, bb);

    apr_brigade_cleanup(bb);
    apr_pool_clear(s->wrap);
    return rv;
}

/* Passes up to max bytes of the file that are not passed yet, as one FILE
 * bucket. */
static apr_status_t pass_file(os_spool *s, apr_off_t max)
{
    apr_bucket_alloc_t *ba = s->r->connection->bucket_alloc;
    apr_off_t len = s->size - s->passed;
    apr_os_file_t fd = s->fd;
    apr_file_t *file;
    apr_bucket *b;

    if (len <= 0) {
        return APR_SUCCESS;
    }
    len = len > max ? max : len;
    /* An apr_file_t of its own, without a cleanup (apr_os_file_put makes
     * none), for this bucket alone, marked for sendfile: see the comment
     * at the top. */
    apr_os_file_put(&file, &fd, APR_FOPEN_READ | APR_FOPEN_SENDFILE_ENABLED,
                    s->wrap);
    b = apr_bucket_file_create(file, s->passed, (apr_size_t)len, s->wrap, ba);
    apr_bucket_file_enable_mmap(b, 0);
    APR_BRIGADE_INSERT_TAIL(s->out, b);
    s->passed += len;
    return pass(s, s->out);
}

/* The last filter of the connection (the core; mod_http2's on a stream). */
static ap_filter_t *bottom(os_spool *s)
{
    ap_filter_t *f = s->f->next;

    while (f->next) {
        f = f->next;
    }
    return f;
}

/* Lets the core write what it holds without blocking, as the event MPM
 * does in write completion (a NULL brigade). */
static apr_status_t kick(os_spool *s)
{
    ap_filter_t *f = bottom(s);

    return f->frec->filter_func.out_func(f, NULL);
}

/* HTTP/2: how far the primary connection has read the file. */
static apr_off_t reader_at(os_spool *s)
{
    apr_off_t at = s->fd >= 0 ? lseek(s->fd, 0, SEEK_CUR) : 0;

    return at < 0 ? 0 : at;
}

int os_spool_client_fd(conn_rec *c, apr_os_sock_t *fd)
{
    apr_socket_t *sock = ap_get_conn_socket(c);

    return sock && apr_os_sock_get(fd, sock) == APR_SUCCESS;
}

/* Bytes the kernel holds for the client, sent or not, that it has not
 * acknowledged yet; 0 if unknown. */
static int unacked(os_spool *s)
{
    apr_os_sock_t fd;
    int n = 0;

    if (!os_spool_client_fd(s->r->connection, &fd)
        || ioctl(fd, SIOCOUTQ, &n)) {
        return 0;
    }
    return n;
}

/* *dry: nothing passed down so far waits in httpd any more (and, with
 * to_client, in the kernel either). */
static apr_status_t probe(os_spool *s, int *dry)
{
    apr_status_t rv = APR_SUCCESS;

    if (s->h2) {
        *dry = reader_at(s) >= s->passed;
        return s->r->connection->aborted ? APR_ECONNABORTED : APR_SUCCESS;
    }
    rv = kick(s);
    *dry = !s->r->connection->data_in_output_filters
        && (!s->to_client || !unacked(s));
    return rv;
}

/* After a piece went to the file, and at the end of a batch (the handler's
 * FLUSH): lets the core write, passes the spooled bytes when it ran dry
 * or enough gathered, and starts the file again when all of it is gone. */
static apr_status_t settle(os_spool *s)
{
    apr_off_t unpassed = s->size - s->passed;
    apr_status_t rv;
    int dry;

    rv = probe(s, &dry);
    if (rv == APR_SUCCESS && unpassed > 0
        && (s->feed ? dry : dry || unpassed >= OS_SPOOL_PASS)) {
        rv = pass_file(s, s->feed ? OS_SPOOL_PIECE : unpassed);
        if (rv == APR_SUCCESS) {
            rv = probe(s, &dry);
        }
    }
    if (rv == APR_SUCCESS && dry && s->passed == s->size) {
        truncate_file(s);
    }
    return rv;
}

/* ---- waiting for the client --------------------------------------------- */

/* Bytes the client's TCP stack has acknowledged; 0 if unknown. */
static apr_uint64_t acked(os_spool *s)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    apr_os_sock_t fd;

    if (!os_spool_client_fd(s->r->connection, &fd)
        || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len)
        || len < offsetof(struct tcp_info, tcpi_bytes_acked)
                + sizeof(ti.tcpi_bytes_acked)) {
        return 0;
    }
    return ti.tcpi_bytes_acked;
}

/* Bytes that left for the client: HTTP/1.x, what the kernel put on the
 * wire for the connection (TCP_INFO: sent, less retransmissions; what the
 * client acknowledged on a kernel without those), which is what the
 * client received, its window at most besides, and keeps counting what
 * was sent and not yet acknowledged when the client reset; HTTP/2, what
 * mod_http2's primary connection took, as taken(). */
static apr_uint64_t out_bytes(os_spool *s)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    apr_os_sock_t fd;

    if (s->h2) {
        return s->base + (apr_uint64_t)reader_at(s) + s->sent;
    }
    if (!os_spool_client_fd(s->r->connection, &fd)
        || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len)) {
        return 0;
    }
    if (len >= offsetof(struct tcp_info, tcpi_bytes_retrans)
            + sizeof(ti.tcpi_bytes_retrans)) {
        return ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans;
    }
    return len >= offsetof(struct tcp_info, tcpi_bytes_acked)
                + sizeof(ti.tcpi_bytes_acked)
        ? ti.tcpi_bytes_acked
        : 0;
}

/* How far the client got, by the transport's own measure. */
static apr_uint64_t taken(os_spool *s)
{
    return s->h2 ? s->base + (apr_uint64_t)reader_at(s) + s->sent : acked(s);
}

/* The status that stands for a verdict; it sticks to the response. */
static apr_status_t judged(os_spool *s, os_pace_verdict v)
{
    if (v != OS_PACE_OK) {
        s->bound =
            v == OS_PACE_TOO_SLOW ? OS_SPOOL_TOO_SLOW : OS_SPOOL_TOO_LONG;
    }
    return s->bound;
}

/* Sleeps until the socket takes more or a tick passes. Without a socket
 * of its own (HTTP/2), or with nothing left in httpd for it (the wait is
 * for the client's acknowledgements), there is nothing to poll for. */
static int wait_writable(os_spool *s, apr_interval_time_t most)
{
    apr_pollfd_t pfd = { 0 };
    apr_int32_t n = 0;

    if (s->h2 || !s->r->connection->data_in_output_filters) {
        apr_sleep(most < OS_SPOOL_H2_TICK ? most : OS_SPOOL_H2_TICK);
        return 0;
    }
    pfd.p = s->r->pool;
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.reqevents = APR_POLLOUT;
    pfd.desc.s = ap_get_conn_socket(s->r->connection);
    return apr_poll(&pfd, 1, &n, most < OS_SPOOL_TICK ? most : OS_SPOOL_TICK)
        == APR_SUCCESS
        && n > 0;
}

/* Waits until everything passed down has left httpd's buffers, judging
 * the bounds meanwhile. httpd's Timeout ends a wait in which the client
 * took nothing at all, as it would end a blocked write (APR_TIMEUP, the
 * connection marked aborted, as the core marks it). */
static apr_status_t wait_dry(os_spool *s)
{
    conn_rec *c = s->r->connection;
    apr_interval_time_t timeout = s->r->server->timeout;
    apr_time_t now = apr_time_now(), moved = now;
    apr_uint64_t got = taken(s), t;
    apr_status_t rv;
    int dry;

    os_pace_wait_start(s->pace, now, got);
    for (;;) {
        rv = probe(s, &dry);
        if (rv != APR_SUCCESS || dry) {
            os_pace_wait(s->pace, apr_time_now(), taken(s));
            return rv;
        }
        now = apr_time_now();
        t = taken(s);
        if (t != got) {
            moved = now;
            got = t;
        }
        if (judged(s, os_pace_wait(s->pace, now, got)) != APR_SUCCESS) {
            return s->bound;
        }
        if (now - moved >= timeout) {
            c->aborted = 1;
            return APR_TIMEUP;
        }
        if (wait_writable(s, timeout - (now - moved)) && !s->h2 && !t) {
            moved = apr_time_now(); /* no TCP_INFO: writable is progress */
        }
    }
}

/* No spool for this piece: the client is waited for, then the piece goes
 * down in memory. HTTP/2 cannot be waited for without a file (nothing
 * says what the stream holds): the pass itself waits, in mod_http2's
 * beam, and counts as waiting. */
static apr_status_t wait_then_pass(os_spool *s, apr_bucket_brigade *piece,
                                   apr_size_t len)
{
    apr_status_t rv;

    if (s->h2) {
        os_pace_wait_start(s->pace, apr_time_now(), s->sent);
        rv = pass(s, piece);
        s->sent += len;
        if (rv == APR_SUCCESS) {
            rv = judged(s, os_pace_wait(s->pace, apr_time_now(), s->sent));
        }
        return rv;
    }
    rv = wait_dry(s);
    return rv == APR_SUCCESS ? pass(s, piece) : rv;
}

/* Passes what is left of the file in pieces as the client takes them:
 * what a filter below that reads FILE buckets into memory needs. */
static apr_status_t feed(os_spool *s)
{
    apr_status_t rv = APR_SUCCESS;

    while (rv == APR_SUCCESS && s->passed < s->size) {
        rv = wait_dry(s);
        if (rv == APR_SUCCESS) {
            rv = pass_file(s, OS_SPOOL_PIECE);
        }
    }
    return rv;
}

/* Whether the client is behind: something waits in the core or the
 * file (HTTP/2: always, see the top). */
static int behind(os_spool *s)
{
    return s->h2 || s->size > 0 || s->r->connection->data_in_output_filters;
}

/* One piece of the body, len bytes. */
static apr_status_t put(os_spool *s, apr_bucket_brigade *piece, apr_size_t len)
{
    apr_status_t rv;

    for (;;) {
        if (judged(s, os_pace_check(s->pace, apr_time_now()))) {
            return s->bound;
        }
        if (!behind(s)) {
            return pass(s, piece);
        }
        if (room(s, len) && spool_write(s, piece) == APR_SUCCESS) {
            return settle(s);
        }
        if (s->size == 0) {
            return wait_then_pass(s, piece, len);
        }
        /* The spool is full: as without one, the export waits until the
         * client has taken it all, then starts the file again. */
        rv = s->feed ? feed(s) : pass_file(s, s->size);
        if (rv == APR_SUCCESS) {
            rv = wait_dry(s);
        }
        if (rv != APR_SUCCESS) {
            return rv;
        }
        truncate_file(s);
    }
}

/* ---- the filter --------------------------------------------------------- */

/* A metadata bucket: a FLUSH is the end of a batch (settle, never block);
 * anything else (EOS, the error bucket of a cut) goes down after what the
 * file holds. */
static apr_status_t meta(os_spool *s, apr_bucket *b)
{
    apr_status_t rv = APR_SUCCESS;

    if (APR_BUCKET_IS_FLUSH(b)) {
        apr_bucket_delete(b);
        return s->bound ? APR_SUCCESS : settle(s);
    }
    if (!s->bound) {
        rv = s->feed ? feed(s) : pass_file(s, s->size);
    }
    APR_BUCKET_REMOVE(b);
    APR_BRIGADE_INSERT_TAIL(s->out, b);
    /* Past a cut, what matters is that the error bucket goes down. */
    return rv == APR_SUCCESS || s->bound ? pass(s, s->out) : rv;
}

/* Moves b from the brigade into the piece; *len grows by its length. A
 * bucket of unknown length is read first, a large one split, so that a
 * piece passed in memory stays below the core's threshold. */
static apr_status_t take(apr_bucket *b, apr_bucket_brigade *piece,
                         apr_size_t *len)
{
    const char *data;
    apr_size_t n;
    apr_status_t rv;

    if (b->length == (apr_size_t)-1) {
        rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    if (b->length > OS_SPOOL_PIECE) {
        apr_bucket_split(b, OS_SPOOL_PIECE);
    }
    *len += b->length;
    APR_BUCKET_REMOVE(b);
    APR_BRIGADE_INSERT_TAIL(piece, b);
    return APR_SUCCESS;
}

static int piece_full(apr_bucket_brigade *piece, apr_size_t len)
{
    apr_bucket *b;
    int n = 0;

    for (b = APR_BRIGADE_FIRST(piece); b != APR_BRIGADE_SENTINEL(piece);
         b = APR_BUCKET_NEXT(b)) {
        n++;
    }
    return len >= OS_SPOOL_PIECE || n >= OS_SPOOL_IOV;
}

/* A filter below that is not the network's own (mod_ssl's) reads FILE
 * buckets into memory. */
static int needs_feeding(ap_filter_t *f)
{
    for (f = f->next; f; f = f->next) {
        if (f->frec->ftype < AP_FTYPE_NETWORK) {
            return 1;
        }
    }
    return 0;
}

static apr_status_t spool_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    os_spool *s = f->ctx;
    apr_status_t rv = APR_SUCCESS;
    apr_size_t len = 0;
    apr_bucket *b;

    while (rv == APR_SUCCESS && !APR_BRIGADE_EMPTY(bb)) {
        b = APR_BRIGADE_FIRST(bb);
        if (!APR_BUCKET_IS_METADATA(b)) {
            s->wire -= (apr_off_t)len;
            rv = take(b, s->piece, &len);
            s->wire += (apr_off_t)len;
            if (rv == APR_SUCCESS && piece_full(s->piece, len)) {
                rv = s->bound ? s->bound : put(s, s->piece, len);
                len = 0;
            }
            continue;
        }
        if (len) {
            rv = s->bound ? APR_SUCCESS : put(s, s->piece, len);
            len = 0;
            apr_brigade_cleanup(s->piece);
            if (rv != APR_SUCCESS) {
                break;
            }
        }
        rv = meta(s, b);
    }
    if (rv == APR_SUCCESS && len) {
        rv = s->bound ? s->bound : put(s, s->piece, len);
    }
    apr_brigade_cleanup(s->piece);
    apr_brigade_cleanup(bb);
    return rv;
}

os_spool *os_spool_add(request_rec *r, apr_off_t limit, const char *dir,
                       os_pace *pace)
{
    conn_rec *c = r->connection;
    os_spool *s = apr_pcalloc(r->pool, sizeof(*s));

    s->r = r;
    s->pace = pace;
    s->limit = limit > 0 ? limit : 0;
    s->dir = dir;
    s->fd = -1;
    s->statted = -OS_SPOOL_PASS; /* look before the first piece */
    s->h2 = c->master != NULL;
    s->piece = apr_brigade_create(r->pool, c->bucket_alloc);
    s->out = apr_brigade_create(r->pool, c->bucket_alloc);
    apr_pool_create(&s->wrap, r->pool);
    apr_pool_tag(s->wrap, "orderstream_spool");
    s->f = ap_add_output_filter(OS_SPOOL_FILTER, s, r, c);
    if (!s->f) {
        return NULL; /* never registered: the export runs as before */
    }
    s->feed = !s->h2 && needs_feeding(s->f);
    s->out0 = out_bytes(s);
    /* for spool_bytes, when the request is logged */
    ap_set_module_config(r->request_config, &orderstream_module, s);
    return s;
}

apr_status_t os_spool_drain(os_spool *s)
{
    apr_status_t rv;

    if (!s || s->bound) {
        return APR_SUCCESS;
    }
    rv = s->feed ? feed(s) : pass_file(s, s->size);
    s->to_client = 1;
    return rv == APR_SUCCESS ? wait_dry(s) : rv;
}

/* What the download reports, when it is logged: the bytes that left for
 * the client's connection, not those handed to httpd. A client that
 * left a spooled download after 90 KB of 93 MB was given 90 KB, however
 * much the export read. So for a response whose end did not reach the
 * client (HTTP/1.x: its connection aborted; HTTP/2: an outcome other than
 * complete), the bytes given to this filter that did not leave are taken
 * off r->bytes_sent (%B): what the filter was given less what left since
 * it was added (out_bytes: HTTP/1.x, what TCP sent, so within the
 * client's receive window of what it read; HTTP/2, what mod_http2's
 * primary connection took: the memory passed, and how far it read the
 * file). Not what the kernel accepted: its send buffer grows to megabytes
 * for a client that reads nothing. The filter sees the bytes
 * as they go on the wire (headers, chunk framing), so the framing of what
 * did not leave is counted as body: a few bytes per 32 KB, never in the
 * client's favour. orderstream-bytes says the same as %B; how much went
 * through the spool file is a figure of its own,
 * orderstream-spooled-bytes, never mixed with it. */
static void spool_bytes(request_rec *r, const char *outcome)
{
    os_spool *s = ap_get_module_config(r->request_config, &orderstream_module);
    apr_off_t unsent = 0;
    apr_uint64_t now;

    if (!s) {
        return;
    }
    if (s->h2 ? strcmp(outcome, OS_COMPLETE) != 0 : r->connection->aborted) {
        now = out_bytes(s);
        if (now >= s->out0 && (s->h2 || now)) { /* else: cannot tell */
            unsent = s->wire - (apr_off_t)(now - s->out0);
        }
    }
    if (unsent > 0) {
        r->bytes_sent = r->bytes_sent > unsent ? r->bytes_sent - unsent : 0;
    }
    apr_table_setn(r->notes, OS_NOTE_BYTES,
                   apr_off_t_toa(r->pool, r->bytes_sent));
    apr_table_setn(r->notes, OS_NOTE_SPOOLED,
                   apr_off_t_toa(r->pool, s->spooled));
}

/* log_transaction, before the access log: an export the handler
 * completed whose connection was then aborted (HTTP/1.x: the core could
 * not write all of it, in write completion, after the handler returned,
 * as a spooled tail is sent) did not reach its client whole. HTTP/2 marks
 * a stream's connection aborted also when the client closes it after the
 * end, so it is left as it is. */
static int spool_log(request_rec *r)
{
    const char *o;

    /* After an internal redirect the export's notes are on a later
     * request of the chain than the one this hook gets. */
    if (!(r = os_notes_find(r))) {
        return DECLINED;
    }
    o = os_notes_outcome(r);

    if (o && !strcmp(o, OS_COMPLETE) && r->connection->aborted
        && !r->connection->master) {
        apr_table_setn(r->notes, OS_NOTE_OUTCOME, OS_CLIENT_GONE);
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                      OSLOGNO(00056) "%s: client gone after the export "
                                     "was read, before all of it was sent",
                      r->uri);
    }
    if (o) {
        spool_bytes(r, os_notes_outcome(r));
    }
    return DECLINED;
}

void os_spool_register(void)
{
    /* After the chunk filter (AP_FTYPE_TRANSCODE), before the
     * connection's: the bytes as they go on the wire. */
    ap_register_output_filter(OS_SPOOL_FILTER, spool_filter, NULL,
                              AP_FTYPE_CONNECTION - 1);
    ap_hook_log_transaction(spool_log, NULL, NULL, APR_HOOK_REALLY_FIRST);
}

int os_spool_tmpfile(const char **dir, apr_pool_t *p, int *fd)
{
    if (!*dir && apr_temp_dir_get(dir, p) != APR_SUCCESS) {
        *dir = "/tmp";
    }
    return make_nameless(*dir, p, fd);
}
