/* os_params.h: the query string of an export, validated before the
 * database is touched. Needs only APR. */
#ifndef OS_PARAMS_H
#define OS_PARAMS_H

#include <apr_pools.h>

/* What the Location allows. */
typedef struct os_params_rules {
    int preview;           /* offset and limit accepted */
    apr_int64_t max_limit; /* largest limit; 0: no limit of its own */
} os_params_rules;

/* What the request asked for. */
typedef struct os_params {
    apr_int64_t offset; /* rows to skip; 0 */
    apr_int64_t limit;  /* rows to send at most; -1: all */
} os_params;

/* Parses args (r->args, may be NULL) into out. Returns NULL, or a one-line
 * message for the client that starts with the parameter's name, e.g.
 * 'limit: expected a whole number from 0 to 100, got "abc"'. A parameter
 * that is not known, given twice, badly escaped or malformed is an error. */
const char *os_params_parse(const char *args, const os_params_rules *rules,
                            os_params *out, apr_pool_t *p);

#endif /* OS_PARAMS_H */
