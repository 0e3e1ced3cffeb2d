/* os_handoff.h: an export handed over by a Django view, with a token in
 * Django's own signed format (os_token.c): OrderStreamTokenKey,
 * OrderStreamToken, and the claims that OrderStreamParam, OrderStreamRole
 * and OrderStreamSetting read with claim=KEY.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#ifndef OS_HANDOFF_H
#define OS_HANDOFF_H

#include <http_config.h>
#include <httpd.h>

/* One OrderStreamToken. */
typedef struct os_handoff_conf {
    const char *salt;
    apr_int64_t max_age; /* seconds */
    const char *param;   /* the query-string parameter: "token" */
} os_handoff_conf;

/* OrderStreamTokenKey FILE: the keys, read now into *keys (the config
 * test fails on a missing, empty or world-readable file). Returns NULL,
 * or the message naming the directive. */
const char *os_handoff_read_keys(cmd_parms *cmd, const char *file,
                                 const apr_array_header_t **keys);

/* OrderStreamToken salt=SALT max-age=DURATION [param=NAME] into *out.
 * Returns NULL, or the message naming the directive. */
const char *os_handoff_parse(cmd_parms *cmd, int argc, char *const argv[],
                             const os_handoff_conf **out);

/* Before anything else of a request to an export with OrderStreamToken
 * (token; NULL: none), whose server's OrderStreamTokenKey gave keys
 * (NULL: none, a 500): verifies its token and keeps the claims for
 * os_handoff_claim. Returns OK (no OrderStreamToken, or a valid token);
 * HTTP_FORBIDDEN or HTTP_GONE with *msg the one line for the client (logged
 * here, without the token); HTTP_INTERNAL_SERVER_ERROR when the config cannot
 * verify (logged). */
int os_handoff_admit(request_rec *r, const os_handoff_conf *token,
                     const apr_array_header_t *keys, const char **msg);

/* The claim named key of r's verified token, as text; NULL when there is
 * no such claim (or it is null) or no verified token. */
const char *os_handoff_claim(request_rec *r, const char *key);

#endif /* OS_HANDOFF_H */
