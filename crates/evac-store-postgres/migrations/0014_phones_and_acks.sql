-- Phone numbers join names among a request's search keys (`tel` and the digits of the E.164
-- number), the hotline's "already known?": the store keys every stored request again right
-- after this migration (idempotent: keys already there are kept).
INSERT INTO name_keys_backfill SELECT 1 WHERE EXISTS (SELECT 1 FROM requests);

-- Requests whose requester is owed an acknowledgement: written with the request, turned into
-- an outbox message and deleted behind intake, in batches, by any node.
CREATE TABLE acks_due (
    request_id TEXT PRIMARY KEY REFERENCES requests (id)
);
