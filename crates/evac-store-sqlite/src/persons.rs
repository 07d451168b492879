//! SQL for staff changes to people (status changes and notes) and their history on SQLite.

use evac_store::*;
use rusqlite::{Connection, params};

use crate::backend;

/// One staff change: the person event (from the current status) and, for a status change,
/// the person's new status.
pub(crate) fn change_person(c: &Connection, change: &PersonChange) -> Result<(), StoreError> {
    let (at, actor, person) = (
        change.at.unix_micros(),
        change.actor.label(),
        change.person.to_string(),
    );
    let to = change.to.map(|s| s.as_str());
    let written = c
        .prepare_cached(
            "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
             SELECT id, ?1, ?2, status, COALESCE(?3, status), ?4 FROM persons WHERE id = ?5",
        )
        .and_then(|mut s| s.execute(params![at, actor, to, change.reason, person]))
        .map_err(backend)?;
    if written == 0 {
        return Err(StoreError::Missing(format!("person {person}")));
    }
    if let Some(to) = to {
        c.prepare_cached("UPDATE persons SET status = ?1, status_at = ?2 WHERE id = ?3")
            .and_then(|mut s| s.execute(params![to, at, person]))
            .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn person_events_of_request(
    c: &Connection,
    request: &str,
) -> Result<Vec<StoredPersonEvent>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {PERSON_EVENT_COLUMNS} FROM persons p
             JOIN person_events e ON e.person_id = p.id
             WHERE p.request_id = ?1 ORDER BY e.seq"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map(params![request], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (seq, person, at, actor, from, to, reason) = row.map_err(backend)?;
        person_event_from_columns(seq, &person, at, &actor, from.as_deref(), &to, reason)
    })
    .collect()
}
