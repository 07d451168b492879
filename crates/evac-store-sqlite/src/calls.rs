//! SQL for the call log, the callback queue and messenger chats on SQLite. Writes run on the
//! one writer, so taking a callback is a single statement no other write interleaves with.

use evac_model::{RequestId, Timestamp};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend;

const CALLBACK_COLUMNS: &str = "request_id, due_at, reason, attempts, claimed_by, claimed_until";

fn callback_row(r: &Row<'_>) -> rusqlite::Result<(String, i64, String, i64, Option<String>, i64)> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn callback_of_row(
    (request, due_at, reason, attempts, claimed_by, claimed_until): (
        String,
        i64,
        String,
        i64,
        Option<String>,
        i64,
    ),
) -> Result<Callback, StoreError> {
    Ok(Callback {
        request: parse_id("callbacks.request_id", &request)?,
        due_at: Timestamp::from_unix_micros(due_at),
        reason,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        claimed_by,
        claimed_until: Timestamp::from_unix_micros(claimed_until),
    })
}

pub(crate) fn link_chat(c: &Connection, chat: &MessengerChat) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO messenger_chats (channel, chat, phone, linked_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (channel, chat) DO UPDATE SET phone = excluded.phone, linked_at = excluded.linked_at",
    )
    .and_then(|mut s| {
        s.execute(params![
            chat.channel,
            chat.chat,
            chat.phone,
            chat.linked_at.unix_micros()
        ])
    })
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn chat_phone(
    c: &Connection,
    channel: &str,
    chat: &str,
) -> Result<Option<String>, StoreError> {
    c.prepare_cached("SELECT phone FROM messenger_chats WHERE channel = ?1 AND chat = ?2")
        .and_then(|mut s| s.query_row([channel, chat], |r| r.get(0)).optional())
        .map_err(backend)
}

pub(crate) fn chats_of_phones(
    c: &Connection,
    channel: &str,
    phones: &[String],
) -> Result<Vec<MessengerChat>, StoreError> {
    let phones = serde_json::to_string(phones).map_err(|e| StoreError::Backend(e.to_string()))?;
    let mut s = c
        .prepare_cached(
            "SELECT channel, chat, phone, linked_at FROM messenger_chats
             WHERE channel = ?1 AND phone IN (SELECT value FROM json_each(?2))
             ORDER BY linked_at DESC, chat",
        )
        .map_err(backend)?;
    let rows = s
        .query_map(params![channel, phones], |r| {
            Ok(MessengerChat {
                channel: r.get(0)?,
                chat: r.get(1)?,
                phone: r.get(2)?,
                linked_at: Timestamp::from_unix_micros(r.get(3)?),
            })
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

pub(crate) fn log_call(
    c: &Connection,
    call: &Call,
    callback: &CallbackChange,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO calls (id, request_id, direction, outcome, phone, operator, note, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            call.id.to_string(),
            call.request.to_string(),
            call.direction.as_str(),
            call.outcome.as_str(),
            call.phone,
            call.operator,
            call.note,
            call.at.unix_micros(),
        ])
    })
    .map_err(backend)?;
    match callback {
        CallbackChange::Settle => c
            .prepare_cached("DELETE FROM callbacks WHERE request_id = ?1")
            .and_then(|mut s| s.execute([call.request.to_string()])),
        CallbackChange::Schedule {
            due_at,
            reason,
            tried,
        } => c
            .prepare_cached(
                "INSERT INTO callbacks (request_id, due_at, reason, attempts) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (request_id) DO UPDATE SET due_at = excluded.due_at,
                     reason = excluded.reason, attempts = callbacks.attempts + excluded.attempts,
                     claimed_by = NULL, claimed_until = 0",
            )
            .and_then(|mut s| {
                s.execute(params![
                    call.request.to_string(),
                    due_at.unix_micros(),
                    reason,
                    i64::from(*tried)
                ])
            }),
    }
    .map_err(backend)?;
    Ok(())
}

pub(crate) fn calls_of_request(
    c: &Connection,
    request: RequestId,
) -> Result<Vec<Call>, StoreError> {
    let mut s = c
        .prepare_cached(
            "SELECT id, request_id, direction, outcome, phone, operator, note, at FROM calls
             WHERE request_id = ?1 ORDER BY at, id",
        )
        .map_err(backend)?;
    let rows = s
        .query_map([request.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })
        .map_err(backend)?;
    rows.map(|row| {
        let (id, request, direction, outcome, phone, operator, note, at) = row.map_err(backend)?;
        call_from_columns(
            &id, &request, &direction, &outcome, phone, operator, note, at,
        )
    })
    .collect()
}

pub(crate) fn queue_callbacks(
    c: &Connection,
    callbacks: &[(RequestId, Timestamp, String)],
) -> Result<usize, StoreError> {
    let mut s = c
        .prepare_cached(
            "INSERT INTO callbacks (request_id, due_at, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (request_id) DO NOTHING",
        )
        .map_err(backend)?;
    let mut queued = 0;
    for (request, due_at, reason) in callbacks {
        queued += s
            .execute(params![request.to_string(), due_at.unix_micros(), reason])
            .map_err(backend)?;
    }
    Ok(queued)
}

pub(crate) fn callbacks(c: &Connection, limit: u32) -> Result<Vec<Callback>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {CALLBACK_COLUMNS} FROM callbacks ORDER BY due_at, request_id LIMIT ?1"
        ))
        .map_err(backend)?;
    let rows = s.query_map([limit], callback_row).map_err(backend)?;
    rows.map(|r| callback_of_row(r.map_err(backend)?)).collect()
}

pub(crate) fn callback_of(
    c: &Connection,
    request: RequestId,
) -> Result<Option<Callback>, StoreError> {
    c.prepare_cached(&format!(
        "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE request_id = ?1"
    ))
    .and_then(|mut s| s.query_row([request.to_string()], callback_row).optional())
    .map_err(backend)?
    .map(callback_of_row)
    .transpose()
}

pub(crate) fn take_callback(
    c: &Connection,
    operator: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Callback>, StoreError> {
    c.prepare_cached(&format!(
        "UPDATE callbacks SET claimed_by = ?1, claimed_until = ?3
         WHERE request_id = (
             SELECT request_id FROM callbacks
             WHERE due_at <= ?2 AND (claimed_until <= ?2 OR claimed_by = ?1)
             ORDER BY COALESCE(claimed_by = ?1, 0) DESC, due_at, request_id LIMIT 1)
         RETURNING {CALLBACK_COLUMNS}"
    ))
    .and_then(|mut s| {
        s.query_row(
            params![operator, now.unix_micros(), lease_until.unix_micros()],
            callback_row,
        )
        .optional()
    })
    .map_err(backend)?
    .map(callback_of_row)
    .transpose()
}
