/* test_pace.c: unit tests of src/deliver/os_pace.c (OrderStreamMinRate's sliding
 * window over waiting time, OrderStreamMaxDuration), on a made-up clock,
 * no server needed. Prints one line per failure and a closing "N passed,
 * N failed" line; exits non-zero on any failure. */
#include <stdio.h>

#include <apr_general.h>

#include "os_pace.h"
#include "unit.h"

static apr_pool_t *pool;

#define SEC(s) ((apr_time_t)((s)*APR_USEC_PER_SEC))
#define T0 SEC(1000000)

/* Waits from `from` to `to` seconds (relative to T0) in steps of `step`,
 * the client taking `rate` bytes per second; returns the verdict and
 * when (seconds from T0) it came, in *at (-1: never). */
static os_pace_verdict wait_at_rate(os_pace *p, double from, double to,
                                    double step, double rate,
                                    apr_uint64_t *taken, double *at)
{
    double t;
    os_pace_verdict v = OS_PACE_OK;

    *at = -1;
    os_pace_wait_start(p, T0 + SEC(from), *taken);
    for (t = from + step; t <= to + 1e-9; t += step) {
        *taken += (apr_uint64_t)(rate * step);
        v = os_pace_wait(p, T0 + SEC(t), *taken);
        if (v != OS_PACE_OK) {
            *at = t;
            return v;
        }
    }
    return v;
}

/* A client above the rate is never cut, however long it is waited for. */
static void test_fast_enough(void)
{
    os_pace *p = os_pace_create(T0, 1000, SEC(10), 0, pool);
    apr_uint64_t taken = 0;
    double at;

    ok(wait_at_rate(p, 0, 600, 0.25, 1100, &taken, &at) == OS_PACE_OK,
       "1100 B/s against 1000 B/s over 10 s: never cut");
    ok(os_pace_rate(p) >= 1000 && os_pace_rate(p) <= 1200,
       "the rate it reports is about 1100");
}

/* A slow client is cut once a whole window of waiting has been seen, not
 * before. */
static void test_too_slow(void)
{
    os_pace *p = os_pace_create(T0, 1000, SEC(10), 0, pool);
    apr_uint64_t taken = 0;
    double at;

    ok(wait_at_rate(p, 0, 60, 0.25, 500, &taken, &at) == OS_PACE_TOO_SLOW,
       "500 B/s against 1000 B/s: cut");
    ok(at >= 10 && at <= 10.5, "cut at the end of the first window");
}

/* Time not spent waiting does not count: the database's work between
 * waits is no slowness of the client's. */
static void test_only_waiting_counts(void)
{
    os_pace *p = os_pace_create(T0, 1000, SEC(10), 0, pool);
    apr_uint64_t taken = 0;
    double at;
    int i;
    os_pace_verdict v = OS_PACE_OK;

    /* 100 waits of 0.05 s with 1 s of database in between, the client
     * taking 1200 B/s while waited for: 5 s of waiting in 105 s. */
    for (i = 0; i < 100 && v == OS_PACE_OK; i++) {
        v = wait_at_rate(p, i * 1.05, i * 1.05 + 0.05, 0.05, 1200, &taken,
                         &at);
    }
    ok(v == OS_PACE_OK, "only 5 s of waiting: no verdict yet");
    /* what the client took while nobody waited is not counted either */
    taken += 1000000;
    os_pace_wait_start(p, T0 + SEC(200), taken);
    v = wait_at_rate(p, 200, 230, 0.25, 100, &taken, &at);
    ok(v == OS_PACE_TOO_SLOW, "then 100 B/s while waiting: cut");
    ok(at > 200 && at <= 210.5,
       "within one window, despite the earlier waits' bytes");
}

/* A client that stops after a fast start is cut within a window of its
 * last byte. */
static void test_stops(void)
{
    os_pace *p = os_pace_create(T0, 1000, SEC(8), 0, pool);
    apr_uint64_t taken = 0;
    double at;

    ok(wait_at_rate(p, 0, 30, 0.1, 50000, &taken, &at) == OS_PACE_OK,
       "50 KB/s for 30 s");
    ok(wait_at_rate(p, 30, 60, 0.1, 0, &taken, &at) == OS_PACE_TOO_SLOW,
       "then nothing: cut");
    ok(at > 30 && at <= 38.5, "within one window of the last byte");
}

/* Long stretches of waiting in one call slide the window all the way. */
static void test_long_steps(void)
{
    os_pace *p = os_pace_create(T0, 1000, SEC(10), 0, pool);
    apr_uint64_t taken = 0;
    double at;

    ok(wait_at_rate(p, 0, 100, 25, 2000, &taken, &at) == OS_PACE_OK,
       "steps of 25 s at 2000 B/s: fine");
    ok(wait_at_rate(p, 100, 200, 25, 0, &taken, &at) == OS_PACE_TOO_SLOW,
       "a 25 s step with nothing: cut at once");
    ok(at == 125, "at the end of that step");
}

static void test_no_rate(void)
{
    os_pace *p = os_pace_create(T0, 0, SEC(10), 0, pool);
    os_pace *q = os_pace_create(T0, 1000, 0, 0, pool);
    apr_uint64_t taken = 0;
    double at;

    ok(wait_at_rate(p, 0, 100, 1, 0, &taken, &at) == OS_PACE_OK,
       "no rate: a client that takes nothing is not cut by it");
    ok(wait_at_rate(q, 0, 100, 1, 0, &taken, &at) == OS_PACE_OK,
       "no window: no rate bound either");
}

static void test_duration(void)
{
    os_pace *p = os_pace_create(T0, 0, 0, SEC(30), pool);
    os_pace *q = os_pace_create(T0, 0, 0, SEC(30), pool);
    os_pace *none = os_pace_create(T0, 0, 0, 0, pool);
    apr_uint64_t taken = 0;
    double at;

    ok(os_pace_check(p, T0 + SEC(30)) == OS_PACE_OK, "30 s: not yet");
    ok(os_pace_check(p, T0 + SEC(31)) == OS_PACE_TOO_LONG, "31 s: too long");
    ok(wait_at_rate(q, 20, 40, 0.5, 1e6, &taken, &at) == OS_PACE_TOO_LONG,
       "a wait past the deadline is too long, however fast");
    ok(at > 30 && at <= 30.5, "as soon as the deadline passes");
    os_pace_release(p);
    ok(os_pace_check(p, T0 + SEC(3600)) == OS_PACE_OK,
       "released: the duration no longer counts");
    ok(os_pace_check(none, T0 + SEC(86400)) == OS_PACE_OK, "no bound");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    test_fast_enough();
    test_too_slow();
    test_only_waiting_counts();
    test_stops();
    test_long_steps();
    test_no_rate();
    test_duration();
    int rc = unit_done();

    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
