//! Why a case has no seat: for every transport, the constraint that kept it off.

use serde::Serialize;

use crate::{Case, Load, Plan, Settings, Transport, capacity_obstacle, feasibility};

/// A constraint that keeps a case off a transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "obstacle", rename_all = "snake_case")]
pub enum Obstacle {
    /// The household may not be seated at all (eligibility), in the policy's words.
    NotEligible {
        why: String,
    },
    /// Cancelled or departed.
    NotUsable,
    /// The transport carries only some states' citizens (and their dependants), and nobody
    /// in the household is recorded as one.
    NotCarried {
        carried: Vec<String>,
        held: Vec<String>,
    },
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
    /// The way to the hub is closed from when the household is ready until the plan's end.
    WayClosed {
        hub: String,
    },
    /// The way to the hub opens later, too late for this departure by this many minutes.
    WayOpensTooLate {
        hub: String,
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
        /// People on it of a lower priority than the waiting case who were told of their seats
        /// (or checked in) and keep them.
        #[serde(skip_serializing_if = "is_zero")]
        told_lower_priority: u32,
        /// People on it of a lower priority, told or not (smaller households fit the seats left).
        #[serde(skip_serializing_if = "is_zero")]
        lower_priority: u32,
    },
    StretcherPlaces {
        places: u32,
        wanted: u32,
    },
    WheelchairPlaces {
        places: u32,
        wanted: u32,
    },
    /// People and their checked baggage would weigh more than the transport may lift.
    Payload {
        payload_kg: u32,
        wanted_kg: u64,
    },
    /// Unaccompanied minors whose household has no escort for them need one of the
    /// transport's escorts for every `minors_per_escort`.
    Escorts {
        minors: u32,
        escorts: u32,
        minors_per_escort: u32,
    },
}

impl std::fmt::Display for Obstacle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Obstacle::NotEligible { why } => write!(f, "{why}"),
            Obstacle::NotUsable => write!(f, "cancelled or departed"),
            Obstacle::NotCarried { carried, held } if held.is_empty() => write!(
                f,
                "carries citizens of {} and their dependants; no member's citizenship is recorded",
                carried.join(", ")
            ),
            Obstacle::NotCarried { carried, held } => write!(
                f,
                "carries citizens of {} and their dependants; the household holds {}",
                carried.join(", "),
                held.join(", ")
            ),
            Obstacle::HubClosed { hub } => write!(f, "hub {hub} is closed at departure"),
            Obstacle::Unreachable { hub } => {
                write!(f, "no open route from the household's location to {hub}")
            }
            Obstacle::TooLate { late_minutes } => write!(
                f,
                "cannot reach it in time: {late_minutes} min late after travel and check-in"
            ),
            Obstacle::WayClosed { hub } => {
                write!(f, "the way to {hub} stays closed")
            }
            Obstacle::WayOpensTooLate { hub, late_minutes } => write!(
                f,
                "the way to {hub} opens too late: {late_minutes} min late after travel and check-in"
            ),
            Obstacle::NeverFits { what, needed, has } => {
                write!(
                    f,
                    "the household needs {needed} {what}; it has {has} in all"
                )
            }
            Obstacle::Seats {
                seats,
                wanted,
                told_lower_priority: 0,
                lower_priority: 0,
            } => write!(
                f,
                "full: {wanted} people for {seats} seats, taken by households ahead in the queue"
            ),
            Obstacle::Seats {
                seats,
                wanted,
                told_lower_priority: 0,
                lower_priority,
            } => write!(
                f,
                "full: {wanted} people for {seats} seats; the last {lower_priority} went to smaller households of lower priority that fitted"
            ),
            Obstacle::Seats {
                seats,
                wanted,
                told_lower_priority,
                ..
            } => write!(
                f,
                "full: {wanted} people for {seats} seats; {told_lower_priority} of them are of lower priority but were told of their seats (or checked in) and keep them"
            ),
            Obstacle::StretcherPlaces { places, wanted } => {
                write!(f, "{wanted} stretchers for {places} stretcher places")
            }
            Obstacle::WheelchairPlaces { places, wanted } => {
                write!(f, "{wanted} wheelchairs for {places} wheelchair places")
            }
            Obstacle::Payload {
                payload_kg,
                wanted_kg,
            } => write!(
                f,
                "too heavy: {wanted_kg} kg of people and baggage for a payload of {payload_kg} kg"
            ),
            Obstacle::Escorts {
                minors,
                escorts,
                minors_per_escort,
            } => write!(
                f,
                "{minors} unaccompanied minors without an escort of their own for {escorts} escorts on board (one per {minors_per_escort} children)"
            ),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// A case without a seat, and what kept it off each transport.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unseated {
    pub case: String,
    /// (transport id, obstacle) for every transport, earliest departure first.
    pub why: Vec<(String, Obstacle)>,
}

/// `told[c]`: case `c` was told of its seat (or checked in) and kept it in this plan.
pub(crate) fn unseated(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    plan: &Plan,
    told: &[bool],
) -> Vec<Unseated> {
    let mut loads = vec![Load::empty(&settings); transports.len()];
    for (c, t) in plan.assigned.iter().enumerate() {
        if let Some(t) = t {
            loads[*t].add(&cases[c]);
        }
    }
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); transports.len()];
    for (c, t) in plan.assigned.iter().enumerate() {
        if let Some(t) = t {
            on[*t].push(c);
        }
    }
    // Whether case `a` comes after case `b` in serving order (class, then score, then id).
    let after = |a: &Case, b: &Case| {
        a.class
            .cmp(&b.class)
            .then(b.score.total_cmp(&a.score))
            .then(a.id.cmp(&b.id))
            .is_gt()
    };
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
                    let mut obstacle = feasibility(&transports[t], &cases[c], &settings)
                        .err()
                        .or_else(|| {
                            capacity_obstacle(&transports[t], &loads[t], &cases[c], &settings)
                        })?;
                    if let Obstacle::Seats {
                        told_lower_priority,
                        lower_priority,
                        ..
                    } = &mut obstacle
                    {
                        let behind = || {
                            on[t]
                                .iter()
                                .copied()
                                .filter(|&o| after(&cases[o], &cases[c]))
                        };
                        *lower_priority = behind().map(|o| cases[o].people).sum();
                        *told_lower_priority = behind()
                            .filter(|&o| told.get(o).copied().unwrap_or(false))
                            .map(|o| cases[o].people)
                            .sum();
                    }
                    Some((transports[t].id.clone(), obstacle))
                })
                .collect(),
        })
        .collect()
}
