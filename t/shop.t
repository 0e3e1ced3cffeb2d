# The shop export as shipped (conf/orderstream.conf, /exports/orders.csv):
# the whole 200,000-row result, byte for byte what COPY gives for the same
# SQL, after the configured header line, with CRLF record terminators.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(conf_locations copy_csv csv_line lf_to_crlf
                       count_records repo_conf bind_sql);

plan tests => 9;

my $conf = conf_locations(repo_conf('orderstream.conf'))->{'/exports/orders.csv'};
ok $conf, 'conf/orderstream.conf has <Location /exports/orders.csv>';
# No filter given: since, until and email are NULL.
my $sql    = bind_sql($conf->{OrderStreamSQL}[0], 'NULL::date', 'NULL::date', 'NULL::text');
my @labels = @{ $conf->{OrderStreamHeader} || [] };
my ($file) = @{ $conf->{OrderStreamFilename} || [] };

my $rows = $ENV{OS_TEST_ROWS} || 200000;
my $expected = csv_line("\r\n", @labels)
             . lf_to_crlf(copy_csv($sql, header => 0));

my $res = GET '/exports/orders.csv';
is $res->code, 200, 'GET /exports/orders.csv: 200';
is $res->header('Content-Type'), 'text/csv; charset=utf-8', 'Content-Type';
is $res->header('Content-Disposition'), qq{attachment; filename="$file"},
    'Content-Disposition names the configured file';
ok !defined $res->header('Content-Length'), 'no Content-Length';
my $body = $res->content;
is count_records($body, "\r\n"), $rows + 1, "$rows records and the header";
is length($body), length($expected), 'body length equals COPY + header';
ok $body eq $expected, 'body is byte-identical to COPY with the header line and CRLF'
    or diag first_difference($body, $expected);
is substr($body, 0, index($body, "\r\n") + 2), csv_line("\r\n", @labels),
    'first line is the configured header';

sub first_difference {
    my ($got, $want) = @_;
    my $i = 0;
    $i++ while $i < length($got) && $i < length($want)
        && substr($got, $i, 1) eq substr($want, $i, 1);
    my $from = $i < 60 ? 0 : $i - 60;
    return sprintf "first difference at byte %d\n got: %s\nwant: %s", $i,
        map { my $s = substr($_, $from, 120); $s =~ s/\r/\\r/g; $s =~ s/\n/\\n/g; $s }
        $got, $want;
}
