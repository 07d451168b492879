-- Hubs, their status over time, and situation reports.
CREATE TABLE hubs (
    code         TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    country      TEXT NOT NULL,
    municipality TEXT,
    lat          REAL NOT NULL,
    lon          REAL NOT NULL,
    iata         TEXT,
    icao         TEXT
) STRICT;

CREATE TABLE hub_statuses (
    seq     INTEGER PRIMARY KEY,
    hub     TEXT NOT NULL REFERENCES hubs (code),
    status  TEXT NOT NULL,
    from_at INTEGER NOT NULL,
    until   INTEGER,
    note    TEXT NOT NULL
) STRICT;
CREATE INDEX hub_statuses_hub ON hub_statuses (hub, from_at);

CREATE TABLE reports (
    id          TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    source      TEXT NOT NULL,
    grade       TEXT,
    language    TEXT,
    text        TEXT NOT NULL,
    state       TEXT NOT NULL
) STRICT;
CREATE INDEX reports_received_at ON reports (received_at);
