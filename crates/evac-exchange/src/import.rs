//! Reading a spreadsheet into request drafts.
//!
//! Rows stream from the file; consecutive rows with the same household key become one request
//! (one person a row), so memory stays flat however long the file is. Each group carries the
//! line numbers of its rows, so a validation error on `party[1].birth_date` is reported against
//! the second row of the group and its birth-date column.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use evac_model::{FieldError, LocationDraft, PersonDraft, RequestDraft, SubmitterDraft, Timestamp};
use sha2::{Digest, Sha256};

use crate::mapping::{Field, ResolvedMapping};
use crate::{ExchangeError, RowError};

/// Rows of one household at most: a longer run of one key is cut (and the cut reported).
pub const GROUP_ROWS_MAX: usize = evac_model::PARTY_MEMBERS_MAX;

/// One data row: its line number as a spreadsheet shows it, and its cells.
pub type Row = (u64, Vec<String>);

/// The rows of a CSV or XLSX file, after its header row.
pub enum SheetRows {
    Csv {
        reader: csv::Reader<BufReader<File>>,
        line: u64,
        path: String,
        unterminated_tail: Option<u64>,
    },
    /// XLSX sheets are read cell by cell into the rows that hold something (a sheet's size
    /// is what it holds, not where its farthest cell is); streaming applies to CSV.
    Xlsx { rows: std::vec::IntoIter<Row> },
}

/// Opens a file by its extension and returns its header row and its data rows.
pub fn open_sheet(path: &Path) -> Result<(Vec<String>, SheetRows), ExchangeError> {
    let shown = path.display().to_string();
    let read_err = |reason: String| ExchangeError::Read {
        path: shown.clone(),
        reason,
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => {
            let file = File::open(path).map_err(|e| read_err(e.to_string()))?;
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(if ext == "tsv" {
                    b'\t'
                } else {
                    sniff_delimiter(path)
                })
                .flexible(true)
                .has_headers(true)
                .from_reader(BufReader::with_capacity(1 << 16, file));
            let headers = reader
                .headers()
                .map_err(|e| read_err(e.to_string()))?
                .iter()
                .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
                .collect();
            // The csv crate skips blank lines and then reports a record's start before them, so
            // the line is derived from where the record ends; a last line without a newline
            // does not advance the counter, which this length check corrects.
            let unterminated_tail = last_byte_is_not_newline(path)
                .then(|| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
            Ok((
                headers,
                SheetRows::Csv {
                    reader,
                    line: 1,
                    path: shown,
                    unterminated_tail,
                },
            ))
        }
        "xlsx" | "xlsm" => {
            let (headers, rows) = read_xlsx(path).map_err(read_err)?;
            Ok((
                headers,
                SheetRows::Xlsx {
                    rows: rows.into_iter(),
                },
            ))
        }
        "xls" | "ods" => Err(read_err(format!(
            "'.{ext}' files are not read (their sheets cannot be sized before reading); save it as .xlsx or .csv"
        ))),
        other => Err(read_err(format!(
            "'.{other}' files are not supported; give a .csv or .xlsx file"
        ))),
    }
}

/// Lines one CSV cell may span (a situation written over several lines fits many times):
/// more is a quote never closed.
pub const CSV_CELL_LINES_MAX: usize = 50;

/// Columns of a spreadsheet evac reads: a request's fields fit many times over; a cell beyond
/// is refused by its address rather than sized into every row.
pub const SHEET_COLUMNS_MAX: u32 = 256;

/// "XFD1048576" for a cell's (row, column), both from 0.
fn cell_address(row: u32, column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        letters.push(b'A' + ((n - 1) % 26) as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    format!(
        "{}{}",
        String::from_utf8_lossy(&letters),
        u64::from(row) + 1
    )
}

/// The first sheet's header row and its data rows that hold something, each with its row
/// number as the spreadsheet shows it. Memory follows the cells the file holds: empty rows
/// take nothing, and a cell beyond [`SHEET_COLUMNS_MAX`] columns is refused.
fn read_xlsx(path: &Path) -> Result<(Vec<String>, Vec<Row>), String> {
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> =
        calamine::open_workbook(path).map_err(|e: calamine::XlsxError| e.to_string())?;
    let first = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| "the workbook has no sheet".to_string())?;
    let mut cells = workbook
        .worksheet_cells_reader(&first)
        .map_err(|e| e.to_string())?;
    let mut rows: Vec<Row> = Vec::new();
    let mut header_row: Option<u32> = None;
    let mut headers: Vec<String> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
        let (row, column) = cell.get_position();
        if column >= SHEET_COLUMNS_MAX {
            return Err(format!(
                "cell {} lies beyond the first {SHEET_COLUMNS_MAX} columns evac reads; delete what lies beyond column {}",
                cell_address(row, column),
                cell_address(0, SHEET_COLUMNS_MAX - 1).trim_end_matches('1'),
            ));
        }
        let text = cell_ref_text(cell.get_value());
        if text.is_empty() {
            continue;
        }
        // The header is the first row that holds something.
        let header = *header_row.get_or_insert(row);
        let target = if row == header {
            &mut headers
        } else {
            if rows
                .last()
                .is_none_or(|(line, _)| *line != u64::from(row) + 1)
            {
                rows.push((u64::from(row) + 1, Vec::new()));
            }
            &mut rows.last_mut().expect("pushed above").1
        };
        let column = column as usize;
        if target.len() <= column {
            target.resize(column + 1, String::new());
        }
        target[column] = text;
    }
    Ok((
        headers.into_iter().map(|h| h.trim().to_string()).collect(),
        rows,
    ))
}

