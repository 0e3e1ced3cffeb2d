# Filters (issue 4): the query-string parameters a Location declares with
# OrderStreamParam. The shop export's since, until and email, each alone
# and together, with previews, against COPY of the same SQL with the same
# values as SQL literals (bind_sql); one echo Location per type
# (t/conf/filters.conf.in): valid values arrive as PostgreSQL reads the
# literal they mean, with the declared type; absent values are NULL or the
# default; a chain gets the same values in every query. Every kind of bad
# value, per type, is a 400 with the exact one-line message (status,
# text/plain, no Content-Disposition, outcome rejected, nothing at error
# level), also with the database unreachable. Injection attempts are data:
# echoed exactly, or matching nothing, or a 400 -- never a 500 -- and the
# shop tables are there afterwards. On connections with another session
# TimeZone and DateStyle, a timestamp without an offset is still UTC and
# the shop's days are still UTC days. 10 KB values go to a vhost whose
# LimitRequestLine lets them reach the module (elsewhere httpd sends 414).
#
# Requests go out byte for byte (raw_request), so that what the module
# decodes is exactly what the test wrote. Each is tagged with an
# X-Test-Tag header (a tag in the query string would be a parameter of its
# own, one in the path a 404).
use strict;
use warnings;

use File::Spec ();
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(param_forms location_sql location_sqls copy_csv csv_line lf_to_crlf
                       bind_sql explain_difference repo_conf conf_locations
                       raw_request dechunk unique_tag outcome_lines
                       error_log_size error_log_since psql_value
                       wait_no_idle_in_transaction count_records);

plan tests => 703;

my $F = File::Spec->catfile(Apache::Test::vars('t_conf'), 'filters.conf');
my %sql;
sub sql_of { my ($loc) = @_; return $sql{$loc} //= location_sql($loc, $F) }

# --- requests -----------------------------------------------------------------

# GET URL byte for byte (on the vhost of module MODULE, default the main
# server). Returns { status, ct, cd, body (de-chunked), complete }.
sub fetch {
    my ($url, %opt) = @_;
    my $r = raw_request($opt{method} || 'GET', $url,
                        ($opt{module} ? (module => $opt{module}) : ()),
                        (defined $opt{tag} ? (tag => $opt{tag}) : ()),
                        timeout => 60);
    my $h = $r->{headers};
    my ($body, $complete) = ($r->{body}, 1);
    if (($h->{'transfer-encoding'} || '') =~ /chunked/i) {
        ($body, $complete) = dechunk($body);
    }
    elsif (defined $h->{'content-length'}) {
        $complete = length($body) == $h->{'content-length'};
    }
    return { status => $r->{status} // 0, ct => $h->{'content-type'},
             cd => $h->{'content-disposition'}, body => $body,
             complete => $complete };
}

# LOC?QS and a tag for it (fetch's tag => TAG).
my $tag_n = 0;
sub tagged {
    my ($loc, $qs) = @_;
    my $tag = unique_tag('filters-' . ++$tag_n);
    return ($loc . (defined $qs ? "?$qs" : ''), $tag);
}

# The outcome log line of the request tagged TAG (polls up to 5 s).
sub wait_tag_line {
    my ($tag) = @_;
    my $deadline = time + 5;
    while (1) {
        for my $l (reverse @{ outcome_lines() }) {
            return $l if ($l->{tag} // '') eq $tag;
        }
        return undef if time > $deadline;
        select undef, undef, undef, 0.05;
    }
}

# One test: GET LOC?QS is a 200 whose body is exactly WANT.
sub body_is {
    my ($loc, $qs, $want, $name, %opt) = @_;
    my ($url, $tag) = tagged($loc, $qs);
    my $res = fetch($url, %opt, tag => $tag);
    my $ok = $res->{status} == 200 && $res->{complete} && $res->{body} eq $want;
    ok $ok, $name
        or diag 'GET ' . substr($url, 0, 200) . ": $res->{status}\n"
            . ($res->{status} == 200 ? explain_difference($res->{body}, $want)
                                     : substr($res->{body}, 0, 300));
    return $res;
}

# What the module shows of a value in a 400: bytes < 0x20 or > 0x7e as
# \xNN, at most 64 bytes, then "...".
sub shown {
    my ($v) = @_;
    my $out = '';
    my $i;
    for ($i = 0; $i < length($v) && $i < 64; $i++) {
        my $o = ord substr $v, $i, 1;
        $out .= ($o < 0x20 || $o > 0x7e) ? sprintf('\\x%02x', $o) : chr $o;
    }
    return $out . ($i < length($v) ? '...' : '');
}

# URL-decode as the module does ("+" is a space), to bytes.
sub unescape {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
    return $s;
}

# URL-encode every byte but letters and digits.
sub escape {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9])/sprintf '%%%02X', ord $1/ge;
    return $s;
}

# A bad query string: three tests. 400, Content-Type text/plain;
# charset=utf-8, the body exactly MESSAGE and a newline, no
# Content-Disposition; outcome rejected with 0 rows; nothing at error level
# in the error log.
my %FORM = param_forms();
sub text_form { "UTF-8 text of at most $_[0] characters" }

