//! `evac keys …`: the boarding-pass keys in the key file (never in the database).

use clap::Subcommand;
use evac_model::Timestamp;

use crate::commands::review::Who;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// The keys in the key file: the one that signs, and those that still verify.
    List {
        #[command(flatten)]
        who: Who,
    },
    /// Make a new signing key; passes signed with the old one stay valid until pruned. Copy
    /// the key file to every node and restart them.
    Rotate {
        #[command(flatten)]
        who: Who,
    },
    /// Forget retired keys once every transport seated before their retirement departed.
    Prune {
        #[command(flatten)]
        who: Who,
    },
}

pub async fn run(config: &Config, command: KeysCommand) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    match command {
        KeysCommand::List { who } => {
            let staff = app.console_staff(&who.user).await?;
            for key in app.pass_key_list(&staff).await?.keys() {
                let made = Timestamp::from_unix_micros(key.created_s * 1_000_000);
                match key.retired_s {
                    None => println!("{} signs (made {made})", key.signer.public_key()),
                    Some(r) => println!(
                        "{} verifies only (made {made}, retired {})",
                        key.signer.public_key(),
                        Timestamp::from_unix_micros(r * 1_000_000)
                    ),
                }
            }
        }
        KeysCommand::Rotate { who } => {
            let staff = app.console_staff(&who.user).await?;
            let public = app.rotate_pass_keys(&staff).await?;
            println!("new signing key {public}; copy the key file to every node and restart them");
        }
        KeysCommand::Prune { who } => {
            let staff = app.console_staff(&who.user).await?;
            let pruned = app.prune_pass_keys(&staff, Timestamp::now()).await?;
            if pruned.is_empty() {
                println!(
                    "no retired key can go yet: passes it signed are for transports still to depart"
                );
            }
            for public in pruned {
                println!("forgot {public}");
            }
        }
    }
    Ok(())
}
