/* os_xlsx_cell.c: one worksheet cell from PostgreSQL's text output.
 *
 * Cells are typed by their column's type, and a value its type's cell
 * cannot show exactly becomes a text cell holding PostgreSQL's text, so
 * nothing is silently rounded or shifted:
 *
 * - Numbers: PostgreSQL's text is copied into <v> when it is a plain
 *   decimal number (optionally with an exponent, as float8 prints 1e+20)
 *   whose first nonzero digit's power of ten is within +-307 (Excel's
 *   range is about 2.2e-308 to 9.99e+307; NaN and the infinities are
 *   text), and when the column's kind allows it:
 *   - real, double precision (OS_XLSX_FLOAT): always. The text is the
 *     shortest that reads back as the double, which is what a
 *     spreadsheet holds: text would protect no digit, and would make
 *     SUM skip the cell.
 *   - integers and numeric without a declared scale (OS_XLSX_NUMBER):
 *     a value with a fractional part always (avg(), stddev(), a
 *     division print 16 to 20 digits that only a double's worth
 *     matter to a spreadsheet user, as every other tool writes them); a
 *     whole number only up to 2^53 in magnitude, the last a double
 *     holds exactly: an id or account number past it stays text rather
 *     than silently changed.
 *   - numeric(p, s) (OS_XLSX_DECIMAL): at most 15 significant digits,
 *     counted from the first to the last nonzero digit; a declared scale
 *     says every digit counts. Why 15: an IEEE double holds any 15-digit
 *     decimal exactly enough to print it back (DBL_DIG), and Excel shows
 *     15 digits; 16 would not read back (9007199254740993).
 *   The cell references: every <c> carries r="B7" and every <row> r="7".
 *   ECMA-376 makes them optional, but Gnumeric, ExcelJS and others read
 *   nothing without them.
 * - Dates: Excel's 1900 system counts serial 1 as 1900-01-01 and has a
 *   serial 60 for the nonexistent 1900-02-29, so from 1900-03-01 (serial
 *   61) on, serial = days since 1970-01-01 + 25569; earlier dates, BC,
 *   years past 9999 and infinity are text. The time of day is the
 *   fraction, from the text rounded to the millisecond (Excel shows no
 *   more); 23:59:59.9996 carries into the next day. A value whose text has
 *   a fraction of a second gets the style that shows .000, so a whole
 *   second does not show a meaningless ".000". timestamptz: the wall
 *   clock PostgreSQL printed (the session's TimeZone), offset dropped.
 *   Serials are written in full precision: the double two ulps away from
 *   the exact value (about 1.5 us for today's dates, 0.1 ms in 9999), in
 *   17 digits; exact where a double holds the value (12:00). Away, on
 *   the side that a reader truncating milliseconds since 1970 toward zero
 *   keeps (SheetJS read a 10-decimal 13:45:06 as 13:45:05.999): above
 *   from 1970 on, below before; a reader that rounds gets the same
 *   millisecond.
 * - Text: an inline string (no shared-string table, which would grow with
 *   the data). XML escapes and OOXML's _xHHHH_ for what XML cannot carry,
 *   see os_xlsx_cell_text; xml:space="preserve" only where leading or
 *   trailing white space would otherwise be dropped (it is 21 bytes a
 *   cell otherwise).
 *
 * Layer render: may call its own layer and base, db, deliver.
 */
#include <stdio.h>
#include <string.h>

#include "os_date.h"
#include "os_utf8.h"
#include "os_xlsx_cell.h"

/* PostgreSQL type OIDs (pg_type.dat); plain numbers so that no libpq or
 * server header is needed. */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_DATE 1082
#define OID_TIME 1083
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC 1700

/* A numeric's typmod is (precision << 16 | scale) + VARHDRSZ (4), the
 * scale an 11-bit signed number since PostgreSQL 15 (numeric.c,
 * numeric_typmod_scale). */
