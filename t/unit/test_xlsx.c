/* test_xlsx.c: unit tests of the XLSX writer (src/render/os_xlsx*.c), no server
 * needed: cells one by one (escapes, the 32,767-character cut, date
 * serials, number eligibility, styles), then whole workbooks written to
 * memory, their zip layout checked byte by byte here (with zlib for the
 * CRCs) and their cells read back by Debian's openpyxl (/usr/bin/python3)
 * from a temporary file: sheets split by rows and by size, NULLs, the
 * limits, a failing sink.
 * Prints one line per failure and a closing "N passed, N failed" line;
 * exits non-zero on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <zlib.h>

#include "os_xlsx.h"
#include "os_xlsx_cell.h"
#include "unit.h"

#define PYTHON "/usr/bin/python3"

static apr_pool_t *pool;
static apr_pool_t *wpool; /* the workbooks', cleared after each */

static void same(const char *what, const char *got, size_t glen,
                 const char *want, size_t wlen)
{
    if (glen == wlen && !memcmp(got, want, glen)) {
        passed++;
        return;
    }
    failed++;
    printf("FAIL %s: got [%.*s] (%zu bytes), want [%.*s]\n", what,
           (int)(glen > 300 ? 300 : glen), got, glen,
           (int)(wlen > 300 ? 300 : wlen), want);
}

static void same_str(const char *what, const char *got, const char *want)
{
    same(what, got, strlen(got), want, strlen(want));
}

/* ---- cells ---- */

static char *cellbuf;

/* The escaped text of in[0..len); its cut flag in *cut. */
static void text(const char *in, size_t len, const char *want, int want_cut)
{
    int cut = 0;
    size_t n;

    memset(cellbuf, 0x7f, OS_XLSX_TEXT_MAX(len) + 1);
    n = os_xlsx_cell_text(cellbuf, in, len, &cut);
    same(in, cellbuf, n, want, strlen(want));
    ok(cut == want_cut && n <= OS_XLSX_TEXT_MAX(len)
           && cellbuf[OS_XLSX_TEXT_MAX(len)] == 0x7f,
       "text: cut flag and bound");
}

#define TEXT(in, want) text(in, sizeof(in) - 1, want, 0)

/* The cell for v in a column of type (and typmod). */
static void cell(unsigned type, int typmod, const char *v, const char *want)
{
    os_xlsx_col col = os_xlsx_cell_col(type, typmod);
    size_t len = strlen(v), n;
    char what[128];
    int cut = 0;

    memset(cellbuf, 0x7f, OS_XLSX_CELL_MAX(len) + 1);
    n = os_xlsx_cell(cellbuf, &col, v, len, NULL, 0, &cut);
    apr_snprintf(what, sizeof(what), "type %u: %s", type, v);
    same(what, cellbuf, n, want, strlen(want));
    ok(n <= OS_XLSX_CELL_MAX(len) && cellbuf[OS_XLSX_CELL_MAX(len)] == 0x7f,
       "cell within its bound");
}

#define NUM(v, want) cell(1700, -1, v, want)
#define STR(v) "<c t=\"inlineStr\"><is><t>" v "</t></is></c>"
#define VAL(s, v) "<c s=\"" #s "\"><v>" v "</v></c>"
#define PLAIN(v) "<c><v>" v "</v></c>"
/* numeric(p, s)'s typmod */
#define TYPMOD(p, s) ((((p) << 16) | ((s)&0x7ff)) + 4)

