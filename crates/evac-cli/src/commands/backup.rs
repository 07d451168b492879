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
    #[arg(
        long,
        required_unless_present = "mark_copy_of",
        conflicts_with = "mark_copy_of"
    )]
    pub to: Option<PathBuf>,
    /// PostgreSQL: mark the database --database-url names as an exercise copy of the live
    /// database NAME (make the copy first: `createdb -T NAME NAME_drill`)
    #[arg(long, value_name = "NAME")]
    pub mark_copy_of: Option<String>,
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
    let to = match (&config.database, args.to, args.mark_copy_of) {
        (DatabaseUrl::Postgres(url), None, Some(live)) => {
            return mark_postgres_copy(config, url, &live).await;
        }
        (DatabaseUrl::Postgres(_), _, _) => bail!(
            "the database is PostgreSQL: copy it with `createdb -T LIVE LIVE_drill`, then mark \
             the copy with `evac --database-url postgres://…/LIVE_drill exercise --mark-copy-of LIVE`"
        ),
        (DatabaseUrl::Sqlite(_), Some(to), None) => to,
        (DatabaseUrl::Sqlite(_), _, _) => bail!(
            "the embedded database is copied by evac: give --to DIR (--mark-copy-of is for PostgreSQL)"
        ),
    };
    let db = sqlite_path(config)?;
    if to.exists() {
        bail!(
            "{} exists already; name a new directory for the exercise copy",
            to.display()
        );
    }
    std::fs::create_dir_all(&to).with_context(|| format!("creating {}", to.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o700))?;
    }
    let copy_path = to.join("evac.db");
    let (from, copy_to) = (db.clone(), copy_path.clone());
    let copy =
        tokio::task::spawn_blocking(move || evac_store_sqlite::backup::backup(&from, &copy_to))
            .await?
            .context("copying the database")?;
    let store = evac_app::open_store(&DatabaseUrl::Sqlite(copy_path), false).await?;
    store.migrate().await?;
    store
        .mark_exercise(&db.display().to_string(), Timestamp::now())
        .await?;
    let live = super::app(config, false).await?;
    record(&live, "database.exercise_copy", &to, &copy).await?;
    println!(
        "exercise copy of {} requests in {}: run drills and replays there with `evac --data-dir {} …`; \
         its passes are signed with a key of its own and open no real gate",
        copy.requests,
        to.display(),
        to.display()
    );
    Ok(())
}

/// Marks a PostgreSQL copy (made with `createdb -T`) as an exercise of `live`; refuses the
/// live database itself, by name.
async fn mark_postgres_copy(config: &Config, url: &str, live: &str) -> anyhow::Result<()> {
    // The server's word for which database this is, never the URL's spelling of it.
    let (name, live_exists) = evac_app::postgres_database_and(url, live).await?;
    if name == live {
        bail!(
            "--database-url names the live database '{live}' itself: mark its copy (createdb -T {live} {live}_drill), never the live record"
        );
    }
    if !live_exists {
        bail!(
            "--mark-copy-of '{live}': there is no database of that name on this server; give the live database the copy was made from"
        );
    }
    let name = name.as_str();
    let store = super::open(config, false).await?;
    store.migrate().await?;
    if let Some((from, _)) = store.exercise().await? {
        println!("{name} is already an exercise copy of {from}");
        return Ok(());
    }
    store.mark_exercise(live, Timestamp::now()).await?;
    store
        .append_audit(vec![AuditEvent {
            at: Timestamp::now(),
            actor: Actor::System,
            action: "database.exercise_mark".into(),
            subject: Some(name.to_string()),
            detail: serde_json::json!({ "copy_of": live }),
        }])
        .await?;
    println!(
        "{name} is now an exercise copy of {live}: drills and replays may publish as of another time there; \
         its passes are signed with a key of its own (give it its own --data-dir or pass_key_file)"
    );
    Ok(())
}
