-- Name keys move from a B-tree of (key, request id) pairs to a full-text index.
--
-- The keyer inserted ~6 keys per request at random places of `name_keys`: a batch of a
-- thousand requests dirtied thousands of its pages, each written whole to the WAL at commit
-- (megabytes per commit, the longest stalls of intake, and more the larger the index grew).
-- FTS5 writes the keys of a transaction as one new segment, in order, and merges segments a
-- little at a time in later writes: a batch costs a few pages, whatever the index's size.
--
-- One row per keyed request, its rowid the request's rowid; `keys` holds its name keys
-- separated by spaces. Contentless (the keys are derived from `requests.body`), with deletes
-- (a correction replaces a request's keys), and without positions (a search only asks which
-- requests have every key). The ascii tokenizer folds the key alphabet's `C` to `c`, a letter
-- keys otherwise never hold, so no two keys become one.
CREATE VIRTUAL TABLE name_index USING fts5(
    keys,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'ascii'
);
INSERT INTO name_index (rowid, keys)
    SELECT r.rowid, group_concat(k.key, ' ')
    FROM name_keys k JOIN requests r ON r.id = k.request_id
    GROUP BY r.rowid
    ORDER BY r.rowid;
DROP TABLE name_keys;
