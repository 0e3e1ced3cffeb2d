# On a server whose mod_dbd pool holds one connection (DBDMax 1, the
# os_pool virtual host), whatever a request leaves on the connection, the
# next request gets: after a failed query, a failed FETCH or a client that
# goes away mid-export, the next export must work and no connection of role
# shop may sit idle in a transaction.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use OrderStreamTest qw(location_sql copy_csv raw_request dechunk
                       wait_no_idle_in_transaction next_export_works);

plan tests => 21;

Apache::TestRequest::module('os_pool');
my $ok_body = copy_csv(location_sql('/pool/ok'));

is GET('/pool/broken')->code, 500, 'missing relation: 500';
next_export_works('a failed DECLARE', '/pool/ok', $ok_body, 'os_pool');

my $r = raw_request(GET => '/pool/broken-fetch', timeout => 30);
ok $r->{status} == 500 || $r->{status} == 200,
    "failed FETCH: answered ($r->{status})";
next_export_works('a failed FETCH', '/pool/ok', $ok_body, 'os_pool');

$r = raw_request(GET => '/pool/broken-midstream', timeout => 30);
my ($d, $complete) = dechunk($r->{body});
ok $r->{status} == 200 && !$complete,
    "failed FETCH mid-stream: a broken response ($r->{status}, "
    . ($complete ? 'complete' : 'no last chunk') . ')';
next_export_works('a failed FETCH mid-stream', '/pool/ok', $ok_body, 'os_pool');

# Several failures in a row, then a good one: nothing piles up.
GET('/pool/broken') for 1 .. 3;
next_export_works('three failed requests', '/pool/ok', $ok_body, 'os_pool');

# A client that reads 64 KB of the 200,000-row export and goes away.
t_start_error_log_watch();
my $gone = raw_request(GET => '/pool/big', max_body => 65536, timeout => 30);
is $gone->{status}, 200, 'big export starts: 200';
ok length($gone->{body}) >= 65536, 'client got 64 KB, then hung up';
next_export_works('a client that went away mid-export', '/pool/ok', $ok_body, 'os_pool');
my @log = t_finish_error_log_watch();
ok !(grep { /\[orderstream:error\]/ } @log),
    'a client that goes away is not logged as an error'
    or diag grep { /orderstream/ } @log;
