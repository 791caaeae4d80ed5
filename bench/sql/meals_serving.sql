-- The reference transaction of `make bench-meals` (bench/meals.py): every row one subsidised
-- counter serving at a canteen terminal writes, without the reads and without Python in between.
-- The request nonce (the signature check), the idempotency record (insert, then its answer), the
-- pass use and its audit event, the meal (a rider's ¥18 set meal: ¥10 paid, ¥5 district, ¥3
-- sub-district), the portion taken (the menu item's row lock, held to the commit), the three
-- ledger entries and the serving's audit event.
--
-- On pgbench's own canteen, menu item and residents (one resident per client), on a day far in the
-- future that moves on with every transaction of a client (:n persists across a client's
-- transactions), so the one-subsidised-meal-a-day index never refuses. The portion counter wraps
-- instead of refusing, so the UPDATE always takes the row lock.
--
-- pgbench variables (-D): device, canteen, item, tier, street, first_resident, base (days), n (0).
\set n :n + 1
\set res :first_resident + :client_id
BEGIN;
INSERT INTO core_requestnonce (scope, nonce, seen_at)
  VALUES ('device:' || :device, md5(random()::text), now());
INSERT INTO core_idempotencyrecord (scope, key, fingerprint, status_code, response, created_at)
  VALUES ('canteen:' || :device, md5(random()::text), md5(random()::text), 0, '{}', now())
  RETURNING id AS record \gset
INSERT INTO people_passuse (nonce, resident_id, used_at, device_id, staff_id, purpose)
  VALUES (md5(random()::text), :res, now(), :device, NULL, 'meals');
INSERT INTO core_auditevent (at, action, actor_kind, actor_id, actor_label, object_type, object_id,
                             result, data, ip, request_id)
  VALUES (now(), 'people.pass.verified', 'device', NULL, 'device:pgbench', 'people.resident', :res::text,
          'ok', '{"purpose": "meals"}', NULL, '');
INSERT INTO meals_meal (canteen_id, item_id, day, resident_id, channel, status, tier_id, "group", list_fen,
                        eater_fen, city_fen, district_fen, street_fen, subsidised, device_id, staff_id,
                        request_key, ordered_at, served_at, closed_at, close_reason, created_at)
  VALUES (:canteen, :item, DATE '2030-01-01' + :base + :n, :res, 'counter', 'served', :tier, 'rider', 1800,
          1000, 0, 500, 300, true, :device, NULL, md5(random()::text), NULL, now(), NULL, '', now())
  RETURNING id AS meal \gset
UPDATE meals_menuitem SET sold = CASE WHEN sold < portions THEN sold + 1 ELSE 0 END WHERE id = :item
  RETURNING sold \gset
INSERT INTO meals_entry (meal_id, canteen_id, operator_id, street_id, day, "group", kind, layer, amount_fen,
                         key, created_at)
  VALUES (:meal, :canteen, NULL, :street, DATE '2030-01-01' + :base + :n, 'rider', 'served', 'eater', 1000,
          'meal:' || :meal || ':eater', now()),
         (:meal, :canteen, NULL, :street, DATE '2030-01-01' + :base + :n, 'rider', 'served', 'district', 500,
          'meal:' || :meal || ':district', now()),
         (:meal, :canteen, NULL, :street, DATE '2030-01-01' + :base + :n, 'rider', 'served', 'street', 300,
          'meal:' || :meal || ':street', now());
INSERT INTO core_auditevent (at, action, actor_kind, actor_id, actor_label, object_type, object_id,
                             result, data, ip, request_id)
  VALUES (now(), 'meals.served', 'device', NULL, 'device:pgbench', 'meals.meal', :meal::text, 'ok',
          '{"eater_fen": 1000, "subsidy_fen": 800}', NULL, '');
UPDATE core_idempotencyrecord SET status_code = 201, response = '{"status": "served"}' WHERE id = :record;
COMMIT;
