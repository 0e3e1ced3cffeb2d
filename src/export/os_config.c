/* os_config.c: the OrderStream* directives.
 *
 * Values are validated and converted when the config is read, so a mistake
 * fails "apachectl -t" with the directive's name instead of surfacing as a
 * broken download later. SQL and file names come from the server's config
 * only: the directives are allowed in server, virtual host, <Location> and
 * <Directory> context (RSRC_CONF | ACCESS_CONF), never in .htaccess, where
 * whoever can write files could otherwise run SQL as the shop's user.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#include "os_private.h"

#include <errno.h>
#include <limits.h>

#include <apr_lib.h>
#include <apr_optional.h>
#include <apr_strings.h>
#include <http_main.h>

#include "os_config.h"
#include "os_conn.h"
#include "os_render.h"
#include "os_limit.h"
#include "os_slice.h"
#include "os_sql.h"
#include "os_xlsx.h"

/* Rows per FETCH. Each FETCH is one round trip and one PGresult that
 * libpq holds in full; 1000 rows of the shop export are ~110 KB of CSV and
 * ~0.3 MB of PGresult, which keeps a running export to a few hundred KB
 * while the round trip (~0.1 ms on a local socket) costs under 1% of the
 * time it takes to format and send them. */
#define OS_DEFAULT_FETCH_ROWS 1000
/* Past a million rows per FETCH, one batch would be hundreds of MB: the
 * bound this module exists to keep. */
#define OS_MAX_FETCH_ROWS 1000000
/* How long an export waits for a pooled connection held by other exports
 * before it answers 503: long enough to ride out a burst of short
 * downloads, short enough that a client gets an answer it can retry
 * instead of a request that hangs. */
#define OS_DEFAULT_ACQUIRE_TIMEOUT apr_time_from_sec(10)
/* Retry-After on a 503: a few seconds, about the time a small export
 * takes to finish and free its connection. */
#define OS_DEFAULT_RETRY_AFTER 5
/* The rows one NDJSON line may fold together (OrderStreamGroupBy): the
 * module writes a group as it reads it, but the client that reads the
 * line holds it whole; 10,000 order items is ~1 MB of JSON, past any real
 * order and far below what would hurt a client. */
#define OS_DEFAULT_MAX_GROUP_ROWS 10000
#define OS_MAX_GROUP_ROWS 10000000
/* Slow clients: README, "Slow clients", says how these were chosen.
 * The spool holds a whole 1,000,000-row shop export (92 MB of CSV), so
 * an export of that size releases the database within seconds whatever
 * the client; ten such downloads at once are 1.3 GB of disk. */
#define OS_DEFAULT_SPOOL ((apr_off_t)128 * 1024 * 1024)
/* 1 KB/s over a minute of waiting: a crawl, far below the slowest phone
 * (GPRS carries 4-5 KB/s), which still gets its export whole. */
#define OS_DEFAULT_MIN_RATE 1024
#define OS_DEFAULT_MIN_RATE_WINDOW apr_time_from_sec(60)
/* Half an hour holding a connection: an export past the spool (a
 * 2,000,000-row export, 2 GB) to a client at 1.5 MB/s; past it, a VACUUM
 * held back longer costs more than such a download is worth. */
#define OS_DEFAULT_MAX_DURATION apr_time_from_sec(30 * 60)

/* Whether a section's path (as create_dir_config gets it) is a URL path
 * rather than a pattern: <LocationMatch> and "~" regexes and wildcards
 * have characters a plain path written in a config does not. */
static int literal_path(const char *dir)
{
    return dir && *dir == '/' && !strpbrk(dir, "*?[]~$^()|+\\{}");
}

void *os_config_create_dir(apr_pool_t *p, char *dir)
{
    os_dir_conf *conf = apr_pcalloc(p, sizeof(*conf));

    conf->section = literal_path(dir) ? apr_pstrdup(p, dir) : NULL;
    conf->stmt_timeout = -1;
    conf->max_concurrent = -1;
    conf->acquire_timeout = -1;
    conf->retry_after = -1;
    conf->max_limit = -1;
    conf->preview = -1;
    conf->bom = -1;
    conf->formula_guard = -1;
    conf->group_by = -1;
    conf->id = -1;
    conf->status = -1;
    conf->spool = -1;
    conf->min_rate = -1;
    conf->max_duration = -1;
    conf->parallel = -1;
    return conf;
}

/* base's settings that add does not give again, then add's. */
static apr_array_header_t *merge_settings(apr_pool_t *p,
                                          apr_array_header_t *base,
                                          apr_array_header_t *add)
{
    apr_array_header_t *out;
    int i, j;

    if (!base || !add) {
        return add ? add : base;
    }
    out = apr_array_make(p, base->nelts + add->nelts,
                         sizeof(os_identity_setting));
    for (i = 0; i < base->nelts; i++) {
        const os_identity_setting *b =
            &APR_ARRAY_IDX(base, i, os_identity_setting);
        for (j = 0; j < add->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(add, j, os_identity_setting).name,
                        b->name)) {
                break;
            }
        }
        if (j == add->nelts) {
            APR_ARRAY_PUSH(out, os_identity_setting) = *b;
        }
    }
    apr_array_cat(out, add);
    return out;
}

