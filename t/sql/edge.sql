-- Edge-case data for the Apache::Test suite (t/run loads it after the shop
-- data; it drops and recreates its own tables, so loading it again is fine).
-- Each row is a way a CSV writer can go wrong; the tests compare
-- mod_orderstream's output with COPY ... (FORMAT csv, HEADER) byte for byte.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;

DROP VIEW IF EXISTS edge_named;
DROP TABLE IF EXISTS edge_cases, edge_dot;

CREATE TABLE edge_cases (
    id    integer PRIMARY KEY,
    note  text NOT NULL,      -- what the row is about (itself plain text)
    t     text,
    n     numeric,
    i     bigint,
    f     double precision,
    b     boolean,
    d     date,
    ts    timestamp,
    tz    timestamptz,
    iv    interval,
    arr   text[],
    ia    integer[],
    j     json,
    jb    jsonb,
    by    bytea
);

INSERT INTO edge_cases (id, note, t) VALUES
    ( 1, 'plain',                  'hello'),
    ( 2, 'comma',                  'a,b'),
    ( 3, 'double quote',           'say "hi"'),
    ( 4, 'only a quote',           '"'),
    ( 5, 'LF',                     E'line1\nline2'),
    ( 6, 'CR',                     E'line1\rline2'),
    ( 7, 'CRLF',                   E'line1\r\nline2'),
    ( 8, 'trailing LF',            E'end\n'),
    ( 9, 'leading and trailing spaces', '  padded  '),
    (10, 'tab',                    E'a\tb'),
    (11, 'multi-byte UTF-8',       'Grüße, 東京 — naïve café 🚀'),
    (12, 'empty string',           ''),
    (13, 'NULL',                   NULL),
    (14, 'backslash dot, not alone', E'\\.'),
    (15, 'backslashes',            E'C:\\path\\N'),
    (16, 'the letters NULL',       'NULL'),
    (17, 'everything',             E' "a", b\r\nc" '),
    (18, 'semicolon and pipe',     'a;b|c'),
    (19, 'single quote',           'it''s');

INSERT INTO edge_cases (id, note, n, i, f, b, d, ts, tz, iv) VALUES
    (30, 'numbers and times', 12345678901234567890.123456789, 9223372036854775807,
         0.1, true, '2024-02-29', '2024-02-29 23:59:59.999999',
         '2024-02-29 23:59:59.5+05:30', '1 year 2 mons 3 days 04:05:06.7'),
    (31, 'negative and special', -0.000001, -9223372036854775808,
         'NaN', false, '0001-01-01 BC', '1970-01-01 00:00:00',
         '1970-01-01 00:00:00+00', '-1 day'),
    (32, 'infinities', 'NaN', 0, '-Infinity', NULL, 'infinity', '-infinity',
         'infinity', '0'),
    (33, 'float precision', 1e-20, 1, 1.0e300, NULL, NULL, NULL,
         '2000-06-15 12:00:00-07', NULL);

INSERT INTO edge_cases (id, note, arr, ia, j, jb, by) VALUES
    (40, 'arrays and json', ARRAY['a', 'b,c', 'd"e', NULL, ''], ARRAY[1, NULL, 3],
         '{"k": "v, w", "n": [1, 2]}', '{"k": "v, w", "q": "\"", "u": "ü"}',
         '\x00ff2c22'),
    (41, 'empty array and json', '{}', '{}', '[]', '{}', ''),
    (42, 'nested array', '{{a,b},{c,d}}', '{{1,2},{3,4}}', '"string"', 'null',
         'a,b');

-- Big values: a single field far larger than any buffer or FETCH batch.
INSERT INTO edge_cases (id, note, t) VALUES
    (50, 'big plain', repeat('0123456789', 12000)),
    (51, 'big quoted', repeat(E'ab,"c"\r\n', 20000));

-- A one-column export whose rows include exactly \. (COPY quotes it, since
-- unquoted it would read back as the end-of-data marker).
CREATE TABLE edge_dot (id integer PRIMARY KEY, v text);
INSERT INTO edge_dot VALUES
    (1, 'a'), (2, E'\\.'), (3, NULL), (4, ''), (5, E'\\.x'), (6, E' \\.');

-- Column names that themselves need quoting, for the default header.
CREATE VIEW edge_named AS
    SELECT id AS "id", t AS "text, quoted", note AS "say ""what""",
           n AS "Grüße"
    FROM edge_cases WHERE id < 20;

COMMIT;
