-- Messenger chats a person linked to their phone number by sharing it with evac's bot (the
-- messenger vouches the number is theirs): notices for that number go to the chat, and what
-- the chat writes is read as from that number.
CREATE TABLE messenger_chats (
    channel   TEXT NOT NULL,
    chat      TEXT NOT NULL,
    phone     TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (channel, chat)
) WITHOUT ROWID;
CREATE INDEX messenger_chats_phone ON messenger_chats (phone, channel);

-- The hotline's call log: every call to or from a request's people, with its outcome.
CREATE TABLE calls (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    direction   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    phone       TEXT,
    operator    TEXT NOT NULL,
    note        TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX calls_request ON calls (request_id, at);

-- Who to call back, one row per request: due when, why, after how many tries, and which
-- operator holds it now (until when), so two operators never dial the same family.
CREATE TABLE callbacks (
    request_id    TEXT PRIMARY KEY REFERENCES requests (id),
    due_at        INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_by    TEXT,
    claimed_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX callbacks_due ON callbacks (due_at);
