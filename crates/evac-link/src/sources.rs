//! Link records from evac's own requests: each party member of a request is one record, the
//! request is its group (its members are different people of one household), and the
//! submitter's phones are household evidence.

use evac_model::{Birth, CountryCode, Request, RequestDraft};
use jiff::civil::Date;

use crate::record::{LinkRecord, Sex};

/// The link records of a stored request; record ids are the person ids.
pub fn records_of_request(request: &Request) -> Vec<LinkRecord> {
    let body = &request.body;
    let household_phones: Vec<String> = body
        .submitter
        .phones
        .iter()
        .map(|p| p.e164.as_str().to_string())
        .collect();
    let locality = Some(body.location.text.clone());
    body.party
        .iter()
        .map(|p| LinkRecord {
            record_id: p.id.to_string(),
            group: Some(request.id.to_string()),
            given_names: p.given_names.as_ref().map(|n| n.as_written.clone()),
            surname: p.surname.as_ref().map(|n| n.as_written.clone()),
            patronymic: p.patronymic.as_ref().map(|n| n.as_written.clone()),
            full_name: None,
            birth_date: match p.birth {
                Some(Birth::Date(d)) => Some(d),
                _ => None,
            },
            birth_year_range: match p.birth {
                Some(Birth::StatedAge { years, on }) => Some(years_range(years.into(), on)),
                _ => None,
            },
            sex: p.sex.and_then(|s| match s.as_str() {
                "F" => Some(Sex::Female),
                "M" => Some(Sex::Male),
                _ => None,
            }),
            phones: p
                .phones
                .iter()
                .map(|x| x.e164.as_str().to_string())
                .collect(),
            household_phones: household_phones.clone(),
            email: p.email.as_ref().map(|e| e.as_str().to_string()),
            document_number: p.document.as_ref().map(|d| d.number.clone()),
            address: None,
            locality: locality.clone(),
            place_id: body.location.place_id,
            postcode: None,
            country: body.location.country,
        })
        .collect()
}

/// The link records of a request as it arrived (unvalidated text): record ids are
/// `{record_id}/{party index}`, the request is the group. `received` is the day stated ages
/// refer to.
pub fn records_of_draft(record_id: &str, draft: &RequestDraft, received: Date) -> Vec<LinkRecord> {
    let country: Option<CountryCode> = draft
        .location
        .country
        .as_deref()
        .and_then(|c| c.parse().ok());
    draft
        .party
        .iter()
        .enumerate()
        .map(|(i, p)| LinkRecord {
            record_id: format!("{record_id}/{i}"),
            group: Some(record_id.to_string()),
            given_names: p.given_names.clone(),
            surname: p.surname.clone(),
            patronymic: p.patronymic.clone(),
            full_name: None,
            birth_date: p.birth_date.as_deref().and_then(|d| d.parse().ok()),
            birth_year_range: p
                .age_years
                .filter(|_| p.birth_date.is_none())
                .map(|years| years_range(years, received)),
            sex: match p.sex.as_deref() {
                Some("F" | "f") => Some(Sex::Female),
                Some("M" | "m") => Some(Sex::Male),
                _ => None,
            },
            phones: p.phones.clone(),
            household_phones: draft.submitter.phones.clone(),
            email: p.email.clone(),
            document_number: p.document_number.clone(),
            address: None,
            locality: draft.location.text.clone(),
            // A draft is not resolved yet.
            place_id: None,
            postcode: None,
            country,
        })
        .collect()
}

/// Birth years allowed by an age stated on a day: born this many years ago, or one more.
fn years_range(age_years: i64, on: Date) -> (i16, i16) {
    let latest = i64::from(on.year()) - age_years;
    let clamp = |y: i64| y.clamp(1800, 2200) as i16;
    (clamp(latest - 1), clamp(latest))
}
