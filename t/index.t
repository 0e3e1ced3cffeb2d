# The download page (issue 5): "SetHandler orderstream-index" in the virtual
# hosts of t/conf/index.conf.in.
#
# - The HTML lists exactly the exports of its virtual host, in config order
#   (read back from the generated t/conf/index.conf, following its Include
#   of conf/orderstream.conf, and merged over enclosing <Location>s as httpd
#   does): each URL as a working link, the formats, one form per export with
#   one field per OrderStreamParam of the right input type, name, required
#   attribute and visible "required", offset/limit only with previews, the
#   limit's max from OrderStreamMaxLimit, a format select only when there is
#   a choice. Denied, handler-less, pattern and other-vhost exports are left
#   out. A path and a file name full of <>&"' come out escaped. No script,
#   no external resource, a Content-Security-Policy that says so.
# - Each form, submitted as a browser would (every field, empty ones as
#   "name="), is accepted by its export.
# - ?format=json parses (JSON::PP) and equals the same configuration.
# - Any other query string is a one-line 400; methods other than GET and
#   HEAD are a 405.
# - Headless Chromium (t/bin/browser) with JavaScript off loads the shop's
#   page, fills in since and until, clicks Download, and the file it saves
#   has the export's OrderStreamFilename and exactly what COPY gives for the
#   same SQL with the same dates. The screenshot goes to
#   t/logs/download-page.png. No chromium is a failure, not a skip.
use strict;
use warnings;

use File::Path ();
use File::Spec ();
use HTML::TreeBuilder ();
use JSON::PP ();
use URI::Escape qw(uri_unescape);
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use OrderStreamTest qw(param_forms conf_locations repo_conf copy_csv csv_line lf_to_crlf
                       bind_sql explain_difference count_records
                       raw_request error_log_size error_log_since);

plan tests => 163;

my $CONF = File::Spec->catfile(Apache::Test::vars('t_conf'), 'index.conf');

# --- what the configuration says ------------------------------------------

# The lines of FILE with continuations joined and Includes expanded.
sub conf_lines {
    my ($file) = @_;
    open my $fh, '<:raw', $file or die "open $file: $!";
    my $text = do { local $/; <$fh> };
    close $fh;
    $text =~ s/\\\r?\n//g;
    my @lines;
    for my $line (split /\r?\n/, $text) {
        next if $line =~ /^\s*(#|$)/;
        if ($line =~ /^\s*Include\s+"?([^"\s]+)"?\s*$/i) {
            push @lines, conf_lines($1);
        }
        else {
            push @lines, $line;
        }
    }
    return @lines;
}

# The <Location> and <LocationMatch> sections of the <VirtualHost> on PORT,
# in order: [{ path, match (1 for LocationMatch), d => { Name => [[args]...] } }].
sub vhost_sections {
    my ($port) = @_;
    my ($in, $cur, @sections);
    for my $line (conf_lines($CONF)) {
        if ($line =~ /^\s*<VirtualHost\s+[^>]*:(\d+)>/i) {
            $in = $1 == $port;
            next;
        }
        if ($line =~ m{^\s*</VirtualHost>}i) {
            $in = 0;
            next;
        }
        next unless $in;
        if ($line =~ /^\s*<(Location|LocationMatch)\s+(.*)>\s*$/i) {
            my ($path) = OrderStreamTest::_conf_words($2);
            $cur = { path => $path, match => lc $1 eq 'locationmatch',
                     d => {} };
            push @sections, $cur;
            next;
        }
        if ($line =~ m{^\s*</Location(Match)?>}i) {
            undef $cur;
            next;
        }
        next unless $cur;
        my ($name, @args) = OrderStreamTest::_conf_words($line);
        push @{ $cur->{d}{$name} }, \@args;
    }
    return @sections;
}

# What a request to PATH gets: every literal section whose path is PATH or
# a parent of it, merged in config order (the last one that sets a
# directive wins; OrderStreamParam goes with the OrderStreamSQL it came with).
sub merged {
    my ($path, @sections) = @_;
    my %d;
    for my $s (grep { !$_->{match} } @sections) {
        my $p = $s->{path};
        next unless $path eq $p || index($path, $p =~ m{/\z} ? $p : "$p/") == 0;
        if ($s->{d}{OrderStreamSQL}) {
            delete $d{OrderStreamParam};
        }
        %d = (%d, %{ $s->{d} });
    }
    return \%d;
}

