//! SQL for the outbox and the inbox on PostgreSQL. A claim skips rows another node's claim has
//! locked (`FOR UPDATE SKIP LOCKED`), so two senders never take the same message.

use evac_model::{Actor, InboundId, MessageId, RequestId, Timestamp};
use evac_store::*;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::{Postgres, Row, Transaction};

use crate::backend;

pub(crate) async fn enqueue(
    tx: &mut Transaction<'_, Postgres>,
    m: &NewMessage,
) -> Result<usize, StoreError> {
    let persons = serde_json::to_string(
        &m.persons
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    )
    .map_err(|e| StoreError::Backend(e.to_string()))?;
    let done = sqlx::query(
        "INSERT INTO outbox (id, dedup_key, request_id, persons, channel, recipient, language, template, body, parts, priority, created_at, state, attempts, next_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'queued', 0, $12)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .bind(m.id.to_string())
    .bind(&m.dedup_key)
    .bind(m.request.map(|r| r.to_string()))
    .bind(persons)
    .bind(&m.channel)
    .bind(&m.recipient)
    .bind(&m.language)
    .bind(&m.template)
    .bind(&m.body)
    .bind(i64::from(m.parts))
    .bind(i64::from(m.priority))
    .bind(m.created_at.unix_micros())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() as usize)
}

fn message_row(r: &PgRow) -> Result<StoredMessage, StoreError> {
    MessageRow {
        id: r.try_get(0).map_err(backend)?,
        dedup_key: r.try_get(1).map_err(backend)?,
        request_id: r.try_get(2).map_err(backend)?,
        persons: r.try_get(3).map_err(backend)?,
        channel: r.try_get(4).map_err(backend)?,
        recipient: r.try_get(5).map_err(backend)?,
        language: r.try_get(6).map_err(backend)?,
        template: r.try_get(7).map_err(backend)?,
        body: r.try_get(8).map_err(backend)?,
        parts: r.try_get(9).map_err(backend)?,
        priority: r.try_get(10).map_err(backend)?,
        created_at: r.try_get(11).map_err(backend)?,
        state: r.try_get(12).map_err(backend)?,
        attempts: r.try_get(13).map_err(backend)?,
        next_at: r.try_get(14).map_err(backend)?,
        provider_id: r.try_get(15).map_err(backend)?,
        last_error: r.try_get(16).map_err(backend)?,
        sent_at: r.try_get(17).map_err(backend)?,
        done_at: r.try_get(18).map_err(backend)?,
    }
    .into_message()
}

pub(crate) async fn claim(
    pool: &PgPool,
    channel: &str,
    node: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE outbox SET state = 'sending', claimed_by = $1, claimed_until = $2, attempts = attempts + 1
         WHERE id IN (SELECT id FROM outbox
                      WHERE channel = $3
                        AND ((state = 'queued' AND next_at <= $4)
                             OR (state = 'sending' AND claimed_until < $4))
                      ORDER BY priority, next_at LIMIT $5
                      FOR UPDATE SKIP LOCKED)
         RETURNING {MESSAGE_COLUMNS}"
    )))
    .bind(node)
    .bind(lease_until.unix_micros())
    .bind(channel)
    .bind(now.unix_micros())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    let mut claimed = rows
        .iter()
        .map(message_row)
        .collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|m| (m.priority, m.next_at));
    Ok(claimed)
}

