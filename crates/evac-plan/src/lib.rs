//! Evacuation planning: whole households onto journeys out, highest priority class first, then
//! earliest departure.
//!
//! The problem is a generalised assignment: each [`Case`] (a household that never splits) takes
//! at most one [`Journey`]: one transport that takes it out, or a feeder leg (a convoy from
//! Almaty to Nur-Sultan's airport, [`Transport::feeds`]) and then a transport out from the
//! hub where the feeder ends, leaving at least `connection_minutes` after it arrives; feeders
//! may chain (a bus to the convoy's gathering point first), up to [`LEGS_MAX`] legs. On every
//! leg the household needs seats, stretcher and wheelchair places, payload and escort capacity
//! for unaccompanied minors (escorts on board, plus escorts travelling with the case, each
//! accompanying up to `minors_per_escort` children). Whether a case can take a journey at all —
//! each hub open at that leg's departure, the first hub reachable from the case's location by
//! an open route, ready in time, every connection made — is [`journey_feasibility`]; what is
//! left is capacity. Arriving at a feeder's hub is not arriving: a feeder seat without an
//! onward seat is never planned.
//!
//! The objective is lexicographic by priority class: class 1's value first, then class 2's,
//! and so on. A class's value is Σ over its seated people of (`2 × horizon` − hours from the
//! plan's start to the departure of their journey's last leg): seating people counts most,
//! earlier departures out add. The fast
//! [`plan`] is greedy in priority order (earliest feasible transport first), then takes big
//! steps (ruin and recreate, `ruin.rs`: empty a few journeys a waiting household could take
//! and seat everyone again in a random order within each class), then local improvement
//! (moving a seated case to make room for a waiting one of the same or a higher class), then
//! big steps again; `exact.rs` solves the same objective with a MIP solver to measure the gap.
//!
//! Every case left without a seat says which constraint kept it off each candidate transport
//! ([`Unseated`]); [`replan`] keeps notified people where they are when it still can and says
//! who moved, who gained and who lost a seat, and why. [`instance::PlanInstance`] writes an
//! instance and evac's plan of it as a file an outside solver can check.
//!
//! Pure: no I/O, no clock. "Now" is the plan's start; the time limit is a `stop` predicate the
//! caller passes (it may read a clock; this crate does not).

pub mod exact;
mod explain;
pub mod instance;
mod replan;
mod ruin;

use std::collections::HashMap;

pub use explain::{Obstacle, Unseated};
pub use replan::{PlanDiff, Replanned, SeatChange, replan};
use serde::{Deserialize, Serialize};

/// A transport people can be assigned to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transport {
    pub id: String,
    /// The hub it leaves from (a hub code).
    pub hub: String,
    /// Departure, microseconds since the Unix epoch.
    pub departs_at_us: i64,
    /// Seats for people (a stretcher or wheelchair user also takes a seat).
    pub seats: u32,
    pub stretcher_places: u32,
    pub wheelchair_places: u32,
    /// Escorts on board who can accompany unaccompanied minors.
    pub escorts: u32,
    /// Whether it can be planned on: not cancelled, not departed.
    pub usable: bool,
    /// Whether its hub is open (or restricted) at departure, as the situation picture derives.
    pub hub_open_at_departure: bool,
    /// What it may lift in people and their baggage, in kilograms (an Il-76 is bound by weight
    /// before seats on a long leg); `None`: seats are the only bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_kg: Option<u32>,
    /// Checked baggage each passenger may bring, in kilograms; it counts toward the payload.
    #[serde(default)]
    pub baggage_kg_per_person: u32,
    /// Whose citizens it carries (with their dependants): a household may use it when one of
    /// its members holds one of these citizenships. Empty: anyone the policy seats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carries_citizens_of: Vec<String>,
    /// The country it lands in (ISO 3166-1 alpha-2) when it takes people out; `None` (or
    /// blank): not said, so any household's destination is taken as served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lands_in: Option<String>,
    /// Set when it does not take people out but to another hub inside the crisis, where they
    /// take an onward transport (a convoy to the only open airport); `None`: it takes people
    /// out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feeds: Option<Feed>,
}

/// Where a feeder leg ends: the hub its people leave from next, and when it gets there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    pub hub: String,
    /// Arrival, microseconds since the Unix epoch.
    pub arrives_at_us: i64,
}

/// The transports a household takes, by index, first leg first: each leg but the last is a
/// feeder ending at the hub the next leaves from; the last takes it out.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Journey {
    pub legs: Vec<usize>,
}

/// A journey has at most this many legs: up to two feeders in a chain (a bus from a town to
/// the gathering point of a convoy, the convoy to the only open airport), then the way out.
/// Each feeder more multiplies the journeys weighed for every household that boards the
/// first by the ones onward from its hub.
pub const LEGS_MAX: usize = 3;

impl Journey {
    /// One transport that takes the household out.
    pub fn direct(t: usize) -> Journey {
        Journey { legs: vec![t] }
    }

    /// The leg that takes the household out.
    pub fn last(&self) -> usize {
        *self.legs.last().expect("a journey has a leg")
    }
}

/// A household waiting for a seat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub people: u32,
    /// 1 is served first.
    pub class: u8,
    /// Higher first inside a class (waiting time, threat).
    pub score: f64,
    pub stretchers: u32,
    pub wheelchairs: u32,
    pub unaccompanied_minors: u32,
    /// Adults in the case who escort children not their own (a teacher with a school group).
    pub escorts: u32,
    /// Its people's standard masses with hand baggage, in kilograms (the policy's masses by
    /// age); a transport's payload counts them and each person's checked baggage.
    #[serde(default)]
    pub mass_kg: u32,
    /// When the household can set off, microseconds since the Unix epoch.
    pub ready_at_us: i64,
    /// Hubs it can reach by an open route, with the travel time.
    pub reach: Vec<Reach>,
    /// Why the household may not be seated at all (eligibility), if it may not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_eligible: Option<String>,
    /// Its members' recorded citizenships (ISO 3166-1 alpha-2), for transports that carry
    /// only some states' citizens.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citizenships: Vec<String>,
    /// The countries it asks to be taken to (ISO 3166-1 alpha-2; more than one when its
    /// merged requests name different ones): only a transport out landing in one of them (or
    /// saying nothing of where it lands) takes it; empty: anywhere safe.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destinations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    pub hub: String,
    pub travel_minutes: u32,
    /// When the way is open to travel on, as `[from, until)` in microseconds since the Unix
    /// epoch, earliest first; empty: open all along. A road closed today and open from
    /// tomorrow is one window from tomorrow; a road under a night curfew is a window each day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub open: Vec<(i64, i64)>,
}

