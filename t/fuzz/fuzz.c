/* fuzz.c: the support every fuzz target links with.
 *
 * Pool memory and AddressSanitizer: an APR pool hands out slices of large
 * blocks, so a write past the end of one allocation lands in the next one
 * and ASan sees nothing. The targets are linked with
 * -Wl,--wrap=apr_palloc (and apr_pstrdup, apr_pstrndup, apr_pmemdup), which
 * sends the calls src/ makes, and only those, to the __wrap_ functions
 * below: each allocation is a malloc of exactly its size, freed by a pool
 * cleanup, so an overrun of a buffer src/ sized itself (apr_pcalloc is a
 * macro over apr_palloc) is a heap-buffer-overflow and a use after the pool
 * is gone a heap-use-after-free. APR's own calls inside libapr are not
 * wrapped (--wrap renames references at static link time only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "fuzz.h"

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        fuzz_fail(__FILE__, __LINE__, "APR initialises");
    }
    /* Pools free what the wrappers below allocated only when destroyed,
     * and APR's blocks are mmap()ed, which LeakSanitizer does not scan for
     * pointers: destroy them all before its check at exit. */
    atexit(apr_terminate);
    if (fuzz_setup) {
        fuzz_setup(root);
    }
    return 0;
}

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
    abort();
}

apr_pool_t *fuzz_pool(void)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        fuzz_fail(__FILE__, __LINE__, "a pool for the input");
    }
    return p;
}

char *fuzz_cstr(const uint8_t *data, size_t size)
{
    size_t n = size ? strnlen((const char *)data, size) : 0;
    char *s = malloc(n + 1);

    if (!s) {
        abort();
    }
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

/* The length a UTF-8 sequence starting with byte c has, 0 if none. */
static size_t utf8_seq(unsigned char c)
{
    return c < 0x80          ? 1
        : (c & 0xe0) == 0xc0 ? 2
        : (c & 0xf0) == 0xe0 ? 3
        : (c & 0xf8) == 0xf0 ? 4
                             : 0;
}

int fuzz_utf8(const char *str, size_t n)
{
    static const unsigned long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    const unsigned char *s = (const unsigned char *)str;
    size_t i, k, len;

    for (i = 0; i < n; i += len) {
        unsigned long cp;

        len = utf8_seq(s[i]);
        if (!len || i + len > n) {
            return 0;
        }
        cp = len == 1 ? s[i] : s[i] & (0x7fu >> len);
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* overlong forms, past U+10FFFF, surrogates */
        if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
    }
    return 1;
}

/* ---- exact-size pool allocations for src/ (see the top) ---------------- */

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size);
char *__wrap_apr_pstrdup(apr_pool_t *p, const char *s);
char *__wrap_apr_pstrndup(apr_pool_t *p, const char *s, apr_size_t n);
void *__wrap_apr_pmemdup(apr_pool_t *p, const void *m, apr_size_t n);

static apr_status_t release(void *mem)
{
    free(mem);
    return APR_SUCCESS;
}

void *__wrap_apr_palloc(apr_pool_t *p, apr_size_t size)
{
    void *mem = malloc(size ? size : 1);

    if (!mem) {
        abort();
    }
    apr_pool_cleanup_register(p, mem, release, apr_pool_cleanup_null);
    return mem;
}

void *__wrap_apr_pmemdup(apr_pool_t *p, const void *m, apr_size_t n)
{
    void *d;

    if (!m) {
        return NULL;
    }
    d = __wrap_apr_palloc(p, n);
    memcpy(d, m, n);
    return d;
}

char *__wrap_apr_pstrdup(apr_pool_t *p, const char *s)
{
    return s ? __wrap_apr_pmemdup(p, s, strlen(s) + 1) : NULL;
}

char *__wrap_apr_pstrndup(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *d;

    if (!s) {
        return NULL;
    }
    n = strnlen(s, n);
    d = __wrap_apr_palloc(p, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
