/* os_token.h: Django's signed values (django.core.signing.dumps), verified.
 * Needs only APR, OpenSSL's libcrypto and jansson: no httpd, so that the
 * unit tests and the fuzz target run it as the module does.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#ifndef OS_TOKEN_H
#define OS_TOKEN_H

#include <apr_hash.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

/* A token longer than this is refused unread: Django's own links are a
 * few hundred bytes, and a request line is at most 8190 by default. */
#define OS_TOKEN_MAX 4096

/* How far a token's timestamp may be ahead of our clock: Django never
 * refuses one from the future, but a signer whose clock runs ahead
 * would otherwise hand out links that outlive their max-age. A minute
 * covers the drift of clocks kept by NTP. */
#define OS_TOKEN_SKEW 60

/* The keys of OrderStreamTokenKey's file: one a line, byte for byte
 * (Django's keys may hold '#', so there are no comments); empty lines
 * are skipped; a trailing CR is dropped. Returns NULL with *keys an array
 * of const char * (at least one), or why not. */
const char *os_token_keys_parse(const char *text, apr_size_t len,
                                apr_array_header_t **keys, apr_pool_t *p);

/* The same for the file at path, which must not be readable or writable
 * by others (it holds secrets). Returns NULL, or a message naming the
 * file. */
const char *os_token_keys_read(const char *path, apr_array_header_t **keys,
                               apr_pool_t *p);

/* What a token must match: OrderStreamToken and the export. */
typedef struct os_token_rules {
    const char *salt;               /* Django's salt= */
    apr_int64_t max_age;            /* seconds, at most */
    const char *export;             /* the claims' "export" must equal it */
    const apr_array_header_t *keys; /* const char *; any one verifies */
} os_token_rules;

typedef enum {
    OS_TOKEN_VALID = 0,
    OS_TOKEN_REFUSED, /* 403: forged, malformed, another export's */
    OS_TOKEN_EXPIRED  /* 410: genuine but older than its max-age */
} os_token_result;

/* Verifies token (as Django wrote it: PAYLOAD:TS:SIG) at time now.
 * VALID: *claims maps each member of the JSON object to its value as
 * text (strings as they are, integers in decimal, true/false; null
 * members are left out). Otherwise *why says what is wrong, in a few
 * words for the client and the log, never quoting the token. The
 * signature is compared in constant time, as the text Django writes. */
os_token_result os_token_verify(const char *token, const os_token_rules *rules,
                                apr_time_t now, apr_hash_t **claims,
                                const char **why, apr_pool_t *p);

/* Django's signature of value (bytes "PAYLOAD:TS") with key and salt:
 * base64url, no padding, 43 characters. */
const char *os_token_signature(const char *value, apr_size_t len,
                               const char *salt, const char *key,
                               apr_pool_t *p);

/* data as base64url without padding, as Django's b64_encode writes. */
const char *os_token_b64url(const void *data, apr_size_t len, apr_pool_t *p);

/* seconds in Django's base62 (0-9A-Za-z). */
const char *os_token_b62(apr_int64_t seconds, apr_pool_t *p);

#endif /* OS_TOKEN_H */
