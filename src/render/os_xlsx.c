/* os_xlsx.c: the streaming XLSX writer: sheets, the package's parts and
 * the limits that keep the zip readable (cells: os_xlsx_cell.c; the zip:
 * os_xlsx_zip.c).
 *
 * Order of the parts: readers find parts through the zip's central
 * directory, so the sheets go first, as the rows come, and the parts that
 * name the sheets (workbook, its relationships, content types) are
 * generated at the end from the sheet count; styles are constant. Nothing
 * here grows with the rows; per sheet only its last row number is kept
 * (for the autofilter's defined name), bounded by OS_XLSX_SHEETS_MAX.
 *
 * Buffering: a row's XML is formatted into one buffer of BUF_SIZE bytes,
 * reused for the whole workbook, and handed to the zip when the next cell
 * might not fit or after a row once FLUSH_AT bytes are waiting (so that
 * deflate gets pieces of a size it likes). BUF_SIZE holds the largest
 * possible cell: 32,767 characters of 7-byte escapes.
 *
 * References: every <row> and every <c> carries its r (os_xlsx_cell.c says
 * why); a column's letters are made once per workbook and a row's digits
 * once per row, so a cell's reference is two memcpy.
 *
 * 4 GiB: a zip without Zip64 stores sizes and offsets in 32 bits (and
 * 0xFFFFFFFF means "see Zip64"), so every part and the whole file must
 * stay below it, decided before the bytes are written:
 * - a sheet's XML: before each row, its worst-case size (os_xlsx_cell's
 *   bound per cell) is added to the sheet's bytes; past the limit the row
 *   starts a new sheet;
 * - the file: before each row and each new sheet, the bytes already given
 *   to the sink, plus what libarchive and zlib may still hold (HELD_MAX),
 *   plus the row deflated at worst (zlib's deflateBound), plus what the
 *   end of the file takes at most for this many sheets (TAIL_*), must stay
 *   below the limit; else OS_XLSX_ETOOBIG and the caller cuts the file.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include <stdarg.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "os_xlsx.h"
#include "os_xlsx_cell.h"
#include "os_xlsx_zip.h"

/* The largest size or offset a classic zip holds (0xFFFFFFFF is Zip64's
 * marker). */
#define ZIP32_MAX 0xFFFFFFFEULL

/* Why 256 KiB: the largest cell (OS_XLSX_CELL_MAX of a 32,767-character
 * cut) is 229,465 bytes and must fit whole. */
#define BUF_SIZE (256 * 1024)
/* Why 64 KiB: bench/xlsx_writer, 1,000,000 shop rows at level 1, best of
 * 5 runs: 16 KiB 1.67 s, 64 KiB 1.58 s, 200 KiB 1.55 s (differences within
 * this machine's noise from 64 KiB on); smaller pieces reach deflate
 * sooner and stay in the cache. */
#define FLUSH_AT (64 * 1024)

/* Compressed bytes that may be inside libarchive and zlib, not yet given
 * to the sink: libarchive's 64 KiB output buffer, zlib's pending output
 * (64 KiB at memLevel 8), its up to 16,383 buffered symbols (at most ~6
 * bytes each deflated) and 64 KiB window of input not yet tokenized:
 * about 0.3 MB (our own buffer is counted apart, byte for byte). 8 MiB
 * leaves room for the unforeseen at the cost of 0.2% of the 4 GiB. */
#define HELD_MAX (8ULL * 1024 * 1024)
/* The end of the file, stored rather than deflated at worst: the current
 * sheet's closing tags and data descriptor, the fixed parts (styles.xml is
 * 4 KB) with their headers and central directory records, the end
 * record; and per sheet its central directory record (~100 bytes) and its
 * lines in workbook.xml, its rels and [Content_Types].xml (~450). */
#define TAIL_FIXED (64ULL * 1024)
#define TAIL_PER_SHEET 1024ULL
/* A zip local header: 30 bytes, the name, libarchive's UT and ux
 * extras. */
