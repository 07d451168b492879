//! Triage: who leaves first, as a policy staff can read, change and see the effect of.
//!
//! A [`Policy`] is data (TOML; [`Policy::default_policy`] is the one DESIGN.md describes:
//! life-threatening medical need and unaccompanied minors first; then families with children,
//! pregnant women, the elderly, people with disabilities; then people in zones of high threat;
//! then everyone else). A case takes the first class any of whose conditions it meets; inside
//! the class, hours waited and the threat level of its location add points. Every [`Priority`]
//! names its class, its score and the rules that produced them, and [`rerank`] shows what moved
//! when the policy or the situation changed. [`Ageing`] lets waiting cross classes (a case rises
//! a class per so many hours waited, up to a ceiling), so nobody starves while seats fly; and
//! [`Eligibility`] says who may be seated at all (citizens and their dependants, other states'
//! nationals by agreement), with the reason a household that may not waits.
//!
//! Pure: no I/O, no clock ("now" is passed in).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A priority policy: ordered classes and the within-class score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub version: u32,
    pub classes: Vec<ClassRule>,
    pub within_class: WithinClass,
    /// Waiting that crosses classes; none: a case stays in the class its facts give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ageing: Option<Ageing>,
    /// Who may be seated; by default everyone.
    #[serde(default, skip_serializing_if = "Eligibility::is_everyone")]
    pub eligibility: Eligibility,
    /// The rules the planner seats by.
    #[serde(default)]
    pub planning: PlanningRules,
}

/// The planner's rules that are a crisis cell's choice, not a fact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlanningRules {
    /// Children travelling alone one escort may accompany.
    pub minors_per_escort: u32,
    /// A household told of its seat gives it up to a waiting household this many classes
    /// higher or more (2: a told class-3 household yields to class 1). Absent: people who
    /// are told keep their seats whoever waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub told_yield_class_gap: Option<u8>,
    /// Minutes from a feeder's arrival at a hub (a convoy at the airport) to the onward
    /// departure a journey may connect to: moving people across and checking them in.
    pub connection_minutes: u32,
    /// How much people weigh against a transport's payload.
    pub standard_masses: StandardMasses,
}

impl Default for PlanningRules {
    fn default() -> Self {
        PlanningRules {
            minors_per_escort: 10,
            told_yield_class_gap: None,
            connection_minutes: 120,
            standard_masses: StandardMasses::default(),
        }
    }
}

/// Standard passenger masses with hand baggage, in kilograms, by age: what planning counts
/// against a transport's payload (checked baggage is the transport's allowance on top). The
/// defaults are EU-OPS 1.620's (adult 84 kg, child of 2 to 11 years 35 kg); an infant under
/// two travels on a lap, which EU-OPS counts as nothing and evac as `infant_kg` (a carrycot,
/// food, nappies). Someone of unknown age counts as an adult.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct StandardMasses {
    pub adult_kg: u32,
    pub child_kg: u32,
    pub infant_kg: u32,
}

impl Default for StandardMasses {
    fn default() -> Self {
        StandardMasses {
            adult_kg: 84,
            child_kg: 35,
            infant_kg: 10,
        }
    }
}

impl StandardMasses {
    /// A person's standard mass, by age in whole years (unknown: an adult).
    pub fn of(&self, age_years: Option<u8>) -> u32 {
        match age_years {
            Some(0..=1) => self.infant_kg,
            Some(2..=11) => self.child_kg,
            _ => self.adult_kg,
        }
    }
}

/// Waiting raises a case by one class per `hours_per_class` hours waited, never above
/// `highest_class` (class 1 stays for those whose facts put them there).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ageing {
    pub hours_per_class: f64,
    pub highest_class: u8,
}

