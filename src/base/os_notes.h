/* os_notes.h: an export's outcome notes, the one fact every layer reads.
 *
 * The handler writes them when an export ends (or is refused); the
 * spool's log hook corrects the outcome of a download whose tail never
 * reached the client; the status totals and mod_log_config's %{...}n read
 * them. They live here, on the ground floor, so that none of those has to
 * call up into the handler to find them. httpd only.
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#ifndef OS_NOTES_H
#define OS_NOTES_H

#include <httpd.h>

/* The notes' names, as LogFormat's %{orderstream-outcome}n spells them. */
#define OS_NOTE_OUTCOME "orderstream-outcome"
#define OS_NOTE_ROWS "orderstream-rows"
#define OS_NOTE_BYTES "orderstream-bytes" /* what left for the client */
/* what went through the spool file (os_spool.c): not what the client got */
#define OS_NOTE_SPOOLED "orderstream-spooled-bytes"

/* The outcomes (the access log's status stays 200 for a download cut
 * after it started; this says what happened). */
#define OS_COMPLETE "complete"
#define OS_CLIENT_GONE "client-gone"
#define OS_DB_ERROR "db-error"
#define OS_TIMEOUT "timeout"   /* statement_timeout (SQLSTATE 57014) */
#define OS_REJECTED "rejected" /* 503, 403, 400 of ours: nothing ran */
#define OS_TOO_SLOW "too-slow" /* OrderStreamMinRate */
#define OS_TOO_LONG "too-long" /* OrderStreamMaxDuration */

/* Writes the three notes on r (the request that ran the export). */
void os_notes_set(request_rec *r, const char *outcome, apr_off_t rows,
                  apr_off_t bytes);

/* The request of r's chain (r and its internal redirects) that holds an
 * export's notes: the last one that has them, as mod_log_config's
 * %{...}n reads the last; NULL: none. For the log_transaction hooks,
 * which get the initial request. */
request_rec *os_notes_find(request_rec *r);

/* The outcome noted on r, or NULL. */
const char *os_notes_outcome(const request_rec *r);

/* A numeric note of r (OS_NOTE_ROWS, OS_NOTE_BYTES); 0 when absent. */
apr_int64_t os_notes_int(const request_rec *r, const char *name);

#endif /* OS_NOTES_H */
