//! `evac import FILE`: a spreadsheet into the store, rejects into a file beside it.
//!
//! Rows stream in; up to [`IMPORTS_IN_FLIGHT_MAX`] requests are submitted concurrently so the
//! store can commit them in groups. Each request's idempotency key is a digest of its rows, so
//! importing the same file twice adds nothing.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use evac_app::{App, AppError};
use evac_exchange::RowError;
use evac_exchange::import::{GroupDraft, Grouper, open_sheet};
use evac_exchange::mapping::ResolvedMapping;
use evac_model::{Actor, Timestamp};
use evac_store::IdempotencyClaim;
use tokio::task::JoinSet;

use crate::config::Config;

/// Requests submitted and not yet acknowledged: bounds memory and lets group commit work.
pub const IMPORTS_IN_FLIGHT_MAX: usize = 2_048;

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

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub rows: u64,
    pub imported: u64,
    pub already_imported: u64,
    pub rejected_rows: u64,
}

enum Outcome {
    Imported,
    AlreadyImported,
    Rejected(Vec<RowError>),
}

async fn submit(
    app: App,
    mapping: Arc<ResolvedMapping>,
    group: GroupDraft,
    digest: [u8; 32],
) -> anyhow::Result<Outcome> {
    let key = format!("import:{}", hex::encode(digest));
    let claim = IdempotencyClaim {
        key,
        body_sha256: digest,
    };
    let received_at = group.received_at.unwrap_or_else(Timestamp::now);
    match app
        .submit_request_at(&Actor::System, &group.draft, Some(claim), received_at)
        .await
    {
        Ok(s) if s.replayed => Ok(Outcome::AlreadyImported),
        Ok(_) => Ok(Outcome::Imported),
        Err(AppError::Invalid(errors)) => Ok(Outcome::Rejected(
            errors.iter().map(|e| group.locate(e, &mapping)).collect(),
        )),
        Err(e) => Err(e.into()),
    }
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
    let file = args.file.clone();
    let (headers, rows) = open_sheet(&file)?;
    let mapping = Arc::new(ResolvedMapping::resolve(&headers, mapping_file.as_ref())?);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let bar = crate::progress::bar(size, "importing");

    let mut summary = ImportSummary::default();
    let mut rejects: Vec<RowError> = Vec::new();
    let mut in_flight: JoinSet<(usize, anyhow::Result<Outcome>)> = JoinSet::new();
    let settle = |result: (usize, anyhow::Result<Outcome>),
                  summary: &mut ImportSummary,
                  rejects: &mut Vec<RowError>|
     -> anyhow::Result<()> {
        let (rows, outcome) = result;
        match outcome? {
            Outcome::Imported => summary.imported += 1,
            Outcome::AlreadyImported => summary.already_imported += 1,
            Outcome::Rejected(errors) => {
                summary.rejected_rows += rows as u64;
                rejects.extend(errors);
            }
        }
        Ok(())
    };
    // Reading is synchronous and cheap next to validation and storage, so it stays on this task.
    let mut bytes_seen = 0u64;
    for group in Grouper::new(rows, &mapping) {
        let group = match group {
            Ok(g) => g,
            Err(e) => {
                summary.rows += 1;
                summary.rejected_rows += 1;
                rejects.push(e);
                continue;
            }
        };
        summary.rows += group.rows.len() as u64;
        bytes_seen += group
            .rows
            .iter()
            .map(|(_, cells)| cells.iter().map(|c| c.len() as u64 + 1).sum::<u64>())
            .sum::<u64>();
        bar.set_position(bytes_seen.min(size));
        let row_count = group.rows.len();
        match group.to_draft(&mapping) {
            Err(errors) => {
                summary.rejected_rows += row_count as u64;
                rejects.extend(errors);
            }
            Ok(draft) => {
                let digest = group.content_sha256();
                let (app, mapping) = (app.clone(), mapping.clone());
                in_flight
                    .spawn(async move { (row_count, submit(app, mapping, draft, digest).await) });
                while in_flight.len() >= IMPORTS_IN_FLIGHT_MAX {
                    let done = in_flight
                        .join_next()
                        .await
                        .expect("non-empty")
                        .context("an import task failed")?;
                    settle(done, &mut summary, &mut rejects)?;
                }
            }
        }
    }
    while let Some(done) = in_flight.join_next().await {
        settle(
            done.context("an import task failed")?,
            &mut summary,
            &mut rejects,
        )?;
    }
    bar.finish_and_clear();
    rejects.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    Ok((summary, rejects))
}

pub fn write_rejects(path: &std::path::Path, rejects: &[RowError]) -> anyhow::Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
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