/// Who may be seated: a household may when a member holds one of `citizens_of` or
/// `by_agreement` (its other members travel as dependants, of any nationality). Both empty:
/// everyone may. A household none of whose members' citizenship is recorded waits as
/// unverified until staff record one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Eligibility {
    /// The crisis cell's own state(s), ISO 3166-1 alpha-2 ("IT").
    #[serde(default)]
    pub citizens_of: Vec<String>,
    /// Other states whose nationals this operation carries by agreement ("DE", "FR").
    #[serde(default)]
    pub by_agreement: Vec<String>,
}

/// Why a household may not be seated under an [`Eligibility`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotEligible {
    /// Every member's citizenship is recorded and none is carried.
    Ineligible {
        held: Vec<String>,
        carried: Vec<String>,
    },
    /// No member holds a carried citizenship and some members' citizenship is not recorded.
    Unverified {
        unrecorded: u32,
        carried: Vec<String>,
    },
}

impl std::fmt::Display for NotEligible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotEligible::Ineligible { held, carried } => write!(
                f,
                "not eligible: this operation seats citizens of {} and their dependants; the household holds {}",
                carried.join(", "),
                held.join(", ")
            ),
            NotEligible::Unverified {
                unrecorded,
                carried,
            } => write!(
                f,
                "unverified: no member is recorded as a citizen of {} ({unrecorded} without a recorded citizenship); record a document to seat them",
                carried.join(", ")
            ),
        }
    }
}

impl Eligibility {
    pub fn is_everyone(&self) -> bool {
        self.citizens_of.is_empty() && self.by_agreement.is_empty()
    }

    /// Whether a household with these members may be seated, or why not.
    pub fn judge(&self, members: &[MemberFacts]) -> Result<(), NotEligible> {
        if self.is_everyone() {
            return Ok(());
        }
        let carried = |c: &str| {
            self.citizens_of
                .iter()
                .chain(&self.by_agreement)
                .any(|k| k.eq_ignore_ascii_case(c))
        };
        if members
            .iter()
            .any(|m| m.citizenship.as_deref().is_some_and(carried))
        {
            return Ok(());
        }
        let all_carried: Vec<String> = self
            .citizens_of
            .iter()
            .chain(&self.by_agreement)
            .cloned()
            .collect();
        let unrecorded = members.iter().filter(|m| m.citizenship.is_none()).count() as u32;
        if unrecorded > 0 {
            return Err(NotEligible::Unverified {
                unrecorded,
                carried: all_carried,
            });
        }
        let mut held: Vec<String> = members
            .iter()
            .filter_map(|m| m.citizenship.clone())
            .collect();
        held.sort();
        held.dedup();
        Err(NotEligible::Ineligible {
            held,
            carried: all_carried,
        })
    }
}

/// One priority class: a case belongs when it meets any condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    pub name: String,
    pub any: Vec<Condition>,
}

/// What raises a case inside its class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithinClass {
    pub points_per_waiting_hour: f64,
    pub points_per_threat_level: f64,
}

/// A condition on a case, written as a one-key table in the policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// A member has this need (`life_threatening`, `stretcher`, `pregnancy`, …).
    Need(String),
    /// The request carries this urgency flag (`medical_emergency`, `immediate_danger`, …).
    Urgency(String),
    /// A member is a minor without an adult of their own family.
    UnaccompaniedMinor(bool),
    /// A member is a minor.
    Minor(bool),
    /// A member is at least this old.
    AgeAtLeast(u8),
    /// The location's threat level (0–5) is at least this.
    ThreatAtLeast(u8),
    /// Every case.
    Always(bool),
}

impl Condition {
    /// Whether the case meets it (no words: this is the ranking's inner loop).
    fn holds(&self, case: &CaseFacts) -> bool {
        let any_member = |f: &dyn Fn(&MemberFacts) -> bool| case.members.iter().any(f);
        match self {
            Condition::Need(need) => any_member(&|m| m.needs.iter().any(|n| n == need)),
            Condition::Urgency(flag) => case.urgency.iter().any(|u| u == flag),
            Condition::UnaccompaniedMinor(wanted) => {
                any_member(&|m| m.unaccompanied_minor) == *wanted
            }
            Condition::Minor(wanted) => {
                any_member(&|m| m.age_years.is_some_and(|a| a < 18)) == *wanted
            }
            Condition::AgeAtLeast(age) => any_member(&|m| m.age_years.is_some_and(|a| a >= *age)),
            Condition::ThreatAtLeast(level) => case.threat_level >= *level,
            Condition::Always(wanted) => *wanted,
        }
    }

