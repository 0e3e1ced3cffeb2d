# The failure-handling directives (OrderStreamStatementTimeout,
# OrderStreamMaxConcurrent, OrderStreamAcquireTimeout, OrderStreamRetryAfter)
# in the config test (httpd -t): valid values pass, each bad value fails
# with a message naming the directive. As t/config.t, on small generated
# configs.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use OrderStreamTest qw(module_so);

my @good = (
    'OrderStreamStatementTimeout 500ms', 'OrderStreamStatementTimeout 30s',
    'OrderStreamStatementTimeout 5min',  'OrderStreamStatementTimeout 10',
    'OrderStreamStatementTimeout 0',     'OrderStreamStatementTimeout 1440min',
    'OrderStreamAcquireTimeout 250ms',   'OrderStreamAcquireTimeout 0',
    'OrderStreamAcquireTimeout 2',       'OrderStreamMaxConcurrent 0',
    'OrderStreamMaxConcurrent 1',        'OrderStreamMaxConcurrent 100000',
    'OrderStreamRetryAfter 0',           'OrderStreamRetryAfter 86400',
);
my @bad = (
    'OrderStreamStatementTimeout abc',  'OrderStreamStatementTimeout -1',
    'OrderStreamStatementTimeout 10h',  'OrderStreamStatementTimeout 5 min',
    'OrderStreamStatementTimeout ms',   'OrderStreamStatementTimeout 1441min',
    'OrderStreamStatementTimeout 1.5s', 'OrderStreamAcquireTimeout soon',
    'OrderStreamAcquireTimeout -2s',    'OrderStreamMaxConcurrent -1',
    'OrderStreamMaxConcurrent 100001',  'OrderStreamMaxConcurrent many',
    'OrderStreamMaxConcurrent 3x',      'OrderStreamRetryAfter -1',
    'OrderStreamRetryAfter 86401',      'OrderStreamRetryAfter 5s',
);

plan tests => @good + 2 * @bad + 2;

my $httpd = Apache::Test::vars('httpd');
my $so    = module_so();
my $mods  = '/usr/lib/apache2/modules';
my $dir   = tempdir('directives-XXXXXX', DIR => Apache::Test::vars('t_dir') . '/tmp',
                    CLEANUP => 1);

# "$httpd -t" on a config with LINE in a <Location>, or at server level
# with $server; returns (exit status, output).
sub config_test {
    my ($line, $server) = @_;
    my $file = "$dir/httpd.conf";
    open my $fh, '>', $file or die "$file: $!";
    print $fh <<"CONF";
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:1
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule orderstream_module "$so"
DBDriver pgsql
DBDParams "host=127.0.0.1 dbname=shop"
CONF
    print $fh "$line\n" if $server;
    print $fh "<Location /x>\nSetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\n"
        . ($server ? '' : "$line\n") . "</Location>\n";
    close $fh;
    my $out = `"$httpd" -t -f "$file" 2>&1`;
    return ($? >> 8, $out);
}

for my $line (@good) {
    my ($rc, $out) = config_test($line);
    is $rc, 0, "$line: passes the config test" or diag $out;
}
my ($rc, $out) = config_test('OrderStreamMaxConcurrent 2', 'server');
is $rc, 0, 'allowed at server level' or diag $out;
($rc, $out) = config_test("<VirtualHost 127.0.0.1:1>\nOrderStreamAcquireTimeout 1s\n"
    . "OrderStreamRetryAfter 3\nOrderStreamMaxConcurrent 2\n"
    . "OrderStreamStatementTimeout 1min\n</VirtualHost>", 'server');
is $rc, 0, 'allowed in <VirtualHost>' or diag $out;

for my $line (@bad) {
    my ($name) = split ' ', $line;
    ($rc, $out) = config_test($line);
    isnt $rc, 0, "$line: the config test fails";
    (my $msg = $out) =~ s/^.*Syntax error on line \d+ of \S+:\s*$//mg;
    like $msg, qr/\Q$name\E/, "$line: the message names $name"
        or diag $out;
}
