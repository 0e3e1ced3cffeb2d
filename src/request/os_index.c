/* os_index.c: the download page, "SetHandler orderstream-index".
 *
 * Lists the exports of the virtual host the page belongs to, each with its
 * URL, its formats and a form whose fields are its OrderStreamParams, so
 * that a person finds an export and fills it in from a browser; the form
 * is a plain GET to the export. ?format=json gives the same list to a
 * script.
 *
 * What is listed comes from two places, on purpose:
 *  - os_config_export_paths: the literal <Location>s of this virtual host
 *    that give OrderStreamSQL, in config order. A <LocationMatch> has no
 *    one URL to link to;
 *  - one subrequest per path (ap_sub_req_lookup_uri), which merges the
 *    configuration exactly as a request to that URL would, so the page
 *    shows what the export will do (with what it inherits from enclosing
 *    sections), and runs access control: an export the client may not
 *    download is left out rather than shown with a form that answers 403.
 *    It is a lookup only: no query runs. An
 *    export whose values come from the request (os_identity.c) is listed
 *    only when the subrequest resolves them: a required one present, each
 *    of its type, a role that could be asked for; such parameters get no
 *    field, as the query string may not name them. The page then depends
 *    on who asks, as the export does: Cache-Control: private, and Vary.
 * The merged config lives in the subrequest's pool, so each export is
 * rendered before its subrequest is destroyed.
 *
 * Each export shows its OrderStreamTitle and OrderStreamDescription, and
 * the columns of its file as the database describes its first query
 * (os_describe.c: described once per child, never run, never with the
 * visitor's values). When the database cannot say, the page is still
 * served, saying so where the columns would be: finding a download
 * should not depend on the database being up.
 *
 * The page is plain HTML with a few lines of inline CSS: no script, no
 * external resource, so it works with JavaScript off and on a network
 * with no way out. Every value from the config is escaped for where it
 * goes: HTML (ap_escape_html2), JSON (os_json_string), URL (ap_escape_uri).
 *
 * Layer request: may call its own layer and base, db, deliver, render, export,
 * operate.
 */
#include "os_private.h"

#include <apr_strings.h>
#include <ap_expr.h>
#include <http_config.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>

#include "os_config.h"
#include "os_describe.h"
#include "os_format.h"
#include "os_handler.h"
#include "os_identity.h"
#include "os_index.h"
#include "os_params.h"

/* What the page may load and do, enforced by the browser as well as by
 * construction: its inline CSS and forms to this site, nothing else. A
 * config value that slipped through the escaping still could not run a
 * script or reach another site. */
#define OS_INDEX_CSP                                                          \
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "     \
    "base-uri 'none'"

/* How each OrderStreamParam type is named (as the directive spells it, for
 * the JSON) and asked for in the form. The browser's own widgets send what
 * the module accepts: a date input YYYY-MM-DD, datetime-local
 * YYYY-MM-DDTHH:MM (a time without an offset is UTC to the module), a
 * number input digits. bool is a select (html_bool) rather than a
 * checkbox, as "not given" differs from false. */
typedef struct os_index_kind {
    const char *input; /* the input's type attribute; NULL: a select */
    const char *step;  /* number inputs: "1" whole, "any" decimal */
    /* The hint under the label; NULL: the accepted form (os_param_form).
     * A date widget shows the date in the reader's locale, so the wire
     * form YYYY-MM-DD would only confuse there (it stays in the title). */
    const char *hint;
} os_index_kind;

static const os_index_kind kinds[] = {
    [OS_PARAM_INT] = { "number", "1", NULL },
    [OS_PARAM_NUMERIC] = { "number", "any", NULL },
    [OS_PARAM_DATE] = { "date", NULL, "a date" },
    [OS_PARAM_TIMESTAMPTZ] = { "datetime-local", NULL,
                               "a date and time, UTC" },
    [OS_PARAM_BOOL] = { NULL, NULL, NULL },
    [OS_PARAM_TEXT] = { "text", NULL, NULL },
};

/* The page being written. Its buckets pile up in bb until it is passed
 * whole: the page is as big as the config (a few hundred bytes per
 * export), and a whole body gets a Content-Length. */
typedef struct os_index {
    request_rec *r;
    apr_bucket_brigade *bb;
    int n;             /* exports listed so far */
    os_describe *desc; /* the columns (os_describe.c) */
} os_index;

