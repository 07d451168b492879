-- The store itself refuses what a fold of the logs would silently hide (issue 24, item 0).
--
-- Two planners publishing at once both read the seat log, planned and appended: people ended
-- with two live seats and a transport with twice its seats, because the fold simply let the
-- later event win. Now:
-- - live_seats is the seat log's fold kept beside it by triggers, one row per person who holds
--   a seat. A `seated` event for a person who already holds one, or one that would put more
--   people on a transport than it has seats, is refused; so is a release or scan of a pass that
--   is not the person's live one (a check-in racing a re-plan that just moved the person).
-- - the link log holds each pair the linker proposed (auto-merge or review) once, so two
--   relinks running together (two nodes starting) add each pair once, and undoing a merge
--   cannot leave a second copy of it merging; an event is undone at most once.
-- The app appends to both logs only when nothing was appended since the fold it decided from
-- (an expected head, checked by the one writer).

CREATE TABLE live_seats (
    person_id    TEXT PRIMARY KEY REFERENCES persons (id),
    transport_id TEXT NOT NULL REFERENCES transports (id),
    pass         TEXT NOT NULL,
    state        TEXT NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX live_seats_transport ON live_seats (transport_id);

-- The fold of the log so far: a person's last `seated` pass, unless released since; its state is
-- its last scan.
INSERT INTO live_seats (person_id, transport_id, pass, state)
SELECT s.person_id, s.transport_id, s.pass,
       COALESCE((SELECT x.kind FROM seat_events x
                 WHERE x.person_id = s.person_id AND x.pass = s.pass
                   AND x.kind IN ('checked_in', 'boarded')
                 ORDER BY x.seq DESC LIMIT 1), 'seated')
FROM seat_events s
WHERE s.kind = 'seated'
  AND s.seq = (SELECT max(y.seq) FROM seat_events y
               WHERE y.person_id = s.person_id AND y.kind = 'seated')
  AND NOT EXISTS (SELECT 1 FROM seat_events u
                  WHERE u.person_id = s.person_id AND u.pass = s.pass
                    AND u.kind IN ('unseated', 'no_show'));

-- RAISE takes a fixed text: the constraint's name, which the store turns into words with the
-- event's person, transport and pass (evac-store `live_seat_refusal`).
CREATE TRIGGER live_seats_on_seated AFTER INSERT ON seat_events WHEN NEW.kind = 'seated'
BEGIN
    SELECT RAISE(ABORT, 'live_seat_one_per_person')
    WHERE EXISTS (SELECT 1 FROM live_seats WHERE person_id = NEW.person_id);
    SELECT RAISE(ABORT, 'live_seat_within_seats')
    FROM transports t
    WHERE t.id = NEW.transport_id
      AND (SELECT count(*) FROM live_seats l WHERE l.transport_id = NEW.transport_id)
          >= json_extract(t.body, '$.seats');
    INSERT INTO live_seats (person_id, transport_id, pass, state)
    VALUES (NEW.person_id, NEW.transport_id, NEW.pass, 'seated');
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
    DELETE FROM live_seats WHERE person_id = NEW.person_id;
END;

CREATE TRIGGER live_seats_on_scan AFTER INSERT ON seat_events
WHEN NEW.kind IN ('checked_in', 'boarded')
BEGIN
    SELECT RAISE(ABORT, 'live_seat_is_this_pass')
    WHERE NOT EXISTS (SELECT 1 FROM live_seats
                      WHERE person_id = NEW.person_id AND pass = NEW.pass
                        AND state = CASE NEW.kind WHEN 'checked_in' THEN 'seated'
                                                  ELSE 'checked_in' END);
    UPDATE live_seats SET state = NEW.kind WHERE person_id = NEW.person_id;
END;

-- A pair's events, for the pair's head that a decision is checked against.
CREATE INDEX link_events_pair
    ON link_events (min(person_a, person_b), max(person_a, person_b), seq);

-- Link proposals once per pair. Copies written by relinks that ran together are removed; a
-- decision or undo that referred to a removed copy now refers to the copy kept.
CREATE TEMP TABLE link_copies AS
SELECT e.seq AS copy_seq,
       -- The first auto-merge of the pair if there is one (a copy that only queued it for
       -- review must not undo a merge), else the first proposal.
       (SELECT k.seq FROM link_events k
        WHERE k.kind IN ('auto_merge', 'review')
          AND min(k.person_a, k.person_b) = min(e.person_a, e.person_b)
          AND max(k.person_a, k.person_b) = max(e.person_a, e.person_b)
        ORDER BY k.kind = 'auto_merge' DESC, k.seq LIMIT 1) AS kept_seq
FROM link_events e
WHERE e.kind IN ('auto_merge', 'review');
DELETE FROM temp.link_copies WHERE copy_seq = kept_seq;
UPDATE link_events SET refers_to = (SELECT kept_seq FROM temp.link_copies WHERE copy_seq = refers_to)
WHERE refers_to IN (SELECT copy_seq FROM temp.link_copies);
DELETE FROM link_events WHERE seq IN (SELECT copy_seq FROM temp.link_copies);
DROP TABLE temp.link_copies;
-- Undos of one event beyond the first are copies too (nothing refers to an undo).
DELETE FROM link_events
WHERE kind = 'undo'
  AND seq > (SELECT min(u.seq) FROM link_events u
             WHERE u.kind = 'undo' AND u.refers_to = link_events.refers_to);

CREATE UNIQUE INDEX link_events_proposed_once
    ON link_events (min(person_a, person_b), max(person_a, person_b))
    WHERE kind IN ('auto_merge', 'review');
CREATE UNIQUE INDEX link_events_undone_once ON link_events (refers_to) WHERE kind = 'undo';
