package OrderStreamTest;

# Helpers for mod_orderstream's Apache::Test suite: the COPY oracle (psql),
# CSV helpers, a reader for the OrderStream* directives of a config file, a
# raw HTTP/1.1 client that keeps the chunk framing, and pool inspection.
#
# psql reaches the private cluster through PGHOST/PGPORT/PGUSER/PGDATABASE,
# which t/run exports (see t/bin/pg).

use strict;
use warnings;

use Exporter 'import';
use File::Spec ();
use IO::Select ();
use Time::HiRes ();
use File::Temp ();

use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT_OK = qw(
    conf_locations location_sql location_sqls extra_conf repo_conf
    copy_csv psql_value csv_line lf_to_crlf count_records
    raw_request dechunk idle_in_transaction wait_no_idle_in_transaction
    module_so httpd_config_test explain_difference
    raw_start raw_read raw_close raw_result
    psql_super shop_backends fetching_backend wait_fetching_backend
    outcome_line wait_outcome_line unique_tag pg_crash pg_start
    wait_no_shop_activity
    outcome_lines wait_outcome_url error_log_size error_log_since
    bind_sql body_is param_forms guarded_csv grouped_lines
    psql_copy json_lines next_export_works
);

# GET PATH (on the current Apache::TestRequest module): one test that it is
# a 200 with exactly WANT as body; diagnoses where they differ. Returns the
# response.
sub body_is {
    my ($path, $want, $name) = @_;
    my $res = Apache::TestRequest::GET($path);
    my $got = $res->content;
    my $ok = $res->code == 200 && $got eq $want;
    Test::More::ok($ok, $name)
        or Test::More::diag("GET $path: " . $res->code . "\n"
            . ($res->code == 200 ? explain_difference($got, $want)
                                 : substr($got, 0, 300)));
    return $res;
}

# Where two bodies first differ, CR and LF made visible
# (for diag when two bodies differ).
sub explain_difference {
    my ($got, $want) = @_;
    $got  = '' unless defined $got;
    $want = '' unless defined $want;
    my $i = 0;
    $i++ while $i < length($got) && $i < length($want)
        && substr($got, $i, 1) eq substr($want, $i, 1);
    my $from = $i < 60 ? 0 : $i - 60;
    return sprintf "lengths %d (got) / %d (want), first difference at byte %d\n"
        . " got: %s\nwant: %s", length($got), length($want), $i,
        map { my $s = substr($_, $from, 120); $s =~ s/\r/\\r/g;
              $s =~ s/\n/\\n/g; $s } $got, $want;
}

# --- configuration files -------------------------------------------------

sub repo_conf  { File::Spec->catfile(Apache::Test::vars('top_dir'), 'conf', @_) }
sub extra_conf { File::Spec->catfile(Apache::Test::vars('t_conf'), 'extra.conf') }

sub module_so {
    return $ENV{MODULE_SO} if $ENV{MODULE_SO};
    return Apache::Test::config()->{modules}->{'mod_orderstream.c'};
}

# Runs "httpd -t" on a small generated config: the MPM, authz_core, mod_dbd
# (unless no_dbd) and this module, then SERVER (lines at server level) and
# <Location /x> holding LOCATION. Returns (exit status, output).
sub httpd_config_test {
    my (%a) = @_;
    my $mods = '/usr/lib/apache2/modules';
    my $so   = module_so();
    my $dir  = File::Temp::tempdir('config-XXXXXX', CLEANUP => 1,
                                   DIR => Apache::Test::vars('t_dir') . '/tmp');
    my $file = "$dir/httpd.conf";
    my $dbd  = $a{no_dbd} ? ''
        : "LoadModule dbd_module $mods/mod_dbd.so\n"
          . "DBDriver pgsql\nDBDParams \"host=127.0.0.1 dbname=shop\"\n";
    open my $fh, '>', $file or die "$file: $!";
    print $fh <<"CONF";
ServerRoot "$dir"
ServerName localhost
Listen 127.0.0.1:1
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LoadModule mpm_event_module $mods/mod_mpm_event.so
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule orderstream_module "$so"
$dbd
CONF
    print $fh $a{server}, "\n" if defined $a{server};
    print $fh "<Location /x>\n", $a{location} // '', "</Location>\n";
    close $fh;
    my $httpd = Apache::Test::vars('httpd');
    my $out = `"$httpd" -t -f "$file" 2>&1`;
    return ($? >> 8, $out);
}

