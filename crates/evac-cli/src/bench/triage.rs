//! `evac bench triage`: re-ranking a million cases after a policy or situation change.
//!
//! Cases are synthesised with the shape of the demo crisis (households of one to six, a tenth
//! with minors alone, some medical needs, waiting up to three days, threat levels 0–5), so the
//! figure is the ranking's own cost, not the store's. Each round measures, on the same cases:
//! the baseline ordering, the ordering under a changed policy with what moved, the ordering
//! after a situation change (a zone's threat level rises for a tenth of the cases) with what
//! moved, and the reasons for the first cases (what a page shows).

use std::time::Instant;

use clap::Args;
use evac_triage::{CaseFacts, MemberFacts, Policy, rerank};
use rand::{Rng, SeedableRng};

#[derive(Debug, Args)]
pub struct TriageBenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    pub cases: usize,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Timed rounds (the median is reported)
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
}

const HOUR_US: i64 = 3_600_000_000;
/// Moves listed and cases explained, as the API does by default.
const MOVES_SHOWN: usize = 100;

fn synthetic_cases(n: usize, seed: u64) -> Vec<CaseFacts> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    const NEEDS: [&str; 5] = [
        "medical",
        "wheelchair",
        "pregnancy",
        "life_threatening",
        "stretcher",
    ];
    (0..n)
        .map(|i| {
            let size = rng.random_range(1..=6);
            let alone = rng.random_bool(0.1);
            let members = (0..size)
                .map(|m| {
                    let age: u8 = if alone || (m > 1 && rng.random_bool(0.5)) {
                        rng.random_range(5..18)
                    } else {
                        rng.random_range(18..90)
                    };
                    MemberFacts {
                        age_years: Some(age),
                        needs: if rng.random_bool(0.05) {
                            vec![NEEDS[rng.random_range(0..NEEDS.len())].to_string()]
                        } else {
                            vec![]
                        },
                        unaccompanied_minor: alone,
                        escort: false,
                        citizenship: None,
                    }
                })
                .collect();
            CaseFacts {
                id: format!("case-{i:07}"),
                members,
                urgency: if rng.random_bool(0.03) {
                    vec!["immediate_danger".into()]
                } else {
                    vec![]
                },
                threat_level: rng.random_range(0..=5),
                waiting_since_us: -rng.random_range(0..72 * HOUR_US),
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(args: TriageBenchArgs) -> anyhow::Result<()> {
    let cases = synthetic_cases(args.cases, args.seed);
    let policy = Policy::default_policy();
    // The changed policy: threat counts for more than waiting, and the elderly go first.
    let mut changed = policy.clone();
    changed.within_class.points_per_threat_level = 25.0;
    changed.classes.swap(1, 2);
    let mut heated = cases.clone();
    for c in heated.iter_mut().step_by(10) {
        c.threat_level = 5;
    }
    println!(
        "machine: {}; {} synthetic cases (seed {})",
        super::machine(),
        cases.len(),
        args.seed
    );
    let (mut baseline, mut policy_change, mut situation_change, mut explain) =
        (vec![], vec![], vec![], vec![]);
    let (mut moved_policy, mut moved_situation) = (0, 0);
    for _ in 0..args.rounds.max(1) {
        let t = Instant::now();
        let before = policy.order(&cases, 0);
        baseline.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let after = changed.order(&cases, 0);
        moved_policy = rerank(&cases, &before, &after, MOVES_SHOWN).moved;
        policy_change.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let after = policy.order(&heated, 0);
        moved_situation = rerank(&heated, &before, &after, MOVES_SHOWN).moved;
        situation_change.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let explained: Vec<_> = after
            .iter()
            .take(MOVES_SHOWN)
            .map(|p| policy.prioritise(&heated[p.case as usize], 0))
            .collect();
        explain.push(t.elapsed().as_secs_f64());
        assert_eq!(explained.len(), MOVES_SHOWN.min(heated.len()));
    }
    println!(
        "rank (baseline, same run):           {:.3} s",
        median(baseline)
    );
    println!(
        "re-rank after a policy change + diff:  {:.3} s ({moved_policy} cases moved)",
        median(policy_change)
    );
    println!(
        "re-rank after a threat change + diff:  {:.3} s ({moved_situation} cases moved)",
        median(situation_change)
    );
    println!(
        "reasons for the first {MOVES_SHOWN}:          {:.4} s",
        median(explain)
    );
    if let Some(mb) = super::peak_rss_mb() {
        println!("peak RSS {mb:.0} MB");
    }
    Ok(())
}
