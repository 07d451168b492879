//! `evac triage`: the cases (households) in the order a policy serves them, each with its
//! reasons; `--set-policy` stores a new version and shows what moved.

use anyhow::Context;
use clap::Args;
use evac_model::Timestamp;
use evac_triage::Policy;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct TriageArgs {
    /// Rank with this policy file (TOML) without storing it; without it, the stored policy
    /// (or the default). See --print-default-policy.
    #[arg(long, conflicts_with = "set_policy")]
    pub policy: Option<std::path::PathBuf>,
    /// Store this policy file as the new version (needs --as a supervisor) and show what moved
    #[arg(long, requires = "user")]
    pub set_policy: Option<std::path::PathBuf>,
    /// The staff account a new policy version is recorded under
    #[arg(long = "as", value_name = "USER")]
    pub user: Option<String>,
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
    let read = |path: &std::path::PathBuf| {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the policy {}", path.display()))
    };
    let app = super::app(config, false).await?;
    if let (Some(path), Some(user)) = (&args.set_policy, &args.user) {
        let staff = app.console_staff(user).await?;
        let change = app
            .change_policy(&staff, &read(path)?, args.top)
            .await
            .with_context(|| format!("in {}", path.display()))?;
        println!(
            "stored policy version {}: {} of {} cases moved",
            change.version, change.moved, change.cases
        );
        for m in &change.moves {
            println!(
                "  {}: position {} -> {}, class {} -> {}",
                m.id, m.from_position, m.to_position, m.from_class, m.to_class
            );
        }
        return Ok(());
    }
    let policy = match &args.policy {
        Some(path) => {
            Policy::from_toml(&read(path)?).with_context(|| format!("in {}", path.display()))?
        }
        None => app.policy_in_force().await?.policy,
    };
    let now = match &args.at {
        Some(at) => at.parse::<Timestamp>().map_err(|_| {
            anyhow::anyhow!("--at '{at}' is not an RFC 3339 time like 2022-01-07T12:00:00Z")
        })?,
        None => Timestamp::now(),
    };
    let (cases, ranked) = app.rank_requests(Some(&policy), now, 0, usize::MAX).await?;
    let mut per_class = std::collections::BTreeMap::new();
    for r in &ranked {
        *per_class
            .entry((r.priority.class, r.priority.class_name.clone()))
            .or_insert(0usize) += 1;
    }
    println!(
        "policy {} v{}: {} cases",
        policy.name, policy.version, cases
    );
    for ((class, name), count) in &per_class {
        println!("  class {class} ({name}): {count}");
    }
    for (position, r) in ranked.iter().take(args.top).enumerate() {
        println!(
            "{:>4}. {}{}  class {}  score {:.1}",
            position + 1,
            r.reference,
            if r.requests.len() > 1 {
                format!(" (+{} linked requests)", r.requests.len() - 1)
            } else {
                String::new()
            },
            r.priority.class,
            r.priority.score
        );
        for reason in &r.priority.reasons {
            println!("        {reason}");
        }
    }
    Ok(())
}
