//! The API's answers that are not one of the app's views as they stand: a list with its
//! counts, a view with the moment it was taken at, the short acknowledgement of a write. Each
//! is what its handler sends and what the OpenAPI document describes (`ToSchema`), so the
//! document cannot promise a shape the handler does not send.

use std::collections::BTreeMap;

use evac_model::{Claim, PersonId, Report, ReportId, Statement, Timestamp, Transport};
use serde::Serialize;
use utoipa::ToSchema;

/// A list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// A list as it stood at `at`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemsAt<T> {
    pub at: Timestamp,
    pub items: Vec<T>,
}

/// The transports a filter lets through, and how many there are in all.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransportList {
    pub items: Vec<Transport>,
    pub total: usize,
}

/// The ranking at `at`: how many cases there are, and the first `limit` of them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingPage {
    pub at: Timestamp,
    pub cases: usize,
    pub items: Vec<evac_app::RankedRequest>,
}

/// A page of the audit trail; `next_after` is the `after` of the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTrail {
    pub items: Vec<evac_store::AuditRecord>,
    pub next_after: Option<i64>,
}

/// The keys that verify boarding passes offline.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyingKeys {
    /// Always `Ed25519`.
    pub algorithm: &'static str,
    /// Every key, newest first, comma-separated: after a rotation, passes already sent were
    /// signed with an older key that verifies until their transport departs.
    pub public_key: String,
    /// The same keys as a list (base64url).
    pub public_keys: Vec<String>,
    pub token_format: &'static str,
}

/// A request's calls, oldest first, and its place in the callback queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallsOfRequest {
    pub items: Vec<evac_store::Call>,
    pub callback: Option<evac_store::Callback>,
}

/// The fields a correction changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    #[schema(examples(json!(["location", "phones"])))]
    pub changed: Vec<&'static str>,
}

/// The person a correction added to a party.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddedPerson {
    pub person: PersonId,
}

/// Whether the process can serve, and on which database.
#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}

/// A decision on a pair, as logged.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    /// The link log's number of the decision.
    pub seq: i64,
    /// The suggestion decided on.
    pub decided: i64,
    /// `match` or `distinct`.
    pub decision: &'static str,
}

/// A link decision undone.
#[derive(Debug, Serialize, ToSchema)]
pub struct Undone {
    pub undone: i64,
}

/// Messages to requesters, with every state's count and the inbox waiting for a human.
#[derive(Debug, Serialize, ToSchema)]
pub struct Outbox {
    pub items: Vec<evac_store::StoredMessage>,
    pub counts: BTreeMap<&'static str, u64>,
    pub inbox_waiting: evac_store::InboxWaiting,
}

/// An inbound message a human handled.
#[derive(Debug, Serialize, ToSchema)]
pub struct Handled {
    pub handled: evac_model::InboundId,
}

/// A statement entered by hand, and the report it was filed under.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusSet {
    pub report: ReportId,
    pub statement: Statement,
}

/// A report and the statements read from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportWithStatements {
    pub report: Report,
    pub statements: Vec<Claim>,
}

/// Who a staff token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub name: String,
    pub role: evac_model::Role,
}
