# A client that leaves while the database works (issue 20), on the os_gone
# virtual host (t/conf/gone.conf.in), whose pool holds one connection. While
# an export waits for a FETCH (a 15-second query), the module watches the
# client's connection too (src/os_watch.c): when the client closes or
# resets it (HTTP/1.1), closes its HTTP/2 connection or resets its stream,
# the query is cancelled within 2 seconds, the backend is idle, the outcome
# note says client-gone and the next export runs at once; the same while
# a chain's second query runs, after the first one's rows went out. A
# client that only stops reading during a slow query is not cancelled: it
# gets the whole export once it reads again.
use strict;
use warnings;

use IO::Select ();
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time sleep);
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use OrderStreamTest qw(raw_request raw_start raw_read raw_close raw_result
                       dechunk psql_super unique_tag wait_outcome_line
                       wait_fetching_backend);

my $curl = `command -v curl 2>/dev/null`;
chomp $curl;
my $h2 = $curl && `"$curl" --version 2>/dev/null` =~ /\bHTTP2\b/;

plan tests => 27, need need_module('http2'),
    need { 'curl with HTTP/2 support' => $h2 };

Apache::TestRequest::module('os_gone');

# Backends of role shop that are not idle: an export's statement or
# transaction.
sub busy {
    return psql_super("SELECT count(*) FROM pg_stat_activity"
        . " WHERE usename = 'shop' AND backend_type = 'client backend'"
        . " AND state IS DISTINCT FROM 'idle'");
}

# Seconds from now until no backend of ours is busy (up to 10: the query
# sleeps 15).
sub seconds_to_idle {
    my $t0 = time;
    sleep 0.05 while busy() > 0 && time - $t0 < 10;
    return time - $t0;
}

# The query runs: a FETCH of ours is active in the database.
sub query_runs {
    my ($what) = @_;
    Test::More::ok(wait_fetching_backend(5) ne '', "$what: the query runs");
}

# The case's verdict: the backend idle within 2 s of the client leaving,
# the outcome, and the next export on the one connection at once.
sub cancelled {
    my ($what, $tag, $left_at) = @_;
    my $idle = (time - $left_at) + seconds_to_idle();
    ok $idle < 2, sprintf('%s: the backend is idle %.2f s after the client left',
                          $what, $idle);
    my $l = wait_outcome_line($tag, 5);
    is $l && $l->{outcome}, 'client-gone', "$what: outcome client-gone"
        or diag $l ? $l->{line} : 'no log line';
    my $t0 = time;
    my $r = raw_request(GET => '/gone/quick', module => 'os_gone', timeout => 20);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete
        && $data eq "n,what\n" . join('', map { "$_,quick\n" } 1 .. 5)
        && time - $t0 < 2,
        sprintf('%s: the next export on DBDMax 1 is whole, in %.2f s', $what,
                time - $t0);
}

# --- HTTP/1.1: the client closes, or resets, during the first FETCH ----------
for my $how ('close', 'reset') {
    my $tag = unique_tag("gone-$how");
    my $c = raw_start(GET => '/gone/sleep', module => 'os_gone', tag => $tag);
    query_runs("HTTP/1.1 $how");
    # SO_LINGER {1, 0}: close() sends a reset instead of a FIN.
    setsockopt($c->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0))
        or die "SO_LINGER: $!" if $how eq 'reset';
    raw_close($c);
    cancelled("HTTP/1.1 $how", $tag, time);
}

# --- a chain: the first query's rows are out, the second query runs ----------
{
    my $tag = unique_tag('gone-chain');
    my $c = raw_start(GET => '/gone/chain', module => 'os_gone', tag => $tag);
    my $want = "n,what\n1,first\n2,first\n3,first\n";
    my $deadline = time + 10;
    raw_read($c, timeout => 1) until index($c->{buf}, "3,first") >= 0
        || $c->{closed} || time > $deadline;
    my ($data) = dechunk(raw_result($c)->{body});
    is $data, $want, 'chain: the first query\'s rows arrived';
    query_runs('chain, second query');
    raw_close($c);
    cancelled('chain, second query', $tag, time);
    my $l = wait_outcome_line($tag, 1);
    is $l && $l->{rows}, 3, 'chain: orderstream-rows 3 (the first query\'s)';
}

