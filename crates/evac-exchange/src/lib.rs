//! Getting requests in from spreadsheets and out to files, without holding a file in memory.
//!
//! Import reads CSV (streamed) or XLSX, maps columns to request fields (common English and
//! Russian headers work without a mapping file), groups consecutive rows that share a household
//! key into one request, and reports every problem with its row number and column. Export writes
//! one row per person in CSV, JSONL or XLSX, optionally with an HXL hashtag row.
//!
//! No I/O beyond the reader and writer it is handed; the store and the clock are the caller's.

pub mod dates;
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

/// A cell as a spreadsheet program may open it safely: text that a spreadsheet would run as a
/// formula (`=HYPERLINK(…)`, `+cmd|…`, `@SUM(…)`, a leading tab) gets a leading apostrophe, which
/// spreadsheets show as text. A number or phone written with its sign (`+7 701 123 45 67`,
/// `-3`) stays as it is.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let mut chars = cell.chars();
    let risky = match chars.next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some('+' | '-') => {
            !chars
                .clone()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '.' | '-'))
                || chars.next().is_none()
        }
        _ => false,
    };
    if risky {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod safe_cell_tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_become_text_and_numbers_stay() {
        for (cell, shown) in [
            (
                "=HYPERLINK(\"http://x\",\"Click\")",
                "'=HYPERLINK(\"http://x\",\"Click\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("+", "'+"),
            ("+7 701 123 45 67", "+7 701 123 45 67"),
            ("+77011234567", "+77011234567"),
            ("-3", "-3"),
            ("Иванова", "Иванова"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), shown, "{cell}");
        }
    }
}
