# Operators see every export (issue 16): the running exports and the totals
# per Location, shared by every child process through mod_slotmem_shm, in
# mod_status's page (/server-status and ?auto) and in the Prometheus text
# of SetHandler orderstream-metrics.
#
# The Apache::Test server has one child (ServerLimit 1), so this file runs
# an httpd of its own in t/tmp/status: event MPM, StartServers 2, three
# threads each. Four slow exports at once cannot all be in one child (a
# child whose three workers are busy accepts no connection), so both
# children run one. Checked here:
#  - the config test: orderstream-metrics without mod_slotmem_shm fails,
#    naming it; OrderStreamStatus takes On/Off only;
#  - four slow exports in two children on one /server-status page, in its
#    ?auto lines and in one scrape, with their backends' pids as
#    pg_stat_activity has them, rows growing between two looks;
#  - after complete, cut by the database, client-gone, timeout, 400, 406,
#    503 and HEAD requests: nothing is left running, and the totals (page,
#    ?auto and scrape) equal what the access log's notes say;
#  - promtool check metrics accepts the scrape (a Location with quotes, a
#    backslash and UTF-8 in its name included);
#  - a child killed mid-export leaves no slot running;
#  - a graceful restart leaves no stale slot, and the new generation lists
#    and counts its own exports;
#  - the screenshot of the section for the README
#    (t/logs/status-section.png, by headless Chromium: t/bin/browser).
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use File::Path ();
use File::Spec ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use Socket ();
use Time::HiRes ();
use OrderStreamTest qw(dechunk psql_super psql_value httpd_config_test module_so);

plan tests => 67;

my $t_dir = Apache::Test::vars('t_dir');
my $top   = Apache::Test::vars('top_dir');
my $dir   = File::Spec->catdir($t_dir, 'tmp', 'status');
my $httpd = $ENV{HTTPD} || Apache::Test::vars('httpd');
my $apxs  = $ENV{APXS} || 'apxs';
my $mods  = `"$apxs" -q LIBEXECDIR`;
chomp $mods;
$mods ||= '/usr/lib/apache2/modules';
my $so = module_so();

# --- the config test ----------------------------------------------------------
{
    my ($rc, $out) = httpd_config_test(
        location => "SetHandler orderstream-metrics\n");
    ok $rc != 0 && $out =~ /OS00160/ && $out =~ /mod_slotmem_shm/
        && $out =~ /LoadModule slotmem_shm_module/,
        'config test: orderstream-metrics without mod_slotmem_shm fails, '
        . 'saying what to load' or diag $out;
    ($rc, $out) = httpd_config_test(
        server   => "LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so",
        location => "SetHandler orderstream-metrics\n");
    is $rc, 0, 'config test: with mod_slotmem_shm it passes' or diag $out;
    ($rc, $out) = httpd_config_test(
        location => "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\n"
            . "OrderStreamStatus Off\n");
    is $rc, 0, 'config test: no mod_slotmem_shm and no metrics handler: '
        . 'fine (no status)' or diag $out;
    ($rc, $out) = httpd_config_test(
        location => "OrderStreamStatus sometimes\n");
    ok $rc != 0 && $out =~ /OrderStreamStatus/,
        'config test: OrderStreamStatus takes On or Off' or diag $out;
}

# --- our own httpd, two children ---------------------------------------------------
File::Path::remove_tree($dir);
File::Path::make_path("$dir/logs", "$dir/run");
# As root the children run as nobody, and a clone may sit in a directory
# they cannot search: core's directory walk for /server-status would then
# answer 403. DocumentRoot is a directory of its own under /tmp.
my $docroot = File::Temp::tempdir('orderstream-status-XXXXXX', TMPDIR => 1,
                                  CLEANUP => 1);
