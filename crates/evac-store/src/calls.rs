//! The hotline's call log and callback queue, and the messenger chats people linked to their
//! phone numbers.
//!
//! Every call to or from a request's people is a row with its outcome. A request that must be
//! called back has one row in the callback queue (due when, why, after how many tries); an
//! operator takes the next due callback for a lease, so two operators never dial the same
//! family, and logging the call settles or re-schedules it in the same transaction.

use evac_model::{RequestId, Timestamp};

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    /// The family called the hotline.
    Inbound,
    /// An operator called the family.
    Outbound,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// Someone of the household was spoken to.
    Reached,
    NoAnswer,
    Busy,
    /// A message was left (voicemail, a neighbour): not reached yet.
    LeftMessage,
    /// The number is not theirs: the request's contacts need correcting.
    WrongNumber,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 5] = [
        CallOutcome::Reached,
        CallOutcome::NoAnswer,
        CallOutcome::Busy,
        CallOutcome::LeftMessage,
        CallOutcome::WrongNumber,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::NoAnswer => "no_answer",
            CallOutcome::Busy => "busy",
            CallOutcome::LeftMessage => "left_message",
            CallOutcome::WrongNumber => "wrong_number",
        }
    }

    pub fn parse(s: &str) -> Option<CallOutcome> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the household still has to be reached after a call that ended so.
    pub fn needs_another_try(self) -> bool {
        matches!(
            self,
            CallOutcome::NoAnswer | CallOutcome::Busy | CallOutcome::LeftMessage
        )
    }
}

impl CallDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            CallDirection::Inbound => "inbound",
            CallDirection::Outbound => "outbound",
        }
    }

    pub fn parse(s: &str) -> Option<CallDirection> {
        [CallDirection::Inbound, CallDirection::Outbound]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// A call to log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
