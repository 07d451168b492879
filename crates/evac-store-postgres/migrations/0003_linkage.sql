-- The linkage log: merges, review items, decisions and undos between two persons. Append-only:
-- nothing is merged in place, so every merge can be undone.
CREATE TABLE link_events (
    seq               BIGSERIAL PRIMARY KEY,
    at                BIGINT NOT NULL,
    actor             TEXT NOT NULL,
    kind              TEXT NOT NULL,
    person_a          TEXT NOT NULL REFERENCES persons (id),
    person_b          TEXT NOT NULL REFERENCES persons (id),
    match_probability DOUBLE PRECISION NOT NULL,
    explanation       TEXT NOT NULL,
    refers_to         BIGINT REFERENCES link_events (seq)
);
