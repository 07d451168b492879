//! SQL for the linkage log on SQLite.

use evac_model::{LinkEvent, LinkEventKind, StoredLinkEvent};
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
