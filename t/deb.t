# The Debian package and make install, as an administrator would use them:
# `make deb` builds libapache2-mod-orderstream; it is installed with apt-get
# into this machine's own apache2, `a2enmod orderstream` enables it and
# mod_dbd (orderstream.load says "Depends: dbd"), a conf in conf-available
# adds a spare port serving conf/orderstream.conf's orders export from t/run's
# PostgreSQL, and the export must be what psql's COPY writes. Then everything
# is undone: conf, modules, package (purged), apache2 stopped if it was not
# running; the last test checks /etc/apache2 and /var/lib/apache2 are as they
# were. `make install DESTDIR=...` and `make uninstall DESTDIR=...` are
# checked too.
#
# Needs root (apt-get, /etc/apache2): as another user this file fails, it
# does not skip. It refuses to run when the package or its files are already
# on the machine, so that it never removes what it did not install.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use OrderStreamTest qw(repo_conf conf_locations copy_csv bind_sql csv_line
                       lf_to_crlf explain_difference);
use File::Temp ();
use File::Find ();
use Digest::MD5 ();
use HTTP::Tiny ();
use IO::Socket::INET ();
use Time::HiRes ();

die "t/deb.t must run as root: it installs the package with apt-get into "
  . "the system apache2 (run make test as root)\n" if $> != 0;

my $top     = Apache::Test::vars('top_dir');
my $pkg     = 'libapache2-mod-orderstream';
my $etc     = '/etc/apache2';
my $so      = '/usr/lib/apache2/modules/mod_orderstream.so';
my $conf    = "$etc/conf-available/orderstream-debtest.conf";
my $pidfile = '/var/run/apache2/apache2.pid';
my $log     = "$top/t/tmp/deb-build.log";

for my $f ($so, "$etc/mods-available/orderstream.load",
           "$etc/mods-available/orderstream.conf", $conf) {
    die "t/deb.t: $f exists already; remove it (make uninstall?) first\n"
        if -e $f;
}
die "t/deb.t: $pkg is installed already; purge it first\n" if installed();

plan tests => 21;

# --- the state to restore --------------------------------------------------

sub installed {
    my $s = `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null`;
    return $s =~ /ok installed/;
}
sub apache_running {
    open my $fh, '<', $pidfile or return 0;
    my $pid = <$fh>;
    return $pid && $pid =~ /^(\d+)/ && kill(0, $1);
}
sub enabled { -e "$etc/mods-enabled/$_[0].load" }

# Every file and symlink under the trees a2enmod and dpkg change, with its
# content or target, so the last test can say what was left behind.
sub snapshot {
    my %s;
    File::Find::find({ no_chdir => 1, wanted => sub {
        my $p = $File::Find::name;
        if (-l $p) { $s{$p} = 'link ' . readlink $p }
        elsif (-d $p) { $s{$p} = 'dir' }
        elsif (-f $p) {
            open my $fh, '<:raw', $p or return;
            $s{$p} = Digest::MD5->new->addfile($fh)->hexdigest;
        }
    } }, grep { -d } $etc, '/var/lib/apache2');
    return \%s;
}

sub run {
    my (@cmd) = @_;
    my $out = `@cmd 2>&1`;
    my $ok = $? == 0;
    diag("@cmd:\n$out") unless $ok;
    return $ok;
}

my $was_running = apache_running();
my $dbd_before  = enabled('dbd');
my $before      = snapshot();
local $ENV{DEBIAN_FRONTEND} = 'noninteractive';

my $cleaned;
sub cleanup {
    return if $cleaned++;
    system("a2disconf -q orderstream-debtest >/dev/null 2>&1");
    unlink $conf;
    system("a2dismod -q -f orderstream >/dev/null 2>&1") if enabled('orderstream');
    system("apt-get purge -y -q $pkg >/dev/null 2>&1") if installed();
    system("a2dismod -q -f dbd >/dev/null 2>&1") if !$dbd_before && enabled('dbd');
    # a2enmod/a2dismod and the maintainer scripts keep who enabled what
    # (/var/lib/apache2/{module,conf}/*_by_*/NAME): forget ours, and the
    # directories that held only ours.
    for my $m ('orderstream', $dbd_before ? () : 'dbd') {
        unlink glob "/var/lib/apache2/module/*/$m";
    }
    unlink glob '/var/lib/apache2/conf/*/orderstream-debtest';
    for my $d (glob '/var/lib/apache2/*/*_by_*') {
        rmdir $d if -d $d && !$before->{$d};
    }
    if ($was_running) { system("apache2ctl -k graceful >/dev/null 2>&1") }
    elsif (apache_running()) { stop_apache() }
}
END { local $?; cleanup() }
$SIG{INT} = $SIG{TERM} = sub { cleanup(); exit 1 };

sub stop_apache {
    system("apache2ctl -k stop >/dev/null 2>&1");
    my $deadline = Time::HiRes::time() + 15;
    Time::HiRes::sleep(0.1)
        while apache_running() && Time::HiRes::time() < $deadline;
}

# --- build and inspect ------------------------------------------------------

ok(system("make -C '$top' --no-print-directory deb >'$log' 2>&1") == 0,
   'make deb builds the package')
    or diag("see $log:\n" . `tail -n 20 '$log'`);

chomp(my $arch = `dpkg --print-architecture`);
chomp(my $version = `cd '$top' && dpkg-parsechangelog -S Version`);
my $deb = "$top/.deb-build/${pkg}_${version}_$arch.deb";
ok(-f $deb, "it is .deb-build/${pkg}_${version}_$arch.deb");

my %field = map { $_ => scalar `dpkg-deb -f '$deb' $_ 2>/dev/null` }
            qw(Package Depends);
