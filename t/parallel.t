# Parallel exports (issue 23, OrderStreamParallel N "SPLIT-SQL"): one export
# read by N connections in one snapshot, sent in the serial order.
#  - bodies equal the serial twin's for N = 2, 3, 4 in csv, tsv, ndjson
#    (grouped by order) and xlsx (every member of the zip), and the shipped
#    /exports/orders.csv (N = 2) equals COPY of its SQL;
#  - empty slices: every boundary the smallest key, fewer rows than slices
#    (and a NULL key), no split values (serially);
#  - one snapshot: rows inserted, updated and deleted by another session
#    while a parallel export runs never show in any slice;
#  - failures in the first and in a later slice (an error, a statement
#    timeout, a killed backend, the client leaving): the download is cut,
#    nothing is left idle in transaction, the pool is whole, no spool file
#    is left;
#  - a pool that cannot give the connections at once: serially, same bytes;
#  - a chain with OrderStreamParallel fails apachectl -t.
# The Locations are in t/conf/parallel.conf.in.
use strict;
use warnings;

use File::Spec ();
use File::Temp ();
use Time::HiRes ();
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(copy_csv lf_to_crlf repo_conf
                       raw_request raw_start raw_read raw_close raw_result
                       dechunk error_log_size error_log_since psql_super
                       wait_no_idle_in_transaction next_export_works
                       httpd_config_test unique_tag wait_outcome_line);

plan tests => 51 + 8 + 8 + 3 + 5 + 3 + 2 + 3;

Apache::TestRequest::module('os_parallel');

