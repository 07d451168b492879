//! SQL for the linkage log on SQLite.

use evac_model::{LinkEvent, StoredLinkEvent};
use evac_store::*;
use rusqlite::{Connection, params};

use crate::backend;

pub(crate) fn insert_link_event(c: &Connection, e: &LinkEvent) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO link_events (at, actor, kind, person_a, person_b, match_probability, explanation, refers_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
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
    .map_err(backend)?;
    Ok(())
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
    let rows = s
        .query_map(params![after_seq, limit], |r| {
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
