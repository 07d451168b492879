-- evac on PostgreSQL, first schema. Mirrors the SQLite schema; timestamps are BIGINT
-- microseconds since the Unix epoch (UTC), ids UUID v7 text.
CREATE TABLE requests (
    id             TEXT PRIMARY KEY,
    reference      TEXT NOT NULL UNIQUE,
    received_at    BIGINT NOT NULL,
    channel        TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    location_latin TEXT NOT NULL,
    country        TEXT,
    place_id       BIGINT,
    has_minors     BOOLEAN NOT NULL,
    party_size     INTEGER NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX requests_received_at ON requests (received_at);
CREATE INDEX requests_channel ON requests (channel, id);

CREATE TABLE cases (
    id         TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);

CREATE TABLE persons (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    case_id       TEXT NOT NULL REFERENCES cases (id),
    ordinal       INTEGER NOT NULL,
    surname_latin TEXT,
    given_latin   TEXT,
    birth_date    TEXT,
    status        TEXT NOT NULL,
    status_at     BIGINT NOT NULL
);
CREATE INDEX persons_request ON persons (request_id, ordinal);
CREATE INDEX persons_status ON persons (status, request_id);
CREATE INDEX persons_case ON persons (case_id);

CREATE TABLE person_events (
    seq         BIGSERIAL PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES persons (id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX person_events_person ON person_events (person_id, seq);

-- The key is claimed first in a transaction (so a concurrent retry on another node waits on it),
-- before the request row exists: hence the deferred foreign key.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    body_sha256 BYTEA NOT NULL,
    request_id  TEXT NOT NULL REFERENCES requests (id) DEFERRABLE INITIALLY DEFERRED,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE api_tokens (
    token_sha256 BYTEA PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    label        TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE audit_events (
    seq     BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT,
    detail  TEXT NOT NULL
);