#define LOCAL_HEADER_MAX 128
/* </sheetData><autoFilter ref="A1:XFD1048576"/></worksheet> */
#define SHEET_TAIL_MAX 128
/* <row r="1048576"> and </row> */
#define ROW_TAGS 32
/* <col min="16384" max="16384" width="24" customWidth="1"/> */
#define COL_MAX 64

struct os_xlsx {
    int ncols;
    os_xlsx_col *cols;
    char (*colnames)[4]; /* per column its letters ("XFD"), not ended */
    unsigned char *colname_lens;
    const char **labels; /* NULL: no header row */
    apr_size_t *label_lens;
    long sheet_rows;
    os_xlsx_zip *zip;
    char *buf;
    apr_size_t pos;          /* bytes waiting in buf */
    apr_uint64_t part_bytes; /* XML of the current part given to the zip */
    apr_uint64_t head_max;   /* a sheet's start, at most, header row too */
    long rows_in_sheet;
    apr_array_header_t *last_rows; /* per sheet, its last row (long) */
    os_xlsx_stats stats;
    apr_status_t failed;
    const char *why;
    apr_uint64_t part_max, zip_max;
    int begun, ended;
};

static apr_status_t fail(os_xlsx *w, apr_status_t rv, const char *why)
{
    if (!w->failed) {
        w->failed = rv;
        w->why = why ? why : os_xlsx_zip_error(w->zip);
    }
    return w->failed;
}

/* Hands the buffer to the zip. */
static apr_status_t flush(os_xlsx *w)
{
    apr_status_t rv = os_xlsx_zip_write(w->zip, w->buf, w->pos);

    w->part_bytes += w->pos;
    w->stats.xml_bytes += w->pos;
    w->pos = 0;
    w->stats.zip_bytes = os_xlsx_zip_bytes(w->zip);
    return rv ? fail(w, rv, NULL) : APR_SUCCESS;
}

/* Makes room for n (<= BUF_SIZE) bytes. */
static apr_status_t reserve(os_xlsx *w, apr_size_t n)
{
    return w->pos + n > BUF_SIZE ? flush(w) : APR_SUCCESS;
}

/* Appends s[0..n), n <= BUF_SIZE. */
static apr_status_t put(os_xlsx *w, const char *s, apr_size_t n)
{
    apr_status_t rv = reserve(w, n);

    if (rv == APR_SUCCESS) {
        memcpy(w->buf + w->pos, s, n);
        w->pos += n;
    }
    return rv;
}

#define PUTS(w, lit) put(w, lit, sizeof(lit) - 1)

/* Appends the pieces, NULL-terminated (each short). */
static apr_status_t putv(os_xlsx *w, ...)
{
    apr_status_t rv = APR_SUCCESS;
    const char *s;
    va_list ap;

    va_start(ap, w);
    while (rv == APR_SUCCESS && (s = va_arg(ap, const char *)) != NULL) {
        rv = put(w, s, strlen(s));
    }
    va_end(ap);
    return rv;
}

static const char *num(char *tmp, apr_uint64_t n)
{
    apr_snprintf(tmp, 24, "%" APR_UINT64_T_FMT, n);
    return tmp;
}

/* zlib's deflateBound for raw deflate at the default memLevel: the most
 * n bytes can become. */
static apr_uint64_t deflated_max(apr_uint64_t n)
{
    return n + (n >> 12) + (n >> 14) + (n >> 25) + 13;
}

/* Would n more bytes of XML, and then the end of the file for sheets
 * sheets, pass the zip's limit? */
static int zip_would_pass(const os_xlsx *w, apr_uint64_t n, int sheets)
{
    apr_uint64_t total = os_xlsx_zip_bytes(w->zip) + w->pos + HELD_MAX
        + deflated_max(n) + TAIL_FIXED + TAIL_PER_SHEET * (apr_uint64_t)sheets;

    return total > w->zip_max;
}