void *os_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    const os_dir_conf *base = basev, *add = addv;
    os_dir_conf *conf = apr_palloc(p, sizeof(*conf));

    /* A query and the parameters it binds go together: a section with
     * its own query takes none of the parameters around it. */
    *conf = add->sql ? *add : *base;
    conf->header_mode =
        add->header_mode ? add->header_mode : base->header_mode;
    conf->labels = add->header_mode ? add->labels : base->labels;
    conf->filename = add->filename ? add->filename : base->filename;
    conf->title = add->title ? add->title : base->title;
    conf->description =
        add->description ? add->description : base->description;
    conf->fetch_rows = add->fetch_rows ? add->fetch_rows : base->fetch_rows;
    conf->eol = add->eol ? add->eol : base->eol;
    conf->stmt_timeout =
        add->stmt_timeout != -1 ? add->stmt_timeout : base->stmt_timeout;
    conf->max_concurrent =
        add->max_concurrent != -1 ? add->max_concurrent : base->max_concurrent;
    conf->acquire_timeout = add->acquire_timeout != -1 ? add->acquire_timeout
                                                       : base->acquire_timeout;
    conf->retry_after =
        add->retry_after != -1 ? add->retry_after : base->retry_after;
    conf->max_limit = add->max_limit != -1 ? add->max_limit : base->max_limit;
    conf->preview = add->preview != -1 ? add->preview : base->preview;
    conf->format = add->format ? add->format : base->format;
    conf->formats = add->formats ? add->formats : base->formats;
    conf->delimiter = add->delimiter ? add->delimiter : base->delimiter;
    conf->bom = add->bom != -1 ? add->bom : base->bom;
    conf->formula_guard =
        add->formula_guard != -1 ? add->formula_guard : base->formula_guard;
    conf->group_by = add->group_by != -1 ? add->group_by : base->group_by;
    conf->group_label =
        add->group_by != -1 ? add->group_label : base->group_label;
    conf->max_group_rows =
        add->max_group_rows ? add->max_group_rows : base->max_group_rows;
    conf->sheet_rows = add->sheet_rows ? add->sheet_rows : base->sheet_rows;
    conf->xlsx_level = add->xlsx_level ? add->xlsx_level : base->xlsx_level;
    conf->xlsx_numbers =
        add->xlsx_numbers ? add->xlsx_numbers : base->xlsx_numbers;
    conf->settings = merge_settings(p, base->settings, add->settings);
    conf->role = add->role ? add->role : base->role;
    /* Every literal <Location> merged here matched the URL, so the longest
     * is the most specific: the URL an export answers (os_handler.c). */
    conf->section = !base->section
            || (add->section && strlen(add->section) > strlen(base->section))
        ? add->section
        : base->section;
    conf->status = add->status != -1 ? add->status : base->status;
    conf->parallel = add->parallel != -1 ? add->parallel : base->parallel;
    conf->split_sql = add->parallel != -1 ? add->split_sql : base->split_sql;
    conf->parallel_at =
        add->parallel != -1 ? add->parallel_at : base->parallel_at;
    conf->parallel_formats =
        add->parallel != -1 ? add->parallel_formats : base->parallel_formats;
    conf->parallel_alongside = add->parallel != -1 ? add->parallel_alongside
                                                   : base->parallel_alongside;
    conf->spool = add->spool != -1 ? add->spool : base->spool;
    conf->spool_dir = add->spool_dir ? add->spool_dir : base->spool_dir;
    conf->min_rate = add->min_rate != -1 ? add->min_rate : base->min_rate;
    conf->min_rate_window =
        add->min_rate != -1 ? add->min_rate_window : base->min_rate_window;
    conf->max_duration =
        add->max_duration != -1 ? add->max_duration : base->max_duration;
    conf->token_keys = add->token_keys ? add->token_keys : base->token_keys;
    conf->token = add->token ? add->token : base->token;
    return conf;
}

int os_config_has_sql(const os_dir_conf *conf)
{
    return conf->sql && conf->sql->nelts > 0;
}

unsigned os_config_formats(const os_dir_conf *conf)
{
    return conf->formats ? conf->formats : OS_FMT_ALL;
}

/* A default that OrderStreamFormats does not allow (set in another
 * section) gives way to the first one it does. */
os_format os_config_format(const os_dir_conf *conf)
{
    os_format f = conf->format ? conf->format : OS_FMT_CSV;

    return (os_config_formats(conf) & f)
        ? f
        : os_format_first(os_config_formats(conf));
}

static char os_config_delimiter(const os_dir_conf *conf)
{
    return conf->delimiter ? conf->delimiter : ',';
}

static int os_config_bom(const os_dir_conf *conf)
{
    return conf->bom == 1;
}

static int os_config_formula_guard(const os_dir_conf *conf)
{
    return conf->formula_guard == 1;
}

static int os_config_group_by(const os_dir_conf *conf, const char **label)
{
    *label = conf->group_label;
    return conf->group_by > 0 ? conf->group_by : 0;
}

static int os_config_max_group_rows(const os_dir_conf *conf)
{
    return conf->max_group_rows ? conf->max_group_rows
                                : OS_DEFAULT_MAX_GROUP_ROWS;
}

static int os_config_sheet_rows(const os_dir_conf *conf)
{
    return conf->sheet_rows ? conf->sheet_rows : OS_XLSX_SHEET_ROWS_MAX;
}

static int os_config_xlsx_level(const os_dir_conf *conf)
{
    return conf->xlsx_level ? conf->xlsx_level : OS_XLSX_LEVEL_DEFAULT;
}

static int os_config_xlsx_exact(const os_dir_conf *conf)
{
    return conf->xlsx_numbers == 2;
}

int os_config_status(const os_dir_conf *conf)
{
    return conf->status != 0;
}

int os_config_parallel(const os_dir_conf *conf, const char **split)
{
    *split = conf->split_sql;
    return conf->parallel > 1 ? conf->parallel : 0;
}

/* The formats read in slices unless formats= says otherwise: not xlsx,
 * whose writer, not the database, bounds an export (make bench: the
 * workbook takes 1.2 to 1.9 times the CSV's time), so slices would only
 * add the files' CPU and, on a shared machine, take cores from it (a
 * 2,000,000-row workbook took 5.19 s in 2 slices against 3.90 s). */
#define OS_PARALLEL_FORMATS (OS_FMT_CSV | OS_FMT_TSV | OS_FMT_NDJSON)

unsigned os_config_parallel_formats(const os_dir_conf *conf)
{
    return conf->parallel_formats ? conf->parallel_formats
                                  : OS_PARALLEL_FORMATS;
}

int os_config_parallel_alongside(const os_dir_conf *conf)
{
    return conf->parallel_alongside;
}

apr_off_t os_config_spool(const os_dir_conf *conf)
{
    return conf->spool < 0 ? OS_DEFAULT_SPOOL : conf->spool;
}

const char *os_config_spool_dir(const os_dir_conf *conf)
{
    return conf->spool_dir;
}

apr_uint64_t os_config_min_rate(const os_dir_conf *conf,
                                apr_interval_time_t *window)
{
    if (conf->min_rate < 0) {
        *window = OS_DEFAULT_MIN_RATE_WINDOW;
        return OS_DEFAULT_MIN_RATE;
    }
    *window = conf->min_rate_window;
    return (apr_uint64_t)conf->min_rate;
}

apr_interval_time_t os_config_max_duration(const os_dir_conf *conf)
{
    return conf->max_duration < 0 ? OS_DEFAULT_MAX_DURATION
                                  : conf->max_duration;
}

int os_config_fetch_rows(const os_dir_conf *conf)
{
    return conf->fetch_rows ? conf->fetch_rows : OS_DEFAULT_FETCH_ROWS;
}

