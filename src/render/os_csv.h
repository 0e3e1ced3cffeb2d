/* os_csv.h: RFC 4180 CSV fields with PostgreSQL COPY's quoting rules.
 *
 * Needs nothing but the C library, so the formatter is unit-tested without a
 * server (t/unit/test_csv.c) and shared by every code path that writes CSV.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_CSV_H
#define OS_CSV_H

#include <stddef.h>

/* Flags for os_csv_field(). */
#define OS_CSV_NULL 0x1 /* SQL NULL: written as nothing, as COPY does */
#define OS_CSV_LONE 0x2 /* the only column of its row: "\." must be quoted */
/* A spreadsheet formula guard (OrderStreamFormulaGuard): a value that
 * starts with = + - @ tab or CR gets a leading ', so that Excel and
 * LibreOffice show it as text instead of running it. */
#define OS_CSV_GUARD 0x4

/* Worst case of one formatted field of len bytes: every byte a doubled
 * quote, plus the two enclosing quotes. Callers reserve this much. (A
 * guarded field starts with = + - @ tab or CR, a byte that is not doubled,
 * so its ' fits in the same room.) */
#define OS_CSV_FIELD_MAX(len) (2 * (size_t)(len) + 2)

/* What makes a field need quotes, precomputed per delimiter so the scan is
 * one table look-up per byte. */
typedef struct os_csv_fmt {
    unsigned char special[256];
    char delim;
} os_csv_fmt;

/* Prepares fmt for delimiter delim (',' ';' or '\t'). */
void os_csv_fmt_init(os_csv_fmt *fmt, char delim);

/* Writes the field src[0..len) to dst, quoted when COPY would quote it (it
 * holds the delimiter, a double quote, CR or LF; it is the empty string; or
 * it is a lone "\." and OS_CSV_LONE is set), with inner quotes doubled.
 * dst must have OS_CSV_FIELD_MAX(len) bytes. Returns the bytes written. */
size_t os_csv_field(const os_csv_fmt *fmt, char *dst, const char *src,
                    size_t len, unsigned flags);

#endif /* OS_CSV_H */
