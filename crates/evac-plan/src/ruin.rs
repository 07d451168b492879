//! Ruin and recreate: big steps of the fast plan, before and after local improvement, on
//! instances small enough to afford them.
//!
//! Local improvement (`improve`) moves one waiting household and a few occupants at a time, so
//! it stops where seating one more household takes a chain of moves across several transports.
//! On tight generated instances that left class 1 a mean 2.4 % (up to 7 %) below HiGHS's
//! optimum. Ruin and recreate (Schrimpf et al., 2000) takes bigger steps. A kick picks a
//! household that waits, takes every movable household off a few of the journeys it could
//! take, and seats again, class by class in a random order inside a class, every waiting
//! household that could use the room, each on the earliest of its journeys that fits. The
//! result is kept if the lexicographic objective is no worse (to within
//! `VALUE_TOLERANCE`, person-hours, absolute): a sideways step lets the search cross plateaus.
//! The search ends on the best plan it saw, and among plans of one value on the one that seats
//! the highest scores: the objective does not weigh scores (waiting time, threat) inside a
//! class, and wandering must not seat a later arrival in place of an earlier one for nothing.
//! Households the plan must not move (told and sitting where they were kept, or pinned at the
//! hub) stay where they are. Taking a household off a journey never breaks a capacity (escorts
//! are not pooled: a household's escorts cover only its own children), and every seat is given
//! through `fits`, so a kick cannot leave a leg over capacity.
//!
//! Deterministic: the random choices come from a fixed seed, so one instance gives one plan,
//! unless the caller's `stop` cuts the search short.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::{Instance, Load, over};

/// Kicks (one ruin and its recreate) by instance size: (cases at most, kicks). A kick walks
/// the households on the freed transports and those that could use them (each over its
/// candidate journeys), so ten thousand cost a few hundred milliseconds on two thousand
/// households (0.35 s on the bench's tight instance of 500, optimised). Larger instances skip
/// the step: their improvement rounds already spend the time budget.
const KICKS_BY_SIZE: [(usize, u32); 2] = [(2_000, 10_000), (usize::MAX, 0)];

/// The search stops after this many kicks in a row that raise nothing.
const KICKS_WITHOUT_GAIN_MAX: u32 = 4_000;

/// Two objective values closer than this, in person-hours, count as equal: the sums are of
/// floating-point gains, and a relative tolerance (as [`crate::better`] has) would let a long run of
/// sideways steps lose real value.
const VALUE_TOLERANCE: f64 = 1e-6;

/// A kick ruins at most this many of the waiting household's journeys (at least one).
const RUINED_JOURNEYS_MAX: u64 = 4;

/// The seed of the kicks' random choices.
const SEED: u64 = 0x00e7_ac00_5eed;

