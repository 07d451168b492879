//! The outbox and the inbox: every message to a requester is a stored row before any channel
//! sees it, and every message from one is stored before anything reads it.
//!
//! A message is queued once per dedup key (a second publication, a retry or a crash never
//! queues the same notice twice), then claimed by a sender for a lease (on any node: a claim
//! takes only messages nobody holds), sent, and finished: accepted by the channel (its people
//! become `notified` in the same transaction), or failed with the time of the next attempt, or
//! given up. A delivery report may follow. A sender that dies holding messages loses them when
//! its lease ends; whoever claims next sends them, unless a delivery report came meanwhile
//! (the channel did take them).

use evac_model::{InboundId, MessageId, PersonId, RequestId, Timestamp};

/// A message to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub id: MessageId,
    /// One message per key, ever: `seat:{household}:{pass}:{recipient}` and the like.
    pub dedup_key: String,
    pub request: Option<RequestId>,
    /// The people it tells: accepted, each who holds an assigned seat becomes notified.
    pub persons: Vec<PersonId>,
    /// `sms`, `email`, `log`, …
    pub channel: String,
    /// A phone number (E.164) or an e-mail address.
    pub recipient: String,
    pub language: String,
    /// The notice's template (`seat`, `seat-moved`, `ack`, …).
    pub template: String,
    /// The text as rendered when it was queued.
    pub body: String,
    /// SMS it costs (1 for other channels).
    pub parts: u32,
    /// 1 goes first.
    pub priority: u8,
    pub created_at: Timestamp,
}

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for a sender (a new message, or a failed one until its next attempt).
    Queued,
    /// A sender holds it (until its lease ends).
    Sending,
    /// The channel took it.
    Sent,
    /// The channel reported it delivered.
    Delivered,
    /// The channel reported it undeliverable.
    Failed,
    /// Every attempt failed; staff see who was never reached.
    GivenUp,
}

impl MessageState {
    pub const ALL: [MessageState; 6] = [
        MessageState::Queued,
        MessageState::Sending,
        MessageState::Sent,
        MessageState::Delivered,
        MessageState::Failed,
        MessageState::GivenUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sending => "sending",
            MessageState::Sent => "sent",
            MessageState::Delivered => "delivered",
            MessageState::Failed => "failed",
            MessageState::GivenUp => "given_up",
        }
    }

    pub fn parse(s: &str) -> Option<MessageState> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// A message as stored, with where it stands.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredMessage {
    pub id: MessageId,
    pub dedup_key: String,
    pub request: Option<RequestId>,
    pub persons: Vec<PersonId>,
    pub channel: String,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub body: String,
    pub parts: u32,
    pub priority: u8,
    pub created_at: Timestamp,
    pub state: MessageState,
    pub attempts: u32,
    pub next_at: Timestamp,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub done_at: Option<Timestamp>,
}

/// How a send ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SendOutcome {
    /// The channel took it (Kannel queued it, the SMTP server accepted it).
    Accepted { provider_id: Option<String> },
    /// It failed; try again at `retry_at`, or give up when `None`.
    Failed {
        error: String,
        retry_at: Option<Timestamp>,
    },
}

/// What a channel's report says of a message it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryReport {
    /// The network took it (Kannel's "delivered to the SMS centre"): as good as the
    /// channel's own acceptance, and proof of it when the node that sent it died before it
    /// could record the answer.
    TakenByNetwork,
    /// It reached the phone.
    Delivered,
    /// It will not reach the phone (refused by the SMS centre, or undeliverable).
    Undelivered,
}

/// Which messages to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageFilter {
    pub request: Option<RequestId>,
    pub state: Option<MessageState>,
    /// Messages to this phone number or address (a reply is matched to what evac sent it).
    pub recipient: Option<String>,
}

/// A message from a requester, as it arrived.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInbound {
    pub id: InboundId,
    /// `sms`, `email`, `call`, …
    pub channel: String,
    /// The channel's own id for it, when it has one: the same id twice is stored once.
    pub provider_id: Option<String>,
    /// A phone number (E.164 where it parses) or an e-mail address.
    pub sender: String,
    pub received_at: Timestamp,
    pub text: String,
    /// The request it was attached to (by its reference code or its sender), if any.
    pub request: Option<RequestId>,
    /// What evac read in it: `status`, `yes`, `no`, or `other` for a human to read.
    pub understood: String,
    /// `attached` (evac answered it or it needs no answer), `unmatched` (a human must
    /// attach it), `to_read` (attached, a human must read it).
    pub state: String,
}

