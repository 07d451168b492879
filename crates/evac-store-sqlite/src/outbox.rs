//! SQL for the outbox and the inbox on SQLite. Writes run on the one writer, so a claim and
//! the finishing of a send never race another node's (there is one process).

use evac_model::{Actor, InboundId, MessageId, Timestamp};
use evac_store::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::backend;

pub(crate) fn enqueue(c: &Connection, m: &NewMessage) -> Result<usize, StoreError> {
    let persons = serde_json::to_string(
        &m.persons
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    )
    .map_err(|e| StoreError::Backend(e.to_string()))?;
    c.prepare_cached(
        "INSERT INTO outbox (id, dedup_key, request_id, persons, channel, recipient, language, template, body, parts, priority, created_at, state, attempts, next_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'queued', 0, ?12)
         ON CONFLICT (dedup_key) DO NOTHING",
    )
    .and_then(|mut s| {
        s.execute(params![
            m.id.to_string(),
            m.dedup_key,
            m.request.map(|r| r.to_string()),
            persons,
            m.channel,
            m.recipient,
            m.language,
            m.template,
            m.body,
            m.parts,
            m.priority,
            m.created_at.unix_micros(),
        ])
    })
    .map_err(backend)
}

fn message_row(r: &Row<'_>) -> rusqlite::Result<MessageRow> {
    Ok(MessageRow {
        id: r.get(0)?,
        dedup_key: r.get(1)?,
        request_id: r.get(2)?,
        persons: r.get(3)?,
        channel: r.get(4)?,
        recipient: r.get(5)?,
        language: r.get(6)?,
        template: r.get(7)?,
        body: r.get(8)?,
        parts: r.get(9)?,
        priority: r.get(10)?,
        created_at: r.get(11)?,
        state: r.get(12)?,
        attempts: r.get(13)?,
        next_at: r.get(14)?,
        provider_id: r.get(15)?,
        last_error: r.get(16)?,
        sent_at: r.get(17)?,
        done_at: r.get(18)?,
    })
}

pub(crate) fn claim(
    c: &Connection,
    channel: &str,
    node: &str,
    now: i64,
    lease_until: i64,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "UPDATE outbox SET state = 'sending', claimed_by = ?1, claimed_until = ?2, attempts = attempts + 1
             WHERE id IN (SELECT id FROM outbox
                          WHERE channel = ?3
                            AND ((state = 'queued' AND next_at <= ?4)
                                 OR (state = 'sending' AND claimed_until < ?4))
                          ORDER BY priority, next_at LIMIT ?5)
             RETURNING {MESSAGE_COLUMNS}"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map(params![node, lease_until, channel, now, limit], message_row)
        .map_err(backend)?;
    let mut claimed = rows
        .map(|r| r.map_err(backend)?.into_message())
        .collect::<Result<Vec<_>, _>>()?;
    claimed.sort_by_key(|m| (m.priority, m.next_at));
    Ok(claimed)
}

fn attempt(
    c: &Connection,
    id: &str,
    at: i64,
    node: &str,
    outcome: &str,
    provider_id: Option<&str>,
    error: Option<&str>,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO outbox_attempts (message_id, at, node, outcome, provider_id, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| s.execute(params![id, at, node, outcome, provider_id, error]))
    .map_err(backend)?;
    Ok(())
}

