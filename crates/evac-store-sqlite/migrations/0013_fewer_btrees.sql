-- Intake writes fewer B-trees per request.
--
-- The writer is intake's one serial stage, and each B-tree a new row goes into costs it a
-- descent, a cell insert and, at commit, a dirty page. A request with three people went into
-- 24 B-trees; now 12:
-- - persons is clustered by its request (WITHOUT ROWID, keyed by request and ordinal: a request's
--   people are read together, in order), with one unique index for lookups by person id (which
--   the foreign keys of person_events, link_events and seat_events also use): 2 B-trees instead
--   of 5 (rowid table, id, request, status, case). No query reads persons by status or case: a
--   list filtered by status probes a request's few people by its key.
-- - cases is keyed by its id alone (WITHOUT ROWID): 1 B-tree instead of 2.
-- - audit_events numbers its rows without AUTOINCREMENT: the same numbers, since audit events are
--   never deleted, without updating sqlite_sequence on every insert.
-- - requests loses its received_at index, which no query uses (ids sort by time, and the
--   dashboard counts per hour in hour_counts).
--
-- Tables are rebuilt as SQLite's ALTER TABLE documentation prescribes: with foreign keys off
-- (the store runs this migration outside any transaction for that: src/lib.rs, migrate_conn),
-- new table, copy, drop, rename, and a foreign key check before the commit.

CREATE TABLE persons_new (
    id            TEXT NOT NULL,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    case_id       TEXT NOT NULL REFERENCES cases (id),
    ordinal       INTEGER NOT NULL,
    surname_latin TEXT,
    given_latin   TEXT,
    birth_date    TEXT,
    status        TEXT NOT NULL,
    status_at     INTEGER NOT NULL,
    PRIMARY KEY (request_id, ordinal)
) STRICT, WITHOUT ROWID;
INSERT INTO persons_new (id, request_id, case_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
    SELECT id, request_id, case_id, ordinal, surname_latin, given_latin, birth_date, status, status_at
    FROM persons ORDER BY request_id, ordinal;
DROP TABLE persons;
ALTER TABLE persons_new RENAME TO persons;
CREATE UNIQUE INDEX persons_id ON persons (id);
-- Status changes are counted by the triggers of 0007, dropped with the old table.
CREATE TRIGGER persons_count_status_change AFTER UPDATE OF status ON persons
    WHEN OLD.status <> NEW.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO status_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

CREATE TABLE cases_new (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO cases_new (id, created_at) SELECT id, created_at FROM cases ORDER BY id;
DROP TABLE cases;
ALTER TABLE cases_new RENAME TO cases;

CREATE TABLE audit_events_new (
    seq     INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT NOT NULL
) STRICT;
INSERT INTO audit_events_new (seq, at, actor, action, subject, detail)
    SELECT seq, at, actor, action, subject, detail FROM audit_events ORDER BY seq;
DROP TABLE audit_events;
ALTER TABLE audit_events_new RENAME TO audit_events;
DELETE FROM sqlite_sequence WHERE name = 'audit_events';

DROP INDEX requests_received_at;
