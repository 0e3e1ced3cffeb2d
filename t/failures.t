# The database fails after the body has started: the backend is killed, a
# row raises an error. The client must see a cut download (status 200, no
# last chunk, connection closed), the access log's outcome note says
# db-error, and the one pooled connection of os_pool (DBDMax 1) serves the
# next export whole, with no connection left idle in a transaction.
# Then the other side: the client goes away (closes, resets, stops reading
# past httpd's Timeout): outcome client-gone, nothing logged at error level.
use strict;
use warnings;

use Socket qw(SOL_SOCKET SO_LINGER);
use Apache::Test qw(-withtestmore);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use OrderStreamTest qw(location_sql copy_csv raw_request raw_start raw_read
                       raw_close raw_result dechunk psql_super
                       wait_fetching_backend wait_no_idle_in_transaction
                       wait_no_shop_activity unique_tag wait_outcome_line
                       next_export_works);

plan tests => 50;

Apache::TestRequest::module('os_pool');
my $ok_body = copy_csv(location_sql('/pool/ok'));

sub data_rows {
    my ($data) = @_;
    my $n = () = $data =~ /\n/g;
    return $n - 1;    # the header line
}

# --- 1. The backend is killed (pg_terminate_backend) during a FETCH --------
{
    my $tag = unique_tag('kill');
    t_start_error_log_watch();
    my $c = raw_start(GET => "/pool/slow", tag => $tag, module => 'os_pool');
    raw_read($c, max_body => 1, timeout => 10);
    my $pid = wait_fetching_backend(5);
    ok $pid, "kill: found the export's backend running a FETCH ($pid)";
    is psql_super("SELECT pg_terminate_backend(" . ($pid || 0) . ")"), 't',
        'kill: pg_terminate_backend';
    raw_read($c, timeout => 20);
    raw_close($c);
    my $r = raw_result($c);
    my @log = t_finish_error_log_watch();
    is $r->{status}, 200, 'kill: the response had started (200)';
    my ($data, $complete) = dechunk($r->{body});
    ok !$complete, 'kill: no last chunk';
    ok $r->{closed}, 'kill: the server closed the connection';
    my $rows = data_rows($data);
    ok $rows >= 0 && $rows < 3000, "kill: the download is short ($rows rows)";
    like $data, qr/\Ag,s\n(?:\d+,[tf]\n)*\z/, 'kill: only whole lines were sent';
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'db-error', 'kill: outcome db-error'
        or diag $l ? $l->{line} : 'no log line';
    is $l && $l->{status}, 200, 'kill: the access log says 200';
    is $l && $l->{rows}, $rows, 'kill: orderstream-rows = rows the client got';
    ok((grep { /\bOS\d{5}: / && m{/pool/slow\b} && /\[orderstream:error\]/ } @log),
        'kill: an error-log line with the tag and the Location') or diag @log;
    next_export_works('a killed backend', '/pool/ok', $ok_body, 'os_pool');
}

# --- 2. Row 50,000 of 100,000 raises division by zero -----------------------
{
    my $tag = unique_tag('row50k');
    t_start_error_log_watch();
    my $r = raw_request(GET => "/pool/row50k", tag => $tag, module => 'os_pool',
                        timeout => 30);
    my @log = t_finish_error_log_watch();
    is $r->{status}, 200, 'row 50000: the response had started (200)';
    my ($data, $complete) = dechunk($r->{body});
    ok !$complete, 'row 50000: no last chunk';
    ok $r->{closed}, 'row 50000: the server closed the connection';
    # FETCHes of 1000: the 50th fails, so the 49 before it went out whole.
    my $want = "g,v\n" . join('', map { "$_,$_\n" } 1 .. 49_000);
    ok $data eq $want, 'row 50000: exactly rows 1..49000 were sent'
        or diag 'got ' . data_rows($data) . ' rows, last: '
            . substr($data, -40);
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'db-error', 'row 50000: outcome db-error'
        or diag $l ? $l->{line} : 'no log line';
    is $l && $l->{status}, 200, 'row 50000: the access log says 200';
    is $l && $l->{rows}, 49_000, 'row 50000: orderstream-rows 49000';
    is $l && $l->{bytes}, length $data,
        'row 50000: orderstream-bytes = body bytes the client got';
    ok((grep { /\bOS\d{5}: / && m{/pool/row50k\b} && /\b22012\b/
               && /\[orderstream:error\]/ } @log),
        'row 50000: error log has the tag, Location and SQLSTATE 22012')
        or diag @log;
    next_export_works('an error raised by row 50000', '/pool/ok', $ok_body, 'os_pool');
}

# --- 3. The client reads 64 KB and closes -----------------------------------
sub client_leaves {
    my ($name, %how) = @_;
    my $tag = unique_tag($name);
    t_start_error_log_watch();
    my $c = raw_start(GET => "/pool/big", tag => $tag, module => 'os_pool');
    raw_read($c, max_body => 65536, timeout => 30);
    my $r = raw_result($c);
    is $r->{status}, 200, "$name: the export started (200)";
    ok length($r->{body}) >= 65536, "$name: the client got 64 KB";
    if ($how{reset}) {
        # SO_LINGER with a zero timeout: close() sends RST, not FIN.
        setsockopt($c->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0))
            or die "SO_LINGER: $!";
    }
    raw_close($c);
    my $l = wait_outcome_line($tag, 10);
    my @log = t_finish_error_log_watch();
    is $l && $l->{outcome}, 'client-gone', "$name: outcome client-gone"
        or diag $l ? $l->{line} : 'no log line';
    ok $l && $l->{rows} > 0 && $l->{rows} < 200_000,
        "$name: orderstream-rows counts what went out ("
        . ($l ? $l->{rows} : '-') . ')';
    ok !(grep { /\[orderstream:(?:error|crit|alert|emerg|warn)\]/ } @log),
        "$name: not logged at warning or error level"
        or diag grep { /orderstream/ } @log;
    next_export_works("a client that $name", '/pool/ok', $ok_body, 'os_pool');
}
client_leaves('closed after 64 KB');
client_leaves('reset after 64 KB', reset => 1);

# --- 4. The client stops reading: httpd's Timeout (2 s in os_stall) ---------
{
    my $tag = unique_tag('stall');
    t_start_error_log_watch();
    my $c = raw_start(GET => "/stall/big", tag => $tag, module => 'os_stall',
                      rcvbuf => 4096);
    raw_read($c, max_body => 1, timeout => 10);
    my $r = raw_result($c);
    is $r->{status}, 200, 'stalled client: the export started (200)';
    # Read nothing more: the socket buffers fill, httpd's write waits for
    # Timeout, then gives up on the client.
    my $l = wait_outcome_line($tag, 20);
    raw_close($c);
    my @log = t_finish_error_log_watch();
    is $l && $l->{outcome}, 'client-gone', 'stalled client: outcome client-gone'
        or diag $l ? $l->{line} : 'no log line within 20 s';
    ok $l && $l->{micros} < 15_000_000,
        'stalled client: given up on within a few seconds of Timeout ('
        . ($l ? sprintf('%.1f s', $l->{micros} / 1e6) : '-') . ')';
    ok !(grep { /\[orderstream:(?:error|crit|alert|emerg|warn)\]/ } @log),
        'stalled client: not logged at warning or error level'
        or diag grep { /orderstream/ } @log;
    next_export_works('a client that stopped reading', '/stall/ok',
                      copy_csv(location_sql('/stall/ok')), 'os_stall');
}

is wait_no_shop_activity(3), 0,
    'at the end: every connection of role shop is idle';
