//! `evac outbox`, `evac inbox`, `evac broadcast`, `evac mailbox`: talking to requesters from
//! the console, under a staff account as on the desk (same permissions, same audit).

use anyhow::bail;
use clap::{Args, Subcommand};
use evac_model::{BroadcastDraft, Timestamp};
use evac_store::{MessageFilter, MessageState};

use super::review::Who;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct OutboxArgs {
    #[command(flatten)]
    pub who: Who,
    /// Only messages in this state: queued, sending, sent, delivered, failed, given_up
    #[arg(long)]
    pub state: Option<String>,
    /// At most this many, newest first
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(flatten)]
    pub who: Who,
    /// Only messages in this state: unmatched, to_read, attached, handled [default: those
    /// waiting for a human]
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct BroadcastArgs {
    #[command(flatten)]
    pub who: Who,
    /// What the group must know (at most 200 characters)
    #[arg(long)]
    pub text: String,
    /// The text for those who asked in Russian (else they get --text)
    #[arg(long)]
    pub text_ru: Option<String>,
    /// The text for those who asked in Kazakh
    #[arg(long)]
    pub text_kk: Option<String>,
    /// The text for those who asked in Italian
    #[arg(long)]
    pub text_it: Option<String>,
    /// Everyone whose request names this place (any script)
    #[arg(long)]
    pub place: Option<String>,
    /// Everyone seated on the transport with this code
    #[arg(long)]
    pub transport: Option<String>,
    /// Everyone with a person in this status (registered, verified, notified, …)
    #[arg(long)]
    pub status: Option<String>,
    /// Send it (without this, only the preview: the count and the text per language)
    #[arg(long)]
    pub send: bool,
}

#[derive(Debug, Args)]
pub struct ReconfirmArgs {
    #[command(flatten)]
    pub who: Who,
    /// Ask the requests that have waited longer than this many hours
    #[arg(long, default_value_t = 72)]
    pub older_than_hours: u32,
    /// Mark unreachable those asked longer ago than this who did not answer
    #[arg(long, default_value_t = 24)]
    pub answer_within_hours: u32,
}

#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Read the crisis mailbox ([email.imap]) once: store, read and import what is unseen.
    Read,
}

pub async fn outbox(config: &Config, args: OutboxArgs) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let state = match args.state.as_deref() {
        Some(s) => Some(MessageState::parse(s).ok_or_else(|| {
            anyhow::anyhow!(
                "--state '{s}' is not one of: queued, sending, sent, delivered, failed, given_up"
            )
        })?),
        None => None,
    };
    let filter = MessageFilter {
        state,
        ..Default::default()
    };
    let messages = app.outbox(&staff, &filter, args.limit).await?;
    for m in &messages {
        println!(
            "{}  {:<9} {:<5} {:<12} {} attempt(s){}\n    {}",
            m.created_at,
            m.state.as_str(),
            m.channel,
            m.template,
            m.attempts,
            m.last_error
                .as_deref()
                .map(|e| format!(", last error: {e}"))
                .unwrap_or_default(),
            m.body
        );
    }
    let (counts, waiting) = app.messaging_counts(&staff).await?;
    let counts: Vec<String> = counts
        .iter()
        .map(|(s, n)| format!("{} {n}", s.as_str()))
        .collect();
    println!(
        "{} shown; outbox: {}; inbox waiting for a human: {}",
        messages.len(),
        counts.join(", "),
        waiting.messages
    );
    Ok(())
}

pub async fn inbox(config: &Config, args: InboxArgs) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let states: Vec<&str> = match args.state.as_deref() {
        Some(s) => vec![s],
        None => evac_store::INBOX_WAITING_STATES.to_vec(),
    };
    let messages = app.inbox(&staff, &states, None, args.limit).await?;
    for m in &messages {
        println!(
            "{}  {} {:<5} from {} ({}{})\n    {}",
            m.received_at,
            m.id,
            m.channel,
            m.sender,
            m.state,
            m.request
                .map(|r| format!(", request {r}"))
                .unwrap_or_default(),
            m.text.replace('\n', "\n    ")
        );
    }
    println!("{} shown", messages.len());
    Ok(())
}

pub async fn broadcast(config: &Config, args: BroadcastArgs) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let draft = BroadcastDraft {
        text: Some(args.text),
        text_ru: args.text_ru,
        text_kk: args.text_kk,
        text_it: args.text_it,
        place: args.place,
        transport: args.transport,
        status: args.status,
        ..Default::default()
    };
    let mut broadcast = draft
        .validate()
        .map_err(|errors| anyhow::anyhow!(evac_app::AppError::Invalid(errors)))?;
    let preview = app.preview_broadcast(&staff, &broadcast).await?;
    println!(
        "{} recipients ({} requests; {}){}",
        preview.recipients,
        preview.requests,
        preview
            .by_channel
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        if preview.unreachable_requests > 0 {
            format!(
                "; {} requests no channel reaches",
                preview.unreachable_requests
            )
        } else {
            String::new()
        }
    );
    for sample in &preview.samples {
        println!(
            "  [{}] {} recipients, {} SMS each: {}",
            sample.language, sample.recipients, sample.sms_parts, sample.text
        );
    }
    if !args.send {
        println!("nothing sent: add --send to send it");
        return Ok(());
    }
    if preview.recipients == 0 {
        bail!("nobody to send it to");
    }
    broadcast.id = Some(preview.id);
    broadcast.expected_recipients = Some(preview.recipients as u32);
    let sent = app
        .send_broadcast(&staff, &broadcast, Timestamp::now())
        .await?;
    println!(
        "broadcast {}: {} messages queued; `evac serve` sends them",
        sent.id, sent.queued
    );
    Ok(())
}

pub async fn mailbox(config: &Config, command: MailboxCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        MailboxCommand::Read => {
            let pass = app.read_mailbox().await?;
            println!(
                "{} messages read; {} requests imported from attachments, {} rows refused (see `evac inbox`)",
                pass.read, pass.imported, pass.rejected_rows
            );
        }
    }
    Ok(())
}

pub async fn reconfirm(config: &Config, args: ReconfirmArgs) -> anyhow::Result<()> {
    let run = evac_model::ReconfirmDraft {
        older_than_hours: Some(args.older_than_hours.to_string()),
        answer_within_hours: Some(args.answer_within_hours.to_string()),
    }
    .validate()
    .map_err(|errors| anyhow::anyhow!(evac_app::AppError::Invalid(errors)))?;
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let done = app
        .reconfirm(
            &staff,
            run.older_than_hours,
            run.answer_within_hours,
            Timestamp::now(),
        )
        .await?;
    println!(
        "{} requests asked; {} marked unreachable for not answering within {} h; {} no channel reaches; {} skipped (changed meanwhile)",
        done.asked,
        done.marked_unreachable,
        run.answer_within_hours,
        done.unreachable_by_any_channel,
        done.skipped
    );
    Ok(())
}
