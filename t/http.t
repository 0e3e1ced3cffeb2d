# The HTTP side: headers, chunked framing (read on a raw socket), HEAD, and
# 405 with an Allow header for other methods.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD POST PUT);
use OrderStreamTest qw(raw_request dechunk location_sql copy_csv lf_to_crlf);

plan tests => 31;

Apache::TestRequest::module('default');

# Raw GET: status line, headers, and the chunk framing as sent.
my $r = raw_request(GET => '/edge/filename');
is $r->{status}, 200, 'raw GET: 200';
is $r->{headers}{'content-type'}, 'text/csv; charset=utf-8', 'Content-Type';
is $r->{headers}{'content-disposition'}, 'attachment; filename="edge cases.csv"',
    'Content-Disposition: attachment with the configured filename';
ok !exists $r->{headers}{'content-length'}, 'no Content-Length';
is lc($r->{headers}{'transfer-encoding'} || ''), 'chunked',
    'Transfer-Encoding: chunked';
like $r->{head}, qr{\AHTTP/1\.1 200}, 'HTTP/1.1 response';
my ($data, $complete) = dechunk($r->{body});
ok $complete, 'the chunked body ends with the last chunk';
is $data, lf_to_crlf(copy_csv(location_sql('/edge/filename'))),
    'dechunked body equals COPY (CRLF)';

# No OrderStreamFilename: no Content-Disposition.
my $res = GET '/edge/lf';
ok !defined $res->header('Content-Disposition'),
    'no OrderStreamFilename: no Content-Disposition';
is $res->header('Content-Type'), 'text/csv; charset=utf-8',
    'Content-Type on another Location';

# HEAD: the headers a GET would get, no body, and the query is not run (a
# Location whose SQL fails still answers 200).
for my $path (qw(/edge/filename /edge/broken)) {
    my $h = raw_request(HEAD => $path, timeout => 10);
    is $h->{status}, 200, "HEAD $path: 200";
    is $h->{headers}{'content-type'}, 'text/csv; charset=utf-8',
        "HEAD $path: Content-Type";
    is $h->{body}, '', "HEAD $path: no body";
    ok !exists $h->{headers}{'content-length'}
        || $h->{headers}{'content-length'} eq '0' ? 1 : 0,
        "HEAD $path: no Content-Length of a body";
}
my $hd = HEAD '/edge/filename';
is $hd->header('Content-Disposition'), 'attachment; filename="edge cases.csv"',
    'HEAD: Content-Disposition';

# Other methods: 405 and an Allow header naming GET and HEAD.
for my $method (qw(POST PUT DELETE PATCH)) {
    my $m = raw_request($method => '/edge/lf', timeout => 10,
                        extra_headers => "Content-Length: 0\r\n");
    is $m->{status}, 405, "$method: 405";
    my $allow = $m->{headers}{allow} || '';
    ok $allow =~ /\bGET\b/ && $allow =~ /\bHEAD\b/,
        "$method: Allow names GET and HEAD ($allow)";
    unlike $m->{body}, qr/edge_cases/, "$method: the body does not show the SQL";
}
