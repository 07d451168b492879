//! SQL for staff changes to people (status changes and notes) and their history on SQLite.

use evac_store::*;
use rusqlite::{Connection, OptionalExtension, params};

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
    if let (Some(to), Some(expected)) = (to, change.expected) {
        // Decided on `expected`: the move happens only from there (one writer: no race
        // between this check and the move).
        let moved = c
            .prepare_cached(
                "UPDATE persons SET status = ?1, status_at = ?2 WHERE id = ?3 AND status = ?4",
            )
            .and_then(|mut s| s.execute(params![to, at, person, expected.as_str()]))
            .map_err(backend)?;
        if moved == 0 {
            return Err(not_moved(c, &person, expected));
        }
        c.prepare_cached(
            "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| {
            s.execute(params![
                person,
                at,
                actor,
                expected.as_str(),
                to,
                change.reason
            ])
        })
        .map_err(backend)?;
        return Ok(());
    }
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

/// Why a change decided on `expected` did not move the person: gone, or moved meanwhile.
fn not_moved(c: &Connection, person: &str, expected: evac_model::PersonStatus) -> StoreError {
    let now: Option<String> = c
        .prepare_cached("SELECT status FROM persons WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![person], |r| r.get(0)).optional())
        .unwrap_or(None);
    match now {
        None => StoreError::Missing(format!("person {person}")),
        Some(now) => StoreError::PersonMoved {
            person: person.to_string(),
            now,
            expected,
        },
    }
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
