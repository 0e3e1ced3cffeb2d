/* os_status.c: running exports and totals in shared memory.
 *
 * httpd's own provider keeps them: ap_slotmem "shm" (mod_slotmem_shm), as
 * mod_proxy_balancer and mod_heartmonitor keep theirs. Two slot arrays,
 * created in post_config, before the children are forked, so that every
 * child sees the same memory:
 *  - one slot per export that may run at once (os_slot): grabbed when an
 *    export starts, written only by the thread running it (rows and bytes
 *    after each batch: plain stores into its own slot, no lock, nothing
 *    shared written per batch), released with the request's pool;
 *  - one per Location for the totals (os_tally), added to once per
 *    request from its notes by the log_transaction hook.
 * Grabbing, releasing and adding take the global mutex "orderstream-status"
 * (held for a few instructions, three times per request, never per
 * batch).
 *
 * Readers (the status page, a scrape) copy the slots under the mutex, but
 * a slot's rows and bytes change without it: a figure read on a 32-bit
 * machine could be torn, which for a display is harmless.
 *
 * Why nothing can stay "running":
 *  - a slot is freed by a cleanup on its request's pool, whatever ended the
 *    export (complete, cut, client gone, refused);
 *  - mod_slotmem_shm makes new segments for every generation: a graceful
 *    restart starts with empty slots, and the children of the old
 *    generation, which finish their downloads, write into the old
 *    segments, which nobody reads any more;
 *  - a child that dies without its cleanups (killed, crashed) is reaped by
 *    the parent, which runs the child_status hook: the parent frees every
 *    slot that child held (each slot records its pid from the moment it is
 *    grabbed).
 * The price of the first: totals count from the last start or restart,
 * graceful or not (as a restarted process's Prometheus counters do), and
 * downloads still running in the old children are not listed.
 *
 * Layer operate: may call its own layer and base, db, deliver, render, export.
 */
#include "os_private.h"

#include <ap_provider.h>
#include <ap_slotmem.h>
#include <apr_atomic.h>
#include <apr_global_mutex.h>
#include <apr_strings.h>
#include <http_config.h>
#include <util_mutex.h>

#include <unistd.h>

#include "os_config.h"
#include "os_notes.h"
#include "os_status.h"

/* The Mutex directive's name for our lock. */
#define OS_STATUS_MUTEX "orderstream-status"

static const char *const phase_names[OS_PHASE_COUNT] = { "waiting", "database",
                                                         "sending",
                                                         "spooled" };

/* A slot's state: readers list only RUNNING slots, which are filled. */
#define OS_SLOT_FREE 0
#define OS_SLOT_RUNNING 1

/* One running export. The strings are cut to fit: an IPv6 address is at
 * most 45 characters; a longer user name is shown cut. */
typedef struct os_slot {
    apr_uint32_t state; /* OS_SLOT_*, set last when filled */
    int total;          /* its Location's index in the totals */
    pid_t pid;          /* the child that grabbed it */
    volatile int phase;
    volatile int backend;
    volatile int slices; /* connections reading it (OrderStreamParallel) */
    apr_time_t started;
    volatile apr_int64_t rows, bytes;
    char client[48];
    char user[64];
    char format[16];
} os_slot;

struct os_status {
    os_slot *slot;
    unsigned int id;
    const PGconn *conn;
};

/* A Location's totals are keyed by virtual host and path. */
typedef struct os_key {
    const char *location, *vhost;
} os_key;

/* Set in post_config (in the parent, so every child inherits them) and
 * forgotten with pconf. slots == NULL: no status. */
static const ap_slotmem_provider_t *shm;
static ap_slotmem_instance_t *slots;   /* os_slot */
static ap_slotmem_instance_t *tallies; /* os_tally, per key */
static apr_global_mutex_t *lock;
static apr_array_header_t *keys; /* os_key, the totals' order */
static int *section_key;         /* per os_config_sections() id: a key */
static int nsections;
static apr_time_t since;
static pid_t self;

