# Configuration errors are caught by the config test (httpd -t), each with a
# message naming the directive at fault. Small configs are generated here and
# checked with the test's httpd; a valid one is checked first, so a failure
# below is the directive's and not the harness's. Issue 4 adds
# OrderStreamParam and the check of the $N placeholders of a chain against
# the parameters of its section (OS00003-OS00006), each with what is wrong.
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
    # OrderStreamParam, and its placeholders in the chain
    [ 'OrderStreamParam with an unknown type', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam since day\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/"day" is not a type/ ],
    [ 'OrderStreamParam without a type', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam since\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/give a type/ ],
    [ 'OrderStreamParam named limit', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam limit int\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/"limit" is reserved/ ],
    [ 'OrderStreamParam named format', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam format text\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/"format" is reserved/ ],
    [ 'OrderStreamParam with a bad name', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam 1x int\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/not a parameter name/ ],
    [ 'OrderStreamParam declared twice', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam a int\nOrderStreamParam a date\n"
      . "OrderStreamSQL \"SELECT \$1, \$2\"\n", undef, qr/a is declared twice/ ],
    [ 'OrderStreamParam default that is not a date', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam d date default=2023-02-29\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef,
      qr/default=2023-02-29 is not a date YYYY-MM-DD/ ],
    [ 'OrderStreamParam required and default', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam n int required default=1\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/exclude each other/ ],
    [ 'OrderStreamParam maxlength on an int', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam n int maxlength=3\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/for text parameters only/ ],
    [ 'OrderStreamParam with an unknown option', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam n int optional\n"
      . "OrderStreamSQL \"SELECT \$1\"\n", undef, qr/"optional" is not an option/ ],
    [ 'OrderStreamParam in a section without OrderStreamSQL', 'OrderStreamParam',
      "OrderStreamParam n int\n", undef, qr/OS00003.*without OrderStreamSQL/ ],
    [ '$2 with one OrderStreamParam', 'OrderStreamSQL',
      "SetHandler orderstream\nOrderStreamParam n int\n"
      . "OrderStreamSQL \"SELECT \$1, \$2\"\n", undef,
      qr/OS00005.*httpd\.conf:\d+ uses \$2, but the section declares 1/ ],
    [ '$1 without any OrderStreamParam', 'OrderStreamSQL',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT \$1::int\"\n", undef,
      qr/OS00005.*uses \$1, but the section declares 0/ ],
    [ 'an OrderStreamParam no query uses', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam a int\nOrderStreamParam b int\n"
      . "OrderStreamSQL \"SELECT \$2\"\n", undef,
      qr/OS00006.*a at \S+httpd\.conf:\d+ is \$1, which no OrderStreamSQL/ ],
    [ '$1 only inside a string literal', 'OrderStreamParam',
      "SetHandler orderstream\nOrderStreamParam a int\n"
      . "OrderStreamSQL \"SELECT '\$1', \$\$ \$1 \$\$ -- \$1\"\n", undef,
      qr/OS00006/ ],
    [ 'an unterminated string in OrderStreamSQL', 'OrderStreamSQL',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 'abc\"\n", undef,
      qr/OS00004.*unterminated quoted string/ ],
    [ '$0 in OrderStreamSQL', 'OrderStreamSQL',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT \$0\"\n", undef,
      qr/OS00004.*\$0 is not a placeholder/ ],
    [ 'an empty OrderStreamSQL', 'OrderStreamSQL',
      "SetHandler orderstream\nOrderStreamSQL \" ; \"\n", undef,
      qr/the query is empty/ ],
    # formats (issue 5)
    [ 'OrderStreamFormat xml', 'OrderStreamFormat',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFormat xml\n",
      undef, qr/"xml" is not one of csv, tsv, ndjson, xlsx/ ],
    [ 'OrderStreamFormats with nothing', 'OrderStreamFormats',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFormats\n" ],
    [ 'OrderStreamFormats csv json', 'OrderStreamFormats',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFormats csv json\n",
      undef, qr/"json" is not one of csv, tsv, ndjson, xlsx/ ],
    [ 'OrderStreamDelimiter |', 'OrderStreamDelimiter',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamDelimiter |\n" ],
    [ 'OrderStreamBOM maybe', 'OrderStreamBOM',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamBOM maybe\n" ],
    [ 'OrderStreamFormulaGuard 2', 'OrderStreamFormulaGuard',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFormulaGuard 2\n" ],
    [ 'OrderStreamGroupBy 0 items', 'OrderStreamGroupBy',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamGroupBy 0 items\n" ],
    [ 'OrderStreamGroupBy without a label', 'OrderStreamGroupBy',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamGroupBy 2\n",
      undef, qr/number of key columns and the label/ ],
    [ 'OrderStreamGroupBy abc items', 'OrderStreamGroupBy',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamGroupBy abc items\n" ],
    [ 'OrderStreamMaxGroupRows 0', 'OrderStreamMaxGroupRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamMaxGroupRows 0\n" ],
    [ 'OrderStreamMaxGroupRows 10000001', 'OrderStreamMaxGroupRows',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamMaxGroupRows 10000001\n" ],
    [ 'OrderStreamFilename with a slash', 'OrderStreamFilename',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFilename a/b.csv\n" ],
    [ 'OrderStreamFilename not UTF-8', 'OrderStreamFilename',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamFilename \xff.csv\n",
      undef, qr/not UTF-8/ ],
    [ 'OrderStreamTitle empty', 'OrderStreamTitle',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamTitle \"\"\n" ],
    [ 'OrderStreamTitle with a tab', 'OrderStreamTitle',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamTitle \"a\tb\"\n",
      undef, qr/no control characters/ ],
    [ 'OrderStreamTitle of 201 characters', 'OrderStreamTitle',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamTitle "
      . ('t' x 201) . "\n", undef, qr/longer than 200 characters/ ],
    [ 'OrderStreamDescription not UTF-8', 'OrderStreamDescription',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamDescription \"\xff\"\n",
      undef, qr/not UTF-8, or longer than 2000 characters/ ],
    [ 'OrderStreamXLSXNumbers loose', 'OrderStreamXLSXNumbers',
      "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\nOrderStreamXLSXNumbers loose\n",
      undef, qr/spreadsheet or exact/ ],
    [ '65 chained OrderStreamSQL', 'OrderStreamSQL',
      "SetHandler orderstream\n" . ("OrderStreamSQL \"SELECT 1\"\n" x 65),
      undef, qr/more than 64 queries/ ],
);

# Valid: a chain whose parameters are used by different queries, every
# type and option, placeholders in strings, comments and dollar quotes
# beside real ones, and an inner section that replaces the chain.
my @valid = (
    "SetHandler orderstream\n"
    . "OrderStreamParam since date\nOrderStreamParam n int required\n"
    . "OrderStreamParam x numeric default=-1.5\n"
    . "OrderStreamParam t timestamptz default=2024-05-01T12:00Z\n"
    . "OrderStreamParam b bool default=off\n"
    . "OrderStreamParam s text maxlength=10 default=abc\n"
    . "OrderStreamSQL \"SELECT \$1::date, '\$9', \$2 /* \$9 */ -- \$9\"\n"
    . "OrderStreamSQL \"SELECT \$3, \$4, \$5, \$6 -- \$\$\"\n"
    . ("OrderStreamSQL \"SELECT 1, 2, 3, 4\"\n" x 62),
    # every format directive, a UTF-8 file name with strftime conversions
    "SetHandler orderstream\nOrderStreamSQL \"SELECT 1, 2\"\n"
    . "OrderStreamFormat ndjson\nOrderStreamFormats csv ndjson\n"
    . "OrderStreamDelimiter tab\nOrderStreamBOM on\nOrderStreamFormulaGuard on\n"
    . "OrderStreamGroupBy 1 rest\nOrderStreamMaxGroupRows 500\n"
    . "OrderStreamXLSXNumbers exact\nOrderStreamXLSXLevel 3\n"
    . "OrderStreamFilename \"Bestell\xc3\xbcbersicht %Y-%m-%d.csv\"\n",
    # the download page's words: UTF-8, markup and quotes are only text
    "SetHandler orderstream\nOrderStreamSQL \"SELECT 1\"\n"
    . "OrderStreamTitle \"Bestell\xc3\xbcbersicht <b>&</b>\"\n"
    . "OrderStreamDescription \"" . ('d' x 1990) . " \\\"q\\\" 'x'\"\n",
);

plan tests => 2 + 2 * @valid + 2 * @cases
    + scalar(grep { $_->[4] } @cases);

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

for my $body (@valid) {
    ($rc, $out) = config_test($body);
    is $rc, 0, 'a valid config with every new directive passes'
        or diag $out;
    like $out, qr/Syntax OK/, 'Syntax OK';
}

for my $case (@cases) {
    my ($name, $directive, $body, $no_dbd, $detail) = @$case;
    ($rc, $out) = config_test($body, $no_dbd);
    isnt $rc, 0, "$name: config test fails";
    # Drop httpd's own "Syntax error on line N of FILE:" preamble, so the
    # directive must be named by the message itself.
    (my $msg = $out) =~ s/^.*Syntax error on line \d+ of \S+:\s*$//mg;
    like $msg, qr/\Q$directive\E/i, "$name: the message names $directive"
        or diag $out;
    next unless $detail;
    like $msg, $detail, "$name: the message says what is wrong" or diag $out;
}
