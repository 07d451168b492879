-- Feeders chain (issue 28, item 1): a bus to a convoy's gathering point, the convoy to the open
-- airport, then the flight. A person now holds at most one live seat on a transport out, and
-- at most one on a feeder from each hub (two buses from one bus station are still one too
-- many), so two planners still cannot give anyone two ways out.
DROP TRIGGER live_seats_on_seated;
CREATE TRIGGER live_seats_on_seated AFTER INSERT ON seat_events WHEN NEW.kind = 'seated'
BEGIN
    SELECT RAISE(ABORT, 'live_seat_one_per_leg')
    WHERE EXISTS (
        SELECT 1 FROM live_seats l
        JOIN transports held ON held.id = l.transport_id
        JOIN transports wanted ON wanted.id = NEW.transport_id
        WHERE l.person_id = NEW.person_id
          AND (json_extract(held.body, '$.feeds') IS NULL)
              = (json_extract(wanted.body, '$.feeds') IS NULL)
          AND (json_extract(held.body, '$.feeds') IS NULL
               OR json_extract(held.body, '$.hub') = json_extract(wanted.body, '$.hub')));
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
