-- Matching on arrival reads the store (issue 29, item 4): each linked person's blocking keys
-- are kept, so the linker finds the people who share a key of a new person's with an indexed
-- read instead of holding every person in memory, and a restarted server matches at once
-- instead of relinking the whole store first.
--
-- link_people numbers each keyed person (a key's row holds the number, not two UUIDs; never
-- reused, so a key written for a person forgotten meanwhile never names another) and keeps
-- its keys (8 bytes each, little-endian), so erasing a request's contacts can delete exactly
-- its keys. link_keys is one B-tree ordered by key. link_model holds what the last relink learnt
-- and a fingerprint of how the keys were made: keys made by another release are made again.
CREATE TABLE link_people (
    num        INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id  TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,
    keys       BLOB NOT NULL
);
CREATE INDEX link_people_request ON link_people (request_id);

CREATE TABLE link_keys (
    key INTEGER NOT NULL,
    num INTEGER NOT NULL,
    PRIMARY KEY (key, num)
) WITHOUT ROWID;

CREATE TABLE link_model (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    model            TEXT NOT NULL,
    keys_fingerprint INTEGER NOT NULL,
    persons          INTEGER NOT NULL,
    saved_at_us      INTEGER NOT NULL
);
