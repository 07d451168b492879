//! Re-planning after a change (a hub closes, a transport is cancelled or added, new cases):
//! notified people keep their journey where it is still feasible and fits; everyone else is
//! planned as usual; the answer says who moved, who gained a seat and who lost one, and why.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::{Case, Journey, Plan, Settings, Transport, journey_feasibility, plan_keeping};

/// A case whose seats changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeatChange {
    pub case: String,
    /// The journey it had (transport ids, first leg first), if any.
    pub from: Option<Vec<String>>,
    /// The journey it has now, if any.
    pub to: Option<Vec<String>>,
    /// Why it is not on its old transport any more (empty for a case that gained a seat).
    pub why: String,
    /// The obstacle behind `why`, when the old journey became infeasible: the transport (id)
    /// it concerns and what it is, for the caller to word with what it knows (a curfew's
    /// hours).
    #[serde(skip)]
    pub obstacle: Option<(String, crate::Obstacle)>,
}

/// What a re-plan changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanDiff {
    /// Cases on another journey than before.
    pub moved: Vec<SeatChange>,
    /// Cases seated now that had no seat.
    pub gained: Vec<SeatChange>,
    /// Cases that had a seat and have none now.
    pub lost: Vec<SeatChange>,
    /// Notified cases that could not keep their journey.
    pub notified_moved_or_lost: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replanned {
    pub plan: Plan,
    pub diff: PlanDiff,
    /// By case: told of its seats (or checked in) and still on that journey.
    pub kept: Vec<bool>,
}

/// Re-plans: `previous` maps case ids to the journey they had (transport ids, first leg
/// first); `notified` names the cases already told (they stay where they can); `checked_in`
/// names the cases with someone checked in or boarded: they are at a hub and keep their
/// journey whatever the rules say now (only staff move them, by hand), so they never appear in
/// the diff (the caller leaves out of it a household whose check-in was for a transport since
/// cancelled: it is planned anew, from where it stands).
#[allow(clippy::too_many_arguments)]
pub fn replan(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    start_us: i64,
    previous: &HashMap<String, Vec<String>>,
    notified: &[String],
    checked_in: &[String],
    stop: &dyn Fn() -> bool,
) -> Replanned {
    let transport_index: HashMap<&str, usize> = transports
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.as_str(), i))
        .collect();
    // A journey of which a leg was removed is no journey any more.
    let journey_of = |legs: &[String]| -> Option<Journey> {
        let legs = legs
            .iter()
            .map(|t| transport_index.get(t.as_str()).copied())
            .collect::<Option<Vec<usize>>>()?;
        (!legs.is_empty()).then_some(Journey { legs })
    };
    let held_by = |names: &[String]| -> HashMap<usize, Journey> {
        let names: HashSet<&str> = names.iter().map(String::as_str).collect();
        cases
            .iter()
            .enumerate()
            .filter(|(_, c)| names.contains(c.id.as_str()))
            .filter_map(|(i, c)| Some((i, journey_of(previous.get(&c.id)?)?)))
            .collect()
    };
    let pinned = held_by(checked_in);
    let mut keep = held_by(notified);
    keep.retain(|c, _| !pinned.contains_key(c));
    let notified: HashSet<&str> = notified.iter().map(String::as_str).collect();
    let (plan, _) = plan_keeping(transports, cases, settings, start_us, &keep, &pinned, stop);
    let mut diff = PlanDiff {
        moved: Vec::new(),
        gained: Vec::new(),
        lost: Vec::new(),
        notified_moved_or_lost: 0,
    };
    for (c, now) in plan.assigned.iter().enumerate() {
        let case = &cases[c];
        let before = previous.get(&case.id).cloned();
        let now = now.as_ref().map(|j| {
            j.legs
                .iter()
                .map(|&t| transports[t].id.clone())
                .collect::<Vec<String>>()
        });
        if before == now {
            continue;
        }
        let mut obstacle = None;
        let why = match &before {
            None => String::new(),
            Some(b) => match journey_of(b) {
                None => "the transport was removed".to_string(),
                Some(j) => match journey_feasibility(transports, &j.legs, case, &settings) {
                    Err((t, o)) => {
                        let why = o.to_string();
                        obstacle = Some((transports[t].id.clone(), o));
                        why
                    }
                    Ok(()) if now.is_some() => "an earlier or better journey".to_string(),
                    Ok(()) => "its seats went to households of higher priority".to_string(),
                },
            },
        };
        if notified.contains(case.id.as_str()) && before.is_some() {
            diff.notified_moved_or_lost += 1;
        }
        let change = SeatChange {
            case: case.id.clone(),
            from: before.clone(),
            to: now.clone(),
            why,
            obstacle,
        };
        match (before, now) {
            (None, _) => diff.gained.push(change),
            (_, None) => diff.lost.push(change),
            _ => diff.moved.push(change),
        }
    }
    let kept = (0..cases.len())
        .map(|c| {
            let held = pinned.get(&c).or_else(|| keep.get(&c));
            held.is_some() && plan.assigned[c].as_ref() == held
        })
        .collect();
    Replanned { plan, diff, kept }
}
