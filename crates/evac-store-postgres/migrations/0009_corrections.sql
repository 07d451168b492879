-- A corrected request may give another location: its count moves with it (into a random
-- shard, as inserts do; the old location loses one in one of its shards).
CREATE FUNCTION evac_recount_request_location() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picked smallint := floor(random() * 16)::smallint;
BEGIN
    IF OLD.location_latin = NEW.location_latin THEN
        RETURN NULL;
    END IF;
    INSERT INTO location_counts (location_latin, shard, n) VALUES (OLD.location_latin, picked, -1)
        ON CONFLICT (location_latin, shard) DO UPDATE SET n = location_counts.n - 1;
    INSERT INTO location_counts (location_latin, shard, n) VALUES (NEW.location_latin, picked, 1)
        ON CONFLICT (location_latin, shard) DO UPDATE SET n = location_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER requests_recount_location AFTER UPDATE OF location_latin ON requests
    FOR EACH ROW EXECUTE FUNCTION evac_recount_request_location();