/// Ruins and recreates parts of the plan, `KICKS_BY_SIZE` times, until `KICKS_WITHOUT_GAIN_MAX`
/// kicks in a row raise nothing, or until `stop()`; a `fixed` case sitting on its fixed journey
/// never moves.
pub(crate) fn ruin_and_recreate(
    inst: &Instance<'_>,
    assigned: &mut [Option<usize>],
    loads: &mut [Load],
    fixed: &HashMap<usize, usize>,
    stop: &dyn Fn() -> bool,
) {
    let kicks = KICKS_BY_SIZE
        .iter()
        .find(|(cases_max, _)| inst.cases.len() <= *cases_max)
        .map_or(0, |&(_, kicks)| kicks);
    let cases = inst.cases.len();
    if kicks == 0 || inst.transports.is_empty() {
        return;
    }
    // Nobody who could ride waits and everyone rides their earliest journey: nothing to gain.
    let best_already = (0..cases).all(|c| match (assigned[c], inst.candidates[c].first()) {
        (Some(j), Some(&first)) => inst.departs_us(j) <= inst.departs_us(first),
        (None, first) => first.is_none(),
        (Some(_), None) => true,
    });
    if best_already {
        return;
    }
    let movable = |c: usize, j: usize| fixed.get(&c) != Some(&j);
    // By transport: the cases with a leg on it now, and the cases that could take a leg on it.
    let mut on: Vec<Vec<usize>> = vec![Vec::new(); inst.transports.len()];
    let mut could_use: Vec<Vec<usize>> = vec![Vec::new(); inst.transports.len()];
    let mut waiting = Pool::new(cases);
    for (c, journey) in assigned.iter().enumerate() {
        match journey {
            Some(j) => inst.legs(*j).iter().for_each(|&t| on[t].push(c)),
            None if !inst.candidates[c].is_empty() => waiting.insert(c),
            None => {}
        }
        for &j in &inst.candidates[c] {
            for &t in inst.legs(j) {
                if could_use[t].last() != Some(&c) {
                    could_use[t].push(c);
                }
            }
        }
    }
    // Not empty: a plan with nothing to gain has returned above.
    let with_candidates: Vec<usize> = (0..cases)
        .filter(|&c| !inst.candidates[c].is_empty())
        .collect();

    let mut rng = SplitMix64(SEED);
    let mut current = inst.value(assigned);
    // By class, relative to the start.
    let mut score = vec![0.0; inst.classes];
    let mut best = Best {
        value: current.clone(),
        score: score.clone(),
        assigned: assigned.to_vec(),
    };
    let mut without_gain = 0;
    // What a kick changed, to undo it: (case, journey before).
    let mut changed: Vec<(usize, Option<usize>)> = Vec::new();
    let mut ruined: Vec<usize> = Vec::new();
    // The transports with room made: the ruined ones and every leg of a case taken off.
    let mut freed: Vec<usize> = Vec::new();
    let mut recreate: Vec<(u8, u64, usize)> = Vec::new();
    // The kick that last took case `c` off its journey, and that last listed it to seat.
    let mut taken_off: Vec<u32> = vec![u32::MAX; cases];
    let mut listed: Vec<u32> = vec![u32::MAX; cases];
    for kick in 0..kicks {
        if stop() || without_gain == KICKS_WITHOUT_GAIN_MAX {
            break;
        }
        changed.clear();
        ruined.clear();
        freed.clear();
        recreate.clear();
        // Ruin a few journeys of a waiting household (of any household once none waits: an
        // earlier departure may still be found).
        let pivot = match waiting.pick(&mut rng) {
            Some(c) => c,
            None => with_candidates[rng.below(with_candidates.len() as u64) as usize],
        };
        let options = &inst.candidates[pivot];
        for _ in 0..=rng.below(RUINED_JOURNEYS_MAX) {
            let j = options[rng.below(options.len() as u64) as usize];
            ruined.extend_from_slice(inst.legs(j));
        }
        ruined.sort_unstable();
        ruined.dedup();
        for &t in &ruined {
            // Backwards, so taking the case at `i` off moves one already seen into its place.
            for i in (0..on[t].len()).rev() {
                let c = on[t][i];
                let j = assigned[c].expect("a case on a transport has a journey");
                if !movable(c, j) {
                    continue;
                }
                taken_off[c] = kick;
                assigned[c] = None;
                inst.leave(loads, c, j);
                on[t].swap_remove(i);
                for &other in inst.legs(j).iter().filter(|&&u| u != t) {
                    unlist(&mut on[other], c);
                }
                freed.extend_from_slice(inst.legs(j));
                changed.push((c, Some(j)));
                waiting.insert(c);
            }
        }
        freed.extend_from_slice(&ruined);
        freed.sort_unstable();
        freed.dedup();
        // Recreate: every waiting case that could use a freed transport, class by class, in a
        // random order inside a class, onto the earliest of its journeys it fits on. (Room
        // opened only there: a waiting case that cannot use them fits nowhere new.)
        for &t in &freed {
            for &c in &could_use[t] {
                if assigned[c].is_none() && listed[c] != kick {
                    listed[c] = kick;
                    recreate.push((inst.cases[c].class, rng.next(), c));
                }
            }
        }
        recreate.sort_unstable();
        let mut value = current.clone();
        for &(_, _, c) in &recreate {
            let Some(&j) = inst.candidates[c].iter().find(|&&j| inst.fits(loads, c, j)) else {
                continue;
            };
            inst.board(loads, c, j);
            assigned[c] = Some(j);
            waiting.remove(c);
            for &t in inst.legs(j) {
                on[t].push(c);
            }
            if taken_off[c] != kick {
                changed.push((c, None));
            }
        }
        for &(c, before) in &changed {
            value = inst.moved(&value, c, before, assigned[c]);
        }
        debug_assert!(
            changed.iter().all(|&(c, _)| assigned[c]
                .into_iter()
                .flat_map(|j| inst.legs(j))
                .all(|&t| over(&inst.transports[t], &loads[t], &inst.settings).is_none())),
            "a kick seats only through `fits`"
        );
        debug_assert!(
            changed
                .iter()
                .all(|&(c, before)| before.is_none() || fixed.get(&c) != before.as_ref()),
            "a kick moves no household sitting where it was kept or pinned"
        );
        match compare(&value, &current) {
            Ordering::Greater | Ordering::Equal => {
                if compare(&value, &current) == Ordering::Greater {
                    without_gain = 0;
                } else {
                    without_gain += 1;
                }
                current = value;
                add_seated_score_change(inst, assigned, &changed, &mut score);
                let than_best = compare(&current, &best.value);
                if than_best == Ordering::Greater
                    || (than_best == Ordering::Equal
                        && compare(&score, &best.score) == Ordering::Greater)
                {
                    best.value.clone_from(&current);
                    best.score.clone_from(&score);
                    best.assigned.copy_from_slice(assigned);
                }
                continue;
            }
            Ordering::Less => without_gain += 1,
        }
        // Worse: put everything back as it was.
        for &(c, before) in &changed {
            if let Some(j) = assigned[c].take() {
                inst.leave(loads, c, j);
                for &t in inst.legs(j) {
                    unlist(&mut on[t], c);
                }
                waiting.insert(c);
            }
            if let Some(j) = before {
                inst.board(loads, c, j);
                assigned[c] = Some(j);
                waiting.remove(c);
                for &t in inst.legs(j) {
                    on[t].push(c);
                }
            }
        }
    }
    // Back to the best plan seen: sideways steps wander over plans of one value, and among
    // those the one that seats the highest scores is kept. Inside a class the objective does
    // not weigh households' scores (waiting time, threat), so wandering alone could seat a
    // household that came later in place of one that came first for no gain.
    for (c, (now, best)) in assigned.iter_mut().zip(&best.assigned).enumerate() {
        if now != best {
            if let Some(j) = *now {
                inst.leave(loads, c, j);
            }
            if let Some(j) = *best {
                inst.board(loads, c, j);
            }
            *now = *best;
        }
    }
}

