/* os_identity.c: the values an export takes from who is asking.
 *
 * httpd already knows who the user is (any authentication module sets
 * REMOTE_USER; mod_ssl and others set variables) and has one language to
 * read a request in a config: its string expressions (ap_expr, as
 * "Header set X expr=..." uses). So a request-bound value is such an
 * expression, parsed once when the config is read (a syntax error fails
 * the config test, naming the directive) and evaluated per request, before
 * a connection is taken:
 *  - OrderStreamParam NAME TYPE expr=...: checked against TYPE exactly as
 *    a query-string value is (os_param_value), then bound as $N. An empty
 *    result is absent; required and absent is a 403;
 *  - OrderStreamSetting NAME VALUE|expr=...: set_config(NAME, value, true)
 *    in the export's transaction, for policies and views to read;
 *  - OrderStreamRole ROLE|expr=...: the transaction's role, so that the
 *    database's grants and row-level security policies decide the rows.
 * Each of them may instead say claim=KEY: the member KEY of the request's
 * verified Django token (os_handoff.c), treated as an expression's value.
 *
 * Whatever depends on the request must not be handed to someone else by
 * a cache: such a response says "Cache-Control: private" and Varies on
 * the request headers the expressions read. ap_expr reports those itself
 * (ap_expr_eval_ctx_t.vary_this), but only merges them into Vary for a
 * boolean expression, so they are collected here; a variable that comes
 * from a header without naming one (REMOTE_USER, which HTTP
 * authentication takes from Authorization) is made to report it by the
 * lookup function the expressions are parsed with.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#include "os_private.h"

#include <ap_expr.h>
#include <apr_lib.h>
#include <apr_strings.h>

#include "os_handoff.h"
#include "os_identity.h"

struct os_identity_value {
    const char *literal;        /* NULL for an expression or a claim */
    const ap_expr_info_t *expr; /* NULL for a literal or a claim */
    const char *claim; /* claim=KEY: the token's member (os_handoff.c) */
};

struct os_identity {
    int bound;        /* anything depends on the request */
    const char *vary; /* request headers read, "A, B"; NULL: none */
    os_cursor_local local;
    int has_local;
};

/* PostgreSQL truncates a longer name (NAMEDATALEN - 1 bytes), with only a
 * notice, to a name that may be another role's. */
#define OS_ROLE_MAX 63
/* A setting's value is text of any length to PostgreSQL; a request line
 * or header is at most 8190 bytes by default anyway. */
#define OS_SETTING_MAX 65536

/* ---- parsing ------------------------------------------------------------ */

/* A variable that ap_expr does not know to come from a request header,
 * and the header it comes from. */
typedef struct os_varying {
    ap_expr_var_func_t *func;
    const void *data;
    const char *header;
} os_varying;

static const char *varying_var(ap_expr_eval_ctx_t *ctx, const void *data)
{
    const os_varying *v = data;

    if (ctx->vary_this) {
        *ctx->vary_this = *ctx->vary_this
            ? apr_pstrcat(ctx->p, *ctx->vary_this, ", ", v->header, NULL)
            : v->header;
    }
    return v->func(ctx, v->data);
}

/* httpd's own lookup, with REMOTE_USER wrapped to report Authorization:
 * with HTTP authentication (Basic, Digest, a bearer token) the user is
 * what that header says. A login kept in a cookie (mod_auth_form) is not
 * seen here; Cache-Control: private still keeps shared caches out. */
static int lookup(ap_expr_lookup_parms *parms)
{
    int rv = ap_expr_lookup_default(parms);
    os_varying *v;

    if (rv != OK || parms->type != AP_EXPR_FUNC_VAR
        || strcasecmp(parms->name, "REMOTE_USER")) {
        return rv;
    }
    v = apr_palloc(parms->pool, sizeof(*v));
    v->func = (ap_expr_var_func_t *)*parms->func;
    v->data = *parms->data;
    v->header = "Authorization";
    *parms->func = (const void *)varying_var;
    *parms->data = v;
    return OK;
}

os_identity_value *os_identity_value_parse(cmd_parms *cmd, const char *arg,
                                           const char **err)
{
    os_identity_value *v = apr_pcalloc(cmd->pool, sizeof(*v));

    *err = NULL;
    if (!strncasecmp(arg, "claim=", 6)) {
        v->claim = arg + 6;
        *err = *v->claim ? NULL : "claim= needs a key";
        return *err ? NULL : v;
    }
    if (strncasecmp(arg, "expr=", 5)) {
        v->literal = arg;
        return v;
    }
    if (!arg[5]) {
        *err = "expr= needs an expression";
        return NULL;
    }
    v->expr = ap_expr_parse_cmd(cmd, arg + 5, AP_EXPR_FLAG_STRING_RESULT, err,
                                lookup);
    if (*err) {
        *err =
            apr_psprintf(cmd->pool, "cannot parse expr=%s: %s", arg + 5, *err);
        return NULL;
    }
    return v;
}

