-- A household's page reads the link events about its people only (issue 27: reading the whole
-- log took 250 ms at 200,000 merges). The pair index finds a person as a pair's smaller id;
-- this one finds them as its larger.
CREATE INDEX link_events_second ON link_events (max(person_a, person_b));
