//! `evac triage`: the stored requests in the order a policy serves them, each with its reasons.

use anyhow::Context;
use clap::Args;
use evac_model::Timestamp;
use evac_triage::Policy;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct TriageArgs {
    /// A policy file (TOML); without it, the default policy. See --print-default-policy.
    #[arg(long)]
    pub policy: Option<std::path::PathBuf>,
    /// Show this many requests from the top
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Rank as at this time (RFC 3339) instead of now: waiting hours count up to it
    #[arg(long)]
    pub at: Option<String>,
    /// Print the default policy (a starting point for your own) and exit
    #[arg(long)]
    pub print_default_policy: bool,
}

pub async fn run(config: &Config, args: TriageArgs) -> anyhow::Result<()> {
    if args.print_default_policy {
        print!("{}", Policy::default_policy_toml());
        return Ok(());
    }
    let policy = match &args.policy {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the policy {}", path.display()))?;
            Policy::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Policy::default_policy(),
    };
    let now = match &args.at {
        Some(at) => at.parse::<Timestamp>().map_err(|_| {
            anyhow::anyhow!("--at '{at}' is not an RFC 3339 time like 2022-01-07T12:00:00Z")
        })?,
        None => Timestamp::now(),
    };
    let app = super::app(config, false).await?;
    let ranked = app.rank_requests(&policy, now).await?;
    let mut per_class = std::collections::BTreeMap::new();
    for r in &ranked {
        *per_class
            .entry((r.priority.class, r.priority.class_name.clone()))
            .or_insert(0usize) += 1;
    }
    println!(
        "policy {} v{}: {} requests",
        policy.name,
        policy.version,
        ranked.len()
    );
    for ((class, name), count) in &per_class {
        println!("  class {class} ({name}): {count}");
    }
    for (position, r) in ranked.iter().take(args.top).enumerate() {
        println!(
            "{:>4}. {}  class {}  score {:.1}",
            position + 1,
            r.reference,
            r.priority.class,
            r.priority.score
        );
        for reason in &r.priority.reasons {
            println!("        {reason}");
        }
    }
    Ok(())
}