impl Reach {
    /// Standing at `hub` already: no travel, the way always open.
    pub fn at(hub: &str) -> Reach {
        Reach {
            hub: hub.to_string(),
            travel_minutes: 0,
            open: Vec::new(),
        }
    }

    /// The earliest time at or after `ready_us` to set off so that the whole trip is inside
    /// one window of the way's opening (no one is on the road when it closes or the curfew
    /// starts), if ever.
    pub fn earliest_departure(&self, ready_us: i64) -> Option<i64> {
        if self.open.is_empty() {
            return Some(ready_us);
        }
        let travel_us = i64::from(self.travel_minutes) * 60_000_000;
        self.open
            .iter()
            .filter_map(|&(from, until)| {
                let leave = from.max(ready_us);
                (leave.saturating_add(travel_us) <= until).then_some(leave)
            })
            .min()
    }
}

/// The rules of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Children one escort may accompany.
    pub minors_per_escort: u32,
    /// Minutes a household must be at the hub before departure (check-in, security).
    pub check_in_minutes: u32,
    /// Local improvement stops after this many rounds without a gain (or when `stop` says);
    /// 0 leaves the greedy plan as it is (no ruin and recreate either).
    pub improvement_rounds_max: u32,
    /// In a re-plan, a household already told of its seat gives it up to a waiting household
    /// this many classes higher or more; `None`: told households keep their seats.
    pub told_yield_class_gap: Option<u8>,
    /// Minutes from a feeder's arrival to the onward departure (moving people across the
    /// hub and checking them in).
    pub connection_minutes: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            minors_per_escort: 10,
            check_in_minutes: 120,
            improvement_rounds_max: 8,
            told_yield_class_gap: None,
            connection_minutes: 120,
        }
    }
}

/// Which journey each case takes (`None`: no seat), by case index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub assigned: Vec<Option<Journey>>,
    /// The objective: per priority class (index 0 is class 1), the value of its seated people.
    pub value: Vec<f64>,
}

/// What a transport carries: people, special places, and the unaccompanied minors its own
/// escorts must take (those beyond what the escorts travelling with their household cover).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Load {
    /// Children one escort may accompany (the plan's setting, kept here so adding a case
    /// needs nothing else).
    minors_per_escort: u32,
    people: u32,
    stretchers: u32,
    wheelchairs: u32,
    minors_for_transport_escorts: u32,
    /// The people's standard masses (their checked baggage is the transport's allowance per
    /// person, added where the transport is known: [`over`]).
    mass_kg: u64,
}

impl Load {
    fn empty(s: &Settings) -> Load {
        Load {
            minors_per_escort: s.minors_per_escort,
            ..Load::default()
        }
    }

    fn add(&mut self, c: &Case) {
        self.mass_kg += u64::from(c.mass_kg);
        self.people += c.people;
        self.stretchers += c.stretchers;
        self.wheelchairs += c.wheelchairs;
        self.minors_for_transport_escorts += c.minors_beyond_own_escorts(self.minors_per_escort);
    }

    fn remove(&mut self, c: &Case) {
        self.mass_kg -= u64::from(c.mass_kg);
        self.people -= c.people;
        self.stretchers -= c.stretchers;
        self.wheelchairs -= c.wheelchairs;
        self.minors_for_transport_escorts -= c.minors_beyond_own_escorts(self.minors_per_escort);
    }
}

impl Transport {
    /// What `people` of `mass_kg` (standard masses) weigh on it with their checked baggage.
    pub(crate) fn lifted_kg(&self, people: u32, mass_kg: u64) -> u64 {
        mass_kg + u64::from(people) * u64::from(self.baggage_kg_per_person)
    }
}

impl Case {
    /// Its unaccompanied minors that the escorts travelling with it (a teacher with a school
    /// group) cannot take: they need the transport's escorts. Escorts are not pooled across
    /// households: a teacher accompanies their own group, not strangers' children.
    pub fn minors_beyond_own_escorts(&self, minors_per_escort: u32) -> u32 {
        self.unaccompanied_minors
            .saturating_sub(self.escorts.saturating_mul(minors_per_escort))
    }
}

/// The first capacity a transport carrying `load` breaks, or `None`.
fn over(t: &Transport, load: &Load, s: &Settings) -> Option<Obstacle> {
    if load.people > t.seats {
        return Some(Obstacle::Seats {
            seats: t.seats,
            wanted: load.people,
            told_lower_priority: 0,
            lower_priority: 0,
        });
    }
    if load.stretchers > t.stretcher_places {
        return Some(Obstacle::StretcherPlaces {
            places: t.stretcher_places,
            wanted: load.stretchers,
        });
    }
    if load.wheelchairs > t.wheelchair_places {
        return Some(Obstacle::WheelchairPlaces {
            places: t.wheelchair_places,
            wanted: load.wheelchairs,
        });
    }
    if let Some(payload_kg) = t.payload_kg {
        let wanted_kg = t.lifted_kg(load.people, load.mass_kg);
        if wanted_kg > u64::from(payload_kg) {
            return Some(Obstacle::Payload {
                payload_kg,
                wanted_kg,
            });
        }
    }
    if load.minors_for_transport_escorts > t.escorts * s.minors_per_escort {
        return Some(Obstacle::Escorts {
            minors: load.minors_for_transport_escorts,
            escorts: t.escorts,
            minors_per_escort: s.minors_per_escort,
        });
    }
    None
}

/// The first capacity a case would break on a transport already carrying `load`.
fn capacity_obstacle(t: &Transport, load: &Load, c: &Case, s: &Settings) -> Option<Obstacle> {
    let mut with = *load;
    with.add(c);
    over(t, &with, s)
}