sub bad_request {
    my ($loc, $qs, $message, $name, %opt) = @_;
    my ($url, $tag) = tagged($loc, $qs);
    my $log0 = error_log_size();
    my $res = fetch($url, %opt, tag => $tag);
    my $want = "$message\n";
    my @bad;
    push @bad, "status $res->{status}" unless $res->{status} == 400;
    push @bad, 'Content-Type ' . ($res->{ct} // 'none')
        unless ($res->{ct} // '') eq 'text/plain; charset=utf-8';
    push @bad, 'body' unless $res->{body} eq $want;
    push @bad, "Content-Disposition $res->{cd}" if defined $res->{cd};
    ok !@bad, "$name: 400, $message"
        or diag "GET " . substr($url, 0, 200) . ': ' . join(', ', @bad)
            . ($res->{body} eq $want ? ''
               : "\n" . explain_difference($res->{body}, $want));
    my $l = wait_tag_line($tag) || {};
    ok(($l->{outcome} // '-') eq 'rejected' && ($l->{rows} // '-') eq '0',
       "$name: outcome rejected, rows 0")
        or diag 'log line: ' . substr($l->{line} || 'none', 0, 300);
    my $errors = join '', grep { /:(?:error|crit|alert|emerg)\]/ }
        split /(?<=\n)/, error_log_since($log0);
    is $errors, '', "$name: nothing at error level";
    return $res;
}

# A bad value of parameter v at LOC: 'v: expected FORM, got "SHOWN"', the
# value being the URL-decoded ESCAPED.
sub bad_value {
    my ($loc, $form, $escaped, $name, %opt) = @_;
    my $v = unescape($escaped);
    bad_request($loc, "v=$escaped",
                qq{v: expected $form, got "} . shown($v) . '"',
                $name || "$loc: v=" . substr($escaped, 0, 40), %opt);
}

# A SQL literal of TYPE for the value V (undef: NULL).
sub lit {
    my ($v, $type) = @_;
    return "NULL::$type" unless defined $v;
    (my $e = $v) =~ s/'/''/g;
    return "'$e'::$type";
}

# One test: LOC?QS equals COPY of LOC's SQL with LITERALS for $1, $2, ...;
# and, when EXACT is given, that body is EXACT too (a check that does not
# rest on the oracle).
# With module => NAME: on that vhost; with session => [TimeZone, DateStyle]:
# the oracle's psql session gets those settings too.
sub echo_is {
    my ($loc, $qs, $literals, $exact, $name, %opt) = @_;
    local $ENV{PGTZ} = $opt{session}[0] if $opt{session};
    local $ENV{PGDATESTYLE} = $opt{session}[1] if $opt{session};
    my $want = copy_csv(bind_sql(sql_of($loc), @$literals));
    if (defined $exact && $want ne $exact) {
        fail $name;
        diag "the oracle itself: " . explain_difference($want, $exact);
        return;
    }
    body_is($loc, $qs, $want, $name, ($opt{module} ? (module => $opt{module}) : ()));
}

# =============================================================================
# 1. The shop export: since, until, email
# =============================================================================

my $shop_conf = repo_conf('orderstream.conf');
my $shop_sql  = location_sql('/exports/orders.csv', $shop_conf);
my $labels = conf_locations($shop_conf)->{'/exports/orders.csv'}{OrderStreamHeader};
my $oh = csv_line("\r\n", @$labels);
my $rows = $ENV{OS_TEST_ROWS} || 200000;

# The oracle: header labels, then COPY with the three values as literals.
sub shop_want {
    my ($since, $until, $email, $tail) = @_;
    my $q = bind_sql($shop_sql, lit($since, 'date'), lit($until, 'date'),
                     lit($email, 'text'));
    $q .= " $tail" if defined $tail;
    return $oh . lf_to_crlf(copy_csv($q, header => 0));
}

# Independently of the shipped SQL: how many items have an order in
# [FROM 00:00 UTC, TO + 1 day 00:00 UTC) (undef: no bound), for EMAIL.
sub shop_count {
    my ($from, $to, $email) = @_;
    my @w;
    push @w, "o.order_date >= '$from 00:00:00+00'" if defined $from;
    push @w, "o.order_date < '$to 00:00:00+00'::timestamptz + interval '1 day'"
        if defined $to;
    push @w, 'o.customer_email = ' . lit($email, 'text') if defined $email;
    return psql_value('SELECT count(*) FROM shop_orderitem i'
        . ' JOIN shop_order o ON o.id = i.order_id'
        . (@w ? ' WHERE ' . join(' AND ', @w) : ''));
}

my $order_count = psql_value('SELECT count(*) FROM shop_order');
my $item_count  = psql_value('SELECT count(*) FROM shop_orderitem');
# The customer with the most orders in 2022.
my $email = psql_value("SELECT customer_email FROM shop_order"
    . " WHERE order_date >= '2022-01-01 00:00+00' AND order_date < '2023-01-01 00:00+00'"
    . " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1");
like $email, qr/\A[^@\s]+@[^@\s]+\z/, "a customer to filter on: $email";
# A day with orders, and one of its orders at some time after midnight UTC.
my $day = psql_value("SELECT (order_date AT TIME ZONE 'UTC')::date FROM shop_order"
    . " WHERE order_date >= '2022-02-14 00:00+00' ORDER BY order_date LIMIT 1");

{
    my @cases = (
        # [query string, since, until, email, name, independent count?]
        ['since=2023-06-01', '2023-06-01', undef, undef, 'since only', 1],
        ['until=2021-01-31', undef, '2021-01-31', undef, 'until only', 1],
        ['since=2022-06-01&until=2022-06-30', '2022-06-01', '2022-06-30', undef,
         'since and until: June 2022', 1],
        ['until=2022-06-30&since=2022-06-01', '2022-06-01', '2022-06-30', undef,
         'until before since in the query string: the same'],
        ["since=$day&until=$day", $day, $day, undef, "a single day, $day", 1],
        ['since=2022-06-30&until=2022-06-01', '2022-06-30', '2022-06-01', undef,
         'since after until: nothing'],
        ['email=' . escape($email), undef, undef, $email, 'email of a customer', 1],
        ["email=$email", undef, undef, $email, 'the same email, @ unescaped'],
        ['email=' . escape(uc $email), undef, undef, uc $email,
         'the email in capitals: an exact match, nothing'],
        ['email=nobody%40example.com', undef, undef, 'nobody@example.com',
         'an email that matches nothing: header only'],
        ['since=2022-01-01&until=2022-12-31&email=' . escape($email),
         '2022-01-01', '2022-12-31', $email, 'all three', 1],
        ['email=' . escape($email) . '&since=2022-03-01',
         '2022-03-01', undef, $email, 'email and since'],
    );
    for my $c (@cases) {
        my ($qs, $since, $until, $em, $name, $count) = @$c;
        my $want = shop_want($since, $until, $em);
        my $res = body_is('/exports/orders.csv', $qs, $want, "shop: $name ($qs)");
        if ($count) {
            my $n = shop_count($since, $until, $em);
            is count_records($res->{body}, "\r\n") - 1, $n,
                "shop: $name: $n rows, counted independently";
        }
    }
    my $res = fetch((tagged('/exports/orders.csv', "since=$day&until=$day"))[0]);
    my @dates = map { (split /,/)[1] } grep { length }
        split /\r\n/, substr($res->{body}, length $oh);
    ok @dates && !grep({ !/\A\Q$day\E / } @dates),
        "shop: since=until=$day: every row's order date is that UTC day ("
        . scalar(@dates) . ' rows)';
    is $res->{cd}, 'attachment; filename="all_orders.csv"',
        'shop: a filtered export keeps its Content-Disposition';
    # Empty results: the header line alone, still a 200 CSV.
    body_is('/exports/orders.csv', 'since=2030-01-01', $oh,
            'shop: since after the last order: the header line alone');
    body_is('/exports/orders.csv', 'until=2020-12-31', $oh,
            'shop: until before the first order: the header line alone');
}

# Previews of a filtered export.
body_is('/exports/orders.csv', 'since=2023-01-01&limit=5',
        shop_want('2023-01-01', undef, undef, 'LIMIT 5'), 'shop: since with limit=5');
body_is('/exports/orders.csv', 'offset=10&since=2022-06-01&limit=3&until=2022-06-30',
        shop_want('2022-06-01', '2022-06-30', undef, 'OFFSET 10 LIMIT 3'),
        'shop: since, until, offset=10, limit=3 in any order');
body_is('/exports/orders.csv', 'email=' . escape($email) . '&limit=0', $oh,
        'shop: email with limit=0: the header line');

# Empty values are absent: the whole export (compared in full by t/shop.t;
# here its size and a preview).
body_is('/exports/orders.csv', 'since=&until=&email=&limit=5',
        shop_want(undef, undef, undef, 'LIMIT 5'),
        'shop: since=&until=&email=&limit=5: the first 5 rows of everything');
body_is('/exports/orders.csv', 'since&until&email&offset=7&limit=2',
        shop_want(undef, undef, undef, 'OFFSET 7 LIMIT 2'),
        'shop: bare since&until&email: absent too');
{
    # (LWP: fetch()'s dechunk is not made for 20 MB.)
    my $res = GET((tagged('/exports/orders.csv', 'since=&until=&email='))[0]);
    my $body = $res->content;
    ok $res->code == 200 && count_records($body, "\r\n") == $rows + 1
        && substr($body, 0, length $oh) eq $oh,
        "shop: since=&until=&email=: the whole export, $rows rows and the header"
        or diag 'status ' . $res->code . ', '
            . count_records($body, "\r\n") . ' records';
}

# Bad shop filters.
bad_request('/exports/orders.csv', 'since=2023-02-29',
            qq{since: expected $FORM{date}, got "2023-02-29"}, 'shop: since=2023-02-29');
bad_request('/exports/orders.csv', 'since=2023-01-01&until=yesterday',
            qq{until: expected $FORM{date}, got "yesterday"}, 'shop: until=yesterday');
bad_request('/exports/orders.csv', 'since=2023-01-01&since=2023-02-01',
            'since: given more than once', 'shop: since twice');
bad_request('/exports/orders.csv', 'email=a%40b.c&sort=id',
            'sort: not a parameter of this export', 'shop: an undeclared sort=');
bad_request('/exports/orders.csv', 'Email=a%40b.c',
            'Email: not a parameter of this export', 'shop: names are case-sensitive');

# =============================================================================
# 2. One Location per type: what PostgreSQL gets
# =============================================================================

# [escaped value, SQL literal of what it means, the exact body line or undef]
my %valid = (
    int => [
        ['42', "'42'", '42,bigint'],
        ['-0042', "'-42'", '-42,bigint'],
        ['%2B7', "'7'", '7,bigint'],
        ['000', "'0'", '0,bigint'],
        ['-0', "'0'", '0,bigint'],
        ['9223372036854775807', "'9223372036854775807'", '9223372036854775807,bigint'],
        ['-9223372036854775808', "'-9223372036854775808'", '-9223372036854775808,bigint'],
        ['0000000000000000000000001', "'1'", '1,bigint'],
    ],
    numeric => [
        ['-12.50', "'-12.50'", '-12.50,numeric'],
        ['%2B001.500', "'1.500'", '1.500,numeric'],
        ['.5', "'0.5'", '0.5,numeric'],
        ['-.5', "'-0.5'", '-0.5,numeric'],
        ['5.', "'5'", '5,numeric'],
        ['42', "'42'", '42,numeric'],
        ['123456789012345678901234567890.123456789012345678901234567890',
         "'123456789012345678901234567890.123456789012345678901234567890'", undef],
        ['9' x 1000, "'" . ('9' x 1000) . "'", ('9' x 1000) . ',numeric'],
        ['-' . ('1' x 999), "'-" . ('1' x 999) . "'", undef],
    ],
    date => [
        ['2024-02-29', "'2024-02-29'", '2024-02-29,date'],
        ['2000-02-29', "'2000-02-29'", '2000-02-29,date'],
        ['0001-01-01', "'0001-01-01'", '0001-01-01,date'],
        ['9999-12-31', "'9999-12-31'", '9999-12-31,date'],
        ['1970-01-01', "'1970-01-01'", '1970-01-01,date'],
    ],
    bool => [
        (map { [$_, 'true', 't,boolean'] } qw(true TRUE True t T yes YES on On 1)),
        (map { [$_, 'false', 'f,boolean'] } qw(false FALSE f F no No off OFF 0)),
    ],
);
for my $type (qw(int numeric date bool)) {
    my $pgtype = { int => 'bigint', numeric => 'numeric', date => 'date',
                   bool => 'boolean' }->{$type};
    my $loc = "/filters/$type";
    my $head = "v,type\n";
    for my $c (@{ $valid{$type} }) {
        my ($v, $l, $line) = @$c;
        echo_is($loc, "v=$v", ["${l}::$pgtype"],
                defined $line ? "$head$line\n" : undef,
                "$type: v=" . (length $v > 40 ? substr($v, 0, 20) . '...' : $v));
    }
    echo_is($loc, undef, ["NULL::$pgtype"], "$head,$pgtype\n",
            "$type: absent: NULL, still of type $pgtype");
    echo_is($loc, 'v=', ["NULL::$pgtype"], "$head,$pgtype\n", "$type: v= (empty): NULL");
    echo_is($loc, 'v', ["NULL::$pgtype"], "$head,$pgtype\n", "$type: bare v: NULL");
}

# timestamptz: the instant, in the session's TimeZone (as psql prints the
# literal) and, as a check that does not depend on it, in UTC.
{
    my @ts = (
        # [escaped, literal, UTC]
        ['2024-05-01T13:45%2B02:00', '2024-05-01 13:45:00+02:00', '2024-05-01 11:45:00.000000'],
        ['2024-05-01T13:45', '2024-05-01 13:45:00+00', '2024-05-01 13:45:00.000000'],
        ['2024-05-01T13:45Z', '2024-05-01 13:45:00+00', '2024-05-01 13:45:00.000000'],
        ['2024-05-01t13:45:30.5z', '2024-05-01 13:45:30.5+00', '2024-05-01 13:45:30.500000'],
        ['2024-05-01', '2024-05-01 00:00:00+00', '2024-05-01 00:00:00.000000'],
        ['2024-05-01+13:45:30.123456-05:30', '2024-05-01 13:45:30.123456-05:30',
         '2024-05-01 19:15:30.123456'],
        ['2024-05-01%2013:45:07', '2024-05-01 13:45:07+00', '2024-05-01 13:45:07.000000'],
        ['2024-05-01T13:45%2B0530', '2024-05-01 13:45:00+05:30', '2024-05-01 08:15:00.000000'],
        ['2024-05-01T13:45-05', '2024-05-01 13:45:00-05:00', '2024-05-01 18:45:00.000000'],
        ['2024-05-01T13:45:00-15:59', '2024-05-01 13:45:00-15:59', '2024-05-02 05:44:00.000000'],
        ['2024-05-01T00:00%2B15:59', '2024-05-01 00:00:00+15:59', '2024-04-30 08:01:00.000000'],
        ['2024-12-31T23:59:59.999999Z', '2024-12-31 23:59:59.999999+00',
         '2024-12-31 23:59:59.999999'],
        ['2024-02-29T12:00:00.000001%2B00:00', '2024-02-29 12:00:00.000001+00',
         '2024-02-29 12:00:00.000001'],
        ['0001-01-01T00:00Z', '0001-01-01 00:00:00+00', '0001-01-01 00:00:00.000000'],
    );
    for my $c (@ts) {
        my ($v, $l, $utc) = @$c;
        my $want = copy_csv(bind_sql(sql_of('/filters/ts'), "'$l'::timestamptz"));
        my ($first) = $want =~ /\n(.*?),/;
        my $exact = "v,type,utc\n$first,timestamp with time zone,$utc\n";
        echo_is('/filters/ts', "v=$v", ["'$l'::timestamptz"], $exact,
                "timestamptz: v=$v is $utc UTC");
    }
    echo_is('/filters/ts', undef, ['NULL::timestamptz'],
            "v,type,utc\n,timestamp with time zone,\n", 'timestamptz: absent: NULL');
}

# text: exactly the bytes, as UTF-8 characters.
sub text_echo {
    my ($escaped, $name) = @_;
    my $v = unescape($escaped);
    my $chars = $v;
    utf8::decode($chars);
    my $exact = "v,type,chars,bytes\n"
        . csv_line("\n", $v, 'text', length $chars, length $v);
    echo_is('/filters/text', "v=$escaped", [lit($v, 'text')], $exact,
            $name || 'text: v=' . $escaped);
}
text_echo('hello');
text_echo('a+b', 'text: + is a space');
text_echo('%2B', 'text: %2B is a plus sign');
text_echo('%C3%A9t%C3%A9+%E2%82%AC+%F0%9F%98%80+%E4%B8%AD', 'text: UTF-8 of 2, 3 and 4 bytes');
text_echo('Gr%C3%B6%C3%9Fe', 'text: Größe');
text_echo('%EF%BB%BFbom', 'text: a byte order mark is a character');
text_echo('%F4%8F%BF%BF', 'text: U+10FFFF, the last code point');
text_echo('%ED%9F%BF%EE%80%80', 'text: U+D7FF and U+E000, around the surrogates');
text_echo('a' x 256, 'text: 256 characters, the default maxlength');
text_echo('%C3%A9' x 256, 'text: 256 two-byte characters');
text_echo('%20%20+', 'text: spaces only');
text_echo('%09tab', 'text: a tab');
text_echo('%01%1B%7F', 'text: control characters and DEL are text');
text_echo('a=b', 'text: a = in the value');
text_echo('=', 'text: v== is "="');
text_echo('a%3Db%26c%3Dd%23e', 'text: escaped =, & and #');
echo_is('/filters/text', undef, ['NULL::text'], "v,type,chars,bytes\n,text,,\n",
        'text: absent: NULL, not an empty string');
echo_is('/filters/short', 'v=abcde', ["'abcde'::text"], "v,type\nabcde,text\n",
        'maxlength=5: 5 characters');
echo_is('/filters/short', 'v=' . ('%C3%A9' x 5), ["'ééééé'::text"],
        "v,type\nééééé,text\n", 'maxlength=5: 5 characters of 2 bytes (10 bytes)');
echo_is('/filters/short', 'v=' . ('%F0%9F%98%80' x 5), ["'" . ("\xF0\x9F\x98\x80" x 5) . "'::text"],
        "v,type\n" . ("\xF0\x9F\x98\x80" x 5) . ",text\n",
        'maxlength=5: 5 characters of 4 bytes (20 bytes)');

# Names are URL-decoded too.
echo_is('/filters/int', '%76=5', ["'5'::bigint"], "v,type\n5,bigint\n",
        'a name written %76 is v');
echo_is('/filters/int', 'v=1%32', ["'12'::bigint"], "v,type\n12,bigint\n",
        'v=1%32 is 12');
echo_is('/filters/int', 'v=3&&', ["'3'::bigint"], "v,type\n3,bigint\n",
        'empty pairs (&&) are nothing');
echo_is('/filters/int', '', ['NULL::bigint'], "v,type\n,bigint\n",
        'an empty query string ("?"): NULL');
echo_is('/filters/int', '&&v=4&', ["'4'::bigint"], "v,type\n4,bigint\n",
        'leading and trailing & are nothing');

# Required, defaults.
echo_is('/filters/required', 'v=-3', ["'-3'::bigint"], "v,type\n-3,bigint\n",
        'required: given');
{
    my $loc = '/filters/defaults';
    my @d = ("'-42'::bigint", "'2024-02-29'::date",
             "'2024-05-01 13:45+02:00'::timestamptz", 'true', "'a, b'::text",
             "'1.50'::numeric", 'NULL::text');
    my $ts = copy_csv("SELECT '2024-05-01 13:45+02:00'::timestamptz", header => 0);
    chomp $ts;
    my $exact = "n,d,ts,b,t,x,e\n-42,2024-02-29,$ts,t,\"a, b\",1.50,\n";
    echo_is($loc, undef, \@d, $exact, 'defaults: every absent value is its default');
    echo_is($loc, 'n=&d=&ts=&b=&t=&x=&e=', \@d, $exact,
            'defaults: empty values are absent: the defaults');
    my @o = @d;
    @o[0, 2, 3, 6] = ("'7'::bigint", "'2020-01-01 00:00+00'::timestamptz", 'false',
                      "'hi'::text");
    echo_is($loc, 'e=hi&b=off&ts=2020-01-01&n=7', \@o, undef,
            'defaults: given values replace them, in any order');
}

# The order of the checks.
{
    my $loc = '/filters/order';
    echo_is($loc, 'b=2024-01-02&c=on', ['NULL::bigint', "'2024-01-02'::date", 'true'],
            "b,a,c,not_c\n2024-01-02,,t,f\n", 'order: the required ones given, a NULL');
    echo_is($loc, 'c=0&a=9&b=2024-01-02', ["'9'::bigint", "'2024-01-02'::date", 'false'],
            "b,a,c,not_c\n2024-01-02,9,f,t\n", 'order: all three, $N used twice');
    bad_request($loc, undef, "b: missing; expected $FORM{date}",
                'order: nothing given: the first missing one');
    bad_request($loc, 'b=&c=', "b: missing; expected $FORM{date}",
                'order: empty required values are missing');
    bad_request($loc, 'b=2024-01-02', "c: missing; expected $FORM{bool}",
                'order: c missing');
    bad_request($loc, 'a=x', qq{a: expected $FORM{int}, got "x"},
                'order: a bad given value before the missing ones');
    bad_request($loc, 'c=maybe&b=bad', qq{c: expected $FORM{bool}, got "maybe"},
                'order: two bad values: the first in the query string');
    bad_request($loc, 'b=2024-01-02&c=1&x=1&a=bad', 'x: not a parameter of this export',
                'order: an undeclared one before a bad value');
    bad_request($loc, 'a=1&zz=1', 'zz: not a parameter of this export',
                'order: an undeclared one before the missing ones');
    bad_request($loc, 'a=1&a=1', 'a: given more than once',
                'order: repeated before the missing ones');
    bad_request($loc, 'b=2024-01-02&c=1&limit=x',
                'limit: expected a whole number from 0 to 9223372036854775807, got "x"',
                'order: limit checked like a filter');
    echo_is($loc, 'limit=1&b=2024-01-02&c=t&offset=0', ['NULL::bigint', "'2024-01-02'::date", 'true'],
            "b,a,c,not_c\n2024-01-02,,t,f\n", 'order: with offset and limit');
}

# A chain: both queries get the values.
{
    my $loc = '/filters/chain';
    my @q = location_sqls($loc, $F);
    my $chain = sub {
        my @l = @_;
        return copy_csv(join ' UNION ALL ', map { '(' . bind_sql($_, @l) . ')' } @q);
    };
    my $want = $chain->("'3'::bigint", "'5'::bigint");
    is $want, "g,q\n3,first\n4,first\n5,first\n30,second\n40,second\n50,second\n",
        'chain: the oracle';
    body_is($loc, 'lo=3', $want, 'chain: lo=3 and the default hi in both queries');
    body_is($loc, 'hi=2&lo=1&offset=1&limit=3',
            "g,q\n2,first\n10,second\n20,second\n", 'chain: lo, hi, offset, limit');
    body_is($loc, 'lo=9', "g,q\n", 'chain: no row in either');
    bad_request($loc, 'hi=1', "lo: missing; expected $FORM{int}", 'chain: lo missing');
}

# =============================================================================
# 3. Bad values, per type
# =============================================================================

my %invalid = (
    int => ['abc', '1.5', '1e3', '%2B', '-', '%2042', '42+', '0x10', '--1', '%2B-1',
            '9223372036854775808', '-9223372036854775809', '99999999999999999999',
            '1%2C000', '%D9%A4%D9%A2', '4%0A2', 'NULL'],
    numeric => ['abc', '1e5', '1E-3', 'NaN', 'Infinity', '-Infinity', '1.2.3', '.', '-',
                '%2B', '1%2C5', '%2B-1', '0x1F', '+1', '1+', '%2B.', '-.',
                '1' x 1001, '-' . ('1' x 1000)],
    date => ['2024-02-30', '2023-02-29', '1900-02-29', '2024-04-31', '2024-13-01',
             '2024-00-10', '2024-01-00', '2024-1-01', '24-01-01', '2024%2F01%2F01',
             '0000-01-01', '2024-01-01T00:00', '2024-01-01+', '20240101', 'today',
             'epoch', 'infinity', '-2024-01-01', '12024-01-01', '2024-01-01%00'],
    timestamptz => ['2024-05-01T24:00', '2024-05-01T13:60', '2024-05-01T13:45:60',
                    '2024-05-01T13:45:30.1234567', '2024-05-01T13:45:30.',
                    '2024-05-01T13', '2024-05-01T1:45', '2024-05-01T13:45:3',
                    '2024-05-01T13:45%2B16:00', '2024-05-01T13:45%2B02:60',
                    '2024-05-01T13:45%2B2', '2024-05-01T13:45%2B02:0',
                    '2024-05-01T13:45%2B020', '2024-05-01T13:45%2B02:00:00',
                    '2024-05-01T13:45+02:00', '2024-05-01T13:45+UTC',
                    '2024-05-01T13:45Z%2B01', '2024-05-01T13:45.5', '2024-05-01Z',
                    '2024-05-01+', '2024-02-30T00:00', 'now', 'epoch', 'infinity',
                    '2024-05-01T13:45:30Zz', '2024-05-01X13:45'],
    bool => ['maybe', '2', 'tru', 'truee', 'yes+please', 'y', 'n', '%20true', 'null',
             '%C3%BF'],
);
for my $type (qw(int numeric date timestamptz bool)) {
    my $loc = '/filters/' . ($type eq 'timestamptz' ? 'ts' : $type);
    for my $v (@{ $invalid{$type} }) {
        if ($v =~ /%00/) {
            bad_request($loc, "v=$v", 'v: badly escaped', "$type: v=$v (a NUL)");
            next;
        }
        bad_value($loc, $FORM{$type}, $v,
                  "$type: v=" . (length $v > 40 ? substr($v, 0, 20) . '...' : $v));
    }
}
# The exact messages for a few, literally (not via shown()).
bad_request('/filters/ts', 'v=2024-05-01T13:45+02:00',
    'v: expected a timestamp YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM] (ISO 8601),'
    . ' got "2024-05-01T13:45 02:00"', 'timestamptz: a raw + in the offset is a space');
bad_request('/filters/int', 'v=4%0A2%FF',
    'v: expected a whole number such as 42, got "4\x0a2\xff"',
    'int: a control byte and a non-ASCII byte shown as \xNN');

# text: invalid UTF-8, too long.
for my $c (['%C3%28', 'a 2-byte start, then ('], ['%FF', '0xFF'], ['%C0%AF', 'overlong /'],
           ['%E0%80%AF', 'overlong 3 bytes'], ['%ED%A0%80', 'a surrogate'],
           ['%F4%90%80%80', 'past U+10FFFF'], ['%E2%82', 'cut short'],
           ['abc%80', 'a lone continuation byte'], ['%F8%88%80%80%80', '5 bytes'],
           ['%C3%A9%C3', 'cut short after a good character']) {
    bad_value('/filters/text', text_form(256), $c->[0], "text: not UTF-8: $c->[1]");
}
bad_value('/filters/text', text_form(256), 'a' x 257, 'text: 257 characters');
bad_value('/filters/text', text_form(256), '%C3%A9' x 257, 'text: 257 two-byte characters');
bad_value('/filters/short', text_form(5), 'abcdef', 'maxlength=5: 6 characters');
bad_value('/filters/short', text_form(5), '%C3%A9' x 6, 'maxlength=5: 6 two-byte characters');
bad_request('/filters/short', 'v=' . ('%C3%A9' x 40),
    'v: expected UTF-8 text of at most 5 characters, got "'
    . ('\xc3\xa9' x 32) . '..."', 'maxlength=5: the message cuts at 64 bytes');
# Long values: the message shows 64 characters and "...".
bad_request('/filters/text', 'v=' . ('x' x 8000),
    'v: expected UTF-8 text of at most 256 characters, got "' . ('x' x 64) . '..."',
    'text: an 8,000-byte value: the message is cut');
bad_request('/filters/int', 'v=' . ('1' x 64),
    qq{v: expected $FORM{int}, got "} . ('1' x 64) . '"', 'int: 64 digits shown whole');
bad_request('/filters/int', 'v=' . ('1' x 65),
    qq{v: expected $FORM{int}, got "} . ('1' x 64) . '..."', 'int: 65 digits: cut at 64');

# Missing, repeated, undeclared, badly escaped.
bad_request('/filters/required', undef, "v: missing; expected $FORM{int}", 'required: absent');
bad_request('/filters/required', 'v=', "v: missing; expected $FORM{int}", 'required: v=');
bad_request('/filters/required', 'v', "v: missing; expected $FORM{int}", 'required: bare v');
bad_request('/filters/required', 'v=1&v=1', 'v: given more than once', 'required: v twice');
bad_request('/filters/int', 'v=1&v=2', 'v: given more than once', 'int: v twice');
bad_request('/filters/int', 'v=1&%76=1', 'v: given more than once', 'int: v and %76');
bad_request('/filters/int', 'w=1', 'w: not a parameter of this export', 'int: w=1');
bad_request('/filters/int', 'V=1', 'V: not a parameter of this export', 'int: V=1 (case)');
bad_request('/filters/int', 'v+=1', 'v : not a parameter of this export', 'int: "v " (a + in the name)');
bad_request('/filters/int', 'w%0A=1', 'w\x0a: not a parameter of this export',
            'int: a LF in an undeclared name, shown \x0a');
bad_request('/filters/int', 'format=xml',
            'format: expected one of csv, tsv, ndjson, xlsx, got "xml"',
            'int: format= (reserved, an unknown format)');
for my $c (['v=%zz', 'a bad escape'], ['v=1%2', 'a cut escape'], ['v=%', 'a lone %'],
           ['v=%00', '%00'], ['v=1%00', '1%00'], ['v=%G1', '%G1']) {
    bad_request('/filters/int', $c->[0], 'v: badly escaped', "int: $c->[1]");
}
bad_request('/filters/text', 'v=%00', 'v: badly escaped', 'text: %00');
bad_request('/filters/text', 'v=abc%00def', 'v: badly escaped', 'text: a NUL inside');
bad_request('/filters/int', '%zz=1', '%zz: badly escaped', 'a badly escaped name');
# A bad escape in the name after a good one, a NUL in the name: 400s; the
# name is shown as sent ("v%00" may also be shown "v", where the NUL ends it).
{
    my $r = fetch((tagged('/filters/int', 'v%00=1'))[0]);
    ok $r->{status} == 400 && $r->{body} eq "v%00: badly escaped\n",
        'a NUL in the name: 400, badly escaped' or diag "$r->{status}: $r->{body}";
    $r = fetch((tagged('/filters/int', 'a%41%zz=1'))[0]);
    ok $r->{status} == 400 && $r->{body} =~ /: badly escaped\n\z/,
        'a bad escape in the name after a good one: 400, badly escaped'
        or diag "$r->{status}: $r->{body}";
    is $r->{body}, "a%41%zz: badly escaped\n",
        'a bad escape in the name after a good one: the name shown as sent';
}

# HEAD.
{
    my $r = fetch('/filters/required', method => 'HEAD');
    ok $r->{status} == 400 && $r->{body} eq ''
        && ($r->{ct} // '') eq 'text/plain; charset=utf-8',
        'HEAD, a required parameter missing: 400, text/plain, no body'
        or diag "HEAD: $r->{status} " . ($r->{ct} // '');
    $r = fetch('/filters/required?v=1', method => 'HEAD');
    is $r->{status}, 200, 'HEAD, the required parameter given: 200';
}

# =============================================================================
# 4. Injection attempts
# =============================================================================

my @inject = (
    # [escaped, name]
    ['%27+OR+1%3D1+--', "' OR 1=1 --"],
    ["'+OR+'1'%3D'1", "' OR '1'='1 (quotes unescaped)"],
    ["x'+OR+1=1+--", "x' OR 1=1 -- (= unescaped)"],
    ['%25', '%'],
    ['%2525', '%25 (a literal %25)'],
    ['_', '_ (a LIKE wildcard)'],
    ['*', '*'],
    ['$1', '$1 (unescaped)'],
    ['%241', '$1'],
    ['$2::text', '$2::text'],
    ['%5C', 'a backslash'],
    ['%5C%27', "\\'"],
    ['%5C.', '\\. (the COPY end marker)'],
    ['%3BDROP+TABLE+shop_order%3B--', ';DROP TABLE shop_order;--'],
    [';DROP+TABLE+shop_order;--', ';DROP TABLE shop_order;-- (; unescaped)'],
    ['%27%29%3B+DROP+TABLE+shop_order%3B+--', "'); DROP TABLE shop_order; --"],
    ['1%3B+SELECT+pg_sleep(5)', '1; SELECT pg_sleep(5)'],
    ['%24%24+%24tag%24', '$$ $tag$'],
    ['%22a%22%2C%22b%22', '"a","b"'],
    ['E%27%5Cx00%27', "E'\\x00'"],
    ['a%0D%0Ab', 'CR LF'],
    ['%0A', 'a lone LF'],
    ['%C3%A9t%C3%A9%E2%82%AC%F0%9F%98%80', 'UTF-8 of 2, 3, 4 bytes'],
    ['customer1%40example.com%27--', "customer1\@example.com'--"],
);
for my $c (@inject) {
    my ($esc, $what) = @$c;
    text_echo($esc, "injection, text echo: $what: echoed exactly");
    body_is('/exports/orders.csv', "email=$esc", $oh,
            "injection, shop email: $what: matches nothing");
}
for my $c (['%00', 'a NUL'], ["'%00", 'a NUL after a quote']) {
    bad_request('/filters/text', "v=$c->[0]", 'v: badly escaped',
                "injection, text echo: $c->[1]");
    bad_request('/exports/orders.csv', "email=$c->[0]", 'email: badly escaped',
                "injection, shop email: $c->[1]");
}
for my $c (['%C3%28', 'invalid UTF-8 %C3%28'], ['%FF', 'invalid UTF-8 %FF'],
           ['%27%C0%A7', 'an overlong quote']) {
    bad_value('/filters/text', text_form(256), $c->[0], "injection, text echo: $c->[1]");
    my $v = unescape($c->[0]);
    bad_request('/exports/orders.csv', "email=$c->[0]",
                qq{email: expected @{[text_form(256)]}, got "} . shown($v) . '"',
                "injection, shop email: $c->[1]");
}
body_is('/exports/orders.csv', 'email=' . ('%27' x 256), $oh,
        'injection, shop email: 256 quotes (the maxlength): matches nothing');
bad_request('/exports/orders.csv', 'email=%', 'email: badly escaped',
            'injection, shop email: a lone %');
bad_request('/exports/orders.csv', 'email=100%+OR+1', 'email: badly escaped',
            'injection, shop email: % then a space');
bad_request('/exports/orders.csv', 'email=' . ('%27' x 300),
            qq{email: expected @{[text_form(256)]}, got "} . ("'" x 64) . '..."',
            'injection, shop email: 300 quotes: too long');

# 10 KB values, on a server whose request line may be that long.
{
    my $ten = join '', map { chr(ord('a') + $_ % 26) } 0 .. 10239;
    bad_request('/filters/text', "v=$ten",
        qq{v: expected @{[text_form(256)]}, got "} . substr($ten, 0, 64) . '..."',
        'text: a 10 KB value: 400, the message cut at 64', module => 'os_filters_long');
    bad_request('/exports/orders.csv', 'email=' . escape("' OR 1=1 --") . $ten,
        qq{email: expected @{[text_form(256)]}, got "' OR 1=1 --}
        . substr($ten, 0, 53) . '..."',
        'shop email: a 10 KB injection: 400, too long', module => 'os_filters_long');
    body_is('/filters/long', "v=$ten", "v,chars\n$ten,10240\n",
            'maxlength=65536: a 10 KB value echoed exactly', module => 'os_filters_long');
    my $mb = '%E2%82%AC' x 2000;
    body_is('/filters/long', "v=$mb", "v,chars\n" . ("\xE2\x82\xAC" x 2000) . ",2000\n",
            'maxlength=65536: 2,000 characters of 3 bytes (18 KB escaped)',
            module => 'os_filters_long');
}

# Afterwards: the tables are there, unchanged, nothing idle in transaction.
is psql_value("SELECT to_regclass('shop_order') IS NOT NULL"
              . " AND to_regclass('shop_orderitem') IS NOT NULL"), 't',
    'after the injections: shop_order and shop_orderitem exist';
is psql_value('SELECT count(*) FROM shop_order'), $order_count,
    "after the injections: $order_count orders, as before";
is psql_value('SELECT count(*) FROM shop_orderitem'), $item_count,
    "after the injections: $item_count order items, as before";
is wait_no_idle_in_transaction(5), 0, 'nothing idle in transaction';

# =============================================================================
# 5. Without a database: the query string is checked first
# =============================================================================

bad_request('/filters/int', 'v=abc', qq{v: expected $FORM{int}, got "abc"},
            'database unreachable: a bad int', module => 'os_filters_down');
bad_request('/filters/required', undef, "v: missing; expected $FORM{int}",
            'database unreachable: a missing required value', module => 'os_filters_down');
bad_request('/exports/orders.csv', 'email=%C3%28',
            qq{email: expected @{[text_form(256)]}, got "\\xc3("},
            'database unreachable: shop email not UTF-8', module => 'os_filters_down');
bad_request('/exports/orders.csv', 'since=2023-01-01&x=1',
            'x: not a parameter of this export',
            'database unreachable: an undeclared one', module => 'os_filters_down');
{
    my $r = fetch('/filters/int?v=1', module => 'os_filters_down');
    is $r->{status}, 503, 'database unreachable, a good value: 503 (it got that far)';
}

# =============================================================================
# 6. Another session TimeZone and DateStyle (os_filters_tz)
# =============================================================================

{
    my %tz = (module => 'os_filters_tz', session => ['America/New_York', 'SQL, DMY']);
    for my $c (
        # [escaped, literal, UTC, the value in New York, SQL/DMY style]
        ['2024-05-01T13:45', '2024-05-01 13:45:00+00', '2024-05-01 13:45:00.000000',
         '01/05/2024 09:45:00 EDT'],
        ['2024-05-01', '2024-05-01 00:00:00+00', '2024-05-01 00:00:00.000000',
         '30/04/2024 20:00:00 EDT'],
        ['2024-01-15T08:00:00.25', '2024-01-15 08:00:00.25+00', '2024-01-15 08:00:00.250000',
         '15/01/2024 03:00:00.25 EST'],
        ['2024-05-01T13:45%2B02:00', '2024-05-01 13:45:00+02:00', '2024-05-01 11:45:00.000000',
         '01/05/2024 07:45:00 EDT'],
    ) {
        my ($v, $l, $utc, $ny) = @$c;
        echo_is('/filters/ts', "v=$v", ["'$l'::timestamptz"],
                "v,type,utc\n$ny,timestamp with time zone,$utc\n",
                "TimeZone America/New_York: v=$v is $utc UTC", %tz);
    }
    echo_is('/filters/date', 'v=2024-02-03', ["'2024-02-03'::date"],
            "v,type\n03/02/2024,date\n", 'DateStyle SQL, DMY: v=2024-02-03 is 3 February', %tz);
    echo_is('/filters/defaults', undef,
            ["'-42'::bigint", "'2024-02-29'::date", "'2024-05-01 13:45+02:00'::timestamptz",
             'true', "'a, b'::text", "'1.50'::numeric", 'NULL::text'],
            "n,d,ts,b,t,x,e\n-42,29/02/2024,01/05/2024 07:45:00 EDT,t,\"a, b\",1.50,\n",
            'another TimeZone and DateStyle: the defaults', %tz);
    body_is('/exports/orders.csv', "since=$day&until=$day", shop_want($day, $day, undef),
            "another TimeZone: shop since=until=$day: still that UTC day",
            module => 'os_filters_tz');
    body_is('/exports/orders.csv', 'until=2021-01-31&limit=3&offset=2',
            shop_want(undef, '2021-01-31', undef, 'OFFSET 2 LIMIT 3'),
            'another TimeZone: shop until=2021-01-31, a preview', module => 'os_filters_tz');
    {
        local $ENV{PGTZ} = 'America/New_York';
        my $n = shop_count('2021-01-01', '2021-01-01');
        my $res = body_is('/exports/orders.csv', 'since=2021-01-01&until=2021-01-01',
                          shop_want('2021-01-01', '2021-01-01', undef),
                          'another TimeZone: shop, the first UTC day',
                          module => 'os_filters_tz');
        is count_records($res->{body}, "\r\n") - 1, $n,
            "another TimeZone: the first UTC day has $n rows, counted independently";
    }
}

# And the main server is still fine.
echo_is('/filters/int', 'v=-0042', ["'-42'::bigint"], "v,type\n-42,bigint\n",
        'at the end: v=-0042 is -42');
