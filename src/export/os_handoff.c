/* os_handoff.c: exports that a Django view hands over.
 *
 * The shop's customers log in to Django, and Django decides who may
 * download what; the module streams. What passes from one to the other
 * is a token in the format Django already makes, signing.dumps(claims,
 * key=K, salt=S): a JSON object signed with a key both sides hold
 * (OrderStreamTokenKey), naming the export it opens ("export") and
 * carrying the values the export binds (claim=KEY). It comes in the
 * query string, by a link or by mod_wsgi's internal redirect (the view
 * answers 200 with a Location: README, "Handing off from Django").
 *
 * The token is the only thing that decides: an internal redirect is no
 * proof of anything (an ErrorDocument or a RewriteRule make one too), so
 * every request of an export with OrderStreamToken needs a valid one, and
 * it is checked first, before the query string is read and long before a
 * connection is taken. The claims are kept in the request's pool for
 * os_identity.c, which binds them as it binds expr= values.
 *
 * The token is never logged: it is a bearer credential for as long as it
 * lives (README, the LogFormat advice for %r).
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#include "os_private.h"

#include <errno.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <http_config.h>

#include "os_handoff.h"
#include "os_params.h"
#include "os_token.h"

/* Where a verified token's claims are kept on r->pool. */
#define OS_CLAIMS_KEY "orderstream-claims"
/* The longest OrderStreamToken max-age: a link e-mailed to a customer may
 * wait a weekend or a holiday; past a month, a signed link outlives the
 * decisions it was made from (a customer closed, a key rotated). */
#define OS_TOKEN_MAX_AGE_MAX (31 * 86400)

/* ---- directives -------------------------------------------------------- */

const char *os_handoff_read_keys(cmd_parms *cmd, const char *file,
                                 const apr_array_header_t **keys)
{
    apr_array_header_t *read;
    const char *path = ap_server_root_relative(cmd->pool, file), *err;

    if (!path) {
        return apr_psprintf(cmd->pool, "OrderStreamTokenKey: bad path %s",
                            file);
    }
    if ((err = os_token_keys_read(path, &read, cmd->pool)) != NULL) {
        return apr_pstrcat(cmd->pool, "OrderStreamTokenKey: ", err, NULL);
    }
    *keys = read;
    return NULL;
}

/* DURATION: a whole number with s, min, h or d (a bare number is
 * seconds). 0 when it is none or out of range. */
static apr_int64_t max_age(const char *v)
{
    static const struct {
        const char *unit;
        apr_int64_t seconds;
    } units[] = {
        { "", 1 }, { "s", 1 }, { "min", 60 }, { "h", 3600 }, { "d", 86400 }
    };
    char *end;
    apr_int64_t n;
    apr_size_t i;

    errno = 0;
    n = apr_strtoi64(v, &end, 10);
    if (errno || end == v || !apr_isdigit(*v) || n < 1
        || n > OS_TOKEN_MAX_AGE_MAX) {
        return 0;
    }
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (!strcmp(end, units[i].unit)) {
            n *= units[i].seconds;
            return n <= OS_TOKEN_MAX_AGE_MAX ? n : 0;
        }
    }
    return 0;
}

const char *os_handoff_parse(cmd_parms *cmd, int argc, char *const argv[],
                             const os_handoff_conf **out)
{
    os_handoff_conf *t = apr_pcalloc(cmd->pool, sizeof(*t));
    int i;

    t->param = "token";
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "salt=", 5) && a[5]) {
            t->salt = a + 5;
        }
        else if (!strncmp(a, "max-age=", 8)) {
            if (!(t->max_age = max_age(a + 8))) {
                return apr_psprintf(cmd->pool,
                                    "OrderStreamToken: max-age=%s is not a "
                                    "duration such as 30s, 10min, 12h or 7d "
                                    "(at most %dd)",
                                    a + 8, OS_TOKEN_MAX_AGE_MAX / 86400);
            }
        }
        else if (!strncmp(a, "param=", 6) && a[6]) {
            t->param = a + 6;
        }
        else {
            return apr_psprintf(cmd->pool,
                                "OrderStreamToken: \"%s\" is not an option: "
                                "salt=SALT, max-age=DURATION, param=NAME",
                                a);
        }
    }
    /* Both, always: Django's default salt is shared by every other use
     * of signing.dumps in the project, and a token without a bound on its
     * age is a password that never expires. */
    if (!t->salt || !t->max_age) {
        return "OrderStreamToken: give salt=SALT and max-age=DURATION";
    }
    *out = t;
    return NULL;
}

/* ---- per request ------------------------------------------------------- */

typedef struct find_token {
    const char *name;
    const char *value;
    int count;
} find_token;

static const char *token_pair(const char *name, const char *value, void *ctx,
                              apr_pool_t *p)
{
    find_token *f = ctx;

    (void)p;
    if (!strcmp(name, f->name)) {
        f->value = value;
        f->count++;
    }
    return NULL;
}

int os_handoff_admit(request_rec *r, const os_handoff_conf *token,
                     const apr_array_header_t *keys, const char **msg)
{
    find_token f = { NULL, NULL, 0 };
    os_token_rules rules;
    os_token_result res;
    apr_hash_t *claims;

    if (!token) {
        return OK;
    }
    rules.keys = keys;
    if (!rules.keys) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      OSLOGNO(00400) "%s: OrderStreamToken without "
                                     "OrderStreamTokenKey",
                      r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    f.name = token->param;
    /* A badly escaped query string leaves the token unread: a 403 here,
     * the same 400 as ever once a token is valid. */
    os_params_each(r->args, token_pair, &f, r->pool);
    rules.salt = token->salt;
    rules.max_age = token->max_age;
    rules.export = r->uri;
    if (f.count > 1) {
        res = OS_TOKEN_REFUSED;
        *msg = "the token is given more than once";
    }
    else {
        res = os_token_verify(f.value, &rules, apr_time_now(), &claims, msg,
                              r->pool);
    }
    if (res == OS_TOKEN_VALID) {
        apr_pool_userdata_setn(claims, OS_CLAIMS_KEY, NULL, r->pool);
        return OK;
    }
    /* An expired link is the normal end of one; a refused token is
     * someone's mistake or someone's attempt. */
    ap_log_rerror(APLOG_MARK,
                  res == OS_TOKEN_EXPIRED ? APLOG_INFO : APLOG_WARNING, 0, r,
                  OSLOGNO(00401) "%s: %d: %s", r->uri,
                  res == OS_TOKEN_EXPIRED ? HTTP_GONE : HTTP_FORBIDDEN, *msg);
    return res == OS_TOKEN_EXPIRED ? HTTP_GONE : HTTP_FORBIDDEN;
}

const char *os_handoff_claim(request_rec *r, const char *key)
{
    void *claims = NULL;

    apr_pool_userdata_get(&claims, OS_CLAIMS_KEY, r->pool);
    return claims ? apr_hash_get(claims, key, APR_HASH_KEY_STRING) : NULL;
}
