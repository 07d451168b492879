//! Name keys, written behind intake.
//!
//! A name search looks requests up by the keys of their people's names, in the full-text index
//! `name_index` (one row per request, its keys as the row's words; migration 0012 says why a
//! full-text index rather than a B-tree of pairs). Intake stores a request without keys, and the
//! *keyer* (a background thread at the lowest priority) keys the newest requests in batches: it
//! reads them on its own connection, computes their keys, and hands the writer one job that
//! adds them in rowid order (one new index segment per batch) and moves the mark
//! `name_keys_through` past them.
//!
//! Searches stay exact meanwhile: a request above the mark is matched by computing its keys
//! from its body ([`unkeyed_matches`]). The mark is a rowid, which works because requests are
//! never deleted (a new request always gets a larger rowid than every earlier one).
//!
//! A correction rewrites a request's keys at once. The keyer must not then write the keys it
//! computed from the body before the correction: each correction bumps a counter the keyer's job
//! checks, and a job that sees it moved writes nothing (the keyer simply reads again). The
//! counter moves twice: in the correction's job, and once its batch has committed, since a
//! keyer reading between the two sees the new count but the old body.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreError, backend};

/// Requests keyed per batch: the batch that carries the job waits for its index writes, and a
/// search computes the keys of every request not keyed yet.
pub const KEYER_BATCH_REQUESTS: usize = 1_024;
/// How long the keyer sleeps when every request is keyed, or when it waits for a surge of
/// intake to pass.
pub const KEYER_IDLE_MS: u64 = 100;
/// Unkeyed requests up to which the keyer waits while intake is busy
/// ([`evac_store::IntakeLoad`]); beyond it, it keys even during a surge. Every name search
/// computes the keys of each unkeyed request from its body, so this bounds what a search costs
/// extra during a surge.
pub const KEYER_BACKLOG_MAX: u64 = 50_000;

/// What the keyer reads from a request's stored body: its people's names as written and every
/// phone number.
#[derive(serde::Deserialize)]
struct BodyNames<'a> {
    #[serde(borrow)]
    party: Vec<PersonNames<'a>>,
    #[serde(borrow)]
    submitter: Phones<'a>,
}

#[derive(serde::Deserialize)]
struct PersonNames<'a> {
    #[serde(borrow)]
    surname: Option<NameAsWritten<'a>>,
    #[serde(borrow)]
    given_names: Option<NameAsWritten<'a>>,
    #[serde(borrow, default)]
    phones: Vec<PhoneE164Only<'a>>,
}

#[derive(serde::Deserialize)]
struct Phones<'a> {
    #[serde(borrow, default)]
    phones: Vec<PhoneE164Only<'a>>,
}

#[derive(serde::Deserialize)]
struct PhoneE164Only<'a> {
    #[serde(borrow)]
    e164: Cow<'a, str>,
}

#[derive(serde::Deserialize)]
struct NameAsWritten<'a> {
    #[serde(borrow)]
    as_written: Cow<'a, str>,
}

/// The name keys of a stored body: the same as [`evac_store::request_search_keys`] of the request,
/// without decoding the rest of it.
pub(crate) fn body_search_keys(request_id: &str, body: &str) -> Result<Vec<String>, StoreError> {
    let names: BodyNames = serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("requests.body of {request_id}: {e}")))?;
    Ok(evac_store::search_keys_of(
        names
            .party
            .iter()
            .flat_map(|p| [&p.surname, &p.given_names])
            .flatten()
            .map(|n| n.as_written.as_ref()),
        names
            .submitter
            .phones
            .iter()
            .chain(names.party.iter().flat_map(|p| &p.phones))
            .map(|p| p.e164.as_ref()),
    ))
}

