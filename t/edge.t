# Edge-case values (t/sql/edge.sql) against the COPY oracle: under LF with
# the default header the body must be byte-identical to
# COPY (same SQL) TO STDOUT WITH (FORMAT csv, HEADER); under CRLF, identical
# once COPY's record terminators (not the line breaks inside quoted fields)
# become CRLF. Also: the one-column \. rule, column names that need quoting,
# empty results and header options.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use OrderStreamTest qw(location_sql copy_csv csv_line lf_to_crlf
                       explain_difference);

plan tests => 23;

sub body_is {
    my ($path, $want, $name) = @_;
    my $res = GET $path;
    is $res->code, 200, "$path: 200";
    my $got = $res->content;
    ok $got eq $want, $name or diag explain_difference($got, $want);
    return $got;
}

my $sql = location_sql('/edge/lf');
my $copy = copy_csv($sql);
ok length($copy) > 300_000, 'the oracle holds the 100 KB+ values';

body_is '/edge/lf', $copy, 'LF: byte-identical to COPY CSV HEADER';
body_is '/edge/crlf', lf_to_crlf($copy),
    'CRLF: COPY with CRLF record terminators, in-field line breaks untouched';
body_is '/edge/default-ending', lf_to_crlf($copy), 'CRLF is the default';

body_is '/edge/dot', copy_csv(location_sql('/edge/dot')),
    'one-column export: a lone \. is quoted, like COPY';
body_is '/edge/named', copy_csv(location_sql('/edge/named')),
    'column names that need quoting are quoted in the default header';

my $empty = body_is '/edge/empty', copy_csv(location_sql('/edge/empty')),
    'empty result: the header line alone';
like $empty, qr/\Aid,note,t,[^\n]*\n\z/, 'empty result: one line, column names';

my $res = GET '/edge/empty-noheader';
is $res->code, 200, 'empty result, no header: 200';
is $res->content, '', 'empty result, no header: empty body';

body_is '/edge/noheader', copy_csv(location_sql('/edge/noheader'), header => 0),
    'OrderStreamHeader off: no header line, the rows as COPY writes them';

body_is '/edge/labels',
    csv_line("\n", 'Id', 'Note, long', 'Say "hi"', 'Größe')
        . copy_csv(location_sql('/edge/labels'), header => 0),
    'custom labels are quoted as needed';
# The same, spelled out, in case csv_line and the module share a mistake.
like GET('/edge/labels')->content, qr/\AId,"Note, long","Say ""hi""",Größe\n/,
    'custom header line, literally';

body_is '/edge/empty-label',
    qq{Id,"",Last\n} . copy_csv(location_sql('/edge/empty-label'), header => 0),
    'an empty label is written "" and the labels after it are kept';
