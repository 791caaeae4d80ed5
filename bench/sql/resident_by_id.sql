-- Reference transaction of bench/http_smoke.py: one resident read by primary key.
-- Variables (pgbench -D): min_id, max_id (the residents' id range).
\set rid random(:min_id, :max_id)
SELECT id, user_id, real_name, id_number, birth_date, sex, home_community_id
  FROM people_resident
 WHERE id = :rid;
