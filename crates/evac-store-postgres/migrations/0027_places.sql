-- Each request's gazetteer place (requests.place_id, a GeoNames id; 0 when its location reads
-- as no known place, NULL until looked up) is what the request list's `town` filter and the
-- dashboard's places read: every request counts, not only the most common location texts.
CREATE INDEX requests_place ON requests (place_id, id);
CREATE TABLE place_counts (
    place_id BIGINT NOT NULL,
    shard    SMALLINT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (place_id, shard)
);

-- A new request counts at its place, in its connection's shard (as the other counts do).
CREATE FUNCTION evac_count_request_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO place_counts (place_id, shard, n)
        VALUES (NEW.place_id, evac_count_shard(), 1)
        ON CONFLICT (place_id, shard) DO UPDATE SET n = place_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER requests_count_place AFTER INSERT ON requests
    FOR EACH ROW WHEN (NEW.place_id > 0) EXECUTE FUNCTION evac_count_request_place();

-- A place found later (a store from before places were kept, caught up) or changed by a
-- correction moves its count.
CREATE FUNCTION evac_recount_request_place() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picked smallint := evac_count_shard();
BEGIN
    IF OLD.place_id > 0 THEN
        INSERT INTO place_counts (place_id, shard, n) VALUES (OLD.place_id, picked, -1)
            ON CONFLICT (place_id, shard) DO UPDATE SET n = place_counts.n - 1;
    END IF;
    IF NEW.place_id > 0 THEN
        INSERT INTO place_counts (place_id, shard, n) VALUES (NEW.place_id, picked, 1)
            ON CONFLICT (place_id, shard) DO UPDATE SET n = place_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER requests_recount_place AFTER UPDATE OF place_id ON requests
    FOR EACH ROW WHEN (OLD.place_id IS DISTINCT FROM NEW.place_id)
    EXECUTE FUNCTION evac_recount_request_place();

-- Requests were counted per location text too; nothing reads those counts now, and each
-- insert paid an upsert for them.
DROP TRIGGER requests_count_location ON requests;
DROP TRIGGER requests_recount_location ON requests;
DROP FUNCTION evac_count_request_location();
DROP FUNCTION evac_recount_request_location();
DROP TABLE location_counts;
