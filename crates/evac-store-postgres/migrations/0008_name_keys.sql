-- Name search keys (evac_model::name_search_keys) of every party member's surname and given
-- names: a search finds Токаев, Tokayev and Tokaeva alike through an index, and a search that
-- finds nothing costs a lookup, not a scan of every person.
CREATE TABLE name_keys (
    key        TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (key, request_id)
);
-- Requests stored before this migration are keyed by the store right after it (the keys are
-- computed in Rust); this row says that is still to do.
CREATE TABLE name_keys_backfill (due INTEGER NOT NULL);
INSERT INTO name_keys_backfill SELECT 1 WHERE EXISTS (SELECT 1 FROM requests);