    /// Whether the case meets it, and the reason in words when it does.
    fn met_by(&self, case: &CaseFacts) -> Option<String> {
        if !self.holds(case) {
            return None;
        }
        Some(match self {
            Condition::Need(need) => format!("a member needs: {need}"),
            Condition::Urgency(flag) => format!("flagged: {flag}"),
            Condition::UnaccompaniedMinor(_) => "an unaccompanied minor".to_string(),
            Condition::Minor(_) => "a child in the party".to_string(),
            Condition::AgeAtLeast(age) => format!("a member aged {age} or more"),
            Condition::ThreatAtLeast(_) => {
                format!("threat level {} at the location", case.threat_level)
            }
            Condition::Always(_) => "every case".to_string(),
        })
    }
}

/// A case's place in a ranking, without words: which case (its index in the ranked slice),
/// its class and its score. Rankings of a million cases are made of these; a [`Priority`]
/// with its reasons is made only for the cases someone looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub case: u32,
    pub class: u8,
    pub score: f64,
}

/// What triage knows about a case (a household that travels together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CaseFacts {
    /// Who the case is (a case or request id), for reports and diffs.
    pub id: String,
    pub members: Vec<MemberFacts>,
    pub urgency: Vec<String>,
    /// Threat level of the location, 0 (calm) to 5 (fighting).
    pub threat_level: u8,
    /// When the case first asked for help, microseconds since the Unix epoch.
    pub waiting_since_us: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MemberFacts {
    pub age_years: Option<u8>,
    pub needs: Vec<String>,
    pub unaccompanied_minor: bool,
    /// Escorts children not their own (a teacher with a school group); planning counts it.
    #[serde(default)]
    pub escort: bool,
    /// ISO 3166-1 alpha-2, when recorded; eligibility reads it.
    #[serde(default)]
    pub citizenship: Option<String>,
}

/// A case's place in the queue, and why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Priority {
    pub id: String,
    /// 1 is served first.
    pub class: u8,
    pub class_name: String,
    /// Higher first inside a class.
    pub score: f64,
    /// The rules that put the case in its class, and what its score is made of.
    pub reasons: Vec<String>,
    pub policy: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy is not valid TOML for a policy: {0}")]
    Syntax(String),
    #[error("the policy has no classes; give at least one [[classes]] table")]
    NoClasses,
    #[error("class {index} (\"{name}\") has no conditions; give it `any = [...]`")]
    EmptyClass { index: usize, name: String },
    #[error("the policy has {0} classes; at most 250 are allowed")]
    TooManyClasses(usize),
    #[error(
        "ageing: hours_per_class must be a positive number of hours and highest_class a class of the policy (1 to {classes}); give e.g. `hours_per_class = 72` and `highest_class = 2`"
    )]
    Ageing { classes: usize },
    #[error(
        "planning: minors_per_escort must be at least 1 and told_yield_class_gap at least 1 (leave it out for told households to keep their seats)"
    )]
    Planning,
    #[error(
        "eligibility: \"{0}\" is not a two-letter country code (ISO 3166-1 alpha-2, like \"IT\")"
    )]
    Country(String),
}

const DEFAULT_POLICY_TOML: &str = include_str!("default-policy.toml");

