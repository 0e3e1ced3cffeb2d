/* test_format.c: unit tests of src/render/os_format.c (format names, Accept
 * negotiation, TSV and JSON escaping), no server needed. The TSV
 * expectations are what PostgreSQL 15's COPY ... TO STDOUT (FORMAT text)
 * writes for the same value; the JSON ones what to_json(text) gives.
 * Prints one line per failure and a closing "N passed, N failed" line;
 * exits non-zero on any failure. */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>

#include "os_format.h"

static int passed, failed;
static apr_pool_t *pool;

static void result(int ok, const char *what, const char *got, size_t glen,
                   const char *want)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: got [%.*s], want [%s]\n", what, (int)glen, got, want);
}

static void check_accept(const char *header, unsigned allowed, os_format dflt,
                         os_format want)
{
    os_format got = os_format_from_accept(header, allowed, dflt, pool);
    const char *g = got ? os_format_name(got) : "none";

    result(got == want, header ? header : "(no Accept)", g, strlen(g),
           want ? os_format_name(want) : "none");
}

static void tsv(const char *in, size_t len, int null, const char *want)
{
    char out[256];
    size_t n;

    memset(out, 0x7f, sizeof(out));
    n = os_tsv_field(out, in, len, null);
    result(n == strlen(want) && !memcmp(out, want, n)
               && n <= OS_TSV_FIELD_MAX(len) && out[n] == 0x7f,
           "tsv", out, n, want);
}

static void json(const char *in, size_t len, const char *want)
{
    char out[512];
    size_t n;

    memset(out, 0x7f, sizeof(out));
    n = os_json_string(out, in, len);
    result(n == strlen(want) && !memcmp(out, want, n)
               && n <= OS_JSON_STRING_MAX(len) && out[n] == 0x7f,
           "json", out, n, want);
}

static void file_name(const char *pattern, os_format f, const char *want)
{
    /* 2026-11-24 13:05:09 UTC */
    apr_time_t t = apr_time_from_sec(1795525509);
    const char *got = os_format_file_name(pattern, f, t, pool);

    result(!strcmp(got, want), pattern, got, strlen(got), want);
}

#define TSV(in, want) tsv(in, strlen(in), 0, want)
#define JSON(in, want) json(in, strlen(in), want)

