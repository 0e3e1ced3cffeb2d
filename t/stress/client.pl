#!/usr/bin/perl
# t/stress/client.pl: the load of `make stress` (run by t/stress/run).
#
#   perl t/stress/client.pl --port P --path /stress/orders.csv --md5 HEX
#        --size BYTES --clients 32 --downloads 100 --disconnect 0.1
#        --seed N --deadline EPOCH --out FILE
#        [--slow 12 --slow-rate 4096 --slow-seconds 60]
#
# CLIENTS processes share DOWNLOADS downloads (job i goes to client
# i % CLIENTS). A tenth (--disconnect) of the jobs, picked with --seed, read a
# random number of body bytes and then close the socket (half of those with
# an RST). Every other job reads the whole response over HTTP/1.1 and checks
# it: a 200 must be complete (last chunk) with the MD5 of COPY; anything else
# must be a 503 with Retry-After. One line per job goes to FILE:
#   job status kind(complete|cut|refused|late|bad) bytes seconds detail
# (late: still running when the run's deadline came).
# With --slow N, N more clients each make one download that they read at
# --slow-rate bytes per second (4 KB at a time) for --slow-seconds, then
# close: the clients of a phone on a bad network, or of someone who wants
# to hold the database. Their lines: slowI status slow bytes seconds.
use strict;
use warnings;

use Digest::MD5 ();
use Getopt::Long qw(GetOptions);
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(time);

my %o = (clients => 32, downloads => 100, disconnect => 0.1, seed => 1,
         slow => 0, 'slow-rate' => 4096, 'slow-seconds' => 60);
GetOptions(\%o, 'port=i', 'path=s', 'md5=s', 'size=i', 'clients=i',
           'downloads=i', 'disconnect=f', 'seed=i', 'deadline=f', 'out=s',
           'slow=i', 'slow-rate=i', 'slow-seconds=i')
    or die "bad options\n";
defined $o{$_} or die "--$_ is required\n" for qw(port path md5 size deadline out);

# The plan, fixed by the seed: which jobs disconnect, where, and how.
srand $o{seed};
my %cut_jobs;
my @jobs = (0 .. $o{downloads} - 1);
for my $i (reverse 1 .. $#jobs) {      # Fisher-Yates
    my $j = int rand($i + 1);
    @jobs[$i, $j] = @jobs[$j, $i];
}
$cut_jobs{$_} = 1 for @jobs[0 .. int($o{downloads} * $o{disconnect} + 0.5) - 1];
my @plan;
for my $job (0 .. $o{downloads} - 1) {
    my $cut = $cut_jobs{$job} ? 1 : 0;
    push @plan, { job => $job, cut => $cut,
                  at => $cut ? int(rand $o{size}) : undef,
                  rst => $cut ? (rand() < 0.5) : 0 };
}

