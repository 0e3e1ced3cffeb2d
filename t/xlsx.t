# Excel workbooks (issue 13): ?format=xlsx streams a real .xlsx.
#
# Every workbook is read back with openpyxl (t/bin/xlsx-read, Debian's
# python3-openpyxl) and compared, cell by cell, with PostgreSQL's text
# output of the same query (COPY text format, DateStyle ISO) under the
# rules of the README's XLSX section: numbers of at most 15 significant
# digits as numbers (else text), booleans, dates, timestamps to the
# millisecond and times as serials from 1900-03-01 on (else text), NULL as
# no cell, everything else text exactly, cut at 32,767 UTF-16 units. Also:
# the header row bold, frozen and filtered; the zip's layout byte by byte
# (version needed 2.0, data descriptors of 16 bytes, no Zip64 anywhere,
# CRCs); a chain; sheets split by OrderStreamSheetRows across FETCH
# batches; a cut download is no zip that opens; bytes flow while the
# database works; statuses, Accept and file names; the shop export opened
# by LibreOffice (soffice --convert-to csv) equals its CSV.
#
# Issue 19: the workbooks (the type table, 300 shop rows, a sheet split,
# the probe strings) read with every reader: openpyxl, LibreOffice,
# Gnumeric's ssconvert (t/bin/xlsx-read-office), SheetJS, ExcelJS and
# ExcelJS's streaming reader under node (t/bin/xlsx-read-node.js; t/run
# installs them into t/tmp/node from t/node's lockfile), each agreeing
# with PostgreSQL's text output cell by cell; a column of avg() and
# random() summed by LibreOffice equals PostgreSQL's sum.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD);
use File::Spec ();
use File::Temp qw(tempdir);
use JSON::PP ();
use Time::HiRes ();
use Time::Local qw(timegm);
use OrderStreamTest qw(location_sql location_sqls conf_locations copy_csv
                       raw_request raw_start raw_read raw_close raw_result
                       dechunk unique_tag wait_outcome_line
                       wait_no_idle_in_transaction error_log_size
                       error_log_since explain_difference psql_copy);

plan tests => 95;

my $conf = File::Spec->catfile(Apache::Test::vars('t_conf'), 'xlsx.conf');
my $dir  = tempdir(CLEANUP => 1);
my $XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
my $reader = File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'xlsx-read');

# --- helpers --------------------------------------------------------------------

sub psql_run {
    my ($sql) = @_;
    system('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', $sql) == 0
        or die "psql failed: $sql";
}

# COPY (SQL) TO STDOUT in the text format, as PostgreSQL prints the values
# with DateStyle ISO: rows of fields, undef for NULL.
sub pg_rows {
    my ($sql) = @_;
    local $ENV{PGOPTIONS} = '-c DateStyle=ISO,YMD';
    my $out = psql_copy($sql);
    my %esc = (b => "\b", f => "\f", n => "\n", r => "\r", t => "\t",
               v => "\x0b", '\\' => '\\');
    my @rows;
    for my $line (split /\n/, $out, -1) {
        next if $line eq '' && !@rows && $out eq '';
        last if $line eq '' ;
        push @rows, [ map {
            $_ eq '\\N' ? undef : do { (my $v = $_) =~ s/\\(.)/$esc{$1} \/\/ $1/ge; $v }
        } split /\t/, $line, -1 ];
    }
    for my $row (@rows) {
        defined && utf8::decode($_) for @$row;
    }
    return \@rows;
}

# The column types of SQL (default: the table xlsx_types): [name, type as
# format_type prints it] per column.
sub pg_types {
    my ($sql) = @_;
    my $rel = 'xlsx_types';
    my $q = '';
    if (defined $sql) {
        $q = "CREATE TEMP VIEW xlsx_v AS $sql; ";
        $rel = 'xlsx_v';
    }
    $q .= "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        . "WHERE attrelid = '$rel'::regclass AND attnum > 0 ORDER BY attnum";
    open my $fh, '-|', 'psql', '-X', '-q', '-A', '-t', '-F', '|', '-c', $q
        or die "psql: $!";
    my @out = map { chomp; [ split /\|/ ] } <$fh>;
    close $fh;
    return \@out;
}

# GET path (on os_xlsx) into a file; the response and the file name.
my $n_file = 0;
sub fetch_xlsx {
    my ($path, %opt) = @_;
    my $r = raw_request(GET => $path, module => $opt{module} || 'os_xlsx',
                        timeout => 120, tag => $opt{tag},
                        extra_headers => $opt{headers} || '');
    my ($body, $complete) = dechunk($r->{body});
    my $file = "$dir/w" . ++$n_file . '.xlsx';
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh $body;
    close $fh;
    return ($r, $file, $complete, length $body);
}

# The workbook as t/bin/xlsx-read sees it (undef when it does not open).
sub read_xlsx {
    my ($file) = @_;
    my $json = `/usr/bin/python3 "$reader" "$file"`;
    my $rc = $? >> 8;
    my $w = eval { JSON::PP->new->decode($json) } || { error => "no JSON: $json" };
    return ($rc, $w);
}