os_header_mode os_config_header_mode(const os_dir_conf *conf)
{
    return conf->header_mode ? conf->header_mode : OS_HEADER_NAMES;
}

static const char *os_config_eol(const os_dir_conf *conf)
{
    return conf->eol == OS_EOL_LF ? "\n" : "\r\n";
}

void os_config_render(const os_dir_conf *conf, os_render_opts *o)
{
    os_header_mode mode = os_config_header_mode(conf);

    o->location = conf->location;
    o->header = mode != OS_HEADER_OFF;
    o->labels = mode == OS_HEADER_LABELS ? conf->labels : NULL;
    o->eol = os_config_eol(conf);
    o->delimiter = os_config_delimiter(conf);
    o->bom = os_config_bom(conf);
    o->formula_guard = os_config_formula_guard(conf);
    o->group_by = os_config_group_by(conf, &o->group_label);
    o->max_group_rows = os_config_max_group_rows(conf);
    o->sheet_rows = os_config_sheet_rows(conf);
    o->xlsx_level = os_config_xlsx_level(conf);
    o->xlsx_exact = os_config_xlsx_exact(conf);
}

long os_config_stmt_timeout_ms(const os_dir_conf *conf)
{
    return conf->stmt_timeout < 0 ? -1 : (long)(conf->stmt_timeout / 1000);
}

int os_config_max_concurrent(const os_dir_conf *conf)
{
    return conf->max_concurrent < 0 ? 0 : conf->max_concurrent;
}

apr_interval_time_t os_config_acquire_timeout(const os_dir_conf *conf)
{
    return conf->acquire_timeout < 0 ? OS_DEFAULT_ACQUIRE_TIMEOUT
                                     : conf->acquire_timeout;
}

int os_config_retry_after(const os_dir_conf *conf)
{
    return conf->retry_after < 0 ? OS_DEFAULT_RETRY_AFTER : conf->retry_after;
}

void os_config_params_rules(const os_dir_conf *conf, os_params_rules *rules)
{
    rules->preview = conf->preview != 0; /* on unless "off" */
    rules->max_limit = conf->max_limit < 0 ? 0 : conf->max_limit;
    rules->decls = conf->params;
    rules->formats = os_config_formats(conf);
    rules->token_param = conf->token ? conf->token->param : NULL;
}

void os_config_identity(const os_dir_conf *conf, os_identity_spec *spec)
{
    os_config_params_rules(conf, &spec->rules);
    spec->param_exprs = conf->param_exprs;
    spec->settings = conf->settings;
    spec->role = conf->role;
    spec->token = conf->token != NULL;
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

/* The sections that give OrderStreamSQL or OrderStreamParam, in the order
 * read, for the config test: their queries and parameters can only be
 * checked against each other once the whole section has been read. Lives
 * in pconf, and is forgotten with it before the config is read again. */
static apr_array_header_t *os_sections;

static apr_status_t forget_sections(void *unused)
{
    (void)unused;
    os_sections = NULL;
    return APR_SUCCESS;
}

/* Inside <Location PATH> with a PATH that is a URL, not a pattern
 * (<LocationMatch>, "~", or wildcards): one a page can link to. */
static int is_literal_location(cmd_parms *cmd)
{
    const ap_directive_t *sect = cmd->directive->parent;

    return sect && !strcasecmp(sect->directive, "<Location") && cmd->path
        && *cmd->path == '/' && !strpbrk(cmd->path, "*?[~");
}

apr_array_header_t *os_config_export_paths(server_rec *s, apr_pool_t *p)
{
    apr_array_header_t *paths = apr_array_make(p, 8, sizeof(const char *));
    int i, j;

    for (i = 0; os_sections && i < os_sections->nelts; i++) {
        const os_dir_conf *c = APR_ARRAY_IDX(os_sections, i, os_dir_conf *);
        if (c->server != s || !c->literal || !os_config_has_sql(c)) {
            continue;
        }
        for (j = 0; j < paths->nelts; j++) {
            if (!strcmp(APR_ARRAY_IDX(paths, j, const char *), c->location)) {
                break;
            }
        }
        if (j == paths->nelts) {
            APR_ARRAY_PUSH(paths, const char *) = c->location;
        }
    }
    return paths;
}

const apr_array_header_t *os_config_sections(void)
{
    return os_sections;
}

static void remember_section(cmd_parms *cmd, os_dir_conf *conf)
{
    if (conf->sql || conf->params) {
        return; /* already there */
    }
    if (!os_sections) {
        os_sections = apr_array_make(cmd->pool, 16, sizeof(os_dir_conf *));
        apr_pool_cleanup_register(cmd->pool, NULL, forget_sections,
                                  apr_pool_cleanup_null);
    }
    conf->id = os_sections->nelts;
    APR_ARRAY_PUSH(os_sections, os_dir_conf *) = conf;
    conf->server = cmd->server;
    conf->literal = is_literal_location(cmd);
    conf->sql = apr_array_make(cmd->pool, 1, sizeof(const char *));
    conf->sql_at = apr_array_make(cmd->pool, 1, sizeof(const char *));
    conf->params = apr_array_make(cmd->pool, 1, sizeof(os_param_decl));
    conf->params_at = apr_array_make(cmd->pool, 1, sizeof(const char *));
    conf->param_exprs =
        apr_array_make(cmd->pool, 1, sizeof(const os_identity_value *));
}

/* Where the directive being read is, for the config test's messages. */
static const char *here(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                        cmd->directive->line_num);
}

/* Each query of a chain is a cursor held open for the whole export; a
 * chain longer than this is a config that wants a UNION ALL or a view. */
#define OS_MAX_CHAIN 64