chmod 0755, $docroot;
my $port = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 1, ReuseAddr => 1)->sockport;
my $odd = "/st/odd \"q\" \\ gr\xc3\xb6\xc3\x9fe";     # as the scrape must show it
(my $odd_conf = $odd) =~ s/(["\\])/\\$1/g;            # as the config says it
my $odd_url = '/st/odd%20%22q%22%20%5C%20gr%C3%B6%C3%9Fe';
my $user = $> == 0 ? "User nobody\nGroup nogroup" : '';
my $conf = "$dir/httpd.conf";

# With $shop_only, the shop's exports alone (for the screenshot).
sub write_conf {
    my ($shop_only) = @_;
    my $ours = $shop_only ? '' : <<"OURS";
    # About 5 s: 5000 rows, batches of 100, each 0.1 s in the database.
    <Location /st/slow>
        SetHandler orderstream
        OrderStreamSQL "SELECT g, pg_sleep(CASE WHEN g % 100 = 0 THEN 0.1 ELSE 0 END) IS NULL AS s FROM generate_series(1, 5000) AS g"
        OrderStreamFetchRows 100
    </Location>
    # About 3 s in 2 slices (OrderStreamParallel): 6000 rows, each slice
    # 0.1 s in the database per 100 rows.
    <Location /st/par>
        SetHandler orderstream
        OrderStreamSQL "SELECT g, pg_sleep(CASE WHEN g % 100 = 0 THEN 0.1 ELSE 0 END) IS NULL AS s FROM generate_series(1, 6000) AS g ORDER BY g"
        OrderStreamParallel 2 "SELECT generate_series(1, 6000)"
        OrderStreamFetchRows 100
    </Location>
    # 8.5 MB in a fraction of a second: a client that reads slowly gets
    # most of it from the spool file.
    <Location /st/big>
        SetHandler orderstream
        OrderStreamSQL "SELECT g, repeat(md5(g::text), 4) AS pad FROM generate_series(1, 60000) AS g"
    </Location>
    <Location /st/quick>
        SetHandler orderstream
        OrderStreamSQL "SELECT * FROM shop_orderitem WHERE id <= 2500 ORDER BY id"
    </Location>
    # Cut by the database: row 5000 divides by zero.
    <Location /st/midstream>
        SetHandler orderstream
        OrderStreamSQL "SELECT g, 1 / (g - 5000) AS q FROM generate_series(1, 10000) AS g"
        OrderStreamFetchRows 100
    </Location>
    <Location /st/timeout>
        SetHandler orderstream
        OrderStreamSQL "SELECT pg_sleep(2) IS NULL AS s"
        OrderStreamStatementTimeout 300ms
    </Location>
    <Location "$odd_conf">
        SetHandler orderstream
        OrderStreamSQL "SELECT 'odd' AS name"
    </Location>
    # Neither listed nor counted.
    <Location /st/unseen>
        SetHandler orderstream
        OrderStreamSQL "SELECT * FROM shop_orderitem WHERE id <= 100 ORDER BY id"
        OrderStreamStatus Off
    </Location>
OURS
    my $down = $shop_only ? '' : <<"DOWN";
# Nothing listens on port 1: 503.
<VirtualHost 127.0.0.1:$port>
    ServerName down.test
    DBDParams "host=127.0.0.1 port=1 dbname=shop user=shop connect_timeout=3"
    DBDMin 0
    <Location /st/down>
        SetHandler orderstream
        OrderStreamSQL "SELECT 1"
    </Location>
</VirtualHost>
DOWN
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh <<"CONF";
# Generated by t/status.t.
ServerRoot "$dir"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$dir/run/httpd.pid"
DefaultRuntimeDir "$dir/run"
ErrorLog "$dir/logs/error_log"
LogLevel info orderstream:debug
$user
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule authz_host_module $mods/mod_authz_host.so
LoadModule status_module $mods/mod_status.so
LoadModule slotmem_shm_module $mods/mod_slotmem_shm.so
LoadModule dbd_module $mods/mod_dbd.so
# conf/orderstream.conf's /my exports ask for a login
LoadModule authn_core_module $mods/mod_authn_core.so
LoadModule authn_file_module $mods/mod_authn_file.so
LoadModule auth_basic_module $mods/mod_auth_basic.so
LoadModule authz_user_module $mods/mod_authz_user.so
LoadModule orderstream_module "$so"
StartServers 2
ServerLimit 2
ThreadLimit 3
ThreadsPerChild 3
MaxRequestWorkers 6
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
ExtendedStatus On
DocumentRoot "$docroot"
LogFormat "%U|%>s|%{orderstream-outcome}n|%{orderstream-rows}n|%{orderstream-bytes}n|%m|%B|%{orderstream-spooled-bytes}n" notes
CustomLog "$dir/logs/access_log" notes
DBDriver pgsql
DBDParams "host=127.0.0.1 port=$ENV{OS_PGPORT} dbname=shop user=shop"
DBDMin 0
DBDKeep 3
# 4: /st/par's 2 slices take at most half of the pool (os_limit.c)
DBDMax 4

<VirtualHost 127.0.0.1:$port>
    ServerName 127.0.0.1
    # The shop's exports, with its /server-status and /orderstream-metrics.
    Include "$top/conf/orderstream.conf"
    # The staff exports without their login (t/staff.t tests it).
    Include "$t_dir/conf/staff-open.inc"
$ours</VirtualHost>
$down
CONF
    close $fh;
}

sub pidfile_pid {
    open my $fh, '<', "$dir/run/httpd.pid" or return 0;
    my $pid = <$fh> || 0;
    chomp $pid;
    return $pid;
}

sub children {
    my $ppid = pidfile_pid() or return ();
    return grep { /^\d+$/ } map { s/\s//gr } `ps -o pid= --ppid $ppid`;
}

my $parent;
END {
    # Whatever happened: no httpd of ours left running.
    if ($parent && kill 0, $parent) {
        system($httpd, '-f', $conf, '-k', 'stop');
        for (1 .. 50) { last unless kill 0, $parent; Time::HiRes::sleep(0.1) }
        kill 'KILL', $parent;
    }
}

write_conf();
my $out = `"$httpd" -t -f "$conf" 2>&1`;
is $? >> 8, 0, 'our httpd: the config test passes' or diag $out;
system($httpd, '-f', $conf, '-k', 'start');
for (1 .. 100) { last if pidfile_pid() && children() >= 2; Time::HiRes::sleep(0.1) }
$parent = pidfile_pid();
my @kids = children();
is scalar(@kids), 2, "our httpd: two children (@kids)";

# --- an HTTP client of our own ------------------------------------------------------
sub start {
    my ($path, %o) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or die "connect: $!";
    my $method = $o{method} || 'GET';
    print $s "$method $path HTTP/1.1\r\nHost: " . ($o{host} || "127.0.0.1:$port")
        . "\r\nConnection: close\r\n" . ($o{headers} || '') . "\r\n";
    return { s => $s, buf => '' };
}

# Reads until the server closes, timeout seconds pass, or (max_body) that
# many body bytes are in.
sub more {
    my ($c, %o) = @_;
    my $sel = IO::Select->new($c->{s});
    my $deadline = Time::HiRes::time() + ($o{timeout} || 30);
    while (!$c->{closed}) {
        if (defined $o{max_body}) {
            my $i = index($c->{buf}, "\r\n\r\n");
            last if $i >= 0 && length($c->{buf}) - $i - 4 >= $o{max_body};
        }
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($c->{s}, $c->{buf}, 65536, length $c->{buf});
        $c->{closed} = 1 unless $n;
    }
    return $c;
}

sub result {
    my ($c) = @_;
    my $i = index($c->{buf}, "\r\n\r\n");
    my $head = $i < 0 ? $c->{buf} : substr($c->{buf}, 0, $i);
    my ($status) = $head =~ m{^HTTP/1\.\d (\d+)};
    my $body = $i < 0 ? '' : substr($c->{buf}, $i + 4);
    ($body) = dechunk($body) if $head =~ /^Transfer-Encoding: chunked/mi;
    return { status => $status || 0, head => $head, body => $body,
             complete => $head =~ /chunked/i ? (dechunk(substr($c->{buf}, $i + 4)))[1] : 1 };
}

sub get {
    my ($path, %o) = @_;
    my $c = more(start($path, %o), timeout => $o{timeout} || 30);
    close $c->{s};
    return result($c);
}

# --- reading the three views -----------------------------------------------------------
# ?auto: OrderStreamRunning, the running exports and the totals.
sub auto {
    my $r = get('/server-status?auto');
    my (%v, @run, @tot);
    for (split /\n/, $r->{body}) {
        if (/^OrderStreamExport\[(\d+)\](\w+): (.*)$/) { $run[$1]{$2} = $3 }
        elsif (/^OrderStreamTotal\[(\d+)\](\S+): (.*)$/) { $tot[$1]{$2} = $3 }
        elsif (/^(OrderStream\w+|ParentServerConfigGeneration): (.*)$/) { $v{$1} = $2 }
    }
    return { %v, run => \@run, totals => { map { $_->{Location} => $_ } @tot },
             text => $r->{body} };
}

sub unescape_label { my ($s) = @_; $s =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge; $s }

# The scrape: {text}, and name => location => {label set} => value.
sub scrape {
    my $r = get('/orderstream-metrics');
    my %m;
    for (split /\n/, $r->{body}) {
        next if /^#/ || !/^(\w+)\{(.*)\} (\S+)$/;
        my ($name, $labels, $value) = ($1, $2, $3);
        my %l;
        $l{$1} = unescape_label($2) while $labels =~ /(\w+)="((?:[^"\\]|\\.)*)"/g;
        my $extra = join ',', map { "$_=$l{$_}" } grep { !/^(vhost|location)$/ } sort keys %l;
        $m{$name}{$l{location}}{$extra} = $value;
    }
    return { %m, text => $r->{body}, status => $r->{status}, head => $r->{head} };
}

