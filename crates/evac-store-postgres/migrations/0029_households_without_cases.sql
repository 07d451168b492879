-- A household is named by one of its requests (issue 29, item 3: the oldest of them its
-- people's seats were given under, else its oldest; see evac-app's triage::households), so
-- the case minted per request, which nothing read, goes.
ALTER TABLE persons DROP COLUMN case_id;
ALTER TABLE requests DROP COLUMN case_id;
DROP TABLE cases;
