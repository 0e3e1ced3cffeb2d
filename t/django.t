# The Django hand-off (issue 21): real Django (contrib/django's shop site)
# under mod_wsgi's daemon mode in the test httpd, <VirtualHost os_django>
# of t/conf/django.conf.in, from t/run's copy in $OS_DJANGO_DIR.
#
# - Django's own tools make the site's tables and users; a user logs in
#   through Django's login form, and the export buttons' hand-off (200 +
#   Location, mod_wsgi's internal redirect) gives exactly that user's rows
#   in csv, ndjson and xlsx, against COPY with their e-mail bound, with the
#   module's Content-Type, Content-Disposition and Cache-Control: private;
#   a second user never sees the first's rows; logged out (never logged in,
#   or after logging out), Django's login redirect and never an export.
# - Tokens made by Django's signing.dumps, straight to the export: good,
#   rotated-in key; tampered, expired (410), wrong salt, wrong key, another
#   export, from the future, compressed, none, given twice: 403 with a
#   plain-text reason, a tagged log line that never holds the token; a
#   claim given again in the query string: 400.
# - An ErrorDocument and a RewriteRule that reach the export without a
#   token: 403 (REDIRECT_STATUS proves nothing).
# - Role and setting from claims (row-level security), and with DBDMax 1
#   the next export runs as the pool's role with no setting left.
# - The one-thread daemon answers another request while a hand-off
#   download runs.
# - Headless Chromium (t/bin/browser): log in on the site's form, click the
#   Excel button; the workbook arrives and openpyxl reads the user's rows.
# - The config test of OrderStreamTokenKey, OrderStreamToken and claim=.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Spec ();
use File::Temp qw(tempdir);
use JSON::PP ();
use LWP::UserAgent ();
use Time::HiRes ();
use URI::Escape qw(uri_escape);
use OrderStreamTest qw(copy_csv bind_sql psql_value psql_copy json_lines
                       location_sql error_log_size error_log_since
                       raw_start raw_read raw_close raw_result
                       httpd_config_test);

plan tests => 61;

my $dir = $ENV{OS_DJANGO_DIR}
    or die "OS_DJANGO_DIR is not set: run the suite with t/run\n";
my $conf = File::Spec->catfile(Apache::Test::vars('t_conf'), 'django.conf');
my $sql = location_sql('/shop/orders', $conf);
my $rls_sql = location_sql('/shop/orders-rls', $conf);
open my $kfh, '<', "$dir/keys" or die "$dir/keys: $!";
my @keys = grep { length } map { chomp; $_ } <$kfh>;
close $kfh;
is scalar(@keys), 2, 'two keys in the OrderStreamTokenKey file';

sub q_literal { my ($s) = @_; $s =~ s/'/''/g; return "'$s'" }

# --- Django's own tools: the site's tables and its users ---------------------

sub manage {
    local $ENV{SHOPSITE_DB} = "$dir/db/shop.sqlite3";
    local $ENV{SHOPSITE_KEY_FILE} = "$dir/keys";
    return system('/usr/bin/python3', '-B', "$dir/app/manage.py", @_) == 0;
}

my @emails = split /\n/, psql_value("SELECT customer_email FROM shop_order"
    . " WHERE id <= 100 GROUP BY customer_email ORDER BY min(id) LIMIT 2");
my %password = ($emails[0] => 'first-Pass-1', $emails[1] => 'second-Pass-2',
                'staff@example.com' => 'staff-Pass-3');
my $users = JSON::PP->new->canonical->encode([
    map { [ $_, $password{$_}, $_ eq 'staff@example.com' ? JSON::PP::true
                                                         : JSON::PP::false ] }
    sort keys %password ]);
ok manage('migrate', '--noinput', '-v', '0'), "manage.py migrate";
ok manage('shell', '-c', "import json\n"
    . "from django.contrib.auth.models import User\n"
    . "for e, p, s in json.loads('$users'):\n"
    . "    User.objects.create_user(e, e, p, is_staff=s)\n"),
    'the customers and a staff user, made with Django (manage.py shell)';
# The mod_wsgi daemon writes sessions: as root it runs as nobody.
if ($> == 0) {
    system('chown', '-R', 'nobody:nogroup', "$dir/db") == 0 or die "chown";
}

# --- the browser ---------------------------------------------------------------

Apache::TestRequest::module('os_django');
my $base = 'http://' . Apache::TestRequest::hostport();

sub browser {
    return LWP::UserAgent->new(cookie_jar => {}, max_redirect => 0,
                               timeout => 60);
}

sub csrf {
    my ($ua, $path) = @_;
    my ($t) = $ua->get("$base$path")->content
        =~ /name="csrfmiddlewaretoken" value="([^"]+)"/;
    return $t;
}

