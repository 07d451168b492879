-- What reports state about hubs, routes and zones, and the triage policy's versions.
-- A status staff set by hand becomes a confirmed report of theirs with one statement, so
-- the hub_statuses table of 0002 is carried over into reports and statements, then dropped.
ALTER TABLE reports ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reports ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX reports_external_id ON reports (external_id);

CREATE TABLE statements (
    seq              BIGSERIAL PRIMARY KEY,
    report           TEXT NOT NULL REFERENCES reports (id),
    subject          TEXT NOT NULL,
    effect           TEXT NOT NULL,
    from_at          BIGINT NOT NULL,
    until            BIGINT,
    capacity_per_day BIGINT,
    note             TEXT NOT NULL
);
CREATE INDEX statements_subject ON statements (subject, from_at);
CREATE INDEX statements_report ON statements (report);

INSERT INTO reports (id, received_at, source, grade, language, text, state)
SELECT '00000000-0000-7000-8000-' || lpad(to_hex(seq), 12, '0'), from_at, 'crisis centre staff', NULL, NULL, note, 'confirmed'
FROM hub_statuses;
INSERT INTO statements (report, subject, effect, from_at, until, note)
SELECT '00000000-0000-7000-8000-' || lpad(to_hex(seq), 12, '0'), 'hub:' || hub, status, from_at, until, note
FROM hub_statuses;
DROP TABLE hub_statuses;

-- Routes and zones, as JSON bodies keyed by their subject (route:CODE, zone:CODE).
CREATE TABLE features (
    subject TEXT PRIMARY KEY,
    body    TEXT NOT NULL
);

CREATE TABLE triage_policies (
    version    BIGSERIAL PRIMARY KEY,
    toml       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    author     TEXT NOT NULL
);
