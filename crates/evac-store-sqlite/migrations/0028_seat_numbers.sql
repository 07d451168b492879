-- Seat numbers (issue 28, item 7): a `seated` event carries the seat's number on its transport,
-- printed on the pass and the manifest, and every later event of the seat keeps it. The live
-- seats hold the number too, and the store refuses a second live seat with a number its
-- transport has given already, whichever writer appends it. Seats given before this migration
-- have no number.
ALTER TABLE seat_events ADD COLUMN seat_number INTEGER;
ALTER TABLE live_seats ADD COLUMN seat_number INTEGER;
CREATE UNIQUE INDEX live_seats_number ON live_seats (transport_id, seat_number)
    WHERE seat_number IS NOT NULL;

DROP TRIGGER live_seats_on_seated;
CREATE TRIGGER live_seats_on_seated AFTER INSERT ON seat_events WHEN NEW.kind = 'seated'
BEGIN
    SELECT RAISE(ABORT, 'live_seat_one_per_person')
    WHERE EXISTS (SELECT 1 FROM live_seats WHERE person_id = NEW.person_id);
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