/// Why a case may not ride a transport at all, as [`admits`] reads it, without the details
/// that name it: asked for every transport of every household's reachable hubs, so it
/// allocates nothing.
#[derive(Clone, Copy)]
enum Refused {
    NotEligible,
    NotUsable,
    NotCarried,
    LandsElsewhere,
    HubClosed,
}

/// Whether a case may ride a transport wherever it boards: eligible, the transport usable,
/// carrying its citizens and, when it takes people out, landing where the household asks to
/// go; its hub open at departure. (A feeder lands inside the crisis: where it ends is the
/// next leg's question.)
fn refused(t: &Transport, c: &Case) -> Option<Refused> {
    if c.not_eligible.is_some() {
        return Some(Refused::NotEligible);
    }
    if !t.usable {
        return Some(Refused::NotUsable);
    }
    if !t.carries_citizens_of.is_empty()
        && !c.citizenships.iter().any(|held| {
            t.carries_citizens_of
                .iter()
                .any(|k| k.eq_ignore_ascii_case(held))
        })
    {
        return Some(Refused::NotCarried);
    }
    if t.feeds.is_none()
        && let Some(lands_in) = lands_in(t)
        && wanted(c).next().is_some()
        && !wanted(c).any(|d| d.eq_ignore_ascii_case(lands_in))
    {
        return Some(Refused::LandsElsewhere);
    }
    if !t.hub_open_at_departure {
        return Some(Refused::HubClosed);
    }
    None
}

/// The country a transport lands in, when it says one.
fn lands_in(t: &Transport) -> Option<&str> {
    t.lands_in
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
}

/// The countries a household asks to go to.
fn wanted(c: &Case) -> impl Iterator<Item = &str> {
    c.destinations
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
}

/// [`refused`], with what names the reason.
fn admits(t: &Transport, c: &Case) -> Result<(), Obstacle> {
    match refused(t, c) {
        None => Ok(()),
        Some(Refused::NotEligible) => Err(Obstacle::NotEligible {
            why: c.not_eligible.clone().unwrap_or_default(),
        }),
        Some(Refused::NotUsable) => Err(Obstacle::NotUsable),
        Some(Refused::NotCarried) => Err(Obstacle::NotCarried {
            carried: t.carries_citizens_of.clone(),
            held: c.citizenships.clone(),
        }),
        Some(Refused::LandsElsewhere) => Err(Obstacle::LandsElsewhere {
            lands_in: lands_in(t).unwrap_or_default().to_string(),
            wanted: wanted(c).map(str::to_string).collect(),
        }),
        Some(Refused::HubClosed) => Err(Obstacle::HubClosed { hub: t.hub.clone() }),
    }
}

/// Whether the household needs more of something than the transport has at all.
fn never_fits(t: &Transport, c: &Case) -> Result<(), Obstacle> {
    let weighs_kg = u32::try_from(t.lifted_kg(c.people, u64::from(c.mass_kg))).unwrap_or(u32::MAX);
    for (what, needed, has) in [
        ("seats", c.people, t.seats),
        ("stretcher places", c.stretchers, t.stretcher_places),
        ("wheelchair places", c.wheelchairs, t.wheelchair_places),
        ("kg of payload", weighs_kg, t.payload_kg.unwrap_or(u32::MAX)),
    ] {
        if needed > has {
            return Err(Obstacle::NeverFits { what, needed, has });
        }
    }
    Ok(())
}

/// Minutes from `ready_us` to `deadline_us`, rounded up, when positive.
fn minutes_late(ready_us: i64, deadline_us: i64) -> i64 {
    (ready_us - deadline_us + 59_999_999) / 60_000_000
}

/// Whether a case can board a transport from its own location (before capacity), or the
/// reason it cannot: [`admits`], the hub reachable by a way open in time for travel and
/// check-in before departure, and large enough. Whether the transport takes it out or feeds
/// another is [`journey_feasibility`]'s question.
pub fn feasibility(t: &Transport, c: &Case, s: &Settings) -> Result<(), Obstacle> {
    admits(t, c)?;
    let Some(reach) = c.reach.iter().find(|r| r.hub == t.hub) else {
        return Err(Obstacle::Unreachable { hub: t.hub.clone() });
    };
    // The way is taken when it is open: a road that opens tomorrow serves tomorrow's flight.
    let Some(leaves) = reach.earliest_departure(c.ready_at_us) else {
        return Err(Obstacle::WayClosed { hub: t.hub.clone() });
    };
    let minutes = i64::from(reach.travel_minutes) + i64::from(s.check_in_minutes);
    let arrives = leaves + minutes * 60_000_000;
    if arrives > t.departs_at_us {
        let late_minutes = minutes_late(arrives, t.departs_at_us);
        return Err(if leaves > c.ready_at_us {
            Obstacle::WayOpensTooLate {
                hub: t.hub.clone(),
                late_minutes,
            }
        } else {
            Obstacle::TooLate { late_minutes }
        });
    }
    never_fits(t, c)
}

/// Whether anyone riding `before` (a feeder) can take `next` from the hub where it ends, with
/// the connection time.
fn connects(before: &Transport, next: &Transport, s: &Settings) -> Result<(), Obstacle> {
    let no_connection = || Obstacle::NoConnection {
        hub: next.hub.clone(),
    };
    let feed = before.feeds.as_ref().ok_or_else(no_connection)?;
    if feed.hub != next.hub {
        return Err(no_connection());
    }
    let ready = feed.arrives_at_us + i64::from(s.connection_minutes) * 60_000_000;
    if ready > next.departs_at_us {
        return Err(Obstacle::MissesConnection {
            hub: feed.hub.clone(),
            late_minutes: minutes_late(ready, next.departs_at_us),
        });
    }
    Ok(())
}