/* What the page says of an export's columns. */
typedef struct os_index_cols {
    int n;
    const os_column *cols;
    const char *const *labels; /* OrderStreamHeader's, per column; NULL */
    const char *note;          /* why none, or what is wrong; NULL */
} os_index_cols;

typedef void os_index_render(os_index *ix, const char *path, const char *url,
                             const os_dir_conf *conf);

static void put(os_index *ix, const char *s)
{
    apr_brigade_puts(ix->bb, NULL, NULL, s);
}

static void putf(os_index *ix, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(os_index *ix, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    apr_brigade_vprintf(ix->bb, NULL, NULL, fmt, ap);
    va_end(ap);
}

/* s for HTML text or a double-quoted attribute. */
static const char *h(apr_pool_t *p, const char *s)
{
    return ap_escape_html2(p, s, 0);
}

/* s as a JSON string with its quotes; null for NULL. */
static const char *js(apr_pool_t *p, const char *s)
{
    apr_size_t len;
    char *out;

    if (!s) {
        return "null";
    }
    len = strlen(s);
    out = apr_palloc(p, OS_JSON_STRING_MAX(len) + 1);
    out[os_json_string(out, s, len)] = '\0';
    return out;
}

/* ---- which exports ------------------------------------------------------ */

/* Whether a request to the export's URL would reach it: the subrequest
 * found the orderstream handler and a query, and access control let it
 * through (a 401 or 403 leaves its status). */
static int listable(request_rec *sub, const os_dir_conf *conf)
{
    return sub->status == HTTP_OK && sub->handler
        && !strcasecmp(sub->handler, OS_HANDLER) && conf
        && os_config_has_sql(conf);
}

/* For an export with request-bound values: whether they resolve for this
 * visitor (as far as the page can tell without the database: a role is
 * only tried when the export runs). The page says it depends on who asks
 * whether the export is listed or not. */
static int runnable(os_index *ix, request_rec *sub, const os_dir_conf *conf)
{
    os_identity_spec spec;
    os_identity *id;
    const char *msg;
    int status;

    if (!conf) {
        return 1;
    }
    os_config_identity(conf, &spec);
    if (!os_identity_bound(&spec)) {
        return 1;
    }
    os_identity_private(ix->r, &spec);
    if (!listable(sub, conf)) {
        return 0;
    }
    status = os_identity_resolve(sub, &spec, NULL, &id, &msg);
    os_identity_headers(ix->r, id);
    return status == OK;
}

/* Renders each export of r's virtual host a client could download, in
 * config order. */
static void each_export(os_index *ix, os_index_render *render)
{
    request_rec *r = ix->r;
    apr_array_header_t *paths = os_config_export_paths(r->server, r->pool);
    int i;

    for (i = 0; i < paths->nelts; i++) {
        const char *path = APR_ARRAY_IDX(paths, i, const char *);
        /* The subrequest, like a client, sends the URL escaped. */
        const char *url = ap_escape_uri(r->pool, path);
        request_rec *sub = ap_sub_req_lookup_uri(url, r, NULL);
        const os_dir_conf *conf =
            ap_get_module_config(sub->per_dir_config, &orderstream_module);

        if (runnable(ix, sub, conf) && listable(sub, conf)) {
            render(ix, path, url, conf);
            ix->n++;
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                          OSLOGNO(00101) "%s: %s left out of the page "
                                         "(status %d, handler %s)",
                          r->uri, path, sub->status,
                          sub->handler ? sub->handler : "none");
        }
        ap_destroy_sub_req(sub);
    }
}

/* ---- columns ------------------------------------------------------------ */

/* Why the page shows no columns, in the words a visitor reads. */
static const char *const no_columns[] = {
    [OS_DESCRIBE_UNREACHABLE] = "the database cannot be reached just now",
    [OS_DESCRIBE_BUSY] = "every database connection is busy just now",
    [OS_DESCRIBE_FAILED] = "the database could not describe the query",
};

/* The columns of the export and their header labels, when OrderStreamHeader
 * gives labels for exactly these columns (a count that differs makes the
 * export fail, which the note says). */
