//! The Fellegi–Sunter model: for every field level, `m` (how often a true match shows it) and
//! `u` (how often two unrelated records do). A pair's match weight is the sum of
//! `log2(m / u)` over its fields plus the prior; its probability follows.
//!
//! `u` comes from random pairs (almost all of them non-matches); `m` and the prior come from
//! expectation–maximisation over the candidate pairs, unsupervised, counted per comparison
//! pattern so that a million pairs cost a few hundred patterns' worth of arithmetic and the
//! result does not depend on record order or thread count. Reviewers' decisions refine `m`
//! ([`Model::learn_from_decisions`]). Names that agree exactly weigh according to how common
//! the name is (term-frequency adjustment): two Ivanovs agree less tellingly than two Ospanovs.
//! Fields that go together are counted once: Fellegi–Sunter adds each field's weight as if
//! fields were independent, but a given name goes with a surname (Елена with Белова) and says
//! the sex. Two namesakes of one year then read as near-certain (the review queue showed such
//! strangers at 60–95 % where one in twenty was one person), so a given name beside a surname
//! that agrees weighs by the file's [`name_association`], and the sex beside a given name that
//! agrees exactly weighs nothing (a name group says no sex: Саша is Александр's and
//! Александра's). EM and the prior are fitted counting the same way.
//!
//! Evidence that two records belong to one household (a shared phone or e-mail, a request
//! already tied to the other) is not evidence that they are one person: brothers share it as
//! fully as two copies of one brother do. So a pair with such evidence is also scored as the
//! question "which member of this household?": the prior that two records of one household are
//! one person (one in the household's size), and the person's own fields
//! ([`Field::is_personal`]: not the phone, town or tie they share) weighed against how often
//! *different members of one household* agree on them ([`HouseholdParameters`], learnt from the
//! people of one request, who are different people of one household by construction), among
//! members of the pair's own generation when their years say which. A shared surname then
//! weighs little, and what tells members apart (given name, birth date, sex, document) weighs
//! what it should. Fields that go together among relatives are not counted twice: the names are
//! weighed against members of the pair's sex and generation, and a name written two ways
//! (Михаил, Mike) is one name. A pair's
//! weight is the lower of the two answers: household evidence can make a pair plausible, never
//! more certain than what tells one member of a household from another.

use std::collections::{BTreeMap, HashMap};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::block::{CandidatePair, kinds};
use crate::compare::{Comparison, Documents, FIELDS, Field, MISSING, compare, pack, unpack};
use crate::record::Prepared;

/// Levels named where the household answer reads them: every field's first level is full
/// agreement ("exact", "same"); the given name's second is "same_name_group"; the birth date's
/// fourth is "year_compatible" (one side gave an age that fits the other's year); both names'
/// third is "similar" (a typo).
const EXACT: u8 = 0;
const SAME_NAME_GROUP: u8 = 1;
const NAME_SIMILAR: u8 = 2;
/// Both names' fourth level: "different".
const NAME_DIFFERENT: u8 = 3;
const YEAR_COMPATIBLE: u8 = 3;

/// `m` of the birth-date level "generation_apart": fixed, not learnt.
const GENERATION_APART_M: f64 = 1e-4;

/// Weights are bounded so that one field can never decide alone beyond reason.
const WEIGHT_ABS_MAX_BITS: f64 = 20.0;

/// Learnt parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Chance that two records drawn at random are the same person.
    pub prior_match_probability: f64,
    /// `m[field][level]`.
    pub m: Vec<Vec<f64>>,
    /// `u[field][level]`.
    pub u: Vec<Vec<f64>>,
    /// How often each name key occurs, as a share of records (one table for given names and
    /// surnames: a name written in the other field is still as common as it is).
    #[serde(skip)] // in explanations and `--model-out` files; kept by [`StoredModel`]
    pub name_frequency: HashMap<Box<str>, f64>,
    /// Lowest frequency a name is given (a name seen once is still not unique in the world).
    pub frequency_floor: f64,
    /// How many times more often two people (records born two years or more apart) who share
    /// a surname also share a given name than if the two names were drawn apart
    /// ([`name_association`], with pseudo-counts for small files): given names go with
    /// surnames (Елена with Белова, Aigerim with Ospanova), so two namesakes agreeing on both
    /// are less telling than the two weights added up. 1 where names are drawn apart, and for
    /// a model kept before it was learnt; never below 1.
    #[serde(default = "names_drawn_apart")]
    pub name_association: f64,
    pub em_iterations: usize,
    /// How different people of one household compare, for a family (`household[0]`: at
    /// most [`FAMILY_SIZE_MAX`] people) and for a larger group (`household[1]`: a school class,
    /// a tour, whose members share an age and seldom a surname).
    pub household: Vec<HouseholdParameters>,
    /// Whether the records came in parties (requests, or a file's group column): a file
    /// without any is a register, one person a row ([`Model::documents`]).
    #[serde(default = "in_parties")]
    pub parties: bool,
    /// Which way of learning made this model ([`MODEL_LEARNING`]): a model kept by an older
    /// release (0, before [`Model::name_association`] was learnt) still scores, but a store
    /// learns it again rather than keep what the release before could not count.
    #[serde(default)]
    pub learning: u32,
}

/// The way of learning a model this release follows, raised whenever a release learns
/// something a kept model lacks: 1 counts [`Model::name_association`].
pub const MODEL_LEARNING: u32 = 1;

/// A model kept before [`Model::parties`] was: learnt from a store's requests.
fn in_parties() -> bool {
    true
}

/// A model kept before [`Model::name_association`] was: names weighed as drawn apart.
fn names_drawn_apart() -> f64 {
    1.0
}

/// How two different people of one household compare (learnt from the people of one request,
/// who are different people of one household by construction).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdParameters {
    /// `u_by_likeness[cell][field][level]`: how often two members show the level, among all
    /// members and among members like the pair being weighed ([`Likeness::cell`]): born within
    /// a year of each other or further apart, of one sex or not. Relatives of one generation
    /// and one sex (sisters) share a surname and a patronymic far more often than relatives at
    /// large (a mother and her son), so counting those against all members would count one
    /// fact, "siblings", several times over.
    pub u_by_likeness: Vec<Vec<Vec<f64>>>,
    /// How often two members are born within what an age tells apart (the same year, or a
    /// neighbouring one half the time), learnt from their dates. Members of one request give
    /// dates far more often than ages, so the "year_compatible" level is almost never seen
    /// among them and would weigh an age that fits as if it were rare between relatives.
    pub years_close: f64,
    /// Pairs of members compared; of them, those who both gave a document number, and those
    /// who gave one number (a family passport, or one number copied onto another's row).
    pub member_pairs: f64,
    pub documents_compared: f64,
    pub documents_shared: f64,
}

