-- Feeders chain (issue 28, item 1): a bus to a convoy's gathering point, the convoy to the open
-- airport, then the flight. A person now holds at most one live seat on a transport out, and
-- at most one on a feeder from each hub (two buses from one bus station are still one too
-- many), so two planners still cannot give anyone two ways out.
CREATE OR REPLACE FUNCTION live_seats_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    detail TEXT := NEW.person_id || ' ' || NEW.transport_id || ' ' || NEW.pass;
BEGIN
    -- The seat log's lock (held already by the store's own appends; reentrant): whoever
    -- writes seat events, the counts below cannot race another transaction's.
    PERFORM pg_advisory_xact_lock(7311138124848259444); -- 'evacseat'
    IF NEW.kind = 'seated' THEN
        IF EXISTS (
            SELECT 1 FROM live_seats l
            JOIN transports held ON held.id = l.transport_id
            JOIN transports wanted ON wanted.id = NEW.transport_id
            WHERE l.person_id = NEW.person_id
              AND (held.body::jsonb -> 'feeds' IS NULL)
                  = (wanted.body::jsonb -> 'feeds' IS NULL)
              AND (held.body::jsonb -> 'feeds' IS NULL
                   OR held.body::jsonb ->> 'hub' = wanted.body::jsonb ->> 'hub')) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_one_per_leg', MESSAGE = 'live_seat_one_per_leg',
                DETAIL = detail;
        END IF;
        IF (SELECT count(*) FROM live_seats WHERE transport_id = NEW.transport_id)
           >= (SELECT (body::jsonb ->> 'seats')::bigint FROM transports
               WHERE id = NEW.transport_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_within_seats', MESSAGE = 'live_seat_within_seats',
                DETAIL = detail;
        END IF;
        IF NEW.seat_number IS NOT NULL AND EXISTS (
            SELECT 1 FROM live_seats
            WHERE transport_id = NEW.transport_id AND seat_number = NEW.seat_number) THEN
            RAISE EXCEPTION USING ERRCODE = 'check_violation',
                CONSTRAINT = 'live_seat_number_once', MESSAGE = 'live_seat_number_once',
                DETAIL = detail;
        END IF;
        INSERT INTO live_seats (person_id, transport_id, pass, state, seat_number)
        VALUES (NEW.person_id, NEW.transport_id, NEW.pass, 'seated', NEW.seat_number);
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
