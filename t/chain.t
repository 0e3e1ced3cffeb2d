# Chained exports (issue 4): several OrderStreamSQL in one <Location> run in
# order, in one REPEATABLE READ transaction, one cursor each. The body must
# equal COPY ((q1) UNION ALL (q2) ...) TO STDOUT WITH (FORMAT csv, HEADER),
# the header being OrderStreamHeader's labels or else the first query's
# column names: the shipped /exports/catalogue.csv; chains with empty
# members in batches of 1, 7 and 1000; one snapshot for every query of the
# chain (a row committed while the first query is declared, or while it
# streams, is not seen by the second); queries that disagree on the number
# of columns, and a second query that cannot be declared (500 before any
# byte, the pooled connection back clean) or fails at its first FETCH (a
# cut download); ?offset=&limit= across the queries of a chain.
# The Locations are in t/conf/chain.conf.in (virtual host os_chain, whose
# pool holds one connection).
use strict;
use warnings;

use File::Spec ();
use Time::HiRes ();
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(body_is location_sqls copy_csv psql_value psql_super csv_line
                       lf_to_crlf count_records conf_locations repo_conf
                       explain_difference raw_request raw_start raw_read
                       raw_close raw_result dechunk unique_tag
                       wait_outcome_line error_log_size error_log_since
                       wait_no_idle_in_transaction);

plan tests => 102;

Apache::TestRequest::module('os_chain');
my $conf = File::Spec->catfile(Apache::Test::vars('t_conf'), 'chain.conf');

sub sqls { return location_sqls($_[0], $conf) }

# (q1) UNION ALL (q2) ...: what a chain must equal.
sub union_sql { return join ' UNION ALL ', map { "($_)" } @_ }

# Error-log lines of ours at level error.
sub our_errors {
    my ($since) = @_;
    return grep { /\[orderstream:error\]/ } split /(?<=\n)/, error_log_since($since);
}

# After a failure: the next chain on the one pooled connection of os_chain
# is whole and right, and nothing of role shop is left in a transaction.
my $ok_want = copy_csv(union_sql(sqls('/chain/ok')));
sub connection_clean {
    my ($after) = @_;
    is wait_no_idle_in_transaction(3), 0,
        "after $after: no connection idle in transaction";
    body_is '/chain/ok', $ok_want, "after $after: the next chain is whole and right";
}

# --- 1. the shipped chain: /exports/catalogue.csv ---------------------------

{
    my $shipped = repo_conf('orderstream.conf');
    my @q = location_sqls('/exports/catalogue.csv', $shipped);
    is scalar(@q), 2, 'catalogue: two OrderStreamSQL in the shipped config';
    my $labels = conf_locations($shipped)->{'/exports/catalogue.csv'}{OrderStreamHeader};
    my $head = csv_line("\r\n", @$labels);
    is $head, "Type,ID,Name,Description\r\n", 'catalogue: the labels';
    my $rows = copy_csv(union_sql(@q), header => 0);
    is $rows, join('', map { copy_csv($_, header => 0) } @q),
        'catalogue oracle: the UNION ALL is the products, then the orders';
    my $want = $head . lf_to_crlf($rows);

    Apache::TestRequest::module('default');
    my $res = body_is '/exports/catalogue.csv', $want,
        'catalogue: the labels, then COPY of (q1) UNION ALL (q2), CRLF';
    Apache::TestRequest::module('os_chain');
    is $res->code, 200, 'catalogue: 200';
    is $res->header('Content-Type'), 'text/csv; charset=utf-8',
        'catalogue: text/csv';
    is $res->header('Content-Disposition'),
        'attachment; filename="catalogue.csv"',
        'catalogue: Content-Disposition names catalogue.csv';
    my $products = psql_value('SELECT count(*) FROM shop_product');
    my $orders   = psql_value('SELECT count(*) FROM shop_order');
    ok $products > 0 && $orders > 0, "catalogue: $products products, $orders orders";
    is count_records($res->content, "\r\n"), 1 + $products + $orders,
        'catalogue: the header, one line per product and one per order';
}

# --- 2. chains with empty members, batches of 1, 7 and 1000 ------------------