/// A model as a store keeps it between runs: every parameter and the name frequencies (which
/// explanations and `--model-out` files leave out), so a restarted linker scores as the one
/// before it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredModel {
    pub model: Model,
    /// Every name key with its frequency, in key order.
    pub name_frequency: Vec<(Box<str>, f64)>,
}

impl From<&Model> for StoredModel {
    fn from(model: &Model) -> StoredModel {
        let mut name_frequency: Vec<(Box<str>, f64)> = model
            .name_frequency
            .iter()
            .map(|(name, &share)| (name.clone(), share))
            .collect();
        name_frequency.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        StoredModel {
            model: Model {
                name_frequency: HashMap::new(),
                ..model.clone()
            },
            name_frequency,
        }
    }
}

impl From<StoredModel> for Model {
    fn from(stored: StoredModel) -> Model {
        Model {
            name_frequency: stored.name_frequency.into_iter().collect(),
            ..stored.model
        }
    }
}

impl HouseholdParameters {
    /// `u[field][level]` among members like this.
    pub fn u(&self, like: Likeness) -> &[Vec<f64>] {
        &self.u_by_likeness[like.cell()]
    }
}

/// Which members a pair is weighed against: those whose birth years are as close as the
/// pair's, and whose sexes agree as the pair's do; `None` where the pair does not say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Likeness {
    pub years_close: Option<bool>,
    pub same_sex: Option<bool>,
}

impl Likeness {
    /// All members, whatever their years and sexes.
    pub const ANY: Likeness = Likeness {
        years_close: None,
        same_sex: None,
    };
    /// Members of a family born close together and of one sex: siblings, most of them.
    pub const SIBLINGS: Likeness = Likeness {
        years_close: Some(true),
        same_sex: Some(true),
    };
    const CELLS: usize = 9;

    fn cell(self) -> usize {
        let of = |x: Option<bool>| match x {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        3 * of(self.years_close) + of(self.same_sex)
    }

    /// The likeness one step less specific, whose shares a cell's few pairs lean on: the sex
    /// is dropped first, then the years.
    fn broader(self) -> Option<Likeness> {
        match self {
            Likeness {
                same_sex: Some(_), ..
            } => Some(Likeness {
                same_sex: None,
                ..self
            }),
            Likeness {
                years_close: Some(_),
                ..
            } => Some(Likeness::ANY),
            _ => None,
        }
    }

    fn all() -> impl Iterator<Item = Likeness> {
        let options = [None, Some(true), Some(false)];
        options.into_iter().flat_map(move |years_close| {
            options.into_iter().map(move |same_sex| Likeness {
                years_close,
                same_sex,
            })
        })
    }
}

/// One field's contribution to a pair's weight: the "why" of a link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldWeight {
    pub field: Field,
    /// The level name, or `missing`.
    pub level: &'static str,
    /// Match weight in bits (log2 of the likelihood ratio); 0 when missing.
    pub weight: f64,
}

/// A scored pair, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Score {
    /// Prior weight plus every field's weight, in bits.
    pub match_weight: f64,
    pub match_probability: f64,
    pub fields: Vec<FieldWeight>,
    pub names_swapped: bool,
    pub cannot_link: bool,
    /// The two share household evidence, and the weight is what their own fields support
    /// within one household (lower than all the evidence counted together).
    pub household_bounded: bool,
    /// Something says two people whatever the weight ([`Model::contradicts`]): never merged
    /// without a human, however high the probability.
    pub contradicts: bool,
    /// Why the pair is not certain, strongest first: what a case officer should look at.
    #[serde(default)]
    pub doubts: Vec<Doubt>,
}

/// A reason a pair needs a human: something that speaks against one person, or is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Doubt {
    /// They share a household (a phone, an e-mail, a tied request): relatives look alike.
    SameHousehold,
    BirthDatesDiffer,
    BirthDatesNearlyAgree,
    /// One side gave an age, not a birth date: the years fit, nothing more is known.
    OnlyAnAge,
    BirthDateMissing,
    GivenNamesDiffer,
    GivenNamesOnlySimilar,
    SurnamesDiffer,
    SexesDiffer,
    DocumentsDiffer,
    /// Joining them would join two records already told apart (a decision, a contradiction).
    WouldJoinDistinctPeople,
    /// Another record matches the new one better.
    AnotherRecordMatchesBetter,
}

impl Doubt {
    /// The doubts a comparison raises, strongest first.
    pub fn of(c: &Comparison<'_>) -> Vec<Doubt> {
        let level = |f: Field| c.levels[f.index()];
        let mut doubts = Vec::new();
        match level(Field::BirthDate) {
            4 | 5 => doubts.push(Doubt::BirthDatesDiffer),
            1 | 2 => doubts.push(Doubt::BirthDatesNearlyAgree),
            3 => doubts.push(Doubt::OnlyAnAge),
            MISSING => doubts.push(Doubt::BirthDateMissing),
            _ => {}
        }
        match level(Field::GivenName) {
            3 => doubts.push(Doubt::GivenNamesDiffer),
            1 | 2 => doubts.push(Doubt::GivenNamesOnlySimilar),
            _ => {}
        }
        if level(Field::Sex) == 1 {
            doubts.push(Doubt::SexesDiffer);
        }
        if level(Field::Document) == 2 {
            doubts.push(Doubt::DocumentsDiffer);
        }
        if level(Field::Surname) == 3 {
            doubts.push(Doubt::SurnamesDiffer);
        }
        if c.shares_household() {
            doubts.insert(0, Doubt::SameHousehold);
        }
        doubts
    }
}

