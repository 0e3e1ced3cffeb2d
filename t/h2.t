# HTTP/2 in clear text (h2c, prior knowledge; Protocols h2c http/1.1 in
# t/conf/extra.conf.in), with curl:
#  - a complete export is the same body as over HTTP/1.1;
#  - a download cut by the database is a reset stream, never a clean end:
#    curl fails (92: HTTP/2 stream error, or another transfer error);
#  - 500 and 503 are ordinary responses;
#  - a client that goes away mid-export: outcome client-gone.
# Then the next export works and nothing is idle in transaction.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Temp qw(tempdir);
use OrderStreamTest qw(location_sql copy_csv lf_to_crlf raw_request dechunk bind_sql
                       unique_tag wait_outcome_line
                       wait_no_idle_in_transaction);

my $curl = `command -v curl 2>/dev/null`;
chomp $curl;
my $h2 = $curl && `"$curl" --version 2>/dev/null` =~ /\bHTTP2\b/;

plan tests => 23, need need_module('http2'),
    need { 'curl with HTTP/2 support' => $h2 };

my $dir = tempdir('h2-XXXXXX', DIR => Apache::Test::vars('t_dir') . '/tmp',
                  CLEANUP => 1);

# curl over h2c: returns (exit code, http code, http version, body, stderr).
sub h2 {
    my ($module, $path, @args) = @_;
    my $hp = Apache::TestRequest::module2url($module, { scheme => 'http',
                                                         path => $path });
    my ($body, $err, $meta) = map { "$dir/$_" } qw(body err meta);
    unlink $body, $err, $meta;
    system(join ' ', map({ quotemeta } $curl, '--http2-prior-knowledge', '-sS',
                         '--max-time', '30', '-o', $body,
                         '-w', '%{http_code} %{http_version}', @args, $hp),
           ">$meta", "2>$err");
    my $rc = $? >> 8;
    my $slurp = sub { open my $fh, '<:raw', $_[0] or return ''; local $/; <$fh> };
    my ($code, $version) = split ' ', $slurp->($meta);
    (my $stderr = $slurp->($err)) =~ s/\s+\z//;
    return ($rc, $code || 0, $version || '', $slurp->($body), $stderr);
}

# --- a whole export -----------------------------------------------------------
{
    my $tag = unique_tag('h2-whole');
    my ($rc, $code, $ver, $body, $err) = h2(default => '/edge/crlf', '-H', "X-Test-Tag: $tag");
    is $rc, 0, 'h2c, whole export: curl succeeds' or diag $err;
    is $code, 200, 'h2c, whole export: 200';
    is $ver, '2', 'h2c, whole export: over HTTP/2';
    my $http1 = raw_request(GET => '/edge/crlf', module => 'default');
    my ($data) = dechunk($http1->{body});
    ok $body eq $data, 'h2c, whole export: the same body as over HTTP/1.1 ('
        . length($body) . ' bytes)';
    is $body, lf_to_crlf(copy_csv(location_sql('/edge/crlf'))),
        'h2c, whole export: the body equals COPY';
    my $l = wait_outcome_line($tag);
    my @outcomes = ($l ? $l->{outcome} : '-');
    for (1 .. 4) {
        my $t = unique_tag('h2-whole');
        h2(default => '/edge/crlf', '-H', "X-Test-Tag: $t");
        my $x = wait_outcome_line($t);
        push @outcomes, $x ? $x->{outcome} : '-';
    }
    # curl closes the connection as soon as it has the whole body, and
    # mod_http2 then marks the stream's connection aborted while the last
    # pass (EOS) returns: that must still count as complete.
    is "@outcomes", join(' ', ('complete') x 5),
        'h2c, whole export, five times: outcome complete every time';
}
{
    my ($rc, $code, $ver, $body) = h2(default => '/exports/orders.csv');
    is $rc, 0, 'h2c, the shop export (200,000 rows): curl succeeds';
    ok $body eq lf_to_crlf(copy_csv(bind_sql(location_sql('/exports/orders.csv',
            Apache::Test::vars('top_dir') . '/conf/orderstream.conf'),
            'NULL::date', 'NULL::date', 'NULL::text'), header => 0)) =~ s/\A/$body =~ m{\A([^\r]*\r\n)} ? $1 : ''/er,
        'h2c, the shop export: the body equals COPY (after the header row)';
}

# --- cut by the database ---------------------------------------------------------
{
    my $tag = unique_tag('h2-cut');
    my ($rc, $code, $ver, $body, $err) = h2(os_pool => '/pool/row50k', '-H', "X-Test-Tag: $tag");
    isnt $rc, 0, "h2c, cut download: curl fails (exit $rc: $err)";
    # curl 7.88: "(92) HTTP/2 stream 1 was not closed cleanly: INTERNAL_ERROR"
    is $rc, 92, 'h2c, cut download: curl reports an HTTP/2 stream error (92)';
    is $code, 200, 'h2c, cut download: the response had started';
    my $want = "g,v\n" . join('', map { "$_,$_\n" } 1 .. 49_000);
    ok length($body) <= length($want) && $body eq substr($want, 0, length $body),
        'h2c, cut download: what arrived is the start of the export, no more ('
        . length($body) . ' bytes)';
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, 'db-error', 'h2c, cut download: outcome db-error';
    is $l && $l->{rows}, 49_000, 'h2c, cut download: orderstream-rows 49000';
}

# --- statuses before the first byte ------------------------------------------------
{
    my ($rc, $code, $ver, $body) = h2(default => '/edge/broken');
    is $code, 500, 'h2c, failing query: 500';
    unlike $body, qr/no_such_table|SELECT/, 'h2c, failing query: no SQL in the body';
    ($rc, $code, $ver, $body) = h2(os_down => '/down/orders.csv', '-D', "$dir/headers");
    is $code, 503, 'h2c, database unreachable: 503';
    open my $fh, '<', "$dir/headers";
    my $headers = do { local $/; <$fh> // '' };
    like $headers, qr/^retry-after: 5\r?$/mi, 'h2c, database unreachable: Retry-After';
}

# --- the client goes away ---------------------------------------------------------
{
    my $tag = unique_tag('h2-gone');
    # 64 KB of the 200,000-row export, then curl stops (--max-filesize would
    # not: the size is unknown). A pipe that closes makes curl abort with a
    # write error and reset the stream.
    my $url = Apache::TestRequest::module2url('os_pool',
                { scheme => 'http', path => '/pool/big' });
    my $got = `"$curl" --http2-prior-knowledge -sS --max-time 30 -H "X-Test-Tag: $tag" "$url" 2>/dev/null | head -c 65536 | wc -c`;
    chomp $got;
    is $got + 0, 65536, 'h2c, client gone: it read 64 KB';
    my $l = wait_outcome_line($tag, 10);
    is $l && $l->{outcome}, 'client-gone', 'h2c, client gone: outcome client-gone'
        or diag $l ? $l->{line} : 'no log line';
    ok $l && $l->{rows} < 200_000, 'h2c, client gone: the export stopped ('
        . ($l ? $l->{rows} : '-') . ' rows)';
}

# --- afterwards -------------------------------------------------------------------
{
    my ($rc, $code, $ver, $body) = h2(os_pool => '/pool/ok');
    ok $rc == 0 && $code == 200 && $body eq copy_csv(location_sql('/pool/ok')),
        'h2c: after all that, an export on the one-connection pool works';
    is wait_no_idle_in_transaction(3), 0, 'h2c: nothing idle in transaction';
}
