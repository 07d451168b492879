-- Linkage as shared work (issue 24): every node stores requests, one node links them.
--
-- Requests the online linker has not matched yet: written with the request, drained in batches
-- by the node holding the `linkage` lease, which appends the batch's link events and deletes
-- its rows in one transaction (so a node dying mid-batch leaves the batch due, and nothing is
-- written twice: proposals are unique per pair). Requests stored before this migration are
-- linked by the relink the lease holder runs when it takes the lease.
CREATE TABLE links_due (
    request_id TEXT PRIMARY KEY REFERENCES requests (id)
);

-- Leases on work one node does for all: the holder renews it well before `until_us`; when it
-- dies, another node takes it once it has run out.
CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_us BIGINT NOT NULL
);

-- Generations of the views nodes keep between requests (the desk's ranking): every change that
-- makes a kept view stale bumps its generation, and each node compares before serving.
CREATE TABLE generations (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