impl Model {
    /// Estimates the model from records and their candidate pairs.
    ///
    /// EM runs in sessions, one per family of blocking keys, and each session learns `m` only
    /// for the fields its pairs were not chosen for (pairs that share a birth date say nothing
    /// about how often true matches agree on birth dates) and that tell a duplicate from the
    /// session's typical non-match. A session fits its own `u` as well, because its
    /// non-matches are not random pairs (pairs sharing a phone are relatives, who share given
    /// names far more often than strangers); only its `m` is kept. The model's `u` stays the
    /// random-pair estimate: the population's chance agreement. The prior is then fitted over
    /// all candidates with `m` and `u` fixed.
    pub fn estimate(
        records: &[Prepared],
        groups: &[u32],
        candidate_pairs: &[CandidatePair],
        u_sample_pairs: usize,
        em_iterations_max: usize,
        seed: u64,
    ) -> Model {
        let u = estimate_u(records, u_sample_pairs, seed);
        let name_frequency = name_frequencies(records);
        let mut model = Model {
            prior_match_probability: 0.1,
            m: reference_m(),
            u,
            name_frequency,
            frequency_floor: 1.0 / (records.len().max(1) as f64),
            name_association: name_association(records),
            em_iterations: 0,
            household: estimate_household(records, groups),
            // No records at all (a crisis's first relink): nothing says it is a register.
            parties: groups.is_empty() || groups.iter().any(|&g| g != crate::block::NO_GROUP),
            learning: MODEL_LEARNING,
        };
        let not = |excluded: &[Field]| -> Vec<Field> {
            FIELDS
                .into_iter()
                .filter(|f| !excluded.contains(f))
                .collect()
        };
        // Each session: the pairs of some key kinds, the fields its likelihoods use (never
        // those its pairs were chosen for), and the fields whose `m` it is trusted to learn.
        struct Session {
            kinds: u8,
            uses: Vec<Field>,
            learns: Vec<Field>,
        }
        let sessions = [
            Session {
                kinds: kinds::NAME_DATE | kinds::INITIALS_DATE,
                uses: not(&[Field::BirthDate]),
                learns: not(&[Field::BirthDate]),
            },
            // Pairs sharing a phone are mostly one household: relatives agree on surname,
            // patronymic and town as duplicates do, so only the fields that tell relatives
            // apart are learnt here (the surname still helps: a holiday group's children of
            // one name differ in it).
            Session {
                kinds: kinds::PHONE | kinds::DOCUMENT | kinds::EMAIL,
                uses: vec![
                    Field::GivenName,
                    Field::Surname,
                    Field::BirthDate,
                    Field::Sex,
                ],
                learns: vec![Field::GivenName, Field::BirthDate, Field::Sex],
            },
            Session {
                kinds: kinds::NAME_YEAR,
                uses: not(&[Field::Surname, Field::GivenName, Field::BirthDate]),
                learns: not(&[Field::Surname, Field::GivenName, Field::BirthDate]),
            },
        ];
        let mut learnt: Vec<Vec<Vec<f64>>> = vec![Vec::new(); FIELDS.len()];
        for session in &sessions {
            let mut masked: BTreeMap<u64, u64> = BTreeMap::new();
            for (pattern, count) in pattern_histogram(records, candidate_pairs, session.kinds) {
                let mut levels = unpack(pattern);
                for f in FIELDS.iter().filter(|f| !session.uses.contains(f)) {
                    levels[f.index()] = MISSING;
                }
                *masked.entry(pack(&levels)).or_default() += count;
            }
            let mut fitted = model.clone();
            let session_pairs = masked.values().sum::<u64>() as f64;
            fitted.fit(&masked, em_iterations_max, true, session_pairs);
            model.em_iterations += fitted.em_iterations;
            for f in &session.learns {
                learnt[f.index()].push(fitted.m[f.index()].clone());
            }
        }
        for (f, estimates) in learnt.iter().enumerate() {
            if estimates.is_empty() {
                continue;
            }
            let n = estimates.len() as f64;
            model.m[f] = (0..estimates[0].len())
                .map(|level| estimates.iter().map(|e| e[level]).sum::<f64>() / n)
                .collect();
        }
        // The prior is the chance that two records drawn at random are one person, as `u` is
        // the chance of agreement between two records drawn at random: pairs blocking never
        // proposed count as non-matches.
        let all = pattern_histogram(records, candidate_pairs, u8::MAX);
        let n = records.len() as f64;
        model.prior_match_probability = 1.0 / n.max(2.0);
        model.fit(
            &all,
            em_iterations_max,
            false,
            (n * (n - 1.0) / 2.0).max(1.0),
        );
        model
    }

    /// EM over a histogram of comparison patterns: always the prior; `m` and `u` too when
    /// `learn_m_and_u`. `pairs_total` is the population the prior refers to (at least the
    /// histogram's pairs; the rest are taken as non-matches).
    fn fit(
        &mut self,
        histogram: &BTreeMap<u64, u64>,
        iterations_max: usize,
        learn_m_and_u: bool,
        pairs_total: f64,
    ) {
        const CONVERGED_DELTA: f64 = 1e-6;
        let total = pairs_total.max(histogram.values().map(|&c| c as f64).sum());
        if total == 0.0 {
            return;
        }
        self.em_iterations = 0;
        for iteration in 0..iterations_max {
            // The reference parameters as a prior: no level is ever proof, and a small file
            // leans on what is known.
            let mut m_counts = reference_counts(|f| reference(f).0, REFERENCE_M_PAIRS);
            let mut u_counts = reference_counts(|f| reference(f).1, REFERENCE_M_PAIRS);
            let mut matches = 0.0;
            for (&pattern, &count) in histogram {
                let levels = unpack(pattern);
                let (lm, lu) = self.likelihoods(&levels, learn_m_and_u);
                let prior = self.prior_match_probability;
                let posterior = prior * lm / (prior * lm + (1.0 - prior) * lu);
                let as_match = posterior * count as f64;
                matches += as_match;
                for (f, &level) in levels.iter().enumerate() {
                    if level != MISSING {
                        m_counts[f][level as usize] += as_match;
                        u_counts[f][level as usize] += count as f64 - as_match;
                    }
                }
            }
            // Domain knowledge EM cannot find alone: a namesake father and son sharing a phone
            // look like a duplicate with a mistyped date, so a generation gap keeps a fixed,
            // tiny m (typos do not move a birth year by 15).
            let gap = Field::BirthDate.levels().len() - 1;
            let b = Field::BirthDate.index();
            let others: f64 = m_counts[b][..gap].iter().sum();
            m_counts[b][gap] = others * GENERATION_APART_M / (1.0 - GENERATION_APART_M);
            let mut delta: f64 = 0.0;
            if learn_m_and_u {
                for (params, counts) in [(&mut self.m, &m_counts), (&mut self.u, &u_counts)] {
                    for (f, counts) in counts.iter().enumerate() {
                        let sum: f64 = counts.iter().sum();
                        for (level, count) in counts.iter().enumerate() {
                            let value = count / sum;
                            delta = delta.max((value - params[f][level]).abs());
                            params[f][level] = value;
                        }
                    }
                }
            }
            let prior = (matches / total).clamp(1e-12, 1.0 - 1e-6);
            delta = delta.max((prior - self.prior_match_probability).abs() / prior);
            self.prior_match_probability = prior;
            self.em_iterations = iteration + 1;
            if delta < CONVERGED_DELTA {
                break;
            }
        }
    }