chomp %field;
is($field{Package}, $pkg, "its name is $pkg");
for my $dep (qw(libaprutil1-dbd-pgsql libpq5 apache2-api-20120211)) {
    like($field{Depends}, qr/(^|, )\Q$dep\E\b/, "it depends on $dep")
        or diag("Depends: $field{Depends}");
}
my $contents = `dpkg-deb -c '$deb' 2>&1`;
my @files = ($so, map { "$etc/mods-available/orderstream.$_" } qw(load conf));
ok(!(grep { $contents !~ /\s\.\Q$_\E\n/ } @files),
   'it holds the module, orderstream.load and orderstream.conf')
    or diag($contents);

# --- install, enable, serve ---------------------------------------------------

ok(run("apt-get install -y -q '$deb'"), "apt-get install ./$pkg...deb");
my $want_load = "# Depends: dbd\n"
    . "LoadModule orderstream_module /usr/lib/apache2/modules/mod_orderstream.so\n";
my $got_load = do { local (@ARGV, $/) = "$etc/mods-available/orderstream.load"; <> };
ok(-f $so && defined $got_load && $got_load eq $want_load
          && !system("cmp -s '$top/conf/debian/orderstream.conf' "
                     . "'$etc/mods-available/orderstream.conf'"),
   'the module, orderstream.load and conf/debian/orderstream.conf are installed');

# The postinst enables the module (dh_apache2's default), and mod_dbd with
# it; start from "neither" to see that a2enmod alone brings dbd in.
run("a2dismod -q -f orderstream");
run("a2dismod -q -f dbd") unless $dbd_before;
ok(!enabled('orderstream') && ($dbd_before || !enabled('dbd')),
   'a2dismod orderstream (and dbd)');
ok(run("a2enmod -q orderstream") && enabled('orderstream'),
   'a2enmod orderstream');
ok(enabled('dbd'), 'a2enmod orderstream enabled dbd too');

# A free port, then the shop's orders export of conf/orderstream.conf on it.
my $port = do {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    $s->sockport;
};
my $example = do {
    open my $fh, '<', repo_conf('orderstream.conf') or die $!;
    local $/;
    my $t = <$fh>;
    $t =~ m{^(<Location /exports/orders\.csv>.*?^</Location>)}ms
        or die "no <Location /exports/orders.csv> in conf/orderstream.conf";
    $1;
};
open my $fh, '>', $conf or die "$conf: $!";
print $fh <<"CONF";
# written by mod_orderstream's t/deb.t, removed when it ends
Listen 127.0.0.1:$port
<VirtualHost 127.0.0.1:$port>
    DBDriver pgsql
    DBDParams "host=127.0.0.1 port=$ENV{OS_PGPORT} dbname=shop user=shop"
$example
</VirtualHost>
CONF
close $fh;
ok(run("a2enconf -q orderstream-debtest") && run("apache2ctl configtest"),
   "a2enconf, apache2ctl configtest");

my $started = $was_running ? run("apache2ctl -k graceful")
                           : run("apache2ctl -k start");
my $http = HTTP::Tiny->new(timeout => 60);
my $url  = "http://127.0.0.1:$port/exports/orders.csv";
my $res;
my $deadline = Time::HiRes::time() + 20;
while ($started) {
    $res = $http->get($url);
    last if $res->{status} != 599 || Time::HiRes::time() > $deadline;
    Time::HiRes::sleep(0.2);
}
ok($started && $res && $res->{status} == 200,
   'the system apache2 serves the export on 127.0.0.1:' . $port)
    or diag($res ? "$res->{status} $res->{content}" : 'apache2 did not start');

my $loc = conf_locations(repo_conf('orderstream.conf'))->{'/exports/orders.csv'};
my $want = csv_line("\r\n", @{ $loc->{OrderStreamHeader} })
    . lf_to_crlf(copy_csv(bind_sql($loc->{OrderStreamSQL}[0],
                                   'NULL::date', 'NULL::date', 'NULL::text'),
                          header => 0));
my $got = $res ? $res->{content} : '';
ok($got eq $want, 'the export is what psql COPY writes')
    or diag(explain_difference($got, $want));

# --- undo ----------------------------------------------------------------------

ok(run("a2disconf -q orderstream-debtest") && unlink($conf)
       && run("a2dismod -q orderstream")
       && ($dbd_before || run("a2dismod -q dbd")),
   'a2disconf, a2dismod orderstream (and dbd)');
ok(run("apt-get purge -y -q $pkg") && !installed() && !-e $so
       && !-e "$etc/mods-available/orderstream.load",
   "apt-get purge $pkg");
cleanup();
is(apache_running() ? 1 : 0, $was_running ? 1 : 0,
   'apache2 is ' . ($was_running ? 'running' : 'stopped') . ' as before');
my $after = snapshot();
my @changed = grep { ($before->{$_} // '') ne ($after->{$_} // '') }
              sort keys %{ { %$before, %$after } };
ok(!@changed, "$etc and /var/lib/apache2 are as they were")
    or diag("changed: @changed");

# --- make install / uninstall with DESTDIR -------------------------------------

my $dest = File::Temp::tempdir('destdir-XXXXXX', CLEANUP => 1,
                               DIR => "$top/t/tmp");
ok(run("make -C '$top' --no-print-directory install DESTDIR='$dest'")
       && !(grep { !-f "$dest$_" } @files),
   'make install DESTDIR= puts the module, orderstream.load and .conf there');
ok(run("make -C '$top' --no-print-directory uninstall DESTDIR='$dest'")
       && !(grep { -e "$dest$_" } @files,
                 '/usr/lib/apache2/modules/mod_orderstream.la'),
   'make uninstall DESTDIR= removes them');