sub run_job {
    my ($p) = @_;
    my $t0 = time;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $o{port},
                                  Proto => 'tcp', Timeout => 10)
        or return "$p->{job} 000 bad 0 0 connect:$!";
    print $s "GET $o{path} HTTP/1.1\r\nHost: 127.0.0.1:$o{port}\r\n"
        . "Connection: close\r\n\r\n";
    my $sel = IO::Select->new($s);
    my ($buf, $closed, $hdr_end) = ('', 0, -1);
    while (1) {
        my $left = $o{deadline} - time;
        last if $left <= 0;
        last unless $sel->can_read($left > 60 ? 60 : $left);
        my $n = sysread($s, $buf, 262144, length $buf);
        if (!$n) { $closed = 1; last }
        $hdr_end = index($buf, "\r\n\r\n") if $hdr_end < 0;
        # A client that goes away: AT body bytes (framing included) read.
        if ($p->{cut} && $hdr_end >= 0 && length($buf) - $hdr_end - 4 >= $p->{at}) {
            setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) if $p->{rst};
            close $s;
            return sprintf '%d 200 cut %d %.3f at=%d%s', $p->{job},
                length($buf), time - $t0, $p->{at}, $p->{rst} ? ',rst' : '';
        }
    }
    close $s;
    my $secs = time - $t0;
    # Stopped by the deadline of the whole run, not by the server.
    return sprintf '%d 000 late %d %.3f deadline', $p->{job}, length $buf, $secs
        if !$closed && time >= $o{deadline};
    my ($status) = $buf =~ m{\AHTTP/1\.1 (\d{3})};
    $status ||= '000';
    return sprintf '%d %s bad %d %.3f %s', $p->{job}, $status, length $buf, $secs,
        $closed ? 'no-status-line' : 'timeout' if $hdr_end < 0;
    my $head = substr($buf, 0, $hdr_end);
    my $raw  = substr($buf, $hdr_end + 4);
    if ($status == 503) {
        my $ra = $head =~ /^Retry-After: *(\d+)\r?$/mi ? $1 : '';
        return sprintf '%d 503 %s %d %.3f retry-after=%s', $p->{job},
            $ra ne '' ? 'refused' : 'bad', length $raw, $secs, $ra || '-';
    }
    return sprintf '%d %s bad %d %.3f unexpected-status', $p->{job}, $status,
        length $raw, $secs if $status != 200;
    # Dechunk, checking the framing.
    my ($md5, $data_len, $complete) = (Digest::MD5->new, 0, 0);
    my $pos = 0;
    while (1) {
        my $eol = index($raw, "\r\n", $pos);
        last if $eol < 0;
        my ($size) = substr($raw, $pos, $eol - $pos) =~ /^([0-9a-fA-F]+)/ or last;
        $size = hex $size;
        $pos = $eol + 2;
        if ($size == 0) { $complete = substr($raw, $pos, 2) eq "\r\n"; last }
        last if length($raw) < $pos + $size + 2;
        $md5->add(substr($raw, $pos, $size));
        $data_len += $size;
        $pos += $size + 2;
    }
    my $hex = $md5->hexdigest;
    my $kind = $complete && $hex eq $o{md5} && $data_len == $o{size} ? 'complete' : 'bad';
    return sprintf '%d 200 %s %d %.3f %s%s', $p->{job}, $kind, $data_len, $secs,
        $complete ? 'last-chunk' : 'no-last-chunk', $kind eq 'bad' ? ",md5=$hex" : '';
}

# One slow download: read at the slow rate, 4 KB at a time, then close.
sub run_slow {
    my ($i) = @_;
    my $t0 = time;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $o{port},
                                  Proto => 'tcp', Timeout => 10)
        or return "slow$i 000 bad 0 0 connect:$!";
    print $s "GET $o{path} HTTP/1.1\r\nHost: 127.0.0.1:$o{port}\r\n"
        . "Connection: close\r\n\r\n";
    my $sel = IO::Select->new($s);
    my ($got, $head, $why) = (0, '', 'stopped');
    my $until = $t0 + $o{'slow-seconds'};
    $until = $o{deadline} if $o{deadline} < $until;
    while (time < $until) {
        my $wait = $t0 + $got / $o{'slow-rate'} - time;
        select(undef, undef, undef, $wait) if $wait > 0;
        next unless $sel->can_read(0.5);
        my $n = sysread($s, my $piece, 4096);
        if (!$n) { $why = defined $n ? 'closed' : "error:$!"; last }
        $head .= $piece if length $head < 64;
        $got += $n;
    }
    close $s;
    my ($status) = $head =~ m{\AHTTP/1\.1 (\d{3})};
    return sprintf 'slow%d %s slow %d %.3f %s', $i, $status || '000', $got,
        time - $t0, $why;
}

my @kids;
for my $i (0 .. $o{slow} - 1) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $line = run_slow($i);
        open my $fh, '>>', $o{out} or die "$o{out}: $!";
        flock $fh, 2;
        print $fh "$line\n";
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
for my $c (0 .. $o{clients} - 1) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my @lines;
        for (my $j = $c; $j < @plan; $j += $o{clients}) {
            last if time >= $o{deadline};
            push @lines, run_job($plan[$j]);
        }
        open my $fh, '>>', $o{out} or die "$o{out}: $!";
        flock $fh, 2;
        print $fh "$_\n" for @lines;
        close $fh;
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
waitpid $_, 0 for @kids;
