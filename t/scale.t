# Scale-out (issue 7): the shipped exports through PgBouncer in transaction
# pooling mode and on a hot standby (both started by t/run with t/bin/scale,
# virtual hosts in t/conf/scale.conf.in), compared with COPY on the primary;
# nothing session-scoped is left on PgBouncer's one shared server
# connection; a primary/standby conninfo with prefer-standby lands on the
# standby; a recovery conflict mid-export on the standby is a cut download,
# and the standby serves the next export.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use File::Spec ();
use JSON::PP ();
use Time::HiRes ();
use OrderStreamTest qw(conf_locations location_sql location_sqls repo_conf
                       copy_csv csv_line lf_to_crlf count_records bind_sql
                       psql_value psql_super raw_start raw_read raw_close
                       raw_result dechunk unique_tag wait_outcome_line
                       idle_in_transaction explain_difference);

if ($ENV{OS_SCALE_MISSING}) {
    plan skip_all => $ENV{OS_SCALE_MISSING};
}
for (qw(OS_PGBOUNCER_PORT OS_STANDBY_PORT)) {
    plan skip_all => "$_ is not set: run the suite with t/run, which starts"
        . " PgBouncer and the standby (t/bin/scale)" unless $ENV{$_};
}

plan tests => 38;

my $bport = $ENV{OS_PGBOUNCER_PORT};
my $sport = $ENV{OS_STANDBY_PORT};
my $scale_conf = File::Spec->catfile(Apache::Test::vars('t_conf'), 'scale.conf');
my $shop = repo_conf('orderstream.conf');
my $rows = $ENV{OS_TEST_ROWS} || 200000;

# psql on another server than the primary's (PGPORT): PgBouncer, the
# standby, or PgBouncer's console.
sub psql_at {
    my ($port, $user, $db, $sql) = @_;
    local $ENV{PGPORT} = $port;
    local $ENV{PGUSER} = $user;
    local $ENV{PGDATABASE} = $db;
    return psql_value($sql);
}

