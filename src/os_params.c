/* os_params.c: ?offset=M&limit=N, strictly.
 *
 * User input is data: values are only ever numbers handed to MOVE and
 * FETCH counts after they parse as such, and anything this export does not
 * declare is refused with a 400 that names it, rather than ignored, so a
 * typo ("limt=10") never turns a preview into a 40-million-row download.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "os_params.h"

/* URL-decodes s in place ("+" is a space). Returns 0 on a bad escape. */
static int unescape(char *s)
{
    char *d = s;

    for (; *s; s++, d++) {
        if (*s == '+') {
            *d = ' ';
        }
        else if (*s != '%') {
            *d = *s;
        }
        else if (apr_isxdigit(s[1]) && apr_isxdigit(s[2])) {
            char hex[3] = { s[1], s[2], '\0' };
            *d = (char)strtol(hex, NULL, 16);
            if (!*d) {
                return 0; /* %00 would cut the value short */
            }
            s += 2;
        }
        else {
            return 0;
        }
    }
    *d = '\0';
    return 1;
}

/* What the client sent, fit for one line of a UTF-8 text body and a log:
 * control bytes and bytes over 0x7e as \xNN, at most 64 characters. */
static const char *shown(const char *v, apr_pool_t *p)
{
    char *out = apr_palloc(p, 64 * 4 + 4), *d = out;
    const unsigned char *s = (const unsigned char *)v;
    int n;

    for (n = 0; *s && n < 64; s++, n++) {
        if (*s < 0x20 || *s > 0x7e) {
            d += apr_snprintf(d, 5, "\\x%02x", *s);
        }
        else {
            *d++ = (char)*s;
        }
    }
    strcpy(d, *s ? "..." : "");
    return out;
}

/* A whole number from 0 to max into *out, or an error naming name. */
static const char *whole(const char *name, const char *v, apr_int64_t max,
                         apr_int64_t *out, apr_pool_t *p)
{
    char *end;

    errno = 0;
    *out = apr_strtoi64(v, &end, 10);
    if (!apr_isdigit(*v) || errno || *end || *out > max) {
        return apr_psprintf(
            p,
            "%s: expected a whole number from 0 to %" APR_INT64_T_FMT
            ", got \"%s\"",
            shown(name, p), max, shown(v, p));
    }
    return NULL;
}

/* One name=value pair; *seen tracks repeats (bit 0 offset, bit 1 limit). */
static const char *one(char *pair, const os_params_rules *rules,
                       os_params *out, unsigned *seen, apr_pool_t *p)
{
    char *value = strchr(pair, '=');
    apr_int64_t max;
    unsigned bit;

    if (value) {
        *value++ = '\0';
    }
    if (!unescape(pair) || (value && !unescape(value))) {
        return apr_psprintf(p, "%s: badly escaped", shown(pair, p));
    }
    if (!strcmp(pair, "offset")) {
        bit = 1;
    }
    else if (!strcmp(pair, "limit")) {
        bit = 2;
    }
    else {
        return apr_psprintf(p, "%s: not a parameter of this export",
                            shown(pair, p));
    }
    if (!rules->preview) {
        return apr_psprintf(p, "%s: previews are off for this export", pair);
    }
    if (*seen & bit) {
        return apr_psprintf(p, "%s: given more than once", pair);
    }
    *seen |= bit;
    max = bit == 2 && rules->max_limit ? rules->max_limit : APR_INT64_MAX;
    return whole(pair, value ? value : "", max,
                 bit == 1 ? &out->offset : &out->limit, p);
}

const char *os_params_parse(const char *args, const os_params_rules *rules,
                            os_params *out, apr_pool_t *p)
{
    char *copy, *pair, *state;
    unsigned seen = 0;
    const char *err;

    out->offset = 0;
    out->limit = -1;
    if (!args || !*args) {
        return NULL;
    }
    copy = apr_pstrdup(p, args);
    for (pair = apr_strtok(copy, "&", &state); pair;
         pair = apr_strtok(NULL, "&", &state)) {
        if ((err = one(pair, rules, out, &seen, p)) != NULL) {
            return err;
        }
    }
    return NULL;
}
