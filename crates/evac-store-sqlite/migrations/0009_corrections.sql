-- A corrected request may give another location: its count moves with it.
CREATE TRIGGER requests_recount_location AFTER UPDATE OF location_latin ON requests
    WHEN OLD.location_latin <> NEW.location_latin BEGIN
    UPDATE location_counts SET n = n - 1 WHERE location_latin = OLD.location_latin;
    INSERT INTO location_counts (location_latin, n) VALUES (NEW.location_latin, 1)
        ON CONFLICT (location_latin) DO UPDATE SET n = n + 1;
END;
