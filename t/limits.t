# Refusals before the first byte, each a 503 with Retry-After and outcome
# rejected in the access log:
#  - the pool is exhausted: os_limit has DBDMax 1 and OrderStreamAcquireTimeout
#    1s; while a slow export holds the connection, a second export waits about
#    1 s, then gets 503 (Retry-After 7, OrderStreamRetryAfter);
#  - OrderStreamMaxConcurrent 1 (os_conc): the second export at once gets 503
#    at once (default Retry-After 5);
#  - the database is unreachable (os_down: nothing listens on its port): 503.
# The refused requests never hold up the running export, which ends whole,
# and the next export works.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use OrderStreamTest qw(location_sql copy_csv raw_request raw_start raw_read
                       raw_close raw_result dechunk wait_fetching_backend
                       wait_no_idle_in_transaction unique_tag
                       wait_outcome_line);

plan tests => 43;

sub refused {
    my ($name, $r, $tag, $retry_after, $max_seconds, $min_seconds) = @_;
    is $r->{status}, 503, "$name: 503";
    is $r->{headers}{'retry-after'}, $retry_after,
        "$name: Retry-After $retry_after";
    ok $r->{seconds} < $max_seconds && $r->{seconds} >= ($min_seconds || 0),
        sprintf "$name: answered after %.2f s (expected %s to %s s)",
        $r->{seconds}, $min_seconds || 0, $max_seconds;
    unlike $r->{body}, qr/SELECT|generate_series|pg_sleep/,
        "$name: the body does not show the SQL";
    isnt $r->{headers}{'content-type'} || '', 'text/csv; charset=utf-8',
        "$name: the error page is not labelled CSV";
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'rejected', "$name: outcome rejected"
        or diag $l ? $l->{line} : 'no log line';
    is $l && $l->{status}, 503, "$name: the access log says 503";
    is $l && $l->{rows}, 0, "$name: orderstream-rows 0";
}

# Runs SLOW in the background of VHOST, then CODE while it holds its
# connection, then reads SLOW to its end; returns SLOW's result.
sub while_slow_runs {
    my ($module, $slow, $code) = @_;
    my $c = raw_start(GET => $slow, module => $module);
    raw_read($c, max_body => 1, timeout => 10);
    wait_fetching_backend(5);
    $code->();
    raw_read($c, timeout => 30);
    raw_close($c);
    return raw_result($c);
}

sub whole {
    my ($name, $r, $want) = @_;
    my ($d, $done) = dechunk($r->{body});
    ok $r->{status} == 200 && $done && $d eq $want,
        "$name: whole and correct ($r->{status}, "
        . ($done ? 'complete' : 'no last chunk') . ')';
}

my $slow_limit = copy_csv(location_sql('/limit/slow'));
my $slow_conc  = copy_csv(location_sql('/conc/slow'));

# --- pool exhausted -----------------------------------------------------------
{
    my ($tag, $r, @log);
    t_start_error_log_watch();
    my $slow = while_slow_runs(os_limit => '/limit/slow', sub {
        $tag = unique_tag('exhausted');
        $r = raw_request(GET => "/limit/ok", tag => $tag, module => 'os_limit',
                         timeout => 15);
    });
    @log = t_finish_error_log_watch();
    refused('pool exhausted', $r, $tag, 7, 2.5, 0.9);
    ok((grep { /\bOS\d{5}: / && m{/limit/ok\b} } @log),
        'pool exhausted: logged with the tag and the Location') or diag @log;
    ok !(grep { /\[orderstream:error\]/ && m{/limit/ok\b} } @log),
        'pool exhausted: a limit reached is not logged at error level'
        or diag grep { /orderstream/ } @log;
    whole('pool exhausted: the export that held the connection', $slow,
          $slow_limit);
    whole('pool exhausted: the next export',
          raw_request(GET => '/limit/ok', module => 'os_limit', timeout => 30),
          copy_csv(location_sql('/limit/ok')));
}

# --- two at once with OrderStreamMaxConcurrent 1 -------------------------------
{
    my ($tag, $r, $r2, $tag2, @log);
    t_start_error_log_watch();
    my $slow = while_slow_runs(os_conc => '/conc/slow', sub {
        $tag = unique_tag('concurrent');
        $r = raw_request(GET => "/conc/ok", tag => $tag, module => 'os_conc',
                         timeout => 15);
        # The same for a second slow one.
        $tag2 = unique_tag('concurrent-slow');
        $r2 = raw_request(GET => "/conc/slow", tag => $tag2, module => 'os_conc',
                          timeout => 15);
    });
    @log = t_finish_error_log_watch();
    refused('max concurrent', $r, $tag, 5, 0.5);
    refused('max concurrent, a second slow export', $r2, $tag2, 5, 0.5);
    ok !(grep { /\[orderstream:error\]/ && m{/conc/} } @log),
        'max concurrent: a limit reached is not logged at error level'
        or diag grep { /orderstream/ } @log;
    whole('max concurrent: the running export', $slow, $slow_conc);
    whole('max concurrent: the next export',
          raw_request(GET => '/conc/ok', module => 'os_conc', timeout => 30),
          copy_csv(location_sql('/conc/ok')));
    # Once the slow one ended, the limit is free again, each time.
    my $n = grep {
        my $x = raw_request(GET => '/conc/ok', module => 'os_conc', timeout => 30);
        $x->{status} == 200
    } 1 .. 5;
    is $n, 5, 'max concurrent: five exports one after the other all run';
}

# --- database unreachable -------------------------------------------------------
{
    my $tag = unique_tag('unreachable');
    t_start_error_log_watch();
    my $r = raw_request(GET => "/down/orders.csv", tag => $tag, module => 'os_down',
                        timeout => 15);
    my @log = t_finish_error_log_watch();
    refused('database unreachable', $r, $tag, 5, 5);
    ok((grep { /\bOS\d{5}: / && m{/down/orders\.csv\b} && /\[orderstream:error\]/ } @log),
        'database unreachable: logged at error level with the tag and the '
        . 'Location') or diag @log;
    # And again: nothing is cached, nothing hangs.
    $tag = unique_tag('unreachable');
    $r = raw_request(GET => "/down/orders.csv", tag => $tag, module => 'os_down',
                     timeout => 15);
    is $r->{status}, 503, 'database unreachable, again: 503';
}

is wait_no_idle_in_transaction(3), 0, 'at the end: nothing idle in transaction';
