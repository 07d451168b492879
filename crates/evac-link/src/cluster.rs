//! Clustering: scored links into persons, persons into households.
//!
//! Persons: links above the auto-merge threshold are taken strongest first, and two clusters
//! merge only when *no* pair across them contradicts being one person (two documents with a
//! check character that differ, birth dates that plainly differ, different sexes, two members
//! of one request) and the pairs across them agree on average. A chain of links (father – son
//! with no birth date – grandson) therefore stops where two of its ends disagree, instead of
//! merging a family into one person; a very noisy record that merely matches weakly does not block a merge.
//!
//! Households: the records of one request, the records of one person, and records that share a
//! phone (unless the phone is shared by too many requests to mean a family: a hotel's
//! switchboard) or an address and a surname stem.

use std::collections::HashMap;

use crate::block::NO_GROUP;
use crate::model::weight_for_probability;
use crate::record::Prepared;

/// A candidate pair with its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedPair {
    pub a: u32,
    pub b: u32,
    pub match_weight: f64,
}

/// Bounds of the person clustering.
#[derive(Debug, Clone, Copy)]
pub struct PersonClustering {
    pub auto_merge_probability_min: f64,
    /// The mean probability across two merging clusters must reach this.
    pub cross_mean_probability_min: f64,
    /// Merges that would compare more pairs than this are left to review.
    pub cross_pairs_max: usize,
}

/// What clustering needs to know about any two records: their match weight, and whether
/// anything contradicts their being one person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairCheck {
    pub match_weight: f64,
    pub contradicts: bool,
}

/// Cluster index per record. `check` scores any two records (in the same context as `pairs`).
pub fn persons(
    groups: &[u32],
    pairs: &[WeightedPair],
    check: impl Fn(u32, u32) -> PairCheck,
    bounds: PersonClustering,
) -> Vec<u32> {
    let auto_weight = weight_for_probability(bounds.auto_merge_probability_min);
    let mut links: Vec<&WeightedPair> = pairs
        .iter()
        .filter(|p| p.match_weight >= auto_weight)
        .collect();
    links.sort_by(|x, y| {
        y.match_weight
            .total_cmp(&x.match_weight)
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    let mut cluster_of: Vec<u32> = (0..groups.len() as u32).collect();
    let mut members: HashMap<u32, Vec<u32>> = HashMap::new();
    for link in links {
        let (ca, cb) = (cluster_of[link.a as usize], cluster_of[link.b as usize]);
        if ca == cb {
            continue;
        }
        let a_members = members.get(&ca).cloned().unwrap_or_else(|| vec![ca]);
        let b_members = members.get(&cb).cloned().unwrap_or_else(|| vec![cb]);
        if a_members.len() * b_members.len() > bounds.cross_pairs_max {
            continue;
        }
        let mut allowed = true;
        let mut probability_sum = 0.0;
        'cross: for &x in &a_members {
            for &y in &b_members {
                let (gx, gy) = (groups[x as usize], groups[y as usize]);
                if gx != NO_GROUP && gx == gy {
                    allowed = false;
                    break 'cross;
                }
                let pair = check(x, y);
                if pair.contradicts {
                    allowed = false;
                    break 'cross;
                }
                probability_sum += crate::model::probability(pair.match_weight);
            }
        }
        let cross = (a_members.len() * b_members.len()) as f64;
        if !allowed || probability_sum / cross < bounds.cross_mean_probability_min {
            continue;
        }
        // The smaller cluster joins the larger; the cluster keeps the lower id (deterministic).
        let (keep, gone) = (ca.min(cb), ca.max(cb));
        let mut merged = a_members;
        merged.extend(b_members);
        merged.sort_unstable();
        for &r in &merged {
            cluster_of[r as usize] = keep;
        }
        members.remove(&gone);
        members.insert(keep, merged);
    }
    cluster_of
}

/// Household index per record.
pub fn households(
    records: &[Prepared],
    groups: &[u32],
    person_of: &[u32],
    household_phone_groups_max: usize,
) -> Vec<u32> {
    let mut sets = UnionFind::new(records.len());
    // One request, one household; one person, one household.
    let mut first_of_group: HashMap<u32, u32> = HashMap::new();
    for (i, &g) in groups.iter().enumerate() {
        if g != NO_GROUP {
            let first = *first_of_group.entry(g).or_insert(i as u32);
            sets.union(first, i as u32);
        }
        sets.union(person_of[i], i as u32);
    }
    // Shared phones, unless a phone reaches too many requests to mean a family.
    let mut by_phone: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        for phone in r.phones.iter().chain(&r.household_phones) {
            by_phone.entry(phone).or_default().push(i as u32);
        }
    }
    for holders in by_phone.values() {
        let mut distinct_groups: Vec<u32> = holders
            .iter()
            .map(|&i| match groups[i as usize] {
                NO_GROUP => u32::MAX - 1 - i,
                g => g,
            })
            .collect();
        distinct_groups.sort_unstable();
        distinct_groups.dedup();
        if distinct_groups.len() <= household_phone_groups_max {
            for &i in &holders[1..] {
                sets.union(holders[0], i);
            }
        }
    }
    // One address and one surname stem.
    let mut by_address: HashMap<(&str, &str), u32> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        if let (Some(address), Some(stem)) = (&r.address, r.surname_stem()) {
            let first = *by_address.entry((address, stem)).or_insert(i as u32);
            sets.union(first, i as u32);
        }
    }
    (0..records.len() as u32).map(|i| sets.find(i)).collect()
}

/// Disjoint sets whose representative is always the smallest member (so results do not
/// depend on the order unions happen in).
pub struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n as u32).collect(),
        }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grandparent = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grandparent;
            x = grandparent;
        }
        x
    }

    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (low, high) = (ra.min(rb), ra.max(rb));
            self.parent[high as usize] = low;
        }
    }
}
