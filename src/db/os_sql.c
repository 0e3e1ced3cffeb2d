/* os_sql.c: finding the $N placeholders of a query, for the config test.
 *
 * Why: a query that says $2 where the Location declares one parameter, or
 * a parameter no query uses, is a mistake that PostgreSQL would only report
 * on the first request (or never, for the unused one). Finding them needs
 * just enough of PostgreSQL's lexer (src/backend/parser/scan.l) to know
 * what is not SQL text: strings, quoted identifiers, comments, dollar
 * quotes, and identifiers, which may contain "$" (a$1 is one name).
 *
 * Layer db: may call its own layer and base.
 */
#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "os_sql.h"

/* scan.l's ident_start and ident_cont: bytes >= 0x80 are letters. */
static int ident_start(unsigned char c)
{
    return apr_isalpha(c) || c == '_' || c >= 0x80;
}

static int ident_cont(unsigned char c)
{
    return ident_start(c) || apr_isdigit(c) || c == '$';
}

/* Past a '...' string; backslash escapes only in E'...'. NULL when
 * unterminated. */
static const char *skip_string(const char *s, int escapes)
{
    for (s++; *s; s++) {
        if (escapes && *s == '\\' && s[1]) {
            s++;
        }
        else if (*s == '\'' && s[1] == '\'') {
            s++;
        }
        else if (*s == '\'') {
            return s + 1;
        }
    }
    return NULL;
}

/* Past a "..." identifier ("" is a quote inside it). */
static const char *skip_quoted_ident(const char *s)
{
    for (s++; *s; s++) {
        if (*s == '"' && s[1] == '"') {
            s++;
        }
        else if (*s == '"') {
            return s + 1;
        }
    }
    return NULL;
}

/* Past a slash-star comment; they nest in PostgreSQL. */
static const char *skip_comment(const char *s)
{
    int depth = 0;

    while (*s) {
        if (s[0] == '/' && s[1] == '*') {
            depth++;
            s += 2;
        }
        else if (s[0] == '*' && s[1] == '/') {
            s += 2;
            if (--depth == 0) {
                return s;
            }
        }
        else {
            s++;
        }
    }
    return NULL;
}

/* At "$": the length of a dollar-quote opener ($$ or $tag$), else 0. */
static apr_size_t dollar_tag(const char *s)
{
    apr_size_t n = 1;

    if (s[n] != '$' && !ident_start((unsigned char)s[n])) {
        return 0;
    }
    while (s[n] && s[n] != '$') {
        /* a tag is an identifier without "$" */
        if (!ident_start((unsigned char)s[n]) && !apr_isdigit(s[n])) {
            return 0;
        }
        n++;
    }
    return s[n] == '$' ? n + 1 : 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* Adds n to found unless it is there. */
static void add_once(apr_array_header_t *found, int n)
{
    int i;

    for (i = 0; i < found->nelts; i++) {
        if (APR_ARRAY_IDX(found, i, int) == n) {
            return;
        }
    }
    APR_ARRAY_PUSH(found, int) = n;
}

/* At "$" followed by a digit: the placeholder's number, s moved past it. */
static const char *placeholder(const char **s, apr_array_header_t *found,
                               apr_pool_t *p)
{
    const char *d = *s + 1;
    long n = 0;

    while (apr_isdigit(*d)) {
        if (n <= OS_SQL_MAX_PARAM) {
            n = n * 10 + (*d - '0');
        }
        d++;
    }
    if (n < 1 || n > OS_SQL_MAX_PARAM) {
        return apr_psprintf(p,
                            "$%.*s is not a placeholder: they go from $1 "
                            "to $%d",
                            (int)(d - *s - 1), *s + 1, OS_SQL_MAX_PARAM);
    }
    add_once(found, (int)n);
    *s = d;
    return NULL;
}

const char *os_sql_placeholders(const char *sql, apr_array_header_t **found,
                                apr_pool_t *p)
{
    const char *s = sql, *err;
    apr_size_t tag;

    *found = apr_array_make(p, 4, sizeof(int));
    while (*s) {
        const char *from = s;
        if (*s == '\'') {
            s = skip_string(s, 0);
        }
        else if ((*s == 'E' || *s == 'e') && s[1] == '\'') {
            s = skip_string(s + 1, 1); /* E'...': only a lone E or e */
        }
        else if (ident_start((unsigned char)*s)) {
            while (ident_cont((unsigned char)*s)) {
                s++;
            }
        }
        else if (*s == '"') {
            s = skip_quoted_ident(s);
        }
        else if (s[0] == '-' && s[1] == '-') {
            s += strcspn(s, "\r\n");
        }
        else if (s[0] == '/' && s[1] == '*') {
            s = skip_comment(s);
        }
        else if (*s == '$' && apr_isdigit(s[1])) {
            if ((err = placeholder(&s, *found, p)) != NULL) {
                return err;
            }
        }
        else if (*s == '$' && (tag = dollar_tag(s)) > 0) {
            const char *close = strstr(s + tag, apr_pstrndup(p, s, tag));
            s = close ? close + tag : NULL;
        }
        else if (apr_isdigit(*s)) {
            /* a number, with whatever letters follow it (1e5, 10$1 is not
             * valid SQL either way) */
            while (apr_isalnum(*s) || *s == '.' || *s == '_') {
                s++;
            }
        }
        else {
            s++;
        }
        if (!s) {
            return apr_psprintf(p, "unterminated %s at \"%.20s\"",
                                *from == '"'       ? "quoted identifier"
                                    : *from == '/' ? "comment"
                                    : *from == '$' ? "dollar-quoted string"
                                                   : "quoted string",
                                from);
        }
    }
    qsort((*found)->elts, (size_t)(*found)->nelts, sizeof(int), cmp_int);
    return NULL;
}