sub wait_for {
    my ($seconds, $cond) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (1) {
        my $v = $cond->();
        return $v if $v || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.1);
    }
}

# --- four slow exports in two children ----------------------------------------------
my @slow = map { more(start('/st/slow'), max_body => 1, timeout => 10) } 1 .. 4;
my $a1 = wait_for(5, sub { my $a = auto(); ($a->{OrderStreamRunning} || 0) >= 4 && $a });
$a1 ||= auto();
is $a1->{OrderStreamRunning}, 4, '?auto: four exports running';
my %pids = map { $_->{PID} => 1 } @{ $a1->{run} };
my %kid = map { $_ => 1 } @kids;
is scalar(keys %pids), 2, '?auto: they run in two child processes ('
    . join(' ', sort keys %pids) . ')';
ok !(grep { !$kid{$_} } keys %pids), '?auto: those are our httpd\'s children';
ok !(grep { $_->{Location} ne '/st/slow' || $_->{Client} ne '127.0.0.1'
            || $_->{Format} ne 'csv' } @{ $a1->{run} }),
    '?auto: Location, client and format of each';
my $backends = psql_super("SELECT string_agg(pid::text, ' ' ORDER BY pid)"
    . " FROM pg_stat_activity WHERE usename = 'shop'"
    . " AND query LIKE 'FETCH%' AND state IN ('active', 'idle in transaction')");
