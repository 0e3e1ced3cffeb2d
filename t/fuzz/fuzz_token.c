/* fuzz_token.c: Django's signed tokens, os_token_verify (src/export/os_token.c).
 *
 * The first byte chooses what the rest is:
 * - even: a token as a client sends it, verified with two keys at a fixed
 *   clock. The answer is one of the three results, with a reason exactly
 *   when not valid, never quoting the token; a valid one has the export's
 *   "export" claim and a signature one of the keys makes over what
 *   precedes it;
 * - odd: a payload (JSON text, the attacker's choice as if a key holder
 *   had signed it), the second byte an age in seconds; it is signed with
 *   the first key as Django would. Then: valid only if jansson reads it
 *   as an object whose "export" is the export and age <= max-age + skew
 *   rules hold; and each of the three characters that decode to the same
 *   signature bytes, a signature one character longer, and the other salt
 *   are refused.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>

#include "fuzz.h"
#include "os_token.h"

#define NOW 1700000000
#define EXPORT "/my/orders.csv"
#define SALT "orderstream"
#define K1 "k1-!@#$%^&*(-_=+)-old-key"
#define K2 "k2-rotated-in-key"

static apr_array_header_t *keys;

void fuzz_setup(apr_pool_t *p)
{
    keys = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(keys, const char *) = K1;
    APR_ARRAY_PUSH(keys, const char *) = K2;
}

static os_token_result verify(const char *token, const char *salt,
                              apr_hash_t **claims, const char **why,
                              apr_pool_t *p)
{
    os_token_rules rules = { salt, 60, EXPORT, keys };

    return os_token_verify(token, &rules, apr_time_from_sec(NOW), claims, why,
                           p);
}

/* The general properties of any answer. */
static void answer(const char *token, os_token_result r, apr_hash_t *claims,
                   const char *why)
{
    const char *export;

    FUZZ_CHECK(r == OS_TOKEN_VALID || r == OS_TOKEN_REFUSED
               || r == OS_TOKEN_EXPIRED);
    FUZZ_CHECK((r == OS_TOKEN_VALID) == (why == NULL));
    FUZZ_CHECK((r == OS_TOKEN_VALID) == (claims != NULL));
    FUZZ_CHECK(!why || strlen(token) < 8 || !strstr(why, token));
    if (r == OS_TOKEN_VALID) {
        export = apr_hash_get(claims, "export", APR_HASH_KEY_STRING);
        FUZZ_CHECK(export && !strcmp(export, EXPORT));
    }
}

static void as_token(const char *token, apr_pool_t *p)
{
    apr_hash_t *claims;
    const char *why, *sig, *k1, *k2;
    os_token_result r = verify(token, SALT, &claims, &why, p);

    answer(token, r, claims, why);
    if (r == OS_TOKEN_VALID) {
        sig = strrchr(token, ':');
        FUZZ_CHECK(sig);
        k1 = os_token_signature(token, (size_t)(sig - token), SALT, K1, p);
        k2 = os_token_signature(token, (size_t)(sig - token), SALT, K2, p);
        FUZZ_CHECK(!strcmp(sig + 1, k1) || !strcmp(sig + 1, k2));
    }
}

/* Whether json is a JSON object with "export": EXPORT. */
static int exports(const char *json, size_t n)
{
    json_t *root = json_loadb(json, n, JSON_REJECT_DUPLICATES, NULL);
    json_t *e = root ? json_object_get(root, "export") : NULL;
    int yes = json_is_object(root) && json_is_string(e)
        && !strcmp(json_string_value(e), EXPORT);

    json_decref(root);
    return yes;
}

static void as_payload(const uint8_t *data, size_t size, apr_pool_t *p)
{
    static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int age = size ? (int)data[0] - 64 : 0, k;
    const char *json = size > 1 ? (const char *)data + 1 : "";
    size_t n = size > 1 ? size - 1 : 0;
    const char *value = apr_pstrcat(p, os_token_b64url(json, n, p), ":",
                                    os_token_b62(NOW - age, p), NULL);
    const char *sig = os_token_signature(value, strlen(value), SALT, K1, p);
    char *token = apr_pstrcat(p, value, ":", sig, NULL), *last;
    apr_hash_t *claims;
    const char *why;
    os_token_result r = verify(token, SALT, &claims, &why, p);

    answer(token, r, claims, why);
    if (strlen(token) > OS_TOKEN_MAX) {
        FUZZ_CHECK(r == OS_TOKEN_REFUSED);
        return;
    }
    FUZZ_CHECK(r != OS_TOKEN_VALID || exports(json, n));
    FUZZ_CHECK(r != OS_TOKEN_VALID || (age >= -60 && age <= 60));
    FUZZ_CHECK(r != OS_TOKEN_EXPIRED || age > 0);
    last = token + strlen(token) - 1;
    for (k = 1; k < 4; k++) {
        char was = *last;
        *last = b64[(strchr(b64, was) - b64) ^ k];
        FUZZ_CHECK(verify(token, SALT, &claims, &why, p) == OS_TOKEN_REFUSED);
        *last = was;
    }
    FUZZ_CHECK(verify(apr_pstrcat(p, token, "A", NULL), SALT, &claims, &why, p)
               == OS_TOKEN_REFUSED);
    FUZZ_CHECK(verify(token, "other", &claims, &why, p) == OS_TOKEN_REFUSED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool();
    char *token;

    if (size && data[0] % 2) {
        as_payload(data + 1, size - 1, p);
    }
    else {
        token = fuzz_cstr(size ? data + 1 : data, size ? size - 1 : 0);
        as_token(token, p);
        free(token);
    }
    apr_pool_destroy(p);
    return 0;
}
