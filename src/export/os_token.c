/* os_token.c: verifying what Django's signing.dumps(claims, key=K, salt=S)
 * returns, so that a Django view can hand an export to the module.
 *
 * The format (django/core/signing.py, the same in Django 3.2 to 5.x) is
 * PAYLOAD:TS:SIG:
 *  - PAYLOAD: the claims as compact JSON, base64url without padding; a
 *    leading '.' means zlib-compressed, which we refuse (a token is small,
 *    and a decompressor is one more thing an attacker could feed);
 *  - TS: the signing time, whole seconds since the epoch, in base62;
 *  - SIG: base64url without padding of HMAC-SHA256 over "PAYLOAD:TS",
 *    keyed with SHA256(S + "signer" + K).
 * Django splits SIG off at the last ':', then TS at the last ':' of the
 * rest; so do we.
 *
 * The signature is checked first and everything else only on a signed
 * value, so that what an attacker writes reaches nothing but the split
 * and the HMAC. It is compared as the base64url text Django writes, not
 * as decoded bytes: 32 bytes take 43 characters whose last carries 2 bits
 * that decoding drops, so four texts decode alike and only one is
 * Django's. The comparison is CRYPTO_memcmp over the whole text for every
 * key, so its time says nothing about how much of a guess was right.
 *
 * Then: the payload must decode to a JSON object whose members are all
 * scalars (claims are values to bind, not documents), whose "export" is
 * the export asked for, and whose optional "max_age" (whole seconds) can
 * only shorten the Location's max-age; the timestamp must not be more
 * than OS_TOKEN_SKEW ahead of our clock, and not older than the max-age
 * (Django's own rule: age > max_age is expired).
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#include "os_token.h"

#include <string.h>

#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/* A SHA-256 HMAC as base64url text without padding: ceil(32 * 4 / 3). */
#define OS_TOKEN_SIG_LEN 43
/* Seconds fit 63 bits in 11 base62 digits (62^11 > 2^63); Django writes
 * 6 for today's clock. */
#define OS_TOKEN_TS_MAX 11

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* ---- the key file ------------------------------------------------------ */

const char *os_token_keys_parse(const char *text, apr_size_t len,
                                apr_array_header_t **keys, apr_pool_t *p)
{
    const char *line = text, *end = text + len, *nl;
    apr_size_t n;

    *keys = apr_array_make(p, 2, sizeof(const char *));
    while (line < end) {
        nl = memchr(line, '\n', (apr_size_t)(end - line));
        n = (apr_size_t)((nl ? nl : end) - line);
        if (n && line[n - 1] == '\r') {
            n--;
        }
        if (memchr(line, '\0', n)) {
            return "a key holds a NUL byte";
        }
        if (n) {
            APR_ARRAY_PUSH(*keys, const char *) = apr_pstrmemdup(p, line, n);
        }
        line = nl ? nl + 1 : end;
    }
    return (*keys)->nelts ? NULL : "no key in it (one key a line)";
}

const char *os_token_keys_read(const char *path, apr_array_header_t **keys,
                               apr_pool_t *p)
{
    apr_finfo_t fi;
    apr_file_t *f;
    char *text;
    apr_size_t len;
    apr_status_t rv;
    const char *err;

    rv = apr_stat(&fi, path, APR_FINFO_PROT | APR_FINFO_SIZE, p);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(p, "cannot read %s: %pm", path, &rv);
    }
    /* A secret that every local user may read is no secret. */
    if (fi.protection & (APR_FPROT_WREAD | APR_FPROT_WWRITE)) {
        return apr_psprintf(p,
                            "%s may be read or written by others: "
                            "chmod o-rw it",
                            path);
    }
    if (fi.size > 64 * 1024) {
        return apr_psprintf(p, "%s is over 64 KB: not a key file", path);
    }
    len = (apr_size_t)fi.size;
    text = apr_palloc(p, len + 1);
    rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, text, len, &len);
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "cannot read %s: %pm", path, &rv);
    }
    err = os_token_keys_parse(text, len, keys, p);
    return err ? apr_psprintf(p, "%s: %s", path, err) : NULL;
}

/* ---- encodings --------------------------------------------------------- */