{
    my @q = sqls('/chain/rows1');
    is scalar(@q), 3, '/chain/rows1: three queries';
    is_deeply [sqls('/chain/rows7')], \@q, '/chain/rows7: the same queries';
    is_deeply [sqls('/chain/rowsmax')], \@q, '/chain/rowsmax: the same queries';
    is_deeply [map { count_records(copy_csv($_, header => 0), "\n") } @q],
        [10, 0, 13], 'the oracle: 10, 0 and 13 rows';
    my $want = copy_csv(union_sql(@q));
    my ($first) = copy_csv($q[0]) =~ /\A([^\n]*\n)/;
    is $first, "id,label,value\n", "the first query's column names";
    is $want, $first . join('', map { copy_csv($_, header => 0) } @q),
        'the oracle: the first query\'s names, then the rows of each query in turn';
    for my $path (qw(/chain/rows1 /chain/rows7 /chain/rowsmax)) {
        body_is $path, $want, "$path: COPY of the UNION ALL";
    }

    # the rows counted across the chain
    my $tag = unique_tag('chain-rows7');
    my $r = raw_request(GET => "/chain/rows7", tag => $tag, module => 'os_chain',
                        timeout => 30);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete && $data eq $want,
        '/chain/rows7, raw HTTP/1.1: whole, chunked, right';
    my $l = wait_outcome_line($tag) || {};
    is $l->{outcome}, 'complete', '/chain/rows7: outcome complete';
    is $l->{rows}, 23, '/chain/rows7: orderstream-rows 23 (10 + 0 + 13)';
    is $l->{bytes}, length $want, '/chain/rows7: orderstream-bytes = body bytes';
}

{
    my @q = sqls('/chain/empty-ends');
    my $want = copy_csv(union_sql(@q));
    like $want, qr/\Afirst_id,first_q\n(?:\d+,\d+\n){7}\z/,
        'empty-ends oracle: the first (empty) query\'s names, 7 rows';
    body_is '/chain/empty-ends', $want,
        'empty first and last queries: COPY of the UNION ALL';

    @q = sqls('/chain/all-empty');
    $want = copy_csv(union_sql(@q));
    is $want, "id,note\n", 'all-empty oracle: the header alone';
    body_is '/chain/all-empty', $want, 'every query empty: the header alone';
    body_is '/chain/all-empty?offset=3&limit=2', $want,
        'every query empty, a preview: the header alone';

    @q = sqls('/chain/labels');
    my $labels = conf_locations($conf)->{'/chain/labels'}{OrderStreamHeader};
    $want = csv_line("\r\n", @$labels)
        . lf_to_crlf(copy_csv(union_sql(@q), header => 0));
    is count_records($want, "\r\n"), 1 + 19 + 5, 'labels oracle: 24 lines';
    body_is '/chain/labels', $want,
        'labels, CRLF, batches of 4: the labels, then the UNION ALL';
}

# --- 3. one snapshot for the whole chain ---------------------------------------

# chain_t: a table of our own (role shop owns the test database), so that
# no other test file sees the rows inserted here.
psql_value(<<'SQL');
SET client_min_messages = warning;
DROP TABLE IF EXISTS chain_t;
DROP FUNCTION IF EXISTS chain_t_slow(double precision);
CREATE TABLE chain_t (id integer PRIMARY KEY, v text);
INSERT INTO chain_t SELECT g, 'row ' || g FROM generate_series(1, 5) AS g;
CREATE FUNCTION chain_t_slow(s double precision) RETURNS boolean
    LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM pg_sleep(s); RETURN true; END $$;
SQL
END { eval { psql_value('DROP TABLE IF EXISTS chain_t; '
                        . 'DROP FUNCTION IF EXISTS chain_t_slow(double precision)') } }

# The pid of the shop backend whose statement (running or last) matches
# LIKE, or ''; polls for up to SECONDS.
sub backend_at {
    my ($like, $state, $seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (1) {
        my $pid = psql_super("SELECT pid FROM pg_stat_activity"
            . " WHERE usename = 'shop' AND backend_type = 'client backend'"
            . " AND state $state AND query LIKE '$like' LIMIT 1");
        return $pid if $pid ne '' || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.02);
    }
}

