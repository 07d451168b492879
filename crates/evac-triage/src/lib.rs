//! Triage: who leaves first, as a policy staff can read, change and see the effect of.
//!
//! A [`Policy`] is data (TOML; [`Policy::default_policy`] is the one DESIGN.md describes:
//! life-threatening medical need and unaccompanied minors first; then families with children,
//! pregnant women, the elderly, people with disabilities; then people in zones of high threat;
//! then everyone else). A case takes the first class any of whose conditions it meets; inside
//! the class, hours waited and the threat level of its location add points. Every [`Priority`]
//! names its class, its score and the rules that produced them, and [`rerank`] shows what moved
//! when the policy or the situation changed.
//!
//! Pure: no I/O, no clock ("now" is passed in).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A priority policy: ordered classes and the within-class score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    pub version: u32,
    pub classes: Vec<ClassRule>,
    pub within_class: WithinClass,
}

/// One priority class: a case belongs when it meets any condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRule {
    pub name: String,
    pub any: Vec<Condition>,
}

/// What raises a case inside its class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithinClass {
    pub points_per_waiting_hour: f64,
    pub points_per_threat_level: f64,
}

/// A condition on a case, written as a one-key table in the policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberFacts {
    pub age_years: Option<u8>,
    pub needs: Vec<String>,
    pub unaccompanied_minor: bool,
    /// Escorts children not their own (a teacher with a school group); planning counts it.
    #[serde(default)]
    pub escort: bool,
}

/// A case's place in the queue, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
        let class = self
            .classes
            .iter()
            .position(|rule| rule.any.iter().any(|c| c.holds(case)))
            .unwrap_or(self.classes.len())
            + 1;
        (
            u8::try_from(class).unwrap_or(u8::MAX),
            self.score(case, now_us).0,
        )
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
        let mut reasons = Vec::new();
        // A case meeting no class (a policy without a catch-all) goes after every class.
        let class_name = match self.classes.get(usize::from(class) - 1) {
            Some(rule) => {
                let met: Vec<String> = rule.any.iter().filter_map(|c| c.met_by(case)).collect();
                reasons.push(format!("class {class} ({}): {}", rule.name, met.join("; ")));
                rule.name.clone()
            }
            None => "no class of this policy".to_string(),
        };
        let (_, waited_hours) = self.score(case, now_us);
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
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub id: String,
    /// 1-based positions before and after.
    pub from_position: usize,
    pub to_position: usize,
    pub from_class: u8,
    pub to_class: u8,
}

/// What moved between two orderings of the same cases.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    fn waiting_raises_a_case_inside_its_class_only() {
        let policy = Policy::default_policy();
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
}
