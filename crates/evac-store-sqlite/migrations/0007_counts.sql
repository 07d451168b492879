-- The dashboard's counts, kept by triggers in the same transaction as the rows they count, so
-- the dashboard reads a few hundred rows instead of scanning every request and person.
CREATE TABLE location_counts (
    location_latin TEXT PRIMARY KEY,
    n              INTEGER NOT NULL
) STRICT;
CREATE INDEX location_counts_n ON location_counts (n);
INSERT INTO location_counts (location_latin, n)
    SELECT location_latin, count(*) FROM requests GROUP BY location_latin;
CREATE TRIGGER requests_count_location AFTER INSERT ON requests BEGIN
    INSERT INTO location_counts (location_latin, n) VALUES (NEW.location_latin, 1)
        ON CONFLICT (location_latin) DO UPDATE SET n = n + 1;
END;

CREATE TABLE status_counts (
    status TEXT PRIMARY KEY,
    n      INTEGER NOT NULL
) STRICT;
INSERT INTO status_counts (status, n) SELECT status, count(*) FROM persons GROUP BY status;
CREATE TRIGGER persons_count_status AFTER INSERT ON persons BEGIN
    INSERT INTO status_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER persons_count_status_change AFTER UPDATE OF status ON persons
    WHEN OLD.status <> NEW.status BEGIN
    UPDATE status_counts SET n = n - 1 WHERE status = OLD.status;
    INSERT INTO status_counts (status, n) VALUES (NEW.status, 1)
        ON CONFLICT (status) DO UPDATE SET n = n + 1;
END;

-- Requests per hour of receipt (hour = received_at in whole hours since the epoch).
CREATE TABLE hour_counts (
    hour INTEGER PRIMARY KEY,
    n    INTEGER NOT NULL
) STRICT;
INSERT INTO hour_counts (hour, n)
    SELECT received_at / 3600000000, count(*) FROM requests GROUP BY received_at / 3600000000;
CREATE TRIGGER requests_count_hour AFTER INSERT ON requests BEGIN
    INSERT INTO hour_counts (hour, n) VALUES (NEW.received_at / 3600000000, 1)
        ON CONFLICT (hour) DO UPDATE SET n = n + 1;
END;
