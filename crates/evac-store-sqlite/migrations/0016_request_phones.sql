-- Whose phone is it: the hotline's "already known?" lookup. Kept by triggers from the request
-- body, so a correction that changes a number changes the index with it, and no write path
-- can forget it.
CREATE TABLE request_phones (
    phone      TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (phone, request_id)
) WITHOUT ROWID;

CREATE TRIGGER request_phones_insert AFTER INSERT ON requests BEGIN
    INSERT OR IGNORE INTO request_phones (phone, request_id)
        SELECT json_extract(ph.value, '$.e164'), NEW.id
        FROM json_each(NEW.body, '$.submitter.phones') AS ph
        UNION
        SELECT json_extract(ph.value, '$.e164'), NEW.id
        FROM json_each(NEW.body, '$.party') AS p, json_each(p.value, '$.phones') AS ph;
END;

CREATE TRIGGER request_phones_update AFTER UPDATE OF body ON requests BEGIN
    DELETE FROM request_phones WHERE request_id = NEW.id;
    INSERT OR IGNORE INTO request_phones (phone, request_id)
        SELECT json_extract(ph.value, '$.e164'), NEW.id
        FROM json_each(NEW.body, '$.submitter.phones') AS ph
        UNION
        SELECT json_extract(ph.value, '$.e164'), NEW.id
        FROM json_each(NEW.body, '$.party') AS p, json_each(p.value, '$.phones') AS ph;
END;

INSERT OR IGNORE INTO request_phones (phone, request_id)
    SELECT json_extract(ph.value, '$.e164'), q.id
    FROM requests AS q, json_each(q.body, '$.submitter.phones') AS ph
    UNION
    SELECT json_extract(ph.value, '$.e164'), q.id
    FROM requests AS q, json_each(q.body, '$.party') AS p, json_each(p.value, '$.phones') AS ph;
