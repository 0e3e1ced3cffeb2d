/* fuzz.h: what the libFuzzer targets in t/fuzz share.
 *
 * Each target (fuzz_NAME.c) defines LLVMFuzzerTestOneInput, feeds the
 * input to one parser or writer of src/ and checks properties of what
 * comes back, not only that nothing crashed. A property that fails aborts
 * through FUZZ_CHECK, which libFuzzer reports as a crash and saves the
 * input for. fuzz.c initialises APR and makes pool allocations of src/
 * visible to AddressSanitizer (see there).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <apr_pools.h>

/* Aborts, naming the property, when cond is false. */
#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fuzz_fail(__FILE__, __LINE__, #cond);                             \
        }                                                                     \
    } while (0)

void fuzz_fail(const char *file, int line, const char *what)
    __attribute__((noreturn));

/* A target may define this to build what all its inputs share, from a
 * pool that lives as long as the process. It runs once, before the first
 * input, so that libFuzzer's per-input leak check does not count it. */
void fuzz_setup(apr_pool_t *p) __attribute__((weak));

/* A pool for one input, to be destroyed before the input's run ends. */
apr_pool_t *fuzz_pool(void);

/* The input as a C string (what a header, a query string or a directive
 * is): data up to its first NUL, NUL-terminated, in a heap block of its
 * own that the caller frees. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/* Whether s[0..n) is UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing past U+10FFFF). */
int fuzz_utf8(const char *s, size_t n);

#endif /* FUZZ_H */