# Split one logical config line into arguments as httpd's ap_getword_conf
# does: double or single quotes group words, a backslash before the quote
# character inside quotes escapes it.
sub _conf_words {
    my ($line) = @_;
    my @words;
    while ($line =~ /\S/) {
        $line =~ s/^\s+//;
        if ($line =~ s/^(["'])//) {
            my $q = $1;
            my $w = '';
            while (length $line) {
                # as httpd's substring_conf: \\ and \<quote> are escapes
                if ($line =~ s/^\\([\\\Q$q\E])//) { $w .= $1; next }
                if ($line =~ s/^\Q$q\E//)   { last }
                $w .= substr($line, 0, 1, '');
            }
            push @words, $w;
        }
        else {
            $line =~ s/^(\S+)//;
            (my $w = $1) =~ s/\\\\/\\/g;
            push @words, $w;
        }
    }
    return @words;
}

# Return { '/location' => { DirectiveName => [args], ... }, ... } for every
# <Location> block of FILE (also inside <VirtualHost>), following
# backslash-newline continuations like httpd's config reader.
sub conf_locations {
    my ($file) = @_;
    open my $fh, '<:raw', $file or die "open $file: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    $text =~ s/\\\r?\n//g;
    my (%loc, $cur);
    for my $line (split /\r?\n/, $text) {
        next if $line =~ /^\s*(#|$)/;
        if ($line =~ /^\s*<Location\s+"?([^">]+)"?\s*>/i) {
            $cur = $loc{$1} = {};
            next;
        }
        if ($line =~ m{^\s*</Location>}i) {
            undef $cur;
            next;
        }
        next unless $cur;
        my ($name, @args) = _conf_words($line);
        $cur->{$name} = \@args;
        # every occurrence too: OrderStreamSQL may be given several times
        push @{ $cur->{"$name*"} }, \@args;
    }
    return \%loc;
}

# The OrderStreamSQL of LOCATION in FILE (default: the generated extra.conf).
sub location_sql {
    my ($location, $file) = @_;
    $file ||= extra_conf();
    my $l = conf_locations($file)->{$location}
        or die "no <Location $location> in $file";
    my $sql = $l->{OrderStreamSQL} or die "no OrderStreamSQL in $location";
    return $sql->[0];
}

# All OrderStreamSQL of LOCATION in FILE, in order: a chained export.
sub location_sqls {
    my ($location, $file) = @_;
    $file ||= extra_conf();
    my $l = conf_locations($file)->{$location}
        or die "no <Location $location> in $file";
    my $all = $l->{'OrderStreamSQL*'} or die "no OrderStreamSQL in $location";
    return map { $_->[0] } @$all;
}

# SQL with its $N placeholders replaced by the Nth of LITERALS (SQL text,
# e.g. "NULL::date" or "'2024-01-01'::date"), so that psql's COPY can run
# a query the module runs with bind parameters. Only for the test's own
# queries: a $N inside a string literal would be replaced too.
sub bind_sql {
    my ($sql, @literals) = @_;
    $sql =~ s/\$(\d+)/
        $1 >= 1 && $1 <= @literals ? "($literals[$1 - 1])" : die "no literal for \$$1"/ge;
    return $sql;
}

# What the module says each OrderStreamParam type accepts (os_params.c),
# type => form, for the 400 messages and the download page (text's form
# depends on its maxlength: "UTF-8 text of at most N characters").
sub param_forms {
    return (
        int         => 'a whole number such as 42',
        numeric     => 'a decimal number such as -12.50',
        date        => 'a date YYYY-MM-DD',
        timestamptz => 'a timestamp YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z|+HH:MM] (ISO 8601)',
        bool        => 'true or false',
    );
}

# --- the oracle ----------------------------------------------------------

sub _psql {
    my (@args) = @_;
    my $pid = open(my $fh, '-|', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
                   @args) or die "psql: $!";
    binmode $fh;
    my $out = do { local $/; <$fh> };
    close $fh or die "psql @args failed: " . ($! || "exit " . ($? >> 8));
    return defined $out ? $out : '';
}

# The bytes of COPY (SQL) TO STDOUT [WITH (WITH)].
sub psql_copy {
    my ($sql, $with) = @_;
    return _psql('-c', "COPY ($sql) TO STDOUT" . ($with ? " WITH ($with)" : ''));
}

# row_to_json of every row of SQL, one string each: the keys are NAMES if
# given (the columns renamed), else the query's column names. (COPY's text
# format escapes the JSON's backslashes; they are undone here.)
sub json_lines {
    my ($sql, @names) = @_;
    my $alias = @names
        ? 'q(' . join(', ', map { (my $n = $_) =~ s/"/""/g; qq{"$n"} } @names) . ')'
        : 'q';
    my %unescape = (n => "\n", r => "\r", t => "\t", b => "\b", f => "\f",
                    v => "\x0b");
    return map { s/\\(.)/exists $unescape{$1} ? $unescape{$1} : $1/ge; $_ }
        split /\n/, psql_copy("SELECT row_to_json(q) FROM ($sql) AS $alias");
}

# The bytes of COPY (SQL) TO STDOUT WITH (FORMAT csv[, HEADER]).
sub copy_csv {
    my ($sql, %opt) = @_;
    my $header = exists $opt{header} ? $opt{header} : 1;
    my $with = $header ? 'FORMAT csv, HEADER' : 'FORMAT csv';
    return _psql('-c', "COPY ($sql) TO STDOUT WITH ($with)");
}

# One value (first column of the first row) of SQL, as text.
sub psql_value {
    my ($sql) = @_;
    my $v = _psql('-A', '-t', '-c', $sql);
    $v =~ s/\n\z//;
    return $v;
}

# --- CSV -----------------------------------------------------------------

# Fields as COPY CSV writes them: quoted when they contain a comma, a quote,
# CR or LF, or are empty; quotes doubled. undef is NULL (nothing).
sub csv_line {
    my ($eol, @fields) = @_;
    return join(',', map {
        !defined $_          ? ''
        : ($_ eq '' || /[",\r\n]/) ? do { (my $f = $_) =~ s/"/""/g; qq{"$f"} }
        : $_
    } @fields) . $eol;
}

# Turn COPY's record terminators (LF outside quotes) into CRLF; line breaks
# inside quoted fields stay as they are. Correct for COPY's output, where
# every field holding CR or LF is quoted and every quote inside is doubled:
# toggling on each quote leaves us inside exactly the quoted runs.
sub lf_to_crlf {
    my ($csv) = @_;
    my $out = '';
    my $in_quotes = 0;
    for my $piece (split /("|\n)/, $csv) {
        if ($piece eq '"') { $in_quotes = !$in_quotes; $out .= '"'; }
        elsif ($piece eq "\n") { $out .= $in_quotes ? "\n" : "\r\n"; }
        else { $out .= $piece; }
    }
    return $out;
}

# The formula guard (OrderStreamFormulaGuard), applied in Perl to COPY's CSV
# output with records ending in LF: a field of a guarded column (column
# index => 1 in %guarded) starting with = + - @ TAB CR gets a ' (after the
# opening quote if quoted); the first line, the header, is left alone.
sub guarded_csv {
    my ($copy, $delim, %guarded) = @_;
    my ($out, $col, $header) = ('', 0, 1);
    my $d = quotemeta $delim;
    while ($copy =~ /\G(?:"((?:[^"]|"")*)"|([^"$d\n]*))($d|\n)/gc) {
        my ($quoted, $plain, $sep) = ($1, $2, $3);
        my $guard = !$header && $guarded{$col};
        if (defined $quoted) {
            $out .= '"' . ($guard && $quoted =~ /\A[=+\-\@\t\r]/ ? "'" : '') . qq{$quoted"};
        }
        else {
            $out .= ($guard && $plain =~ /\A[=+\-\@\t\r]/ ? "'" : '') . $plain;
        }
        $out .= $sep;
        ($col, $header) = $sep eq "\n" ? (0, 0) : ($col + 1, $header);
    }
    die 'guarded_csv: not parsed to the end' unless (pos($copy) || 0) == length $copy;
    return $out;
}

# NDJSON grouping done in Perl on the ungrouped oracle lines: the key part
# of a line is what comes before ,SPLIT: (SPLIT: the JSON key of the first
# column after the keys; a quote inside a JSON string is escaped, so the
# sequence cannot occur inside a key value); consecutive lines with the
# same key part fold into {KEYS,LABEL:[{rest},{rest},...]}.
sub grouped_lines {
    my ($lines, $split, $label) = @_;
    my (@out, $key, @items);
    my $close = sub {
        push @out, '{' . $key . ',' . $label . ':[' . join(',', @items) . ']}'
            if defined $key;
    };
    for my $l (@$lines) {
        my $i = index($l, ",$split:");
        die "no $split in $l" if $i < 0;
        my ($k, $item) = (substr($l, 1, $i - 1), '{' . substr($l, $i + 1));
        if (defined $key && $k eq $key) {
            push @items, $item;
            next;
        }
        $close->();
        ($key, @items) = ($k, $item);
    }
    $close->();
    return @out;
}

# Number of records in a CSV body whose records end with EOL.
sub count_records {
    my ($csv, $eol) = @_;
    my $n = 0;
    my $in_quotes = 0;
    for my $piece (split /("|\Q$eol\E)/, $csv) {
        if ($piece eq '"') { $in_quotes = !$in_quotes }
        elsif ($piece eq $eol && !$in_quotes) { $n++ }
    }
    return $n;
}

# --- raw HTTP/1.1 --------------------------------------------------------

# Send METHOD PATH over a fresh socket to the current Apache::TestRequest
# module's vhost (Apache::TestRequest::module) and read the response as it
# comes, until the server closes the connection or TIMEOUT seconds pass.
# Returns a hash: status, headers (lower-cased names => value), head (raw),
# body (raw, chunk framing included), closed (1 if the server closed),
# reset (when closed: the read's error, e.g. "Connection reset by peer", if
# the connection ended in a reset; '' after a clean end of file),
# seconds (from connecting to the close, or to the end of reading).
# With max_body => N, stops (and closes) after N body bytes: a client that
# goes away mid-export.
sub raw_request {
    my ($method, $path, %opt) = @_;
    my $c = raw_start($method, $path, %opt);
    raw_read($c, %opt);
    raw_close($c);
    return raw_result($c);
}

# The same in steps, for a test that acts while the response streams:
#   my $c = raw_start(GET => $path, module => 'os_pool');
#   raw_read($c, max_body => 1000, timeout => 10);  # the first bytes
#   ... kill the backend, stop the database ...
#   raw_read($c, timeout => 30);                    # the rest, until close
#   my $r = raw_result($c);                         # as raw_request returns
# Options of raw_start: module, extra_headers, tag (sent as X-Test-Tag, see
# unique_tag), http10 (an HTTP/1.0 request line), rcvbuf (SO_RCVBUF, bytes: a
# small one makes a client that stops reading stall the server sooner).
sub raw_start {
    my ($method, $path, %opt) = @_;
    my $sock = Apache::TestRequest::vhost_socket($opt{module})
        or die "cannot connect to the test server";
    if ($opt{rcvbuf}) {
        require Socket;
        setsockopt($sock, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(),
                   $opt{rcvbuf}) or die "SO_RCVBUF: $!";
    }
    my $hp = Apache::TestRequest::hostport();
    my $proto = $opt{http10} ? 'HTTP/1.0' : 'HTTP/1.1';
    print $sock "$method $path $proto\r\nHost: $hp\r\n"
        . ($opt{http10} ? '' : "Connection: close\r\n")
        . (defined $opt{tag} ? "X-Test-Tag: $opt{tag}\r\n" : '')
        . ($opt{extra_headers} || '')
        . "\r\n";
    return { sock => $sock, buf => '', closed => 0, t0 => Time::HiRes::time() };
}

# Read until the server closes, TIMEOUT seconds pass, or (max_body => N) at
# least N body bytes have arrived in all. Returns the number of bytes read.
sub raw_read {
    my ($c, %opt) = @_;
    my $timeout = $opt{timeout} || 60;
    my $sel = IO::Select->new($c->{sock});
    my $deadline = Time::HiRes::time() + $timeout;
    my $got = 0;
    until ($c->{closed}) {
        if (defined $opt{max_body}) {
            my $i = index($c->{buf}, "\r\n\r\n");
            last if $i >= 0 && length($c->{buf}) - $i - 4 >= $opt{max_body};
        }
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0;
        last unless $sel->can_read($left);
        my $n = sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf});
        if (!$n) {
            # undef: the read failed (ECONNRESET: the server reset the
            # connection); 0: a clean end of file (the server's FIN).
            $c->{reset} = defined $n ? '' : "$!";
            $c->{closed} = 1;
            $c->{t_closed} = Time::HiRes::time();
            last;
        }
        $got += $n;
    }
    return $got;
}

sub raw_close {
    my ($c) = @_;
    close $c->{sock} if $c->{sock};
    delete $c->{sock};
}

# Parse what was read so far: the hash raw_request returns.
sub raw_result {
    my ($c) = @_;
    my $buf = $c->{buf};
    my $i = index($buf, "\r\n\r\n");
    my ($head, $body) = $i < 0 ? ($buf, '') : (substr($buf, 0, $i), substr($buf, $i + 4));
    my ($status_line, @lines) = split /\r\n/, $head;
    my ($status) = ($status_line || '') =~ m{^HTTP/1\.\d (\d{3})};
    my %headers;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $headers{lc $k} = exists $headers{lc $k} ? "$headers{lc $k}, $v" : $v;
    }
    return { status => $status, headers => \%headers, head => $head,
             body => $body, closed => $c->{closed}, reset => $c->{reset},
             seconds => ($c->{t_closed} || Time::HiRes::time()) - $c->{t0} };
}

# Decode a chunked body. Returns (data, complete): complete is true when the
# last chunk (size 0) and the final CRLF were there.
sub dechunk {
    my ($raw) = @_;
    my $data = '';
    while (1) {
        $raw =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n// or return ($data, 0);
        my $size = hex $1;
        if ($size == 0) {
            return ($data, $raw =~ /^(?:[^\r\n]+\r\n)*\r\n/ ? 1 : 0);
        }
        return ($data . $raw, 0) if length($raw) < $size + 2;
        $data .= substr($raw, 0, $size, '');
        $raw =~ s/^\r\n// or return ($data, 0);
    }
}

# --- the pool ------------------------------------------------------------

# After a failure case on a pool of one connection (DBDMax 1): the next
# export, PATH on MODULE (undef: the current one), answers 200 with exactly
# WANT, and nothing of role shop is left in a transaction. Three tests.
sub next_export_works {
    my ($after, $path, $want, $module) = @_;
    my $r = raw_request(GET => $path, module => $module, timeout => 30);
    Test::More::is($r->{status}, 200, "after $after: the next export answers 200");
    my ($data, $complete) = dechunk($r->{body});
    Test::More::ok($complete && $data eq $want,
        "after $after: the next export is whole and correct");
    Test::More::is(wait_no_idle_in_transaction(3), 0,
        "after $after: no connection idle in transaction");
}

# Connections of role shop left inside a transaction.
sub idle_in_transaction {
    return psql_value("SELECT count(*) FROM pg_stat_activity"
        . " WHERE usename = 'shop' AND state LIKE 'idle in transaction%'");
}

# Poll for up to SECONDS for no connection of role shop to be idle in a
# transaction; returns the last count seen.
sub wait_no_idle_in_transaction {
    my ($seconds) = @_;
    my $deadline = Time::HiRes::time() + ($seconds || 0);
    while (1) {
        my $n = idle_in_transaction();
        return $n if $n == 0 || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.1);
    }
}

