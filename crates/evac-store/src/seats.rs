//! The seat log's stored rows as both backends read them, so parsing and its error messages
//! live once. Backends select [`SEAT_COLUMNS`] in the order of [`SeatRow`]'s fields.

use evac_model::{SeatEvent, SeatEventKind, StoredSeatEvent, Timestamp};

use crate::{StoreError, actor_from_label, parse_id};

/// The columns of `seat_events`, in select order.
pub struct SeatRow {
    pub seq: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub person_id: String,
    pub household: String,
    pub transport_id: String,
    pub class: i64,
    pub pass: String,
    pub reason: String,
    pub seat_number: Option<i64>,
}

/// The select list matching [`SeatRow`].
pub const SEAT_COLUMNS: &str =
    "seq, at, actor, kind, person_id, household, transport_id, class, pass, reason, seat_number";

impl SeatRow {
    pub fn into_event(self) -> Result<StoredSeatEvent, StoreError> {
        Ok(StoredSeatEvent {
            seq: self.seq,
            event: SeatEvent {
                at: Timestamp::from_unix_micros(self.at),
                actor: actor_from_label(&self.actor)?,
                kind: SeatEventKind::parse(&self.kind).ok_or_else(|| {
                    StoreError::Corrupt(format!("unknown seat event kind '{}'", self.kind))
                })?,
                person: parse_id("seat_events.person_id", &self.person_id)?,
                household: self.household,
                transport: parse_id("seat_events.transport_id", &self.transport_id)?,
                class: u8::try_from(self.class).map_err(|_| {
                    StoreError::Corrupt(format!("seat_events.class {} is no class", self.class))
                })?,
                pass: parse_id("seat_events.pass", &self.pass)?,
                reason: self.reason,
                seat_number: self
                    .seat_number
                    .map(|n| {
                        u32::try_from(n).map_err(|_| {
                            StoreError::Corrupt(format!("seat_events.seat_number {n} is no seat"))
                        })
                    })
                    .transpose()?,
            },
        })
    }
}

/// What a refused seat event says: the unique index that stops a second check-in or boarding.
pub fn seat_conflict(event: &SeatEvent) -> StoreError {
    StoreError::Conflict {
        what: format!(
            "boarding pass {} is already {}; a second scan of the same pass is refused",
            event.pass,
            match event.kind {
                SeatEventKind::Boarded => "boarded",
                _ => "checked in",
            }
        ),
    }
}

/// What a refused seat event says, from the rule that refused it (the name the schema's
/// triggers raise: `live_seat_one_per_leg`, `live_seat_within_seats`,
/// `live_seat_is_this_pass`) and the event's person, transport and pass as stored.
pub fn live_seat_refusal(rule: &str, person: &str, transport: &str, pass: &str) -> StoreError {
    StoreError::Refused(match rule {
        "live_seat_one_per_leg" => format!(
            "person {person} already holds a seat on a transport of that kind (one way out, and at most one feeder from each hub); release it before seating them on transport {transport}"
        ),
        "live_seat_within_seats" => format!(
            "transport {transport} has no free seat for person {person}: every seat is held"
        ),
        "live_seat_number_once" => format!(
            "transport {transport} has given that seat number to someone else already; person {person} needs another"
        ),
        _ => format!(
            "boarding pass {pass} is not person {person}'s seat in that state any more: they were moved, released or scanned meanwhile"
        ),
    })
}

/// The rules of the live seats, by the names the schema's triggers raise.
pub const LIVE_SEAT_RULES: [&str; 4] = [
    "live_seat_one_per_leg",
    "live_seat_within_seats",
    "live_seat_number_once",
    "live_seat_is_this_pass",
];

/// A household found present at a hub before it holds a seat there (a field officer saw its
/// people at the airport, by the reference of one of its requests): standby calls it first.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct Presence {
    #[schema(value_type = String)]
    pub request: evac_model::RequestId,
    /// The hub's code.
    pub hub: String,
    pub at: Timestamp,
    /// Who saw them (an actor label, `user:…`).
    pub actor: String,
}