    /// `m` and `u` of a comparison pattern, with fields that go together counted once as
    /// [`Model::field_weight`] counts them, so that EM and the prior are fitted to the model
    /// that scores.
    /// (`u_fitted`: a session fitting its own `u` learns the names' association among its pairs
    /// already; only the population's `u` takes the file's.)
    fn likelihoods(&self, levels: &[u8; FIELDS.len()], u_fitted: bool) -> (f64, f64) {
        let (mut lm, mut lu) = (1.0, 1.0);
        for (f, &level) in levels.iter().enumerate() {
            if level == MISSING || self.said_by_the_given_name(levels, f, level) {
                continue;
            }
            lm *= self.m[f][level as usize];
            lu *= self.u[f][level as usize];
        }
        if !u_fitted
            && levels[Field::GivenName.index()] == EXACT
            && levels[Field::Surname.index()] == EXACT
        {
            let u_given = self.u[Field::GivenName.index()][EXACT as usize];
            lu *= (u_given * self.name_association).min(1.0) / u_given;
        }
        (lm, lu)
    }

    /// Whether field `f` at `level` only repeats what the given name says: the same sex beside
    /// a given name that agrees exactly. (Not beside one of the same name group: Саша is
    /// Александр's and Александра's.)
    fn said_by_the_given_name(&self, levels: &[u8; FIELDS.len()], f: usize, level: u8) -> bool {
        f == Field::Sex.index() && level == EXACT && levels[Field::GivenName.index()] == EXACT
    }

    /// Weight of one field level in bits, with the term-frequency adjustment for exact names,
    /// counting once what two fields say together: a given name that agrees exactly beside a
    /// surname that agrees is as common as the two go together ([`Model::name_association`]),
    /// and a given name that agrees exactly says the sex already (the same sex then weighs
    /// nothing; another sex still weighs against; a name group says no sex).
    fn field_weight(&self, field: Field, level: u8, c: &Comparison<'_>) -> f64 {
        let f = field.index();
        let m = self.m[f][level as usize];
        let mut u = self.u[f][level as usize];
        if level == EXACT
            && field.term_frequency_adjusted()
            && let Some(frequency) = exact_value(c, field).and_then(|v| self.name_frequency.get(v))
        {
            u = frequency.max(self.frequency_floor);
        }
        if self.said_by_the_given_name(&c.levels, f, level) {
            return 0.0;
        }
        if field == Field::GivenName && level == EXACT && c.levels[Field::Surname.index()] == EXACT
        {
            u = (u * self.name_association).min(1.0);
        }
        (m / u)
            .log2()
            .clamp(-WEIGHT_ABS_MAX_BITS, WEIGHT_ABS_MAX_BITS)
    }

    pub fn prior_weight(&self) -> f64 {
        let p = self.prior_match_probability;
        (p / (1.0 - p)).log2()
    }

    /// The weight of a pair's own fields within one household (see the module's note), or
    /// `None` when the two share no household evidence.
    fn household_weight(&self, c: &Comparison<'_>) -> Option<f64> {
        // Relatives are told apart by their own fields; where a number is never seen on two
        // people, one number answers the question already.
        let one_number =
            c.levels[Field::Document.index()] == EXACT && self.documents() == Documents::Decisive;
        if !c.shares_household() || one_number {
            return None;
        }
        let p = household_prior(c.household_size);
        let mut total = (p / (1.0 - p)).log2();
        let household = &self.household[household_kind(usize::from(c.household_size))];
        let mut levels = c.levels;
        let (surname, given) = (Field::Surname.index(), Field::GivenName.index());
        // A name that agrees only across the fields ("Шевченко" written as the given name) is
        // taken for the family name: that is the name relatives share. (Only exact and similar
        // mean the same in both fields; a given name's group is no surname's stem.)
        let same_meaning = |level: u8| matches!(level, EXACT | NAME_SIMILAR | NAME_DIFFERENT);
        if c.names_swapped
            && levels[given] < levels[surname]
            && same_meaning(levels[given])
            && same_meaning(levels[surname])
        {
            levels.swap(surname, given);
        }
        let years_close = c.born_close;
        let same_sex = match levels[Field::Sex.index()] {
            MISSING => None,
            level => Some(level == EXACT),
        };
        for field in FIELDS.into_iter().filter(|f| f.is_personal()) {
            let level = levels[field.index()];
            if level == MISSING {
                continue;
            }
            // The birth date is weighed against every member, the sex against members born as
            // close, the rest against members born as close and of the same sex or not.
            let like = match field {
                Field::BirthDate => Likeness::ANY,
                Field::Sex => Likeness {
                    years_close,
                    same_sex: None,
                },
                _ => Likeness {
                    years_close,
                    same_sex,
                },
            };
            let u = &household.u(like)[field.index()];
            let m = &self.m[field.index()];
            let ratio = match (field, level) {
                // Given that one side gave only an age: how often a duplicate's years fit
                // (against the levels an age can show, and the rare pair of dates that
                // differ), against how often two members' years are that close.
                (Field::BirthDate, YEAR_COMPATIBLE) => {
                    let fits = m[YEAR_COMPATIBLE as usize]
                        / m[YEAR_COMPATIBLE as usize..].iter().sum::<f64>();
                    fits / household.years_close
                }
                // One name written two ways (Михаил and Mike; Фёдоров and Фёдоррв) is one
                // name: the people of one request write their names one way, so how often
                // relatives' names are variants or typos of each other cannot be learnt from
                // them. (Two given names that are merely alike, Ерлан and Ержан, are a
                // family's own, and stay apart.)
                (Field::GivenName, EXACT | SAME_NAME_GROUP) => {
                    let one_name = |p: &[f64]| p[EXACT as usize] + p[SAME_NAME_GROUP as usize];
                    one_name(m) / one_name(u)
                }
                (Field::Surname, EXACT | NAME_SIMILAR) => {
                    let one_name = |p: &[f64]| p[EXACT as usize] + p[NAME_SIMILAR as usize];
                    one_name(m) / one_name(u)
                }
                _ => m[level as usize] / u[level as usize],
            };
            total += ratio
                .log2()
                .clamp(-WEIGHT_ABS_MAX_BITS, WEIGHT_ABS_MAX_BITS);
        }
        // Among relatives, a plain contradiction (birth dates far apart, another sex, another
        // checked document) is the mark of a second person far more often than of a typo.
        if self.contradicts(c) {
            total = total.min(weight_for_probability(
                HOUSEHOLD_CONTRADICTED_PROBABILITY_MAX,
            ));
        }
        Some(total)
    }