const char *os_status_phase_name(os_status_phase phase)
{
    return phase < OS_PHASE_COUNT ? phase_names[phase] : "?";
}

static const ap_slotmem_provider_t *lookup_shm(void)
{
    return ap_lookup_provider(AP_SLOTMEM_PROVIDER_GROUP, "shm",
                              AP_SLOTMEM_PROVIDER_VERSION);
}

/* ---- the config test ----------------------------------------------------
 * The parsed tree has <IfModule> and Include already resolved: every
 * SetHandler or AddHandler of orderstream-metrics in it will be served. */
static const ap_directive_t *find_metrics(const ap_directive_t *d,
                                          apr_pool_t *p)
{
    const ap_directive_t *found;

    for (; d; d = d->next) {
        if (d->first_child && (found = find_metrics(d->first_child, p))) {
            return found;
        }
        if (!strcasecmp(d->directive, "SetHandler")
            || !strcasecmp(d->directive, "AddHandler")) {
            const char *args = d->args;
            if (!strcasecmp(ap_getword_conf(p, &args), OS_METRICS_HANDLER)) {
                return d;
            }
        }
    }
    return NULL;
}

int os_status_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp, server_rec *s)
{
    const ap_directive_t *d;

    (void)pconf;
    (void)plog;
    (void)s;
    if (lookup_shm() || !(d = find_metrics(ap_conftree, ptemp))) {
        return OK;
    }
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                 OSLOGNO(00160) "%s " OS_METRICS_HANDLER " at %s:%d needs "
                                "mod_slotmem_shm, where every child keeps its "
                                "exports; add \"LoadModule slotmem_shm_module "
                                "modules/mod_slotmem_shm.so\"",
                 d->directive, d->filename, d->line_num);
    return HTTP_INTERNAL_SERVER_ERROR;
}

int os_status_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    ap_mutex_register(pconf, OS_STATUS_MUTEX, NULL, APR_LOCK_DEFAULT, 0);
    return OK;
}

/* ---- post_config ------------------------------------------------------- */

static apr_status_t forget(void *unused)
{
    (void)unused;
    shm = NULL;
    slots = tallies = NULL;
    lock = NULL;
    keys = NULL;
    section_key = NULL;
    nsections = 0;
    return APR_SUCCESS;
}

static const char *vhost_name(const server_rec *s, apr_pool_t *p)
{
    const char *host = s->server_hostname ? s->server_hostname : "";

    return s->port ? apr_psprintf(p, "%s:%u", host, (unsigned)s->port) : host;
}

static int key_of(const char *location, const char *vhost)
{
    int i;

    for (i = 0; i < keys->nelts; i++) {
        const os_key *k = &APR_ARRAY_IDX(keys, i, os_key);
        if (!strcmp(k->location, location) && !strcmp(k->vhost, vhost)) {
            return i;
        }
    }
    APR_ARRAY_PUSH(keys, os_key).location = location;
    APR_ARRAY_IDX(keys, i, os_key).vhost = vhost;
    return i;
}

/* One totals slot per virtual host and Location with a query, however many
 * sections name it; none for a section with OrderStreamStatus Off. */
static void map_sections(apr_pool_t *pconf)
{
    const apr_array_header_t *secs = os_config_sections();
    int i;

    nsections = secs ? secs->nelts : 0;
    section_key = apr_palloc(pconf, sizeof(int) * ((apr_size_t)nsections + 1));
    keys = apr_array_make(pconf, 8, sizeof(os_key));
    for (i = 0; i < nsections; i++) {
        const os_dir_conf *c = APR_ARRAY_IDX(secs, i, os_dir_conf *);
        section_key[i] = os_config_has_sql(c) && os_config_status(c)
            ? key_of(c->location, vhost_name(c->server, pconf))
            : -1;
    }
}

