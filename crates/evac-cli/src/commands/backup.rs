//! `evac backup` and `evac restore`: copies of the embedded database, taken while the server
//! runs and put back while it is stopped. PostgreSQL has its own tools (docs/SECURITY.md,
//! "Backups"). `evac exercise` makes a copy for drills and replays, marked as one.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use evac_app::DatabaseUrl;
use evac_model::{Actor, Timestamp};
use evac_store::AuditEvent;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write the copy to (it must not exist)
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExerciseArgs {
    /// A new directory for the exercise copy (run drills with `evac --data-dir DIR …`)
    #[arg(long)]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct GrantArgs {
    /// An existing PostgreSQL role (CREATE ROLE evac_app LOGIN PASSWORD '…')
    pub role: String,
}

/// `evac grant-app-role ROLE`, run as the database's owner after `evac migrate`.
pub async fn grant_app_role(config: &Config, args: GrantArgs) -> anyhow::Result<()> {
    evac_app::grant_app_role(&config.database, &args.role).await?;
    println!(
        "{} may now run evac on this database: it reads and writes the crisis, appends to the audit trail and can never update, delete or truncate it; run this again after each upgrade's `evac migrate`",
        args.role
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A copy written by `evac backup`
    pub from: PathBuf,
}

const POSTGRES_HINT: &str = "the database is PostgreSQL: back it up with pg_dump (or continuous \
     archiving for point-in-time recovery) and restore with pg_restore, as docs/SECURITY.md \
     describes under 'Backups'";

fn sqlite_path(config: &Config) -> anyhow::Result<PathBuf> {
    match &config.database {
        DatabaseUrl::Sqlite(path) => Ok(path.clone()),
        _ => bail!("{POSTGRES_HINT}"),
    }
}

/// A backup or restore joins the audit trail, with the file and what it held.
async fn record(
    app: &evac_app::App,
    action: &str,
    file: &std::path::Path,
    copy: &evac_store_sqlite::backup::CopySummary,
) -> anyhow::Result<()> {
    app.store()
        .append_audit(vec![AuditEvent {
            at: Timestamp::now(),
            actor: Actor::System,
            action: action.into(),
            subject: Some(file.display().to_string()),
            detail: serde_json::json!({ "requests": copy.requests }),
        }])
        .await?;
    Ok(())
}

pub async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    let db = sqlite_path(config)?;
    let app = super::app(config, false).await?;
    let to = args.to.clone();
    let copy = tokio::task::spawn_blocking(move || evac_store_sqlite::backup::backup(&db, &to))
        .await?
        .with_context(|| format!("backing up to {}", args.to.display()))?;
    record(&app, "database.backup", &args.to, &copy).await?;
    println!(
        "backed up {} requests and {} audit events to {} (readable by you only)",
        copy.requests,
        copy.audit_events,
        args.to.display()
    );
    Ok(())
}

pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let db = sqlite_path(config)?;
    config.create_data_dir()?;
    let stamp = Timestamp::now()
        .to_string()
        .replace([':', '-'], "")
        .replace('.', "");
    let from = args.from.clone();
    let (copy, kept) =
        tokio::task::spawn_blocking(move || evac_store_sqlite::backup::restore(&from, &db, &stamp))
            .await?
            .with_context(|| format!("restoring {}", args.from.display()))?;
    let app = super::app(config, false).await?;
    record(&app, "database.restore", &args.from, &copy).await?;
    println!(
        "restored {} requests and {} audit events from {}",
        copy.requests,
        copy.audit_events,
        args.from.display()
    );
    if let Some(kept) = kept {
        println!("the database it replaced is kept as {}", kept.display());
    }
    Ok(())
}

pub async fn exercise(config: &Config, args: ExerciseArgs) -> anyhow::Result<()> {
    let db = sqlite_path(config).map_err(|_| {
        anyhow::anyhow!(
            "the database is PostgreSQL: copy it with `createdb -T <live> <drill>` and drill \
             against the copy with --database-url; marking a PostgreSQL copy as an exercise \
             (which `plan --publish --at` asks for) is not built yet"
        )
    })?;
    if args.to.exists() {
        bail!(
            "{} exists already; name a new directory for the exercise copy",
            args.to.display()
        );
    }
    std::fs::create_dir_all(&args.to).with_context(|| format!("creating {}", args.to.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&args.to, std::fs::Permissions::from_mode(0o700))?;
    }
    let copy_path = args.to.join("evac.db");
    let (from, to) = (db.clone(), copy_path.clone());
    let copy = tokio::task::spawn_blocking(move || evac_store_sqlite::backup::backup(&from, &to))
        .await?
        .context("copying the database")?;
    let store = evac_app::open_store(&DatabaseUrl::Sqlite(copy_path), false).await?;
    store.migrate().await?;
    store
        .mark_exercise(&db.display().to_string(), Timestamp::now())
        .await?;
    let live = super::app(config, false).await?;
    record(&live, "database.exercise_copy", &args.to, &copy).await?;
    println!(
        "exercise copy of {} requests in {}: run drills and replays there with `evac --data-dir {} …`; \
         its passes are signed with a key of its own and open no real gate",
        copy.requests,
        args.to.display(),
        args.to.display()
    );
    Ok(())
}
