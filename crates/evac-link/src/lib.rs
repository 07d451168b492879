//! Record linkage: the same people across channels, scripts and spellings, resolved into
//! persons and households.
//!
//! The pipeline, in the order [`link`] runs it:
//!
//! 1. [`normalize`]: each [`LinkRecord`] becomes a [`Prepared`] once (name keys that meet
//!    across transliteration schemes, given-name groups, patronymic, surname stem, phone and
//!    document keys);
//! 2. [`block`]: cheap keys OR-ed together give the candidate pairs;
//! 3. [`model`]: Fellegi–Sunter, `u` from random pairs, `m` by EM over the candidates;
//! 4. [`cluster`]: persons by strongest links first, with every pair across a merge checked (no
//!    chaining), then households;
//! 5. [`index`]: the same model matches one new record against the linked set online.
//!
//! Pure: no I/O, no clock, no global state; randomness is seeded; the batch uses all cores via
//! rayon. Records are sorted by id first, so the result is the same whatever the input order.

pub mod block;
pub mod cluster;
pub mod compare;
mod dictionary;
pub mod evaluate;
pub mod index;
pub mod model;
pub mod normalize;
pub mod record;
pub mod sources;

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

pub use block::{BlockingStats, CandidatePair};
pub use compare::{Comparison, Documents, FIELDS, Field};
pub use index::{Candidate, Index, Offered, best_matches};
pub use model::{
    Doubt, FieldWeight, HouseholdParameters, Likeness, MODEL_LEARNING, Model, Score, StoredModel,
    name_association,
};
pub use record::{LinkRecord, Prepared, Sex};

use crate::block::NO_GROUP;
use crate::cluster::{PersonClustering, WeightedPair};
use crate::model::weight_for_probability;

/// The knobs of a linkage run, with their units in their names.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Pairs at or above this probability are merged into one person (when clustering allows).
    pub auto_merge_probability_min: f64,
    /// Pairs at or above this (and below auto-merge) go to the review queue.
    pub review_probability_min: f64,
    /// When two clusters merge, no pair across them may contradict being one person, and the
    /// pairs across them must reach this probability on average.
    pub cross_mean_probability_min: f64,
    /// Blocks with more records than this are skipped.
    pub block_size_max: usize,
    /// Random pairs drawn to estimate `u`.
    pub u_sample_pairs: usize,
    pub em_iterations_max: usize,
    /// A phone shared by more requests than this is not household evidence.
    pub household_phone_groups_max: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_merge_probability_min: 0.99,
            review_probability_min: 0.5,
            cross_mean_probability_min: 0.5,
            block_size_max: 200,
            u_sample_pairs: 300_000,
            em_iterations_max: 60,
            household_phone_groups_max: 8,
            seed: 2022,
        }
    }
}

impl Settings {
    /// Whether a new record is compared with the `stored` records that share one of its keys:
    /// only while the block, the new record with them, holds at most `block_size_max` (larger
    /// ones, a very common name born on a common day or a hotel's switchboard, are skipped, as
    /// the batch skips them).
    pub fn block_is_usable(&self, stored: usize) -> bool {
        stored < self.block_size_max
    }
}

/// Where a scored pair falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    AutoMerge,
    Review,
    Distinct,
}

impl Band {
    pub fn of(probability: f64, settings: &Settings) -> Band {
        if probability >= settings.auto_merge_probability_min {
            Band::AutoMerge
        } else if probability >= settings.review_probability_min {
            Band::Review
        } else {
            Band::Distinct
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Band::AutoMerge => "auto_merge",
            Band::Review => "review",
            Band::Distinct => "distinct",
        }
    }
}

/// A pair at or above the review threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedPair {
    /// Indices into [`Linkage::record_ids`].
    pub a: u32,
    pub b: u32,
    pub match_weight: f64,
    pub match_probability: f64,
    pub band: Band,
    /// Whether clustering put the two into one person.
    pub same_person: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum LinkError {
    #[error("record id '{0}' occurs more than once; every record needs its own id")]
    DuplicateRecordId(String),
}

/// The result of a batch linkage. Records are in `record_ids` order (sorted by id).
#[derive(Debug)]
pub struct Linkage {
    pub record_ids: Vec<String>,
    pub prepared: Vec<Prepared>,
    /// Group index per record (into `group_names`), or `u32::MAX`.
    pub groups: Vec<u32>,
    pub group_names: Vec<String>,
    /// Person cluster per record: the index of its first record.
    pub person: Vec<u32>,
    /// Household per record: the index of its first record.
    pub household: Vec<u32>,
    pub pairs: Vec<LinkedPair>,
    pub candidate_pairs: Vec<CandidatePair>,
    pub model: Model,
    pub blocking: BlockingStats,
    pub settings: Settings,
    /// Pairs of requests tied by a sure link between two of their people, with that link.
    pub group_ties: GroupTies,
}

