-- The request list's filters by nationality and by need (issue 27): the citizenships and the
-- needs of a request's people, kept beside the body as ',KZ,RU,' and ',medical,wheelchair,'
-- (empty when nobody has one), so a filter is `LIKE '%,KZ,%'` on the row the list reads anyway.
ALTER TABLE requests ADD COLUMN citizenships TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN needs TEXT NOT NULL DEFAULT '';
UPDATE requests r SET
    citizenships = coalesce((
        SELECT ',' || string_agg(DISTINCT p.value ->> 'citizenship', ',') || ','
        FROM jsonb_array_elements(r.body::jsonb -> 'party') p
        WHERE p.value ->> 'citizenship' IS NOT NULL), ''),
    needs = coalesce((
        SELECT ',' || string_agg(DISTINCT n.value, ',') || ','
        FROM jsonb_array_elements(r.body::jsonb -> 'party') p,
             jsonb_array_elements_text(p.value -> 'needs') n), '');
