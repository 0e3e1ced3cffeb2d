/* os_handoff.h: an export handed over by a Django view, with a token in
 * Django's own signed format (os_token.c): OrderStreamTokenKey,
 * OrderStreamToken, and the claims that OrderStreamParam, OrderStreamRole
 * and OrderStreamSetting read with claim=KEY. */
#ifndef OS_HANDOFF_H
#define OS_HANDOFF_H

#include <http_config.h>
#include <httpd.h>

struct os_dir_conf;

/* One OrderStreamToken. */
typedef struct os_handoff_conf {
    const char *salt;
    apr_int64_t max_age; /* seconds */
    const char *param;   /* the query-string parameter: "token" */
} os_handoff_conf;

/* OrderStreamTokenKey FILE (server config or virtual host): the keys,
 * read now; the config test fails on a missing, empty or
 * world-readable file. */
const char *os_handoff_set_key(cmd_parms *cmd, void *dconf, const char *file);

/* OrderStreamToken salt=SALT max-age=DURATION [param=NAME]. */
const char *os_handoff_set_token(cmd_parms *cmd, void *dconf, int argc,
                                 char *const argv[]);

/* For the config test: NULL, or why conf's OrderStreamToken cannot work
 * (no OrderStreamTokenKey for its server, nor main's). */
const char *os_handoff_check(const struct os_dir_conf *conf, server_rec *main,
                             apr_pool_t *p);

/* Before anything else of a request to an export with OrderStreamToken:
 * verifies its token and keeps the claims for os_handoff_claim. Returns
 * OK (no OrderStreamToken, or a valid token); HTTP_FORBIDDEN or HTTP_GONE
 * with *msg the one line for the client (logged here, without the
 * token); HTTP_INTERNAL_SERVER_ERROR when the config cannot verify
 * (logged). */
int os_handoff_admit(request_rec *r, const struct os_dir_conf *conf,
                     const char **msg);

/* The claim named key of r's verified token, as text; NULL when there is
 * no such claim (or it is null) or no verified token. */
const char *os_handoff_claim(request_rec *r, const char *key);

#endif /* OS_HANDOFF_H */
