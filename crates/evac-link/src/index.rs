//! Online matching: one new record against everything already linked, in milliseconds. The
//! index keeps each blocking key's records; a new record is compared with the records that
//! share a key (skipping keys as common as batch blocking skips), scored with the batch
//! model, and the matches above the review threshold come back strongest first, each with its
//! explanation.

use std::collections::HashMap;

use crate::block::blocking_keys;
use crate::model::{Model, Score, weight_for_probability};
use crate::record::Prepared;
use crate::{Linkage, Settings};

/// A stored record that may be the same person as the one being matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Position in the index (insertion order).
    pub index: u32,
    pub score: Score,
}

/// Records, their blocking keys and the model that scores them.
#[derive(Debug)]
pub struct Index {
    model: Model,
    settings: Settings,
    records: Vec<Prepared>,
    /// Group (request) of each record, interned; records of one group are never matched.
    groups: Vec<Option<u32>>,
    group_ids: HashMap<String, u32>,
    by_key: HashMap<u64, Vec<u32>>,
}

impl Index {
    pub fn new(model: Model, settings: Settings) -> Index {
        Index {
            model,
            settings,
            records: Vec::new(),
            groups: Vec::new(),
            group_ids: HashMap::new(),
            by_key: HashMap::new(),
        }
    }

    /// An index over a batch linkage's records (indices stay those of the linkage), taking
    /// them over rather than copying them (a relink of a million people would hold both), with
    /// the blocking keys computed on every core.
    pub fn from_linkage(linkage: Linkage) -> Index {
        use rayon::prelude::*;
        let Linkage {
            prepared,
            groups,
            group_names,
            model,
            settings,
            ..
        } = linkage; // the pairs and clusters are dropped here, before the keys take room
        let keys: Vec<Vec<u64>> = prepared.par_iter().map(blocking_keys).collect();
        let mut by_key: HashMap<u64, Vec<u32>> = HashMap::new();
        for (index, keys) in keys.into_iter().enumerate() {
            for key in keys {
                by_key.entry(key).or_default().push(index as u32);
            }
        }
        Index {
            model,
            settings,
            records: prepared,
            groups: groups
                .iter()
                .map(|&g| (g != crate::block::NO_GROUP).then_some(g))
                .collect(),
            // The linkage interned its groups already: names are unique, ids their positions.
            group_ids: (0u32..)
                .zip(group_names)
                .map(|(id, name)| (name, id))
                .collect(),
            by_key,
        }
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn record(&self, index: u32) -> &Prepared {
        &self.records[index as usize]
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// For reviewers' decisions to refine the model ([`Model::learn_from_decisions`]).
    pub fn model_mut(&mut self) -> &mut Model {
        &mut self.model
    }

    /// Adds a record of `group` (its request); returns its index.
    pub fn insert(&mut self, record: Prepared, group: Option<&str>) -> u32 {
        let index = u32::try_from(self.records.len()).expect("fewer than 4 billion records");
        let group = group.map(|g| {
            let next = self.group_ids.len() as u32;
            *self.group_ids.entry(g.to_string()).or_insert(next)
        });
        self.groups.push(group);
        for key in blocking_keys(&record) {
            self.by_key.entry(key).or_default().push(index);
        }
        self.records.push(record);
        index
    }

    /// The stored records at or above the review threshold for `record` of `group`, strongest
    /// first (ties by index), at most `limit`. Pairs that cannot link and records of the same
    /// group are left out. `tied_to` are stored records already surely matched by *other*
    /// people of the same new request: a candidate in one of their groups is in a tied
    /// household, as in the batch's second pass.
    pub fn matches(
        &self,
        record: &Prepared,
        group: Option<&str>,
        tied_to: &[u32],
        limit: usize,
    ) -> Vec<Candidate> {
        let own_group = group.and_then(|g| self.group_ids.get(g)).copied();
        let tied_groups: Vec<u32> = tied_to
            .iter()
            .filter_map(|&i| self.groups.get(i as usize).copied().flatten())
            .collect();
        let mut seen: Vec<u32> = Vec::new();
        for key in blocking_keys(record) {
            if let Some(postings) = self.by_key.get(&key)
                && self.settings.block_is_usable(postings.len())
            {
                // As the batch does: a name-and-year or name-and-postcode block pairs only
                // records of which one lacks a date (or a year).
                seen.extend(postings.iter().copied().filter(|&i| {
                    crate::block::key_proposes(key, record, &self.records[i as usize])
                }));
            }
        }
        seen.sort_unstable();
        seen.dedup();
        if own_group.is_some() {
            seen.retain(|&i| self.groups[i as usize] != own_group);
        }
        let offered = seen.into_iter().map(|i| {
            let candidate_group = self.groups[i as usize];
            Offered {
                id: i,
                record: &self.records[i as usize],
                tied_household: candidate_group.is_some_and(|g| tied_groups.contains(&g))
                    && !tied_to.contains(&i),
            }
        });
        best_matches(&self.model, &self.settings, record, offered, limit)
            .into_iter()
            .map(|(index, score)| Candidate { index, score })
            .collect()
    }
}

/// A stored record offered to [`best_matches`]: `id` names it as the caller does (a position
/// in an [`Index`], a person in a store), `tied_household` says it is in a household the new
/// record's request is tied to (another of its people surely matched someone there).
#[derive(Debug, Clone, Copy)]
pub struct Offered<'a, K> {
    pub id: K,
    pub record: &'a Prepared,
    pub tied_household: bool,
}

/// The offered records at or above the review threshold for `record`, strongest first (ties
/// by id), at most `limit`, each with its score; pairs that cannot link are left out. What
/// matching on arrival does whether the stored records are held in memory ([`Index`]) or read
/// from a store by their keys.
pub fn best_matches<'a, K: Ord + Copy>(
    model: &Model,
    settings: &Settings,
    record: &Prepared,
    offered: impl IntoIterator<Item = Offered<'a, K>>,
    limit: usize,
) -> Vec<(K, Score)> {
    let review_weight = weight_for_probability(settings.review_probability_min);
    let mut found: Vec<(K, Score)> = offered
        .into_iter()
        .filter_map(|o| {
            let mut c = crate::compare::compare(record, o.record);
            if o.tied_household {
                c.tie_households();
            }
            if c.cannot_link || model.weight(&c) < review_weight {
                return None;
            }
            Some((o.id, model.score(&c)))
        })
        .collect();
    found.sort_by(|x, y| {
        y.1.match_weight
            .total_cmp(&x.1.match_weight)
            .then(x.0.cmp(&y.0))
    });
    found.truncate(limit);
    found
}
