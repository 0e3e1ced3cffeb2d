/* fuzz_xlsx.c: the XLSX cell writer, os_xlsx_cell and os_xlsx_cell_string
 * (src/render/os_xlsx_cell.c).
 *
 * The input: a byte choosing the column's type (text, int4, numeric,
 * float8, bool, date, timestamp, timestamptz, time, or a bold header
 * label), a byte choosing whether the cell carries a reference ("C17")
 * and which, and a numeric's scale (0 to 39: past 30, General), then the
 * value, PostgreSQL's text output as the
 * writer would get it (any bytes: invalid UTF-8, controls, 1 MB). The
 * cell is written into a heap block of exactly OS_XLSX_CELL_MAX(len)
 * bytes, so that ASan catches a byte past the documented maximum. Then:
 *  - it is one <c> element as SpreadsheetML has it: only the attributes
 *    r (a reference like the one given), s (a style of styles.xml) and t
 *    (inlineStr or b: never str, a formula's result), then either <v> with
 *    a number, or <is><t> with text;
 *  - that text is well-formed XML character data: UTF-8, only characters
 *    XML 1.0 allows and no CR (a parser would turn it into LF), no '<',
 *    '&' only in &amp; &lt; &gt;; xml:space="preserve" wherever leading
 *    or trailing white space would otherwise be dropped;
 *  - the text decodes back (entities, then OOXML's _xHHHH_ escapes, as
 *    Excel reads them, and as LibreOffice reads them: _xH_ to _xHHHH_) to
 *    the value, each byte that is not UTF-8 a
 *    U+FFFD, cut after 32,767 UTF-16 units exactly when the value has
 *    more, never inside a character, *cut set then and only then;
 *  - a number cell's <v> is the value itself, a boolean's 1 or 0 from t
 *    or f, a date's a serial; a value the type cannot hold is such a text.
 * The decoder here is written apart from the writer, from the rules.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "os_xlsx_cell.h"

/* The types os_xlsx_cell_col maps (PostgreSQL OIDs); the last entry is a
 * header label (os_xlsx_cell_string, bold). */
static const unsigned oids[] = { 25,   23,   1700, 701, 16,  1082,
                                 1114, 1184, 1083, 20,  700, 0 };
#define NKINDS (sizeof(oids) / sizeof(oids[0]))

/* The next valid UTF-8 character at s[0..n) (RFC 3629): its length and
 * code point; 0 for a byte that does not start one. */
static size_t utf8(const unsigned char *s, size_t n, unsigned *cp)
{
    size_t len, i;
    unsigned v, min;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2, v = s[0] & 0x1f, min = 0x80;
    }
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3, v = s[0] & 0x0f, min = 0x800;
    }
    else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4, v = s[0] & 0x07, min = 0x10000;
    }
    else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
        return 0;
    }
    *cp = v;
    return len;
}

static int xml_char(unsigned cp)
{
    return cp == 0x9 || cp == 0xa || (cp >= 0x20 && cp <= 0xd7ff)
        || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/* What the text must read back as: the value with each byte that is not
 * UTF-8 a U+FFFD, cut before the character that would pass the limit of
 * UTF-16 units; *whole: nothing was cut. */
static size_t expected(const unsigned char *v, size_t len, char *out,
                       int *whole)
{
    size_t i = 0, o = 0, units = 0, k;
    unsigned cp;

    *whole = 1;
    while (i < len) {
        k = utf8(v + i, len - i, &cp);
        if (units + (cp >= 0x10000 && k ? 2 : 1) > OS_XLSX_CELL_CHARS) {
            *whole = 0;
            break;
        }
        if (k) {
            memcpy(out + o, v + i, k), o += k, i += k;
            units += cp >= 0x10000 ? 2 : 1;
        }
        else {
            memcpy(out + o, "\xef\xbf\xbd", 3), o += 3, i++;
            units++;
        }
    }
    return o;
}

static int hex(unsigned char c)
{
    return c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'f'  ? c - 'a' + 10
        : c >= 'A' && c <= 'F'  ? c - 'A' + 10
                                : -1;
}

/* Puts code point cp as UTF-8 at out. */
static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* Checks that t[0..n) is XML character data as the writer promises, and
 * decodes it as Excel reads it (min_hex 4: _xHHHH_) or as LibreOffice 7.4
 * does (min_hex 1: _xH_ to _xHHHH_) into out. 0 if it is not. */
static int decode_text(const char *t, size_t n, char *out, size_t *outlen,
                       size_t min_hex)
{
    const unsigned char *s = (const unsigned char *)t;
    size_t i = 0, o = 0, k;
    char *x = malloc(n + 1);
    size_t xn = 0;
    unsigned cp;
    int cpv;

    FUZZ_CHECK(x);
    /* XML: characters and entities */
    while (i < n) {
        k = utf8(s + i, n - i, &cp);
        if (!k || !xml_char(cp) || cp == '\r' || cp == '<' || cp == '>') {
            free(x);
            return 0;
        }
        if (cp != '&') {
            memcpy(x + xn, s + i, k), xn += k, i += k;
        }
        else if (n - i >= 5 && !memcmp(s + i, "&amp;", 5)) {
            x[xn++] = '&', i += 5;
        }
        else if (n - i >= 4 && !memcmp(s + i, "&lt;", 4)) {
            x[xn++] = '<', i += 4;
        }
        else if (n - i >= 4 && !memcmp(s + i, "&gt;", 4)) {
            x[xn++] = '>', i += 4;
        }
        else {
            free(x);
            return 0;
        }
    }
    /* OOXML: _xHHHH_ (x in either case, as the writer escapes both);
     * LibreOffice also takes one to three hex digits (min_hex 1) */
    for (i = 0; i < xn;) {
        size_t h = 0;

        if (xn - i >= 3 && x[i] == '_' && (x[i + 1] | 0x20) == 'x') {
            for (cpv = 0; h < 4 && i + 2 + h < xn && hex(x[i + 2 + h]) >= 0;
                 h++) {
                cpv = cpv << 4 | hex(x[i + 2 + h]);
            }
        }
        if (h >= min_hex && i + 2 + h < xn && x[i + 2 + h] == '_') {
            o += put_utf8(out + o, (unsigned)cpv);
            i += 3 + h;
        }
        else {
            out[o++] = x[i++];
        }
    }
    free(x);
    *outlen = o;
    return 1;
}

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

/* A number as <v> has it: [-]digits[.digits][e[+-]digits]. */
static int number_text(const char *s, size_t n)
{
    size_t i = 0, d = 0;

    i += i < n && s[i] == '-';
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++) {
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++) {
        }
    }
    if (d && i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        i += i < n && (s[i] == '+' || s[i] == '-');
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, e++) {
        }
        d = e ? d : 0;
    }
    return d && i == n;
}

