/* os_parallel.h: an export's OrderStreamParallel, from its config to its
 * slices (os_slice.h), or the note that it runs serially.
 *
 * Layer request: may call its own layer and base, db, deliver, render, export,
 * operate.
 */
#ifndef OS_PARALLEL_H
#define OS_PARALLEL_H

#include <httpd.h>
#include <libpq-fe.h>

#include "os_config.h"
#include "os_conn.h"
#include "os_cursor.h"
#include "os_format.h"
#include "os_render.h"
#include "os_slice.h"
#include "os_status.h"

/* For the handler: OrderStreamParallel of conf, if any, read in slices
 * (os_slice_start) with the plan made from the export's own pieces;
 * serial: the request cannot be read in slices (a preview); f: its format,
 * read in slices only when the formats= of OrderStreamParallel has it.
 * When it runs
 * serially the error log says why at level info (OS00452); either way the
 * request's orderstream-parallel note says which ("serial" or N), and the
 * status st shows the slices. The return value and *out as
 * os_slice_start's. */
apr_status_t os_parallel_begin(request_rec *r, const os_dir_conf *conf,
                               int serial, os_format f, os_cursor *main,
                               os_conn *main_conn, const os_render *rd,
                               const os_cursor_binds *binds,
                               const os_cursor_local *local,
                               const PGresult *desc, os_status *st,
                               os_slices **out);

#endif /* OS_PARALLEL_H */
