//! SQL for the linkage log on SQLite.

use std::collections::HashSet;

use evac_model::{LinkEvent, LinkEventKind, PersonId, RequestId, StoredLinkEvent, Timestamp};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, params};

use crate::backend;
use crate::rows::is_unique_violation;

/// Refuses a write the fence does not admit ([`StoreError::Refused`]). Runs on the one writer,
/// serially with every lease change.
pub(crate) fn check_fence(c: &Connection, fence: &LeaseFence) -> Result<(), StoreError> {
    let live: Option<String> = c
        .prepare_cached("SELECT holder FROM leases WHERE name = ?1 AND until_us >= ?2")
        .and_then(|mut s| {
            s.query_row(params![fence.lease, fence.at.unix_micros()], |r| r.get(0))
                .optional()
        })
        .map_err(backend)?;
    fence.admits(live.as_deref())
}

/// Refuses the append with [`StoreError::LogMoved`] unless the link log's head (or the pair's)
/// is as expected. Runs on the one writer, so nothing can append between check and append.
pub(crate) fn check_head(c: &Connection, when: AppendIf) -> Result<(), StoreError> {
    let (head, expected) = match when {
        AppendIf::Always => return Ok(()),
        AppendIf::HeadIsIgnoringScans(_) => {
            return Err(StoreError::Config(
                "the link log has no scans: append with HeadIs or PairHeadIs".into(),
            ));
        }
        AppendIf::HeadIs(expected) => (
            c.prepare_cached("SELECT COALESCE(max(seq), 0) FROM link_events")
                .and_then(|mut s| s.query_row([], |r| r.get::<_, i64>(0))),
            expected,
        ),
        AppendIf::PairHeadIs(a, b, expected) => {
            let (a, b) = (a.to_string(), b.to_string());
            let (low, high) = if a <= b { (a, b) } else { (b, a) };
            // The same expressions as the index link_events_pair, so SQLite uses it.
            (
                c.prepare_cached(
                    "SELECT COALESCE(max(seq), 0) FROM link_events
                     WHERE min(person_a, person_b) = ?1 AND max(person_a, person_b) = ?2",
                )
                .and_then(|mut s| s.query_row(params![low, high], |r| r.get::<_, i64>(0))),
                expected,
            )
        }
    };
    let head = head.map_err(backend)?;
    StoreError::unless_log_moved("link log", expected, head)
}