# --- HTTP/2: the client closes its connection ---------------------------------
{
    my $tag = unique_tag('gone-h2-close');
    my $url = Apache::TestRequest::module2url('os_gone',
                { scheme => 'http', path => '/gone/sleep' });
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec($curl, '--http2-prior-knowledge', '-sS', '--max-time', '30',
             '-H', "X-Test-Tag: $tag", $url) or POSIX::_exit(127);
    }
    query_runs('HTTP/2 connection closed');
    kill 'KILL', $pid;    # the kernel closes its socket
    waitpid $pid, 0;
    cancelled('HTTP/2 connection closed', $tag, time);
}

# --- HTTP/2: the client resets the stream, the connection stays -----------------
{
    my $tag = unique_tag('gone-h2-reset');
    my $sock = h2c_get('/gone/sleep', $tag);
    query_runs('HTTP/2 stream reset');
    h2_frame($sock, 3, 0, 1, pack('N', 8));    # RST_STREAM, CANCEL
    cancelled('HTTP/2 stream reset', $tag, time);
    # The connection is still there: its end is not what cancelled.
    my ($open, $sel) = (1, IO::Select->new($sock));
    while ($open && $sel->can_read(0.2)) {
        $open = 0 unless sysread($sock, my $frames, 65536);
    }
    ok $open, 'HTTP/2 stream reset: the connection stayed open';
    close $sock;
}

# --- a client that only stops reading is not gone --------------------------------
{
    my $tag = unique_tag('gone-stalled');
    my $c = raw_start(GET => '/gone/short', module => 'os_gone', tag => $tag,
                      rcvbuf => 4096);
    query_runs('stalled reader');
    sleep 1.5;
    ok wait_fetching_backend(0) ne '',
        'stalled reader: 1.5 s later the query still runs';
    sleep 2;    # the query (3 s) ends while the client reads nothing
    raw_read($c, timeout => 10);
    my $r = raw_result($c);
    raw_close($c);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete && $data eq "n,what\n1,slept\n",
        'stalled reader: then it gets the whole export';
    my $l = wait_outcome_line($tag, 5);
    is $l && $l->{outcome}, 'complete', 'stalled reader: outcome complete';
}

# --- a minimal HTTP/2 client (h2c, prior knowledge) --------------------------------

# One frame: length, type, flags, stream, payload.
sub h2_frame {
    my ($sock, $type, $flags, $stream, $payload) = @_;
    my $len = length $payload;
    syswrite $sock, pack('CnCCN', $len >> 16, $len & 0xffff, $type, $flags,
                         $stream) . $payload;
}

# An HPACK header field, literal without indexing, new name, no Huffman
# (RFC 7541 6.2.2); every string here is under 127 bytes.
sub hpack {
    my ($name, $value) = @_;
    return pack('CC', 0, length $name) . $name . pack('C', length $value) . $value;
}

# Sends GET PATH as stream 1 and returns the socket.
sub h2c_get {
    my ($path, $tag) = @_;
    my $sock = Apache::TestRequest::vhost_socket('os_gone')
        or die "cannot connect to the test server";
    syswrite $sock, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    h2_frame($sock, 4, 0, 0, '');     # SETTINGS, none
    h2_frame($sock, 4, 1, 0, '');     # SETTINGS ACK of the server's
    my $block = hpack(':method', 'GET') . hpack(':scheme', 'http')
        . hpack(':path', $path)
        . hpack(':authority', Apache::TestRequest::hostport())
        . hpack('x-test-tag', $tag);
    h2_frame($sock, 1, 0x5, 1, $block);    # HEADERS, END_STREAM|END_HEADERS
    return $sock;
}