/* Exports that can run at once in one generation: every worker thread of
 * every process (ServerLimit x ThreadsPerChild), plus, per process, the
 * HTTP/2 workers (H2MaxWorkers' default: 1.5 x ThreadsPerChild, at least
 * 4), which run requests of their own. */
static unsigned int slot_count(void)
{
    int daemons = 0, threads = 0;

    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons);
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    daemons = daemons > 0 ? daemons : 1;
    threads = threads > 0 ? threads : 1;
    return (unsigned int)daemons
        * (unsigned int)(threads
                         + (3 * threads / 2 > 4 ? 3 * threads / 2 : 4));
}

int os_status_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    apr_status_t rv;
    unsigned int n = slot_count();

    (void)plog;
    (void)ptemp;
    apr_pool_cleanup_register(pconf, NULL, forget, apr_pool_cleanup_null);
    if (!(shm = lookup_shm())) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     OSLOGNO(00161) "mod_slotmem_shm is not loaded: no "
                                    "running exports or totals in "
                                    "mod_status");
        return OK;
    }
    map_sections(pconf);
    rv = ap_global_mutex_create(&lock, NULL, OS_STATUS_MUTEX, NULL, s, pconf,
                                0);
    /* Anonymous segments (no name): nothing on disk, and no two httpd
     * instances can meet in them. */
    if (rv == APR_SUCCESS) {
        rv = shm->create(&slots, NULL, sizeof(os_slot), n,
                         AP_SLOTMEM_TYPE_PREGRAB, pconf);
    }
    if (rv == APR_SUCCESS) {
        rv =
            shm->create(&tallies, NULL, sizeof(os_tally),
                        keys->nelts ? (unsigned int)keys->nelts : 1, 0, pconf);
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     OSLOGNO(00162) "cannot make the shared memory or mutex "
                                    "for mod_status and orderstream-metrics "
                                    "(%u slots): no status",
                     n);
        slots = tallies = NULL;
        return OK;
    }
    since = apr_time_now();
    return OK;
}

void os_status_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    self = getpid();
    if (!lock) {
        return;
    }
    rv = apr_global_mutex_child_init(&lock, apr_global_mutex_lockfile(lock),
                                     pchild);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     OSLOGNO(00163) "cannot attach the " OS_STATUS_MUTEX
                                    " mutex in this child: no status");
        slots = tallies = NULL;
    }
}

static os_slot *slot_at(unsigned int id)
{
    void *mem = NULL;

    return shm->dptr(slots, id, &mem) == APR_SUCCESS ? mem : NULL;
}

static os_tally *tally_at(int key)
{
    void *mem = NULL;

    return shm->dptr(tallies, (unsigned int)key, &mem) == APR_SUCCESS ? mem
                                                                      : NULL;
}

/* ---- a child gone without its cleanups --------------------------------- */

void os_status_child_status(server_rec *s, pid_t pid, ap_generation_t gen,
                            int slot, mpm_child_status state)
{
    unsigned int id, n, freed = 0;
    os_slot *o;

    (void)gen;
    (void)slot;
    if (state != MPM_CHILD_EXITED || !slots || pid <= 0
        || apr_global_mutex_lock(lock) != APR_SUCCESS) {
        return;
    }
    n = shm->num_slots(slots);
    for (id = 0; id < n; id++) {
        if ((o = slot_at(id)) && o->pid == pid
            && shm->release(slots, id) == APR_SUCCESS) {
            apr_atomic_set32(&o->state, OS_SLOT_FREE);
            o->pid = 0;
            freed++;
        }
    }
    apr_global_mutex_unlock(lock);
    if (freed) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     OSLOGNO(00164) "child %" APR_PID_T_FMT " ended while "
                                    "running %u exports: their status slots "
                                    "are freed",
                     pid, freed);
    }
}

/* ---- recording --------------------------------------------------------- */

