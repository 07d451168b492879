//! Choosing the backend from the database URL. SQLite is always built in; PostgreSQL is chosen
//! by a `postgres://` URL. Anything else is an error, never a guess.

use std::path::PathBuf;
use std::sync::Arc;

use evac_store::{Store, StoreError};
use evac_store_postgres::PgStore;
use evac_store_sqlite::{OpenMode, SqliteStore};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseUrl {
    /// `sqlite:///abs/path.db`, `sqlite://relative/path.db`, `sqlite:path.db`, `postgres://…`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() {
                return Err(StoreError::Config(
                    "the sqlite URL has no file path; write sqlite:///path/to/evac.db".into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or(url);
        Err(StoreError::Config(format!(
            "unsupported database URL scheme '{scheme}'; use sqlite:///path/to/evac.db or postgres://user@host/db"
        )))
    }

    /// The URL without a password, for logs and start-up messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme_end), Some(at)) if at > scheme_end => {
                    let credentials = &url[scheme_end + 3..at];
                    let user = credentials.split(':').next().unwrap_or("");
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                _ => url.clone(),
            },
        }
    }
}

/// Opens the store behind `url`. With `create`, a missing SQLite file is created (for
/// `evac migrate` and `evac demo`); otherwise it is an error.
pub async fn open_store(url: &DatabaseUrl, create: bool) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match url {
        DatabaseUrl::Sqlite(path) => {
            let mode = if create {
                OpenMode::CreateIfMissing
            } else {
                OpenMode::MustExist
            };
            Arc::new(SqliteStore::open(path, mode)?)
        }
        DatabaseUrl::Postgres(url) => Arc::new(PgStore::connect(url).await?),
    })
}

/// Gives an existing PostgreSQL role what a running evac needs and no more: the audit trail
/// append-only by privilege, not only by trigger ([`PgStore::grant_app_role`]). SQLite has no
/// roles: its file's 0600 mode is the access control.
pub async fn grant_app_role(url: &DatabaseUrl, role: &str) -> Result<(), StoreError> {
    match url {
        DatabaseUrl::Sqlite(_) => Err(StoreError::Config(
            "the embedded database has no roles: only its owner may read or write the file (0600); grant-app-role is for PostgreSQL".into(),
        )),
        DatabaseUrl::Postgres(url) => {
            let store = PgStore::connect(url).await?;
            store.grant_app_role(role).await
        }
    }
}

/// For marking an exercise copy on PostgreSQL: the database `url` is connected to, by the
/// server's word, and whether the live database `live` exists beside it.
pub async fn postgres_database_and(url: &str, live: &str) -> Result<(String, bool), StoreError> {
    PgStore::connect(url).await?.database_and(live).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend_or_say_why_not() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/evac/evac.db").unwrap(),
            DatabaseUrl::Sqlite("/var/evac/evac.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:evac.db").unwrap(),
            DatabaseUrl::Sqlite("evac.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        let err = DatabaseUrl::parse("mysql://h/db").unwrap_err().to_string();
        assert!(
            err.contains("unsupported database URL scheme 'mysql'"),
            "{err}"
        );
        assert!(
            DatabaseUrl::parse("/var/evac.db").is_err(),
            "a bare path is not a URL"
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://evac:secret@db:5432/evac")
                .unwrap()
                .redacted(),
            "postgres://evac:***@db:5432/evac"
        );
    }
}
