//! Writing requests out: one row per person, the request's columns repeated, so a spreadsheet
//! filter on any column works. CSV carries a UTF-8 byte-order mark so Excel shows Cyrillic
//! correctly; `--hxl` adds the Humanitarian Exchange Language hashtag row under the headers.

use std::io::{BufWriter, Write};

use evac_model::{Birth, PersonId, PersonStatus, Request};

use crate::ExchangeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Jsonl => "application/x-ndjson",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Xlsx => "xlsx",
        }
    }
}

/// What a column holds: JSON Lines write a number as a number (`null` when empty) and a
/// spreadsheet gets a cell it can sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Number,
}

/// An export's column: its header, its HXL hashtag, and what it holds.
pub type Column = (&'static str, &'static str, ColumnKind);

use ColumnKind::{Number, Text};

/// The columns, with their HXL hashtags.
pub const COLUMNS: [Column; 29] = [
    ("request_id", "#meta+id+request", Text),
    ("reference", "#meta+ref", Text),
    ("received_at", "#date+received", Text),
    ("channel", "#meta+channel", Text),
    ("location", "#loc+name", Text),
    ("country", "#country+code", Text),
    ("lat", "#geo+lat", Number),
    ("lon", "#geo+lon", Number),
    ("submitter_phone", "#contact+phone+submitter", Text),
    ("person_id", "#meta+id+person", Text),
    ("surname", "#affected+name+family", Text),
    ("given_names", "#affected+name+given", Text),
    ("patronymic", "#affected+name+patronymic", Text),
    ("name_latin", "#affected+name+latin", Text),
    ("birth_date", "#affected+birth", Text),
    ("age", "#affected+age", Number),
    ("minor", "#affected+minor", Text),
    ("unaccompanied_minor", "#affected+minor+unaccompanied", Text),
    ("sex", "#affected+sex", Text),
    ("citizenship", "#affected+nationality", Text),
    ("document_type", "#affected+doc+type", Text),
    ("document_number", "#affected+doc+num", Text),
    ("phone", "#contact+phone", Text),
    ("email", "#contact+email", Text),
    ("needs", "#affected+needs", Text),
    ("relation", "#affected+relation", Text),
    ("status", "#status", Text),
    ("situation", "#description", Text),
    ("destination_country", "#country+code+destination", Text),
];

