-- Hubs, their status over time, and situation reports.
CREATE TABLE hubs (
    code         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    country      TEXT NOT NULL,
    municipality TEXT,
    lat          DOUBLE PRECISION NOT NULL,
    lon          DOUBLE PRECISION NOT NULL,
    iata         TEXT,
    icao         TEXT
);

CREATE TABLE hub_statuses (
    seq     BIGSERIAL PRIMARY KEY,
    hub     TEXT NOT NULL REFERENCES hubs (code),
    status  TEXT NOT NULL,
    from_at BIGINT NOT NULL,
    until   BIGINT,
    note    TEXT NOT NULL
);
CREATE INDEX hub_statuses_hub ON hub_statuses (hub, from_at);

CREATE TABLE reports (
    id          TEXT PRIMARY KEY,
    received_at BIGINT NOT NULL,
    source      TEXT NOT NULL,
    grade       TEXT,
    language    TEXT,
    text        TEXT NOT NULL,
    state       TEXT NOT NULL
);
CREATE INDEX reports_received_at ON reports (received_at);