async fn attempt(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    at: i64,
    node: &str,
    outcome: &str,
    provider_id: Option<&str>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox_attempts (message_id, at, node, outcome, provider_id, error) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(at)
    .bind(node)
    .bind(outcome)
    .bind(provider_id)
    .bind(error)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// The message's people who hold an assigned seat become notified, each with a person event.
async fn notify_persons(
    tx: &mut Transaction<'_, Postgres>,
    id: &str,
    at: i64,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT persons, channel, template FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .map_err(backend)?;
    let (persons, channel, template): (String, String, String) = (
        row.try_get(0).map_err(backend)?,
        row.try_get(1).map_err(backend)?,
        row.try_get(2).map_err(backend)?,
    );
    let persons: Vec<String> =
        serde_json::from_str(&persons).map_err(|_| StoreError::Corrupt("outbox.persons".into()))?;
    // Locked first (see `lock_persons`): the status read below is the one a seat append
    // committed.
    crate::lock_persons(tx, &persons).await?;
    sqlx::query(
        "WITH told AS (
             UPDATE persons p SET status = 'notified', status_at = $1
             WHERE p.id = ANY($2) AND p.status = 'assigned'
             RETURNING p.id)
         INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
         SELECT id, $1, $3, 'assigned', 'notified', $4 FROM told",
    )
    .bind(at)
    .bind(&persons)
    .bind(Actor::System.label())
    .bind(notified_reason(&channel, &template))
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(crate) async fn finish(
    tx: &mut Transaction<'_, Postgres>,
    id: MessageId,
    node: &str,
    at: Timestamp,
    outcome: &SendOutcome,
) -> Result<bool, StoreError> {
    let (id, at) = (id.to_string(), at.unix_micros());
    let changed = match outcome {
        // A delivery report may have come first: it is not undone.
        SendOutcome::Accepted { provider_id } => sqlx::query(
            "UPDATE outbox SET state = CASE WHEN state = 'sending' THEN 'sent' ELSE state END,
                    sent_at = COALESCE(sent_at, $1), provider_id = COALESCE(provider_id, $2),
                    claimed_until = NULL, last_error = NULL
             WHERE id = $3 AND claimed_by = $4 AND state IN ('sending', 'sent', 'delivered', 'failed')",
        )
        .bind(at)
        .bind(provider_id)
        .bind(&id)
        .bind(node),
        SendOutcome::Failed {
            error,
            retry_at: Some(retry_at),
        } => sqlx::query(
            "UPDATE outbox SET state = 'queued', next_at = $1, last_error = $2, claimed_by = NULL, claimed_until = NULL
             WHERE id = $3 AND claimed_by = $4 AND state = 'sending'",
        )
        .bind(retry_at.unix_micros())
        .bind(error)
        .bind(&id)
        .bind(node),
        SendOutcome::Failed {
            error,
            retry_at: None,
        } => sqlx::query(
            "UPDATE outbox SET state = 'given_up', done_at = $1, last_error = $2, claimed_by = NULL, claimed_until = NULL
             WHERE id = $3 AND claimed_by = $4 AND state = 'sending'",
        )
        .bind(at)
        .bind(error)
        .bind(&id)
        .bind(node),
    }
    .execute(&mut **tx)
    .await
    .map_err(backend)?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    match outcome {
        SendOutcome::Accepted { provider_id } => {
            attempt(tx, &id, at, node, "accepted", provider_id.as_deref(), None).await?;
            // A refusal reported before this answer stands: nobody was told.
            let state: String = sqlx::query_scalar("SELECT state FROM outbox WHERE id = $1")
                .bind(&id)
                .fetch_one(&mut **tx)
                .await
                .map_err(backend)?;
            if state != "failed" {
                notify_persons(tx, &id, at).await?;
            }
        }
        SendOutcome::Failed { error, retry_at } => {
            let outcome = if retry_at.is_some() {
                "failed"
            } else {
                "given_up"
            };
            attempt(tx, &id, at, node, outcome, None, Some(error)).await?;
        }
    }
    Ok(true)
}

pub(crate) async fn delivery(
    tx: &mut Transaction<'_, Postgres>,
    id: MessageId,
    at: Timestamp,
    report: DeliveryReport,
    detail: &str,
) -> Result<bool, StoreError> {
    let (id, at) = (id.to_string(), at.unix_micros());
    let changed = match report {
        // Only a message not yet known to be sent moves: this report usually comes before
        // (or with) the channel's own answer, and never undoes a later state.
        DeliveryReport::TakenByNetwork => sqlx::query(
            "UPDATE outbox SET state = 'sent', sent_at = COALESCE(sent_at, $1), claimed_until = NULL, last_error = NULL
             WHERE id = $2 AND state IN ('queued', 'sending')",
        )
        .bind(at)
        .bind(&id),
        DeliveryReport::Delivered | DeliveryReport::Undelivered => sqlx::query(
            "UPDATE outbox SET state = $1, done_at = $2, sent_at = COALESCE(sent_at, $2),
                    last_error = CASE WHEN $1 = 'failed' THEN $3 ELSE last_error END
             WHERE id = $4",
        )
        .bind(if report == DeliveryReport::Delivered {
            "delivered"
        } else {
            "failed"
        })
        .bind(at)
        .bind(detail)
        .bind(&id),
    }
    .execute(&mut **tx)
    .await
    .map_err(backend)?
    .rows_affected();
    if changed == 0 {
        return Ok(sqlx::query("SELECT 1 FROM outbox WHERE id = $1")
            .bind(&id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?
            .is_some());
    }
    let outcome = match report {
        DeliveryReport::TakenByNetwork => "accepted",
        DeliveryReport::Delivered => "delivered",
        DeliveryReport::Undelivered => "undelivered",
    };
    attempt(
        tx,
        &id,
        at,
        "channel",
        outcome,
        None,
        Some(detail).filter(|d| !d.is_empty()),
    )
    .await?;
    if report != DeliveryReport::Undelivered {
        notify_persons(tx, &id, at).await?;
    }
    Ok(true)
}

pub(crate) async fn messages(
    pool: &PgPool,
    filter: &MessageFilter,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MESSAGE_COLUMNS} FROM outbox
         WHERE ($1::text IS NULL OR request_id = $1) AND ($2::text IS NULL OR state = $2)
           AND ($4::text IS NULL OR recipient = $4)
         ORDER BY created_at DESC, id DESC LIMIT $3"
    )))
    .bind(filter.request.map(|r| r.to_string()))
    .bind(filter.state.map(MessageState::as_str))
    .bind(i64::from(limit))
    .bind(&filter.recipient)
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter().map(message_row).collect()
}

