/* os_xlsx_zip.c: the workbook's zip, written by libarchive to the sink.
 *
 * Layout: with the entry size unknown, libarchive 3.6 writes Zip64 local
 * headers (version 4.5, sizes 0xFFFFFFFF, a Zip64 extra), which Excel
 * refuses; the option "zip:!zip64" gives the classic layout instead: bit 3
 * (sizes in a data descriptor after the data), version needed 2.0, 16-byte
 * descriptors, no Zip64 record. In that mode libarchive would write
 * truncated 32-bit sizes past 4 GiB without complaint, so os_xlsx.c keeps
 * every entry and the whole file below 4 GiB.
 *
 * Flow: bytes_per_block 0 makes libarchive hand every piece straight to
 * the callback (no 10 KiB blocks held back, no zero padding at the end);
 * local headers leave at once, deflated data in 64 KiB pieces (libarchive
 * deflates with Z_NO_FLUSH and has no call to flush inside an entry).
 *
 * Failures: the callback never reports the sink's failure to libarchive.
 * In libarchive 3.6.2 a failed write while an entry is being finished
 * returns before deflateEnd, and archive_write_free does not end the
 * stream either: zlib's ~270 KB would leak with every download cut by its
 * client. So the callback keeps the sink's first failure, swallows that
 * and every later byte, and each call here returns that status; the
 * cleanup likewise lets libarchive finish into the void, then frees it.
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <apr_strings.h>

#include "os_xlsx_zip.h"

struct os_xlsx_zip {
    struct archive *a;
    struct archive_entry *entry; /* reused for every part */
    os_xlsx_sink sink;
    void *ctx;
    apr_status_t sink_status; /* the sink's first failure */
    int discard;              /* in the cleanup: the sink is gone */
    apr_uint64_t bytes;       /* handed to the sink */
    time_t mtime;             /* every entry's modification time */
    const char *error;
};

static la_ssize_t zip_out(struct archive *a, void *data, const void *buf,
                          size_t len)
{
    os_xlsx_zip *z = data;

    (void)a;
    if (!z->discard && z->sink_status == APR_SUCCESS) {
        z->sink_status = z->sink(z->ctx, buf, len);
        if (z->sink_status == APR_SUCCESS) {
            z->bytes += len;
        }
        else {
            z->error = "the sink failed";
        }
    }
    return (la_ssize_t)len;
}

static apr_status_t zip_free(os_xlsx_zip *z)
{
    if (z->a) {
        z->discard = 1;
        archive_write_free(z->a); /* finishes the entry: deflateEnd */
        z->a = NULL;
    }
    if (z->entry) {
        archive_entry_free(z->entry);
        z->entry = NULL;
    }
    return APR_SUCCESS;
}

static apr_status_t zip_cleanup(void *data)
{
    return zip_free(data);
}

/* The status of the libarchive call that returned r. */
static apr_status_t status(os_xlsx_zip *z, int r)
{
    if (z->sink_status != APR_SUCCESS) {
        return z->sink_status;
    }
    if (r < ARCHIVE_OK) {
        z->error = z->a && archive_error_string(z->a)
            ? archive_error_string(z->a)
            : "libarchive failed";
        return OS_XLSX_EARCHIVE;
    }
    return APR_SUCCESS;
}

apr_status_t os_xlsx_zip_open(os_xlsx_zip **zp, int level, os_xlsx_sink sink,
                              void *ctx, apr_pool_t *p)
{
    os_xlsx_zip *z = apr_pcalloc(p, sizeof(*z));
    char opt[40];
    int r;

    z->sink = sink;
    z->ctx = ctx;
    z->mtime = time(NULL);
    z->error = "";
    apr_pool_cleanup_register(p, z, zip_cleanup, apr_pool_cleanup_null);
    z->a = archive_write_new();
    z->entry = archive_entry_new();
    if (!z->a || !z->entry) {
        z->error = "out of memory";
        return OS_XLSX_EARCHIVE;
    }
    apr_snprintf(opt, sizeof(opt), "zip:!zip64,zip:compression-level=%d",
                 level);
    r = archive_write_set_format_zip(z->a);
    if (r == ARCHIVE_OK) {
        r = archive_write_set_options(z->a, opt);
    }
    if (r == ARCHIVE_OK) {
        r = archive_write_set_bytes_per_block(z->a, 0);
    }
    if (r == ARCHIVE_OK) {
        r = archive_write_set_bytes_in_last_block(z->a, 1);
    }
    if (r == ARCHIVE_OK) {
        r = archive_write_open(z->a, z, NULL, zip_out, NULL);
    }
    *zp = z;
    return status(z, r);
}

apr_status_t os_xlsx_zip_entry(os_xlsx_zip *z, const char *name)
{
    if (z->sink_status != APR_SUCCESS) {
        return z->sink_status;
    }
    archive_entry_clear(z->entry);
    archive_entry_set_pathname(z->entry, name);
    archive_entry_set_filetype(z->entry, AE_IFREG);
    archive_entry_set_perm(z->entry, 0644);
    archive_entry_set_mtime(z->entry, z->mtime, 0);
    /* No size: streamed, with a data descriptor. */
    return status(z, archive_write_header(z->a, z->entry));
}

apr_status_t os_xlsx_zip_write(os_xlsx_zip *z, const char *buf, apr_size_t len)
{
    la_ssize_t n;

    if (z->sink_status != APR_SUCCESS) {
        return z->sink_status;
    }
    while (len) {
        n = archive_write_data(z->a, buf, len);
        if (n <= 0) {
            return status(z, n < 0 ? (int)n : ARCHIVE_FATAL);
        }
        buf += n, len -= (apr_size_t)n;
    }
    return status(z, ARCHIVE_OK);
}

apr_status_t os_xlsx_zip_close(os_xlsx_zip *z)
{
    apr_status_t rv;

    if (z->sink_status != APR_SUCCESS) {
        return z->sink_status;
    }
    rv = status(z, archive_write_close(z->a));
    /* On failure z->error points into libarchive's state, read by the
     * caller's log line: the pool cleanup frees it, after that. */
    if (rv == APR_SUCCESS) {
        zip_free(z);
    }
    return rv;
}

apr_uint64_t os_xlsx_zip_bytes(const os_xlsx_zip *z)
{
    return z->bytes;
}

const char *os_xlsx_zip_error(const os_xlsx_zip *z)
{
    return z->error;
}
