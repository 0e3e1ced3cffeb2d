# The failure-handling directives (OrderStreamStatementTimeout,
# OrderStreamMaxConcurrent, OrderStreamAcquireTimeout, OrderStreamRetryAfter)
# and the slow-client ones (OrderStreamSpool, OrderStreamSpoolDir,
# OrderStreamMinRate, OrderStreamMaxDuration) in the config test (httpd -t): valid values pass, each bad value fails
# with a message naming the directive. As t/config.t, on small generated
# configs.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use OrderStreamTest qw(httpd_config_test);

my @good = (
    'OrderStreamStatementTimeout 500ms', 'OrderStreamStatementTimeout 30s',
    'OrderStreamStatementTimeout 5min',  'OrderStreamStatementTimeout 10',
    'OrderStreamStatementTimeout 0',     'OrderStreamStatementTimeout 1440min',
    'OrderStreamAcquireTimeout 250ms',   'OrderStreamAcquireTimeout 0',
    'OrderStreamAcquireTimeout 2',       'OrderStreamMaxConcurrent 0',
    'OrderStreamMaxConcurrent 1',        'OrderStreamMaxConcurrent 100000',
    'OrderStreamRetryAfter 0',           'OrderStreamRetryAfter 86400',
    'OrderStreamSpool 128M',             'OrderStreamSpool off',
    'OrderStreamSpool 64K',              'OrderStreamSpool 1g',
    'OrderStreamSpool 1T',
    'OrderStreamSpoolDir /tmp',          'OrderStreamMinRate 1K 60',
    'OrderStreamMinRate 500',            'OrderStreamMinRate 1M 3600',
    'OrderStreamMinRate off',            'OrderStreamMaxDuration 30min',
    'OrderStreamMaxDuration 90s',        'OrderStreamMaxDuration off',
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
    'OrderStreamSpool 63K',             'OrderStreamSpool 2T',
    'OrderStreamSpool 128MB',           'OrderStreamSpool lots',
    'OrderStreamSpool -1M',             'OrderStreamSpool 99999999999999999999',
    'OrderStreamSpoolDir tmp',          'OrderStreamSpoolDir /no/such/dir',
    'OrderStreamSpoolDir /etc/hostname',
    'OrderStreamMinRate 0',             'OrderStreamMinRate 1K 0',
    'OrderStreamMinRate 1K 3601',       'OrderStreamMinRate 2G',
    'OrderStreamMinRate fast',          'OrderStreamMinRate off 60',
    'OrderStreamMaxDuration 2d',        'OrderStreamMaxDuration -5s',
    'OrderStreamMaxDuration 1441min',
);

plan tests => @good + 2 * @bad + 2;

# "httpd -t" with LINE in a <Location> that exports, or at server level
# with $server; returns (exit status, output).
sub config_test {
    my ($line, $server) = @_;
    my $export = "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\n";
    return $server
        ? httpd_config_test(server => $line, location => $export)
        : httpd_config_test(location => "$export$line\n");
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
