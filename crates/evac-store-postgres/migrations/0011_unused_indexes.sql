-- Two indexes no query uses, each one more B-tree for every new request or person to go into:
-- requests by received_at (ids sort by time, and the dashboard counts per hour in hour_counts)
-- and persons by case (persons are read by request, by id, and by status).
DROP INDEX requests_received_at;
DROP INDEX persons_case;
