# PostgreSQL stops under a running export (pg_ctl stop -m immediate, as close
# to a crash as it gets) and comes back, while httpd keeps running:
#  - the running download is cut (200, no last chunk, connection closed),
#    outcome db-error;
#  - while the database is down, exports fail before the first byte, at
#    once (no request hangs), with 503 and Retry-After;
#  - once it is back, exports work again without restarting httpd.
# Every pooled connection of every virtual host dies here; mod_dbd only
# checks a local flag when it hands one out, so a connection that died while
# idle in the pool is handed out once more. The module should notice before
# the first byte (the BEGIN fails with the connection lost) and answer 503,
# or reconnect and go on: it reconnects a dead pooled connection before
# the first byte.
# The pools are left working for the test files that come after.
use strict;
use warnings;

use Time::HiRes ();
use Apache::Test qw(-withtestmore);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use OrderStreamTest qw(location_sql copy_csv raw_request raw_start raw_read
                       raw_close raw_result dechunk pg_crash pg_start
                       wait_fetching_backend wait_no_idle_in_transaction
                       unique_tag wait_outcome_line psql_value);

plan tests => 22;

my $ok_pool  = copy_csv(location_sql('/pool/ok'));
my $ok_limit = copy_csv(location_sql('/limit/ok'));
my $ok_main  = copy_csv(location_sql('/edge/lf'));

# Whatever happens below, the database must be running for the next files.
my $crashed = 0;
END { pg_start() if $crashed }

sub good {
    my ($r, $want) = @_;
    my ($d, $done) = dechunk($r->{body});
    return ($r->{status} || 0) == 200 && $done && $d eq $want;
}

# N exports of PATH at once; returns the results.
sub at_once {
    my ($n, $module, $path) = @_;
    my @c = map { raw_start(GET => $path, module => $module) } 1 .. $n;
    raw_read($_, timeout => 30), raw_close($_) for @c;
    return map { raw_result($_) } @c;
}

# Fill the pools with idle connections that will die with the server, as
# they would in production.
at_once(4, default => '/edge/lf');
raw_request(GET => '/limit/ok', module => 'os_limit', timeout => 30);
raw_request(GET => '/pool/ok', module => 'os_pool', timeout => 30);

# --- the database stops under a running export ------------------------------
my $tag = unique_tag('crash');
t_start_error_log_watch();
my $c = raw_start(GET => "/pool/slow", tag => $tag, module => 'os_pool');
raw_read($c, max_body => 1, timeout => 10);
ok wait_fetching_backend(5), 'the slow export is running a FETCH';
pg_crash();
$crashed = 1;
raw_read($c, timeout => 20);
raw_close($c);
my $r = raw_result($c);
is $r->{status}, 200, 'database stopped mid-stream: the response had started';
my ($data, $complete) = dechunk($r->{body});
ok !$complete, 'database stopped mid-stream: no last chunk';
ok $r->{closed}, 'database stopped mid-stream: the server closed the connection';
ok $r->{seconds} < 10, sprintf 'database stopped mid-stream: cut at once '
    . '(%.1f s)', $r->{seconds};
my $l = wait_outcome_line($tag);
is $l && $l->{outcome}, 'db-error', 'database stopped mid-stream: outcome db-error'
    or diag $l ? $l->{line} : 'no log line';

# --- while it is down ---------------------------------------------------------
# os_pool's one connection broke under the export above; os_limit's died
# idle in its pool.
for my $case ([os_pool => '/pool/ok'], [os_limit => '/limit/ok']) {
    my ($module, $path) = @$case;
    my (@res, @seen);
    for my $i (1 .. 3) {
        my $t = unique_tag('down');
        my $d = raw_request(GET => $path, tag => $t, module => $module,
                            timeout => 15);
        my $ol = wait_outcome_line($t);
        push @seen, sprintf '%s (%.1f s, Retry-After %s, outcome %s)',
            $d->{status} || 'no answer', $d->{seconds},
            $d->{headers}{'retry-after'} // '-', $ol ? $ol->{outcome} : '-';
        push @res, $d;
    }
    my $seen = "$module $path: " . join '; ', @seen;
    ok !(grep { !defined $_->{status} || $_->{seconds} >= 10 } @res),
        "database down, $module: every request answered in time" or diag $seen;
    ok !(grep { $_->{status} !~ /^5\d\d$/ } @res),
        "database down, $module: every request failed with a 5xx" or diag $seen;
    ok !(grep { $_->{status} != 503 || ($_->{headers}{'retry-after'} || '') !~ /^\d+$/ } @res),
        "database down, $module: every request 503 with Retry-After"
        or diag $seen;
}
my @log = t_finish_error_log_watch();

# --- back up -------------------------------------------------------------------
pg_start();
$crashed = 0;

# os_pool and os_limit: their connections were found dead while the database
# was down (and dropped); the first export gets a new one.
ok good(raw_request(GET => '/pool/ok', module => 'os_pool', timeout => 30),
        $ok_pool), 'database back, os_pool: the first export works';
ok good(raw_request(GET => '/limit/ok', module => 'os_limit', timeout => 30),
        $ok_limit), 'database back, os_limit: the first export works';

# The main server's pool still holds the connections that died idle.
my @tries;
for my $i (1 .. 6) {
    my $g = raw_request(GET => '/edge/lf', module => 'default', timeout => 15);
    push @tries, $g;
    last if good($g, $ok_main);
}
ok good($tries[-1], $ok_main),
    'database back, main server: the export works again, without '
    . 'restarting httpd (' . @tries . ' tries)';
ok !(grep { !defined $_->{status} || $_->{seconds} >= 10 } @tries),
    'database back, main server: every request answered in time';
ok !(grep { ($_->{status} || 0) == 200 && !good($_, $ok_main) } @tries),
    'database back, main server: no 200 that is not the whole export';
is scalar(@tries), 1,
    'database back, main server: the first export after the restart works'
    or diag 'statuses: ' . join ' ', map { $_->{status} || '-' } @tries;

# Use all four connections of the main pool at once, until every
# connection that died idle has been handed out and replaced.
my @rounds;
for my $round (1 .. 4) {
    my @x = at_once(4, default => '/edge/lf');
    push @rounds, scalar grep { good($_, $ok_main) } @x;
    last if $rounds[-1] == 4 && $round >= 2;
}
is $rounds[-1], 4, 'database back: four exports at once on the main '
    . 'server all work (good per round: @rounds)';
is $rounds[0], 4, 'database back: no export failed for a dead pooled '
    . 'connection (good per round: ' . "@rounds)";
is wait_no_idle_in_transaction(3), 0, 'database back: nothing idle in transaction';
is psql_value('SELECT 1'), 1, 'database back: psql reaches it';
