/* mod_orderstream.c: the module record, its directives and hooks.
 *
 * Streams a PostgreSQL query as CSV from a <Location>: a pooled mod_dbd
 * connection, a server-side cursor, and httpd's output filters. The work is
 * in src/: os_config (directives), os_handler (the request), os_output (the
 * brigade), os_cursor (libpq), os_csv (the format).
 */
#include "src/os_private.h"

#include <http_config.h>
#include <http_protocol.h>

#include "src/os_config.h"
#include "src/os_handler.h"

static void register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };

    (void)p;
    ap_hook_check_config(os_config_check, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(os_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

/* Not AP_DECLARE_MODULE: os_private.h already says APLOG_USE_MODULE. */
module AP_MODULE_DECLARE_DATA orderstream_module = {
    STANDARD20_MODULE_STUFF,
    os_config_create_dir, /* per-directory config */
    os_config_merge_dir,  /* merge per-directory config */
    NULL,                 /* per-server config */
    NULL,                 /* merge per-server config */
    os_config_cmds,       /* directives */
    register_hooks,
    AP_MODULE_FLAG_NONE /* flags */
};
