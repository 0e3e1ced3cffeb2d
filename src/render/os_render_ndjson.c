/* os_render_ndjson.c: NDJSON, one JSON object per row (or per group of
 * rows, OrderStreamGroupBy), its keys the header labels.
 *
 * The values are what PostgreSQL's to_json gives (numbers, NaN as a
 * string, booleans, json embedded, arrays as arrays, timestamps in ISO 8601
 * with T, composite types as objects). For the types whose to_json is
 * their text output, quoted or not (integers, floats, numeric, boolean,
 * text, json, jsonb, uuid), the writer makes it from the text output
 * itself; every other column is wrapped in to_json in the query (wrap_sql),
 * so arrays, dates and composites are exactly PostgreSQL's without a
 * second implementation of them here. Measured in the README's Formats
 * section: the database's to_json is what NDJSON costs beyond CSV.
 *
 * Grouping writes a group as it reads it, so its memory is one row's keys,
 * whatever the size of the group; OrderStreamMaxGroupRows bounds what a
 * client must hold to read one line.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include "os_private.h"

#include <string.h>

#include <apr_strings.h>

#include "os_render.h"
#include "os_render_writer.h"

/* How an NDJSON value is written. */
typedef enum {
    OS_JV_WRAPPED = 0, /* to_json's output, as it is */
    OS_JV_NUMBER,      /* as it is when a JSON number, else a string */
    OS_JV_BOOL,        /* t/f as true/false */
    OS_JV_STRING,      /* a JSON string of the text output */
    OS_JV_JSON         /* json and jsonb: as they are */
} os_json_kind;

typedef struct os_key {
    const char *v; /* in the group pool; NULL: SQL NULL */
    int len;
} os_key;

typedef struct os_ndjson {
    int ncols;
    const char **json_keys;   /* "label": per column, written once */
    apr_size_t *json_key_len; /* their lengths, not counted per row */
    unsigned char *kind;      /* os_json_kind per column */
    /* grouping */
    int nkeys;             /* key columns; 0: no grouping */
    const char *group_key; /* "LABEL": */
    apr_size_t group_key_len;
    int max_group_rows;
    int in_group, group_rows;
    os_key *keys;      /* the open group's key values */
    apr_pool_t *gpool; /* holds them; cleared per group */
} os_ndjson;

/* A JSON object key: "label":, and its length in *klen. */
static const char *json_key(const char *label, apr_size_t *klen, apr_pool_t *p)
{
    apr_size_t len = strlen(label);
    char *k = apr_palloc(p, OS_JSON_STRING_MAX(len) + 2);
    apr_size_t n = os_json_string(k, label, len);

    k[n++] = ':';
    k[n] = '\0';
    *klen = n;
    return k;
}

/* The built-in types whose to_json is their text output (json.c's
 * json_categorize_type): the rest, and a column whose type differs
 * between the queries of a chain (0), are left to to_json. */
static os_json_kind json_kind(Oid oid)
{
    switch (oid) {
    case 20:   /* int8 */
    case 21:   /* int2 */
    case 23:   /* int4 */
    case 700:  /* float4 */
    case 701:  /* float8 */
    case 1700: /* numeric */
        return OS_JV_NUMBER;
    case 16: /* bool */
        return OS_JV_BOOL;
    case 19:   /* name */
    case 25:   /* text */
    case 1042: /* bpchar */
    case 1043: /* varchar */
    case 2950: /* uuid */
        return OS_JV_STRING;
    case 114:  /* json */
    case 3802: /* jsonb */
        return OS_JV_JSON;
    default:
        return OS_JV_WRAPPED;
    }
}

static void *create(const os_render_cols *c, const os_render_opts *o,
                    apr_pool_t *p, const char **why)
{
    os_ndjson *rd = apr_pcalloc(p, sizeof(*rd));
    int i;

    rd->ncols = c->ncols;
    rd->json_keys = apr_pcalloc(p, sizeof(*rd->json_keys) * (rd->ncols + 1));
    rd->json_key_len =
        apr_pcalloc(p, sizeof(*rd->json_key_len) * (rd->ncols + 1));
    rd->kind = apr_pcalloc(p, (apr_size_t)rd->ncols + 1);
    for (i = 0; i < rd->ncols; i++) {
        rd->kind[i] = (unsigned char)json_kind(c->types[i]);
        rd->json_keys[i] = json_key(c->labels[i], &rd->json_key_len[i], p);
    }
    if ((rd->nkeys = o->group_by)) {
        if (rd->nkeys >= rd->ncols) {
            *why = apr_psprintf(p,
                                "OrderStreamGroupBy %d needs more than %d "
                                "columns: the query returns %d",
                                rd->nkeys, rd->nkeys, rd->ncols);
            return NULL;
        }
        rd->group_key = json_key(o->group_label, &rd->group_key_len, p);
        rd->max_group_rows = o->max_group_rows;
        rd->keys = apr_pcalloc(p, sizeof(*rd->keys) * (apr_size_t)rd->nkeys);
        apr_pool_create(&rd->gpool, p);
        apr_pool_tag(rd->gpool, "orderstream_group");
    }
    return rd;
}

