//! The hotline's call log and callback queue, and the messenger chats people linked to their
//! phone numbers.
//!
//! Every call to or from a request's people is a row with its outcome. A request that must be
//! called back has one row in the callback queue (due when, why, after how many tries); an
//! operator takes the next due callback for a lease, so two operators never dial the same
//! family, and logging the call settles or re-schedules it in the same transaction.

pub use evac_model::{CallDirection, CallOutcome};
use evac_model::{RequestId, Timestamp};

/// A call to log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Call {
    pub id: uuid::Uuid,
    pub request: RequestId,
    pub direction: CallDirection,
    pub outcome: CallOutcome,
    /// The number dialled or calling, E.164 where it parses.
    pub phone: Option<String>,
    /// Who took or made the call (an actor label, `user:…`).
    pub operator: String,
    pub note: String,
    pub at: Timestamp,
}

/// What a logged call does to the request's place in the callback queue.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackChange {
    /// Reached (or nothing left to try): out of the queue.
    Settle,
    /// Call again at `due_at`; `tried` counts this call as one more attempt.
    Schedule {
        due_at: Timestamp,
        reason: String,
        tried: bool,
    },
}

/// A request waiting to be called back.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Callback {
    pub request: RequestId,
    pub due_at: Timestamp,
    pub reason: String,
    /// Calls that did not reach the household since it was queued.
    pub attempts: u32,
    /// The operator holding it, while `claimed_until` is ahead.
    pub claimed_by: Option<String>,
    pub claimed_until: Timestamp,
}

/// A messenger chat linked to the phone number its person shared.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct MessengerChat {
    /// The channel's name (`telegram`).
    pub channel: String,
    /// The chat's id on that messenger.
    pub chat: String,
    /// E.164.
    pub phone: String,
    pub linked_at: Timestamp,
}

/// A call from its stored columns.
#[allow(clippy::too_many_arguments)]
pub fn call_from_columns(
    id: &str,
    request: &str,
    direction: &str,
    outcome: &str,
    phone: Option<String>,
    operator: String,
    note: String,
    at: i64,
) -> Result<Call, crate::StoreError> {
    Ok(Call {
        id: crate::parse_id("calls.id", id)?,
        request: crate::parse_id("calls.request_id", request)?,
        direction: CallDirection::parse(direction).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("calls.direction '{direction}' is unknown"))
        })?,
        outcome: CallOutcome::parse(outcome).ok_or_else(|| {
            crate::StoreError::Corrupt(format!("calls.outcome '{outcome}' is unknown"))
        })?,
        phone,
        operator,
        note,
        at: Timestamp::from_unix_micros(at),
    })
}