pub(crate) async fn counts(pool: &PgPool) -> Result<Vec<(MessageState, u64)>, StoreError> {
    let rows = sqlx::query("SELECT state, count(*) FROM outbox GROUP BY state")
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    rows.iter()
        .map(|r| {
            let state: String = r.try_get(0).map_err(backend)?;
            let n: i64 = r.try_get(1).map_err(backend)?;
            let state = MessageState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("outbox.state '{state}'")))?;
            Ok((state, n as u64))
        })
        .collect()
}

pub(crate) async fn store_inbound(
    tx: &mut Transaction<'_, Postgres>,
    m: &NewInbound,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO inbox (id, channel, provider_id, sender, received_at, text, request_id, understood, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (channel, provider_id) DO NOTHING",
    )
    .bind(m.id.to_string())
    .bind(&m.channel)
    .bind(&m.provider_id)
    .bind(&m.sender)
    .bind(m.received_at.unix_micros())
    .bind(&m.text)
    .bind(m.request.map(|r| r.to_string()))
    .bind(&m.understood)
    .bind(&m.state)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn inbound(
    pool: &PgPool,
    states: &[&str],
    request: Option<RequestId>,
    limit: u32,
) -> Result<Vec<StoredInbound>, StoreError> {
    let states: Vec<String> = states.iter().map(|s| s.to_string()).collect();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {INBOUND_COLUMNS} FROM inbox
         WHERE (cardinality($1::text[]) = 0 OR state = ANY($1))
           AND ($2::text IS NULL OR request_id = $2)
         ORDER BY received_at DESC, id DESC LIMIT $3"
    )))
    .bind(&states)
    .bind(request.map(|r| r.to_string()))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await
    .map_err(backend)?;
    rows.iter()
        .map(|r| {
            InboundRow {
                id: r.try_get(0).map_err(backend)?,
                channel: r.try_get(1).map_err(backend)?,
                provider_id: r.try_get(2).map_err(backend)?,
                sender: r.try_get(3).map_err(backend)?,
                received_at: r.try_get(4).map_err(backend)?,
                text: r.try_get(5).map_err(backend)?,
                request_id: r.try_get(6).map_err(backend)?,
                understood: r.try_get(7).map_err(backend)?,
                state: r.try_get(8).map_err(backend)?,
                handled_by: r.try_get(9).map_err(backend)?,
                handled_at: r.try_get(10).map_err(backend)?,
            }
            .into_inbound()
        })
        .collect()
}

pub(crate) async fn handle_inbound(
    tx: &mut Transaction<'_, Postgres>,
    id: InboundId,
    request: Option<RequestId>,
    state: &str,
    by: &Actor,
    at: Timestamp,
) -> Result<(), StoreError> {
    let changed = sqlx::query(
        "UPDATE inbox SET request_id = COALESCE($1, request_id), state = $2, handled_by = $3, handled_at = $4 WHERE id = $5",
    )
    .bind(request.map(|r| r.to_string()))
    .bind(state)
    .bind(by.label())
    .bind(at.unix_micros())
    .bind(id.to_string())
    .execute(&mut **tx)
    .await
    .map_err(backend)?
    .rows_affected();
    if changed == 0 {
        return Err(StoreError::Missing(format!("inbound message {id}")));
    }
    Ok(())
}

pub(crate) async fn waiting(pool: &PgPool) -> Result<InboxWaiting, StoreError> {
    let row = sqlx::query(
        "SELECT count(*), min(received_at) FROM inbox WHERE state IN ('unmatched', 'to_read')",
    )
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    let messages: i64 = row.try_get(0).map_err(backend)?;
    let oldest: Option<i64> = row.try_get(1).map_err(backend)?;
    Ok(InboxWaiting {
        messages: messages as u64,
        oldest: oldest.map(Timestamp::from_unix_micros),
    })
}
