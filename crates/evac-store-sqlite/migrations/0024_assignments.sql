-- Which case officer holds which request ("my cases"): one row per assigned request.
CREATE TABLE assignments (
    request_id  TEXT PRIMARY KEY REFERENCES requests (id),
    officer     TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX assignments_officer ON assignments (officer, assigned_at);
