//! Requests, their party of people, and the one place raw input becomes a typed request.
//!
//! Every front door (the JSON API, the public form, spreadsheet import, the demo generator)
//! fills a [`RequestDraft`] of plain strings and calls [`RequestDraft::validate`]. Validation
//! reports *every* problem at once, each with the JSON path of its field
//! (`party[2].birth_date`), so a requester or an operator fixes a form in one pass; a spreadsheet
//! import maps the same paths back to its columns.

use std::fmt;

use jiff::civil::Date;

use crate::checks::{Checker, quoted};
use crate::{CountryCode, PersonId, PersonName, Phone, ReferenceCode, RequestId, Timestamp};

/// Bounds on one request. A household larger than this is split by an operator, not by a form.
pub const PARTY_MEMBERS_MAX: usize = 60;
pub const PHONES_PER_CONTACT_MAX: usize = 5;
pub const SITUATION_CHARS_MAX: usize = 4_000;
/// A person's medical note: what the crisis cell's doctors should know ("asthma, inhaler in
/// the bag"); a case note, read only by roles that read case notes.
pub const MEDICAL_NOTE_CHARS_MAX: usize = 500;
pub const SHORT_TEXT_CHARS_MAX: usize = 200;
/// Below 18 a person is a minor (the age of majority in Kazakhstan, Russia and Italy alike).
pub const MAJORITY_AGE_YEARS: u8 = 18;

string_enum!(
    /// How a request reached evac.
    Channel { WebForm = "web_form", Api = "api", Hotline = "hotline", Messenger = "messenger", Email = "email", Import = "import" }
);
string_enum!(
    /// Which way a hotline call went: the family called, or an operator called them.
    CallDirection { Inbound = "inbound", Outbound = "outbound" }
);
string_enum!(
    /// How a call ended. `left_message` (voicemail, a neighbour) has not reached the family
    /// yet; `wrong_number` means the request's contacts need correcting.
    CallOutcome {
        Reached = "reached", NoAnswer = "no_answer", Busy = "busy",
        LeftMessage = "left_message", WrongNumber = "wrong_number",
    }
);

impl CallOutcome {
    /// Whether the household still has to be reached after a call that ended so.
    pub fn needs_another_try(self) -> bool {
        matches!(
            self,
            CallOutcome::NoAnswer | CallOutcome::Busy | CallOutcome::LeftMessage
        )
    }
}

string_enum!(
    /// A party member's relation to the person the request is about (or submitted by).
    /// Everything but `escort`, `group_member` and `other` counts as family for
    /// "unaccompanied minor".
    Relation {
        Myself = "self", Spouse = "spouse", Child = "child", Parent = "parent", Sibling = "sibling",
        Grandparent = "grandparent", Grandchild = "grandchild", Relative = "relative",
        Escort = "escort", GroupMember = "group_member", Other = "other",
    }
);
string_enum!(
    /// Sex as on the travel document (ICAO 9303: F, M, X).
    Sex { F = "F", M = "M", X = "X" }
);
string_enum!(
    /// Special needs that change priority or the kind of seat.
    Need {
        LifeThreatening = "life_threatening", Medical = "medical", Wheelchair = "wheelchair",
        Stretcher = "stretcher", Mobility = "mobility", Pregnancy = "pregnancy", Disability = "disability",
    }
);
string_enum!(
    /// What the requester says makes it urgent.
    Urgency {
        ImmediateDanger = "immediate_danger", MedicalEmergency = "medical_emergency",
        NoShelter = "no_shelter", NoFoodOrWater = "no_food_or_water", ChildrenAlone = "children_alone",
    }
);
string_enum!(
    /// The kind of identity document.
    DocumentType {
        Passport = "passport", IdCard = "id_card", BirthCertificate = "birth_certificate",
        ResidencePermit = "residence_permit", Other = "other",
    }
);

impl Relation {
    pub fn is_family(self) -> bool {
        !matches!(
            self,
            Relation::Escort | Relation::GroupMember | Relation::Other
        )
    }
}

