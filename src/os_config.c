/* os_config.c: the OrderStream* directives.
 *
 * Values are validated and converted when the config is read, so a mistake
 * fails "apachectl -t" with the directive's name instead of surfacing as a
 * broken download later. SQL and file names come from the server's config
 * only: the directives are allowed in server, virtual host, <Location> and
 * <Directory> context (RSRC_CONF | ACCESS_CONF), never in .htaccess, where
 * whoever can write files could otherwise run SQL as the shop's user.
 */
#include "os_private.h"

#include <errno.h>

#include <apr_lib.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <http_main.h>

#include "os_config.h"

/* Rows per FETCH. Each FETCH is one round trip and one PGresult that
 * libpq holds in full; 1000 rows of the shop export are ~110 KB of CSV and
 * ~0.3 MB of PGresult, which keeps a running export to a few hundred KB
 * while the round trip (~0.1 ms on a local socket) costs under 1% of the
 * time it takes to format and send them. */
#define OS_DEFAULT_FETCH_ROWS 1000
/* Past a million rows per FETCH, one batch would be hundreds of MB: the
 * bound this module exists to keep. */
#define OS_MAX_FETCH_ROWS 1000000

APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) *os_dbd_acquire;

void *os_config_create_dir(apr_pool_t *p, char *dir)
{
    os_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    (void)dir;
    return conf;
}

void *os_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const os_dir_conf *base = basev, *add = addv;
    os_dir_conf *conf = apr_palloc(p, sizeof(*conf));

    conf->sql = add->sql ? add->sql : base->sql;
    conf->location = add->sql ? add->location : base->location;
    conf->header_mode =
        add->header_mode ? add->header_mode : base->header_mode;
    conf->labels = add->header_mode ? add->labels : base->labels;
    conf->filename = add->filename ? add->filename : base->filename;
    conf->fetch_rows = add->fetch_rows ? add->fetch_rows : base->fetch_rows;
    conf->eol = add->eol ? add->eol : base->eol;
    return conf;
}

int os_config_fetch_rows(const os_dir_conf *conf)
{
    return conf->fetch_rows ? conf->fetch_rows : OS_DEFAULT_FETCH_ROWS;
}

os_header_mode os_config_header_mode(const os_dir_conf *conf)
{
    return conf->header_mode ? conf->header_mode : OS_HEADER_NAMES;
}

const char *os_config_eol(const os_dir_conf *conf)
{
    return conf->eol == OS_EOL_LF ? "\n" : "\r\n";
}

/* mod_dbd registers its optional functions when it is loaded, so they are
 * there by the time a directive inside a section is read. */
static const char *need_dbd(cmd_parms *cmd)
{
    if (!os_dbd_acquire) {
        os_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    }
    if (!os_dbd_acquire) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": mod_dbd is not loaded; add "
                           "\"LoadModule dbd_module modules/mod_dbd.so\"",
                           NULL);
    }
    return NULL;
}

static const char *set_sql(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    const char *err = need_dbd(cmd);
    char *sql, *end;

    if (err) {
        return err;
    }
    if (conf->sql) {
        return "OrderStreamSQL: given twice in one section; one query per "
               "export";
    }
    /* A trailing ";" would end up inside DECLARE ... FOR <sql>: drop it. */
    sql = apr_pstrdup(cmd->pool, arg);
    end = sql + strlen(sql);
    while (end > sql && (apr_isspace(end[-1]) || end[-1] == ';')) {
        *--end = '\0';
    }
    while (apr_isspace(*sql)) {
        sql++;
    }
    if (!*sql) {
        return "OrderStreamSQL: the query is empty";
    }
    conf->sql = sql;
    conf->location = cmd->path ? cmd->path : "(server config)";
    return NULL;
}

/* RAW_ARGS rather than TAKE_ARGV: httpd's argument loop stops at the first
 * empty word, so TAKE_ARGV would silently drop the labels after a "". */
static const char *set_header(cmd_parms *cmd, void *dconf, const char *args)
{
    os_dir_conf *conf = dconf;
    apr_array_header_t *labels =
        apr_array_make(cmd->pool, 8, sizeof(const char *));

    while (apr_isspace(*args)) {
        args++;
    }
    while (*args) {
        APR_ARRAY_PUSH(labels, const char *) =
            ap_getword_conf(cmd->pool, &args);
    }
    if (labels->nelts == 0) {
        return "OrderStreamHeader: give the column labels, or \"off\"";
    }
    if (labels->nelts == 1
        && !strcasecmp(APR_ARRAY_IDX(labels, 0, const char *), "off")) {
        conf->header_mode = OS_HEADER_OFF;
        return NULL;
    }
    conf->header_mode = OS_HEADER_LABELS;
    conf->labels = labels;
    return NULL;
}