/// Whether a case can take `legs` in order (before capacity): the first boarded from its
/// location ([`feasibility`]), each next one leaving from the hub where the leg before ends at
/// least `connection_minutes` after it arrives, each admitting it at its own departure, and the
/// last taking it out. The error names the leg (a transport index) it concerns.
pub fn journey_feasibility(
    transports: &[Transport],
    legs: &[usize],
    c: &Case,
    s: &Settings,
) -> Result<(), (usize, Obstacle)> {
    let (&first, onward) = legs.split_first().expect("a journey has a leg");
    feasibility(&transports[first], c, s).map_err(|o| (first, o))?;
    let mut before = first;
    for &t in onward {
        admits(&transports[t], c)
            .and_then(|()| connects(&transports[before], &transports[t], s))
            .and_then(|()| never_fits(&transports[t], c))
            .map_err(|o| (t, o))?;
        before = t;
    }
    match &transports[before].feeds {
        Some(feed) => Err((
            before,
            Obstacle::NoOnward {
                hub: feed.hub.clone(),
            },
        )),
        None => Ok(()),
    }
}

/// The instance with each case's candidate journeys (feasible ones, earliest way out first).
pub(crate) struct Instance<'a> {
    pub transports: &'a [Transport],
    pub cases: &'a [Case],
    pub settings: Settings,
    /// Every journey the plan may use, by id, as its legs (`NO_LEG` after the last): the first
    /// `transports.len()` are the direct ones (journey `t` is transport `t` alone), then feeder
    /// journeys as cases need them. Inline, not a `Journey` each: the plan reads them in its
    /// innermost loops.
    journeys: Vec<[usize; LEGS_MAX]>,
    /// Ids of the journeys of more than one leg, by their inline legs.
    journey_ids: HashMap<[usize; LEGS_MAX], usize>,
    /// By case: the journeys it can take, by id.
    pub candidates: Vec<Vec<usize>>,
    /// Cases in priority order (class, then score, then id).
    pub order: Vec<usize>,
    pub start_us: i64,
    /// Twice the hours from the start to the last departure (at least one).
    pub base_hours: f64,
    pub classes: usize,
}

impl<'a> Instance<'a> {
    pub fn new(
        transports: &'a [Transport],
        cases: &'a [Case],
        settings: Settings,
        start_us: i64,
    ) -> Self {
        // Transports by hub, earliest first, so a case looks only at the hubs it reaches.
        let mut by_hub: HashMap<&str, Vec<usize>> = HashMap::new();
        for (t, transport) in transports.iter().enumerate() {
            by_hub.entry(transport.hub.as_str()).or_default().push(t);
        }
        for ts in by_hub.values_mut() {
            ts.sort_by_key(|&t| (transports[t].departs_at_us, t));
        }
        // By feeder: the journeys it starts (its people connecting at the hub it ends at to a
        // transport out, or to another feeder and on), earliest way out first (whoever rides
        // them). Built by length: a journey of k + 1 legs is a feeder before one of k.
        let mut journeys: Vec<[usize; LEGS_MAX]> = (0..transports.len())
            .map(|t| {
                let mut legs = [NO_LEG; LEGS_MAX];
                legs[0] = t;
                legs
            })
            .collect();
        let mut journey_ids = HashMap::new();
        let mut onward: Vec<Vec<usize>> = vec![Vec::new(); transports.len()];
        // By transport: the journeys of the last length built that start with it (a transport
        // out alone first).
        let mut shorter: Vec<Vec<usize>> = (0..transports.len())
            .map(|t| {
                if transports[t].feeds.is_none() {
                    vec![t]
                } else {
                    Vec::new()
                }
            })
            .collect();
        for _ in 1..LEGS_MAX {
            let longer: Vec<Vec<usize>> = transports
                .iter()
                .enumerate()
                .map(|(f, feeder)| {
                    let Some(feed) = &feeder.feeds else {
                        return Vec::new();
                    };
                    let mut longer = Vec::new();
                    for &next in by_hub.get(feed.hub.as_str()).into_iter().flatten() {
                        if connects(feeder, &transports[next], &settings).is_err() {
                            continue;
                        }
                        for &rest in &shorter[next] {
                            let mut legs = vec![f];
                            legs.extend_from_slice(legs_of(&journeys[rest]));
                            longer.push(
                                intern(&mut journeys, &mut journey_ids, &legs)
                                    .expect("built no longer than LEGS_MAX"),
                            );
                        }
                    }
                    longer
                })
                .collect();
            for (all, new) in onward.iter_mut().zip(&longer) {
                all.extend_from_slice(new);
            }
            shorter = longer;
        }
        // When each journey's last leg leaves (its candidates are ordered so).
        let leaves: Vec<i64> = journeys
            .iter()
            .map(|j| transports[last_leg(j)].departs_at_us)
            .collect();
        for starts in &mut onward {
            starts.sort_by_key(|&j| (leaves[j], j));
        }
        let candidates: Vec<Vec<usize>> = cases
            .iter()
            .map(|c| {
                let mut js: Vec<usize> = Vec::new();
                // What `feasibility` asks of each transport, asked once per hub where it can
                // be: a hub's transports are in departure order, so those leaving before the
                // household can be there are skipped at once (a binary search), and the way's
                // hours are read once. A hub reached two ways is read by its first, as
                // `feasibility` reads it.
                let boards = c
                    .reach
                    .iter()
                    .enumerate()
                    .filter(|&(i, r)| c.reach[..i].iter().all(|before| before.hub != r.hub))
                    .filter_map(|(_, r)| {
                        let at_hub = by_hub.get(r.hub.as_str())?;
                        let leaves = r.earliest_departure(c.ready_at_us)?;
                        let there_us = leaves
                            + (i64::from(r.travel_minutes) + i64::from(settings.check_in_minutes))
                                * 60_000_000;
                        let first_in_time =
                            at_hub.partition_point(|&t| transports[t].departs_at_us < there_us);
                        Some(&at_hub[first_in_time..])
                    })
                    .flatten()
                    .copied()
                    .filter(|&t| {
                        refused(&transports[t], c).is_none()
                            && never_fits(&transports[t], c).is_ok()
                    });
                for first in boards {
                    if transports[first].feeds.is_none() {
                        js.push(first);
                        continue;
                    }
                    let takes = |&&j: &&usize| {
                        legs_of(&journeys[j])[1..].iter().all(|&t| {
                            refused(&transports[t], c).is_none()
                                && never_fits(&transports[t], c).is_ok()
                        })
                    };
                    // The earliest transports out it can reach, each by every chain there (a
                    // full middle convoy must not hide the flight behind it). The chains are in
                    // order of the last leg's departure: past the last of those transports, no
                    // chain is needed.
                    let mut outs: Vec<usize> = Vec::new();
                    let mut last_out_leaves = i64::MIN;
                    for &j in &onward[first] {
                        let out = last_leg(&journeys[j]);
                        let new_out = !outs.contains(&out);
                        if new_out && outs.len() == ONWARD_TRIED_MAX {
                            if leaves[j] > last_out_leaves {
                                break;
                            }
                            continue;
                        }
                        if !takes(&&j) {
                            continue;
                        }
                        if new_out {
                            outs.push(out);
                            last_out_leaves = leaves[j];
                        }
                        js.push(j);
                    }
                }
                // A few runs in departure order already (one per hub, then the onward
                // journeys): a stable sort merges runs instead of sorting from scratch.
                js.sort_by_key(|&j| (leaves[j], j));
                js.dedup();
                js
            })
            .collect();
        let mut order: Vec<usize> = (0..cases.len()).collect();
        order.sort_by(|&a, &b| {
            cases[a]
                .class
                .cmp(&cases[b].class)
                .then(cases[b].score.total_cmp(&cases[a].score))
                .then(cases[a].id.cmp(&cases[b].id))
        });
        let last = transports
            .iter()
            .map(|t| t.departs_at_us)
            .max()
            .unwrap_or(start_us);
        let horizon_hours = ((last - start_us).max(0) as f64 / 3.6e9).max(1.0);
        let classes = cases
            .iter()
            .map(|c| usize::from(c.class))
            .max()
            .unwrap_or(1)
            .max(1);
        Instance {
            transports,
            cases,
            settings,
            journeys,
            journey_ids,
            candidates,
            order,
            start_us,
            base_hours: 2.0 * horizon_hours,
            classes,
        }
    }