/// A checked e-mail address (one `@`, a dotted domain): enough to catch a mistyped field.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Option<Email> {
        let raw = raw.trim();
        let (local, domain) = raw.split_once('@')?;
        let ok = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !raw.contains(char::is_whitespace)
            && !domain.contains('@');
        ok.then(|| Email(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

/// A language tag such as `ru`, `kk`, `it`, `en` (ISO 639-1/-3, lower case).
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> Option<Language> {
        let primary = raw.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        (2..=3).contains(&primary.len()).then_some(())?;
        primary
            .chars()
            .all(|c| c.is_ascii_lowercase())
            .then_some(Language(primary))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A birth date, or only an age when that is all a phone call gave.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Birth {
    Date(Date),
    /// Age in years as stated on the given day.
    StatedAge {
        years: u8,
        on: Date,
    },
}

impl Birth {
    /// Whole years of age on `day`.
    pub fn age_years(&self, day: Date) -> u8 {
        let (born, years_then, then) = match *self {
            Birth::Date(d) => (Some(d), 0, d),
            Birth::StatedAge { years, on } => (None, years, on),
        };
        let mut years = i32::from(day.year()) - i32::from(then.year()) + i32::from(years_then);
        if born.is_some() && (day.month(), day.day()) < (then.month(), then.day()) {
            years -= 1;
        }
        years.clamp(0, 150) as u8
    }
}

/// An identity document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Document {
    pub kind: DocumentType,
    /// Upper case, letters and digits only (spaces and dashes removed).
    pub number: String,
    pub issuing_state: Option<CountryCode>,
    pub expiry: Option<Date>,
}

/// One person who wants to leave.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Person {
    pub id: PersonId,
    pub surname: Option<PersonName>,
    pub given_names: Option<PersonName>,
    pub patronymic: Option<PersonName>,
    pub birth: Option<Birth>,
    pub sex: Option<Sex>,
    pub citizenship: Option<CountryCode>,
    pub document: Option<Document>,
    pub phones: Vec<Phone>,
    pub email: Option<Email>,
    pub needs: Vec<Need>,
    pub relation: Relation,
    /// What a medic should know of them, in the requester's words (a case note: withheld
    /// from roles that may not read them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub medical_note: Option<String>,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only non-identifying facts: ids and needs are fine in logs, names are not.
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("relation", &self.relation)
            .finish_non_exhaustive()
    }
}

impl Person {
    pub fn age_years(&self, day: Date) -> Option<u8> {
        self.birth.map(|b| b.age_years(day))
    }

    pub fn is_minor(&self, day: Date) -> bool {
        self.age_years(day).is_some_and(|a| a < MAJORITY_AGE_YEARS)
    }

    pub fn is_adult(&self, day: Date) -> bool {
        self.age_years(day).is_some_and(|a| a >= MAJORITY_AGE_YEARS)
    }
}

/// Where the requester is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Location {
    /// As given ("Almaty, Hotel Kazakhstan, room 1204").
    pub text: String,
    pub country: Option<CountryCode>,
    pub coordinates: Option<Coordinates>,
    /// The gazetteer place it resolved to (GeoNames id), once place resolution has run.
    pub place_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Coordinates {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: Option<f64>,
}

/// Who sent the request and how to reach them; may be a relative at home, outside the party.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Submitter {
    pub name: Option<String>,
    pub phones: Vec<Phone>,
    pub email: Option<Email>,
}

impl fmt::Debug for Submitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Submitter(..)")
    }
}

/// A request after validation: the proof that every field was checked.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NewRequest {
    pub channel: Channel,
    pub language: Option<Language>,
    pub submitter: Submitter,
    pub location: Location,
    pub situation: String,
    pub urgency: Vec<Urgency>,
    pub party: Vec<Person>,
    pub consent: bool,
    /// A key from the source system (a spreadsheet row's id), kept for tracing back.
    pub external_ref: Option<String>,
    /// The country the household asks to be taken to (a family living in Germany); `None`:
    /// anywhere safe the crisis cell flies to, home as a rule. Planning seats it only on a
    /// transport out landing there (or not saying where it lands).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_country: Option<CountryCode>,
}

/// A part of a request some roles may not see (field-level access, issue 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Withheld {
    /// Phones, e-mail addresses and the submitter ([`crate::Permission::ReadContacts`]).
    Contact,
    /// The situation text, urgency and needs ([`crate::Permission::ReadCaseNotes`]).
    CaseNotes,
}

impl Withheld {
    /// What `role` may not see of a request.
    pub fn for_role(role: crate::Role) -> Vec<Withheld> {
        [
            (Withheld::Contact, crate::Permission::ReadContacts),
            (Withheld::CaseNotes, crate::Permission::ReadCaseNotes),
        ]
        .into_iter()
        .filter(|(_, p)| !role.allows(*p))
        .map(|(w, _)| w)
        .collect()
    }
}

