//! One module per subcommand.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod calls;
pub mod demo;
pub mod export;
pub mod generate;
pub mod import;
pub mod keys;
pub mod link;
pub mod messages;
pub mod person;
pub mod place;
pub mod planning;
pub mod review;
pub mod serve;
pub mod situation;
pub mod triage;

use std::sync::Arc;

use anyhow::Context;
use evac_app::{App, open_store};
use evac_store::Store;

use crate::config::Config;

/// A new file only its owner may read (0600 on Unix): exports, manifests, refused rows and
/// the demo's ground truth hold personal data. An older file is replaced and narrowed.
pub fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    evac_store::private_file(path, true)
}

/// Opens the configured store; `create` allows a new SQLite file (migrate, demo).
pub async fn open(config: &Config, create: bool) -> anyhow::Result<Arc<dyn Store>> {
    if create {
        config.create_data_dir()?;
    } else {
        config.require_data_dir()?;
    }
    let store = open_store(&config.database, create)
        .await
        .with_context(|| format!("opening {}", config.database.redacted()))?;
    Ok(store)
}

/// An app error with the use case's field names replaced by the command's flags
/// (`source` → `--source`), so a refusal names what to type.
pub fn with_flags(error: evac_app::AppError, flags: &[(&str, &str)]) -> anyhow::Error {
    match error {
        evac_app::AppError::Invalid(mut errors) => {
            for e in &mut errors {
                if let Some((_, flag)) = flags.iter().find(|(path, _)| *path == e.path) {
                    e.path = flag.to_string();
                }
            }
            anyhow::anyhow!(evac_app::AppError::Invalid(errors))
        }
        other => anyhow::anyhow!(other),
    }
}

/// Opens and migrates the store and builds the app.
pub async fn app(config: &Config, create: bool) -> anyhow::Result<App> {
    let store = open(config, create).await?;
    store.migrate().await.context("applying migrations")?;
    Ok(App::new(store, config.settings.clone()))
}
