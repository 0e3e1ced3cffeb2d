# Output formats (issue 5): one <Location> read as CSV, TSV or NDJSON.
#
# NDJSON against PostgreSQL's row_to_json of the same SQL (raw bytes equal,
# and every line parsed and compared), over every type of the format's
# definition (fmt_types, created here), labels as keys, duplicate and
# unnamed columns, a chain, offset/limit; grouping (OrderStreamGroupBy)
# against the ungrouped oracle folded in Perl: groups across FETCH
# batches, NULL keys, one group, one row a group, no row, too many key
# columns (500, OS00021), a group past OrderStreamMaxGroupRows (a cut
# download, OS00022, outcome group-too-large, the connection clean after),
# the shop export as one line per order. TSV against COPY ... (FORMAT text,
# HEADER) on t/sql/edge.sql, fmt_types and the shop export; labels with a
# tab and backslashes. CSV options: OrderStreamDelimiter ; and tab against
# COPY's DELIMITER, the byte order mark once, the formula guard against
# COPY's output guarded in Perl (and literal lines), the line ending for
# CSV only. Choosing: ?format=, Accept, OrderStreamFormat(s), Vary, 400 and
# 406 (outcome rejected, no database needed), HEAD (no query run). File
# names: strftime in UTC, the extension per format, a UTF-8 name.
# Also three bugs this file found: a json value with line breaks must not
# break its NDJSON line; NDJSON of a query ending in a -- comment must work;
# Accept ties go to csv, tsv, ndjson, not to the header's order.
# The Locations are in t/conf/formats.conf.in (virtual hosts os_fmt, whose
# pool holds one connection, and os_fmt_down, whose database is
# unreachable); the shop export is conf/orderstream.conf's.
use strict;
use warnings;

use File::Spec ();
use POSIX ();
use HTTP::Date ();
use JSON::PP ();
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(body_is location_sql location_sqls copy_csv psql_value
                       lf_to_crlf conf_locations repo_conf bind_sql
                       explain_difference raw_request dechunk unique_tag
                       wait_outcome_line outcome_lines wait_outcome_url
                       error_log_size error_log_since wait_no_idle_in_transaction guarded_csv
                       grouped_lines psql_copy json_lines);

plan tests => 235;

Apache::TestRequest::module('os_fmt');

my $conf = File::Spec->catfile(Apache::Test::vars('t_conf'), 'formats.conf');
sub sql_of { return location_sql($_[0], $conf) }
sub labels_of { return conf_locations($conf)->{ $_[0] }{OrderStreamHeader} }

# --- the oracle ----------------------------------------------------------------

sub ndjson_of { return join '', map { "$_\n" } @_ }

# The top-level keys of a JSON object's text, in order (a small scanner:
# strings at depth 1 followed by a colon), as bytes like the labels.
sub top_keys {
    my ($text) = @_;
    my ($depth, @keys) = (0);
    while ($text =~ /\G(?:("(?:[^"\\]|\\.)*")(\s*:)?|([\[{])|([\]}])|[^"\[\]{}]+)/gcs) {
        if (defined $1) { push @keys, JSON::PP->new->allow_nonref->decode($1)
                              if $depth == 1 && $2 }
        elsif (defined $3) { $depth++ }
        elsif (defined $4) { $depth-- }
    }
    return \@keys;
}

my $json  = JSON::PP->new->utf8->allow_nonref->allow_bignum;
my $canon = JSON::PP->new->utf8->allow_nonref->allow_bignum->canonical;

# The lines of an NDJSON body, each parsed and written back canonically;
# undef for a line that does not parse.
sub canonical_lines {
    my ($body) = @_;
    my @lines = split /\n/, $body, -1;
    pop @lines if @lines && $lines[-1] eq '';
    return map { my $v = eval { $json->decode($_) }; $@ ? undef : $canon->encode($v) }
        @lines;
}

my $ndjson_type = 'application/x-ndjson';

# GET PATH: a 200, application/x-ndjson, whose body is byte for byte the
# oracle LINES (one test), and whose lines each parse and equal the
# oracle's parsed (another). Returns the response.
sub ndjson_is {
    my ($path, $lines, $name, @headers) = @_;
    my $res = GET $path, @headers;
    my $got = $res->content;
    my $want = ndjson_of(@$lines);
    my $ct = $res->header('Content-Type') || '';
    ok $res->code == 200 && $ct eq $ndjson_type && $got eq $want,
        "$name: the bytes of row_to_json, a line each"
        or diag "GET $path: " . $res->code . " $ct\n" . explain_difference($got, $want);
    my @g = canonical_lines($got);
    my @w = canonical_lines($want);
    my @bad = grep { !defined $g[$_] || !defined $w[$_] || $g[$_] ne $w[$_] } 0 .. $#w;
    ok @g == @w && !@bad, "$name: every line parses to the oracle's value"
        or diag scalar(@g) . ' lines, want ' . scalar(@w) . '; first bad line: '
            . (@bad ? $bad[0] : '-');
    return $res;
}

# --- the test's own tables and types (role shop owns the test database) ---------

psql_value(<<'SQL');
SET client_min_messages = warning;
DROP TABLE IF EXISTS fmt_types, fmt_guard;
DROP TYPE IF EXISTS fmt_pair;
DROP TYPE IF EXISTS fmt_mood;
DROP DOMAIN IF EXISTS fmt_text;
CREATE TYPE fmt_mood AS ENUM ('ok', 'sad "quoted"', 'ünï 🚀', '=cmd', '-minus');
CREATE TYPE fmt_pair AS (x int, label text, tags text[], m fmt_mood, at timestamptz);
CREATE DOMAIN fmt_text AS text;
CREATE TABLE fmt_types (
    id int PRIMARY KEY, note text,
    i2 int2, i4 int4, i8 int8, n numeric, f4 real, f8 double precision,
    b boolean, j json, jb jsonb, ia int[], ta text[], ia2 int[],
    ts timestamp, tz timestamptz, d date, tm time, ttz timetz, iv interval,
    u uuid, by bytea, t text, vc varchar(12), bp char(4), ch "char", nm name,
    mood fmt_mood, pair fmt_pair, moods fmt_mood[], pairs fmt_pair[],
    x xml, mo money, ip inet, pt point, rg int4range, dom fmt_text, oi oid);