    /// What a document number says in this file, read from the people of one party (different
    /// people by construction). A file of parties shows a number to be a person's own with at
    /// least [`DOCUMENTS_COMPARED_MIN`] pairs of members with a number each and no more than
    /// one in [`MEMBERS_PER_SHARED_DOCUMENT_MIN`] of them sharing one (family passports list a
    /// parent and children under one number; a clerk may copy a number onto the next row now
    /// and then); with too few numbers to tell, it is taken to hold family passports, and
    /// with no party of two yet (every request so far of one person), as personal. Even where
    /// no member shares one, a relative's number may still be entered on another request (a
    /// son travelling on his father's passport): a file of parties never reads as decisive.
    /// A file with no parties at all (a register's rows, one person each) has no families to
    /// hold them: its numbers are taken as decisive.
    pub fn documents(&self) -> Documents {
        if !self.parties {
            return Documents::Decisive;
        }
        let compared: f64 = self.household.iter().map(|h| h.documents_compared).sum();
        let shared: f64 = self.household.iter().map(|h| h.documents_shared).sum();
        if self.household.iter().all(|h| h.member_pairs == 0.0) {
            return Documents::Personal;
        }
        if compared >= DOCUMENTS_COMPARED_MIN
            && shared * MEMBERS_PER_SHARED_DOCUMENT_MIN <= compared
        {
            Documents::Personal
        } else {
            Documents::Family
        }
    }

    /// Whether the comparison says two people whatever else it says, in this file (see
    /// [`Comparison::contradicts`]).
    pub fn contradicts(&self, c: &Comparison<'_>) -> bool {
        c.contradicts(self.documents())
    }

    /// Prior weight plus every field's weight, in bits: all the evidence counted together.
    fn unbounded_weight(&self, c: &Comparison<'_>) -> f64 {
        let mut total = self.prior_weight();
        for field in FIELDS {
            let level = self.level_weighed(c, field);
            if level != MISSING {
                total += self.field_weight(field, level, c);
            }
        }
        total
    }

    /// The level a field is weighed at: its own, but for birth dates a generation apart on two
    /// records of one number in a register, weighed as dates that differ. The fixed tiny `m`
    /// of a generation gap keeps a namesake father and son apart; in a register one number
    /// is one person ([`Documents::Decisive`]), so the gap is a date typed or replaced.
    fn level_weighed(&self, c: &Comparison<'_>, field: Field) -> u8 {
        let level = c.levels[field.index()];
        let gap = Field::BirthDate.levels().len() as u8 - 1;
        if field == Field::BirthDate
            && level == gap
            && c.levels[Field::Document.index()] == EXACT
            && self.documents() == Documents::Decisive
        {
            gap - 1
        } else {
            level
        }
    }

    /// The match weight of a comparison, without the explanation (the hot path).
    pub fn weight(&self, c: &Comparison<'_>) -> f64 {
        let all = self.unbounded_weight(c);
        self.household_weight(c).map_or(all, |h| all.min(h))
    }

    /// Scores a comparison with its per-field explanation (each field's weight as all the
    /// evidence counts it; `household_bounded` says when the total is the lower, household
    /// answer instead).
    pub fn score(&self, c: &Comparison<'_>) -> Score {
        let fields: Vec<FieldWeight> = FIELDS
            .iter()
            .map(|&field| {
                let level = c.levels[field.index()];
                if level == MISSING {
                    FieldWeight {
                        field,
                        level: "missing",
                        weight: 0.0,
                    }
                } else {
                    // Shown as it is, weighed as it counts.
                    let weighed = self.level_weighed(c, field);
                    FieldWeight {
                        field,
                        level: field.levels()[level as usize],
                        weight: self.field_weight(field, weighed, c),
                    }
                }
            })
            .collect();
        let all = self.prior_weight() + fields.iter().map(|f| f.weight).sum::<f64>();
        let household = self.household_weight(c).filter(|&h| h < all);
        let match_weight = household.unwrap_or(all);
        Score {
            match_weight,
            match_probability: probability(match_weight),
            fields,
            names_swapped: c.names_swapped,
            cannot_link: c.cannot_link,
            household_bounded: household.is_some(),
            contradicts: self.contradicts(c),
            doubts: Doubt::of(c),
        }
    }

    /// Folds reviewers' decisions into `m`: `m` counts as `matches_observed` matches (the
    /// pairs EM saw as matches), and each confirmed match adds `decision_weight` observations
    /// of its levels (a decision outweighs a guess).
    pub fn learn_from_decisions<'a>(
        &mut self,
        confirmed_matches: impl IntoIterator<Item = &'a Comparison<'a>>,
        decision_weight: f64,
        matches_observed: f64,
    ) {
        let mut added: Vec<Vec<f64>> = FIELDS.iter().map(|f| vec![0.0; f.levels().len()]).collect();
        let mut any = false;
        for c in confirmed_matches {
            any = true;
            for (f, &level) in c.levels.iter().enumerate() {
                if level != MISSING {
                    added[f][level as usize] += decision_weight;
                }
            }
        }
        if !any {
            return;
        }
        let observed = matches_observed.max(1.0);
        for (f, extra) in added.iter().enumerate() {
            let extra_total: f64 = extra.iter().sum();
            if extra_total == 0.0 {
                continue;
            }
            for (level, e) in extra.iter().enumerate() {
                self.m[f][level] = (self.m[f][level] * observed + e) / (observed + extra_total);
            }
        }
    }
}

fn exact_value<'a>(c: &Comparison<'a>, field: Field) -> Option<&'a str> {
    match field {
        Field::Surname => c.exact_surname,
        Field::GivenName => c.exact_given,
        _ => None,
    }
}

