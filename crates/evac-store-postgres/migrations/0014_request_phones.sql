-- Whose phone is it: the hotline's "already known?" lookup. Kept by a trigger from the request
-- body, so a correction that changes a number changes the index with it, and no write path
-- can forget it.
CREATE TABLE request_phones (
    phone      TEXT NOT NULL,
    request_id TEXT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (phone, request_id)
);

CREATE FUNCTION request_phones_of(body TEXT) RETURNS SETOF TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT ph ->> 'e164' FROM jsonb_array_elements(COALESCE(body::jsonb -> 'submitter' -> 'phones', '[]')) AS ph
    UNION
    SELECT ph ->> 'e164'
    FROM jsonb_array_elements(COALESCE(body::jsonb -> 'party', '[]')) AS p,
         jsonb_array_elements(COALESCE(p -> 'phones', '[]')) AS ph
$$;

CREATE FUNCTION request_phones_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.body IS NOT DISTINCT FROM OLD.body THEN
            RETURN NEW;
        END IF;
        DELETE FROM request_phones WHERE request_id = NEW.id;
    END IF;
    INSERT INTO request_phones (phone, request_id)
        SELECT phone, NEW.id FROM request_phones_of(NEW.body) AS phone WHERE phone IS NOT NULL
        ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$;

CREATE TRIGGER request_phones_keep AFTER INSERT OR UPDATE OF body ON requests
    FOR EACH ROW EXECUTE FUNCTION request_phones_keep();

INSERT INTO request_phones (phone, request_id)
    SELECT phone, q.id FROM requests AS q, request_phones_of(q.body) AS phone
    WHERE phone IS NOT NULL
    ON CONFLICT DO NOTHING;