/// The message's people who hold an assigned seat become notified, each with a person event.
fn notify_persons(c: &Connection, id: &str, at: i64) -> Result<(), StoreError> {
    let (persons, channel, template): (String, String, String) = c
        .prepare_cached("SELECT persons, channel, template FROM outbox WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
        .map_err(backend)?;
    let persons: Vec<String> =
        serde_json::from_str(&persons).map_err(|_| StoreError::Corrupt("outbox.persons".into()))?;
    let reason = notified_reason(&channel, &template);
    let actor = Actor::System.label();
    for person in persons {
        c.prepare_cached(
            "INSERT INTO person_events (person_id, at, actor, from_status, to_status, reason)
             SELECT id, ?1, ?2, status, 'notified', ?3 FROM persons WHERE id = ?4 AND status = 'assigned'",
        )
        .and_then(|mut s| s.execute(params![at, actor, reason, person]))
        .map_err(backend)?;
        c.prepare_cached(
            "UPDATE persons SET status = 'notified', status_at = ?1 WHERE id = ?2 AND status = 'assigned'",
        )
        .and_then(|mut s| s.execute(params![at, person]))
        .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn finish(
    c: &Connection,
    id: MessageId,
    node: &str,
    at: Timestamp,
    outcome: &SendOutcome,
) -> Result<bool, StoreError> {
    let (id, at) = (id.to_string(), at.unix_micros());
    let changed = match outcome {
        // A delivery report may have come first: it is not undone.
        SendOutcome::Accepted { provider_id } => c
            .prepare_cached(
                "UPDATE outbox SET state = CASE WHEN state = 'sending' THEN 'sent' ELSE state END,
                        sent_at = COALESCE(sent_at, ?1), provider_id = COALESCE(provider_id, ?2),
                        claimed_until = NULL, last_error = NULL
                 WHERE id = ?3 AND claimed_by = ?4 AND state IN ('sending', 'sent', 'delivered', 'failed')",
            )
            .and_then(|mut s| s.execute(params![at, provider_id, id, node])),
        SendOutcome::Failed {
            error,
            retry_at: Some(retry_at),
        } => c
            .prepare_cached(
                "UPDATE outbox SET state = 'queued', next_at = ?1, last_error = ?2, claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?3 AND claimed_by = ?4 AND state = 'sending'",
            )
            .and_then(|mut s| s.execute(params![retry_at.unix_micros(), error, id, node])),
        SendOutcome::Failed {
            error,
            retry_at: None,
        } => c
            .prepare_cached(
                "UPDATE outbox SET state = 'given_up', done_at = ?1, last_error = ?2, claimed_by = NULL, claimed_until = NULL
                 WHERE id = ?3 AND claimed_by = ?4 AND state = 'sending'",
            )
            .and_then(|mut s| s.execute(params![at, error, id, node])),
    }
    .map_err(backend)?;
    if changed == 0 {
        return Ok(false);
    }
    match outcome {
        SendOutcome::Accepted { provider_id } => {
            attempt(c, &id, at, node, "accepted", provider_id.as_deref(), None)?;
            // A refusal reported before this answer stands: nobody was told.
            let state: String = c
                .prepare_cached("SELECT state FROM outbox WHERE id = ?1")
                .and_then(|mut s| s.query_row([&id], |r| r.get(0)))
                .map_err(backend)?;
            if state != "failed" {
                notify_persons(c, &id, at)?;
            }
        }
        SendOutcome::Failed { error, retry_at } => {
            let outcome = if retry_at.is_some() {
                "failed"
            } else {
                "given_up"
            };
            attempt(c, &id, at, node, outcome, None, Some(error))?;
        }
    }
    Ok(true)
}

pub(crate) fn delivery(
    c: &Connection,
    id: MessageId,
    at: Timestamp,
    report: DeliveryReport,
    detail: &str,
) -> Result<bool, StoreError> {
    let (id, at) = (id.to_string(), at.unix_micros());
    let changed = match report {
        // Only a message not yet known to be sent moves: this report usually comes before
        // (or with) the channel's own answer, and never undoes a later state.
        DeliveryReport::TakenByNetwork => c
            .prepare_cached(
                "UPDATE outbox SET state = 'sent', sent_at = COALESCE(sent_at, ?1), claimed_until = NULL, last_error = NULL
                 WHERE id = ?2 AND state IN ('queued', 'sending')",
            )
            .and_then(|mut s| s.execute(params![at, id])),
        DeliveryReport::Delivered | DeliveryReport::Undelivered => c
            .prepare_cached(
                "UPDATE outbox SET state = ?1, done_at = ?2, sent_at = COALESCE(sent_at, ?2),
                        last_error = CASE WHEN ?1 = 'failed' THEN ?3 ELSE last_error END
                 WHERE id = ?4",
            )
            .and_then(|mut s| {
                let state = if report == DeliveryReport::Delivered {
                    "delivered"
                } else {
                    "failed"
                };
                s.execute(params![state, at, detail, id])
            }),
    }
    .map_err(backend)?;
    if changed == 0 {
        return c
            .prepare_cached("SELECT 1 FROM outbox WHERE id = ?1")
            .and_then(|mut s| s.exists([&id]))
            .map_err(backend);
    }
    let outcome = match report {
        DeliveryReport::TakenByNetwork => "accepted",
        DeliveryReport::Delivered => "delivered",
        DeliveryReport::Undelivered => "undelivered",
    };
    attempt(
        c,
        &id,
        at,
        "channel",
        outcome,
        None,
        Some(detail).filter(|d| !d.is_empty()),
    )?;
    if report != DeliveryReport::Undelivered {
        notify_persons(c, &id, at)?;
    }
    Ok(true)
}

pub(crate) fn messages(
    c: &Connection,
    filter: &MessageFilter,
    limit: u32,
) -> Result<Vec<StoredMessage>, StoreError> {
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM outbox
             WHERE (?1 IS NULL OR request_id = ?1) AND (?2 IS NULL OR state = ?2)
               AND (?4 IS NULL OR recipient = ?4)
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map(
            params![
                filter.request.map(|r| r.to_string()),
                filter.state.map(MessageState::as_str),
                limit,
                filter.recipient
            ],
            message_row,
        )
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend)?.into_message()).collect()
}

pub(crate) fn counts(c: &Connection) -> Result<Vec<(MessageState, u64)>, StoreError> {
    let mut s = c
        .prepare_cached("SELECT state, count(*) FROM outbox GROUP BY state")
        .map_err(backend)?;
    let rows = s
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(backend)?;
    rows.map(|r| {
        let (state, n) = r.map_err(backend)?;
        let state = MessageState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("outbox.state '{state}'")))?;
        Ok((state, n as u64))
    })
    .collect()
}

