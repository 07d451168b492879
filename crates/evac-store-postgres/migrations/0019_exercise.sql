-- An exercise copy (issue 26, item 7): a database made for drills and replays says so, and
-- only there may a plan be published as of another time (back-dated seats, passes and audit
-- events stay out of the live record). The demo's generated crisis is one too.
CREATE TABLE exercise (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    copied_from TEXT NOT NULL,
    made_at     BIGINT NOT NULL
);