int os_identity_value_is_expr(const os_identity_value *v)
{
    return v && (v->expr || v->claim);
}

const char *os_identity_value_literal(const os_identity_value *v)
{
    return v ? v->literal : NULL;
}

/* A simple identifier as PostgreSQL reads a custom setting's parts. */
static int identifier(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (!n || !(apr_isalpha(*s) || *s == '_')) {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if (!apr_isalnum(s[i]) && s[i] != '_' && s[i] != '$') {
            return 0;
        }
    }
    return 1;
}

/* Only custom settings, so that no configuration can reach a setting of
 * PostgreSQL's own (role, search_path, ...) by this road. */
const char *os_identity_setting_name_check(const char *name, apr_pool_t *p)
{
    const char *s = name, *dot;
    int parts = 0;

    do {
        dot = strchr(s, '.');
        if (!identifier(s, dot ? (apr_size_t)(dot - s) : strlen(s))) {
            parts = 0;
            break;
        }
        parts++;
        s = dot ? dot + 1 : s;
    } while (dot);
    if (parts >= 2) {
        return NULL;
    }
    return apr_psprintf(
        p,
        "\"%s\" is not a custom setting: use two or more "
        "names joined by dots, such as shop.customer (letters, "
        "digits, _ and $, not starting with a digit)",
        os_params_shown(name, p));
}

const char *os_identity_role_check(const char *role, apr_pool_t *p)
{
    os_param_decl text = { "role",      OS_PARAM_TEXT, 0,   NULL,
                           OS_ROLE_MAX, NULL,          NULL };
    const char *ok;

    if (!role || !*role) {
        return "the role is empty";
    }
    if (strlen(role) > OS_ROLE_MAX
        || os_param_value(&text, role, &ok, p) != NULL) {
        return apr_psprintf(p,
                            "\"%s\" is not a role name (UTF-8, at most %d "
                            "bytes: PostgreSQL would cut a longer one to "
                            "another name)",
                            os_params_shown(role, p), OS_ROLE_MAX);
    }
    /* To PostgreSQL, role "none" (quoted or bound alike) means "back to
     * the session's user": the pool's role, the one thing never to fall
     * back to. */
    if (!strcasecmp(role, "none")) {
        return "the role \"none\" would be the connection's own user";
    }
    return NULL;
}

int os_identity_bound(const os_identity_spec *sp)
{
    int i;

    if (sp->token) {
        return 1; /* a token is someone's */
    }
    for (i = 0; sp->param_exprs && i < sp->param_exprs->nelts; i++) {
        if (APR_ARRAY_IDX(sp->param_exprs, i, const os_identity_value *)) {
            return 1;
        }
    }
    for (i = 0; sp->settings && i < sp->settings->nelts; i++) {
        if (os_identity_value_is_expr(
                APR_ARRAY_IDX(sp->settings, i, os_identity_setting).value)) {
            return 1;
        }
    }
    return os_identity_value_is_expr(sp->role);
}

/* ---- per request -------------------------------------------------------- */

/* v's value for r into *out ("" for an expression that gives nothing);
 * the headers it read are added to id->vary. */