# Epoch milliseconds of YYYY-MM-DD[ HH:MM:SS[.f...]], the fraction rounded
# to the millisecond (Excel's precision).
sub ms_of {
    my ($s) = @_;
    my ($y, $mo, $d, $h, $mi, $sec, $frac) =
        $s =~ /^(\d{4})-(\d\d)-(\d\d)(?: (\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?/
        or return undef;
    my $t = timegm($sec // 0, $mi // 0, $h // 0, $d, $mo - 1, $y) * 1000;
    return $t + ($frac ? int(('0.' . $frac) * 1000 + 0.5) : 0);
}

sub utf16_units {
    my ($s) = @_;
    my $n = 0;
    $n += ord($_) > 0xFFFF ? 2 : 1 for split //, $s;
    return $n;
}

# PostgreSQL's text cut as the workbook must hold it: at most 32,767 UTF-16
# units, never inside a character.
sub cut_text {
    my ($s) = @_;
    return $s if length($s) <= 16383 || utf16_units($s) <= 32767;
    my ($out, $n) = ('', 0);
    for my $c (split //, $s) {
        my $u = ord($c) > 0xFFFF ? 2 : 1;
        last if $n + $u > 32767;
        $out .= $c;
        $n += $u;
    }
    return $out;
}

# Whether PostgreSQL's text of a number of type TYPE is a number cell
# (README, XLSX): within 1e-307 .. 9.99e307, not NaN or Infinity; then
# real and double precision always; numeric(p, s) at most 15 significant
# digits (first to last nonzero digit); integers and numeric without a
# scale when they have a fraction or are whole up to 2^53.
sub excel_number {
    my ($type, $t) = @_;
    my ($int, $frac, $exp) = $t =~ /^-?(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?$/
        or return 0;
    my $digits = "$int$frac";
    return 0 if $digits eq '';
    (my $sig = $digits) =~ s/^0+//;
    $sig =~ s/0+$//;
    return 1 if $sig eq '';    # zero
    my $v = abs($t + 0);
    return 0 unless $v >= 1e-307 && $v <= 9.99e307;
    return 1 if $type =~ /^(?:real|double precision)/;
    return length $sig <= 15 if $type =~ /^numeric\(/;
    # whole numbers past 2^53: text (PostgreSQL prints no exponent here)
    return 1 if defined $exp || $frac =~ /[1-9]/;
    (my $whole = $int) =~ s/^0+//;
    return length($whole) < 16
        || (length($whole) == 16 && $whole le '9007199254740992');
}

# What the cell of a value of type TYPE must be: [kind, value] as
# t/bin/xlsx-read writes cells, or undef for no cell.
sub expected_cell {
    my ($type, $v) = @_;
    return undef unless defined $v;
    if ($type =~ /^(?:smallint|integer|bigint|numeric|real|double precision)/) {
        return excel_number($type, $v) ? ['n', $v + 0] : ['s', $v];
    }
    return ['b', $v eq 't' ? 1 : 0] if $type eq 'boolean';
    if ($type =~ /^(?:date|timestamp)/) {
        my ($y) = $v =~ /^(\d{4,})-/;
        my $ok = defined $y && $v !~ /BC$/ && $y <= 9999
            && substr($v, 0, 10) ge '1900-03-01';
        (my $wall = $v) =~ s/(\d\d:\d\d:\d\d(?:\.\d+)?)[-+]\d\d(?::\d\d){0,2}$/$1/;
        return $ok ? ['d', ms_of($wall)] : ['s', $v];
    }
    if ($type =~ /^time(?:\(\d+\))? without/) {
        my ($h, $m, $s, $f) = $v =~ /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/;
        return ['t', ($h * 3600 + $m * 60 + $s) * 1000
                     + ($f ? int(('0.' . $f) * 1000 + 0.5) : 0)];
    }
    return ['s', cut_text($v)];
}

# A cell as read, comparable with expected_cell's.
sub got_cell {
    my ($c) = @_;
    return undef unless $c;
    my ($kind, $v) = @$c;
    return ['n', $v + 0] if $kind eq 'n';
    return ['b', $v ? 1 : 0] if $kind eq 'b';
    if ($kind eq 'd') {
        # openpyxl's datetime from the serial, to the microsecond
        my ($date, $frac) = $v =~ /^(.*?)(?:\.(\d+))?$/;
        my $ms = ms_of($date);
        $ms += int(('0.' . $frac) * 1000 + 0.5) if $frac;
        return ['d', $ms];
    }
    return ['t', int($v * 1000 + 0.5)] if $kind eq 't';
    return ['s', $v];
}

sub same_cell {
    my ($got, $want) = @_;
    return !defined $got && !defined $want if !defined $got || !defined $want;
    return 0 unless $got->[0] eq $want->[0];
    if ($got->[0] eq 'n') {
        my ($g, $w) = ($got->[1], $want->[1]);
        return $g == $w || abs($g - $w) <= abs($w) * 1e-15;
    }
    return $got->[1] eq $want->[1];
}

# The fields of one CSV line (no line breaks inside fields here).
sub csv_fields {
    my ($line) = @_;
    my @f;
    while ($line =~ /\G(?:"((?:[^"]|"")*)"|([^",]*))(,|$)/gc) {
        my ($q, $p, $sep) = ($1, $2, $3);
        push @f, defined $q ? $q =~ s/""/"/gr : $p;
        last if $sep eq '';
    }
    return @f;
}

