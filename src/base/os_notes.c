/* os_notes.c: an export's outcome notes (os_notes.h says who reads them).
 *
 * Layer base, the ground floor: calls nothing else of the module's.
 */
#include "os_private.h"

#include <apr_strings.h>

#include "os_notes.h"

void os_notes_set(request_rec *r, const char *outcome, apr_off_t rows,
                  apr_off_t bytes)
{
    apr_table_setn(r->notes, OS_NOTE_OUTCOME, outcome);
    apr_table_setn(r->notes, OS_NOTE_ROWS, apr_off_t_toa(r->pool, rows));
    apr_table_setn(r->notes, OS_NOTE_BYTES, apr_off_t_toa(r->pool, bytes));
}

request_rec *os_notes_find(request_rec *r)
{
    request_rec *with = NULL;

    for (; r; r = r->next) {
        if (apr_table_get(r->notes, OS_NOTE_OUTCOME)) {
            with = r;
        }
    }
    return with;
}

const char *os_notes_outcome(const request_rec *r)
{
    return apr_table_get(r->notes, OS_NOTE_OUTCOME);
}

apr_int64_t os_notes_int(const request_rec *r, const char *name)
{
    const char *v = apr_table_get(r->notes, name);

    return v ? apr_atoi64(v) : 0;
}