/// An inbound message as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct StoredInbound {
    pub id: InboundId,
    pub channel: String,
    pub provider_id: Option<String>,
    pub sender: String,
    pub received_at: Timestamp,
    pub text: String,
    pub request: Option<RequestId>,
    pub understood: String,
    pub state: String,
    pub handled_by: Option<String>,
    pub handled_at: Option<Timestamp>,
}

/// Inbound messages waiting for a human, and how old the oldest is.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct InboxWaiting {
    pub messages: u64,
    pub oldest: Option<Timestamp>,
}

/// The states of the inbox that wait for a human.
pub const INBOX_WAITING_STATES: [&str; 2] = ["unmatched", "to_read"];

/// The columns of `outbox`, in select order (both backends).
pub const MESSAGE_COLUMNS: &str = "id, dedup_key, request_id, persons, channel, recipient, language, template, body, parts, priority, created_at, state, attempts, next_at, provider_id, last_error, sent_at, done_at";

/// A stored message's columns as both backends read them.
pub struct MessageRow {
    pub id: String,
    pub dedup_key: String,
    pub request_id: Option<String>,
    pub persons: String,
    pub channel: String,
    pub recipient: String,
    pub language: String,
    pub template: String,
    pub body: String,
    pub parts: i64,
    pub priority: i64,
    pub created_at: i64,
    pub state: String,
    pub attempts: i64,
    pub next_at: i64,
    pub provider_id: Option<String>,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub done_at: Option<i64>,
}

impl MessageRow {
    pub fn into_message(self) -> Result<StoredMessage, crate::StoreError> {
        let corrupt = |what: &str| crate::StoreError::Corrupt(format!("outbox.{what}"));
        let persons: Vec<String> =
            serde_json::from_str(&self.persons).map_err(|_| corrupt("persons"))?;
        Ok(StoredMessage {
            id: crate::parse_id("outbox.id", &self.id)?,
            dedup_key: self.dedup_key,
            request: self
                .request_id
                .map(|r| crate::parse_id("outbox.request_id", &r))
                .transpose()?,
            persons: persons
                .iter()
                .map(|p| crate::parse_id("outbox.persons", p))
                .collect::<Result<_, _>>()?,
            channel: self.channel,
            recipient: self.recipient,
            language: self.language,
            template: self.template,
            body: self.body,
            parts: u32::try_from(self.parts).map_err(|_| corrupt("parts"))?,
            priority: u8::try_from(self.priority).map_err(|_| corrupt("priority"))?,
            created_at: Timestamp::from_unix_micros(self.created_at),
            state: MessageState::parse(&self.state).ok_or_else(|| corrupt("state"))?,
            attempts: u32::try_from(self.attempts).map_err(|_| corrupt("attempts"))?,
            next_at: Timestamp::from_unix_micros(self.next_at),
            provider_id: self.provider_id,
            last_error: self.last_error,
            sent_at: self.sent_at.map(Timestamp::from_unix_micros),
            done_at: self.done_at.map(Timestamp::from_unix_micros),
        })
    }
}

/// The columns of `inbox`, in select order (both backends).
pub const INBOUND_COLUMNS: &str = "id, channel, provider_id, sender, received_at, text, request_id, understood, state, handled_by, handled_at";

/// A stored inbound message's columns as both backends read them.
pub struct InboundRow {
    pub id: String,
    pub channel: String,
    pub provider_id: Option<String>,
    pub sender: String,
    pub received_at: i64,
    pub text: String,
    pub request_id: Option<String>,
    pub understood: String,
    pub state: String,
    pub handled_by: Option<String>,
    pub handled_at: Option<i64>,
}

impl InboundRow {
    pub fn into_inbound(self) -> Result<StoredInbound, crate::StoreError> {
        Ok(StoredInbound {
            id: crate::parse_id("inbox.id", &self.id)?,
            channel: self.channel,
            provider_id: self.provider_id,
            sender: self.sender,
            received_at: Timestamp::from_unix_micros(self.received_at),
            text: self.text,
            request: self
                .request_id
                .map(|r| crate::parse_id("inbox.request_id", &r))
                .transpose()?,
            understood: self.understood,
            state: self.state,
            handled_by: self.handled_by,
            handled_at: self.handled_at.map(Timestamp::from_unix_micros),
        })
    }
}

/// The person event a channel's acceptance writes, in staff's words.
pub fn notified_reason(channel: &str, template: &str) -> String {
    format!("{template} notice accepted by {channel}")
}
