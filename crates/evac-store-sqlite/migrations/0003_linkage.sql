-- The linkage log: merges, review items, decisions and undos between two persons. Append-only:
-- nothing is merged in place, so every merge can be undone.
CREATE TABLE link_events (
    seq               INTEGER PRIMARY KEY,
    at                INTEGER NOT NULL,
    actor             TEXT NOT NULL,
    kind              TEXT NOT NULL,
    person_a          TEXT NOT NULL REFERENCES persons (id),
    person_b          TEXT NOT NULL REFERENCES persons (id),
    match_probability REAL NOT NULL,
    explanation       TEXT NOT NULL,
    refers_to         INTEGER REFERENCES link_events (seq)
) STRICT;
