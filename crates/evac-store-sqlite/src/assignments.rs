//! SQL for case assignments on SQLite. Writes run on the one writer, so the check of each
//! request's holder and the change are one transaction no other write interleaves with.

use evac_model::{RequestId, Timestamp};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, params};

use crate::backend;

/// Checks every request's holder, then changes them all (or none).
pub(crate) fn assign_requests(c: &Connection, change: &AssignmentChange) -> Result<(), StoreError> {
    for request in &change.requests {
        let holder: Option<String> = c
            .prepare_cached("SELECT officer FROM assignments WHERE request_id = ?1")
            .and_then(|mut s| s.query_row([request.to_string()], |r| r.get(0)).optional())
            .map_err(backend)?;
        if let Some(expected) = &change.if_held_by
            && holder != *expected
        {
            return Err(held_by_another(*request, holder.as_deref()));
        }
    }
    for request in &change.requests {
        match &change.officer {
            Some(officer) => c
                .prepare_cached(
                    "INSERT INTO assignments (request_id, officer, assigned_by, assigned_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (request_id) DO UPDATE SET officer = excluded.officer,
                         assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        request.to_string(),
                        officer,
                        change.by,
                        change.at.unix_micros()
                    ])
                }),
            None => c
                .prepare_cached("DELETE FROM assignments WHERE request_id = ?1")
                .and_then(|mut s| s.execute([request.to_string()])),
        }
        .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn assignments_of(
    c: &Connection,
    requests: &[RequestId],
) -> Result<Vec<Assignment>, StoreError> {
    let ids: Vec<String> = requests.iter().map(ToString::to_string).collect();
    let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Backend(e.to_string()))?;
    let rows: Vec<(String, String, String, i64)> = c
        .prepare_cached(
            "SELECT request_id, officer, assigned_by, assigned_at FROM assignments
             WHERE request_id IN (SELECT value FROM json_each(?1)) ORDER BY request_id",
        )
        .and_then(|mut s| {
            s.query_map([ids], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
        .map_err(backend)?;
    rows.into_iter()
        .map(|(request, officer, assigned_by, at)| {
            Ok(Assignment {
                request: parse_id("assignments.request_id", &request)?,
                officer,
                assigned_by,
                assigned_at: Timestamp::from_unix_micros(at),
            })
        })
        .collect()
}

pub(crate) fn assigned_to(
    c: &Connection,
    officer: &str,
    limit: u32,
) -> Result<Vec<RequestId>, StoreError> {
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT request_id FROM assignments WHERE officer = ?1
             ORDER BY assigned_at DESC, request_id LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![officer, limit], |r| r.get(0))?
                .collect()
        })
        .map_err(backend)?;
    ids.iter()
        .map(|id| parse_id("assignments.request_id", id))
        .collect()
}