static int numeric_style(int typmod)
{
    int scale;

    if (typmod < 4) {
        return 0;
    }
    scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
    if (scale < 0 || scale > OS_XLSX_SCALE_MAX) {
        return 0;
    }
    return OS_XLSX_STYLE_SCALE0 + scale;
}

os_xlsx_col os_xlsx_cell_col(unsigned type, int typmod)
{
    os_xlsx_col c = { OS_XLSX_TEXT, 0 };

    switch (type) {
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
        c.kind = OS_XLSX_NUMBER;
        break;
    case OID_FLOAT4:
    case OID_FLOAT8:
        c.kind = OS_XLSX_FLOAT;
        break;
    case OID_NUMERIC:
        /* a declared scale (typmod set) says every digit counts */
        c.kind = typmod >= 4 ? OS_XLSX_DECIMAL : OS_XLSX_NUMBER;
        c.style = numeric_style(typmod);
        break;
    case OID_BOOL:
        c.kind = OS_XLSX_BOOL;
        break;
    case OID_DATE:
        c.kind = OS_XLSX_DATE;
        break;
    case OID_TIMESTAMP:
        c.kind = OS_XLSX_TIMESTAMP;
        break;
    case OID_TIMESTAMPTZ:
        c.kind = OS_XLSX_TIMESTAMPTZ;
        break;
    case OID_TIME:
        c.kind = OS_XLSX_TIME;
        break;
    default:
        break;
    }
    return c;
}

/* ---- text ---- */

enum { C_PLAIN, C_AMP, C_LT, C_GT, C_UNDER, C_CTRL, C_HIGH };

/* What each byte needs: XML 1.0 allows tab, LF and CR of the C0
 * controls, but a parser turns CR into LF, so CR is escaped too. */
static const unsigned char byte_class[256] = {
    [0x00 ... 0x08] = C_CTRL,
    [0x0b ... 0x1f] = C_CTRL,
    ['&'] = C_AMP,
    ['<'] = C_LT,
    ['>'] = C_GT,
    ['_'] = C_UNDER,
    [0x80 ... 0xff] = C_HIGH,
};

static const char hex_digit[] = "0123456789ABCDEF";

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* _xHHHH_ for a character XML cannot carry. */
static char *put_escape(char *d, unsigned cp)
{
    d[0] = '_';
    d[1] = 'x';
    d[2] = hex_digit[(cp >> 12) & 0xf];
    d[3] = hex_digit[(cp >> 8) & 0xf];
    d[4] = hex_digit[(cp >> 4) & 0xf];
    d[5] = hex_digit[cp & 0xf];
    d[6] = '_';
    return d + 7;
}

/* A '_' at s followed by x (either case) and a hex digit could, with a
 * '_' after the digits (from the data or from an escape we write next),
 * read back as an escape: Excel decodes _x and four hex digits,
 * LibreOffice 7.4 one to four (x_x4_y came back as x, U+0004, y). Such a
 * '_' is itself written _x005F_, which every reader decodes as '_'.
 * Escaping one too many is harmless; one too few changes the text. */
static int looks_escaped(const unsigned char *s, apr_size_t n)
{
    return n >= 3 && (s[1] | 0x20) == 'x' && is_hex(s[2]);
}

/* One non-plain character at s (class cls): written to *d, its length in
 * the input returned, its UTF-16 units in *units. */
static apr_size_t special(char **d, const unsigned char *s, apr_size_t n,
                          int cls, int *units)
{
    unsigned cp = 0;
    int len;

    *units = 1;
    switch (cls) {
    case C_AMP:
        memcpy(*d, "&amp;", 5), *d += 5;
        return 1;
    case C_LT:
        memcpy(*d, "&lt;", 4), *d += 4;
        return 1;
    case C_GT:
        memcpy(*d, "&gt;", 4), *d += 4;
        return 1;
    case C_UNDER:
        if (looks_escaped(s, n)) {
            *d = put_escape(*d, '_');
        }
        else {
            *(*d)++ = '_';
        }
        return 1;
    case C_CTRL:
        *d = put_escape(*d, s[0]);
        return 1;
    }
    len = os_utf8_seq(s, n, &cp);
    if (len == 0) { /* not UTF-8: the replacement character */
        memcpy(*d, "\xef\xbf\xbd", 3), *d += 3;
        return 1;
    }
    if (cp == 0xfffe || cp == 0xffff) { /* not XML characters */
        *d = put_escape(*d, cp);
    }
    else {
        memcpy(*d, s, len), *d += len;
    }
    *units = len == 4 ? 2 : 1;
    return len;
}