static const char *set_sql(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    const char *err = need_dbd(cmd);
    char *sql, *end;

    if (err) {
        return err;
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
    remember_section(cmd, conf);
    if (conf->sql->nelts == 0) {
        /* the first query names the chain in logs */
        conf->location = cmd->path ? cmd->path : "(server config)";
    }
    if (conf->sql->nelts == OS_MAX_CHAIN) {
        return apr_psprintf(cmd->pool,
                            "OrderStreamSQL: more than %d queries in one "
                            "section",
                            OS_MAX_CHAIN);
    }
    APR_ARRAY_PUSH(conf->sql, const char *) = sql;
    APR_ARRAY_PUSH(conf->sql_at, const char *) = here(cmd);
    return NULL;
}

static const char *set_param(cmd_parms *cmd, void *dconf, int argc,
                             char *const argv[])
{
    os_dir_conf *conf = dconf;
    os_param_decl d;
    const char *err = os_param_declare(&d, argc, argv, cmd->pool);
    const os_identity_value *expr = NULL;
    int i;

    if (!err && (d.expr || d.claim)) {
        expr = os_identity_value_parse(
            cmd,
            d.expr ? apr_pstrcat(cmd->pool, "expr=", d.expr, NULL)
                   : apr_pstrcat(cmd->pool, "claim=", d.claim, NULL),
            &err);
        err = err ? apr_psprintf(cmd->pool, "%s: %s", d.name, err) : NULL;
    }
    if (err) {
        return apr_pstrcat(cmd->pool, "OrderStreamParam: ", err, NULL);
    }
    remember_section(cmd, conf);
    for (i = 0; i < conf->params->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(conf->params, i, os_param_decl).name,
                    d.name)) {
            return apr_psprintf(cmd->pool,
                                "OrderStreamParam: %s is declared twice in "
                                "this section",
                                d.name);
        }
    }
    APR_ARRAY_PUSH(conf->params, os_param_decl) = d;
    APR_ARRAY_PUSH(conf->params_at, const char *) = here(cmd);
    APR_ARRAY_PUSH(conf->param_exprs, const os_identity_value *) = expr;
    return NULL;
}

/* OrderStreamSetting NAME VALUE|expr=EXPRESSION: a custom setting (the
 * name checked here, so that no config reaches PostgreSQL's own settings
 * this way), a UTF-8 literal or an expression. Given twice in a section,
 * the second replaces the first. */
static const char *set_setting(cmd_parms *cmd, void *dconf, const char *name,
                               const char *value)
{
    os_dir_conf *conf = dconf;
    os_param_decl text = {
        "value", OS_PARAM_TEXT, 0, NULL, 65536, NULL, NULL
    };
    os_identity_setting s = { name, NULL };
    const char *err = os_identity_setting_name_check(name, cmd->pool), *ok;
    int i;

    if (!err && !(s.value = os_identity_value_parse(cmd, value, &err))) {
        err = apr_psprintf(cmd->pool, "%s: %s", name, err);
    }
    if (!err && !os_identity_value_is_expr(s.value)
        && os_param_value(&text, value, &ok, cmd->pool)) {
        err = apr_psprintf(cmd->pool, "%s: the value is not UTF-8", name);
    }
    if (err) {
        return apr_pstrcat(cmd->pool, "OrderStreamSetting: ", err, NULL);
    }
    if (!conf->settings) {
        conf->settings =
            apr_array_make(cmd->pool, 2, sizeof(os_identity_setting));
    }
    for (i = 0; i < conf->settings->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(conf->settings, i, os_identity_setting).name,
                    name)) {
            APR_ARRAY_IDX(conf->settings, i, os_identity_setting) = s;
            return NULL;
        }
    }
    APR_ARRAY_PUSH(conf->settings, os_identity_setting) = s;
    return NULL;
}

/* OrderStreamRole ROLE|expr=EXPRESSION; a literal role is checked here as
 * an expression's value is per request (os_identity_role_check). */
static const char *set_role(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    const char *err = NULL;
    const os_identity_value *v = os_identity_value_parse(cmd, arg, &err);

    if (v && !os_identity_value_is_expr(v)) {
        err = os_identity_role_check(arg, cmd->pool);
    }
    if (err) {
        return apr_pstrcat(cmd->pool, "OrderStreamRole: ", err, NULL);
    }
    conf->role = v;
    return NULL;
}

/* OrderStreamTokenKey FILE: server config or virtual host only (RSRC_CONF:
 * a <Location> of its own would let whoever writes one section mint
 * tokens for another's exports); its sections inherit it. */
static const char *set_token_key(cmd_parms *cmd, void *dconf, const char *arg)
{
    return os_handoff_read_keys(cmd, arg, &((os_dir_conf *)dconf)->token_keys);
}

static const char *set_token(cmd_parms *cmd, void *dconf, int argc,
                             char *const argv[])
{
    return os_handoff_parse(cmd, argc, argv, &((os_dir_conf *)dconf)->token);
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
/* Sets *field to arg, a whole number from lo to hi, or says which directive
 * got what. */
static const char *set_int(cmd_parms *cmd, const char *arg, int lo, int hi,
                           int *field)
{
    char *end;
    apr_int64_t n;

    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || *end || n < lo || n > hi) {
        return apr_psprintf(cmd->pool,
                            "%s: \"%s\" is not a whole number from %d to %d",
                            cmd->cmd->name, arg, lo, hi);
    }
    *field = (int)n;
    return NULL;
}

/* UTF-8 (os_param_value checks it), no control characters, and none of
 * '"', '\\' or '/', which would break the header or name a path. strftime
 * conversions are expanded per request (os_handler.c). */
static const char *set_filename(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    os_param_decl text = {
        "OrderStreamFilename", OS_PARAM_TEXT, 0, NULL, 255, NULL, NULL
    };
    const char *c, *ok;

    if (!*arg) {
        return "OrderStreamFilename: the name is empty";
    }
    for (c = arg; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr("\"\\/", *c)) {
            return "OrderStreamFilename: use printable characters without "
                   "'\"', '\\' or '/'";
        }
    }
    if (os_param_value(&text, arg, &ok, cmd->pool) != NULL) {
        return "OrderStreamFilename: not UTF-8, or longer than 255 "
               "characters";
    }
    conf->filename = arg;
    return NULL;
}

/* The download page's words for an export (os_index.c): plain text, so
 * UTF-8 without control characters; any other character is fine, as the
 * page escapes it. The bounds keep a page of many exports readable: a
 * heading, and a paragraph under it. */
#define OS_TITLE_MAX 200
#define OS_DESCRIPTION_MAX 2000

static const char *page_text(cmd_parms *cmd, const char *arg, int max)
{
    const char *name = cmd->cmd->name, *ok, *c;
    os_param_decl text = { name, OS_PARAM_TEXT, 0, NULL, max, NULL, NULL };

    if (!*arg) {
        return apr_pstrcat(cmd->pool, name, ": the text is empty", NULL);
    }
    for (c = arg; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return apr_pstrcat(cmd->pool, name,
                               ": no control characters, please", NULL);
        }
    }
    if (os_param_value(&text, arg, &ok, cmd->pool) != NULL) {
        return apr_psprintf(cmd->pool,
                            "%s: not UTF-8, or longer than %d characters",
                            name, max);
    }
    return NULL;
}

