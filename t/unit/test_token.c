/* test_token.c: unit tests of src/export/os_token.c against tokens that Django
 * itself made (token_vectors.h, from token_vectors.py), on a made-up
 * clock; and the tampering Django refuses: a changed payload, timestamp
 * or signature, a signature whose last character decodes to the same
 * bytes. Prints one line per failure and "N passed, N failed". */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "os_token.h"
#include "token_vectors.h"
#include "unit.h"

static apr_pool_t *pool;
static apr_array_header_t *keys;

static os_token_result check(const char *token, int after, apr_hash_t **claims,
                             const char **why)
{
    os_token_rules rules = { TV_SALT, TV_MAX_AGE, TV_EXPORT, keys };

    return os_token_verify(token, &rules, apr_time_from_sec(TV_T + after),
                           claims, why, pool);
}

static void vectors(void)
{
    apr_size_t i;
    apr_hash_t *claims;
    const char *why;

    for (i = 0; i < sizeof(tvs) / sizeof(tvs[0]); i++) {
        os_token_result got = check(tvs[i].token, tvs[i].after, &claims, &why);
        const char *v;
        ok(got == tvs[i].want,
           apr_psprintf(pool, "%s: %d, want %d (%s)", tvs[i].name, got,
                        tvs[i].want, why ? why : "valid"));
        ok(got != OS_TOKEN_VALID || (claims && why == NULL),
           apr_psprintf(pool, "%s: claims when valid", tvs[i].name));
        ok(got == OS_TOKEN_VALID || (!claims && why),
           apr_psprintf(pool, "%s: a reason when not", tvs[i].name));
        if (tvs[i].claim && got == OS_TOKEN_VALID) {
            v = apr_hash_get(claims, tvs[i].claim, APR_HASH_KEY_STRING);
            ok(v && !strcmp(v, tvs[i].value),
               apr_psprintf(pool, "%s: claim %s", tvs[i].name, tvs[i].claim));
        }
        ok(!why || !strstr(why, tvs[i].token),
           apr_psprintf(pool, "%s: the reason never quotes the token",
                        tvs[i].name));
    }
}

/* tvs[0] with byte at i replaced by c. */
static const char *changed(apr_size_t i, char c)
{
    char *t = apr_pstrdup(pool, tvs[0].token);

    t[i] = c;
    return t;
}

static void tampering(void)
{
    const char *t = tvs[0].token, *why;
    apr_size_t n = strlen(t), i;
    const char *ts = strchr(t, ':') + 1;
    const char *b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                      "0123456789-_";
    apr_hash_t *claims;
    int v, k, same = 0;

    ok(check(t, 0, &claims, &why) == OS_TOKEN_VALID, "the original verifies");
    ok(check(changed(3, t[3] == 'A' ? 'B' : 'A'), 0, &claims, &why)
           == OS_TOKEN_REFUSED,
       "a changed payload");
    ok(check(changed((apr_size_t)(ts - t), ts[0] == '1' ? '2' : '1'), 0,
             &claims, &why)
           == OS_TOKEN_REFUSED,
       "a changed timestamp");
    ok(check(changed(n - 5, t[n - 5] == 'A' ? 'B' : 'A'), 0, &claims, &why)
           == OS_TOKEN_REFUSED,
       "a changed signature");
    /* The last of 43 characters carries 4 bits of the MAC and 2 that
     * decoding drops: its three siblings decode to the same 32 bytes. */
    v = (int)(strchr(b64, t[n - 1]) - b64);
    for (k = 1; k < 4; k++) {
        if (check(changed(n - 1, b64[v ^ k]), 0, &claims, &why)
            == OS_TOKEN_REFUSED) {
            same++;
        }
    }
    ok(same == 3, "a last character that decodes to the same bytes");
    ok(check(apr_pstrndup(pool, t, n - 1), 0, &claims, &why)
           == OS_TOKEN_REFUSED,
       "a signature one character short");
    ok(check(apr_pstrcat(pool, t, "A", NULL), 0, &claims, &why)
           == OS_TOKEN_REFUSED,
       "a signature one character long");
    ok(check("", 0, &claims, &why) == OS_TOKEN_REFUSED, "empty");
    ok(check(NULL, 0, &claims, &why) == OS_TOKEN_REFUSED, "none");
    ok(check(strchr(ts, ':') + 1, 0, &claims, &why) == OS_TOKEN_REFUSED,
       "the signature alone");
    for (i = 0; i < n; i++) {
        if (t[i] == ':') {
            ok(check(apr_pstrcat(pool, apr_pstrndup(pool, t, i),
                                 "::", t + i + 1, NULL),
                     0, &claims, &why)
                   == OS_TOKEN_REFUSED,
               "a doubled separator");
        }
    }
    ok(check(apr_pstrcat(pool, apr_pstrndup(pool, t, OS_TOKEN_MAX), "x", NULL),
             0, &claims, &why)
           == OS_TOKEN_REFUSED,
       "too long");
}

/* A token our own encoders make is the one Django made. */
static void encoders(void)
{
    const char *t = tvs[0].token, *sig = strrchr(t, ':');
    const char *ts = sig - 6;

    ok(!strncmp(os_token_b62(TV_T, pool), ts, 6), "base62 of T");
    ok(!strcmp(os_token_b62(0, pool), "0"), "base62 of 0");
    ok(!strcmp(
           os_token_signature(t, (apr_size_t)(sig - t), TV_SALT, TV_K1, pool),
           sig + 1),
       "the signature Django made");
    ok(!strcmp(os_token_b64url("\xfb\xff", 2, pool), "-_8"),
       "base64url alphabet, no padding");
}

static void key_files(void)
{
    apr_array_header_t *k;
    const char *path = "t/tmp/unit-keys", *err;
    FILE *f;

    ok(os_token_keys_parse("a\n\nb\r\n", 6, &k, pool) == NULL && k->nelts == 2
           && !strcmp(APR_ARRAY_IDX(k, 1, const char *), "b"),
       "two keys, an empty line, a CR");
    ok(!strcmp(APR_ARRAY_IDX(k, 0, const char *), "a"), "the first key");
    ok(os_token_keys_parse("#x", 2, &k, pool) == NULL && k->nelts == 1,
       "# is a key's character, not a comment");
    ok(os_token_keys_parse("\n\r\n", 3, &k, pool) != NULL, "no key");
    ok(os_token_keys_parse("a\0b", 3, &k, pool) != NULL, "a NUL");
    mkdir("t/tmp", 0755);
    f = fopen(path, "w");
    fputs(TV_K1 "\n", f);
    fclose(f);
    chmod(path, 0644);
    err = os_token_keys_read(path, &k, pool);
    ok(err && strstr(err, "others"), "a world-readable key file");
    chmod(path, 0640);
    ok(os_token_keys_read(path, &k, pool) == NULL && k->nelts == 1,
       "mode 0640");
    unlink(path);
    ok(os_token_keys_read(path, &k, pool) != NULL, "a missing key file");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    keys = apr_array_make(pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(keys, const char *) = TV_K1;
    APR_ARRAY_PUSH(keys, const char *) = TV_K2;
    vectors();
    tampering();
    encoders();
    key_files();
    apr_pool_destroy(pool);
    apr_terminate();
    return unit_done();
}
