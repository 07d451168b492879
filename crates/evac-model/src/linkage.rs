//! The record of linkage decisions: an append-only log of link events between two persons
//! (party members of stored requests). Nothing is ever merged in place: requests and their
//! people stay as they arrived, and "the same person" or "one household" is what the log says
//! now. So every merge can be undone (an `undo` event names the event it reverses), and every
//! decision keeps who made it, when, and the evidence (match probability and per-field weights)
//! it was made on.

use std::fmt;

use crate::{Actor, PersonId, Timestamp};

string_enum!(
    /// What a link event says about its two persons: `auto_merge` (the model was sure enough),
    /// `review` (uncertain: waiting in the review queue), `match` and `distinct` (a case
    /// officer's decision), `undo` (reverses the event it refers to).
    LinkEventKind { AutoMerge = "auto_merge", Review = "review", Match = "match", Distinct = "distinct", Undo = "undo" }
);

/// One link event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LinkEvent {
    pub at: Timestamp,
    pub actor: Actor,
    pub kind: LinkEventKind,
    pub person_a: PersonId,
    pub person_b: PersonId,
    pub match_probability: f64,
    /// The per-field weights the event was made on, as JSON (the linkage crate's `Score`).
    pub explanation: String,
    /// For decisions and undos: the event decided or reversed.
    pub refers_to: Option<i64>,
}

/// A link event as stored, with its position in the log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct StoredLinkEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub event: LinkEvent,
}
