# Configuration errors are caught by the config test (httpd -t), each with a
# message naming the directive at fault. Small configs are generated here and
# checked with the test's httpd; a valid one is checked first, so a failure
# below is the directive's and not the harness's.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use OrderStreamTest qw(httpd_config_test);

my @cases = (
    # [ name, directive the message must name, Location body, no dbd? ]
    [ 'SetHandler orderstream without OrderStreamSQL', 'OrderStreamSQL',
      "SetHandler orderstream\n" ],
    [ 'OrderStreamFetchRows 0', 'OrderStreamFetchRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFetchRows 0\n" ],
    [ 'OrderStreamFetchRows 1000001', 'OrderStreamFetchRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFetchRows 1000001\n" ],
    [ 'OrderStreamFetchRows abc', 'OrderStreamFetchRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFetchRows abc\n" ],
    [ 'OrderStreamFetchRows -5', 'OrderStreamFetchRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFetchRows -5\n" ],
    [ 'OrderStreamFetchRows 10x', 'OrderStreamFetchRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFetchRows 10x\n" ],
    [ 'OrderStreamLineEnding foo', 'OrderStreamLineEnding',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamLineEnding foo\n" ],
    [ 'OrderStreamHeader with no argument', 'OrderStreamHeader',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamHeader\n" ],
    [ 'mod_dbd not loaded', 'mod_dbd',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\n", 'no dbd' ],
);

plan tests => 2 + 2 * @cases;

# Run "httpd -t" with BODY in a <Location>; returns (exit status, output).
sub config_test {
    my ($body, $no_dbd) = @_;
    return httpd_config_test(location => $body, no_dbd => $no_dbd);
}

my ($rc, $out) = config_test(
    "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\n"
    . "OrderStreamHeader a b\nOrderStreamFilename x.csv\n"
    . "OrderStreamFetchRows 1000000\nOrderStreamLineEnding LF\n");
is $rc, 0, 'a valid config passes the config test' or diag $out;
like $out, qr/Syntax OK/, 'Syntax OK';

for my $case (@cases) {
    my ($name, $directive, $body, $no_dbd) = @$case;
    ($rc, $out) = config_test($body, $no_dbd);
    isnt $rc, 0, "$name: config test fails";
    # Drop httpd's own "Syntax error on line N of FILE:" preamble, so the
    # directive must be named by the message itself.
    (my $msg = $out) =~ s/^.*Syntax error on line \d+ of \S+:\s*$//mg;
    like $msg, qr/\Q$directive\E/i, "$name: the message names $directive"
        or diag $out;
}
