-- The audit trail's hash chain (issue 26, item 5; evac-store `audit_chain` says how links are
-- made): a link per sealed event, in sealing order.
CREATE TABLE audit_chain (
    pos  INTEGER PRIMARY KEY,
    seq  INTEGER NOT NULL UNIQUE,
    hash BLOB NOT NULL
);

-- Append-only: evac never changes or removes an audit event or a link, so the database refuses
-- to. (Whoever can write the file can drop these triggers; the chain is what catches that.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: an audit event cannot be changed'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: an audit event cannot be deleted'); END;
CREATE TRIGGER audit_chain_no_update BEFORE UPDATE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only: a link cannot be changed'); END;
CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only: a link cannot be deleted'); END;
