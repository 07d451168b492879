//! The exact plan, for instances small enough for a MIP solver: the same objective as
//! [`crate::plan`], solved class by class (class 1's value is maximised first and then held
//! while class 2's is maximised, and so on). Used to measure the fast plan's gap, never in the
//! request path. `good_lp` with the pure-Rust `microlp` by default; HiGHS with the `highs`
//! feature.
//!
//! Variables: x[c,j] ∈ {0,1} for each feasible (case, journey) pair. Constraints: each case
//! on at most one journey; per transport, over the pairs whose journey has it as a leg, people
//! ≤ seats, stretchers ≤ stretcher places, wheelchairs ≤ wheelchair places, people's standard
//! masses and checked baggage ≤ payload, and unaccompanied minors beyond their own escorts ≤
//! minors_per_escort × escorts on board.

#[cfg(feature = "highs")]
use good_lp::highs as solver;
#[cfg(not(feature = "highs"))]
use good_lp::microlp as solver;
use good_lp::{
    Expression, ProblemVariables, Solution, SolverModel, WithTimeLimit, constraint, variable,
};

use crate::{Case, Instance, Plan, Settings, Transport};

#[derive(Debug, thiserror::Error)]
#[error("the MIP solver failed: {0}")]
pub struct ExactError(String);

/// The optimal plan (up to the solver's tolerance).
pub fn plan_exact(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    start_us: i64,
) -> Result<Plan, ExactError> {
    plan_exact_within(transports, cases, settings, start_us, None)
}

/// As [`plan_exact`], each class's solve stopped after `solve_time_ms_max` (when given) with
/// the best plan found so far: then the answer is a bound from below, not proven optimal.
pub fn plan_exact_within(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    start_us: i64,
    solve_time_ms_max: Option<u64>,
) -> Result<Plan, ExactError> {
    let inst = Instance::new(transports, cases, settings, start_us);
    let pairs: Vec<(usize, usize)> = inst
        .candidates
        .iter()
        .enumerate()
        .flat_map(|(c, js)| js.iter().map(move |&j| (c, j)))
        .collect();
    // By transport: the pairs whose journey has it as a leg.
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); transports.len()];
    for (i, &(_, j)) in pairs.iter().enumerate() {
        for &t in inst.legs(j) {
            on[t].push(i);
        }
    }
    // Values achieved by the classes solved so far, held as lower bounds for the next ones.
    let mut held: Vec<(usize, f64)> = Vec::new();
    let mut last: Vec<bool> = vec![false; pairs.len()];
    for class in 1..=inst.classes {
        let in_class = |c: usize| usize::from(cases[c].class).max(1) == class;
        if !cases.iter().enumerate().any(|(c, _)| in_class(c)) {
            continue;
        }
        let mut vars = ProblemVariables::new();
        let x: Vec<good_lp::Variable> = pairs
            .iter()
            .map(|_| vars.add(variable().binary()))
            .collect();
        let class_value = |k: usize, x: &[good_lp::Variable]| -> Expression {
            pairs
                .iter()
                .enumerate()
                .filter(|(_, (c, _))| usize::from(cases[*c].class).max(1) == k)
                .map(|(i, &(c, j))| inst.gain(c, j) * x[i])
                .sum()
        };
        let mut model = vars.maximise(class_value(class, &x)).using(solver);
        for (k, value) in &held {
            // A hair below the value found, so rounding cannot make the next solve infeasible.
            let floor = value - 1e-6 * (1.0 + value.abs());
            model = model.with(constraint!(class_value(*k, &x) >= floor));
        }
        for c in 0..cases.len() {
            let on: Expression = pairs
                .iter()
                .enumerate()
                .filter(|(_, p)| p.0 == c)
                .map(|(i, _)| x[i])
                .sum();
            model = model.with(constraint!(on <= 1));
        }
        for (t, transport) in transports.iter().enumerate() {
            let sum = |f: &dyn Fn(&Case) -> u32| -> Expression {
                on[t]
                    .iter()
                    .map(|&i| f64::from(f(&cases[pairs[i].0])) * x[i])
                    .sum()
            };
            model = model
                .with(constraint!(
                    sum(&|c| c.people) <= f64::from(transport.seats)
                ))
                .with(constraint!(
                    sum(&|c| c.stretchers) <= f64::from(transport.stretcher_places)
                ))
                .with(constraint!(
                    sum(&|c| c.wheelchairs) <= f64::from(transport.wheelchair_places)
                ));
            if let Some(payload_kg) = transport.payload_kg {
                let lifted: Expression = on[t]
                    .iter()
                    .map(|&i| {
                        let case = &cases[pairs[i].0];
                        transport.lifted_kg(case.people, u64::from(case.mass_kg)) as f64 * x[i]
                    })
                    .sum();
                model = model.with(constraint!(lifted <= f64::from(payload_kg)));
            }
            let per = settings.minors_per_escort;
            let minors = sum(&|c| c.minors_beyond_own_escorts(per));
            model = model.with(constraint!(
                minors <= f64::from(per) * f64::from(transport.escorts)
            ));
        }
        if let Some(ms) = solve_time_ms_max {
            model = model.with_time_limit(ms as f64 / 1_000.0);
        }
        let solution = model.solve().map_err(|e| ExactError(e.to_string()))?;
        last = x.iter().map(|&v| solution.value(v) > 0.5).collect();
        let achieved: f64 = pairs
            .iter()
            .zip(&last)
            .filter(|((c, _), on)| **on && in_class(*c))
            .map(|(&(c, j), _)| inst.gain(c, j))
            .sum();
        held.push((class, achieved));
    }
    let mut assigned = vec![None; cases.len()];
    for (&(c, j), taken) in pairs.iter().zip(&last) {
        if *taken {
            assigned[c] = Some(j);
        }
    }
    Ok(inst.plan_of(&assigned))
}