fn cell_ref_text(cell: &calamine::DataRef<'_>) -> String {
    match cell {
        calamine::DataRef::DateTime(dt) => {
            excel_serial_to_iso(dt.as_f64()).unwrap_or_else(|| dt.to_string())
        }
        calamine::DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
            format!("{}", *f as i64)
        }
        calamine::DataRef::Empty => String::new(),
        other => calamine::Data::from(other.clone()).to_string(),
    }
}

fn last_byte_is_not_newline(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let mut last = [0u8; 1];
    File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::End(-1))?;
            f.read_exact(&mut last)
        })
        .map(|()| last[0] != b'\n')
        .unwrap_or(false)
}

/// `;` is the usual separator of CSV files saved by a Russian-locale Excel.
fn sniff_delimiter(path: &Path) -> u8 {
    let mut first_line = String::new();
    if let Ok(file) = File::open(path) {
        use std::io::BufRead;
        let _ = BufReader::new(file).read_line(&mut first_line);
    }
    if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// Excel stores dates as days since 1899-12-30 (in the usual 1900 date system).
fn excel_serial_to_iso(serial: f64) -> Option<String> {
    let epoch = jiff::civil::date(1899, 12, 30);
    let date = epoch
        .checked_add(jiff::Span::new().days(serial.floor() as i64))
        .ok()?;
    Some(date.to_string())
}

impl Iterator for SheetRows {
    type Item = Result<Row, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            SheetRows::Csv {
                reader,
                line,
                path,
                unterminated_tail,
            } => {
                let mut record = csv::StringRecord::new();
                let starts_at_line = reader.position().line();
                match reader.read_record(&mut record) {
                    Ok(false) => None,
                    Ok(true) => {
                        let end = reader.position();
                        let at_unterminated_end = *unterminated_tail == Some(end.byte());
                        let inner_newlines = record
                            .iter()
                            .map(|f| f.matches('\n').count() as u64)
                            .sum::<u64>();
                        *line = end.line() - u64::from(!at_unterminated_end) - inner_newlines;
                        // A quote opened and never closed swallows every line after it into
                        // one cell: said, with where, instead of the rows quietly vanishing.
                        if let Some((column, cell)) = record
                            .iter()
                            .enumerate()
                            .find(|(_, f)| f.matches('\n').count() > CSV_CELL_LINES_MAX)
                        {
                            return Some(Err(RowError {
                                // Where the record began: the cell's newlines, its last one
                                // included, all lie after it.
                                row: starts_at_line,
                                column: format!("column {}", column + 1),
                                reason: format!(
                                    "a quote opened here runs over {} lines (more than the {CSV_CELL_LINES_MAX} a cell may hold), so the rows after it would be read as one cell; close the quote, or write a quote inside a cell as two (\"\")",
                                    cell.matches('\n').count() + 1
                                ),
                            }));
                        }
                        Some(Ok((*line, record.iter().map(str::to_string).collect())))
                    }
                    Err(e) => {
                        *line += 1;
                        Some(Err(RowError {
                            row: *line,
                            column: String::new(),
                            reason: format!("{path}: {e}"),
                        }))
                    }
                }
            }
            SheetRows::Xlsx { rows } => rows.next().map(Ok),
        }
    }
}

