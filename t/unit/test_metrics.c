/* test_metrics.c: unit tests of src/operate/os_tally.c (what one request adds to
 * a Location's totals) and src/operate/os_metrics.c (the Prometheus text: label
 * escaping, UTF-8, cumulative buckets), no server needed. Prints one line
 * per failure and a closing "N passed, N failed" line; exits non-zero on
 * any failure. With --print it prints a rendering of a made-up view
 * instead, which `make unit` hands to `promtool check metrics`. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "os_metrics.h"
#include "os_tally.h"
#include "unit.h"

static apr_pool_t *pool;

static void label(const char *in, const char *want)
{
    const char *got = os_metrics_label(in, pool);

    if (!strcmp(got, want)) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL label: got [%s], want [%s]\n", got, want);
}

static void has_line(const char *text, const char *line)
{
    const char *at = strstr(text, line);
    size_t n = strlen(line);

    if (at && (at == text || at[-1] == '\n') && at[n] == '\n') {
        passed++;
        return;
    }
    failed++;
    printf("FAIL no line [%s]\n", line);
}

static int count(const char *text, const char *what)
{
    int n = 0;

    while ((text = strstr(text, what))) {
        n++;
        text += strlen(what);
    }
    return n;
}

static void tally_tests(void)
{
    os_tally t;
    int i;

    memset(&t, 0, sizeof(t));
    os_tally_add(&t, "complete", 200, 10, 100, 100000); /* exactly 0.1 s */
    os_tally_add(&t, "complete", 200, 5, 50, 100001);   /* just past it */
    os_tally_add(&t, "db-error", 200, 3, 30, 4000 * APR_USEC_PER_SEC);
    os_tally_add(&t, "rejected", 400, 0, 0, 1000);
    os_tally_add(&t, "rejected", 503, 0, 0, 10 * APR_USEC_PER_SEC);
    os_tally_add(&t, "rejected", 500, 0, 0, 0); /* no refusal of ours */
    os_tally_add(&t, "too-fast", 200, 1, 1, 0); /* unknown: other */
    os_tally_add(&t, NULL, 200, -1, -1, -5);    /* nonsense counts nothing */
    ok(t.outcomes[0] == 2, "two complete");
    os_tally_add(&t, "too-slow", 200, 0, 0, 0);
    os_tally_add(&t, "too-long", 200, 0, 0, 0);
    os_tally_add(&t, "too-long", 200, 0, 0, 0);
    ok(t.outcomes[8] == 1 && !strcmp(os_tally_outcomes[8], "too-slow"),
       "one too-slow");
    ok(t.outcomes[9] == 2 && !strcmp(os_tally_outcomes[9], "too-long"),
       "two too-long");
    ok(t.outcomes[2] == 1, "one db-error");
    ok(t.outcomes[OS_TALLY_REJECTED] == 3, "three rejected");
    ok(t.outcomes[OS_TALLY_OUTCOMES - 1] == 2, "unknown and NULL are other");
    ok(t.refusals[0] == 1 && t.refusals[1] == 0 && t.refusals[2] == 0
           && t.refusals[3] == 1,
       "refusals by status: one 400, one 503, a 500 in none");
    ok(t.rows == 19 && t.bytes == 181, "rows and bytes summed, negatives not");
    os_tally_add_spooled(&t, 4000);
    os_tally_add_spooled(&t, -1);
    ok(t.spooled == 4000 && t.bytes == 181,
       "spooled bytes summed apart from bytes, negatives not");
    ok(t.buckets[0] == 6, "0.1 s, 0 s and a negative duration: le 0.1");
    ok(t.buckets[1] == 1, "0.100001 s: le 0.5");
    ok(t.buckets[OS_TALLY_BUCKETS] == 1, "4000 s: +Inf");
    for (i = 2; i < OS_TALLY_BUCKETS; i++) {
        ok(t.buckets[i] == 0, "rejected ones are not in the histogram");
    }
    ok(t.micros == 100000 + 100001 + 4000 * APR_USEC_PER_SEC + 0,
       "durations summed, rejected ones not");
}

