//! The JSON shapes of the API. They are converted to and from the core types by hand, so the
//! wire format stays stable while the model changes. Unknown fields are rejected: a typo in a
//! field name must not silently drop what a requester wrote.

use evac_model as m;
use serde::{Deserialize, Serialize};

/// An evacuation request: where the party is, who they are, how to reach them.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "language": "ru",
    "submitter": { "name": "Айгерим Сапарова", "phones": ["+7 701 123 45 67"] },
    "location": { "text": "Алматы, гостиница Казахстан", "country": "KZ" },
    "situation": "Мы с детьми в гостинице, аэропорт закрыт",
    "urgency": ["no_shelter"],
    "party": [
        { "surname": "Сапарова", "given_names": "Айгерим", "birth_date": "15.06.1985", "citizenship": "RU", "relation": "self" },
        { "surname": "Сапаров", "given_names": "Ержан", "birth_date": "2014-06-15", "citizenship": "RU", "relation": "child" }
    ],
    "consent": true
}))]
pub struct RequestIn {
    /// How it arrived; default `api`.
    #[schema(value_type = Option<m::Channel>)]
    pub channel: Option<String>,
    /// The language to answer in (`ru`, `kk`, `it`, `en`).
    pub language: Option<String>,
    #[serde(default)]
    pub submitter: SubmitterIn,
    /// Required: where the party is.
    #[serde(default)]
    pub location: LocationIn,
    /// What is happening to them, in their words.
    pub situation: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<m::Urgency>)]
    pub urgency: Vec<String>,
    /// Required: one person at least.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub party: Vec<PersonIn>,
    /// Required `true` for web, api and messenger requests: consent to keep the data.
    pub consent: Option<bool>,
    /// The sender's own id for the request, kept with it.
    pub external_ref: Option<String>,
    /// The country the household asks to be taken to, as a code (`DE`); empty: anywhere
    /// safe the crisis cell flies to.
    #[schema(example = "DE")]
    pub destination_country: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitterIn {
    pub name: Option<String>,
    #[serde(default)]
    pub phones: Vec<String>,
    pub email: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    pub text: Option<String>,
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonIn {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    /// `YYYY-MM-DD`, `DD.MM.YYYY` or `DD/MM/YYYY`.
    #[schema(example = "15.06.2014")]
    pub birth_date: Option<String>,
    /// When the birth date is not known: the age as stated today.
    pub age_years: Option<i64>,
    #[schema(value_type = Option<m::Sex>)]
    pub sex: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "KZ")]
    pub citizenship: Option<String>,
    pub document: Option<DocumentIn>,
    #[serde(default)]
    pub phones: Vec<String>,
    pub email: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<m::Need>)]
    pub needs: Vec<String>,
    /// To the person the request is about. Not given: the first person is the one who asks
    /// (`self`) when nobody says so, the others relatives; a second `self` is taken for a
    /// relative.
    #[schema(value_type = Option<m::Relation>)]
    pub relation: Option<String>,
    /// What a medic should know of them.
    pub medical_note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentIn {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub number: Option<String>,
    pub issuing_state: Option<String>,
    pub expiry: Option<String>,
}