/// The best plan a search has seen: the highest objective, then, class by class, the highest
/// sum of the scores of the households with a seat (relative to the start).
struct Best {
    value: Vec<f64>,
    score: Vec<f64>,
    assigned: Vec<Option<usize>>,
}

/// Adds what a kick changed, class by class, to the sums of the scores of the households with
/// a seat: `changed` holds each case it moved with its journey before.
fn add_seated_score_change(
    inst: &Instance<'_>,
    assigned: &[Option<usize>],
    changed: &[(usize, Option<usize>)],
    score: &mut [f64],
) {
    for &(c, before) in changed {
        let class = usize::from(inst.cases[c].class).max(1) - 1;
        match (before.is_some(), assigned[c].is_some()) {
            (false, true) => score[class] += inst.cases[c].score,
            (true, false) => score[class] -= inst.cases[c].score,
            _ => {}
        }
    }
}

/// Lexicographic comparison of two objective values (class 1 first), equal within
/// `VALUE_TOLERANCE`.
fn compare(a: &[f64], b: &[f64]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if (x - y).abs() > VALUE_TOLERANCE {
            return x.total_cmp(y);
        }
    }
    Ordering::Equal
}

/// Takes case `c` off one transport's list of the cases on it.
fn unlist(on: &mut Vec<usize>, c: usize) {
    if let Some(i) = on.iter().position(|&x| x == c) {
        on.swap_remove(i);
    }
}

/// A set of case indices with insertion, removal and a uniform random pick in constant time.
struct Pool {
    items: Vec<usize>,
    /// By case: where it is in `items` (`usize::MAX`: absent).
    position: Vec<usize>,
}

impl Pool {
    fn new(cases: usize) -> Pool {
        Pool {
            items: Vec::new(),
            position: vec![usize::MAX; cases],
        }
    }

    fn insert(&mut self, c: usize) {
        if self.position[c] == usize::MAX {
            self.position[c] = self.items.len();
            self.items.push(c);
        }
    }

    fn remove(&mut self, c: usize) {
        let i = self.position[c];
        if i == usize::MAX {
            return;
        }
        self.items.swap_remove(i);
        if let Some(&moved) = self.items.get(i) {
            self.position[moved] = i;
        }
        self.position[c] = usize::MAX;
    }

    fn pick(&self, rng: &mut SplitMix64) -> Option<usize> {
        (!self.items.is_empty()).then(|| self.items[rng.below(self.items.len() as u64) as usize])
    }
}

/// A small, fast generator (Vigna's SplitMix64): enough to choose what to ruin, without a
/// dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for n far below 2⁶⁴.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
