//! Reading somebody else's spreadsheet for `evac link`: an NGO's list, a parliament office's
//! list. A mapping names, for each linkage field, the column or columns it comes from (and a
//! date format where needed); every row becomes one [`LinkRecord`]. A cell that cannot be read
//! (a date in another format, an unknown sex) is reported with its row and column and left out
//! of that record; a row without an id or without any name is reported and skipped.
//!
//! ```toml
//! record_id = "ID"
//! surname = "Фамилия"
//! given_name = "Имя"
//! patronymic = "Отчество"
//! birth_date = { columns = "Дата рождения", format = "%d.%m.%Y" }
//! phone = ["Телефон", "Телефон 2"]
//! locality = "Город"
//! group = "Семья"        # optional: rows of one group are one household
//! country = "KZ"          # optional: default country for phones written without +
//! ```

use std::collections::HashSet;
use std::path::Path;

use evac_link::{LinkRecord, Sex};
use evac_model::CountryCode;
use serde::Deserialize;

use crate::import::{open_sheet, parse_date};
use crate::{ExchangeError, RowError};

/// One or several column headers.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
    WithFormat {
        columns: Box<Columns>,
        format: Option<String>,
    },
}

impl Columns {
    fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(c) => vec![c.as_str()],
            Columns::Many(cs) => cs.iter().map(String::as_str).collect(),
            Columns::WithFormat { columns, .. } => columns.names(),
        }
    }

    fn format(&self) -> Option<&str> {
        match self {
            Columns::WithFormat { format, .. } => format.as_deref(),
            _ => None,
        }
    }
}

/// Which columns feed which linkage field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkMapping {
    pub record_id: Option<Columns>,
    pub group: Option<Columns>,
    pub given_name: Option<Columns>,
    pub surname: Option<Columns>,
    pub patronymic: Option<Columns>,
    pub full_name: Option<Columns>,
    pub birth_date: Option<Columns>,
    pub sex: Option<Columns>,
    pub phone: Option<Columns>,
    pub email: Option<Columns>,
    pub document_number: Option<Columns>,
    pub address: Option<Columns>,
    pub locality: Option<Columns>,
    pub postcode: Option<Columns>,
    /// A column, or a two-letter country code used for every row.
    pub country: Option<Columns>,
}

impl LinkMapping {
    pub fn from_toml(text: &str) -> Result<LinkMapping, ExchangeError> {
        toml::from_str(text).map_err(|e| ExchangeError::Mapping(e.to_string()))
    }
}

/// The records of a file and the problems met reading it.
#[derive(Debug, Default)]
pub struct LinkFile {
    pub records: Vec<LinkRecord>,
    pub problems: Vec<RowError>,
    pub rows: u64,
    pub rows_skipped: u64,
}

/// A field's columns resolved to positions.
struct Source {
    positions: Vec<(usize, String)>,
    format: Option<String>,
}

impl Source {
    fn values<'r>(&'r self, row: &'r [String]) -> impl Iterator<Item = (&'r str, &'r str)> + 'r {
        self.positions.iter().filter_map(move |(i, header)| {
            row.get(*i)
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .map(|c| (header.as_str(), c))
        })
    }

    fn joined(&self, row: &[String], separator: &str) -> Option<String> {
        let parts: Vec<&str> = self.values(row).map(|(_, v)| v).collect();
        (!parts.is_empty()).then(|| parts.join(separator))
    }
}

