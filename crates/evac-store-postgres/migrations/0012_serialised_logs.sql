-- The store itself refuses what a fold of the logs would silently hide (issue 24, item 0); the
-- same rules as SQLite's migration 0014, which says why.
--
-- Every append to the seat log and the link log takes that log's advisory lock for its
-- transaction (evac-store-postgres `lock_log`), so appends are serial across nodes: the head
-- an append expects is checked under the lock, and sequence numbers commit in order (a reader
-- paging by `seq > last` never skips a row that committed late).

CREATE TABLE live_seats (
    person_id    TEXT PRIMARY KEY REFERENCES persons (id),
    transport_id TEXT NOT NULL REFERENCES transports (id),
    pass         TEXT NOT NULL,
    state        TEXT NOT NULL
);
CREATE INDEX live_seats_transport ON live_seats (transport_id);

INSERT INTO live_seats (person_id, transport_id, pass, state)
SELECT DISTINCT ON (s.person_id) s.person_id, s.transport_id, s.pass,
       COALESCE((SELECT x.kind FROM seat_events x
                 WHERE x.person_id = s.person_id AND x.pass = s.pass
                   AND x.kind IN ('checked_in', 'boarded')
                 ORDER BY x.seq DESC LIMIT 1), 'seated')
FROM seat_events s
WHERE s.kind = 'seated'
  AND NOT EXISTS (SELECT 1 FROM seat_events u
                  WHERE u.person_id = s.person_id AND u.pass = s.pass
                    AND u.kind IN ('unseated', 'no_show'))
  AND s.seq = (SELECT max(y.seq) FROM seat_events y
               WHERE y.person_id = s.person_id AND y.kind = 'seated')
ORDER BY s.person_id, s.seq DESC;

-- A refusal is a check violation named after its rule, with the event's person, transport and
-- pass as its detail, which the store turns into words (evac-store `live_seat_refusal`).
CREATE FUNCTION live_seats_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    detail TEXT := NEW.person_id || ' ' || NEW.transport_id || ' ' || NEW.pass;
BEGIN
    -- The seat log's lock (held already by the store's own appends; reentrant): whoever
    -- writes seat events, the counts below cannot race another transaction's.
    PERFORM pg_advisory_xact_lock(7311138124848259444); -- 'evacseat'
    IF NEW.kind = 'seated' THEN
        IF EXISTS (SELECT 1 FROM live_seats WHERE person_id = NEW.person_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_one_per_person', MESSAGE = 'live_seat_one_per_person',
                DETAIL = detail;
        END IF;
        IF (SELECT count(*) FROM live_seats WHERE transport_id = NEW.transport_id)
           >= (SELECT (body::jsonb ->> 'seats')::bigint FROM transports
               WHERE id = NEW.transport_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_within_seats', MESSAGE = 'live_seat_within_seats',
                DETAIL = detail;
        END IF;
        INSERT INTO live_seats (person_id, transport_id, pass, state)
        VALUES (NEW.person_id, NEW.transport_id, NEW.pass, 'seated');
    ELSIF NEW.kind IN ('unseated', 'no_show') THEN
        -- Given up while seated or checked in (never once boarded); a no-show only while
        -- seated.
        DELETE FROM live_seats
        WHERE person_id = NEW.person_id AND pass = NEW.pass
          AND (state = 'seated' OR (NEW.kind = 'unseated' AND state = 'checked_in'));
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_is_this_pass', MESSAGE = 'live_seat_is_this_pass',
                DETAIL = detail;
        END IF;
    ELSIF NEW.kind IN ('checked_in', 'boarded') THEN
        UPDATE live_seats SET state = NEW.kind
        WHERE person_id = NEW.person_id AND pass = NEW.pass
          AND state = CASE NEW.kind WHEN 'checked_in' THEN 'seated' ELSE 'checked_in' END;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_is_this_pass', MESSAGE = 'live_seat_is_this_pass',
                DETAIL = detail;
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER live_seats_follow AFTER INSERT ON seat_events
    FOR EACH ROW EXECUTE FUNCTION live_seats_follow();

CREATE INDEX link_events_pair
    ON link_events (LEAST(person_a, person_b), GREATEST(person_a, person_b), seq);

-- Link proposals once per pair: copies written by relinks that ran together are removed, and a
-- decision or undo that referred to a copy refers to the first.
CREATE TEMP TABLE link_copies AS
SELECT e.seq AS copy_seq,
       -- The first auto-merge of the pair if there is one, else the first proposal.
       first_value(e.seq) OVER (PARTITION BY LEAST(e.person_a, e.person_b),
                                             GREATEST(e.person_a, e.person_b)
                                ORDER BY (e.kind = 'auto_merge') DESC, e.seq) AS kept_seq
FROM link_events e
WHERE e.kind IN ('auto_merge', 'review');
DELETE FROM link_copies WHERE copy_seq = kept_seq;
UPDATE link_events l SET refers_to = c.kept_seq FROM link_copies c WHERE l.refers_to = c.copy_seq;
DELETE FROM link_events WHERE seq IN (SELECT copy_seq FROM link_copies);
DROP TABLE link_copies;
DELETE FROM link_events l
WHERE l.kind = 'undo'
  AND l.seq > (SELECT min(u.seq) FROM link_events u
               WHERE u.kind = 'undo' AND u.refers_to = l.refers_to);

CREATE UNIQUE INDEX link_events_proposed_once
    ON link_events (LEAST(person_a, person_b), GREATEST(person_a, person_b))
    WHERE kind IN ('auto_merge', 'review');
CREATE UNIQUE INDEX link_events_undone_once ON link_events (refers_to) WHERE kind = 'undo';
