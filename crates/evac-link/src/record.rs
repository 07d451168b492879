//! What linkage reads ([`LinkRecord`]: one person as one source wrote them) and what it
//! compares ([`Prepared`]: the same, normalised once).

use evac_model::CountryCode;
use jiff::civil::Date;

use crate::normalize::{
    Script, address_key, clean_document, email_key, given_name_groups, is_patronymic_key, name_key,
    name_tokens, phone_key, place_key, script_of, surname_stem,
};

/// One person as one record gives them: a party member of a request, or a row of somebody
/// else's spreadsheet. Every field is optional except the id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkRecord {
    /// Stable id of the record, unique in one linkage run (results are ordered by it).
    pub record_id: String,
    /// Records of one group (one request's party) are different people of one household.
    pub group: Option<String>,
    pub given_names: Option<String>,
    pub surname: Option<String>,
    pub patronymic: Option<String>,
    /// The whole name in one field, when a source has no separate columns.
    pub full_name: Option<String>,
    pub birth_date: Option<Date>,
    /// When only an age was given: the birth years it allows (`age` years on a known day).
    pub birth_year_range: Option<(i16, i16)>,
    pub sex: Option<Sex>,
    /// The person's own phones, as written.
    pub phones: Vec<String>,
    /// Phones that reach the person's household (the submitter's): household evidence only.
    pub household_phones: Vec<String>,
    pub email: Option<String>,
    pub document_number: Option<String>,
    pub address: Option<String>,
    pub locality: Option<String>,
    /// The gazetteer place `locality` resolved to, where it was resolved: "Almaty", "г.
    /// Алматы" and "Алма-Ата" are one town, which their spellings cannot say.
    pub place_id: Option<u64>,
    pub postcode: Option<String>,
    /// Hint for phones written without a country code.
    pub country: Option<CountryCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    Female,
    Male,
}

/// Which part of a name a token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    Given,
    Surname,
    /// From a full-name field: could be either.
    Unknown,
}

/// One name token, normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct NameToken {
    /// Boxed, not `String`: a million records hold millions of these (no spare capacity).
    pub key: Box<str>,
    pub part: NamePart,
    /// Given-name groups (diminutives and doublets) the token belongs to.
    pub groups: &'static [u16],
}

/// A record normalised for comparison: computed once, compared many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub given: Vec<NameToken>,
    pub surname: Vec<NameToken>,
    /// Tokens of a full-name field given beside separate name fields.
    pub unplaced: Vec<NameToken>,
    pub patronymic: Option<Box<str>>,
    pub script: Script,
    pub birth_date: Option<Date>,
    pub birth_year_range: Option<(i16, i16)>,
    pub sex: Option<Sex>,
    pub phones: Box<[Box<str>]>,
    pub household_phones: Box<[Box<str>]>,
    pub email: Option<Box<str>>,
    /// Cleaned document number and whether it passes a check character (IIN, codice fiscale).
    pub document: Option<(Box<str>, bool)>,
    pub address: Option<Box<str>>,
    pub locality: Option<Box<str>>,
    /// The gazetteer place the locality resolved to, where it was resolved.
    pub place: Option<u64>,
    pub postcode: Option<Box<str>>,
    /// How many people the record's group (its request's party) lists; 1 when unknown. A
    /// record of a household of six is one of six that a second request of it may repeat.
    pub household_size: u16,
}

