/* os_tally.c: counting one request into a Location's totals.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#include <string.h>

#include "os_tally.h"

const char *const os_tally_outcomes[OS_TALLY_OUTCOMES] = {
    "complete", "client-gone",     "db-error",  "timeout",
    "rejected", "group-too-large", "too-large", "writer-error",
    "too-slow", "too-long",        "other"
};

const int os_tally_refusals[OS_TALLY_REFUSALS] = { 400, 403, 406, 503 };

/* From a preview, answered in a tenth of a second, to a full export of
 * tens of millions of rows, which takes minutes (make bench: some 400,000
 * rows/s), and a slow client that holds one for an hour. */
const double os_tally_buckets[OS_TALLY_BUCKETS] = {
    0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600
};

static int outcome_index(const char *outcome)
{
    int i;

    for (i = 0; outcome && i < OS_TALLY_OUTCOMES - 1; i++) {
        if (!strcmp(outcome, os_tally_outcomes[i])) {
            return i;
        }
    }
    return OS_TALLY_OUTCOMES - 1;
}

static int bucket_index(apr_interval_time_t took)
{
    int i;

    for (i = 0; i < OS_TALLY_BUCKETS; i++) {
        if ((double)took <= os_tally_buckets[i] * APR_USEC_PER_SEC) {
            break;
        }
    }
    return i;
}

void os_tally_add(os_tally *t, const char *outcome, int status,
                  apr_int64_t rows, apr_int64_t bytes,
                  apr_interval_time_t took)
{
    int o = outcome_index(outcome), i;

    t->outcomes[o]++;
    t->rows += rows > 0 ? (apr_uint64_t)rows : 0;
    t->bytes += bytes > 0 ? (apr_uint64_t)bytes : 0;
    if (o == OS_TALLY_REJECTED) {
        for (i = 0; i < OS_TALLY_REFUSALS; i++) {
            if (os_tally_refusals[i] == status) {
                t->refusals[i]++;
            }
        }
        return;
    }
    t->buckets[bucket_index(took)]++;
    t->micros += took > 0 ? (apr_uint64_t)took : 0;
}

void os_tally_add_spooled(os_tally *t, apr_int64_t spooled)
{
    t->spooled += spooled > 0 ? (apr_uint64_t)spooled : 0;
}
