/* os_format.h: the output formats an export can be read in (CSV, TSV,
 * NDJSON, XLSX), their names and media types, the choice among them (?format=,
 * Accept), and the escaping of a TSV field and a JSON string. Needs only
 * APR, so it is unit-tested without a server (t/unit/test_format.c).
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_FORMAT_H
#define OS_FORMAT_H

#include <stddef.h>

#include <apr_pools.h>
#include <apr_time.h>

/* One bit each, so that a set of them (OrderStreamFormats) is a mask. */
typedef enum {
    OS_FMT_NONE = 0,
    OS_FMT_CSV = 1,    /* text/csv, RFC 4180 with COPY's quoting */
    OS_FMT_TSV = 2,    /* text/tab-separated-values, COPY's text format */
    OS_FMT_NDJSON = 4, /* application/x-ndjson, one JSON object a line */
    OS_FMT_XLSX = 8    /* an Excel workbook (os_xlsx.c) */
} os_format;

#define OS_FMT_ALL (OS_FMT_CSV | OS_FMT_TSV | OS_FMT_NDJSON | OS_FMT_XLSX)
/* The bits in order of preference, for f = FIRST; f <= LAST; f <<= 1. */
#define OS_FMT_FIRST OS_FMT_CSV
#define OS_FMT_LAST OS_FMT_XLSX

/* "csv", "tsv", "ndjson" or "xlsx" (any case) to its format; OS_FMT_NONE
 * else. */
os_format os_format_by_name(const char *name);

/* "csv", "tsv", "ndjson", "xlsx". */
const char *os_format_name(os_format f);

/* The media type without parameters: "text/csv". */
const char *os_format_media_type(os_format f);

/* The Content-Type to send: the media type, with "; charset=utf-8" for
 * the text/ ones (NDJSON is UTF-8 by definition, RFC 8259; a workbook is
 * not text). */
const char *os_format_content_type(os_format f);

/* The formats of mask, "csv, tsv, ndjson, xlsx", in that order. */
const char *os_format_list(unsigned mask, apr_pool_t *p);

/* The first format of mask, in the order csv, tsv, ndjson, xlsx. */
os_format os_format_first(unsigned mask);

/* What an Accept header (may be NULL) asks of the formats in allowed, by
 * RFC 9110 12.5.1: each allowed format gets the q of the most specific
 * element covering it (its media type, then "type/ *", then "* / *"); the
 * format with the highest q > 0 wins; ties go to a format named over one
 * covered by a range, then to dflt, then to the order csv, tsv, ndjson,
 * xlsx.
 * Elements that do not parse by the RFC's grammar (q beyond 3 decimals,
 * above 1, a hex float, NaN...) are ignored. Returns dflt when the header
 * is absent or states nothing valid, and OS_FMT_NONE when no allowed
 * format is acceptable (a 406). */
os_format os_format_from_accept(const char *accept, unsigned allowed,
                                os_format dflt, apr_pool_t *p);

/* The file name OrderStreamFilename pattern gives at time t in format f:
 * its strftime conversions done in UTC (at most 1023 bytes, else the
 * pattern as it is), a control character, '"', '\\' or '/' they produce
 * made '_', and the extension f's when the name has none or one of ours
 * (csv, tsv, ndjson, xlsx); any other extension is kept. */
char *os_format_file_name(const char *pattern, os_format f, apr_time_t t,
                          apr_pool_t *p);

/* TSV, as COPY's text format writes a field: backslash, tab, LF, CR,
 * backspace, form feed and vertical tab as backslash escapes, NULL as \N.
 * dst must have OS_TSV_FIELD_MAX(len) bytes; returns the bytes written. */
#define OS_TSV_FIELD_MAX(len) (2 * (size_t)(len) + 2)
size_t os_tsv_field(char *dst, const char *src, size_t len, int is_null);

/* A JSON string (RFC 8259) with its quotes: ", \ and control characters
 * escaped, everything else (UTF-8) as it is. dst must have
 * OS_JSON_STRING_MAX(len) bytes; returns the bytes written. */
#define OS_JSON_STRING_MAX(len) (6 * (size_t)(len) + 2)
size_t os_json_string(char *dst, const char *src, size_t len);

#endif /* OS_FORMAT_H */