pub(crate) fn store_inbound(c: &Connection, m: &NewInbound) -> Result<bool, StoreError> {
    let stored = c
        .prepare_cached(
            "INSERT INTO inbox (id, channel, provider_id, sender, received_at, text, request_id, understood, state)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (channel, provider_id) DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                m.id.to_string(),
                m.channel,
                m.provider_id,
                m.sender,
                m.received_at.unix_micros(),
                m.text,
                m.request.map(|r| r.to_string()),
                m.understood,
                m.state,
            ])
        })
        .map_err(backend)?;
    Ok(stored == 1)
}

fn inbound_row(r: &Row<'_>) -> rusqlite::Result<InboundRow> {
    Ok(InboundRow {
        id: r.get(0)?,
        channel: r.get(1)?,
        provider_id: r.get(2)?,
        sender: r.get(3)?,
        received_at: r.get(4)?,
        text: r.get(5)?,
        request_id: r.get(6)?,
        understood: r.get(7)?,
        state: r.get(8)?,
        handled_by: r.get(9)?,
        handled_at: r.get(10)?,
    })
}

pub(crate) fn inbound(
    c: &Connection,
    states: &[String],
    request: Option<String>,
    limit: u32,
) -> Result<Vec<StoredInbound>, StoreError> {
    let states_json = serde_json::to_string(states).unwrap_or_else(|_| "[]".into());
    let mut s = c
        .prepare_cached(&format!(
            "SELECT {INBOUND_COLUMNS} FROM inbox
             WHERE (json_array_length(?1) = 0 OR state IN (SELECT value FROM json_each(?1)))
               AND (?2 IS NULL OR request_id = ?2)
             ORDER BY received_at DESC, id DESC LIMIT ?3"
        ))
        .map_err(backend)?;
    let rows = s
        .query_map(params![states_json, request, limit], inbound_row)
        .map_err(backend)?;
    rows.map(|r| r.map_err(backend)?.into_inbound()).collect()
}

pub(crate) fn handle_inbound(
    c: &Connection,
    id: InboundId,
    request: Option<String>,
    state: &str,
    by: &str,
    at: i64,
) -> Result<(), StoreError> {
    let changed = c
        .prepare_cached(
            "UPDATE inbox SET request_id = COALESCE(?1, request_id), state = ?2, handled_by = ?3, handled_at = ?4 WHERE id = ?5",
        )
        .and_then(|mut s| s.execute(params![request, state, by, at, id.to_string()]))
        .map_err(backend)?;
    if changed == 0 {
        return Err(StoreError::Missing(format!("inbound message {id}")));
    }
    Ok(())
}

pub(crate) fn waiting(c: &Connection) -> Result<InboxWaiting, StoreError> {
    let (messages, oldest): (i64, Option<i64>) = c
        .prepare_cached(
            "SELECT count(*), min(received_at) FROM inbox WHERE state IN ('unmatched', 'to_read')",
        )
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
        .optional()
        .map_err(backend)?
        .unwrap_or((0, None));
    Ok(InboxWaiting {
        messages: messages as u64,
        oldest: oldest.map(Timestamp::from_unix_micros),
    })
}