/* The name goes into a quoted-string of Content-Disposition (RFC 6266):
 * printable ASCII without quote, backslash or path separators, so no
 * escaping is needed and no browser can be led outside its download
 * folder. */
static const char *set_filename(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    const char *c;

    (void)cmd;
    if (!*arg) {
        return "OrderStreamFilename: the name is empty";
    }
    for (c = arg; *c; c++) {
        if (*c < 0x20 || *c > 0x7e || strchr("\"\\/", *c)) {
            return "OrderStreamFilename: use printable ASCII without "
                   "'\"', '\\' or '/'";
        }
    }
    conf->filename = arg;
    return NULL;
}

static const char *set_fetch_rows(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    char *end;
    apr_int64_t n;

    (void)cmd;
    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || n < 1 || n > OS_MAX_FETCH_ROWS) {
        return apr_psprintf(cmd->pool,
                            "OrderStreamFetchRows: \"%s\" is not a whole "
                            "number from 1 to %d",
                            arg, OS_MAX_FETCH_ROWS);
    }
    conf->fetch_rows = (int)n;
    return NULL;
}

static const char *set_line_ending(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    os_dir_conf *conf = dconf;

    if (!strcasecmp(arg, "CRLF")) {
        conf->eol = OS_EOL_CRLF;
    }
    else if (!strcasecmp(arg, "LF")) {
        conf->eol = OS_EOL_LF;
    }
    else {
        return apr_psprintf(
            cmd->pool, "OrderStreamLineEnding: \"%s\" is not CRLF or LF", arg);
    }
    return NULL;
}

#define OS_CONTEXT (RSRC_CONF | ACCESS_CONF)

const command_rec os_config_cmds[] = {
    AP_INIT_TAKE1("OrderStreamSQL", set_sql, NULL, OS_CONTEXT,
                  "the SELECT whose rows the export streams"),
    AP_INIT_RAW_ARGS("OrderStreamHeader", set_header, NULL, OS_CONTEXT,
                      "header row labels, or \"off\"; default: column names"),
    AP_INIT_TAKE1("OrderStreamFilename", set_filename, NULL, OS_CONTEXT,
                  "file name offered in Content-Disposition"),
    AP_INIT_TAKE1("OrderStreamFetchRows", set_fetch_rows, NULL, OS_CONTEXT,
                  "rows per FETCH, 1 to 1000000; default 1000"),
    AP_INIT_TAKE1("OrderStreamLineEnding", set_line_ending, NULL, OS_CONTEXT,
                  "CRLF (default) or LF"),
    { NULL }
};

/* ---- the config test ----------------------------------------------------
 * Per-directory configs are only merged per request, so "this Location
 * streams but has no query" cannot be seen in the merged config at startup.
 * The parsed config tree can: walk it (Include and <IfModule> are already
 * expanded there) and require, for every SetHandler orderstream, an
 * OrderStreamSQL in the same section or an enclosing one.
 */

static int sets_our_handler(const ap_directive_t *d, apr_pool_t *p)
{
    const char *args = d->args;
    char *word;

    if (strcasecmp(d->directive, "SetHandler")) {
        return 0;
    }
    word = ap_getword_conf(p, &args);
    return !strcasecmp(word, OS_HANDLER);
}

static int has_sql(const ap_directive_t *first)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "OrderStreamSQL")) {
            return 1;
        }
    }
    return 0;
}

/* Returns the number of sections that stream without a query. */
static int check_level(const ap_directive_t *first, int sql_above,
                       apr_pool_t *p)
{
    const ap_directive_t *d;
    int sql = sql_above || has_sql(first);
    int bad = 0;

    for (d = first; d; d = d->next) {
        if (d->first_child) {
            bad += check_level(d->first_child, sql, p);
        }
        else if (!sql && sets_our_handler(d, p)) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                         OSLOGNO(00001) "OrderStreamSQL: missing for "
                                        "\"SetHandler " OS_HANDLER
                                        "\" at %s:%d; give the "
                                        "section the query to stream",
                         d->filename, d->line_num);
            bad++;
        }
    }
    return bad;
}

static int any_sql(const ap_directive_t *first)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "OrderStreamSQL")
            || (d->first_child && any_sql(d->first_child))) {
            return 1;
        }
    }
    return 0;
}

int os_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    (void)pconf;
    (void)plog;
    (void)s;
    if (!os_dbd_acquire) {
        os_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    }
    if (!os_dbd_acquire && any_sql(ap_conftree)) {
        ap_log_error(
            APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
            OSLOGNO(00002) "OrderStreamSQL: mod_dbd is not loaded; "
                           "add \"LoadModule dbd_module modules/mod_dbd.so\"");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (check_level(ap_conftree, 0, ptemp)) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