static apr_uint64_t part_size(const os_xlsx *w)
{
    return w->part_bytes + w->pos;
}

/* Starts part name in the zip. */
static apr_status_t part(os_xlsx *w, const char *name)
{
    apr_status_t rv = w->pos ? flush(w) : APR_SUCCESS;

    if (rv == APR_SUCCESS && (rv = os_xlsx_zip_entry(w->zip, name))) {
        fail(w, rv, NULL);
    }
    w->part_bytes = 0;
    w->stats.zip_bytes = os_xlsx_zip_bytes(w->zip);
    return rv;
}

/* ---- sheets ---- */

static int column_width(os_xlsx_kind kind)
{
    switch (kind) {
    case OS_XLSX_DATE:
        return 11; /* 2024-02-29 */
    case OS_XLSX_TIMESTAMP:
    case OS_XLSX_TIMESTAMPTZ:
        return 24; /* 2024-02-29 23:59:59.999 */
    case OS_XLSX_TIME:
        return 13; /* 23:59:59.999 */
    default:
        return 0; /* Excel's default */
    }
}

/* Dates show as #### in a column too narrow for them: their columns get a
 * width. */
static apr_status_t put_cols(os_xlsx *w)
{
    char tmp[24], tmp2[24];
    apr_status_t rv = APR_SUCCESS;
    int i, any = 0, width;

    for (i = 0; rv == APR_SUCCESS && i < w->ncols; i++) {
        if ((width = column_width(w->cols[i].kind)) == 0) {
            continue;
        }
        if (!any++) {
            rv = PUTS(w, "<cols>");
        }
        num(tmp, (apr_uint64_t)i + 1);
        if (rv == APR_SUCCESS) {
            rv = putv(w, "<col min=\"", tmp, "\" max=\"", tmp, "\" width=\"",
                      num(tmp2, (apr_uint64_t)width), "\" customWidth=\"1\"/>",
                      NULL);
        }
    }
    return rv == APR_SUCCESS && any ? PUTS(w, "</cols>") : rv;
}

/* The reference of column i in the row whose number is row[0..rowlen),
 * to ref; its length (at most 10). */
static apr_size_t cell_ref(const os_xlsx *w, int i, const char *row,
                           apr_size_t rowlen, char *ref)
{
    apr_size_t n = w->colname_lens[i];

    memcpy(ref, w->colnames[i], n);
    memcpy(ref + n, row, rowlen);
    return n + rowlen;
}

static apr_status_t put_header_row(os_xlsx *w)
{
    apr_status_t rv = PUTS(w, "<row r=\"1\">");
    char ref[16];
    int i, cut = 0;

    for (i = 0; rv == APR_SUCCESS && i < w->ncols; i++) {
        rv = reserve(w, OS_XLSX_CELL_MAX(w->label_lens[i]));
        if (rv == APR_SUCCESS) {
            w->pos += os_xlsx_cell_string(
                w->buf + w->pos, w->labels[i], w->label_lens[i], ref,
                cell_ref(w, i, "1", 1, ref), OS_XLSX_STYLE_HEADER, &cut);
            w->stats.cut_cells += cut;
            cut = 0;
        }
    }
    return rv == APR_SUCCESS ? PUTS(w, "</row>") : rv;
}

/* The frozen header row: a pane below row 1. */
#define FROZEN                                                                \
    "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" "         \
    "topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"         \
    "<selection pane=\"bottomLeft\"/></sheetView></sheetViews>"
#define WORKSHEET                                                             \
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"         \
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/"     \
    "2006/main\">"