apr_size_t os_xlsx_cell_text(char *dst, const char *v, apr_size_t len,
                             int *cut)
{
    const unsigned char *s = (const unsigned char *)v;
    apr_size_t i = 0, units = 0;
    char *d = dst;

    while (i < len) {
        int cls = byte_class[s[i]];
        apr_size_t run, j;
        char *save;
        int u;

        if (cls == C_PLAIN) { /* a run of bytes that stand for themselves */
            for (j = i + 1; j < len && byte_class[s[j]] == C_PLAIN; j++) {
            }
            run = j - i;
            if (run > OS_XLSX_CELL_CHARS - units) {
                run = OS_XLSX_CELL_CHARS - units;
                *cut = 1;
                len = i + run;
            }
            memcpy(d, s + i, run);
            d += run, i += run, units += run;
            continue;
        }
        save = d;
        j = special(&d, s + i, len - i, cls, &u);
        if (units + u > OS_XLSX_CELL_CHARS) { /* never half a character */
            d = save;
            *cut = 1;
            break;
        }
        i += j, units += u;
    }
    return (apr_size_t)(d - dst);
}

/* ---- cells ---- */

static char *put(char *d, const char *s, apr_size_t n)
{
    memcpy(d, s, n);
    return d + n;
}

#define PUTS(d, lit) put(d, lit, sizeof(lit) - 1)

static char *put_ulong(char *d, unsigned long n)
{
    char tmp[24];
    int k = 0;

    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k) {
        *d++ = tmp[--k];
    }
    return d;
}

apr_size_t os_xlsx_cell_ulong(char *dst, unsigned long n)
{
    return (apr_size_t)(put_ulong(dst, n) - dst);
}

/* <c[ r="ref"][ s="style"][ t="type"]> */
static char *open_cell(char *d, const char *ref, apr_size_t reflen, int style,
                       const char *type, apr_size_t typelen)
{
    d = PUTS(d, "<c");
    if (reflen) {
        d = PUTS(d, " r=\"");
        d = put(d, ref, reflen);
        *d++ = '"';
    }
    if (style) {
        d = PUTS(d, " s=\"");
        d = put_ulong(d, (unsigned long)style);
        *d++ = '"';
    }
    if (typelen) {
        d = PUTS(d, " t=\"");
        d = put(d, type, typelen);
        *d++ = '"';
    }
    *d++ = '>';
    return d;
}

/* XML drops leading/trailing white space without xml:space="preserve";
 * a byte >= 0x80 may start a Unicode space, and a control byte is an
 * escape that Excel may trim once decoded: those get it too. A value that
 * may be cut (longer than the limit in bytes) always gets it. */
static int needs_preserve(const unsigned char *s, apr_size_t len)
{
    return len > OS_XLSX_CELL_CHARS || s[0] <= ' ' || s[0] >= 0x80
        || s[len - 1] <= ' ' || s[len - 1] >= 0x80;
}

static apr_size_t string_cell(char *dst, const char *v, apr_size_t len,
                              const char *ref, apr_size_t reflen, int style,
                              int *cut)
{
    char *d = open_cell(dst, ref, reflen, style, "inlineStr", 9);

    if (len && needs_preserve((const unsigned char *)v, len)) {
        d = PUTS(d, "<is><t xml:space=\"preserve\">");
    }
    else {
        d = PUTS(d, "<is><t>");
    }
    d += os_xlsx_cell_text(d, v, len, cut);
    d = PUTS(d, "</t></is></c>");
    return (apr_size_t)(d - dst);
}

