//! Backup and restore of the embedded database (issue 26, item 7).
//!
//! A backup is `VACUUM INTO` a new file on a connection of its own: one read transaction, so
//! the copy is the database as of one moment while the writer goes on committing (WAL), and
//! compact. (SQLite's page-by-page backup API restarts whenever another connection writes, so
//! under steady intake it might never finish.) The copy is created 0600 like the database.
//!
//! A restore checks the copy (an evac database, not newer than this evac, `integrity_check`
//! clean), moves the current database and its WAL aside under a dated name, and puts the copy
//! in its place; the next `migrate` brings an older copy up to date.

use std::path::{Path, PathBuf};

use evac_store::StoreError;
use rusqlite::{Connection, OpenFlags};

use crate::{APPLICATION_ID, MIGRATIONS, backend, open_reader};

/// What a checked copy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySummary {
    pub schema_version: i64,
    pub requests: i64,
    pub audit_events: i64,
}

/// Writes a consistent copy of the database at `db` to `to`, which must not exist yet.
pub fn backup(db: &Path, to: &Path) -> Result<CopySummary, StoreError> {
    if to.exists() {
        return Err(StoreError::Config(format!(
            "{} exists already; name a new file for the backup",
            to.display()
        )));
    }
    create_private(to)?;
    let source = open_reader(db)?;
    let copied = source.execute("VACUUM INTO ?1", [to.to_string_lossy().as_ref()]);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(to);
        return Err(backend(e));
    }
    check(to)
}

/// Checks that `copy` is a whole evac database this evac can open, and what it holds.
pub fn check(copy: &Path) -> Result<CopySummary, StoreError> {
    let not_a_copy = |why: String| {
        StoreError::Config(format!(
            "{} is not a usable evac backup: {why}",
            copy.display()
        ))
    };
    let c = Connection::open_with_flags(copy, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| not_a_copy(e.to_string()))?;
    let (version, app_id): (i64, i64) = c
        .query_row(
            "SELECT user_version, application_id FROM pragma_user_version, pragma_application_id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| not_a_copy(e.to_string()))?;
    if app_id != APPLICATION_ID || version == 0 {
        return Err(not_a_copy("it is not an evac database".into()));
    }
    if version > MIGRATIONS.len() as i64 {
        return Err(not_a_copy(format!(
            "schema version {version} is newer than this evac ({}); restore it with the evac that made it",
            MIGRATIONS.len()
        )));
    }
    let integrity: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| not_a_copy(e.to_string()))?;
    if integrity != "ok" {
        return Err(not_a_copy(format!("integrity_check says: {integrity}")));
    }
    let count = |table: &str| -> Result<i64, StoreError> {
        c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| not_a_copy(e.to_string()))
    };
    Ok(CopySummary {
        schema_version: version,
        requests: count("requests")?,
        audit_events: count("audit_events")?,
    })
}

/// Puts the checked `copy` in place of the database at `db` (stop the server first). The
/// database it replaces, with its WAL, is kept beside it under a dated name, returned.
pub fn restore(
    copy: &Path,
    db: &Path,
    stamp: &str,
) -> Result<(CopySummary, Option<PathBuf>), StoreError> {
    let summary = check(copy)?;
    let io = |what: &str, e: std::io::Error| StoreError::Config(format!("{what}: {e}"));
    let incoming = db.with_extension("db.restoring");
    let _ = std::fs::remove_file(&incoming);
    create_private(&incoming)?;
    std::fs::copy(copy, &incoming).map_err(|e| io("copying the backup", e))?;
    std::fs::File::open(&incoming)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("syncing the copy", e))?;
    let kept = if db.exists() {
        let aside = db.with_extension(format!("db.before-restore-{stamp}"));
        for suffix in ["-wal", "-shm"] {
            let companion = PathBuf::from(format!("{}{suffix}", db.display()));
            if companion.exists() {
                let moved = PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&companion, moved)
                    .map_err(|e| io("moving the old WAL aside", e))?;
            }
        }
        std::fs::rename(db, &aside).map_err(|e| io("moving the old database aside", e))?;
        Some(aside)
    } else {
        None
    };
    std::fs::rename(&incoming, db).map_err(|e| io("putting the backup in place", e))?;
    Ok((summary, kept))
}

/// An empty file only its owner may read.
fn create_private(path: &Path) -> Result<(), StoreError> {
    evac_store::private_file(path, false)
        .map(drop)
        .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", path.display())))
}