impl NewRequest {
    /// Blanks what `role` may not see; what was withheld.
    pub fn withhold_for(&mut self, role: crate::Role) -> Vec<Withheld> {
        let withheld = Withheld::for_role(role);
        for part in &withheld {
            match part {
                Withheld::Contact => {
                    self.submitter = Submitter {
                        name: None,
                        phones: Vec::new(),
                        email: None,
                    };
                    for p in &mut self.party {
                        p.phones.clear();
                        p.email = None;
                    }
                }
                Withheld::CaseNotes => {
                    self.situation.clear();
                    self.urgency.clear();
                    for p in &mut self.party {
                        p.needs.clear();
                        p.medical_note = None;
                    }
                }
            }
        }
        withheld
    }

    /// Every phone the request gave: the submitter's, then each person's, in order.
    pub fn phones(&self) -> impl Iterator<Item = &Phone> {
        self.submitter
            .phones
            .iter()
            .chain(self.party.iter().flat_map(|p| &p.phones))
    }

    /// Minors with no adult of their own family in the party: the children on holiday.
    pub fn unaccompanied_minors(&self, day: Date) -> Vec<PersonId> {
        let family_adult_present = self
            .party
            .iter()
            .any(|p| p.relation.is_family() && p.is_adult(day));
        self.party
            .iter()
            .filter(|p| p.is_minor(day) && !(p.relation.is_family() && family_adult_present))
            .map(|p| p.id)
            .collect()
    }

