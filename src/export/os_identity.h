/* os_identity.h: who is asking. The values an export takes from the
 * request itself rather than from its query string, written as httpd
 * string expressions in the config (ap_expr: "%{REMOTE_USER}",
 * "%{HTTP:X-Store}", "%{env:TENANT}"): OrderStreamParam ... expr=,
 * OrderStreamSetting and OrderStreamRole.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#ifndef OS_IDENTITY_H
#define OS_IDENTITY_H

#include <http_config.h>
#include <httpd.h>

#include "os_cursor.h"
#include "os_params.h"

/* A value from the config: a literal, or an expression evaluated for each
 * request. */
typedef struct os_identity_value os_identity_value;

/* One OrderStreamSetting NAME VALUE|expr=EXPRESSION. */
typedef struct os_identity_setting {
    const char *name;
    const os_identity_value *value;
} os_identity_setting;

/* arg as a value: "expr=EXPRESSION" is an httpd string expression, parsed
 * now (a syntax error fails the config test); "claim=KEY" the member KEY
 * of the request's verified token (os_handoff.c); anything else a
 * literal.
 * Returns NULL with *err the parser's message (without the directive's
 * name). */
os_identity_value *os_identity_value_parse(cmd_parms *cmd, const char *arg,
                                           const char **err);

/* Whether v is an expression or a claim (its value depends on the
 * request). */
int os_identity_value_is_expr(const os_identity_value *v);

/* The literal of v; NULL for an expression. */
const char *os_identity_value_literal(const os_identity_value *v);

/* What an export's section says of who asks, as the config layer hands
 * it over (os_config_identity): identity never reads the config's own
 * structures, so the arrow runs one way, config -> identity. */
typedef struct os_identity_spec {
    os_params_rules rules; /* the export's parameters (os_params.h) */
    /* Per parameter, parallel to rules.decls: its expr= or claim= value
     * (const os_identity_value *), NULL for a query-string one. */
    const apr_array_header_t *param_exprs;
    const apr_array_header_t *settings; /* os_identity_setting, in order */
    const os_identity_value *role;      /* OrderStreamRole; NULL: none */
    int token; /* OrderStreamToken applies: the export is someone's */
} os_identity_spec;

/* NULL when name is a custom setting PostgreSQL accepts (two or more
 * identifiers joined by dots, as "shop.customer"), else why not. */
const char *os_identity_setting_name_check(const char *name, apr_pool_t *p);

/* NULL when role can be handed to PostgreSQL, else why not (empty, not
 * UTF-8, longer than 63 bytes, or "none"). */
const char *os_identity_role_check(const char *role, apr_pool_t *p);

/* Whether anything of spec depends on the request: OrderStreamToken, an
 * expr= or claim= parameter, or a setting or role given as either. */
int os_identity_bound(const os_identity_spec *spec);

/* When spec depends on the request: Cache-Control: private on r's every
 * response (err_headers_out: errors too), before anything is decided, so
 * that no shared cache hands one visitor's answer to another. */
void os_identity_private(request_rec *r, const os_identity_spec *spec);

/* What one request resolved: see os_identity_resolve. */
typedef struct os_identity os_identity;

/* Evaluates spec's expressions for r: the expr= parameters into
 * params->values (params may be NULL: only checked), the settings and the
 * role into what os_identity_local returns. *out is always set (for
 * os_identity_headers). Returns OK, or:
 *   HTTP_BAD_REQUEST: a value is not of its parameter's type, or a
 *     setting's is not UTF-8; *msg is for the client ("NAME: expected");
 *   HTTP_FORBIDDEN: a required parameter is absent, or the role is empty
 *     or unusable; *msg is for the log;
 *   HTTP_INTERNAL_SERVER_ERROR: an expression failed to evaluate (httpd
 *     has logged it); *msg is for the log. */
int os_identity_resolve(request_rec *r, const os_identity_spec *spec,
                        os_params *params, os_identity **out,
                        const char **msg);

/* When id depends on the request: Cache-Control: private, as
 * os_identity_private, and Vary naming the request headers the
 * expressions read (Authorization for %{REMOTE_USER}), on r's every
 * response. Nothing otherwise. */
void os_identity_headers(request_rec *r, const os_identity *id);

/* The settings and role for the export's transaction; NULL when there are
 * none. */
const os_cursor_local *os_identity_local(const os_identity *id);

#endif /* OS_IDENTITY_H */