/* The totals index of the request's export; -1 when it is not counted. */
static int key_for(request_rec *r)
{
    const os_dir_conf *conf =
        ap_get_module_config(r->per_dir_config, &orderstream_module);

    if (!slots || !conf || conf->id < 0 || conf->id >= nsections
        || !os_config_status(conf)) {
        return -1;
    }
    return section_key[conf->id];
}

static apr_status_t release(void *data)
{
    os_status *st = data;

    apr_atomic_set32(&st->slot->state, OS_SLOT_FREE);
    if (slots && apr_global_mutex_lock(lock) == APR_SUCCESS) {
        st->slot->pid = 0;
        shm->release(slots, st->id);
        apr_global_mutex_unlock(lock);
    }
    return APR_SUCCESS;
}

/* Under the lock: a free slot, marked as this child's at once (see
 * os_status_child_status); or the export counted as unlisted. */
static os_slot *grab(int key, unsigned int *id)
{
    os_tally *t;
    os_slot *o = NULL;

    if (apr_global_mutex_lock(lock) != APR_SUCCESS) {
        return NULL;
    }
    if (shm->grab(slots, id) == APR_SUCCESS && (o = slot_at(*id))) {
        o->pid = self;
    }
    else if ((t = tally_at(key))) {
        t->unlisted++;
    }
    apr_global_mutex_unlock(lock);
    return o;
}

os_status *os_status_begin(request_rec *r, const char *format)
{
    int key = key_for(r);
    os_status *st;
    unsigned int id;
    os_slot *o;

    if (key < 0 || !(o = grab(key, &id))) {
        return NULL;
    }
    o->total = key;
    o->phase = OS_PHASE_WAITING;
    o->backend = 0;
    o->slices = 1;
    o->started = r->request_time;
    o->rows = o->bytes = 0;
    apr_cpystrn(o->client, r->useragent_ip ? r->useragent_ip : "",
                sizeof(o->client));
    apr_cpystrn(o->user, r->user ? r->user : "", sizeof(o->user));
    apr_cpystrn(o->format, format ? format : "", sizeof(o->format));
    /* Last, a full barrier: a reader that sees RUNNING sees the rest. */
    apr_atomic_set32(&o->state, OS_SLOT_RUNNING);
    st = apr_pcalloc(r->pool, sizeof(*st));
    st->slot = o;
    st->id = id;
    apr_pool_cleanup_register(r->pool, st, release, apr_pool_cleanup_null);
    return st;
}

void os_status_set_phase(os_status *st, os_status_phase phase)
{
    if (!st) {
        return;
    }
    /* Once spooled, the phase stays: what follows is the last batch
     * written, then the tail. */
    if (st->slot->phase != OS_PHASE_SPOOLED) {
        st->slot->phase = phase;
    }
    if (st->conn) {
        st->slot->backend = PQbackendPID(st->conn);
    }
}

void os_status_slices(os_status *st, int n)
{
    if (st) {
        st->slot->slices = n;
    }
}

void os_status_released(os_status *st)
{
    if (st) {
        st->conn = NULL;
        st->slot->backend = 0;
        st->slot->phase = OS_PHASE_SPOOLED;
    }
}

void os_status_connected(os_status *st, const PGconn *conn)
{
    if (st) {
        st->conn = conn;
        os_status_set_phase(st, OS_PHASE_DATABASE);
    }
}

void os_status_progress(os_status *st, apr_int64_t rows, apr_off_t bytes)
{
    if (st) {
        st->slot->rows = rows;
        st->slot->bytes = bytes;
        os_status_set_phase(st, OS_PHASE_DATABASE);
    }
}

/* ---- the totals, from the notes ---------------------------------------- */

/* The request of an internal redirect chain that ran the export (it set
 * the notes), and the status the access log shows (%>s: the last one's). */
