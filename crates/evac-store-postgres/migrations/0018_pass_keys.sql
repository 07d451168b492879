-- Boarding-pass keys leave the database (issue 26, item 4): the secrets live in a key file
-- (0600) on each node, and the database keeps only their public halves, so every node can tell
-- a key file that lacks a key the others sign with. The old secret in `signing_keys` is moved
-- into the key file by the first node that starts, then deleted here.
CREATE TABLE pass_public_keys (
    public_key TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