apr_size_t os_xlsx_cell_string(char *dst, const char *v, apr_size_t len,
                               const char *ref, apr_size_t reflen, int style,
                               int *cut)
{
    return string_cell(dst, v, len, ref, reflen, style, cut);
}

/* What number_scan reads of a plain decimal number. */
typedef struct number_shape {
    long sig;     /* significant digits, first to last nonzero; 0: zero */
    long mag;     /* the power of ten of the first nonzero digit */
    int whole;    /* no nonzero digit below the units */
    char top[16]; /* a whole number of 16 digits: its digits */
} number_shape;

/* Reads v[0..len) as [-]digits[.digits][e[+-]digits] (float8 prints
 * 1e+20); 0 when it is not one (NaN, Infinity, anything else). */
static int number_scan(const char *v, apr_size_t len, number_shape *ns)
{
    apr_size_t i = 0, d0;
    long ndig = 0, intdig = 0, first = -1, last = -1, exp = 0, p;
    int point = 0;

    if (len > OS_XLSX_CELL_CHARS) { /* only zeros could make it so long;
                                     * and the cell's bound needs this */
        return 0;
    }
    i += i < len && v[i] == '-';
    d0 = i;
    for (; i < len; i++) {
        if (v[i] >= '0' && v[i] <= '9') {
            if (v[i] != '0') {
                first = first < 0 ? ndig : first;
                last = ndig;
            }
            ndig++;
            intdig += !point;
        }
        else if (v[i] == '.' && !point) {
            point = 1;
        }
        else {
            break;
        }
    }
    if (ndig == 0) {
        return 0;
    }
    if (i < len && (v[i] == 'e' || v[i] == 'E')) {
        int neg = 0, edig = 0;

        if (++i < len && (v[i] == '+' || v[i] == '-')) {
            neg = v[i++] == '-';
        }
        for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
            if (++edig > 4) {
                return 0;
            }
            exp = exp * 10 + (v[i] - '0');
        }
        if (edig == 0) {
            return 0;
        }
        exp = neg ? -exp : exp;
    }
    if (i != len) {
        return 0;
    }
    memset(ns, 0, sizeof(*ns));
    if (first < 0) {
        ns->whole = 1;
        return 1;
    }
    ns->sig = last - first + 1;
    ns->mag = intdig - 1 - first + exp;
    ns->whole = intdig - 1 - last + exp >= 0;
    if (ns->whole && ns->mag == 15) { /* its 16 digits, to compare */
        memset(ns->top, '0', sizeof(ns->top));
        for (p = 0; d0 < len && p < first + 16; d0++) {
            if (v[d0] >= '0' && v[d0] <= '9') {
                if (p >= first) {
                    ns->top[p - first] = v[d0];
                }
                p++;
            }
            else if (v[d0] != '.') {
                break;
            }
        }
    }
    return 1;
}

/* Excel's range is about 2.2e-308 to 9.99e+307. */
#define MAG_MIN -307
#define MAG_MAX 307
/* Why 15: an IEEE double holds any 15-digit decimal exactly enough to
 * print it back (DBL_DIG), and Excel shows 15 digits. */
#define EXACT_DIGITS 15
/* 2^53: every whole number up to it is a double exactly; 2^53 + 1 is
 * not (9007199254740993 reads back as ...992). */
#define WHOLE_MAX "9007199254740992"

/* Whether a value of kind (OS_XLSX_NUMBER, _FLOAT or _DECIMAL), with
 * PostgreSQL's text v[0..len), is a number cell (see the banner). */