/// Appends one link event; the answer is 1, or 0 for a proposal (auto-merge, review) of a pair
/// the log already has (the unique index `link_events_proposed_once`).
pub(crate) fn insert_link_event(c: &Connection, e: &LinkEvent) -> Result<usize, StoreError> {
    let proposal = matches!(e.kind, LinkEventKind::AutoMerge | LinkEventKind::Review);
    c.prepare_cached(if proposal {
        "INSERT INTO link_events (at, actor, kind, person_a, person_b, match_probability, explanation, refers_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT DO NOTHING"
    } else {
        "INSERT INTO link_events (at, actor, kind, person_a, person_b, match_probability, explanation, refers_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    })
    .and_then(|mut s| {
        s.execute(params![
            e.at.unix_micros(),
            e.actor.label(),
            e.kind.as_str(),
            e.person_a.to_string(),
            e.person_b.to_string(),
            e.match_probability,
            e.explanation,
            e.refers_to
        ])
    })
    .map_err(|err| match e.refers_to {
        Some(undone) if is_unique_violation(&err) => {
            StoreError::Refused(format!("link event {undone} is already undone"))
        }
        _ => backend(err),
    })
}

pub(crate) fn link_events(
    c: &Connection,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<StoredLinkEvent>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT seq, at, actor, kind, person_a, person_b, match_probability, explanation, refers_to FROM link_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .map_err(backend)?;
    events_of_rows(&mut s, params![after_seq, limit])
}

/// The events about any of `persons` (either side), oldest first: the pair index finds a
/// person as the pair's smaller id, `link_events_second` as its larger.
pub(crate) fn link_events_of(
    c: &Connection,
    persons: &[String],
) -> Result<Vec<StoredLinkEvent>, StoreError> {
    let persons = serde_json::to_string(persons).map_err(|e| StoreError::Backend(e.to_string()))?;
    let mut s = c
        .prepare_cached(
            "SELECT seq, at, actor, kind, person_a, person_b, match_probability, explanation, refers_to FROM link_events
             WHERE min(person_a, person_b) IN (SELECT value FROM json_each(?1))
                OR max(person_a, person_b) IN (SELECT value FROM json_each(?1))
             ORDER BY seq",
        )
        .map_err(backend)?;
    events_of_rows(&mut s, params![persons])
}

fn events_of_rows(
    s: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<StoredLinkEvent>, StoreError> {
    let rows = s
        .query_map(params, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, f64>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<i64>>(8)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (seq, at, actor, kind, a, b, p, explanation, refers_to) = row.map_err(backend)?;
        link_event_from_columns(seq, at, &actor, &kind, &a, &b, p, explanation, refers_to)
    })
    .collect()
}

/// The requests whose keys were forgotten after generation `read_at` of the kept keys
/// ([`LINK_KEYS_GENERATION`]): what a keyer made of them from what it read is stale.
pub(crate) fn forgotten_since(
    c: &Connection,
    read_at: i64,
) -> Result<HashSet<RequestId>, StoreError> {
    let ids: Vec<String> = c
        .prepare_cached("SELECT request_id FROM link_keys_forgotten WHERE generation > ?1")
        .and_then(|mut s| s.query_map([read_at], |r| r.get(0))?.collect())
        .map_err(backend)?;
    ids.iter()
        .map(|id| parse_id("link_keys_forgotten.request_id", id))
        .collect()
}

/// Every person of `requests` (none asked: none read).
pub(crate) fn people_of_requests(
    c: &Connection,
    requests: &HashSet<RequestId>,
) -> Result<HashSet<PersonId>, StoreError> {
    if requests.is_empty() {
        return Ok(HashSet::new());
    }
    let requests: Vec<String> = requests.iter().map(ToString::to_string).collect();
    let requests =
        serde_json::to_string(&requests).map_err(|e| StoreError::Backend(e.to_string()))?;
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT id FROM persons WHERE request_id IN (SELECT value FROM json_each(?1))",
        )
        .and_then(|mut s| s.query_map([requests], |r| r.get(0))?.collect())
        .map_err(backend)?;
    ids.iter().map(|id| parse_id("persons.id", id)).collect()
}

/// Keeps the keys of the people not kept yet, but of requests in `forgotten`; the answer is
/// how many were new.
pub(crate) fn key_persons(
    c: &Connection,
    keyed: &[KeyedPerson],
    forgotten: &HashSet<RequestId>,
) -> Result<usize, StoreError> {
    let nums = keep_link_people(c, keyed, forgotten)?;
    index_link_keys(c, &key_rows(keyed, &nums))?;
    Ok(nums.iter().flatten().count())
}

/// Keeps the people not kept yet, but of requests in `forgotten`, with their keys beside
/// them; each one's number (`None`: kept already, or left out).
pub(crate) fn keep_link_people(
    c: &Connection,
    keyed: &[KeyedPerson],
    forgotten: &HashSet<RequestId>,
) -> Result<Vec<Option<i64>>, StoreError> {
    let mut person = c
        .prepare_cached(
            "INSERT INTO link_people (person_id, request_id, keys) VALUES (?1, ?2, ?3)
             ON CONFLICT (person_id) DO NOTHING",
        )
        .map_err(backend)?;
    keyed
        .iter()
        .map(|k| {
            if forgotten.contains(&k.request) {
                return Ok(None);
            }
            let inserted = person
                .execute(params![
                    k.person.to_string(),
                    k.request.to_string(),
                    k.packed_keys()
                ])
                .map_err(backend)?;
            Ok((inserted == 1).then(|| c.last_insert_rowid()))
        })
        .collect()
}

/// Each key under its person's number. A person forgotten since they were kept (a correction
/// between a relink's two halves) leaves a key no posting finds ([`link_postings`] joins the
/// people); checking each row instead made a relink's keys 2.6 times slower.
pub(crate) fn index_link_keys(c: &Connection, rows: &[(u64, i64)]) -> Result<(), StoreError> {
    let mut key = c
        .prepare_cached("INSERT OR IGNORE INTO link_keys (key, num) VALUES (?1, ?2)")
        .map_err(backend)?;
    for &(value, num) in rows {
        key.execute(params![value as i64, num]).map_err(backend)?;
    }
    Ok(())
}

/// Forgets the kept keys of `request`'s people (it was corrected, or its contacts erased) and
/// makes it due for linking again, so the linker matches and keys it as it reads now.
/// A keyer that read the request before this offers keys that are then left out
/// ([`forgotten_since`]).
pub(crate) fn forget_request_keys(c: &Connection, request: &str) -> Result<(), StoreError> {
    c.prepare_cached("INSERT OR IGNORE INTO links_due (request_id) VALUES (?1)")
        .and_then(|mut s| s.execute([request]))
        .map_err(backend)?;
    let generation: i64 = c
        .prepare_cached(
            "INSERT INTO generations (name, value) VALUES (?1, 1)
             ON CONFLICT (name) DO UPDATE SET value = generations.value + 1
             RETURNING value",
        )
        .and_then(|mut s| s.query_row([LINK_KEYS_GENERATION], |r| r.get(0)))
        .map_err(backend)?;
    c.prepare_cached(
        "INSERT INTO link_keys_forgotten (request_id, generation) VALUES (?1, ?2)
         ON CONFLICT (request_id) DO UPDATE SET generation = excluded.generation",
    )
    .and_then(|mut s| s.execute(params![request, generation]))
    .map_err(backend)?;
    let people: Vec<(i64, Vec<u8>)> = c
        .prepare_cached("SELECT num, keys FROM link_people WHERE request_id = ?1")
        .and_then(|mut s| {
            s.query_map([request], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
        .map_err(backend)?;
    let mut forget = c
        .prepare_cached("DELETE FROM link_keys WHERE key = ?1 AND num = ?2")
        .map_err(backend)?;
    for (num, keys) in &people {
        for key in KeyedPerson::unpack_keys(keys) {
            forget.execute(params![key as i64, num]).map_err(backend)?;
        }
    }
    c.prepare_cached("DELETE FROM link_people WHERE request_id = ?1")
        .and_then(|mut s| s.execute([request]))
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn keyed_persons(
    c: &Connection,
    persons: &[String],
) -> Result<Vec<PersonId>, StoreError> {
    let persons = serde_json::to_string(persons).map_err(|e| StoreError::Backend(e.to_string()))?;
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT person_id FROM link_people WHERE person_id IN (SELECT value FROM json_each(?1))",
        )
        .and_then(|mut s| s.query_map([persons], |r| r.get(0))?.collect())
        .map_err(backend)?;
    ids.iter()
        .map(|id| parse_id("link_people.person_id", id))
        .collect()
}

pub(crate) fn link_postings(
    c: &Connection,
    keys: &[u64],
    per_key_max: u32,
) -> Result<Vec<Posting>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT p.person_id, p.request_id
             FROM link_keys AS k JOIN link_people AS p ON p.num = k.num
             WHERE k.key = ?1 LIMIT ?2",
        )
        .map_err(backend)?;
    let mut postings = Vec::new();
    for &key in keys {
        let rows: Vec<(String, String)> = s
            .query_map(params![key as i64, per_key_max], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(backend)?;
        for (person, request) in rows {
            postings.push(Posting {
                key,
                person: parse_id("link_people.person_id", &person)?,
                request: parse_id("link_people.request_id", &request)?,
            });
        }
    }
    Ok(postings)
}

pub(crate) fn link_model(c: &Connection) -> Result<Option<StoredLinkModel>, StoreError> {
    c.prepare_cached(
        "SELECT model, keys_fingerprint, persons, saved_at_us FROM link_model WHERE id = 1",
    )
    .and_then(|mut s| {
        s.query_row([], |r| {
            Ok(StoredLinkModel {
                model: r.get(0)?,
                keys_fingerprint: r.get::<_, i64>(1)? as u64,
                persons: r.get::<_, i64>(2)? as u64,
                saved_at: Timestamp::from_unix_micros(r.get(3)?),
            })
        })
        .optional()
    })
    .map_err(backend)
}

pub(crate) fn save_link_model(c: &Connection, m: &StoredLinkModel) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO link_model (id, model, keys_fingerprint, persons, saved_at_us)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET model = excluded.model,
             keys_fingerprint = excluded.keys_fingerprint, persons = excluded.persons,
             saved_at_us = excluded.saved_at_us",
    )
    .and_then(|mut s| {
        s.execute(params![
            m.model,
            m.keys_fingerprint as i64,
            m.persons as i64,
            m.saved_at.unix_micros()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn requests_with_unkeyed_persons(
    c: &Connection,
    requests: &[String],
) -> Result<Vec<RequestId>, StoreError> {
    let requests =
        serde_json::to_string(requests).map_err(|e| StoreError::Backend(e.to_string()))?;
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT DISTINCT p.request_id FROM persons AS p
             WHERE p.request_id IN (SELECT value FROM json_each(?1))
               AND NOT EXISTS (SELECT 1 FROM link_people AS k WHERE k.person_id = p.id)",
        )
        .and_then(|mut s| s.query_map([requests], |r| r.get(0))?.collect())
        .map_err(backend)?;
    ids.iter()
        .map(|id| parse_id("persons.request_id", id))
        .collect()
}