# --- the database under the tests' feet -----------------------------------

# One value of SQL run as the cluster's superuser (t/bin/pg's "postgres",
# trust authentication), e.g. to terminate another role's backend.
sub psql_super {
    my ($sql) = @_;
    my $v = _psql('-U', 'postgres', '-d', 'postgres', '-A', '-t', '-c', $sql);
    $v =~ s/\n\z//;
    return $v;
}

# Backends of role shop (httpd's pooled connections); with a state, only
# those in it ('active', 'idle', 'idle in transaction', ...).
sub shop_backends {
    my ($state) = @_;
    my $where = "usename = 'shop' AND backend_type = 'client backend'";
    $where .= " AND state = '$state'" if defined $state;
    return psql_super("SELECT count(*) FROM pg_stat_activity WHERE $where");
}

# The pid of a shop backend running a FETCH (an export in progress), or ''.
# apr_dbd sets no application_name, so the running statement is the mark.
sub fetching_backend {
    return psql_super("SELECT pid FROM pg_stat_activity"
        . " WHERE usename = 'shop' AND state = 'active'"
        . " AND query LIKE 'FETCH%' ORDER BY backend_start LIMIT 1");
}

sub wait_fetching_backend {
    my ($seconds) = @_;
    my $deadline = Time::HiRes::time() + ($seconds || 5);
    while (1) {
        my $pid = fetching_backend();
        return $pid if $pid ne '' || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
}

# Poll until no backend of role shop runs a statement or sits in a
# transaction (every pooled connection idle); returns the last count seen.
sub wait_no_shop_activity {
    my ($seconds) = @_;
    my $deadline = Time::HiRes::time() + ($seconds || 0);
    while (1) {
        my $n = psql_super("SELECT count(*) FROM pg_stat_activity"
            . " WHERE usename = 'shop' AND backend_type = 'client backend'"
            . " AND state IS DISTINCT FROM 'idle'");
        return $n if $n == 0 || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.1);
    }
}

