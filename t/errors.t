# A query that fails answers 500 before any byte of CSV, with a short body
# that shows neither the SQL nor PostgreSQL's message; the error log gets one
# line with our tag (OS + 5 digits), the Location and the SQLSTATE.
use strict;
use warnings;

use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use OrderStreamTest qw(raw_request dechunk);

plan tests => 20;

# Fails at DECLARE: relation "no_such_table" does not exist.
t_start_error_log_watch();
my $res = GET '/edge/broken';
my @log = t_finish_error_log_watch();
is $res->code, 500, 'missing relation: 500';
my $body = $res->content;
ok length($body) < 2000, 'short body (' . length($body) . ' bytes)';
unlike $body, qr/no_such_table|SELECT|does not exist|relation/i,
    'body shows neither the SQL nor the PostgreSQL message';
isnt $res->header('Content-Type') || '', 'text/csv; charset=utf-8',
    'the error page is not labelled CSV';
my @ours = grep { /\bOS\d{5}: / } @log;
ok @ours, 'error log: a line with the OS00000-style tag'
    or diag "error log lines:\n", @log;
ok((grep { m{/edge/broken\b} && /\b42P01\b/ } @ours),
    'error log: that line names the Location and SQLSTATE 42P01')
    or diag @ours;
ok((grep { /\[orderstream:error\]/ } @ours), 'logged at level error')
    or diag @ours;

# Fails at the first FETCH: division by zero. Nothing was sent yet, so this
# too must be a 500 -- or, if the module had already started the body, a
# visibly broken one (no last chunk), never a complete 200.
t_start_error_log_watch();
my $r = raw_request(GET => '/edge/broken-fetch', timeout => 30);
@log = t_finish_error_log_watch();
my ($data, $complete) = dechunk($r->{body});
ok $r->{status} == 500 || ($r->{status} == 200 && !$complete),
    "error at FETCH: 500, or a truncated body (got $r->{status}"
    . ($complete ? ', complete' : ', truncated') . ')';
is $r->{status}, 500, 'error at the first FETCH, before any byte: 500';
unlike $r->{body}, qr/division by zero|SELECT/i,
    'body shows neither the SQL nor the PostgreSQL message';
@ours = grep { /\bOS\d{5}: / } @log;
ok((grep { m{/edge/broken-fetch\b} && /\b22012\b/ } @ours),
    'error log: tag, Location and SQLSTATE 22012') or diag @log;

# Fails after 4,999 rows went out: the status line is long gone, so the
# client must see a broken response, never a complete one: no last chunk,
# and the connection closed (mod_proxy's "backend broke" ending).
t_start_error_log_watch();
$r = raw_request(GET => '/edge/broken-midstream', timeout => 30);
@log = t_finish_error_log_watch();
is $r->{status}, 200, 'error mid-stream: the response had started (200)';
($data, $complete) = dechunk($r->{body});
ok !$complete, 'error mid-stream: no last chunk';
ok $r->{closed}, 'error mid-stream: the server closed the connection';
my @lines = split /\n/, $data;
is $lines[0], 'g,q', 'error mid-stream: the header line went out';
ok @lines >= 2 && @lines <= 5000 && $lines[1] eq '1,0',
    'error mid-stream: some rows went out, none past the failing one ('
    . (@lines - 1) . ' rows)';
unlike $data, qr/division by zero|SELECT/i,
    'error mid-stream: no PostgreSQL message or SQL in the body';
ok((grep { m{/edge/broken-midstream\b} && /\b22012\b/ && /\bOS\d{5}: / } @log),
    'error mid-stream: error log has the tag, Location and SQLSTATE 22012')
    or diag @log;

# The next request on the same server works.
$res = GET '/edge/lf';
is $res->code, 200, 'a normal export right after: 200';
ok length($res->content) > 300_000, 'a normal export right after: whole body';
