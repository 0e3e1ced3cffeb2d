-- Demo data for the "shop" schema (conf/shop-schema.sql).
--
--   psql -v ON_ERROR_STOP=1 -v rows=1000000 -f conf/shop-demo-data.sql
--
-- :rows is the exact number of order items to create (default 1000).
-- It also creates about min(1000, rows) products and rows/3 orders (at least
-- one of each).  The data is deterministic: values come from hashes of the
-- row number (hashint4extended, which PostgreSQL keeps stable because hash
-- partitioning depends on it) and a fixed base timestamp, never random() or
-- now(), so two loads with the same :rows produce identical tables.
--
-- Ids are inserted explicitly (OVERRIDING SYSTEM VALUE) in increasing order --
-- order ids increase with order_date, item ids increase with order id -- and
-- the identity sequences are moved past them afterwards, so Django can still
-- insert rows.  Meant for the empty tables created by shop-schema.sql.

\if :{?rows}
\else
\set rows 1000
\endif

SELECT CAST(:rows AS bigint) AS nitems,
       greatest(1, least(1000, CAST(:rows AS bigint))) AS nproducts,
       greatest(1, CAST(:rows AS bigint) / 3) AS norders,
       greatest(1, CAST(:rows AS bigint) / 6) AS ncustomers
\gset

\echo shop demo data: :nitems order items, :nproducts products, :norders orders

BEGIN;

\echo products...
-- Names like: Mug "Classic", 12 oz / Classic Mug / Classic Mug, 12 oz /
-- Classic Mug (pack of 4) -- so the CSV writer has commas and quotes to escape.
-- Prices 0.50 - 999.99: mostly cheap, some mid-range, a few expensive.
INSERT INTO shop_product (id, name, price)
OVERRIDING SYSTEM VALUE
SELECT g,
       CASE abs(hashint4extended(g, 1) % 4)
         WHEN 0 THEN noun || ' "' || style || '", ' || size
         WHEN 1 THEN style || ' ' || noun
         WHEN 2 THEN style || ' ' || noun || ', ' || size
         ELSE style || ' ' || noun || ' (pack of ' || (2 + abs(hashint4extended(g, 2) % 11)) || ')'
       END,
       CASE
         WHEN abs(hashint4extended(g, 3) % 100) < 70
           THEN 0.50 + abs(hashint4extended(g, 4) % 9950) / 100.0
         WHEN abs(hashint4extended(g, 3) % 100) < 95
           THEN 100.00 + abs(hashint4extended(g, 4) % 40000) / 100.0
         ELSE 500.00 + abs(hashint4extended(g, 4) % 50000) / 100.0
       END
FROM (
  SELECT g,
         (ARRAY['Mug', 'T-Shirt', 'Notebook', 'Backpack', 'Water Bottle',
                'Desk Lamp', 'Headphones', 'Keyboard', 'Mouse Pad', 'Umbrella',
                'Candle', 'Teapot', 'Frying Pan', 'Cutting Board', 'Towel Set',
                'Sneakers', 'Wall Clock', 'Plant Pot', 'Phone Case', 'Blanket'])
           [1 + abs(hashint4extended(g, 5) % 20)] AS noun,
         (ARRAY['Classic', 'Deluxe', 'Eco', 'Vintage', 'Pro', 'Travel',
                'Mini', 'Premium', 'Retro', 'Everyday'])
           [1 + abs(hashint4extended(g, 6) % 10)] AS style,
         (ARRAY['12 oz', 'large', 'small', 'blue', 'black', '1 L',
                '15"', 'XL', 'set of 2', 'red'])
           [1 + abs(hashint4extended(g, 7) % 10)] AS size
  FROM generate_series(1, :nproducts) AS g
) AS s;

\echo orders...
-- order_date spread over the three years before 2024-01-01 00:00:00 UTC,
-- increasing with the order id, with whole-second jitter.
INSERT INTO shop_order (id, order_date, customer_email)
OVERRIDING SYSTEM VALUE
SELECT g,
       timestamptz '2021-01-01 00:00:00+00'
         + floor(((g - 1) + abs(hashint4extended(g, 11) % 1000) / 1000.0)
                 * 94608000 / :norders) * interval '1 second',
       'customer' || (1 + abs(hashint4extended(g, 12) % :ncustomers)) || '@example.com'
FROM generate_series(1, :norders) AS g;

\echo items...
-- Checking 2 foreign keys row by row for a million items takes longer than
-- the insert itself, so the two constraints (Django's names, see
-- shop-schema.sql) are dropped and re-added -- validated by one query each --
-- inside this transaction.
ALTER TABLE shop_orderitem
  DROP CONSTRAINT shop_orderitem_order_id_2f1b00cf_fk_shop_order_id,
  DROP CONSTRAINT shop_orderitem_product_id_48153f22_fk_shop_product_id;

-- Every order gets a weight 1..5; order j owns the item ids
-- floor(W(j-1) * rows / W) + 1 .. floor(W(j) * rows / W), W(j) being the
-- running sum of the weights and W the total: exactly :rows items, numbered
-- in order-id order (an order may end up with no items when rows is small
-- relative to the weights; that is fine).
INSERT INTO shop_orderitem (id, quantity, order_id, product_id)
OVERRIDING SYSTEM VALUE
SELECT c.first_id + k,
       1 + abs(hashint4extended(CAST(c.first_id + k AS int), 21) % 10),
       c.order_id,
       1 + abs(hashint4extended(CAST(c.first_id + k AS int), 22) % :nproducts)
FROM (
  SELECT order_id,
         (run - w) * :nitems / total AS first_id,
         run * :nitems / total - (run - w) * :nitems / total AS n
  FROM (
    SELECT order_id, w,
           CAST(sum(w) OVER (ORDER BY order_id) AS bigint) AS run,
           CAST(sum(w) OVER () AS bigint) AS total
    FROM (
      SELECT g AS order_id, CAST(1 + abs(hashint4extended(g, 20) % 5) AS bigint) AS w
      FROM generate_series(1, :norders) AS g
    ) AS weights
  ) AS sums
) AS c
CROSS JOIN LATERAL generate_series(1, c.n) AS k
ORDER BY c.order_id, k;

\echo foreign keys...
ALTER TABLE shop_orderitem
  ADD CONSTRAINT shop_orderitem_order_id_2f1b00cf_fk_shop_order_id
    FOREIGN KEY (order_id) REFERENCES shop_order (id) DEFERRABLE INITIALLY DEFERRED,
  ADD CONSTRAINT shop_orderitem_product_id_48153f22_fk_shop_product_id
    FOREIGN KEY (product_id) REFERENCES shop_product (id) DEFERRABLE INITIALLY DEFERRED;

\echo sequences...
SELECT setval(pg_get_serial_sequence('shop_product', 'id'),
              coalesce((SELECT max(id) FROM shop_product), 1),
              (SELECT count(*) > 0 FROM shop_product));
SELECT setval(pg_get_serial_sequence('shop_order', 'id'),
              coalesce((SELECT max(id) FROM shop_order), 1),
              (SELECT count(*) > 0 FROM shop_order));
SELECT setval(pg_get_serial_sequence('shop_orderitem', 'id'),
              coalesce((SELECT max(id) FROM shop_orderitem), 1),
              (SELECT count(*) > 0 FROM shop_orderitem));

COMMIT;

\echo ANALYZE...
ANALYZE shop_product;
ANALYZE shop_order;
ANALYZE shop_orderitem;

\echo done.
