/* test_csv.c: unit tests of the CSV field formatter (src/render/os_csv.c), no
 * server needed. Expected values are what PostgreSQL 15's
 * COPY ... TO STDOUT WITH (FORMAT csv) writes for the same value.
 * Prints one line per failure and a closing "N passed, N failed" line;
 * exits non-zero on any failure. */
#include <stdio.h>
#include <string.h>

#include "os_csv.h"

static int passed, failed;

static void check(const char *name, char delim, const char *in, size_t len,
                  unsigned flags, const char *want)
{
    os_csv_fmt fmt;
    char out[1024];
    size_t n;

    os_csv_fmt_init(&fmt, delim);
    memset(out, 0x7f, sizeof(out));
    n = os_csv_field(&fmt, out, in, len, flags);
    if (n == strlen(want) && memcmp(out, want, n) == 0
        && n <= OS_CSV_FIELD_MAX(len) && out[n] == 0x7f) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: got [%.*s] (%zu bytes), want [%s]\n", name, (int)n, out,
           n, want);
}

#define CHECK(name, in, want) check(name, ',', in, strlen(in), 0, want)

int main(void)
{
    char big[300];

    CHECK("plain", "abc", "abc");
    CHECK("empty string is quoted", "", "\"\"");
    check("NULL is nothing", ',', "", 0, OS_CSV_NULL, "");
    check("NULL ignores value", ',', "x", 1, OS_CSV_NULL, "");
    CHECK("comma", "a,b", "\"a,b\"");
    CHECK("quote doubled", "say \"hi\"", "\"say \"\"hi\"\"\"");
    CHECK("only a quote", "\"", "\"\"\"\"");
    CHECK("two quotes", "\"\"", "\"\"\"\"\"\"");
    CHECK("LF", "a\nb", "\"a\nb\"");
    CHECK("CR", "a\rb", "\"a\rb\"");
    CHECK("CRLF", "a\r\nb", "\"a\r\nb\"");
    CHECK("leading and trailing spaces stay bare", "  a b  ", "  a b  ");
    CHECK("multibyte UTF-8", "Kaffeebecher \xc3\xa4\xe2\x82\xac",
          "Kaffeebecher \xc3\xa4\xe2\x82\xac");
    CHECK("numeric", "-12.50", "-12.50");
    CHECK("timestamp", "2024-01-02 03:04:05+00", "2024-01-02 03:04:05+00");
    CHECK("array", "{1,2,3}", "\"{1,2,3}\"");
    CHECK("json", "{\"a\": 1}", "\"{\"\"a\"\": 1}\"");
    CHECK("backslash alone", "\\", "\\");
    CHECK("lone marker not alone in row", "\\.", "\\.");
    check("lone marker alone in row", ',', "\\.", 2, OS_CSV_LONE, "\"\\.\"");
    check("longer marker-like alone", ',', "\\.x", 3, OS_CSV_LONE, "\\.x");
    check("semicolon delimiter quotes ;", ';', "a;b", 3, 0, "\"a;b\"");
    check("semicolon delimiter leaves ,", ';', "a,b", 3, 0, "a,b");
    check("tab delimiter", '\t', "a\tb", 3, 0, "\"a\tb\"");
    check("high bytes are data", ',', "\xff\xfe", 2, 0, "\xff\xfe");

    check("guard =", ',', "=1+2", 4, OS_CSV_GUARD, "'=1+2");
    check("guard +", ',', "+49 30", 6, OS_CSV_GUARD, "'+49 30");
    check("guard -", ',', "-5", 2, OS_CSV_GUARD, "'-5");
    check("guard @", ',', "@SUM(A1)", 8, OS_CSV_GUARD, "'@SUM(A1)");
    check("guard tab, quoted for the delimiter tab", '\t', "\tx", 2,
          OS_CSV_GUARD, "\"'\tx\"");
    check("guard CR, inside the quotes", ',', "\rx", 2, OS_CSV_GUARD,
          "\"'\rx\"");
    check("guard with a comma", ',', "=A1,B1", 6, OS_CSV_GUARD, "\"'=A1,B1\"");
    check("guard: other starts untouched", ',', "a=1", 3, OS_CSV_GUARD, "a=1");
    check("guard: empty string", ',', "", 0, OS_CSV_GUARD, "\"\"");
    check("guard: NULL", ',', "", 0, OS_CSV_GUARD | OS_CSV_NULL, "");
    check("no guard without the flag", ',', "-5", 2, 0, "-5");

    memset(big, '"', sizeof(big));
    {
        /* Worst case: every byte a quote doubles to exactly the maximum;
         * a guarded field whose first byte is not a quote fits too. */
        os_csv_fmt fmt;
        static char out[OS_CSV_FIELD_MAX(sizeof(big))];
        size_t n;

        os_csv_fmt_init(&fmt, ',');
        big[0] = '=';
        n = os_csv_field(&fmt, out, big, sizeof(big), OS_CSV_GUARD);
        if (n <= OS_CSV_FIELD_MAX(sizeof(big))) {
            passed++;
        }
        else {
            failed++;
            printf("FAIL guarded worst case: %zu bytes\n", n);
        }
        big[0] = '"';
        n = os_csv_field(&fmt, out, big, sizeof(big), OS_CSV_GUARD);
        if (n == OS_CSV_FIELD_MAX(sizeof(big))) {
            passed++;
        }
        else {
            failed++;
            printf("FAIL worst case: %zu bytes\n", n);
        }
    }

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