# A row committed while the first query is being declared (chain_t_slow
# sleeps 1 s when PostgreSQL plans it): the second query, declared after,
# must not see it.
{
    my @q = sqls('/chain/snapshot');
    my $before = copy_csv(union_sql(@q));
    is count_records($before, "\n"), 1 + 5 + 5, 'snapshot oracle: 5 + 5 rows';
    my $tag = unique_tag('chain-snapshot');
    my $c = raw_start(GET => "/chain/snapshot", tag => $tag, module => 'os_chain');
    my $pid = backend_at('DECLARE orderstream_1 %', "= 'active'", 5);
    ok $pid, "snapshot: the first query is being declared (backend $pid)";
    psql_value("INSERT INTO chain_t VALUES (6, 'committed during DECLARE 1')");
    my $still = $pid ? psql_super("SELECT state || ': ' || query FROM pg_stat_activity"
                                  . " WHERE pid = $pid") : '';
    like $still, qr/\Aactive: DECLARE orderstream_1 /,
        'snapshot: the INSERT committed before the second query was declared';
    raw_read($c, timeout => 20);
    raw_close($c);
    my $r = raw_result($c);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete && $data eq $before,
        'snapshot: the second query does not see the row committed meanwhile'
        or diag "status $r->{status}, " . ($complete ? 'complete' : 'cut') . "\n"
            . explain_difference($data, $before);
    my $after = copy_csv(union_sql(@q));
    isnt $after, $before, 'snapshot: the row is there for a new transaction';
    body_is '/chain/snapshot', $after, 'snapshot: the next export sees it';
}

# A row committed while the first query streams (its rows take about 1 s):
# the second query still reads the snapshot of the start. (As every cursor
# is declared before the first byte, this one would hold under READ
# COMMITTED too; the case above is the one that needs one snapshot.)
{
    my @q = sqls('/chain/snapshot-stream');
    my $before = copy_csv(union_sql(@q));
    is count_records($before, "\n"), 1 + 500 + 6, 'snapshot-stream oracle: 500 + 6 rows';
    my $tag = unique_tag('chain-snapshot-stream');
    my $c = raw_start(GET => "/chain/snapshot-stream", tag => $tag, module => 'os_chain');
    raw_read($c, max_body => 1, timeout => 10);
    my $pid = backend_at('FETCH FORWARD % FROM orderstream_1', 'IS NOT NULL', 5);
    ok $pid, "snapshot-stream: the body started, the first query is read ($pid)";
    psql_value("INSERT INTO chain_t VALUES (7, 'committed while query 1 streams')");
    my $still = $pid ? psql_super("SELECT query FROM pg_stat_activity WHERE pid = $pid")
                     : '';
    like $still, qr/\AFETCH FORWARD \d+ FROM orderstream_1\z/,
        'snapshot-stream: the INSERT committed before the second query was read';
    raw_read($c, timeout => 20);
    raw_close($c);
    my $r = raw_result($c);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete && $data eq $before,
        'snapshot-stream: the second query does not see the row committed meanwhile'
        or diag "status $r->{status}, " . ($complete ? 'complete' : 'cut') . "\n"
            . explain_difference($data, $before);
    like copy_csv($q[1], header => 0), qr/^7,/m,
        'snapshot-stream: the row is there for a new transaction';
}

# --- 4. the queries disagree on the number of columns -------------------------