/* Starts sheet number w->stats.sheets + 1, up to its header row. */
static apr_status_t start_sheet(os_xlsx *w)
{
    char name[48];
    apr_status_t rv;
    int n = w->stats.sheets + 1;

    if (n > OS_XLSX_SHEETS_MAX) {
        return fail(w, OS_XLSX_ESHEETS,
                    "the workbook would need more than " APR_STRINGIFY(
                        OS_XLSX_SHEETS_MAX) " sheets");
    }
    if (zip_would_pass(w, w->head_max, n)) {
        return fail(w, OS_XLSX_ETOOBIG, "the workbook would pass 4 GiB");
    }
    apr_snprintf(name, sizeof(name), "xl/worksheets/sheet%d.xml", n);
    if ((rv = part(w, name)) != APR_SUCCESS) {
        return rv;
    }
    w->stats.sheets = n;
    w->rows_in_sheet = 0;
    rv = PUTS(w, WORKSHEET);
    if (rv == APR_SUCCESS && w->labels) {
        rv = PUTS(w, FROZEN);
    }
    if (rv == APR_SUCCESS) {
        rv = put_cols(w);
    }
    if (rv == APR_SUCCESS) {
        rv = PUTS(w, "<sheetData>");
    }
    if (rv == APR_SUCCESS && w->labels) {
        rv = put_header_row(w);
    }
    return rv;
}

/* Closes the current sheet: the autofilter over its header and rows. */
static apr_status_t end_sheet(os_xlsx *w)
{
    long last = w->rows_in_sheet + (w->labels ? 1 : 0);
    char ref[16];
    apr_status_t rv = PUTS(w, "</sheetData>");

    *(long *)apr_array_push(w->last_rows) = last;
    if (rv == APR_SUCCESS && w->labels) {
        ref[os_xlsx_cell_ref(ref, w->ncols - 1, last)] = '\0';
        rv = putv(w, "<autoFilter ref=\"A1:", ref, "\"/>", NULL);
    }
    return rv == APR_SUCCESS ? PUTS(w, "</worksheet>") : rv;
}

/* ---- rows ---- */

/* The most row's XML can take (os_xlsx_cell's bound per cell, its
 * reference included). */
static apr_uint64_t row_max(const os_xlsx *w, const char *const *values,
                            const apr_size_t *lens)
{
    apr_uint64_t n = ROW_TAGS;
    int i;

    for (i = 0; i < w->ncols; i++) {
        if (values[i]) {
            n += OS_XLSX_CELL_MAX(lens[i]);
        }
    }
    return n;
}

/* Makes sure the row (max bytes at most) goes into a sheet with room for
 * it, starting a new one if needed. */
static apr_status_t room_for_row(os_xlsx *w, apr_uint64_t max)
{
    apr_status_t rv;

    if (w->rows_in_sheet >= w->sheet_rows
        || part_size(w) + max + SHEET_TAIL_MAX > w->part_max) {
        if (w->rows_in_sheet == 0) {
            return fail(w, OS_XLSX_ETOOBIG,
                        "a row's XML would not fit in a sheet");
        }
        if ((rv = end_sheet(w)) != APR_SUCCESS
            || (rv = start_sheet(w)) != APR_SUCCESS) {
            return rv;
        }
        if (part_size(w) + max + SHEET_TAIL_MAX > w->part_max) {
            return fail(w, OS_XLSX_ETOOBIG,
                        "a row's XML would not fit in a sheet");
        }
    }
    if (zip_would_pass(w, max, w->stats.sheets)) {
        return fail(w, OS_XLSX_ETOOBIG, "the workbook would pass 4 GiB");
    }
    return APR_SUCCESS;
}

/* <row r="n">, without a printf per row; n's digits to num (24 bytes),
 * their count to *numlen, for the cells' references. */
static apr_status_t put_row_start(os_xlsx *w, long n, char *num,
                                  apr_size_t *numlen)
{
    apr_status_t rv = reserve(w, ROW_TAGS);

    *numlen = os_xlsx_cell_ulong(num, (unsigned long)n);
    if (rv == APR_SUCCESS) {
        memcpy(w->buf + w->pos, "<row r=\"", 8);
        w->pos += 8;
        memcpy(w->buf + w->pos, num, *numlen);
        w->pos += *numlen;
        w->buf[w->pos++] = '"';
        w->buf[w->pos++] = '>';
    }
    return rv;
}