sub _pgdir { File::Spec->catdir(Apache::Test::vars('t_dir'), 'tmp', 'pg') }
sub _pgbin { File::Spec->catfile(Apache::Test::vars('t_dir'), 'bin', 'pg') }

# Stop the test cluster at once (pg_ctl -m immediate), as a crash would.
sub pg_crash {
    my ($bin, $dir) = (_pgbin(), _pgdir());
    my $out = `bash "$bin" crash "$dir" 2>&1`;
    die "t/bin/pg crash failed: $out" if $?;
    return $out;
}

# Start it again on the same port (httpd's DBDParams name that port).
sub pg_start {
    my ($bin, $dir) = (_pgbin(), _pgdir());
    local $ENV{PGPORT_WANT} = $ENV{OS_PGPORT} || $ENV{PGPORT};
    my $out = `bash "$bin" start "$dir" 2>&1`;
    die "t/bin/pg start failed: $out" if $?;
    return $out;
}

# --- the outcome log (t/conf/extra.conf.in: CustomLog ... orderstream) -----

# A tag for a request, unique within the run, so that a test finds its own
# line in the outcome log: sent as the request header X-Test-Tag (raw_start's
# tag => TAG, or an LWP/curl header), logged as the line's last field. Not in
# the path (an export's URL is exactly its Location: more is a 404) nor in
# the query string (an unknown parameter is a 400).
my $tag_n = 0;
sub unique_tag {
    my ($name) = @_;
    $tag_n++;
    (my $t = $name) =~ s/[^A-Za-z0-9]+/-/g;
    return sprintf '%s-%d-%d-%d', $t, $$, int(Time::HiRes::time() * 1000),
        $tag_n;
}

