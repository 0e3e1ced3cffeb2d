# Previews (issue 4): ?offset=M&limit=N on every export. The header row,
# then rows M .. M+N-1 (0-based), checked against a slice of the whole
# export and against COPY of the same SQL with OFFSET/LIMIT appended; across
# FETCH batch boundaries; on the 200,000-row shop export; OrderStreamMaxLimit
# and OrderStreamPreview; every 400 (status, text/plain, the one-line
# message naming the parameter, no SQL, no Content-Disposition, outcome
# rejected, nothing at error level, no database needed); URL decoding; HEAD;
# the pool afterwards. Also the grouped report /exports/product-totals.csv
# of conf/orderstream.conf.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(body_is location_sql copy_csv csv_line lf_to_crlf bind_sql
                       explain_difference repo_conf
                       conf_locations raw_request dechunk unique_tag
                       wait_outcome_line outcome_lines wait_outcome_url
                       error_log_size error_log_since
                       wait_no_idle_in_transaction count_records);

plan tests => 204;

# The lines of an LF body (no field of these exports holds a line break).
sub lines_of { my ($body) = @_; return split /(?<=\n)/, $body }

# --- slices of a 3,000-row export ------------------------------------------

my $sql  = location_sql('/preview/lf');
my $full = copy_csv($sql);
my ($header, @rows) = lines_of($full);
is scalar(@rows), 3000, 'the oracle has 3,000 rows';
body_is '/preview/lf', $full, 'no parameter: the whole export';

