-- A household present at a hub before it holds a seat there (issue 28, item 5): a field
-- officer saw its people at the airport, by the reference of one of its requests; standby
-- calls such households first.
CREATE TABLE presences (
    request_id TEXT NOT NULL REFERENCES requests (id),
    hub        TEXT NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT NOT NULL
) STRICT;
CREATE INDEX presences_hub_at ON presences (hub, at);
