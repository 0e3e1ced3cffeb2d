# The edges of a request a new user hits (issue 12):
#  - Accept by RFC 9110 on the shop export: a media range accepts every
#    allowed format it covers, a format refused by name stays refused;
#  - an empty value counts as absent, so a form's empty field followed by
#    the same field filled in is that value; two values stay a 400;
#  - an export's URL is exactly its <Location>: anything below it, or a
#    trailing slash, is a 404 (and a nested <Location> of its own answers);
#  - every response of ours says X-Content-Type-Options: nosniff;
#  - the shipped config's formula guard quotes what users typed (schema
#    shop_guard, t/sql/shop_guard.sql, served by os_shop_guard).
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD POST);
use OrderStreamTest qw(location_sql location_sqls copy_csv csv_line lf_to_crlf
                       conf_locations repo_conf raw_request dechunk
                       unique_tag wait_outcome_line guarded_csv bind_sql
                       explain_difference);

plan tests => 12 + 7 + 16 + 14 + 9;

my $shop = repo_conf('orderstream.conf');
my $nd   = 'application/x-ndjson';
my $tsv  = 'text/tab-separated-values; charset=utf-8';
my $csv  = 'text/csv; charset=utf-8';

# --- Accept on the shop export (HEAD: the headers, no query run) -------------
Apache::TestRequest::module('default');
for my $case (['application/*', $nd],
              ['text/csv;q=0, */*', $tsv],
              ['text/*', $csv],
              ['text/*;q=0.5, application/*', $nd],
              ["$nd;q=0, text/csv;q=0, */*", $tsv],
              ['text/csv;q=0x1p-1, application/x-ndjson;q=0.1', $nd],
              ['text/csv;q=NaN, application/x-ndjson;q=0.1', $nd],
              ['*/*;q=0.8', $csv]) {
    my ($accept, $want) = @$case;
    my $res = HEAD '/exports/orders.csv', Accept => $accept;
    is $res->code . ' ' . ($res->header('Content-Type') || '-'), "200 $want",
        "shop export, Accept: $accept";
}
{
    my $res = HEAD '/exports/orders.csv', Accept => 'text/csv;q=0';
    is $res->code, 406, 'shop export, Accept: text/csv;q=0 alone: 406';
    $res = GET '/exports/orders.csv', Accept => '*/*;q=0';
    is $res->code, 406, 'shop export, Accept: */*;q=0: 406';
    $res = GET '/exports/orders.csv?limit=2', Accept => 'application/*';
    my @lines = split /\n/, $res->content;
    ok $res->code == 200 && @lines >= 1 && !grep({ !/\A\{"Order ID":\d+,/ } @lines),
        'shop export, Accept: application/*: the body is NDJSON'
        or diag $res->content;
    $res = GET '/exports/orders.csv?limit=1', Accept => 'text/csv;q=0, */*';
    like $res->content, qr/\AOrder ID\tOrder Date\t/,
        'shop export, Accept: text/csv;q=0, */*: the body is TSV';
}

# --- an empty value is absent ----------------------------------------------------
{
    my $want = GET '/exports/orders.csv?since=2023-01-01&limit=3';
    my $res  = GET '/exports/orders.csv?since=&since=2023-01-01&limit=3';
    ok $want->code == 200 && $res->code == 200 && $res->content eq $want->content
        && ($res->content =~ tr/\n//) == 4,
        'since=&since=2023-01-01 is since=2023-01-01'
        or diag $res->code . ': ' . $res->content;
    $res = GET '/exports/orders.csv?since=2023-01-01&since=&limit=3';
    ok $res->code == 200 && $res->content eq $want->content,
        'since=2023-01-01&since= is since=2023-01-01';
    $res = GET '/exports/orders.csv?limit=&limit=2&offset=&email=';
    ok $res->code == 200 && ($res->content =~ tr/\n//) == 3,
        'limit=&limit=2, offset= and email= empty: two rows';
    $res = GET '/exports/orders.csv?format=&format=tsv&limit=1';
    like $res->content, qr/\AOrder ID\t/, 'format=&format=tsv is format=tsv';
    $res = GET '/exports/orders.csv?since=2023-01-01&since=2023-01-02';
    ok $res->code == 400 && $res->content eq "since: given more than once\n",
        'two non-empty values: still a 400' or diag $res->content;
    $res = GET '/exports/orders.csv?limit=1&limit=2';
    ok $res->code == 400 && $res->content eq "limit: given more than once\n",
        'two limits: still a 400';
    $res = GET '/exports/orders.csv?sort=';
    is $res->code, 400, 'an unknown name stays a 400, even empty';
}

# --- an export's URL is exactly its Location -----------------------------------
sub not_found {
    my ($method, $path, $name) = @_;
    my $tag = unique_tag('request-404');
    my $r = raw_request($method => $path, module => 'default', tag => $tag,
                        timeout => 30);
    ok $r->{status} == 404 && !defined $r->{headers}{'content-disposition'}
        && ($r->{headers}{'x-content-type-options'} || '') eq 'nosniff',
        "$name: 404 (nosniff, no Content-Disposition)"
        or diag "$r->{status}: $r->{head}";
}
not_found(GET  => '/exports/orders.csv/anything', '/exports/orders.csv/anything');
not_found(GET  => '/exports/orders.csv/', 'a trailing slash');
not_found(GET  => '/exports/orders.csv//', 'two trailing slashes');
not_found(HEAD => '/exports/orders.csv/x', 'HEAD below an export');
not_found(GET  => '/exports/orders.csv/x?limit=1', 'below an export, with a query string');
not_found(GET  => '/exports/orders.csv/x?limit=abc', 'below an export, with a bad parameter: 404, not 400');
not_found(GET  => '/exports/orders.csv/a/b.csv', 'two levels below an export');
not_found(GET  => '/request/outer/x', 'below an export with a nested Location');
not_found(GET  => '/request/outer/inner/x', 'below the nested Location');
{
    my $res = GET '/exports/orders%2Ecsv?limit=1';
    is $res->code, 200, 'the Location itself, percent-encoded: 200';
    $res = GET '/request/outer';
    is $res->content, "n\n1\n", 'the outer Location: its export';
    $res = GET '/request/outer/inner';
    is $res->content, "1\n", 'a nested Location of its own: its export (no header)';
    $res = GET '/request/match/abc';
    ok $res->code == 200 && $res->content eq "n\n2\n",
        'a <LocationMatch> export answers the URLs its pattern matches';
    # Not ours: httpd maps these below DocumentRoot, whose answer (404, or
    # 403 where the children cannot search the tree) is not the export.
    $res = GET '/request/match/abc/x';
    ok $res->code =~ /^40[34]$/ && $res->content !~ /^n\n/,
        'and nothing its pattern does not match (' . $res->code . ')';
    $res = GET '/exports/orders.csvx';
    ok $res->code =~ /^40[34]$/ && $res->content !~ /^Order ID/,
        'a URL that only starts like an export: not it (' . $res->code . ')';
    # Nothing was run for the 404s: no outcome note.
    my $tag = unique_tag('request-404-note');
    raw_request(GET => '/exports/orders.csv/y', module => 'default', tag => $tag);
    my $l = wait_outcome_line($tag);
    is $l && $l->{outcome}, '-', 'a 404 below an export runs nothing (no outcome note)'
        or diag $l ? $l->{line} : 'no log line';
}

# --- X-Content-Type-Options: nosniff on every response of ours ------------------
sub nosniff {
    my ($module, $method, $path, $status, $name) = @_;
    my $r = raw_request($method => $path, module => $module, timeout => 30,
                        extra_headers => $method eq 'POST' ? "Content-Length: 0\r\n" : '');
    ok(($r->{status} // 0) == $status
        && ($r->{headers}{'x-content-type-options'} || '') eq 'nosniff',
        "nosniff: $name ($status)")
        or diag(($r->{status} // 'none') . ": $r->{head}");
}
nosniff(default => GET  => '/exports/orders.csv?limit=1', 200, 'an export');
nosniff(default => HEAD => '/exports/orders.csv', 200, 'HEAD of an export');
nosniff(default => GET  => '/exports/orders.csv?limit=x', 400, 'a bad parameter');
nosniff(default => GET  => '/exports/orders.csv?%3Cscript%3E=1', 400,
        'an unknown parameter whose name is echoed');
nosniff(os_fmt  => GET  => '/fmt/choose-cn?format=tsv', 400, 'a format not allowed');
nosniff(default => POST => '/exports/orders.csv', 405, 'POST');
nosniff(default => GET  => '/exports/orders.csv/x', 404, 'below an export');
nosniff(os_pool => GET  => '/pool/broken', 500, 'a query that fails before the body');
nosniff(os_down => GET  => '/down/orders.csv', 503, 'no database');
nosniff(os_index_shop => GET => '/downloads', 200, 'the download page');
nosniff(os_index_shop => GET => '/downloads?format=json', 200, 'the download page as JSON');
nosniff(os_index_shop => GET => '/downloads?x=1', 400, 'the download page, a bad parameter');
{
    my $r = raw_request(GET => '/pool/row50k', module => 'os_pool', timeout => 30);
    is $r->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff: a cut download';
    my $res = GET '/exports/orders.csv', Accept => 'image/png';
    ok $res->code == 406 && ($res->header('X-Content-Type-Options') || '') eq 'nosniff',
        'nosniff: a 406';
}

# --- the shipped formula guard -----------------------------------------------------
Apache::TestRequest::module('os_shop_guard');
sub guarded_export {
    my ($path, $guarded, $name, @binds) = @_;
    my $locs = conf_locations($shop);
    my $labels = $locs->{$path}{OrderStreamHeader};
    my @sql = map { bind_sql($_, @binds) } location_sqls($path, $shop);
    local $ENV{PGOPTIONS} = '-c search_path=shop_guard';
    my $copy = csv_line("\n", @$labels)
        . join('', map { copy_csv($_, header => 0) } @sql);
    my $want = lf_to_crlf(guarded_csv($copy, ',', map { $_ => 1 } @$guarded));
    my $res = GET $path;
    ok $res->code == 200 && $res->content eq $want,
        "shop guard: $name: COPY's CSV with the guard applied"
        or diag explain_difference($res->content, $want);
    return $res->content;
}
{
    for my $p ('/exports/orders.csv', '/exports/catalogue.csv',
               '/exports/product-totals.csv') {
        is conf_locations($shop)->{$p}{OrderStreamFormulaGuard}[0], 'On',
            "conf/orderstream.conf: $p has OrderStreamFormulaGuard On";
    }
    my $body = guarded_export('/exports/orders.csv', [1, 2, 3], 'orders',
                              'NULL::date', 'NULL::date', 'NULL::text');
    like $body, qr/^1,2023-01-01 10:00:00,"'=HYPERLINK\(""http:\/\/x\.example"",""y""\)\@example\.com",'=1\+2,10\.00,1,10\.00\r$/m,
        'shop guard: a formula e-mail and product name start with \'';
    like $body, qr/^1,[^,]+,"(?:[^"]|"")+",'\+4915112345678,2\.50,2,5\.00\r$/m,
        'shop guard: a phone-number-like name keeps its +, after a \'';
    like $body, qr/^2,[^,]+,plain\@example\.com,'\tTabbed,5\.00,6,30\.00\r$/m,
        'shop guard: a leading tab is guarded; numbers are not';
    guarded_export('/exports/catalogue.csv', [0, 2, 3], 'catalogue');
    guarded_export('/exports/product-totals.csv', [0], 'product totals');
}