sub show { my $c = shift; defined $c ? "[$c->[0] " . substr($c->[1], 0, 60) . ']' : 'no cell' }

# --- the table of every type --------------------------------------------------------

psql_run(<<'SQL');
DROP TABLE IF EXISTS xlsx_types;
DROP TYPE IF EXISTS xlsx_mood;
CREATE TYPE xlsx_mood AS ENUM ('sad', 'ok', '=happy');
CREATE TABLE xlsx_types (
    id int PRIMARY KEY,
    i2 smallint, i4 integer, i8 bigint,
    n numeric, n2 numeric(10,2), n0 numeric(20,0),
    f4 real, f8 double precision,
    b boolean,
    d date, ts timestamp, tz timestamptz, t time,
    tx text, vc varchar(40), u uuid, j json, jb jsonb, ia integer[],
    iv interval, by bytea, mood xlsx_mood, ttz timetz
);
INSERT INTO xlsx_types (id) VALUES (1);
INSERT INTO xlsx_types VALUES
 (2, 1, 42, 999999999999999, 1023.6, 1023.60, 123456789012345, 3.14, 0.1,
  true, '2024-02-29', '2024-02-29 13:45:06', '2024-02-29 13:45:06.5+00',
  '13:45:06', 'plain', 'vc', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '{"a": [1, 2]}', '{"b": null}', '{1,NULL,3}', '1 day 02:03:04', '\xdeadbeef',
  'ok', '12:00:00+02'),
 (3, -32768, 2147483647, 9223372036854775807, 'NaN', -0.01,
  12345678901234567890, 'NaN', 'Infinity',
  false, '1900-02-28', '1899-12-31 23:59:59', 'infinity', '24:00:00',
  '', '', NULL, 'null', '[]', '{}', '-1 mons', '\x', 'sad', '00:00:00+00'),
 (4, 0, -1, 1000000000000000, 12345678901234567890.123, 99999999.99,
  -1000000000000000, '-Infinity', '-Infinity',
  NULL, '1900-03-01', '2000-02-29 12:34:56.789012',
  '2023-06-01 23:59:59.9996+00', '23:59:59.9996',
  '=1+2', '  spaces  ', NULL, NULL, NULL, NULL, NULL, NULL, '=happy', NULL),
 (5, NULL, NULL, -999999999999999, 0.000000000000001, 0, 0, 1e-38, 1e-320,
  NULL, 'infinity', '-infinity', '2024-07-01 12:00:00+00', '00:00:00',
  E'a\x01b\x1fc\x7f', E'cr\rlf\n', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (6, NULL, NULL, NULL, 1.7976931348623157e308::float8::numeric, NULL, NULL, 3.4e38, 1.7976931348623157e308,
  NULL, '0044-03-15 BC', '10000-01-01 00:00:00', NULL, '00:00:00.0004',
  '_x0041_ and _X004a_ and _x12', E'\U0001F600 tab\there', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (7, NULL, NULL, NULL, -0.5, NULL, NULL, -0, 2.5e-5,
  NULL, '9999-12-31', '1900-03-01 00:00:00', NULL, NULL,
  repeat('x', 1048576), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (8, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, '1969-12-31', '1950-06-15 08:30:00.123', '1969-12-31 23:59:59.999+00',
  '13:45:06.001',
  repeat('a', 32766) || E'\U0001F600' || 'tail', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SQL

my $types = pg_types();
my $sql   = location_sql('/xlsx/types', $conf);
my $want  = pg_rows($sql);
my @names = map { $_->[0] } @$types;

my $tag = unique_tag('xlsx-types');
my $log0 = error_log_size();
my ($r, $file, $complete, $size) = fetch_xlsx('/xlsx/types', tag => $tag);
is $r->{status}, 200, 'types: 200';
is $r->{headers}{'content-type'}, $XLSX, 'types: the XLSX Content-Type, no charset';
like $r->{headers}{'content-disposition'} || '', qr/^attachment; filename="types-\d{4}\.xlsx"$/,
    'types: the file name gets the .xlsx extension';
ok $complete, "types: a whole chunked body ($size bytes)";
my ($rc, $w) = read_xlsx($file);
is $rc, 0, 'types: the workbook opens with openpyxl' or diag $w->{error};
my $sheet = $w->{sheets}[0] || { rows => [] };
is scalar @{ $w->{sheets} || [] }, 1, 'types: one sheet';
is_deeply [ map { $_->[1] } @{ $sheet->{rows}[0] || [] } ], \@names,
    'types: the header row is the column names';
ok $sheet->{bold1}, 'types: the header row is bold';
is $sheet->{frozen}, 'A2', 'types: the header row is frozen';
my $lastcol = join '', map { chr(64 + $_) } (@names > 26 ? (int(@names / 26)) : ()), (@names % 26 || 26);
is $sheet->{filter}, "A1:$lastcol" . (@$want + 1), 'types: an autofilter over the columns and rows';
is scalar(@{ $sheet->{rows} }) - 1, scalar @$want, 'types: one row per row of the query';
{
    my @bad;
    for my $i (0 .. $#$want) {
        for my $c (0 .. $#names) {
            my $exp = expected_cell($types->[$c][1], $want->[$i][$c]);
            my $got = got_cell($sheet->{rows}[$i + 1][$c]);
            push @bad, "row $want->[$i][0] $names[$c] ($types->[$c][1]): got "
                . show($got) . ', want ' . show($exp)
                unless same_cell($got, $exp);
        }
    }
    ok !@bad, 'types: every cell agrees with PostgreSQL\'s text output under the rules'
        or diag join "\n", @bad[0 .. ($#bad > 25 ? 25 : $#bad)];
}
{
    my %col = map { $names[$_] => $_ } 0 .. $#names;
    my $row2 = $sheet->{rows}[2];
    is $row2->[$col{n2}][2], '0.00', 'types: numeric(10,2) has the number format 0.00';
    is $row2->[$col{n2}][1] + 0, 1023.6, 'types: 1023.60 is the number 1023.6, shown 1023.60';
    is $row2->[$col{n0}][2], '0', 'types: numeric(20,0) has the number format 0';
    is $row2->[$col{n}][2], 'General', 'types: numeric without a scale: General';
    like $row2->[$col{d}][2], qr/^yyyy-mm-dd$/i, 'types: a date has a date format';
    like $row2->[$col{ts}][2], qr/^yyyy-mm-dd hh:mm:ss$/i,
        'types: a timestamp without a fraction shows seconds';
    like $row2->[$col{tz}][2], qr/^yyyy-mm-dd hh:mm:ss\.000$/i,
        'types: a timestamptz with a fraction shows milliseconds';
    is $sheet->{rows}[1][$col{i4}], undef, 'types: NULL is no cell at all';
    is_deeply $sheet->{rows}[3][$col{tx}], ['s', '', 'General'],
        'types: an empty string is an empty text cell';
    my $long = $sheet->{rows}[7][$col{tx}][1] // '';
    is length($long), 32767, 'types: a 1 MB text is cut at 32,767 characters';
    my $emoji = $sheet->{rows}[8][$col{tx}][1] // '';
    is length($emoji), 32766, 'types: a cut never splits a 4-byte character (32,766 + an emoji would be 32,768 units)';
    my $l = wait_outcome_line($tag) || {};
    is $l->{xlsx_cut}, 2, 'types: the request note orderstream-xlsx-cut counts the 2 cut cells'
        or diag $l->{line};
    like error_log_since($log0), qr/\[orderstream:warn\].*OS00025: \/xlsx\/types: 2 text cells/,
        'types: OS00025 logs the cut cells';
}

# --- the zip, byte by byte -------------------------------------------------------------
{
    my $z = $w->{zip} || {};
    my @local = @{ $z->{local} || [] };
    my @central = @{ $z->{central} || [] };
    ok @local >= 6 && @local == @central, 'zip: a local header per central record (' . @local . ')';
    ok !grep({ $_->{version} != 20 } @local, @central),
        'zip: version needed 2.0 everywhere';
    ok !grep({ !($_->{flags} & 8) } @local), 'zip: every part has flag bit 3 (data descriptor)';
    ok !grep({ $_->{sizes}[0] || $_->{sizes}[1] || $_->{crc} } @local),
        'zip: local headers carry no sizes or CRC (they follow the data)';
    ok !grep({ !$_->{descriptor} || $_->{descriptor}{length} != 16 } @local),
        'zip: every data descriptor is 16 bytes';
    ok !grep({ grep { $_ == 1 } @{ $_->{extra} } } @local, @central),
        'zip: no Zip64 extra field';
    ok !$z->{zip64}, 'zip: no Zip64 end record or locator';
    ok $w->{crc_ok}, 'zip: every CRC is right (zipfile.testzip)';
    is $z->{end} && $z->{end}{trailing}, 0, 'zip: nothing after the end record';
    my %by = map { $_->{name} => $_ } @central;
    ok !grep({ my $d = $_->{descriptor}; my $c = $by{ $_->{name} };
               !$c || $d->{crc} != $c->{crc} || "@{$d->{sizes}}" ne "@{$c->{sizes}}" } @local),
        'zip: descriptors agree with the central directory';
    is_deeply [ sort @{ $w->{parts} } ],
        [ sort '[Content_Types].xml', '_rels/.rels', 'xl/workbook.xml',
          'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/worksheets/sheet1.xml' ],
        'zip: the parts of a minimal workbook';
    is $local[0]{name}, 'xl/worksheets/sheet1.xml', 'zip: the sheet comes first, as the rows come';
}

# --- sheets: OrderStreamSheetRows across FETCH batches ------------------------------
{
    my (undef, $f, $ok) = fetch_xlsx('/xlsx/split');
    my ($rc2, $s) = read_xlsx($f);
    my @sheets = @{ $s->{sheets} || [] };
    is scalar @sheets, 5, 'split: 45 rows at 10 a sheet: 5 sheets';
    is_deeply [ map { $_->{name} } @sheets ], [ map { "Sheet$_" } 1 .. 5 ], 'split: Sheet1..Sheet5';
    ok !grep({ !$_->{rows}[0] || $_->{rows}[0][0][1] ne 'n' || $_->{rows}[0][1][1] ne 'label' } @sheets),
        'split: every sheet starts with the header row';
    ok !grep({ $_->{frozen} ne 'A2' || !$_->{bold1} } @sheets),
        'split: every sheet\'s header is bold and frozen';
    my @n = map { my $sh = $_; map { $_->[0][1] } @{ $sh->{rows} }[1 .. $#{ $sh->{rows} }] } @sheets;
    is "@n", join(' ', 1 .. 45), 'split: every row once, in order';
    is_deeply [ map { scalar(@{ $_->{rows} }) - 1 } @sheets ], [10, 10, 10, 10, 5],
        'split: 10, 10, 10, 10 and 5 rows';
    is_deeply [ map { $_->{filter} } @sheets ], ['A1:B11', 'A1:B11', 'A1:B11', 'A1:B11', 'A1:B6'],
        'split: each sheet\'s autofilter covers its own rows';

    (undef, $f) = fetch_xlsx('/xlsx/split-noheader');
    ($rc2, $s) = read_xlsx($f);
    @sheets = @{ $s->{sheets} || [] };
    is_deeply [ map { scalar @{ $_->{rows} } } @sheets ], [10, 10, 5],
        'OrderStreamHeader off: no header row, 10 rows a sheet';
    ok !grep({ $_->{frozen} || $_->{filter} } @sheets),
        'OrderStreamHeader off: no frozen pane, no autofilter';
}

# --- labels, level 9, a chain ----------------------------------------------------------
{
    my (undef, $f) = fetch_xlsx('/xlsx/labels');
    my ($rc2, $s) = read_xlsx($f);
    is_deeply [ map { $_->[1] } @{ $s->{sheets}[0]{rows}[0] } ], ['Order ID', "K\x{e4}ufer & Co <1>"],
        'labels: OrderStreamHeader, escaped and UTF-8, at OrderStreamXLSXLevel 9';

    (undef, $f) = fetch_xlsx('/xlsx/chain');
    ($rc2, $s) = read_xlsx($f);
    my @rows = @{ $s->{sheets}[0]{rows} || [] };
    shift @rows;
    is_deeply [ map { $_->[0][0] . $_->[0][1] } @rows ], [ map { "n$_" } 1 .. 4, 101 .. 103 ],
        'chain: both queries\' rows, numbers where the types agree';
    ok !grep({ $_->[1][0] ne 'd' } @rows), 'chain: a date column in both queries: date cells';
    is_deeply [ map { $_->[2][0] . $_->[2][1] } @rows ], [ (map { "s$_" } 1 .. 4), map { "sv$_" } 1 .. 3 ],
        'chain: a column whose type differs between the queries: text cells';
}

# --- a session with DateStyle SQL, DMY and TimeZone New York ------------------------
{
    my (undef, $f) = fetch_xlsx('/xlsx/tz', module => 'os_xlsx_tz');
    my ($rc2, $s) = read_xlsx($f);
    my $row = $s->{sheets}[0]{rows}[1] || [];
    is_deeply [ map { got_cell($_) } @$row ],
        [ ['d', ms_of('2024-03-05')], ['d', ms_of('2024-03-05 07:00:00.250')] ],
        'DateStyle SQL, DMY: still date cells; timestamptz in the session\'s zone';
}

# --- a cut workbook is no zip that opens -------------------------------------------------
{
    my $t = unique_tag('xlsx-cut');
    my ($r2, $f, $ok, $len) = fetch_xlsx('/xlsx/row50k', tag => $t);
    is $r2->{status}, 200, 'cut: the response had started (200)';
    ok !$ok && $len > 0, "cut: no last chunk after $len bytes";
    my ($rc2, $s) = read_xlsx($f);
    is $rc2, 3, 'cut: the file is not a workbook that opens (' . ($s->{error} // '') . ')';
    my $l = wait_outcome_line($t) || {};
    is $l->{outcome}, 'db-error', 'cut: outcome db-error';
    is wait_no_idle_in_transaction(3), 0, 'cut: no connection left idle in transaction';
}

# --- bytes flow while the database works ---------------------------------------------
{
    my $c = raw_start(GET => '/xlsx/slow', module => 'os_xlsx');
    my $t0 = Time::HiRes::time();
    my @marks;    # [seconds, bytes so far]
    until ($c->{closed}) {
        raw_read($c, max_body => length($c->{buf}) + 1, timeout => 30);
        push @marks, [Time::HiRes::time() - $t0, length $c->{buf}];
        last if Time::HiRes::time() - $t0 > 60;
    }
    raw_close($c);
    my $total = $marks[-1][1];
    my $end = $marks[-1][0];
    my ($first) = grep { $_->[1] > 500 } @marks;
    my ($half) = grep { $_->[1] >= $total / 2 } @marks;
    ok $first && $first->[0] < 0.2 * $end,
        sprintf 'slow: the first bytes after %.2f s of %.2f s', $first ? $first->[0] : -1, $end;
    ok $half && $half->[0] < 0.8 * $end,
        sprintf 'slow: half of the %d bytes after %.2f s of %.2f s (the database still working)',
        $total, $half ? $half->[0] : -1, $end;
}

# --- choosing xlsx, statuses, file names -----------------------------------------------
{
    Apache::TestRequest::module('default');
    my $res = HEAD '/exports/orders.csv', Accept => $XLSX;
    is $res->header('Content-Type'), $XLSX, 'Accept naming the XLSX type: xlsx';
    like $res->header('Content-Disposition') || '', qr/filename="all_orders\.xlsx"/,
        'the shop export as xlsx is all_orders.xlsx';
    $res = HEAD '/exports/orders.csv?format=xlsx';
    is $res->header('Content-Type'), $XLSX, '?format=xlsx';
    $res = HEAD '/exports/orders.csv?format=XLSX';
    is $res->code, 200, '?format=XLSX: any case';
    Apache::TestRequest::module('os_xlsx');
    $res = GET '/xlsx/csvonly?format=xlsx';
    is $res->code . ' ' . $res->content, "400 format: expected one of csv, tsv, got \"xlsx\"\n",
        'OrderStreamFormats csv tsv: ?format=xlsx is a 400';
    $res = GET '/xlsx/csvonly', Accept => $XLSX;
    is $res->code, 406, 'OrderStreamFormats csv tsv: Accept XLSX only is a 406';
}

# --- the shop export in LibreOffice -------------------------------------------------------
SKIP: {
    my $soffice = '/usr/bin/soffice';
    skip 'LibreOffice (libreoffice-calc-nogui) is not installed', 3 unless -x $soffice;
    my (undef, $f, $ok) = fetch_xlsx('/exports/orders.csv?format=xlsx&limit=200', module => 'default');
    my $csv = GET('/exports/orders.csv?limit=200&format=csv')->content;
    $csv =~ s/'(?=[=+\-\@\t\r])//g;    # the shipped config's formula guard
    local $ENV{HOME} = $dir;
    my $out = `cd "$dir" && timeout 120 "$soffice" --headless --norestore --convert-to csv:"Text - txt - csv (StarCalc)":44,34,76,1 --outdir "$dir/lo" "$f" 2>&1`;
    (my $base = $f) =~ s{.*/(.*)\.xlsx$}{$1};
    my $lo = do { local $/; open my $fh, '<:raw', "$dir/lo/$base.csv" or die "no LibreOffice output: $out"; <$fh> };
    ok $ok && length $lo, 'LibreOffice converts the workbook of the shop export';
    # LibreOffice quotes every text cell: compare fields, not bytes.
    my @lo = map { join "\x1f", csv_fields($_) } split /\r?\n/, $lo;
    my @want = map { join "\x1f", csv_fields($_) } split /\r\n/, $csv;
    is scalar @lo, 201, 'LibreOffice: the header and 200 rows';
    my @diff = grep { $lo[$_] ne $want[$_] } 0 .. $#want;
    ok !@diff, 'LibreOffice: every row as the CSV export shows it (dates, 2 decimals, text)'
        or diag "line $diff[0]: LibreOffice [$lo[$diff[0]]], CSV [$want[$diff[0]]]";
}

# --- issue 19: every reader opens every workbook --------------------------------------
#
# Each reader's cells as t/bin/xlsx-read has them. Readers that hand the
# OOXML _xHHHH_ escapes back as written (openpyxl, whose output
# t/bin/xlsx-read decodes, Gnumeric and ExcelJS's inline strings) are
# compared after decoding them as Excel does; LibreOffice and SheetJS
# decode them themselves, so the probe strings test their decoding.
my $office = File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'xlsx-read-office');
my $noder  = File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'xlsx-read-node.js');
my $node_modules = File::Spec->catdir(Apache::Test::vars('t_dir'), 'tmp', 'node', 'node_modules');
my @READERS = qw(openpyxl libreoffice gnumeric sheetjs exceljs exceljs-stream);
my %RAW_ESCAPES = map { $_ => 1 } qw(gnumeric exceljs exceljs-stream);
# What the format cannot carry to every reader (README, XLSX): an empty
# text cell, which these readers report as no cell.
my %EMPTY_IS_NONE = map { $_ => 1 } qw(libreoffice exceljs);

# A text as READER must return it, where the reader (or the way the test
# reads it) cannot do otherwise (README, XLSX): LibreOffice turns CR into
# LF in a text that also holds an LF (a multi-line cell); Gnumeric's own
# XML file, which t/bin/xlsx-read-office reads, drops U+007F (its CSV
# keeps it).
sub reader_text {
    my ($reader, $t) = @_;
    $t =~ tr/\r/\n/ if $reader eq 'libreoffice' && $t =~ /\n/;
    $t =~ tr/\x7f//d if $reader eq 'gnumeric';
    return $t;
}

sub read_with {
    my ($reader, $file) = @_;
    return read_xlsx($file) if $reader eq 'openpyxl';
    my @cmd = $reader =~ /^(?:libreoffice|gnumeric)$/
        ? ('/usr/bin/python3', $office, $reader, $file)
        : ('node', $noder, $reader, $file);
    local $ENV{HOME} = $dir;    # LibreOffice's profile
    local $ENV{TZ} = 'UTC';     # SheetJS makes local dates
    local $ENV{NODE_PATH} = $node_modules;
    open my $fh, '-|', @cmd or die "$cmd[0]: $!";
    my $json = do { local $/; <$fh> };
    close $fh;
    my $rc = $? >> 8;
    my $w = eval { JSON::PP->new->utf8->decode($json) }
        || { error => 'no JSON: ' . substr($json // '', 0, 300) };
    return ($rc, $w);
}

sub reader_cell {
    my ($reader, $c) = @_;
    my $g = got_cell($c);
    $g->[1] =~ s/_x([0-9A-Fa-f]{4})_/chr hex $1/ge
        if $g && $g->[0] eq 's' && $RAW_ESCAPES{$reader};
    return $g;
}

sub same_reader_cell {
    my ($reader, $got, $want) = @_;
    return 1 if same_cell($got, $want);
    return 0 unless $got && $want && $got->[0] eq $want->[0];
    # LibreOffice's CSV shows General numbers with 15 significant digits
    return $reader eq 'libreoffice' && $got->[0] eq 'n'
        && abs($got->[1] - $want->[1]) <= abs($want->[1]) * 1e-14;
}

# The differences between the workbook W as READER read it and WANT:
# [[sheet name, [[expected cell, ...] per row]], ...].
sub reader_diffs {
    my ($reader, $w, $want) = @_;
    my @sheets = @{ $w->{sheets} || [] };
    my @bad;
    push @bad, 'sheets: ' . scalar(@sheets) . ', want ' . scalar(@$want)
        if @sheets != @$want;
    for my $si (0 .. $#$want) {
        my ($name, $rows) = @{ $want->[$si] };
        my $got = $sheets[$si] or last;
        push @bad, "sheet " . ($si + 1) . " is named " . ($got->{name} // 'nothing')
            if ($got->{name} // '') ne $name;
        my $grows = $got->{rows} || [];
        pop @$grows while @$grows > @$rows && !grep { defined } @{ $grows->[-1] };
        push @bad, "$name: " . scalar(@$grows) . ' rows, want ' . scalar(@$rows)
            if @$grows != @$rows;
        for my $r (0 .. $#$rows) {
            my $n = @{ $rows->[$r] } > @{ $grows->[$r] || [] }
                ? @{ $rows->[$r] } : @{ $grows->[$r] || [] };
            for my $c (0 .. $n - 1) {
                my $exp = $rows->[$r][$c];
                my $g = reader_cell($reader, ($grows->[$r] || [])->[$c]);
                $exp = undef if $exp && $exp->[0] eq 's' && $exp->[1] eq ''
                    && !$g && $EMPTY_IS_NONE{$reader};
                $exp = ['s', reader_text($reader, $exp->[1])]
                    if $exp && $exp->[0] eq 's';
                push @bad, "$name!" . chr(65 + $c % 26) . ($r + 1) . ': got '
                    . show($g) . ', want ' . show($exp)
                    unless same_reader_cell($reader, $g, $exp);
            }
        }
    }
    return @bad;
}

# One sheet's expected cells: the header (names) and PostgreSQL's rows.
sub want_sheet {
    my ($name, $types, $rows) = @_;
    return [ $name, [ [ map { ['s', $_->[0]] } @$types ],
                      map { my $row = $_;
                            [ map { expected_cell($types->[$_][1], $row->[$_]) } 0 .. $#$types ] }
                      @$rows ] ];
}

psql_run(<<'SQL');
DROP TABLE IF EXISTS xlsx_probes;
CREATE TABLE xlsx_probes (id serial PRIMARY KEY, probe text);
DROP TABLE IF EXISTS xlsx_sum;
CREATE TABLE xlsx_sum AS
    SELECT product_id, avg(quantity) AS avg_q, random() AS r
    FROM shop_orderitem GROUP BY product_id;
SQL
{
    my @probes = qw(_x4_ x_x4_y _xa_ _x0d_ _x1f_ _x004_ _x00_ _x0041_ _x005F_
                    pos_x1_ _x x_ __x1__ _X0D_ AB_x0d_7);
    my @values;
    for my $p (@probes) {
        push @values, "'$p'", "'$p' || E'\\r'", "E'\\r' || '$p'",
            "E'\\t' || '$p' || E'\\t'", "E'\\U0001F600' || '$p' || E'\\U0001F600'",
            "'$p' || E'\\r' || '$p'";
    }
    push @values, "''", "E'\\r'", "E'a\\rb'", "U&'\\FFFE'", "U&'x\\FFFEy'";
    psql_run('INSERT INTO xlsx_probes (probe) VALUES (' . join('), (', @values) . ')');
}

my %books;    # name => [file, want]
{
    my (undef, $f) = fetch_xlsx('/xlsx/types');
    $books{types} = [ $f, [ want_sheet('Sheet1', $types, $want) ] ];
    for my $loc (qw(shop probes)) {
        my $s = location_sql("/xlsx/$loc", $conf);
        (undef, $f) = fetch_xlsx("/xlsx/$loc");
        $books{$loc} = [ $f, [ want_sheet('Sheet1', pg_types($s), pg_rows($s)) ] ];
    }
    (undef, $f) = fetch_xlsx('/xlsx/split');
    $books{split} = [ $f, [ map { my $k = $_;
        [ "Sheet$k", [ [['s', 'n'], ['s', 'label']],
                       map { [['n', $_], ['s', "row $_"]] } grep { $_ <= 45 } ($k * 10 - 9) .. ($k * 10) ] ] } 1 .. 5 ] ];
}
for my $reader (@READERS) {
    for my $book (qw(types shop split probes)) {
        my ($f, $wantb) = @{ $books{$book} };
        my ($rc, $w) = read_with($reader, $f);
        my @bad = $rc ? ("does not open: " . ($w->{error} // "exit $rc")) : reader_diffs($reader, $w, $wantb);
        ok !@bad, "$reader: the $book workbook opens and agrees cell by cell"
            or diag join "\n", @bad[0 .. ($#bad > 15 ? 15 : $#bad)];
    }
}

# --- issue 19: avg() and random() are numbers a spreadsheet sums ---------------------
{
    my (undef, $f) = fetch_xlsx('/xlsx/sum');
    my ($rc, $w) = read_xlsx($f);
    my @rows = @{ $w->{sheets}[0]{rows} || [] };
    shift @rows;
    my @text = grep { !$_->[1] || $_->[1][0] ne 'n' || !$_->[2] || $_->[2][0] ne 'n' } @rows;
    ok @rows > 10 && !@text, 'sum: ' . scalar(@rows) . ' rows of avg() and random(), every cell a number'
        or diag scalar(@text) . ' rows with text cells, e.g. ' . show($text[0][1]) . ' ' . show($text[0][2]);
    # SUM formulas added by openpyxl, computed by LibreOffice on loading
    my $n = @rows + 1;
    my $fs = "$dir/sum-formulas.xlsx";
    system('/usr/bin/python3', '-c', <<'PY', $f, $fs, $n) == 0 or die 'openpyxl';
import sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
ws['E1'] = '=SUM(B2:B%s)' % sys.argv[3]
ws['F1'] = '=SUM(C2:C%s)' % sys.argv[3]
wb.save(sys.argv[2])
PY
    my ($rc2, $lo) = read_with('libreoffice', $fs);
    my $top = $lo->{sheets}[0]{rows}[0] || [];
    my ($pg) = @{ pg_rows('SELECT sum(avg_q), sum(r) FROM xlsx_sum') };
    for my $i (0, 1) {
        my $got = $top->[4 + $i];
        ok $got && $got->[0] eq 'n' && abs($got->[1] - $pg->[$i]) <= abs($pg->[$i]) * 1e-9,
            sprintf 'sum: LibreOffice\'s SUM of %s is PostgreSQL\'s sum %s (got %s)',
                (qw(avg() random()))[$i], $pg->[$i], $got ? $got->[1] : 'nothing';
    }

    # OrderStreamXLSXNumbers exact: the numeric(p, s) rule for every column
    my $esql = location_sql('/xlsx/sum-exact', $conf);
    my $etypes = [ map { [ $_->[0], $_->[1] =~ /^(?:numeric|real|double precision|bigint|integer)$/
                                    ? 'numeric(1000,0)' : $_->[1] ] } @{ pg_types($esql) } ];
    (undef, $f) = fetch_xlsx('/xlsx/sum-exact');
    ($rc, $w) = read_xlsx($f);
    my @bad = reader_diffs('openpyxl', $w, [ want_sheet('Sheet1', $etypes, pg_rows($esql)) ]);
    my @erows = @{ $w->{sheets}[0]{rows} || [] };
    my $ntext = grep { $_->[1] && $_->[1][0] eq 's' } @erows[1 .. $#erows];
    ok !@bad && $ntext > 10, "OrderStreamXLSXNumbers exact: text past 15 digits ($ntext avg() cells), numbers otherwise"
        or diag join "\n", @bad[0 .. ($#bad > 10 ? 10 : $#bad)];
}
