-- Name keys are written behind intake (see the store's name_keys module): requests with a rowid
-- above this mark have no keys yet; the keyer thread keys them and moves the mark, and a name
-- search computes theirs from their bodies meanwhile. Everything stored so far is keyed.
CREATE TABLE name_keys_through (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    request_rowid INTEGER NOT NULL
) STRICT;
INSERT INTO name_keys_through (id, request_rowid) SELECT 1, COALESCE(MAX(rowid), 0) FROM requests;