const char *os_token_b64url(const void *data, apr_size_t len, apr_pool_t *p)
{
    unsigned char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    int n = EVP_EncodeBlock(out, data, (int)len), i;

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (i = 0; i < n; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    return (const char *)out;
}

/* s[0..n) from base64url without padding into *out (NUL-terminated);
 * 0 when a character is outside the alphabet or the length is not one
 * base64 can have. */
static int b64url_decode(const char *s, apr_size_t n, unsigned char **out,
                         apr_size_t *outlen, apr_pool_t *p)
{
    apr_size_t pad = (4 - n % 4) % 4, i;
    unsigned char *in;
    int got;

    if (n % 4 == 1) {
        return 0;
    }
    in = apr_palloc(p, n + pad + 1);
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!apr_isalnum(c) && c != '-' && c != '_') {
            return 0;
        }
        in[i] = c == '-' ? '+' : c == '_' ? '/' : (unsigned char)c;
    }
    memset(in + n, '=', pad);
    in[n + pad] = '\0';
    *out = apr_palloc(p, (n + pad) / 4 * 3 + 1);
    got = EVP_DecodeBlock(*out, in, (int)(n + pad));
    if (got < 0) {
        return 0;
    }
    /* EVP_DecodeBlock counts the bytes the padding stands for. */
    *outlen = (apr_size_t)got - pad;
    (*out)[*outlen] = '\0';
    return 1;
}

const char *os_token_b62(apr_int64_t seconds, apr_pool_t *p)
{
    char buf[OS_TOKEN_TS_MAX + 1], *c = buf + sizeof(buf) - 1;
    apr_uint64_t v = seconds < 0 ? 0 : (apr_uint64_t)seconds;

    *c = '\0';
    do {
        *--c = b62[v % 62];
        v /= 62;
    } while (v);
    return apr_pstrdup(p, c);
}

/* s[0..n) in base62 into *out; 0 when empty, too long or not base62. */
static int b62_decode(const char *s, apr_size_t n, apr_int64_t *out)
{
    apr_uint64_t v = 0;
    apr_size_t i;
    const char *d;

    if (!n || n > OS_TOKEN_TS_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!s[i] || !(d = strchr(b62, s[i]))) {
            return 0;
        }
        if (v > (APR_UINT64_C(0x7fffffffffffffff) - (apr_uint64_t)(d - b62))
                / 62) {
            return 0;
        }
        v = v * 62 + (apr_uint64_t)(d - b62);
    }
    *out = (apr_int64_t)v;
    return 1;
}

/* ---- the signature ----------------------------------------------------- */

const char *os_token_signature(const char *value, apr_size_t len,
                               const char *salt, const char *key,
                               apr_pool_t *p)
{
    unsigned char derived[SHA256_DIGEST_LENGTH], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const char *material = apr_pstrcat(p, salt, "signer", key, NULL);

    /* Django's salted_hmac: the HMAC key is the hash of salt, the word
     * "signer" and the key, whatever their lengths. */
    SHA256((const unsigned char *)material, strlen(material), derived);
    if (!HMAC(EVP_sha256(), derived, sizeof(derived),
              (const unsigned char *)value, len, mac, &maclen)) {
        return NULL;
    }
    OPENSSL_cleanse(derived, sizeof(derived));
    return os_token_b64url(mac, maclen, p);
}

/* Whether sig is the signature of value under any of rules->keys. Every
 * key is tried, whatever the earlier ones gave. */
static int signed_by_a_key(const char *value, apr_size_t len, const char *sig,
                           apr_size_t siglen, const os_token_rules *rules,
                           apr_pool_t *p)
{
    int i, match = 0;

    if (siglen != OS_TOKEN_SIG_LEN) {
        return 0; /* Django's is always 43: the length is no secret */
    }
    for (i = 0; i < rules->keys->nelts; i++) {
        const char *want =
            os_token_signature(value, len, rules->salt,
                               APR_ARRAY_IDX(rules->keys, i, const char *), p);
        match |= want && !CRYPTO_memcmp(want, sig, OS_TOKEN_SIG_LEN);
    }
    return match;
}

/* ---- the claims -------------------------------------------------------- */

