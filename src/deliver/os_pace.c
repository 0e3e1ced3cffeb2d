/* os_pace.c: a sliding window over the time an export waits for its
 * client, and a deadline for the database connection.
 *
 * Only waiting counts towards the rate: while PostgreSQL works on a batch
 * the client may take nothing and still be fine. So the window is made of
 * waiting time, cut into OS_PACE_SLICES slices; the bytes the client took
 * during a stretch of waiting go to the slice that stretch ends in. Once a
 * whole window of waiting has been seen, the bytes of the last window
 * (the full slices and the current one) are held against min_rate times
 * the waiting time they cover. A slice is a few seconds at most with the
 * default window, short next to the window, so the judgement follows the
 * client closely: a client that stops is cut within one window of its
 * last byte, and a burst long ago does not excuse a crawl now.
 *
 * Layer deliver: may call its own layer and base, db.
 */
#include <apr_strings.h>

#include "os_pace.h"

/* Eight slices: the window slides in steps of an eighth of it. */
#define OS_PACE_SLICES 8

struct os_pace {
    apr_time_t start;
    apr_interval_time_t max_duration; /* 0: none */
    int released;                     /* the connection is back */
    apr_uint64_t min_rate;            /* bytes per second; 0: none */
    apr_interval_time_t slice;        /* window / OS_PACE_SLICES */
    /* the running wait */
    apr_time_t at;
    apr_uint64_t taken_at;
    /* the window: bytes per slice, the current slice's time so far, and
     * all the waiting seen (only compared against the window) */
    apr_uint64_t bytes[OS_PACE_SLICES];
    int cur;
    apr_interval_time_t cur_time;
    apr_interval_time_t waited;
};

os_pace *os_pace_create(apr_time_t start, apr_uint64_t min_rate,
                        apr_interval_time_t window,
                        apr_interval_time_t max_duration, apr_pool_t *p)
{
    os_pace *pace = apr_pcalloc(p, sizeof(*pace));

    pace->start = start;
    pace->max_duration = max_duration > 0 ? max_duration : 0;
    pace->slice = window / OS_PACE_SLICES;
    pace->min_rate = pace->slice > 0 ? min_rate : 0;
    return pace;
}

void os_pace_release(os_pace *pace)
{
    pace->released = 1;
}

os_pace_verdict os_pace_check(const os_pace *pace, apr_time_t now)
{
    if (pace->max_duration && !pace->released
        && now - pace->start > pace->max_duration) {
        return OS_PACE_TOO_LONG;
    }
    return OS_PACE_OK;
}

void os_pace_wait_start(os_pace *pace, apr_time_t now, apr_uint64_t taken)
{
    pace->at = now;
    pace->taken_at = taken;
}

/* Moves the window on by dt of waiting, in which got bytes were taken:
 * they belong to the slice the stretch ends in. */
static void slide(os_pace *pace, apr_interval_time_t dt, apr_uint64_t got)
{
    pace->waited += dt;
    while (pace->cur_time + dt >= pace->slice) {
        dt -= pace->slice - pace->cur_time;
        pace->cur = (pace->cur + 1) % OS_PACE_SLICES;
        pace->bytes[pace->cur] = 0;
        pace->cur_time = 0;
    }
    pace->cur_time += dt;
    pace->bytes[pace->cur] += got;
}

/* The bytes of the window and the waiting time they cover. */
static apr_uint64_t window_bytes(const os_pace *pace,
                                 apr_interval_time_t *covers)
{
    apr_uint64_t sum = 0;
    int i;

    for (i = 0; i < OS_PACE_SLICES; i++) {
        sum += pace->bytes[i];
    }
    *covers = (OS_PACE_SLICES - 1) * pace->slice + pace->cur_time;
    if (*covers > pace->waited) {
        *covers = pace->waited;
    }
    return sum;
}

apr_uint64_t os_pace_rate(const os_pace *pace)
{
    apr_interval_time_t covers;
    apr_uint64_t sum;

    if (!pace->slice) {
        return 0;
    }
    sum = window_bytes(pace, &covers);
    return covers > 0 ? sum * APR_USEC_PER_SEC / (apr_uint64_t)covers : 0;
}

os_pace_verdict os_pace_wait(os_pace *pace, apr_time_t now, apr_uint64_t taken)
{
    apr_interval_time_t dt = now > pace->at ? now - pace->at : 0, covers;
    apr_uint64_t got = taken > pace->taken_at ? taken - pace->taken_at : 0;
    apr_uint64_t sum;

    pace->at = now;
    pace->taken_at = taken;
    if (pace->slice) {
        slide(pace, dt, got);
    }
    if (os_pace_check(pace, now) != OS_PACE_OK) {
        return OS_PACE_TOO_LONG;
    }
    if (!pace->min_rate || pace->waited < OS_PACE_SLICES * pace->slice) {
        return OS_PACE_OK;
    }
    sum = window_bytes(pace, &covers);
    /* bytes < rate x seconds, in microseconds to stay whole */
    if (sum * APR_USEC_PER_SEC < pace->min_rate * (apr_uint64_t)covers) {
        return OS_PACE_TOO_SLOW;
    }
    return OS_PACE_OK;
}
