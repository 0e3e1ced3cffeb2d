/* os_render.c: rows to bytes, in the format the request chose.
 *
 * Each format is a writer of its own behind one small interface
 * (os_render_writer.h: create, begin, rows, end): CSV and TSV in
 * os_render_text.c, NDJSON in os_render_ndjson.c, XLSX in
 * os_render_xlsx.c. This file gathers what every writer needs to know of
 * the columns (labels, types, typmods), picks the writer of the format and
 * passes the calls on, so that the handler holds an os_render and never
 * learns which format it streams.
 *
 * Every writer reserves room in the output buffer and formats in place (or
 * hands its bytes to it): nothing is allocated per row or per field.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include "os_private.h"

#include <string.h>

#include <apr_strings.h>

#include "os_render.h"
#include "os_render_writer.h"

/* The writers, one per format. */
static const os_render_writer *const writers[] = {
    &os_render_csv,
    &os_render_tsv,
    &os_render_ndjson,
    &os_render_xlsx,
};

struct os_render {
    const os_render_writer *w;
    void *state;
};

static const os_render_writer *writer_of(os_format f)
{
    apr_size_t i;

    for (i = 0; i < sizeof(writers) / sizeof(writers[0]); i++) {
        if (writers[i]->format == f) {
            return writers[i];
        }
    }
    return writers[0];
}

/* The columns as the writers see them; copied, since desc is freed with
 * the first batch. */
static os_render_cols *columns(const os_render_opts *o, const PGresult *desc,
                               const Oid *types, const int *typmods,
                               apr_pool_t *p)
{
    os_render_cols *c = apr_pcalloc(p, sizeof(*c));
    int i, n = PQnfields(desc);
    const char **labels =
        apr_pcalloc(p, sizeof(*labels) * ((apr_size_t)n + 1));
    Oid *first = apr_pcalloc(p, sizeof(*first) * ((apr_size_t)n + 1));

    for (i = 0; i < n; i++) {
        labels[i] = o->labels ? APR_ARRAY_IDX(o->labels, i, const char *)
                              : apr_pstrdup(p, PQfname(desc, i));
        first[i] = PQftype(desc, i);
    }
    c->ncols = n;
    c->labels = labels;
    c->header = o->header;
    c->types = types;
    c->typmods = typmods;
    c->first = first;
    return c;
}

os_render *os_render_create(const os_render_opts *o, os_format f,
                            const PGresult *desc, const Oid *types,
                            const int *typmods, apr_pool_t *p,
                            const char **why)
{
    os_render *rd = apr_pcalloc(p, sizeof(*rd));

    rd->w = writer_of(f);
    rd->state = rd->w->create(columns(o, desc, types, typmods, p), o, p, why);
    return rd->state ? rd : NULL;
}

const char *os_render_setup_sql(const os_render *rd)
{
    return rd->w->setup_sql;
}

const char *os_render_wrap_sql(const os_render *rd, const char *sql,
                               apr_pool_t *p)
{
    return rd->w->wrap_sql ? rd->w->wrap_sql(rd->state, sql, p) : NULL;
}

apr_status_t os_render_begin(os_render *rd, os_out *out)
{
    return rd->w->begin(rd->state, out);
}

apr_status_t os_render_rows(os_render *rd, os_out *out, const PGresult *res,
                            int from, int to, apr_int64_t *rows)
{
    return rd->w->rows(rd->state, out, res, from, to, rows);
}

apr_status_t os_render_end(os_render *rd, os_out *out)
{
    return rd->w->end(rd->state, out);
}

const char *os_render_limit(const os_render *rd, const char **outcome)
{
    *outcome = "limit";
    return rd->w->limit ? rd->w->limit(rd->state, outcome) : "";
}

apr_status_t os_render_put(os_out *out, const char *s, apr_size_t n)
{
    char *d = os_out_reserve(out, n);

    if (!d) {
        return os_out_status(out);
    }
    memcpy(d, s, n);
    os_out_commit(out, n);
    return APR_SUCCESS;
}