sub _outcome_log {
    File::Spec->catfile(Apache::Test::vars('t_logs'), 'orderstream_log');
}

my @_outcome_fields
    = qw(vhost port method url status outcome rows bytes retry_after micros
         xlsx_cut parallel tag);

sub _outcome_fields {
    my ($line) = @_;
    my %h;
    @h{@_outcome_fields} = split /\|/, $line, -1;
    $h{line} = $line;
    return \%h;
}

# The log line of the request tagged TAG (X-Test-Tag), as a hash: vhost,
# port, method, url, status, outcome, rows, bytes, retry_after, micros,
# xlsx_cut, parallel (orderstream-parallel: N or "serial"), tag
# (and line, the raw line); undef if there is none (yet). A note that is
# not set logs as "-".
sub outcome_line {
    my ($tag) = @_;
    open my $fh, '<', _outcome_log() or return undef;
    my $found;
    while (my $line = <$fh>) {
        next unless $line =~ m{\|\Q$tag\E$};
        chomp $line;
        $found = _outcome_fields($line);
    }
    close $fh;
    return $found;
}

# httpd writes the line once the request is over, which may be a moment
# after the client saw the end of the response.
sub wait_outcome_line {
    my ($tag, $seconds) = @_;
    my $deadline = Time::HiRes::time() + ($seconds || 5);
    while (1) {
        my $l = outcome_line($tag);
        return $l if $l || Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
}

# --- previews (t/preview.t): requests whose query string cannot carry a tag

# Every line of the outcome log, parsed as outcome_line does, oldest first.
sub outcome_lines {
    open my $fh, '<', _outcome_log() or return [];
    my @lines;
    while (my $line = <$fh>) {
        chomp $line;
        push @lines, _outcome_fields($line);
    }
    close $fh;
    return \@lines;
}

# The first outcome log line after the first SKIP lines (count them with
# scalar @{outcome_lines()} before the request) whose %U%q is URL; polls for
# up to SECONDS (5). undef if none came.
sub wait_outcome_url {
    my ($url, $skip, $seconds) = @_;
    my $deadline = Time::HiRes::time() + ($seconds || 5);
    while (1) {
        my $all = outcome_lines();
        for my $l (@$all[$skip .. $#$all]) {
            return $l if $l->{url} eq $url;
        }
        return undef if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
}

sub _error_log {
    File::Spec->catfile(Apache::Test::vars('t_logs'), 'error_log');
}

# The size of t/logs/error_log now, and what was written to it since.
sub error_log_size { return -s _error_log() || 0 }

sub error_log_since {
    my ($offset) = @_;
    open my $fh, '<:raw', _error_log() or return '';
    seek $fh, $offset, 0;
    my $text = do { local $/; <$fh> };
    close $fh;
    return defined $text ? $text : '';
}

1;
