//! Blocking: which pairs are worth comparing at all. Several cheap keys are OR-ed: a pair is a
//! candidate when the two records share any key. Each key tolerates a different kind of noise:
//!
//! - a name token (its stem, or its given-name group) with the birth date, day and month
//!   unordered: survives a typo in the other name, swapped names and swapped day/month;
//! - one name token's spelling-free form with the other's first letters and a birth year: for
//!   records with an age instead of a date (pairs of two dated records are not formed here);
//! - a phone (the person's or their request's), a document number, an e-mail: survive any
//!   spelling; a document number also one character off (each character left out in turn);
//! - the birth date with the initials of given name and surname: survives typos in both names;
//! - one name token's spelling-free form with the other's first letter and the postcode: for
//!   records with no birth date or age at all (a list's blank or unreadable date), which no
//!   other name key reaches (pairs of two records with a birth year are not formed here).
//!
//! A block with more than `block_size_max` records (a very common name born on a common day,
//! a hotel's switchboard number) is skipped and counted: it would cost quadratic time and say
//! little. How much recall the keys give is measured against ground truth
//! ([`crate::evaluate`]).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use rayon::prelude::*;

use crate::record::Prepared;

/// Records of no group.
pub const NO_GROUP: u32 = u32::MAX;

/// What blocking did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BlockingStats {
    pub keys: usize,
    pub blocks: usize,
    pub blocks_skipped_as_too_large: usize,
    pub candidate_pairs: usize,
    /// Candidate pairs that share a key of each kind (a pair may count under several).
    pub pairs_by_kind: Vec<(&'static str, usize)>,
}