impl RequestIn {
    /// The draft the app validates. A request over the API without a channel came by `api`.
    pub fn into_draft(self) -> m::RequestDraft {
        m::RequestDraft {
            channel: Some(
                self.channel
                    .unwrap_or_else(|| m::Channel::Api.as_str().to_string()),
            ),
            language: self.language,
            submitter: m::SubmitterDraft {
                name: self.submitter.name,
                phones: self.submitter.phones,
                email: self.submitter.email,
            },
            location: m::LocationDraft {
                text: self.location.text,
                country: self.location.country,
                lat: self.location.lat,
                lon: self.location.lon,
                accuracy_m: self.location.accuracy_m,
            },
            situation: self.situation,
            urgency: self.urgency,
            party: self
                .party
                .into_iter()
                .map(|p| {
                    let (document_type, document_number, document_issuing_state, document_expiry) =
                        match p.document {
                            Some(d) => (d.kind, d.number, d.issuing_state, d.expiry),
                            None => (None, None, None, None),
                        };
                    m::PersonDraft {
                        surname: p.surname,
                        given_names: p.given_names,
                        patronymic: p.patronymic,
                        birth_date: p.birth_date,
                        age_years: p.age_years,
                        sex: p.sex,
                        citizenship: p.citizenship,
                        document_type,
                        document_number,
                        document_issuing_state,
                        document_expiry,
                        phones: p.phones,
                        email: p.email,
                        needs: p.needs,
                        relation: p.relation,
                        medical_note: p.medical_note,
                    }
                })
                .collect(),
            consent: self.consent,
            external_ref: self.external_ref,
            destination_country: self.destination_country,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Acknowledgement {
    pub id: String,
    pub reference: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NameOut {
    pub as_written: String,
    pub latin: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhoneOut {
    pub raw: String,
    pub e164: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DocumentOut {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub number: String,
    pub issuing_state: Option<String>,
    pub expiry: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PersonOut {
    pub id: String,
    pub surname: Option<NameOut>,
    pub given_names: Option<NameOut>,
    pub patronymic: Option<NameOut>,
    pub birth_date: Option<String>,
    pub age_years: Option<u8>,
    pub minor: bool,
    pub unaccompanied_minor: bool,
    pub sex: Option<&'static str>,
    pub citizenship: Option<String>,
    pub document: Option<DocumentOut>,
    pub phones: Vec<PhoneOut>,
    pub email: Option<String>,
    pub needs: Vec<&'static str>,
    pub relation: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medical_note: Option<String>,
    pub status: Option<&'static str>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestOut {
    pub id: String,
    pub reference: String,
    pub received_at: String,
    pub channel: &'static str,
    pub language: Option<String>,
    pub submitter: SubmitterOut,
    pub location: LocationOut,
    pub situation: String,
    pub urgency: Vec<&'static str>,
    pub party: Vec<PersonOut>,
    pub has_minors: bool,
    /// What the reader's role may not see, blanked above (field-level access).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<evac_model::Withheld>,
    pub external_ref: Option<String>,
    /// The country the household asks to be taken to; absent: anywhere safe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_country: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmitterOut {
    pub name: Option<String>,
    pub phones: Vec<PhoneOut>,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationOut {
    pub text: String,
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub place_id: Option<u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RequestPage {
    pub items: Vec<RequestOut>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

fn name(n: &Option<m::PersonName>) -> Option<NameOut> {
    n.as_ref().map(|n| NameOut {
        as_written: n.as_written.clone(),
        latin: n.latin.clone(),
    })
}

fn phones(p: &[m::Phone]) -> Vec<PhoneOut> {
    p.iter()
        .map(|p| PhoneOut {
            raw: p.raw.clone(),
            e164: p.e164.to_string(),
        })
        .collect()
}

impl RequestOut {
    /// Ages and "minor" are as of the day the request was received (`Request::ages_as_of`).
    /// The request as `role` reads it (the app has blanked what it may not see).
    pub fn from_stored(stored: &evac_store::StoredRequest, role: evac_model::Role) -> Self {
        let r = &stored.request;
        let b = &r.body;
        let today = r.ages_as_of();
        let unaccompanied = b.unaccompanied_minors(today);
        RequestOut {
            id: r.id.to_string(),
            reference: r.reference.to_string(),
            received_at: r.received_at.to_string(),
            channel: b.channel.as_str(),
            language: b.language.as_ref().map(|l| l.as_str().to_string()),
            submitter: SubmitterOut {
                name: b.submitter.name.clone(),
                phones: phones(&b.submitter.phones),
                email: b.submitter.email.as_ref().map(|e| e.as_str().to_string()),
            },
            location: LocationOut {
                text: b.location.text.clone(),
                country: b.location.country.map(|c| c.to_string()),
                lat: b.location.coordinates.map(|c| c.lat),
                lon: b.location.coordinates.map(|c| c.lon),
                accuracy_m: b.location.coordinates.and_then(|c| c.accuracy_m),
                place_id: b.location.place_id,
            },
            situation: b.situation.clone(),
            urgency: b.urgency.iter().map(|u| u.as_str()).collect(),
            party: b
                .party
                .iter()
                .map(|p| PersonOut {
                    id: p.id.to_string(),
                    surname: name(&p.surname),
                    given_names: name(&p.given_names),
                    patronymic: name(&p.patronymic),
                    birth_date: match p.birth {
                        Some(m::Birth::Date(d)) => Some(d.to_string()),
                        _ => None,
                    },
                    age_years: p.age_years(today),
                    minor: p.is_minor(today),
                    unaccompanied_minor: unaccompanied.contains(&p.id),
                    sex: p.sex.map(|s| s.as_str()),
                    citizenship: p.citizenship.map(|c| c.to_string()),
                    document: p.document.as_ref().map(|d| DocumentOut {
                        kind: d.kind.as_str(),
                        number: d.number.clone(),
                        issuing_state: d.issuing_state.map(|c| c.to_string()),
                        expiry: d.expiry.map(|e| e.to_string()),
                    }),
                    phones: phones(&p.phones),
                    email: p.email.as_ref().map(|e| e.as_str().to_string()),
                    needs: p.needs.iter().map(|n| n.as_str()).collect(),
                    relation: p.relation.as_str(),
                    medical_note: p.medical_note.clone(),
                    status: stored
                        .statuses
                        .iter()
                        .find(|(id, _)| *id == p.id)
                        .map(|(_, s)| s.as_str()),
                })
                .collect(),
            has_minors: b.has_minors(today),
            withheld: evac_model::Withheld::for_role(role),
            external_ref: b.external_ref.clone(),
            destination_country: b.destination_country.map(|c| c.to_string()),
        }
    }
}