static int eval(request_rec *r, os_identity *id, const os_identity_value *v,
                const char **out, const char **msg)
{
    ap_expr_eval_ctx_t ctx = { 0 };
    ap_regmatch_t pmatch[AP_MAX_REG_MATCH];
    const char *source = NULL, *err = NULL, *result = NULL;

    if (v->claim) {
        *out = os_handoff_claim(r, v->claim);
        *out = *out ? *out : "";
        return OK;
    }
    if (!v->expr) {
        *out = v->literal;
        return OK;
    }
    ctx.r = r;
    ctx.c = r->connection;
    ctx.s = r->server;
    ctx.p = r->pool;
    ctx.err = &err;
    ctx.info = v->expr;
    ctx.re_nmatch = AP_MAX_REG_MATCH;
    ctx.re_pmatch = pmatch;
    ctx.re_source = &source;
    ctx.vary_this = &id->vary;
    ctx.result_string = &result;
    if (ap_expr_exec_ctx(&ctx) <= 0 || err) {
        *msg = apr_psprintf(r->pool, "the expression at %s:%u failed: %s",
                            v->expr->filename, v->expr->line_number,
                            err ? err : "no value");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    *out = result ? result : "";
    return OK;
}

/* The expr= parameters. */
static int resolve_params(request_rec *r, const os_identity_spec *sp,
                          os_identity *id, os_params *params, const char **msg)
{
    const char *v;
    int i, missing, status;

    for (i = 0; sp->param_exprs && i < sp->param_exprs->nelts; i++) {
        const os_identity_value *e =
            APR_ARRAY_IDX(sp->param_exprs, i, const os_identity_value *);
        if (!e) {
            continue;
        }
        if ((status = eval(r, id, e, &v, msg)) != OK) {
            return status;
        }
        *msg = os_params_server(&sp->rules, params, i, v, &missing, r->pool);
        if (*msg) {
            return missing ? HTTP_FORBIDDEN : HTTP_BAD_REQUEST;
        }
    }
    return OK;
}

/* OrderStreamSetting: each value UTF-8, as client_encoding says. */
static int resolve_settings(request_rec *r, const os_identity_spec *sp,
                            os_identity *id, const char **msg)
{
    int i, n = sp->settings ? sp->settings->nelts : 0, status;
    const char **names = apr_palloc(r->pool, sizeof(*names) * (n + 1));
    const char **values = apr_palloc(r->pool, sizeof(*values) * (n + 1));

    for (i = 0; i < n; i++) {
        const os_identity_setting *s =
            &APR_ARRAY_IDX(sp->settings, i, os_identity_setting);
        os_param_decl text = { s->name,        OS_PARAM_TEXT, 0,   NULL,
                               OS_SETTING_MAX, NULL,          NULL };
        const char *v;
        if ((status = eval(r, id, s->value, &v, msg)) != OK) {
            return status;
        }
        names[i] = s->name;
        if ((*msg = os_param_value(&text, v, &values[i], r->pool)) != NULL) {
            return HTTP_BAD_REQUEST;
        }
    }
    id->local.nsettings = n;
    id->local.names = names;
    id->local.values = values;
    id->has_local |= n > 0;
    return OK;
}

static int resolve_role(request_rec *r, const os_identity_spec *sp,
                        os_identity *id, const char **msg)
{
    const char *role;
    int status;

    if (!sp->role) {
        return OK;
    }
    if ((status = eval(r, id, sp->role, &role, msg)) != OK) {
        return status;
    }
    if ((*msg = os_identity_role_check(role, r->pool)) != NULL) {
        *msg = apr_pstrcat(r->pool, "OrderStreamRole: ", *msg, NULL);
        return HTTP_FORBIDDEN;
    }
    id->local.role = role;
    id->has_local = 1;
    return OK;
}

int os_identity_resolve(request_rec *r, const os_identity_spec *sp,
                        os_params *params, os_identity **out, const char **msg)
{
    os_identity *id = apr_pcalloc(r->pool, sizeof(*id));
    os_params scratch;
    int status;

    *out = id;
    *msg = NULL;
    id->bound = os_identity_bound(sp);
    if (!params) {
        params = &scratch;
        scratch.nvalues = sp->rules.decls ? sp->rules.decls->nelts : 0;
        scratch.values = apr_pcalloc(
            r->pool, sizeof(*scratch.values) * (scratch.nvalues + 1));
    }
    status = resolve_params(r, sp, id, params, msg);
    if (status == OK) {
        status = resolve_settings(r, sp, id, msg);
    }
    if (status == OK) {
        status = resolve_role(r, sp, id, msg);
    }
    return status;
}

/* Adds each header of list ("A, B") to r's Vary once. */
static void vary_once(request_rec *r, const char *list)
{
    char *copy = apr_pstrdup(r->pool, list), *name, *state;
    const char *have;

    for (name = apr_strtok(copy, ", ", &state); name;
         name = apr_strtok(NULL, ", ", &state)) {
        have = apr_table_get(r->err_headers_out, "Vary");
        if (!have || !ap_find_token(r->pool, have, name)) {
            apr_table_mergen(r->err_headers_out, "Vary", name);
        }
    }
}

void os_identity_private(request_rec *r, const os_identity_spec *sp)
{
    if (sp && os_identity_bound(sp)) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "private");
    }
}

void os_identity_headers(request_rec *r, const os_identity *id)
{
    if (!id || !id->bound) {
        return;
    }
    apr_table_setn(r->err_headers_out, "Cache-Control", "private");
    if (id->vary) {
        vary_once(r, id->vary);
    }
}

const os_cursor_local *os_identity_local(const os_identity *id)
{
    return id && id->has_local ? &id->local : NULL;
}