    pub fn has_minors(&self, day: Date) -> bool {
        self.party.iter().any(|p| p.is_minor(day))
    }
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Request {
    pub id: RequestId,
    pub reference: ReferenceCode,
    pub received_at: Timestamp,
    pub body: NewRequest,
}

impl Request {
    /// The day ages and "minor" are judged on: the day the request was received, the crisis
    /// day. The stored `has_minors` flag, the API and exports all use this one rule, so a
    /// 17-year-old of January 2022 stays a minor in that crisis's lists.
    pub fn ages_as_of(&self) -> Date {
        self.received_at.date_utc()
    }
}

// ---------------------------------------------------------------------------------------------
// Raw input and its validation.

/// One problem with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field: `party[2].birth_date`.
    pub path: String,
    /// What is wrong and what to do, e.g. `2031-01-01 is in the future`.
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// What validation needs from the world: the time now (passed in, never read here) and the
/// region to read phone numbers in when the request names no country.
#[derive(Debug, Clone, Copy)]
pub struct ValidationContext {
    pub now: Timestamp,
    pub default_region: Option<CountryCode>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmitterDraft {
    pub name: Option<String>,
    pub phones: Vec<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LocationDraft {
    pub text: Option<String>,
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonDraft {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    /// ISO 8601 `YYYY-MM-DD`; front doors with other formats convert first.
    pub birth_date: Option<String>,
    pub age_years: Option<i64>,
    pub sex: Option<String>,
    pub citizenship: Option<String>,
    pub document_type: Option<String>,
    pub document_number: Option<String>,
    pub document_issuing_state: Option<String>,
    pub document_expiry: Option<String>,
    pub phones: Vec<String>,
    pub email: Option<String>,
    pub needs: Vec<String>,
    pub relation: Option<String>,
    pub medical_note: Option<String>,
}

/// A request as it arrived, before any checking.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestDraft {
    pub channel: Option<String>,
    pub language: Option<String>,
    pub submitter: SubmitterDraft,
    pub location: LocationDraft,
    pub situation: Option<String>,
    pub urgency: Vec<String>,
    pub party: Vec<PersonDraft>,
    pub consent: Option<bool>,
    pub external_ref: Option<String>,
    /// The country to be taken to, as a code (`DE`); empty: anywhere safe.
    pub destination_country: Option<String>,
}

impl RequestDraft {
    /// Checks everything, returning the typed request or every problem found.
    pub fn validate(&self, ctx: &ValidationContext) -> Result<NewRequest, Vec<FieldError>> {
        let mut c = Checker::default();
        let today = ctx.now.date_utc();

        let channel = match self.channel.as_deref() {
            None => Channel::WebForm,
            Some(raw) => c
                .one_of("channel", raw, Channel::parse, Channel::choices)
                .unwrap_or(Channel::WebForm),
        };
        let language = self
            .language
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .and_then(|raw| {
                let lang = Language::parse(raw);
                if lang.is_none() {
                    c.fail(
                        "language",
                        format!(
                            "{} is not a language code; use e.g. ru, kk, it, en",
                            quoted(raw)
                        ),
                    );
                }
                lang
            });

        let country = c.country("location.country", &self.location.country);
        let destination_country = c.country("destination_country", &self.destination_country);
        let region = country.or(ctx.default_region);
        let location_text = c.short_text("location.text", &self.location.text);
        // Required only when nothing was given: a text refused for its length or its
        // characters has said what to fix already.
        let text_given = self
            .location
            .text
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
        if location_text.is_none() && !text_given && self.location.lat.is_none() {
            c.fail(
                "location.text",
                "is required; say where you are (city, address or hotel)",
            );
        }
        let coordinates = match (self.location.lat, self.location.lon) {
            (None, None) => None,
            (Some(lat), Some(lon)) => {
                let mut ok = true;
                if !(-90.0..=90.0).contains(&lat) {
                    c.fail(
                        "location.lat",
                        format!("{lat} is not a latitude; it lies between -90 and 90"),
                    );
                    ok = false;
                }
                if !(-180.0..=180.0).contains(&lon) {
                    c.fail(
                        "location.lon",
                        format!("{lon} is not a longitude; it lies between -180 and 180"),
                    );
                    ok = false;
                }
                let accuracy_m = self.location.accuracy_m;
                if accuracy_m.is_some_and(|a| a.is_nan() || a < 0.0) {
                    c.fail(
                        "location.accuracy_m",
                        "must be a distance in metres, 0 or more",
                    );
                    ok = false;
                }
                ok.then_some(Coordinates {
                    lat,
                    lon,
                    accuracy_m,
                })
            }
            (Some(_), None) => {
                c.fail(
                    "location.lon",
                    "is missing; give both lat and lon, or neither",
                );
                None
            }
            (None, Some(_)) => {
                c.fail(
                    "location.lat",
                    "is missing; give both lat and lon, or neither",
                );
                None
            }
        };

        let situation = c
            .text("situation", &self.situation, SITUATION_CHARS_MAX)
            .unwrap_or_default();
        let urgency = c.distinct_list("urgency", &self.urgency, Urgency::parse, Urgency::choices);

        let submitter = Submitter {
            name: c.short_text("submitter.name", &self.submitter.name),
            phones: c.phones("submitter.phones", &self.submitter.phones, region),
            email: c.email("submitter.email", &self.submitter.email),
        };

        if self.party.is_empty() {
            c.fail(
                "party",
                "is empty; list every person who wants to leave, yourself included if you do",
            );
        } else if self.party.len() > PARTY_MEMBERS_MAX {
            c.fail("party", format!("has {} people; at most {PARTY_MEMBERS_MAX} per request — send a request per group", self.party.len()));
        }
        let mut party: Vec<Person> = self
            .party
            .iter()
            .take(PARTY_MEMBERS_MAX)
            .enumerate()
            .map(|(i, p)| p.validate(&format!("party[{i}]"), &mut c, region, today))
            .collect();
        one_who_asks(&self.party, &mut party);

        let reachable = !submitter.phones.is_empty()
            || submitter.email.is_some()
            || party
                .iter()
                .any(|p| !p.phones.is_empty() || p.email.is_some());
        let any_contact_given = !self.submitter.phones.iter().all(|p| p.trim().is_empty())
            || self
                .submitter
                .email
                .as_deref()
                .is_some_and(|e| !e.trim().is_empty())
            || self
                .party
                .iter()
                .any(|p| !p.phones.is_empty() || p.email.is_some());
        if !reachable && !any_contact_given {
            c.fail(
                "submitter.phones",
                "no phone or e-mail given; give at least one so the crisis centre can reach you",
            );
        }

        let consent_needed = matches!(
            channel,
            Channel::WebForm | Channel::Api | Channel::Messenger
        );
        if consent_needed && self.consent != Some(true) {
            c.fail(
                "consent",
                "must be true: evac keeps these personal data only to organise the evacuation",
            );
        }

        if !c.errors.is_empty() {
            return Err(c.errors);
        }
        Ok(NewRequest {
            channel,
            language,
            submitter,
            location: Location {
                text: location_text.unwrap_or_default(),
                country,
                coordinates,
                place_id: None,
            },
            situation,
            urgency,
            party,
            consent: self.consent.unwrap_or(false),
            external_ref: self.external_ref.clone().filter(|r| !r.trim().is_empty()),
            destination_country,
        })
    }
}

impl PersonDraft {
    fn validate(
        &self,
        path: &str,
        c: &mut Checker,
        region: Option<CountryCode>,
        today: Date,
    ) -> Person {
        let surname = c.name(format_args!("{path}.surname"), &self.surname);
        let given_names = c.name(format_args!("{path}.given_names"), &self.given_names);
        let patronymic = c.name(format_args!("{path}.patronymic"), &self.patronymic);
        if surname.is_none() && given_names.is_none() {
            c.fail(
                format!("{path}.surname"),
                "a name is required; give the surname, the given names, or both",
            );
        }

        let birth_date = c.date(format_args!("{path}.birth_date"), &self.birth_date);
        if let Some(d) = birth_date {
            if d > today {
                c.fail(
                    format!("{path}.birth_date"),
                    format!("{d} is in the future"),
                );
            } else if d.year() < 1900 {
                c.fail(
                    format!("{path}.birth_date"),
                    format!("{d} is before 1900; check the year"),
                );
            }
        }
        let birth = match (birth_date, self.age_years) {
            (Some(d), _) => Some(Birth::Date(d)),
            (None, Some(age)) if (0..=120).contains(&age) => Some(Birth::StatedAge {
                years: age as u8,
                on: today,
            }),
            (None, Some(age)) => {
                c.fail(
                    format!("{path}.age_years"),
                    format!("{age} is not an age; give years between 0 and 120"),
                );
                None
            }
            (None, None) => None,
        };

        let sex = self
            .sex
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|raw| c.one_of(format_args!("{path}.sex"), raw, Sex::parse, Sex::choices));
        let citizenship = c.country(format_args!("{path}.citizenship"), &self.citizenship);

        let number = self
            .document_number
            .as_deref()
            .map(clean_document_number)
            .filter(|n| !n.is_empty());
        let document = match number {
            None => {
                if self
                    .document_type
                    .as_deref()
                    .is_some_and(|t| !t.trim().is_empty())
                {
                    c.fail(
                        format!("{path}.document_number"),
                        "is missing; give the number or leave the document type out",
                    );
                }
                None
            }
            Some(number) => {
                let kind = match self
                    .document_type
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                {
                    None => DocumentType::Passport,
                    Some(raw) => c
                        .one_of(
                            format_args!("{path}.document_type"),
                            raw,
                            DocumentType::parse,
                            DocumentType::choices,
                        )
                        .unwrap_or(DocumentType::Other),
                };
                if number.chars().count() > 30 {
                    c.fail(
                        format!("{path}.document_number"),
                        "is longer than 30 characters; check it",
                    );
                }
                Some(Document {
                    kind,
                    number,
                    issuing_state: c.country(
                        format_args!("{path}.document_issuing_state"),
                        &self.document_issuing_state,
                    ),
                    expiry: c.date(
                        format_args!("{path}.document_expiry"),
                        &self.document_expiry,
                    ),
                })
            }
        };

        let phones = c.phones(format_args!("{path}.phones"), &self.phones, region);
        let email = c.email(format_args!("{path}.email"), &self.email);
        let needs = c.distinct_list(
            format_args!("{path}.needs"),
            &self.needs,
            Need::parse,
            Need::choices,
        );
        let relation = match self.relation.as_deref().filter(|r| !r.trim().is_empty()) {
            None => Relation::Myself,
            Some(raw) => c
                .one_of(
                    format_args!("{path}.relation"),
                    raw,
                    Relation::parse,
                    Relation::choices,
                )
                .unwrap_or(Relation::Other),
        };

        Person {
            id: PersonId::new_v7(),
            surname,
            given_names,
            patronymic,
            birth,
            sex,
            citizenship,
            document,
            phones,
            email,
            needs,
            relation,
            medical_note: c.text(
                format_args!("{path}.medical_note"),
                &self.medical_note,
                MEDICAL_NOTE_CHARS_MAX,
            ),
        }
    }
}

/// The party has one person who asks ("self") at most: a form whose rows all started at
/// "myself" sent a family of askers, and erasing the asker's contacts would erase every
/// one's. The first who says "self" is the one; another who says it is taken for a relative
/// (not refused: a retry of a request stored before this rule must replay, and a sheet that
/// marks both parents is still one family). Those who say nothing are relatives (family: a
/// child among them is not travelling alone, as "other" would make it), except the first
/// line when nobody says "self": a request for oneself names no relation.
fn one_who_asks(drafts: &[PersonDraft], party: &mut [Person]) {
    let said = |i: usize| {
        drafts[i]
            .relation
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
    };
    let asker = (0..party.len()).find(|&i| said(i) && party[i].relation == Relation::Myself);
    for (i, person) in party.iter_mut().enumerate() {
        let unsaid_asker = i == 0 && asker.is_none() && !said(i);
        if !unsaid_asker && person.relation == Relation::Myself && asker != Some(i) {
            person.relation = Relation::Relative;
        }
    }
}

/// Document numbers are compared without spaces, dashes or case.
pub fn clean_document_number(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}