# The status, the body and the request's orderstream-parallel note (N, or
# "serial"; t/conf/extra.conf.in logs it), so that a test of equal bytes
# also knows the slices ran: a serial run gives the same bytes.
sub get_body {
    my ($path) = @_;
    my $tag = unique_tag('par');
    my $res = GET($path, 'X-Test-Tag' => $tag);
    my $l = wait_outcome_line($tag) || {};
    return ($res->code, $res->content, $l->{parallel} // '');
}

# SQL's value (as the cluster's superuser), asked up to TRIES times, STEP
# seconds apart, until DONE holds for it: the last value asked.
sub poll_db {
    my ($sql, $tries, $step, $done) = @_;
    my $v;
    for (1 .. $tries) {
        $v = psql_super($sql);
        last if $done->($v);
        Time::HiRes::sleep($step);
    }
    return $v;
}

# How many of the shop's backends sleep in pg_sleep: once one does (up to
# TRIES x 0.1 s).
sub sleeping {
    my ($tries) = @_;
    return poll_db("SELECT count(*) FROM pg_stat_activity WHERE"
        . " usename = 'shop' AND wait_event = 'PgSleep'",
        $tries, 0.1, sub { $_[0] });
}

# How many of the shop's backends are not idle: once none is (up to 100
# looks, STEP seconds apart).
sub busy_backends {
    my ($step) = @_;
    return poll_db("SELECT count(*) FROM pg_stat_activity WHERE"
        . " usename = 'shop' AND state <> 'idle'", 100, $step,
        sub { $_[0] == 0 });
}

# name and SHA-256 of every member of a zip (a workbook's bytes differ only
# in the members' times, which are the request's).
sub zip_members {
    my ($bytes) = @_;
    my $tmp = File::Temp->new(SUFFIX => '.xlsx');
    binmode $tmp;
    print $tmp $bytes;
    close $tmp;
    my $out = `/usr/bin/python3 -c 'import hashlib, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist(): print(n, hashlib.sha256(z.read(n)).hexdigest())' $tmp 2>&1`;
    return $out;
}

# --- 1. the same bytes as the serial export ---------------------------------

my %serial;
for my $fmt (qw(csv tsv ndjson xlsx)) {
    my ($code, $body) = get_body("/par/serial/shop?format=$fmt");
    $serial{$fmt} = $fmt eq 'xlsx' ? zip_members($body) : $body;
}
ok length($serial{csv}) > 1_000_000, 'the serial shop export has rows';
for my $n (2, 3, 4) {
    for my $fmt (qw(csv tsv ndjson xlsx)) {
        my ($code, $body, $par) = get_body("/par/$n/shop?format=$fmt");
        my $got = $fmt eq 'xlsx' ? zip_members($body) : $body;
        ok $code == 200 && $got eq $serial{$fmt} && $par eq $n,
            "$n slices, $fmt: the serial export's bytes, read in $n slices"
            or diag "code $code, parallel '$par', " . length($got) . " vs "
                . length($serial{$fmt});
    }
}

{
    # A preview (?limit=) runs serially: the same export, one connection.
    Apache::TestRequest::module('default');
    my ($c1, $want, $p1) = get_body('/exports/orders.csv?limit=100000000');
    my ($code, $body, $par) = get_body('/exports/orders.csv');
    Apache::TestRequest::module('os_parallel');
    ok $code == 200 && $c1 == 200 && length($body) > 1_000_000 && $body eq $want
        && $par eq '2' && $p1 eq 'serial',
        'the shipped /exports/orders.csv (2 slices): the serial bytes'
        or diag "parallel '$par', preview '$p1'";
}

# The range reaches the scan: slice 2 of the shipped export, as os_slice.c
# writes it, is an index range on the items' order_id.
{
    my ($sql) = OrderStreamTest::location_sqls('/exports/orders.csv',
                                               repo_conf('orderstream.conf'));
    $sql =~ s/\$[12]\b/NULL::date/g;
    $sql =~ s/\$3\b/NULL::text/g;
    my $plan = OrderStreamTest::_psql('-A', '-t', '-c',
        "EXPLAIN SELECT * FROM (\n$sql\n) AS orderstream_slice(c1, c2, c3, c4, c5, c6, c7)"
        . " WHERE c1 >= '20000' AND c1 < '40000'");
    like $plan, qr/Cond: \(\(order_id >= '20000'::bigint\) AND \(order_id < '40000'::bigint\)\)/,
        'the shipped export: a slice\'s range is an index condition on the items'
        or diag $plan;
}

# --- 2. empty slices -------------------------------------------------------

for my $case (['empty-first', 3], ['few', 4]) {
    my ($name, $n) = @$case;
    my (undef, $want) = get_body("/par/serial/$name");
    my ($code, $got, $par) = get_body("/par/$name");
    ok $code == 200 && $got eq $want && $par eq $n,
        "$name: the serial export's bytes, in $n slices"
        or diag "parallel '$par'";
}
{
    my $from = error_log_size();
    my (undef, $want) = get_body('/par/serial/empty-first');
    my ($code, $got) = get_body('/par/nosplit');
    ok $code == 200 && $got eq $want, 'no split values: the serial bytes';
    like error_log_since($from), qr/OS00452: \S+: OrderStreamParallel 2: run serially: SPLIT-SQL gave 0 values/,
        'no split values: logged as run serially';
}

# --- 3. one snapshot -----------------------------------------------------------

{
    my $rows = 30000;
    psql_super("SELECT 1");    # the cluster answers
    my $db = sub { OrderStreamTest::psql_value(@_) };
    $db->("DROP TABLE IF EXISTS par_snap");
    $db->("CREATE TABLE par_snap (id int PRIMARY KEY, v text)");
    $db->("INSERT INTO par_snap SELECT g, 'row ' || g FROM generate_series(1, $rows) g");
    my $before = copy_csv('SELECT id, v FROM par_snap ORDER BY id');
    my $c = raw_start(GET => '/par/snap', module => 'os_parallel', rcvbuf => 4096);
    raw_read($c, max_body => 2000, timeout => 10);
    # The first slice is being sent; the others are read or wait: change
    # rows in every third.
    $db->("UPDATE par_snap SET v = 'changed' WHERE id IN (5000, 15000, 25000)");
    $db->("DELETE FROM par_snap WHERE id IN (6000, 16000, 26000)");
    $db->("INSERT INTO par_snap VALUES (" . ($rows + 1) . ", 'new')");
    raw_read($c, timeout => 30);
    raw_close($c);
    my $r = raw_result($c);
    my ($data, $complete) = dechunk($r->{body});
    ok $complete, 'one snapshot: the export is complete';
    ok $data eq lf_to_crlf($before),
        'one snapshot: no change made meanwhile shows in any slice';
    my $after = copy_csv('SELECT id, v FROM par_snap ORDER BY id');
    isnt $after, $before, 'one snapshot: the changes were committed';
    $db->("DROP TABLE par_snap");
}

# --- 4. failures -------------------------------------------------------------

my (undef, $ids) = get_body('/par/serial/ids');

sub spool_files {
    my $dir = "$ENV{OS_SPOOL_DIR}/rw";
    opendir my $dh, $dir or return -1;
    my @f = grep { !/^\.\.?$/ } readdir $dh;
    return scalar @f;
}

sub cut_ok {
    my ($what, $path, $re, %opt) = @_;
    my $from = error_log_size();
    my $r = raw_request(GET => $path, module => 'os_parallel', timeout => 30);
    my (undef, $complete) = dechunk($r->{body});
    # Before the first byte (the first FETCH, when PostgreSQL sorts the
    # slice first) it is a 500, as for a serial export; after it, a cut.
    ok $r->{status} == 500 || ($r->{status} == 200 && !$complete),
        "$what: a 500 or a cut download (no last chunk)";
    like error_log_since($from), $re, "$what: logged";
    is wait_no_idle_in_transaction(5), 0, "$what: nothing idle in transaction";
    is spool_files(), 0, "$what: no spool file left";
    my ($code, $body) = get_body('/par/serial/ids');
    ok $code == 200 && $body eq $ids, "$what: the next export is whole";
}

cut_ok('an error in the first slice', '/par/fail-first',
       qr/OS000(?:12|15): \S+: .*SQLSTATE 22012/);
cut_ok('an error in the last slice', '/par/fail-last',
       qr/OS000(?:12|15): \S+: .*SQLSTATE 22012/);
cut_ok('a statement timeout in the last slice', '/par/timeout-last',
       qr/OS000(?:12|15): \S+: .*SQLSTATE 57014/);

# A later slice's backend killed while it sleeps.
{
    my $from = error_log_size();
    my $c = raw_start(GET => '/par/slow-last', module => 'os_parallel');
    raw_read($c, max_body => 1000, timeout => 10);
    my $pid = poll_db("SELECT pid FROM pg_stat_activity WHERE usename = 'shop'"
        . " AND wait_event = 'PgSleep' LIMIT 1", 100, 0.1, sub { $_[0] ne '' });
    ok $pid ne '', 'killed backend: the sleeping slice is found';
    psql_super("SELECT pg_terminate_backend($pid)") if $pid ne '';
    raw_read($c, timeout => 30);
    raw_close($c);
    my $r = raw_result($c);
    my (undef, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && !$complete, 'killed backend: a cut download';
    like error_log_since($from), qr/OS00015: \S+: export cut/,
        'killed backend: logged';
    is wait_no_idle_in_transaction(5), 0,
        'killed backend: nothing idle in transaction';
    my ($code, $body) = get_body('/par/serial/ids');
    ok $code == 200 && $body eq $ids, 'killed backend: the next export is whole';
}

# The client leaves while the slices are read (the others are cancelled).
{
    my $from = error_log_size();
    my $c = raw_start(GET => '/par/gone', module => 'os_parallel',
                      rcvbuf => 4096);
    raw_read($c, max_body => 1000, timeout => 10);
    Time::HiRes::sleep(0.5);
    raw_close($c);
    my $log = '';
    for (1 .. 100) {
        $log = error_log_since($from);
        last if $log =~ /OS00014/;
        Time::HiRes::sleep(0.1);
    }
    like $log, qr/OS00014: \/par\/gone: client gone after \d+ rows/,
        'client gone: noticed while the slices were read';
    is busy_backends(0.1), 0, 'client gone: every slice cancelled, every connection idle';
    my ($code, $body) = get_body('/par/serial/ids');
    ok $code == 200 && $body eq $ids, 'client gone: the next export is whole';
}

# The client leaves while the export waits for the database (os_watch.c
# in the slices' wait): in the first slice, before the first byte, and in
# the last, after slices 1 and 2 were sent. Every slice is cancelled at
# once, not when the 30 s sleep would end.
for my $case (['first slice', '/par/wait-first', 0], ['last slice', '/par/wait-last', 1]) {
    my ($where, $path, $body) = @$case;
    my $from = error_log_size();
    my $c = raw_start(GET => $path, module => 'os_parallel');
    raw_read($c, max_body => 1000, timeout => 10) if $body;
    ok sleeping(100), "client gone in the $where: the slice sleeps";
    my $t0 = Time::HiRes::time();
    raw_close($c);
    my $busy = busy_backends(0.05);
    my $took = Time::HiRes::time() - $t0;
    ok $busy == 0 && $took < 5,
        sprintf("client gone in the $where: every slice idle after %.2f s", $took);
    like error_log_since($from),
        qr/OS00350: \Q$path\E: client gone while the database worked/,
        "client gone in the $where: logged as such";
    is spool_files(), 0, "client gone in the $where: no spool file left";
}

# The bounds on the client's pace cut a parallel export as a serial one,
# with every slice's cursor open (the spool full): all of them closed.
for my $case (['too-slow', qr/OS00053/], ['too-long', qr/OS00054/]) {
    my ($what, $re) = @$case;
    my $tag = unique_tag($what);
    my $from = error_log_size();
    my $c = raw_start(GET => "/par/$what", module => 'os_parallel',
                      rcvbuf => 4096, tag => $tag);
    Time::HiRes::sleep(4);    # reads nothing: past both bounds (2 s)
    raw_read($c, timeout => 30);
    raw_close($c);
    my $r = raw_result($c);
    my $l = wait_outcome_line($tag, 10) || {};
    my (undef, $complete) = dechunk($r->{body});
    ok !$complete && $l->{outcome} eq $what && $l->{parallel} eq '3',
        "$what: a cut download of 3 slices, outcome $what"
        or diag $l->{line};
    like error_log_since($from), $re, "$what: logged";
    is wait_no_idle_in_transaction(5), 0, "$what: nothing idle in transaction";
    is spool_files(), 0, "$what: no spool file left";
}

# --- 5. the pool busy: serially ------------------------------------------------

{
    my $from = error_log_size();
    Apache::TestRequest::module('os_parallel_busy');
    my ($code, $got) = get_body('/par/busy');
    Apache::TestRequest::module('os_parallel');
    ok $code == 200 && $got eq $ids, 'pool of one: the serial bytes';
    like error_log_since($from),
        qr/OS00452: \S+: OrderStreamParallel 2: run serially: the pool could not give 1 more connection: other exports hold connections \(alongside=0\), or half of it would be in use/,
        'pool of one: logged as run serially';
}

# alongside=: by default slices only for an export that reads alone; with
# alongside=1, beside one other export.
{
    my $hold = raw_start(GET => '/par/hold', module => 'os_parallel');
    sleeping(50);
    my ($code, $got, $par) = get_body('/par/alone');
    ok $code == 200 && $par eq 'serial' && $got eq $ids,
        'alongside=0 (default): beside another export, serially, the same bytes'
        or diag "parallel '$par'";
    ($code, $got, $par) = get_body('/par/beside');
    ok $code == 200 && $par eq '2' && $got eq $ids,
        'alongside=1: beside another export, in 2 slices, the same bytes'
        or diag "parallel '$par'";
    raw_read($hold, timeout => 10);
    raw_close($hold);
    ($code, $got, $par) = get_body('/par/alone');
    is $par, '2', 'alongside=0: alone again, in 2 slices';
}

# formats=: the shipped export reads its workbook serially (not in the
# default formats: the writer bounds it), the same bytes as its preview.
{
    Apache::TestRequest::module('default');
    my $from = error_log_size();
    my ($c1, $want) = get_body('/exports/orders.csv?format=xlsx&limit=100000000');
    my ($code, $got, $par) = get_body('/exports/orders.csv?format=xlsx');
    Apache::TestRequest::module('os_parallel');
    ok $code == 200 && $par eq 'serial' && zip_members($got) eq zip_members($want),
        'formats= without xlsx: the shipped workbook serially' or diag "parallel '$par'";
    like error_log_since($from), qr/OS00452: \S+: OrderStreamParallel 2: run serially: xlsx is not in its formats=/,
        'formats=: logged as run serially, saying why';
}

# Half the pool: with 4 connections, 2 slices when nothing else runs; 3
# slices never (3 of 4 held); 2 not while another export holds one.
{
    Apache::TestRequest::module('os_parallel_half');
    my (undef, $want) = get_body('/par/serial/ids');
    my ($code, $got, $par) = get_body('/par/half/2');
    is $par, '2', 'half the pool: 2 slices of 4 connections when idle';
    ($code, $got, $par) = get_body('/par/half/3');
    ok $code == 200 && $par eq 'serial' && $got eq $ids,
        'half the pool: 3 slices would hold 3 of 4: serially, the same bytes';
    my $hold = raw_start(GET => '/par/half/hold', module => 'os_parallel_half');
    sleeping(50);
    ($code, $got, $par) = get_body('/par/half/2');
    ok $code == 200 && $par eq 'serial' && $got eq $ids,
        'half the pool: with another export running, 2 slices run serially';
    raw_read($hold, timeout => 10);
    raw_close($hold);
    Apache::TestRequest::module('os_parallel');
}

# --- 6. the config test ----------------------------------------------------------

{
    my ($rc, $out) = httpd_config_test(location => <<'LOC');
SetHandler orderstream
OrderStreamSQL "SELECT 1"
OrderStreamSQL "SELECT 2"
OrderStreamParallel 2 "SELECT 1"
LOC
    isnt $rc, 0, 'a chain with OrderStreamParallel fails the config test';
    like $out, qr/OS00450: OrderStreamParallel: at \S+, in a section with 2 OrderStreamSQL/,
        'the message names the directive';
    ($rc, $out) = httpd_config_test(location => <<'LOC');
SetHandler orderstream
OrderStreamSQL "SELECT 1"
OrderStreamParallel 1 "SELECT 1"
LOC
    isnt $rc, 0, 'OrderStreamParallel 1 fails the config test';
    ($rc, $out) = httpd_config_test(location => <<'LOC');
SetHandler orderstream
OrderStreamSQL "SELECT 1"
OrderStreamParallel 2 "SELECT $1"
LOC
    isnt $rc, 0, 'a SPLIT-SQL with a parameter fails the config test';
    for my $case (['formats=pdf', qr/OrderStreamParallel: formats=: "pdf" is not one of csv, tsv, ndjson, xlsx/],
                  ['alongside=-1', qr/OrderStreamParallel: "-1" is not a whole number from 0 to 100000/],
                  ['slices=2', qr/OrderStreamParallel: "slices=2" is not an option \(formats=LIST, alongside=K\)/]) {
        my ($opt, $re) = @$case;
        ($rc, $out) = httpd_config_test(location => <<"LOC");
SetHandler orderstream
OrderStreamSQL "SELECT 1 AS k ORDER BY 1"
OrderStreamParallel 2 "SELECT 1" $opt
LOC
        ok $rc != 0 && $out =~ $re, "the config test refuses $opt, naming it"
            or diag $out;
    }
    # The first column must lead the ORDER BY, ascending, NULLs last
    # (os_sql_leading_key): else the slices in turn are not the result.
    for my $case (
        ['SELECT id, email FROM shop_order ORDER BY email, id', qr/ORDER BY starts with "email", not the first column "id"/],
        ['SELECT id, email FROM shop_order ORDER BY id DESC', qr/slices need ascending order/],
        ['SELECT id, email FROM shop_order ORDER BY 1 NULLS FIRST', qr/slices need NULLs last/],
        ['SELECT id, email FROM shop_order', qr/the query has no ORDER BY/],
        ) {
        my ($sql, $re) = @$case;
        ($rc, $out) = httpd_config_test(location => <<"LOC");
SetHandler orderstream
OrderStreamSQL "$sql"
OrderStreamParallel 2 "SELECT id FROM shop_order"
LOC
        ok $rc != 0 && $out =~ /OS00453: OrderStreamParallel: at \S+: the query's ORDER BY must start with its first column, ascending, NULLs last: / && $out =~ $re,
            "the config test refuses: $sql" or diag $out;
    }
    ($rc, $out) = httpd_config_test(location => <<'LOC');
SetHandler orderstream
OrderStreamSQL "SELECT o.id AS \"Order\", o.customer_email FROM shop_order o ORDER BY \"Order\" ASC NULLS LAST"
OrderStreamParallel 2 "SELECT id FROM shop_order"
LOC
    is $rc, 0, 'the config test takes ORDER BY the first column\'s alias'
        or diag $out;
}
