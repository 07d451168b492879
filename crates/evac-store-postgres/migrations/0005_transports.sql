-- Transports (flights, buses, trains, convoys) as JSON bodies, by departure.
CREATE TABLE transports (
    id         TEXT PRIMARY KEY,
    departs_at BIGINT NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX transports_departs_at ON transports (departs_at);
