/* os_config.h: per-directory configuration of an export.
 *
 * Layer export: may call its own layer and base, db, deliver, render.
 */
#ifndef OS_CONFIG_H
#define OS_CONFIG_H

#include <apr_dbd.h>
#include <http_config.h>
#include <mod_dbd.h>

#include "os_format.h"
#include "os_handoff.h"
#include "os_identity.h"
#include "os_params.h"

typedef enum {
    OS_HEADER_UNSET = 0,
    OS_HEADER_NAMES,  /* the result's column names (default) */
    OS_HEADER_LABELS, /* labels given to OrderStreamHeader */
    OS_HEADER_OFF     /* no header row */
} os_header_mode;

typedef enum {
    OS_EOL_UNSET = 0,
    OS_EOL_CRLF, /* RFC 4180; what Excel and Python's csv module write */
    OS_EOL_LF    /* what COPY writes */
} os_eol;

/* Every field starts "unset" (NULL, 0 or the _UNSET value) so that a
 * section inherits what it does not set; defaults are applied only by the
 * accessors below, in one place. */
typedef struct os_dir_conf {
    /* OrderStreamSQL, in order: one query, or a chain whose rows follow
     * each other in one download. A section that gives any replaces what
     * it inherits, together with params. */
    apr_array_header_t *sql;       /* const char * */
    apr_array_header_t *sql_at;    /* const char *, "file:line" of each */
    apr_array_header_t *params;    /* os_param_decl, OrderStreamParam: $1.. */
    apr_array_header_t *params_at; /* const char *, "file:line" of each */
    const char *location;          /* the section that set the SQL, for logs */
    os_header_mode header_mode;    /* OrderStreamHeader */
    apr_array_header_t *labels;    /* const char *, with OS_HEADER_LABELS */
    const char *filename;          /* OrderStreamFilename */
    const char *title;             /* OrderStreamTitle, for the page */
    const char *description;       /* OrderStreamDescription, likewise */
    int fetch_rows;                /* OrderStreamFetchRows, 0 = unset */
    os_eol eol;                    /* OrderStreamLineEnding */
    /* Where 0 is a valid value, -1 means unset. */
    apr_interval_time_t stmt_timeout;    /* OrderStreamStatementTimeout */
    int max_concurrent;                  /* OrderStreamMaxConcurrent */
    apr_interval_time_t acquire_timeout; /* OrderStreamAcquireTimeout */
    int retry_after;                     /* OrderStreamRetryAfter, s */
    int max_limit;                       /* OrderStreamMaxLimit */
    int preview;                         /* OrderStreamPreview */
    os_format format;        /* OrderStreamFormat; OS_FMT_NONE = unset */
    unsigned formats;        /* OrderStreamFormats, a mask; 0 = unset */
    char delimiter;          /* OrderStreamDelimiter; 0 = unset */
    int bom;                 /* OrderStreamBOM */
    int formula_guard;       /* OrderStreamFormulaGuard */
    int group_by;            /* OrderStreamGroupBy N */
    const char *group_label; /* OrderStreamGroupBy's LABEL */
    int max_group_rows;      /* OrderStreamMaxGroupRows */
    int sheet_rows;          /* OrderStreamSheetRows, 0 = unset */
    int xlsx_level;          /* OrderStreamXLSXLevel, 0 = unset */
    int xlsx_numbers;        /* OrderStreamXLSXNumbers: 0 unset, 1
                              * spreadsheet, 2 exact */
    /* Who the export runs as (os_identity.c). A section's settings add to
     * the ones it inherits, replacing those of the same name. */
    apr_array_header_t *settings;  /* os_identity_setting, in order */
    const os_identity_value *role; /* OrderStreamRole; NULL: unset */
    /* The parsed expr= of each OrderStreamParam, parallel to params (NULL
     * for a query-string one): they go with the query, as params do. */
    apr_array_header_t *param_exprs; /* const os_identity_value * */
    /* Where the section is, for the download page (os_index.c). */
    server_rec *server; /* the virtual host it belongs to */
    int literal;        /* a <Location PATH> with a literal PATH */
    /* The most specific literal <Location> of ours that applies: an
     * export answers its URL only (os_config_merge_dir). NULL: none. */
    const char *section;
    /* Its place in os_config_sections(), for the totals (os_status.c):
     * copied with the query, so every merged config of a request knows
     * which section its query came from; -1 for none. */
    int id;
    int status; /* OrderStreamStatus */
    /* Slow clients (os_spool.c, os_pace.c); -1: unset. */
    apr_off_t spool;                     /* OrderStreamSpool; 0: off */
    const char *spool_dir;               /* OrderStreamSpoolDir */
    apr_int64_t min_rate;                /* OrderStreamMinRate; 0: off */
    apr_interval_time_t min_rate_window; /* its SECONDS */
    apr_interval_time_t max_duration;    /* OrderStreamMaxDuration; 0: off */
    /* The Django hand-off (os_handoff.c): the keys are the server's (set
     * in its config, inherited by its sections); NULL: unset. */
    const apr_array_header_t *token_keys; /* OrderStreamTokenKey */
    const os_handoff_conf *token;         /* OrderStreamToken */
    /* OrderStreamParallel N SPLIT-SQL (os_slice.c); 0: off, -1: unset */
    int parallel;
    const char *split_sql;
    unsigned parallel_formats; /* formats= : the formats read in slices */
    int parallel_alongside;    /* alongside= : other connections allowed */
    const char *parallel_at;   /* "file:line", for the config test */
} os_dir_conf;

