-- A household is named by one of its requests (issue 29, item 3: the oldest of them its
-- people's seats were given under, else its oldest; see evac-app's triage::households), so
-- the case minted per request, which nothing read, goes: the cases table, requests.case_id
-- and persons.case_id. Intake writes one B-tree fewer per request.
--
-- persons.case_id refers to cases, so persons is rebuilt as migration 13 rebuilt it (foreign
-- keys off while migrations run: src/lib.rs, migrate_conn).

ALTER TABLE requests DROP COLUMN case_id;

CREATE TABLE persons_new (
    id            TEXT NOT NULL,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    ordinal       INTEGER NOT NULL,
    surname_latin TEXT,
    given_latin   TEXT,
    birth_date    TEXT,
    status        TEXT NOT NULL,
    status_at     INTEGER NOT NULL,
    PRIMARY KEY (request_id, ordinal)
) STRICT, WITHOUT ROWID;
INSERT INTO persons_new (id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at)
    SELECT id, request_id, ordinal, surname_latin, given_latin, birth_date, status, status_at
    FROM persons ORDER BY request_id, ordinal;
DROP TABLE persons;
ALTER TABLE persons_new RENAME TO persons;
CREATE UNIQUE INDEX persons_id ON persons (id);
CREATE INDEX persons_moved ON persons (status, request_id) WHERE status <> 'registered';
CREATE TRIGGER persons_count_status_change AFTER UPDATE OF status ON persons
    WHEN OLD.status <> NEW.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO status_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

DROP TABLE cases;