/// Sets the name keys of requests, given by rowid, replacing any keys they had.
pub(crate) fn replace_name_keys<'a>(
    c: &Connection,
    requests: impl IntoIterator<Item = (i64, &'a [String])>,
) -> Result<(), StoreError> {
    let mut replace = c
        .prepare_cached("INSERT OR REPLACE INTO name_index (rowid, keys) VALUES (?1, ?2)")
        .map_err(backend)?;
    for (rowid, keys) in requests {
        replace
            .execute(params![rowid, keys.join(" ")])
            .map_err(backend)?;
    }
    Ok(())
}

/// The full-text query for requests that have every one of `keys` (at least one): each key a
/// quoted word, so no key is read as query syntax.
pub(crate) fn index_query(keys: &[String]) -> String {
    let words: Vec<String> = keys.iter().map(|k| format!("\"{k}\"")).collect();
    words.join(" AND ")
}

/// The rowid of the last keyed request.
fn keyed_through(c: &Connection) -> Result<i64, StoreError> {
    c.prepare_cached("SELECT request_rowid FROM name_keys_through")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(backend)
}

/// Unkeyed requests, counted from rowids (requests are never deleted): cheap enough to ask
/// between batches, unlike [`unkeyed_count`].
fn unkeyed_backlog(c: &Connection) -> Result<u64, StoreError> {
    c.prepare_cached(
        "SELECT coalesce((SELECT max(rowid) FROM requests), 0) - request_rowid FROM name_keys_through",
    )
    .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
    .map(|n| n.max(0) as u64)
    .map_err(backend)
}

/// How many requests are not keyed yet.
pub(crate) fn unkeyed_count(c: &Connection) -> Result<u64, StoreError> {
    c.prepare_cached(
        "SELECT count(*) FROM requests WHERE rowid > (SELECT request_rowid FROM name_keys_through)",
    )
    .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0)))
    .map(|n| n as u64)
    .map_err(backend)
}

/// Requests not keyed yet that have every one of `keys` (a name search's keys): the part of a
/// search the index cannot answer yet.
pub(crate) fn unkeyed_matches(c: &Connection, keys: &[String]) -> Result<Vec<String>, StoreError> {
    let through = keyed_through(c)?;
    let mut s = c
        .prepare_cached("SELECT id, body FROM requests WHERE rowid > ?1")
        .map_err(backend)?;
    let mut rows = s.query([through]).map_err(backend)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        let id = crate::rows::text(row, 0)?;
        let has = body_search_keys(id, crate::rows::text(row, 1)?)?;
        if keys.iter().all(|k| has.binary_search(k).is_ok()) {
            found.push(id.to_string());
        }
    }
    Ok(found)
}

/// Keys for the next requests above the mark, computed off the writer.
pub(crate) struct KeyBatch {
    through_before: i64,
    /// Each request's rowid and keys, in rowid order (the order the index appends in).
    keys: Vec<(i64, Vec<String>)>,
    /// The correction counter when the bodies were read.
    corrections_seen: u64,
}

