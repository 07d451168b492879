-- The audit trail's hash chain (issue 26, item 5; evac-store `audit_chain` says how links are
-- made): a link per sealed event, in sealing order.
CREATE TABLE audit_chain (
    pos  BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL UNIQUE,
    hash BYTEA NOT NULL
);

-- Sequence numbers commit out of order across transactions, so the sealer must never run while
-- an event is numbered but not committed: an event takes its number under the chain's lock in
-- shared mode, held to its transaction's end, and the sealer takes the lock alone
-- (evac-store-postgres `AUDIT_CHAIN_LOCK`). Writers never wait for each other.
ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT;
CREATE FUNCTION audit_events_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(7311138124547318900); -- 'evacaudt'
    NEW.seq := nextval('audit_events_seq_seq');
    RETURN NEW;
END $$;
CREATE TRIGGER audit_events_number BEFORE INSERT ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_number();

-- Append-only: evac never changes or removes an audit event or a link, so the database refuses
-- to, whatever role asks. (An owner can drop these triggers; the chain is what catches that.)
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_chain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