static void columns(os_index *ix, const os_dir_conf *conf, os_index_cols *c)
{
    os_describe_got got = os_describe_columns(ix->desc, conf, &c->n, &c->cols);

    c->labels = NULL;
    c->note = got == OS_DESCRIBED ? NULL : no_columns[got];
    if (got != OS_DESCRIBED
        || os_config_header_mode(conf) != OS_HEADER_LABELS) {
        return;
    }
    if (conf->labels->nelts == c->n) {
        c->labels = (const char *const *)conf->labels->elts;
        return;
    }
    c->note = apr_psprintf(ix->r->pool,
                           "OrderStreamHeader gives %d labels for these %d "
                           "columns: the export fails until they agree",
                           conf->labels->nelts, c->n);
}

/* ---- HTML --------------------------------------------------------------- */

/* Readable without a stylesheet; these few lines only lay the fields of
 * a form out in a row and mark what is required. */
static const char html_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\">\n"
    "<title>Downloads</title>\n<style>\n"
    "body{font:15px/1.45 system-ui,sans-serif;color:#222;max-width:60em;"
    "margin:1.5em auto;padding:0 1em}\n"
    "section{border:1px solid #ccd;border-radius:6px;padding:.2em 1em .8em;"
    "margin:1em 0}\n"
    "h2{font-size:1.1em;margin:.5em 0 .2em}\n"
    ".url{margin:0 0 .3em;font-size:.85em}\n"
    ".desc{margin:0 0 .4em}\n"
    ".about{margin:0 0 .6em;color:#555}\n"
    ".cols{list-style:none;padding:0;margin:.7em 0 0;font-size:.85em;"
    "color:#444}\n"
    ".cols li{display:inline-block;margin:0 1.1em .15em 0}\n"
    ".cols::before{content:\"Columns: \";color:#666}\n"
    ".cols .label{font-weight:600}\n"
    ".cols .type{color:#777}\n"
    ".nocols{margin:.7em 0 0;font-size:.85em;color:#777}\n"
    "label{display:inline-flex;flex-direction:column;vertical-align:top;"
    "margin:0 1em .6em 0}\n"
    "label small{color:#666;max-width:16em}\n"
    ".req{color:#b00;font-style:normal;font-size:.85em}\n"
    "input,select,button{font:inherit}\n"
    "input[type=number]{width:8em}\n"
    "button{padding:.2em 1.2em}\n"
    "label~button{margin-top:1.4em}\n"
    "</style>\n</head>\n<body>\n<h1>Downloads</h1>\n"
    "<p>Fill in what you need and press <em>Download</em>; a field left "
    "empty counts as not given. Fields marked <em class=\"req\">required</em> "
    "must be filled in. The same list as "
    "<a href=\"?format=json\">JSON</a>.</p>\n";

static void html_about(os_index *ix, const os_dir_conf *conf,
                       const os_params_rules *rules)
{
    apr_pool_t *p = ix->r->pool;
    unsigned mask = os_config_formats(conf);
    os_format dflt = os_config_format(conf);
    const char *sep = " ";
    os_format f;

    put(ix, "<p class=\"about\">Formats:");
    for (f = OS_FMT_FIRST; f <= OS_FMT_LAST; f <<= 1) {
        if (mask & f) {
            putf(ix, "%s%s%s", sep, os_format_name(f),
                 f == dflt ? " (default)" : "");
            sep = ", ";
        }
    }
    if (conf->filename) {
        /* the name a download now gets, in the default format */
        putf(ix, ". Saved as <code>%s</code>",
             h(p,
               os_format_file_name(conf->filename, os_config_format(conf),
                                   ix->r->request_time, p)));
    }
    put(ix, rules->preview ? ". Previews: offset and limit" : "");
    if (rules->preview && rules->max_limit) {
        putf(ix, " up to %" APR_INT64_T_FMT, rules->max_limit);
    }
    put(ix, ".</p>\n");
}

/* The label of a field: its name, "required", and the form it takes. */
static void html_label(os_index *ix, const char *name, int required,
                       const char *hint)
{
    apr_pool_t *p = ix->r->pool;

    putf(ix, "<label><span>%s%s</span>\n", h(p, name),
         required ? " <em class=\"req\">required</em>" : "");
    putf(ix, "<small>%s</small>\n", h(p, hint));
}

/* bool: "not given" (or the default), true or false. A required one
 * starts on an empty choice that "required" refuses to submit. */
static void html_bool(os_index *ix, const os_param_decl *d)
{
    apr_pool_t *p = ix->r->pool;
    const char *none = d->required ? "choose"
        : d->dflt                  ? apr_pstrcat(p, "default: ", d->dflt, NULL)
                                   : "not given";

    putf(ix, "<select name=\"%s\"%s>", h(p, d->name),
         d->required ? " required" : "");
    putf(ix, "<option value=\"\">%s</option>", h(p, none));
    put(ix, "<option>true</option><option>false</option></select>\n");
}

