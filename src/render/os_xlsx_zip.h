/* os_xlsx_zip.h: the zip container of a workbook, streamed to a sink: the
 * classic layout every spreadsheet reader opens (data descriptors,
 * "version needed" 2.0, 16-byte descriptors, no Zip64 structure), written
 * by libarchive. Internal to the XLSX writer (os_xlsx.c), which keeps
 * every part and the whole file below 4 GiB; that is what makes this
 * layout valid.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#ifndef OS_XLSX_ZIP_H
#define OS_XLSX_ZIP_H

#include <apr_pools.h>

/* Receives the workbook's bytes in order. Anything but APR_SUCCESS aborts
 * the workbook's writer: the call that was writing returns that status, and so
 * does every later call; the sink is not called again. buf is valid only
 * during the call. */
typedef apr_status_t (*os_xlsx_sink)(void *ctx, const char *buf,
                                     apr_size_t len);

/* libarchive or zlib failed (out of memory): one of the workbook
 * writer's errors (os_xlsx.h), defined here where it is raised. */
#define OS_XLSX_EARCHIVE (APR_OS_START_USERERR + 22)

typedef struct os_xlsx_zip os_xlsx_zip;

/* A zip written to sink(ctx, ...) as it is produced, its entries deflated
 * at level (1-9). Its libarchive handle and zlib state are released by a
 * cleanup on p (or by os_xlsx_zip_close), without calling the sink. Returns
 * APR_SUCCESS, or OS_XLSX_EARCHIVE (libarchive refused: out of memory, or
 * a libarchive without the options used). */
apr_status_t os_xlsx_zip_open(os_xlsx_zip **z, int level, os_xlsx_sink sink,
                              void *ctx, apr_pool_t *p);

/* Finishes the entry being written, if any (its data descriptor), and
 * starts the entry name (its local header goes to the sink at once). */
apr_status_t os_xlsx_zip_entry(os_xlsx_zip *z, const char *name);

/* Appends buf[0..len) to the current entry. The output leaves in pieces
 * of 64 KiB of compressed data (libarchive deflates with Z_NO_FLUSH). */
apr_status_t os_xlsx_zip_write(os_xlsx_zip *z, const char *buf,
                               apr_size_t len);

/* Finishes the last entry, writes the central directory and its end
 * record, and releases libarchive. */
apr_status_t os_xlsx_zip_close(os_xlsx_zip *z);

/* Bytes handed to the sink so far. */
apr_uint64_t os_xlsx_zip_bytes(const os_xlsx_zip *z);

/* What failed, for the log: libarchive's message or "the sink failed". */
const char *os_xlsx_zip_error(const os_xlsx_zip *z);

/* Every call above returns the sink's status once the sink has failed
 * (and from then on, without calling libarchive or the sink again), or
 * OS_XLSX_EARCHIVE when libarchive fails. */

#endif /* OS_XLSX_ZIP_H */
