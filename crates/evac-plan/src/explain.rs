//! Why a case has no seat: for every transport, the constraint that kept it off, over every
//! journey the transport is a leg of (a flight from Nur-Sultan may be out of reach directly and
//! full only on the convoy that leads to it: the convoy is named).

use std::collections::HashMap;

use serde::Serialize;

use crate::{
    Case, LEGS_MAX, Load, Plan, Settings, Transport, capacity_obstacle, journey_feasibility,
};

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
    /// The transport lands in another country than the household asks to be taken to.
    LandsElsewhere {
        lands_in: String,
        wanted: Vec<String>,
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
    /// The leg before does not end at this transport's hub.
    NoConnection {
        hub: String,
    },
    /// The feeder arrives at the hub too late for this departure (with the connection time).
    MissesConnection {
        hub: String,
        late_minutes: i64,
    },
    /// A feeder ending at `hub`, from where no transport out can take the household.
    NoOnward {
        hub: String,
    },
    /// What keeps the household off another leg of the journey (`leg`: that transport's id).
    OnLeg {
        leg: String,
        why: Box<Obstacle>,
    },
}

impl Obstacle {
    /// Whether it is about room on a transport, not about getting there or being allowed on.
    pub fn is_capacity(&self) -> bool {
        matches!(
            self,
            Obstacle::Seats { .. }
                | Obstacle::StretcherPlaces { .. }
                | Obstacle::WheelchairPlaces { .. }
                | Obstacle::Payload { .. }
                | Obstacle::Escorts { .. }
        )
    }

