//! Getting requests in from spreadsheets and out to files, without holding a file in memory.
//!
//! Import reads CSV (streamed) or XLSX, maps columns to request fields (common English and
//! Russian headers work without a mapping file), groups consecutive rows that share a household
//! key into one request, and reports every problem with its row number and column. Export writes
//! one row per person in CSV, JSONL or XLSX, optionally with an HXL hashtag row.
//!
//! No I/O beyond the reader and writer it is handed; the store and the clock are the caller's.

pub mod export;
pub mod import;
pub mod link_file;
pub mod manifest;
pub mod mapping;
pub mod reports;

/// A problem with one cell of an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file, counting the header as line 1 (as a spreadsheet shows it).
    pub row: u64,
    /// The column header, or empty when the problem is not tied to one column.
    pub column: String,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the mapping is not usable: {0}")]
    Mapping(String),
    #[error("cannot write the export: {0}")]
    Write(String),
}
