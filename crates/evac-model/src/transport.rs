//! Transports: the flights, buses, trains and convoys people are planned onto. A transport's
//! status moves planned → confirmed → boarding → departed, or to cancelled; a cancelled or
//! departed transport takes nobody new.

use std::fmt;

use crate::{Timestamp, TransportId};

string_enum!(
    /// What moves the people.
    TransportKind { Flight = "flight", Bus = "bus", Train = "train", Convoy = "convoy" }
);
string_enum!(
    /// Where a transport stands.
    TransportStatus {
        Planned = "planned", Confirmed = "confirmed", Boarding = "boarding",
        Departed = "departed", Cancelled = "cancelled",
    }
);

/// A transport people can be assigned to.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Transport {
    pub id: TransportId,
    /// What staff call it ("RF-7042", "bus 3").
    pub code: String,
    pub kind: TransportKind,
    /// The hub it leaves from (a hub code).
    pub hub: String,
    /// Where it goes, in staff's words ("Moscow Chkalovsky", "Bishkek").
    pub destination: String,
    pub departs_at: Timestamp,
    pub seats: u32,
    pub stretcher_places: u32,
    pub wheelchair_places: u32,
    /// Escorts on board who can accompany unaccompanied minors.
    pub escorts: u32,
    pub status: TransportStatus,
    /// What it may lift in people and their baggage, in kilograms (an Il-76 is bound by weight
    /// before seats on a long leg); `None`: only its seats bound it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_kg: Option<u32>,
    /// Checked baggage each passenger may bring, in kilograms (told on the pass, counted
    /// toward the payload); `None`: not said, counted as none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baggage_kg_per_person: Option<u32>,
    /// Whose citizens it carries (a state's own flight, "RU, BY"), with their dependants of any
    /// nationality, as the policy's eligibility counts them; empty: whoever the policy seats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carries_citizens_of: Vec<crate::CountryCode>,
    /// The country it lands in, when it takes people out: households asking to be taken
    /// elsewhere are not seated on it; `None`: not said, it serves any destination.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lands_in: Option<crate::CountryCode>,
    /// A military or state transport (an air force's or EMERCOM's Il-76): it may leave from a
    /// hub open to military transports alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub military: bool,
    /// Set for a feeder: a bus or convoy that does not take people out but to another hub
    /// inside the crisis (Almaty to Nur-Sultan's open airport), where they take an onward
    /// transport planned with it as one journey; `None`: it takes people out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feeds: Option<Feed>,
}

/// Where a feeder ends: the hub its people leave from next, and when it gets there.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Feed {
    pub hub: String,
    pub arrives_at: Timestamp,
}

/// Transports carry at most this many people (the largest aircraft, a long train).
pub const TRANSPORT_SEATS_MAX: u32 = 2_000;
/// A payload is given in kilograms from this…
pub const TRANSPORT_PAYLOAD_KG_MIN: u32 = 100;
/// …to this (an An-124 lifts 150 t; a train more, but it is bound by seats).
pub const TRANSPORT_PAYLOAD_KG_MAX: u32 = 250_000;
/// Checked baggage per passenger is at most this many kilograms.
pub const BAGGAGE_KG_PER_PERSON_MAX: u32 = 100;

impl Transport {
    /// Whether planning may put people on it.
    pub fn takes_people(&self) -> bool {
        !matches!(
            self.status,
            TransportStatus::Departed | TransportStatus::Cancelled
        )
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} from {} at {}",
            self.kind, self.code, self.hub, self.departs_at
        )
    }
}