static const char *wrap_sql(void *w, const char *sql, apr_pool_t *p)
{
    const os_ndjson *rd = w;
    const char *cols = "", *alias = "";
    int i, wrapped = 0;

    /* The alias list names the columns c1..cN whatever the query calls
     * them (two columns may share a name, or have none); the labels come
     * from the first describe. */
    for (i = 1; i <= rd->ncols; i++) {
        int wrap = rd->kind[i - 1] == OS_JV_WRAPPED;
        cols = apr_psprintf(p, "%s%s%sorderstream_q.c%d%s", cols,
                            i > 1 ? ", " : "", wrap ? "to_json(" : "", i,
                            wrap ? ")" : "");
        alias = apr_psprintf(p, "%s%sc%d", alias, i > 1 ? ", " : "", i);
        wrapped += wrap;
    }
    if (!wrapped) {
        return NULL;
    }
    /* the query on lines of its own: a trailing -- comment ends with its
     * line instead of swallowing the closing parenthesis */
    return apr_psprintf(p, "SELECT %s FROM (\n%s\n) AS orderstream_q(%s)",
                        cols, sql, alias);
}

/* Whether s is a JSON number as PostgreSQL's JSON lexer reads one
 * (json_lex_number): no leading zeros, digits after a point, no NaN. */
static int json_number(const char *s, apr_size_t len)
{
    apr_size_t i = s[0] == '-';

    if (i < len && s[i] == '0') {
        i++;
    }
    else if (i < len && s[i] >= '1' && s[i] <= '9') {
        i += strspn(s + i, "0123456789");
    }
    else {
        return 0;
    }
    if (i < len && s[i] == '.') {
        apr_size_t n = strspn(s + i + 1, "0123456789");
        if (!n) {
            return 0;
        }
        i += 1 + n;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        apr_size_t n;
        i += 1 + (s[i + 1] == '+' || s[i + 1] == '-');
        if ((n = strspn(s + i, "0123456789")) == 0) {
            return 0;
        }
        i += n;
    }
    return i == len;
}

/* CR and LF in JSON text PostgreSQL made (json, jsonb, to_json) can only
 * be whitespace between tokens (inside a string they are escaped): made
 * spaces, so that a value never breaks its NDJSON line. */
static void one_line(char *d, apr_size_t n)
{
    for (; n > 0; d++, n--) {
        if (*d == '\n' || *d == '\r') {
            *d = ' ';
        }
    }
}

/* One value as its column's kind says, into d (room for
 * OS_JSON_STRING_MAX(len)); returns the bytes written. */
static apr_size_t json_value(const os_ndjson *rd, int col, char *d,
                             const char *v, apr_size_t len)
{
    switch (rd->kind[col]) {
    case OS_JV_BOOL:
        memcpy(d, *v == 't' ? "true" : "false", *v == 't' ? 4 : 5);
        return *v == 't' ? 4 : 5;
    case OS_JV_STRING:
        return os_json_string(d, v, len);
    case OS_JV_NUMBER:
        if (!json_number(v, len)) {
            return os_json_string(d, v, len); /* NaN, Infinity */
        }
        memcpy(d, v, len);
        return len;
    default: /* json, jsonb, to_json's output */
        memcpy(d, v, len);
        one_line(d, len);
        return len;
    }
}

/* Columns from..to-1 of row as "key":value pairs, comma-separated. */
static apr_status_t put_members(os_ndjson *rd, os_out *out,
                                const PGresult *res, int row, int from, int to)
{
    int col;

    for (col = from; col < to; col++) {
        const char *k = rd->json_keys[col];
        apr_size_t klen = rd->json_key_len[col], n;
        int null = PQgetisnull(res, row, col);
        apr_size_t vlen = (apr_size_t)PQgetlength(res, row, col);
        /* the most a value can take, and room for null or false */
        char *d = os_out_reserve(out, 1 + klen + OS_JSON_STRING_MAX(vlen) + 5);
        if (!d) {
            return os_out_status(out);
        }
        n = col > from;
        if (n) {
            *d = ',';
        }
        memcpy(d + n, k, klen);
        n += klen;
        if (null) {
            memcpy(d + n, "null", 4);
            n += 4;
        }
        else {
            n += json_value(rd, col, d + n, PQgetvalue(res, row, col), vlen);
        }
        os_out_commit(out, n);
    }
    return APR_SUCCESS;
}

