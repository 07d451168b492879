-- evac on SQLite, first schema. Timestamps are INTEGER microseconds since the Unix epoch (UTC);
-- ids are UUID v7 text, which sorts by creation time.
PRAGMA application_id = 1702257251; -- 'evac' in ASCII: marks the file as an evac database

CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,   -- compact form, no hyphens
    received_at    INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    location_latin TEXT NOT NULL,          -- ICAO Latin of the location text, for place filters
    country        TEXT,
    place_id       INTEGER,
    has_minors     INTEGER NOT NULL CHECK (has_minors IN (0, 1)),
    party_size     INTEGER NOT NULL,
    body           TEXT NOT NULL           -- the validated request as JSON
) STRICT;
CREATE INDEX requests_received_at ON requests (received_at);
CREATE INDEX requests_channel ON requests (channel, id);

CREATE TABLE cases (
    id         TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE persons (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    case_id       TEXT NOT NULL REFERENCES cases (id),
    ordinal       INTEGER NOT NULL,
    surname_latin TEXT,
    given_latin   TEXT,
    birth_date    TEXT,
    status        TEXT NOT NULL,
    status_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX persons_request ON persons (request_id, ordinal);
CREATE INDEX persons_status ON persons (status, request_id);
CREATE INDEX persons_case ON persons (case_id);

-- Changes of a person's status after registration (registration itself is the persons row).
CREATE TABLE person_events (
    seq         INTEGER PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons (id),
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL
) STRICT;
CREATE INDEX person_events_person ON person_events (person_id, seq);

CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    body_sha256 BLOB NOT NULL,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE api_tokens (
    token_sha256 BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT NOT NULL
) STRICT;
