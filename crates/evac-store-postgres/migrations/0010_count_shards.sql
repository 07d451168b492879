-- The dashboard's count rows were picked at random per row: one request's location, hour and
-- people locked rows of several shards in no fixed order, so concurrent requests deadlocked
-- (PostgreSQL breaks a deadlock only after `deadlock_timeout`, and fails one of them): intake
-- under load fell to a few requests per second with errors. Now a connection always writes one
-- shard, given by its server process id, out of 64: two requests touch the same count rows
-- only when their connections share a shard, which few of a pool's connections do.
CREATE FUNCTION evac_count_shard() RETURNS smallint LANGUAGE sql STABLE AS $$
    SELECT (pg_backend_pid() % 64)::smallint
$$;

CREATE OR REPLACE FUNCTION evac_count_request_location() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO location_counts (location_latin, shard, n)
        VALUES (NEW.location_latin, evac_count_shard(), 1)
        ON CONFLICT (location_latin, shard) DO UPDATE SET n = location_counts.n + 1;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION evac_count_person_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picked smallint := evac_count_shard();
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

CREATE OR REPLACE FUNCTION evac_count_request_hour() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO hour_counts (hour, shard, n)
        VALUES (NEW.received_at / 3600000000, evac_count_shard(), 1)
        ON CONFLICT (hour, shard) DO UPDATE SET n = hour_counts.n + 1;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION evac_recount_request_location() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    picked smallint := evac_count_shard();
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