my %in_pg = map { $_ => 1 } split ' ', $backends;
ok !(grep { !$in_pg{$_->{BackendPID}} } @{ $a1->{run} }),
    "?auto: each backend pid is a FETCH in pg_stat_activity ($backends)";
my $html = get('/server-status')->{body};
my $rows_html = () = $html =~ m{<tr><td>/st/slow</td>[^\n]*<td>csv</td>}g;
ok $html =~ m{<h2 id="orderstream">orderstream</h2>} && $rows_html == 4,
    "/server-status: the orderstream section lists the four ($rows_html)";
ok((grep { $html =~ m{<td>$_</td></tr>} } keys %pids) == 2,
   '/server-status: with both children\'s pids');
my $m1 = scrape();
is $m1->{orderstream_running}{'/st/slow'}{''}, 4,
    'scrape: orderstream_running is 4 for /st/slow';
Time::HiRes::sleep(1);
my $a2 = auto();
my %before = map { ("$_->{PID}/$_->{Started}" => $_->{Rows}) } @{ $a1->{run} };
my @grew = grep { defined $before{"$_->{PID}/$_->{Started}"}
                  && $_->{Rows} > $before{"$_->{PID}/$_->{Started}"} } @{ $a2->{run} };
is scalar(@grew), 4, 'a second look a second later: each has more rows ('
    . join(' ', map { "$before{qq{$_->{PID}/$_->{Started}}}->$_->{Rows}" } @grew) . ')';
ok !(grep { $_->{Bytes} <= 0 } @{ $a2->{run} }), 'and bytes';
$_ = more($_, timeout => 30) for @slow;
ok !(grep { my $r = result($_); $r->{status} != 200 || !$r->{complete} } @slow),
    'the four slow exports end complete';

# A parallel export shows its slices (the others: 1), and is one export in
# the totals (checked with the rest below).
{
    my $c = more(start('/st/par'), max_body => 1, timeout => 10);
    my $a = wait_for(5, sub { my $a = auto();
        (grep { $_->{Location} eq '/st/par' } @{ $a->{run} }) && $a });
    my ($run) = grep { $_->{Location} eq '/st/par' } @{ ($a || {})->{run} || [] };
    is $run && $run->{Slices}, 2, '?auto: the parallel export has Slices: 2';
    my $html = get('/server-status')->{body};
    like $html, qr{<th>Slices</th>.*<tr><td>/st/par</td>(?:<td>[^<]*</td>){10}<td>2</td>}s,
        '/server-status: its row says 2 slices';
    $c = more($c, timeout => 30);
    my $r = result($c);
    ok $r->{status} == 200 && $r->{complete}, 'the parallel export ends complete';
}