static void html_input(os_index *ix, const os_param_decl *d,
                       const os_index_kind *k, const char *form)
{
    apr_pool_t *p = ix->r->pool;

    putf(ix, "<input type=\"%s\" name=\"%s\" title=\"%s\"", k->input,
         h(p, d->name), h(p, form));
    if (k->step) {
        putf(ix, " step=\"%s\"", k->step);
    }
    if (d->maxlength) {
        putf(ix, " maxlength=\"%d\"", d->maxlength);
    }
    /* Date widgets show no placeholder; the hint says the default. */
    if (d->dflt && (!strcmp(k->input, "text") || k->step)) {
        putf(ix, " placeholder=\"%s\"", h(p, d->dflt));
    }
    put(ix, d->required ? " required>\n" : ">\n");
}

static void html_param(os_index *ix, const os_param_decl *d)
{
    apr_pool_t *p = ix->r->pool;
    const os_index_kind *k = &kinds[d->type];
    const char *form = os_param_form(d, p);
    const char *hint = k->hint ? k->hint : form;

    if (d->type == OS_PARAM_TEXT) {
        hint = apr_psprintf(p, "text, at most %d characters", d->maxlength);
    }
    if (d->dflt) {
        hint = apr_pstrcat(p, hint, "; default ", d->dflt, NULL);
    }
    html_label(ix, d->name, d->required, hint);
    if (k->input) {
        html_input(ix, d, k, form);
    }
    else {
        html_bool(ix, d);
    }
    put(ix, "</label>\n");
}

/* offset and limit, as the export checks them: whole numbers from 0, the
 * limit at most OrderStreamMaxLimit. */
static void html_preview(os_index *ix, const os_params_rules *rules)
{
    html_label(ix, "offset", 0, "rows to skip");
    put(ix,
        "<input type=\"number\" name=\"offset\" min=\"0\" step=\"1\" "
        "title=\"a whole number of rows\">\n</label>\n");
    html_label(ix, "limit", 0, "rows at most");
    put(ix,
        "<input type=\"number\" name=\"limit\" min=\"0\" step=\"1\" "
        "title=\"a whole number of rows\"");
    if (rules->max_limit) {
        putf(ix, " max=\"%" APR_INT64_T_FMT "\"", rules->max_limit);
    }
    put(ix, ">\n</label>\n");
}

/* A choice only when there is one; the export's default comes selected,
 * so the form always names a format (the same file either way). */
static void html_format(os_index *ix, const os_dir_conf *conf)
{
    unsigned mask = os_config_formats(conf);
    os_format dflt = os_config_format(conf), f;

    if (!(mask & (mask - 1))) {
        return; /* one format */
    }
    html_label(ix, "format", 0, "the file's format");
    put(ix, "<select name=\"format\">");
    for (f = OS_FMT_FIRST; f <= OS_FMT_LAST; f <<= 1) {
        if (mask & f) {
            const char *name = os_format_name(f);
            putf(ix, "<option value=\"%s\"%s>%s</option>", name,
                 f == dflt ? " selected" : "", name);
        }
    }
    put(ix, "</select>\n</label>\n");
}

/* The heading: the title with the URL under it, smaller, as the link; or
 * the URL as the heading. Then the description. */
static void html_heading(os_index *ix, const char *path, const char *href,
                         const os_dir_conf *conf)
{
    apr_pool_t *p = ix->r->pool;

    if (conf->title) {
        putf(ix, "<h2>%s</h2>\n<p class=\"url\"><a href=\"%s\">%s</a></p>\n",
             h(p, conf->title), href, h(p, path));
    }
    else {
        putf(ix, "<h2><a href=\"%s\">%s</a></h2>\n", href, h(p, path));
    }
    if (conf->description) {
        putf(ix, "<p class=\"desc\">%s</p>\n", h(p, conf->description));
    }
}

/* The columns under the form, one line of name and type each: the
 * header's label first where OrderStreamHeader renames the column. */
