//! `evac call` and `evac callbacks`: the hotline's call log and callback queue from the
//! console, under a staff account as on the desk (same permissions, same audit).

use anyhow::Context;
use clap::Args;
use evac_model::{CallDraft, Timestamp};

use super::review::Who;
use crate::config::Config;

#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub who: Who,
    /// The request's reference code (K7Q-4F2-9MX)
    pub reference: String,
    /// How it ended: reached, no_answer, busy, left_message, wrong_number
    #[arg(long)]
    pub outcome: String,
    /// outbound (we called) or inbound (they called)
    #[arg(long, default_value = "outbound")]
    pub direction: String,
    /// The number dialled or calling
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub note: Option<String>,
    /// Call back in this many minutes (without it, evac picks the wait from the failed tries)
    #[arg(long = "callback-in", value_name = "MINUTES")]
    pub callback_in_minutes: Option<String>,
}

#[derive(Debug, Args)]
pub struct CallbacksArgs {
    #[command(flatten)]
    pub who: Who,
    /// Take the next due callback (nobody else is given it for 15 minutes) and show it
    #[arg(long)]
    pub next: bool,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

/// `evac call REFERENCE --outcome …`: logs a call and says where the request stands.
pub async fn call(config: &Config, args: CallArgs) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let entry = CallDraft {
        direction: Some(args.direction),
        outcome: Some(args.outcome),
        phone: args.phone,
        note: args.note,
        callback_in_minutes: args.callback_in_minutes,
    }
    .validate_in(app.settings().default_region)
    .map_err(evac_app::AppError::Invalid)?;
    let reference = args.reference.trim().to_uppercase();
    let request = app
        .request_by_reference(
            &staff,
            &reference
                .parse()
                .with_context(|| format!("'{reference}' is not a reference code"))?,
        )
        .await?;
    let logged = app
        .log_call(&staff, request.request.id, &entry, Timestamp::now())
        .await?;
    match logged.callback {
        Some(c) => println!(
            "call logged; call back at {} ({}, {} failed tries)",
            c.due_at, c.reason, c.attempts
        ),
        None => println!("call logged; no callback waits"),
    }
    Ok(())
}

/// `evac callbacks [--next]`: the queue, soonest due first, or the next one to call.
pub async fn callbacks(config: &Config, args: CallbacksArgs) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let staff = app.console_staff(&args.who.user).await?;
    let queue = if args.next {
        match app.take_callback(&staff, Timestamp::now()).await? {
            Some(taken) => vec![taken],
            None => {
                println!("nothing is due now");
                return Ok(());
            }
        }
    } else {
        app.callback_queue(&staff, args.limit).await?
    };
    for c in &queue {
        println!(
            "{}  {}  {}  {}  {} ({} failed tries){}",
            c.callback.due_at,
            c.reference,
            c.phones.join(", "),
            c.place,
            c.callback.reason,
            c.callback.attempts,
            c.callback
                .claimed_by
                .as_deref()
                .filter(|_| c.callback.claimed_until > Timestamp::now())
                .map(|who| format!(", being called by {who}"))
                .unwrap_or_default()
        );
    }
    if !args.next {
        println!("{} waiting for a callback", queue.len());
    }
    Ok(())
}