/* Reads ' name="value"' at *p; the value's span in *v, *vn. */
static int attribute(const char **p, const char *end, char *name,
                     const char **v, size_t *vn)
{
    const char *s = *p, *q;

    if (end - s < 5 || s[0] != ' ' || s[2] != '=' || s[3] != '"') {
        return 0;
    }
    *name = s[1];
    q = memchr(s + 4, '"', (size_t)(end - s - 4));
    if (!q) {
        return 0;
    }
    *v = s + 4;
    *vn = (size_t)(q - *v);
    *p = q + 1;
    return 1;
}

static int starts(const char *p, const char *end, const char *lit)
{
    size_t n = strlen(lit);

    return (size_t)(end - p) >= n && !memcmp(p, lit, n);
}

typedef struct cell {
    const char *ref, *style, *type, *v, *text;
    size_t refn, stylen, typen, vn, textn;
    int preserve;
} cell;

/* Splits the <c> element; 0 if it is not one as described at the top. */
static int parse_cell(const char *d, size_t n, cell *c)
{
    const char *p = d, *end = d + n, *v, *q;
    size_t vn;
    char name;

    memset(c, 0, sizeof(*c));
    if (!starts(p, end, "<c")) {
        return 0;
    }
    p += 2;
    while (p < end && *p == ' ') {
        if (!attribute(&p, end, &name, &v, &vn)) {
            return 0;
        }
        if (name == 'r' && !c->ref) {
            c->ref = v, c->refn = vn;
        }
        else if (name == 's' && !c->style) {
            c->style = v, c->stylen = vn;
        }
        else if (name == 't' && !c->type) {
            c->type = v, c->typen = vn;
        }
        else {
            return 0;
        }
    }
    if (!starts(p, end, ">") || !starts(end - 4, end, "</c>")) {
        return 0;
    }
    p++, end -= 4;
    if (starts(p, end, "<v>")) {
        if (!starts(end - 4, end, "</v>") || end - 4 < p + 3) {
            return 0;
        }
        c->v = p + 3, c->vn = (size_t)(end - 4 - c->v);
        return !memchr(c->v, '<', c->vn);
    }
    if (starts(p, end, "<is><t xml:space=\"preserve\">")) {
        c->preserve = 1, p += 28;
    }
    else if (starts(p, end, "<is><t>")) {
        p += 7;
    }
    else {
        return 0;
    }
    if (end - p < 9 || memcmp(end - 9, "</t></is>", 9)) {
        return 0;
    }
    q = end - 9;
    c->text = p, c->textn = (size_t)(q - p);
    return 1;
}

static int same(const char *a, size_t an, const char *lit)
{
    return an == strlen(lit) && !memcmp(a, lit, an);
}

