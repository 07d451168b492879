//! `evac relink` and `evac review …`: record linkage from the server's console.

use clap::{Args, Subcommand};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// The pairs waiting for a decision, oldest first, with their evidence.
    List {
        #[command(flatten)]
        who: Who,
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Decide a review item (or an auto-merge): `match` or `distinct`.
    Decide {
        seq: i64,
        /// match (the same person) or distinct (two people)
        decision: String,
        #[command(flatten)]
        who: Who,
    },
    /// Undo a merge or a decision (an undone auto-merge returns to the queue).
    Undo {
        seq: i64,
        #[command(flatten)]
        who: Who,
    },
}

#[derive(Debug, Args)]
pub struct Who {
    /// The staff account the decision is recorded under (a case officer or supervisor)
    #[arg(long = "as", value_name = "USER")]
    pub user: String,
}

/// `evac relink`: links every stored request from scratch and logs new merges and review items.
pub async fn relink(config: &Config) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let s = app.relink().await?;
    println!(
        "{} persons linked: {} new merges, {} new pairs for review (decided pairs are kept as decided); {}",
        s.persons, s.auto_merged, s.queued_for_review, s.took
    );
    Ok(())
}

pub async fn run(config: &Config, command: ReviewCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        ReviewCommand::List { who, limit } => {
            let staff = app.console_staff(&who.user).await?;
            let items = app.review_queue(&staff, limit).await?;
            if items.is_empty() {
                println!("the review queue is empty");
            }
            for item in items {
                let side = |p: &evac_app::LinkedPerson| {
                    format!(
                        "{} {} {} | born {} | {} via {} | {}",
                        p.surname.as_deref().unwrap_or("-"),
                        p.given_names.as_deref().unwrap_or("-"),
                        p.patronymic.as_deref().unwrap_or(""),
                        p.birth.as_deref().unwrap_or("?"),
                        p.reference,
                        p.channel,
                        p.location
                    )
                };
                println!("#{}  p = {:.3}", item.seq, item.match_probability);
                println!("  A  {}", side(&item.a));
                println!("  B  {}", side(&item.b));
                if let Some(fields) = item.explanation["fields"].as_array() {
                    let why: Vec<String> = fields
                        .iter()
                        .filter(|f| f["level"] != "missing")
                        .map(|f| {
                            format!(
                                "{} {} {:+.1}",
                                f["field"].as_str().unwrap_or("?"),
                                f["level"].as_str().unwrap_or("?"),
                                f["weight"].as_f64().unwrap_or(0.0)
                            )
                        })
                        .collect();
                    println!("  why: {}", why.join("; "));
                }
            }
        }
        ReviewCommand::Decide { seq, decision, who } => {
            let same_person = match decision.as_str() {
                "match" => true,
                "distinct" => false,
                other => anyhow::bail!("'{other}' is not a decision; use match or distinct"),
            };
            let staff = app.console_staff(&who.user).await?;
            let logged = app.decide_link(&staff, seq, same_person).await?;
            println!(
                "#{seq} decided: {decision} (logged as #{logged}; undo with `evac review undo {logged} --as {}`)",
                who.user
            );
        }
        ReviewCommand::Undo { seq, who } => {
            let staff = app.console_staff(&who.user).await?;
            app.undo_link(&staff, seq).await?;
            println!("#{seq} undone");
        }
    }
    Ok(())
}
