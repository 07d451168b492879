//! The situation picture's first pieces: hubs people leave from, their status over time, and
//! reports of uneven reliability graded with the Admiralty code (source reliability A–F,
//! information credibility 1–6). A status change records a status staff set; `trust.rs`
//! derives a hub's status from graded claims.

use std::fmt;

use crate::{CountryCode, Timestamp};

string_enum!(
    /// What kind of place people leave from.
    HubKind { Airport = "airport", RailStation = "rail_station", BusTerminal = "bus_terminal", BorderCrossing = "border_crossing" }
);
string_enum!(
    /// Whether people can leave through a hub.
    HubStatus { Open = "open", Restricted = "restricted", Closed = "closed" }
);
string_enum!(
    /// Where a report stands with the operators.
    ReportState { Draft = "draft", Confirmed = "confirmed", Dismissed = "dismissed" }
);

/// A hub: an airport from the shipped data, or a station, terminal or crossing staff add.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hub {
    /// IATA code where there is one (`ALA`), else the ICAO or a staff-chosen code.
    pub code: String,
    pub kind: HubKind,
    pub name: String,
    pub country: CountryCode,
    pub municipality: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub iata: Option<String>,
    pub icao: Option<String>,
}

/// A hub's status from a time on (until the next change, or `until`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HubStatusChange {
    pub hub: String,
    pub status: HubStatus,
    pub from: Timestamp,
    pub until: Option<Timestamp>,
    /// Why, in words staff read ("seized by protesters", "night curfew 23:00–07:00").
    pub note: String,
}

/// The Admiralty grading: how far the source is trusted (A reliable … E unreliable, F cannot
/// be judged) and how credible this piece is (1 confirmed … 5 improbable, 6 cannot be judged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grade {
    reliability: u8,
    credibility: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an Admiralty grade; write a letter A–F and a digit 1–6, e.g. B2")]
pub struct GradeError(pub String);

impl Grade {
    pub fn reliability(self) -> char {
        (b'A' + self.reliability) as char
    }

    pub fn credibility(self) -> u8 {
        self.credibility + 1
    }
}

impl std::str::FromStr for Grade {
    type Err = GradeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let b = t.as_bytes();
        if b.len() == 2 && (b'A'..=b'F').contains(&b[0]) && (b'1'..=b'6').contains(&b[1]) {
            Ok(Grade {
                reliability: b[0] - b'A',
                credibility: b[1] - b'1',
            })
        } else {
            Err(GradeError(s.to_string()))
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.reliability(), self.credibility())
    }
}

impl serde::Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A piece of situation information as received.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub id: crate::ReportId,
    pub received_at: Timestamp,
    /// Who said it ("Sputnik, quoting the Russian MFA crisis centre").
    pub source: String,
    /// `None` until an operator grades it.
    pub grade: Option<Grade>,
    pub language: Option<String>,
    pub text: String,
    pub state: ReportState,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_read_and_print_as_staff_write_them() {
        let g: Grade = "b2".parse().unwrap();
        assert_eq!(
            (g.reliability(), g.credibility(), g.to_string()),
            ('B', 2, "B2".to_string())
        );
        assert!("G1".parse::<Grade>().is_err());
        assert!("A7".parse::<Grade>().is_err());
        assert!("A".parse::<Grade>().is_err());
    }
}