/* One object of the given columns, in braces. */
static apr_status_t put_object(os_ndjson *rd, os_out *out, const PGresult *res,
                               int row, int from, int to)
{
    apr_status_t rv = os_render_put(out, "{", 1);

    if (rv == APR_SUCCESS) {
        rv = put_members(rd, out, res, row, from, to);
    }
    return rv == APR_SUCCESS ? os_render_put(out, "}", 1) : rv;
}

/* Whether row's key columns equal the open group's. */
static int same_group(const os_ndjson *rd, const PGresult *res, int row)
{
    int i;

    for (i = 0; i < rd->nkeys; i++) {
        int null = PQgetisnull(res, row, i);
        if (null != !rd->keys[i].v
            || (!null
                && (PQgetlength(res, row, i) != rd->keys[i].len
                    || memcmp(PQgetvalue(res, row, i), rd->keys[i].v,
                              (apr_size_t)rd->keys[i].len)))) {
            return 0;
        }
    }
    return 1;
}

/* Closes the open group, and opens row's: {"key":v,...,"LABEL":[ */
static apr_status_t open_group(os_ndjson *rd, os_out *out, const PGresult *res,
                               int row)
{
    apr_status_t rv =
        rd->in_group ? os_render_put(out, "]}\n", 3) : APR_SUCCESS;
    int i;

    apr_pool_clear(rd->gpool);
    for (i = 0; i < rd->nkeys; i++) {
        rd->keys[i].len = PQgetlength(res, row, i);
        rd->keys[i].v = PQgetisnull(res, row, i)
            ? NULL
            : apr_pmemdup(rd->gpool, PQgetvalue(res, row, i),
                          (apr_size_t)rd->keys[i].len);
    }
    rd->in_group = 1;
    rd->group_rows = 0;
    if (rv == APR_SUCCESS) {
        rv = os_render_put(out, "{", 1);
    }
    if (rv == APR_SUCCESS) {
        rv = put_members(rd, out, res, row, 0, rd->nkeys);
    }
    if (rv == APR_SUCCESS) {
        rv = os_render_put(out, ",", 1);
    }
    if (rv == APR_SUCCESS) {
        rv = os_render_put(out, rd->group_key, rd->group_key_len);
    }
    return rv == APR_SUCCESS ? os_render_put(out, "[", 1) : rv;
}

static apr_status_t put_grouped(os_ndjson *rd, os_out *out,
                                const PGresult *res, int row)
{
    apr_status_t rv;

    if (rd->in_group && same_group(rd, res, row)) {
        if (rd->group_rows >= rd->max_group_rows) {
            return OS_RENDER_LIMIT;
        }
        rv = os_render_put(out, ",", 1);
    }
    else {
        rv = open_group(rd, out, res, row);
    }
    rd->group_rows++;
    return rv == APR_SUCCESS
        ? put_object(rd, out, res, row, rd->nkeys, rd->ncols)
        : rv;
}

static apr_status_t begin(void *w, os_out *out)
{
    (void)w;
    (void)out;
    return APR_SUCCESS; /* the labels are in every object */
}

static apr_status_t rows(void *w, os_out *out, const PGresult *res, int from,
                         int to, apr_int64_t *count)
{
    os_ndjson *rd = w;
    apr_status_t rv = APR_SUCCESS;
    int row;

    for (row = from; row < to && rv == APR_SUCCESS; row++) {
        if (rd->nkeys) {
            rv = put_grouped(rd, out, res, row);
        }
        else {
            rv = put_object(rd, out, res, row, 0, rd->ncols);
            if (rv == APR_SUCCESS) {
                rv = os_render_put(out, "\n", 1);
            }
        }
        if (rv == APR_SUCCESS) {
            (*count)++;
        }
    }
    return rv;
}

static apr_status_t end(void *w, os_out *out)
{
    os_ndjson *rd = w;

    if (!rd->in_group) {
        return APR_SUCCESS;
    }
    rd->in_group = 0;
    return os_render_put(out, "]}\n", 3);
}

static const char *limit(void *w, const char **outcome)
{
    os_ndjson *rd = w;

    *outcome = "group-too-large";
    return apr_psprintf(rd->gpool,
                        "a group of OrderStreamGroupBy has more than "
                        "OrderStreamMaxGroupRows %d rows (are the rows sorted "
                        "by the key?)",
                        rd->max_group_rows);
}

const os_render_writer os_render_ndjson = {
    OS_FMT_NDJSON, create, NULL, wrap_sql, begin, rows, end, limit,
};
