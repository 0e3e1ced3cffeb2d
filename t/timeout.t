# OrderStreamStatementTimeout: SET LOCAL statement_timeout inside the
# export's transaction.
#  - the first FETCH runs past it: nothing was sent, so 500, outcome timeout,
#    SQLSTATE 57014 in the error log, no PostgreSQL message in the body;
#  - a later FETCH runs past it: the download is cut, outcome timeout;
#  - a timeout that is not reached changes nothing;
#  - the setting never outlives the export: on the same pooled connection
#    (os_pool, DBDMax 1: same backend pid) statement_timeout is back to the
#    server's default (0) for the next export, which sets none.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET_BODY);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use OrderStreamTest qw(location_sql copy_csv raw_request dechunk
                       wait_no_idle_in_transaction unique_tag
                       wait_outcome_line);

plan tests => 30;

Apache::TestRequest::module('os_pool');

# "statement_timeout,backend pid" as the pooled connection sees it.
sub setting {
    my $r = raw_request(GET => '/pool/setting', module => 'os_pool',
                        timeout => 30);
    my ($d, $done) = dechunk($r->{body});
    return ($r->{status} == 200 && $done && $d =~ /^([^,]*),(\d+)\n\z/)
        ? ($1, $2) : ('?', "status $r->{status}: $d");
}

my ($st0, $pid0) = setting();
is $st0, '0', 'before: the connection has no statement_timeout';

# --- the first FETCH times out -------------------------------------------------
{
    my $tag = unique_tag('timeout-first');
    t_start_error_log_watch();
    my $r = raw_request(GET => "/pool/timeout-first", tag => $tag, module => 'os_pool',
                        timeout => 30);
    my @log = t_finish_error_log_watch();
    is $r->{status}, 500, 'first FETCH past the timeout: 500';
    ok $r->{seconds} < 1.8, sprintf 'first FETCH past the timeout: answered '
        . 'after the 300 ms timeout, not the 2 s sleep (%.2f s)', $r->{seconds};
    unlike $r->{body}, qr/statement timeout|canceling|pg_sleep|SELECT/i,
        'first FETCH past the timeout: no PostgreSQL message or SQL in the body';
    ok length($r->{body}) < 2000, 'first FETCH past the timeout: a short body';
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'timeout', 'first FETCH past the timeout: outcome timeout'
        or diag $l ? $l->{line} : 'no log line';
    is $l && $l->{status}, 500, 'first FETCH past the timeout: the access log says 500';
    is $l && $l->{rows}, 0, 'first FETCH past the timeout: orderstream-rows 0';
    ok((grep { /\bOS\d{5}: / && m{/pool/timeout-first\b} && /\b57014\b/ } @log),
        'first FETCH past the timeout: error log has the tag, Location and '
        . 'SQLSTATE 57014') or diag @log;
    my ($st, $pid) = setting();
    is $st, '0', 'after a timeout at the first FETCH: statement_timeout is '
        . 'the default again on that connection';
    is $pid, $pid0, 'after a timeout at the first FETCH: the same connection '
        . '(a timeout does not cost the connection)';
}

# --- a later FETCH times out -----------------------------------------------------
{
    my $tag = unique_tag('timeout-later');
    t_start_error_log_watch();
    my $r = raw_request(GET => "/pool/timeout-later", tag => $tag, module => 'os_pool',
                        timeout => 30);
    my @log = t_finish_error_log_watch();
    is $r->{status}, 200, 'later FETCH past the timeout: the response had started';
    my ($data, $complete) = dechunk($r->{body});
    ok !$complete, 'later FETCH past the timeout: no last chunk';
    ok $r->{closed}, 'later FETCH past the timeout: the server closed the connection';
    ok $r->{seconds} < 1.8, sprintf 'later FETCH past the timeout: cut after '
        . 'the 300 ms timeout, not the 2 s sleep (%.2f s)', $r->{seconds};
    # FETCHes of 100: the third (rows 201..300) sleeps on row 250.
    my $want = "g,s\n" . join('', map { "$_,f\n" } 1 .. 200);
    is $data, $want, 'later FETCH past the timeout: exactly rows 1..200 were sent';
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'timeout', 'later FETCH past the timeout: outcome timeout'
        or diag $l ? $l->{line} : 'no log line';
    is $l && $l->{status}, 200, 'later FETCH past the timeout: the access log says 200';
    is $l && $l->{rows}, 200, 'later FETCH past the timeout: orderstream-rows 200';
    ok((grep { /\bOS\d{5}: / && m{/pool/timeout-later\b} && /\b57014\b/ } @log),
        'later FETCH past the timeout: error log has the tag, Location and '
        . 'SQLSTATE 57014') or diag @log;
    my ($st, $pid) = setting();
    is $st, '0', 'after a timeout at a later FETCH: statement_timeout is the '
        . 'default again on that connection';
    is $pid, $pid0, 'after a timeout at a later FETCH: the same connection';
}

# --- a timeout that is not reached ----------------------------------------------
{
    my $tag = unique_tag('timeout-unhit');
    my $r = raw_request(GET => "/fail/timeout-unhit", tag => $tag, module => 'default',
                        timeout => 30);
    my ($data, $complete) = dechunk($r->{body});
    is $r->{status}, 200, 'timeout not reached: 200';
    ok $complete && $data eq copy_csv(location_sql('/fail/timeout-unhit')),
        'timeout not reached: the body equals COPY';
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'complete', 'timeout not reached: outcome complete'
        or diag $l ? $l->{line} : 'no log line';
}

# The configured value is what the export's transaction sees, and only it.
for my $case (['/pool/setting-1500ms', '1500ms'], ['/pool/setting-2min', '2min']) {
    my ($path, $want) = @$case;
    my $r = raw_request(GET => $path, module => 'os_pool', timeout => 30);
    my ($d) = dechunk($r->{body});
    like $d, qr/^\Q$want\E,$pid0\n\z/,
        "OrderStreamStatementTimeout $want: the export runs with "
        . "statement_timeout $want";
    my ($st) = setting();
    is $st, '0', "after OrderStreamStatementTimeout $want: the next export "
        . 'on that connection has none';
}
is wait_no_idle_in_transaction(3), 0, 'at the end: nothing idle in transaction';