int os_status_log(request_rec *r)
{
    request_rec *rr, *with = os_notes_find(r);
    const char *outcome = with ? os_notes_outcome(with) : NULL;
    os_tally *t;
    int key, status = r->status;

    for (rr = r; rr; rr = rr->next) {
        status = rr->status;
    }
    /* A HEAD runs no export, whatever it was answered (a 400 or 406 is
     * one before the method matters): never counted. */
    if (!with || r->header_only || with->header_only
        || (key = key_for(with)) < 0
        || apr_global_mutex_lock(lock) != APR_SUCCESS) {
        return DECLINED;
    }
    if ((t = tally_at(key))) {
        os_tally_add(t, outcome, status, os_notes_int(with, OS_NOTE_ROWS),
                     os_notes_int(with, OS_NOTE_BYTES),
                     apr_time_now() - r->request_time);
        os_tally_add_spooled(t, os_notes_int(with, OS_NOTE_SPOOLED));
    }
    apr_global_mutex_unlock(lock);
    return DECLINED;
}

/* ---- reading ----------------------------------------------------------- */

static int by_start(const void *a, const void *b)
{
    const os_status_run *x = a, *y = b;

    return x->started < y->started ? -1 : x->started > y->started;
}

static void copy_run(os_status_view *v, const os_slot *o, apr_pool_t *p)
{
    os_status_run *run = &v->run[v->nrun++];
    const os_status_total *t = &v->totals[o->total];

    run->location = t->location;
    run->vhost = t->vhost;
    run->total = o->total;
    run->client = apr_pstrndup(p, o->client, sizeof(o->client));
    run->user = apr_pstrndup(p, o->user, sizeof(o->user));
    run->format = apr_pstrndup(p, o->format, sizeof(o->format));
    run->phase = o->phase < OS_PHASE_COUNT ? o->phase : OS_PHASE_WAITING;
    run->pid = o->pid;
    run->backend = o->backend;
    run->slices = o->slices;
    run->started = o->started;
    run->rows = o->rows;
    run->bytes = o->bytes;
    v->totals[o->total].running++;
}

/* Under the lock: the totals, and the slots that are running. */
static void copy_shared(os_status_view *v, apr_pool_t *p)
{
    unsigned int id, n = shm->num_slots(slots);
    os_tally *t;
    const os_slot *o;
    os_slot copy;
    int i;

    for (i = 0; i < v->ntotals; i++) {
        if ((t = tally_at(i))) {
            v->totals[i].counts = *t;
        }
    }
    v->run =
        apr_palloc(p, sizeof(*v->run) * (n - shm->num_free_slots(slots) + 1));
    for (id = 0; id < n; id++) {
        if (!(o = slot_at(id))
            || apr_atomic_read32((apr_uint32_t *)&o->state)
                != OS_SLOT_RUNNING) {
            continue;
        }
        copy = *o;
        if (copy.total >= 0 && copy.total < v->ntotals) {
            copy_run(v, &copy, p);
        }
    }
}

os_status_view *os_status_read(apr_pool_t *p)
{
    os_status_view *v;
    int i;

    if (!slots) {
        return NULL;
    }
    v = apr_pcalloc(p, sizeof(*v));
    v->now = apr_time_now();
    v->since = since;
    v->slots = (int)shm->num_slots(slots);
    v->ntotals = keys->nelts;
    v->totals =
        apr_pcalloc(p, sizeof(*v->totals) * ((apr_size_t)v->ntotals + 1));
    for (i = 0; i < v->ntotals; i++) {
        v->totals[i].location = APR_ARRAY_IDX(keys, i, os_key).location;
        v->totals[i].vhost = APR_ARRAY_IDX(keys, i, os_key).vhost;
    }
    if (apr_global_mutex_lock(lock) != APR_SUCCESS) {
        return NULL;
    }
    copy_shared(v, p);
    apr_global_mutex_unlock(lock);
    qsort(v->run, (size_t)v->nrun, sizeof(*v->run), by_start);
    return v;
}
