-- Failed sign-ins, shared by every node (issue 26): one row per failure and key (an account
-- as typed, lower-cased, or an address), so a lock-out holds behind a load balancer however
-- the attempts are spread over the nodes. Rows older than the window and the lock are pruned
-- as new failures come; a successful sign-in forgets the account's.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
CREATE INDEX login_failures_by_time ON login_failures (at);