    /// Journey `j`'s legs (transport indices), first leg first.
    pub fn legs(&self, j: usize) -> &[usize] {
        legs_of(&self.journeys[j])
    }

    /// The id of the journey of `legs` (a journey kept from an earlier plan may not be a
    /// candidate now); `None` for a journey of no leg or of more than [`LEGS_MAX`].
    pub fn id_of(&mut self, legs: &[usize]) -> Option<usize> {
        intern(&mut self.journeys, &mut self.journey_ids, legs)
    }

    /// When journey `j`'s last leg leaves.
    pub fn departs_us(&self, j: usize) -> i64 {
        self.transports[last_leg(&self.journeys[j])].departs_at_us
    }

    /// What seating case `c` on journey `j` adds to its class's value.
    pub fn gain(&self, c: usize, j: usize) -> f64 {
        let hours = (self.departs_us(j) - self.start_us).max(0) as f64 / 3.6e9;
        f64::from(self.cases[c].people) * (self.base_hours - hours)
    }

    /// The objective after case `c` moves from journey `from` to `to` (either may be none).
    pub fn moved(
        &self,
        value: &[f64],
        c: usize,
        from: Option<usize>,
        to: Option<usize>,
    ) -> Vec<f64> {
        let mut value = value.to_vec();
        let k = usize::from(self.cases[c].class).max(1) - 1;
        value[k] += to.map_or(0.0, |j| self.gain(c, j)) - from.map_or(0.0, |j| self.gain(c, j));
        value
    }

    pub fn value(&self, assigned: &[Option<usize>]) -> Vec<f64> {
        let mut value = vec![0.0; self.classes];
        for (c, j) in assigned.iter().enumerate() {
            if let Some(j) = j {
                value[usize::from(self.cases[c].class).max(1) - 1] += self.gain(c, *j);
            }
        }
        value
    }

    /// Whether case `c` fits on every leg of journey `j` beside `loads`.
    pub fn fits(&self, loads: &[Load], c: usize, j: usize) -> bool {
        self.first_full_leg(loads, c, j).is_none()
    }

    /// The first leg of journey `j` that case `c` does not fit on beside `loads`, with why.
    pub fn first_full_leg(&self, loads: &[Load], c: usize, j: usize) -> Option<(usize, Obstacle)> {
        self.legs(j).iter().find_map(|&t| {
            capacity_obstacle(
                &self.transports[t],
                &loads[t],
                &self.cases[c],
                &self.settings,
            )
            .map(|o| (t, o))
        })
    }

    /// Puts case `c`'s load on every leg of journey `j`.
    pub fn board(&self, loads: &mut [Load], c: usize, j: usize) {
        for &t in self.legs(j) {
            loads[t].add(&self.cases[c]);
        }
    }

    /// Takes case `c`'s load off every leg of journey `j`.
    pub fn leave(&self, loads: &mut [Load], c: usize, j: usize) {
        for &t in self.legs(j) {
            loads[t].remove(&self.cases[c]);
        }
    }

    /// The plan of journey ids as the caller sees it.
    pub fn plan_of(&self, assigned: &[Option<usize>]) -> Plan {
        Plan {
            value: self.value(assigned),
            assigned: assigned
                .iter()
                .map(|j| {
                    j.map(|j| Journey {
                        legs: self.legs(j).to_vec(),
                    })
                })
                .collect(),
        }
    }
}

/// The id of the journey of `legs` in `journeys`, added if new (a direct journey's id is its
/// transport's index); `None` for a journey of no leg or of more than [`LEGS_MAX`].
fn intern(
    journeys: &mut Vec<[usize; LEGS_MAX]>,
    ids: &mut HashMap<[usize; LEGS_MAX], usize>,
    legs: &[usize],
) -> Option<usize> {
    match legs {
        [] => None,
        [t] => Some(*t),
        _ if legs.len() > LEGS_MAX => None,
        _ => {
            let mut inline = [NO_LEG; LEGS_MAX];
            inline[..legs.len()].copy_from_slice(legs);
            Some(*ids.entry(inline).or_insert_with(|| {
                journeys.push(inline);
                journeys.len() - 1
            }))
        }
    }
}

/// After a journey's last leg, in its inline legs.
const NO_LEG: usize = usize::MAX;