INSERT INTO fmt_types VALUES
 (1, 'ordinary', 1, 2, 3, 4.50, 1.5, 0.1, true,
  '{"a": [1, {"b": null}], "c": "\u00fc", "dup": 1, "dup": 2}',
  '{"z": 1, "a": {"nested": [true, false, null, 1e2, "x"]}}',
  '{1,2,3}', ARRAY['a', NULL, 'say "hi"', E'back\\slash', '', 'NULL', 'comma,x', '{brace}', ' sp '],
  '{{1,2},{3,NULL}}', '2024-02-29 23:59:59.999999', '2024-02-29 23:59:59.5+05:30',
  '2024-02-29', '24:00:00', '12:34:56.789+05:45', '1 year 2 mons 3 days 04:05:06.7',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x00ff2c22', 'hello', 'varchar', 'ab', 'c', 'name',
  'ok', ROW(1, 'lbl "q"', ARRAY['x', NULL], 'sad "quoted"', '2000-01-01 00:00+00'),
  ARRAY['ok', 'ünï 🚀']::fmt_mood[], ARRAY[ROW(2, 'a', NULL, NULL, NULL)::fmt_pair, NULL],
  '<a b="1">t&amp;</a>', 12.34, '192.168.0.1/24', '(1.5,-2)', '[1,5)', 'domain', 42),
 (2, 'minimums, NaN, empties', -32768, -2147483648, -9223372036854775808, 'NaN', 'NaN', 'NaN', false,
  '"string"', 'null', '{}', '{}', '{{{1}},{{2}}}', 'infinity', '-infinity', '0001-01-01 BC',
  '00:00', '00:00:00-12', '-1 day', '00000000-0000-0000-0000-000000000000', '', '', '', '', 'x', '',
  '-minus', ROW(NULL, NULL, NULL, NULL, NULL), '{}', '{}', '', -1, '::1', '(0,0)', 'empty', '', 0),
 (3, 'maximums, infinities', 32767, 2147483647, 9223372036854775807, 'Infinity', 'Infinity', '-Infinity', NULL,
  '123.0', '[1, "two", {"three": 3.0}, [], {}]', '{-1}', '{"",NULL}', NULL, '-infinity', 'infinity', 'infinity',
  NULL, NULL, '-178000000 years', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  'ünï 🚀', ROW(-1, '', '{}', 'ünï 🚀', 'infinity'), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 4294967295),
 (4, 'minus zero, -Infinity', 0, 0, 0, '-Infinity', '-0', '-0', NULL,
  '{}', '{}', NULL, NULL, NULL, '1999-12-31 23:59:59', '1999-12-31 23:59:59+00', '2000-01-01',
  '12:00', NULL, '0', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, 'huge numbers', NULL, NULL, NULL, (repeat('9', 300) || '.' || repeat('0', 20) || '1')::numeric,
  3.4028235e38, 1.7976931348623157e308, NULL, '[1e400, -0, 0.10]', '[1e400, -0, 0.10]',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (6, 'tiny numbers', NULL, NULL, NULL, 0.000000000000000000000000000001, 1.4e-45, 5e-324, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (7, 'every control character', NULL, NULL, NULL, -0.000, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  (SELECT string_agg(chr(g), '' ORDER BY g) FROM generate_series(1, 31) AS g) || chr(127),
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  (SELECT string_agg(chr(g), '' ORDER BY g) FROM generate_series(1, 31) AS g), NULL),
 (8, 'quotes, backslashes, UTF-8', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, '{"k\"ey": "v\\al\u0001", "ü": "🚀"}', NULL,
  ARRAY[E'\\', '"', E'\n', '🚀', E'\t{,}'], NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  E'"quoted" \\ back\\\\slash / slash \u2028 \ufeff Grüße 東京 🚀 \U0001F600 '' end',
  'ü"\', 'ü', NULL, NULL,
  'sad "quoted"', ROW(0, E'a\nb\\"c', ARRAY[E'\\"'], NULL, NULL), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (9, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE TABLE fmt_guard (
    id int PRIMARY KEY, "=t" text, vc varchar(20), bp char(6), nm name, ch "char",
    j json, jb jsonb, mood fmt_mood, dom fmt_text, "-n" numeric, i int, f float8,
    d date, ts timestamp, iv interval, b boolean, ta text[]);
INSERT INTO fmt_guard VALUES
 (1, '=1+2', '+49 30 1234', '-ab', '@nm', '-', '-1', '-2', '=cmd', '=dom',
  -5, -7, '-Infinity', '-infinity', '-infinity', '-1 day', true, '{-1,=2}'),
 (2, '+SUM(A1)', '@user', '=b', '=nm', '=', '"=x"', '"-s"', '-minus', '+dom',
  5, 7, -0.5, '2024-01-02', '2024-01-02 03:04:05', '1 day', false, '{}'),
 (3, E'\tTab', E'\tvc', E'\tbp', E'\tnm', E'\t', '{"k": "=v"}', '{"k": "=v"}', 'ok', E'\tdom',
  -0.0, 0, 0, NULL, NULL, NULL, NULL, NULL),
 (4, E'\rCR', E'\r\nvc', E'\rbp', 'nm', '@', '[-1]', '[-1]', NULL, E'\r',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (5, '=a,b', '-say "hi"', '=x;y', '-a,b', '+', '"a,b"', '"a,b"', 'sad "quoted"', '=a;b',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (6, '', '', '', '', ' ', NULL, NULL, NULL, '',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (7, ' =space', '1=1', '==', 'plain', 'a', '2', '3', 'ünï 🚀', 'x=1',
  1, 1, 1, '2024-01-02', NULL, NULL, NULL, NULL),
 (8, E'=\nnl', '-', '@', '+', '-', NULL, NULL, NULL, E'-\n',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (9, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (10, '@', '+', '-', '=', '@', '"@"', '"+"', NULL, '-',
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SQL
END {
    eval { psql_value('SET client_min_messages = warning; '
                      . 'DROP TABLE IF EXISTS fmt_types, fmt_guard; '
                      . 'DROP TYPE IF EXISTS fmt_pair; DROP TYPE IF EXISTS fmt_mood; '
                      . 'DROP DOMAIN IF EXISTS fmt_text') };
}

# --- 1. NDJSON against row_to_json ----------------------------------------------

{
    my $sql = sql_of('/fmt/types');
    my @lines = json_lines($sql);
    is scalar(@lines), 9, 'fmt_types: the oracle has 9 rows';
    ndjson_is '/fmt/types?format=ndjson', \@lines, 'every type, ?format=ndjson';
    ndjson_is '/fmt/types', \@lines, 'every type, Accept: application/x-ndjson',
        Accept => $ndjson_type;
    ndjson_is '/fmt/types?format=ndjson&offset=3&limit=4', [@lines[3 .. 6]],
        'every type, offset=3&limit=4';
    ndjson_is '/fmt/types?format=ndjson&offset=8', [$lines[8]], 'every type, offset=8';
    ndjson_is '/fmt/types?format=ndjson&limit=0', [], 'every type, limit=0: empty';

    # What the oracle holds, so that a broken oracle cannot pass quietly.
    my %by_id = map { $json->decode($_)->{id} => $json->decode($_) } @lines;
    my $r1 = $by_id{1};
    ok ref $r1->{pair} eq 'HASH' && $r1->{pair}{label} eq 'lbl "q"'
        && !defined $r1->{pair}{tags}[1] && ref $r1->{jb}{a}{nested} eq 'ARRAY'
        && ref $r1->{ia2}[1] eq 'ARRAY',
        'the oracle: a composite is an object, json nested, arrays nested';
    ok $by_id{2}{n} eq 'NaN' && $by_id{2}{f8} eq 'NaN' && $by_id{3}{n} eq 'Infinity'
        && $by_id{3}{f8} eq '-Infinity' && $by_id{4}{n} eq '-Infinity',
        'the oracle: NaN and the infinities are strings';
    like $lines[3], qr/"f4":-0,"f8":-0,/, 'the oracle: -0 stays -0';
    like $lines[4], qr/"n":9{300}\.0{20}1,/, 'the oracle: a 321-digit numeric as a number';
    like $lines[6], qr/"t":"\\u0001\\u0002.*\\u001f\x7f"/,
        'the oracle: every control character escaped, DEL as it is';
    like $lines[7], qr/\xe2\x80\xa8 \xef\xbb\xbf Grüße 東京 \xf0\x9f\x9a\x80 \xf0\x9f\x98\x80 ' end"/,
        'the oracle: UTF-8, emoji, U+2028 and a BOM inside as they are';
    ok !defined $by_id{9}{note} && !defined $by_id{9}{pair},
        'the oracle: NULLs are null';
}

{
    my $sql = sql_of('/fmt/dupnames');
    my @lines = json_lines($sql);
    my $res = ndjson_is '/fmt/dupnames', \@lines, 'duplicate and unnamed columns';
    my ($first) = split /\n/, $res->content;
    is_deeply top_keys($first || ''), ['a', 'a', '?column?', 'b'],
        'duplicate and unnamed columns: the keys in order, twice "a"';
}

# Labels as keys: JSON-escaped as PostgreSQL escapes them. Oracle: the
# rows under placeholder names, then the placeholders replaced by the
# labels' JSON strings (an empty label cannot be an SQL alias).
{
    my $sql = sql_of('/fmt/ndkeys');
    my $labels = labels_of('/fmt/ndkeys');
    is_deeply $labels, ['Id', 'Say "hi"', 'Größe 🚀 \u00e9', '', 'Id'],
        'ndkeys: the labels as httpd reads them';
    my @keys = ('"Id"', '"Say \"hi\""', '"Größe 🚀 \\\\u00e9"', '""', '"Id"');
    my @ph = map { "__key${_}__" } 0 .. 4;
    my @lines = map {
        my $l = $_;
        $l =~ s/"__key(\d)__":/$keys[$1]:/g;
        $l
    } json_lines($sql, @ph);
    like $lines[0], qr/\A\{"Id":1,"Say \\"hi\\"":"plain","Größe 🚀 \\\\u00e9":"hello","":null,"Id":2\}\z/,
        'ndkeys: the first oracle line, literally';
    my $res = ndjson_is '/fmt/ndkeys', \@lines, 'labels as keys';
    my ($first) = split /\n/, $res->content;
    is_deeply top_keys($first || ''), $labels, 'labels as keys: all five, in order';
}

# Labels with a tab, backslashes, a quote: the keys of NDJSON (oracle:
# row_to_json under those names), the header of TSV.
{
    my $sql = sql_of('/fmt/tsvlabels');
    my $labels = labels_of('/fmt/tsvlabels');
    is_deeply $labels, ["Tab\there", 'C:\dir\N', 'Say "hi"'],
        'tsvlabels: a real tab in the first label';
    ndjson_is '/fmt/tsvlabels?format=ndjson', [json_lines($sql, @$labels)],
        'labels with a tab and backslashes as keys';
    my $head = "Tab\\there\tC:\\\\dir\\\\N\tSay \"hi\"\n";
    body_is '/fmt/tsvlabels', $head . psql_copy($sql, 'FORMAT text'),
        'TSV: labels with a tab and backslashes escaped as COPY escapes, then COPY';
}

# A chain: every query wrapped on its own (its own types), the keys the
# first query's names.
{
    my @q = location_sqls('/fmt/chain', $conf);
    is scalar(@q), 3, 'chain: three queries';
    my @names = qw(id label amount);
    my @lines = map { json_lines($_, @names) } @q;
    is scalar(@lines), 19 + 3 + 6, 'chain oracle: 19 + 3 + 6 rows';
    like $lines[19], qr/\A\{"id":1,"label":10,"amount":false\}\z/,
        'chain oracle: the second query keeps its own types under the first\'s names';
    ndjson_is '/fmt/chain', \@lines, 'a chain as NDJSON';
    ndjson_is '/fmt/chain?offset=17&limit=5', [@lines[17 .. 21]],
        'a chain, offset=17&limit=5: rows across the three queries';
    body_is '/fmt/chain?format=tsv',
        "id\tlabel\tamount\n" . join('', map { psql_copy($_, 'FORMAT text') } @q),
        'the same chain as TSV: COPY of each query in turn';
}

# A json value with line breaks (whitespace between its tokens): NDJSON is
# one object per line, so they cannot go out as they are.
{
    my $sql = sql_of('/fmt/jsonlines');
    my ($oracle) = json_lines($sql);
    my $res = GET '/fmt/jsonlines';
    my $body = $res->content;
    is(($body =~ tr/\n//), 1, 'json with line breaks: still one line')
        or diag explain_difference($body, '');
    my @g = canonical_lines($body);
    ok @g == 1 && defined $g[0] && $g[0] eq $canon->encode($json->decode($oracle)),
        'json with line breaks: the line parses to the oracle\'s value';
}

# A query that ends in a line comment: wrapped for NDJSON as it stood, the
# comment would swallow the wrapper's closing parenthesis.
{
    body_is '/fmt/comment?format=csv', "n,d\r\n1,2024-01-02\r\n2,2024-01-03\r\n3,2024-01-04\r\n",
        'a query ending in a line comment, as CSV';
    body_is '/fmt/comment', qq{{"n":1,"d":"2024-01-02"}\n{"n":2,"d":"2024-01-03"}\n}
        . qq{{"n":3,"d":"2024-01-04"}\n}, 'a query ending in a line comment, as NDJSON';
}

# --- 2. grouping ------------------------------------------------------------------

{
    my $sql = sql_of('/fmt/grouped');
    my @rows = json_lines($sql);
    is scalar(@rows), 16, 'grouped: 16 rows';
    my @want = grouped_lines(\@rows, '"v"', '"rows"');
    is scalar(@want), 7, 'grouped oracle: 7 groups (a key coming back is a new one)';
    is $want[2], '{"k":null,"name":null,"rows":[{"v":1,"w":"n1"},{"v":2,"w":"n2"}]}',
        'grouped oracle: NULL keys fold together';
    ndjson_is '/fmt/grouped', \@want, 'groups across batches of 3, NULL keys';
    ndjson_is '/fmt/grouped?offset=2&limit=9', [grouped_lines([@rows[2 .. 10]], '"v"', '"rows"')],
        'grouped, offset=2&limit=9: rows are counted, not lines';
    ndjson_is '/fmt/grouped?limit=1', [grouped_lines([$rows[0]], '"v"', '"rows"')],
        'grouped, limit=1: one group of one row';
    body_is '/fmt/grouped?format=csv', lf_to_crlf(copy_csv($sql)),
        'grouped Location as CSV: grouping ignored, COPY';
    body_is '/fmt/grouped?format=tsv', psql_copy($sql, 'FORMAT text, HEADER'),
        'grouped Location as TSV: grouping ignored, COPY';
}

{
    my @rows = json_lines(sql_of('/fmt/gsingle'));
    my @want = grouped_lines(\@rows, '"v"', '"items"');
    is scalar(@want), 1, 'gsingle oracle: one group';
    ndjson_is '/fmt/gsingle', \@want, 'a single group of 7 rows in batches of 3';

    @rows = json_lines(sql_of('/fmt/geach'));
    @want = grouped_lines(\@rows, '"sq"', '"items"');
    is $want[4], '{"k":5,"items":[{"sq":25}]}', 'geach oracle: one group a row';
    ndjson_is '/fmt/geach', \@want, 'every row its own group';

    my $res = GET '/fmt/gempty';
    ok $res->code == 200 && $res->content eq ''
        && ($res->header('Content-Type') || '') eq $ndjson_type,
        'no row: 200, an empty NDJSON body';
    body_is '/fmt/gempty?format=csv', "k,v\r\n", 'no row, as CSV: the header';

    my $psql = sql_of('/fmt/gparent');
    @rows = json_lines($psql);
    ndjson_is '/fmt/gparent', [grouped_lines(\@rows, '"v"', '"items"')],
        'gparent: grouped by k';
    ndjson_is '/fmt/gparent/flat', \@rows, 'OrderStreamGroupBy off: the inherited grouping undone';
}

# Too many key columns: 500 before any byte, OS00021 naming the directive.
for my $case (['/fmt/gwide', 3], ['/fmt/gwider', 5]) {
    my ($path, $n) = @$case;
    my $log0 = error_log_size();
    my $res = GET $path;
    my $ct = $res->header('Content-Type') || '';
    ok $res->code == 500 && $ct ne $ndjson_type && $res->content !~ /^\{"a"/m,
        "$path (GroupBy $n, 3 columns): 500, no NDJSON";
    my @errors = grep { /\[orderstream:error\]/ && /\bOS00021: / && m{\Q$path\E\b}
                        && /OrderStreamGroupBy/ }
        split /(?<=\n)/, error_log_since($log0);
    ok @errors, "$path: OS00021 naming OrderStreamGroupBy"
        or diag error_log_since($log0);
}
body_is '/fmt/gwide?format=csv', copy_csv(sql_of('/fmt/gwide')) =~ s/\n/\r\n/gr,
    'the same Location as CSV: 200, grouping ignored';
{
    my $r = raw_request(HEAD => '/fmt/gwide', module => 'os_fmt');
    ok $r->{status} == 200 && $r->{body} eq ''
        && ($r->{headers}{'content-type'} || '') eq $ndjson_type,
        'HEAD of that Location: 200, the NDJSON headers (no query run)';
}

# A group past OrderStreamMaxGroupRows: the download is cut.
{
    my @rows = json_lines(sql_of('/fmt/gmax'));
    my ($first) = grouped_lines(\@rows, '"v"', '"items"');
    is $first, '{"k":1,"items":[{"v":1},{"v":2},{"v":3},{"v":4},{"v":5}]}',
        'gmax oracle: the first group, of exactly 5 rows';
    my $tag = unique_tag('fmt-gmax');
    my $log0 = error_log_size();
    my $r = raw_request(GET => "/fmt/gmax", tag => $tag, module => 'os_fmt', timeout => 20);
    my ($data, $complete) = dechunk($r->{body});
    is $r->{status}, 200, 'group too large: the response had started (200)';
    ok !$complete && $r->{closed}, 'group too large: no last chunk, connection closed';
    ok index($data, "$first\n") == 0 && ($data =~ tr/\n//) == 1
        && index($data, '{"k":2,"items":[{"v":6}') == length($first) + 1
        && $data !~ /"v":11\b/,
        'group too large: the group of 5 whole, the next one unfinished'
        or diag explain_difference($data, "$first\n");
    my $l = wait_outcome_line($tag) || {};
    is $l->{outcome}, 'group-too-large', 'group too large: outcome group-too-large'
        or diag 'log line: ' . ($l->{line} || 'none');
    my @errors = grep { /\[orderstream:error\]/ && /\bOS00022: / && m{/fmt/gmax\b}
                        && /OrderStreamMaxGroupRows 5\b/ }
        split /(?<=\n)/, error_log_since($log0);
    ok @errors, 'group too large: OS00022 naming OrderStreamMaxGroupRows 5'
        or diag error_log_since($log0);
    is wait_no_idle_in_transaction(3), 0,
        'group too large: no connection left idle in transaction';
    ndjson_is '/fmt/geach', [grouped_lines([json_lines(sql_of('/fmt/geach'))], '"sq"', '"items"')],
        'group too large: the next export on the one connection is right';
    body_is '/fmt/gmax?format=csv', copy_csv(sql_of('/fmt/gmax')),
        'the same Location as CSV: whole (no group limit)';
}

# --- 3. TSV against COPY (FORMAT text) --------------------------------------------

{
    my $sql = sql_of('/fmt/edge');
    my $tsv = psql_copy($sql, 'FORMAT text, HEADER');
    like $tsv, qr/\tline1\\r\\nline2\t/, 'edge oracle: CR LF escaped';
    like $tsv, qr/\tC:\\\\path\\\\N\t/, 'edge oracle: backslashes doubled';
    body_is '/fmt/edge?format=tsv', $tsv,
        'edge_cases as TSV: COPY (FORMAT text, HEADER), LF although the Location says CRLF';
    body_is '/fmt/edge', lf_to_crlf(copy_csv($sql)),
        'edge_cases as CSV (the default): CRLF';
    ndjson_is '/fmt/edge?format=ndjson', [json_lines($sql)],
        'edge_cases as NDJSON: LF';
    body_is '/fmt/edge?format=tsv&offset=10&limit=5',
        (split /(?<=\n)/, $tsv)[0] . psql_copy("$sql OFFSET 10 LIMIT 5", 'FORMAT text'),
        'edge_cases as TSV, offset=10&limit=5';

    my $nsql = sql_of('/fmt/noheader');
    body_is '/fmt/noheader?format=tsv', psql_copy($nsql, 'FORMAT text'),
        'OrderStreamHeader off, TSV: COPY without the header';
    body_is '/fmt/noheader', copy_csv($nsql, header => 0),
        'OrderStreamHeader off, CSV: COPY without the header';
    ndjson_is '/fmt/noheader?format=ndjson', [json_lines($nsql)],
        'OrderStreamHeader off, NDJSON: the keys still the column names';

    my $tsql = sql_of('/fmt/types');
    body_is '/fmt/types?format=tsv', psql_copy($tsql, 'FORMAT text, HEADER'),
        'every type as TSV: COPY (FORMAT text, HEADER)';
    body_is '/fmt/types', psql_copy($tsql, 'FORMAT csv, HEADER'),
        'every type as CSV: COPY (FORMAT csv, HEADER)';
}

# --- 4. CSV options ---------------------------------------------------------------

{
    my $sql = sql_of('/fmt/semicolon');
    my $semi = psql_copy($sql, "FORMAT csv, HEADER, DELIMITER ';'");
    like $semi, qr/;"a;b\|c";/, 'semicolon oracle: a semicolon quoted';
    like $semi, qr/;a,b;/, 'semicolon oracle: a comma not quoted';
    body_is '/fmt/semicolon', $semi, "OrderStreamDelimiter ;: COPY (DELIMITER ';')";
    my $tab = psql_copy(sql_of('/fmt/dtab'), "FORMAT csv, HEADER, DELIMITER E'\\t'");
    like $tab, qr/\t"a\tb"\t/, 'tab oracle: a tab quoted';
    body_is '/fmt/dtab', $tab, "OrderStreamDelimiter tab: COPY (DELIMITER E'\\t')";
    body_is '/fmt/dbackslash', $tab, 'OrderStreamDelimiter \t: the same';
    body_is '/fmt/semicolon?format=tsv', psql_copy($sql, 'FORMAT text, HEADER'),
        'the semicolon Location as TSV: COPY text, the delimiter a tab';
}

# The byte order mark: once, before the header, in CSV only.
{
    my $sql = sql_of('/fmt/bom');
    my $bom = "\xEF\xBB\xBF";
    my $csv = copy_csv($sql);
    my $res = body_is '/fmt/bom', $bom . $csv, 'BOM: EF BB BF, then COPY (batches of 1)';
    is index($res->content, $bom, 1), -1, 'BOM: exactly once';
    my ($head) = $csv =~ /\A([^\n]*\n)/;
    body_is '/fmt/bom?limit=0', $bom . $head, 'BOM, limit=0: the mark and the header';
    body_is '/fmt/bom?offset=3&limit=2', $bom . $head . copy_csv("$sql OFFSET 3 LIMIT 2", header => 0),
        'BOM, offset=3&limit=2: one mark';
    body_is '/fmt/bom?format=tsv', psql_copy($sql, 'FORMAT text, HEADER'), 'BOM: none in TSV';
    ndjson_is '/fmt/bom?format=ndjson', [json_lines($sql)], 'BOM: none in NDJSON';
    $res = GET '/fmt/bom', Accept => 'text/tab-separated-values';
    ok $res->code == 200 && substr($res->content, 0, 3) ne $bom
        && $res->content =~ /\Aid\tt\n/, 'BOM: none in TSV chosen by Accept';
}

{
    my $sql = sql_of('/fmt/guard');
    # id "=t" vc bp nm ch j jb mood dom | "-n" i f d ts iv b ta
    my %guarded = map { $_ => 1 } 1 .. 9;
    my $copy = psql_copy($sql, 'FORMAT csv, HEADER');
    my $want = guarded_csv($copy, ',', %guarded);
    like $want, qr/\Aid,=t,vc,bp,nm,ch,j,jb,mood,dom,-n,i,f,d,ts,iv,b,ta\n1,/,
        'guard: the header as COPY writes it, not guarded';
    my $row1 = "\n1,'=1+2,'+49 30 1234,'-ab   ,'\@nm,'-,'-1,'-2,'=cmd,'=dom,"
        . "-5,-7,-Infinity,-infinity,-infinity,-1 days,t,\"{-1,=2}\"\n2,";
    ok index($want, $row1) > 0,
        'guard oracle, row 1: text-like guarded; numbers, dates, intervals, arrays not';
    my $row5 = qq{\n5,"'=a,b","'-say ""hi""",'=x;y  ,"'-a,b",'+,"""a,b""","""a,b""",}
        . qq{"sad ""quoted""",'=a;b,,,,,,,,\n6,};
    ok index($want, $row5) > 0, 'guard oracle, row 5: the \' inside the quotes';
    like $want, qr/\n4,"'\rCR","'\r\nvc","'\rbp   ",nm,'\@,\[-1\],\[-1\],,"'\r",/,
        'guard oracle, row 4: CR first, quoted and guarded';
    like $want, qr/\n9,,,,,,,,,,,,,,,,,\n/, 'guard oracle: NULL stays empty';
    body_is '/fmt/guard', $want, 'OrderStreamFormulaGuard on: COPY with the guard applied';
    body_is '/fmt/guardsemi',
        lf_to_crlf(guarded_csv(psql_copy($sql, "FORMAT csv, HEADER, DELIMITER ';'"), ';', %guarded)),
        'the guard with ; and CRLF: COPY (DELIMITER \';\') guarded';
    body_is '/fmt/guard?format=tsv', psql_copy($sql, 'FORMAT text, HEADER'),
        'the guard is for CSV: TSV is COPY as it is';
    ndjson_is '/fmt/guard?format=ndjson', [json_lines($sql)],
        'the guard is for CSV: NDJSON is row_to_json as it is';
}

# --- 5. choosing the format ---------------------------------------------------------

my %small = (
    csv    => "n,s\r\n1,x1\r\n2,x2\r\n3,x3\r\n",
    tsv    => "n\ts\n1\tx1\n2\tx2\n3\tx3\n",
    ndjson => qq{{"n":1,"s":"x1"}\n{"n":2,"s":"x2"}\n{"n":3,"s":"x3"}\n},
);
my %ctype = (csv => 'text/csv; charset=utf-8',
             tsv => 'text/tab-separated-values; charset=utf-8',
             ndjson => $ndjson_type);
{
    my $sql = sql_of('/fmt/choose-all');
    is lf_to_crlf(copy_csv($sql)), $small{csv}, 'choose oracle: CSV';
    is psql_copy($sql, 'FORMAT text, HEADER'), $small{tsv}, 'choose oracle: TSV';
    is ndjson_of(json_lines($sql)), $small{ndjson}, 'choose oracle: NDJSON';
}

# GET PATH (with Accept: ACCEPT unless undef): 200, FMT's Content-Type and
# body, Vary: Accept unless novary.
sub chosen {
    my ($path, $accept, $fmt, $name, %o) = @_;
    my $res = defined $accept ? GET($path, Accept => $accept) : GET($path);
    my @bad;
    push @bad, 'status ' . $res->code unless $res->code == 200;
    my $ct = $res->header('Content-Type') || '';
    push @bad, "Content-Type $ct" unless $ct eq $ctype{$fmt};
    push @bad, 'body: ' . explain_difference($res->content, $small{$fmt})
        unless $res->content eq $small{$fmt};
    my $vary = $res->header('Vary');
    if ($o{novary}) { push @bad, "Vary: $vary" if defined $vary }
    else { push @bad, 'no Vary: Accept' unless ($vary || '') =~ /(?:^|,)\s*Accept\s*(?:,|$)/i }
    ok !@bad, $name or diag "GET $path" . (defined $accept ? " (Accept: $accept)" : '')
        . ': ' . join(', ', @bad);
}

# A refusal: STATUS, text/plain; charset=utf-8, BODY (one line), Vary as
# for chosen(); outcome rejected, OS00019 at info, nothing at error level.
my $n_refused = 0;
sub refused {
    my ($path, $query, $accept, $status, $body, $name, %o) = @_;
    my $tag = unique_tag('fmt-refused-' . ++$n_refused);
    my $url = $path . (length $query ? "?$query" : '');
    Apache::TestRequest::module($o{module}) if $o{module};
    my $log0 = error_log_size();
    my $skip = scalar @{ outcome_lines() };
    my $res = GET($url, 'X-Test-Tag' => $tag,
                  defined $accept ? (Accept => $accept) : ());
    Apache::TestRequest::module('os_fmt') if $o{module};
    my @bad;
    push @bad, 'status ' . $res->code unless $res->code == $status;
    my $ct = $res->header('Content-Type') || '';
    push @bad, "Content-Type $ct" unless $ct eq 'text/plain; charset=utf-8';
    push @bad, 'body ' . $res->content unless $res->content eq "$body\n";
    push @bad, 'Content-Disposition' if defined $res->header('Content-Disposition');
    if ($status == 406) {
        my $vary = $res->header('Vary');
        if ($o{novary}) { push @bad, "Vary: $vary" if defined $vary }
        else { push @bad, 'no Vary: Accept' unless ($vary || '') =~ /\bAccept\b/ }
    }
    ok !@bad, "$name: $status, $body" or diag "GET $url: " . join(', ', @bad);
    my $l = wait_outcome_line($tag) || {};
    my $log = error_log_since($log0);
    my @errors = grep { /:(?:error|crit|alert|emerg)\]/ } split /(?<=\n)/, $log;
    ok(($l->{outcome} // '-') eq 'rejected' && $log =~ /\[orderstream:info\].*\bOS00019: \Q$path\E: $status: /
       && !@errors, "$name: outcome rejected, OS00019 at info, no error")
        or diag 'log line: ' . ($l->{line} || 'none') . "\n$log";
}

my $browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,'
    . 'image/avif,image/webp,image/apng,*/*;q=0.8';

chosen '/fmt/choose-all', undef, 'csv', 'no Accept, no ?format=: the default, CSV';
chosen '/fmt/choose-all?format=csv', undef, 'csv', '?format=csv';
chosen '/fmt/choose-all?format=tsv', undef, 'tsv', '?format=tsv';
chosen '/fmt/choose-all?format=ndjson', undef, 'ndjson', '?format=ndjson';
chosen '/fmt/choose-all?format=NDJSON', undef, 'ndjson', '?format=NDJSON: any case';
chosen '/fmt/choose-all?format=%74sv', undef, 'tsv', '?format=%74sv: URL-decoded';
chosen '/fmt/choose-all?format=', undef, 'csv', '?format= (empty): the default';
chosen '/fmt/choose-all?format=tsv', $ndjson_type, 'tsv', '?format= wins over Accept';
chosen '/fmt/choose-all', 'text/tab-separated-values', 'tsv', 'Accept: TSV';
chosen '/fmt/choose-all', $ndjson_type, 'ndjson', 'Accept: NDJSON';
chosen '/fmt/choose-all', 'Application/X-NDJSON; charset=utf-8', 'ndjson',
    'Accept: NDJSON in capitals, with a parameter';
chosen '/fmt/choose-all', 'text/csv; header=present', 'csv', 'Accept: text/csv with a parameter';
chosen '/fmt/choose-all', "text/csv;q=0.5, $ndjson_type;q=0.9", 'ndjson',
    'Accept: the highest q wins (NDJSON 0.9 over CSV 0.5)';
chosen '/fmt/choose-all', "text/tab-separated-values;q=0.9, text/csv;q=0.2", 'tsv',
    'Accept: the highest q wins (TSV 0.9 over CSV 0.2)';
chosen '/fmt/choose-all', "$ndjson_type;q=0, text/csv;q=0.1", 'csv',
    'Accept: q=0 is not acceptable, CSV at 0.1 is';
chosen '/fmt/choose-all', 'image/png, */*;q=0.1', 'csv', 'Accept: */* at 0.1: the default';
chosen '/fmt/choose-all', '*/*', 'csv', 'Accept: */*: the default';
chosen '/fmt/choose-all', 'text/*', 'csv', 'Accept: text/*: the default (CSV)';
chosen '/fmt/choose-all', $browser, 'csv', 'a browser\'s Accept: the default';
{
    my $r = raw_request(GET => '/fmt/choose-all', module => 'os_fmt',
                        extra_headers => "Accept: \r\n");
    my ($data) = dechunk($r->{body});
    ok $r->{status} == 200 && $data eq $small{csv}, 'an empty Accept: the default';
}
chosen '/fmt/choose-all', "$ndjson_type, text/csv", 'csv',
    'Accept: NDJSON and CSV at q=1: CSV (ties: the default, then csv, tsv, ndjson)';
# RFC 9110 12.5.1: a range accepts every allowed format it covers; the most
# specific element decides a format's q; a q=0 by name stays a refusal.
chosen '/fmt/choose-all', 'text/csv;q=0, */*', 'tsv',
    'Accept: CSV refused by name, */*: TSV';
chosen '/fmt/choose-all', 'application/*', 'ndjson', 'Accept: application/*: NDJSON';
chosen '/fmt/choose-all', "text/*;q=0, $ndjson_type;q=0.1", 'ndjson',
    'Accept: text/* refused, NDJSON at 0.1';
chosen '/fmt/choose-all', "$ndjson_type, */*", 'ndjson',
    'Accept: NDJSON named at q=1 beats */* at q=1';
# q by the RFC's grammar; an element that does not parse is ignored.
chosen '/fmt/choose-all', "text/csv;q=0x1p-1, $ndjson_type;q=0.1", 'ndjson',
    'Accept: a hex float q is not a qvalue: that element is ignored';
chosen '/fmt/choose-all', "text/csv;q=NaN, $ndjson_type;q=0.1", 'ndjson',
    'Accept: q=NaN is ignored';
chosen '/fmt/choose-all', "text/csv;q=0.5000, $ndjson_type;q=0.001", 'ndjson',
    'Accept: four decimals is not a qvalue';
chosen '/fmt/choose-all', "text/csv;q=1.5, $ndjson_type;q=0.001", 'ndjson',
    'Accept: q above 1 is ignored';
chosen '/fmt/choose-all', 'text/csv;q=abc', 'csv',
    'Accept: nothing valid: as if absent, the default';
chosen '/fmt/choose-all', "$ndjson_type;q=0.8, text/tab-separated-values;q=0.8", 'tsv',
    'Accept: NDJSON and TSV at q=0.8: TSV';

refused '/fmt/choose-all', '', 'application/json', 406,
    'Accept: none of the formats of this export (csv, tsv, ndjson, xlsx) is acceptable; or ask with ?format=',
    'Accept: application/json only';
refused '/fmt/choose-all', '', "$ndjson_type;q=0", 406,
    'Accept: none of the formats of this export (csv, tsv, ndjson, xlsx) is acceptable; or ask with ?format=',
    'Accept: NDJSON with q=0 only';
refused '/fmt/choose-all', '', '*/*;q=0', 406,
    'Accept: none of the formats of this export (csv, tsv, ndjson, xlsx) is acceptable; or ask with ?format=',
    'Accept: */*;q=0';
refused '/fmt/choose-all', '', 'text/csv;q=0, text/*;q=0, application/*;q=0', 406,
    'Accept: none of the formats of this export (csv, tsv, ndjson, xlsx) is acceptable; or ask with ?format=',
    'Accept: every format refused';
refused '/fmt/choose-all', 'format=xml', undef, 400,
    'format: expected one of csv, tsv, ndjson, xlsx, got "xml"', '?format=xml';
refused '/fmt/choose-all', 'format=json', $ndjson_type, 400,
    'format: expected one of csv, tsv, ndjson, xlsx, got "json"', '?format=json, whatever Accept says';
refused '/fmt/choose-all', 'format=csv&format=csv', undef, 400,
    'format: given more than once', '?format= twice';

# csv and ndjson only
chosen '/fmt/choose-cn', undef, 'csv', 'csv and ndjson: no Accept, CSV';
chosen '/fmt/choose-cn', $ndjson_type, 'ndjson', 'csv and ndjson: Accept NDJSON';
chosen '/fmt/choose-cn', 'text/tab-separated-values, */*;q=0.1', 'csv',
    'csv and ndjson: TSV asked, */* too: the default';
chosen '/fmt/choose-cn?format=ndjson', undef, 'ndjson', 'csv and ndjson: ?format=ndjson';
refused '/fmt/choose-cn', '', 'text/tab-separated-values', 406,
    'Accept: none of the formats of this export (csv, ndjson) is acceptable; or ask with ?format=',
    'csv and ndjson: Accept TSV only';
refused '/fmt/choose-cn', 'format=tsv', undef, 400,
    'format: expected one of csv, ndjson, got "tsv"', 'csv and ndjson: ?format=tsv';

# default ndjson
chosen '/fmt/choose-nd', undef, 'ndjson', 'OrderStreamFormat ndjson: no Accept, NDJSON';
chosen '/fmt/choose-nd', '*/*', 'ndjson', 'OrderStreamFormat ndjson: */*';
chosen '/fmt/choose-nd', 'application/*', 'ndjson', 'OrderStreamFormat ndjson: application/*';
chosen '/fmt/choose-nd', 'text/csv', 'csv', 'OrderStreamFormat ndjson: Accept CSV';
chosen '/fmt/choose-nd?format=csv', undef, 'csv', 'OrderStreamFormat ndjson: ?format=csv';
chosen '/fmt/choose-nd', 'text/*', 'csv',
    'OrderStreamFormat ndjson: text/* accepts CSV and TSV: CSV';
chosen '/fmt/choose-nd', 'text/*;q=0.5, application/*;q=0.5', 'ndjson',
    'OrderStreamFormat ndjson: every format at 0.5: NDJSON, the default';

# tsv only: one format, no Vary
chosen '/fmt/choose-tsv', undef, 'tsv', 'OrderStreamFormats tsv: TSV, no Vary', novary => 1;
chosen '/fmt/choose-tsv', '*/*', 'tsv', 'OrderStreamFormats tsv: */*', novary => 1;
chosen '/fmt/choose-tsv?format=TSV', undef, 'tsv', 'OrderStreamFormats tsv: ?format=TSV', novary => 1;
refused '/fmt/choose-tsv', '', 'text/csv', 406,
    'Accept: none of the formats of this export (tsv) is acceptable; or ask with ?format=',
    'OrderStreamFormats tsv: Accept CSV', novary => 1;
refused '/fmt/choose-tsv', 'format=csv', undef, 400,
    'format: expected one of tsv, got "csv"', 'OrderStreamFormats tsv: ?format=csv';

# a default the section does not allow
chosen '/fmt/outer', undef, 'tsv', 'OrderStreamFormat tsv: TSV';
chosen '/fmt/outer/inner', undef, 'csv',
    'inherited OrderStreamFormat tsv, OrderStreamFormats ndjson csv: the first allowed, CSV';
refused '/fmt/outer/inner', '', 'text/tab-separated-values', 406,
    'Accept: none of the formats of this export (csv, ndjson) is acceptable; or ask with ?format=',
    'OrderStreamFormats ndjson csv: Accept TSV';

# HEAD: the headers of a GET, no body, no query.
{
    for my $fmt (qw(csv tsv ndjson)) {
        my $h = raw_request(HEAD => "/fmt/fn-bare?format=$fmt", module => 'os_fmt');
        my $g = GET "/fmt/fn-bare?format=$fmt";
        ok $h->{status} == 200 && $h->{body} eq ''
            && ($h->{headers}{'content-type'} || '') eq $ctype{$fmt}
            && ($h->{headers}{'content-type'} || '') eq ($g->header('Content-Type') || '-')
            && ($h->{headers}{'content-disposition'} || '') eq ($g->header('Content-Disposition') || '-')
            && ($h->{headers}{vary} || '') eq ($g->header('Vary') || '-'),
            "HEAD ?format=$fmt: the GET's Content-Type, Content-Disposition and Vary, no body"
            or diag $h->{head};
    }
    my $h = raw_request(HEAD => '/fmt/choose-all', module => 'os_fmt',
                        extra_headers => "Accept: $ndjson_type\r\n");
    ok $h->{status} == 200 && ($h->{headers}{'content-type'} || '') eq $ndjson_type
        && $h->{body} eq '', 'HEAD with Accept NDJSON: application/x-ndjson';

    # The database is unreachable: HEAD, 400 and 406 do not need it.
    my $year = POSIX::strftime('%Y', gmtime);
    $h = raw_request(HEAD => '/fdown/orders', module => 'os_fmt_down');
    ok $h->{status} == 200 && ($h->{headers}{'content-type'} || '') eq $ctype{csv}
        && ($h->{headers}{'content-disposition'} || '') =~ /\Aattachment; filename="down-\d{4}\.csv"\z/
        && ($h->{headers}{vary} || '') eq 'Accept',
        'database unreachable: HEAD is a 200 with the CSV headers' or diag $h->{head};
    $h = raw_request(HEAD => '/fdown/orders?format=ndjson', module => 'os_fmt_down');
    ok $h->{status} == 200 && ($h->{headers}{'content-type'} || '') eq $ndjson_type
        && ($h->{headers}{'content-disposition'} || '') =~ /filename="down-\d{4}\.ndjson"\z/,
        'database unreachable: HEAD ?format=ndjson' or diag $h->{head};
    my $g = raw_request(GET => '/fdown/orders', module => 'os_fmt_down', timeout => 20);
    is $g->{status}, 503, 'database unreachable: GET is a 503 (so HEAD ran no query)';
    refused '/fdown/orders', 'format=tsv', undef, 400,
        'format: expected one of csv, ndjson, got "tsv"',
        'database unreachable, ?format=tsv', module => 'os_fmt_down';
    refused '/fdown/orders', '', 'text/tab-separated-values', 406,
        'Accept: none of the formats of this export (csv, ndjson) is acceptable; or ask with ?format=',
        'database unreachable, Accept TSV', module => 'os_fmt_down';
}

# --- 6. file names --------------------------------------------------------------------

# GET PATH: Content-Disposition is WANT->(the UTC time of the Date header).
sub disposition_is {
    my ($path, $want, $name) = @_;
    my $res = GET $path;
    my $t = HTTP::Date::str2time($res->header('Date') || '') || time;
    my $w = $want->($t);
    is $res->header('Content-Disposition'), $w, $name;
}

sub utc { my ($fmt, $t) = @_; return POSIX::strftime($fmt, gmtime $t) }

for my $fmt (qw(csv tsv ndjson)) {
    my $q = $fmt eq 'csv' ? '' : "?format=$fmt";
    disposition_is "/fmt/fn-date$q",
        sub { 'attachment; filename="orders-' . utc('%Y-%m-%d', $_[0]) . ".$fmt\"" },
        "orders-%Y-%m-%d.csv as $fmt: the UTC date of the response, .$fmt";
    disposition_is "/fmt/fn-bare$q", sub { "attachment; filename=\"report.$fmt\"" },
        "report (no extension) as $fmt: .$fmt appended";
    disposition_is "/fmt/fn-txt$q", sub { 'attachment; filename="report.txt"' },
        "report.txt as $fmt: an extension of its own kept";
    disposition_is "/fmt/fn-upper$q", sub { "attachment; filename=\"Export.2024.$fmt\"" },
        "Export.2024.NDJSON as $fmt: the last extension replaced, in any case";
    disposition_is "/fmt/fn-conv$q",
        sub { 'attachment; filename="r-' . utc('%m_%d_%y', $_[0]) . "__.$fmt\"" },
        "r-%D%t%n.tsv as $fmt: slashes, tab and line feed of the conversions made _";
    disposition_is "/fmt/fn-utf8$q", sub {
        my $name = 'Bestellübersicht ' . utc('%Y', $_[0]) . ".$fmt";
        (my $fallback = $name) =~ s/[\xC0-\xFF][\x80-\xBF]*/_/g;
        (my $enc = $name) =~ s/([^A-Za-z0-9!#\$&+\-.^_`|~])/sprintf '%%%02X', ord $1/ge;
        return qq{attachment; filename="$fallback"; filename*=UTF-8''$enc};
    }, "Bestellübersicht %Y.csv as $fmt: an ASCII fallback and filename*";
}
{
    my $res = GET '/fmt/fn-utf8';
    my $y = utc('%Y', HTTP::Date::str2time($res->header('Date') || '') || time);
    is $res->header('Content-Disposition'),
        qq{attachment; filename="Bestell_bersicht $y.csv"; filename*=UTF-8''Bestell%C3%BCbersicht%20$y.csv},
        'the UTF-8 name, literally';
}

# --- the shop export as TSV and as one NDJSON line per order ---------------------------

{
    Apache::TestRequest::module('default');
    my $shop = repo_conf('orderstream.conf');
    my $osql = bind_sql(location_sql('/exports/orders.csv', $shop),
                        'NULL::date', 'NULL::date', 'NULL::text');
    my $labels = conf_locations($shop)->{'/exports/orders.csv'}{OrderStreamHeader};
    is scalar(@$labels), 7, 'shop export: 7 labels';
    my $rows = $ENV{OS_TEST_ROWS} || 200000;

    my $res = body_is '/exports/orders.csv?format=tsv',
        join("\t", @$labels) . "\n" . psql_copy($osql, 'FORMAT text'),
        'shop export as TSV: the labels, then COPY (FORMAT text)';
    is $res->header('Content-Disposition'), 'attachment; filename="all_orders.tsv"',
        'shop export as TSV: all_orders.tsv';

    my @lines = json_lines($osql, @$labels);
    is scalar(@lines), $rows, "shop oracle: $rows rows";
    my @want = grouped_lines(\@lines, '"Product Name"', '"Items"');
    is scalar(@want), psql_value('SELECT count(DISTINCT order_id) FROM shop_orderitem'),
        'shop oracle: one line per order';
    my $shape = join '', '\A\{"Order ID":\d+,"Order Date":"[^"]+","Customer Email":"[^"]+",',
        '"Items":\[\{"Product Name":"[^"]*","Product Price":[\d.]+,"Quantity":\d+,',
        '"Item Total":[\d.]+\}';
    like $want[0], qr/$shape/, 'shop oracle: the shape of a line';
    $res = GET '/exports/orders.csv?format=ndjson';
    my $body = $res->content;
    ok $res->code == 200 && ($res->header('Content-Type') || '') eq $ndjson_type
        && $body eq ndjson_of(@want),
        'shop export as NDJSON: one line per order, its items in an array'
        or diag explain_difference($body, ndjson_of(@want));
    is $res->header('Content-Disposition'), 'attachment; filename="all_orders.ndjson"',
        'shop export as NDJSON: all_orders.ndjson';
    my @parsed = canonical_lines(substr($body, 0, 100000) =~ s/[^\n]*\z//r);
    ok @parsed > 10 && !grep({ !defined } @parsed), 'shop export as NDJSON: the lines parse';
    ndjson_is '/exports/orders.csv?format=ndjson&offset=7&limit=20',
        [grouped_lines([@lines[7 .. 26]], '"Product Name"', '"Items"')],
        'shop export as NDJSON, offset=7&limit=20: 20 rows grouped';
    Apache::TestRequest::module('os_fmt');
}

is wait_no_idle_in_transaction(3), 0, 'at the end: nothing idle in transaction';
