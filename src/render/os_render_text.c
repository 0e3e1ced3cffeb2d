/* os_render_text.c: the delimited text formats, CSV and TSV: one line per
 * row, fields between delimiters, the header row first.
 *
 * CSV is os_csv.c's quoting (COPY's) with the Location's delimiter, line
 * ending, byte order mark and formula guard. TSV is PostgreSQL's COPY text
 * format (os_tsv_field in os_format.c). The two differ only in how a field
 * is escaped and which options apply, so they are one writer with two
 * faces (os_render_csv, os_render_tsv).
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include "os_private.h"

#include <string.h>

#include <apr_strings.h>

#include "os_csv.h"
#include "os_render.h"
#include "os_render_writer.h"

typedef struct os_text {
    int tsv;
    int ncols;
    const char *const *labels;
    int header, bom;
    unsigned char *guard; /* CSV: columns the formula guard applies to */
    os_csv_fmt csv;
    const char *eol;
    apr_size_t eol_len;
} os_text;

/* Whether a column of type oid holds text a spreadsheet could read as a
 * formula: the string types, json and xml, and the types created in the
 * database (enums, citext, ...: OIDs from 16384, FirstNormalObjectId).
 * Numbers are never touched, so -5 stays -5; nor are dates, times and
 * booleans, whose text output is not a formula. A domain is sent as its
 * base type. */
static int guarded_type(Oid oid)
{
    switch (oid) {
    case 18:   /* char */
    case 19:   /* name */
    case 25:   /* text */
    case 114:  /* json */
    case 142:  /* xml */
    case 705:  /* unknown: a literal 'abc' */
    case 1042: /* bpchar */
    case 1043: /* varchar */
    case 3802: /* jsonb */
        return 1;
    default:
        return oid >= 16384;
    }
}

static os_text *create(const os_render_cols *c, const os_render_opts *o,
                       int tsv, apr_pool_t *p)
{
    os_text *t = apr_pcalloc(p, sizeof(*t));
    int i;

    t->tsv = tsv;
    t->ncols = c->ncols;
    t->labels = c->labels;
    t->header = c->header;
    t->bom = !tsv && o->bom;
    t->eol = tsv ? "\n" : o->eol;
    t->eol_len = strlen(t->eol);
    os_csv_fmt_init(&t->csv, o->delimiter);
    t->guard = apr_pcalloc(p, (apr_size_t)c->ncols + 1);
    for (i = 0; i < c->ncols; i++) {
        t->guard[i] = !tsv && o->formula_guard && guarded_type(c->first[i]);
    }
    return t;
}

static void *create_csv(const os_render_cols *c, const os_render_opts *o,
                        apr_pool_t *p, const char **why)
{
    (void)why;
    return create(c, o, 0, p);
}

static void *create_tsv(const os_render_cols *c, const os_render_opts *o,
                        apr_pool_t *p, const char **why)
{
    (void)why;
    return create(c, o, 1, p);
}

/* One field and what follows it: the delimiter, or the line end after the
 * last. */
static apr_status_t put_field(os_text *t, os_out *out, const char *v,
                              apr_size_t len, unsigned flags, int last)
{
    apr_size_t sep = last ? t->eol_len : 1;
    apr_size_t room = t->tsv ? OS_TSV_FIELD_MAX(len) : OS_CSV_FIELD_MAX(len);
    char *d = os_out_reserve(out, room + sep);
    apr_size_t n;

    if (!d) {
        return os_out_status(out);
    }
    n = t->tsv ? os_tsv_field(d, v, len, (flags & OS_CSV_NULL) != 0)
               : os_csv_field(&t->csv, d, v, len, flags);
    if (last) {
        memcpy(d + n, t->eol, sep);
    }
    else {
        d[n] = t->tsv ? '\t' : t->csv.delim;
    }
    os_out_commit(out, n + sep);
    return APR_SUCCESS;
}

static apr_status_t begin(void *w, os_out *out)
{
    os_text *t = w;
    unsigned lone = t->ncols == 1 ? OS_CSV_LONE : 0;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (t->bom) {
        rv = os_render_put(out, "\xEF\xBB\xBF", 3);
    }
    for (i = 0; t->header && i < t->ncols && rv == APR_SUCCESS; i++) {
        rv = put_field(t, out, t->labels[i], strlen(t->labels[i]), lone,
                       i == t->ncols - 1);
    }
    return rv;
}

static apr_status_t rows(void *w, os_out *out, const PGresult *res, int from,
                         int to, apr_int64_t *count)
{
    os_text *t = w;
    unsigned lone = t->ncols == 1 ? OS_CSV_LONE : 0;
    apr_status_t rv = APR_SUCCESS;
    int row, col;

    for (row = from; row < to && rv == APR_SUCCESS; row++) {
        for (col = 0; col < t->ncols && rv == APR_SUCCESS; col++) {
            unsigned flags = lone | (t->guard[col] ? OS_CSV_GUARD : 0);
            int len = PQgetlength(res, row, col);
            /* Only an empty value can be NULL: one libpq call a field
             * less (each is a call through the PLT with range checks). */
            if (len == 0 && PQgetisnull(res, row, col)) {
                flags |= OS_CSV_NULL;
            }
            rv = put_field(t, out, PQgetvalue(res, row, col), (apr_size_t)len,
                           flags, col == t->ncols - 1);
        }
        if (rv == APR_SUCCESS) {
            (*count)++;
        }
    }
    return rv;
}

static apr_status_t end(void *w, os_out *out)
{
    (void)w;
    (void)out;
    return APR_SUCCESS;
}

const os_render_writer os_render_csv = {
    OS_FMT_CSV, create_csv, NULL, NULL, begin, rows, end, NULL,
};

const os_render_writer os_render_tsv = {
    OS_FMT_TSV, create_tsv, NULL, NULL, begin, rows, end, NULL,
};