int main(void)
{
    const char *l;

    apr_initialize();
    apr_pool_create(&pool, NULL);

    result(os_format_by_name("NDJSON") == OS_FMT_NDJSON, "by name", "", 0,
           "ndjson");
    result(os_format_by_name("json") == OS_FMT_NONE, "json is not a format",
           "", 0, "none");
    l = os_format_list(OS_FMT_ALL, pool);
    result(!strcmp(l, "csv, tsv, ndjson, xlsx"), "list", l, strlen(l),
           "csv, tsv, ndjson, xlsx");
    l = os_format_list(OS_FMT_NDJSON | OS_FMT_CSV, pool);
    result(!strcmp(l, "csv, ndjson"), "list", l, strlen(l), "csv, ndjson");
    result(os_format_first(OS_FMT_TSV | OS_FMT_NDJSON) == OS_FMT_TSV, "first",
           "", 0, "tsv");

    check_accept(NULL, OS_FMT_ALL, OS_FMT_CSV, OS_FMT_CSV);
    check_accept("", OS_FMT_ALL, OS_FMT_TSV, OS_FMT_TSV);
    check_accept(" , ,", OS_FMT_ALL, OS_FMT_TSV, OS_FMT_TSV);
    check_accept("*/*", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_CSV);
    check_accept("*/*", OS_FMT_ALL, OS_FMT_NDJSON, OS_FMT_NDJSON);
    check_accept("application/x-ndjson", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NDJSON);
    check_accept("Application/X-NDJSON; charset=utf-8", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NDJSON);
    check_accept("text/tab-separated-values, */*;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_TSV);
    check_accept("text/csv;q=0.5, application/x-ndjson;q=0.9", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    /* equal q: the export's own format, then csv, tsv, ndjson */
    check_accept("text/csv;q=0.9, application/x-ndjson;q=0.9", OS_FMT_ALL,
                 OS_FMT_NDJSON, OS_FMT_NDJSON);
    check_accept("text/csv;q=0.9, application/x-ndjson;q=0.9", OS_FMT_ALL,
                 OS_FMT_TSV, OS_FMT_CSV);
    check_accept("application/x-ndjson, text/csv", OS_FMT_ALL, OS_FMT_TSV,
                 OS_FMT_CSV);
    check_accept("application/x-ndjson;q=0.8, text/tab-separated-values;q=0.8",
                 OS_FMT_ALL, OS_FMT_CSV, OS_FMT_TSV);
    /* equal q: named beats a range, even over the export's own format */
    check_accept("application/x-ndjson, */*", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NDJSON);
    check_accept("application/x-ndjson;q=0.5, */*", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_CSV);
    check_accept("application/x-ndjson;q=0", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NONE);
    /* refused by name: stays refused; a range accepts the others */
    check_accept("text/csv;q=0, */*", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_TSV);
    check_accept("text/csv;q=0, */*", OS_FMT_CSV, OS_FMT_CSV, OS_FMT_NONE);
    check_accept("text/csv;q=0, text/tab-separated-values;q=0.1, */*",
                 OS_FMT_ALL, OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=0.5, text/csv;q=0", OS_FMT_ALL, OS_FMT_NDJSON,
                 OS_FMT_NONE);
    check_accept("text/csv;q=0, text/csv;q=0.5", OS_FMT_ALL, OS_FMT_NDJSON,
                 OS_FMT_NONE);
    check_accept("*/*;q=0", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_NONE);
    check_accept("*/*;q=0, text/csv;q=0.001", OS_FMT_ALL, OS_FMT_NDJSON,
                 OS_FMT_CSV);
    /* a browser: nothing of ours named, anything accepted */
    check_accept(
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        OS_FMT_ALL, OS_FMT_CSV, OS_FMT_CSV);
    check_accept(
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        OS_FMT_ALL, OS_FMT_NDJSON, OS_FMT_NDJSON);
    /* XLSX: named, or covered by application/ *; after NDJSON on a tie */
    check_accept(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        OS_FMT_ALL, OS_FMT_CSV, OS_FMT_XLSX);
    check_accept("application/*", OS_FMT_CSV | OS_FMT_XLSX, OS_FMT_CSV,
                 OS_FMT_XLSX);
    check_accept("application/*", OS_FMT_ALL, OS_FMT_XLSX, OS_FMT_XLSX);
    check_accept("application/x-ndjson;q=0, application/*", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_XLSX);
    /* a media range accepts every allowed format it covers */
    check_accept("text/*", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_CSV);
    check_accept("text/*", OS_FMT_ALL, OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/*", OS_FMT_ALL, OS_FMT_TSV, OS_FMT_TSV);
    check_accept("application/*", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("TEXT/*;Q=0.5, application/*;q=0.4", OS_FMT_ALL,
                 OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/*;q=0, application/*;q=0.1", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NDJSON);
    check_accept("text/*;q=0, text/tab-separated-values", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_TSV);
    check_accept("application/json", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_NONE);
    check_accept("image/*", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_NONE);
    /* named, but not allowed here */
    check_accept("application/x-ndjson", OS_FMT_CSV, OS_FMT_CSV, OS_FMT_NONE);
    check_accept("application/x-ndjson, text/csv;q=0.1", OS_FMT_CSV,
                 OS_FMT_CSV, OS_FMT_CSV);
    /* q by the RFC's grammar: 0 to 1, at most three decimals */
    check_accept("text/csv;q=0.001, application/x-ndjson;q=0.0009", OS_FMT_ALL,
                 OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/csv;q=0.001, application/x-ndjson;q=0.002", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=1.000, application/x-ndjson;q=0.999", OS_FMT_ALL,
                 OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/csv;q=1., application/x-ndjson;q=0.", OS_FMT_ALL,
                 OS_FMT_NDJSON, OS_FMT_CSV);
    /* invalid elements are ignored: neither accepted nor refused */
    check_accept("text/csv;q=abc", OS_FMT_ALL, OS_FMT_CSV, OS_FMT_CSV);
    check_accept("text/csv;q=abc, application/x-ndjson", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=0x1p-1, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=NaN, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=1.5, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=1.001, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=0.5000, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=-0, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=1e0, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=.5, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q= 0.5, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=\"0\", application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("text/csv;q=0, text/csv;q=abc", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NONE);
    check_accept("csv, application/x-ndjson;q=0.1", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NDJSON);
    check_accept("*/csv, application/x-ndjson;q=0.1", OS_FMT_ALL, OS_FMT_CSV,
                 OS_FMT_NDJSON);
    check_accept("text/csv junk, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_CSV, OS_FMT_NDJSON);
    check_accept("nonsense", OS_FMT_ALL, OS_FMT_TSV, OS_FMT_TSV);
    /* parameters: quoted strings may hold , and ; */
    check_accept("text/csv;x=\"a,b;q=0\";q=0.2, application/x-ndjson;q=0.1",
                 OS_FMT_ALL, OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/csv;q=0.2;ext=1, application/x-ndjson;q=0.1",
                 OS_FMT_ALL, OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/csv ; q=0.2 ;, application/x-ndjson;q=0.1", OS_FMT_ALL,
                 OS_FMT_NDJSON, OS_FMT_CSV);
    check_accept("text/csv;x=\"unterminated, application/x-ndjson", OS_FMT_ALL,
                 OS_FMT_TSV, OS_FMT_TSV);

    TSV("plain", "plain");
    TSV("", "");
    tsv("", 0, 1, "\\N");
    tsv("x", 1, 1, "\\N");
    TSV("a\tb", "a\\tb");
    TSV("a\nb\rc", "a\\nb\\rc");
    TSV("back\\slash", "back\\\\slash");
    TSV("\\N", "\\\\N");
    TSV("\\.", "\\\\.");
    TSV("\b\f\v", "\\b\\f\\v");
    TSV("\x01\x1f", "\x01\x1f"); /* other control bytes as they are */
    TSV("\"quoted\", comma", "\"quoted\", comma");
    TSV("Gr\xc3\xb6\xc3\x9f"
        "e",
        "Gr\xc3\xb6\xc3\x9f"
        "e");

    JSON("plain", "\"plain\"");
    JSON("", "\"\"");
    JSON("say \"hi\"", "\"say \\\"hi\\\"\"");
    JSON("back\\slash", "\"back\\\\slash\"");
    JSON("a\nb\rc\td\be\ff", "\"a\\nb\\rc\\td\\be\\ff\"");
    JSON("\x01\x1f", "\"\\u0001\\u001f\"");
    JSON("/ and \x7f", "\"/ and \x7f\"");
    JSON("Gr\xc3\xb6\xc3\x9f"
         "e \xf0\x9f\x98\x80",
         "\"Gr\xc3\xb6\xc3\x9f"
         "e \xf0\x9f\x98\x80\"");
    json("\x01\x01\x01", 3, "\"\\u0001\\u0001\\u0001\"");

    /* 2026-11-24 13:05:09 UTC */
    file_name("orders-%Y-%m-%d.csv", OS_FMT_CSV, "orders-2026-11-24.csv");
    file_name("orders-%Y-%m-%d.csv", OS_FMT_NDJSON,
              "orders-2026-11-24.ndjson");
    file_name("orders.TSV", OS_FMT_CSV, "orders.csv");
    file_name("all_orders.csv", OS_FMT_XLSX, "all_orders.xlsx");
    file_name("book.xlsx", OS_FMT_CSV, "book.csv");
    file_name("orders", OS_FMT_TSV, "orders.tsv");
    file_name("orders.txt", OS_FMT_NDJSON, "orders.txt");
    file_name("%H:%M %D.csv", OS_FMT_CSV, "13:05 11_24_26.csv");
    file_name("a%tb%nc.csv", OS_FMT_CSV, "a_b_c.csv");
    file_name(".csv", OS_FMT_TSV, ".csv.tsv");
    /* found by fuzz_file_name: a trailing dot is no extension of its own */
    file_name("orders.", OS_FMT_CSV, "orders.csv");
    file_name("..", OS_FMT_NDJSON, "..ndjson");
    file_name("Bestell\xc3\xbc %Y.csv", OS_FMT_CSV,
              "Bestell\xc3\xbc 2026.csv");

    printf("%d passed, %d failed\n", passed, failed);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed ? 1 : 0;
}
