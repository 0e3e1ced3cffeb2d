# A cut download must look cut to every client. Over HTTP/1.1 chunked the
# missing last chunk says so; a response that is not chunked (HTTP/1.0, or
# an HTTP/1.1 GET sent with "Expect: 100-continue", which httpd will not
# keep alive and so does not chunk) ends where the connection ends, so a
# cut must end the connection with a TCP reset: the client's read fails
# instead of seeing a clean end of file after a whole row.
#
# For both kinds of close-delimited client, on raw sockets: a row that
# raises an error, a backend killed mid-FETCH, a statement timeout and a
# group past OrderStreamMaxGroupRows each end in a reset; the outcome note
# says why; the one pooled connection (os_pool, DBDMax 1) serves the next
# export whole with nothing left in a transaction. curl -0 exits 56 on a
# cut and 0 on a whole export; a whole HTTP/1.0 export ends with a clean
# close and equals COPY. Over HTTP/1.1 chunked nothing changes: no last
# chunk, then a clean close.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Temp qw(tempdir);
use OrderStreamTest qw(location_sql copy_csv raw_request raw_start raw_read
                       raw_close raw_result dechunk psql_super
                       wait_fetching_backend wait_no_idle_in_transaction
                       wait_no_shop_activity unique_tag wait_outcome_line
                       next_export_works);

plan tests => 4 * 2 * 8 + 6 + 4 + 4 + 1 + 1;

Apache::TestRequest::module('os_pool');
my $ok_body = copy_csv(location_sql('/pool/ok'));

my %client = (
    'HTTP/1.0' => { http10 => 1 },
    'Expect: 100-continue' =>
        { extra_headers => "Expect: 100-continue\r\n" },
);

# Starts PATH as CLIENT would, lets KICK (if any) act once the body has
# begun, reads to the end; checks what the client saw and the outcome.
sub cut_case {
    my ($client, $name, $module, $path, $outcome, $kick) = @_;
    my $what = "$client, $name";
    my $tag = unique_tag("cut-$name");
    my $c = raw_start(GET => $path, module => $module, tag => $tag,
                      %{ $client{$client} });
    if ($kick) {
        raw_read($c, max_body => 1, timeout => 10);
        $kick->($what);
    }
    raw_read($c, timeout => 30);
    raw_close($c);
    my $r = raw_result($c);
    is $r->{status}, 200, "$what: the response had started (200)";
    ok !defined $r->{headers}{'transfer-encoding'}
        && !defined $r->{headers}{'content-length'},
        "$what: a close-delimited body (no chunking, no length)";
    ok $r->{closed} && $r->{reset},
        "$what: the connection ended in a reset, the read failed"
        . ($r->{reset} ? " ($r->{reset})" : ' (a clean end of file)');
    my $l = wait_outcome_line($tag, 10);
    is $l && $l->{outcome}, $outcome, "$what: outcome $outcome"
        or diag $l ? $l->{line} : 'no log line';
    ok $l && $l->{bytes} >= length $r->{body},
        "$what: the client got no more than orderstream-bytes";
    next_export_works($what, '/pool/ok', $ok_body, 'os_pool');
}

sub kill_backend {
    my ($what) = @_;
    my $pid = wait_fetching_backend(5) || 0;
    psql_super("SELECT pg_terminate_backend($pid)");
}

for my $client (sort keys %client) {
    cut_case($client, 'row error', os_pool => '/pool/row50k', 'db-error');
    cut_case($client, 'killed backend', os_pool => '/pool/slow', 'db-error',
             \&kill_backend);
    cut_case($client, 'statement timeout', os_pool => '/pool/timeout-later',
             'timeout');
    cut_case($client, 'group too large', os_fmt => '/fmt/gmax',
             'group-too-large');
}

# --- a whole export over HTTP/1.0 still ends normally ---------------------------
{
    my $tag = unique_tag('cut-whole-10');
    my $r = raw_request(GET => '/pool/ok', module => 'os_pool', tag => $tag,
                        http10 => 1, timeout => 30);
    is $r->{status}, 200, 'HTTP/1.0, whole export: 200';
    ok $r->{closed} && defined $r->{reset} && $r->{reset} eq '',
        'HTTP/1.0, whole export: a clean close (no reset)'
        or diag "reset: $r->{reset}";
    is $r->{body}, $ok_body, 'HTTP/1.0, whole export: the body equals COPY';
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'complete', 'HTTP/1.0, whole export: outcome complete';
    $r = raw_request(GET => '/pool/ok', module => 'os_pool', timeout => 30,
                     extra_headers => "Expect: 100-continue\r\n");
    ok $r->{closed} && defined $r->{reset} && $r->{reset} eq ''
        && $r->{body} eq $ok_body,
        'Expect: 100-continue, whole export: equals COPY, a clean close';
    is wait_no_shop_activity(3), 0, 'after the whole exports: every connection idle';
}

# --- curl -0 (HTTP/1.0) ------------------------------------------------------------
{
    my $dir = tempdir(CLEANUP => 1);
    my $url = Apache::TestRequest::module2url('os_pool',
                { scheme => 'http', path => '/pool/row50k' });
    my $rc = system('curl', '-0', '-sS', '--max-time', '30',
                    '-o', "$dir/cut.csv", $url) >> 8;
    is $rc, 56, 'curl -0, cut download: curl exits 56 (failure receiving data)';
    ok -s "$dir/cut.csv", 'curl -0, cut download: it had received part of the body';
    $url = Apache::TestRequest::module2url('os_pool',
                { scheme => 'http', path => '/pool/ok' });
    $rc = system('curl', '-0', '-sS', '--max-time', '30',
                 '-o', "$dir/whole.csv", $url) >> 8;
    is $rc, 0, 'curl -0, whole export: curl exits 0';
    open my $fh, '<:raw', "$dir/whole.csv" or die "$dir/whole.csv: $!";
    my $got = do { local $/; <$fh> };
    is $got, $ok_body, 'curl -0, whole export: the file equals COPY';
}

# --- HTTP/1.1 chunked: unchanged -----------------------------------------------------
{
    my $r = raw_request(GET => '/pool/row50k', module => 'os_pool', timeout => 30);
    ok $r->{headers}{'transfer-encoding'}
        && $r->{headers}{'transfer-encoding'} =~ /chunked/,
        'HTTP/1.1, cut download: chunked';
    my (undef, $complete) = dechunk($r->{body});
    ok !$complete, 'HTTP/1.1, cut download: no last chunk';
    ok $r->{closed} && defined $r->{reset} && $r->{reset} eq '',
        'HTTP/1.1, cut download: then a clean close, as before'
        or diag "reset: $r->{reset}";
    next_export_works('an HTTP/1.1 cut', '/pool/ok', $ok_body, 'os_pool');
}