/// The legs of an inline journey.
fn legs_of(journey: &[usize; LEGS_MAX]) -> &[usize] {
    let n = journey
        .iter()
        .position(|&t| t == NO_LEG)
        .unwrap_or(LEGS_MAX);
    &journey[..n]
}

/// The last leg of an inline journey.
fn last_leg(journey: &[usize; LEGS_MAX]) -> usize {
    *legs_of(journey).last().expect("a journey has a leg")
}

/// A household boarding a feeder is offered at most this many transports out beyond the hub
/// it ends at (the earliest that take it, each by every chain of feeders that reaches it): a
/// later one is seldom reached before these fill, and the journeys weighed per household stay
/// bounded (a hundred thousand households, a hundred convoys).
const ONWARD_TRIED_MAX: usize = 4;

/// Local improvement looks at this many of a case's earliest candidate transports…
const CANDIDATES_TRIED_MAX: usize = 8;
/// …and at this many occupants of each (the lowest classes), so a round stays linear in the
/// number of cases.
const OCCUPANTS_TRIED_MAX: usize = 16;

/// Lexicographic comparison of two objective vectors (class 1 first), with a tolerance.
pub fn better(a: &[f64], b: &[f64]) -> bool {
    for (x, y) in a.iter().zip(b) {
        if (x - y).abs() > 1e-6 * (1.0 + x.abs().max(y.abs())) {
            return x > y;
        }
    }
    false
}

/// The fast plan: greedy in priority order, then ruin and recreate (`ruin.rs`), then local
/// improvement until a round gains nothing, `improvement_rounds_max` rounds have run, or
/// `stop()` says time is up, then ruin and recreate again.
pub fn plan(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    start_us: i64,
    stop: &dyn Fn() -> bool,
) -> Plan {
    let none = HashMap::new();
    plan_keeping(transports, cases, settings, start_us, &none, &none, stop).0
}

/// A plan in which the cases of `pinned` (case index → journey) stay where they are whatever
/// the rules say now (they are at the hub), the cases of `keep` are placed first where they
/// still can be and fit, and the rest as [`plan`] does. Neither pinned nor kept cases are
/// moved by local improvement. Also answers the journeys by id the plan ran on.
pub(crate) fn plan_keeping<'a>(
    transports: &'a [Transport],
    cases: &'a [Case],
    settings: Settings,
    start_us: i64,
    keep: &HashMap<usize, Journey>,
    pinned: &HashMap<usize, Journey>,
    stop: &dyn Fn() -> bool,
) -> (Plan, Instance<'a>) {
    let mut inst = Instance::new(transports, cases, settings, start_us);
    // A journey of more than `LEGS_MAX` legs has no id: the planner never makes one, but a
    // household's live seats can read as one (households merged after both were seated, each
    // on its own journey). Such a household is planned afresh, and the store refuses seats
    // beyond what its live seats leave.
    let keep: HashMap<usize, usize> = keep
        .iter()
        .filter_map(|(&c, j)| Some((c, inst.id_of(&j.legs)?)))
        .collect();
    let pinned: HashMap<usize, usize> = pinned
        .iter()
        .filter_map(|(&c, j)| Some((c, inst.id_of(&j.legs)?)))
        .collect();
    let inst = inst;
    let mut loads = vec![Load::empty(&settings); transports.len()];
    let mut assigned: Vec<Option<usize>> = vec![None; cases.len()];
    for (&c, &j) in &pinned {
        inst.board(&mut loads, c, j);
        assigned[c] = Some(j);
    }
    // Kept cases next, in priority order, where they are still feasible and fit. When told
    // households yield to a class gap, the waiting cases that many classes above a kept one
    // are placed before it (and may take its seats; it is then planned like the rest).
    let rank = |c: usize| -> (i32, u8) {
        let class = i32::from(cases[c].class);
        match (keep.contains_key(&c), settings.told_yield_class_gap) {
            (true, None) => (i32::MIN, 0),
            (true, Some(gap)) => (class - i32::from(gap), 1),
            (false, _) => (class, 0),
        }
    };
    let mut first: Vec<usize> = inst.order.clone();
    // A stable sort keeps the priority order inside each rank.
    first.sort_by_key(|&c| rank(c));
    for &c in &first {
        if assigned[c].is_some() {
            continue;
        }
        match keep.get(&c) {
            // Still feasible (a kept journey need not be among the few onward options a
            // household is offered anew: `ONWARD_TRIED_MAX`) and fits.
            Some(&j)
                if journey_feasibility(transports, inst.legs(j), &cases[c], &settings).is_ok()
                    && inst.fits(&loads, c, j) =>
            {
                inst.board(&mut loads, c, j);
                assigned[c] = Some(j);
            }
            // A kept case that no longer fits where it was is planned like the rest, below.
            Some(_) => {}
            None if settings.told_yield_class_gap.is_some() => {
                if let Some(&j) = inst.candidates[c]
                    .iter()
                    .find(|&&j| inst.fits(&loads, c, j))
                {
                    inst.board(&mut loads, c, j);
                    assigned[c] = Some(j);
                }
            }
            // Without yielding, the waiting are planned after every kept case, below.
            None => {}
        }
    }
    for &c in &inst.order {
        if assigned[c].is_some() {
            continue;
        }
        if let Some(&j) = inst.candidates[c]
            .iter()
            .find(|&&j| inst.fits(&loads, c, j))
        {
            inst.board(&mut loads, c, j);
            assigned[c] = Some(j);
        }
    }
    let fixed: HashMap<usize, usize> = keep.iter().chain(&pinned).map(|(&c, &j)| (c, j)).collect();
    // Big steps first, from the greedy plan (bounded: `ruin.rs`), so they run within the
    // caller's time budget even when improvement would use it all; then improvement; then big
    // steps again from where it stopped.
    let big_steps = settings.improvement_rounds_max > 0;
    if big_steps {
        ruin::ruin_and_recreate(&inst, &mut assigned, &mut loads, &fixed, stop);
    }
    improve(&inst, &mut assigned, &mut loads, &fixed, stop);
    if big_steps {
        ruin::ruin_and_recreate(&inst, &mut assigned, &mut loads, &fixed, stop);
    }
    (inst.plan_of(&assigned), inst)
}

