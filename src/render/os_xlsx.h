/* os_xlsx.h: a streaming XLSX (Excel workbook) writer. Rows in, as
 * PostgreSQL's text output, a zip of SpreadsheetML out through a sink
 * callback as it is produced, in memory bounded by one row's cells, the
 * compressor and the sheet count (not by rows, strings or bytes). Needs
 * only APR, zlib and libarchive, so it is unit-tested without a server
 * (t/unit/test_xlsx.c).
 *
 * Use: os_xlsx_create, os_xlsx_begin, os_xlsx_row for each row,
 * os_xlsx_end. Any error leaves the workbook unfinished (no central
 * directory, so no reader opens it): the caller cuts the download.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_XLSX_H
#define OS_XLSX_H

#include <apr_errno.h>
#include <apr_pools.h>

#include "os_xlsx_zip.h"

typedef struct os_xlsx os_xlsx;

/* Errors of their own (APR_OS_START_USERERR + 20...; os_render.h uses
 * + 1). Each leaves the workbook unfinished, every later call returning
 * the same. */
/* The workbook would pass 4 GiB (the limit of a zip without Zip64, which
 * Excel and LibreOffice do not all read), or one row's XML could not fit
 * in a sheet below 4 GiB. Detected before any size or offset reaches
 * 2^32: nothing past the limit was written. */
#define OS_XLSX_ETOOBIG (APR_OS_START_USERERR + 20)
/* The row needs sheet OS_XLSX_SHEETS_MAX + 1. */
#define OS_XLSX_ESHEETS (APR_OS_START_USERERR + 21)
/* OS_XLSX_EARCHIVE (+ 22), libarchive or zlib failed: os_xlsx_zip.h. */

/* Excel's rows per sheet, less the header row. */
#define OS_XLSX_SHEET_ROWS_MAX 1048575
/* Excel's columns per sheet. */
#define OS_XLSX_COLUMNS_MAX 16384
/* Sheets per workbook. Why: libarchive keeps the central directory in
 * memory until the end, in 64 KiB blocks; with the last row kept here per
 * sheet that measured 96 bytes a sheet (bench/xlsx_writer), so 4,096
 * sheets hold 394 KB: well below the ~1 MB an export may hold, and far
 * below the 65,535 entries past which a zip needs Zip64. At the default
 * sheet size the 4 GiB limit comes first (at level 1 about 110 sheets of
 * shop rows). */
#define OS_XLSX_SHEETS_MAX 4096
/* The deflate level when the caller gives 0. Why 1: bench/xlsx_writer,
 * 1,000,000 shop rows (264 MB of XML), writer alone on one core: level 1
 * 1.6 s, 36.8 MB; level 3 2.3 s, 33.2 MB; level 6 4.2 s, 27.6 MB. The
 * CSV export of those rows takes ~3.6 s end to end, PostgreSQL on the
 * other core: level 1 keeps the writer well inside that, level 6 alone
 * would exceed it for a file 25% smaller. */
#define OS_XLSX_LEVEL_DEFAULT 1

typedef struct os_xlsx_opts {
    int ncols;             /* 1..OS_XLSX_COLUMNS_MAX */
    const unsigned *types; /* ncols PostgreSQL type OIDs */
    const int *typmods;    /* ncols typmods (-1 none), or NULL */
    /* ncols header labels (NULL ones empty), or NULL: no header row, and
     * then no frozen pane and no autofilter (a filter's first row would be
     * data, hidden behind its buttons) */
    const char *const *labels;
    long sheet_rows; /* data rows per sheet, 1..OS_XLSX_SHEET_ROWS_MAX;
                      * 0 = the maximum */
    int level;       /* deflate level 1..9, 0 = OS_XLSX_LEVEL_DEFAULT */
    os_xlsx_sink sink;
    void *ctx; /* the sink's */
    /* 1: every number column keeps the exact rule (at most 15
     * significant digits, else text), as numeric(p, s) does; 0: the
     * rule of each column's type (os_xlsx_cell.c) */
    int exact_numbers;
} os_xlsx_opts;

/* What the writer did so far; readable after any call, also after an
 * error. */
typedef struct os_xlsx_stats {
    long cut_cells;         /* texts cut at 32,767 characters */
    int sheets;             /* sheets started */
    apr_uint64_t rows;      /* data rows written */
    apr_uint64_t xml_bytes; /* uncompressed bytes of every part */
    apr_uint64_t zip_bytes; /* bytes given to the sink */
} os_xlsx_stats;

/* A writer of one workbook for columns described by o (copied: o and its
 * arrays need not outlive the call; labels are copied too). Nothing is
 * written yet. Its memory comes from p; libarchive's handle and zlib's
 * state are released by a cleanup on p, so a request that ends early
 * leaks nothing (and the sink is not called from the cleanup). Returns
 * APR_EINVAL for options out of range, or OS_XLSX_EARCHIVE. */
apr_status_t os_xlsx_create(os_xlsx **w, const os_xlsx_opts *o, apr_pool_t *p);

/* Writes what comes before the first row: the zip entry of sheet 1 (its
 * local header reaches the sink at once) and the start of its XML, with
 * the header row. Returns APR_SUCCESS or an error above. */
apr_status_t os_xlsx_begin(os_xlsx *w);

/* Appends one row: values[i] is column i's text output (values[i] NULL:
 * SQL NULL, no cell), lens[i] its length. Starts a new sheet (with the
 * header row again) when the current one has sheet_rows rows or when this
 * row could take its XML past 4 GiB. Allocates nothing (a new sheet: its
 * central directory record in libarchive, its last row here). Returns
 * APR_SUCCESS, the sink's failure, OS_XLSX_ETOOBIG, OS_XLSX_ESHEETS or
 * OS_XLSX_EARCHIVE; APR_EINVAL before begin or after end. */
apr_status_t os_xlsx_row(os_xlsx *w, const char *const *values,
                         const apr_size_t *lens);

/* Closes the last sheet and writes the rest of the package (workbook,
 * relationships, content types, styles) and the zip's central directory.
 * After APR_SUCCESS the sink has received a complete workbook. */
apr_status_t os_xlsx_end(os_xlsx *w);

/* The counts above. */
const os_xlsx_stats *os_xlsx_get_stats(const os_xlsx *w);

/* After an error: what failed, for the log ("workbook would pass 4
 * GiB", libarchive's message, ...); "" when nothing failed. */
const char *os_xlsx_error(const os_xlsx *w);

/* For tests only: lowers the limits of one sheet's XML and of the whole
 * zip (both 4 GiB - 1 by default), so that the splitting by size and
 * OS_XLSX_ETOOBIG can be seen without writing gigabytes. Call before
 * os_xlsx_begin. */
void os_xlsx_set_limits(os_xlsx *w, apr_uint64_t part_max,
                        apr_uint64_t zip_max);

#endif /* OS_XLSX_H */