/* One member of the claims into *claims; NULL or why not. */
static const char *claim(apr_hash_t *claims, const char *name, json_t *v,
                         apr_pool_t *p)
{
    const char *text;

    switch (json_typeof(v)) {
    case JSON_STRING:
        text = apr_pstrmemdup(p, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        text = apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(v));
        break;
    case JSON_TRUE:
        text = "true";
        break;
    case JSON_FALSE:
        text = "false";
        break;
    case JSON_NULL:
        return NULL; /* absent, as SQL NULL */
    case JSON_REAL:
        /* A float's decimal text is not the number Python meant; a
         * numeric claim is sent as a string. */
        return "a claim is a fractional number (send it as a string)";
    default:
        return "the claims are not a flat JSON object";
    }
    apr_hash_set(claims, apr_pstrdup(p, name), APR_HASH_KEY_STRING, text);
    return NULL;
}

/* The payload (base64url of JSON) into *claims; *max_age lowered by a
 * "max_age" claim. NULL, or why not. */
static const char *read_claims(const char *b64, apr_size_t n,
                               const os_token_rules *rules,
                               apr_int64_t *max_age, apr_hash_t **claims,
                               apr_pool_t *p)
{
    unsigned char *json;
    apr_size_t len;
    json_error_t jerr;
    json_t *root, *v;
    const char *err = NULL, *export;
    void *it;

    if (n && *b64 == '.') {
        return "a compressed token (sign without compress=True)";
    }
    if (!b64url_decode(b64, n, &json, &len, p)) {
        return "the payload is not base64url";
    }
    root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        err = "the claims are not a JSON object";
        goto done;
    }
    *claims = apr_hash_make(p);
    for (it = json_object_iter(root); it;
         it = json_object_iter_next(root, it)) {
        err = claim(*claims, json_object_iter_key(it),
                    json_object_iter_value(it), p);
        if (err) {
            goto done;
        }
    }
    export = apr_hash_get(*claims, "export", APR_HASH_KEY_STRING);
    if (!json_is_string(json_object_get(root, "export"))
        || strcmp(export, rules->export)) {
        err = "a token for another export";
        goto done;
    }
    v = json_object_get(root, "max_age");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        err = "max_age is not a whole number of seconds";
        goto done;
    }
    if (v && json_integer_value(v) < *max_age) {
        *max_age = json_integer_value(v);
    }
done:
    json_decref(root);
    return err;
}

/* ---- the token --------------------------------------------------------- */

os_token_result os_token_verify(const char *token, const os_token_rules *rules,
                                apr_time_t now, apr_hash_t **claims,
                                const char **why, apr_pool_t *p)
{
    const char *sig, *ts;
    apr_size_t len = token ? strlen(token) : 0;
    apr_int64_t when, max_age = rules->max_age;
    apr_time_t age;

    *claims = NULL;
    if (!len) {
        *why = "no token";
        return OS_TOKEN_REFUSED;
    }
    if (len > OS_TOKEN_MAX) {
        *why = "the token is too long";
        return OS_TOKEN_REFUSED;
    }
    sig = strrchr(token, ':');
    if (!sig
        || !signed_by_a_key(token, (apr_size_t)(sig - token), sig + 1,
                            len - (apr_size_t)(sig - token) - 1, rules, p)) {
        *why = "the token's signature does not verify";
        return OS_TOKEN_REFUSED;
    }
    /* From here on, the value is one a key holder signed. */
    ts = token + (sig - token);
    while (ts > token && ts[-1] != ':') {
        ts--;
    }
    if (ts == token || !b62_decode(ts, (apr_size_t)(sig - ts), &when)) {
        *why = "the token has no timestamp";
        return OS_TOKEN_REFUSED;
    }
    if ((*why = read_claims(token, (apr_size_t)(ts - 1 - token), rules,
                            &max_age, claims, p))
        != NULL) {
        *claims = NULL;
        return OS_TOKEN_REFUSED;
    }
    if (when > apr_time_sec(now) + OS_TOKEN_SKEW) {
        *claims = NULL;
        *why = "the token's timestamp is ahead of the server's clock";
        return OS_TOKEN_REFUSED;
    }
    /* Django: time.time() - timestamp > max_age, in fractions of a
     * second. */
    age = now - apr_time_from_sec(when);
    if (age > apr_time_from_sec(max_age)) {
        *claims = NULL;
        *why = "the link has expired; ask for a new one";
        return OS_TOKEN_EXPIRED;
    }
    *why = NULL;
    return OS_TOKEN_VALID;
}