/// Local improvement: for each case without a seat (or on a later journey than it could
/// take), in priority order, try to make room on one of its candidate journeys by moving cases
/// of the same or a lower class off the leg it does not fit on, to another journey they can
/// take (or, when the waiting case's class is higher, off the plan). A move is kept only if the
/// objective vector improves. Cases of `keep` that sit where they are kept are never moved
/// (neither to make room nor to an earlier journey): people who were told stay told.
fn improve(
    inst: &Instance<'_>,
    assigned: &mut [Option<usize>],
    loads: &mut [Load],
    keep: &HashMap<usize, usize>,
    stop: &dyn Fn() -> bool,
) {
    let (cases, transports, s) = (inst.cases, inst.transports, &inst.settings);
    // By transport: the cases with a leg on it.
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); transports.len()];
    for (c, j) in assigned.iter().enumerate() {
        if let Some(j) = j {
            for &t in inst.legs(*j) {
                on[t].push(c);
            }
        }
    }
    let mut current = inst.value(assigned);
    for _ in 0..inst.settings.improvement_rounds_max {
        let mut gained = false;
        for &c in &inst.order {
            if stop() {
                return;
            }
            let now_at = assigned[c];
            if now_at.is_some() && keep.get(&c) == now_at.as_ref() {
                continue;
            }
            for &j in inst.candidates[c].iter().take(CANDIDATES_TRIED_MAX) {
                // Only journeys out earlier than the one it has can help it.
                if let Some(current_j) = now_at
                    && inst.departs_us(j) >= inst.departs_us(current_j)
                {
                    break;
                }
                if let Some(current_j) = now_at {
                    inst.leave(loads, c, current_j);
                    // An escort cannot leave the children it accompanies.
                    let stranded = inst
                        .legs(current_j)
                        .iter()
                        .any(|&u| over(&transports[u], &loads[u], s).is_some());
                    if stranded {
                        inst.board(loads, c, current_j);
                        break;
                    }
                }
                let mut mover = Mover {
                    inst,
                    assigned: &mut *assigned,
                    loads: &mut *loads,
                    on: &mut on,
                    current: &mut current,
                };
                let done = match inst.first_full_leg(mover.loads, c, j) {
                    None => mover.evict(c, j, &[]),
                    Some((full, _)) => {
                        // Move occupants of the full leg elsewhere (or off) to make room: one
                        // at a time, then, on smaller instances, several together
                        // (`MOVED_TOGETHER_BY_SIZE`). The lowest-priority occupants first:
                        // they are the ones worth moving.
                        let set_size_max = MOVED_TOGETHER_BY_SIZE
                            .iter()
                            .find(|(cases_max, _)| cases.len() <= *cases_max)
                            .map_or(1, |&(_, size)| size);
                        let deep = set_size_max > 1;
                        let occupants = lowest_priority_first(
                            &mover.on[full],
                            |o| cases[o].class,
                            |o| {
                                (deep || cases[o].class >= cases[c].class) && !keep.contains_key(&o)
                            },
                            OCCUPANTS_TRIED_MAX,
                        );
                        (1..=set_size_max).any(|size| {
                            subsets(occupants.len(), size).any(|picked| {
                                let set: Vec<usize> =
                                    picked.iter().map(|&i| occupants[i]).collect();
                                mover.evict(c, j, &set)
                            })
                        })
                    }
                };
                if done {
                    gained = true;
                    break;
                }
                if let Some(current_j) = now_at {
                    inst.board(loads, c, current_j);
                }
            }
        }
        if !gained {
            break;
        }
    }
}

/// At most `max` of `cases` that `movable` admits, the highest class (the lowest priority)
/// first and in their order within a class: what a stable sort by class, highest first, then
/// a truncation gives, without sorting a transport's occupants for every waiting case (a pass
/// per class, most often one).
fn lowest_priority_first(
    cases: &[usize],
    class_of: impl Fn(usize) -> u8,
    movable: impl Fn(usize) -> bool,
    max: usize,
) -> Vec<usize> {
    let mut picked = Vec::with_capacity(max);
    let Some(highest) = cases.iter().map(|&o| class_of(o)).max() else {
        return picked;
    };
    for class in (0..=highest).rev() {
        for &o in cases {
            if picked.len() == max {
                return picked;
            }
            if class_of(o) == class && movable(o) {
                picked.push(o);
            }
        }
    }
    picked
}

/// How many occupants local improvement moves together to make room, by instance size
/// (cases at most, set size at most): the smaller the instance, the deeper the neighbourhood,
/// so it costs milliseconds on small instances and stays linear on a hundred thousand cases.
/// With sets of two or more, occupants of a higher class may move too (to a transport as
/// early: the lexicographic objective refuses any loss to them).
const MOVED_TOGETHER_BY_SIZE: [(usize, usize); 3] = [(200, 3), (2_000, 2), (usize::MAX, 1)];

/// Every `size`-subset of `0..n`, as sorted indices, in lexicographic order.
fn subsets(n: usize, size: usize) -> impl Iterator<Item = Vec<usize>> {
    let mut next: Option<Vec<usize>> = (size <= n).then(|| (0..size).collect());
    std::iter::from_fn(move || {
        let current = next.take()?;
        let mut advanced = current.clone();
        // The rightmost index that can still move right, then everything after it follows.
        if let Some(i) = (0..size).rev().find(|&i| advanced[i] < n - size + i) {
            advanced[i] += 1;
            for j in i + 1..size {
                advanced[j] = advanced[j - 1] + 1;
            }
            next = Some(advanced);
        }
        Some(current)
    })
}

/// The plan being improved (journey ids), and the moves that make room for a waiting case.
struct Mover<'i, 'a> {
    inst: &'i Instance<'a>,
    assigned: &'i mut [Option<usize>],
    loads: &'i mut [Load],
    /// By transport: the cases with a leg on it.
    on: &'i mut Vec<Vec<usize>>,
    current: &'i mut Vec<f64>,
}

