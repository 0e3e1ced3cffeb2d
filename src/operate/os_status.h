/* os_status.h: the running exports and the totals per Location, shared by
 * every child process (httpd's ap_slotmem "shm" provider).
 *
 * Recording, from os_handler.c: os_status_begin() when an export starts,
 * then os_status_connected(), os_status_set_phase() and os_status_progress()
 * as it goes. Its end needs no call: a cleanup on r->pool frees its slot,
 * and the log_transaction hook counts the request from the notes the
 * access log shows (orderstream-outcome, -rows, -bytes), so the totals and
 * the log cannot disagree. Reading, for mod_status (os_status_page.c) and
 * Prometheus (os_metrics.c): os_status_read().
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#ifndef OS_STATUS_H
#define OS_STATUS_H

#include <ap_mpm.h>
#include <httpd.h>
#include <libpq-fe.h>

#include "os_tally.h"

typedef enum {
    OS_PHASE_WAITING = 0, /* for a pooled connection */
    OS_PHASE_DATABASE,    /* BEGIN to the first FETCH, or a FETCH later */
    OS_PHASE_SENDING,     /* writing a batch to the client */
    OS_PHASE_SPOOLED,     /* the rows are read, the client still reads */
    OS_PHASE_COUNT
} os_status_phase;

/* "waiting", "database", "sending", "spooled". */
const char *os_status_phase_name(os_status_phase phase);

/* One running export, as read. */
typedef struct os_status_run {
    const char *location, *vhost; /* of its totals */
    int total;                    /* its index in os_status_view.totals */
    const char *client, *user, *format;
    os_status_phase phase;
    pid_t pid;   /* the httpd child running it */
    int backend; /* PostgreSQL's pid for its connection; 0: none yet */
    int slices;  /* connections reading it: OrderStreamParallel, else 1 */
    apr_time_t started;
    apr_int64_t rows, bytes; /* so far */
} os_status_run;

/* One Location's totals, as read. */
typedef struct os_status_total {
    const char *location, *vhost;
    int running;
    os_tally counts;
} os_status_total;

typedef struct os_status_view {
    apr_time_t now;
    apr_time_t since; /* when the totals started: the last (re)start */
    int slots;        /* how many exports can be listed at once */
    int nrun;
    os_status_run *run; /* oldest first */
    int ntotals;
    os_status_total *totals; /* in the order of the config */
} os_status_view;

/* check_config: fails the config test, naming what to load, when a
 * "SetHandler orderstream-metrics" is configured and mod_slotmem_shm is
 * not loaded. Without it and without such a handler, there is no status:
 * mod_status's page says so. */
int os_status_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s);

/* pre_config: registers the "orderstream-status" mutex (Mutex directive). */
int os_status_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp);

/* post_config: the slots of this generation, fresh: one per worker thread
 * the MPM may run, one per section with a query for the totals. */
int os_status_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s);

void os_status_child_init(apr_pool_t *pchild, server_rec *s);

/* child_status (in the parent): frees the slots of a child that exited
 * without freeing them (killed, crashed). */
void os_status_child_status(server_rec *s, pid_t pid, ap_generation_t gen,
                            int slot, mpm_child_status state);

/* log_transaction: counts a request whose notes say it was an export. */
int os_status_log(request_rec *r);

/* One running export's record; NULL (which every call below accepts) when
 * there is no status or OrderStreamStatus is Off for it. Takes a slot,
 * phase "waiting", freed with r->pool. */
typedef struct os_status os_status;
os_status *os_status_begin(request_rec *r, const char *format);

/* The export has its pooled connection: phase "database", and the
 * backend's pid, read again at every later call (a reconnect changes it). */
void os_status_connected(os_status *st, const PGconn *conn);

void os_status_set_phase(os_status *st, os_status_phase phase);

/* After a batch: rows and body bytes so far; phase "database" (waiting for
 * the next FETCH), or still "spooled". A few stores into this export's
 * own slot, no lock. */
void os_status_progress(os_status *st, apr_int64_t rows, apr_off_t bytes);

/* The export is read in n slices at once, on n connections (os_slice.c);
 * the backend shown stays the export's own, the first slice's. */
void os_status_slices(os_status *st, int n);

/* The export gave its connection back while its response goes on (the
 * rows are all read, or given up): phase "spooled" from now on, no
 * backend (the PGconn is no longer its own: never read again). */
void os_status_released(os_status *st);

/* A copy of every child's running exports and the totals, from p; NULL
 * when there is no status (mod_slotmem_shm not loaded). */
os_status_view *os_status_read(apr_pool_t *p);

#endif /* OS_STATUS_H */
