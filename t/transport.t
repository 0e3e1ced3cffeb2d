# Transport (issue 5): mod_deflate and HTTP/2 in front of the exports.
#  - Through mod_deflate (AddOutputFilterByType DEFLATE for the three media
#    types, virtual host os_deflate in t/conf/transport.conf.in) the shop
#    export, as CSV, TSV and NDJSON, decompresses to exactly the body the
#    uncompressed server sends (CSV and TSV: exactly COPY), with
#    Content-Encoding: gzip and Vary: Accept-Encoding; without
#    Accept-Encoding it is sent as is.
#  - It is still streamed: the first compressed bytes arrive while the last
#    FETCH is still running in the database, and what arrived by then
#    inflates to every row of the batches before it.
#  - One FLUSH per batch is one sync flush (00 00 ff ff) in the gzip stream:
#    about as many as batches, not one per row, not none.
#  - Over HTTP/2 (h2c, prior knowledge), plain and compressed, the bodies
#    are those of HTTP/1.1.
use strict;
use warnings;

use File::Spec ();
use File::Temp qw(tempdir);
use Time::HiRes qw(time);
use Compress::Raw::Zlib qw(WANT_GZIP Z_OK Z_STREAM_END);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use OrderStreamTest qw(location_sql conf_locations repo_conf bind_sql copy_csv
                       csv_line lf_to_crlf psql_value explain_difference
                       raw_request raw_start raw_read raw_close raw_result
                       dechunk unique_tag outcome_line wait_outcome_line
                       wait_fetching_backend wait_no_idle_in_transaction psql_copy);

my $curl = `command -v curl 2>/dev/null`;
chomp $curl;
my $h2 = $curl && `"$curl" --version 2>/dev/null` =~ /\bHTTP2\b/;

plan tests => 30, need need_module('deflate', 'filter', 'http2'),
    need { 'curl with HTTP/2 support' => $h2 };

my $dir = tempdir('transport-XXXXXX', CLEANUP => 1,
                  DIR => Apache::Test::vars('t_dir') . '/tmp');
my $conf = File::Spec->catfile(Apache::Test::vars('t_conf'), 'transport.conf');

sub slurp { open my $fh, '<:raw', $_[0] or return ''; local $/; scalar <$fh> }

# GET PATH of MODULE's virtual host with curl and ARGS. Returns a hash: rc,
# code, version, size (bytes on the wire, before any decoding), ctype, body
# (decoded if --compressed), headers (lower-cased name => value), err.
sub fetch {
    my ($module, $path, @args) = @_;
    my $url = Apache::TestRequest::module2url($module, { scheme => 'http',
                                                          path => $path });
    my ($body, $err, $meta, $head) = map { "$dir/$_" } qw(body err meta head);
    unlink $body, $err, $meta, $head;
    system(join ' ', map({ quotemeta } $curl, '-sS', '--max-time', '60',
                         '-o', $body, '-D', $head, '-w',
                         '%{http_code} %{http_version} %{size_download} %{content_type}',
                         @args, $url),
           ">$meta", "2>$err");
    my %r = (rc => $? >> 8, body => slurp($body), err => slurp($err));
    @r{qw(code version size ctype)} = split / /, slurp($meta), 4;
    $r{$_} //= '' for qw(code version size ctype);
    my %h;
    for (split /\r?\n/, slurp($head)) {
        my ($k, $v) = /^([^:\s]+):\s*(.*?)\s*$/ or next;
        $h{lc $k} = exists $h{lc $k} ? "$h{lc $k}, $v" : $v;
    }
    $r{headers} = \%h;
    unlink $body;
    return \%r;
}

sub gunzip_all {
    my ($gz) = @_;
    my $out;
    gunzip(\$gz => \$out) or return "gunzip failed: $GunzipError";
    return $out;
}

# Inflate a gzip stream that may stop anywhere: what its bytes give so far.
sub inflate_prefix {
    my ($gz) = @_;
    my ($z, $st) = Compress::Raw::Zlib::Inflate->new(
        -WindowBits => WANT_GZIP, -AppendOutput => 1, -ConsumeInput => 1);
    die "inflate: $st" unless $z;
    my $out = '';
    my $status = $z->inflate($gz, $out);
    return ($out, $status);
}

sub diff_diag { diag explain_difference(@_) }

# --- 1. the shop export through mod_deflate, and over HTTP/2 ----------------

my $shipped = conf_locations(repo_conf('orderstream.conf'))->{'/exports/orders.csv'};
my $shop_sql = bind_sql($shipped->{OrderStreamSQL}[0],
                        'NULL::date', 'NULL::date', 'NULL::text');