# --- every way an export ends ------------------------------------------------------------
my @series;
push @series, get('/st/quick') for 1 .. 3;
push @series, get($odd_url);
push @series, get('/st/midstream') for 1 .. 2;
push @series, get('/st/timeout');
push @series, get('/st/quick?limit=zz') for 1 .. 2;
push @series, get('/st/quick', headers => "Accept: image/png\r\n");
push @series, get('/st/down', host => 'down.test') for 1 .. 2;
push @series, get('/st/quick', method => 'HEAD');
push @series, get('/st/quick?limit=zz', method => 'HEAD');
push @series, get('/st/quick', method => 'HEAD', headers => "Accept: image/png\r\n");
push @series, get('/st/unseen');
for (1 .. 2) {            # client-gone: the first bytes, then away
    my $c = more(start('/st/slow'), max_body => 1, timeout => 10);
    close $c->{s};
}
is join(' ', map { $_->{status} } @series),
    '200 200 200 200 200 200 500 400 400 406 503 503 200 400 406 200',
    'the series: complete, cut, timeout, 400, 406, 503, HEAD (200, 400, 406), '
    . 'status Off';

# A slow client that leaves a spooled download: it reads about 100 KB of
# 8.5 MB (a 16 KB receive buffer), then closes with the rest unread (a
# reset). What it is said to have received is what it read, within its
# socket buffer; the spooled bytes are told apart.
my ($big_read, $big_rcvbuf);
{
    my $c = start('/st/big');
    setsockopt($c->{s}, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 16384);
    my $sel = IO::Select->new($c->{s});
    my $deadline = Time::HiRes::time() + 20;
    while (length($c->{buf}) < 100_000 && Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.01);
        next unless $sel->can_read(1);
        sysread($c->{s}, $c->{buf}, 4096, length $c->{buf}) or last;
    }
    $big_rcvbuf = unpack 'i', getsockopt($c->{s}, Socket::SOL_SOCKET(),
                                         Socket::SO_RCVBUF());
    close $c->{s};
    $big_read = length result($c)->{body};
}

# Nothing running once they have ended, whatever ended them.
my $idle = wait_for(10, sub { my $a = auto(); !$a->{OrderStreamRunning} && $a });
ok $idle, 'after the downloads end: nothing running in ?auto';
my $m = scrape();
ok !(grep { $_ } map { values %$_ } values %{ $m->{orderstream_running} }),
    'nor in the scrape';

# The totals against the access log's notes, once every line is written.
sub log_lines {
    open my $fh, '<', "$dir/logs/access_log" or return [];
    my @l;
    while (<$fh>) {
        chomp;
        my %h;
        @h{qw(url status outcome rows bytes method sent spooled)} = split /\|/, $_, -1;
        push @l, \%h;
    }
    return \@l;
}
# The four slow ones, the series, the two that went away: every line is
# written (our log_transaction hook runs beside mod_log_config's).
my $want_lines = 4 + 1 + @series + 2 + 1;
wait_for(10, sub { (grep { $_->{url} =~ m{^/st/} } @{ log_lines() }) >= $want_lines });
Time::HiRes::sleep(0.3);
# The one that left mid-spool.
{
    my ($l) = grep { $_->{url} eq '/st/big' } @{ log_lines() };
    $l ||= {};
    is $l->{outcome}, 'client-gone', 'left mid-spool: outcome client-gone';
    ok defined $l->{bytes} && $l->{bytes} >= $big_read - 1000
        && $l->{bytes} <= $big_read + $big_rcvbuf + 1000,
        "left mid-spool: orderstream-bytes ($l->{bytes}) is what it read "
        . "($big_read), within its receive buffer ($big_rcvbuf)";
    is $l->{sent}, $l->{bytes}, 'left mid-spool: %B says the same';
    ok $l->{spooled} > 10 * $l->{bytes},
        "left mid-spool: orderstream-spooled-bytes ($l->{spooled}) tells the "
        . 'spool file\'s share apart';
}
# HEAD is not an export, whatever it was answered: its notes are in the
# access log, never in the totals.
my @head = grep { $_->{method} eq 'HEAD' && $_->{outcome} ne '-' } @{ log_lines() };
is join(' ', sort map { $_->{status} } @head), '400 406',
    'HEAD 400 and 406: in the access log as rejected';