static void html_columns(os_index *ix, const os_dir_conf *conf)
{
    apr_pool_t *p = ix->r->pool;
    os_index_cols c;
    int i;

    columns(ix, conf, &c);
    if (c.cols) {
        put(ix, "<ul class=\"cols\" title=\"the columns of the file\">\n");
    }
    for (i = 0; c.cols && i < c.n; i++) {
        const char *label = c.labels ? c.labels[i] : NULL;
        put(ix, "<li>");
        if (label && strcmp(label, c.cols[i].name)) {
            putf(ix, "<span class=\"label\">%s</span> ", h(p, label));
        }
        putf(ix, "<code>%s</code> <span class=\"type\">%s</span></li>\n",
             h(p, c.cols[i].name), h(p, c.cols[i].type));
    }
    if (c.cols) {
        put(ix, "</ul>\n");
    }
    if (c.note) {
        putf(ix, "<p class=\"nocols\">%s: %s.</p>\n",
             c.cols ? "Note" : "Columns not shown", h(p, c.note));
    }
}

static void html_export(os_index *ix, const char *path, const char *url,
                        const os_dir_conf *conf)
{
    apr_pool_t *p = ix->r->pool;
    const char *href = h(p, url);
    os_params_rules rules;
    int i;

    os_config_params_rules(conf, &rules);
    put(ix, "<section>\n");
    html_heading(ix, path, href, conf);
    html_about(ix, conf, &rules);
    putf(ix, "<form method=\"get\" action=\"%s\">\n", href);
    for (i = 0; conf->params && i < conf->params->nelts; i++) {
        const os_param_decl *d =
            &APR_ARRAY_IDX(conf->params, i, os_param_decl);
        if (!d->expr) { /* the server's own: no field */
            html_param(ix, d);
        }
    }
    if (rules.preview) {
        html_preview(ix, &rules);
    }
    html_format(ix, conf);
    put(ix, "<button type=\"submit\">Download</button>\n</form>\n");
    html_columns(ix, conf);
    put(ix, "</section>\n");
}

static void html_page(os_index *ix)
{
    put(ix, html_head);
    each_export(ix, html_export);
    if (!ix->n) {
        put(ix, "<p>No export is configured here.</p>\n");
    }
    put(ix, "</body>\n</html>\n");
}

/* ---- JSON --------------------------------------------------------------- */

static void json_param(os_index *ix, const os_param_decl *d)
{
    apr_pool_t *p = ix->r->pool;

    putf(ix,
         "{\"name\":%s,\"type\":\"%s\",\"required\":%s,\"default\":%s,"
         "\"maxlength\":%s,\"form\":%s}",
         js(p, d->name), os_param_type_name(d->type),
         d->required ? "true" : "false", js(p, d->dflt),
         d->maxlength ? apr_itoa(p, d->maxlength) : "null",
         js(p, os_param_form(d, p)));
}

static void json_formats(os_index *ix, const os_dir_conf *conf)
{
    unsigned mask = os_config_formats(conf);
    const char *sep = "";
    os_format f;

    put(ix, "\"formats\":[");
    for (f = OS_FMT_FIRST; f <= OS_FMT_LAST; f <<= 1) {
        if (mask & f) {
            putf(ix, "%s\"%s\"", sep, os_format_name(f));
            sep = ",";
        }
    }
    putf(ix, "],\"default_format\":\"%s\",",
         os_format_name(os_config_format(conf)));
}

/* "columns": [{name, type, label}...] (null when unknown, and
 * "columns_note" says why). */
static void json_columns(os_index *ix, const os_dir_conf *conf)
{
    apr_pool_t *p = ix->r->pool;
    os_index_cols c;
    int i;

    columns(ix, conf, &c);
    put(ix, c.cols ? ",\"columns\":[" : ",\"columns\":null");
    for (i = 0; c.cols && i < c.n; i++) {
        putf(ix, "%s{\"name\":%s,\"type\":%s,\"label\":%s}", i ? "," : "",
             js(p, c.cols[i].name), js(p, c.cols[i].type),
             js(p, c.labels ? c.labels[i] : NULL));
    }
    putf(ix, "%s,\"columns_note\":%s", c.cols ? "]" : "", js(p, c.note));
}

