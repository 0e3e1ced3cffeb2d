# OrderStreamFetchRows changes how many rows each FETCH brings, never the
# body: one row per FETCH, 7 (batches that do not divide the result), the
# default, and the maximum (the whole result in one FETCH) give the same bytes.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(location_sql copy_csv lf_to_crlf count_records);

plan tests => 12;

my $edge = copy_csv(location_sql('/edge/lf'));
for my $path (qw(/edge/fetch1 /edge/fetchmax)) {
    my $res = GET $path;
    is $res->code, 200, "$path: 200";
    ok $res->content eq $edge, "$path: same body as COPY (edge cases)";
}

my $shop = lf_to_crlf(copy_csv(location_sql('/shop/fetch1')));
is count_records($shop, "\r\n"), 3001, 'shop oracle: 3,000 rows and the header';
my %bodies;
for my $path (qw(/shop/fetch1 /shop/fetch7 /shop/fetchmax)) {
    my $res = GET $path;
    is $res->code, 200, "$path: 200";
    ok $res->content eq $shop, "$path: same body as COPY (3,000 shop rows)";
    $bodies{$path} = $res->content;
}
is scalar(keys %{{ map { $_ => 1 } values %bodies }}), 1,
    'FETCH 1, 7 and 1000000 give one and the same body';
