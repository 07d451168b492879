-- The request list's status filter (issue 27): a status few people have (verified, seated, …)
-- was a walk over every request, probing each one's people (a second at a million requests).
-- People who moved past 'registered' are indexed by status; intake stores only registered
-- people, so it writes nothing more, and a status change moves one entry.
CREATE INDEX persons_moved ON persons (status, request_id) WHERE status <> 'registered';
