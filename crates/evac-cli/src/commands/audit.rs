//! `evac audit head` and `evac audit verify`: the audit trail's hash chain, from the console.

use clap::Subcommand;

use crate::commands::review::Who;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Seal what was written so far and print the chain's head (position:hash): record it
    /// somewhere the database's administrators cannot write, to check the trail against later.
    Head {
        #[command(flatten)]
        who: Who,
    },
    /// Walk the whole chain and name the first broken link (an edited, deleted or inserted
    /// audit event); exits non-zero if one is found.
    Verify {
        #[command(flatten)]
        who: Who,
        /// A head recorded earlier (`evac audit head`): the chain must still pass through it
        #[arg(long)]
        head: Option<String>,
    },
}

pub async fn run(config: &Config, command: AuditCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        AuditCommand::Head { who } => {
            let staff = app.console_staff(&who.user).await?;
            match app.audit_head(&staff).await? {
                Some(head) => println!("{}", head.label()),
                None => println!("the audit trail is empty"),
            }
        }
        AuditCommand::Verify { who, head } => {
            let staff = app.console_staff(&who.user).await?;
            let verdict = app.verify_audit(&staff, head.as_deref()).await?;
            let sealed = verdict.head.map_or(0, |h| h.pos);
            if let Some(broken) = verdict.broken {
                anyhow::bail!(
                    "the audit trail was tampered with: {broken} ({sealed} links hold before it)"
                );
            }
            println!(
                "the audit trail holds: {sealed} events sealed, none altered, deleted or inserted{}{}",
                if head.is_some() {
                    ", and it passes through the recorded head"
                } else {
                    ""
                },
                match verdict.head {
                    Some(h) => format!("; head {}", h.label()),
                    None => String::new(),
                }
            );
        }
    }
    Ok(())
}