static void label_tests(void)
{
    label("/exports/orders.csv", "/exports/orders.csv");
    label("a\"b\\c\nd", "a\\\"b\\\\c\\nd");
    label("tab\there", "tab\there");
    label("Gr\xc3\xb6\xc3\x9f"
          "e \xe2\x82\xac \xf0\x9f\x93\xa6",
          "Gr\xc3\xb6\xc3\x9f"
          "e \xe2\x82\xac \xf0\x9f\x93\xa6");
    label("latin1 \xe9t\xe9", "latin1 \xef\xbf\xbdt\xef\xbf\xbd");
    label("overlong \xc0\x80", "overlong \xef\xbf\xbd\xef\xbf\xbd");
    label("surrogate \xed\xa0\x80",
          "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    label("past U+10FFFF \xf4\x90\x80\x80",
          "past U+10FFFF \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    label("cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd");
    label("", "");
}

/* Two Locations: the second with a name that needs every escape. */
static os_status_view *made_up_view(void)
{
    os_status_view *v = apr_pcalloc(pool, sizeof(*v));
    os_status_total *t = apr_pcalloc(pool, 2 * sizeof(*t));

    v->since = apr_time_from_sec(1700000000);
    v->ntotals = 2;
    v->totals = t;
    t[0].location = "/exports/orders.csv";
    t[0].vhost = "shop.example:443";
    t[0].running = 2;
    os_tally_add(&t[0].counts, "complete", 200, 1000, 110000,
                 apr_time_from_sec(3));
    os_tally_add(&t[0].counts, "complete", 200, 10, 1100, 50000);
    os_tally_add(&t[0].counts, "client-gone", 200, 500, 55000,
                 apr_time_from_sec(20));
    os_tally_add(&t[0].counts, "rejected", 400, 0, 0, 100);
    os_tally_add_spooled(&t[0].counts, 93000000);
    t[1].location = "/odd \"q\" \\ x\n\xe9";
    t[1].vhost = "";
    return v;
}

static void text_tests(void)
{
    const char *m = os_metrics_text(made_up_view(), pool);
    static const char l0[] =
        "vhost=\"shop.example:443\",location=\"/exports/orders.csv\"";

    has_line(m, "# TYPE orderstream_exports_total counter");
    has_line(m, "# TYPE orderstream_export_duration_seconds histogram");
    has_line(m, "# TYPE orderstream_running gauge");
    has_line(m, apr_psprintf(pool, "orderstream_running{%s} 2", l0));
    has_line(
        m,
        apr_psprintf(
            pool, "orderstream_exports_total{%s,outcome=\"complete\"} 2", l0));
    has_line(m,
             apr_psprintf(pool,
                          "orderstream_exports_total{%s,outcome=\"other\"} 0",
                          l0));
    has_line(m,
             apr_psprintf(
                 pool, "orderstream_rejected_total{%s,code=\"400\"} 1", l0));
    has_line(m, apr_psprintf(pool, "orderstream_rows_total{%s} 1510", l0));
    has_line(m, apr_psprintf(pool, "orderstream_bytes_total{%s} 166100", l0));
    has_line(m,
             apr_psprintf(pool, "orderstream_spooled_bytes_total{%s} 93000000",
                          l0));
    has_line(m,
             apr_psprintf(pool,
                          "orderstream_export_duration_seconds_bucket{%s,"
                          "le=\"0.1\"} 1",
                          l0));
    has_line(m,
             apr_psprintf(pool,
                          "orderstream_export_duration_seconds_bucket{%s,"
                          "le=\"5\"} 2",
                          l0));
    has_line(m,
             apr_psprintf(pool,
                          "orderstream_export_duration_seconds_bucket{%s,"
                          "le=\"15\"} 2",
                          l0));
    has_line(m,
             apr_psprintf(pool,
                          "orderstream_export_duration_seconds_bucket{%s,"
                          "le=\"60\"} 3",
                          l0));
    has_line(m,
             apr_psprintf(pool,
                          "orderstream_export_duration_seconds_bucket{%s,"
                          "le=\"+Inf\"} 3",
                          l0));
    has_line(m,
             apr_psprintf(
                 pool, "orderstream_export_duration_seconds_count{%s} 3", l0));
    has_line(m,
             apr_psprintf(
                 pool, "orderstream_export_duration_seconds_sum{%s} 23.050000",
                 l0));
    has_line(m,
             "orderstream_running{vhost=\"\",location=\"/odd \\\"q\\\" "
             "\\\\ x\\n\xef\xbf\xbd\"} 0");
    has_line(m, "orderstream_start_time_seconds 1700000000.000");
    ok(count(m, "# HELP ") == 9 && count(m, "# TYPE ") == 9,
       "nine families, HELP and TYPE once each");
    ok(count(m, "orderstream_exports_total{") == 2 * OS_TALLY_OUTCOMES,
       "every outcome of both Locations, zeros too");
}

int main(int argc, char **argv)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (argc > 1 && !strcmp(argv[1], "--print")) {
        fputs(os_metrics_text(made_up_view(), pool), stdout);
        return 0;
    }
    tally_tests();
    label_tests();
    text_tests();
    int rc = unit_done();

    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
