-- The shop's tables once more, in schema shop_guard, holding what users can
-- type into a shop: names and e-mails that a spreadsheet would run as
-- formulas. t/request.t serves the shipped conf/orderstream.conf from them
-- (virtual host os_shop_guard, search_path shop_guard) and checks that the
-- shipped formula guard quotes every one of them. t/run loads this after
-- the shop data; it drops and recreates its own schema, so loading it again
-- is fine.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS shop_guard CASCADE;
CREATE SCHEMA shop_guard;
SET search_path = shop_guard;
\ir ../../conf/shop-schema.sql

BEGIN;
INSERT INTO shop_product (id, name, price) OVERRIDING SYSTEM VALUE VALUES
    (1, '=1+2', 10.00),
    (2, '+4915112345678', 2.50),
    (3, '-2+3', 1.00),
    (4, '@SUM(A1:A2)', 3.00),
    (5, 'Plain "Mug", 12 oz', 4.00),
    (6, E'\tTabbed', 5.00);
INSERT INTO shop_order (id, order_date, customer_email) OVERRIDING SYSTEM VALUE VALUES
    (1, '2023-01-01 10:00:00+00', '=HYPERLINK("http://x.example","y")@example.com'),
    (2, '2023-01-02 11:30:00+00', 'plain@example.com');
INSERT INTO shop_orderitem (id, quantity, order_id, product_id) OVERRIDING SYSTEM VALUE VALUES
    (1, 1, 1, 1), (2, 2, 1, 2), (3, 3, 1, 3), (4, 4, 1, 4), (5, 5, 2, 5),
    (6, 6, 2, 6);
COMMIT;