/// The blocking keys of one record (hashes; a record may have a few dozen).
pub fn blocking_keys(r: &Prepared) -> Vec<u64> {
    let mut keys = Vec::with_capacity(16);
    let date = r.birth_date.map(|d| {
        let (a, b) = (d.month(), d.day());
        (d.year(), a.min(b), a.max(b))
    });
    // Every spelling-independent form of every name token: its stem, and its name groups.
    let mut token_forms: Vec<String> = Vec::new();
    for t in r.name_tokens() {
        token_forms.push(crate::normalize::surname_stem(&t.key).to_string());
        for g in t.groups {
            token_forms.push(format!("#{g}"));
        }
    }
    token_forms.sort_unstable();
    token_forms.dedup();
    if let Some(date) = date {
        for form in &token_forms {
            keys.push(key(KIND_NAME_DATE, &(form, date)));
        }
        // The initials of given name and surname, in either order.
        let initial = |t: Option<&crate::record::NameToken>| t.and_then(|t| t.key.bytes().next());
        let (g, s) = (
            initial(r.given.first().or(r.unplaced.first())),
            initial(r.surname.first()),
        );
        if g.is_some() || s.is_some() {
            keys.push(key(KIND_INITIALS_DATE, &(g.min(s), g.max(s), date)));
        }
    }
    // Each name token's spelling-free form with the other token's first two letters and a
    // birth year: survives a typo in either token (past its second letter), swapped names, an
    // age given instead of a date. Emitted both ways round so that swapped records meet.
    if let Some((lo, hi)) = r.birth_year_range {
        let given = r.given.first().or(r.unplaced.first());
        let surname = r.surname.first();
        if let (Some(g), Some(s)) = (given, surname) {
            for (this, other) in [(g, s), (s, g)] {
                let start = other.key.get(..2).unwrap_or(&other.key);
                for year in lo..=hi {
                    keys.push(key(KIND_NAME_YEAR, &(canonical(this), start, year)));
                }
            }
        }
    }
    for phone in r.phones.iter().chain(&r.household_phones) {
        keys.push(key(KIND_PHONE, phone));
    }
    if let Some((document, _)) = &r.document {
        keys.push(key(KIND_DOCUMENT, document));
        // The number with each character left out in turn: two numbers one character apart
        // (a digit misheard or dropped, two swapped) share one of these, or one of them is
        // the other whole. A checked number gets them too: its copy with a typo fails the
        // check, and meets it only so.
        let length = document.chars().count();
        if (DOCUMENT_NEAR_CHARS_MIN..=DOCUMENT_NEAR_CHARS_MAX).contains(&length) {
            for (at, left_out) in document.char_indices() {
                let near = [&document[..at], &document[at + left_out.len_utf8()..]].concat();
                keys.push(key(KIND_DOCUMENT, &near.as_str()));
            }
        }
    }
    if let Some(email) = &r.email {
        keys.push(key(KIND_EMAIL, email));
    }
    // Each name token's spelling-free form with the other's first letter and the postcode,
    // both ways round: how an undated record meets its copy (a typo in one name survives).
    if let Some(postcode) = &r.postcode {
        let given = r.given.first().or(r.unplaced.first());
        if let (Some(g), Some(s)) = (given, r.surname.first()) {
            for (this, other) in [(g, s), (s, g)] {
                let start = other.key.get(..1).unwrap_or(&other.key);
                keys.push(key(KIND_NAME_POSTCODE, &(canonical(this), start, postcode)));
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// The blocking keys of each record, made on every core.
pub fn blocking_keys_of_each(records: &[&Prepared]) -> Vec<Vec<u64>> {
    records.par_iter().map(|r| blocking_keys(r)).collect()
}

/// Numbers this long are met one character off: a shorter one is a house number or a code that
/// many share off by one; a longer one is not a document (at most this many keys).
const DOCUMENT_NEAR_CHARS_MIN: usize = 6;
const DOCUMENT_NEAR_CHARS_MAX: usize = 20;

const KIND_NAME_DATE: u64 = 1;
const KIND_NAME_YEAR: u64 = 2;
const KIND_PHONE: u64 = 3;
const KIND_DOCUMENT: u64 = 4;
const KIND_EMAIL: u64 = 5;
const KIND_INITIALS_DATE: u64 = 6;
const KIND_NAME_POSTCODE: u64 = 7;
const KIND_SHIFT: u32 = 61;
// A kind is three bits of a key and one bit of `CandidatePair::kinds`: at most eight kinds.
const _: () = assert!(KIND_NAME_POSTCODE < 8 && KIND_NAME_POSTCODE < 1 << (64 - KIND_SHIFT));
const KIND_NAMES: [(u64, &str); 7] = [
    (KIND_NAME_DATE, "name+date"),
    (KIND_NAME_YEAR, "name+year"),
    (KIND_PHONE, "phone"),
    (KIND_DOCUMENT, "document"),
    (KIND_EMAIL, "email"),
    (KIND_INITIALS_DATE, "initials+date"),
    (KIND_NAME_POSTCODE, "name+postcode"),
];

/// A key: its kind in the top three bits, a hash of its value below.
fn key(kind: u64, value: &impl Hash) -> u64 {
    // DefaultHasher::new() has fixed keys: the same key on every run and machine.
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    (kind << KIND_SHIFT) | (h.finish() >> 3)
}

pub(crate) fn kind_of(key: u64) -> u64 {
    key >> KIND_SHIFT
}

/// A name token's form that ignores spelling and diminutives: its first given-name group, or
/// its surname stem.
fn canonical(t: &crate::record::NameToken) -> std::borrow::Cow<'_, str> {
    match t.groups.first() {
        Some(g) => format!("#{g}").into(),
        None => crate::normalize::surname_stem(&t.key).into(),
    }
}

/// Whether blocks of `kind` exist for some records only ([`served`]): name-and-year blocks
/// for records with an age instead of a date (two dated records meet through their dates
/// instead, and pairing every namesake born in the same year would grow quadratically with
/// the caseload); name-and-postcode blocks for records with no birth year at all.
fn serves_some_only(kind: u64) -> bool {
    matches!(kind, KIND_NAME_YEAR | KIND_NAME_POSTCODE)
}

/// Whether `r` is a record blocks of `kind` exist for.
fn served(kind: u64, r: &Prepared) -> bool {
    match kind {
        KIND_NAME_YEAR => r.birth_date.is_none(),
        KIND_NAME_POSTCODE => r.birth_year_range.is_none(),
        _ => true,
    }
}

/// Whether a pair that shares `key` is worth scoring, as the batch's block of that key would
/// pair them (a name-and-year key pairs only records of which one lacks a date).
pub fn key_proposes(key: u64, a: &Prepared, b: &Prepared) -> bool {
    worth_scoring(kind_of(key), a, b)
}

/// The version of how keys are made: moved on by every change to blocking, name keys, name
/// groups, stems or transliteration that the fixed records of [`keys_fingerprint`] may not
/// show.
pub const KEYS_VERSION: u64 = 2;

/// How keys are made, in one number: [`KEYS_VERSION`] and the keys of a few fixed records of
/// every kind, folded. Keys kept between runs (a store's index of them) hold only while it is
/// unchanged: a release that keys names differently, or a standard library whose hasher
/// changed, changes it, and the kept keys must be made again.
pub fn keys_fingerprint() -> u64 {
    use crate::record::LinkRecord;
    let dated = LinkRecord {
        given_names: Some("Мадина Ерлановна".into()),
        surname: Some("Серикбаева".into()),
        birth_date: Some(jiff::civil::date(1990, 3, 14)),
        phones: vec!["+77011234567".into()],
        household_phones: vec!["+77019876543".into()],
        email: Some("madina@example.kz".into()),
        document_number: Some("N12345678".into()),
        postcode: Some("050000".into()),
        ..LinkRecord::default()
    };
    let aged = LinkRecord {
        full_name: Some("Giulia Rossi".into()),
        birth_year_range: Some((2011, 2012)),
        ..LinkRecord::default()
    };
    let undated = LinkRecord {
        given_names: Some("Bauyrzhan".into()),
        surname: Some("Ospanov".into()),
        postcode: Some("010000".into()),
        ..LinkRecord::default()
    };
    [dated, aged, undated]
        .iter()
        .flat_map(|r| blocking_keys(&Prepared::new(r)))
        .fold(KEYS_VERSION, |folded, key| folded.rotate_left(7) ^ key)
}

/// Whether a pair from a block of `kind` is worth scoring: one of them is a record the kind
/// serves.
pub(crate) fn worth_scoring(kind: u64, a: &Prepared, b: &Prepared) -> bool {
    served(kind, a) || served(kind, b)
}

/// The kinds of blocking key, each a bit of [`CandidatePair::kinds`].
pub mod kinds {
    /// A name token's spelling-free form with the birth date.
    pub const NAME_DATE: u8 = 1 << super::KIND_NAME_DATE;
    /// A name token with the other's initial and a birth year.
    pub const NAME_YEAR: u8 = 1 << super::KIND_NAME_YEAR;
    pub const PHONE: u8 = 1 << super::KIND_PHONE;
    pub const DOCUMENT: u8 = 1 << super::KIND_DOCUMENT;
    pub const EMAIL: u8 = 1 << super::KIND_EMAIL;
    /// The initials of given name and surname with the birth date.
    pub const INITIALS_DATE: u8 = 1 << super::KIND_INITIALS_DATE;
    /// A name token with the other's initial and the postcode (records with no birth year).
    pub const NAME_POSTCODE: u8 = 1 << super::KIND_NAME_POSTCODE;
}

/// Two records worth comparing, and the kinds of key they share (EM learns each field from
/// pairs that were not chosen for agreeing on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CandidatePair {
    pub a: u32,
    pub b: u32,
    pub kinds: u8,
}

/// Candidate pairs with `a < b`, sorted, without pairs inside one group.
pub fn candidate_pairs(
    records: &[Prepared],
    groups: &[u32],
    block_size_max: usize,
) -> (Vec<CandidatePair>, BlockingStats) {
    let keys_of: Vec<Vec<u64>> = records.par_iter().map(blocking_keys).collect();
    let mut keyed: Vec<(u64, u32)> = keys_of
        .iter()
        .enumerate()
        .flat_map(|(i, keys)| {
            let i = u32::try_from(i).expect("fewer than 4 billion records");
            keys.iter().map(move |&k| (k, i))
        })
        .collect();
    keyed.par_sort_unstable();
    let mut blocks: Vec<std::ops::Range<usize>> = Vec::new();
    let mut oversized: HashSet<u64> = HashSet::new();
    let mut start = 0;
    for end in 1..=keyed.len() {
        if end == keyed.len() || keyed[end].0 != keyed[start].0 {
            if end - start > block_size_max {
                oversized.insert(keyed[start].0);
            } else if end - start >= 2 {
                blocks.push(start..end);
            }
            start = end;
        }
    }
    // A pair sharing several keys is met in several blocks; it is emitted once, from the block
    // of the smallest key that may propose it, with the kinds of every key that may. So no
    // duplicate is ever collected (at a million records that saves hundreds of megabytes).
    let proposals = |i: u32, j: u32| -> (Option<u64>, u8) {
        let (a, b) = (&records[i as usize], &records[j as usize]);
        let (ka, kb) = (&keys_of[i as usize], &keys_of[j as usize]);
        let (mut x, mut y) = (0, 0);
        let (mut first, mut kinds) = (None, 0u8);
        while x < ka.len() && y < kb.len() {
            match ka[x].cmp(&kb[y]) {
                std::cmp::Ordering::Less => x += 1,
                std::cmp::Ordering::Greater => y += 1,
                std::cmp::Ordering::Equal => {
                    let key = ka[x];
                    let kind = kind_of(key);
                    if !oversized.contains(&key) && worth_scoring(kind, a, b) {
                        first.get_or_insert(key);
                        kinds |= 1 << kind;
                    }
                    x += 1;
                    y += 1;
                }
            }
        }
        (first, kinds)
    };
    let mut pairs: Vec<CandidatePair> = blocks
        .par_iter()
        .flat_map_iter(|block| {
            let members = &keyed[block.clone()];
            let key = members[0].0;
            let kind = kind_of(key);
            let mut out = Vec::new();
            let mut push = |i: u32, j: u32| {
                let same_group =
                    groups[i as usize] != NO_GROUP && groups[i as usize] == groups[j as usize];
                if same_group || !worth_scoring(kind, &records[i as usize], &records[j as usize]) {
                    return;
                }
                let (first, kinds) = proposals(i, j);
                if first == Some(key) {
                    out.push(CandidatePair {
                        a: i.min(j),
                        b: i.max(j),
                        kinds,
                    });
                }
            };
            if serves_some_only(kind) {
                // Only pairs with a side the kind serves: walk those, not the whole square (a
                // block of dated namesakes alone costs nothing).
                let is_served = |i: u32| served(kind, &records[i as usize]);
                let served_members: Vec<u32> = members
                    .iter()
                    .map(|&(_, i)| i)
                    .filter(|&i| is_served(i))
                    .collect();
                for (x, &i) in served_members.iter().enumerate() {
                    for &(_, j) in members {
                        // Served pairs once (from their first member), the others always.
                        if j != i && (!is_served(j) || served_members[x + 1..].contains(&j)) {
                            push(i, j);
                        }
                    }
                }
            } else {
                for (x, &(_, i)) in members.iter().enumerate() {
                    for &(_, j) in &members[x + 1..] {
                        push(i, j);
                    }
                }
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    debug_assert!(
        pairs
            .windows(2)
            .all(|w| (w[0].a, w[0].b) != (w[1].a, w[1].b))
    );
    let skipped = oversized.len();
    let stats = BlockingStats {
        keys: keyed.len(),
        blocks: blocks.len(),
        blocks_skipped_as_too_large: skipped,
        candidate_pairs: pairs.len(),
        pairs_by_kind: KIND_NAMES
            .iter()
            .map(|&(kind, name)| {
                let bit = 1u8 << kind;
                (name, pairs.iter().filter(|p| p.kinds & bit != 0).count())
            })
            .collect(),
    };
    (pairs, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::LinkRecord;

    fn with_document(number: &str) -> Prepared {
        Prepared::new(&LinkRecord {
            record_id: number.into(),
            document_number: Some(number.into()),
            ..LinkRecord::default()
        })
    }

    fn share_a_key(a: &str, b: &str) -> bool {
        let theirs: HashSet<u64> = blocking_keys(&with_document(b)).into_iter().collect();
        blocking_keys(&with_document(a))
            .iter()
            .any(|k| theirs.contains(k))
    }

    /// A number misheard, two of its digits swapped, one dropped or one added meets the
    /// number as written (FEBRL 1 and 2 had such copies no other key reached).
    #[test]
    fn a_document_number_one_character_off_shares_a_key() {
        for (written, typed) in [
            ("5098690", "5098691"),
            ("5098690", "5096890"),
            ("5098690", "509690"),
            ("N12345678", "N123456789"),
            ("N12345678", "N12354678"),
        ] {
            assert!(share_a_key(written, typed), "{written} and {typed}");
        }
        // Two characters off, or a short number off by one: apart.
        assert!(!share_a_key("5098690", "5098611"));
        assert!(!share_a_key("12345", "12346"));
    }
}