my (%want, %wrej, %wrows, %wbytes, %wspool, %whist);
for my $l (grep { $_->{outcome} ne '-' && $_->{method} ne 'HEAD' } @{ log_lines() }) {
    # mod_log_config's escaping (ap_escape_logitem): \" \\ \xhh
    (my $loc = $l->{url}) =~ s/\\(x([0-9a-f]{2})|.)/defined $2 ? chr hex $2 : $1/ge;
    $want{$loc}{$l->{outcome}}++;
    $wrej{$loc}{$l->{status}}++ if $l->{outcome} eq 'rejected';
    $wrows{$loc} += $l->{rows};
    $wbytes{$loc} += $l->{bytes};
    $wspool{$loc} += $l->{spooled} if $l->{spooled} ne '-';
    $whist{$loc}++ if $l->{outcome} ne 'rejected';
}
ok $want{'/st/unseen'}, 'the access log has notes for OrderStreamStatus Off too';
delete $_->{'/st/unseen'} for \%want, \%wrej, \%wrows, \%wbytes, \%wspool, \%whist;
is_deeply [sort keys %want],
    [sort '/st/slow', '/st/par', '/st/big', '/st/quick', '/st/midstream', '/st/timeout', '/st/down', $odd],
    'the access log: every kind of end is there';
is_deeply \%want, { '/st/slow' => { complete => 4, 'client-gone' => 2 },
                    '/st/par' => { complete => 1 },
                    '/st/big' => { 'client-gone' => 1 },
                    '/st/quick' => { complete => 3, rejected => 3 },
                    '/st/midstream' => { 'db-error' => 2 },
                    '/st/timeout' => { timeout => 1 },
                    '/st/down' => { rejected => 2 },
                    $odd => { complete => 1 } },
    'the access log: the outcomes expected';