static const char *set_title(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = page_text(cmd, arg, OS_TITLE_MAX);

    if (!err) {
        ((os_dir_conf *)dconf)->title = arg;
    }
    return err;
}

static const char *set_description(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    const char *err = page_text(cmd, arg, OS_DESCRIPTION_MAX);

    if (!err) {
        ((os_dir_conf *)dconf)->description = arg;
    }
    return err;
}

static const char *set_format(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_format f = os_format_by_name(arg);

    if (!f) {
        return apr_psprintf(cmd->pool,
                            "OrderStreamFormat: \"%s\" is not one of %s", arg,
                            os_format_list(OS_FMT_ALL, cmd->pool));
    }
    ((os_dir_conf *)dconf)->format = f;
    return NULL;
}

/* Adds the format called name to *mask, or says that who (a directive,
 * an option) got a name that is not a format. */
static const char *add_format(cmd_parms *cmd, const char *who,
                              const char *name, unsigned *mask)
{
    os_format f = os_format_by_name(name);

    if (!f) {
        return apr_psprintf(cmd->pool, "%s: \"%s\" is not one of %s", who,
                            name, os_format_list(OS_FMT_ALL, cmd->pool));
    }
    *mask |= f;
    return NULL;
}

static const char *set_formats(cmd_parms *cmd, void *dconf, int argc,
                               char *const argv[])
{
    unsigned mask = 0;
    const char *err;
    int i;

    if (argc < 1) {
        return apr_psprintf(cmd->pool,
                            "OrderStreamFormats: name one or more of %s",
                            os_format_list(OS_FMT_ALL, cmd->pool));
    }
    for (i = 0; i < argc; i++) {
        if ((err = add_format(cmd, "OrderStreamFormats", argv[i], &mask))) {
            return err;
        }
    }
    ((os_dir_conf *)dconf)->formats = mask;
    return NULL;
}

static const char *set_delimiter(cmd_parms *cmd, void *dconf, const char *arg)
{
    char d = !strcmp(arg, ",") ? ','
        : !strcmp(arg, ";")    ? ';'
        : !strcasecmp(arg, "tab") || !strcmp(arg, "\t") || !strcmp(arg, "\\t")
        ? '\t'
        : 0;

    if (!d) {
        return apr_psprintf(cmd->pool,
                            "OrderStreamDelimiter: \"%s\" is not \",\", "
                            "\";\" or tab",
                            arg);
    }
    ((os_dir_conf *)dconf)->delimiter = d;
    return NULL;
}

static const char *set_bom(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((os_dir_conf *)dconf)->bom = on;
    return NULL;
}

static const char *set_formula_guard(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((os_dir_conf *)dconf)->formula_guard = on;
    return NULL;
}

/* OrderStreamGroupBy N LABEL, or "off" (inherited grouping undone). The
 * count is checked against the columns per request, before the first
 * byte, as header labels are. */
static const char *set_group_by(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[])
{
    os_dir_conf *conf = dconf;
    const char *err;

    if (argc == 1 && !strcasecmp(argv[0], "off")) {
        conf->group_by = 0;
        conf->group_label = NULL;
        return NULL;
    }
    if (argc != 2 || !*argv[1]) {
        return "OrderStreamGroupBy: give the number of key columns and the "
               "label of the array, e.g. OrderStreamGroupBy 3 items; or off";
    }
    if ((err = set_int(cmd, argv[0], 1, 1599, &conf->group_by)) != NULL) {
        return err;
    }
    conf->group_label = argv[1];
    return NULL;
}

/* OrderStreamParallel N "SPLIT-SQL", or off: at most OS_SLICE_MAX slices
 * (os_slice.h says why). */
#define OS_PARALLEL_MAX OS_SLICE_MAX

/* OrderStreamParallel's formats=csv,tsv,...: which formats are read in
 * slices. */
static const char *parallel_formats(cmd_parms *cmd, const char *list,
                                    unsigned *mask)
{
    char *copy = apr_pstrdup(cmd->pool, list), *last, *name;
    const char *err;

    *mask = 0;
    for (name = apr_strtok(copy, ",", &last); name;
         name = apr_strtok(NULL, ",", &last)) {
        err = add_format(cmd, "OrderStreamParallel: formats=", name, mask);
        if (err) {
            return err;
        }
    }
    return *mask ? NULL : "OrderStreamParallel: formats= names no format";
}

/* The options after N and SPLIT-SQL: formats=LIST, alongside=K. */
static const char *parallel_options(cmd_parms *cmd, os_dir_conf *conf,
                                    int argc, char *const argv[])
{
    const char *err;
    int i;

    conf->parallel_formats = 0;
    conf->parallel_alongside = 0;
    for (i = 0; i < argc; i++) {
        if (!strncasecmp(argv[i], "formats=", 8)) {
            err = parallel_formats(cmd, argv[i] + 8, &conf->parallel_formats);
        }
        else if (!strncasecmp(argv[i], "alongside=", 10)) {
            err = set_int(cmd, argv[i] + 10, 0, 100000,
                          &conf->parallel_alongside);
        }
        else {
            err = apr_psprintf(cmd->pool,
                               "OrderStreamParallel: \"%s\" is not an "
                               "option (formats=LIST, alongside=K)",
                               argv[i]);
        }
        if (err) {
            return err;
        }
    }
    return NULL;
}

static const char *set_parallel(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[])
{
    os_dir_conf *conf = dconf;
    apr_array_header_t *found;
    const char *err, *split = argc > 1 ? argv[1] : NULL;
    char *sql, *end;

    if (argc == 1 && !strcasecmp(argv[0], "off")) {
        conf->parallel = 0;
        conf->split_sql = NULL;
        return NULL;
    }
    if (!split || !*split) {
        return "OrderStreamParallel: give the number of slices and the "
               "query of the leading sort key's values, e.g. "
               "OrderStreamParallel 2 \"SELECT id FROM shop_order\"; or off";
    }
    if ((err = set_int(cmd, argv[0], 2, OS_PARALLEL_MAX, &conf->parallel))
        != NULL) {
        return err;
    }
    if ((err = parallel_options(cmd, conf, argc - 2, argv + 2)) != NULL) {
        return err;
    }
    /* Run as it is inside the export's transaction: no parameters, the
     * same scanner as OrderStreamSQL's (strings, comments). */
    if ((err = os_sql_placeholders(split, &found, cmd->pool)) != NULL) {
        return apr_pstrcat(cmd->pool, "OrderStreamParallel: SPLIT-SQL: ", err,
                           NULL);
    }
    if (found->nelts) {
        return "OrderStreamParallel: SPLIT-SQL takes no $N parameters";
    }
    sql = apr_pstrdup(cmd->pool, split);
    end = sql + strlen(sql);
    while (end > sql && (apr_isspace(end[-1]) || end[-1] == ';')) {
        *--end = '\0';
    }
    conf->split_sql = sql;
    conf->parallel_at = here(cmd);
    return NULL;
}