/* The directive table, for the module record. */
extern const command_rec os_config_cmds[];

void *os_config_create_dir(apr_pool_t *p, char *dir);
void *os_config_merge_dir(apr_pool_t *p, void *base, void *add);

/* check_config hook: fails the config test when a section selects
 * "SetHandler orderstream" but no OrderStreamSQL applies to it, when the
 * $N placeholders of a section's queries and its OrderStreamParams do not
 * match, or when mod_dbd is missing. */
int os_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                    server_rec *s);

/* Whether the section has a query to stream. */
int os_config_has_sql(const os_dir_conf *conf);

/* Effective values, defaults applied. */
int os_config_fetch_rows(const os_dir_conf *conf);

os_header_mode os_config_header_mode(const os_dir_conf *conf);
/* -1: leave the database's statement_timeout alone; else milliseconds. */
long os_config_stmt_timeout_ms(const os_dir_conf *conf);
int os_config_max_concurrent(const os_dir_conf *conf);
apr_interval_time_t os_config_acquire_timeout(const os_dir_conf *conf);
int os_config_retry_after(const os_dir_conf *conf);
/* The format of a request that asks for none; one of os_config_formats. */
os_format os_config_format(const os_dir_conf *conf);
/* The formats a request may ask for (a mask of os_format). */
unsigned os_config_formats(const os_dir_conf *conf);
/* What the render layer needs of conf, defaults applied, into *o: the
 * config hands it down so that render never reads os_dir_conf. */
struct os_render_opts;
void os_config_render(const os_dir_conf *conf, struct os_render_opts *o);

/* The URL paths of the exports of virtual host s (literal <Location>s
 * with OrderStreamSQL), in the order read, each once: what a download
 * page lists. */
apr_array_header_t *os_config_export_paths(server_rec *s, apr_pool_t *p);

/* Every section that gives OrderStreamSQL or OrderStreamParam, in the
 * order read (os_dir_conf *; a section's id is its index), from when the
 * config is read until it is read again; NULL when there is none. */
const apr_array_header_t *os_config_sections(void);

/* OrderStreamStatus: whether the section's exports are shown and counted
 * (os_status.c); on unless "Off". */
int os_config_status(const os_dir_conf *conf);

/* Slow clients: the most bytes a download's spool file may hold (0: no
 * spool) and its directory (NULL: httpd's temporary directory); the rate
 * a client must keep while the export waits for it, in bytes per second
 * over *window (0: no bound); how long an export may hold its database
 * connection (0: no bound). */
apr_off_t os_config_spool(const os_dir_conf *conf);

/* OrderStreamParallel: the number of slices (0: serial) and, when not 0,
 * the split query in *split. */
int os_config_parallel(const os_dir_conf *conf, const char **split);

/* OrderStreamParallel's options: the formats read in slices (a mask of
 * os_format bits; default csv, tsv, ndjson) and how many connections
 * other exports of the child may hold for slices to be taken (default
 * 0: only an export that reads alone). */
unsigned os_config_parallel_formats(const os_dir_conf *conf);
int os_config_parallel_alongside(const os_dir_conf *conf);
const char *os_config_spool_dir(const os_dir_conf *conf);
apr_uint64_t os_config_min_rate(const os_dir_conf *conf,
                                apr_interval_time_t *window);
apr_interval_time_t os_config_max_duration(const os_dir_conf *conf);

/* The rules for ?offset=&limit= (os_params.h). */
void os_config_params_rules(const os_dir_conf *conf, os_params_rules *rules);

/* Who-asks of conf (its parameters' rules, expr= values, settings and
 * role) for os_identity.c, which never reads os_dir_conf. */
void os_config_identity(const os_dir_conf *conf, os_identity_spec *spec);

#endif /* OS_CONFIG_H */
