/* bench/xlsx_writer.c: the XLSX writer alone (no database, no httpd) on
 * synthetic rows shaped like the shop export: bigint order id, timestamp,
 * email, product name, numeric(10,2) price, integer quantity,
 * numeric(12,2) total. Not part of make test (figures, not checks).
 *
 *   make bench/xlsx_writer && bench/xlsx_writer [rows [levels...]]
 *
 * (rows 1,000,000; with levels given, only those are run.)
 *
 * Prints, per deflate level: rows/s of the writer (formatting, deflate,
 * CRC, libarchive; the sink only counts), workbook bytes, XML bytes and
 * their ratio; then the same rows as CSV and deflated CSV for scale, how
 * the output flows (first bytes, piece sizes) and libarchive's memory
 * per sheet (malloc'd bytes in use, mallinfo2, before and after 4,096
 * one-row sheets). CPU time is the process's (clock(): one core). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <zlib.h>

#include "os_csv.h"
#include "os_xlsx.h"

#define NCOLS 7
#define TYPMOD(p, s) ((((p) << 16) | (s)) + 4)

static const unsigned types[NCOLS] = { 20, 1114, 25, 25, 1700, 23, 1700 };
static const int typmods[NCOLS] = { -1, -1,           -1, -1, TYPMOD(10, 2),
                                    -1, TYPMOD(12, 2) };
static const char *const labels[NCOLS] = { "Order ID",       "Order Date",
                                           "Customer Email", "Product Name",
                                           "Product Price",  "Quantity",
                                           "Item Total" };

static const char *const nouns[] = { "Mug",        "T-Shirt",      "Notebook",
                                     "Backpack",   "Water Bottle", "Desk Lamp",
                                     "Headphones", "Keyboard",     "Mouse Pad",
                                     "Umbrella" };
static const char *const styles[] = { "Classic", "Deluxe", "Eco",  "Vintage",
                                      "Pro",     "Travel", "Mini", "Premium" };
static const char *const sizes[] = { "12 oz", "large", "small", "blue",
                                     "black", "1 L",   "15\"",  "XL" };

typedef struct row {
    char buf[NCOLS][80];
    const char *v[NCOLS];
    apr_size_t len[NCOLS];
} row;

static unsigned long rnd(unsigned long *x)
{
    *x = *x * 6364136223846793005UL + 1442695040888963407UL;
    return *x >> 33;
}

/* Row i of the synthetic shop export (3 items an order, as the demo). */
static void make_row(row *r, long i, unsigned long *x)
{
    long order = i / 3 + 1, cents = 50 + (long)(rnd(x) % 99950), q;
    long t = 1609459200L + order * 94; /* from 2021-01-01, ~3 years */
    struct tm tm;
    time_t tt = t;
    int c;

    q = 1 + (long)(rnd(x) % 5);
    gmtime_r(&tt, &tm);
    snprintf(r->buf[0], 80, "%ld", order);
    strftime(r->buf[1], 80, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(r->buf[2], 80, "customer%lu@example.com", rnd(x) % 166666 + 1);
    switch (rnd(x) % 3) {
    case 0:
        snprintf(r->buf[3], 80, "%s \"%s\", %s", nouns[rnd(x) % 10],
                 styles[rnd(x) % 8], sizes[rnd(x) % 8]);
        break;
    case 1:
        snprintf(r->buf[3], 80, "%s %s", styles[rnd(x) % 8],
                 nouns[rnd(x) % 10]);
        break;
    default:
        snprintf(r->buf[3], 80, "%s %s (pack of %lu)", styles[rnd(x) % 8],
                 nouns[rnd(x) % 10], 2 + rnd(x) % 11);
    }
    snprintf(r->buf[4], 80, "%ld.%02ld", cents / 100, cents % 100);
    snprintf(r->buf[5], 80, "%ld", q);
    snprintf(r->buf[6], 80, "%ld.%02ld", cents * q / 100, cents * q % 100);
    for (c = 0; c < NCOLS; c++) {
        r->v[c] = r->buf[c];
        r->len[c] = strlen(r->buf[c]);
    }
}

/* The rows are made once, a pool of distinct ones reused, so that the
 * timing is the writer's. */
#define NDISTINCT 65536
static row *rows;

typedef struct counter {
    apr_uint64_t bytes, calls, rows_at_first_piece, first_bytes;
    apr_uint64_t max_piece;
    const apr_uint64_t *rows_now;
} counter;

static apr_status_t count_sink(void *ctx, const char *b, apr_size_t n)
{
    counter *c = ctx;

    (void)b;
    if (*c->rows_now == 0) {
        c->first_bytes += n;
    }
    else if (!c->rows_at_first_piece) {
        c->rows_at_first_piece = *c->rows_now;
    }
    c->bytes += n;
    c->calls++;
    c->max_piece = n > c->max_piece ? n : c->max_piece;
    return APR_SUCCESS;
}

static void bench_level(long n, int level, apr_pool_t *p)
{
    apr_uint64_t done = 0;
    counter c = { 0, 0, 0, 0, 0, &done };
    os_xlsx_opts o = { NCOLS, types,      typmods, labels, 0,
                       level, count_sink, &c,      0 };
    const os_xlsx_stats *st;
    os_xlsx *w;
    clock_t t0;
    double s;
    long i;

    if (os_xlsx_create(&w, &o, p) || os_xlsx_begin(w)) {
        fprintf(stderr, "create/begin failed\n");
        exit(1);
    }
    t0 = clock();
    for (i = 0; i < n; i++) {
        row *r = &rows[i % NDISTINCT];

        if (os_xlsx_row(w, r->v, r->len) != APR_SUCCESS) {
            fprintf(stderr, "row: %s\n", os_xlsx_error(w));
            exit(1);
        }
        done++;
    }
    if (os_xlsx_end(w) != APR_SUCCESS) {
        fprintf(stderr, "end: %s\n", os_xlsx_error(w));
        exit(1);
    }
    s = (double)(clock() - t0) / CLOCKS_PER_SEC;
    st = os_xlsx_get_stats(w);
    printf("level %d: %ld rows in %.2f s CPU = %.0f rows/s; workbook %.1f MB,"
           " XML %.1f MB, ratio %.3f; %d sheets\n",
           level, n, s, n / s, st->zip_bytes / 1e6, st->xml_bytes / 1e6,
           (double)st->zip_bytes / st->xml_bytes, st->sheets);
    printf("         flow: %llu bytes at begin, first piece after %llu rows, "
           "%llu sink calls, largest %llu bytes\n",
           (unsigned long long)c.first_bytes,
           (unsigned long long)c.rows_at_first_piece,
           (unsigned long long)c.calls, (unsigned long long)c.max_piece);
}

/* The same rows as CSV (os_csv, as the module writes them), and that
 * deflated at level 6 (what mod_deflate would send), for scale. */
static void bench_csv(long n)
{
    os_csv_fmt fmt;
    char line[1024], out[65536];
    apr_uint64_t bytes = 0, zbytes = 0;
    z_stream zs;
    clock_t t0 = clock();
    long i;
    int c;

    os_csv_fmt_init(&fmt, ',');
    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    for (i = 0; i < n; i++) {
        row *r = &rows[i % NDISTINCT];
        size_t k = 0;

        for (c = 0; c < NCOLS; c++) {
            k += os_csv_field(&fmt, line + k, r->v[c], r->len[c], 0);
            line[k++] = c == NCOLS - 1 ? '\n' : ',';
        }
        bytes += k;
        zs.next_in = (unsigned char *)line;
        zs.avail_in = (uInt)k;
        do {
            zs.next_out = (unsigned char *)out;
            zs.avail_out = sizeof(out);
            deflate(&zs, i == n - 1 ? Z_FINISH : Z_NO_FLUSH);
            zbytes += sizeof(out) - zs.avail_out;
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    printf("CSV:     %ld rows, %.1f MB; deflated at level 6: %.1f MB "
           "(%.2f s CPU formatting + deflate)\n",
           n, bytes / 1e6, zbytes / 1e6,
           (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* Heap in use after create, after begin (zlib's state), and after 4,096
 * sheets (libarchive's central directory records, our last-row list). */
static void bench_memory(apr_pool_t *parent)
{
    apr_uint64_t done = 1;
    counter c = { 0, 0, 0, 0, 0, &done };
    os_xlsx_opts o = {
        NCOLS, types, typmods, labels, 1, 1, count_sink, &c, 0
    };
    struct mallinfo2 m0, m1, m2, m3;
    apr_pool_t *p;
    os_xlsx *w;
    int i;

    apr_pool_create(&p, parent);
    m0 = mallinfo2();
    os_xlsx_create(&w, &o, p);
    m1 = mallinfo2();
    os_xlsx_begin(w);
    m2 = mallinfo2();
    for (i = 0; i < OS_XLSX_SHEETS_MAX - 1; i++) {
        os_xlsx_row(w, rows[i].v, rows[i].len);
    }
    m3 = mallinfo2();
    printf("memory:  malloc in use: create %+ld (APR pool incl. the 256 KiB "
           "buffer), begin %+ld (zlib, libarchive), %d sheets %+ld = %.0f "
           "bytes a sheet\n",
           (long)(m1.uordblks - m0.uordblks),
           (long)(m2.uordblks - m1.uordblks), OS_XLSX_SHEETS_MAX - 1,
           (long)(m3.uordblks - m2.uordblks),
           (double)(m3.uordblks - m2.uordblks) / (OS_XLSX_SHEETS_MAX - 1));
    apr_pool_destroy(p);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000, i;
    unsigned long x = 42;
    apr_pool_t *p;
    int a;

    apr_initialize();
    apr_pool_create(&p, NULL);
    rows = malloc(sizeof(*rows) * NDISTINCT);
    for (i = 0; i < NDISTINCT; i++) {
        make_row(&rows[i], i, &x);
    }
    if (argc > 2) { /* only these levels */
        for (a = 2; a < argc; a++) {
            bench_level(n, atoi(argv[a]), p);
        }
    }
    else {
        bench_level(n, 1, p);
        bench_level(n, 3, p);
        bench_level(n, 6, p);
        bench_csv(n);
        bench_memory(p);
    }
    free(rows);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