static const char *set_max_group_rows(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    return set_int(cmd, arg, 1, OS_MAX_GROUP_ROWS,
                   &((os_dir_conf *)dconf)->max_group_rows);
}

static const char *set_sheet_rows(cmd_parms *cmd, void *dconf, const char *arg)
{
    return set_int(cmd, arg, 1, OS_XLSX_SHEET_ROWS_MAX,
                   &((os_dir_conf *)dconf)->sheet_rows);
}

static const char *set_xlsx_level(cmd_parms *cmd, void *dconf, const char *arg)
{
    return set_int(cmd, arg, 1, 9, &((os_dir_conf *)dconf)->xlsx_level);
}

static const char *set_xlsx_numbers(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    int *n = &((os_dir_conf *)dconf)->xlsx_numbers;

    (void)cmd;
    if (!strcasecmp(arg, "spreadsheet")) {
        *n = 1;
    }
    else if (!strcasecmp(arg, "exact")) {
        *n = 2;
    }
    else {
        return "OrderStreamXLSXNumbers: spreadsheet or exact";
    }
    return NULL;
}

static const char *set_fetch_rows(cmd_parms *cmd, void *dconf, const char *arg)
{
    return set_int(cmd, arg, 1, OS_MAX_FETCH_ROWS,
                   &((os_dir_conf *)dconf)->fetch_rows);
}

/* Up to 100000: far above any DBDMax a child can have. */
static const char *set_max_concurrent(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    return set_int(cmd, arg, 0, 100000,
                   &((os_dir_conf *)dconf)->max_concurrent);
}

/* At most a day: past that a client would rather be told to give up. */
static const char *set_retry_after(cmd_parms *cmd, void *dconf,
                                   const char *arg)
{
    return set_int(cmd, arg, 0, 86400, &((os_dir_conf *)dconf)->retry_after);
}

/* 0 is "no limit of its own", the default. */
static const char *set_max_limit(cmd_parms *cmd, void *dconf, const char *arg)
{
    return set_int(cmd, arg, 0, INT_MAX, &((os_dir_conf *)dconf)->max_limit);
}

static const char *set_status(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((os_dir_conf *)dconf)->status = on;
    return NULL;
}