impl Policy {
    /// Reads a policy file, checking that every class can be met.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy =
            toml::from_str(text).map_err(|e| PolicyError::Syntax(e.message().to_string()))?;
        if policy.classes.is_empty() {
            return Err(PolicyError::NoClasses);
        }
        if policy.classes.len() > 250 {
            return Err(PolicyError::TooManyClasses(policy.classes.len()));
        }
        if let Some((index, class)) = policy
            .classes
            .iter()
            .enumerate()
            .find(|(_, c)| c.any.is_empty())
        {
            return Err(PolicyError::EmptyClass {
                index: index + 1,
                name: class.name.clone(),
            });
        }
        if let Some(ageing) = policy.ageing
            && !(ageing.hours_per_class.is_finite()
                && ageing.hours_per_class > 0.0
                && (1..=policy.classes.len()).contains(&usize::from(ageing.highest_class)))
        {
            return Err(PolicyError::Ageing {
                classes: policy.classes.len(),
            });
        }
        if policy.planning.minors_per_escort == 0 || policy.planning.told_yield_class_gap == Some(0)
        {
            return Err(PolicyError::Planning);
        }
        if let Some(bad) = policy
            .eligibility
            .citizens_of
            .iter()
            .chain(&policy.eligibility.by_agreement)
            .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Err(PolicyError::Country(bad.clone()));
        }
        Ok(policy)
    }

    /// The policy of DESIGN.md.
    pub fn default_policy() -> Policy {
        Policy::from_toml(DEFAULT_POLICY_TOML).expect("the shipped default policy is valid")
    }

    /// The default policy as its file, for staff to copy and edit.
    pub fn default_policy_toml() -> &'static str {
        DEFAULT_POLICY_TOML
    }

    /// A case's class (1 first; past the last class when it meets none) and score at `now_us`.
    pub fn place(&self, case: &CaseFacts, now_us: i64) -> (u8, f64) {
        let (score, waited_hours) = self.score(case, now_us);
        (self.aged(self.class_by_facts(case), waited_hours), score)
    }

    /// The class a case's facts give it, before ageing.
    fn class_by_facts(&self, case: &CaseFacts) -> u8 {
        let class = self
            .classes
            .iter()
            .position(|rule| rule.any.iter().any(|c| c.holds(case)))
            .unwrap_or(self.classes.len())
            + 1;
        u8::try_from(class).unwrap_or(u8::MAX)
    }

    /// `class` after `waited_hours` of waiting under the policy's ageing.
    fn aged(&self, class: u8, waited_hours: f64) -> u8 {
        let Some(ageing) = self.ageing else {
            return class;
        };
        let rise = (waited_hours / ageing.hours_per_class).floor().min(255.0) as u8;
        class
            .saturating_sub(rise)
            .max(ageing.highest_class.min(class))
    }

    /// The within-class score and the hours waited.
    fn score(&self, case: &CaseFacts, now_us: i64) -> (f64, f64) {
        let waited_hours = ((now_us - case.waiting_since_us).max(0) as f64) / 3.6e9;
        let score = waited_hours * self.within_class.points_per_waiting_hour
            + f64::from(case.threat_level) * self.within_class.points_per_threat_level;
        (score, waited_hours)
    }

    /// A case's priority at `now_us`, with the rules that produced it.
    pub fn prioritise(&self, case: &CaseFacts, now_us: i64) -> Priority {
        let (class, score) = self.place(case, now_us);
        let (_, waited_hours) = self.score(case, now_us);
        let by_facts = self.class_by_facts(case);
        let mut reasons = Vec::new();
        // A case meeting no class (a policy without a catch-all) goes after every class.
        let class_name = match self.classes.get(usize::from(by_facts) - 1) {
            Some(rule) => {
                let met: Vec<String> = rule.any.iter().filter_map(|c| c.met_by(case)).collect();
                reasons.push(format!(
                    "class {by_facts} ({}): {}",
                    rule.name,
                    met.join("; ")
                ));
                rule.name.clone()
            }
            None => "no class of this policy".to_string(),
        };
        let class_name = match (self.ageing, self.classes.get(usize::from(class) - 1)) {
            (Some(ageing), Some(rule)) if class != by_facts => {
                reasons.push(format!(
                    "raised from class {by_facts} to {class} ({}) after {waited_hours:.0} h waiting: one class per {} h, up to class {}",
                    rule.name, ageing.hours_per_class, ageing.highest_class
                ));
                rule.name.clone()
            }
            _ => class_name,
        };
        reasons.push(format!(
            "score {score:.1} = {waited_hours:.1} h waiting × {} + threat {} × {}",
            self.within_class.points_per_waiting_hour,
            case.threat_level,
            self.within_class.points_per_threat_level
        ));
        Priority {
            id: case.id.clone(),
            class,
            class_name,
            score,
            reasons,
            policy: format!("{} v{}", self.name, self.version),
        }
    }

    /// Every case in serving order: class first, then score, then id (deterministic). Runs on
    /// every core; a million cases take well under a second.
    pub fn order(&self, cases: &[CaseFacts], now_us: i64) -> Vec<Placement> {
        let mut placed: Vec<Placement> = cases
            .par_iter()
            .enumerate()
            .map(|(i, case)| {
                let (class, score) = self.place(case, now_us);
                Placement {
                    case: u32::try_from(i).expect("fewer than 4 billion cases"),
                    class,
                    score,
                }
            })
            .collect();
        placed.par_sort_unstable_by(|a, b| {
            a.class
                .cmp(&b.class)
                .then(b.score.total_cmp(&a.score))
                .then_with(|| cases[a.case as usize].id.cmp(&cases[b.case as usize].id))
        });
        placed
    }

    /// Every case ranked, each with its reasons.
    pub fn rank(&self, cases: &[CaseFacts], now_us: i64) -> Vec<Priority> {
        self.order(cases, now_us)
            .par_iter()
            .map(|p| self.prioritise(&cases[p.case as usize], now_us))
            .collect()
    }
}

