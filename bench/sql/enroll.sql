-- Reference transaction of bench/enroll.py: the least an enrolment asks of the database, without
-- Python in between. The conditional UPDATE of the course's seat counter (it takes the row lock
-- every enrolment of one course queues on), then the INSERT of the enrolment, commit.
--
-- It runs on a second course made for it (:program, 1000 seats), never on the one the load
-- filled: the counter wraps to 0 before it reaches the capacity, so the UPDATE always matches
-- and always takes the lock (as it would while seats are left), and the rows are 'cancelled', so
-- the partial unique constraints on active enrolments never refuse one. The scenario's checks
-- leave this course out. Variables (pgbench -D): program, first_resident, last_resident.
\set rid random(:first_resident, :last_resident)
BEGIN;
UPDATE programs_program
   SET seats_taken = CASE WHEN seats_taken + 1 < capacity THEN seats_taken + 1 ELSE 0 END
 WHERE id = :program AND seats_taken < capacity;
INSERT INTO programs_enrollment
  (program_id, resident_id, dependant_id, party, status, position, requested_at, confirmed_at,
   offer_expires_at, ended_at, ended_by_id, end_reason, price_fen, paid_fen, rating,
   rating_comment, rated_at)
VALUES (:program, :rid, NULL, md5(random()::text), 'cancelled', NULL, now(), now(),
        NULL, now(), NULL, 'pgbench', 0, 0, NULL, '', NULL);
COMMIT;