static const char *set_preview(cmd_parms *cmd, void *dconf, int on)
{
    (void)cmd;
    ((os_dir_conf *)dconf)->preview = on;
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

/* A duration: a whole number with "ms", "s" or "min" (a bare number is
 * seconds), at most a day, longer than any sane wait here. */
static const char *parse_duration(cmd_parms *cmd, const char *arg,
                                  apr_interval_time_t *out)
{
    char *end;
    apr_int64_t n;

    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (errno || end == arg || n < 0 || n > 86400000) {
        goto bad;
    }
    if (!*end || !strcmp(end, "s")) {
        *out = apr_time_from_sec(n);
    }
    else if (!strcmp(end, "ms")) {
        *out = n * 1000;
    }
    else if (!strcmp(end, "min")) {
        *out = apr_time_from_sec(n * 60);
    }
    else {
        goto bad;
    }
    if (*out <= apr_time_from_sec(86400)) {
        return NULL;
    }
bad:
    return apr_psprintf(cmd->pool,
                        "%s: \"%s\" is not a duration such as 500ms, 30s or "
                        "5min (at most a day)",
                        cmd->cmd->name, arg);
}

static const char *set_stmt_timeout(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    return parse_duration(cmd, arg, &((os_dir_conf *)dconf)->stmt_timeout);
}

static const char *set_acquire_timeout(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    return parse_duration(cmd, arg, &((os_dir_conf *)dconf)->acquire_timeout);
}

/* A size: a whole number of bytes, or of K, M, G or T (1024-based), from lo
 * to hi bytes. */
static const char *parse_size(cmd_parms *cmd, const char *arg, apr_int64_t lo,
                              apr_int64_t hi, apr_int64_t *out)
{
    static const char units[] = "KMGT";
    const char *u;
    char *end;
    apr_int64_t n;
    int shift = 0;

    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (*end && !end[1] && (u = strchr(units, apr_toupper(*end)))) {
        shift = 10 * (int)(u - units + 1);
        end++;
    }
    if (errno || end == arg || *end || n < 0 || n > (hi >> shift)) {
        return apr_psprintf(cmd->pool,
                            "%s: \"%s\" is not a size such as 512K, 128M "
                            "or 1G from %" APR_INT64_T_FMT
                            " to %" APR_INT64_T_FMT " bytes",
                            cmd->cmd->name, arg, lo, hi);
    }
    n <<= shift;
    if (n < lo) {
        return apr_psprintf(
            cmd->pool, "%s: \"%s\" is less than %" APR_INT64_T_FMT " bytes",
            cmd->cmd->name, arg, lo);
    }
    *out = n;
    return NULL;
}

/* At least two pieces of output (os_spool.c); at most a terabyte. */
#define OS_SPOOL_MIN ((apr_int64_t)64 * 1024)
#define OS_SPOOL_MAX ((apr_int64_t)1024 * 1024 * 1024 * 1024)

static const char *set_spool(cmd_parms *cmd, void *dconf, const char *arg)
{
    os_dir_conf *conf = dconf;
    apr_int64_t n;
    const char *err;

    if (!strcasecmp(arg, "off")) {
        conf->spool = 0;
        return NULL;
    }
    err = parse_size(cmd, arg, OS_SPOOL_MIN, OS_SPOOL_MAX, &n);
    if (!err) {
        conf->spool = (apr_off_t)n;
    }
    return err;
}

/* An absolute path to a directory that exists now (whether httpd's
 * children may write there shows only at run time, and is logged). */
static const char *set_spool_dir(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_finfo_t fi;

    if (*arg != '/' || apr_stat(&fi, arg, APR_FINFO_TYPE, cmd->temp_pool)
        || fi.filetype != APR_DIR) {
        return apr_psprintf(cmd->pool,
                            "OrderStreamSpoolDir: \"%s\" is not the "
                            "absolute path of a directory",
                            arg);
    }
    ((os_dir_conf *)dconf)->spool_dir = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* BYTES per second, K or M allowed, at most a GB; the window in whole
 * seconds, up to an hour. */
static const char *set_min_rate(cmd_parms *cmd, void *dconf, const char *arg,
                                const char *secs)
{
    os_dir_conf *conf = dconf;
    const char *err;
    apr_int64_t n;
    int s = 60;

    if (!strcasecmp(arg, "off") && !secs) {
        conf->min_rate = 0;
        conf->min_rate_window = 0;
        return NULL;
    }
    err = parse_size(cmd, arg, 1, (apr_int64_t)1024 * 1024 * 1024, &n);
    if (!err && secs) {
        err = set_int(cmd, secs, 1, 3600, &s);
    }
    if (!err) {
        conf->min_rate = n;
        conf->min_rate_window = apr_time_from_sec(s);
    }
    return err;
}

static const char *set_max_duration(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    if (!strcasecmp(arg, "off")) {
        ((os_dir_conf *)dconf)->max_duration = 0;
        return NULL;
    }
    return parse_duration(cmd, arg, &((os_dir_conf *)dconf)->max_duration);
}

#define OS_CONTEXT (RSRC_CONF | ACCESS_CONF)

const command_rec os_config_cmds[] = {
    AP_INIT_TAKE1("OrderStreamSQL", set_sql, NULL, OS_CONTEXT,
                  "the SELECT whose rows the export streams; again for a "
                  "chain whose rows follow each other"),
    AP_INIT_TAKE_ARGV("OrderStreamParam", set_param, NULL, OS_CONTEXT,
                      "NAME TYPE [required | default=VALUE] [maxlength=N] "
                      "[expr=EXPRESSION]: a parameter bound to $N, N its "
                      "rank, from the query string or the expression"),
    AP_INIT_TAKE2("OrderStreamSetting", set_setting, NULL, OS_CONTEXT,
                  "NAME VALUE|expr=EXPRESSION: set_config(NAME, value, "
                  "true) in the export's transaction; NAME a custom "
                  "setting such as shop.customer"),
    AP_INIT_TAKE1("OrderStreamTokenKey", set_token_key, NULL, RSRC_CONF,
                  "FILE: the keys of Django-signed tokens, one a line"),
    AP_INIT_TAKE_ARGV("OrderStreamToken", set_token, NULL, OS_CONTEXT,
                      "salt=SALT max-age=DURATION [param=NAME]: every "
                      "request needs a Django-signed token"),
    AP_INIT_TAKE1("OrderStreamRole", set_role, NULL, OS_CONTEXT,
                  "ROLE|expr=EXPRESSION: the role the export's queries run "
                  "as (SET LOCAL ROLE)"),
    AP_INIT_RAW_ARGS("OrderStreamHeader", set_header, NULL, OS_CONTEXT,
                     "header row labels, or \"off\"; default: column names"),
    AP_INIT_TAKE1("OrderStreamFilename", set_filename, NULL, OS_CONTEXT,
                  "file name offered in Content-Disposition"),
    AP_INIT_TAKE1("OrderStreamTitle", set_title, NULL, OS_CONTEXT,
                  "the export's heading on the download page, plain text"),
    AP_INIT_TAKE1("OrderStreamDescription", set_description, NULL, OS_CONTEXT,
                  "what the export holds, under its heading on the "
                  "download page, plain text"),
    AP_INIT_TAKE1("OrderStreamFetchRows", set_fetch_rows, NULL, OS_CONTEXT,
                  "rows per FETCH, 1 to 1000000; default 1000"),
    AP_INIT_TAKE1("OrderStreamLineEnding", set_line_ending, NULL, OS_CONTEXT,
                  "CRLF (default) or LF"),
    AP_INIT_TAKE1("OrderStreamStatementTimeout", set_stmt_timeout, NULL,
                  OS_CONTEXT,
                  "SET LOCAL statement_timeout for the export's queries; "
                  "default: the database's setting"),
    AP_INIT_TAKE1("OrderStreamMaxConcurrent", set_max_concurrent, NULL,
                  OS_CONTEXT,
                  "exports running at once per child and virtual host "
                  "before 503; default 0 (DBDMax alone limits them)"),
    AP_INIT_TAKE1("OrderStreamAcquireTimeout", set_acquire_timeout, NULL,
                  OS_CONTEXT,
                  "how long to wait for a pooled connection; default 10s"),
    AP_INIT_TAKE1("OrderStreamMaxLimit", set_max_limit, NULL, OS_CONTEXT,
                  "largest ?limit= a client may ask for; default 0 (any)"),
    AP_INIT_FLAG("OrderStreamPreview", set_preview, NULL, OS_CONTEXT,
                 "accept ?offset= and ?limit= (default On)"),
    AP_INIT_TAKE1("OrderStreamRetryAfter", set_retry_after, NULL, OS_CONTEXT,
                  "Retry-After seconds sent with a 503; default 5"),
    AP_INIT_TAKE1("OrderStreamFormat", set_format, NULL, OS_CONTEXT,
                  "csv, tsv, ndjson or xlsx: the format when the request "
                  "asks for none; default csv"),
    AP_INIT_TAKE_ARGV("OrderStreamFormats", set_formats, NULL, OS_CONTEXT,
                      "the formats ?format= or Accept may choose; default "
                      "csv tsv ndjson xlsx"),
    AP_INIT_TAKE1("OrderStreamSheetRows", set_sheet_rows, NULL, OS_CONTEXT,
                  "XLSX: data rows per sheet before a new one starts; "
                  "default and at most 1048575"),
    AP_INIT_TAKE1("OrderStreamXLSXLevel", set_xlsx_level, NULL, OS_CONTEXT,
                  "XLSX: deflate level, 1 (fastest, default) to 9 "
                  "(smallest)"),
    AP_INIT_TAKE1("OrderStreamXLSXNumbers", set_xlsx_numbers, NULL, OS_CONTEXT,
                  "XLSX: spreadsheet (default: real, double and numeric "
                  "without a scale as numbers) or exact (15 digits or "
                  "text)"),
    AP_INIT_TAKE1("OrderStreamDelimiter", set_delimiter, NULL, OS_CONTEXT,
                  "CSV field delimiter: \",\" (default), \";\" or tab"),
    AP_INIT_FLAG("OrderStreamBOM", set_bom, NULL, OS_CONTEXT,
                 "CSV: a UTF-8 byte order mark first (default Off)"),
    AP_INIT_FLAG("OrderStreamFormulaGuard", set_formula_guard, NULL,
                 OS_CONTEXT,
                 "CSV: a ' before text cells that start with = + - @ tab "
                 "or CR (default Off)"),
    AP_INIT_TAKE_ARGV("OrderStreamGroupBy", set_group_by, NULL, OS_CONTEXT,
                      "N LABEL: NDJSON rows sharing their first N columns "
                      "fold into one object, the rest under LABEL; or off"),
    AP_INIT_TAKE_ARGV("OrderStreamParallel", set_parallel, NULL, OS_CONTEXT,
                      "N SPLIT-SQL [formats=LIST] [alongside=K]: the export "
                      "read by N connections in one snapshot, cut at "
                      "quantiles of SPLIT-SQL's values of the first column; "
                      "or off"),
    AP_INIT_TAKE1("OrderStreamMaxGroupRows", set_max_group_rows, NULL,
                  OS_CONTEXT,
                  "rows one OrderStreamGroupBy group may hold before the "
                  "export fails; default 10000"),
    AP_INIT_FLAG("OrderStreamStatus", set_status, NULL, OS_CONTEXT,
                 "show the exports in mod_status and orderstream-metrics "
                 "and count them (default On)"),
    AP_INIT_TAKE1("OrderStreamSpool", set_spool, NULL, OS_CONTEXT,
                  "SIZE (K, M, G, T) or off: what a slow client has not "
                  "taken yet goes to a temporary file up to SIZE; default "
                  "128M"),
    AP_INIT_TAKE1("OrderStreamSpoolDir", set_spool_dir, NULL, OS_CONTEXT,
                  "directory of the spool files; default httpd's "
                  "temporary directory"),
    AP_INIT_TAKE12("OrderStreamMinRate", set_min_rate, NULL, OS_CONTEXT,
                   "BYTES [SECONDS] or off: cut a client that takes less "
                   "than BYTES per second over SECONDS of waiting for it; "
                   "default 1K 60"),
    AP_INIT_TAKE1("OrderStreamMaxDuration", set_max_duration, NULL, OS_CONTEXT,
                  "how long an export may hold its database connection, or "
                  "off; default 30min"),
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

/* One section's queries against its parameters; returns the number of
 * mistakes, each logged with where it is. */
static int check_section(const os_dir_conf *conf, apr_pool_t *p)
{
    int nparams = conf->params->nelts, bad = 0, q, i;
    char *used = apr_pcalloc(p, (apr_size_t)nparams + 1);

    if (conf->sql->nelts == 0) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     OSLOGNO(00003) "OrderStreamParam: at %s, in a section "
                                    "without OrderStreamSQL; declare "
                                    "parameters beside the query that "
                                    "binds them",
                     APR_ARRAY_IDX(conf->params_at, 0, const char *));
        return 1;
    }
    if (conf->parallel > 1 && conf->sql->nelts > 1) {
        /* A chain's queries have no common sort key to cut at. */
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     OSLOGNO(00450) "OrderStreamParallel: at %s, in a section "
                                    "with %d OrderStreamSQL (a chain); only "
                                    "one query can be read in slices",
                     conf->parallel_at ? conf->parallel_at : "?",
                     conf->sql->nelts);
        bad++;
    }
    else if (conf->parallel > 1) {
        /* The slices, one after the other, are the serial result only
         * when it is sorted by its first column first (os_slice.c); what
         * the scanner cannot read for sure is refused, as a wrong order
         * would be a wrong download that looks right. */
        const char *why =
            os_sql_leading_key(APR_ARRAY_IDX(conf->sql, 0, const char *), p);
        if (why) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                         OSLOGNO(00453) "OrderStreamParallel: at %s: the "
                                        "query's ORDER BY must start with "
                                        "its first column, ascending, "
                                        "NULLs last: %s",
                         conf->parallel_at ? conf->parallel_at : "?", why);
            bad++;
        }
    }
    for (q = 0; q < conf->sql->nelts; q++) {
        const char *at = APR_ARRAY_IDX(conf->sql_at, q, const char *);
        apr_array_header_t *found;
        const char *err = os_sql_placeholders(
            APR_ARRAY_IDX(conf->sql, q, const char *), &found, p);
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                         OSLOGNO(00004) "OrderStreamSQL: at %s: %s", at, err);
            bad++;
            continue;
        }
        for (i = 0; i < found->nelts; i++) {
            int n = APR_ARRAY_IDX(found, i, int);
            if (n <= nparams) {
                used[n - 1] = 1;
                continue;
            }
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                         OSLOGNO(00005) "OrderStreamSQL: at %s uses $%d, but "
                                        "the section declares %d "
                                        "OrderStreamParam",
                         at, n, nparams);
            bad++;
        }
    }
    for (i = 0; i < nparams; i++) {
        if (!used[i]) {
            ap_log_error(
                APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                OSLOGNO(00006) "OrderStreamParam: %s at %s is $%d, which no "
                               "OrderStreamSQL of the section uses",
                APR_ARRAY_IDX(conf->params, i, os_param_decl).name,
                APR_ARRAY_IDX(conf->params_at, i, const char *), i + 1);
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

/* A section with OrderStreamToken whose server (or the main server) has
 * no OrderStreamTokenKey could only answer 500. */
static int check_token_key(const os_dir_conf *conf, server_rec *main)
{
    server_rec *s[2] = { conf->server, main };
    const os_dir_conf *d;
    int i;

    if (!conf->token || conf->token_keys) {
        return 0;
    }
    for (i = 0; i < 2; i++) {
        d = s[i]
            ? ap_get_module_config(s[i]->lookup_defaults, &orderstream_module)
            : NULL;
        if (d && d->token_keys) {
            return 0;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                 OSLOGNO(00402) "%s: OrderStreamToken: no "
                                "OrderStreamTokenKey in this server or "
                                "virtual host",
                 conf->location);
    return 1;
}

int os_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s)
{
    int bad, i;

    (void)pconf;
    (void)plog;
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
    bad = check_level(ap_conftree, 0, ptemp);
    for (i = 0; os_sections && i < os_sections->nelts; i++) {
        const os_dir_conf *c = APR_ARRAY_IDX(os_sections, i, os_dir_conf *);
        bad += check_section(c, ptemp);
        bad += check_token_key(c, s);
    }
    if (bad) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    os_limit_read_dbd(s);
    return OK;
}