# A failure before the first byte: 500 (httpd's page, no CSV, no
# Content-Disposition), our error line with TAG_RE, outcome db-error with
# no rows, and the connection back clean.
sub fails_before_body {
    my ($name, $path, $tag_re, @more) = @_;
    my $tag = unique_tag($name);
    my $log0 = error_log_size();
    my $res = GET $path, 'X-Test-Tag' => $tag;
    my $body = $res->content;
    is $res->code, 500, "$name: 500";
    my $ct = $res->header('Content-Type') || '';
    ok $ct !~ m{text/csv} && $body !~ /^id,quantity/m && $body !~ /^\d+,\d+\r?$/m
        && length($body) < 2000,
        "$name: httpd's error page, none of the CSV ($ct)"
        or diag substr($body, 0, 300);
    ok !defined $res->header('Content-Disposition'),
        "$name: no Content-Disposition on the 500";
    unlike $body, qr/SELECT|no_such_table|columns/i,
        "$name: neither the SQL nor the reason in the body";
    my $l = wait_outcome_line($tag) || {};
    ok(($l->{outcome} // '-') eq 'db-error' && ($l->{rows} // '-') eq '0'
       && ($l->{bytes} // '-') eq '0',
       "$name: outcome db-error, 0 rows, 0 bytes")
        or diag 'log line: ' . ($l->{line} || 'none');
    my @errors = our_errors($log0);
    my @ours = grep { /$tag_re/ && m{\Q$path\E\b} } @errors;
    ok @ours, "$name: an error-log line with $tag_re and the Location"
        or diag @errors ? @errors : 'no error line';
    for my $re (@more) {
        ok((grep { /$re/ } @ours), "$name: that line says $re") or diag @ours;
    }
    connection_clean($name);
}

fails_before_body('mismatch', '/chain/mismatch', qr/\bOS00020: /,
                  qr/\b3 columns\b.*\b2\b/);

# --- 5. ?offset=&limit= across the queries of a chain -------------------------

# /chain/page7: 30 rows, an empty query, 20 rows (rows 0..29, then 30..49),
# batches of 7; /chain/page1000: the same rows from two queries.
for my $path (qw(/chain/page7 /chain/page1000)) {
    my $u = union_sql(sqls($path));
    is count_records(copy_csv($u, header => 0), "\n"), 50, "$path oracle: 50 rows";
    for my $case ([0, 5, 'at the start'], [10, 5, 'inside the first query'],
                  [25, 5, 'up to the boundary'], [30, 5, 'exactly at the boundary'],
                  [27, 6, 'across the boundary'], [29, 1, 'the last row of the first'],
                  [30, 1, 'the first row after the boundary'],
                  [23, 7, 'one batch of 7 ending at the boundary'],
                  [5, 40, 'most of both'], [28, undef, 'offset only, across'],
                  [undef, 31, 'limit only, across'], [45, 10, 'past the end'],
                  [50, undef, 'offset = row count'], [60, 5, 'offset past the end'],
                  [undef, 0, 'limit=0'], [30, 0, 'limit=0 at the boundary']) {
        my ($m, $n, $what) = @$case;
        my $qs = join '&', (defined $m ? "offset=$m" : ()),
                           (defined $n ? "limit=$n" : ());
        my $want = copy_csv($u . (defined $m ? " OFFSET $m" : '')
                               . (defined $n ? " LIMIT $n" : ''));
        body_is "$path?$qs", $want, "$path?$qs ($what): COPY of the UNION ALL with OFFSET/LIMIT";
    }
}

# --- 6. the second query cannot be declared --------------------------------

fails_before_body('declare 2', '/chain/broken2', qr/\bOS00012: /,
                  qr/\b42P01\b/, qr/\bDECLARE\b/, qr/\bquery 2\b/);

# The second query fails at its first FETCH, after the first one's rows
# went out: a cut download, never a short file that looks whole.
{
    my $tag = unique_tag('chain-fetch2');
    my $log0 = error_log_size();
    my $r = raw_request(GET => "/chain/broken-fetch2", tag => $tag, module => 'os_chain',
                        timeout => 30);
    my ($data, $complete) = dechunk($r->{body});
    my $first = copy_csv((sqls('/chain/broken-fetch2'))[0]);
    is $r->{status}, 200, 'FETCH of query 2 fails: the response had started (200)';
    ok !$complete && $r->{closed}, 'FETCH of query 2 fails: no last chunk, closed';
    ok $data eq $first, 'FETCH of query 2 fails: exactly the first query\'s rows went out'
        or diag explain_difference($data, $first);
    my $l = wait_outcome_line($tag) || {};
    ok(($l->{outcome} // '-') eq 'db-error' && ($l->{rows} // '-') eq '5',
       'FETCH of query 2 fails: outcome db-error, 5 rows')
        or diag 'log line: ' . ($l->{line} || 'none');
    my @errors = our_errors($log0);
    ok((grep { /\bOS00015: / && m{/chain/broken-fetch2\b} && /\b22012\b/ } @errors),
       'FETCH of query 2 fails: OS00015, the Location and SQLSTATE 22012')
        or diag @errors ? @errors : 'no error line';
    connection_clean('a FETCH of query 2 that fails');
}

is wait_no_idle_in_transaction(3), 0, 'at the end: nothing idle in transaction';
