//! Spreadsheets into requests: the core of `evac import` and of a spreadsheet sent by e-mail.
//!
//! Rows stream in; up to [`IMPORTS_IN_FLIGHT_MAX`] requests are submitted concurrently so the
//! store can commit them in groups. Each request's idempotency key is a digest of its rows, so
//! importing the same file twice (or the same attachment in two e-mails) adds nothing.

use std::path::Path;
use std::sync::Arc;

use evac_exchange::RowError;
use evac_exchange::import::{GroupDraft, Grouper, open_sheet};
use evac_exchange::mapping::{MappingFile, ResolvedMapping};
use evac_model::{Actor, Timestamp};
use evac_store::IdempotencyClaim;
use tokio::task::JoinSet;

use crate::{App, AppError};

/// Requests submitted and not yet acknowledged: bounds memory and lets group commit work.
pub const IMPORTS_IN_FLIGHT_MAX: usize = 2_048;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
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
    actor: Actor,
    mapping: Arc<ResolvedMapping>,
    group: GroupDraft,
    digest: [u8; 32],
) -> Result<Outcome, AppError> {
    let key = format!("import:{}", hex::encode(digest));
    let claim = IdempotencyClaim {
        key,
        body_sha256: digest,
    };
    let received_at = group.received_at.unwrap_or_else(Timestamp::now);
    match app
        .submit_request_at(&actor, &group.draft, Some(claim), received_at)
        .await
    {
        Ok(s) if s.replayed => Ok(Outcome::AlreadyImported),
        Ok(_) => Ok(Outcome::Imported),
        Err(AppError::Invalid(errors)) => Ok(Outcome::Rejected(
            errors.iter().map(|e| group.locate(e, &mapping)).collect(),
        )),
        Err(e) => Err(e),
    }
}

impl App {
    /// Imports the spreadsheet at `path` (by its extension: .csv, .xlsx) as `actor`, with the
    /// column mapping given or else the recognised headers; `progress` hears the bytes read so
    /// far. Every rejected row is returned with its reason, sorted by row.
    pub async fn import_sheet(
        &self,
        actor: &Actor,
        path: &Path,
        mapping: Option<&MappingFile>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<(ImportSummary, Vec<RowError>), AppError> {
        let (headers, rows) = open_sheet(path).map_err(|e| AppError::BadInput(e.to_string()))?;
        let mapping = Arc::new(
            ResolvedMapping::resolve(&headers, mapping)
                .map_err(|e| AppError::BadInput(e.to_string()))?,
        );
        let mut summary = ImportSummary::default();
        let mut rejects: Vec<RowError> = Vec::new();
        let mut in_flight: JoinSet<(usize, Result<Outcome, AppError>)> = JoinSet::new();
        let settle = |result: (usize, Result<Outcome, AppError>),
                      summary: &mut ImportSummary,
                      rejects: &mut Vec<RowError>|
         -> Result<(), AppError> {
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
        let joined = |r: Result<_, tokio::task::JoinError>| {
            r.map_err(|e| AppError::BadInput(format!("an import task failed: {e}")))
        };
        // Reading is synchronous and cheap next to validation and storage: it stays here.
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
            progress(bytes_seen);
            let row_count = group.rows.len();
            match group.to_draft(&mapping) {
                Err(errors) => {
                    summary.rejected_rows += row_count as u64;
                    rejects.extend(errors);
                }
                Ok(draft) => {
                    let digest = group.content_sha256();
                    let (app, actor, mapping) = (self.clone(), actor.clone(), mapping.clone());
                    in_flight.spawn(async move {
                        (row_count, submit(app, actor, mapping, draft, digest).await)
                    });
                    while in_flight.len() >= IMPORTS_IN_FLIGHT_MAX {
                        let done = joined(in_flight.join_next().await.expect("non-empty"))?;
                        settle(done, &mut summary, &mut rejects)?;
                    }
                }
            }
        }
        while let Some(done) = in_flight.join_next().await {
            settle(joined(done)?, &mut summary, &mut rejects)?;
        }
        rejects.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        Ok((summary, rejects))
    }
}