/// Probability from a match weight in bits.
pub fn probability(match_weight: f64) -> f64 {
    1.0 / (1.0 + (-match_weight).exp2())
}

/// The match weight (bits) at which a pair reaches `probability`.
pub fn weight_for_probability(probability: f64) -> f64 {
    (probability / (1.0 - probability)).log2()
}

/// Reference parameters: what `m` and `u` are known to look like before any data is seen
/// (rounded from `evac bench link --records 100000 --show-errors 1`, with `m` softened towards
/// the messier real world). They are the Dirichlet prior of the estimates: a file of six rows
/// is linked on them almost alone, a million records move them wherever the data says. Starting
/// EM from a low `m` for "different" puts it in the basin where a namesake father and son (one
/// phone, one name) are two people, not one person with a mistyped date.
fn reference(field: Field) -> (&'static [f64], &'static [f64]) {
    match field {
        Field::Surname => (&[0.80, 0.01, 0.15, 0.04], &[0.005, 0.004, 0.003, 0.988]),
        Field::GivenName => (&[0.78, 0.10, 0.08, 0.04], &[0.01, 0.003, 0.005, 0.982]),
        Field::Patronymic => (&[0.95, 0.03, 0.02], &[0.02, 0.02, 0.96]),
        Field::BirthDate => (
            &[0.70, 0.04, 0.03, 0.20, 0.0299, GENERATION_APART_M],
            &[0.00005, 0.00002, 0.0015, 0.01, 0.38843, 0.6],
        ),
        Field::Sex => (&[0.99, 0.01], &[0.5, 0.5]),
        Field::Phone => (&[0.95, 0.05], &[0.00005, 0.99995]),
        Field::Household => (&[0.90, 0.10], &[0.0001, 0.9999]),
        Field::Document => (&[0.95, 0.03, 0.02], &[0.00002, 0.00001, 0.99997]),
        Field::Email => (&[0.90, 0.10], &[0.00002, 0.99998]),
        Field::Locality => (&[0.50, 0.50], &[0.1, 0.9]),
        Field::Address => (&[0.80, 0.12, 0.08], &[0.001, 0.004, 0.995]),
        Field::Postcode => (&[0.85, 0.07, 0.08], &[0.01, 0.02, 0.97]),
    }
}

/// How often two different people of one household show each level, before any data is seen:
/// they share a surname (or its other gender's form); twins share a birth date, namesake
/// fathers and sons a given name, siblings a patronymic. (Fields that are not personal are
/// never weighed this way; their values are placeholders.)
fn reference_household(field: Field) -> &'static [f64] {
    match field {
        Field::Surname => &[0.60, 0.20, 0.05, 0.15],
        Field::GivenName => &[0.02, 0.005, 0.03, 0.945],
        Field::Patronymic => &[0.40, 0.05, 0.55],
        Field::BirthDate => &[0.01, 0.0005, 0.03, 0.05, 0.6095, 0.30],
        Field::Sex => &[0.5, 0.5],
        Field::Phone => &[0.5, 0.5],
        Field::Household => &[0.95, 0.05],
        Field::Document => &[0.00002, 0.0001, 0.99988],
        Field::Email => &[0.5, 0.5],
        Field::Locality => &[0.9, 0.1],
        Field::Address => &[0.9, 0.05, 0.05],
        Field::Postcode => &[0.95, 0.02, 0.03],
    }
}

/// How many pairs' worth of evidence [`reference_household`] counts for, and a broader
/// [`Likeness`]'s shares in a narrower one's.
const REFERENCE_U_HOUSEHOLD_PAIRS: f64 = 200.0;

/// Members of one group compared with each other to learn [`HouseholdParameters`]: a school group of 60
/// would otherwise weigh as much as 600 families.
const HOUSEHOLD_MEMBERS_COMPARED_MAX: usize = 8;

/// The most people a family lists; a larger party is a group (see [`Model::household`]).
pub const FAMILY_SIZE_MAX: usize = 8;

/// See [`Model::documents`]: a copied number now and then is a clerk's slip; a
/// family passport in every tenth family is a practice.
const MEMBERS_PER_SHARED_DOCUMENT_MIN: f64 = 100.0;
const DOCUMENTS_COMPARED_MIN: f64 = 100.0;

/// The highest probability a pair of one household is shown at when its fields contradict
/// being one person: well below review.
const HOUSEHOLD_CONTRADICTED_PROBABILITY_MAX: f64 = 0.2;

/// Which of [`Model::household`]'s kinds a household of this size is.
fn household_kind(size: usize) -> usize {
    usize::from(size > FAMILY_SIZE_MAX)
}

