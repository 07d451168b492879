-- Journeys of legs (issue 28, item 1): a household may travel on a feeder (a convoy from Almaty
-- to Nur-Sultan's open airport) and then on a transport out, planned as one journey, so a
-- person holds a live seat per leg. The live seats are keyed by person and transport; a person
-- holds at most one seat on a feeder and one on a transport that takes people out (whether a
-- transport feeds another is `feeds` in its body), so two planners still cannot give anyone
-- two ways out. Releases and scans act on the event's own pass, not on every seat of the
-- person.
CREATE TABLE live_seats_by_leg (
    person_id    TEXT NOT NULL REFERENCES persons (id),
    transport_id TEXT NOT NULL REFERENCES transports (id),
    pass         TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL,
    seat_number  INTEGER,
    PRIMARY KEY (person_id, transport_id)
) STRICT, WITHOUT ROWID;
INSERT INTO live_seats_by_leg (person_id, transport_id, pass, state, seat_number)
SELECT person_id, transport_id, pass, state, seat_number FROM live_seats;
DROP TRIGGER live_seats_on_seated;
DROP TRIGGER live_seats_on_release;
DROP TRIGGER live_seats_on_scan;
DROP TABLE live_seats;
ALTER TABLE live_seats_by_leg RENAME TO live_seats;
CREATE INDEX live_seats_transport ON live_seats (transport_id);
CREATE UNIQUE INDEX live_seats_number ON live_seats (transport_id, seat_number)
    WHERE seat_number IS NOT NULL;

CREATE TRIGGER live_seats_on_seated AFTER INSERT ON seat_events WHEN NEW.kind = 'seated'
BEGIN
    SELECT RAISE(ABORT, 'live_seat_one_per_leg')
    WHERE EXISTS (
        SELECT 1 FROM live_seats l
        JOIN transports held ON held.id = l.transport_id
        JOIN transports wanted ON wanted.id = NEW.transport_id
        WHERE l.person_id = NEW.person_id
          AND (json_extract(held.body, '$.feeds') IS NULL)
              = (json_extract(wanted.body, '$.feeds') IS NULL));
    SELECT RAISE(ABORT, 'live_seat_within_seats')
    FROM transports t
    WHERE t.id = NEW.transport_id
      AND (SELECT count(*) FROM live_seats l WHERE l.transport_id = NEW.transport_id)
          >= json_extract(t.body, '$.seats');
    SELECT RAISE(ABORT, 'live_seat_number_once')
    WHERE NEW.seat_number IS NOT NULL
      AND EXISTS (SELECT 1 FROM live_seats
                  WHERE transport_id = NEW.transport_id AND seat_number = NEW.seat_number);
    INSERT INTO live_seats (person_id, transport_id, pass, state, seat_number)
    VALUES (NEW.person_id, NEW.transport_id, NEW.pass, 'seated', NEW.seat_number);
END;

-- A seat is given up by a re-plan or staff while seated or checked in (never once boarded),
-- and marked a no-show only while seated.
CREATE TRIGGER live_seats_on_release AFTER INSERT ON seat_events
WHEN NEW.kind IN ('unseated', 'no_show')
BEGIN
    SELECT RAISE(ABORT, 'live_seat_is_this_pass')
    WHERE NOT EXISTS (SELECT 1 FROM live_seats
                      WHERE person_id = NEW.person_id AND pass = NEW.pass
                        AND (state = 'seated'
                             OR (NEW.kind = 'unseated' AND state = 'checked_in')));
    DELETE FROM live_seats WHERE pass = NEW.pass;
END;

CREATE TRIGGER live_seats_on_scan AFTER INSERT ON seat_events
WHEN NEW.kind IN ('checked_in', 'boarded')
BEGIN
    SELECT RAISE(ABORT, 'live_seat_is_this_pass')
    WHERE NOT EXISTS (SELECT 1 FROM live_seats
                      WHERE person_id = NEW.person_id AND pass = NEW.pass
                        AND state = CASE NEW.kind WHEN 'checked_in' THEN 'seated'
                                                  ELSE 'checked_in' END);
    UPDATE live_seats SET state = NEW.kind WHERE pass = NEW.pass;
END;
