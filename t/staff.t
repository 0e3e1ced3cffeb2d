# The shipped config keeps customers apart (issue 20): on the os_staff
# virtual host (t/conf/staff.conf.in), conf/orderstream.conf as it is. The
# staff exports (/exports/...) and the staff download page (/downloads)
# answer 401 without a login and for a customer's login, from this machine
# too, and 200 for staff; the customers' /my exports answer the customer
# with their own rows, and 401 without a login and for staff; the
# customer's download page lists no staff export.
use strict;
use warnings;

use JSON::PP ();
use MIME::Base64 qw(encode_base64);
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use OrderStreamTest qw(psql_value);

plan tests => 18;

Apache::TestRequest::module('os_staff');
my $dir = $ENV{OS_CUSTOMERS_DIR} or die 'OS_CUSTOMERS_DIR is set by t/run';
my $email = psql_value('SELECT customer_email FROM shop_order ORDER BY id LIMIT 1');
my %user = (staff => ['staff', 'staff-secret-1'],
            customer => [$email, 'customer-secret-1']);

sub htpasswd {
    my ($file, $name, $password) = @_;
    my $out = `htpasswd -b -B -c "$file" "$name" "$password" 2>&1`;
    die "htpasswd: $out" if $?;
    chmod 0644, $file;
}
htpasswd("$dir/staff-test-staff.htpasswd", @{ $user{staff} });
htpasswd("$dir/staff-test-customers.htpasswd", @{ $user{customer} });

sub get {
    my ($path, $who) = @_;
    my @auth = $who
        ? (Authorization => 'Basic ' . encode_base64(join(':', @{ $user{$who} }), ''))
        : ();
    return Apache::TestRequest::GET($path, @auth);
}

for my $path ('/exports/orders.csv?limit=1', '/exports/catalogue.csv?limit=1',
              '/exports/product-totals.csv?limit=1', '/downloads',
              '/exports/orders.csv?email=' . $email) {
    my @codes;
    push @codes, get($path, $_)->code for (my @who = (undef, 'customer', 'staff'));
    is "@codes", '401 401 200',
        "$path: 401 without a login, 401 for a customer, 200 for staff";
}
{
    my $res = get('/exports/orders.csv?limit=3', 'staff');
    my @lines = split /\r\n/, $res->content;
    is scalar(@lines), 4, 'staff: the export itself (the header and 3 rows)';
    is get('/exports/orders.csv?limit=1')->header('WWW-Authenticate'),
        'Basic realm="Shop staff"', 'the staff login is a realm of its own';
}

# The customers' exports, as before.
for my $path ('/my/orders.csv', '/my/orders-rls.csv') {
    is get($path)->code, 401, "$path: 401 without a login";
    is get($path, 'staff')->code, 401, "$path: 401 for staff (not a customer)";
    my $res = get($path, 'customer');
    is $res->code, 200, "$path: 200 for the customer";
    my (undef, @rows) = grep { length } split /\r\n/, $res->content;
    ok @rows && !(grep { (split /,/)[2] ne $email } @rows),
        "$path: only the customer's own rows (" . scalar(@rows) . ')';
}
{
    my $res = get('/my/downloads?format=json', 'customer');
    is $res->code, 200, '/my/downloads: 200 for the customer';
    my $list = JSON::PP->new->decode($res->content);
    my @urls = sort map { $_->{url} // $_->{path} // '' }
        @{ ref $list eq 'HASH' ? $list->{exports} || [] : $list };
    ok @urls && !(grep { m{^/exports/} } @urls),
        "/my/downloads: no staff export listed (@urls)";
    is get('/my/downloads')->code, 401, '/my/downloads: 401 without a login';
}