/* The style attribute: a number of styles.xml's cellXfs. */
static int style_ok(const cell *c)
{
    size_t i;
    int s = 0;

    if (!c->style) {
        return 1;
    }
    if (!c->stylen || c->stylen > 2) {
        return 0;
    }
    for (i = 0; i < c->stylen; i++) {
        if (c->style[i] < '0' || c->style[i] > '9') {
            return 0;
        }
        s = s * 10 + c->style[i] - '0';
    }
    return s >= 1 && s <= OS_XLSX_STYLE_SCALE0 + OS_XLSX_SCALE_MAX;
}

/* A text cell reads back as the value (see the top). */
static void check_text(const cell *c, const unsigned char *val, size_t len,
                       int cut)
{
    char *want = malloc(3 * len + 1), *got = malloc(3 * len + 16);
    size_t wn, gn = 0;
    int whole;

    FUZZ_CHECK(want && got);
    FUZZ_CHECK(c->type && same(c->type, c->typen, "inlineStr"));
    wn = expected(val, len, want, &whole);
    FUZZ_CHECK(decode_text(c->text, c->textn, got, &gn, 4));
    FUZZ_CHECK(gn == wn && !memcmp(got, want, wn));
    FUZZ_CHECK(decode_text(c->text, c->textn, got, &gn, 1));
    FUZZ_CHECK(gn == wn && !memcmp(got, want, wn));
    FUZZ_CHECK(cut == !whole);
    /* XML keeps leading and trailing white space only where asked */
    FUZZ_CHECK(c->preserve || gn == 0
               || (!is_space((unsigned char)got[0])
                   && !is_space((unsigned char)got[gn - 1])));
    free(want);
    free(got);
}

/* A value cell: a number that is the value itself, a boolean, a serial. */
static void check_value(const cell *c, unsigned oid, const char *val,
                        size_t len)
{
    FUZZ_CHECK(number_text(c->v, c->vn));
    if (oid == 16) {
        FUZZ_CHECK(c->type && same(c->type, c->typen, "b"));
        FUZZ_CHECK(len == 1 && (*val == 't' || *val == 'f'));
        FUZZ_CHECK(same(c->v, c->vn, *val == 't' ? "1" : "0"));
        return;
    }
    FUZZ_CHECK(!c->type);
    if (oid == 20 || oid == 23 || oid == 1700 || oid == 701 || oid == 700) {
        FUZZ_CHECK(c->vn == len && !memcmp(c->v, val, len));
    }
    else {
        FUZZ_CHECK(c->v[0] != '-'); /* a serial: from 1900-03-01 on */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned kind, oid;
    const char *val;
    char ref[16], *dst;
    size_t len, reflen = 0, n, max;
    os_xlsx_col col;
    cell c;
    int cut = 0;

    if (size < 2) {
        return 0;
    }
    kind = data[0] % NKINDS;
    oid = oids[kind];
    /* numeric(20, s): a typmod with s from 0 to 38; 39: numeric without
     * one (the number rule of avg() and the like) */
    col = os_xlsx_cell_col(oid,
                           oid == 1700 && (data[1] >> 1) % 40 != 39
                               ? (int)((20 << 16) | (data[1] >> 1) % 40) + 4
                               : -1);
    if (oid && data[1] & 1) {
        reflen = os_xlsx_cell_ref(ref, data[1] * 131 % 16384,
                                  (long)data[1] * 4099 % 1048576 + 1);
        FUZZ_CHECK(reflen >= 2 && reflen <= 10);
    }
    len = size - 2;
    /* a heap block of exactly the value's bytes, so ASan sees a read past
     * it */
    val = memcpy(malloc(len + 1), data + 2, len);
    max = OS_XLSX_CELL_MAX(len);
    dst = malloc(max);
    FUZZ_CHECK(val && dst);
    n = oid ? os_xlsx_cell(dst, &col, val, len, ref, reflen, &cut)
            : os_xlsx_cell_string(dst, val, len, ref, reflen,
                                  OS_XLSX_STYLE_HEADER, &cut);
    FUZZ_CHECK(n <= max);
    FUZZ_CHECK(parse_cell(dst, n, &c));
    FUZZ_CHECK(!reflen
               || (c.ref && c.refn == reflen && !memcmp(c.ref, ref, reflen)));
    FUZZ_CHECK(reflen || !c.ref);
    FUZZ_CHECK(style_ok(&c));
    FUZZ_CHECK(!c.type || same(c.type, c.typen, "inlineStr")
               || same(c.type, c.typen, "b"));
    if (c.text) {
        check_text(&c, (const unsigned char *)val, len, cut);
        /* a header label is bold; other texts have no style */
        FUZZ_CHECK(oid ? !c.style : c.style && same(c.style, c.stylen, "1"));
    }
    else {
        FUZZ_CHECK(oid && oid != 25 && cut == 0);
        check_value(&c, oid, val, len);
    }
    free((void *)val);
    free(dst);
    return 0;
}
