//! Scoring a linkage against ground truth: pair precision, recall and F1 (over all pairs of
//! records put in one cluster), cluster F1 (a predicted cluster counts when it equals a true
//! one exactly), and the pair recall of blocking (how many true pairs were ever compared).

use std::collections::HashMap;
use std::hash::Hash;

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PairMetrics {
    pub true_pairs: u64,
    pub predicted_pairs: u64,
    pub correct_pairs: u64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl PairMetrics {
    fn from_counts(true_pairs: u64, predicted_pairs: u64, correct_pairs: u64) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        let precision = ratio(correct_pairs, predicted_pairs);
        let recall = ratio(correct_pairs, true_pairs);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        PairMetrics {
            true_pairs,
            predicted_pairs,
            correct_pairs,
            precision,
            recall,
            f1,
        }
    }
}

fn pairs_in(size: u64) -> u64 {
    size * size.saturating_sub(1) / 2
}

/// Pair metrics of `predicted` cluster labels against `truth` labels (one per record).
pub fn pair_metrics<P: Hash + Eq, T: Hash + Eq>(predicted: &[P], truth: &[T]) -> PairMetrics {
    let mut by_predicted: HashMap<&P, u64> = HashMap::new();
    let mut by_truth: HashMap<&T, u64> = HashMap::new();
    let mut by_both: HashMap<(&P, &T), u64> = HashMap::new();
    for (p, t) in predicted.iter().zip(truth) {
        *by_predicted.entry(p).or_default() += 1;
        *by_truth.entry(t).or_default() += 1;
        *by_both.entry((p, t)).or_default() += 1;
    }
    PairMetrics::from_counts(
        by_truth.values().map(|&n| pairs_in(n)).sum(),
        by_predicted.values().map(|&n| pairs_in(n)).sum(),
        by_both.values().map(|&n| pairs_in(n)).sum(),
    )
}

/// Pair metrics restricted to pairs that `counts` accepts (e.g. one record in Cyrillic and the
/// other in Latin). Quadratic in cluster sizes, which are small.
pub fn pair_metrics_where<P: Hash + Eq, T: Hash + Eq>(
    predicted: &[P],
    truth: &[T],
    counts: impl Fn(usize, usize) -> bool,
) -> PairMetrics {
    let count_pairs = |clusters: HashMap<u64, Vec<usize>>| -> u64 {
        let mut n = 0;
        for members in clusters.values() {
            for (x, &i) in members.iter().enumerate() {
                n += members[x + 1..].iter().filter(|&&j| counts(i, j)).count() as u64;
            }
        }
        n
    };
    let key = |h: &dyn Fn(&mut std::hash::DefaultHasher)| {
        use std::hash::Hasher;
        let mut s = std::hash::DefaultHasher::new();
        h(&mut s);
        s.finish()
    };
    let mut by_predicted: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut by_truth: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut by_both: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, (p, t)) in predicted.iter().zip(truth).enumerate() {
        by_predicted.entry(key(&|s| p.hash(s))).or_default().push(i);
        by_truth.entry(key(&|s| t.hash(s))).or_default().push(i);
        by_both.entry(key(&|s| (p, t).hash(s))).or_default().push(i);
    }
    PairMetrics::from_counts(
        count_pairs(by_truth),
        count_pairs(by_predicted),
        count_pairs(by_both),
    )
}

/// Share of true pairs (records with the same truth label) among `compared` pairs.
pub fn blocking_pair_recall<T: Hash + Eq>(
    compared: impl IntoIterator<Item = (u32, u32)>,
    truth: &[T],
) -> f64 {
    let mut by_truth: HashMap<&T, u64> = HashMap::new();
    for t in truth {
        *by_truth.entry(t).or_default() += 1;
    }
    let true_pairs: u64 = by_truth.values().map(|&n| pairs_in(n)).sum();
    let found = compared
        .into_iter()
        .filter(|&(a, b)| truth[a as usize] == truth[b as usize])
        .count() as u64;
    if true_pairs == 0 {
        1.0
    } else {
        found as f64 / true_pairs as f64
    }
}

/// F1 over clusters: a predicted cluster is correct when a true cluster has exactly its members.
pub fn cluster_f1<P: Hash + Eq + Clone, T: Hash + Eq + Clone>(predicted: &[P], truth: &[T]) -> f64 {
    let members = |labels: Vec<u64>| -> HashMap<u64, Vec<usize>> {
        let mut m: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, l) in labels.into_iter().enumerate() {
            m.entry(l).or_default().push(i);
        }
        m
    };
    let hash_all = |f: &dyn Fn(usize) -> u64| (0..predicted.len()).map(f).collect::<Vec<_>>();
    let hash_of = |v: &dyn Fn(&mut std::hash::DefaultHasher)| {
        use std::hash::Hasher;
        let mut s = std::hash::DefaultHasher::new();
        v(&mut s);
        s.finish()
    };
    let p = members(hash_all(&|i| hash_of(&|s| predicted[i].hash(s))));
    let t = members(hash_all(&|i| hash_of(&|s| truth[i].hash(s))));
    let true_sets: std::collections::HashSet<&Vec<usize>> = t.values().collect();
    let correct = p.values().filter(|m| true_sets.contains(m)).count() as f64;
    let precision = correct / p.len().max(1) as f64;
    let recall = correct / t.len().max(1) as f64;
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