static void json_export(os_index *ix, const char *path, const char *url,
                        const os_dir_conf *conf)
{
    apr_pool_t *p = ix->r->pool;
    os_params_rules rules;
    int i, n;

    (void)path;
    os_config_params_rules(conf, &rules);
    putf(ix, "%s{\"url\":%s,\"title\":%s,\"description\":%s,",
         ix->n ? ",\n" : "\n", js(p, url), js(p, conf->title),
         js(p, conf->description));
    json_formats(ix, conf);
    putf(ix, "\"filename\":%s,\"preview\":%s,\"max_limit\":%s,\"params\":[",
         conf->filename
             ? js(p,
                  os_format_file_name(conf->filename, os_config_format(conf),
                                      ix->r->request_time, p))
             : "null",
         rules.preview ? "true" : "false",
         rules.max_limit
             ? apr_psprintf(p, "%" APR_INT64_T_FMT, rules.max_limit)
             : "null");
    for (i = 0, n = 0; conf->params && i < conf->params->nelts; i++) {
        const os_param_decl *d =
            &APR_ARRAY_IDX(conf->params, i, os_param_decl);
        if (!d->expr) { /* the server's own: not the client's to give */
            put(ix, n++ ? "," : "");
            json_param(ix, d);
        }
    }
    put(ix, "]");
    json_columns(ix, conf);
    put(ix, "}");
}

static void json_page(os_index *ix)
{
    put(ix, "{\"exports\":[");
    each_export(ix, json_export);
    put(ix, "\n]}\n");
}

/* ---- the request -------------------------------------------------------- */

/* One pair of the page's query string: ?format=json, or ?format=html (the
 * page, also when empty or absent), once; anything else is an error, as
 * an export answers a parameter it does not know: a typo should not
 * silently give the other format. ctx: the int that says json, -1 until
 * format is seen. */
static const char *one_arg(const char *name, const char *value, void *ctx,
                           apr_pool_t *p)
{
    int *json = ctx;

    if (strcmp(name, "format")) {
        return apr_psprintf(p, "%s: not a parameter of this page",
                            os_params_shown(name, p));
    }
    if (*json >= 0) {
        return "format: given more than once";
    }
    *json = !strcasecmp(value, "json");
    if (*value && !*json && strcasecmp(value, "html")) {
        return apr_psprintf(p, "format: expected html or json, got \"%s\"",
                            os_params_shown(value, p));
    }
    return NULL;
}

static int send_brigade(request_rec *r, apr_bucket_brigade *bb)
{
    APR_BRIGADE_INSERT_TAIL(
        bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS
        ? OK
        : AP_FILTER_ERROR;
}

/* A 400 in plain text, one line naming the parameter, as the exports
 * answer one. */
static int bad_request(request_rec *r, const char *msg)
{
    apr_bucket_brigade *bb =
        apr_brigade_create(r->pool, r->connection->bucket_alloc);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, OSLOGNO(00100) "%s: 400: %s",
                  r->uri, msg);
    r->status = HTTP_BAD_REQUEST;
    ap_set_content_type(r, "text/plain; charset=utf-8");
    apr_brigade_printf(bb, NULL, NULL, "%s\n", msg);
    return send_brigade(r, bb);
}

int os_index_handler(request_rec *r)
{
    os_index ix = { 0 };
    const char *err;
    int json;

    /* Case-blind, as httpd matches handler names. */
    if (!r->handler || strcasecmp(r->handler, OS_INDEX_HANDLER)) {
        return DECLINED;
    }
    os_handler_nosniff(r);
    /* GET covers HEAD; the Allow header of a 405 says so. */
    ap_allow_standard_methods(r, REPLACE_ALLOW, M_GET, -1);
    if (r->method_number != M_GET) {
        return HTTP_METHOD_NOT_ALLOWED;
    }
    json = -1;
    if ((err = os_params_each(r->args, one_arg, &json, r->pool)) != NULL) {
        return bad_request(r, err);
    }
    json = json > 0;
    if (json) {
        ap_set_content_type(r, "application/json");
    }
    else {
        ap_set_content_type(r, "text/html; charset=utf-8");
        apr_table_setn(r->headers_out, "Content-Security-Policy",
                       OS_INDEX_CSP);
    }
    /* HEAD too: which exports are listed, and so Cache-Control and Vary,
     * come from the subrequests; httpd drops the body of a HEAD. */
    ix.r = r;
    ix.bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ix.desc = os_describe_create(r);
    if (json) {
        json_page(&ix);
    }
    else {
        html_page(&ix);
    }
    /* The page is whole: the connection, if a column description needed
     * one, goes back before the page is sent. */
    os_describe_done(ix.desc);
    return send_brigade(r, ix.bb);
}