sub last_arg {
    my ($d, $name) = @_;
    return $d->{$name} ? $d->{$name}[-1][0] : undef;
}

my %FORM = param_forms();

# The columns SQL returns as psql's \gdesc describes them (the query is
# not run): [{ name, type }...], each $N replaced by a NULL of the type
# the module binds for its OrderStreamParam.
my %CAST = (int => 'bigint', numeric => 'numeric', date => 'date',
            timestamptz => 'timestamptz', bool => 'boolean', text => 'text');
sub gdesc {
    my ($sql, @types) = @_;
    my $q = bind_sql($sql, map { "NULL::$CAST{$_}" } @types);
    my $file = File::Spec->catfile(Apache::Test::vars('t_dir'), 'tmp',
                                   'index-gdesc.sql');
    open my $fh, '>:raw', $file or die "$file: $!";
    print $fh "$q \\gdesc\n";
    close $fh;
    my $out = OrderStreamTest::_psql('-A', '-t', '-F', "\x1f", '-f', $file);
    return map { my ($n, $t) = split /\x1f/, $_, 2; { name => $n, type => $t } }
        split /\n/, $out;
}
my @ALL_FORMATS = qw(csv tsv ndjson xlsx);

# One export as the JSON must describe it, from its merged directives.
sub expected_export {
    my ($path, $d) = @_;
    my %allowed = map { lc($_) => 1 }
        map { @$_ } @{ $d->{OrderStreamFormats} || [[@ALL_FORMATS]] };
    my @formats = grep { $allowed{$_} } @ALL_FORMATS;
    my $dflt = lc(last_arg($d, 'OrderStreamFormat') // 'csv');
    $dflt = $formats[0] unless $allowed{$dflt};
    my $max = last_arg($d, 'OrderStreamMaxLimit');
    my @params;
    for my $a (@{ $d->{OrderStreamParam} || [] }) {
        my ($name, $type, @opt) = @$a;
        # set by the server (expr=): no field, not in the JSON
        next if grep { /^expr=/i } @opt;
        my ($default) = map { /^default=(.*)/i ? $1 : () } @opt;
        my ($maxlen)  = map { /^maxlength=(\d+)/i ? $1 : () } @opt;
        $maxlen //= 256 if $type eq 'text';
        push @params, {
            name => $name, type => $type,
            required => (grep { lc eq 'required' } @opt) ? JSON::PP::true
                                                           : JSON::PP::false,
            default => $default, maxlength => $maxlen,
            form => $type eq 'text' ? "UTF-8 text of at most $maxlen characters"
                                    : $FORM{$type},
        };
    }
    # The first query's columns, labelled by OrderStreamHeader (unless
    # "off"); a chain's other queries do not name them.
    my @labels = map { @$_ } @{ $d->{OrderStreamHeader} || [] };
    @labels = () if @labels == 1 && lc $labels[0] eq 'off';
    my @cols = gdesc($d->{OrderStreamSQL}[0][0],
                     map { $_->[1] } @{ $d->{OrderStreamParam} || [] });
    $cols[$_]{label} = $labels[$_] for 0 .. $#cols;
    return {
        path => $path, formats => \@formats, default_format => $dflt,
        title => last_arg($d, 'OrderStreamTitle'),
        description => last_arg($d, 'OrderStreamDescription'),
        columns => \@cols, columns_note => undef,
        filename => last_arg($d, 'OrderStreamFilename'),
        preview => lc(last_arg($d, 'OrderStreamPreview') // 'on') eq 'off'
            ? JSON::PP::false : JSON::PP::true,
        max_limit => $max ? 0 + $max : undef,
        params => \@params,
    };
}

# The exports the page of the virtual host on PORT must list, in order: the
# literal Locations with "SetHandler orderstream" and a query that a client
# may reach (these requests send no login: "Require valid-user" refuses
# them; t/identity.t tests the page of a logged-in visitor).
sub expected_exports {
    my ($port) = @_;
    my @sections = vhost_sections($port);
    my (@want, %seen);
    for my $s (@sections) {
        next if $s->{match} || $seen{ $s->{path} }++;
        my $d = merged($s->{path}, @sections);
        next unless $d->{OrderStreamSQL}
            && lc(last_arg($d, 'SetHandler') // '') eq 'orderstream'
            && !grep { "@$_" =~ /^(all denied|valid-user)$/i }
                   @{ $d->{Require} || [] };
        push @want, expected_export($s->{path}, $d);
    }
    return @want;
}

# --- requests -------------------------------------------------------------

sub on_vhost {
    my ($module) = @_;
    Apache::TestRequest::module($module);
    my $hp = Apache::TestRequest::hostport();
    my ($port) = $hp =~ /:(\d+)\z/;
    return $port;
}

sub get { Apache::TestRequest::GET(@_) }

# Every form of the page, as a browser would submit it: [action, [[name,
# type, tag]...]] with the fields in order.
sub forms {
    my ($tree) = @_;
    return map {
        my $f = $_;
        [ $f->attr('action'),
          [ map { [ $_->attr('name'), $_->tag eq 'select' ? 'select'
                    : $_->attr('type'), $_ ] }
            $f->look_down(_tag => qr/^(input|select|textarea)$/) ] ]
    } $tree->look_down(_tag => 'form');
}

# The query string a browser sends for FIELDS: every named field, the
# values of FILL (name => value) or empty ("name=", which the export takes
# as absent); a select sends its selected option.
sub submission {
    my ($fields, %fill) = @_;
    my @pairs;
    for my $f (@$fields) {
        my ($name, $type, $el) = @$f;
        next unless defined $name;
        my $v = $fill{$name};
        if (!defined $v && $type eq 'select') {
            my ($sel) = $el->look_down(_tag => 'option', selected => qr/./);
            ($sel) = $el->look_down(_tag => 'option') unless $sel;
            $v = defined $sel->attr('value') ? $sel->attr('value')
                                             : $sel->as_text;
        }
        $v //= '';
        $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
        push @pairs, "$name=$v";
    }
    return join '&', @pairs;
}

# A valid value for a required parameter of TYPE.
my %SAMPLE = (int => '42', numeric => '-1.25', date => '2023-06-01',
              timestamptz => '2023-06-01T12:30', bool => 'true', text => 'x');

# --- the page of one virtual host -----------------------------------------

sub check_no_external {
    my ($vhost, $html, $tree) = @_;
    my @bad;
    push @bad, 'a <script>' if $html =~ /<script/i;
    push @bad, 'javascript:' if $html =~ /javascript:/i;
    push @bad, 'an on* attribute' if $html =~ /\son[a-z]+\s*=/i;
    push @bad, 'an url() in CSS' if $html =~ /url\(|\@import/i;
    for my $el ($tree->look_down(sub { 1 })) {
        my $tag = $el->tag;
        push @bad, "<$tag>"
            if $tag =~ /^(script|link|img|iframe|object|embed|base|frame)$/;
        for my $attr (qw(src href action)) {
            my $v = $el->attr($attr);
            push @bad, "$attr=$v" if defined $v && $v =~ m{^\s*(\w+:|//)};
        }
    }
    ok !@bad, "$vhost: no script, no external resource, every link relative"
        or diag join ', ', @bad;
}

# The fields FORM must have for export E: [name, type, required, extra
# attributes] in order.
sub expected_fields {
    my ($e) = @_;
    my @f;
    my %input = (int => 'number', numeric => 'number', date => 'date',
                 timestamptz => 'datetime-local', bool => 'select',
                 text => 'text');
    for my $p (@{ $e->{params} }) {
        my %attr;
        $attr{step} = $p->{type} eq 'int' ? '1' : 'any'
            if $input{ $p->{type} } eq 'number';
        $attr{maxlength} = $p->{maxlength} if $p->{type} eq 'text';
        push @f, [ $p->{name}, $input{ $p->{type} }, $p->{required} ? 1 : 0,
                   \%attr ];
    }
    if ($e->{preview}) {
        push @f, [ 'offset', 'number', 0, { min => 0, step => 1 } ];
        push @f, [ 'limit', 'number', 0, { min => 0, step => 1,
                   $e->{max_limit} ? (max => $e->{max_limit}) : () } ];
    }
    push @f, [ 'format', 'select', 0, {} ] if @{ $e->{formats} } > 1;
    return @f;
}

sub fields_of {
    my ($form) = @_;
    return map {
        my ($name, $type, $el) = @$_;
        my %attr = map { ($_ => $el->attr($_)) } qw(step maxlength min max);
        defined $attr{$_} or delete $attr{$_} for keys %attr;
        [ $name, $type, defined $el->attr('required') ? 1 : 0, \%attr ]
    } grep { defined $_->[0] } @{ $form->[1] };
}

# The one export section of the page whose form posts to URL.
# The link of an export's section: the heading itself, or the line under
# a heading that is the export's title.
sub section_link {
    my ($section) = @_;
    my $h2 = $section->look_down(_tag => 'h2');
    my $url = $section->look_down(_tag => 'p', class => 'url');
    return ($h2 && $h2->look_down(_tag => 'a'))
        || ($url && $url->look_down(_tag => 'a'));
}

# What the section shows of the columns: [label or undef, name, type]
# per item of its list.
sub section_columns {
    my ($section) = @_;
    my $ul = $section->look_down(_tag => 'ul', class => 'cols') or return;
    return map {
        my $label = $_->look_down(_tag => 'span', class => 'label');
        my $code = $_->look_down(_tag => 'code');
        my $type = $_->look_down(_tag => 'span', class => 'type');
        [ $label ? $label->as_text : undef, $code ? $code->as_text : undef,
          $type ? $type->as_text : undef ]
    } $ul->look_down(_tag => 'li');
}

# The title as the heading with the link under it, or the link as the
# heading; the description under it; the columns under the form.
sub check_words_html {
    my ($vhost, $section, $e) = @_;
    my $path = $e->{path};
    my $h2 = $section->look_down(_tag => 'h2');
    if (defined $e->{title}) {
        ok $h2 && !$h2->look_down(_tag => 'a') && $h2->as_text eq $e->{title},
            "$vhost: $path: the title is the heading"
            or diag $h2 ? $h2->as_HTML : 'no h2';
    }
    my $desc = $section->look_down(_tag => 'p', class => 'desc');
    is $desc ? $desc->as_text : undef, $e->{description},
        "$vhost: $path: " . (defined $e->{description} ? 'the description'
                                                       : 'no description');
    is_deeply [ section_columns($section) ],
        [ map { [ defined $_->{label} && $_->{label} ne $_->{name}
                      ? $_->{label} : undef, $_->{name}, $_->{type} ] }
          @{ $e->{columns} } ],
        "$vhost: $path: the columns, their types and labels";
    my ($form) = $section->look_down(_tag => 'form');
    my ($ul) = $section->look_down(_tag => 'ul', class => 'cols');
    ok $form && $ul && $ul->parent == $section && $form->parent == $section
        && $form->pindex < $ul->pindex,
        "$vhost: $path: the columns are under the form";
}

sub check_export_html {
    my ($vhost, $tree, $section, $e) = @_;
    my $path = $e->{path};
    check_words_html($vhost, $section, $e);
    my $a = section_link($section);
    my $href = $a ? $a->attr('href') : '';
    is uri_unescape($href), $path, "$vhost: $path: the link's URL";
    is $a ? $a->as_text : '', $path, "$vhost: $path: the link's text";
    ok $href !~ /[\s<>"]|%(?![0-9A-Fa-f]{2})/,
        "$vhost: $path: the link is URL-escaped ($href)";

    # The link alone: the export, or its 400 for a missing parameter.
    my ($req) = grep { $_->{required} } @{ $e->{params} };
    my $res = get($href);
    if ($req) {
        ok $res->code == 400 && $res->content =~ /^\Q$req->{name}\E: missing/,
            "$vhost: $path: the link reaches the export (400: "
            . "$req->{name} missing)" or diag $res->code . ': ' . $res->content;
    }
    else {
        is $res->code, 200, "$vhost: $path: the link works";
    }

    my $about = $section->look_down(class => 'about');
    my $text = $about ? $about->as_text : '';
    my $fmts = join ', ', map { $_ eq $e->{default_format} ? "$_ (default)" : $_ }
        @{ $e->{formats} };
    like $text, qr/^Formats: \Q$fmts\E\./, "$vhost: $path: formats shown";
    if (defined $e->{filename}) {
        my $code = $about->look_down(_tag => 'code');
        is $code ? $code->as_text : undef, $e->{filename},
            "$vhost: $path: file name shown";
    }

    my @forms = $section->look_down(_tag => 'form');
    is scalar(@forms), 1, "$vhost: $path: one form";
    my $form = $forms[0];
    is lc($form->attr('method') // ''), 'get', "$vhost: $path: form is a GET";
    is $form->attr('action'), $href, "$vhost: $path: form goes to the export";
    my ($f) = forms($section);
    is_deeply [ fields_of($f) ], [ expected_fields($e) ],
        "$vhost: $path: one field per parameter, the right type, name, "
        . "attributes"
        or diag explain [ fields_of($f) ];

    # "required" shown in each required field's label, and only there.
    my @marked = map {
        my $label = $_->[2]->look_up(_tag => 'label');
        [ $_->[0], ($label && $label->as_text =~ /\brequired\b/) ? 1 : 0 ]
    } grep { defined $_->[0] } @{ $f->[1] };
    is_deeply \@marked,
        [ map { [ $_->[0], $_->[2] ] } expected_fields($e) ],
        "$vhost: $path: required fields are marked visibly";

    if (@{ $e->{formats} } > 1) {
        my ($sel) = $form->look_down(_tag => 'select', name => 'format');
        my @opt = $sel->look_down(_tag => 'option');
        is_deeply [ map { $_->attr('value') } @opt ], $e->{formats},
            "$vhost: $path: format choices";
        is_deeply [ map { $_->attr('value') }
                    grep { defined $_->attr('selected') } @opt ],
            [ $e->{default_format} ], "$vhost: $path: default format selected";
    }
    my @buttons = $form->look_down(_tag => 'button', type => 'submit');
    is scalar(@buttons), 1, "$vhost: $path: a submit button";

    # Submitted as a browser would, required fields filled in, the rest
    # empty ("name="), previews cut to a row: the export takes it.
    my %fill = map { ($_->{name} => $SAMPLE{ $_->{type} }) }
        grep { $_->{required} } @{ $e->{params} };
    $fill{limit} = 1 if $e->{preview};
    my $qs = submission($f->[1], %fill);
    my $sub = get("$href?$qs");
    is $sub->code, 200, "$vhost: $path: the form's submission is accepted"
        or diag "GET $href?$qs: " . $sub->code . ': ' . $sub->content;
}

sub check_page {
    my ($vhost, @want) = @_;
    my $res = get('/downloads');
    is $res->code, 200, "$vhost: GET /downloads: 200";
    is $res->header('Content-Type'), 'text/html; charset=utf-8',
        "$vhost: HTML in UTF-8";
    like $res->header('Content-Security-Policy') // '',
        qr/default-src 'none'.*form-action 'self'/,
        "$vhost: a Content-Security-Policy without scripts";
    my $html = $res->content;
    # HTML5's <section> is not in HTML::Tagset: keep unknown elements.
    my $tree = HTML::TreeBuilder->new;
    $tree->ignore_unknown(0);
    $tree->parse_content($html);
    check_no_external($vhost, $html, $tree);
    ok $tree->look_down(_tag => 'a', href => '?format=json'),
        "$vhost: a link to the JSON";

    my @sections = $tree->look_down(_tag => 'section');
    my @got = map {
        my $a = section_link($_);
        $a ? $a->as_text : ''
    } @sections;
    is_deeply \@got, [ map { $_->{path} } @want ],
        "$vhost: lists exactly the exports of its virtual host, in order";
    for my $i (0 .. $#want) {
        next unless $sections[$i];
        check_export_html($vhost, $tree, $sections[$i], $want[$i]);
    }
    $tree->delete;
    return $html;
}

sub check_json {
    my ($vhost, @want) = @_;
    my $res = get('/downloads?format=json');
    is $res->code, 200, "$vhost: ?format=json: 200";
    is $res->header('Content-Type'), 'application/json',
        "$vhost: ?format=json: application/json";
    my $doc = eval { JSON::PP->new->utf8->decode($res->content) };
    ok $doc, "$vhost: ?format=json parses" or diag $@;
    my @got = map {
        my %e = %$_;
        $e{path} = uri_unescape(delete $e{url});
        \%e
    } @{ $doc->{exports} || [] };
    is_deeply \@got, \@want, "$vhost: the JSON describes the configuration"
        or diag explain \@got;
    return $doc;
}

# --- the shop's page: the shipped exports ----------------------------------

my $shop_port = on_vhost('os_index_shop');
my @shop = expected_exports($shop_port);
is_deeply [ map { $_->{path} } @shop ],
    [ '/exports/orders.csv', '/exports/catalogue.csv',
      '/exports/product-totals.csv' ],
    'os_index_shop: the config holds the three shipped exports';
check_page('os_index_shop', @shop);
check_json('os_index_shop', @shop);

# --- the page with every parameter type -----------------------------------

my $port = on_vhost('os_index');
my @want = expected_exports($port);
my $NASTY = q{/dl/a&b <i>"q"'s%.csv};
is_deeply [ map { $_->{path} } @want ], [ '/dl/limited/types', $NASTY ],
    'os_index: the config holds the two exports to list';
is $want[0]{max_limit}, 50, 'os_index: types inherits OrderStreamMaxLimit 50';
is_deeply [ map { $_->{type} } @{ $want[0]{params} } ],
    [qw(int numeric timestamptz bool bool text date)],
    'os_index: types declares every parameter type';
my $html = check_page('os_index', @want);
check_json('os_index', @want);

# What each widget sends (a number input digits, a date input YYYY-MM-DD,
# datetime-local YYYY-MM-DDTHH:MM, a select true or false) is what the
# export takes, bound as the same values COPY gets as literals.
{
    my %sent = (n => '42', x => '-1.25', at => '2023-06-01T12:30',
                flag => 'false', sure => 'true', note => 'a & b',
                day => '2023-06-01', offset => '', limit => '',
                format => 'csv');
    my $qs = join '&', map {
        (my $v = $sent{$_}) =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge;
        "$_=$v"
    } qw(n x at flag sure note day offset limit format);
    my $sql = bind_sql(
        (grep { $_->{path} eq '/dl/limited/types' } vhost_sections($port))[0]
            ->{d}{OrderStreamSQL}[0][0],
        q{'42'::bigint}, q{'-1.25'::numeric},
        q{'2023-06-01T12:30Z'::timestamptz}, 'false', 'true', q{'a & b'},
        q{'2023-06-01'::date});
    my $want = lf_to_crlf(copy_csv($sql));
    my $res = get("/dl/limited/types?$qs");
    ok $res->code == 200 && $res->content eq $want,
        'os_index: the values the widgets send are bound as meant'
        or diag "?$qs: " . $res->code . "\n"
            . explain_difference($res->content, $want);
}

# Escaping: nothing of the path or file name comes out as markup.
unlike $html, qr/<i>|<b>|"q"/, 'os_index: the path and file name are HTML-escaped';
like $html, qr/&lt;b&gt;&amp;amp;'x'\.csv/,
    'os_index: the file name "<b>&amp;\'x\'.csv" is shown escaped once';
my $json = get('/downloads?format=json')->content;
like $json, qr/"filename":"<b>&amp;'x'\.csv"/,
    'os_index: the JSON carries the file name as it is';
like $json, qr{"url":"/dl/a&b%20%3[cC]i%3[eE]%22q%22's%25\.csv"},
    'os_index: the JSON url is URL-escaped and JSON-escaped';

for my $gone ('/dl/denied.csv', '/dl/no-handler.csv', '/dl/match/',
              '/dl/other.csv', '/exports/orders.csv') {
    unlike $html, qr/\Q$gone\E/, "os_index: $gone is not listed";
}
is get('/dl/denied.csv')->code, 403, 'os_index: /dl/denied.csv is indeed denied';

# --- the query string and the method ---------------------------------------

sub bad_request {
    my ($qs, $message) = @_;
    my $res = get("/downloads?$qs");
    ok $res->code == 400
        && ($res->header('Content-Type') // '') eq 'text/plain; charset=utf-8'
        && $res->content eq "$message\n",
        "?$qs: 400, $message"
        or diag $res->code . ' ' . ($res->header('Content-Type') // '')
            . ': ' . $res->content;
}
bad_request('format=xml', 'format: expected html or json, got "xml"');
bad_request('sort=name', 'sort: not a parameter of this page');
bad_request('format=json&format=json', 'format: given more than once');
bad_request('%zz=1', '%zz: badly escaped');
bad_request('format=%01%ff', 'format: expected html or json, got "\x01\xff"');
bad_request('limit=1', 'limit: not a parameter of this page');

for my $qs ('format=', 'format=html', 'format=HTML', 'format') {
    my $res = get("/downloads?$qs");
    is $res->code . ' ' . ($res->header('Content-Type') // ''),
        '200 text/html; charset=utf-8', "?$qs: the HTML page";
}
my $upper = get('/downloads?format=JSON');
is $upper->code . ' ' . ($upper->header('Content-Type') // ''),
    '200 application/json', '?format=JSON: the JSON';

my $head = Apache::TestRequest::HEAD('/downloads');
ok $head->code == 200 && $head->content eq ''
    && $head->header('Content-Type') eq 'text/html; charset=utf-8',
    'HEAD: 200, the headers, no body';
for my $m (qw(POST PUT DELETE)) {
    my $res = raw_request($m, '/downloads', module => 'os_index',
                          extra_headers => "Content-Length: 0\r\n");
    my $allow = $res->{headers}{allow} // '';
    ok $res->{status} == 405 && $allow =~ /\bGET\b/ && $allow =~ /\bHEAD\b/
        && $allow !~ /\b$m\b/, "$m: 405, Allow: $allow"
        or diag $res->{status};
}

# --- the columns: described, never run, kept per child -------------------

# The exports of the current virtual host's JSON, by path.
sub json_exports {
    my $res = get('/downloads?format=json');
    my $doc = eval { JSON::PP->new->utf8->decode($res->content) } || {};
    return map { (uri_unescape($_->{url}) => $_) } @{ $doc->{exports} || [] };
}

# The sections of the current virtual host's page, by path: [the columns
# shown (section_columns), the text where they are not, the title, the
# description, the number of forms].
sub html_sections {
    my $tree = HTML::TreeBuilder->new;
    $tree->ignore_unknown(0);
    $tree->parse_content(get('/downloads')->content);
    my %s;
    for my $sec ($tree->look_down(_tag => 'section')) {
        my $a = section_link($sec) or next;
        my $none = $sec->look_down(_tag => 'p', class => 'nocols');
        my $h2 = $sec->look_down(_tag => 'h2');
        my $desc = $sec->look_down(_tag => 'p', class => 'desc');
        $s{ $a->as_text } = [ [ section_columns($sec) ],
            $none ? $none->as_text : undef, $h2 ? $h2->as_text : undef,
            $desc ? $desc->as_text : undef,
            scalar(() = $sec->look_down(_tag => 'form')) ];
    }
    $tree->delete;
    return %s;
}

sub col { return { name => $_[0], type => $_[1], label => $_[2] } }

on_vhost('os_index_db');
OrderStreamTest::_psql('-c', 'SET client_min_messages = warning; '
                       . 'DROP TABLE IF EXISTS index_cache_probe');
my $log_at = error_log_size();
my %j = json_exports();
is_deeply $j{'/db/boom'}{columns},
    [ col('boom', 'integer'), col('v', 'character varying(7)'),
      col('at', 'timestamp(3) without time zone') ],
    'os_index_db: /db/boom: names and types with their typmods';
is get('/db/boom')->code, 500,
    'os_index_db: /db/boom fails when run (1 / 0): the page only described it';
ok !defined $j{'/db/cached'}{columns}
    && ($j{'/db/cached'}{columns_note} // '') eq
       'the database could not describe the query',
    'os_index_db: no table yet: no columns, and the JSON says why'
    or diag explain $j{'/db/cached'};
like error_log_since($log_at),
    qr{OS00503: /db/cached: columns not shown on the page: the query cannot be described at DESCRIBE: SQLSTATE 42P01: relation "index_cache_probe" does not exist},
    'os_index_db: the failed describe is logged with its Location and SQLSTATE';
ok $j{'/db/mislabelled'}{columns_note} eq 'OrderStreamHeader gives 3 labels '
        . 'for these 2 columns: the export fails until they agree'
    && eq_array([ map { $_->{label} } @{ $j{'/db/mislabelled'}{columns} } ],
                [ undef, undef ]),
    'os_index_db: labels that do not fit: the columns without them, and why'
    or diag explain $j{'/db/mislabelled'};

OrderStreamTest::_psql('-c', 'CREATE TABLE index_cache_probe '
                       . '(id integer, amount numeric(12,2))');
%j = json_exports();
is_deeply $j{'/db/cached'}{columns},
    [ col('id', 'integer'), col('amount', 'numeric(12,2)') ],
    'os_index_db: the table now exists: its columns (a failure is not kept)';
OrderStreamTest::_psql('-c', 'ALTER TABLE index_cache_probe ADD COLUMN note text');
my %h = html_sections();
is_deeply $h{'/db/cached'}[0],
    [ [ undef, 'id', 'integer' ], [ undef, 'amount', 'numeric(12,2)' ] ],
    'os_index_db: a column added later: the page keeps what this child '
    . 'described, without asking the database again';
is get('/db/cached')->content, "id,amount,note\r\n",
    'os_index_db: the export itself has the new column';
OrderStreamTest::_psql('-c', 'DROP TABLE index_cache_probe');

# The database cannot be reached: the page is served, the form is there,
# and where the columns would be it says why they are not.
on_vhost('os_index_nodb');
$log_at = error_log_size();
%h = html_sections();
my $nodb = $h{'/nodb/orders.csv'} || [];
is_deeply $nodb, [ [], 'Columns not shown: the database cannot be reached '
                       . 'just now.', 'Orders', 'Every order.', 1 ],
    'os_index_nodb: the page, its title, description and form, no columns, '
    . 'and why' or diag explain $nodb;
%j = json_exports();
my $e = $j{'/nodb/orders.csv'} || {};
ok !defined $e->{columns} && $e->{title} eq 'Orders'
    && $e->{columns_note} eq 'the database cannot be reached just now',
    'os_index_nodb: the JSON: columns null, and why' or diag explain $e;
like error_log_since($log_at), qr{OS00500: /nodb/orders\.csv: columns not shown},
    'os_index_nodb: logged with the Location';
is get('/nodb/orders.csv')->code, 503,
    'os_index_nodb: the export itself is a 503: the database is indeed unreachable';

# --- headless Chromium: fill in, submit, download ----------------------------

on_vhost('os_index_shop');
my $url = "http://127.0.0.1:$shop_port/downloads";
my $t_dir = Apache::Test::vars('t_dir');
my $logs = Apache::Test::vars('t_logs');
my $dl = File::Spec->catdir($t_dir, 'tmp', 'index-downloads');
File::Path::remove_tree($dl);
File::Path::make_path($dl);
my $png = File::Spec->catfile($logs, 'download-page.png');
unlink $png;
my $form = 'form[action="/exports/orders.csv"]';
my @cmd = ('python3', File::Spec->catfile($t_dir, 'bin', 'browser'), $url,
           '--set', qq{$form input[name="since"]}, '2023-01-01',
           '--set', qq{$form input[name="until"]}, '2023-01-31',
           '--screenshot', $png,
           '--click', qq{$form button[type="submit"]},
           '--download-dir', $dl, '--no-javascript', '--timeout', 25,
           '--log', File::Spec->catfile($logs, 'browser.log'));
open my $fh, '-|', @cmd or die "t/bin/browser: $!";
my $out = do { local $/; <$fh> };
close $fh;
my $status = $?;
is $status, 0, 'browser: headless Chromium loaded, filled in, clicked, '
    . 'downloaded (t/logs/browser.log)';
my $r = eval { JSON::PP->new->decode($out // '') } || {};

is $r->{title}, 'Downloads', 'browser: the page loaded';
my $d = $r->{download} || {};
my ($file) = @{ conf_locations(repo_conf('orderstream.conf'))
                ->{'/exports/orders.csv'}{OrderStreamFilename} || [] };
is $d->{state}, 'completed', 'browser: the download completed';
is $d->{suggestedFilename}, $file,
    "browser: the file is saved as the export's OrderStreamFilename ($file)";
is $d->{url}, "http://127.0.0.1:$shop_port/exports/orders.csv"
    . '?since=2023-01-01&until=2023-01-31&email=&offset=&limit=&format=csv',
    'browser: the form sent the dates, and the empty fields as name=';
opendir my $dh, $dl or die "$dl: $!";
my @files = grep { !/^\./ } readdir $dh;
closedir $dh;
is_deeply \@files, [$file], "browser: $file is the one file downloaded";

# The oracle: COPY of the export's SQL with the same dates.
my $conf = conf_locations(repo_conf('orderstream.conf'))->{'/exports/orders.csv'};
my $sql = bind_sql($conf->{OrderStreamSQL}[0], q{'2023-01-01'::date},
                   q{'2023-01-31'::date}, 'NULL::text');
my $want = csv_line("\r\n", @{ $conf->{OrderStreamHeader} })
         . lf_to_crlf(copy_csv($sql, header => 0));
my $got = do {
    local $/;
    open my $in, '<:raw', File::Spec->catfile($dl, $file) or die;
    <$in>;
} // '';
my $rows = count_records($got, "\r\n") - 1;
ok $rows > 1000 && $rows < ($ENV{OS_TEST_ROWS} || 200000) / 10,
    "browser: January 2023 only ($rows rows)";
ok $got eq $want, 'browser: the file is exactly COPY of the SQL with the '
    . 'same dates, under the configured header'
    or diag explain_difference($got, $want);

my $magic = '';
if (open my $p, '<:raw', $png) {
    read $p, $magic, 24;
    close $p;
}
ok -s $png && substr($magic, 0, 8) eq "\x89PNG\r\n\x1a\n",
    'browser: t/logs/download-page.png is a PNG';
my ($w, $h) = length $magic == 24 ? unpack 'NN', substr($magic, 16, 8) : (0, 0);
ok $w >= 800 && $h >= 400, "browser: the screenshot is ${w}x$h";
