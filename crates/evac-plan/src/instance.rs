//! A planning instance as a file, so that a solver outside evac can check a plan: the
//! households and transports as the planner sees them, every feasible (household, journey)
//! pair with its legs and what seating it is worth, the capacity each seat takes, and the plan
//! evac made.
//!
//! The model the file describes (docs/PLAN-INSTANCE.md) is exactly what `exact.rs` solves:
//! binary `x[c,j]` for each feasible pair; each household on at most one journey; per
//! transport, over the pairs with a leg on it, Σ people ≤ seats, Σ stretchers ≤ stretcher
//! places, Σ wheelchairs ≤ wheelchair places, Σ children beyond their own escorts ≤ escorts ×
//! children per escort, Σ standard masses and checked baggage ≤ payload where a transport has
//! one; maximise class 1's Σ gain·x, then class 2's holding class 1's, and so on.

use serde::{Deserialize, Serialize};

use crate::{Case, Feed, Instance, Plan, Settings, Transport};

/// The format's name and version, written first in every file.
pub const INSTANCE_FORMAT: &str = "evac-plan-instance/3";

/// A household as the model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceCase {
    pub id: String,
    /// 1 is served first.
    pub class: u8,
    pub people: u32,
    pub stretchers: u32,
    pub wheelchairs: u32,
    /// Unaccompanied minors its own escorts cannot take (they need the transport's).
    pub minors_for_transport_escorts: u32,
    /// Its people's standard masses with hand baggage, in kilograms.
    pub mass_kg: u32,
}

/// A transport's capacities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceTransport {
    pub id: String,
    pub departs_at_us: i64,
    pub seats: u32,
    pub stretcher_places: u32,
    pub wheelchair_places: u32,
    /// Children the transport's escorts can take (escorts × children per escort).
    pub minors_places: u32,
    /// What it may lift in people and baggage, in kilograms; `null`: no weight bound.
    pub payload_kg: Option<u32>,
    /// Checked baggage per passenger, in kilograms (counted toward the payload).
    pub baggage_kg_per_person: u32,
    /// Where a feeder leg ends (the next leg leaves from there); `null`: it takes people out.
    pub feeds: Option<Feed>,
}

/// A journey a household may take (feasible: eligible, usable, hubs open, reachable in time,
/// connections made, large enough), its legs as transport indices, and what seating it there
/// adds to its class's objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstancePair {
    pub case: usize,
    pub legs: Vec<usize>,
    pub gain: f64,
}

/// A whole instance with evac's plan of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInstance {
    pub format: String,
    /// The plan's start, microseconds since the Unix epoch.
    pub start_us: i64,
    pub settings: Settings,
    pub classes: usize,
    pub cases: Vec<InstanceCase>,
    pub transports: Vec<InstanceTransport>,
    pub pairs: Vec<InstancePair>,
    /// evac's plan: the legs (transport indices) of each case's journey, or none.
    pub evac_assigned: Vec<Option<Vec<usize>>>,
    /// evac's objective per class (class 1 first), to compare with a solver's.
    pub evac_value: Vec<f64>,
}

impl PlanInstance {
    /// The instance of `cases` on `transports` at `start_us`, with `plan` as evac's answer.
    pub fn new(
        transports: &[Transport],
        cases: &[Case],
        settings: Settings,
        start_us: i64,
        plan: &Plan,
    ) -> PlanInstance {
        let inst = Instance::new(transports, cases, settings, start_us);
        let per = settings.minors_per_escort;
        PlanInstance {
            format: INSTANCE_FORMAT.to_string(),
            start_us,
            settings,
            classes: inst.classes,
            cases: cases
                .iter()
                .map(|c| InstanceCase {
                    id: c.id.clone(),
                    class: c.class.max(1),
                    people: c.people,
                    stretchers: c.stretchers,
                    wheelchairs: c.wheelchairs,
                    minors_for_transport_escorts: c.minors_beyond_own_escorts(per),
                    mass_kg: c.mass_kg,
                })
                .collect(),
            transports: transports
                .iter()
                .map(|t| InstanceTransport {
                    id: t.id.clone(),
                    departs_at_us: t.departs_at_us,
                    seats: t.seats,
                    stretcher_places: t.stretcher_places,
                    wheelchair_places: t.wheelchair_places,
                    minors_places: t.escorts.saturating_mul(per),
                    payload_kg: t.payload_kg,
                    baggage_kg_per_person: t.baggage_kg_per_person,
                    feeds: t.feeds.clone(),
                })
                .collect(),
            pairs: inst
                .candidates
                .iter()
                .enumerate()
                .flat_map(|(c, js)| {
                    let inst = &inst;
                    js.iter().map(move |&j| InstancePair {
                        case: c,
                        legs: inst.legs(j).to_vec(),
                        gain: inst.gain(c, j),
                    })
                })
                .collect(),
            evac_assigned: plan
                .assigned
                .iter()
                .map(|j| j.as_ref().map(|j| j.legs.clone()))
                .collect(),
            evac_value: plan.value.clone(),
        }
    }

    /// The objective per class of an assignment (a journey's legs per case), from the file's
    /// own gains; `None` if it uses a pair the file does not hold or breaks a capacity.
    pub fn value_of(&self, assigned: &[Option<Vec<usize>>]) -> Option<Vec<f64>> {
        let gains: std::collections::HashMap<(usize, &[usize]), f64> = self
            .pairs
            .iter()
            .map(|p| ((p.case, p.legs.as_slice()), p.gain))
            .collect();
        let mut value = vec![0.0; self.classes];
        let mut used = vec![[0u64; 5]; self.transports.len()];
        for (c, legs) in assigned.iter().enumerate() {
            let Some(legs) = legs else { continue };
            let case = &self.cases[c];
            value[usize::from(case.class) - 1] += gains.get(&(c, legs.as_slice()))?;
            for &t in legs {
                let u = &mut used[t];
                u[0] += u64::from(case.people);
                u[1] += u64::from(case.stretchers);
                u[2] += u64::from(case.wheelchairs);
                u[3] += u64::from(case.minors_for_transport_escorts);
                u[4] += u64::from(case.mass_kg)
                    + u64::from(case.people) * u64::from(self.transports[t].baggage_kg_per_person);
            }
        }
        let fits = used.iter().zip(&self.transports).all(|(u, t)| {
            u[0] <= u64::from(t.seats)
                && u[1] <= u64::from(t.stretcher_places)
                && u[2] <= u64::from(t.wheelchair_places)
                && u[3] <= u64::from(t.minors_places)
                && t.payload_kg.is_none_or(|kg| u[4] <= u64::from(kg))
        });
        fits.then_some(value)
    }
}