/// The lower bounds of the probability bands a reliability table counts (the last band ends
/// at 1).
pub const RELIABILITY_BANDS: [f64; 5] = [0.5, 0.8, 0.9, 0.99, 0.999];

/// One band of shown probability and how often its pairs were truly one person.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityBand {
    /// Shown probability at least this (and below the next band's floor).
    pub probability_min: f64,
    pub pairs: u64,
    pub true_pairs: u64,
    /// `true_pairs / pairs`, 1 for an empty band: what a case officer should read the band as.
    pub true_share: f64,
    /// The mean probability shown in the band: calibrated when it is close to `true_share`.
    pub mean_shown: f64,
}

/// A reliability table: for each band of [`RELIABILITY_BANDS`], the share of its pairs
/// (shown probability, truly one person) that are truly one person. Pairs below the first
/// band are not counted.
pub fn reliability(pairs: impl IntoIterator<Item = (f64, bool)>) -> Vec<ReliabilityBand> {
    let mut bands: Vec<ReliabilityBand> = RELIABILITY_BANDS
        .iter()
        .map(|&probability_min| ReliabilityBand {
            probability_min,
            pairs: 0,
            true_pairs: 0,
            true_share: 1.0,
            mean_shown: 0.0,
        })
        .collect();
    for (shown, same) in pairs {
        let Some(band) = bands.iter_mut().rev().find(|b| shown >= b.probability_min) else {
            continue;
        };
        band.pairs += 1;
        band.true_pairs += u64::from(same);
        band.mean_shown += shown;
    }
    for band in &mut bands {
        if band.pairs > 0 {
            band.true_share = band.true_pairs as f64 / band.pairs as f64;
            band.mean_shown /= band.pairs as f64;
        }
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_metrics_count_pairs_not_records() {
        // Truth: {0,1,2} {3}; predicted: {0,1} {2,3}.
        let m = pair_metrics(&[1, 1, 2, 2], &["a", "a", "a", "b"]);
        assert_eq!(
            (m.true_pairs, m.predicted_pairs, m.correct_pairs),
            (3, 2, 1)
        );
        assert!((m.precision - 0.5).abs() < 1e-12);
        assert!((m.recall - 1.0 / 3.0).abs() < 1e-12);
        let perfect = pair_metrics(&[9, 9, 8, 7], &["a", "a", "a2", "b"]);
        assert_eq!(perfect.f1, 1.0);
    }

    #[test]
    fn restricted_metrics_only_count_accepted_pairs() {
        let m = pair_metrics_where(&[1, 1, 1], &["a", "a", "b"], |i, j| i == 0 || j == 0);
        // Accepted pairs: (0,1) true+predicted, (0,2) predicted only.
        assert_eq!(
            (m.true_pairs, m.predicted_pairs, m.correct_pairs),
            (1, 2, 1)
        );
    }

    #[test]
    fn cluster_f1_wants_exact_clusters() {
        assert_eq!(cluster_f1(&[1, 1, 2], &["a", "a", "b"]), 1.0);
        assert_eq!(cluster_f1(&[1, 1, 1], &["a", "a", "b"]), 0.0);
        assert_eq!(blocking_pair_recall([(0, 1)], &["a", "a", "a"]), 1.0 / 3.0);
    }

    #[test]
    fn reliability_counts_each_pair_in_its_band() {
        let bands = reliability([
            (0.3, true),
            (0.6, false),
            (0.7, true),
            (0.995, false),
            (0.9995, true),
            (1.0, true),
        ]);
        let row = |min: f64| bands.iter().find(|b| b.probability_min == min).unwrap();
        assert_eq!((row(0.5).pairs, row(0.5).true_pairs), (2, 1));
        assert!((row(0.5).true_share - 0.5).abs() < 1e-12);
        assert!((row(0.5).mean_shown - 0.65).abs() < 1e-12);
        assert_eq!((row(0.8).pairs, row(0.8).true_share), (0, 1.0));
        assert_eq!((row(0.99).pairs, row(0.99).true_pairs), (1, 0));
        assert_eq!((row(0.999).pairs, row(0.999).true_pairs), (2, 2));
    }
}
