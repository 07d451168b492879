//! Transports: the flights, buses, trains and convoys people are planned onto. A transport's
//! status moves planned → confirmed → boarding → departed, or to cancelled; a cancelled or
//! departed transport takes nobody new.

use std::fmt;

use crate::{Timestamp, TransportId, valid_code};

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
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
}

/// Transports carry at most this many people (the largest aircraft, a long train).
pub const TRANSPORT_SEATS_MAX: u32 = 2_000;

impl Transport {
    /// Whether planning may put people on it.
    pub fn takes_people(&self) -> bool {
        !matches!(
            self.status,
            TransportStatus::Departed | TransportStatus::Cancelled
        )
    }

    /// Every problem with its fields, each with its path.
    pub fn problems(&self) -> Vec<crate::FieldError> {
        let mut problems = Vec::new();
        let mut problem = |path: &str, reason: String| {
            problems.push(crate::FieldError {
                path: path.into(),
                reason,
            })
        };
        if !valid_code(&self.code) {
            problem(
                "code",
                format!(
                    "'{}' is no code; use letters, digits and dashes, no spaces",
                    self.code
                ),
            );
        }
        if self.seats == 0 || self.seats > TRANSPORT_SEATS_MAX {
            problem(
                "seats",
                format!("{} seats; give 1 to {TRANSPORT_SEATS_MAX}", self.seats),
            );
        }
        for (path, places) in [
            ("stretcher_places", self.stretcher_places),
            ("wheelchair_places", self.wheelchair_places),
            ("escorts", self.escorts),
        ] {
            if places > self.seats {
                problem(
                    path,
                    format!("{places} is more than the {} seats", self.seats),
                );
            }
        }
        if self.destination.trim().is_empty() {
            problem("destination", "say where it goes".into());
        }
        problems
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_names_every_bad_field() {
        let t = Transport {
            id: TransportId::new_v7(),
            code: "RF 7042".into(),
            kind: TransportKind::Flight,
            hub: "ALA".into(),
            destination: " ".into(),
            departs_at: Timestamp::from_unix_micros(0),
            seats: 0,
            stretcher_places: 2,
            wheelchair_places: 0,
            escorts: 0,
            status: TransportStatus::Planned,
        };
        let paths: Vec<String> = t.problems().into_iter().map(|p| p.path).collect();
        assert_eq!(paths, ["code", "seats", "stretcher_places", "destination"]);
        let good = Transport {
            code: "RF-7042".into(),
            destination: "Moscow".into(),
            seats: 146,
            ..t
        };
        assert!(good.problems().is_empty());
        assert!(good.takes_people());
    }
}
