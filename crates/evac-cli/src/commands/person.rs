//! `evac person export` and `evac person erase`: a person's subject-access request and
//! erasure, by a supervisor at the console.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use evac_model::{PersonId, RequestId, Timestamp};

use crate::commands::review::Who;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    /// Requests received before this time (RFC 3339) lose their people's personal data
    #[arg(long)]
    pub before: String,
    #[command(flatten)]
    pub who: Who,
    /// Anonymise; without it, only count what would be
    #[arg(long)]
    pub apply: bool,
}

/// `evac retention`: after a crisis, anonymise everyone who asked before a cut-off.
pub async fn retention(config: &Config, args: RetentionArgs) -> anyhow::Result<()> {
    let cutoff: Timestamp = args.before.parse().map_err(|_| {
        anyhow::anyhow!(
            "--before '{}' is not an RFC 3339 time like 2022-03-01T00:00:00Z",
            args.before
        )
    })?;
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let found = app
        .anonymise_before(&staff, cutoff, args.apply, Timestamp::now())
        .await?;
    if args.apply {
        println!(
            "anonymised {} people of {} requests received before {cutoff}; counts, statuses and seats stay",
            found.persons, found.requests
        );
    } else {
        println!(
            "{} requests were received before {cutoff}; {} of their people still hold personal data; add --apply to anonymise them",
            found.requests, found.persons
        );
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Everything held about one person (their data, history, seat, the request's messages
    /// and calls) as JSON, for their subject-access request.
    Export {
        /// The request's id
        request: String,
        /// The person's id
        person: String,
        #[command(flatten)]
        who: Who,
        /// Write to this new file (readable by you only) instead of standard output
        #[arg(long)]
        to: Option<PathBuf>,
        #[command(flatten)]
        sealing: crate::sealed::Sealing,
    },
    /// Erase one person's personal data and the messages and calls of their contacts; their
    /// status, seat and the counts stay.
    Erase {
        request: String,
        person: String,
        #[command(flatten)]
        who: Who,
        /// The ground for erasing (recorded in their history; no names, please)
        #[arg(long)]
        ground: String,
    },
}

fn ids(request: &str, person: &str) -> anyhow::Result<(RequestId, PersonId)> {
    Ok((
        request
            .parse()
            .map_err(|_| anyhow::anyhow!("'{request}' is not a request id"))?,
        person
            .parse()
            .map_err(|_| anyhow::anyhow!("'{person}' is not a person id"))?,
    ))
}

pub async fn run(config: &Config, command: PersonCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        PersonCommand::Export {
            request,
            person,
            who,
            to,
            sealing,
        } => {
            let (request, person) = ids(&request, &person)?;
            let staff = app.console_staff(&who.user).await?;
            let data = app.subject_access(&staff, request, person).await?;
            let text = serde_json::to_string_pretty(&data)?;
            let sealer = sealing.prepare()?;
            match to {
                None if sealing.encrypts() => {
                    anyhow::bail!("an encrypted export needs --to FILE (it is not text)")
                }
                None => println!("{text}"),
                Some(path) => {
                    let file = super::private_file(&path)
                        .with_context(|| format!("writing {}", path.display()))?;
                    sealer
                        .write_all(file, text.as_bytes())
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("wrote {}", path.display());
                }
            }
        }
        PersonCommand::Erase {
            request,
            person,
            who,
            ground,
        } => {
            let (request, person) = ids(&request, &person)?;
            let staff = app.console_staff(&who.user).await?;
            let erased = app
                .erase_person(&staff, request, person, &ground, Timestamp::now())
                .await?;
            println!(
                "erased {} of person {person}{}, and {} messages, calls or chats of their contacts; run `evac relink` to drop them from the duplicate index",
                if erased.fields.is_empty() {
                    "nothing (nothing was held)".to_string()
                } else {
                    erased.fields.join(", ")
                },
                if erased.submitter {
                    " (the submitter's contacts too)"
                } else {
                    ""
                },
                erased.contact_rows
            );
        }
    }
    Ok(())
}
