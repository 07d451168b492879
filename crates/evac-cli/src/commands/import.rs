//! `evac import FILE`: a spreadsheet into the store, rejects into a file beside it.
//!
//! The work is `App::import_sheet` (shared with spreadsheets sent by e-mail); this adds the
//! progress bar and the rejects file.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use evac_app::{App, ImportSummary};
use evac_exchange::RowError;
use evac_exchange::mapping::ResolvedMapping;
use evac_model::Actor;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A .csv (comma or semicolon separated, UTF-8) or .xlsx file; one person a row
    pub file: PathBuf,
    /// A TOML file naming which column feeds which field (see `evac_exchange::mapping`);
    /// without it, common English and Russian headers are recognised
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Where to write the rejected rows [default: FILE.rejects.csv]
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

/// Imports `args.file` through `app`; the reusable core of the command and of its benchmark.
pub async fn import_file(
    app: &App,
    args: &ImportArgs,
) -> anyhow::Result<(ImportSummary, Vec<RowError>)> {
    let mapping_file = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the mapping {}", path.display()))?;
            Some(
                ResolvedMapping::parse_file(&text)
                    .with_context(|| format!("in {}", path.display()))?,
            )
        }
        None => None,
    };
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let bar = crate::progress::bar(size, "importing");
    let progress = |bytes: u64| bar.set_position(bytes.min(size));
    let done = app
        .import_sheet(&Actor::System, &args.file, mapping_file.as_ref(), &progress)
        .await;
    bar.finish_and_clear();
    Ok(done?)
}

pub fn write_rejects(path: &std::path::Path, rejects: &[RowError]) -> anyhow::Result<()> {
    let file =
        super::private_file(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    w.write_record(["row", "column", "reason"])?;
    for r in rejects {
        w.write_record([r.row.to_string().as_str(), &r.column, &r.reason])?;
    }
    w.flush()?;
    Ok(())
}

pub async fn run(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let app = super::app(config, false).await?;
    let (summary, rejects) = import_file(&app, &args).await?;
    let rejects_path = args.rejects.clone().unwrap_or_else(|| {
        let mut p = args.file.clone().into_os_string();
        p.push(".rejects.csv");
        PathBuf::from(p)
    });
    if !rejects.is_empty() {
        write_rejects(&rejects_path, &rejects)?;
    }
    println!(
        "{} rows read: {} requests imported, {} already imported before, {} rows rejected{}",
        summary.rows,
        summary.imported,
        summary.already_imported,
        summary.rejected_rows,
        if rejects.is_empty() {
            String::new()
        } else {
            format!(" (reasons in {})", rejects_path.display())
        }
    );
    Ok(())
}
