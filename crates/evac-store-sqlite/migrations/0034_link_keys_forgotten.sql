-- Keys made from a request before a correction replaced its body are never kept (issue 29):
-- forgetting a request's keys (a correction, an erasure) moves the generation `link_keys` on
-- and notes the request here at its new value. A keyer (the online linker, a relink) reads the
-- generation before it reads the requests it keys; the store leaves out what it offers for a
-- request noted after that, and the request stays due to be keyed as it reads now.
CREATE TABLE link_keys_forgotten (
    request_id TEXT PRIMARY KEY,
    generation BIGINT NOT NULL
);
CREATE INDEX link_keys_forgotten_generation ON link_keys_forgotten (generation);
INSERT INTO generations (name, value) VALUES ('link_keys', 0) ON CONFLICT (name) DO NOTHING;
