/* os_render.h: rows to bytes in the export's format, written into the
 * request's os_out. The format's writer (os_render_writer.h) is chosen
 * here; the caller does not know which one it holds.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_RENDER_H
#define OS_RENDER_H

#include <libpq-fe.h>

#include "os_format.h"
#include "os_output.h"

typedef struct os_render os_render;

/* What an export's config says of its rendering. The config layer fills
 * it (os_config_render) and hands it down: render never reads the
 * config's structures, so the arrow runs one way. */
typedef struct os_render_opts {
    const char *location; /* the export's <Location>, for the error log */
    int header;           /* 0: OrderStreamHeader off, no header row */
    /* OrderStreamHeader's labels (const char *), or NULL: the first
     * query's column names */
    const apr_array_header_t *labels;
    const char *eol;         /* CSV: OrderStreamLineEnding, as bytes */
    char delimiter;          /* CSV: OrderStreamDelimiter */
    int bom;                 /* CSV: OrderStreamBOM */
    int formula_guard;       /* CSV: OrderStreamFormulaGuard */
    int group_by;            /* NDJSON: OrderStreamGroupBy's N, 0: none */
    const char *group_label; /* its LABEL */
    int max_group_rows;      /* OrderStreamMaxGroupRows */
    int sheet_rows;          /* XLSX: OrderStreamSheetRows */
    int xlsx_level;          /* XLSX: OrderStreamXLSXLevel */
    int xlsx_exact;          /* XLSX: OrderStreamXLSXNumbers exact */
} os_render_opts;

/* A limit of the format was reached mid-stream (OrderStreamGroupBy's
 * OrderStreamMaxGroupRows, a workbook's 4 GiB): the download must be cut;
 * os_render_limit() says which. */
#define OS_RENDER_LIMIT (APR_OS_START_USERERR + 1)

/* Prepares the rendering in format f of rows described by desc (the first
 * query's columns and names; labels come from o); types[i] and
 * typmods[i] are column i's in every query of the chain (0 and -1 where
 * they differ). Returns NULL with *why when the config does not fit the
 * columns (OrderStreamGroupBy N with N not below the column count): a 500
 * before the first byte. */
os_render *os_render_create(const os_render_opts *o, os_format f,
                            const PGresult *desc, const Oid *types,
                            const int *typmods, apr_pool_t *p,
                            const char **why);

/* A command the export's transaction must run before the first FETCH, or
 * NULL: how the format needs values printed (SET LOCAL DateStyle). */
const char *os_render_setup_sql(const os_render *rd);

/* The query to declare instead of sql, or NULL when it stays as it is
 * (NDJSON has PostgreSQL render some types with to_json). */
const char *os_render_wrap_sql(const os_render *rd, const char *sql,
                               apr_pool_t *p);

/* What goes before the first row. */
apr_status_t os_render_begin(os_render *rd, os_out *out);

/* Rows from..to-1 of a batch (from the query os_render_wrap_sql made);
 * *rows counts the rows written. Returns the output's status, or
 * OS_RENDER_LIMIT. */
apr_status_t os_render_rows(os_render *rd, os_out *out, const PGresult *res,
                            int from, int to, apr_int64_t *rows);

/* After the last row: closes what is open (a group, a workbook). */
apr_status_t os_render_end(os_render *rd, os_out *out);

/* After OS_RENDER_LIMIT: which limit was reached (for the error log), and
 * the orderstream-outcome note in *outcome. */
const char *os_render_limit(const os_render *rd, const char **outcome);

#endif /* OS_RENDER_H */
