/* os_params.h: the query string of an export, validated before the
 * database is touched: ?offset= and ?limit=, and the filters a Location
 * declares with OrderStreamParam. Needs only APR.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#ifndef OS_PARAMS_H
#define OS_PARAMS_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "os_format.h"

/* The types an OrderStreamParam may have. */
typedef enum {
    OS_PARAM_INT,         /* bigint: [+-]digits */
    OS_PARAM_NUMERIC,     /* numeric: [+-]digits[.digits] */
    OS_PARAM_DATE,        /* date: YYYY-MM-DD */
    OS_PARAM_TIMESTAMPTZ, /* timestamptz: ISO 8601, UTC without an offset */
    OS_PARAM_BOOL,        /* boolean: true/false, yes/no, on/off, 1/0 */
    OS_PARAM_TEXT         /* text: UTF-8, at most maxlength characters */
} os_param_type;

/* One "OrderStreamParam NAME TYPE [required | default=VALUE]
 * [maxlength=N] [expr=EXPRESSION | claim=KEY]"; the Nth declaration of a
 * Location binds to $N. */
typedef struct os_param_decl {
    const char *name;
    os_param_type type;
    int required;
    const char *dflt; /* value bound when absent, as normalised; NULL: none */
    int maxlength;    /* text: characters; 0 for the other types */
    /* expr=: the text of an httpd expression whose value, per request,
     * the server binds (os_identity.c); the query string may not name
     * the parameter. NULL: a query-string parameter. */
    const char *expr;
    /* claim=: the member of the request's verified token (os_handoff.c)
     * whose value is bound, as for expr=. NULL: none. */
    const char *claim;
} os_param_decl;

/* Default maxlength of a text parameter. */
#define OS_PARAM_TEXT_MAX 256

/* Fills *d from the directive's words (argv[0] is NAME). Returns NULL, or
 * a message naming what is wrong (without the directive's name). */
const char *os_param_declare(os_param_decl *d, int argc, char *const argv[],
                             apr_pool_t *p);

/* PostgreSQL's type OID for t: the type the bind parameter is sent as. */
unsigned int os_param_oid(os_param_type t);

/* t as OrderStreamParam spells it: "int", "date", ... */
const char *os_param_type_name(os_param_type t);

/* The accepted form, for messages: "a date YYYY-MM-DD". */
const char *os_param_form(const os_param_decl *d, apr_pool_t *p);

/* Checks v (URL-decoded, non-empty) against d's type. Returns NULL with
 * *out the value to bind (normalised: "true", "2024-05-01 13:45:00+00:00"),
 * or the 400 message 'NAME: expected FORM, got "V"'. */
const char *os_param_value(const os_param_decl *d, const char *v,
                           const char **out, apr_pool_t *p);

/* What the Location allows. */
typedef struct os_params_rules {
    int preview;           /* offset and limit accepted */
    apr_int64_t max_limit; /* largest limit; 0: no limit of its own */
    const apr_array_header_t *decls; /* os_param_decl; NULL: none */
    unsigned formats;                /* what ?format= may name; 0: all */
    /* OrderStreamToken's parameter, read by os_handoff.c and skipped
     * here; NULL: none. */
    const char *token_param;
} os_params_rules;

/* What the request asked for. */
typedef struct os_params {
    apr_int64_t offset;  /* rows to skip; 0 */
    apr_int64_t limit;   /* rows to send at most; -1: all */
    const char **values; /* one per declaration; NULL binds SQL NULL */
    int nvalues;
    os_format format; /* ?format=; OS_FMT_NONE when not given */
} os_params;

/* Parses args (r->args, may be NULL) into out. Returns NULL, or a one-line
 * message for the client that starts with the parameter's name, e.g.
 * 'limit: expected a whole number from 0 to 100, got "abc"'. A parameter
 * that is not known, given twice, badly escaped or malformed is an error;
 * an empty one ("since=", as an HTML form sends an empty field) counts as
 * absent. A parameter declared with expr= is an error when named at all,
 * even empty ("email: set by the server, not by the query string"), and
 * is left NULL here: the server's value comes with os_params_server. */
const char *os_params_parse(const char *args, const os_params_rules *rules,
                            os_params *out, apr_pool_t *p);

/* Sets parameter i (declared with expr=) of out from v, the value the
 * server found for it (NULL or "" is absent): the value as its type
 * normalises it, else its default, else NULL. Returns NULL; or the 400
 * message of os_param_value when v is not of the type; or, when it is
 * required and absent, "NAME: missing" with *missing set to 1 (a 403: the
 * request is not entitled to the export, rather than badly written). */
const char *os_params_server(const os_params_rules *rules, os_params *out,
                             int i, const char *v, int *missing,
                             apr_pool_t *p);

/* Called with each name=value pair of a query string, URL-decoded (a
 * pair without "=" has the value ""); returns NULL to go on, or the
 * message that ends the walk. */
typedef const char *os_params_pair_fn(const char *name, const char *value,
                                      void *ctx, apr_pool_t *p);

/* Walks the pairs of args (may be NULL) in order: returns NULL, fn's
 * message, or "NAME: badly escaped" (a bad %-escape or %00; the name as
 * it was sent). Shared by the exports and the download page, so both read
 * a query string the same way. */
const char *os_params_each(const char *args, os_params_pair_fn *fn, void *ctx,
                           apr_pool_t *p);

/* What the client sent, fit for one line of a UTF-8 text body and a log:
 * control bytes and bytes over 0x7e as \xNN, at most 64 of them, then
 * "..." when there was more. */
const char *os_params_shown(const char *v, apr_pool_t *p);

#endif /* OS_PARAMS_H */