/// [`HouseholdParameters`] from the people of one group (one request's party: different
/// people of one household), every pair of a group's first [`HOUSEHOLD_MEMBERS_COMPARED_MAX`]
/// members, for families and larger groups apart.
fn estimate_household(records: &[Prepared], groups: &[u32]) -> Vec<HouseholdParameters> {
    use rayon::prelude::*;
    /// Per kind: pairs seen at each field level in each [`Likeness`] cell, and how many pairs'
    /// years were compared and how close they were.
    #[derive(Clone)]
    struct Seen {
        by_likeness: Vec<Vec<Vec<f64>>>,
        member_pairs: f64,
        years_compared: f64,
        years_close_pairs: f64,
        documents_compared: f64,
        documents_shared: f64,
    }
    let mut members: Vec<(u32, u32)> = groups
        .iter()
        .enumerate()
        .filter(|&(_, &g)| g != crate::block::NO_GROUP)
        .map(|(i, &g)| (g, i as u32))
        .collect();
    members.par_sort_unstable();
    let by_group: Vec<&[(u32, u32)]> = members.chunk_by(|x, y| x.0 == y.0).collect();
    let zeros =
        || -> Vec<Vec<f64>> { FIELDS.iter().map(|f| vec![0.0; f.levels().len()]).collect() };
    let empty = || -> Vec<Seen> {
        let seen = Seen {
            by_likeness: vec![zeros(); Likeness::CELLS],
            member_pairs: 0.0,
            years_compared: 0.0,
            years_close_pairs: 0.0,
            documents_compared: 0.0,
            documents_shared: 0.0,
        };
        vec![seen; 2]
    };
    let observed = by_group
        .par_iter()
        .fold(empty, |mut seen, group| {
            let of_kind = &mut seen[household_kind(group.len())];
            let group = &group[..group.len().min(HOUSEHOLD_MEMBERS_COMPARED_MAX)];
            for (x, &(_, a)) in group.iter().enumerate() {
                for &(_, b) in &group[x + 1..] {
                    let (a, b) = (&records[a as usize], &records[b as usize]);
                    let c = compare(a, b);
                    of_kind.member_pairs += 1.0;
                    if let Some(close) = years_close(a, b) {
                        of_kind.years_compared += 1.0;
                        of_kind.years_close_pairs += close;
                    }
                    match c.levels[Field::Document.index()] {
                        MISSING => {}
                        level => {
                            of_kind.documents_compared += 1.0;
                            of_kind.documents_shared += f64::from(u8::from(level == EXACT));
                        }
                    }
                    // Each cell the pair belongs to: the unknown year and sex always, the known
                    // ones when the pair says (as the pair will be read when scored).
                    let years: &[Option<bool>] = match c.born_close {
                        None => &[None],
                        Some(close) => &[None, Some(close)],
                    };
                    let sex = c.levels[Field::Sex.index()];
                    let sexes: &[Option<bool>] = match sex {
                        MISSING => &[None],
                        EXACT => &[None, Some(true)],
                        _ => &[None, Some(false)],
                    };
                    for &years_close in years {
                        for &same_sex in sexes {
                            let cell = Likeness {
                                years_close,
                                same_sex,
                            }
                            .cell();
                            for (f, &level) in c.levels.iter().enumerate() {
                                if level != MISSING {
                                    of_kind.by_likeness[cell][f][level as usize] += 1.0;
                                }
                            }
                        }
                    }
                }
            }
            seen
        })
        .reduce(empty, |mut a, b| {
            for (ka, kb) in a.iter_mut().zip(b) {
                for (x, y) in ka
                    .by_likeness
                    .iter_mut()
                    .flatten()
                    .flatten()
                    .zip(kb.by_likeness.iter().flatten().flatten())
                {
                    *x += y;
                }
                ka.member_pairs += kb.member_pairs;
                ka.years_compared += kb.years_compared;
                ka.years_close_pairs += kb.years_close_pairs;
                ka.documents_compared += kb.documents_compared;
                ka.documents_shared += kb.documents_shared;
            }
            a
        });
    // Each field's shares, with `prior` counted as `pairs` pairs' worth of evidence.
    let shares = |prior: &[Vec<f64>], pairs: f64, seen: &[Vec<f64>]| -> Vec<Vec<f64>> {
        prior
            .iter()
            .zip(seen)
            .map(|(prior, seen)| {
                let counts: Vec<f64> = prior.iter().zip(seen).map(|(r, n)| r * pairs + n).collect();
                let sum: f64 = counts.iter().sum();
                counts.into_iter().map(|x| x / sum).collect()
            })
            .collect()
    };
    let reference: Vec<Vec<f64>> = FIELDS
        .iter()
        .map(|&f| reference_household(f).to_vec())
        .collect();
    observed
        .into_iter()
        .enumerate()
        .map(|(kind, seen)| {
            // Broader cells first (Likeness::all lists them so): a cell leans on its broader one.
            let mut by_likeness: Vec<Vec<Vec<f64>>> = vec![Vec::new(); Likeness::CELLS];
            for like in Likeness::all() {
                let mut prior = like
                    .broader()
                    .map_or(&reference, |broader| &by_likeness[broader.cell()])
                    .clone();
                if kind == 0 && like == Likeness::SIBLINGS {
                    for (field, shares) in SIBLINGS_SHARE {
                        prior[field.index()] = shares.to_vec();
                    }
                }
                let of_like = shares(
                    &prior,
                    REFERENCE_U_HOUSEHOLD_PAIRS,
                    &seen.by_likeness[like.cell()],
                );
                by_likeness[like.cell()] = of_like;
            }
            HouseholdParameters {
                u_by_likeness: by_likeness,
                years_close: (REFERENCE_HOUSEHOLD_YEARS_CLOSE * REFERENCE_U_HOUSEHOLD_PAIRS
                    + seen.years_close_pairs)
                    / (REFERENCE_U_HOUSEHOLD_PAIRS + seen.years_compared),
                member_pairs: seen.member_pairs,
                documents_compared: seen.documents_compared,
                documents_shared: seen.documents_shared,
            }
        })
        .collect()
}

/// What siblings share before any data is seen ([`Likeness::SIBLINGS`] in a family): a
/// surname, written alike, and their father's name, never a given name (parents do not give
/// two living children one name). A small crisis holds few such pairs, and all members'
/// shares would weigh a sister's patronymic as telling (a mother and her son differ in it) and
/// a sister's given name as common (a namesake father and son share it).
const SIBLINGS_SHARE: [(Field, &[f64]); 3] = [
    (Field::Surname, &[0.85, 0.02, 0.03, 0.10]),
    (Field::GivenName, &[0.002, 0.001, 0.03, 0.967]),
    (Field::Patronymic, &[0.90, 0.05, 0.05]),
];

/// How often two members of one household are born within what an age tells apart, before
/// any data is seen (siblings a year or two apart, spouses of an age).
const REFERENCE_HOUSEHOLD_YEARS_CLOSE: f64 = 0.15;

/// How close two people's birth years are, as an age would see them, or `None` when either
/// year is unknown: 1 when an age could not tell them apart, 0 when it could. An age covers
/// two birth years (which two depends on the birthday), so two dates a year apart count half.
fn years_close(a: &Prepared, b: &Prepared) -> Option<f64> {
    let ((a_lo, a_hi), (b_lo, b_hi)) = (a.birth_year_range?, b.birth_year_range?);
    if a_lo == a_hi && b_lo == b_hi {
        return Some(match (a_lo - b_lo).abs() {
            0 => 1.0,
            1 => 0.5,
            _ => 0.0,
        });
    }
    Some(if a_lo <= b_hi && b_lo <= a_hi {
        1.0
    } else {
        0.0
    })
}

/// Bounds of [`household_prior`]: no household is so large that a duplicate is unthinkable,
/// and a household of one sharing a phone with another request is not proof.
const HOUSEHOLD_PRIOR_MIN: f64 = 0.02;
const HOUSEHOLD_PRIOR_MAX: f64 = 0.5;

/// The chance that a record is a given record of another request of its household, before
/// their fields are compared: a household's second request lists its people again, so one in
/// the household's size (a school group of 20 repeats a child one time in 20).
fn household_prior(household_size: u16) -> f64 {
    (1.0 / f64::from(household_size.max(1))).clamp(HOUSEHOLD_PRIOR_MIN, HOUSEHOLD_PRIOR_MAX)
}

