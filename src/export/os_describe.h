/* os_describe.h: the columns of an export, as its first query returns
 * them, found without running it and kept per child.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#ifndef OS_DESCRIBE_H
#define OS_DESCRIBE_H

#include <httpd.h>

#include "os_config.h"

typedef struct os_column {
    const char *name; /* as the query names it */
    const char *type; /* PostgreSQL's format_type: "numeric(12,2)" */
} os_column;

typedef enum {
    OS_DESCRIBED,            /* the columns are known */
    OS_DESCRIBE_UNREACHABLE, /* no database connection (logged) */
    OS_DESCRIBE_BUSY,        /* every pooled connection stayed busy */
    OS_DESCRIBE_FAILED       /* the database refused the query (logged) */
} os_describe_got;

/* One request's use of the database for describing: it borrows at most
 * one connection, when a first export is not in the cache, and tries at
 * most once: after an unreachable or busy database the other exports of
 * the request get the same answer at once. */
typedef struct os_describe os_describe;

/* child_init: this child's cache, one entry per section of the config
 * (os_config_sections), empty until an export is first described. */
void os_describe_child_init(apr_pool_t *pchild);

/* Nothing is taken yet; the connection, if one is borrowed, goes back
 * with os_describe_done or, at the latest, with r->pool. */
os_describe *os_describe_create(request_rec *r);

/* The columns of conf's first query into *ncols and *cols (strings that
 * live as long as the config): from the cache, or one describe (PQprepare
 * and PQdescribePrepared of the unnamed statement, then format_type for
 * the type names, in a READ ONLY transaction under the export's
 * OrderStreamStatementTimeout), never executing the query and never with
 * a value of the request. Only an answer is cached: a database that is
 * down or busy is asked again by the next request. */
os_describe_got os_describe_columns(os_describe *d, const os_dir_conf *conf,
                                    int *ncols, const os_column **cols);

/* Gives the connection back to mod_dbd's pool, idle. Safe when none was
 * taken and more than once. */
void os_describe_done(os_describe *d);

#endif /* OS_DESCRIBE_H */
