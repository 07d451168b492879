//! `evac report …` and `evac hub …`: the situation picture from the server's console.

use anyhow::Context;
use clap::Subcommand;
use evac_model::{Effect, Grade, ReportId, ReportState, Statement, Subject, Timestamp};

use super::review::Who;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Ingest report files (plain text in any language, or OASIS CAP 1.2 XML alerts) as drafts
    /// with the places they mention and the statements they suggest.
    Ingest {
        /// One or more files; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// Who the reports come from (a CAP alert names its own sender)
        #[arg(long)]
        source: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// The newest reports with their grade and state.
    List {
        #[command(flatten)]
        who: Who,
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// One report with its text, mentions and statements.
    Show {
        id: String,
        #[command(flatten)]
        who: Who,
    },
    /// Grade a report (Admiralty A–F and 1–6, e.g. B2) and/or confirm or dismiss it.
    Judge {
        id: String,
        #[arg(long)]
        grade: Option<String>,
        /// confirmed, dismissed or draft
        #[arg(long)]
        state: Option<String>,
        #[command(flatten)]
        who: Who,
    },
}

#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Every hub, route and zone with its derived status, the claims behind it and conflicts.
    List {
        #[command(flatten)]
        who: Who,
        /// As at this time (RFC 3339) instead of now
        #[arg(long)]
        at: Option<String>,
    },
    /// Set a status by hand (stored as your confirmed report): `evac hub set hub:ALA closed`.
    Set {
        /// hub:CODE, route:CODE or zone:CODE
        subject: String,
        /// open, restricted, closed, curfew:23:00-07:00 (closed daily in those local hours), or threat:N for a zone
        effect: String,
        #[arg(long, default_value = "")]
        note: String,
        /// From this time (RFC 3339; default now): a closure announced for tomorrow, or a
        /// status entered late or in a replay
        #[arg(long)]
        from: Option<String>,
        /// Until this time (RFC 3339); open-ended without it
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        who: Who,
    },
}

fn parse_time(flag: &str, text: &str) -> anyhow::Result<Timestamp> {
    text.parse().map_err(|_| {
        anyhow::anyhow!("{flag} '{text}' is not an RFC 3339 time like 2022-01-07T12:00:00Z")
    })
}

fn parse_report_id(text: &str) -> anyhow::Result<ReportId> {
    text.parse()
        .map_err(|_| anyhow::anyhow!("'{text}' is not a report id; `evac report list` shows them"))
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

pub async fn report(config: &Config, command: ReportCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        ReportCommand::Ingest { files, source, who } => {
            let staff = app.console_staff(&who.user).await?;
            for file in files {
                let text = if file.as_os_str() == "-" {
                    std::io::read_to_string(std::io::stdin())?
                } else {
                    std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read {}", file.display()))?
                };
                let ingested = app
                    .ingest_report_as(&staff, &text, source.as_deref())
                    .await
                    .map_err(|e| super::with_flags(e, &[("source", "--source"), ("text", "FILE")]))
                    .with_context(|| format!("in {}", file.display()))?;
                let places: Vec<String> = ingested
                    .report
                    .mentions
                    .iter()
                    .map(|m| format!("{} ({})", m.name, m.place))
                    .collect();
                println!(
                    "{} {}: report {} ({:?}, {})",
                    if ingested.new {
                        "ingested"
                    } else {
                        "already stored"
                    },
                    file.display(),
                    ingested.report.id,
                    ingested.format,
                    ingested
                        .report
                        .language
                        .as_deref()
                        .unwrap_or("language unknown"),
                );
                println!("  mentions: {}", places.join(", "));
                for s in &ingested.statements {
                    println!("  suggests: {} {} — \"{}\"", s.subject, s.effect, s.note);
                }
            }
            println!(
                "grade with `evac report judge ID --grade B2` or confirm with --state confirmed"
            );
        }
        ReportCommand::List { who, limit } => {
            let staff = app.console_staff(&who.user).await?;
            for r in app.reports(&staff, limit).await? {
                let first_line: String = r
                    .text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(70)
                    .collect();
                println!(
                    "{}  {}  {:<9}  {:<4}  {}  — {}",
                    r.id,
                    r.received_at,
                    r.state,
                    r.grade.map(|g| g.to_string()).unwrap_or_else(|| "—".into()),
                    r.source,
                    first_line
                );
            }
        }
        ReportCommand::Show { id, who } => {
            let staff = app.console_staff(&who.user).await?;
            let (report, statements) = app.report(&staff, parse_report_id(&id)?).await?;
            print_json(&serde_json::json!({ "report": report, "statements": statements }))?;
        }
        ReportCommand::Judge {
            id,
            grade,
            state,
            who,
        } => {
            let staff = app.console_staff(&who.user).await?;
            let grade: Option<Grade> = grade
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--grade {e}"))?;
            let state = state
                .as_deref()
                .map(|s| {
                    ReportState::parse(s).ok_or_else(|| {
                        anyhow::anyhow!("--state '{s}': use one of {}", ReportState::choices())
                    })
                })
                .transpose()?;
            if grade.is_none() && state.is_none() {
                anyhow::bail!(
                    "give --grade (e.g. B2), --state (confirmed, dismissed, draft) or both"
                );
            }
            let report = app
                .judge_report(&staff, parse_report_id(&id)?, grade, state)
                .await?;
            println!(
                "report {}: {} {}",
                report.id,
                report.state,
                report.grade.map(|g| g.to_string()).unwrap_or_default()
            );
        }
    }
    Ok(())
}

pub async fn hub(config: &Config, command: HubCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        HubCommand::List { who, at } => {
            let staff = app.console_staff(&who.user).await?;
            let at = at.map(|a| parse_time("--at", &a)).transpose()?;
            let view = app
                .situation(&staff, at.unwrap_or_else(Timestamp::now))
                .await?;
            println!(
                "as at {} (trusted: {}{} or better, or confirmed)",
                view.at, view.trust.reliability_worst, view.trust.credibility_worst
            );
            for v in view.hubs.iter().chain(&view.routes).chain(&view.zones) {
                let status = v
                    .derived
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "unknown".into());
                println!("{:<28} {:<18} {}", v.subject.to_string(), status, v.name);
                for w in &v.derived.supporting {
                    println!(
                        "    because {} ({}, weight {:.2}): {}",
                        w.claim.source, w.why_trusted, w.weight, w.claim.statement.note
                    );
                }
                for w in &v.derived.conflicting {
                    println!(
                        "    CONFLICT {} says {} ({}, weight {:.2})",
                        w.claim.source, w.claim.statement.effect, w.why_trusted, w.weight
                    );
                }
            }
        }
        HubCommand::Set {
            subject,
            effect,
            note,
            from,
            until,
            who,
        } => {
            let staff = app.console_staff(&who.user).await?;
            let statement = Statement {
                subject: subject.parse::<Subject>()?,
                effect: effect.parse::<Effect>()?,
                from: from
                    .map(|f| parse_time("--from", &f))
                    .transpose()?
                    .unwrap_or_else(Timestamp::now),
                until: until.map(|u| parse_time("--until", &u)).transpose()?,
                capacity_per_day: None,
                note,
            };
            if let Some(until) = statement.until
                && until <= statement.from
            {
                anyhow::bail!(
                    "--until {until} is not after the window's start ({}); give --from for a window in the past",
                    statement.from
                );
            }
            let report = app.set_status_as(&staff, &statement).await?;
            println!(
                "{} is {} (report {report})",
                statement.subject, statement.effect
            );
        }
    }
    Ok(())
}
