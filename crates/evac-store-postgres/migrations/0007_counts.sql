-- The dashboard's counts, kept by triggers in the same transaction as the rows they count, so
-- the dashboard reads a few hundred rows instead of scanning every request and person. Each
-- count is spread over 16 shards: concurrent inserts on several nodes would otherwise all wait
-- for the lock of one hot row ("Almaty", "registered") until their commit.
CREATE TABLE location_counts (
    location_latin TEXT NOT NULL,
    shard          SMALLINT NOT NULL,
    n              BIGINT NOT NULL,
    PRIMARY KEY (location_latin, shard)
);
INSERT INTO location_counts (location_latin, shard, n)
    SELECT location_latin, 0, count(*) FROM requests GROUP BY location_latin;
CREATE FUNCTION evac_count_request_location() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO location_counts (location_latin, shard, n)
        VALUES (NEW.location_latin, floor(random() * 16)::smallint, 1)
        ON CONFLICT (location_latin, shard) DO UPDATE SET n = location_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER requests_count_location AFTER INSERT ON requests
    FOR EACH ROW EXECUTE FUNCTION evac_count_request_location();

CREATE TABLE status_counts (
    status TEXT NOT NULL,
    shard  SMALLINT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (status, shard)
);
INSERT INTO status_counts (status, shard, n) SELECT status, 0, count(*) FROM persons GROUP BY status;
CREATE FUNCTION evac_count_person_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picked smallint := floor(random() * 16)::smallint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status = NEW.status THEN
            RETURN NULL;
        END IF;
        INSERT INTO status_counts (status, shard, n) VALUES (OLD.status, picked, -1)
            ON CONFLICT (status, shard) DO UPDATE SET n = status_counts.n - 1;
    END IF;
    INSERT INTO status_counts (status, shard, n) VALUES (NEW.status, picked, 1)
        ON CONFLICT (status, shard) DO UPDATE SET n = status_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER persons_count_status AFTER INSERT OR UPDATE OF status ON persons
    FOR EACH ROW EXECUTE FUNCTION evac_count_person_status();

-- Requests per hour of receipt (hour = received_at in whole hours since the epoch).
CREATE TABLE hour_counts (
    hour  BIGINT NOT NULL,
    shard SMALLINT NOT NULL,
    n     BIGINT NOT NULL,
    PRIMARY KEY (hour, shard)
);
INSERT INTO hour_counts (hour, shard, n)
    SELECT received_at / 3600000000, 0, count(*) FROM requests GROUP BY received_at / 3600000000;
CREATE FUNCTION evac_count_request_hour() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hour_counts (hour, shard, n)
        VALUES (NEW.received_at / 3600000000, floor(random() * 16)::smallint, 1)
        ON CONFLICT (hour, shard) DO UPDATE SET n = hour_counts.n + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER requests_count_hour AFTER INSERT ON requests
    FOR EACH ROW EXECUTE FUNCTION evac_count_request_hour();