    /// Which reason to show when several journeys through a transport fail: the one that came
    /// closest (room on this transport, then room on another leg, then timing, then the rest).
    fn closeness(&self) -> u8 {
        match self {
            o if o.is_capacity() => 0,
            Obstacle::OnLeg { why, .. } if why.is_capacity() => 1,
            Obstacle::TooLate { .. }
            | Obstacle::WayOpensTooLate { .. }
            | Obstacle::MissesConnection { .. } => 2,
            Obstacle::OnLeg { why, .. } => why.closeness().max(2),
            // No way at all says least when another way gets further.
            Obstacle::Unreachable { .. } | Obstacle::WayClosed { .. } => 4,
            _ => 3,
        }
    }
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
            Obstacle::LandsElsewhere { lands_in, wanted } => write!(
                f,
                "lands in {lands_in}; the household asks to be taken to {}",
                wanted.join(" or ")
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
                // `what` is named in the plural ("wheelchair places", "kg of payload").
                let what = match needed {
                    1 => what.strip_suffix('s').unwrap_or(what),
                    _ => what,
                };
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
            Obstacle::NoConnection { hub } => {
                write!(f, "the leg before does not end at {hub}")
            }
            Obstacle::MissesConnection { hub, late_minutes } => write!(
                f,
                "misses the connection at {hub}: {late_minutes} min late after the feeder's arrival and the connection time"
            ),
            Obstacle::NoOnward { hub } => write!(
                f,
                "ends at {hub}, where no transport out can take the household"
            ),
            Obstacle::OnLeg { leg, why } => write!(f, "on the connecting {leg}: {why}"),
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
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); transports.len()];
    for (c, journey) in plan.assigned.iter().enumerate() {
        for &t in journey.iter().flat_map(|j| &j.legs) {
            loads[t].add(&cases[c]);
            on[t].push(c);
        }
    }
    // The journeys each transport is a leg of, up to `LEGS_MAX` legs (whether in time is
    // `journey_feasibility`'s question): the chains of feeders into its hub before it, and,
    // for a feeder, the chains on from the hub it ends at to a transport out.
    let mut from_hub: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut feeders_into: HashMap<&str, Vec<usize>> = HashMap::new();
    for (t, transport) in transports.iter().enumerate() {
        from_hub.entry(transport.hub.as_str()).or_default().push(t);
        if let Some(feed) = &transport.feeds {
            feeders_into.entry(feed.hub.as_str()).or_default().push(t);
        }
    }
    // Chains of at most `legs` legs ending with `t`, first leg first.
    fn before(
        transports: &[Transport],
        feeders_into: &HashMap<&str, Vec<usize>>,
        t: usize,
        legs: usize,
    ) -> Vec<Vec<usize>> {
        let mut chains = vec![vec![t]];
        if legs > 1 {
            for &f in feeders_into
                .get(transports[t].hub.as_str())
                .into_iter()
                .flatten()
            {
                for mut chain in before(transports, feeders_into, f, legs - 1) {
                    chain.push(t);
                    chains.push(chain);
                }
            }
        }
        chains
    }
    // Chains of at most `legs` legs starting with `t` and ending with a transport out.
    fn after(
        transports: &[Transport],
        from_hub: &HashMap<&str, Vec<usize>>,
        t: usize,
        legs: usize,
    ) -> Vec<Vec<usize>> {
        let Some(feed) = &transports[t].feeds else {
            return vec![vec![t]];
        };
        if legs < 2 {
            return Vec::new();
        }
        from_hub
            .get(feed.hub.as_str())
            .into_iter()
            .flatten()
            .flat_map(|&u| after(transports, from_hub, u, legs - 1))
            .map(|rest| std::iter::once(t).chain(rest).collect())
            .collect()
    }
    // By transport, once for every case.
    let ways: Vec<Vec<Vec<usize>>> = (0..transports.len())
        .map(|t| {
            let mut ways = Vec::new();
            for head in before(transports, &feeders_into, t, LEGS_MAX) {
                for tail in after(transports, &from_hub, t, LEGS_MAX + 1 - head.len()) {
                    ways.push(head.iter().chain(&tail[1..]).copied().collect());
                }
            }
            ways
        })
        .collect();
    // Whether case `a` comes after case `b` in serving order (class, then score, then id).
    let after = |a: &Case, b: &Case| {
        a.class
            .cmp(&b.class)
            .then(b.score.total_cmp(&a.score))
            .then(a.id.cmp(&b.id))
            .is_gt()
    };
    // What keeps case `c` off the journey of `legs`, seen from its leg `t`; `None`: nothing.
    let blocked = |c: usize, t: usize, legs: &[usize]| -> Option<Obstacle> {
        let case = &cases[c];
        let (leg, mut obstacle) = journey_feasibility(transports, legs, case, &settings)
            .err()
            .or_else(|| {
                legs.iter().find_map(|&u| {
                    capacity_obstacle(&transports[u], &loads[u], case, &settings).map(|o| (u, o))
                })
            })?;
        if let Obstacle::Seats {
            told_lower_priority,
            lower_priority,
            ..
        } = &mut obstacle
        {
            let behind = || on[leg].iter().copied().filter(|&o| after(&cases[o], case));
            *lower_priority = behind().map(|o| cases[o].people).sum();
            *told_lower_priority = behind()
                .filter(|&o| told.get(o).copied().unwrap_or(false))
                .map(|o| cases[o].people)
                .sum();
        }
        Some(if leg == t {
            obstacle
        } else {
            Obstacle::OnLeg {
                leg: transports[leg].id.clone(),
                why: Box::new(obstacle),
            }
        })
    };
    let mut by_departure: Vec<usize> = (0..transports.len()).collect();
    by_departure.sort_by_key(|&t| (transports[t].departs_at_us, t));
    plan.assigned
        .iter()
        .enumerate()
        .filter(|(_, journey)| journey.is_none())
        .map(|(c, _)| Unseated {
            case: cases[c].id.clone(),
            why: by_departure
                .iter()
                .filter_map(|&t| {
                    let ways = &ways[t];
                    let obstacle = if ways.is_empty() {
                        let hub = transports[t].feeds.as_ref().map(|f| f.hub.clone());
                        Obstacle::NoOnward {
                            hub: hub.unwrap_or_default(),
                        }
                    } else {
                        let mut closest: Option<Obstacle> = None;
                        for way in ways {
                            // A journey it could take: nothing keeps it off this transport.
                            let o = blocked(c, t, way)?;
                            if closest
                                .as_ref()
                                .is_none_or(|k| o.closeness() < k.closeness())
                            {
                                closest = Some(o);
                            }
                        }
                        closest?
                    };
                    Some((transports[t].id.clone(), obstacle))
                })
                .collect(),
        })
        .collect()
}
