/* os_sql.c: what the config test reads in a query's text: its $N
 * placeholders, and whether its ORDER BY starts with its first column.
 *
 * Why: a query that says $2 where the Location declares one parameter, or
 * a parameter no query uses, is a mistake that PostgreSQL would only report
 * on the first request (or never, for the unused one). Finding them needs
 * just enough of PostgreSQL's lexer (src/backend/parser/scan.l) to know
 * what is not SQL text: strings, quoted identifiers, comments, dollar
 * quotes, and identifiers, which may contain "$" (a$1 is one name). The
 * same lexer gives the tokens for the sort key check (its own design
 * block below).
 *
 * Layer db: may call its own layer and base.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* What lex found at a point of the text. */
enum tok_kind {
    TOK_SPACE,  /* white space or a comment: not a token */
    TOK_WORD,   /* a keyword or an unquoted identifier */
    TOK_QIDENT, /* a "quoted identifier" */
    TOK_STRING, /* '...', E'...' or $tag$...$tag$ */
    TOK_NUMBER,
    TOK_PARAM, /* $N */
    TOK_CHAR   /* any other byte: punctuation, an operator's character */
};

/* Past the token at s (not at the end of the text), its kind in *kind.
 * NULL when a string, identifier or comment is not terminated. */
static const char *lex(const char *s, enum tok_kind *kind, apr_pool_t *p)
{
    apr_size_t tag;

    *kind = TOK_STRING;
    if (*s == '\'') {
        return skip_string(s, 0);
    }
    if ((*s == 'E' || *s == 'e') && s[1] == '\'') {
        return skip_string(s + 1, 1); /* E'...': only a lone E or e */
    }
    if (*s == '$' && !apr_isdigit(s[1]) && (tag = dollar_tag(s)) > 0) {
        const char *close = strstr(s + tag, apr_pstrndup(p, s, tag));
        return close ? close + tag : NULL;
    }
    *kind = TOK_SPACE;
    if (s[0] == '-' && s[1] == '-') {
        return s + strcspn(s, "\r\n");
    }
    if (s[0] == '/' && s[1] == '*') {
        return skip_comment(s);
    }
    *kind = TOK_WORD;
    if (ident_start((unsigned char)*s)) {
        while (ident_cont((unsigned char)*s)) {
            s++;
        }
        return s;
    }
    *kind = TOK_QIDENT;
    if (*s == '"') {
        return skip_quoted_ident(s);
    }
    *kind = TOK_PARAM;
    if (*s == '$' && apr_isdigit(s[1])) {
        for (s++; apr_isdigit(*s); s++) {
        }
        return s;
    }
    *kind = TOK_NUMBER;
    if (apr_isdigit(*s)) {
        /* a number, with whatever letters follow it (1e5, 10$1 is not
         * valid SQL either way) */
        while (apr_isalnum(*s) || *s == '.' || *s == '_') {
            s++;
        }
        return s;
    }
    *kind = apr_isspace(*s) ? TOK_SPACE : TOK_CHAR;
    return s + 1;
}

/* How much SQL text a message quotes: enough to recognise the place. */
#define QUOTE_MAX 60

/* s..e as one line of at most QUOTE_MAX bytes (not cutting a UTF-8
 * character), "..." when cut. */
static const char *quote(const char *s, const char *e, apr_pool_t *p)
{
    apr_size_t n = (apr_size_t)(e - s), i;
    int cut = n > QUOTE_MAX;
    char *q;

    if (cut) {
        for (n = QUOTE_MAX; n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80;
             n--) {
        }
    }
    q = apr_pstrndup(p, s, n);
    for (i = 0; i < n; i++) {
        if ((unsigned char)q[i] < 0x20 || q[i] == 0x7f) {
            q[i] = ' ';
        }
    }
    return cut ? apr_pstrcat(p, q, "...", NULL) : q;
}

/* The message for a token at from that lex could not end: its start, on
 * one line. */
