//! Configuration: flags first, then `EVAC_*` environment variables (both parsed by clap), then
//! an optional TOML file, then defaults. Arguments are parsed first and then resolved into a
//! [`Config`] that the commands use; nothing reads the environment after this point.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use evac_app::DatabaseUrl;

pub const DEFAULT_DATA_DIR: &str = "evac-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Options every command shares.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// A TOML file with defaults for these options (keys: data_dir, database_url, listen,
    /// default_region, log). Flags and EVAC_* variables override it.
    #[arg(long, env = "EVAC_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for the embedded database and demo files [default: evac-data]
    #[arg(long, env = "EVAC_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite:///path/evac.db or postgres://user@host/db [default: sqlite in the data directory]
    #[arg(long, env = "EVAC_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Country (ISO 3166 alpha-2) for phone numbers written without a country code [default: KZ]
    #[arg(long, env = "EVAC_DEFAULT_REGION", global = true)]
    pub default_region: Option<String>,
    /// Log filter, e.g. info, debug, evac_web=debug [default: info]
    #[arg(long, env = "EVAC_LOG", global = true)]
    pub log: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    listen: Option<String>,
    default_region: Option<String>,
    log: Option<String>,
}

/// Everything resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database: DatabaseUrl,
    /// Whether the database URL was chosen explicitly (not derived from the data directory).
    pub database_explicit: bool,
    pub listen: String,
    pub settings: evac_app::Settings,
    pub log: String,
}

impl GlobalArgs {
    pub fn resolve(&self, listen_flag: Option<&str>) -> anyhow::Result<Config> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the config file {}", path.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("the config file {} is not valid", path.display()))?
            }
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let explicit_url = self.database_url.clone().or(file.database_url);
        let database = match &explicit_url {
            Some(url) => DatabaseUrl::parse(url)?,
            None => DatabaseUrl::Sqlite(data_dir.join("evac.db")),
        };
        let region_text = self
            .default_region
            .clone()
            .or(file.default_region)
            .unwrap_or_else(|| "KZ".into());
        let default_region = match region_text.as_str() {
            "" | "none" => None,
            code => Some(
                code.parse()
                    .map_err(|e| anyhow::anyhow!("--default-region: {e}"))?,
            ),
        };
        let listen = listen_flag
            .map(str::to_string)
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.into());
        Ok(Config {
            data_dir,
            database,
            database_explicit: explicit_url.is_some(),
            listen,
            settings: evac_app::Settings { default_region },
            log: self
                .log
                .clone()
                .or(file.log)
                .unwrap_or_else(|| "info".into()),
        })
    }
}

impl Config {
    /// The data directory must exist unless the command may create it: a mistyped path must
    /// not quietly become a new, empty crisis.
    pub fn require_data_dir(&self) -> anyhow::Result<()> {
        if !self.database_explicit && !self.data_dir.is_dir() {
            bail!(
                "the data directory {} does not exist; check --data-dir, or create it with `evac migrate` (or `evac demo`)",
                self.data_dir.display()
            );
        }
        Ok(())
    }

    pub fn create_data_dir(&self) -> anyhow::Result<()> {
        if !self.database_explicit {
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        }
        Ok(())
    }
}
