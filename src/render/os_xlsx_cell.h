/* os_xlsx_cell.h: one worksheet cell as SpreadsheetML, from PostgreSQL's
 * text output of a value and its column's type: the typed cells (numbers,
 * booleans, dates, times), the inline strings with their escapes, the cut
 * at Excel's 32,767 characters, and the cell styles they use (whose
 * definitions, xl/styles.xml, are here too so the indexes stay in one
 * file). Internal to the XLSX writer (os_xlsx.c); its own header so that
 * t/unit/test_xlsx.c tests cells one by one. Needs only APR's types.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_XLSX_CELL_H
#define OS_XLSX_CELL_H

#include <apr.h>

/* What a column's cells become, decided once from its type. */
typedef enum {
    OS_XLSX_TEXT,      /* inline string: everything not below */
    OS_XLSX_NUMBER,    /* int2/4/8, numeric without a declared scale */
    OS_XLSX_FLOAT,     /* float4/8 */
    OS_XLSX_DECIMAL,   /* numeric(p, s): a declared scale */
    OS_XLSX_BOOL,      /* boolean */
    OS_XLSX_DATE,      /* date */
    OS_XLSX_TIMESTAMP, /* timestamp */
    OS_XLSX_TIMESTAMPTZ,
    OS_XLSX_TIME /* time without time zone */
} os_xlsx_kind;

typedef struct os_xlsx_col {
    os_xlsx_kind kind;
    int style; /* numbers: 0 (General) or the style of the scale */
} os_xlsx_col;

/* Excel's limit of characters (UTF-16 code units) in a cell. */
#define OS_XLSX_CELL_CHARS 32767

/* Worst case of os_xlsx_cell_text for len bytes: every character one
 * input byte written as a 7-byte _xHHHH_ escape (the longest per
 * character and per byte), at most OS_XLSX_CELL_CHARS of them. */
#define OS_XLSX_TEXT_MAX(len)                                                 \
    (7                                                                        \
     * ((apr_size_t)(len) < OS_XLSX_CELL_CHARS ? (apr_size_t)(len)            \
                                               : OS_XLSX_CELL_CHARS))
/* The tags and attributes around it: <c r="XFD1048576" s="99"
 * t="inlineStr"><is><t xml:space="preserve"> ... </t></is></c> */
#define OS_XLSX_CELL_TAGS 96
/* Worst case of os_xlsx_cell for a value of len bytes. */
#define OS_XLSX_CELL_MAX(len) (OS_XLSX_TEXT_MAX(len) + OS_XLSX_CELL_TAGS)

/* Cell styles: indexes into styles.xml's cellXfs. */
#define OS_XLSX_STYLE_HEADER 1    /* bold */
#define OS_XLSX_STYLE_DATE 2      /* yyyy-mm-dd */
#define OS_XLSX_STYLE_DATETIME 3  /* yyyy-mm-dd hh:mm:ss */
#define OS_XLSX_STYLE_DATETIME3 4 /* yyyy-mm-dd hh:mm:ss.000 */
#define OS_XLSX_STYLE_TIME 5      /* [hh]:mm:ss */
#define OS_XLSX_STYLE_TIME3 6     /* [hh]:mm:ss.000 */
#define OS_XLSX_STYLE_SCALE0 7    /* 0, 0.0, 0.00, ... up to 30 decimals */
/* Why 30: Excel shows at most 30 decimals in a number format; a numeric
 * with a larger declared scale gets General (its values have more than 15
 * significant digits and are text cells anyway, unless zero-padded). */
#define OS_XLSX_SCALE_MAX 30

/* The column kind and style for a PostgreSQL type (its OID: 16 bool,
 * 20/21/23 ints, 700/701 floats, 1700 numeric (decimal with a typmod),
 * 1082 date, 1114 timestamp, 1184 timestamptz, 1083 time; anything else
 * text) and typmod (-1 none; a numeric's scale from it as PostgreSQL 15
 * encodes it, so a negative scale gives General). */
os_xlsx_col os_xlsx_cell_col(unsigned type, int typmod);

/* Writes to dst the cell for PostgreSQL's text output v[0..len) (not NULL:
 * a NULL has no cell) in a column col, with the reference ref[0..reflen)
 * ("C17") as its r attribute when reflen > 0 (the writer always gives
 * one: several readers need it). A value its kind cannot hold (see the
 * number rule in os_xlsx_cell.c; NaN, infinity, before 1900-03-01 or
 * after 9999-12-31, BC, unparsable) and every text
 * is an inline string holding v exactly, cut after OS_XLSX_CELL_CHARS
 * characters: then *cut is set to 1 (else left alone). dst must have
 * OS_XLSX_CELL_MAX(len) bytes (reflen at most 10); returns the bytes
 * written. */
apr_size_t os_xlsx_cell(char *dst, const os_xlsx_col *col, const char *v,
                        apr_size_t len, const char *ref, apr_size_t reflen,
                        int *cut);

/* The inline string for v[0..len), as in os_xlsx_cell but with a given
 * style (0 none), e.g. a header label in bold. */
apr_size_t os_xlsx_cell_string(char *dst, const char *v, apr_size_t len,
                               const char *ref, apr_size_t reflen, int style,
                               int *cut);

/* The text of v[0..len) as XML character data that reads back as v
 * (Excel and LibreOffice decoding the OOXML _xHHHH_ escapes): & < > as
 * entities; characters XML 1.0 cannot carry (controls other than tab and
 * LF, U+FFFE, U+FFFF) and CR as _xHHHH_; the '_' of every _x or _X
 * followed by a hex digit as _x005F_ (LibreOffice also decodes _xH_,
 * _xHH_ and _xHHH_); a byte that is not valid UTF-8 as U+FFFD. Stops
 * before the character that would pass OS_XLSX_CELL_CHARS UTF-16 units
 * (a 4-byte UTF-8 character counts 2), setting *cut. dst must have
 * OS_XLSX_TEXT_MAX(len) bytes; returns the bytes written. */
apr_size_t os_xlsx_cell_text(char *dst, const char *v, apr_size_t len,
                             int *cut);

/* Writes "XFD1048576" style reference of column col (0-based) and sheet
 * row row (1-based) to dst (11 bytes); returns its length. */
apr_size_t os_xlsx_cell_ref(char *dst, int col, long row);

/* The column letters of col (0-based) to dst (4 bytes); their count. */
apr_size_t os_xlsx_cell_col_name(char *dst, int col);

/* n in decimal to dst (at most 20 bytes); its length. */
apr_size_t os_xlsx_cell_ulong(char *dst, unsigned long n);

/* Writes xl/styles.xml, the styles above, to dst (OS_XLSX_STYLES_MAX
 * bytes); returns its length. */
#define OS_XLSX_STYLES_MAX 8192
apr_size_t os_xlsx_cell_styles(char *dst);

#endif /* OS_XLSX_CELL_H */