/// The cells of one person's row, in [`COLUMNS`] order. Ages are as of the day the request
/// was received (`Request::ages_as_of`).
pub fn person_rows(request: &Request, statuses: &[(PersonId, PersonStatus)]) -> Vec<[String; 29]> {
    let b = &request.body;
    let today = request.ages_as_of();
    let unaccompanied = b.unaccompanied_minors(today);
    let opt = |o: Option<String>| o.unwrap_or_default();
    b.party
        .iter()
        .map(|p| {
            let status = statuses
                .iter()
                .find(|(id, _)| *id == p.id)
                .map(|(_, s)| s.as_str())
                .unwrap_or("");
            let latin = [&p.given_names, &p.patronymic, &p.surname]
                .iter()
                .filter_map(|n| n.as_ref().map(|n| n.latin.as_str()))
                .collect::<Vec<_>>()
                .join(" ");
            [
                request.id.to_string(),
                request.reference.to_string(),
                request.received_at.to_string(),
                b.channel.as_str().to_string(),
                b.location.text.clone(),
                opt(b.location.country.map(|c| c.to_string())),
                opt(b.location.coordinates.map(|c| c.lat.to_string())),
                opt(b.location.coordinates.map(|c| c.lon.to_string())),
                b.submitter
                    .phones
                    .iter()
                    .map(|p| p.e164.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                p.id.to_string(),
                opt(p.surname.as_ref().map(|n| n.as_written.clone())),
                opt(p.given_names.as_ref().map(|n| n.as_written.clone())),
                opt(p.patronymic.as_ref().map(|n| n.as_written.clone())),
                latin,
                match p.birth {
                    Some(Birth::Date(d)) => d.to_string(),
                    _ => String::new(),
                },
                opt(p.age_years(today).map(|a| a.to_string())),
                p.is_minor(today).to_string(),
                unaccompanied.contains(&p.id).to_string(),
                opt(p.sex.map(|s| s.as_str().to_string())),
                opt(p.citizenship.map(|c| c.to_string())),
                opt(p.document.as_ref().map(|d| d.kind.as_str().to_string())),
                opt(p.document.as_ref().map(|d| d.number.clone())),
                p.phones
                    .iter()
                    .map(|p| p.e164.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                opt(p.email.as_ref().map(|e| e.as_str().to_string())),
                p.needs
                    .iter()
                    .map(|n| n.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                p.relation.as_str().to_string(),
                status.to_string(),
                b.situation.clone(),
                opt(b.destination_country.map(|c| c.to_string())),
            ]
        })
        .collect()
}

/// A number column's value as JSON: an integer when it is one, else a finite decimal.
fn number_of(value: &str) -> Option<serde_json::Number> {
    let value = value.trim();
    if let Ok(n) = value.parse::<i64>() {
        return Some(n.into());
    }
    value
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
}

/// Rows written so far bound the XLSX format: a sheet holds 1,048,576 rows.
const XLSX_ROWS_MAX: u32 = 1_048_576;

pub enum Exporter<W: Write> {
    Csv(csv::Writer<W>),
    /// One JSON object per row, keyed by the column names.
    Jsonl {
        out: BufWriter<W>,
        columns: Vec<(&'static str, ColumnKind)>,
    },
    Xlsx {
        workbook: Box<rust_xlsxwriter::Workbook>,
        next_row: u32,
        kinds: Vec<ColumnKind>,
        out: W,
    },
}

fn write_err(e: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::Write(e.to_string())
}

impl<W: Write> Exporter<W> {
    /// Starts an export of requests, a row per person, and writes its header (and with `hxl`,
    /// the hashtag row).
    pub fn new(format: Format, out: W, hxl: bool) -> Result<Self, ExchangeError> {
        Self::table(format, out, "requests", &COLUMNS, hxl)
    }

    /// Starts an export of any table: its sheet's name, its columns as (header, HXL tag), and
    /// with `hxl`, the hashtag row under the header.
    pub fn table(
        format: Format,
        mut out: W,
        sheet_name: &str,
        columns: &[Column],
        hxl: bool,
    ) -> Result<Self, ExchangeError> {
        let headers: Vec<&str> = columns.iter().map(|(h, _, _)| *h).collect();
        let tags: Vec<&str> = columns.iter().map(|(_, t, _)| *t).collect();
        Ok(match format {
            Format::Csv => {
                out.write_all("\u{feff}".as_bytes()).map_err(write_err)?; // Excel needs the BOM for UTF-8
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&headers).map_err(write_err)?;
                if hxl {
                    w.write_record(&tags).map_err(write_err)?;
                }
                Exporter::Csv(w)
            }
            Format::Jsonl => Exporter::Jsonl {
                out: BufWriter::with_capacity(1 << 16, out),
                columns: columns.iter().map(|(h, _, kind)| (*h, *kind)).collect(),
            },
            Format::Xlsx => {
                let mut workbook = Box::new(rust_xlsxwriter::Workbook::new());
                let sheet = workbook
                    .add_worksheet_with_constant_memory()
                    .map_err(write_err)?;
                sheet.set_name(sheet_name).map_err(write_err)?;
                sheet.write_row(0, 0, headers).map_err(write_err)?;
                let mut next_row = 1;
                if hxl {
                    sheet.write_row(1, 0, tags).map_err(write_err)?;
                    next_row = 2;
                }
                Exporter::Xlsx {
                    workbook,
                    next_row,
                    kinds: columns.iter().map(|(_, _, kind)| *kind).collect(),
                    out,
                }
            }
        })
    }

    /// Writes a request, a row per person.
    pub fn write_request(
        &mut self,
        request: &Request,
        statuses: &[(PersonId, PersonStatus)],
    ) -> Result<(), ExchangeError> {
        for row in person_rows(request, statuses) {
            self.write_row(row)?;
        }
        Ok(())
    }

    /// Writes one row, a value per column (a spreadsheet formula's first character is
    /// defused in CSV).
    pub fn write_row<I>(&mut self, row: I) -> Result<(), ExchangeError>
    where
        I: IntoIterator<Item = String>,
    {
        match self {
            Exporter::Csv(w) => w
                .write_record(
                    row.into_iter()
                        .map(|c| crate::spreadsheet_safe(&c).into_owned()),
                )
                .map_err(write_err)?,
            Exporter::Jsonl { out, columns } => {
                let object: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .zip(row)
                    .map(|((name, kind), value)| {
                        let json = match (kind, number_of(&value)) {
                            (ColumnKind::Number, Some(n)) => serde_json::Value::Number(n),
                            (ColumnKind::Number, None) if value.is_empty() => {
                                serde_json::Value::Null
                            }
                            _ => serde_json::Value::String(value),
                        };
                        (name.to_string(), json)
                    })
                    .collect();
                serde_json::to_writer(&mut *out, &object).map_err(write_err)?;
                out.write_all(b"\n").map_err(write_err)?;
            }
            Exporter::Xlsx {
                workbook,
                next_row,
                kinds,
                ..
            } => {
                if *next_row >= XLSX_ROWS_MAX {
                    return Err(ExchangeError::Write(format!(
                        "an XLSX sheet holds at most {XLSX_ROWS_MAX} rows; export CSV or narrow the filter"
                    )));
                }
                let sheet = workbook.worksheet_from_index(0).map_err(write_err)?;
                for (column, value) in row.into_iter().enumerate() {
                    let number = (kinds.get(column) == Some(&ColumnKind::Number))
                        .then(|| number_of(&value).and_then(|n| n.as_f64()))
                        .flatten();
                    let column = column as u16;
                    match number {
                        Some(n) => sheet.write_number(*next_row, column, n),
                        None => sheet.write_string(*next_row, column, value),
                    }
                    .map_err(write_err)?;
                }
                *next_row += 1;
            }
        }
        Ok(())
    }

    /// Flushes everything and hands back the writer.
    pub fn finish(self) -> Result<W, ExchangeError> {
        match self {
            Exporter::Csv(w) => w.into_inner().map_err(write_err),
            Exporter::Jsonl { out, .. } => out.into_inner().map_err(write_err),
            Exporter::Xlsx {
                mut workbook,
                mut out,
                ..
            } => {
                // The writer may not be seekable (a pipe, a socket): assemble in a temporary file.
                let mut file = tempfile::tempfile().map_err(write_err)?;
                workbook.save_to_writer(&mut file).map_err(write_err)?;
                use std::io::Seek;
                file.rewind().map_err(write_err)?;
                std::io::copy(&mut file, &mut out).map_err(write_err)?;
                Ok(out)
            }
        }
    }
}
