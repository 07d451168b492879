-- Each request's gazetteer place (requests.place_id, a GeoNames id; 0 when its location reads
-- as no known place, NULL until looked up) is what the request list's `town` filter and the
-- dashboard's places read: every request counts, not only the most common location texts.
CREATE INDEX requests_place ON requests (place_id, id);
CREATE TABLE place_counts (place_id INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE INDEX place_counts_n ON place_counts (n);
-- New requests are counted by the writer's batch; a place found later (a store from before
-- places were kept, caught up) or changed by a correction moves its count here.
CREATE TRIGGER requests_recount_place AFTER UPDATE OF place_id ON requests
    WHEN OLD.place_id IS NOT NEW.place_id BEGIN
    UPDATE place_counts SET n = n - 1 WHERE place_id = OLD.place_id AND OLD.place_id > 0;
    INSERT INTO place_counts (place_id, n) SELECT NEW.place_id, 1 WHERE NEW.place_id > 0
        ON CONFLICT (place_id) DO UPDATE SET n = n + 1;
END;

-- Requests were counted per location text too; nothing reads those counts now.
DROP TRIGGER requests_recount_location;
DROP TABLE location_counts;