impl Linkage {
    /// The per-field explanation of any two records, in the context of the linkage (requests
    /// tied by another of their people count as one household).
    pub fn explain(&self, a: u32, b: u32) -> Score {
        // Borrowed, never copied: a relink explains every pair it logs (a copy of the ties per
        // pair made logging grow with the square of the data).
        let context = Context {
            prepared: &self.prepared,
            groups: &self.groups,
            ties: &self.group_ties,
        };
        self.model.score(&context.compare(a, b))
    }

    /// Person and household ids as record ids (the first record of each), in record order.
    pub fn cluster_ids(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.record_ids.iter().enumerate().map(|(i, id)| {
            (
                id.as_str(),
                self.record_ids[self.person[i] as usize].as_str(),
                self.record_ids[self.household[i] as usize].as_str(),
            )
        })
    }
}

/// Links `records` into persons and households.
pub fn link(records: Vec<LinkRecord>, settings: &Settings) -> Result<Linkage, LinkError> {
    let mut records = records;
    records.par_sort_unstable_by(|a, b| a.record_id.cmp(&b.record_id));
    let mut batch = Batch::default();
    batch.add(records);
    batch.link(settings)
}

/// Records gathered a page at a time and prepared as they come, for a caller that reads them
/// from somewhere slower than the preparing (a store): the prepared form is all it keeps, so
/// the records themselves never all sit in memory at once. Records are linked in the order they
/// were added, which the caller keeps the same from one run to the next.
#[derive(Debug, Default)]
pub struct Batch {
    record_ids: Vec<String>,
    prepared: Vec<Prepared>,
    groups: Vec<u32>,
    group_names: Vec<String>,
    group_of_name: HashMap<String, u32>,
}

impl Batch {
    /// Prepares `records` on every core and adds them.
    pub fn add(&mut self, records: Vec<LinkRecord>) {
        self.prepared
            .par_extend(records.par_iter().map(Prepared::new));
        for r in records {
            let group = match r.group {
                Some(name) => match self.group_of_name.get(&name) {
                    Some(&g) => g,
                    None => {
                        let g = self.group_names.len() as u32;
                        self.group_names.push(name.clone());
                        self.group_of_name.insert(name, g);
                        g
                    }
                },
                None => NO_GROUP,
            };
            self.groups.push(group);
            self.record_ids.push(r.record_id);
        }
    }

    pub fn len(&self) -> usize {
        self.prepared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prepared.is_empty()
    }

    /// Links what was added, as [`link`] does; record `i` is the `i`th added.
    pub fn link(self, settings: &Settings) -> Result<Linkage, LinkError> {
        let mut ids: Vec<&str> = self.record_ids.iter().map(String::as_str).collect();
        ids.par_sort_unstable();
        if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
            return Err(LinkError::DuplicateRecordId(w[0].to_string()));
        }
        drop(ids);
        drop(self.group_of_name);
        let mut linkage = link_prepared(self.record_ids, self.prepared, self.groups, settings);
        linkage.group_names = self.group_names;
        Ok(linkage)
    }
}

