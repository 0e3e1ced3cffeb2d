/* os_pace.h: the bounds on a download's pace: OrderStreamMinRate (how fast
 * a client must take the body while the export waits for it) and
 * OrderStreamMaxDuration (how long an export may hold its database
 * connection). Needs only APR: os_spool.c feeds it the clock and the
 * client's progress, t/unit/test_pace.c checks its arithmetic.
 *
 * Layer deliver: may call its own layer and base, db.
 */
#ifndef OS_PACE_H
#define OS_PACE_H

#include <apr_pools.h>
#include <apr_time.h>

typedef struct os_pace os_pace;

typedef enum {
    OS_PACE_OK = 0,
    OS_PACE_TOO_SLOW, /* under OrderStreamMinRate over its window */
    OS_PACE_TOO_LONG  /* past OrderStreamMaxDuration */
} os_pace_verdict;

/* The bounds of one export that started at start: min_rate bytes per
 * second over window of waiting time (0 for either: no rate bound), and
 * max_duration from start to os_pace_release() (0: no bound). */
os_pace *os_pace_create(apr_time_t start, apr_uint64_t min_rate,
                        apr_interval_time_t window,
                        apr_interval_time_t max_duration, apr_pool_t *p);

/* The export gave its connection back: OrderStreamMaxDuration no longer
 * applies (the rate bound still does to any wait that follows). */
void os_pace_release(os_pace *pace);

/* OS_PACE_TOO_LONG once max_duration has passed at now (and the
 * connection is still held); OS_PACE_OK otherwise. */
os_pace_verdict os_pace_check(const os_pace *pace, apr_time_t now);

/* A wait for the client starts at now; taken is a counter of the bytes
 * the client has taken so far (any origin: only its growth counts). */
void os_pace_wait_start(os_pace *pace, apr_time_t now, apr_uint64_t taken);

/* During a wait (and at its end): counts the time and the bytes since the
 * last call as waiting, then says whether a bound is passed. The rate is
 * judged over the last window of waiting time only once that much waiting
 * has been seen, so a client is never cut for a short wait, and a client
 * that stops taking anything is cut at most one window later. */
os_pace_verdict os_pace_wait(os_pace *pace, apr_time_t now,
                             apr_uint64_t taken);

/* Bytes per second taken over the window counted so far, for the log; 0
 * when no waiting was counted. */
apr_uint64_t os_pace_rate(const os_pace *pace);

#endif /* OS_PACE_H */