/// One request's worth of rows.
#[derive(Debug, Clone)]
pub struct RowGroup {
    pub rows: Vec<Row>,
}

impl RowGroup {
    pub fn first_line(&self) -> u64 {
        self.rows.first().map(|r| r.0).unwrap_or(0)
    }

    /// A digest of the cells: the import's idempotency key (the same rows never import twice).
    pub fn content_sha256(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for (_, cells) in &self.rows {
            for cell in cells {
                hasher.update(cell.trim().as_bytes());
                hasher.update([0x1f]);
            }
            hasher.update([0x1e]);
        }
        hasher.finalize().into()
    }
}

/// Cuts a row stream into households: consecutive rows with the same household key (or each
/// row alone when the file has no household column).
pub struct Grouper<I: Iterator> {
    rows: std::iter::Peekable<I>,
    household: Option<usize>,
}

impl<I: Iterator<Item = Result<Row, RowError>>> Grouper<I> {
    pub fn new(rows: I, mapping: &ResolvedMapping) -> Self {
        let household = mapping
            .columns
            .get(&Field::Household)
            .and_then(|c| c.first().copied());
        Grouper {
            rows: rows.peekable(),
            household,
        }
    }
}

impl<I: Iterator<Item = Result<Row, RowError>>> Iterator for Grouper<I> {
    type Item = Result<RowGroup, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let first = match self.rows.next()? {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        if first.1.iter().all(|c| c.trim().is_empty()) {
            return self.next(); // blank lines separate nothing and import nothing
        }
        let key_of = |row: &Row, col: usize| {
            row.1
                .get(col)
                .map(|k| k.trim().to_string())
                .unwrap_or_default()
        };
        let mut group = vec![first];
        if let Some(col) = self.household {
            let key = key_of(&group[0], col);
            if !key.is_empty() {
                while group.len() < GROUP_ROWS_MAX {
                    match self.rows.peek() {
                        Some(Ok(next)) if key_of(next, col) == key => {
                            group.push(self.rows.next()?.ok()?)
                        }
                        _ => break,
                    }
                }
            }
        }
        Some(Ok(RowGroup { rows: group }))
    }
}

/// A group turned into a draft, with what is needed to report errors against its rows.
#[derive(Debug, Clone)]
pub struct GroupDraft {
    pub draft: RequestDraft,
    pub received_at: Option<Timestamp>,
    pub lines: Vec<u64>,
}

fn cells<'a>(
    mapping: &'a ResolvedMapping,
    row: &'a [String],
    field: Field,
) -> impl Iterator<Item = &'a str> + 'a {
    mapping
        .columns
        .get(&field)
        .into_iter()
        .flatten()
        .filter_map(move |&i| row.get(i))
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
}

fn cell(mapping: &ResolvedMapping, row: &[String], field: Field) -> Option<String> {
    cells(mapping, row, field)
        .next()
        .map(str::to_string)
        .or_else(|| mapping.defaults.get(&field).cloned())
}

/// Dates as spreadsheets write them: ISO, `31.12.2012`, `31/12/2012`, or the mapping's format.
pub fn parse_date(text: &str, format: Option<&str>) -> Option<jiff::civil::Date> {
    let text = text.trim();
    let text = text.split([' ', 'T']).next().unwrap_or(text);
    if let Some(format) = format {
        return jiff::civil::Date::strptime(format, text).ok();
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>() {
        return Some(d);
    }
    let parts: Vec<&str> = text.split(['.', '/', '-']).collect();
    if let [a, b, c] = parts.as_slice() {
        let (a, b, c): (i16, i8, i8) = if c.len() == 4 {
            (c.parse().ok()?, b.parse().ok()?, a.parse().ok()?)
        } else if a.len() == 4 {
            (a.parse().ok()?, b.parse().ok()?, c.parse().ok()?)
        } else {
            return None;
        };
        return jiff::civil::Date::new(a, b, c).ok();
    }
    None
}

fn parse_received(text: &str, format: Option<&str>) -> Option<Timestamp> {
    if let Some(format) = format {
        return jiff::civil::DateTime::strptime(format, text.trim())
            .ok()
            .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp().into());
    }
    if let Ok(t) = text.trim().parse::<jiff::Timestamp>() {
        return Some(t.into());
    }
    let local = text.trim().replace(' ', "T");
    if let Ok(dt) = local.parse::<jiff::civil::DateTime>() {
        return dt
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp().into());
    }
    parse_date(text, None)
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().into())
}