apr_status_t os_xlsx_row(os_xlsx *w, const char *const *values,
                         const apr_size_t *lens)
{
    char ref[16], num[24];
    apr_size_t numlen;
    apr_status_t rv;
    int i, cut = 0;

    if (w->failed) {
        return w->failed;
    }
    if (!w->begun || w->ended) {
        return APR_EINVAL;
    }
    if ((rv = room_for_row(w, row_max(w, values, lens))) != APR_SUCCESS) {
        return rv;
    }
    rv = put_row_start(w, w->rows_in_sheet + 1 + (w->labels ? 1 : 0), num,
                       &numlen);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < w->ncols; i++) {
        if (!values[i]) { /* NULL: no cell */
            continue;
        }
        if ((rv = reserve(w, OS_XLSX_CELL_MAX(lens[i]))) != APR_SUCCESS) {
            return rv;
        }
        w->pos +=
            os_xlsx_cell(w->buf + w->pos, &w->cols[i], values[i], lens[i], ref,
                         cell_ref(w, i, num, numlen, ref), &cut);
        w->stats.cut_cells += cut;
        cut = 0;
    }
    w->rows_in_sheet++;
    w->stats.rows++;
    if ((rv = PUTS(w, "</row>")) == APR_SUCCESS && w->pos >= FLUSH_AT) {
        rv = flush(w);
    }
    return rv;
}

/* ---- the package ---- */

#define NS_MAIN "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_REL                                                                \
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define NS_PKG_REL                                                            \
    "http://schemas.openxmlformats.org/package/2006/relationships"
#define XML_DECL                                                              \
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define CT_PREFIX                                                             \
    "application/vnd.openxmlformats-officedocument.spreadsheetml."

/* xl/workbook.xml: the sheets, and the autofilters' defined names (Excel
 * writes one per filtered sheet and expects it). */
