/* os_tally.h: what is counted per Location: requests by outcome, refusals
 * by HTTP status, rows, bytes, and a histogram of durations. Needs only
 * APR: os_status.c keeps one os_tally per Location in shared memory,
 * os_metrics.c renders them, t/unit/test_metrics.c checks both sides.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#ifndef OS_TALLY_H
#define OS_TALLY_H

#include <apr.h>
#include <apr_time.h>

/* The outcomes counted, as the orderstream-outcome note spells them; the
 * last, "other", counts a note this list does not know (an outcome added
 * to os_handler.c and not here). */
#define OS_TALLY_OUTCOMES 11
extern const char *const os_tally_outcomes[OS_TALLY_OUTCOMES];
#define OS_TALLY_REJECTED 4 /* index of "rejected" */

/* The outcome "rejected" once more, by the HTTP status it was answered
 * with: 400 (a bad query string), 403 (a request-derived value absent or
 * refused: OrderStreamParam expr= required, OrderStreamRole), 406 (no
 * acceptable format), 503 (no connection). */
#define OS_TALLY_REFUSALS 4
extern const int os_tally_refusals[OS_TALLY_REFUSALS];

/* The upper bounds (seconds) of the duration histogram's buckets; one
 * more bucket, +Inf, follows. */
#define OS_TALLY_BUCKETS 10
extern const double os_tally_buckets[OS_TALLY_BUCKETS];

typedef struct os_tally {
    apr_uint64_t outcomes[OS_TALLY_OUTCOMES];
    apr_uint64_t refusals[OS_TALLY_REFUSALS];
    apr_uint64_t rows;  /* orderstream-rows, summed */
    apr_uint64_t bytes; /* orderstream-bytes, summed: what left */
    /* orderstream-spooled-bytes, summed: what went through a spool file,
     * sent or not; never to be read as bytes sent */
    apr_uint64_t spooled;
    /* Durations (request start to end) of every outcome but "rejected":
     * the number in each bucket (not cumulative), +Inf last, and their
     * sum. */
    apr_uint64_t buckets[OS_TALLY_BUCKETS + 1];
    apr_uint64_t micros;
    apr_uint64_t unlisted; /* ran while every status slot was taken */
} os_tally;

/* Counts one request into t: its outcome note (NULL or unknown: "other"),
 * the HTTP status it was answered with, its rows and bytes notes, and how
 * long it took. */
void os_tally_add(os_tally *t, const char *outcome, int status,
                  apr_int64_t rows, apr_int64_t bytes,
                  apr_interval_time_t took);

/* Adds a request's orderstream-spooled-bytes note to t. */
void os_tally_add_spooled(os_tally *t, apr_int64_t spooled);

#endif /* OS_TALLY_H */