impl KeyBatch {
    /// The next batch of at most `requests_max` unkeyed requests, or `None` when all are keyed.
    pub(crate) fn next(
        c: &Connection,
        corrections: &AtomicU64,
        requests_max: usize,
    ) -> Result<Option<KeyBatch>, StoreError> {
        // Read first, so a correction after this point is seen by the job.
        let corrections_seen = corrections.load(Ordering::Acquire);
        let through_before = keyed_through(c)?;
        let mut s = c
            .prepare_cached(
                "SELECT rowid, id, body FROM requests WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
            )
            .map_err(backend)?;
        // The bodies are read first and keyed after the read has ended: a read holds its
        // snapshot of the WAL until it ends, and while it does, no checkpoint can copy what was
        // committed after it, so the WAL cannot start over (`WAL_RESTART_PAGES`).
        let bodies: Vec<(i64, String, String)> = s
            .query_map(params![through_before, requests_max as i64], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(backend)?;
        if bodies.is_empty() {
            return Ok(None);
        }
        let keys = bodies
            .iter()
            .map(|(rowid, id, body)| Ok((*rowid, body_search_keys(id, body)?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(KeyBatch {
            through_before,
            keys,
            corrections_seen,
        }))
    }

    /// Writes the keys and moves the mark, unless a correction or another keyer came first;
    /// the number of requests keyed (0 when it wrote nothing).
    pub(crate) fn write(
        &self,
        c: &Connection,
        corrections: &AtomicU64,
    ) -> Result<usize, StoreError> {
        if corrections.load(Ordering::Acquire) != self.corrections_seen
            || keyed_through(c)? != self.through_before
        {
            return Ok(0);
        }
        replace_name_keys(
            c,
            self.keys
                .iter()
                .map(|(rowid, keys)| (*rowid, keys.as_slice())),
        )?;
        let through_after = self
            .keys
            .last()
            .map_or(self.through_before, |(rowid, _)| *rowid);
        c.prepare_cached("UPDATE name_keys_through SET request_rowid = ?1")
            .and_then(|mut s| s.execute([through_after]))
            .map_err(backend)?;
        Ok(self.keys.len())
    }
}

/// The keyer thread: keys new requests in batches until `stop`, sleeping while all are keyed.
pub(crate) fn keyer_loop(
    reader: Connection,
    writer: crate::WriterHandle,
    corrections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    intake_load: evac_store::IntakeLoad,
) {
    evac_store::lower_this_threads_priority();
    while !stop.load(Ordering::Relaxed) {
        // During a surge the writer is intake's; the keyer's jobs would queue requests behind
        // them (the evac_store::IntakeLoad module says why), until the backlog grows too long.
        // A backlog that cannot be read counts as full: the keyer then keys.
        let backlog = || unkeyed_backlog(&reader).unwrap_or(u64::MAX);
        if intake_load.defers(backlog, KEYER_BACKLOG_MAX) {
            std::thread::sleep(std::time::Duration::from_millis(KEYER_IDLE_MS));
            continue;
        }
        let next = KeyBatch::next(&reader, &corrections, KEYER_BATCH_REQUESTS);
        let keyed = match next {
            Ok(Some(batch)) => {
                let corrections = corrections.clone();
                writer.run_blocking(move |c| batch.write(c, &corrections))
            }
            Ok(None) => Ok(0),
            Err(e) => Err(e),
        };
        match keyed {
            Ok(0) => std::thread::sleep(std::time::Duration::from_millis(KEYER_IDLE_MS)),
            Ok(_) => {}
            Err(StoreError::Unavailable(_)) if stop.load(Ordering::Relaxed) => break,
            Err(e) => {
                tracing::warn!(error = %e, "keying names failed; will retry");
                std::thread::sleep(std::time::Duration::from_millis(KEYER_IDLE_MS));
            }
        }
    }
}

/// Marks every stored request unkeyed if migration 0008's backfill is still due (a store from
/// before name keys, or the conformance test's stand-in for one): the keyer then keys them all.
pub(crate) fn backfill_if_due(c: &Connection) -> Result<(), StoreError> {
    let due: Option<i64> = c
        .query_row("SELECT due FROM name_keys_backfill LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(backend)?;
    if due.is_some() {
        c.execute_batch(
            "UPDATE name_keys_through SET request_rowid = 0; DELETE FROM name_keys_backfill;",
        )
        .map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::WriteBatch;
    use crate::rows::{RequestRow, insert_request};
    use evac_store::conformance::sample_insert;

    /// A migrated in-memory database holding one request per surname, none keyed yet; their ids.
    fn unkeyed_store(surnames: &[&str]) -> (WriteBatch, Vec<String>) {
        let batch = WriteBatch::new(Connection::open_in_memory().unwrap());
        crate::migrate_conn(&batch).unwrap();
        let ids = surnames
            .iter()
            .zip(1..)
            .map(|(surname, seed)| {
                let insert = sample_insert(surname, seed);
                insert_request(&batch, &RequestRow::new(&insert).unwrap()).unwrap();
                insert.request.id.to_string()
            })
            .collect();
        (batch, ids)
    }

    fn keys(query: &str) -> Vec<String> {
        evac_store::query_name_keys(query)
    }

    /// Every (key, request id) pair in the index, in order; keys as the index folds them.
    fn keyed_pairs(c: &Connection) -> Vec<(String, String)> {
        c.execute_batch(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.name_index_words
                 USING fts5vocab(main, name_index, instance)",
        )
        .unwrap();
        let mut s = c
            .prepare(
                "SELECT w.term, r.id FROM temp.name_index_words w JOIN requests r ON r.rowid = w.doc
                 ORDER BY w.term, r.id",
            )
            .unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn the_keys_of_a_stored_body_are_those_of_its_request() {
        let insert = sample_insert("Ибрагимова-Tokayeva", 7);
        let body = serde_json::to_string(&insert.request.body).unwrap();
        assert_eq!(
            body_search_keys("r", &body).unwrap(),
            evac_store::request_search_keys(&insert.request.body)
        );
        let err = body_search_keys("r1", "{\"party\": 3}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("requests.body of r1"), "{err}");
    }

    #[test]
    fn unkeyed_requests_are_found_by_their_bodies_until_a_batch_keys_them() {
        let (c, ids) = unkeyed_store(&["Иванова", "Tokayeva", "Ivanova"]);
        let corrections = AtomicU64::new(0);
        assert_eq!(keyed_through(&c).unwrap(), 0);
        assert_eq!(unkeyed_count(&c).unwrap(), 3);
        assert_eq!(unkeyed_backlog(&c).unwrap(), 3);
        assert!(keyed_pairs(&c).is_empty(), "intake writes no keys");
        let ivanova = vec![ids[0].clone(), ids[2].clone()];
        assert_eq!(unkeyed_matches(&c, &keys("Ivanova")).unwrap(), ivanova);
        assert_eq!(unkeyed_matches(&c, &keys("Ivanova Алия")).unwrap(), ivanova);
        assert!(
            unkeyed_matches(&c, &keys("Ivanova Marat"))
                .unwrap()
                .is_empty()
        );

        // Two requests per batch: the first batch keys the first two, in rowid order.
        let first = KeyBatch::next(&c, &corrections, 2).unwrap().unwrap();
        assert!(first.keys.is_sorted_by_key(|(rowid, _)| *rowid));
        assert_eq!(first.write(&c, &corrections).unwrap(), 2);
        assert_eq!(unkeyed_count(&c).unwrap(), 1);
        assert_eq!(unkeyed_backlog(&c).unwrap(), 1);
        assert_eq!(
            unkeyed_matches(&c, &keys("Ivanova")).unwrap(),
            vec![ids[2].clone()]
        );
        let second = KeyBatch::next(&c, &corrections, 2).unwrap().unwrap();
        assert_eq!(second.write(&c, &corrections).unwrap(), 1);
        assert!(KeyBatch::next(&c, &corrections, 2).unwrap().is_none());
        assert_eq!(unkeyed_count(&c).unwrap(), 0);
        assert_eq!(unkeyed_backlog(&c).unwrap(), 0);
        assert!(unkeyed_matches(&c, &keys("Ivanova")).unwrap().is_empty());

        // The keys written are exactly those intake used to write with each request.
        let mut expected: Vec<(String, String)> = ["Иванова", "Tokayeva", "Ivanova"]
            .iter()
            .zip(1..)
            .zip(&ids)
            .flat_map(|((surname, seed), id)| {
                evac_store::request_search_keys(&sample_insert(surname, seed).request.body)
                    .into_iter()
                    .map(move |k| (k.to_ascii_lowercase(), id.clone()))
            })
            .collect();
        expected.sort();
        assert_eq!(keyed_pairs(&c), expected);
    }

    #[test]
    fn a_batch_read_before_a_correction_or_another_keyer_writes_nothing() {
        let (c, _) = unkeyed_store(&["Иванова", "Tokayeva"]);
        let corrections = AtomicU64::new(0);
        let stale = KeyBatch::next(&c, &corrections, 10).unwrap().unwrap();
        corrections.fetch_add(1, Ordering::AcqRel);
        assert_eq!(stale.write(&c, &corrections).unwrap(), 0);
        assert!(keyed_pairs(&c).is_empty());
        assert_eq!(keyed_through(&c).unwrap(), 0);

        let twice = KeyBatch::next(&c, &corrections, 10).unwrap().unwrap();
        let again = KeyBatch::next(&c, &corrections, 10).unwrap().unwrap();
        assert_eq!(twice.write(&c, &corrections).unwrap(), 2);
        assert_eq!(again.write(&c, &corrections).unwrap(), 0, "the mark moved");
    }

    #[test]
    fn new_keys_replace_a_requests_old_ones() {
        let (c, ids) = unkeyed_store(&["Иванова", "Tokayeva"]);
        let corrections = AtomicU64::new(0);
        let batch = KeyBatch::next(&c, &corrections, 10).unwrap().unwrap();
        batch.write(&c, &corrections).unwrap();
        let rowid = batch.keys[0].0;
        replace_name_keys(&c, [(rowid, keys("Ибрагимова").as_slice())]).unwrap();
        let keys_of = |id: &String| -> Vec<String> {
            keyed_pairs(&c)
                .into_iter()
                .filter(|(_, of)| of == id)
                .map(|(key, _)| key)
                .collect()
        };
        assert_eq!(keys_of(&ids[0]), keys("ibragimova"), "only the new keys");
        assert!(
            keys_of(&ids[1]).contains(&keys("Tokayeva")[0]),
            "others kept"
        );
    }

    #[test]
    fn migration_0012_moves_the_keys_of_keyed_requests_into_the_index() {
        let c = WriteBatch::new(Connection::open_in_memory().unwrap());
        for sql in &crate::MIGRATIONS[..11] {
            c.execute_batch(sql).unwrap();
        }
        c.execute_batch("PRAGMA user_version = 11").unwrap();
        // A request stored and keyed as migration 0011 left it: its keys in `name_keys`.
        let insert = sample_insert("Щербакова-Tokayeva", 3);
        insert_request(&c, &RequestRow::new(&insert).unwrap().without_link_due()).unwrap();
        let id = insert.request.id.to_string();
        let keys = evac_store::request_search_keys(&insert.request.body);
        for key in &keys {
            c.execute(
                "INSERT INTO name_keys (key, request_id) VALUES (?1, ?2)",
                params![key, id],
            )
            .unwrap();
        }
        c.execute_batch("UPDATE name_keys_through SET request_rowid = 1")
            .unwrap();

        crate::migrate_conn(&c).unwrap();
        let mut expected: Vec<(String, String)> = keys
            .iter()
            .map(|k| (k.to_ascii_lowercase(), id.clone()))
            .collect();
        expected.sort();
        assert!(
            expected.iter().any(|(k, _)| k.contains('c')),
            "a hushing C folded"
        );
        assert_eq!(keyed_pairs(&c), expected);
        // Migration 0016 then has every request keyed again (phone numbers joined the keys):
        // the moved keys stay searchable meanwhile.
        assert_eq!(keyed_through(&c).unwrap(), 0, "due for keying again");
    }

    #[test]
    fn a_due_backfill_marks_every_request_unkeyed() {
        let (c, _) = unkeyed_store(&["Иванова", "Tokayeva"]);
        KeyBatch::next(&c, &AtomicU64::new(0), 10)
            .unwrap()
            .unwrap()
            .write(&c, &AtomicU64::new(0))
            .unwrap();
        c.execute_batch(crate::UNKEY_REQUESTS_SQL).unwrap();
        backfill_if_due(&c).unwrap();
        assert_eq!(keyed_through(&c).unwrap(), 0);
        assert_eq!(unkeyed_matches(&c, &keys("Tokayeva")).unwrap().len(), 1);
    }
}
