# Per-user exports (issue 15): values from the request (OrderStreamParam
# expr=, OrderStreamSetting, OrderStreamRole), row-level security, no cache
# leak. Virtual hosts in t/conf/identity.conf.in; the shipped /my exports of
# conf/orderstream.conf on the main server.
#
# - The shipped /my/orders.csv with mod_auth_basic + mod_authn_file users:
#   each user gets exactly their rows, against COPY with their e-mail bound,
#   in every format the export offers; two users never see each other's
#   rows; no login is a 401; ?email= (even empty) is a 400 that names it.
#   /my/orders-rls.csv, whose query has no WHERE, gives each the same rows
#   through the policies of conf/shop-rls.sql (role + setting).
# - A header-based and an env-based expression, against COPY; required and
#   absent is a 403 with a tagged log line naming the Location; empty is the
#   default or NULL; a value not of its type is a 400.
# - OrderStreamRole: a missing or forbidden role is a 403 with nothing
#   sent and the SQLSTATE logged; "none", empty and over-long names are
#   refused before the database; settings literal and from a header.
# - With DBDMax 1 the next export on the connection runs as the pool's
#   user with no setting left, directly and through PgBouncer.
# - Cache-Control: private and Vary on every such response, errors too.
# - The download page of a logged-in visitor and of an anonymous one.
# - The config test's failures for the three directives.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use File::Spec ();
use File::Temp qw(tempdir);
use HTML::TreeBuilder ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use OrderStreamTest qw(conf_locations repo_conf copy_csv csv_line lf_to_crlf
                       bind_sql psql_value psql_super explain_difference
                       httpd_config_test wait_no_idle_in_transaction
                       unique_tag wait_outcome_line grouped_lines
                       psql_copy json_lines);

plan tests => 161;

my $shop = repo_conf('orderstream.conf');
my $customers = $ENV{OS_CUSTOMERS}
    or die "OS_CUSTOMERS is not set: run the suite with t/run\n";

# --- the users and roles -----------------------------------------------------

# Two customers who have orders (the first two of the orders), and one
# who has none.
my @emails = split /\n/, psql_value("SELECT customer_email FROM shop_order"
    . " WHERE id <= 100 GROUP BY customer_email ORDER BY min(id) LIMIT 2");
is scalar(@emails), 2, 'two customers with orders: ' . join(', ', @emails);
my %password = (
    $emails[0]              => 'first-Pass-1',
    $emails[1]              => 'second-Pass-2',
    'no-orders@example.com' => 'third-Pass-3',
);
unlink $customers;
for my $u (sort keys %password) {
    my $out = `htpasswd -b -B @{[ -e $customers ? '' : '-c' ]} '$customers' '$u' '$password{$u}' 2>&1`;
    die "htpasswd: $out" if $?;
}
chmod 0644, $customers;
ok -s $customers, "the password file has the three users ($customers)";

psql_super(q{DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'os_not_granted') THEN
        CREATE ROLE os_not_granted NOLOGIN;
    END IF; END $$});
psql_super('SET client_min_messages = warning; DROP ROLE IF EXISTS os_no_such_role');
# 63 bytes (62 characters, the last one two bytes), the longest name
# PostgreSQL keeps: one byte more, still 63 characters, and it would cut
# the name to this role's, which shop may take.
my $long = 'os_long_' . ('x' x 53) . "\xc3\xa9";
psql_super(qq{SET client_min_messages = warning; DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$long') THEN
        CREATE ROLE "$long" NOLOGIN;
    END IF; END \$\$; GRANT "$long" TO shop});
is psql_super("SELECT pg_has_role('shop', 'shop_customer', 'MEMBER')"
    . " AND NOT pg_has_role('shop', 'os_not_granted', 'MEMBER')"), 't',
    'shop may take role shop_customer (conf/shop-rls.sql), not os_not_granted';