my @labels = @{ $shipped->{OrderStreamHeader} };
my %ctype = (csv    => 'text/csv; charset=utf-8',
             tsv    => 'text/tab-separated-values; charset=utf-8',
             ndjson => 'application/x-ndjson');
my $orders = psql_value('SELECT count(DISTINCT order_id) FROM shop_orderitem');

for my $fmt (qw(csv tsv ndjson)) {
    my $path = "/exports/orders.csv?format=$fmt";

    # Uncompressed, HTTP/1.1, the default server: the reference body.
    my $plain = fetch(default => $path, '--http1.1');
    my $ref = $plain->{body};
    if ($fmt eq 'ndjson') {
        my $lines = () = $ref =~ /\n/g;
        ok $plain->{rc} == 0 && $plain->{code} == 200 && $lines == $orders
            && $ref =~ /\A\{"Order ID":1,/ && $ref =~ /\}\]\}\n\z/,
            "ndjson, HTTP/1.1 uncompressed: 200, one line per order ($lines of $orders)";
    }
    else {
        my $want = $fmt eq 'csv'
            ? csv_line("\r\n", @labels) . lf_to_crlf(psql_copy($shop_sql, 'FORMAT csv'))
            : join("\t", @labels) . "\n" . psql_copy($shop_sql, 'FORMAT text');
        ok $plain->{rc} == 0 && $plain->{code} == 200 && $ref eq $want,
            "$fmt, HTTP/1.1 uncompressed: 200, the body equals COPY ("
            . length($ref) . ' bytes)'
            or diff_diag($ref, $want);
    }

    # curl --compressed against the deflating virtual host.
    my $gz = fetch(os_deflate => $path, '--http1.1', '--compressed');
    ok $gz->{rc} == 0 && $gz->{code} == 200 && $gz->{body} eq $ref,
        "$fmt, HTTP/1.1 gzip: decompressed, the same body (curl exit $gz->{rc})"
        or diag($gz->{err}), diff_diag($gz->{body}, $ref);
    my $h = $gz->{headers};
    my $vary = $h->{vary} // '';
    ok +($h->{'content-encoding'} // '') eq 'gzip'
        && $vary =~ /\bAccept-Encoding\b/i && $vary =~ /\bAccept\b(?!-)/i
        && $gz->{ctype} eq $ctype{$fmt},
        "$fmt, HTTP/1.1 gzip: Content-Encoding gzip, Vary: $vary, $gz->{ctype}";
    ok $gz->{size} > 0 && $gz->{size} < length($ref) / 3,
        "$fmt, HTTP/1.1 gzip: compressed on the wire ($gz->{size} of "
        . length($ref) . ' bytes)';

    # HTTP/2, uncompressed and compressed.
    my $p2 = fetch(default => $path, '--http2-prior-knowledge');
    ok $p2->{rc} == 0 && $p2->{code} == 200 && $p2->{version} eq '2'
        && $p2->{ctype} eq $ctype{$fmt} && $p2->{body} eq $ref,
        "$fmt, HTTP/2: 200, $p2->{ctype}, the same body as HTTP/1.1"
        . " (curl exit $p2->{rc}, HTTP/$p2->{version})"
        or diag($p2->{err}), diff_diag($p2->{body}, $ref);
    my $g2 = fetch(os_deflate => $path, '--http2-prior-knowledge', '--compressed');
    ok $g2->{rc} == 0 && $g2->{code} == 200 && $g2->{version} eq '2'
        && ($g2->{headers}{'content-encoding'} // '') eq 'gzip'
        && $g2->{size} < length($ref) / 3 && $g2->{body} eq $ref,
        "$fmt, HTTP/2 gzip: decompressed, the same body as HTTP/1.1"
        . " ($g2->{size} bytes on the wire, curl exit $g2->{rc})"
        or diag($g2->{err}), diff_diag($g2->{body}, $ref);

    if ($fmt eq 'ndjson') {
        # No Accept-Encoding: the deflating host sends the body as is.
        my $id = fetch(os_deflate => $path, '--http1.1');
        ok $id->{rc} == 0 && $id->{code} == 200
            && !exists $id->{headers}{'content-encoding'}
            && ($id->{headers}{vary} // '') =~ /\bAccept-Encoding\b/i
            && $id->{body} eq $ref,
            'ndjson, no Accept-Encoding on the deflating host: not compressed,'
            . ' Vary: Accept-Encoding, the same body'
            or diff_diag($id->{body}, $ref);
    }
}

# --- 2. streamed through mod_deflate ------------------------------------------

Apache::TestRequest::module('os_deflate');
my $gzip_hdr = "Accept-Encoding: gzip\r\n";
{
    my $sql = location_sql('/transport/slow-end', $conf);
    (my $fast = $sql) =~ s/pg_sleep\(3\)/pg_sleep(0)/ or die 'no pg_sleep(3)';
    my $want = copy_csv($fast);
    my $cut = index($want, "\n19001,");
    die 'oracle without row 19001' if $cut < 0;
    my $want_prefix = substr($want, 0, $cut + 1);   # header, rows 1..19,000

    my $tag = unique_tag('slow-end');
    my $c = raw_start(GET => "/transport/slow-end", tag => $tag, module => 'os_deflate',
                      extra_headers => $gzip_hdr);
    my $deadline = $c->{t0} + 10;
    my $data = '';
    until (length $data || $c->{closed} || time > $deadline) {
        my $have = length raw_result($c)->{body};
        raw_read($c, max_body => $have + 1, timeout => $deadline - time);
        ($data) = dechunk(raw_result($c)->{body});
    }
    my $t_first = time - $c->{t0};
    my $fetching = wait_fetching_backend(2);
    my $t_check = time - $c->{t0};
    my $logged = outcome_line($tag);
    my $r = raw_result($c);
    is "$r->{status}|" . ($r->{headers}{'content-encoding'} // '') . '|'
        . ($r->{headers}{'transfer-encoding'} // ''), '200|gzip|chunked',
        'slow end, gzip: 200, Content-Encoding gzip, chunked';
    ok length($data) && $fetching ne '' && !$c->{closed} && !$logged,
        sprintf('slow end, gzip: first compressed bytes (%d) after %.3f s, while'
                . ' the export still FETCHes in the database (backend %s, seen'
                . ' at %.3f s)', length $data, $t_first, $fetching || '-',
                $t_check);

    # The last FETCH sleeps 3 s: everything flushed before it is here.
    raw_read($c, timeout => 0.5);
    ($data) = dechunk(raw_result($c)->{body});
    my ($prefix, $status) = inflate_prefix($data);
    my $t_prefix = time - $c->{t0};
    my $rows = () = $prefix =~ /\n/g;
    ok !$c->{closed} && $status == Z_OK && $prefix eq $want_prefix,
        sprintf('slow end, gzip: at %.3f s, while the last FETCH runs, the %d'
                . ' compressed bytes inflate to the header and rows 1..19000'
                . ' (%d lines)', $t_prefix, length $data, $rows)
        or diag("closed $c->{closed}, inflate status " . ($status + 0)),
           diff_diag($prefix, $want_prefix);

    raw_read($c, timeout => 20);
    raw_close($c);
    $r = raw_result($c);
    my ($all, $complete) = dechunk($r->{body});
    ok $complete && $r->{seconds} >= 2.9 && $t_first < $r->{seconds} - 2,
        sprintf('slow end, gzip: the body ends with the last chunk after %.2f s'
                . ' (first compressed bytes after %.3f s)', $r->{seconds}, $t_first);
    my $body = gunzip_all($all);
    ok $body eq $want, 'slow end, gzip: it gunzips to COPY ('
        . length($all) . ' compressed, ' . length($want) . ' bytes)'
        or diff_diag($body, $want);
    my $l = wait_outcome_line($tag);
    is $l && "$l->{outcome} $l->{rows}", 'complete 20000',
        'slow end: outcome complete, 20000 rows';
}

# --- 3. one sync flush per batch --------------------------------------------

for my $case ([1000 => 10], [100 => 100]) {
    my ($n, $batches) = @$case;
    my $loc = "/transport/batches$n";
    my $want = copy_csv(location_sql($loc, $conf));
    my $r = raw_request(GET => $loc, module => 'os_deflate',
                        extra_headers => $gzip_hdr, timeout => 20);
    my ($gz, $complete) = dechunk($r->{body});
    my $body = gunzip_all($gz);
    ok $r->{status} == 200 && $complete && $body eq $want,
        "FetchRows $n: the gzip body is whole and gunzips to COPY"
        or diff_diag($body, $want);
    my $markers = () = $gz =~ /\x00\x00\xff\xff/g;
    ok $markers >= $batches && $markers <= $batches + 2,
        "FetchRows $n, 10000 rows ($batches batches): $markers sync flushes"
        . ' in the gzip stream';
}

# --- afterwards -------------------------------------------------------------
is wait_no_idle_in_transaction(3), 0, 'nothing idle in transaction';
