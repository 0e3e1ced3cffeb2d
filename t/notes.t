# The request notes an access log can show (%{orderstream-outcome}n,
# %{orderstream-rows}n, %{orderstream-bytes}n), read back from the CustomLog
# of t/conf/extra.conf.in (t/logs/orderstream_log): set on every GET export,
# the refused and failed ones included (rows 0); rows counts data rows (not
# the header), bytes the body bytes. The other failure outcomes are checked
# where they happen: t/failures.t (db-error, client-gone), t/timeout.t
# (timeout), t/limits.t (rejected), t/restart.t, t/h2.t.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use OrderStreamTest qw(raw_request dechunk unique_tag wait_outcome_line
                       count_records);

plan tests => 36;

sub export_notes {
    my ($module, $path, $method) = @_;
    my $tag = unique_tag('notes');
    my $r = raw_request($method || 'GET', $path, module => $module,
                        timeout => 60, tag => $tag,
                        extra_headers => ($method || 'GET') =~ /^(?:GET|HEAD)$/
                            ? '' : "Content-Length: 0\r\n");
    my $l = wait_outcome_line($tag);
    return ($r, $l || {});
}

# Complete exports: rows and bytes are what the client got.
for my $case (['/edge/lf', "\n", 1], ['/edge/crlf', "\r\n", 1],
              ['/edge/noheader', "\n", 0], ['/exports/orders.csv', "\r\n", 1],
              ['/edge/empty', "\n", 1], ['/edge/empty-noheader', "\r\n", 0]) {
    my ($path, $eol, $header) = @$case;
    my ($r, $l) = export_notes(default => $path);
    my ($data, $complete) = dechunk($r->{body});
    ok $r->{status} == 200 && $complete, "$path: a whole export";
    is $l->{outcome}, 'complete', "$path: outcome complete";
    is $l->{rows}, count_records($data, $eol) - $header,
        "$path: orderstream-rows = data rows sent ($l->{rows})";
    is $l->{bytes}, length $data, "$path: orderstream-bytes = body bytes";
}

# curl over HTTP/1.1 with keep-alive (it closes as soon as it has the last
# chunk): a whole download is "complete" every time.
{
    my @outcomes;
    my $url = Apache::TestRequest::module2url('default',
                { scheme => 'http', path => '/edge/crlf' });
    for (1 .. 5) {
        my $tag = unique_tag('curl-http1');
        system('curl', '-sS', '--http1.1', '--max-time', '30', '-o', '/dev/null',
               '-H', "X-Test-Tag: $tag", $url);
        my $l = wait_outcome_line($tag);
        push @outcomes, $? == 0 ? ($l ? $l->{outcome} : '-') : "curl-exit-" . ($? >> 8);
    }
    is "@outcomes", join(' ', ('complete') x 5),
        'curl over HTTP/1.1, five times: outcome complete every time';
}

# A query that fails before the first byte: 500, db-error, nothing sent.
for my $path ('/edge/broken', '/edge/broken-fetch') {
    my ($r, $l) = export_notes(default => $path);
    is $r->{status}, 500, "$path: 500";
    is $l->{outcome}, 'db-error', "$path: outcome db-error";
    ok $l->{rows} eq '0' && $l->{bytes} eq '0',
        "$path: orderstream-rows and -bytes 0 ($l->{rows}, $l->{bytes})";
}

# A failure mid-stream: the access log says 200; the note tells it apart.
{
    my ($r, $l) = export_notes(default => '/edge/broken-midstream');
    my ($data, $complete) = dechunk($r->{body});
    ok !$complete, 'cut download: no last chunk';
    is $l->{status}, 200, 'cut download: the access log says 200';
    is $l->{outcome}, 'db-error', 'cut download: outcome db-error';
    is $l->{rows}, count_records($data, "\n") - 1,
        "cut download: orderstream-rows = rows the client got ($l->{rows})";
    is $l->{bytes}, length $data, 'cut download: orderstream-bytes = body bytes '
        . 'the client got';
}