static apr_status_t put_workbook(os_xlsx *w)
{
    char n[24], id[24], last[24], col[8];
    apr_status_t rv;
    int i;

    rv = PUTS(w,
              XML_DECL "<workbook xmlns=\"" NS_MAIN "\" xmlns:r=\"" NS_REL
                       "\"><sheets>");
    for (i = 1; rv == APR_SUCCESS && i <= w->stats.sheets; i++) {
        num(n, (apr_uint64_t)i);
        rv = putv(w, "<sheet name=\"Sheet", n, "\" sheetId=\"", n,
                  "\" r:id=\"rId", n, "\"/>", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = PUTS(w, "</sheets>");
    }
    if (rv == APR_SUCCESS && w->labels) {
        col[os_xlsx_cell_col_name(col, w->ncols - 1)] = '\0';
        rv = PUTS(w, "<definedNames>");
        for (i = 0; rv == APR_SUCCESS && i < w->stats.sheets; i++) {
            num(id, (apr_uint64_t)i);
            num(n, (apr_uint64_t)i + 1);
            num(last, (apr_uint64_t)APR_ARRAY_IDX(w->last_rows, i, long));
            rv = putv(w,
                      "<definedName name=\"_xlnm._FilterDatabase\" "
                      "localSheetId=\"",
                      id, "\" hidden=\"1\">Sheet", n, "!$A$1:$", col, "$",
                      last, "</definedName>", NULL);
        }
        if (rv == APR_SUCCESS) {
            rv = PUTS(w, "</definedNames>");
        }
    }
    return rv == APR_SUCCESS ? PUTS(w, "</workbook>") : rv;
}

/* xl/_rels/workbook.xml.rels: rId<n> is sheet n, the next one styles. */
static apr_status_t put_workbook_rels(os_xlsx *w)
{
    char n[24];
    apr_status_t rv;
    int i;

    rv = PUTS(w, XML_DECL "<Relationships xmlns=\"" NS_PKG_REL "\">");
    for (i = 1; rv == APR_SUCCESS && i <= w->stats.sheets; i++) {
        num(n, (apr_uint64_t)i);
        rv = putv(w, "<Relationship Id=\"rId", n,
                  "\" Type=\"" NS_REL "/worksheet\" Target=\"worksheets/sheet",
                  n, ".xml\"/>", NULL);
    }
    if (rv == APR_SUCCESS) {
        rv = putv(w, "<Relationship Id=\"rId",
                  num(n, (apr_uint64_t)w->stats.sheets + 1),
                  "\" Type=\"" NS_REL "/styles\" Target=\"styles.xml\"/>"
                  "</Relationships>",
                  NULL);
    }
    return rv;
}

static apr_status_t put_content_types(os_xlsx *w)
{
    char n[24];
    apr_status_t rv;
    int i;

    rv =
        PUTS(w,
             XML_DECL
             "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/"
             "content-types\"><Default Extension=\"rels\" ContentType=\""
             "application/vnd.openxmlformats-package.relationships+xml\"/>"
             "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
             "<Override PartName=\"/xl/workbook.xml\" ContentType=\"" CT_PREFIX
             "sheet.main+xml\"/><Override PartName=\"/xl/styles.xml\" "
             "ContentType=\"" CT_PREFIX "styles+xml\"/>");
    for (i = 1; rv == APR_SUCCESS && i <= w->stats.sheets; i++) {
        rv = putv(w, "<Override PartName=\"/xl/worksheets/sheet",
                  num(n, (apr_uint64_t)i),
                  ".xml\" ContentType=\"" CT_PREFIX "worksheet+xml\"/>", NULL);
    }
    return rv == APR_SUCCESS ? PUTS(w, "</Types>") : rv;
}

static apr_status_t put_root_rels(os_xlsx *w)
{
    return PUTS(w,
                XML_DECL "<Relationships xmlns=\"" NS_PKG_REL "\">"
                         "<Relationship Id=\"rId1\" Type=\"" NS_REL
                         "/officeDocument\" Target=\"xl/workbook.xml\"/>"
                         "</Relationships>");
}

static apr_status_t put_styles(os_xlsx *w)
{
    apr_status_t rv = reserve(w, OS_XLSX_STYLES_MAX);

    if (rv == APR_SUCCESS) {
        w->pos += os_xlsx_cell_styles(w->buf + w->pos);
    }
    return rv;
}

/* ---- the interface ---- */

static apr_uint64_t head_max(const os_xlsx *w)
{
    apr_uint64_t n = LOCAL_HEADER_MAX + sizeof(WORKSHEET) + sizeof(FROZEN) + 64
        + (apr_uint64_t)COL_MAX * w->ncols + ROW_TAGS;
    int i;

    for (i = 0; w->labels && i < w->ncols; i++) {
        n += OS_XLSX_CELL_MAX(w->label_lens[i]);
    }
    return n;
}

apr_status_t os_xlsx_create(os_xlsx **wp, const os_xlsx_opts *o, apr_pool_t *p)
{
    os_xlsx *w;
    int i, level = o->level ? o->level : OS_XLSX_LEVEL_DEFAULT;

    if (o->ncols < 1 || o->ncols > OS_XLSX_COLUMNS_MAX || !o->types
        || o->sheet_rows < 0 || o->sheet_rows > OS_XLSX_SHEET_ROWS_MAX
        || level < 1 || level > 9 || !o->sink) {
        return APR_EINVAL;
    }
    w = apr_pcalloc(p, sizeof(*w));
    w->ncols = o->ncols;
    w->cols = apr_palloc(p, sizeof(*w->cols) * o->ncols);
    w->colnames = apr_palloc(p, sizeof(*w->colnames) * o->ncols);
    w->colname_lens = apr_palloc(p, (apr_size_t)o->ncols);
    for (i = 0; i < o->ncols; i++) {
        w->cols[i] =
            os_xlsx_cell_col(o->types[i], o->typmods ? o->typmods[i] : -1);
        if (o->exact_numbers
            && (w->cols[i].kind == OS_XLSX_NUMBER
                || w->cols[i].kind == OS_XLSX_FLOAT)) {
            w->cols[i].kind = OS_XLSX_DECIMAL;
        }
        w->colname_lens[i] =
            (unsigned char)os_xlsx_cell_col_name(w->colnames[i], i);
    }
    if (o->labels) {
        w->labels = apr_palloc(p, sizeof(*w->labels) * o->ncols);
        w->label_lens = apr_palloc(p, sizeof(*w->label_lens) * o->ncols);
        for (i = 0; i < o->ncols; i++) {
            const char *l = o->labels[i] ? o->labels[i] : "";

            w->label_lens[i] = strlen(l);
            w->labels[i] = apr_pstrmemdup(p, l, w->label_lens[i]);
        }
    }
    w->sheet_rows = o->sheet_rows ? o->sheet_rows : OS_XLSX_SHEET_ROWS_MAX;
    w->buf = apr_palloc(p, BUF_SIZE);
    w->last_rows = apr_array_make(p, 4, sizeof(long));
    w->head_max = head_max(w);
    w->part_max = w->zip_max = ZIP32_MAX;
    w->why = "";
    *wp = w;
    return os_xlsx_zip_open(&w->zip, level, o->sink, o->ctx, p);
}

void os_xlsx_set_limits(os_xlsx *w, apr_uint64_t part_max,
                        apr_uint64_t zip_max)
{
    w->part_max = part_max < ZIP32_MAX ? part_max : ZIP32_MAX;
    w->zip_max = zip_max < ZIP32_MAX ? zip_max : ZIP32_MAX;
}

apr_status_t os_xlsx_begin(os_xlsx *w)
{
    if (w->failed) {
        return w->failed;
    }
    if (w->begun) {
        return APR_EINVAL;
    }
    w->begun = 1;
    if (w->head_max + SHEET_TAIL_MAX > w->part_max) {
        return fail(w, OS_XLSX_ETOOBIG,
                    "the header row would not fit in a "
                    "sheet");
    }
    return start_sheet(w);
}

apr_status_t os_xlsx_end(os_xlsx *w)
{
    apr_status_t rv;

    if (w->failed) {
        return w->failed;
    }
    if (!w->begun || w->ended) {
        return APR_EINVAL;
    }
    w->ended = 1;
    if ((rv = end_sheet(w)) == APR_SUCCESS
        && (rv = part(w, "xl/workbook.xml")) == APR_SUCCESS
        && (rv = put_workbook(w)) == APR_SUCCESS
        && (rv = part(w, "xl/_rels/workbook.xml.rels")) == APR_SUCCESS
        && (rv = put_workbook_rels(w)) == APR_SUCCESS
        && (rv = part(w, "xl/styles.xml")) == APR_SUCCESS
        && (rv = put_styles(w)) == APR_SUCCESS
        && (rv = part(w, "_rels/.rels")) == APR_SUCCESS
        && (rv = put_root_rels(w)) == APR_SUCCESS
        && (rv = part(w, "[Content_Types].xml")) == APR_SUCCESS
        && (rv = put_content_types(w)) == APR_SUCCESS
        && (rv = flush(w)) == APR_SUCCESS) {
        rv = os_xlsx_zip_close(w->zip);
        w->stats.zip_bytes = os_xlsx_zip_bytes(w->zip);
        if (rv != APR_SUCCESS) {
            fail(w, rv, NULL);
        }
    }
    return rv;
}

const os_xlsx_stats *os_xlsx_get_stats(const os_xlsx *w)
{
    return &w->stats;
}

const char *os_xlsx_error(const os_xlsx *w)
{
    return w->why;
}
