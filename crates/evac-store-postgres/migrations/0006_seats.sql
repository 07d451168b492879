-- The seat log: published seats, boarding passes, check-in, boarding and no-shows, one row per
-- person and event (evac-model::boarding). The current seat of a person is a fold over it.
CREATE TABLE seat_events (
    seq          BIGSERIAL PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    person_id    TEXT NOT NULL REFERENCES persons (id),
    household    TEXT NOT NULL,
    transport_id TEXT NOT NULL REFERENCES transports (id),
    class        INTEGER NOT NULL,
    pass         TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX seat_events_transport ON seat_events (transport_id, seq);
CREATE INDEX seat_events_person ON seat_events (person_id, seq);
-- A pass is checked in once and boarded once, whichever node the scan reaches.
CREATE UNIQUE INDEX seat_events_check_in_once ON seat_events (pass) WHERE kind = 'checked_in';
CREATE UNIQUE INDEX seat_events_board_once ON seat_events (pass) WHERE kind = 'boarded';

-- The key that signs boarding passes: one row, kept by the first node that needs it, so every
-- node signs alike and a restart keeps passes valid.
CREATE TABLE signing_keys (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    secret     BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