sub auth { my ($u) = @_; return (Authorization => 'Basic '
    . encode_base64("$u:" . ($password{$u} // 'wrong'), '')) }

sub get {
    my ($module, $path, @headers) = @_;
    Apache::TestRequest::module($module);
    return Apache::TestRequest::GET($path, @headers);
}

# --- the oracles ---------------------------------------------------------------

# Every format these exports offer, and what COPY (or row_to_json) gives
# for SQL under the export's header LABELS (none: the column names, LF,
# ungrouped) or the shipped orders layout (labels, CRLF, one NDJSON line
# per order). A new format is one more entry.
my @FORMATS = qw(csv tsv ndjson);
my %ORACLE = (
    csv => sub {
        my ($sql, $labels) = @_;
        return copy_csv($sql) unless $labels;
        return csv_line("\r\n", @$labels) . lf_to_crlf(copy_csv($sql, header => 0));
    },
    tsv => sub {
        my ($sql, $labels) = @_;
        return psql_copy($sql, 'FORMAT text, HEADER') unless $labels;
        return join("\t", @$labels) . "\n" . psql_copy($sql, 'FORMAT text');
    },
    ndjson => sub {
        my ($sql, $labels) = @_;
        my @lines = $labels ? grouped_lines([json_lines($sql, @$labels)],
                                            '"Product Name"', '"Items"')
                            : json_lines($sql);
        return join '', map { "$_\n" } @lines;
    },
);

# One test: GET PATH as FORMAT is a 200 whose body is the oracle's.
sub body_ok {
    my ($module, $path, $want, $name, @headers) = @_;
    my $res = get($module, $path, @headers);
    my $got = $res->content;
    ok $res->code == 200 && $got eq $want, $name
        or diag "GET $path: " . $res->code . "\n"
            . ($res->code == 200 ? explain_difference($got, $want)
                                 : substr($got, 0, 300));
    return $res;
}

sub q_literal { my ($s) = @_; $s =~ s/'/''/g; return "'$s'" }

# --- 1. the shipped /my/orders.csv ---------------------------------------------

my $my = conf_locations($shop)->{'/my/orders.csv'};
my $labels = $my->{OrderStreamHeader};
ok $my && grep({ /^expr=%\{REMOTE_USER\}$/ } @{ $my->{OrderStreamParam} }),
    'conf/orderstream.conf: /my/orders.csv takes email from %{REMOTE_USER}';
my $my_sql = $my->{OrderStreamSQL}[0];

{
    my $res = get('default', '/my/orders.csv');
    is $res->code, 401, '/my/orders.csv without a login: 401';
    like $res->header('WWW-Authenticate') // '', qr/^Basic realm="Shop customers"/,
        '401: WWW-Authenticate: Basic';
    is get('default', '/my/orders.csv', Authorization => 'Basic '
        . encode_base64("$emails[0]:nope", ''))->code, 401,
        'a wrong password: 401';
}

my %rows_of;
for my $u (@emails, 'no-orders@example.com') {
    my $sql = bind_sql($my_sql, 'NULL::date', 'NULL::date', q_literal($u));
    for my $f (@FORMATS) {
        my $res = body_ok('default', "/my/orders.csv?format=$f",
            $ORACLE{$f}->($sql, $labels),
            "/my/orders.csv as $u, $f: COPY with that e-mail bound", auth($u));
        next unless $f eq 'csv';
        $rows_of{$u} = [ grep { !/^Order ID,/ } split /\r\n/, $res->content ];
        like $res->header('Cache-Control') // '', qr/^private$/,
            "as $u: Cache-Control: private";
        my @vary = map { lc } split /\s*,\s*/,
            join(',', $res->header('Vary'));
        ok((grep { $_ eq 'authorization' } @vary) && (grep { $_ eq 'accept' } @vary),
            "as $u: Vary names Authorization and Accept")
            or diag 'Vary: ' . join(',', $res->header('Vary'));
    }
}
# The workbook: read back with openpyxl (t/bin/xlsx-read), each row's
# order id and e-mail against the same COPY; bytes cannot be compared (the
# zip carries the time of the download).
my $reader = File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'xlsx-read');
my $xdir = tempdir(CLEANUP => 1);
for my $u (@emails, 'no-orders@example.com') {
    my $sql = bind_sql($my_sql, 'NULL::date', 'NULL::date', q_literal($u));
    my @want = map { my @f = split /\t/; "$f[0] $f[2]" }
        split /\n/, psql_copy($sql, 'FORMAT text');
    my $res = get('default', '/my/orders.csv?format=xlsx', auth($u));
    open my $fh, '>:raw', "$xdir/my.xlsx" or die $!;
    print $fh $res->content;
    close $fh;
    my $w = eval { JSON::PP->new->decode(scalar `/usr/bin/python3 "$reader" "$xdir/my.xlsx"`) } || {};
    my @rows = map { @{ $_->{rows} } } @{ $w->{sheets} || [] };
    shift @rows;    # the header
    my @got = map { ($_->[0][1] // '') . ' ' . ($_->[2][1] // '') } @rows;
    ok $res->code == 200 && $res->header('Cache-Control') eq 'private'
        && "@got" eq "@want",
        "/my/orders.csv as $u, xlsx: the workbook's rows are COPY's with that e-mail bound ("
        . scalar(@got) . ' rows)'
        or diag $res->code . ': got ' . join(', ', @got[0 .. ($#got > 3 ? 3 : $#got)])
            . '; want ' . join(', ', @want[0 .. ($#want > 3 ? 3 : $#want)]);
}

for my $i (0, 1) {
    my $u = $emails[$i];
    my @rows = @{ $rows_of{$u} || [] };
    ok @rows > 0 && !grep({ (split /,/)[2] ne $u } @rows),
        "$u: " . scalar(@rows) . ' rows, every one theirs';
}
{
    my %seen = map { $_ => 1 } @{ $rows_of{ $emails[0] } };
    ok !grep({ $seen{$_} } @{ $rows_of{ $emails[1] } }),
        'the two customers share no row';
    is scalar(@{ $rows_of{'no-orders@example.com'} }), 0,
        'a customer without orders gets the header alone';
}
body_ok('default', '/my/orders.csv?since=2021-01-01&until=2021-12-31',
    $ORACLE{csv}->(bind_sql($my_sql, q{'2021-01-01'::date}, q{'2021-12-31'::date},
                            q_literal($emails[0])), $labels),
    'since and until still come from the query string', auth($emails[0]));
for my $qs ('email=' . $emails[1], 'email=', 'email', 'since=&email=x') {
    my $res = get('default', "/my/orders.csv?$qs", auth($emails[0]));
    ok $res->code == 400
        && $res->content eq "email: set by the server, not by the query string\n",
        "?$qs: 400 naming email" or diag $res->code . ': ' . $res->content;
}
{
    my $res = get('default', '/my/orders.csv?email=x', auth($emails[0]));
    is $res->header('Cache-Control'), 'private', 'the 400 says private too';
    $res = get('default', '/exports/orders.csv?limit=1');
    ok $res->code == 200 && !defined $res->header('Cache-Control'),
        '/exports/orders.csv (nothing from the request): no Cache-Control';
}

# The same rows through row-level security: a query with no WHERE, the
# policies of conf/shop-rls.sql choose.
{
    my $rls = conf_locations($shop)->{'/my/orders-rls.csv'};
    unlike $rls->{OrderStreamSQL}[0], qr/\bWHERE\b/i,
        '/my/orders-rls.csv: its query has no WHERE';
    for my $u (@emails, 'no-orders@example.com') {
        my $sql = bind_sql($my_sql, 'NULL::date', 'NULL::date', q_literal($u));
        for my $f (@FORMATS) {
            body_ok('default', "/my/orders-rls.csv?format=$f",
                $ORACLE{$f}->($sql, $labels),
                "/my/orders-rls.csv as $u, $f: the policies give exactly theirs",
                auth($u));
        }
    }
    # As the export runs it: the policy finds the customer's orders by the
    # index of conf/shop-rls.sql, not by reading all of shop_order.
    open my $ph, '-|', 'psql', '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
        '-c', 'SET ROLE shop_customer',
        '-c', "SET shop.customer = @{[ q_literal($emails[0]) ]}",
        '-c', "EXPLAIN (COSTS OFF) $rls->{OrderStreamSQL}[0]"
        or die "psql: $!";
    my $plan = do { local $/; <$ph> };
    close $ph;
    like $plan, qr/Index Scan on shop_order_customer_email|Index Scan using shop_order_customer_email/,
        '/my/orders-rls.csv: the policy uses the e-mail index'
        or diag $plan;
}

# --- 2. header- and env-based expressions (os_identity) -------------------------

my $header_sql = conf_locations(Apache::Test::vars('t_conf') . '/identity.conf')
    ->{'/id/header'}{OrderStreamSQL}[0];
for my $u (@emails) {
    my $sql = bind_sql($header_sql, q_literal($u));
    for my $f (@FORMATS) {
        my $res = body_ok('os_identity', "/id/header?format=$f",
            $ORACLE{$f}->($sql), "X-Shop-Customer: $u, $f: COPY with it bound",
            'X-Shop-Customer' => $u);
        next unless $f eq 'csv';
        is $res->header('Cache-Control'), 'private',
            "X-Shop-Customer: $u: Cache-Control: private";
        ok((grep { lc eq 'x-shop-customer' } split /\s*,\s*/,
            join(',', $res->header('Vary'))), "X-Shop-Customer: $u: Vary names it")
            or diag 'Vary: ' . join(',', $res->header('Vary'));
    }
}
{
    my $tag = unique_tag('required-absent');
    t_start_error_log_watch();
    my $res = get('os_identity', '/id/header', 'X-Test-Tag' => $tag);
    my @log = t_finish_error_log_watch();
    is $res->code, 403, '/id/header without X-Shop-Customer: 403';
    unlike $res->content, qr/order_id/, 'the 403 sends no row';
    is $res->header('Cache-Control'), 'private', 'the 403 says private too';
    ok((grep { /OS00030: \/id\/header: 403: email: missing/ } @log),
        'the 403 is logged (OS00030) with the Location') or diag @log;
    my $l = wait_outcome_line($tag);
    is $l && "$l->{outcome} $l->{rows}", 'rejected 0', 'outcome: rejected, 0 rows';
    $res = get('os_identity', '/id/header', 'X-Shop-Customer' => '');
    is $res->code, 403, 'an empty X-Shop-Customer is absent: 403';
}
{
    my $res = get('os_identity', '/id/header', 'X-Shop-Customer' => "\xff\xfe");
    ok $res->code == 400 && $res->content =~
        /^email: expected UTF-8 text of at most 256 characters, got "\\xff\\xfe"$/,
        'a header that is not UTF-8: 400 naming email'
        or diag $res->code . ': ' . $res->content;
    $res = get('os_identity', '/id/header?email=' . $emails[0],
               'X-Shop-Customer' => $emails[1]);
    ok $res->code == 400 && $res->content =~ /^email: set by the server/,
        '/id/header?email=: 400, whatever the header says';
}
{
    my $sql = bind_sql($header_sql, q_literal($emails[1]));
    for my $f (@FORMATS) {
        my $res = body_ok('os_identity', "/id/env?format=$f", $ORACLE{$f}->($sql),
            "%{env:OS_CUSTOMER} (SetEnvIf from X-Tenant), $f: COPY with it bound",
            'X-Tenant' => $emails[1]);
        next unless $f eq 'csv';
        is $res->header('Cache-Control'), 'private',
            'env-based: Cache-Control: private (no header ap_expr could name)';
    }
    is get('os_identity', '/id/env')->code, 403,
        'env-based, the variable unset: 403';
}
{
    body_ok('os_identity', '/id/optional', "since,who,store,store_null\n,nobody,,t\n",
        'absent: the default, or NULL');
    body_ok('os_identity', '/id/optional?since=2024-02-29',
        "since,who,store,store_null\n2024-02-29,alice,42,f\n",
        'given: typed and normalised (0042 is 42); since from the query string',
        'X-Who' => 'alice', 'X-Store' => '0042');
    my $res = get('os_identity', '/id/optional', 'X-Store' => 'abc');
    ok $res->code == 400
        && $res->content eq qq{store: expected a whole number such as 42, got "abc"\n},
        'X-Store: abc: 400 naming store' or diag $res->code . ': ' . $res->content;
    $res = get('os_identity', '/id/optional?who=', 'X-Who' => 'alice');
    ok $res->code == 400 && $res->content =~ /^who: set by the server/,
        '?who= (empty): 400 naming who';
}

# --- 3. role and settings, and what the connection keeps ----------------------

# The pool's one connection (DBDMax 1): who it is and what it carries now.
sub state_ok {
    my ($module, $name) = @_;
    my $res = get($module, '/id/state');
    my $body = $res->content;
    # the one cursor is the state export's own
    ok $res->code == 200 && $body =~ /\Arole,setting,cursors\nshop,(?:""|NULL),1\n\z/,
        "$name: the next export runs as shop, shop.customer unset, no other cursor"
        or diag $res->code . ': ' . $body;
}

my $rls_sql = conf_locations(Apache::Test::vars('t_conf') . '/identity.conf')
    ->{'/id/rls'}{OrderStreamSQL}[0];
# The oracle reads as shop (no policy applies to the tables' owner) with
# the WHERE the policies stand for.
sub rls_oracle {
    my ($u, $f) = @_;
    (my $sql = $rls_sql) =~ s/current_user AS role/'shop_customer'::name AS role/
        or die 'no current_user in /id/rls';
    $sql =~ s/ ORDER BY/ WHERE o.customer_email = @{[ q_literal($u) ]} ORDER BY/;
    return $ORACLE{$f}->($sql);
}

for my $module ('os_identity', 'os_identity_bouncer') {
    my $via = $module eq 'os_identity' ? 'directly' : 'through PgBouncer';
    for my $u (@emails) {
        for my $f (@FORMATS) {
            body_ok($module, "/id/rls?format=$f", rls_oracle($u, $f),
                "$via: role shop_customer + shop.customer, no WHERE, as $u, $f: theirs only",
                auth($u));
        }
        state_ok($module, "$via, after $u");
    }
    is get($module, '/id/rls')->code, 401, "$via: /id/rls without a login: 401";
}
{
    local $ENV{PGPORT} = $ENV{OS_PGBOUNCER_PORT};
    is psql_value("SELECT current_user || ',' || coalesce(current_setting('shop.customer', true), 'NULL')"),
        'shop,', 'psql through PgBouncer, on the same server connection: shop, no value';
}

sub refused_ok {
    my ($path, $sqlstate, $name, @headers) = @_;
    my $tag = unique_tag($name);
    t_start_error_log_watch();
    my $res = get('os_identity', $path, 'X-Test-Tag' => $tag, @headers);
    my @log = t_finish_error_log_watch();
    is $res->code, 403, "$name: 403";
    unlike $res->content, qr/^role\b/m, "$name: nothing of the export sent";
    if ($sqlstate) {
        ok((grep { /OS00031: \Q$path\E: role refused \(403\) at SET ROLE .*SQLSTATE $sqlstate: / } @log),
            "$name: logged with SQLSTATE $sqlstate (OS00031)") or diag @log;
    }
    else {
        ok((grep { /OS00030: \Q$path\E: 403: OrderStreamRole: / } @log),
            "$name: refused before the database (OS00030)") or diag @log;
    }
    my $l = wait_outcome_line($tag);
    is $l && "$l->{outcome} $l->{rows}", 'rejected 0', "$name: outcome rejected, 0 rows";
    state_ok('os_identity', "after $name");
}
refused_ok('/id/role/missing', '(?:22023|42704)', 'a role that does not exist');
refused_ok('/id/role/forbidden', '42501', 'a role not granted to shop');
refused_ok('/id/role/header', undef, 'role "none" (the session user to PostgreSQL)',
           'X-Shop-Role' => 'none');
refused_ok('/id/role/header', undef, 'role "NONE"', 'X-Shop-Role' => 'NONE');
refused_ok('/id/role/header', undef, 'an empty role', 'X-Shop-Role' => '');
refused_ok('/id/role/header', undef, 'no role at all');
refused_ok('/id/role/header', undef,
           'a 64-byte role name PostgreSQL would cut to a granted role\'s',
           'X-Shop-Role' => $long . 'y');
body_ok('os_identity', '/id/role/header',
    "role,customer,source,via\nshop_customer,$emails[0],literal-value,by abc\n",
    'a role and settings from headers (one a string template), a literal setting',
    'X-Shop-Role' => 'shop_customer', 'X-Shop-Customer' => $emails[0],
    'X-Via' => 'ABC');
body_ok('os_identity', '/id/role/header',
    "role,customer,source,via\nshop_customer,\"\",literal-value,by \n",
    'an absent setting is the empty string',
    'X-Shop-Role' => 'shop_customer');
body_ok('os_identity', '/id/role/header', "role,customer,source,via\n$long,\"\",literal-value,by \n",
    'a role name of 63 bytes is taken whole', 'X-Shop-Role' => $long);
{
    my $res = get('os_identity', '/id/role/header', 'X-Shop-Role' => 'shop_customer',
                  'X-Shop-Customer' => "a\xffb");
    ok $res->code == 400 && $res->content =~ /^shop\.customer: expected UTF-8 text/,
        'a setting that is not UTF-8: 400 naming it'
        or diag $res->code . ': ' . $res->content;
}
state_ok('os_identity', 'after the role tests');
is wait_no_idle_in_transaction(3), 0, 'nothing idle in transaction';

# --- 4. the download page -----------------------------------------------------

# The export sections of a page: { path => [ field names ] }, in order.
sub page {
    my ($module, @headers) = @_;
    my $res = get($module, '/downloads', @headers);
    my $tree = HTML::TreeBuilder->new;
    $tree->ignore_unknown(0);
    $tree->parse_content($res->content);
    # Each export's link: its heading, or the line under a heading that is
    # its OrderStreamTitle.
    my @s = map {
        my $h2 = $_->look_down(_tag => 'a');
        [ $h2 ? $h2->as_text : '',
          [ map { $_->attr('name') } $_->look_down(_tag => qr/^(input|select)$/) ] ]
    } $tree->look_down(_tag => 'section');
    $tree->delete;
    return ($res, @s);
}
{
    my ($res, @s) = page('os_identity');
    is_deeply [ map { $_->[0] } @s ],
        [ '/id/state', '/id/optional', '/id/role/missing', '/id/role/forbidden' ],
        'os_identity, anonymous, no header: the exports it could run';
    is $res->header('Cache-Control'), 'private', 'the page says private';
    Apache::TestRequest::module('os_identity');
    my $head = Apache::TestRequest::HEAD('/downloads');
    ok $head->code == 200 && ($head->header('Cache-Control') // '') eq 'private'
        && $head->content eq '',
        'HEAD of the page: no body, Cache-Control: private as for GET';
    ($res, @s) = page('os_identity', auth($emails[0]),
                      'X-Shop-Customer' => $emails[0], 'X-Tenant' => $emails[0],
                      'X-Shop-Role' => 'shop_customer');
    is_deeply [ map { $_->[0] } @s ],
        [ '/id/state', '/id/header', '/id/env', '/id/optional', '/id/rls',
          '/id/role/missing', '/id/role/forbidden', '/id/role/header' ],
        'logged in, with the headers: every export';
    my %fields = map { $_->[0] => join ' ', @{ $_->[1] } } @s;
    is $fields{'/id/header'}, 'offset limit format',
        '/id/header: no field for email';
    is $fields{'/id/optional'}, 'since offset limit format',
        '/id/optional: since, not who or store';
    my @vary = map { lc } split /\s*,\s*/, join(',', $res->header('Vary'));
    ok((grep { $_ eq 'x-shop-customer' } @vary) && (grep { $_ eq 'authorization' } @vary),
        'the page Varies on the headers its exports read')
        or diag 'Vary: ' . join(',', $res->header('Vary'));
    my $json = JSON::PP->new->decode(get('os_identity', '/downloads?format=json',
        'X-Shop-Customer' => $emails[0])->content);
    my ($h) = grep { $_->{url} eq '/id/header' } @{ $json->{exports} };
    ok $h && !@{ $h->{params} }, 'the JSON lists /id/header without email';
}
{
    my (undef, @anon) = page('default');
    ok !grep({ $_->[0] =~ m{^/my/} } @anon), 'shipped page, anonymous: no /my export';
    my ($res, @s) = page('default', auth($emails[1]));
    my %fields = map { $_->[0] => join ' ', @{ $_->[1] } } @s;
    is_deeply [ grep { m{^/my/} } map { $_->[0] } @s ],
        [ '/my/orders.csv', '/my/orders-rls.csv' ],
        'shipped page, logged in: my orders and the policy export';
    is $fields{'/my/orders.csv'}, 'since until offset limit format',
        '/my/orders.csv: since and until, no field for email';
    my $res2 = get('default', '/my/downloads', auth($emails[1]));
    ok $res2->code == 200 && $res2->content =~ m{<a href="/my/orders\.csv">},
        '/my/downloads, logged in: lists /my/orders.csv';
    is get('default', '/my/downloads')->code, 401, '/my/downloads without a login: 401';
}

# --- 5. the config test ---------------------------------------------------------

my $sql = "SetHandler orderstream\nOrderStreamSQL \"SELECT \$1::text\"\n";
{
    my ($rc, $out) = httpd_config_test(location => "SetHandler orderstream\n"
        . "OrderStreamParam who text expr=%{REMOTE_USER} required maxlength=254\n"
        . "OrderStreamParam store int expr=%{HTTP:X-Store} default=1\n"
        . "OrderStreamParam via text \"expr=%{REMOTE_USER} via %{tolower:%{HTTP:X-Via}}\"\n"
        . "OrderStreamSetting shop.customer expr=%{REMOTE_USER}\n"
        . "OrderStreamSetting app.tenant.id 42\n"
        . "OrderStreamRole shop_customer\n"
        . "OrderStreamSQL \"SELECT \$1::text, \$2::bigint, \$3::text\"\n");
    ok $rc == 0 && $out =~ /Syntax OK/, 'a config with every new directive passes'
        or diag $out;
    ($rc, $out) = httpd_config_test(location => $sql
        . "OrderStreamParam who text expr=%{REMOTE_USER}\nOrderStreamRole expr=%{HTTP:X-Role}\n");
    ok $rc == 0, 'OrderStreamRole expr= passes' or diag $out;
}
my @bad = (
    [ 'OrderStreamParam expr= with a syntax error', 'OrderStreamParam',
      "OrderStreamParam who text expr=%{REMOTE_USER\n", qr/who: cannot parse expr=/ ],
    [ 'OrderStreamParam expr= naming no variable httpd has', 'OrderStreamParam',
      "OrderStreamParam who text expr=%{NO_SUCH_VARIABLE}\n", qr/who: cannot parse expr=/ ],
    [ 'OrderStreamParam expr= empty', 'OrderStreamParam',
      "OrderStreamParam who text expr=\n", qr/who: expr= needs an expression/ ],
    [ 'OrderStreamSetting without a dot', 'OrderStreamSetting',
      "OrderStreamParam who text\nOrderStreamSetting customer x\n",
      qr/"customer" is not a custom setting/ ],
    [ 'OrderStreamSetting role (PostgreSQL\'s own)', 'OrderStreamSetting',
      "OrderStreamParam who text\nOrderStreamSetting role shop\n",
      qr/"role" is not a custom setting/ ],
    [ 'OrderStreamSetting with an empty part', 'OrderStreamSetting',
      "OrderStreamParam who text\nOrderStreamSetting shop..x y\n",
      qr/not a custom setting/ ],
    [ 'OrderStreamSetting with one argument', 'OrderStreamSetting',
      "OrderStreamParam who text\nOrderStreamSetting shop.customer\n",
      qr/two arguments/ ],
    [ 'OrderStreamSetting expr= with a syntax error', 'OrderStreamSetting',
      "OrderStreamParam who text\nOrderStreamSetting shop.customer \"expr=%{HTTP:X\"\n",
      qr/shop\.customer: cannot parse expr=/ ],
    [ 'OrderStreamRole none', 'OrderStreamRole',
      "OrderStreamParam who text\nOrderStreamRole none\n", qr/"none"/ ],
    [ 'OrderStreamRole empty', 'OrderStreamRole',
      "OrderStreamParam who text\nOrderStreamRole \"\"\n", qr/takes one argument/ ],
    [ 'OrderStreamRole of 64 bytes', 'OrderStreamRole',
      "OrderStreamParam who text\nOrderStreamRole " . ('r' x 64) . "\n",
      qr/at most 63 bytes/ ],
    [ 'OrderStreamRole expr= with a syntax error', 'OrderStreamRole',
      "OrderStreamParam who text\nOrderStreamRole \"expr=%{HTTP:X\"\n",
      qr/cannot parse expr=/ ],
);
for my $case (@bad) {
    my ($name, $directive, $body, $detail) = @$case;
    my ($rc, $out) = httpd_config_test(location => $sql . $body);
    (my $msg = $out) =~ s/^.*Syntax error on line \d+ of \S+:\s*$//mg;
    ok $rc != 0 && $msg =~ /\Q$directive\E/ && $msg =~ $detail,
        "$name: the config test fails, naming $directive and what is wrong"
        or diag $out;
}