/// Links records already prepared (and sorted by id); groups are named `#0`, `#1`, … unless
/// the caller names them.
pub fn link_prepared(
    record_ids: Vec<String>,
    prepared: Vec<Prepared>,
    groups: Vec<u32>,
    settings: &Settings,
) -> Linkage {
    let mut prepared = prepared;
    set_household_sizes(&mut prepared, &groups);
    let (candidate_pairs, blocking) =
        block::candidate_pairs(&prepared, &groups, settings.block_size_max);
    let model = Model::estimate(
        &prepared,
        &groups,
        &candidate_pairs,
        settings.u_sample_pairs,
        settings.em_iterations_max,
        settings.seed,
    );
    let review_weight = weight_for_probability(settings.review_probability_min);
    let auto_weight = weight_for_probability(settings.auto_merge_probability_min);
    // First pass: which pairs of requests are tied by a sure link between two of their people.
    let sure: Vec<(u32, u32)> = candidate_pairs
        .par_iter()
        .filter(|p| groups[p.a as usize] != NO_GROUP && groups[p.b as usize] != NO_GROUP)
        .filter_map(|p| {
            let c = compare::compare(&prepared[p.a as usize], &prepared[p.b as usize]);
            (!model.contradicts(&c) && model.weight(&c) >= auto_weight).then_some((p.a, p.b))
        })
        .collect();
    let ties = GroupTies::new(&groups, &sure);
    // Second pass: every pair in the context of those ties.
    let context = Context {
        prepared: &prepared,
        groups: &groups,
        ties: &ties,
    };
    let weighted: Vec<WeightedPair> = candidate_pairs
        .par_iter()
        .filter_map(|&CandidatePair { a, b, .. }| {
            let c = context.compare(a, b);
            let match_weight = model.weight(&c);
            (match_weight >= review_weight && !c.cannot_link).then_some(WeightedPair {
                a,
                b,
                match_weight,
            })
        })
        .collect();
    let person = cluster::persons(
        &groups,
        &weighted,
        |x, y| {
            let c = context.compare(x, y);
            cluster::PairCheck {
                match_weight: model.weight(&c),
                contradicts: model.contradicts(&c),
            }
        },
        PersonClustering {
            auto_merge_probability_min: settings.auto_merge_probability_min,
            cross_mean_probability_min: settings.cross_mean_probability_min,
            cross_pairs_max: 4096,
        },
    );
    let household = cluster::households(
        &prepared,
        &groups,
        &person,
        settings.household_phone_groups_max,
    );
    let pairs = weighted
        .iter()
        .map(|p| {
            let match_probability = model::probability(p.match_weight);
            LinkedPair {
                a: p.a,
                b: p.b,
                match_weight: p.match_weight,
                match_probability,
                band: Band::of(match_probability, settings),
                same_person: person[p.a as usize] == person[p.b as usize],
            }
        })
        .collect();
    Linkage {
        group_ties: ties,
        record_ids,
        prepared,
        group_names: (0..groups
            .iter()
            .filter(|&&g| g != NO_GROUP)
            .max()
            .map_or(0, |&g| g + 1))
            .map(|g| format!("#{g}"))
            .collect(),
        groups,
        person,
        household,
        pairs,
        candidate_pairs,
        model,
        blocking,
        settings: *settings,
    }
}

/// Each record's [`Prepared::household_size`]: the records of its group.
fn set_household_sizes(prepared: &mut [Prepared], groups: &[u32]) {
    let mut sizes: HashMap<u32, u16> = HashMap::new();
    for &g in groups.iter().filter(|&&g| g != NO_GROUP) {
        let n = sizes.entry(g).or_default();
        *n = n.saturating_add(1);
    }
    for (p, g) in prepared.iter_mut().zip(groups) {
        p.household_size = sizes.get(g).copied().unwrap_or(1);
    }
}

/// Pairs of requests tied by sure links between their people.
#[derive(Debug, Default)]
pub struct GroupTies {
    pairs: HashMap<(u32, u32), Vec<(u32, u32)>>,
}

impl GroupTies {
    fn new(groups: &[u32], sure: &[(u32, u32)]) -> GroupTies {
        let mut pairs: HashMap<(u32, u32), Vec<(u32, u32)>> = HashMap::new();
        for &(a, b) in sure {
            let (ga, gb) = (groups[a as usize], groups[b as usize]);
            pairs
                .entry((ga.min(gb), ga.max(gb)))
                .or_default()
                .push((a, b));
        }
        GroupTies { pairs }
    }

    /// Whether the requests of `a` and `b` are tied by a sure link between two *other* people.
    fn tied(&self, groups: &[u32], a: u32, b: u32) -> bool {
        let (ga, gb) = (groups[a as usize], groups[b as usize]);
        if ga == NO_GROUP || gb == NO_GROUP || ga == gb {
            return false;
        }
        self.pairs
            .get(&(ga.min(gb), ga.max(gb)))
            .is_some_and(|links| {
                links
                    .iter()
                    .any(|&(x, y)| x != a && x != b && y != a && y != b)
            })
    }
}

/// Comparisons in the context of the linkage so far.
struct Context<'a> {
    prepared: &'a [Prepared],
    groups: &'a [u32],
    ties: &'a GroupTies,
}

impl Context<'_> {
    fn compare(&self, a: u32, b: u32) -> Comparison<'_> {
        let mut c = compare::compare(&self.prepared[a as usize], &self.prepared[b as usize]);
        if self.ties.tied(self.groups, a, b) {
            c.tie_households();
        }
        c
    }
}
