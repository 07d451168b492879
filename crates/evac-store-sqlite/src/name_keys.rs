//! Name keys, written behind intake.
//!
//! A name search looks requests up by the keys of their people's names (`name_keys`). Those
//! keys are random entries in a large index: written with each request, every key dirtied a
//! page of its own that the commit then wrote to the WAL, which made them most of what intake
//! wrote. So intake stores a request without keys, and the *keyer* (a background thread at the
//! lowest priority) keys the newest requests in batches: it reads them on its own connection,
//! computes their keys, and hands the writer one job that inserts them in key order, so keys
//! that share a page share its write, and moves the mark `name_keys_through` past them.
//!
//! Searches stay exact meanwhile: a request above the mark is matched by computing its keys
//! from its body ([`unkeyed_matches`]). The mark is a rowid, which works because requests are
//! never deleted (a new request always gets a larger rowid than every earlier one).
//!
//! A correction rewrites a request's keys at once. The keyer must not then write the keys it
//! computed from the body before the correction: each correction bumps a counter the keyer's job
//! checks, and a job that sees it moved writes nothing (the keyer simply reads again).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rusqlite::{Connection, OptionalExtension, params};

use crate::{StoreError, backend};

/// Requests keyed per batch: larger batches share more index pages per write, but the batch
/// that carries the job waits for its ~6 inserts per request.
pub const KEYER_BATCH_REQUESTS: usize = 1_024;
/// How long the keyer sleeps when every request is keyed.
pub const KEYER_IDLE_MS: u64 = 100;

/// The one thing the keyer reads from a request's stored body: its people's names as written.
#[derive(serde::Deserialize)]
struct BodyNames<'a> {
    #[serde(borrow)]
    party: Vec<PersonNames<'a>>,
}

#[derive(serde::Deserialize)]
struct PersonNames<'a> {
    #[serde(borrow)]
    surname: Option<NameAsWritten<'a>>,
    #[serde(borrow)]
    given_names: Option<NameAsWritten<'a>>,
}

#[derive(serde::Deserialize)]
struct NameAsWritten<'a> {
    #[serde(borrow)]
    as_written: Cow<'a, str>,
}

/// The name keys of a stored body: the same as [`evac_store::request_name_keys`] of the request,
/// without decoding the rest of it.
pub(crate) fn body_name_keys(request_id: &str, body: &str) -> Result<Vec<String>, StoreError> {
    let names: BodyNames = serde_json::from_str(body)
        .map_err(|e| StoreError::Corrupt(format!("requests.body of {request_id}: {e}")))?;
    Ok(evac_store::name_keys_of(
        names
            .party
            .iter()
            .flat_map(|p| [&p.surname, &p.given_names])
            .flatten()
            .map(|n| n.as_written.as_ref()),
    ))
}

/// Inserts (key, request id) pairs; a pair already there is left as it is.
pub(crate) fn insert_name_keys<'a>(
    c: &Connection,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<(), StoreError> {
    let mut insert = c
        .prepare_cached("INSERT OR IGNORE INTO name_keys (key, request_id) VALUES (?1, ?2)")
        .map_err(backend)?;
    for (key, request_id) in pairs {
        insert.execute(params![key, request_id]).map_err(backend)?;
    }
    Ok(())
}

/// The rowid of the last keyed request.
fn keyed_through(c: &Connection) -> Result<i64, StoreError> {
    c.prepare_cached("SELECT request_rowid FROM name_keys_through")
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
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
        let has = body_name_keys(id, crate::rows::text(row, 1)?)?;
        if keys.iter().all(|k| has.binary_search(k).is_ok()) {
            found.push(id.to_string());
        }
    }
    Ok(found)
}

