-- The outbox and the inbox (issue 25): every message to a requester is a row before any channel
-- sees it, every message from one is a row before anything reads it (evac-store outbox.rs).

CREATE TABLE outbox (
    id            TEXT PRIMARY KEY,
    -- One message per key, ever: a second publication or a retry queues nothing new.
    dedup_key     TEXT NOT NULL UNIQUE,
    request_id    TEXT REFERENCES requests (id),
    -- The people it tells, as a JSON array of person ids.
    persons       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    language      TEXT NOT NULL,
    template      TEXT NOT NULL,
    body          TEXT NOT NULL,
    parts         INTEGER NOT NULL,
    priority      INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL,
    next_at       INTEGER NOT NULL,
    claimed_by    TEXT,
    claimed_until INTEGER,
    provider_id   TEXT,
    last_error    TEXT,
    sent_at       INTEGER,
    done_at       INTEGER
) STRICT;
-- What a sender claims: due messages of its channel, highest priority first.
CREATE INDEX outbox_due ON outbox (channel, state, priority, next_at);
CREATE INDEX outbox_request ON outbox (request_id);
-- A reply from a phone is matched to the latest message evac sent it.
CREATE INDEX outbox_recipient ON outbox (recipient, created_at);

-- Every attempt, delivery report and its outcome, for the desk's "why did it fail".
CREATE TABLE outbox_attempts (
    message_id  TEXT NOT NULL REFERENCES outbox (id),
    at          INTEGER NOT NULL,
    node        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    provider_id TEXT,
    error       TEXT
) STRICT;
CREATE INDEX outbox_attempts_message ON outbox_attempts (message_id, at);

CREATE TABLE inbox (
    id          TEXT PRIMARY KEY,
    channel     TEXT NOT NULL,
    provider_id TEXT,
    sender      TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    text        TEXT NOT NULL,
    request_id  TEXT REFERENCES requests (id),
    understood  TEXT NOT NULL,
    state       TEXT NOT NULL,
    handled_by  TEXT,
    handled_at  INTEGER,
    -- A channel that says the same message twice (a retried callback) is stored once.
    UNIQUE (channel, provider_id)
) STRICT;
CREATE INDEX inbox_state ON inbox (state, received_at);
CREATE INDEX inbox_request ON inbox (request_id, received_at);