/// For each priority class, the most value its people could get if every other class were
/// ignored and households could be split (the LP relaxation): an upper bound on that class's
/// value in any plan, quick to solve where the MIP is not.
pub fn class_bounds(
    transports: &[Transport],
    cases: &[Case],
    settings: Settings,
    start_us: i64,
) -> Result<Vec<f64>, ExactError> {
    let inst = Instance::new(transports, cases, settings, start_us);
    let mut bounds = vec![0.0; inst.classes];
    for class in 1..=inst.classes {
        let pairs: Vec<(usize, usize)> = inst
            .candidates
            .iter()
            .enumerate()
            .filter(|(c, _)| usize::from(cases[*c].class).max(1) == class)
            .flat_map(|(c, js)| js.iter().map(move |&j| (c, j)))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let mut vars = ProblemVariables::new();
        let x: Vec<good_lp::Variable> = pairs
            .iter()
            .map(|_| vars.add(variable().min(0.0).max(1.0)))
            .collect();
        let objective: Expression = pairs
            .iter()
            .enumerate()
            .map(|(i, &(c, j))| inst.gain(c, j) * x[i])
            .sum();
        let mut model = vars.maximise(objective).using(solver);
        for c in 0..cases.len() {
            let on: Vec<usize> = (0..pairs.len()).filter(|&i| pairs[i].0 == c).collect();
            if on.is_empty() {
                continue;
            }
            let on: Expression = on.into_iter().map(|i| x[i]).sum();
            model = model.with(constraint!(on <= 1));
        }
        for (t, transport) in transports.iter().enumerate() {
            let on: Vec<usize> = (0..pairs.len())
                .filter(|&i| inst.legs(pairs[i].1).contains(&t))
                .collect();
            if on.is_empty() {
                continue;
            }
            let people: Expression = on
                .iter()
                .map(|&i| f64::from(cases[pairs[i].0].people) * x[i])
                .sum();
            model = model.with(constraint!(people <= f64::from(transport.seats)));
        }
        let solution = model.solve().map_err(|e| ExactError(e.to_string()))?;
        bounds[class - 1] = pairs
            .iter()
            .enumerate()
            .map(|(i, &(c, j))| inst.gain(c, j) * solution.value(x[i]))
            .sum();
    }
    Ok(bounds)
}