/// Keys for the next requests above the mark, computed off the writer.
pub(crate) struct KeyBatch {
    through_before: i64,
    through_after: i64,
    requests: usize,
    /// (key, request id), in key order.
    keys: Vec<(String, String)>,
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
        let mut rows = s
            .query(params![through_before, requests_max as i64])
            .map_err(backend)?;
        let mut batch = KeyBatch {
            through_before,
            through_after: through_before,
            requests: 0,
            keys: Vec::new(),
            corrections_seen,
        };
        while let Some(row) = rows.next().map_err(backend)? {
            batch.through_after = row.get(0).map_err(backend)?;
            batch.requests += 1;
            let id = crate::rows::text(row, 1)?;
            for key in body_name_keys(id, crate::rows::text(row, 2)?)? {
                batch.keys.push((key, id.to_string()));
            }
        }
        if batch.requests == 0 {
            return Ok(None);
        }
        batch.keys.sort_unstable();
        Ok(Some(batch))
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
        insert_name_keys(c, self.keys.iter().map(|(k, id)| (k.as_str(), id.as_str())))?;
        c.prepare_cached("UPDATE name_keys_through SET request_rowid = ?1")
            .and_then(|mut s| s.execute([self.through_after]))
            .map_err(backend)?;
        Ok(self.requests)
    }
}

/// The keyer thread: keys new requests in batches until `stop`, sleeping while all are keyed.
pub(crate) fn keyer_loop(
    reader: Connection,
    writer: crate::WriterHandle,
    corrections: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    evac_store::lower_this_threads_priority();
    while !stop.load(Ordering::Relaxed) {
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

    fn keyed_pairs(c: &Connection) -> Vec<(String, String)> {
        let mut s = c
            .prepare("SELECT key, request_id FROM name_keys ORDER BY key, request_id")
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
            body_name_keys("r", &body).unwrap(),
            evac_store::request_name_keys(&insert.request.body)
        );
        let err = body_name_keys("r1", "{\"party\": 3}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("requests.body of r1"), "{err}");
    }

    #[test]
    fn unkeyed_requests_are_found_by_their_bodies_until_a_batch_keys_them() {
        let (c, ids) = unkeyed_store(&["Иванова", "Tokayeva", "Ivanova"]);
        let corrections = AtomicU64::new(0);
        assert_eq!(keyed_through(&c).unwrap(), 0);
        assert!(keyed_pairs(&c).is_empty(), "intake writes no keys");
        let ivanova = vec![ids[0].clone(), ids[2].clone()];
        assert_eq!(unkeyed_matches(&c, &keys("Ivanova")).unwrap(), ivanova);
        assert_eq!(unkeyed_matches(&c, &keys("Ivanova Алия")).unwrap(), ivanova);
        assert!(
            unkeyed_matches(&c, &keys("Ivanova Marat"))
                .unwrap()
                .is_empty()
        );

        // Two requests per batch: the first batch keys the first two, in key order.
        let first = KeyBatch::next(&c, &corrections, 2).unwrap().unwrap();
        assert!(first.keys.is_sorted());
        assert_eq!(first.write(&c, &corrections).unwrap(), 2);
        assert_eq!(
            unkeyed_matches(&c, &keys("Ivanova")).unwrap(),
            vec![ids[2].clone()]
        );
        let second = KeyBatch::next(&c, &corrections, 2).unwrap().unwrap();
        assert_eq!(second.write(&c, &corrections).unwrap(), 1);
        assert!(KeyBatch::next(&c, &corrections, 2).unwrap().is_none());
        assert!(unkeyed_matches(&c, &keys("Ivanova")).unwrap().is_empty());

        // The keys written are exactly those intake used to write with each request.
        let mut expected: Vec<(String, String)> = ["Иванова", "Tokayeva", "Ivanova"]
            .iter()
            .zip(1..)
            .zip(&ids)
            .flat_map(|((surname, seed), id)| {
                evac_store::request_name_keys(&sample_insert(surname, seed).request.body)
                    .into_iter()
                    .map(move |k| (k, id.clone()))
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
    fn a_due_backfill_marks_every_request_unkeyed() {
        let (c, _) = unkeyed_store(&["Иванова", "Tokayeva"]);
        KeyBatch::next(&c, &AtomicU64::new(0), 10)
            .unwrap()
            .unwrap()
            .write(&c, &AtomicU64::new(0))
            .unwrap();
        c.execute_batch(evac_store::conformance::UNKEY_REQUESTS_SQL)
            .unwrap();
        backfill_if_due(&c).unwrap();
        assert_eq!(keyed_through(&c).unwrap(), 0);
        assert_eq!(unkeyed_matches(&c, &keys("Tokayeva")).unwrap().len(), 1);
    }
}
