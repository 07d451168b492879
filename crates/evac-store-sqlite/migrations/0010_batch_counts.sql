-- New requests and persons are counted by the writer, once per batch, just before its commit
-- (src/batch.rs), instead of by a trigger per row: a trigger made every insert a statement
-- that might fail half-way, which SQLite journals page by page. Changes of an existing row
-- (status, corrected location) keep their triggers.
DROP TRIGGER requests_count_location;
DROP TRIGGER requests_count_hour;
DROP TRIGGER persons_count_status;