impl Mover<'_, '_> {
    /// Seats case `c` on journey `j` by moving the cases in `set` (none: `j` has room) off
    /// their journeys, each to one of its earliest other candidates (none through a leg of `j`
    /// they were moved off) or off the plan, if some choice improves the objective; the first
    /// such choice is kept. `c`'s own load is already off its current journey.
    fn evict(&mut self, c: usize, j: usize, set: &[usize]) -> bool {
        let inst = self.inst;
        let held: Vec<usize> = set
            .iter()
            .map(|&o| self.assigned[o].expect("an occupant has a journey"))
            .collect();
        for (&o, &h) in set.iter().zip(&held) {
            inst.leave(self.loads, o, h);
        }
        let mut done = false;
        if inst.fits(self.loads, c, j) {
            inst.board(self.loads, c, j);
            let before_c = self.assigned[c];
            let value = inst.moved(self.current, c, before_c, Some(j));
            let mut chosen = Vec::with_capacity(set.len());
            if let Some(value) = self.place(set, j, &value, &mut chosen) {
                *self.current = value;
                self.assigned[c] = Some(j);
                self.shift(c, before_c, Some(j));
                for ((&o, &h), &alt) in set.iter().zip(&held).zip(&chosen) {
                    self.assigned[o] = alt;
                    self.shift(o, Some(h), alt);
                }
                done = true;
            } else {
                inst.leave(self.loads, c, j);
            }
        }
        if !done {
            for (&o, &h) in set.iter().zip(&held) {
                inst.board(self.loads, o, h);
            }
        }
        done
    }

    /// Moves case `c` in the by-transport lists from journey `from` to `to`.
    fn shift(&mut self, c: usize, from: Option<usize>, to: Option<usize>) {
        if let Some(from) = from {
            for &t in self.inst.legs(from) {
                self.on[t].retain(|&x| x != c);
            }
        }
        if let Some(to) = to {
            for &t in self.inst.legs(to) {
                self.on[t].push(c);
            }
        }
    }

    /// Chooses where each of `set` goes (loads updated for the chosen ones) so that the
    /// objective beats the current one; `None` (and nothing changed) if no choice does.
    fn place(
        &mut self,
        set: &[usize],
        j: usize,
        value: &[f64],
        chosen: &mut Vec<Option<usize>>,
    ) -> Option<Vec<f64>> {
        let Some((&o, rest)) = set.split_first() else {
            return better(value, self.current).then(|| value.to_vec());
        };
        let inst = self.inst;
        let freed = inst.legs(j);
        let alternatives: Vec<Option<usize>> = inst.candidates[o]
            .iter()
            .filter(|&&u| !inst.legs(u).iter().any(|t| freed.contains(t)))
            .take(CANDIDATES_TRIED_MAX)
            .map(|&u| Some(u))
            .chain(std::iter::once(None))
            .collect();
        for alt in alternatives {
            if let Some(u) = alt {
                if !inst.fits(self.loads, o, u) {
                    continue;
                }
                inst.board(self.loads, o, u);
            }
            let moved = inst.moved(value, o, self.assigned[o], alt);
            chosen.push(alt);
            if let Some(found) = self.place(rest, j, &moved, chosen) {
                return Some(found);
            }
            chosen.pop();
            if let Some(u) = alt {
                inst.leave(self.loads, o, u);
            }
        }
        None
    }
}

/// Standby: when no-shows free seats on `transport` at the call time, the waiting cases that
/// take them, by index into `waiting`: those `present` at its hub first (seen there by a field
/// officer: they came), then in priority order (class, then score); each that can use the
/// transport and still fits beside `aboard` and the standby cases taken before it. A
/// household too large for what is left is passed over for a smaller one behind it. A feeder
/// takes nobody from standby: its people need an onward seat, which only a plan gives.
pub fn standby(
    transport: &Transport,
    aboard: &[Case],
    waiting: &[Case],
    present: &[bool],
    settings: Settings,
) -> Vec<usize> {
    if transport.feeds.is_some() {
        return Vec::new();
    }
    let mut load = Load::empty(&settings);
    for c in aboard {
        load.add(c);
    }
    let mut order: Vec<usize> = (0..waiting.len()).collect();
    let present = |c: usize| present.get(c).copied().unwrap_or(false);
    order.sort_by(|&a, &b| {
        let here = present(b).cmp(&present(a));
        let (a, b) = (&waiting[a], &waiting[b]);
        here.then(a.class.cmp(&b.class))
            .then(b.score.total_cmp(&a.score))
            .then(a.id.cmp(&b.id))
    });
    let mut taken = Vec::new();
    for c in order {
        let case = &waiting[c];
        if feasibility(transport, case, &settings).is_ok()
            && capacity_obstacle(transport, &load, case, &settings).is_none()
        {
            load.add(case);
            taken.push(c);
        }
    }
    taken
}

/// Why every case without a seat has none: for each of its candidate transports (every
/// transport), the constraint that kept it off, in the finished plan.
pub fn explain_unseated(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    plan: &Plan,
) -> Vec<Unseated> {
    explain::unseated(transports, cases, settings, plan, &[])
}

/// As [`explain_unseated`] for a re-plan: a wait behind lower-priority households that were
/// told of their seats (or checked in) and kept them says so.
pub fn explain_replanned(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    replanned: &Replanned,
) -> Vec<Unseated> {
    explain::unseated(
        transports,
        cases,
        settings,
        &replanned.plan,
        &replanned.kept,
    )
}

/// Checks a plan against every constraint; the first violation in words, if any.
pub fn check(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    plan: &Plan,
) -> Result<(), String> {
    let mut loads = vec![Load::empty(&settings); transports.len()];
    for (c, journey) in plan.assigned.iter().enumerate() {
        let Some(journey) = journey else { continue };
        if journey.legs.is_empty() || journey.legs.len() > LEGS_MAX {
            return Err(format!(
                "case {}: a journey of {} legs",
                cases[c].id,
                journey.legs.len()
            ));
        }
        journey_feasibility(transports, &journey.legs, &cases[c], &settings)
            .map_err(|(t, o)| format!("case {} on {}: {o}", cases[c].id, transports[t].id))?;
        for &t in &journey.legs {
            loads[t].add(&cases[c]);
        }
    }
    for (t, load) in loads.iter().enumerate() {
        if let Some(o) = over(&transports[t], load, &settings) {
            return Err(format!("transport {}: {o}", transports[t].id));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