$m = scrape();
my (%got, %grej, %grows, %gbytes, %gspool, %ghist);
for my $loc (keys %{ $m->{orderstream_exports_total} }) {
    for my $k (keys %{ $m->{orderstream_exports_total}{$loc} }) {
        my $v = $m->{orderstream_exports_total}{$loc}{$k} or next;
        $got{$loc}{ $k =~ s/^outcome=//r } = $v;
    }
    for my $k (keys %{ $m->{orderstream_rejected_total}{$loc} }) {
        my $v = $m->{orderstream_rejected_total}{$loc}{$k} or next;
        $grej{$loc}{ $k =~ s/^code=//r } = $v;
    }
    $grows{$loc}  = $m->{orderstream_rows_total}{$loc}{''} if $m->{orderstream_rows_total}{$loc}{''};
    $gbytes{$loc} = $m->{orderstream_bytes_total}{$loc}{''} if $m->{orderstream_bytes_total}{$loc}{''};
    $gspool{$loc} = $m->{orderstream_spooled_bytes_total}{$loc}{''}
        if $m->{orderstream_spooled_bytes_total}{$loc}{''};
    $ghist{$loc} = $m->{orderstream_export_duration_seconds_count}{$loc}{''}
        if $m->{orderstream_export_duration_seconds_count}{$loc}{''};
}
is_deeply \%got, \%want, 'scrape: orderstream_exports_total = the notes\' outcomes';
is_deeply \%grej, \%wrej, 'scrape: orderstream_rejected_total = the 400, 406 and 503 answers';
is_deeply \%grows, { map { $_ => $wrows{$_} } grep { $wrows{$_} } keys %wrows },
    'scrape: orderstream_rows_total = the rows notes, summed';
is_deeply \%gbytes, { map { $_ => $wbytes{$_} } grep { $wbytes{$_} } keys %wbytes },
    'scrape: orderstream_bytes_total = the bytes notes, summed';
is_deeply \%gspool, { map { $_ => $wspool{$_} } grep { $wspool{$_} } keys %wspool },
    'scrape: orderstream_spooled_bytes_total = the spooled-bytes notes, summed';
is_deeply \%ghist, \%whist, 'scrape: the duration histogram counts every '
    . 'export but the rejected ones';
ok !exists $m->{orderstream_exports_total}{'/st/unseen'},
    'scrape: OrderStreamStatus Off is not there';
my $inf_ok = !grep {
    my $loc = $_;
    ($m->{orderstream_export_duration_seconds_bucket}{$loc}{'le=+Inf'} // -1)
        != ($m->{orderstream_export_duration_seconds_count}{$loc}{''} // -2)
} keys %{ $m->{orderstream_export_duration_seconds_count} };
ok $inf_ok, 'scrape: each histogram\'s +Inf bucket equals its count';

my $a = auto();
my (%auto_got, %auto_rows, %auto_bytes, %auto_spool);
for my $loc (keys %{ $a->{totals} }) {
    my $t = $a->{totals}{$loc};
    for my $k (grep { /^Outcome\[/ } keys %$t) {
        $auto_got{$loc}{ $k =~ s/^Outcome\[(.*)\]$/$1/r } = $t->{$k} if $t->{$k};
    }
    $auto_rows{$loc} = $t->{Rows} if $t->{Rows};
    $auto_bytes{$loc} = $t->{Bytes} if $t->{Bytes};
    $auto_spool{$loc} = $t->{SpooledBytes} if $t->{SpooledBytes};
}
is_deeply \%auto_got, \%want, '?auto: the totals\' outcomes = the notes';
is_deeply \%auto_rows, { map { $_ => $wrows{$_} } grep { $wrows{$_} } keys %wrows },
    '?auto: the totals\' rows = the notes';
is_deeply \%auto_bytes, { map { $_ => $wbytes{$_} } grep { $wbytes{$_} } keys %wbytes },
    '?auto: the totals\' bytes = the notes';
is_deeply \%auto_spool, { map { $_ => $wspool{$_} } grep { $wspool{$_} } keys %wspool },
    '?auto: the totals\' spooled bytes = the notes';
$html = get('/server-status')->{body};
ok $html =~ m{<td>/st/midstream</td><td>127\.0\.0\.1</td><td>0</td><td>0</td><td>0</td><td>2</td>},
    '/server-status: the totals table (/st/midstream: 2 db-error)';
ok $html =~ m{<td>/st/odd &quot;q&quot; \\ gr&#xF6;&#xDF;e</td>},
    '/server-status: a Location\'s name escaped, UTF-8 as character references '
    . '(the page says ISO-8859-1)';

# --- promtool ------------------------------------------------------------------------------
like $m->{head}, qr{^Content-Type: text/plain; version=0\.0\.4; charset=utf-8\r?$}mi,
    'scrape: Prometheus\' content type';
{
    my $file = "$dir/scrape.txt";
    open my $fh, '>:raw', $file or die;
    print $fh $m->{text};
    close $fh;
    my $check = `promtool check metrics < "$file" 2>&1`;
    is $?, 0, 'promtool check metrics accepts the scrape' or diag $check;
    ok exists $m->{orderstream_exports_total}{$odd},
        'with the odd Location\'s name escaped and read back as it is';
}
is get('/orderstream-metrics', method => 'POST',
       headers => "Content-Length: 0\r\n")->{status}, 405, 'scrape: POST is 405';

# --- a child killed mid-export -----------------------------------------------------------------
{
    my $c = more(start('/st/slow'), max_body => 1, timeout => 10);
    my $r = wait_for(5, sub { my $a = auto(); $a->{OrderStreamRunning} && $a });
    my $victim = $r ? $r->{run}[0]{PID} : 0;
    ok $victim && kill('KILL', $victim), "a child running an export is killed ($victim)";
    my $gone = wait_for(5, sub { my $a = auto(); defined $a->{OrderStreamRunning}
                                     && !$a->{OrderStreamRunning} && $a });
    ok $gone, 'its slot is free once the parent has reaped it';
    more($c, timeout => 5);
    close $c->{s};
    my $err = do { local (@ARGV, $/) = "$dir/logs/error_log"; <> };
    like $err, qr/OS00164: child $victim ended while running 1 exports/,
        'the error log says so';
}

# --- a graceful restart --------------------------------------------------------------------------
{
    my $c = more(start('/st/slow'), max_body => 1, timeout => 10);
    ok wait_for(5, sub { auto()->{OrderStreamRunning} }), 'an export runs';
    system($httpd, '-f', $conf, '-k', 'graceful');
    my $new = wait_for(10, sub { my $a = auto(); ($a->{ParentServerConfigGeneration} || 0) >= 2 && $a });
    ok $new, 'graceful restart: a new generation answers';
    is $new && $new->{OrderStreamRunning}, 0,
        'graceful restart: no stale slot while the old child finishes its export';
    more($c, timeout => 30);
    close $c->{s};
    my $r = result($c);
    ok $r->{status} == 200 && $r->{complete}, 'the old child\'s export ends complete';
    my $after = wait_for(5, sub { my $a = auto(); defined $a->{OrderStreamRunning} && $a });
    is $after->{OrderStreamRunning}, 0, 'after it: still no slot running';
    is $after->{totals}{'/st/quick'}{'Outcome[complete]'}, 0,
        'the totals count from the restart';
    my $d = more(start('/st/slow'), max_body => 1, timeout => 10);
    my $seen = wait_for(5, sub { my $a = auto(); $a->{OrderStreamRunning} && $a });
    is $seen && $seen->{run}[0]{Location}, '/st/slow',
        'the new generation lists its own export';
    more($d, timeout => 30);
    close $d->{s};
    ok wait_for(5, sub { my $a = scrape();
                         ($a->{orderstream_exports_total}{'/st/slow'}{'outcome=complete'} || 0) == 1 }),
        'and counts it';
}

# --- the screenshot for the README: the shop's exports ---------------------------
# A graceful restart into the shop's config alone: totals for its Locations.
{
    write_conf(1);
    system($httpd, '-f', $conf, '-k', 'graceful');
    my $g = wait_for(10, sub { my $a = auto(); ($a->{ParentServerConfigGeneration} || 0) >= 3 && $a });
    is_deeply [sort keys %{ $g ? $g->{totals} : {} }],
        ['/exports/catalogue.csv', '/exports/orders.csv', '/exports/product-totals.csv',
         '/my/orders-rls.csv', '/my/orders.csv'],
        'a graceful restart into another config: the totals of its Locations';
    get('/exports/orders.csv?since=2023-01-01&until=2023-01-31');
    get('/exports/product-totals.csv');
    get('/exports/catalogue.csv?limit=50');
    get('/exports/orders.csv?since=2023-02-30');
    # Clients that stop reading. The shop's exports have the default spool:
    # each reads all its rows, gives its connection back and stays listed
    # as "spooled", with no backend, until its client has it all.
    my @c = map { more(start($_), max_body => 1, timeout => 10) }
        '/exports/orders.csv', '/exports/orders.csv?format=ndjson';
    my $sp = wait_for(30, sub {
        my $a = auto();
        my @s = grep { $_->{Phase} eq 'spooled' } @{ $a->{run} };
        @s == 2 && $a });
    ok $sp, 'clients that stopped reading: both exports spooled';
    my $n = psql_value('SELECT count(*) FROM shop_orderitem');
    ok $sp && !(grep { $_->{BackendPID} != 0 || $_->{Rows} != $n } @{ $sp->{run} }),
        "spooled: all $n rows read, no backend held";
    like get('/server-status')->{body},
        qr{<td>spooled</td><td>\d+</td><td>[^<]+</td><td>-</td>},
        'the page shows no backend pid for a spooled export';
    my $logs = Apache::Test::vars('t_logs');
    my $png = File::Spec->catfile($logs, 'status-section.png');
    unlink $png;
    my @cmd = ('python3', File::Spec->catfile($t_dir, 'bin', 'browser'),
               "http://127.0.0.1:$port/server-status", '--screenshot', $png,
               '--element', '#orderstream-status', '--width', '1300',
               '--log', File::Spec->catfile($logs, 'browser.log'));
    open my $bh, '-|', @cmd or die "t/bin/browser: $!";
    my $json = do { local $/; <$bh> };
    close $bh;
    is $?, 0, 'browser: headless Chromium took the screenshot of the section'
        or diag $json;
    open my $fh, '<:raw', $png;
    my $magic = '';
    read $fh, $magic, 8 if $fh;
    is $magic, "\x89PNG\r\n\x1a\n", 't/logs/status-section.png is a PNG';
    close $_->{s} for @c;
    ok wait_for(10, sub { my $a = auto(); defined $a->{OrderStreamRunning}
                              && !$a->{OrderStreamRunning} }),
        'clients that stopped reading, then went away: nothing left running';
}
