//! SQL for the call log, the callback queue and messenger chats on PostgreSQL. Taking a
//! callback locks the row it takes and skips rows other operators' transactions hold, so two
//! nodes taking at once never hand out one request twice.

use evac_model::{RequestId, Timestamp};
use evac_store::*;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, Row, Transaction};

use crate::backend;

const CALLBACK_COLUMNS: &str = "request_id, due_at, reason, attempts, claimed_by, claimed_until";

fn callback_of_row(r: &PgRow) -> Result<Callback, StoreError> {
    let request: String = r.try_get(0).map_err(backend)?;
    let attempts: i64 = r.try_get(3).map_err(backend)?;
    Ok(Callback {
        request: parse_id("callbacks.request_id", &request)?,
        due_at: Timestamp::from_unix_micros(r.try_get(1).map_err(backend)?),
        reason: r.try_get(2).map_err(backend)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        claimed_by: r.try_get(4).map_err(backend)?,
        claimed_until: Timestamp::from_unix_micros(r.try_get(5).map_err(backend)?),
    })
}

pub(crate) async fn link_chat(
    tx: &mut Transaction<'_, Postgres>,
    chat: &MessengerChat,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO messenger_chats (channel, chat, phone, linked_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel, chat) DO UPDATE SET phone = excluded.phone, linked_at = excluded.linked_at",
    )
    .bind(&chat.channel)
    .bind(&chat.chat)
    .bind(&chat.phone)
    .bind(chat.linked_at.unix_micros())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn chat_phone(
    pool: &PgPool,
    channel: &str,
    chat: &str,
) -> Result<Option<String>, StoreError> {
    sqlx::query_scalar("SELECT phone FROM messenger_chats WHERE channel = $1 AND chat = $2")
        .bind(channel)
        .bind(chat)
        .fetch_optional(pool)
        .await
        .map_err(backend)
}

pub(crate) async fn chats_of_phones(
    pool: &PgPool,
    channel: &str,
    phones: &[String],
) -> Result<Vec<MessengerChat>, StoreError> {
    let rows = sqlx::query(
        "SELECT channel, chat, phone, linked_at FROM messenger_chats
         WHERE channel = $1 AND phone = ANY($2) ORDER BY linked_at DESC, chat",
    )
    .bind(channel)
    .bind(phones)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|r| {
            Ok(MessengerChat {
                channel: r.try_get(0).map_err(backend)?,
                chat: r.try_get(1).map_err(backend)?,
                phone: r.try_get(2).map_err(backend)?,
                linked_at: Timestamp::from_unix_micros(r.try_get(3).map_err(backend)?),
            })
        })
        .collect()
}

pub(crate) async fn log_call(
    tx: &mut Transaction<'_, Postgres>,
    call: &Call,
    callback: &CallbackChange,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO calls (id, request_id, direction, outcome, phone, operator, note, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(call.id.to_string())
    .bind(call.request.to_string())
    .bind(call.direction.as_str())
    .bind(call.outcome.as_str())
    .bind(&call.phone)
    .bind(&call.operator)
    .bind(&call.note)
    .bind(call.at.unix_micros())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    match callback {
        CallbackChange::Settle => {
            sqlx::query("DELETE FROM callbacks WHERE request_id = $1")
                .bind(call.request.to_string())
                .execute(&mut **tx)
                .await
        }
        CallbackChange::Schedule {
            due_at,
            reason,
            tried,
        } => sqlx::query(
            "INSERT INTO callbacks (request_id, due_at, reason, attempts) VALUES ($1, $2, $3, $4)
             ON CONFLICT (request_id) DO UPDATE SET due_at = excluded.due_at,
                 reason = excluded.reason, attempts = callbacks.attempts + excluded.attempts,
                 claimed_by = NULL, claimed_until = 0",
        )
        .bind(call.request.to_string())
        .bind(due_at.unix_micros())
        .bind(reason)
        .bind(i64::from(*tried))
        .execute(&mut **tx)
        .await,
    }
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn calls_of_request(
    pool: &PgPool,
    request: RequestId,
) -> Result<Vec<Call>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, request_id, direction, outcome, phone, operator, note, at FROM calls
         WHERE request_id = $1 ORDER BY at, id",
    )
    .bind(request.to_string())
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|r| {
            let get = |i: usize| r.try_get::<String, _>(i).map_err(backend);
            call_from_columns(
                &get(0)?,
                &get(1)?,
                &get(2)?,
                &get(3)?,
                r.try_get(4).map_err(backend)?,
                get(5)?,
                get(6)?,
                r.try_get(7).map_err(backend)?,
            )
        })
        .collect()
}

pub(crate) async fn queue_callbacks(
    pool: &PgPool,
    callbacks: &[(RequestId, Timestamp, String)],
) -> Result<usize, StoreError> {
    let requests: Vec<String> = callbacks.iter().map(|c| c.0.to_string()).collect();
    let due: Vec<i64> = callbacks.iter().map(|c| c.1.unix_micros()).collect();
    let reasons: Vec<String> = callbacks.iter().map(|c| c.2.clone()).collect();
    let done = sqlx::query(
        "INSERT INTO callbacks (request_id, due_at, reason)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
         ON CONFLICT (request_id) DO NOTHING",
    )
    .bind(&requests)
    .bind(&due)
    .bind(&reasons)
    .execute(pool)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() as usize)
}

pub(crate) async fn callbacks(pool: &PgPool, limit: u32) -> Result<Vec<Callback>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALLBACK_COLUMNS} FROM callbacks ORDER BY due_at, request_id LIMIT $1"
    )))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(callback_of_row).collect()
}

pub(crate) async fn callback_of(
    pool: &PgPool,
    request: RequestId,
) -> Result<Option<Callback>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CALLBACK_COLUMNS} FROM callbacks WHERE request_id = $1"
    )))
    .bind(request.to_string())
    .fetch_optional(pool)
    .await
    .map_err(backend)?
    .as_ref()
    .map(callback_of_row)
    .transpose()
}

pub(crate) async fn take_callback(
    pool: &PgPool,
    operator: &str,
    now: Timestamp,
    lease_until: Timestamp,
) -> Result<Option<Callback>, StoreError> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE callbacks SET claimed_by = $1, claimed_until = $3
         WHERE request_id = (
             SELECT request_id FROM callbacks
             WHERE due_at <= $2 AND (claimed_until <= $2 OR claimed_by = $1)
             ORDER BY COALESCE(claimed_by = $1, false) DESC, due_at, request_id
             LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING {CALLBACK_COLUMNS}"
    )))
    .bind(operator)
    .bind(now.unix_micros())
    .bind(lease_until.unix_micros())
    .fetch_optional(pool)
    .await
    .map_err(backend)?
    .as_ref()
    .map(callback_of_row)
    .transpose()
}