# Logs in through Django's login form; returns the browser.
sub login {
    my ($email) = @_;
    my $ua = browser();
    my $res = $ua->post("$base/app/login/", {
        username => $email, password => $password{$email},
        csrfmiddlewaretoken => csrf($ua, '/app/login/'), next => '/app/' });
    ok $res->code == 302 && ($res->header('Location') // '') =~ m{/app/$},
        "$email logs in through Django's login form"
        or diag $res->code . ' ' . substr($res->content, 0, 300);
    return $ua;
}

# --- 1. the hand-off of the export buttons ---------------------------------

my %types = (csv => qr{^text/csv}, ndjson => qr{^application/x-ndjson},
             xlsx => qr{^application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet});
my $reader = File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'xlsx-read');
my $xdir = tempdir(CLEANUP => 1);
my %rows_of;

for my $u (@emails) {
    my $ua = login($u);
    like $ua->get("$base/app/")->content, qr{<span id="email">\Q$u\E</span>},
        "$u: the My orders page";
    my $bound = bind_sql($sql, q_literal($u));
    for my $f (qw(csv ndjson xlsx)) {
        my $res = $ua->get("$base/app/export/$f/");
        my $ok = $res->code == 200
            && ($res->header('Content-Type') // '') =~ $types{$f}
            && ($res->header('Content-Disposition') // '') =~ /^attachment; filename="my-orders\.\Q$f\E"/
            && ($res->header('Cache-Control') // '') eq 'private';
        ok $ok, "$u, $f: the hand-off answers 200 with the module's headers"
            or diag $res->code . ' ' . $res->headers->as_string
                . substr($res->content, 0, 300);
        my $got = $res->content;
        if ($f eq 'csv') {
            is $got, copy_csv($bound), "$u, csv: COPY with that e-mail bound";
            $rows_of{$u} = [ grep { !/^order_id,/ } split /\n/, $got ];
        }
        elsif ($f eq 'ndjson') {
            is $got, join('', map { "$_\n" } json_lines($bound)),
                "$u, ndjson: row_to_json with that e-mail bound";
        }
        else {
            open my $fh, '>:raw', "$xdir/my.xlsx" or die $!;
            print $fh $got;
            close $fh;
            my $w = eval { JSON::PP->new->decode(
                scalar `/usr/bin/python3 "$reader" "$xdir/my.xlsx"`) } || {};
            my @rows = map { @{ $_->{rows} } } @{ $w->{sheets} || [] };
            shift @rows;
            my @got = map { ($_->[0][1] // '') . ' ' . ($_->[1][1] // '') } @rows;
            my @want = map { my @c = split /\t/; "$c[0] $c[1]" }
                split /\n/, psql_copy($bound, 'FORMAT text');
            is "@got", "@want", "$u, xlsx: openpyxl reads COPY's rows ("
                . scalar(@got) . ')';
        }
    }
    if ($u eq $emails[0]) {
        my $res = $ua->post("$base/app/logout/",
            { csrfmiddlewaretoken => csrf($ua, '/app/') });
        is $res->code, 302, "$u logs out";
        $res = $ua->get("$base/app/export/csv/");
        ok $res->code == 302 && $res->content !~ /order_id/,
            'logged out: the button is a redirect, never an export';
    }
}
for my $i (0, 1) {
    my @rows = @{ $rows_of{$emails[$i]} || [] };
    ok @rows > 0 && !grep({ (split /,/)[1] ne $emails[$i] } @rows),
        "$emails[$i]: " . scalar(@rows) . ' rows, every one theirs';
}
{
    my $res = browser()->get("$base/app/export/csv/");
    ok $res->code == 302
        && ($res->header('Location') // '') =~ m{/app/login/\?next=/app/export/csv/}
        && $res->content !~ /order_id/,
        "never logged in: Django's login redirect, no export";
}

# --- 2. tokens made by Django, straight to the export ---------------------

# signing.dumps of each spec ({claims, key, salt, at, compress}), by
# Django, with its clock pinned to at.
sub django_tokens {
    my @specs = @_;
    my $py = <<'PY';
import json, sys
from unittest import mock
from django.conf import settings
settings.configure()
from django.core import signing
for a in json.loads(sys.argv[1]):
    with mock.patch("time.time", return_value=a["at"]):
        print(signing.dumps(a["claims"], key=a["key"], salt=a["salt"],
                            compress=a["compress"]))
PY
    my $json = JSON::PP->new->canonical->encode([ map { {
        key => $keys[0], salt => 'orderstream', at => time,
        compress => JSON::PP::false, %$_ } } @specs ]);
    open my $fh, '-|', '/usr/bin/python3', '-c', $py, $json or die $!;
    my @t = map { chomp; $_ } <$fh>;
    close $fh or die "python3: $?";
    return @t;
}

my $mine = { export => '/shop/orders', email => $emails[0] };
my %token;
@token{qw(good rotated expired salt key export future compressed rls all)}
    = django_tokens(
    { claims => $mine },
    { claims => $mine, key => $keys[1] },
    { claims => $mine, at => time - 3600 },
    { claims => $mine, salt => 'other' },
    { claims => $mine, key => 'a key not in the file' },
    { claims => { %$mine, export => '/shop/all' } },
    { claims => $mine, at => time + 600 },
    { claims => { %$mine, pad => 'x' x 400 }, compress => JSON::PP::true },
    { claims => { export => '/shop/orders-rls', email => $emails[0],
                  role => 'shop_customer' } },
    { claims => { export => '/shop/all' } },
);
($token{tampered} = $token{good}) =~ s/^(...)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;

sub with_token { my ($path, $t) = @_; return "$base$path?token=" . uri_escape($t) }

my $mine_csv = copy_csv(bind_sql($sql, q_literal($emails[0])));
for my $case (qw(good rotated)) {
    my $res = browser()->get(with_token('/shop/orders', $token{$case}));
    ok $res->code == 200 && $res->content eq $mine_csv,
        "a $case token: 200, the claim's rows" or diag $res->code . ' ' . $res->content;
}

my $log_at = error_log_size();
for my $c (['tampered', 403, qr/signature does not verify/],
           ['expired', 410, qr/expired; ask for a new one/],
           ['salt', 403, qr/signature does not verify/],
           ['key', 403, qr/signature does not verify/],
           ['export', 403, qr/another export/],
           ['future', 403, qr/ahead of the server's clock/],
           ['compressed', 403, qr/compressed/]) {
    my ($case, $code, $why) = @$c;
    my $res = browser()->get(with_token('/shop/orders', $token{$case}));
    ok $res->code == $code && $res->content =~ $why
        && ($res->header('Content-Type') // '') =~ m{^text/plain},
        "a token ($case): $code, \"" . ($res->content =~ s/\n//r) . '"'
        or diag $res->code . ' ' . $res->content;
}
{
    my $res = browser()->get("$base/shop/orders");
    ok $res->code == 403 && $res->content =~ /no token/, 'no token: 403';
    $res = browser()->get(with_token('/shop/orders', $token{good})
        . '&token=' . uri_escape($token{good}));
    ok $res->code == 403 && $res->content =~ /more than once/,
        'the token twice: 403';
    $res = browser()->get(with_token('/shop/orders', $token{good})
        . '&email=' . uri_escape($emails[1]));
    ok $res->code == 400 && $res->content =~ /^email: set by the server/,
        'a claim given again in the query string: 400 naming it'
        or diag $res->code . ' ' . $res->content;
}
{
    my $log = error_log_since($log_at);
    my @lines = grep { /OS00401: \/shop\/orders: 40[13]: / } split /\n/, $log;
    ok @lines >= 6, scalar(@lines) . ' refusals logged with OS00401 and why';
    ok !grep({ index($log, $_) >= 0 } values %token)
        && index($log, uri_escape($token{good})) < 0,
        'no token appears in the error log';
}

# --- 3. internal redirects without a token ------------------------------------

for my $c (['/no/such/page', 'an ErrorDocument'],
           ['/sneak', 'a RewriteRule in a directory context']) {
    my ($path, $what) = @$c;
    my $at = error_log_size();
    my $res = browser()->get("$base$path");
    my $log = error_log_since($at);
    ok $res->code != 200 && $res->content !~ /order_id/
        && $log =~ m{OS00401: /shop/orders: 403: no token},
        "$what reaches /shop/orders without a token: 403 ("
        . $res->code . ' to the client)'
        or diag $res->code . ' ' . substr($res->content, 0, 200) . "\n$log";
}

# --- 4. role and setting from claims; the connection after them ----------

{
    my $res = browser()->get(with_token('/shop/orders-rls', $token{rls}));
    my @rows = grep { !/^order_id,/ } split /\n/, $res->content;
    ok $res->code == 200 && @rows == @{ $rows_of{$emails[0]} }
        && !grep({ !/,\Q$emails[0]\E,.*,shop_customer$/ } @rows),
        'OrderStreamRole and OrderStreamSetting from claims: '
        . scalar(@rows) . ' rows by row-level security, as shop_customer'
        or diag $res->code . ' ' . substr($res->content, 0, 300);
    # The one cursor is the state export's own; PostgreSQL shows a custom
    # setting once set in the session as "" afterwards.
    $res = browser()->get("$base/shop/state");
    like $res->content, qr/\Arole,setting,cursors\nshop,(?:""|NULL),1\n\z/,
        'DBDMax 1: the next export runs as the pool\'s role, no setting left';
}

# --- 5. the daemon thread is free while the download runs ------------------

{
    my $ua = login('staff@example.com');
    my $session;
    $ua->cookie_jar->scan(sub { $session = $_[2] if $_[1] eq 'sessionid' });
    my $c = raw_start(GET => '/app/export-all/csv/', module => 'os_django',
                      extra_headers => "Cookie: sessionid=$session\r\n",
                      rcvbuf => 4096);
    raw_read($c, max_body => 1000, timeout => 30);
    my $head = raw_result($c);
    ok $head->{status} && $head->{status} == 200 && !$c->{closed},
        'the staff hand-off download has started (200) and goes on';
    my $t0 = Time::HiRes::time();
    my $ping = browser()->get("$base/app/ping/");
    ok $ping->code == 200 && $ping->content eq "pong\n" && !$c->{closed},
        sprintf('the one-thread daemon answers another request while it runs'
            . ' (%.2f s)', Time::HiRes::time() - $t0);
    # httpd logs a request when it has ended: the download's line is not
    # there yet, it still runs (the client reads nothing, its window is
    # small, the export is 6.8 MB).
    open my $fh, '<', File::Spec->catfile(Apache::Test::vars('t_logs'),
                                          'orderstream_log') or die $!;
    ok !grep({ m{\|/app/export-all/} } <$fh>),
        'the download has not ended when the daemon answered';
    close $fh;
    raw_close($c);
}

# --- 6. the site in headless Chromium --------------------------------------

{
    my $downloads = tempdir(CLEANUP => 1);
    chmod 0755, $downloads;
    my $u = $emails[1];
    my @cmd = ('/usr/bin/python3',
               File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'browser'),
               "$base/app/login/?next=/app/",
               '--set', '#id_username', $u, '--set', '#id_password', $password{$u},
               '--submit', '#login', '--click', '#export-xlsx',
               '--download-dir', $downloads, '--timeout', '60',
               '--log', File::Spec->catfile(Apache::Test::vars('t_logs'),
                                            'browser-django.log'));
    open my $fh, '-|', @cmd or die "t/bin/browser: $!";
    my $out = do { local $/; <$fh> };
    close $fh;
    is $?, 0, 'browser: logged in on the form and clicked Excel (t/logs/browser-django.log)';
    my $r = eval { JSON::PP->new->decode($out) } || {};
    like $r->{submitted}{title} // '', qr/my orders/i, 'browser: the login led to My orders';
    my $d = $r->{download} || {};
    is $d->{suggestedFilename} // '', 'my-orders.xlsx',
        'browser: the workbook arrives as my-orders.xlsx';
    my $w = eval { JSON::PP->new->decode(
        scalar `/usr/bin/python3 "$reader" "$d->{path}"`) } || {};
    my @rows = map { @{ $_->{rows} } } @{ $w->{sheets} || [] };
    shift @rows;
    my @got = map { ($_->[0][1] // '') . ' ' . ($_->[1][1] // '') } @rows;
    my @want = map { my @c = split /\t/; "$c[0] $c[1]" }
        split /\n/, psql_copy(bind_sql($sql, q_literal($u)), 'FORMAT text');
    ok @got && "@got" eq "@want",
        "browser: openpyxl reads ${u}'s rows in it (" . scalar(@got) . ')'
        or diag "got @got; want @want";
}

# --- 7. the config test ------------------------------------------------------

{
    my $kdir = tempdir(DIR => Apache::Test::vars('t_dir') . '/tmp', CLEANUP => 1);
    my %file = (good => "k1\nk2\n", empty => "\n\n", open => "k1\n");
    for my $n (keys %file) {
        open my $fh, '>', "$kdir/$n" or die $!;
        print $fh $file{$n};
        close $fh;
        chmod $n eq 'open' ? 0644 : 0600, "$kdir/$n";
    }
    my $export = "SetHandler orderstream\n"
        . "OrderStreamToken salt=s max-age=7d\n"
        . "OrderStreamParam email text claim=email required\n"
        . "OrderStreamRole claim=role\n"
        . "OrderStreamSetting shop.customer claim=email\n"
        . "OrderStreamSQL \"SELECT \$1::text\"\n";
    my ($rc, $out) = httpd_config_test(server => "OrderStreamTokenKey $kdir/good",
                                       location => $export);
    ok $rc == 0 && $out =~ /Syntax OK/, 'a token export with claims passes'
        or diag $out;
    for my $c (
        [ 'a missing key file', "OrderStreamTokenKey $kdir/none", $export,
          qr/OrderStreamTokenKey: cannot read \Q$kdir\E\/none/ ],
        [ 'an empty key file', "OrderStreamTokenKey $kdir/empty", $export,
          qr/OrderStreamTokenKey: \Q$kdir\E\/empty: no key in it/ ],
        [ 'a key file others may read', "OrderStreamTokenKey $kdir/open", $export,
          qr/OrderStreamTokenKey: \Q$kdir\E\/open may be read or written by others/ ],
        [ 'OrderStreamTokenKey in a Location', '',
          "OrderStreamTokenKey $kdir/good\n$export",
          qr/OrderStreamTokenKey not allowed in <Location> context/ ],
        [ 'no OrderStreamTokenKey', '', $export,
          qr/OS00402: \/x: OrderStreamToken: no OrderStreamTokenKey/ ],
        [ 'OrderStreamToken without max-age', "OrderStreamTokenKey $kdir/good",
          "OrderStreamToken salt=s\n",
          qr/OrderStreamToken: give salt=SALT and max-age=DURATION/ ],
        [ 'a max-age past 31 days', "OrderStreamTokenKey $kdir/good",
          "OrderStreamToken salt=s max-age=32d\n",
          qr/OrderStreamToken: max-age=32d is not a duration/ ],
        [ 'an unknown option', "OrderStreamTokenKey $kdir/good",
          "OrderStreamToken salt=s max-age=1h key=x\n",
          qr/OrderStreamToken: "key=x" is not an option/ ],
        [ 'claim= without a key', "OrderStreamTokenKey $kdir/good",
          "OrderStreamParam email text claim=\n",
          qr/OrderStreamParam: email: claim= needs a key/ ],
        [ 'OrderStreamRole claim= without a key', "OrderStreamTokenKey $kdir/good",
          "OrderStreamRole claim=\n", qr/OrderStreamRole: claim= needs a key/ ],
    ) {
        my ($name, $server, $location, $want) = @$c;
        ($rc, $out) = httpd_config_test(server => $server, location => $location);
        ok $rc != 0 && $out =~ $want, "the config test fails: $name"
            or diag $out;
    }
}
