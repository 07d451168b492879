-- The request list's filters by nationality and by need (issue 27): the citizenships and the
-- needs of a request's people, kept beside the body as ',KZ,RU,' and ',medical,wheelchair,'
-- (empty when nobody has one), so a filter is `LIKE '%,KZ,%'` on the row the list reads anyway.
ALTER TABLE requests ADD COLUMN citizenships TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN needs TEXT NOT NULL DEFAULT '';
UPDATE requests SET
    citizenships = coalesce((
        SELECT ',' || group_concat(c, ',') || ','
        FROM (SELECT DISTINCT json_extract(p.value, '$.citizenship') AS c
              FROM json_each(requests.body, '$.party') p
              WHERE json_extract(p.value, '$.citizenship') IS NOT NULL
              ORDER BY c)), ''),
    needs = coalesce((
        SELECT ',' || group_concat(v, ',') || ','
        FROM (SELECT DISTINCT n.value AS v
              FROM json_each(requests.body, '$.party') p, json_each(p.value, '$.needs') n
              ORDER BY v)), '');
