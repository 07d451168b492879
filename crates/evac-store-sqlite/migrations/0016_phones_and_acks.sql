-- Phone numbers join names among a request's search keys (`tel` and the digits of the E.164
-- number), the hotline's "already known?": every stored request is keyed again behind intake,
-- its phones with its names (searches read the bodies of requests not keyed yet meanwhile).
INSERT INTO name_keys_backfill SELECT 1 WHERE EXISTS (SELECT 1 FROM requests);

-- Requests whose requester is owed an acknowledgement: one row written with the request (one
-- small B-tree on intake's writer), turned into an outbox message and deleted behind intake,
-- in batches, by any node.
CREATE TABLE acks_due (
    request_id TEXT PRIMARY KEY REFERENCES requests (id)
) WITHOUT ROWID;