/// Reads `path` (CSV or XLSX) with `mapping`.
pub fn read_link_file(path: &Path, mapping: &LinkMapping) -> Result<LinkFile, ExchangeError> {
    let (headers, rows) = open_sheet(path)?;
    let resolve = |field: &'static str,
                   columns: &Option<Columns>|
     -> Result<Option<Source>, ExchangeError> {
        let Some(columns) = columns else {
            return Ok(None);
        };
        let mut positions = Vec::new();
        for name in columns.names() {
            let Some(i) = headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
            else {
                return Err(ExchangeError::Mapping(format!(
                    "`{field}` names the column \"{name}\", which the file does not have; its columns are: {}",
                    headers
                        .iter()
                        .map(|h| format!("\"{h}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            positions.push((i, headers[i].clone()));
        }
        Ok(Some(Source {
            positions,
            format: columns.format().map(str::to_string),
        }))
    };
    // `country` may be a code for the whole file instead of a column.
    let fixed_country: Option<CountryCode> = match &mapping.country {
        Some(Columns::One(c)) if !headers.iter().any(|h| h.trim() == c.trim()) => {
            Some(c.parse().map_err(|e: evac_model::CountryCodeError| {
                ExchangeError::Mapping(format!("`country`: {e}"))
            })?)
        }
        _ => None,
    };
    let country_column = if fixed_country.is_some() {
        None
    } else {
        resolve("country", &mapping.country)?
    };
    let record_id = resolve("record_id", &mapping.record_id)?;
    let group = resolve("group", &mapping.group)?;
    let given = resolve("given_name", &mapping.given_name)?;
    let surname = resolve("surname", &mapping.surname)?;
    let patronymic = resolve("patronymic", &mapping.patronymic)?;
    let full_name = resolve("full_name", &mapping.full_name)?;
    let birth = resolve("birth_date", &mapping.birth_date)?;
    let sex = resolve("sex", &mapping.sex)?;
    let phone = resolve("phone", &mapping.phone)?;
    let email = resolve("email", &mapping.email)?;
    let document = resolve("document_number", &mapping.document_number)?;
    let address = resolve("address", &mapping.address)?;
    let locality = resolve("locality", &mapping.locality)?;
    let postcode = resolve("postcode", &mapping.postcode)?;
    if given.is_none() && surname.is_none() && full_name.is_none() {
        return Err(ExchangeError::Mapping(
            "name at least one of `given_name`, `surname` or `full_name`: linkage needs names"
                .into(),
        ));
    }

    let mut file = LinkFile::default();
    let mut seen_ids: HashSet<String> = HashSet::new();
    for row in rows {
        let (line, cells) = match row {
            Ok(r) => (r.0, r.1),
            Err(e) => {
                file.problems.push(e);
                file.rows_skipped += 1;
                continue;
            }
        };
        file.rows += 1;
        let problem = |column: &str, reason: String| RowError {
            row: line,
            column: column.to_string(),
            reason,
        };
        let text = |s: &Option<Source>, sep: &str| s.as_ref().and_then(|s| s.joined(&cells, sep));
        let id = match &record_id {
            Some(source) => match source.joined(&cells, "-") {
                Some(id) => id,
                None => {
                    file.problems.push(problem(&source.positions[0].1, "the record id is empty; every row needs one (or leave `record_id` out of the mapping to number rows)".into()));
                    file.rows_skipped += 1;
                    continue;
                }
            },
            None => format!("row-{line}"),
        };
        if !seen_ids.insert(id.clone()) {
            let column = record_id
                .as_ref()
                .map(|s| s.positions[0].1.clone())
                .unwrap_or_default();
            file.problems.push(problem(
                &column,
                format!(
                    "record id {id} was already used by an earlier row; this row is skipped",
                    id = evac_model::quoted(&id)
                ),
            ));
            file.rows_skipped += 1;
            continue;
        }
        let (given_names, surname_text, full) = (
            text(&given, " "),
            text(&surname, " "),
            text(&full_name, " "),
        );
        if given_names.is_none() && surname_text.is_none() && full.is_none() {
            file.problems.push(problem(
                "",
                "the row has no name in any name column; it is skipped".into(),
            ));
            file.rows_skipped += 1;
            continue;
        }
        let mut birth_date = None;
        if let Some(source) = &birth {
            for (header, value) in source.values(&cells) {
                match parse_date(value, source.format.as_deref()) {
                    Some(d) => birth_date = Some(d),
                    None => file.problems.push(problem(header, format!(
                        "{value} is not a date{}; the record is linked without it",
                        source.format.as_ref().map(|f| format!(" in the format {f}")).unwrap_or_else(|| " (write 2012-12-31 or 31.12.2012, or give `format` in the mapping)".into()), value = evac_model::quoted(&value)))),
                }
            }
        }
        let mut sex_value = None;
        if let Some(source) = &sex {
            for (header, value) in source.values(&cells) {
                match parse_sex(value) {
                    Some(s) => sex_value = Some(s),
                    None => file.problems.push(problem(header, format!("{value} is not a sex this reader knows (M/F, male/female, м/ж); the record is linked without it", value = evac_model::quoted(&value)))),
                }
            }
        }
        let country = fixed_country.or_else(|| {
            country_column
                .as_ref()
                .and_then(|s| s.values(&cells).find_map(|(_, v)| v.parse().ok()))
        });
        let phones = phone
            .as_ref()
            .map(|s| {
                s.values(&cells)
                    .flat_map(|(_, v)| v.split([',', ';', '/']))
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        file.records.push(LinkRecord {
            record_id: id,
            group: text(&group, "-"),
            given_names,
            surname: surname_text,
            patronymic: text(&patronymic, " "),
            full_name: full,
            birth_date,
            birth_year_range: None,
            sex: sex_value,
            phones,
            household_phones: Vec::new(),
            email: text(&email, " "),
            document_number: text(&document, " "),
            address: text(&address, ", "),
            locality: text(&locality, ", "),
            place_id: None,
            postcode: text(&postcode, " "),
            country,
        });
    }
    Ok(file)
}

fn parse_sex(value: &str) -> Option<Sex> {
    match value.trim().to_lowercase().as_str() {
        "f" | "female" | "w" | "woman" | "ж" | "жен" | "женский" | "femmina" | "donna" => {
            Some(Sex::Female)
        }
        "m" | "male" | "man" | "м" | "муж" | "мужской" | "maschio" | "uomo" => {
            Some(Sex::Male)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(contents: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        std::io::Write::write_all(&mut f, contents.as_bytes()).unwrap();
        f
    }

    #[test]
    fn rows_become_records_and_bad_cells_are_reported() {
        let f = file(
            "ID;Фамилия;Имя;Дата рождения;Пол;Телефон\n1;Иванова;Анна;05.03.1990;ж;8 701 123 45 67\n2;Petrov;Ivan;1990/31/12;x;\n;Nobody;Here;;;\n4;;;;;\n1;Again;Dup;;;\n",
        );
        let mapping = LinkMapping::from_toml(
            "record_id = \"ID\"\nsurname = \"Фамилия\"\ngiven_name = \"Имя\"\nbirth_date = { columns = \"Дата рождения\" }\nsex = \"Пол\"\nphone = \"Телефон\"\ncountry = \"KZ\"\n",
        )
        .unwrap();
        let read = read_link_file(f.path(), &mapping).unwrap();
        assert_eq!(read.records.len(), 2);
        assert_eq!(read.rows, 5);
        assert_eq!(read.rows_skipped, 3);
        let anna = &read.records[0];
        assert_eq!(anna.birth_date, Some(jiff::civil::date(1990, 3, 5)));
        assert_eq!(anna.sex, Some(Sex::Female));
        assert_eq!(anna.phones, vec!["8 701 123 45 67".to_string()]);
        assert_eq!(
            anna.country.map(|c| c.as_str().to_string()).as_deref(),
            Some("KZ")
        );
        let reasons: Vec<String> = read
            .problems
            .iter()
            .map(|p| format!("{}|{}|{}", p.row, p.column, p.reason))
            .collect();
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("3|Дата рождения|'1990/31/12' is not a date")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.starts_with("3|Пол|'x'")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("4|ID|the record id is empty")),
            "{reasons:?}"
        );
        assert!(
            reasons
                .iter()
                .any(|r| r.starts_with("5||the row has no name")),
            "{reasons:?}"
        );
        assert!(
            reasons.iter().any(|r| r.contains("'1' was already used")),
            "{reasons:?}"
        );
    }

    #[test]
    fn a_mapping_naming_a_missing_column_says_which_columns_exist() {
        let f = file("A,B\n1,2\n");
        let mapping = LinkMapping::from_toml("surname = \"Surname\"\n").unwrap();
        let error = read_link_file(f.path(), &mapping).unwrap_err().to_string();
        assert!(
            error.contains("\"Surname\"") && error.contains("\"A\", \"B\""),
            "{error}"
        );
        assert!(LinkMapping::from_toml("surnme = \"X\"\n").is_err());
    }
}