static void test_escapes(void)
{
    TEXT("plain text", "plain text");
    TEXT("a&b<c>d \"q\" 'a'", "a&amp;b&lt;c&gt;d \"q\" 'a'");
    TEXT("tab\tLF\nkept", "tab\tLF\nkept");
    TEXT("CR\rLF", "CR_x000D_LF");
    TEXT("\x01\x08\x0b\x0c\x0e\x1f",
         "_x0001__x0008__x000B__x000C__x000E__x001F_");
    text("a\0b", 3, "a_x0000_b", 0);
    TEXT("DEL \x7f and C1 \xc2\x80 are XML",
         "DEL \x7f and C1 \xc2\x80 are XML");
    /* a literal escape, in any case, and what only starts like one */
    TEXT("_x0041_", "_x005F_x0041_");
    TEXT("_X00ff_", "_x005F_X00ff_");
    TEXT("a_xABCD_b", "a_x005F_xABCD_b");
    TEXT("_xABCD\r", "_x005F_xABCD_x000D_");
    /* LibreOffice decodes _x with one to four hex digits: every _x and
     * a hex digit gets its '_' escaped (the probe strings of issue 19) */
    TEXT("_x004_", "_x005F_x004_");
    TEXT("_x4_", "_x005F_x4_");
    TEXT("x_x4_y", "x_x005F_x4_y");
    TEXT("_xa_", "_x005F_xa_");
    TEXT("_x0d_", "_x005F_x0d_");
    TEXT("_x1f_", "_x005F_x1f_");
    TEXT("_x00_", "_x005F_x00_");
    TEXT("_x005F_", "_x005F_x005F_");
    TEXT("pos_x1_", "pos_x005F_x1_");
    TEXT("AB_x0d_7", "AB_x005F_x0d_7");
    TEXT("__x1__", "__x005F_x1__");
    TEXT("_X0D_", "_x005F_X0D_");
    TEXT("_x", "_x");
    TEXT("x_", "x_");
    TEXT("_x_", "_x_");
    TEXT("_xg1_", "_xg1_");
    TEXT("_x0d_\r", "_x005F_x0d__x000D_");
    TEXT("\r_xa_", "_x000D__x005F_xa_");
    TEXT("_xGHIJ_", "_xGHIJ_");
    TEXT("__x_", "__x_");
    TEXT("snake_case_x", "snake_case_x");
    TEXT("_x00", "_x005F_x00");
    /* UTF-8: kept; not UTF-8: U+FFFD per bad byte */
    TEXT("Z\xc3\xab \xe6\x9d\xb1 \xf0\x9f\x9a\x80",
         "Z\xc3\xab \xe6\x9d\xb1 \xf0\x9f\x9a\x80");
    TEXT("\xff", "\xef\xbf\xbd");
    TEXT("a\xc3", "a\xef\xbf\xbd");
    TEXT("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
    TEXT("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    TEXT("\xf4\x90\x80\x80",
         "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    TEXT("\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd");
    TEXT("\xef\xbf\xbe\xef\xbf\xbf", "_xFFFE__xFFFF_");
    TEXT("\xef\xbf\xbd", "\xef\xbf\xbd");
}

static void test_cut(void)
{
    size_t big = 70000, n;
    char *in = malloc(big);
    int cut;

    memset(in, 'a', big);

#define CUT(len, want_len, want_cut, what)                                    \
    do {                                                                      \
        cut = 0;                                                              \
        n = os_xlsx_cell_text(cellbuf, in, len, &cut);                        \
        ok(n == (want_len) && !memcmp(cellbuf, in, n) && cut == (want_cut),   \
           what);                                                             \
    } while (0)

    CUT(32767, 32767, 0, "32,767 ASCII characters: whole");
    CUT(32768, 32767, 1, "32,768 ASCII characters: cut to 32,767");
    CUT(big, 32767, 1, "70,000 ASCII characters: cut to 32,767");

    /* a 4-byte character (2 UTF-16 units) across the limit */
    memcpy(in + 32766, "\xf0\x9f\x9a\x80", 4);
    CUT(32770, 32766, 1, "4-byte character at unit 32,767: left out whole");
    memset(in, 'a', big);
    memcpy(in + 32765, "\xf0\x9f\x9a\x80", 4);
    CUT(32769, 32769, 0, "4-byte character ending at unit 32,767: kept");
    CUT(32770, 32769, 1, "and one more character: cut after it");

    /* 16,383 4-byte characters are 32,766 units; then "ab" */
    for (n = 0; n < 16383; n++) {
        memcpy(in + 4 * n, "\xf0\x9f\x98\x80", 4);
    }
    memcpy(in + 4 * 16383, "ab", 2);
    cut = 0;
    n = os_xlsx_cell_text(cellbuf, in, 4 * 16383 + 2, &cut);
    ok(n == 4 * 16383 + 1 && cellbuf[n - 1] == 'a' && cut,
       "16,383 emoji + \"ab\": cut after \"a\"");

    /* the worst case: every character a 7-byte escape */
    memset(in, '\x01', big);
    cut = 0;
    n = os_xlsx_cell_text(cellbuf, in, big, &cut);
    ok(n == OS_XLSX_TEXT_MAX(big) && n == 7 * 32767 && cut,
       "70,000 control characters: 32,767 escapes, the bound exactly");
    free(in);
}

static void test_serials(void)
{
    /* date: serial = days since 1970-01-01 + 25569, from 1900-03-01 */
    cell(1082, -1, "1900-03-01", VAL(2, "61"));
    cell(1082, -1, "1900-02-28", STR("1900-02-28"));
    cell(1082, -1, "1900-02-29", STR("1900-02-29"));
    cell(1082, -1, "1899-12-31", STR("1899-12-31"));
    cell(1082, -1, "1970-01-01", VAL(2, "25569"));
    cell(1082, -1, "2000-02-29", VAL(2, "36585"));
    cell(1082, -1, "2000-03-01", VAL(2, "36586"));
    cell(1082, -1, "2024-02-29", VAL(2, "45351"));
    cell(1082, -1, "2100-02-29", STR("2100-02-29"));
    cell(1082, -1, "2023-02-29", STR("2023-02-29"));
    cell(1082, -1, "9999-12-31", VAL(2, "2958465"));
    cell(1082, -1, "10000-01-01", STR("10000-01-01"));
    cell(1082, -1, "2024-01-01 BC", STR("2024-01-01 BC"));
    cell(1082, -1, "infinity", STR("infinity"));
    cell(1082, -1, "-infinity", STR("-infinity"));
    cell(1082, -1, "2024-13-01", STR("2024-13-01"));
    cell(1082, -1, "", STR(""));

    /* timestamp: the time of day as the fraction, to the millisecond */
    cell(1114, -1, "2024-02-29 00:00:00", VAL(3, "45351"));
    cell(1114, -1, "2024-02-29 12:00:00", VAL(3, "45351.5"));
    cell(1114, -1, "2024-02-29 06:00:00", VAL(3, "45351.25"));
    /* full precision, two ulps above the exact value from 1970 on (below
     * before): 13:45:06 is 45351.572986111111..., whose nearest double
     * SheetJS read as 13:45:05.999 */
    cell(1114, -1, "2024-02-29 13:45:06", VAL(3, "45351.572986111125"));
    cell(1114, -1, "2024-02-29 06:00:00.5", VAL(4, "45351.250005787049"));
    cell(1114, -1, "1970-01-01 00:00:00.001", VAL(4, "25569.00000001158"));
    cell(1114, -1, "1970-01-01 00:00:00.0005", VAL(4, "25569.00000001158"));
    cell(1114, -1, "1970-01-01 00:00:00.0004", VAL(4, "25569"));
    cell(1114, -1, "2024-02-29 23:59:59.9994", VAL(4, "45351.999999988439"));
    cell(1114, -1, "2024-02-29 23:59:59.9996", VAL(4, "45352"));
    cell(1114, -1, "2024-12-31 23:59:59.999999", VAL(4, "45658"));
    cell(1114, -1, "9999-12-31 23:59:59.999", VAL(4, "2958465.9999999893"));
    cell(1114, -1, "9999-12-31 23:59:59.9999",
         STR("9999-12-31 23:59:59.9999"));
    cell(1114, -1, "1900-02-28 23:59:59", STR("1900-02-28 23:59:59"));
    cell(1114, -1, "2024-02-29 12:00:00+01", STR("2024-02-29 12:00:00+01"));
    cell(1114, -1, "2024-02-29 12:00:00.", STR("2024-02-29 12:00:00."));
    cell(1114, -1, "2024-02-29 12:00:00.1234567",
         STR("2024-02-29 12:00:00.1234567"));
    cell(1114, -1, "2024-02-29 24:00:00", STR("2024-02-29 24:00:00"));
    cell(1114, -1, "2024-02-29 12:00", STR("2024-02-29 12:00"));
    cell(1114, -1, "infinity", STR("infinity"));
    cell(1114, -1, "0044-03-15 12:00:00 BC", STR("0044-03-15 12:00:00 BC"));

    /* timestamptz: the wall clock printed, the offset dropped */
    cell(1184, -1, "2024-02-29 12:00:00+00", VAL(3, "45351.5"));
    cell(1184, -1, "2024-02-29 12:00:00+05:30", VAL(3, "45351.5"));
    cell(1184, -1, "2024-02-29 12:00:00.5-08", VAL(4, "45351.500005787049"));
    cell(1184, -1, "1901-12-13 20:45:52+00:09:21",
         VAL(3, "713.86518518518494"));
    cell(1184, -1, "2024-02-29 12:00:00+5", STR("2024-02-29 12:00:00+5"));
    cell(1184, -1, "-infinity", STR("-infinity"));

    /* time: a fraction of a day; PostgreSQL's 24:00:00 is one day */
    cell(1083, -1, "00:00:00", VAL(5, "0"));
    cell(1083, -1, "12:00:00", VAL(5, "0.5"));
    cell(1083, -1, "06:00:00.25", VAL(6, "0.2500028935185184"));
    cell(1083, -1, "24:00:00", VAL(5, "1"));
    cell(1083, -1, "00:00:00.001", VAL(6, "1.1574074074074071e-08"));
    cell(1083, -1, "23:59:59.9996", VAL(6, "1"));
    cell(1083, -1, "24:00:00.5", STR("24:00:00.5"));
    cell(1083, -1, "25:00:00", STR("25:00:00"));
    cell(1083, -1, "12:60:00", STR("12:60:00"));
    cell(1083, -1, "12:00:00+02", STR("12:00:00+02"));
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's civil_from_days),
 * written apart from the writer's days_from_civil. */
static void civil(long z, int *y, int *m, int *d)
{
    long era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 200,000 timestamps from 1900-03-01 to 9999-12-31 at random
 * milliseconds: each serial reads back (strtod) as a double that printf's
 * %.17g writes the same (the integer printer is printf's digits); that
 * rounds to the millisecond; and that SheetJS's conversion in UTC
 * (v * 24 * 60 * 60 * 1000 - 2209161600000, truncated toward zero by
 * Date's setTime) gives the millisecond exactly. */
static void test_serial_precision(void)
{
    os_xlsx_col col = os_xlsx_cell_col(1114, -1);
    unsigned long long seed = 42;
    long bad_text = 0, bad_round = 0, bad_trunc = 0, i;
    char v[40], printed[40], *end;
    int y, m, d, cut = 0;

    for (i = 0; i < 200000; i++) {
        long days, ms, n;
        double x, js;
        long long want, epoch_ms;
        const char *p;

        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        days = 61 + (long)((seed >> 20) % (2958465 - 61 + 1));
        ms = (long)((seed >> 7) % 86400000);
        if (i % 4 == 0) {
            ms -= ms % 1000; /* whole seconds, as most timestamps */
        }
        civil(days - 25569, &y, &m, &d);
        apr_snprintf(v, sizeof(v), "%04d-%02d-%02d %02ld:%02ld:%02ld.%03ld", y,
                     m, d, ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
                     ms % 1000);
        n = (long)os_xlsx_cell(cellbuf, &col, v, strlen(v), NULL, 0, &cut);
        cellbuf[n] = '\0';
        p = strstr(cellbuf, "<v>");
        x = p ? strtod(p + 3, &end) : 0;
        snprintf(printed, sizeof(printed), "%.17g", x);
        bad_text +=
            !p || strncmp(p + 3, printed, strlen(printed)) || end[0] != '<';
        want = (long long)days * 86400000 + ms;
        bad_round += (long long)(x * 86400000 + 0.5) != want;
        js = x * 24 * 60 * 60 * 1000 + -2209161600000.0;
        epoch_ms = (long long)js; /* toward zero */
        bad_trunc += epoch_ms != want - 2209161600000LL;
    }
    ok(!bad_text, "serials: 200,000 written as printf's %.17g of the double");
    ok(!bad_round, "serials: 200,000 round to the millisecond printed");
    ok(!bad_trunc, "serials: 200,000 truncate (SheetJS) to the millisecond");
    if (bad_text + bad_round + bad_trunc) {
        printf("# %ld text, %ld rounded, %ld truncated wrong\n", bad_text,
               bad_round, bad_trunc);
    }
}

static void test_numbers(void)
{
    /* numeric without a declared scale: a fraction is a number however
     * many digits (avg(), stddev(), a division); a whole number only up
     * to 2^53 */
    NUM("0", PLAIN("0"));
    NUM("-0", PLAIN("-0"));
    NUM("123456789012345", PLAIN("123456789012345"));
    NUM("1234567890123456", PLAIN("1234567890123456"));
    NUM("-999999999999999", PLAIN("-999999999999999"));
    NUM("9007199254740992", PLAIN("9007199254740992"));
    NUM("-9007199254740992", PLAIN("-9007199254740992"));
    NUM("9007199254740993", STR("9007199254740993"));
    NUM("-9007199254740993", STR("-9007199254740993"));
    NUM("9100000000000000", STR("9100000000000000"));
    NUM("10000000000000000", STR("10000000000000000"));
    NUM("9223372036854775807", STR("9223372036854775807"));
    NUM("123456789012345000000", STR("123456789012345000000"));
    NUM("10000000000000000.0", STR("10000000000000000.0"));
    NUM("9007199254740993.000", STR("9007199254740993.000"));
    NUM("9007199254740993.5", PLAIN("9007199254740993.5"));
    NUM("12345678901234.5", PLAIN("12345678901234.5"));
    NUM("0.1234567890123456", PLAIN("0.1234567890123456"));
    NUM("4.6330500000000000", PLAIN("4.6330500000000000"));
    NUM("12345678901234567890.123", PLAIN("12345678901234567890.123"));
    NUM("0.33333333333333333333", PLAIN("0.33333333333333333333"));
    NUM("0.000000000000001", PLAIN("0.000000000000001"));
    NUM("1.00000000000000000000", PLAIN("1.00000000000000000000"));
    NUM("1023.60", PLAIN("1023.60"));
    NUM("9.007199254740992e15", PLAIN("9.007199254740992e15"));
    NUM("9.007199254740993e15", STR("9.007199254740993e15"));
    NUM("1e+20", STR("1e+20"));
    NUM("-1.2345e-05", PLAIN("-1.2345e-05"));
    NUM("1e-307", PLAIN("1e-307"));
    NUM("1e-308", STR("1e-308"));
    NUM("5e-324", STR("5e-324"));
    NUM("NaN", STR("NaN"));
    NUM("Infinity", STR("Infinity"));
    NUM("-Infinity", STR("-Infinity"));
    NUM("00123", PLAIN("00123")); /* never printed by PostgreSQL for a number
                                     type; its value is 123 */
    NUM("+1", STR("+1"));
    NUM("1,5", STR("1,5"));
    NUM("1.5e", STR("1.5e"));
    NUM("1e+00001", STR("1e+00001"));
    NUM("1.2.3", STR("1.2.3"));
    NUM("-", STR("-"));
    NUM(".", STR("."));
    NUM(" 1",
        "<c t=\"inlineStr\"><is><t xml:space=\"preserve\"> 1</t></is>"
        "</c>");
    NUM("", STR(""));
    {
        /* a zero of 40,000 characters: text, cut, within the cell's bound */
        char *zero = malloc(40001), *want = malloc(40100);

        memset(zero, '0', 40000);
        zero[1] = '.';
        zero[40000] = '\0';
        strcpy(want, "<c t=\"inlineStr\"><is><t xml:space=\"preserve\">");
        strncat(want, zero, 32767);
        strcat(want, "</t></is></c>");
        NUM(zero, want);
        free(zero);
        free(want);
    }

    /* integers: up to 2^53 */
    cell(20, -1, "-9223372036854775808", STR("-9223372036854775808"));
    cell(20, -1, "9007199254740992", PLAIN("9007199254740992"));
    cell(20, -1, "9007199254740993", STR("9007199254740993"));
    cell(20, -1, "1234567890123456", PLAIN("1234567890123456"));
    cell(23, -1, "2147483647", PLAIN("2147483647"));
    cell(21, -1, "-32768", PLAIN("-32768"));

    /* real, double precision: always, within Excel's range */
    cell(701, -1, "0.1", PLAIN("0.1"));
    cell(701, -1, "0.30000000000000004", PLAIN("0.30000000000000004"));
    cell(701, -1, "4633.049999999999", PLAIN("4633.049999999999"));
    cell(701, -1, "9007199254740992", PLAIN("9007199254740992"));
    cell(701, -1, "1e+20", PLAIN("1e+20"));
    cell(701, -1, "1e+307", PLAIN("1e+307"));
    cell(701, -1, "9.99999999999999e+307", PLAIN("9.99999999999999e+307"));
    cell(701, -1, "1e+308", STR("1e+308"));
    cell(701, -1, "1.7976931348623157e+308", STR("1.7976931348623157e+308"));
    cell(701, -1, "1e-320", STR("1e-320"));
    cell(701, -1, "-0", PLAIN("-0"));
    cell(701, -1, "NaN", STR("NaN"));
    cell(701, -1, "-Infinity", STR("-Infinity"));
    cell(700, -1, "3.4028235e+38", PLAIN("3.4028235e+38"));
    cell(700, -1, "0.32345678", PLAIN("0.32345678"));

    /* numeric(p, s): at most 15 significant digits, every digit counts */
    cell(1700, TYPMOD(20, 0), "123456789012345", VAL(7, "123456789012345"));
    cell(1700, TYPMOD(20, 0), "1234567890123456", STR("1234567890123456"));
    cell(1700, TYPMOD(30, 0), "123456789012345000000",
         VAL(7, "123456789012345000000"));
    cell(1700, TYPMOD(20, 16), "0.1234567890123456",
         STR("0.1234567890123456"));
    cell(1700, TYPMOD(20, 16), "0.1234567890123450",
         VAL(23, "0.1234567890123450"));
    cell(1700, TYPMOD(30, 3), "12345678901234567890.123",
         STR("12345678901234567890.123"));
    cell(1700, TYPMOD(10, -2), "1234567890123456700",
         STR("1234567890123456700"));

    /* boolean */
    cell(16, -1, "t", "<c t=\"b\"><v>1</v></c>");
    cell(16, -1, "f", "<c t=\"b\"><v>0</v></c>");
    cell(16, -1, "true", STR("true"));

    /* text types */
    cell(25, -1, "", STR(""));
    cell(25, -1, "42", STR("42"));
    cell(25, -1, "+4915112345678", STR("+4915112345678"));
    cell(25, -1, "00123", STR("00123"));
    cell(25, -1, "=1+1", STR("=1+1"));
    cell(25, -1, "a  b", STR("a  b"));
    cell(25, -1, "trailing ",
         "<c t=\"inlineStr\"><is><t xml:space=\"preserve"
         "\">trailing </t></is></c>");
    cell(25, -1, "\xc2\xa0nbsp",
         "<c t=\"inlineStr\"><is><t xml:space=\""
         "preserve\">\xc2\xa0nbsp</t></is></c>");
    cell(2950, -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         STR("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
}

static void test_refs(void)
{
    char b[16], b2[256];
    size_t n;

    n = os_xlsx_cell_ref(b, 0, 1);
    same("ref A1", b, n, "A1", 2);
    n = os_xlsx_cell_ref(b, 25, 10);
    same("ref Z10", b, n, "Z10", 3);
    n = os_xlsx_cell_ref(b, 26, 2);
    same("ref AA2", b, n, "AA2", 3);
    n = os_xlsx_cell_ref(b, 701, 3);
    same("ref ZZ3", b, n, "ZZ3", 3);
    n = os_xlsx_cell_ref(b, 702, 3);
    same("ref AAA3", b, n, "AAA3", 4);
    n = os_xlsx_cell_ref(b, 16383, 1048576);
    same("ref XFD1048576", b, n, "XFD1048576", 10);
    n = os_xlsx_cell_ref(b, 51, 7);
    same("ref AZ7", b, n, "AZ7", 3);
    n = os_xlsx_cell_ref(b, 52, 7);
    same("ref BA7", b, n, "BA7", 3);
    n = os_xlsx_cell_ref(b, 18277, 7); /* past Excel's columns: ZZZ */
    same("ref ZZZ7", b, n, "ZZZ7", 4);
    n = os_xlsx_cell_col_name(b, 16383);
    same("column XFD", b, n, "XFD", 3);

    /* the reference goes into the cell, typed or text, first attribute */
    {
        os_xlsx_col num = os_xlsx_cell_col(23, -1);
        os_xlsx_col txt = os_xlsx_cell_col(25, -1);
        int cut = 0;

        n = os_xlsx_cell(b2, &num, "42", 2, "AZ7", 3, &cut);
        same("number cell with r", b2, n, "<c r=\"AZ7\"><v>42</v></c>", 24);
        n = os_xlsx_cell(b2, &txt, "x", 1, "XFD1048576", 10, &cut);
        same_str("text cell with r", apr_pstrmemdup(pool, b2, n),
                 "<c r=\"XFD1048576\" t=\"inlineStr\"><is><t>x</t></is></c>");
        n = os_xlsx_cell_string(b2, "id", 2, "ZZ1", 3, OS_XLSX_STYLE_HEADER,
                                &cut);
        same_str(
            "header cell with r", apr_pstrmemdup(pool, b2, n),
            "<c r=\"ZZ1\" s=\"1\" t=\"inlineStr\"><is><t>id</t></is></c>");
    }
}

/* ---- workbooks ---- */

typedef struct sink_buf {
    char *data;
    size_t len, cap;
    size_t fail_after; /* fail once len would pass it (0: never) */
    int calls_after_failure;
    int failed;
    long fail_row; /* current_row when it failed */
} sink_buf;

static long current_row; /* set by tests before each os_xlsx_row */

static apr_status_t mem_sink(void *ctx, const char *b, apr_size_t n)
{
    sink_buf *s = ctx;

    if (s->failed) {
        s->calls_after_failure++;
        return APR_EGENERAL;
    }
    if (s->fail_after && s->len + n > s->fail_after) {
        s->failed = 1;
        s->fail_row = current_row;
        return APR_ECONNABORTED;
    }
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->data = realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, b, n);
    s->len += n;
    return APR_SUCCESS;
}

static unsigned le16(const unsigned char *p)
{
    return p[0] | (unsigned)p[1] << 8;
}

static unsigned long le32(const unsigned char *p)
{
    return le16(p) | (unsigned long)le16(p + 2) << 16;
}

/* No Zip64 extra (id 0x0001) in extra[0..len). */
static int no_zip64_extra(const unsigned char *x, unsigned len)
{
    unsigned i = 0;

    while (i + 4 <= len) {
        if (le16(x + i) == 0x0001) {
            return 0;
        }
        i += 4 + le16(x + i + 2);
    }
    return i == len;
}

/* Inflates the raw deflate data d[0..clen) and checks its size and CRC. */
static int data_ok(const unsigned char *d, unsigned long clen,
                   unsigned long ulen, unsigned long crc)
{
    unsigned char out[65536];
    unsigned long total = 0, c = crc32(0, NULL, 0);
    z_stream zs;
    int r;

    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, -15) != Z_OK) {
        return 0;
    }
    zs.next_in = (unsigned char *)d;
    zs.avail_in = (uInt)clen;
    do {
        zs.next_out = out;
        zs.avail_out = sizeof(out);
        r = inflate(&zs, Z_NO_FLUSH);
        c = crc32(c, out, (uInt)(sizeof(out) - zs.avail_out));
        total += sizeof(out) - zs.avail_out;
    } while (r == Z_OK);
    inflateEnd(&zs);
    return r == Z_STREAM_END && zs.avail_in == 0 && total == ulen && c == crc;
}

/* The classic layout, byte by byte: the end record last (nothing after,
 * no Zip64 end record before), each central directory record and its
 * local header with version needed 2.0, bit 3, deflate, no Zip64 extra,
 * zeros for CRC and sizes in the local header, the data inflating to the
 * recorded size and CRC, a 16-byte descriptor right after it with the
 * same values, and the next header right after that. Returns the entry
 * count, or -1 (after reporting) when something is off; *max_usize gets
 * the largest uncompressed size of a part named prefix... */
static int zip_layout(const sink_buf *s, const char *prefix,
                      unsigned long *max_usize)
{
    const unsigned char *z = (const unsigned char *)s->data, *e, *c, *l;
    unsigned long cd_off, cd_size, off, next = 0;
    unsigned i, n;
    char what[160];

    *max_usize = 0;
    if (s->len < 22 || le32(z + s->len - 22) != 0x06054b50) {
        ok(0, "zip: the end record is the last 22 bytes");
        return -1;
    }
    e = z + s->len - 22;
    n = le16(e + 10);
    cd_size = le32(e + 12);
    cd_off = le32(e + 16);
    ok(le16(e + 8) == n && le16(e + 20) == 0
           && cd_off + cd_size == s->len - 22,
       "zip: end record counts, central directory just before it");
    c = z + cd_off;
    for (i = 0; i < n;
         i++, c += 46 + le16(c + 28) + le16(c + 30) + le16(c + 32)) {
        unsigned nlen = le16(c + 28);
        unsigned long crc = le32(c + 16), csize = le32(c + 20),
                      usize = le32(c + 24);
        const unsigned char *data, *d;

        apr_snprintf(what, sizeof(what), "zip entry %.*s", (int)nlen, c + 46);
        if (le32(c) != 0x02014b50) {
            ok(0, "zip: central directory record signature");
            return -1;
        }
        ok(le16(c + 6) == 20 && (le16(c + 8) & 8) && le16(c + 10) == 8
               && no_zip64_extra(c + 46 + nlen, le16(c + 30)),
           what);
        off = le32(c + 42);
        ok(off == next, "zip: entries back to back");
        l = z + off;
        ok(le32(l) == 0x04034b50 && le16(l + 4) == 20 && (le16(l + 6) & 8)
               && le16(l + 8) == 8 && le32(l + 14) == 0 && le32(l + 18) == 0
               && le32(l + 22) == 0 && le16(l + 26) == nlen
               && !memcmp(l + 30, c + 46, nlen)
               && no_zip64_extra(l + 30 + nlen, le16(l + 28)),
           "zip: local header (version 20, bit 3, no sizes, no Zip64)");
        data = l + 30 + nlen + le16(l + 28);
        ok(data_ok(data, csize, usize, crc), "zip: data, its size and CRC");
        d = data + csize;
        ok(le32(d) == 0x08074b50 && le32(d + 4) == crc && le32(d + 8) == csize
               && le32(d + 12) == usize,
           "zip: 16-byte data descriptor");
        next = (unsigned long)(d + 16 - z);
        if (!strncmp((const char *)c + 46, prefix, strlen(prefix))
            && usize > *max_usize) {
            *max_usize = usize;
        }
    }
    ok(next == cd_off, "zip: central directory right after the last entry");
    return (int)n;
}

/* Writes s to a temporary file and runs python's script on it; its output
 * (at most cap - 1 bytes) into out. */
static void python(const sink_buf *s, const char *script, char *out,
                   size_t cap)
{
    char path[] = "/tmp/test_xlsx.XXXXXX.xlsx", *cmd;
    int fd = mkstemps(path, 5); /* openpyxl wants the extension */
    size_t n = 0, r;
    FILE *f;

    out[0] = '\0';
    if (fd < 0 || write(fd, s->data, s->len) != (ssize_t)s->len) {
        ok(0, "temporary file");
        return;
    }
    close(fd);
    cmd = apr_psprintf(pool, PYTHON " -c '%s' %s 2>&1", script, path);
    if ((f = popen(cmd, "r")) != NULL) {
        while (n < cap - 1 && (r = fread(out + n, 1, cap - 1 - n, f)) > 0) {
            n += r;
        }
        out[n] = '\0';
        pclose(f);
    }
    unlink(path);
}

/* Every sheet: its name, frozen pane, filter, header boldness, then each
 * row's values (repr), one line each. */
#define DUMP                                                                  \
    "import sys, openpyxl\n"                                                  \
    "wb = openpyxl.load_workbook(sys.argv[1])\n"                              \
    "for ws in wb:\n"                                                         \
    "    print(ws.title, ws.freeze_panes, ws.auto_filter.ref,"                \
    " ws[\"A1\"].font.b)\n"                                                   \
    "    for row in ws.iter_rows(values_only=True):\n"                        \
    "        print(repr(row))\n"

static os_xlsx *writer(sink_buf *s, int ncols, const unsigned *types,
                       const int *typmods, const char *const *labels,
                       long sheet_rows)
{
    os_xlsx_opts o;
    os_xlsx *w = NULL;
    apr_status_t rv;

    memset(s, 0, sizeof(*s));
    memset(&o, 0, sizeof(o));
    o.ncols = ncols;
    o.types = types;
    o.typmods = typmods;
    o.labels = labels;
    o.sheet_rows = sheet_rows;
    o.sink = mem_sink;
    o.ctx = s;
    rv = os_xlsx_create(&w, &o, wpool);
    ok(rv == APR_SUCCESS, "os_xlsx_create");
    return w;
}

/* Releases the workbook (its pool's cleanups) and the sink's copy. */
static void done(sink_buf *s)
{
    apr_pool_clear(wpool);
    free(s->data);
    s->data = NULL;
}

static const char *const shop_labels[] = { "Order ID", "Order Date", "Email",
                                           "Price" };
static const unsigned shop_types[] = { 20, 1114, 25, 1700 };
static const int shop_typmods[] = { -1, -1, -1, TYPMOD(10, 2) };

#define HDR "('Order ID', 'Order Date', 'Email', 'Price')\n"
#define TS "datetime.datetime(2024, 2, 29, 13, 14, 15)"
#define ROW(n) "(" #n ", " TS ", 'x@example.com', 1023.6)\n"
/* The dump, one of its lines a line here. */
/* clang-format off */
static const char split_rows_want[] =
    "Sheet1 A2 A1:D4 True\n" HDR ROW(1) ROW(2) ROW(3)
    "Sheet2 A2 A1:D4 True\n" HDR ROW(4)
    "(5, None, 'x@example.com', 1023.6)\n"
    "(None, None, 'x@example.com', None)\n"
    "Sheet3 A2 A1:D4 True\n" HDR
    "(7, " TS ", '', 1023.6)\n" ROW(8) ROW(9)
    "Sheet4 A2 A1:D2 True\n" HDR ROW(10);
/* clang-format on */

/* 3 rows a sheet, 10 rows: 4 sheets, each with the header; NULLs leave
 * their cell out and the next cell in its column. */
static void test_split_rows(void)
{
    sink_buf s;
    os_xlsx *w = writer(&s, 4, shop_types, shop_typmods, shop_labels, 3);
    char id[16], out[8192];
    unsigned long max;
    apr_size_t lens[4];
    int i, j;

    ok(s.len == 0, "nothing written before begin");
    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    ok(s.len > 30 && le32((unsigned char *)s.data) == 0x04034b50,
       "begin: sheet 1's local header reaches the sink at once");
    for (i = 1; i <= 10; i++) {
        const char *v[4] = { id, "2024-02-29 13:14:15", "x@example.com",
                             "1023.60" };

        apr_snprintf(id, sizeof(id), "%d", i);
        if (i == 5) {
            v[1] = NULL; /* the email goes in C, not B */
        }
        if (i == 6) {
            v[0] = v[1] = v[3] = NULL;
        }
        if (i == 7) {
            v[2] = "";
        }
        for (j = 0; j < 4; j++) {
            lens[j] = v[j] ? strlen(v[j]) : 0;
        }
        ok(os_xlsx_row(w, v, lens) == APR_SUCCESS, "row");
    }
    ok(os_xlsx_end(w) == APR_SUCCESS, "end");
    ok(os_xlsx_get_stats(w)->sheets == 4 && os_xlsx_get_stats(w)->rows == 10,
       "10 rows at 3 a sheet: 4 sheets");
    ok(zip_layout(&s, "xl/worksheets/", &max) == 4 + 5,
       "4 sheets and 5 other parts");
    python(&s, DUMP, out, sizeof(out));
    same_str("10 rows in 4 sheets, read back", out, split_rows_want);
    done(&s);
}

/* No header: no frozen pane, no filter; an empty result: a header-only
 * sheet. */
static void test_no_header(void)
{
    sink_buf s;
    os_xlsx *w = writer(&s, 4, shop_types, shop_typmods, NULL, 0);
    const char *v[4] = { "1", "2024-02-29 13:14:15", "e", "1.50" };
    apr_size_t lens[4] = { 1, 19, 1, 4 };
    unsigned long max;
    char out[4096];

    ok(os_xlsx_begin(w) == APR_SUCCESS && os_xlsx_row(w, v, lens) == 0
           && os_xlsx_end(w) == APR_SUCCESS,
       "no header: written");
    ok(zip_layout(&s, "xl/", &max) == 6, "no header: 6 parts");
    python(&s, DUMP, out, sizeof(out));
    same_str("no header, read back", out,
             "Sheet1 None None False\n(1, " TS ", 'e', 1.5)\n");
    done(&s);

    w = writer(&s, 4, shop_types, shop_typmods, shop_labels, 0);
    ok(os_xlsx_begin(w) == APR_SUCCESS && os_xlsx_end(w) == APR_SUCCESS,
       "no rows: written");
    python(&s, DUMP, out, sizeof(out));
    same_str("no rows, read back", out, "Sheet1 A2 A1:D1 True\n" HDR);
    done(&s);
}

/* Texts read back exactly (openpyxl leaves _xHHHH_ escapes as they are,
 * so the script decodes them as Excel does), the 32,767 cut counted. */
static void test_strings_read_back(void)
{
    static const unsigned types[] = { 25 };
    static const char *const labels[] = { "t & <x>" };
    static const char *const values[] = {
        "a&b<c>d",
        "CR\rLF\n",
        "\x01\x1f",
        "_x0041_",
        "_X00fF_",
        "x_",
        "Z\xc3\xab \xf0\x9f\x9a\x80",
        "  two spaces  ",
    };
    size_t nv = sizeof(values) / sizeof(values[0]), i, big = 1 << 20;
    char *huge = malloc(big), out[4096], want[4096], *wp = want;
    sink_buf s;
    os_xlsx *w = writer(&s, 1, types, NULL, labels, 0);
    const char *v[1];
    apr_size_t len[1];

    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    for (i = 0; i < nv; i++) {
        v[0] = values[i];
        len[0] = strlen(values[i]);
        ok(os_xlsx_row(w, v, len) == APR_SUCCESS, "row");
        wp += apr_snprintf(wp, want + sizeof(want) - wp,
                           "%" APR_SIZE_T_FMT "\n", i);
    }
    memset(huge, 'x', big);
    memcpy(huge + 32765, "\xf0\x9f\x98\x80", 4); /* units 32,766-32,767 */
    v[0] = huge;
    len[0] = big;
    ok(os_xlsx_row(w, v, len) == APR_SUCCESS, "row of 1 MB");
    ok(os_xlsx_row(w, v, len) == APR_SUCCESS, "row of 1 MB");
    ok(os_xlsx_get_stats(w)->cut_cells == 2, "two cells cut, counted");
    ok(os_xlsx_end(w) == APR_SUCCESS, "end");
    python(&s,
           "import sys, re, openpyxl\n"
           "want = [\"a&b<c>d\", \"CR\\rLF\\n\", \"\\x01\\x1f\", \"_x0041_\","
           " \"_X00fF_\", \"x_\", \"Z\\u00eb \\U0001F680\","
           " \"  two spaces  \"]\n"
           "unx = lambda s: re.sub(\"_x([0-9A-Fa-f]{4})_\","
           " lambda m: chr(int(m.group(1), 16)), s)\n"
           "ws = openpyxl.load_workbook(sys.argv[1]).active\n"
           "rows = [r[0] for r in ws.iter_rows(values_only=True)]\n"
           "assert rows[0] == \"t & <x>\", rows[0]\n"
           "for i, w in enumerate(want):\n"
           "    if unx(rows[i + 1]) == w: print(i)\n"
           "    else: print(i, repr(rows[i + 1]))\n"
           "big = rows[len(want) + 1]\n"
           "print(len(big), len(big.encode(\"utf-16-le\")) // 2,"
           " big[-1] == \"\\U0001F600\")\n",
           out, sizeof(out));
    wp += apr_snprintf(wp, want + sizeof(want) - wp, "32766 32767 True\n");
    same_str("texts read back exactly", out, want);
    free(huge);
    done(&s);
}

/* A sheet's XML kept below a (lowered) size limit: more sheets, every
 * row once, in order. */
static void test_split_size(void)
{
    static const unsigned types[] = { 23, 25 };
    static const char *const labels[] = { "n", "text" };
    char id[16], pad[1000], out[8192];
    sink_buf s;
    os_xlsx *w = writer(&s, 2, types, NULL, labels, 0);
    const char *v[2] = { id, pad };
    apr_size_t len[2];
    unsigned long max;
    int i;

    memset(pad, 'p', sizeof(pad));
    os_xlsx_set_limits(w, 64 * 1024, 1ULL << 40);
    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    for (i = 1; i <= 300; i++) {
        len[0] = (apr_size_t)apr_snprintf(id, sizeof(id), "%d", i);
        len[1] = sizeof(pad);
        if (os_xlsx_row(w, v, len) != APR_SUCCESS) {
            break;
        }
    }
    ok(i == 301 && os_xlsx_end(w) == APR_SUCCESS, "300 rows of 1 KB");
    ok(os_xlsx_get_stats(w)->sheets >= 5, "300 KB at 64 KiB a sheet");
    ok(zip_layout(&s, "xl/worksheets/", &max) > 0 && max <= 64 * 1024
           && max > 48 * 1024,
       "every sheet's XML at most 64 KiB, and not much less");
    python(&s,
           "import sys, openpyxl\n"
           "wb = openpyxl.load_workbook(sys.argv[1])\n"
           "n = []\n"
           "for ws in wb:\n"
           "    rows = list(ws.iter_rows(values_only=True))\n"
           "    assert rows[0] == (\"n\", \"text\"), rows[0]\n"
           "    assert all(len(r[1]) == 1000 for r in rows[1:])\n"
           "    n += [r[0] for r in rows[1:]]\n"
           "print(n == list(range(1, 301)))\n",
           out, sizeof(out));
    same_str("every row once, in order, header on each sheet", out, "True\n");
    done(&s);
}

/* A row of 1,000 letters deflate cannot shrink much, the same for the
 * same seed. */
static void noise_row(char *noise, size_t n, unsigned *x)
{
    size_t i;

    for (i = 0; i < n; i++) {
        *x = *x * 1103515245 + 12345;
        noise[i] = (char)('A' + (*x >> 16) % 26);
    }
}

/* The whole file kept below a (lowered) limit: OS_XLSX_ETOOBIG before
 * the row that could take it past, not long before, and from then on;
 * the rows before that make a complete workbook below the limit. */
static void test_too_big(void)
{
    static const unsigned types[] = { 25 };
    sink_buf s;
    os_xlsx *w = writer(&s, 1, types, NULL, NULL, 0);
    unsigned long long limit = 10ULL << 20, rows = 0, fitted, i;
    char noise[1000];
    const char *v[1] = { noise };
    apr_size_t len[1] = { sizeof(noise) };
    unsigned long max;
    apr_status_t rv;
    unsigned x = 12345;

    os_xlsx_set_limits(w, 1ULL << 40, limit);
    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    do {
        noise_row(noise, sizeof(noise), &x);
        rv = os_xlsx_row(w, v, len);
        rows++;
    } while (rv == APR_SUCCESS && rows < 100000);
    ok(rv == OS_XLSX_ETOOBIG, "OS_XLSX_ETOOBIG");
    /* the margin: what libarchive/zlib may hold (8 MiB), the end of the
     * file, one row; so the error comes once ~1.9 MB are out */
    ok(s.len > 1500000 && s.len <= limit, "not long before the limit");
    ok(os_xlsx_row(w, v, len) == OS_XLSX_ETOOBIG
           && os_xlsx_end(w) == OS_XLSX_ETOOBIG,
       "every later call fails the same");
    ok(strstr(os_xlsx_error(w), "4 GiB") != NULL, "the error says why");
    done(&s);

    /* the same rows but the last, then the end */
    fitted = rows - 1;
    w = writer(&s, 1, types, NULL, NULL, 0);
    os_xlsx_set_limits(w, 1ULL << 40, limit);
    x = 12345;
    rv = os_xlsx_begin(w);
    for (i = 0; i < fitted && rv == APR_SUCCESS; i++) {
        noise_row(noise, sizeof(noise), &x);
        rv = os_xlsx_row(w, v, len);
    }
    ok(rv == APR_SUCCESS && os_xlsx_end(w) == APR_SUCCESS,
       "the rows before the refused one: a complete workbook");
    ok(s.len <= limit && zip_layout(&s, "xl/", &max) == 6,
       "below the limit, a valid zip");
    done(&s);
}

/* OS_XLSX_SHEETS_MAX sheets and no more. */
static void test_sheet_limit(void)
{
    static const unsigned types[] = { 23 };
    static const char *const labels[] = { "n" };
    const char *v[1] = { "1" };
    apr_size_t len[1] = { 1 };
    apr_status_t rv = APR_SUCCESS;
    unsigned long max;
    sink_buf s;
    os_xlsx *w = writer(&s, 1, types, NULL, labels, 1);
    int i;

    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    for (i = 0; i < OS_XLSX_SHEETS_MAX && rv == APR_SUCCESS; i++) {
        rv = os_xlsx_row(w, v, len);
    }
    ok(rv == APR_SUCCESS, "OS_XLSX_SHEETS_MAX sheets of one row");
    ok(os_xlsx_row(w, v, len) == OS_XLSX_ESHEETS, "one more: ESHEETS");
    ok(strstr(os_xlsx_error(w), "4096 sheets") != NULL, "the error says why");
    done(&s);

    w = writer(&s, 1, types, NULL, labels, 1);
    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    for (i = 0; i < OS_XLSX_SHEETS_MAX && rv == APR_SUCCESS; i++) {
        rv = os_xlsx_row(w, v, len);
    }
    ok(os_xlsx_end(w) == APR_SUCCESS
           && zip_layout(&s, "xl/", &max) == OS_XLSX_SHEETS_MAX + 5,
       "a workbook of OS_XLSX_SHEETS_MAX sheets");
    done(&s);
}

/* The sink's failure is returned, by that call and every later one, and
 * the sink is not called again; an abandoned writer leaks nothing
 * (valgrind, in make unit). */
static void test_sink_failure(void)
{
    static const char *const v[4] = { "1", "2024-02-29 13:14:15", "e",
                                      "1.50" };
    apr_size_t lens[4] = { 1, 19, 1, 4 };
    apr_status_t rv = APR_SUCCESS;
    apr_pool_t *sub;
    sink_buf s;
    os_xlsx *w;
    int i;

    w = writer(&s, 4, shop_types, shop_typmods, shop_labels, 0);
    s.fail_after = 100000;
    ok(os_xlsx_begin(w) == APR_SUCCESS, "begin");
    for (i = 0; i < 200000 && rv == APR_SUCCESS; i++) {
        current_row = i;
        rv = os_xlsx_row(w, v, lens);
    }
    ok(rv == APR_ECONNABORTED, "the sink's status is returned");
    ok(s.failed && s.fail_row == i - 1, "by the call during which it failed");
    ok(os_xlsx_row(w, v, lens) == APR_ECONNABORTED
           && os_xlsx_end(w) == APR_ECONNABORTED,
       "and by every later call");
    ok(s.calls_after_failure == 0, "the sink is not called again");
    done(&s);

    /* failing on the first byte: libarchive writes a local header in
     * three pieces, and is not to go on with the other two */
    w = writer(&s, 4, shop_types, shop_typmods, shop_labels, 0);
    s.fail_after = 1;
    ok(os_xlsx_begin(w) == APR_ECONNABORTED && s.calls_after_failure == 0,
       "failing on the first byte: begin fails, no more sink calls");
    done(&s);

    /* abandoned in the middle of a sheet: the pool's cleanup frees all,
     * without calling the sink */
    apr_pool_create(&sub, pool);
    memset(&s, 0, sizeof(s));
    {
        os_xlsx_opts o = { 4,           shop_types, shop_typmods,
                           shop_labels, 0,          6,
                           mem_sink,    &s,         0 };

        ok(os_xlsx_create(&w, &o, sub) == APR_SUCCESS
               && os_xlsx_begin(w) == APR_SUCCESS,
           "begin");
    }
    for (i = 0; i < 5000; i++) {
        os_xlsx_row(w, v, lens);
    }
    s.failed = 1;
    apr_pool_destroy(sub);
    ok(s.calls_after_failure == 0, "the cleanup does not call the sink");
    done(&s);
}

static void test_options(void)
{
    static const unsigned types[] = { 25 };
    os_xlsx_opts o = { 1, types, NULL, NULL, 0, 0, mem_sink, NULL, 0 };
    os_xlsx *w;

    o.ncols = 0;
    ok(os_xlsx_create(&w, &o, pool) == APR_EINVAL, "0 columns: EINVAL");
    o.ncols = OS_XLSX_COLUMNS_MAX + 1;
    ok(os_xlsx_create(&w, &o, pool) == APR_EINVAL, "16,385 columns");
    o.ncols = 1;
    o.sheet_rows = OS_XLSX_SHEET_ROWS_MAX + 1;
    ok(os_xlsx_create(&w, &o, pool) == APR_EINVAL, "1,048,576 rows");
    o.sheet_rows = 0;
    o.level = 10;
    ok(os_xlsx_create(&w, &o, pool) == APR_EINVAL, "level 10");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    apr_pool_create(&wpool, pool);
    cellbuf = malloc(OS_XLSX_CELL_MAX(1 << 20) + 1);

    test_escapes();
    test_cut();
    test_serials();
    test_serial_precision();
    test_numbers();
    test_refs();
    test_split_rows();
    test_no_header();
    test_strings_read_back();
    test_split_size();
    test_too_big();
    test_sheet_limit();
    test_sink_failure();
    test_options();

    int rc = unit_done();

    free(cellbuf);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
