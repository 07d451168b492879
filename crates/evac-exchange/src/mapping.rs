//! Which column feeds which request field.
//!
//! Without a mapping file, headers are matched case-insensitively against common English and
//! Russian names. A TOML mapping names columns explicitly and can set date formats and defaults:
//!
//! ```toml
//! [columns]
//! surname = "Фамилия"
//! given_names = "Имя"
//! phone = ["Телефон", "Телефон 2"]   # several columns feed one list field
//! household = "Семья"                # consecutive rows with one value form one request
//!
//! [formats]
//! birth_date = "%d.%m.%Y"
//!
//! [defaults]
//! country = "KZ"
//! ```

use std::collections::BTreeMap;

use crate::ExchangeError;

/// The request fields a column can feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Household,
    ExternalRef,
    ReceivedAt,
    Surname,
    GivenNames,
    Patronymic,
    FullName,
    BirthDate,
    Age,
    Sex,
    Citizenship,
    DocumentType,
    DocumentNumber,
    Phone,
    Email,
    Needs,
    Relation,
    Location,
    Country,
    Latitude,
    Longitude,
    Situation,
    SubmitterName,
    SubmitterPhone,
    Language,
    DestinationCountry,
}

impl Field {
    pub const ALL: [Field; 26] = [
        Field::Household,
        Field::ExternalRef,
        Field::ReceivedAt,
        Field::Surname,
        Field::GivenNames,
        Field::Patronymic,
        Field::FullName,
        Field::BirthDate,
        Field::Age,
        Field::Sex,
        Field::Citizenship,
        Field::DocumentType,
        Field::DocumentNumber,
        Field::Phone,
        Field::Email,
        Field::Needs,
        Field::Relation,
        Field::Location,
        Field::Country,
        Field::Latitude,
        Field::Longitude,
        Field::Situation,
        Field::SubmitterName,
        Field::SubmitterPhone,
        Field::Language,
        Field::DestinationCountry,
    ];

    /// The name used in mapping files.
    pub fn key(self) -> &'static str {
        match self {
            Field::Household => "household",
            Field::ExternalRef => "external_ref",
            Field::ReceivedAt => "received_at",
            Field::Surname => "surname",
            Field::GivenNames => "given_names",
            Field::Patronymic => "patronymic",
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::Age => "age",
            Field::Sex => "sex",
            Field::Citizenship => "citizenship",
            Field::DocumentType => "document_type",
            Field::DocumentNumber => "document_number",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Needs => "needs",
            Field::Relation => "relation",
            Field::Location => "location",
            Field::Country => "country",
            Field::Latitude => "lat",
            Field::Longitude => "lon",
            Field::Situation => "situation",
            Field::SubmitterName => "submitter_name",
            Field::SubmitterPhone => "submitter_phone",
            Field::Language => "language",
            Field::DestinationCountry => "destination_country",
        }
    }

    /// Headers recognised without a mapping file (compared lower-cased, trimmed, `_` as space).
    fn known_headers(self) -> &'static [&'static str] {
        match self {
            Field::Household => &[
                "household",
                "household id",
                "family",
                "family id",
                "group",
                "group id",
                "семья",
                "группа",
                "№ семьи",
                "номер семьи",
            ],
            Field::ExternalRef => &[
                "id",
                "record id",
                "row id",
                "ref",
                "№",
                "номер",
                "номер записи",
            ],
            Field::ReceivedAt => &[
                "received",
                "received at",
                "timestamp",
                "date received",
                "дата обращения",
                "дата заявки",
                "время обращения",
            ],
            Field::Surname => &["surname", "last name", "family name", "lastname", "фамилия"],
            Field::GivenNames => &[
                "given names",
                "given name",
                "first name",
                "firstname",
                "forename",
                "имя",
            ],
            Field::Patronymic => &["patronymic", "middle name", "отчество"],
            Field::FullName => &[
                "full name",
                "name",
                "fio",
                "фио",
                "ф.и.о.",
                "ф. и. о.",
                "полное имя",
            ],
            Field::BirthDate => &[
                "birth date",
                "date of birth",
                "dob",
                "birthdate",
                "born",
                "дата рождения",
                "д.р.",
                "дата рожд.",
            ],
            Field::Age => &["age", "age years", "возраст"],
            Field::Sex => &["sex", "gender", "пол"],
            Field::Citizenship => &["citizenship", "nationality", "гражданство"],
            Field::DocumentType => &["document type", "doc type", "тип документа"],
            Field::DocumentNumber => &[
                "document number",
                "document",
                "passport",
                "passport number",
                "passport no",
                "номер паспорта",
                "паспорт",
                "номер документа",
                "документ",
            ],
            Field::Phone => &[
                "phone",
                "phone number",
                "mobile",
                "telephone",
                "tel",
                "телефон",
                "тел.",
                "тел",
                "мобильный",
                "контактный телефон",
            ],
            Field::Email => &[
                "email",
                "e-mail",
                "mail",
                "почта",
                "эл. почта",
                "электронная почта",
            ],
            Field::Needs => &[
                "needs",
                "special needs",
                "особые потребности",
                "потребности",
            ],
            Field::Relation => &["relation", "relationship", "родство", "степень родства"],
            Field::Location => &[
                "location",
                "current location",
                "address",
                "city",
                "where",
                "местонахождение",
                "местоположение",
                "адрес",
                "город",
            ],
            Field::Country => &["country", "страна"],
            Field::Latitude => &["lat", "latitude", "широта"],
            Field::Longitude => &["lon", "lng", "longitude", "долгота"],
            Field::Situation => &[
                "situation",
                "notes",
                "note",
                "comment",
                "comments",
                "ситуация",
                "комментарий",
                "примечание",
                "примечания",
            ],
            Field::SubmitterName => &[
                "submitter",
                "submitted by",
                "contact person",
                "заявитель",
                "контактное лицо",
            ],
            Field::SubmitterPhone => &[
                "submitter phone",
                "contact phone",
                "телефон заявителя",
                "телефон контактного лица",
            ],
            Field::Language => &["language", "lang", "язык"],
            // Not a bare "destination": a list's destination is often a town, not a country.
            Field::DestinationCountry => &["destination country", "страна назначения"],
        }
    }

    pub fn from_key(key: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.key() == key)
    }
}