fn is_cyrillic_word(word: &str) -> bool {
    word.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

/// Splits a full name: Cyrillic lists write «Фамилия Имя Отчество»; Latin lists "Given Surname".
fn split_full_name(full: &str) -> (Option<String>, Option<String>, Option<String>) {
    let words: Vec<&str> = full.split_whitespace().collect();
    match words.as_slice() {
        [] => (None, None, None),
        [one] => (Some(one.to_string()), None, None),
        [first, rest @ ..] if is_cyrillic_word(first) => {
            let patronymic = (rest.len() >= 2).then(|| rest[1..].join(" "));
            (
                Some(first.to_string()),
                Some(rest[0].to_string()),
                patronymic,
            )
        }
        [given @ .., last] => (Some(last.to_string()), Some(given.join(" ")), None),
    }
}

fn normalise_sex(raw: &str) -> String {
    match raw.trim().to_lowercase().as_str() {
        "м" | "муж" | "муж." | "мужской" | "male" | "m" | "man" => "M".into(),
        "ж" | "жен" | "жен." | "женский" | "female" | "f" | "woman" => "F".into(),
        _ => raw.trim().to_string(),
    }
}

fn normalise_relation(raw: &str) -> String {
    match raw.trim().to_lowercase().as_str() {
        "сам" | "сама" | "заявитель" | "self" | "applicant" => "self".into(),
        "ребенок" | "ребёнок" | "сын" | "дочь" | "son" | "daughter" | "child" => {
            "child".into()
        }
        "мать" | "отец" | "mother" | "father" | "parent" => "parent".into(),
        "муж" | "жена" | "супруг" | "супруга" | "husband" | "wife" | "spouse" => {
            "spouse".into()
        }
        "брат" | "сестра" | "brother" | "sister" | "sibling" => "sibling".into(),
        "бабушка" | "дедушка" | "grandmother" | "grandfather" | "grandparent" => {
            "grandparent".into()
        }
        "внук" | "внучка" | "grandson" | "granddaughter" | "grandchild" => {
            "grandchild".into()
        }
        "сопровождающий"
        | "сопровождающая"
        | "учитель"
        | "тренер"
        | "escort"
        | "teacher"
        | "coach" => "escort".into(),
        "ученик"
        | "ученица"
        | "воспитанник"
        | "участник группы"
        | "pupil"
        | "student"
        | "group member"
        | "group_member" => "group_member".into(),
        "родственник" | "родственница" | "relative" => "relative".into(),
        other => other.to_string(),
    }
}

/// Maps free-text needs to evac's list; what it cannot place goes back as text for the situation.
fn normalise_needs(raw: &str) -> (Vec<String>, Vec<String>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for part in raw
        .split([',', ';', '/'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let lower = part.to_lowercase();
        let need = if evac_model::Need::parse(&lower).is_some() {
            Some(lower.clone())
        } else if ["коляск", "wheelchair"].iter().any(|k| lower.contains(k)) {
            Some("wheelchair".into())
        } else if ["носилк", "stretcher"].iter().any(|k| lower.contains(k)) {
            Some("stretcher".into())
        } else if ["беремен", "pregnan"].iter().any(|k| lower.contains(k)) {
            Some("pregnancy".into())
        } else if ["реаним", "критич", "life", "critical", "тяжел"]
            .iter()
            .any(|k| lower.contains(k))
        {
            Some("life_threatening".into())
        } else if ["маломобил", "mobility"].iter().any(|k| lower.contains(k)) {
            Some("mobility".into())
        } else if ["инвалид", "disab"].iter().any(|k| lower.contains(k)) {
            Some("disability".into())
        } else if [
            "мед",
            "лекар",
            "инсулин",
            "medic",
            "insulin",
            "dialys",
            "диализ",
        ]
        .iter()
        .any(|k| lower.contains(k))
        {
            Some("medical".into())
        } else {
            None
        };
        match need {
            Some(n) => known.push(n),
            None => unknown.push(part.to_string()),
        }
    }
    (known, unknown)
}

impl RowGroup {
    /// The request draft these rows describe, or the cells that cannot even be read.
    pub fn to_draft(&self, mapping: &ResolvedMapping) -> Result<GroupDraft, Vec<RowError>> {
        let mut errors = Vec::new();
        let first = &self.rows[0].1;
        let mut situation: Vec<String> = cells(mapping, first, Field::Situation)
            .map(str::to_string)
            .collect();
        let received_at = cell(mapping, first, Field::ReceivedAt).and_then(|text| {
            let parsed = parse_received(&text, mapping.received_format.as_deref());
            if parsed.is_none() {
                errors.push(RowError {
                    row: self.rows[0].0,
                    column: mapping.column_name(Field::ReceivedAt),
                    reason: format!("{text} is not a date and time; write 2022-01-06 14:30 or give [formats] received_at", text = evac_model::quoted(&text)),
                });
            }
            parsed
        });
        let number = |field: Field,
                      line: u64,
                      text: Option<String>,
                      errors: &mut Vec<RowError>|
         -> Option<f64> {
            let text = text?;
            let parsed = text.replace(',', ".").parse::<f64>().ok();
            if parsed.is_none() {
                errors.push(RowError {
                    row: line,
                    column: mapping.column_name(field),
                    reason: format!("{text} is not a number", text = evac_model::quoted(&text)),
                });
            }
            parsed
        };
        let location = LocationDraft {
            text: cell(mapping, first, Field::Location),
            country: cell(mapping, first, Field::Country),
            lat: number(
                Field::Latitude,
                self.rows[0].0,
                cell(mapping, first, Field::Latitude),
                &mut errors,
            ),
            lon: number(
                Field::Longitude,
                self.rows[0].0,
                cell(mapping, first, Field::Longitude),
                &mut errors,
            ),
            accuracy_m: None,
        };
        let submitter = SubmitterDraft {
            name: cell(mapping, first, Field::SubmitterName),
            phones: cells(mapping, first, Field::SubmitterPhone)
                .map(str::to_string)
                .collect(),
            email: None,
        };

        let mut party = Vec::with_capacity(self.rows.len());
        for (line, row) in &self.rows {
            let (mut surname, mut given, mut patronymic) = (
                cell(mapping, row, Field::Surname),
                cell(mapping, row, Field::GivenNames),
                cell(mapping, row, Field::Patronymic),
            );
            if let Some(full) = cell(mapping, row, Field::FullName) {
                let (s, g, p) = split_full_name(&full);
                surname = surname.or(s);
                given = given.or(g);
                patronymic = patronymic.or(p);
            }
            let birth_date = cell(mapping, row, Field::BirthDate).and_then(|text| match parse_date(&text, mapping.date_format.as_deref()) {
                Some(d) => Some(d.to_string()),
                None => {
                    errors.push(RowError {
                        row: *line,
                        column: mapping.column_name(Field::BirthDate),
                        reason: format!("{text} is not a date; write 31.12.2012 or 2012-12-31, or give [formats] birth_date", text = evac_model::quoted(&text)),
                    });
                    None
                }
            });
            let age_years =
                cell(mapping, row, Field::Age).and_then(|text| match text.parse::<i64>() {
                    Ok(a) => Some(a),
                    Err(_) => {
                        errors.push(RowError {
                            row: *line,
                            column: mapping.column_name(Field::Age),
                            reason: format!(
                                "{text} is not an age in years",
                                text = evac_model::quoted(&text)
                            ),
                        });
                        None
                    }
                });
            let (needs, unplaced) = cell(mapping, row, Field::Needs)
                .map(|n| normalise_needs(&n))
                .unwrap_or_default();
            if !unplaced.is_empty() {
                situation.push(format!("needs (as written): {}", unplaced.join(", ")));
            }
            party.push(PersonDraft {
                surname,
                given_names: given,
                patronymic,
                birth_date,
                age_years,
                sex: cell(mapping, row, Field::Sex).map(|s| normalise_sex(&s)),
                citizenship: cell(mapping, row, Field::Citizenship),
                document_type: cell(mapping, row, Field::DocumentType),
                document_number: cell(mapping, row, Field::DocumentNumber),
                document_issuing_state: None,
                document_expiry: None,
                phones: cells(mapping, row, Field::Phone)
                    .map(str::to_string)
                    .collect(),
                email: cell(mapping, row, Field::Email),
                needs,
                relation: cell(mapping, row, Field::Relation).map(|r| normalise_relation(&r)),
                medical_note: None,
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(GroupDraft {
            draft: RequestDraft {
                channel: Some("import".into()),
                language: cell(mapping, first, Field::Language),
                submitter,
                location,
                situation: Some(situation.join("\n")),
                urgency: Vec::new(),
                party,
                consent: None,
                external_ref: cell(mapping, first, Field::ExternalRef),
                destination_country: cell(mapping, first, Field::DestinationCountry),
            },
            received_at,
            lines: self.rows.iter().map(|r| r.0).collect(),
        })
    }
}

impl GroupDraft {
    /// Where in the file a validation error of this draft lies.
    pub fn locate(&self, error: &FieldError, mapping: &ResolvedMapping) -> RowError {
        let path = error.path.as_str();
        let (line, rest) = match path.strip_prefix("party[").and_then(|p| p.split_once(']')) {
            Some((index, rest)) => {
                let index: usize = index.parse().unwrap_or(0);
                (
                    self.lines.get(index).copied().unwrap_or(self.lines[0]),
                    rest.trim_start_matches('.'),
                )
            }
            None => (self.lines[0], path),
        };
        let field_name = rest.split(['[', '.']).next().unwrap_or(rest);
        let field = match (path.starts_with("party["), field_name) {
            (true, "surname") => Some(if mapping.columns.contains_key(&Field::Surname) {
                Field::Surname
            } else {
                Field::FullName
            }),
            (true, "given_names") => Some(if mapping.columns.contains_key(&Field::GivenNames) {
                Field::GivenNames
            } else {
                Field::FullName
            }),
            (true, "patronymic") => Some(Field::Patronymic),
            (true, "birth_date") => Some(Field::BirthDate),
            (true, "age_years") => Some(Field::Age),
            (true, "sex") => Some(Field::Sex),
            (true, "citizenship") => Some(Field::Citizenship),
            (true, "document_type") => Some(Field::DocumentType),
            (true, "document_number" | "document_issuing_state" | "document_expiry") => {
                Some(Field::DocumentNumber)
            }
            (true, "phones") => Some(Field::Phone),
            (true, "email") => Some(Field::Email),
            (true, "needs") => Some(Field::Needs),
            (true, "relation") => Some(Field::Relation),
            (false, "location") if path.ends_with("country") => Some(Field::Country),
            (false, "location") if path.ends_with("lat") => Some(Field::Latitude),
            (false, "location") if path.ends_with("lon") => Some(Field::Longitude),
            (false, "location") => Some(Field::Location),
            (false, "submitter") if mapping.columns.contains_key(&Field::SubmitterPhone) => {
                Some(Field::SubmitterPhone)
            }
            (false, "submitter") => Some(Field::Phone),
            (false, "situation") => Some(Field::Situation),
            (false, "language") => Some(Field::Language),
            (false, "destination_country") => Some(Field::DestinationCountry),
            _ => None,
        };
        RowError {
            row: line,
            column: field.map(|f| mapping.column_name(f)).unwrap_or_default(),
            reason: error.reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_spreadsheet_spellings() {
        let d = |s: &str| parse_date(s, None).map(|d| d.to_string());
        assert_eq!(d("2012-07-30").as_deref(), Some("2012-07-30"));
        assert_eq!(d("30.07.2012").as_deref(), Some("2012-07-30"));
        assert_eq!(d("30/07/2012").as_deref(), Some("2012-07-30"));
        assert_eq!(d("2012-07-30 00:00:00").as_deref(), Some("2012-07-30"));
        assert_eq!(d("30.13.2012"), None);
        assert_eq!(
            parse_date("07/30/2012", Some("%m/%d/%Y"))
                .map(|d| d.to_string())
                .as_deref(),
            Some("2012-07-30")
        );
        assert_eq!(excel_serial_to_iso(44567.0).as_deref(), Some("2022-01-06"));
    }

    #[test]
    fn full_names_split_by_script() {
        assert_eq!(
            split_full_name("Иванова Мария Петровна"),
            (
                Some("Иванова".into()),
                Some("Мария".into()),
                Some("Петровна".into())
            )
        );
        assert_eq!(
            split_full_name("Anna Maria Rossi"),
            (Some("Rossi".into()), Some("Anna Maria".into()), None)
        );
    }

    #[test]
    fn free_text_needs_are_placed_or_kept() {
        let (known, unknown) = normalise_needs("инвалидная коляска; инсулин, vegetarian");
        assert_eq!(known, vec!["wheelchair", "medical"]);
        assert_eq!(unknown, vec!["vegetarian"]);
    }
}