# PgBouncer's console, SHOW POOLS: the row of database shop as a hash.
sub bouncer_pool {
    my $out = do {
        local $ENV{PGPORT} = $bport;
        local $ENV{PGUSER} = 'postgres';
        local $ENV{PGDATABASE} = 'pgbouncer';
        `psql -X -q -A -F '|' -P footer=off -c 'SHOW POOLS'`;
    };
    my ($head, @lines) = split /\n/, $out;
    my @names = split /\|/, $head || '';
    for (@lines) {
        my %h;
        @h{@names} = split /\|/, $_, -1;
        return \%h if ($h{database} // '') eq 'shop';
    }
    return {};
}

sub get {
    my ($module, $path) = @_;
    Apache::TestRequest::module($module);
    return Apache::TestRequest::GET($path);
}

sub body_ok {
    my ($module, $path, $want, $name) = @_;
    my $res = get($module, $path);
    my $got = $res->content;
    ok $res->code == 200 && $got eq $want, $name
        or diag "GET $path ($module): " . $res->code . "\n"
            . ($res->code == 200 ? explain_difference($got, $want)
                                 : substr($got, 0, 300));
    return $res;
}

# --- the oracles: COPY on the primary ---------------------------------------

my $orders = conf_locations($shop)->{'/exports/orders.csv'};
my @labels = @{ $orders->{OrderStreamHeader} };
my $orders_sql = $orders->{OrderStreamSQL}[0];
my $want_all = csv_line("\r\n", @labels) . lf_to_crlf(copy_csv(
    bind_sql($orders_sql, 'NULL::date', 'NULL::date', 'NULL::text'), header => 0));
is count_records($want_all, "\r\n"), $rows + 1, "oracle: $rows rows and the header";
my $want_jan = csv_line("\r\n", @labels) . lf_to_crlf(copy_csv(
    bind_sql($orders_sql, "'2023-01-01'::date", "'2023-01-31'::date", 'NULL::text'),
    header => 0));
my $jan_rows = count_records($want_jan, "\r\n") - 1;
ok $jan_rows > 100 && $jan_rows < $rows, "oracle: January 2023 has $jan_rows rows";
my $cat = conf_locations($shop)->{'/exports/catalogue.csv'};
my $want_cat = csv_line("\r\n", @{ $cat->{OrderStreamHeader} })
    . join '', map { lf_to_crlf(copy_csv($_, header => 0)) }
          location_sqls('/exports/catalogue.csv', $shop);

# --- 1. PgBouncer, transaction pooling --------------------------------------

is psql_at($bport, 'shop', 'shop', 'SELECT count(*) FROM shop_orderitem'), $rows,
    'psql through PgBouncer reaches the shop data';
is bouncer_pool()->{pool_mode}, 'transaction', 'PgBouncer pools by transaction';

my $t0 = Time::HiRes::time();
my $res = body_ok('os_bouncer', '/exports/orders.csv', $want_all,
    'PgBouncer: /exports/orders.csv equals COPY on the primary');
is $res->header('Content-Type'), 'text/csv; charset=utf-8',
    'PgBouncer: Content-Type';
diag sprintf 'PgBouncer: %d rows in %.1f s', $rows, Time::HiRes::time() - $t0;
body_ok('os_bouncer', '/exports/orders.csv?since=2023-01-01&until=2023-01-31',
    $want_jan, 'PgBouncer: filtered export (since, until) equals COPY');
body_ok('os_bouncer', '/exports/catalogue.csv', $want_cat,
    'PgBouncer: chained export (catalogue.csv) equals COPY of each query');

# NDJSON: the same body as the default server's (a direct connection to the
# primary), one line per order.
{
    my $direct = get('default', '/exports/orders.csv?format=ndjson');
    my $pooled = get('os_bouncer', '/exports/orders.csv?format=ndjson');
    is $pooled->code, 200, 'PgBouncer: ?format=ndjson answers 200';
    like $pooled->header('Content-Type') // '', qr{^application/x-ndjson\b},
        'PgBouncer: NDJSON Content-Type';
    my $body = $pooled->content;
    ok $direct->code == 200 && $body eq $direct->content,
        'PgBouncer: NDJSON equals the direct connection\'s'
        or diag explain_difference($body, $direct->content);
    my @lines = split /\n/, $body;
    is scalar(@lines), psql_value('SELECT count(DISTINCT order_id) FROM shop_orderitem'),
        'PgBouncer: NDJSON has one line per order';
    my $items = 0;
    my $bad = 0;
    for (@lines) {
        my $o = eval { JSON::PP::decode_json($_) } or do { $bad++; next };
        $items += @{ $o->{Items} || [] };
    }
    ok !$bad && $items == $rows, "PgBouncer: NDJSON lines parse, $items items in all";
}

# Several exports in a row on one shared server connection: each one's
# transaction settings are its own, and nothing stays behind on it.
{
    my @states;
    for my $i (1 .. 5) {
        my $r = get('os_bouncer', '/scale/state');
        push @states, $r->code == 200 ? $r->content : 'HTTP ' . $r->code;
        get('os_bouncer', '/exports/orders.csv?since=2023-01-01&until=2023-01-03');
    }
    my $want = "recovery,iso,ro,st,enc\nf,repeatable read,on,45s,UTF8\n";
    is scalar(grep { $_ eq $want } @states), 5,
        'PgBouncer: 5 exports in a row, each in its own REPEATABLE READ READ ONLY'
        . ' transaction with its SET LOCAL settings'
        or diag explain @states;
    # psql through PgBouncer gets the same (only) server connection: none of
    # the export's settings, cursors or prepared statements are on it.
    is psql_at($bport, 'shop', 'shop',
        "SELECT concat_ws(',', current_setting('transaction_isolation'),"
        . " current_setting('default_transaction_isolation'),"
        . " current_setting('transaction_read_only'),"
        . " current_setting('statement_timeout'),"
        . " (SELECT count(*) FROM pg_cursors),"
        . " (SELECT count(*) FROM pg_prepared_statements))"),
        'read committed,read committed,off,0,0,0',
        'PgBouncer: the shared server connection carries no session state afterwards';
    my $pool = bouncer_pool();
    is "$pool->{cl_waiting}/$pool->{sv_active}", '0/0',
        'PgBouncer: SHOW POOLS: no client waiting, no server connection active';
    my $servers = 0;
    $servers += $pool->{$_} || 0 for qw(sv_active sv_idle sv_used sv_tested sv_login);
    ok $servers <= 1, "PgBouncer: 10 exports and psql shared $servers server connection";
    is idle_in_transaction(), 0,
        'primary: no connection of role shop idle in transaction';
}

# --- 2. The hot standby ------------------------------------------------------

is psql_at($sport, 'shop', 'shop', 'SELECT pg_is_in_recovery()'), 't',
    'the standby is in recovery';
$t0 = Time::HiRes::time();
body_ok('os_standby', '/exports/orders.csv', $want_all,
    'standby: /exports/orders.csv equals COPY on the primary');
diag sprintf 'standby: %d rows in %.1f s', $rows, Time::HiRes::time() - $t0;
body_ok('os_standby', '/scale/state',
    "recovery,iso,ro,st,enc\nt,repeatable read,on,0,UTF8\n",
    'standby: the export runs in recovery, REPEATABLE READ, READ ONLY');
body_ok('os_standby', '/exports/catalogue.csv', $want_cat,
    'standby: chained export equals COPY on the primary');

# --- 3. host=primary,standby target_session_attrs=prefer-standby -------------

body_ok('os_multi', '/scale/state',
    "recovery,iso,ro,st,enc\nt,repeatable read,on,0,UTF8\n",
    'prefer-standby: the export lands on the standby (pg_is_in_recovery)');
body_ok('os_multi', '/exports/orders.csv?since=2023-01-01&until=2023-01-31',
    $want_jan, 'prefer-standby: filtered export equals COPY on the primary');

# --- 4. A recovery conflict mid-export ---------------------------------------

psql_value('DROP TABLE IF EXISTS scale_conflict; '
    . 'CREATE TABLE scale_conflict AS SELECT g AS id FROM generate_series(1, 3000) AS g');
# The insert position, not pg_current_wal_lsn() (the write position):
# with synchronous_commit = off (t/bin/pg) the commit record may not be
# written yet.
my $lsn = psql_value('SELECT pg_current_wal_insert_lsn()');
my $replayed = 0;
for (1 .. 100) {
    $replayed = psql_at($sport, 'shop', 'shop',
        "SELECT pg_last_wal_replay_lsn() >= '$lsn'"
        . " AND to_regclass('scale_conflict') IS NOT NULL") eq 't' and last;
    Time::HiRes::sleep(0.1);
}
ok $replayed, 'conflict: the standby replayed the new table';

{
    my $tag = unique_tag('conflict');
    t_start_error_log_watch();
    my $c = raw_start(GET => "/scale/slow", tag => $tag, module => 'os_standby');
    raw_read($c, max_body => 1, timeout => 10);
    my $fetching = '';
    for (1 .. 100) {
        $fetching = psql_at($sport, 'postgres', 'postgres',
            "SELECT count(*) FROM pg_stat_activity WHERE usename = 'shop'"
            . " AND state = 'active' AND query LIKE 'FETCH%'");
        last if $fetching;
        Time::HiRes::sleep(0.05);
    }
    is $fetching, 1, 'conflict: the export runs FETCHes on the standby';
    my $d0 = Time::HiRes::time();
    psql_value('DROP TABLE scale_conflict');
    raw_read($c, timeout => 20);
    raw_close($c);
    my $r = raw_result($c);
    my @log = t_finish_error_log_watch();
    is $r->{status}, 200, 'conflict: the response had started (200)';
    my ($data, $complete) = dechunk($r->{body});
    ok !$complete, 'conflict: no last chunk (a cut download)';
    ok $r->{closed}, 'conflict: the server closed the connection';
    my $n = () = $data =~ /\n/g;
    $n--;
    ok $n >= 0 && $n < 3000, "conflict: the download is short ($n rows)";
    like $data, qr/\Aid,s\n(?:\d+,[tf]\n)*\z/, 'conflict: only whole lines were sent';
    my $secs = ($r->{closed} ? $c->{t_closed} : Time::HiRes::time()) - $d0;
    ok $secs < 5, sprintf 'conflict: cut %.1f s after the DROP on the primary', $secs;
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'db-error', 'conflict: outcome db-error'
        or diag $l ? $l->{line} : 'no log line';
    my @cut = grep { /\bOS00015: / && m{/scale/slow\b} && /\[orderstream:error\]/ } @log;
    ok scalar(@cut), 'conflict: error log has OS00015 (export cut) for /scale/slow'
        or diag @log;
    ok((grep { /\b40001\b/ && /conflict with recovery/ } @cut),
        'conflict: SQLSTATE 40001, conflict with recovery') or diag @cut;
    diag "conflict: $_" for map { /(OS00015: .*)/ ? substr($1, 0, 400) : () } @cut;
}

# The standby serves the next exports (the pool's connection after the
# conflict is reset or replaced).
body_ok('os_standby', '/scale/state',
    "recovery,iso,ro,st,enc\nt,repeatable read,on,0,UTF8\n",
    'after the conflict: the standby vhost answers again');
body_ok('os_standby', '/exports/orders.csv?since=2023-01-01&until=2023-01-31',
    $want_jan, 'after the conflict: a filtered export on the standby equals COPY');
is psql_at($sport, 'postgres', 'postgres',
    "SELECT count(*) FROM pg_stat_activity WHERE usename = 'shop'"
    . " AND state LIKE 'idle in transaction%'"), 0,
    'after the conflict: nothing idle in transaction on the standby';
