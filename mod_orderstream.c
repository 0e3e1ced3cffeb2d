/* mod_orderstream.c: the module record, its directives and hooks.
 *
 * Streams a PostgreSQL query as CSV, TSV, NDJSON or XLSX from a
 * <Location>: a pooled mod_dbd connection, a server-side cursor, and
 * httpd's output filters. The work is in src/, one folder a layer, bottom
 * to top: base (log tag, outcome notes), db (gate, connection, cursor),
 * deliver (brigade, spool, pace), render (formats and their writers),
 * export (directives, parameters, identity), operate (status, metrics),
 * request (the export handler, the download page). This file sits on top
 * and only wires them to httpd.
 */
#include "os_private.h"

#include <ap_mpm.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <mod_status.h>

#include "os_config.h"
#include "os_conn.h"
#include "os_describe.h"
#include "os_handler.h"
#include "os_index.h"
#include "os_limit.h"
#include "os_scrape.h"
#include "os_spool.h"
#include "os_status.h"
#include "os_status_page.h"

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    os_limit_child_init(pchild, s);
    os_conn_child_init();
    os_describe_child_init(pchild);
    os_status_child_init(pchild, s);
}

static void register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };

    (void)p;
    ap_hook_check_config(os_config_check, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(os_status_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(os_status_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before mod_slotmem_shm's (APR_HOOK_LAST): the pconf cleanup it
     * registers there must run before those of the segments made here. */
    ap_hook_post_config(os_status_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* In the parent, when a child has gone (killed, crashed): its slots. */
    ap_hook_child_status(os_status_child_status, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(os_status_log, NULL, NULL, APR_HOOK_MIDDLE);
    APR_OPTIONAL_HOOK(ap, status_hook, os_status_page_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
    /* After mod_rewrite, which may send the URL elsewhere; before
     * mod_alias and core, which would map it to a file. */
    ap_hook_translate_name(os_handler_translate, after_rewrite, NULL,
                           APR_HOOK_FIRST);
    /* Before core's directory walk, as mod_proxy's. */
    ap_hook_map_to_storage(os_handler_map_to_storage, NULL, NULL,
                           APR_HOOK_FIRST);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(os_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(os_index_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(os_scrape_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* The spool filter, and its log_transaction hook (before the access
     * log's). */
    os_spool_register();
}

/* Not AP_DECLARE_MODULE: os_private.h already says APLOG_USE_MODULE. */
module AP_MODULE_DECLARE_DATA orderstream_module = {
    STANDARD20_MODULE_STUFF,
    os_config_create_dir,   /* per-directory config */
    os_config_merge_dir,    /* merge per-directory config */
    os_limit_create_server, /* per-server config: the export gate */
    NULL,                   /* no merge: each virtual host has its own */
    os_config_cmds,         /* directives */
    register_hooks,
    AP_MODULE_FLAG_NONE /* flags */
};