/// How many pairs' worth of evidence the reference parameters count for.
const REFERENCE_M_PAIRS: f64 = 50.0;
const REFERENCE_U_PAIRS: f64 = 1_000.0;

fn reference_m() -> Vec<Vec<f64>> {
    FIELDS.iter().map(|&f| reference(f).0.to_vec()).collect()
}

fn reference_counts(pick: fn(Field) -> &'static [f64], pairs: f64) -> Vec<Vec<f64>> {
    FIELDS
        .iter()
        .map(|&f| pick(f).iter().map(|p| p * pairs).collect())
        .collect()
}

/// `u` from random pairs of records (a random pair is almost never a match).
fn estimate_u(records: &[Prepared], sample_pairs: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut counts = reference_counts(|f| reference(f).1, REFERENCE_U_PAIRS);
    // Never more draws than there are pairs: a small file's few pairs (some of them matches)
    // must not outweigh the reference.
    let n = records.len();
    let draws = sample_pairs.min(n * n.saturating_sub(1) / 2);
    if n >= 2 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for _ in 0..draws {
            let i = rng.random_range(0..records.len());
            let j = rng.random_range(0..records.len());
            if i == j {
                continue;
            }
            let c = compare(&records[i], &records[j]);
            for (f, &level) in c.levels.iter().enumerate() {
                if level != MISSING {
                    counts[f][level as usize] += 1.0;
                }
            }
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let sum: f64 = c.iter().sum();
            c.into_iter().map(|x| x / sum).collect()
        })
        .collect()
}

fn name_frequencies(records: &[Prepared]) -> HashMap<Box<str>, f64> {
    let mut counts: HashMap<Box<str>, f64> = HashMap::new();
    for r in records {
        for t in r.given.iter().chain(&r.surname) {
            *counts.entry(t.key.clone()).or_default() += 1.0;
        }
    }
    let n = records.len().max(1) as f64;
    for v in counts.values_mut() {
        *v /= n;
    }
    counts
}

/// How many times more often two different people agree on both their (first) surname and
/// given name than their agreeing on each apart predicts:
/// `P(both | far) / (P(surname | far) · P(given name | far))` over the pairs of records with
/// both names and a birth year, among pairs born two years or more apart ("far"). Counting
/// every pair instead would count a file's own duplicates: in a file where each person comes
/// twice under a rare name, nearly every pair agreeing on both names is one person, and the
/// association would read as hundreds. Born apart, two records are two people. At least 1.
/// Counted by sorting borrowed name pairs, not in tables, and dropped once counted.
pub fn name_association(records: &[Prepared]) -> f64 {
    use rayon::prelude::*;
    let year = |r: &Prepared| {
        r.birth_date
            .map(|d| d.year())
            .or_else(|| r.birth_year_range.map(|(from, _)| from))
    };
    let mut named: Vec<(&str, &str, i16)> = records
        .iter()
        .filter_map(|r| Some((&*r.surname.first()?.key, &*r.given.first()?.key, year(r)?)))
        .collect();
    // Pairs born two years or more apart among runs of equal keys, in a list sorted by key
    // then year: every pair of the run but those of one year or of neighbouring years.
    fn far_pairs<K: PartialEq>(sorted: &[(K, i16)]) -> f64 {
        let pairs = |n: usize| (n * n.saturating_sub(1) / 2) as f64;
        sorted
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| {
                let years: Vec<(i16, usize)> = run
                    .chunk_by(|a, b| a.1 == b.1)
                    .map(|y| (y[0].1, y.len()))
                    .collect();
                let near: f64 = years.iter().map(|&(_, n)| pairs(n)).sum::<f64>()
                    + years
                        .windows(2)
                        .filter(|w| w[1].0 == w[0].0 + 1)
                        .map(|w| (w[0].1 * w[1].1) as f64)
                        .sum::<f64>();
                pairs(run.len()) - near
            })
            .sum()
    }
    named.par_sort_unstable();
    let both = far_pairs(
        &named
            .iter()
            .map(|&(s, g, y)| ((s, g), y))
            .collect::<Vec<_>>(),
    );
    let mut by_surname: Vec<(&str, i16)> = named.iter().map(|&(s, _, y)| (s, y)).collect();
    by_surname.par_sort_unstable();
    let surname = far_pairs(&by_surname);
    drop(by_surname);
    let mut by_given: Vec<(&str, i16)> = named.iter().map(|&(_, g, y)| (g, y)).collect();
    by_given.par_sort_unstable();
    let given = far_pairs(&by_given);
    drop(by_given);
    let mut by_year: Vec<((), i16)> = named.iter().map(|&(_, _, y)| ((), y)).collect();
    drop(named);
    by_year.par_sort_unstable();
    let all = far_pairs(&by_year);
    if surname == 0.0 || given == 0.0 {
        return 1.0;
    }
    // Namesakes born apart, against as many as names drawn apart would make, each count
    // given [`NAME_ASSOCIATION_PSEUDO_PAIRS`] more: a small file's few (a copy whose year was
    // mistyped is one) say little, a large file's many say what they say.
    let independent = surname * given / all;
    ((both + NAME_ASSOCIATION_PSEUDO_PAIRS) / (independent + NAME_ASSOCIATION_PSEUDO_PAIRS))
        .max(1.0)
}

/// Pairs of namesakes added to what a file shows and to what names drawn apart would make,
/// when [`name_association`] compares the two: the association is 1 until a file holds
/// many more namesakes born apart than chance makes.
const NAME_ASSOCIATION_PSEUDO_PAIRS: f64 = 10.0;

/// How many candidate pairs (of the given kinds) show each comparison pattern.
fn pattern_histogram(
    records: &[Prepared],
    pairs: &[CandidatePair],
    of_kinds: u8,
) -> BTreeMap<u64, u64> {
    use rayon::prelude::*;
    pairs
        .par_chunks(16_384)
        .map(|chunk| {
            let mut h: HashMap<u64, u64> = HashMap::new();
            for pair in chunk.iter().filter(|p| p.kinds & of_kinds != 0) {
                let c = compare(&records[pair.a as usize], &records[pair.b as usize]);
                *h.entry(c.pattern()).or_default() += 1;
            }
            h
        })
        .reduce(HashMap::new, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        })
        .into_iter()
        .collect()
}