static const char *unterminated(const char *from, apr_pool_t *p)
{
    return apr_psprintf(p, "unterminated %s at \"%s\"",
                        *from == '"'       ? "quoted identifier"
                            : *from == '/' ? "comment"
                            : *from == '$' ? "dollar-quoted string"
                                           : "quoted string",
                        quote(from, from + strnlen(from, 20), p));
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

/* The placeholder s..end ("$" and digits) added to found, or a message. */
static const char *placeholder(const char *s, const char *end,
                               apr_array_header_t *found, apr_pool_t *p)
{
    const char *d;
    long n = 0;

    for (d = s + 1; d < end; d++) {
        if (n <= OS_SQL_MAX_PARAM) {
            n = n * 10 + (*d - '0');
        }
    }
    if (n < 1 || n > OS_SQL_MAX_PARAM) {
        return apr_psprintf(p,
                            "$%.*s is not a placeholder: they go from $1 "
                            "to $%d",
                            (int)(end - s - 1), s + 1, OS_SQL_MAX_PARAM);
    }
    add_once(found, (int)n);
    return NULL;
}

const char *os_sql_placeholders(const char *sql, apr_array_header_t **found,
                                apr_pool_t *p)
{
    const char *s = sql, *from, *err;
    enum tok_kind kind;

    *found = apr_array_make(p, 4, sizeof(int));
    while (*s) {
        from = s;
        if ((s = lex(s, &kind, p)) == NULL) {
            return unterminated(from, p);
        }
        if (kind == TOK_PARAM
            && (err = placeholder(from, s, *found, p)) != NULL) {
            return err;
        }
    }
    qsort((*found)->elts, (size_t)(*found)->nelts, sizeof(int), cmp_int);
    return NULL;
}

/* ---- the leading sort key --------------------------------------------
 *
 * Why: OrderStreamParallel reads slice i as "SELECT * FROM (sql) AS
 * s(c1, ...) WHERE c1 >= b(i-1) AND c1 < b(i)" (the last one with "OR c1
 * IS NULL") and sends the slices one after the other. That is the serial
 * download only when sql's result is sorted by c1 first, ascending, NULLs
 * last. The check reads the tokens at parenthesis depth 0 only: CTE
 * bodies, subqueries, function arguments and window definitions are
 * inside parentheses, so their ORDER BY and commas do not count. It is a
 * reading of the text, not PostgreSQL's parser: wherever it is not sure
 * it refuses, because a refusal costs a config change and a wrong yes
 * costs a download in the wrong order. */

struct tok {
    const char *s;
    apr_size_t n;
    enum tok_kind kind;
    int depth; /* of parentheses and brackets around it; "(" is outside */
};

/* The statement's tokens up to its first depth-0 ";". */
struct scan {
    const struct tok *t;
    int n;
    apr_pool_t *p;
};

/* One item of the select list: its expression's tokens [a, b) and the
 * token of its output name, -1 when not known here. */
struct item {
    int a, b, name;
};

/* Where a select list's item (or the list) ends: the reserved words that
 * can follow it, none of which can be a bare alias. */
static const char *const list_end[] = { "from",  "into",      "where",
                                        "group", "having",    "window",
                                        "union", "intersect", "except",
                                        "order", "limit",     "offset",
                                        "fetch", "for",       NULL };

/* Where the first ORDER BY item ends besides a comma. */
static const char *const order_end[] = { "limit", "offset", "fetch", "for",
                                         NULL };

/* Tokens [a, b) quoted; "" when there are none. */
static const char *quote_toks(const struct scan *sc, int a, int b)
{
    if (a >= b) {
        return "";
    }
    return quote(sc->t[a].s, sc->t[b - 1].s + sc->t[b - 1].n, sc->p);
}

/* Whether token i is the keyword kw (lower case) at depth 0. */
static int is_kw(const struct scan *sc, int i, const char *kw)
{
    const struct tok *t;

    if (i < 0 || i >= sc->n) {
        return 0;
    }
    t = &sc->t[i];
    return t->depth == 0 && t->kind == TOK_WORD && strlen(kw) == t->n
        && !strncasecmp(t->s, kw, t->n);
}

static int is_any_kw(const struct scan *sc, int i, const char *const *kws)
{
    for (; *kws; kws++) {
        if (is_kw(sc, i, *kws)) {
            return 1;
        }
    }
    return 0;
}

/* Whether token i is the character c at depth 0. */
static int is_char(const struct scan *sc, int i, char c)
{
    return i >= 0 && i < sc->n && sc->t[i].depth == 0
        && sc->t[i].kind == TOK_CHAR && *sc->t[i].s == c;
}

static int is_ident(const struct tok *t)
{
    return t->kind == TOK_WORD || t->kind == TOK_QIDENT;
}

/* Whether t ends a statement. */
static int is_semi(const struct tok *t)
{
    return t->depth == 0 && t->kind == TOK_CHAR && *t->s == ';';
}

/* Past the depth-0 group that opens at token i. */
static int past_group(const struct scan *sc, int i)
{
    for (i++; i < sc->n && !is_char(sc, i, ')') && !is_char(sc, i, ']'); i++) {
    }
    return i < sc->n ? i + 1 : sc->n;
}

/* An identifier as PostgreSQL compares it: unquoted folded to lower case
 * (ASCII, as for a multibyte encoding), quoted exact with "" as ". */
static const char *ident_value(const struct tok *t, apr_pool_t *p)
{
    char *v = apr_pstrmemdup(p, t->s, t->n), *w = v;
    const char *r;

    if (t->kind == TOK_WORD) {
        for (; *w; w++) {
            *w = (char)apr_tolower(*w);
        }
        return v;
    }
    for (r = t->s + 1; r < t->s + t->n - 1; r++) {
        *w++ = *r;
        if (*r == '"') {
            r++; /* "" inside is one " */
        }
    }
    *w = '\0';
    return v;
}

/* Whether two tokens are the same SQL text: identifiers compared as
 * such, the rest byte for byte. */
static int same_tok(const struct tok *x, const struct tok *y, apr_pool_t *p)
{
    if (is_ident(x) && is_ident(y)) {
        return !strcmp(ident_value(x, p), ident_value(y, p));
    }
    return x->kind == y->kind && x->n == y->n && !memcmp(x->s, y->s, x->n);
}

/* Whether tokens [a, b) and [c, d) are the same text, leaving out white
 * space and comments (lex does not give them). */
static int same_text(const struct scan *sc, int a, int b, int c, int d)
{
    if (b - a != d - c) {
        return 0;
    }
    for (; a < b; a++, c++) {
        if (!same_tok(&sc->t[a], &sc->t[c], sc->p)) {
            return 0;
        }
    }
    return 1;
}

/* The tokens of sql with their depth in *sc, cut at the first depth-0
 * ";". NULL, or a message: unterminated text, unbalanced parentheses, a
 * second statement. */
static const char *tokenize(const char *sql, struct scan *sc, apr_pool_t *p)
{
    apr_array_header_t *toks = apr_array_make(p, 64, sizeof(struct tok));
    const char *s = sql, *from;
    enum tok_kind kind;
    struct tok *t;
    int depth = 0, i;

    while (*s) {
        from = s;
        if ((s = lex(s, &kind, p)) == NULL) {
            return unterminated(from, p);
        }
        if (kind == TOK_SPACE) {
            continue;
        }
        if (kind == TOK_CHAR && (*from == ')' || *from == ']')
            && --depth < 0) {
            return apr_psprintf(p, "unbalanced \"%c\" at \"%s\"", *from,
                                quote(from, from + strlen(from), p));
        }
        t = &APR_ARRAY_PUSH(toks, struct tok);
        t->s = from;
        t->n = (apr_size_t)(s - from);
        t->kind = kind;
        t->depth = depth;
        if (kind == TOK_CHAR && (*from == '(' || *from == '[')) {
            depth++;
        }
    }
    if (depth > 0) {
        return "unbalanced parentheses: a \"(\" is not closed";
    }
    sc->t = (const struct tok *)toks->elts;
    sc->p = p;
    for (i = 0; i < toks->nelts && !is_semi(&sc->t[i]); i++) {
    }
    sc->n = i;
    while (i < toks->nelts && is_semi(&sc->t[i])) {
        i++;
    }
    if (i < toks->nelts) {
        return apr_psprintf(
            p, "two statements: \"%s\" follows the \";\"",
            quote(sc->t[i].s, sc->t[i].s + strlen(sc->t[i].s), p));
    }
    return NULL;
}

/* The token after the main statement's SELECT, past a WITH [RECURSIVE]
 * name [(columns)] AS [NOT] [MATERIALIZED] (...), ... prefix; -1 when the
 * statement is not read as one (VALUES, TABLE, a parenthesised first
 * branch, a CTE's SEARCH or CYCLE clause). */
static int main_select(const struct scan *sc)
{
    int i = 0;

    if (is_kw(sc, 0, "with")) {
        i = is_kw(sc, 1, "recursive") ? 2 : 1;
        for (;;) {
            if (i >= sc->n || sc->t[i].depth || !is_ident(&sc->t[i])) {
                return -1;
            }
            if (is_char(sc, ++i, '(')) {
                i = past_group(sc, i);
            }
            if (!is_kw(sc, i++, "as")) {
                return -1;
            }
            i += is_kw(sc, i, "not");
            i += is_kw(sc, i, "materialized");
            if (!is_char(sc, i, '(')) {
                return -1;
            }
            i = past_group(sc, i);
            if (!is_char(sc, i, ',')) {
                break;
            }
            i++;
        }
    }
    return is_kw(sc, i, "select") ? i + 1 : -1;
}

/* Whether [a, b) is a column reference: name(.name)*. */
static int colref(const struct scan *sc, int a, int b)
{
    int i;

    if (b <= a || (b - a) % 2 == 0) {
        return 0;
    }
    for (i = a; i < b; i++) {
        if ((i - a) % 2 ? !is_char(sc, i, '.') : !is_ident(&sc->t[i])) {
            return 0;
        }
    }
    return 1;
}

/* it's output name, and its expression without the alias: "expr AS
 * name"; "expr name" where expr is a column reference or ends with ")" or
 * "]" (after anything else a word may be part of the expression:
 * interval '1' day, x COLLATE "C"); a column reference's last part. Any
 * other expression: -1, unknown here (PostgreSQL's names for them,
 * "count" or "?column?", are not needed to accept). */
static void name_item(const struct scan *sc, struct item *it)
{
    int a = it->a, b = it->b, last = b - 1;

    it->name = -1;
    if (b - a >= 2 && sc->t[last].depth == 0 && is_ident(&sc->t[last])) {
        if (is_kw(sc, last - 1, "as")) {
            it->b = last - 1;
            it->name = last;
            return;
        }
        if ((colref(sc, a, last) || is_char(sc, last - 1, ')')
             || is_char(sc, last - 1, ']'))
            && !is_kw(sc, last, "isnull") && !is_kw(sc, last, "notnull")) {
            it->b = last;
            it->name = last;
            return;
        }
    }
    if (colref(sc, a, b)) {
        it->name = last;
    }
}

/* The items of the select list that starts at token i (after SELECT):
 * past ALL, DISTINCT, DISTINCT ON (...); each to a depth-0 comma or to
 * the word that ends the list. */
static apr_array_header_t *select_items(const struct scan *sc, int i)
{
    apr_array_header_t *items = apr_array_make(sc->p, 8, sizeof(struct item));
    struct item *it;

    if (is_kw(sc, i, "all")) {
        i++;
    }
    else if (is_kw(sc, i, "distinct")) {
        i++;
        if (is_kw(sc, i, "on") && is_char(sc, i + 1, '(')) {
            i = past_group(sc, i + 1);
        }
    }
    while (i < sc->n && !is_any_kw(sc, i, list_end)) {
        it = &APR_ARRAY_PUSH(items, struct item);
        for (it->a = i;
             i < sc->n && !is_char(sc, i, ',') && !is_any_kw(sc, i, list_end);
             i++) {
        }
        it->b = i;
        name_item(sc, it);
        i += is_char(sc, i, ',');
    }
    return items;
}

/* Whether some ORDER BY is inside parentheses (for the message). */
static int nested_order_by(const struct scan *sc)
{
    int i;

    for (i = 0; i + 1 < sc->n; i++) {
        if (sc->t[i].depth && sc->t[i].kind == TOK_WORD && sc->t[i].n == 5
            && !strncasecmp(sc->t[i].s, "order", 5)
            && sc->t[i + 1].kind == TOK_WORD && sc->t[i + 1].n == 2
            && !strncasecmp(sc->t[i + 1].s, "by", 2)) {
            return 1;
        }
    }
    return 0;
}

/* The first item [*a, *b) of the last depth-0 ORDER BY, without ASC or
 * NULLS LAST. NULL, or a message: none, DESC, USING, NULLS FIRST. */
static const char *order_by(const struct scan *sc, int *a, int *b)
{
    int i, end;

    *a = -1;
    for (i = 0; i + 1 < sc->n; i++) {
        if (is_kw(sc, i, "order") && is_kw(sc, i + 1, "by")) {
            *a = i + 2;
        }
    }
    if (*a < 0) {
        return nested_order_by(sc) ? "the query has no ORDER BY outside "
                                     "parentheses (one inside sorts a part, "
                                     "not the result)"
                                   : "the query has no ORDER BY";
    }
    for (i = *a;
         i < sc->n && !is_char(sc, i, ',') && !is_any_kw(sc, i, order_end);
         i++) {
    }
    end = *b = i;
    if (*b - *a >= 2 && is_kw(sc, *b - 2, "nulls")) {
        if (is_kw(sc, *b - 1, "first")) {
            return apr_psprintf(sc->p, "ORDER BY %s: slices need NULLs last",
                                quote_toks(sc, *a, end));
        }
        *b -= is_kw(sc, *b - 1, "last") ? 2 : 0;
    }
    for (i = *a; i < *b; i++) {
        if (is_kw(sc, i, "desc") || is_kw(sc, i, "using")) {
            return apr_psprintf(sc->p,
                                "ORDER BY %s: slices need ascending order",
                                quote_toks(sc, *a, end));
        }
    }
    *b -= *b > *a && is_kw(sc, *b - 1, "asc");
    if (*a == *b) {
        return "ORDER BY has no first item";
    }
    return NULL;
}

/* Whether the ORDER BY item [a, b) is an integer: PostgreSQL reads it as
 * a column's position. */
static int position(const struct scan *sc, int a, int b, int *one)
{
    const struct tok *t = &sc->t[a];
    apr_size_t i = 0;

    if (b - a != 1 || t->kind != TOK_NUMBER) {
        return 0;
    }
    for (i = 0; i < t->n; i++) {
        if (!apr_isdigit(t->s[i])) {
            return 0;
        }
    }
    for (i = 0; i + 1 < t->n && t->s[i] == '0'; i++) {
    }
    *one = t->n - i == 1 && t->s[i] == '1';
    return 1;
}

/* A bare name in ORDER BY is first an output column's name (SQL92), so
 * one that is the first item's text (a AS k ... ORDER BY a) is that item
 * only when no other column is, or may be, called so. NULL or a message. */
static const char *other_column(const struct scan *sc,
                                const apr_array_header_t *items, int a)
{
    const struct item *it;
    int i;

    for (i = 1; i < items->nelts; i++) {
        it = &APR_ARRAY_IDX(items, i, struct item);
        if (it->name < 0) {
            return apr_psprintf(sc->p,
                                "ORDER BY %s: cannot tell whether it names "
                                "column %d (\"%s\")",
                                quote_toks(sc, a, a + 1), i + 1,
                                quote_toks(sc, it->a, it->b));
        }
        if (same_tok(&sc->t[it->name], &sc->t[a], sc->p)) {
            return apr_psprintf(sc->p,
                                "ORDER BY %s names column %d, not the first",
                                quote_toks(sc, a, a + 1), i + 1);
        }
    }
    return NULL;
}

/* Whether the ORDER BY item [a, b) is the first column. NULL or a
 * message. */
static const char *first_column(const struct scan *sc,
                                const apr_array_header_t *items, int a, int b)
{
    const struct item *first = &APR_ARRAY_IDX(items, 0, struct item);
    int one;

    if (position(sc, a, b, &one)) {
        if (one) {
            return NULL;
        }
    }
    else if (b - a == 1 && is_ident(&sc->t[a]) && first->name >= 0
             && same_tok(&sc->t[first->name], &sc->t[a], sc->p)) {
        return NULL;
    }
    else if (same_text(sc, first->a, first->b, a, b)) {
        return b - a == 1 && is_ident(&sc->t[a]) ? other_column(sc, items, a)
                                                 : NULL;
    }
    return apr_psprintf(sc->p,
                        "ORDER BY starts with \"%s\", not the first column "
                        "\"%s\"",
                        quote_toks(sc, a, b),
                        quote_toks(sc, first->a, first->b));
}

const char *os_sql_leading_key(const char *sql, apr_pool_t *p)
{
    struct scan sc;
    apr_array_header_t *items;
    const char *err;
    int i, a, b;

    if ((err = tokenize(sql, &sc, p)) != NULL) {
        return err;
    }
    if ((i = main_select(&sc)) < 0) {
        return apr_psprintf(p,
                            "cannot tell the first column: the query does "
                            "not start with SELECT (\"%s\")",
                            quote_toks(&sc, 0, sc.n));
    }
    items = select_items(&sc, i);
    if (items->nelts == 0
        || APR_ARRAY_IDX(items, 0, struct item).a
            == APR_ARRAY_IDX(items, 0, struct item).b) {
        return "cannot tell the first column: the select list has no first "
               "item";
    }
    if ((err = order_by(&sc, &a, &b)) != NULL) {
        return err;
    }
    return first_column(&sc, items, a, b);
}