# Header + rows M .. M+N-1 of the whole export (N undef: to the end).
sub slice {
    my ($m, $n) = @_;
    my $last = defined $n ? $m + $n - 1 : $#rows;
    $last = $#rows if $last > $#rows;
    return $header . join('', $m > $#rows ? () : @rows[$m .. $last]);
}

# Header + COPY of the SQL with OFFSET/LIMIT appended (its ORDER BY is on a
# unique key, so the rows are the same rows).
sub copy_slice {
    my ($s, $m, $n, %opt) = @_;
    my $q = $s . (defined $m ? " OFFSET $m" : '') . (defined $n ? " LIMIT $n" : '');
    return copy_csv($q, %opt);
}

for my $case ([0, undef], [10, undef], [2999, undef], [undef, 1], [undef, 25],
              [0, 5], [100, 10], [2990, 10], [2995, 10], [2999, 1]) {
    my ($m, $n) = @$case;
    my $qs = join '&', (defined $m ? "offset=$m" : ()),
                       (defined $n ? "limit=$n" : ());
    my $want = slice($m || 0, $n);
    is copy_slice($sql, $m, $n), $want, "oracle agrees for $qs";
    body_is "/preview/lf?$qs", $want, "?$qs: the header, then that slice";
}

body_is '/preview/lf?offset=3000', $header, 'offset = row count: header only';
body_is '/preview/lf?offset=5000&limit=10', $header,
    'offset beyond the end: header only';
body_is '/preview/lf?limit=0', $header, 'limit=0: header only, column names';
like $header, qr/\Aid,quantity,order_id,product_id\n\z/,
    'the default header, literally';
body_is '/preview/lf?offset=17&limit=0', $header, 'offset=17&limit=0: header only';
body_is '/preview/lf?limit=3000', $full, 'limit = row count: the whole export';
body_is '/preview/lf?offset=2000&limit=5000', slice(2000),
    'limit larger than the rest: the rest';
body_is '/preview/lf?limit=9223372036854775807', $full,
    'limit 2^63-1: the whole export';
body_is '/preview/lf?limit=5&offset=10', slice(10, 5),
    'the order of the parameters does not matter';
body_is '/preview/lf?limit=007', slice(0, 7), 'leading zeros: limit=007 is 7';
body_is '/preview/lf?offset=2147483647', $header,
    'offset 2^31-1: header only';
body_is '/preview/lf?offset=2147483648', $header,
    'offset 2^31 (more than a 32-bit MOVE count): header only';
body_is '/preview/lf?offset=9223372036854775807&limit=1', $header,
    'offset 2^63-1: header only';

# Header off: no header line even with limit=0.
{
    my $nh = copy_csv($sql, header => 0);
    my @nh = lines_of($nh);
    body_is '/preview/noheader?offset=5&limit=3', join('', @nh[5 .. 7]),
        'OrderStreamHeader off: the slice alone';
    body_is '/preview/noheader?limit=0', '', 'OrderStreamHeader off, limit=0: empty';
    body_is '/preview/noheader?offset=3000', '',
        'OrderStreamHeader off, offset at the end: empty';
}

# Labels, CRLF: the header line is the labels even without a data row.
{
    my $lsql = location_sql('/preview/labels');
    my $lh = qq{Item,"Qty, pcs"\r\n};
    body_is '/preview/labels?limit=0', $lh, 'limit=0 with labels: the labels alone';
    body_is '/preview/labels?offset=9999', $lh,
        'offset beyond the end with labels: the labels alone';
    body_is '/preview/labels?offset=3&limit=4',
        $lh . lf_to_crlf(copy_slice($lsql, 3, 4, header => 0)),
        'labels, CRLF: the labels, then the slice';
}

# --- FETCH batches of 7 ------------------------------------------------------

{
    my $fsql = location_sql('/preview/fetch7');
    is $fsql, $sql, '/preview/fetch7 runs the same query';
    for my $m (0, 5, 6, 7, 13, 14, 2996) {
        for my $n (1, 7, 8, 20) {
            body_is "/preview/fetch7?offset=$m&limit=$n", slice($m, $n),
                "batches of 7: offset=$m&limit=$n";
        }
    }
    body_is '/preview/fetch7?offset=14', slice(14), 'batches of 7: offset=14';
    body_is '/preview/fetch7?limit=21', slice(0, 21), 'batches of 7: limit=21';
    body_is '/preview/fetch7?limit=0', $header, 'batches of 7: limit=0';
}

# --- the limit stops fetching --------------------------------------------------

# Row g = 5000 raises: rows 1..4999 can be previewed only if no FETCH reads
# past the limit (batches of 100: the last FETCH must ask for fewer).
{
    my $want;
    # 1 / (g - 5000) in integer arithmetic: 0 except g = 4999 (-1).
    $want = sub {
        my ($from, $to) = @_;
        return "g,q\n" . join '', map { "$_," . ($_ == 4999 ? -1 : 0) . "\n" }
            $from .. $to;
    };
    body_is '/preview/raise?offset=4990&limit=9', $want->(4991, 4999),
        'offset=4990&limit=9: rows 4991-4999, the raising row is never fetched';
    body_is '/preview/raise?offset=4900&limit=99', $want->(4901, 4999),
        'offset=4900&limit=99 (batches of 100): stops before row 5000';
    body_is '/preview/raise?limit=4999', $want->(1, 4999),
        'limit=4999: 50 batches, the last one short';
    my $res = GET '/preview/raise?offset=4990&limit=10';
    is $res->code, 500, 'offset=4990&limit=10 reaches row 5000: 500';
}

# --- the shop export, 200,000 rows -------------------------------------------

{
    my $conf = repo_conf('orderstream.conf');
    my $osql = bind_sql(location_sql('/exports/orders.csv', $conf),
                        'NULL::date', 'NULL::date', 'NULL::text');
    my $labels = conf_locations($conf)->{'/exports/orders.csv'}{OrderStreamHeader};
    my $oh = csv_line("\r\n", @$labels);
    my $rows = $ENV{OS_TEST_ROWS} || 200000;
    my $m = $rows - 10;

    my $res = body_is "/exports/orders.csv?offset=$m",
        $oh . lf_to_crlf(copy_slice($osql, $m, undef, header => 0)),
        "shop export, offset=$m: the last 10 rows";
    is count_records($res->content, "\r\n"), 11, 'shop export: 11 lines';
    is $res->header('Content-Disposition'), 'attachment; filename="all_orders.csv"',
        'a preview keeps Content-Disposition';
    is $res->header('Content-Type'), 'text/csv; charset=utf-8',
        'a preview is text/csv';

    body_is '/exports/orders.csv?offset=100000&limit=5',
        $oh . lf_to_crlf(copy_slice($osql, 100000, 5, header => 0)),
        'shop export, offset=100000&limit=5';
    body_is "/exports/orders.csv?offset=$rows&limit=5", $oh,
        'shop export, offset = row count: header only';

    my $tag_path = "/exports/orders.csv?offset=199990&limit=7";
    my $skip = scalar @{ outcome_lines() };
    my $r = raw_request(GET => $tag_path, timeout => 60);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete, 'raw HTTP/1.1: a whole, chunked preview';
    my $l = wait_outcome_url($tag_path, $skip) || {};
    is $l->{outcome}, 'complete', 'notes: outcome complete';
    is $l->{rows}, 7, 'notes: orderstream-rows = rows sent (7)';
    is $l->{bytes}, length $data, 'notes: orderstream-bytes = body bytes';
}

# --- OrderStreamMaxLimit --------------------------------------------------------

body_is '/preview/max100?limit=100', slice(0, 100), 'MaxLimit 100: limit=100 passes';
body_is '/preview/max100?offset=2950&limit=100', slice(2950, 100),
    'MaxLimit 100: offset=2950&limit=100 passes';
body_is '/preview/max100?offset=2990', slice(2990), 'MaxLimit 100: offset alone passes';

# --- 400s -----------------------------------------------------------------------

# A bad query string: 400, text/plain; charset=utf-8, one line, MESSAGE (a
# regexp, anchored at the start), no SQL, no Content-Disposition, outcome
# rejected with 0 rows, nothing at error level in the error log.
my $n400 = 0;
sub bad_request {
    my ($path, $message, $name) = @_;
    my $tag = unique_tag('preview-400-' . ++$n400);
    my $url = $path;
    my $log0 = error_log_size();
    my $res = GET $url, 'X-Test-Tag' => $tag;
    my $body = $res->content;
    my $ct = $res->header('Content-Type') || '';
    my @bad;
    push @bad, 'status ' . $res->code unless $res->code == 400;
    push @bad, "Content-Type $ct" unless $ct eq 'text/plain; charset=utf-8';
    push @bad, 'not one line' unless $body =~ /\A[^\r\n]+\r?\n?\z/;
    push @bad, 'message' unless $body =~ /\A$message/;
    push @bad, 'SQL in the body' if $body =~ /SELECT|shop_orderitem|edge_cases/i;
    push @bad, 'Content-Disposition' if defined $res->header('Content-Disposition');
    ok !@bad, "$name: 400, $message"
        or diag "GET $url: " . join(', ', @bad) . "\nbody: " . substr($body, 0, 300);
    my $l = wait_outcome_line($tag) || {};
    ok(($l->{outcome} // '-') eq 'rejected' && ($l->{rows} // '-') eq '0',
       "$name: outcome rejected, rows 0")
        or diag "log line: " . ($l->{line} || 'none');
    my $errors = join '', grep { /:(?:error|crit|alert|emerg)\]/ }
        split /(?<=\n)/, error_log_since($log0);
    is $errors, '', "$name: nothing at error level";
    return $res;
}

my $num = sub {
    my ($p, $max, $v) = @_;
    return qr/\Q$p: expected a whole number from 0 to \E$max\Q, got "$v"\E/;
};
my $any = qr/\d+/;

bad_request '/preview/lf?limit=abc', $num->('limit', $any, 'abc'), 'limit=abc';
bad_request '/preview/lf?limit=-1', $num->('limit', $any, '-1'), 'limit=-1';
bad_request '/preview/lf?offset=1.5', $num->('offset', $any, '1.5'), 'offset=1.5';
bad_request '/preview/lf?offset=9223372036854775808',
    $num->('offset', $any, '9223372036854775808'), 'offset 2^63';
bad_request '/preview/lf?limit=18446744073709551616',
    $num->('limit', $any, '18446744073709551616'), 'limit 2^64';
bad_request '/preview/lf?limit=1&limit=2', qr/limit: given more than once/,
    'limit=1&limit=2';
bad_request '/preview/lf?offset=1&limit=2&offset=1',
    qr/offset: given more than once/, 'offset twice';
bad_request '/preview/lf?foo=1', qr/foo: not a parameter of this export/, 'foo=1';
bad_request '/preview/lf?format=xls',
    qr/format: expected one of csv, tsv, ndjson, xlsx, got "xls"/, 'format=xls';
bad_request '/preview/lf?limt=10', qr/limt: not a parameter of this export/,
    'a typo: limt=10';
bad_request '/preview/lf?offset=1&foo=1', qr/foo: not a parameter of this export/,
    'a good parameter then an unknown one';
bad_request '/preview/lf?limit=abc&foo=1',
    $num->('limit', $any, 'abc'), 'two errors: the first is named';
bad_request '/preview/lf?limit=1%0D%0AX-Injected:%20yes',
    qr/limit: /, 'a CR LF in the value: still one line';
{
    my $res = bad_request '/preview/lf?limit=%FF%FE1', qr/limit: /,
        'bytes that are not UTF-8 in the value';
    my $b = $res->content;
    ok utf8::decode($b), 'that 400 body is UTF-8, as its Content-Type says'
        or diag 'body: ' . join ' ', map { sprintf '%02x', ord } split //, $res->content;
}
bad_request '/preview/lf?limit=%zz', qr/limit: /, 'bad %-escape %zz';
bad_request '/preview/lf?limit=1%3', qr/limit: /, 'truncated %-escape';
bad_request '/preview/lf?limit=%00', qr/limit: /, '%00';
bad_request '/preview/lf?limit=1+', $num->('limit', $any, '1 '),
    '+ is a space: limit=1+ is "1 "';
bad_request '/preview/lf?limit=%2B1', $num->('limit', $any, '+1'),
    '%2B is a plus sign, not a whole number';
bad_request '/preview/lf?limit+=1', qr/limit : not a parameter of this export/,
    '+ in a name is a space';
bad_request '/preview/max100?limit=101', $num->('limit', 100, '101'),
    'MaxLimit 100: limit=101';
bad_request '/preview/max100?offset=5&limit=100000', $num->('limit', 100, '100000'),
    'MaxLimit 100: limit=100000';
bad_request '/preview/off?offset=1', qr/offset: previews are off for this export/,
    'Preview off: offset';
bad_request '/preview/off?limit=1', qr/limit: previews are off for this export/,
    'Preview off: limit';
bad_request '/preview/off?limit=0&offset=0',
    qr/limit: previews are off for this export/, 'Preview off: both';
bad_request '/preview/off?foo=1', qr/foo: not a parameter of this export/,
    'Preview off: an unknown parameter';
bad_request '/exports/orders.csv?limit=x', $num->('limit', $any, 'x'),
    'the shop export (with a filename): no Content-Disposition on a 400';

# Without a database: the query string is checked first.
{
    my $r = raw_request(GET => '/pdown/orders.csv?limit=abc', module => 'os_preview_down');
    is $r->{status}, 400, 'database unreachable, bad query string: 400, not 503';
    $r = raw_request(GET => '/pdown/orders.csv?foo=1', module => 'os_preview_down');
    is $r->{status}, 400, 'database unreachable, unknown parameter: 400';
    $r = raw_request(GET => '/pdown/orders.csv?limit=5', module => 'os_preview_down');
    is $r->{status}, 503, 'database unreachable, good query string: 503';
}

# --- URL decoding of good parameters ----------------------------------------------

body_is '/preview/lf?limit=1%30', slice(0, 10), 'limit=1%30 is limit=10';
body_is '/preview/lf?li%6Dit=3', slice(0, 3), 'li%6Dit=3 is limit=3';
body_is '/preview/lf?%6F%66%66%73%65%74=%32%30&limit=2', slice(20, 2),
    'a fully escaped offset=20';
body_is '/preview/lf?offset=5&&limit=2', slice(5, 2), 'an empty pair (&&) is nothing';

# --- Preview off, no parameter: the whole export ----------------------------------

body_is '/preview/off', $full, 'Preview off, no parameter: the whole export';
body_is '/preview/max100', $full, 'MaxLimit 100, no limit: the whole export';

# --- HEAD -------------------------------------------------------------------------

{
    my $r = raw_request(HEAD => '/preview/lf?limit=abc');
    is $r->{status}, 400, 'HEAD, limit=abc: 400';
    is $r->{body}, '', 'HEAD 400: no body';
    like $r->{headers}{'content-type'} || '', qr{^text/plain; charset=utf-8$},
        'HEAD 400: text/plain';
    $r = raw_request(HEAD => '/preview/off?offset=1');
    is $r->{status}, 400, 'HEAD, Preview off, offset=1: 400';
    $r = raw_request(HEAD => '/preview/max100?limit=101');
    is $r->{status}, 400, 'HEAD, limit over the max: 400';
    $r = raw_request(HEAD => '/preview/lf?offset=5&limit=5');
    is $r->{status}, 200, 'HEAD, offset=5&limit=5: 200';
    is $r->{body}, '', 'HEAD 200: no body';
    is $r->{headers}{'content-type'}, 'text/csv; charset=utf-8', 'HEAD 200: text/csv';
}

# --- afterwards --------------------------------------------------------------------

body_is '/preview/lf', $full, 'after the 400s: a whole export';
body_is '/preview/fetch7?offset=13&limit=8', slice(13, 8), 'after the 400s: a preview';
# An empty value is an absent one, as an HTML form sends an empty field.
body_is '/preview/lf?offset=&limit=', $full, 'offset= and limit= (empty): the whole export';
body_is '/preview/lf?limit', $full, 'limit without =: the whole export';
body_is '/preview/fetch7?offset=&limit=8', slice(0, 8), 'offset= (empty), limit=8';
body_is '/preview/fetch7?offset=13&limit=', slice(13, undef), 'offset=13, limit= (empty)';
is wait_no_idle_in_transaction(5), 0, 'nothing idle in transaction';

# --- the grouped report of conf/orderstream.conf ---------------------------------

{
    my $conf = repo_conf('orderstream.conf');
    my $loc = conf_locations($conf)->{'/exports/product-totals.csv'} || {};
    ok %$loc, 'conf/orderstream.conf has <Location /exports/product-totals.csv>';
    my $psql = eval { location_sql('/exports/product-totals.csv', $conf) };
    my $eol = (($loc->{OrderStreamLineEnding} || ['CRLF'])->[0] =~ /^LF$/i)
        ? "\n" : "\r\n";
    my $fix = sub { $eol eq "\n" ? $_[0] : lf_to_crlf($_[0]) };
    my $hl = "Product Name,Total Quantity$eol";

    my $res = GET '/exports/product-totals.csv';
    my $body = $res->content;
    is $res->code, 200, 'product totals: 200';
    is substr($body, 0, length $hl), $hl, 'product totals: the header line, literally';
    my $want = defined $psql ? $hl . $fix->(copy_csv($psql, header => 0)) : undef;
    ok defined $want && $body eq $want, 'product totals: equals COPY of its SQL'
        or diag defined $want ? explain_difference($body, $want) : 'no SQL';

    # Independently of its SQL: one line per product name, its total, by name.
    my $indep = "SELECT p.name, sum(i.quantity) FROM shop_orderitem i"
        . " JOIN shop_product p ON p.id = i.product_id"
        . " GROUP BY p.name ORDER BY p.name";
    my $iw = $hl . $fix->(copy_csv($indep, header => 0));
    ok $body eq $iw, 'product totals: one line per product name, total quantity, by name'
        or diag explain_difference($body, $iw);
    my $names = psql_count("SELECT count(DISTINCT name) FROM shop_product");
    is count_records($body, $eol) - 1, $names, "product totals: $names lines";

    body_is '/exports/product-totals.csv?offset=2&limit=3',
        $hl . $fix->(copy_csv("$indep OFFSET 2 LIMIT 3", header => 0)),
        'product totals: a preview';
    body_is '/exports/product-totals.csv?limit=0', $hl,
        'product totals, limit=0: the header line';
}

sub psql_count { OrderStreamTest::psql_value($_[0]) }