static int number_ok(os_xlsx_kind kind, const char *v, apr_size_t len)
{
    number_shape ns;

    if (!number_scan(v, len, &ns)) {
        return 0;
    }
    if (ns.sig == 0) { /* zero */
        return 1;
    }
    if (ns.mag < MAG_MIN || ns.mag > MAG_MAX) {
        return 0;
    }
    switch (kind) {
    case OS_XLSX_FLOAT:
        return 1;
    case OS_XLSX_DECIMAL:
        return ns.sig <= EXACT_DIGITS;
    default:
        return !ns.whole || ns.mag < 15
            || (ns.mag == 15 && memcmp(ns.top, WHOLE_MAX, 16) <= 0);
    }
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static long days_from_civil(long y, int m, int d)
{
    long era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

#define SERIAL_1970 25569L  /* 1970-01-01 */
#define SERIAL_MAX 2958465L /* 9999-12-31, Excel's last date */
#define MS_PER_DAY 86400000L

/* "YYYY-MM-DD" at v (10 bytes available): its serial, or 0 when Excel
 * cannot show it. */
static long date_serial(const char *v)
{
    int y, m, d;

    if (!os_date_ymd(v, &y, &m, &d) || y < 1900 || (y == 1900 && m < 3)) {
        return 0;
    }
    return days_from_civil(y, m, d) + SERIAL_1970;
}

/* "HH:MM:SS[.ffffff]" at v[0..len), hour at most max_hour (24 only as
 * 24:00:00, PostgreSQL's end of day): *ms the time of day rounded to the
 * millisecond (up to 86,400,000), *frac whether it had a fraction; returns
 * the bytes parsed or 0. */
static apr_size_t parse_time(const char *v, apr_size_t len, int max_hour,
                             long *ms, int *frac)
{
    int h, m, s;
    long us = 0, scale = 100000;
    apr_size_t i = 8;

    if (len < 8 || !os_date_digits(v, 2, &h) || v[2] != ':'
        || !os_date_digits(v + 3, 2, &m) || v[5] != ':'
        || !os_date_digits(v + 6, 2, &s) || h > max_hour || m > 59 || s > 59) {
        return 0;
    }
    *frac = i < len && v[i] == '.';
    if (*frac) {
        for (i++; i < len && v[i] >= '0' && v[i] <= '9' && scale; i++) {
            us += (v[i] - '0') * scale;
            scale /= 10;
        }
        if (i == 9 || (i < len && v[i] >= '0' && v[i] <= '9')) {
            return 0; /* no digits, or more than 6 */
        }
    }
    if (h == 24 && (m || s || us)) {
        return 0;
    }
    *ms = ((h * 60L + m) * 60 + s) * 1000 + (us + 500) / 1000;
    return i;
}

/* A timestamptz's offset, [+-]HH[:MM[:SS]], to be skipped: its length. */
static apr_size_t offset_len(const char *v, apr_size_t len)
{
    apr_size_t i = 3;
    int n;

    if (len < 3 || (v[0] != '+' && v[0] != '-')
        || !os_date_digits(v + 1, 2, &n)) {
        return 0;
    }
    while (i + 3 <= len && v[i] == ':' && os_date_digits(v + i + 1, 2, &n)
           && i < 9) {
        i += 3;
    }
    return i;
}

/* The next double above (dir 1) or below (dir -1) x > 0: its bits plus
 * or minus one. */
static double next_to(double x, int dir)
{
    apr_uint64_t bits;

    memcpy(&bits, &x, sizeof(bits));
    bits += (apr_uint64_t)(apr_int64_t)dir;
    memcpy(&x, &bits, sizeof(x));
    return x;
}

/* 86,400,000 = 2^10 * 84,375: a time of day that is a multiple of 84,375
 * ms (12:00, 06:00, 00:22:30) is a fraction of 1024ths, which a double
 * holds exactly, and every product a reader makes of it is exact too. */
#define MS_EXACT 84375

/* Why 2: a reader turns the serial into milliseconds with a few double
 * operations (SheetJS: v * 24 * 60 * 60 * 1000 + its epoch, then
 * truncates), each off by up to half an ulp of its result; a serial two
 * ulps away from the exact value stays on its side through them. */
#define SERIAL_ULPS_AWAY 2

/* x as printf's "%.17g" writes it: 17 significant digits, correctly
 * rounded (to even on a tie), trailing zeros dropped; for 10 <= x < 2^32
 * (every date-time serial) with integers, since printf took a fifth of
 * the writer's time on a timestamp column. A double is m * 2^-s exactly,
 * so its digits are those of the integer part m >> s and of the fraction
 * (m mod 2^s) * 10^decimals / 2^s. Other x: printf. */
static char *put_g17(char *d, double x)
{
    static const unsigned long long pow10[] = {
        1ULL,
        10ULL,
        100ULL,
        1000ULL,
        10000ULL,
        100000ULL,
        1000000ULL,
        10000000ULL,
        100000000ULL,
        1000000000ULL,
        10000000000ULL,
        100000000000ULL,
        1000000000000ULL,
        10000000000000ULL,
        100000000000000ULL,
        1000000000000000ULL,
    };
    apr_uint64_t bits, m, ip, q, rem, half;
    unsigned __int128 p;
    char frac[16];
    int s, nint = 0, dec, k, n;

    if (!(x >= 10 && x < 4294967296.0)) {
        return d + snprintf(d, 32, "%.17g", x);
    }
    memcpy(&bits, &x, sizeof(bits));
    s = 1075 - (int)((bits >> 52) & 0x7ff); /* 21 to 49 here */
    m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
    ip = m >> s;
    for (q = ip; q; q /= 10) {
        nint++;
    }
    dec = 17 - nint; /* 7 to 15 */
    p = (unsigned __int128)(m & ((1ULL << s) - 1)) * pow10[dec];
    q = (apr_uint64_t)(p >> s);
    rem = (apr_uint64_t)(p & ((1ULL << s) - 1));
    half = 1ULL << (s - 1);
    q += rem > half || (rem == half && (q & 1));
    if (q == pow10[dec]) { /* rounds up into the integer part */
        return d + snprintf(d, 32, "%.17g", x);
    }
    d = put_ulong(d, (unsigned long)ip);
    if (q == 0) {
        return d;
    }
    for (k = dec - 1; k >= 0; k--, q /= 10) {
        frac[k] = (char)('0' + q % 10);
    }
    for (n = dec; frac[n - 1] == '0'; n--) {
    }
    *d++ = '.';
    return put(d, frac, (apr_size_t)n);
}

/* The serial text: days, then ms / MS_PER_DAY as the double just away
 * from the exact value (see the banner), in 17 significant digits, which
 * read back as that double. Away means above from 1970 on and below
 * before: SheetJS truncates milliseconds since 1970 toward zero. */
static char *put_serial(char *d, long days, long ms)
{
    long long exact = (long long)days * MS_PER_DAY + ms;
    int dir = days >= SERIAL_1970 ? 1 : -1, i;
    double x;

    if (ms == 0) {
        return put_ulong(d, (unsigned long)days);
    }
    x = (double)days + (double)ms / MS_PER_DAY;
    if (ms % MS_EXACT == 0) {
        return put_g17(d, x);
    }
    while (dir > 0 ? x * MS_PER_DAY < (double)exact
                   : x * MS_PER_DAY > (double)exact) {
        x = next_to(x, dir);
    }
    for (i = 0; i < SERIAL_ULPS_AWAY; i++) {
        x = next_to(x, dir);
    }
    return put_g17(d, x);
}

/* The serial and style of a date, timestamp(tz) or time value; 0 when
 * Excel cannot show it. */
static int serial_of(os_xlsx_kind kind, const char *v, apr_size_t len,
                     long *days, long *ms)
{
    apr_size_t i;
    int frac;

    *ms = 0;
    if (kind == OS_XLSX_TIME) {
        *days = 0;
        i = parse_time(v, len, 24, ms, &frac);
        if (!i || i != len) {
            return 0;
        }
        if (*ms == MS_PER_DAY) { /* 24:00:00: one whole day */
            *days = 1, *ms = 0;
        }
        return frac ? OS_XLSX_STYLE_TIME3 : OS_XLSX_STYLE_TIME;
    }
    if (len < 10 || !(*days = date_serial(v))) {
        return 0;
    }
    if (kind == OS_XLSX_DATE) {
        return len == 10 ? OS_XLSX_STYLE_DATE : 0;
    }
    if (len < 19 || v[10] != ' '
        || !(i = parse_time(v + 11, len - 11, 23, ms, &frac))) {
        return 0;
    }
    i += 11;
    if (kind == OS_XLSX_TIMESTAMPTZ) {
        i += offset_len(v + i, len - i);
    }
    if (i != len) {
        return 0;
    }
    if (*ms == MS_PER_DAY) { /* 23:59:59.9995 and later: the next day */
        *ms = 0;
        if (++*days > SERIAL_MAX) {
            return 0;
        }
    }
    return frac ? OS_XLSX_STYLE_DATETIME3 : OS_XLSX_STYLE_DATETIME;
}

static apr_size_t value_cell(char *dst, const char *ref, apr_size_t reflen,
                             int style, const char *type, apr_size_t typelen,
                             const char *v, apr_size_t len)
{
    char *d = open_cell(dst, ref, reflen, style, type, typelen);

    d = PUTS(d, "<v>");
    d = put(d, v, len);
    d = PUTS(d, "</v></c>");
    return (apr_size_t)(d - dst);
}

apr_size_t os_xlsx_cell(char *dst, const os_xlsx_col *col, const char *v,
                        apr_size_t len, const char *ref, apr_size_t reflen,
                        int *cut)
{
    char serial[32];
    long days, ms;
    int style;

    switch (col->kind) {
    case OS_XLSX_NUMBER:
    case OS_XLSX_FLOAT:
    case OS_XLSX_DECIMAL:
        if (number_ok(col->kind, v, len)) {
            return value_cell(dst, ref, reflen, col->style, NULL, 0, v, len);
        }
        break;
    case OS_XLSX_BOOL:
        if (len == 1 && (v[0] == 't' || v[0] == 'f')) {
            return value_cell(dst, ref, reflen, 0, "b", 1,
                              v[0] == 't' ? "1" : "0", 1);
        }
        break;
    case OS_XLSX_DATE:
    case OS_XLSX_TIMESTAMP:
    case OS_XLSX_TIMESTAMPTZ:
    case OS_XLSX_TIME:
        if ((style = serial_of(col->kind, v, len, &days, &ms)) != 0) {
            char *end = put_serial(serial, days, ms);

            return value_cell(dst, ref, reflen, style, NULL, 0, serial,
                              (apr_size_t)(end - serial));
        }
        break;
    case OS_XLSX_TEXT:
        break;
    }
    return string_cell(dst, v, len, ref, reflen, 0, cut);
}

apr_size_t os_xlsx_cell_col_name(char *dst, int col)
{
    char tmp[4];
    int k = 0, n = 0;

    col++;
    while (col > 0 && k < 3) {
        tmp[k++] = (char)('A' + (col - 1) % 26);
        col = (col - 1) / 26;
    }
    while (k) {
        dst[n++] = tmp[--k];
    }
    return (apr_size_t)n;
}

apr_size_t os_xlsx_cell_ref(char *dst, int col, long row)
{
    apr_size_t n = os_xlsx_cell_col_name(dst, col);

    return (apr_size_t)(put_ulong(dst + n, (unsigned long)row) - dst);
}

/* ---- styles ---- */

/* The number formats of the styles, from id 164 (the first custom one). */
static const char *const date_formats[] = {
    "yyyy-mm-dd",
    "yyyy-mm-dd hh:mm:ss",
    "yyyy-mm-dd hh:mm:ss.000",
    /* [hh]: elapsed hours, so PostgreSQL's 24:00:00 shows as 24:00:00
     * rather than 00:00:00; the same as hh for every other time. */
    "[hh]:mm:ss",
    "[hh]:mm:ss.000",
};
#define NDATE_FORMATS (sizeof(date_formats) / sizeof(date_formats[0]))

static char *put_xf(char *d, int numfmt, int font)
{
    d = PUTS(d, "<xf numFmtId=\"");
    d = put_ulong(d, (unsigned long)numfmt);
    d = PUTS(d, "\" fontId=\"");
    d = put_ulong(d, (unsigned long)font);
    d = PUTS(d, "\" fillId=\"0\" borderId=\"0\" xfId=\"0\"");
    if (numfmt) {
        d = PUTS(d, " applyNumberFormat=\"1\"");
    }
    if (font) {
        d = PUTS(d, " applyFont=\"1\"");
    }
    return PUTS(d, "/>");
}

static char *put_numfmt(char *d, int id, const char *code, int zeros)
{
    d = PUTS(d, "<numFmt numFmtId=\"");
    d = put_ulong(d, (unsigned long)id);
    d = PUTS(d, "\" formatCode=\"");
    if (code) {
        d = put(d, code, strlen(code));
    }
    else {
        d = PUTS(d, "0.");
        memset(d, '0', (size_t)zeros), d += zeros;
    }
    return PUTS(d, "\"/>");
}

/* cellXfs in the order of the OS_XLSX_STYLE_ indexes: General, bold, the
 * date formats (164...), then the scales: "0" (built-in 1) and "0.0"...
 * (the ids after the date formats). Fonts, fills (Excel requires the two
 * defaults, none and gray125), borders and the Normal style are the
 * minimum Excel expects. */
apr_size_t os_xlsx_cell_styles(char *dst)
{
    int nfmt = (int)NDATE_FORMATS + OS_XLSX_SCALE_MAX, i;
    char *d = dst;

    d = PUTS(d,
             "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
             "\n<styleSheet xmlns=\"http://schemas.openxmlformats.org/"
             "spreadsheetml/2006/main\"><numFmts count=\"");
    d = put_ulong(d, (unsigned long)nfmt);
    d = PUTS(d, "\">");
    for (i = 0; i < (int)NDATE_FORMATS; i++) {
        d = put_numfmt(d, 164 + i, date_formats[i], 0);
    }
    for (i = 1; i <= OS_XLSX_SCALE_MAX; i++) {
        d = put_numfmt(d, 164 + (int)NDATE_FORMATS + i - 1, NULL, i);
    }
    d = PUTS(d,
             "</numFmts><fonts count=\"2\"><font><sz val=\"11\"/><name "
             "val=\"Calibri\"/><family val=\"2\"/></font><font><b/><sz "
             "val=\"11\"/><name val=\"Calibri\"/><family val=\"2\"/>"
             "</font></fonts><fills count=\"2\"><fill><patternFill "
             "patternType=\"none\"/></fill><fill><patternFill "
             "patternType=\"gray125\"/></fill></fills><borders "
             "count=\"1\"><border><left/><right/><top/><bottom/>"
             "<diagonal/></border></borders><cellStyleXfs count=\"1\">"
             "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" "
             "borderId=\"0\"/></cellStyleXfs><cellXfs count=\"");
    d = put_ulong(
        d, (unsigned long)(OS_XLSX_STYLE_SCALE0 + 1 + OS_XLSX_SCALE_MAX));
    d = PUTS(d, "\">");
    d = put_xf(d, 0, 0);
    d = put_xf(d, 0, 1);
    for (i = 0; i < (int)NDATE_FORMATS; i++) {
        d = put_xf(d, 164 + i, 0);
    }
    d = put_xf(d, 1, 0);
    for (i = 1; i <= OS_XLSX_SCALE_MAX; i++) {
        d = put_xf(d, 164 + (int)NDATE_FORMATS + i - 1, 0);
    }
    d = PUTS(d,
             "</cellXfs><cellStyles count=\"1\"><cellStyle "
             "name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>"
             "</styleSheet>");
    return (apr_size_t)(d - dst);
}