impl Prepared {
    pub fn new(record: &LinkRecord) -> Prepared {
        let mut given = tokens(record.given_names.as_deref(), NamePart::Given);
        let mut surname = tokens(record.surname.as_deref(), NamePart::Surname);
        let mut unplaced = tokens(record.full_name.as_deref(), NamePart::Unknown);
        if given.is_empty() && surname.is_empty() && !unplaced.is_empty() {
            // A full name alone: the first token one part, the rest the other. Which is which
            // does not matter, because names are compared in both orders.
            surname = unplaced.split_off(1);
            given = std::mem::take(&mut unplaced);
            if surname.is_empty() {
                surname = std::mem::take(&mut given);
            }
        }
        let stated_patronymic: Option<Box<str>> = record
            .patronymic
            .as_deref()
            .map(|p| name_tokens(p).map(name_key).collect::<Vec<_>>().concat())
            .filter(|k| !k.is_empty())
            .map(String::into_boxed_str);
        // A record without its sex often states it anyway, in its patronymic's ending (Ольга
        // Петровна): a brother and a sister must not look alike for want of it. Only the
        // patronymic field is read so: a token pulled out of a name field may be a double
        // surname's part (Мицкевич-Карпович), and a sex read wrong would part two records.
        let sex = record.sex.or_else(|| {
            stated_patronymic
                .as_deref()
                .and_then(crate::normalize::sex_of_patronymic_key)
        });
        let mut patronymic = stated_patronymic;
        // A patronymic written into a name field ("Иван Петрович") is taken out of it.
        for list in [&mut given, &mut surname, &mut unplaced] {
            if let Some(i) = list.iter().position(|t| is_patronymic_key(&t.key))
                && list.len() > 1
            {
                let token = list.remove(i);
                patronymic.get_or_insert(token.key);
            }
        }
        let script_source = [&record.surname, &record.given_names, &record.full_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" ");
        let phones = sorted_keys(&record.phones, record.country);
        let household_phones = sorted_keys(&record.household_phones, record.country);
        let birth_year_range = record
            .birth_date
            .map(|d| (d.year(), d.year()))
            .or(record.birth_year_range);
        Prepared {
            given,
            surname,
            unplaced,
            patronymic,
            script: script_of(&script_source),
            birth_date: record.birth_date,
            birth_year_range,
            sex,
            phones,
            household_phones,
            email: record.email.as_deref().and_then(email_key).map(Into::into),
            document: record
                .document_number
                .as_deref()
                .and_then(clean_document)
                .map(|(d, valid)| (d.into_boxed_str(), valid)),
            address: record
                .address
                .as_deref()
                .and_then(address_key)
                .map(Into::into),
            locality: record
                .locality
                .as_deref()
                .and_then(|l| l.split(',').next())
                .and_then(place_key)
                .map(Into::into),
            place: record.place_id,
            postcode: record
                .postcode
                .as_deref()
                .map(|p| {
                    p.chars()
                        .filter(char::is_ascii_alphanumeric)
                        .map(|c| c.to_ascii_uppercase())
                        .collect()
                })
                .filter(|p: &String| !p.is_empty())
                .map(Into::into),
            household_size: 1,
        }
    }

    /// Surname stem shared by the sexes (household evidence), from the last surname token.
    pub fn surname_stem(&self) -> Option<&str> {
        self.surname
            .last()
            .or(self.unplaced.last())
            .map(|t| surname_stem(&t.key))
    }

    /// All name tokens, whatever their part.
    pub fn name_tokens(&self) -> impl Iterator<Item = &NameToken> {
        self.given.iter().chain(&self.surname).chain(&self.unplaced)
    }
}

fn tokens(text: Option<&str>, part: NamePart) -> Vec<NameToken> {
    text.map(|t| {
        name_tokens(t)
            .map(name_key)
            .filter(|k| !k.is_empty())
            .map(|key| NameToken {
                groups: given_name_groups(&key),
                key: key.into_boxed_str(),
                part,
            })
            .collect()
    })
    .unwrap_or_default()
}

fn sorted_keys(phones: &[String], region: Option<CountryCode>) -> Box<[Box<str>]> {
    let mut keys: Vec<Box<str>> = phones
        .iter()
        .filter_map(|p| phone_key(p, region))
        .map(String::into_boxed_str)
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patronymic_in_the_given_name_field_is_taken_out() {
        let p = Prepared::new(&LinkRecord {
            record_id: "r".into(),
            given_names: Some("Иван Петрович".into()),
            surname: Some("Иванов".into()),
            ..LinkRecord::default()
        });
        assert_eq!(p.given.len(), 1);
        assert_eq!(
            p.patronymic.as_deref(),
            Some(name_key("Petrovich").as_str())
        );
        assert_eq!(p.script, Script::Cyrillic);
        assert_eq!(p.surname_stem(), Some("ivanov"));
    }
}