fn normalise_header(h: &str) -> String {
    h.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The mapping file's shape.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingFile {
    #[serde(default)]
    pub columns: BTreeMap<String, OneOrMany>,
    #[serde(default)]
    pub formats: BTreeMap<String, String>,
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// A mapping resolved against a file's header row: for each field, the column indexes.
#[derive(Debug, Clone, Default)]
pub struct ResolvedMapping {
    pub headers: Vec<String>,
    pub columns: BTreeMap<Field, Vec<usize>>,
    /// strftime-style format for `birth_date` and `received_at` when not ISO 8601.
    pub date_format: Option<String>,
    pub received_format: Option<String>,
    pub defaults: BTreeMap<Field, String>,
}

impl ResolvedMapping {
    /// Resolves `file` (or the built-in header names when `None`) against a header row.
    pub fn resolve(headers: &[String], file: Option<&MappingFile>) -> Result<Self, ExchangeError> {
        let mut columns: BTreeMap<Field, Vec<usize>> = BTreeMap::new();
        let normalised: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
        let mut mapping = ResolvedMapping {
            headers: headers.to_vec(),
            ..Default::default()
        };
        match file {
            Some(file) => {
                for (key, names) in &file.columns {
                    let field = Field::from_key(key).ok_or_else(|| {
                        ExchangeError::Mapping(format!(
                            "[columns] {key}: unknown field; use one of {}",
                            Field::ALL.map(Field::key).join(", ")
                        ))
                    })?;
                    let names = match names {
                        OneOrMany::One(n) => vec![n.clone()],
                        OneOrMany::Many(ns) => ns.clone(),
                    };
                    for name in names {
                        let index = normalised.iter().position(|h| *h == normalise_header(&name)).ok_or_else(|| {
                            ExchangeError::Mapping(format!(
                                "[columns] {key} = \"{name}\": the file has no such column; its columns are: {}",
                                headers.join(", ")
                            ))
                        })?;
                        columns.entry(field).or_default().push(index);
                    }
                }
                for (key, format) in &file.formats {
                    match key.as_str() {
                        "birth_date" => mapping.date_format = Some(format.clone()),
                        "received_at" => mapping.received_format = Some(format.clone()),
                        other => {
                            return Err(ExchangeError::Mapping(format!(
                                "[formats] {other}: only birth_date and received_at take a format"
                            )));
                        }
                    }
                }
                for (key, value) in &file.defaults {
                    let field = Field::from_key(key).ok_or_else(|| {
                        ExchangeError::Mapping(format!("[defaults] {key}: unknown field"))
                    })?;
                    mapping.defaults.insert(field, value.clone());
                }
            }
            None => {
                for (index, header) in normalised.iter().enumerate() {
                    if let Some(field) = Field::ALL
                        .into_iter()
                        .find(|f| f.known_headers().contains(&header.as_str()))
                    {
                        columns.entry(field).or_default().push(index);
                    }
                }
            }
        }
        let has_name = [Field::Surname, Field::GivenNames, Field::FullName]
            .iter()
            .any(|f| columns.contains_key(f));
        if !has_name {
            return Err(ExchangeError::Mapping(format!(
                "no name column found among: {}; name one in a mapping file ([columns] surname = \"…\")",
                headers.join(", ")
            )));
        }
        mapping.columns = columns;
        Ok(mapping)
    }

    /// The header of the first column feeding `field`, for error reports.
    pub fn column_name(&self, field: Field) -> String {
        self.columns
            .get(&field)
            .and_then(|c| c.first())
            .map(|&i| self.headers[i].clone())
            .unwrap_or_default()
    }

    pub fn parse_file(text: &str) -> Result<MappingFile, ExchangeError> {
        toml::from_str(text).map_err(|e| ExchangeError::Mapping(e.to_string()))
    }
}
