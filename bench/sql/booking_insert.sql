-- Reference transaction of bench/booking.py: what booking_create asks of the database for one
-- seat booking, without Python in between. Lock the resident's row, count their active
-- bookings in the space that day (max_per_day), look for an overlapping booking of the seat or
-- of the whole room, insert the booking (the exclusion constraints are checked here) and its
-- audit event, commit.
--
-- The rows land on random 2-hour windows far in the future (from the year 2100) so that
-- transactions never refuse each other; their purpose is 'pgbench' so the scenario can tell them
-- apart. Variables (pgbench -D): space, first_seat, last_seat, first_resident, last_resident.
\set seat random(:first_seat, :last_seat)
\set rid random(:first_resident, :last_resident)
\set n random(1, 1000000000)
BEGIN;
SELECT id FROM people_resident WHERE id = :rid FOR UPDATE;
SELECT count(*) FROM booking_booking
 WHERE resident_id = :rid AND space_id = :space
   AND status IN ('pending', 'confirmed', 'checked_in')
   AND starts_at >= timestamptz '2100-01-01 00:00+08' + (:n / 12) * interval '1 day'
   AND starts_at < timestamptz '2100-01-01 00:00+08' + (:n / 12 + 1) * interval '1 day';
SELECT 1 FROM booking_booking
 WHERE space_id = :space
   AND starts_at < timestamptz '2100-01-01 00:00+08' + (:n + 1) * interval '2 hours'
   AND ends_at > timestamptz '2100-01-01 00:00+08' + :n * interval '2 hours'
   AND status IN ('pending', 'confirmed', 'checked_in')
   AND (resource_id = :seat OR whole_space)
 LIMIT 1;
WITH b AS (
  INSERT INTO booking_booking
    (resource_id, space_id, whole_space, kind, status, starts_at, ends_at, resident_id, purpose,
     booked_by_id, created_at, checkin_closes_at, checked_in_via, decision_reason, cancel_reason)
  SELECT :seat, :space, false, 'resident', 'confirmed',
         timestamptz '2100-01-01 00:00+08' + :n * interval '2 hours',
         timestamptz '2100-01-01 00:00+08' + (:n + 1) * interval '2 hours',
         r.id, 'pgbench', r.user_id, now(),
         timestamptz '2100-01-01 00:15+08' + :n * interval '2 hours', '', '', ''
    FROM people_resident r WHERE r.id = :rid
  RETURNING id, booked_by_id
)
INSERT INTO core_auditevent
  (at, action, actor_kind, actor_id, actor_label, object_type, object_id, result, data, ip, request_id)
SELECT now(), 'booking.booking.created', 'user', b.booked_by_id, 'resident:' || b.booked_by_id,
       'booking.booking', b.id::text, 'ok', '{"resource": 0, "status": "confirmed"}', NULL, ''
  FROM b;
COMMIT;
