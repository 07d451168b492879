-- Transports (flights, buses, trains, convoys) as JSON bodies, by departure.
CREATE TABLE transports (
    id         TEXT PRIMARY KEY,
    departs_at INTEGER NOT NULL,
    body       TEXT NOT NULL
) STRICT;
CREATE INDEX transports_departs_at ON transports (departs_at);
