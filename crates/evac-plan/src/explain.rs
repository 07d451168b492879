//! Why a case has no seat: for every transport, the constraint that kept it off.

use serde::Serialize;

use crate::{Case, Load, Plan, Settings, Transport, capacity_obstacle, feasibility};

/// A constraint that keeps a case off a transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "obstacle", rename_all = "snake_case")]
pub enum Obstacle {
    /// Cancelled or departed.
    NotUsable,
    HubClosed {
        hub: String,
    },
    /// No open route from the case's location to the hub.
    Unreachable {
        hub: String,
    },
    /// Ready, travel and check-in end this many minutes after departure.
    TooLate {
        late_minutes: i64,
    },
    /// The household needs more of something than the transport has at all.
    NeverFits {
        what: &'static str,
        needed: u32,
        has: u32,
    },
    Seats {
        seats: u32,
        wanted: u32,
    },
    StretcherPlaces {
        places: u32,
        wanted: u32,
    },
    WheelchairPlaces {
        places: u32,
        wanted: u32,
    },
    /// Unaccompanied minors need an escort for every `minors_per_escort`.
    Escorts {
        minors: u32,
        escorts: u32,
        minors_per_escort: u32,
    },
}

impl std::fmt::Display for Obstacle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Obstacle::NotUsable => write!(f, "cancelled or departed"),
            Obstacle::HubClosed { hub } => write!(f, "hub {hub} is closed at departure"),
            Obstacle::Unreachable { hub } => {
                write!(f, "no open route from the household's location to {hub}")
            }
            Obstacle::TooLate { late_minutes } => write!(
                f,
                "cannot reach it in time: {late_minutes} min late after travel and check-in"
            ),
            Obstacle::NeverFits { what, needed, has } => {
                write!(
                    f,
                    "the household needs {needed} {what}; it has {has} in all"
                )
            }
            Obstacle::Seats { seats, wanted } => {
                write!(
                    f,
                    "full: {wanted} people for {seats} seats with higher priorities"
                )
            }
            Obstacle::StretcherPlaces { places, wanted } => {
                write!(f, "{wanted} stretchers for {places} stretcher places")
            }
            Obstacle::WheelchairPlaces { places, wanted } => {
                write!(f, "{wanted} wheelchairs for {places} wheelchair places")
            }
            Obstacle::Escorts {
                minors,
                escorts,
                minors_per_escort,
            } => write!(
                f,
                "{minors} unaccompanied minors and {escorts} escorts (one per {minors_per_escort} children)"
            ),
        }
    }
}

/// A case without a seat, and what kept it off each transport.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unseated {
    pub case: String,
    /// (transport id, obstacle) for every transport, earliest departure first.
    pub why: Vec<(String, Obstacle)>,
}

pub(crate) fn unseated(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    plan: &Plan,
) -> Vec<Unseated> {
    let mut loads = vec![Load::default(); transports.len()];
    for (c, t) in plan.assigned.iter().enumerate() {
        if let Some(t) = t {
            loads[*t].add(&cases[c]);
        }
    }
    let mut by_departure: Vec<usize> = (0..transports.len()).collect();
    by_departure.sort_by_key(|&t| (transports[t].departs_at_us, t));
    plan.assigned
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_none())
        .map(|(c, _)| Unseated {
            case: cases[c].id.clone(),
            why: by_departure
                .iter()
                .filter_map(|&t| {
                    let obstacle = feasibility(&transports[t], &cases[c], &settings)
                        .err()
                        .or_else(|| {
                            capacity_obstacle(&transports[t], &loads[t], &cases[c], &settings)
                        })?;
                    Some((transports[t].id.clone(), obstacle))
                })
                .collect(),
        })
        .collect()
}