/// A case whose place in the queue changed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Move {
    pub id: String,
    /// 1-based positions before and after.
    pub from_position: usize,
    pub to_position: usize,
    pub from_class: u8,
    pub to_class: u8,
}

/// What moved between two orderings of the same cases.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rerank {
    /// How many cases changed position or class.
    pub moved: usize,
    /// The `moves_max` that moved most, most first (ties by id).
    pub moves: Vec<Move>,
}

/// What moved between two orderings ([`Policy::order`]) of the same `cases`.
pub fn rerank(
    cases: &[CaseFacts],
    before: &[Placement],
    after: &[Placement],
    moves_max: usize,
) -> Rerank {
    let mut was: Vec<(usize, u8)> = vec![(0, 0); cases.len()];
    for (i, p) in before.iter().enumerate() {
        was[p.case as usize] = (i + 1, p.class);
    }
    let mut moved: Vec<(usize, usize, &Placement)> = after
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let (from_position, from_class) = was[p.case as usize];
            (from_position != i + 1 || from_class != p.class).then_some((from_position, i + 1, p))
        })
        .collect();
    let count = moved.len();
    let key = |m: &(usize, usize, &Placement)| {
        (
            std::cmp::Reverse(m.0.abs_diff(m.1)),
            cases[m.2.case as usize].id.as_str(),
        )
    };
    if moved.len() > moves_max && moves_max > 0 {
        moved.select_nth_unstable_by(moves_max - 1, |a, b| key(a).cmp(&key(b)));
    }
    moved.truncate(moves_max);
    moved.sort_by(|a, b| key(a).cmp(&key(b)));
    Rerank {
        moved: count,
        moves: moved
            .into_iter()
            .map(|(from_position, to_position, p)| Move {
                id: cases[p.case as usize].id.clone(),
                from_position,
                to_position,
                from_class: was[p.case as usize].1,
                to_class: p.class,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_US: i64 = 3_600_000_000;

    fn member(age: u8, needs: &[&str], unaccompanied: bool) -> MemberFacts {
        MemberFacts {
            age_years: Some(age),
            needs: needs.iter().map(|n| n.to_string()).collect(),
            unaccompanied_minor: unaccompanied,
            escort: false,
            citizenship: None,
        }
    }

    fn case(id: &str, members: Vec<MemberFacts>, threat: u8, waited_hours: i64) -> CaseFacts {
        CaseFacts {
            id: id.into(),
            members,
            urgency: Vec::new(),
            threat_level: threat,
            waiting_since_us: 100 * HOUR_US - waited_hours * HOUR_US,
        }
    }

    #[test]
    fn the_default_policy_puts_children_alone_and_the_dying_first() {
        let policy = Policy::default_policy();
        let now = 100 * HOUR_US;
        let cases = vec![
            case(
                "tourists",
                vec![member(30, &[], false), member(31, &[], false)],
                1,
                40,
            ),
            case(
                "children-on-holiday",
                vec![member(12, &[], true), member(13, &[], true)],
                1,
                2,
            ),
            case(
                "family",
                vec![member(35, &[], false), member(6, &[], false)],
                1,
                10,
            ),
            case("stretcher", vec![member(70, &["stretcher"], false)], 1, 1),
            case("downtown", vec![member(40, &[], false)], 5, 1),
        ];
        let ranked = policy.rank(&cases, now);
        let order: Vec<&str> = ranked.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            order,
            [
                "children-on-holiday",
                "stretcher",
                "family",
                "downtown",
                "tourists"
            ]
        );
        let children = &ranked[0];
        assert_eq!(children.class, 1);
        assert!(
            children.reasons[0].contains("an unaccompanied minor"),
            "{:?}",
            children.reasons
        );
        assert!(
            children.reasons[1].starts_with("score 12.0 = 2.0 h waiting"),
            "{:?}",
            children.reasons
        );
        assert_eq!(ranked[4].class, 4, "everyone else is served last");
    }

    #[test]
    fn without_ageing_waiting_raises_a_case_inside_its_class_only() {
        let policy = Policy::default_policy();
        assert_eq!(policy.ageing, None, "ageing is off by default");
        let now = 100 * HOUR_US;
        let early = policy.prioritise(&case("early", vec![member(30, &[], false)], 0, 90), now);
        let late = policy.prioritise(&case("late", vec![member(30, &[], false)], 0, 1), now);
        assert!(early.score > late.score);
        let child = policy.prioritise(&case("child", vec![member(8, &[], false)], 0, 0), now);
        assert!(
            child.class < early.class,
            "90 hours of waiting do not beat a class"
        );
    }

    #[test]
    fn a_changed_policy_shows_what_moved() {
        let before = Policy::default_policy();
        // Staff decide that threat comes before the elderly and families.
        let mut after = before.clone();
        after.classes.swap(1, 2);
        after.version = 2;
        let now = 100 * HOUR_US;
        let cases = vec![
            case(
                "family",
                vec![member(35, &[], false), member(6, &[], false)],
                1,
                10,
            ),
            case("downtown", vec![member(40, &[], false)], 5, 1),
        ];
        let change = rerank(
            &cases,
            &before.order(&cases, now),
            &after.order(&cases, now),
            10,
        );
        assert_eq!(change.moved, 2);
        let downtown = change.moves.iter().find(|m| m.id == "downtown").unwrap();
        assert_eq!((downtown.from_position, downtown.to_position), (2, 1));
        assert_eq!((downtown.from_class, downtown.to_class), (3, 2));
        assert!(after.prioritise(&cases[1], now).policy.ends_with("v2"));
    }

    /// Oracle: the fast ordering equals sorting every explained priority, and its diff equals
    /// a position-by-id comparison, on many generated cases with ties.
    #[test]
    fn the_fast_order_and_diff_agree_with_the_plain_ones() {
        let cases: Vec<CaseFacts> = (0..2_000u64)
            .map(|i| {
                let ages: Vec<u8> = (0..1 + i % 4)
                    .map(|k| ((i * 37 + k * 11) % 90) as u8)
                    .collect();
                let members = ages
                    .iter()
                    .map(|&a| {
                        member(
                            a,
                            if i % 13 == 0 { &["medical"] } else { &[] },
                            i % 17 == 0 && a < 18,
                        )
                    })
                    .collect();
                // Few distinct waiting times: ties inside a class are decided by id.
                case(
                    &format!("c{:04}", (i * 7919) % 2_000),
                    members,
                    (i % 6) as u8,
                    (i % 5) as i64,
                )
            })
            .collect();
        let now = 100 * HOUR_US;
        let before = Policy::default_policy();
        let mut after = before.clone();
        after.classes.swap(0, 3);
        after.within_class.points_per_threat_level = 0.5;
        for policy in [&before, &after] {
            let mut plain: Vec<Priority> =
                cases.iter().map(|c| policy.prioritise(c, now)).collect();
            plain.sort_by(|a, b| {
                a.class
                    .cmp(&b.class)
                    .then(b.score.total_cmp(&a.score))
                    .then(a.id.cmp(&b.id))
            });
            let fast: Vec<&str> = policy
                .order(&cases, now)
                .iter()
                .map(|p| cases[p.case as usize].id.as_str())
                .collect();
            assert_eq!(
                fast,
                plain.iter().map(|p| p.id.as_str()).collect::<Vec<_>>()
            );
        }
        let (b, a) = (before.order(&cases, now), after.order(&cases, now));
        let position = |order: &[Placement], id: &str| {
            order
                .iter()
                .position(|p| cases[p.case as usize].id == id)
                .unwrap()
        };
        let plain_moved = cases
            .iter()
            .filter(|c| {
                position(&b, &c.id) != position(&a, &c.id)
                    || before.place(c, now).0 != after.place(c, now).0
            })
            .count();
        let change = rerank(&cases, &b, &a, 5);
        assert_eq!(change.moved, plain_moved);
        assert_eq!(change.moves.len(), 5);
        let biggest = cases
            .iter()
            .map(|c| position(&b, &c.id).abs_diff(position(&a, &c.id)))
            .max()
            .unwrap();
        assert_eq!(
            change.moves[0]
                .from_position
                .abs_diff(change.moves[0].to_position),
            biggest
        );
    }

    #[test]
    fn bad_policies_say_what_to_fix() {
        let error = Policy::from_toml("name = \"x\"\nversion = 1\nclasses = []\n[within_class]\npoints_per_waiting_hour = 1.0\npoints_per_threat_level = 1.0\n").unwrap_err();
        assert!(error.to_string().contains("no classes"), "{error}");
        let empty = Policy::from_toml("name = \"x\"\nversion = 1\n[[classes]]\nname = \"a\"\nany = []\n[within_class]\npoints_per_waiting_hour = 1.0\npoints_per_threat_level = 1.0\n").unwrap_err();
        assert!(
            empty
                .to_string()
                .contains("class 1 (\"a\") has no conditions"),
            "{empty}"
        );
        let unknown = Policy::from_toml("name = \"x\"\nversion = 1\n[[classes]]\nname = \"a\"\nany = [{ colour = \"red\" }]\n[within_class]\npoints_per_waiting_hour = 1.0\npoints_per_threat_level = 1.0\n").unwrap_err();
        assert!(unknown.to_string().contains("colour"), "{unknown}");
    }

    fn ageing_policy() -> Policy {
        Policy::from_toml(&format!(
            "{}\n[ageing]\nhours_per_class = 72.0\nhighest_class = 2\n",
            Policy::default_policy_toml()
        ))
        .expect("the default policy with ageing")
    }

    #[test]
    fn a_single_adult_who_waited_days_rises_a_class_with_the_reason() {
        let policy = ageing_policy();
        let now = 100 * HOUR_US;
        let fresh = policy.prioritise(&case("fresh", vec![member(30, &[], false)], 0, 1), now);
        assert_eq!(fresh.class, 4);
        let waited = policy.prioritise(&case("waited", vec![member(30, &[], false)], 0, 80), now);
        assert_eq!(waited.class, 3, "{:?}", waited.reasons);
        assert!(
            waited.reasons.iter().any(|r| r.contains("raised from class 4 to 3")
                && r.contains("after 80 h waiting")),
            "{:?}",
            waited.reasons
        );
        // Never above the ceiling, however long: class 1 stays for those whose facts put them
        // there.
        let then = 1_000 * HOUR_US;
        let ages = policy.prioritise(&case("ages", vec![member(30, &[], false)], 0, 0), then);
        assert_eq!(ages.class, 2, "{:?}", ages.reasons);
    }

    #[test]
    fn a_policy_with_impossible_ageing_or_a_bad_country_is_refused_naming_it() {
        let base = Policy::default_policy_toml();
        let ageing = |hours: &str, class: &str| {
            format!("{base}\n[ageing]\nhours_per_class = {hours}\nhighest_class = {class}\n")
        };
        let err = Policy::from_toml(&ageing("0.0", "2"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("hours_per_class"), "{err}");
        let err = Policy::from_toml(&ageing("72.0", "9"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("highest_class"), "{err}");
        let bad = format!("{base}\n[eligibility]\ncitizens_of = [\"Italy\"]\n");
        let err = Policy::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("\"Italy\""), "{err}");
        let good = format!("{base}\n[eligibility]\ncitizens_of = [\"IT\"]\n");
        let policy = Policy::from_toml(&good).expect("a valid eligibility table");
        assert_eq!(policy.eligibility.citizens_of, ["IT"]);
    }

    fn citizen(age: u8, of: Option<&str>) -> MemberFacts {
        MemberFacts {
            citizenship: of.map(str::to_string),
            ..member(age, &[], false)
        }
    }

    #[test]
    fn eligibility_seats_citizens_with_their_dependants_and_names_who_waits() {
        let rule = Eligibility {
            citizens_of: vec!["IT".into()],
            by_agreement: vec!["DE".into()],
        };
        // A citizen's spouse of another nationality travels as a dependant.
        assert_eq!(
            rule.judge(&[citizen(40, Some("IT")), citizen(38, Some("KZ"))]),
            Ok(())
        );
        assert_eq!(
            rule.judge(&[citizen(40, Some("de"))]),
            Ok(()),
            "by agreement"
        );
        let kazakh = rule.judge(&[citizen(40, Some("KZ"))]).unwrap_err();
        assert!(
            kazakh.to_string().starts_with("not eligible") && kazakh.to_string().contains("KZ"),
            "{kazakh}"
        );
        let unknown = rule
            .judge(&[citizen(40, Some("KZ")), citizen(8, None)])
            .unwrap_err();
        assert_eq!(
            unknown,
            NotEligible::Unverified {
                unrecorded: 1,
                carried: vec!["IT".into(), "DE".into()],
            }
        );
        assert_eq!(
            Eligibility::default().judge(&[citizen(1, None)]),
            Ok(()),
            "no rule: everyone"
        );
    }

    proptest::proptest! {
        /// Ageing only ever raises a case, more with more waiting, never above the ceiling
        /// unless its facts put it there.
        #[test]
        fn ageing_raises_monotonically_within_its_ceiling(
            age in 0u8..90,
            alone in proptest::bool::ANY,
            threat in 0u8..6,
            waited in 0i64..2_000,
            more in 0i64..2_000,
        ) {
            let policy = ageing_policy();
            let ceiling = policy.ageing.expect("the policy ages").highest_class;
            let now = 5_000 * HOUR_US;
            let facts = |hours: i64| CaseFacts {
                waiting_since_us: now - hours * HOUR_US,
                ..case("c", vec![member(age, &[], alone)], threat, 0)
            };
            let by_facts = policy.class_by_facts(&facts(0));
            let (class, _) = policy.place(&facts(waited), now);
            let (later, _) = policy.place(&facts(waited + more), now);
            proptest::prop_assert!(class <= by_facts);
            proptest::prop_assert!(later <= class);
            proptest::prop_assert!(class >= ceiling.min(by_facts));
        }
    }
}
