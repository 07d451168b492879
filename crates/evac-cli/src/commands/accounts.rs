//! `evac user …` and `evac token …`: run on the server by whoever holds its console.

use std::io::{BufRead, IsTerminal};

use anyhow::{Context, bail};
use clap::Subcommand;
use evac_model::Role;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a staff account. The password is asked for on the terminal, or read from
    /// standard input with --password-stdin.
    Add {
        /// Login name (letters, digits, '.', '_', '-', '@')
        name: String,
        /// operator, case_officer, planner, field_officer, supervisor or auditor
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account: its sessions and tokens stop working at once.
    Disable { name: String },
    /// Enable a disabled account again (it signs in anew; old tokens stay revoked).
    Enable { name: String },
    /// Set an account's password (asked for on the terminal, or --password-stdin); its
    /// sessions and tokens stop working at once.
    Password {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// An account's working tokens and desk sessions (never their secrets), newest first.
    List { name: String },
    /// Revoke one of an account's tokens or sessions by the id `token list` shows; it stops
    /// working at once.
    Revoke { name: String, id: String },
    /// Create an API token for a user and print it on standard output (shown only once).
    Create {
        /// The user the token acts as
        name: String,
        /// A note to recognise the token by (e.g. the laptop it is for)
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\n', '\r']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for a password; pass --password-stdin and pipe it in");
    }
    let first = rpassword::prompt_password("password: ")?;
    let second = rpassword::prompt_password("again: ")?;
    if first != second {
        bail!("the two passwords differ; nothing was created");
    }
    Ok(first)
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "'{role}' is not a role; use one of: {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                )
            })?;
            let password = read_password(password_stdin)?;
            let app = super::app(config, false).await?;
            app.add_user(None, &name, role, &password).await?;
            eprintln!("created {role} '{name}'");
            Ok(())
        }
        UserCommand::Disable { name } => {
            let app = super::app(config, false).await?;
            app.set_account_enabled(None, &name, false).await?;
            eprintln!("disabled '{name}': its sessions and tokens no longer work");
            Ok(())
        }
        UserCommand::Enable { name } => {
            let app = super::app(config, false).await?;
            app.set_account_enabled(None, &name, true).await?;
            eprintln!("enabled '{name}'");
            Ok(())
        }
        UserCommand::Password {
            name,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let app = super::app(config, false).await?;
            app.set_password(None, &name, &password).await?;
            eprintln!("set the password of '{name}': its sessions and tokens no longer work");
            Ok(())
        }
    }
}

pub async fn token(config: &Config, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { name, label } => {
            let app = super::app(config, false).await?;
            let token = app.create_token(None, &name, &label).await?;
            println!("{}", token.secret);
            Ok(())
        }
        TokenCommand::List { name } => {
            let app = super::app(config, false).await?;
            let tokens = app.tokens(None, &name).await?;
            if tokens.is_empty() {
                println!("{name} has no working token or session");
            }
            for t in tokens {
                println!(
                    "{}  {}  made {}{}",
                    t.id,
                    t.label,
                    t.created_at,
                    t.expires_at
                        .map(|e| format!(", ends {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name, id } => {
            let app = super::app(config, false).await?;
            app.revoke_token(None, &name, &id).await?;
            println!("revoked {id} of {name}: it no longer works");
            Ok(())
        }
    }
}
