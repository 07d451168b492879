//! evac's HTML: the public request and status pages and the operators' desk, as compiled
//! templates (askama) with messages in Fluent files (`locales/`), rendered from plain view
//! models.
//!
//! Nothing here knows HTTP, the store or the domain types: `evac-web` reads the request,
//! calls the app, fills a view model of strings and numbers, and sends what `render` returns.
//! Templates escape everything by default; the only unescaped HTML is what this crate builds
//! itself. Pages carry no inline script or style, so the Content Security Policy can forbid
//! both; `assets/evac.js` only enhances (every form works without it).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

mod map;

pub use map::{Basemap, MapDot, MapHub, basemap, overlay};

use askama::Template;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // No Unicode isolation marks: they would show in plain-text copies of a page.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The stylesheet and the enhancing script, served under `/assets/`.
pub const STYLESHEET: &str = include_str!("../assets/evac.css");
pub const SCRIPT: &str = include_str!("../assets/evac.js");

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ru,
    Kk,
    It,
}

impl Lang {
    /// The public side's languages, in the order of the switch.
    pub const PUBLIC: [Lang; 4] = [Lang::En, Lang::Ru, Lang::Kk, Lang::It];
    /// The desk's languages.
    pub const DESK: [Lang; 2] = [Lang::En, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Kk => "kk",
            Lang::It => "it",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::PUBLIC.into_iter().find(|l| l.code() == primary)
    }

    /// The language asked for (`?lang=`), else the first of the browser's `Accept-Language`
    /// that `offered` has, else English.
    pub fn negotiate(asked: Option<&str>, accept_language: Option<&str>, offered: &[Lang]) -> Lang {
        let offered_has = |l: &Lang| offered.contains(l);
        if let Some(l) = asked.and_then(Lang::parse).filter(offered_has) {
            return l;
        }
        let mut ranked: Vec<(f32, Lang)> = accept_language
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                offered_has(&lang).then_some((q, lang))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked.first().map_or(Lang::En, |(_, l)| *l)
    }

    fn id(self) -> &'static LanguageIdentifier {
        static IDS: LazyLock<[LanguageIdentifier; 4]> =
            LazyLock::new(|| Lang::PUBLIC.map(|l| l.code().parse().expect("a language code")));
        &IDS[Lang::PUBLIC
            .iter()
            .position(|l| *l == self)
            .expect("listed")]
    }
}

/// The countries a form offers by name (Kazakhstan, its neighbours, and where its people
/// often come from or go to); any other is typed as its two-letter ISO code.
pub const COUNTRY_CHOICES: [&str; 22] = [
    "KZ", "RU", "KG", "UZ", "TJ", "TM", "CN", "MN", "AZ", "GE", "AM", "TR", "BY", "UA", "DE", "IT",
    "US", "GB", "AE", "IN", "AF", "IR",
];

/// Messages in one language, for templates: `{{ t.get("key") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn get(&self, key: &str) -> String {
        LOCALES.lookup(self.lang.id(), key)
    }

    pub fn count(&self, key: &str, count: u64) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            HashMap::from([(Cow::Borrowed("count"), FluentValue::from(count))]);
        LOCALES.lookup_with_args(self.lang.id(), key, &args)
    }

    pub fn signed_in(&self, name: &str, role: &str) -> String {
        let role = self.role_name(role);
        let args: HashMap<Cow<'static, str>, FluentValue> = HashMap::from([
            (Cow::Borrowed("name"), FluentValue::from(name.to_string())),
            (Cow::Borrowed("role"), FluentValue::from(role.to_string())),
        ]);
        LOCALES.lookup_with_args(self.lang.id(), "signed-in-as", &args)
    }

    /// A message with named text arguments (`{ $name }` each).
    pub fn with_args(&self, key: &str, named: &[(&'static str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = named
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.clone())))
            .collect();
        LOCALES.lookup_with_args(self.lang.id(), key, &args)
    }

    /// A message with one named text argument (`{ $name }`).
    pub fn with(&self, key: &str, name: &'static str, value: &str) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            HashMap::from([(Cow::Borrowed(name), FluentValue::from(value.to_string()))]);
        LOCALES.lookup_with_args(self.lang.id(), key, &args)
    }

    /// The countries the forms offer by name, in this language: (ISO code, name).
    pub fn countries(&self) -> Vec<(&'static str, String)> {
        COUNTRY_CHOICES
            .iter()
            .map(|&code| (code, self.get(&format!("country-{code}"))))
            .collect()
    }

    /// The message, or `fallback` where this language has none (a value named by a key made
    /// from data, e.g. `link-event-{kind}`).
    pub fn get_or(&self, key: &str, fallback: &str) -> String {
        if self.has(key) {
            self.get(key)
        } else {
            fallback.to_string()
        }
    }

    /// Whether this language has the message (tests: every key of a page is translated). A
    /// message that names values is there too, although looked up without them it cannot be
    /// formatted (fluent-templates names that error only by its `Debug` form).
    pub fn has(&self, key: &str) -> bool {
        match LOCALES.lookup_single_language::<&str>(self.lang.id(), key, None) {
            Ok(_) => true,
            Err(e) => format!("{e:?}").starts_with("FluentError"),
        }
    }
}

/// A language switch entry: the code and the language's own name.
pub struct LangChoice {
    pub code: &'static str,
    pub name: String,
    pub current: bool,
}

/// The language switch of a page.
pub fn switch(current: Lang, offered: &[Lang]) -> Vec<LangChoice> {
    offered
        .iter()
        .map(|&l| LangChoice {
            code: l.code(),
            name: Tr { lang: l }.get("lang-name"),
            current: l == current,
        })
        .collect()
}

/// The relations a party member can have, as the form offers them.
pub const RELATIONS: [&str; 11] = [
    "self",
    "spouse",
    "child",
    "parent",
    "sibling",
    "grandparent",
    "grandchild",
    "relative",
    "escort",
    "group_member",
    "other",
];
/// The needs the public form offers.
pub const NEEDS: [&str; 5] = [
    "medical",
    "wheelchair",
    "stretcher",
    "pregnancy",
    "life_threatening",
];
/// Every need a record may hold (the desk's filter offers them all; the public form asks for
/// [`NEEDS`]).
pub const NEEDS_ALL: [&str; 7] = [
    "medical",
    "wheelchair",
    "stretcher",
    "pregnancy",
    "life_threatening",
    "mobility",
    "disability",
];
/// The urgency flags the public form offers.
pub const URGENCIES: [&str; 5] = [
    "immediate_danger",
    "medical_emergency",
    "no_shelter",
    "no_food_or_water",
    "children_alone",
];
/// Party lines on the form without script (the script adds more, up to `PARTY_ROWS_MAX`).
pub const PARTY_ROWS: usize = 6;
/// The most people one request lists: `evac_model::PARTY_MEMBERS_MAX` (evac-web checks that
/// the two agree).
pub const PARTY_ROWS_MAX: usize = 60;

/// One party line as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartyRow {
    pub surname: String,
    pub given_names: String,
    pub birth_date: String,
    pub relation: String,
    pub need: String,
    /// What a medic should know of them.
    pub medical_note: String,
}

/// The public form's values, kept to show them again with the errors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestFormValues {
    pub location: String,
    pub country: String,
    pub lat: String,
    pub lon: String,
    pub name: String,
    pub phone: String,
    pub email: String,
    pub situation: String,
    /// The country to be taken to, as typed (a code from the list of country names).
    pub destination_country: String,
    pub urgency: Vec<String>,
    pub party: Vec<PartyRow>,
    pub consent: bool,
}

impl RequestFormValues {
    /// The party's lines as the form shows them: however many were posted, at most a party's
    /// worth (the validation has said how many too many there were), at least
    /// [`PARTY_ROWS`]; on a form not filled in yet, the first line is the one who asks and the
    /// others say no relation (they all started at "myself").
    fn party_rows_shown(&mut self) {
        let fresh = self.party.iter().all(|row| *row == PartyRow::default());
        self.party.truncate(PARTY_ROWS_MAX);
        self.party
            .resize(self.party.len().max(PARTY_ROWS), PartyRow::default());
        if fresh {
            self.party[0].relation = "self".into();
        }
    }
}

/// A field error: the field's path as the API names it, and the reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldProblem {
    pub path: String,
    pub reason: String,
    /// A problem every text field shares (too long, a hidden character, a line break) as its
    /// message key and values, when the caller found one: said as it is in any language,
    /// instead of the field's usual advice ("without digits or signs" of a too-long surname).
    pub common: Option<CommonProblem>,
}

/// A message key (`text-too-long`, …) and the values it names.
pub type CommonProblem = (&'static str, Vec<(&'static str, String)>);

/// A field error as a request form shows it: the field's label in the form's language (with
/// the person's number, counted from 1, for a party line), what to do about it in the form's
/// language, and the input it concerns (its `id`, to link and focus). On the English form the
/// validation's own reason, which is more specific, is the advice.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownProblem {
    pub path: String,
    pub field: String,
    pub advice: String,
    pub input: String,
}

/// The problems of a request form (the public form, the hotline desk), shown by field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FormProblems {
    pub shown: Vec<ShownProblem>,
}

impl FormProblems {
    pub fn new(lang: Lang, errors: &[FieldProblem]) -> Self {
        let t = Tr { lang };
        FormProblems {
            shown: errors
                .iter()
                .map(|e| {
                    let (person, field) = party_field(&e.path);
                    let (label, advice, input) = field_words(field);
                    let label = t.get(label);
                    let field_name = match person {
                        Some(n) => {
                            let args: HashMap<Cow<'static, str>, FluentValue> = HashMap::from([
                                (Cow::Borrowed("field"), FluentValue::from(label)),
                                (Cow::Borrowed("n"), FluentValue::from(n as u64 + 1)),
                            ]);
                            LOCALES.lookup_with_args(lang.id(), "field-of-person", &args)
                        }
                        None => label,
                    };
                    ShownProblem {
                        path: e.path.clone(),
                        field: field_name,
                        advice: if lang == Lang::En {
                            e.reason.clone()
                        } else {
                            e.common
                                .as_ref()
                                .map_or_else(|| t.get(advice), |(key, args)| t.with_args(key, args))
                        },
                        input: match person {
                            // A party line's own input carries the line's number.
                            Some(n) if PARTY_LINE_INPUTS.contains(&input) => format!("{input}-{n}"),
                            _ => input.to_string(),
                        },
                    }
                })
                .collect(),
        }
    }

    /// What to do about the input with this `id`, if it has a problem.
    pub fn at(&self, input: &str) -> Option<&str> {
        self.shown
            .iter()
            .find(|p| p.input == input)
            .map(|p| p.advice.as_str())
    }

    /// The first input with a problem: the form puts the cursor there.
    pub fn first(&self) -> &str {
        self.shown.first().map_or("", |p| p.input.as_str())
    }

    /// What to do about input `name` of party line `line` (counted from 0, as paths are;
    /// its `id` is `f-{name}-{line}`).
    pub fn at_party(&self, name: &str, line: &usize) -> Option<&str> {
        self.at(&format!("f-{name}-{line}"))
    }

    pub fn first_is_party(&self, name: &str, line: &usize) -> bool {
        self.first() == format!("f-{name}-{line}")
    }
}

/// The inputs of a party line, whose ids end in the line's number (`f-birth_date-2`).
const PARTY_LINE_INPUTS: [&str; 6] = [
    "f-surname",
    "f-given_names",
    "f-birth_date",
    "f-relation",
    "f-need",
    "f-medical_note",
];

/// `party[2].birth_date` → (Some(2), "birth_date"); `location.text` → (None, "location.text").
fn party_field(path: &str) -> (Option<usize>, &str) {
    if let Some(rest) = path.strip_prefix("party[")
        && let Some((n, field)) = rest.split_once(']')
        && let Ok(n) = n.parse()
    {
        return (Some(n), field.trim_start_matches('.'));
    }
    (None, path)
}

/// A form field's label key, advice key and input id, by the path's field (party lines
/// without their index).
fn field_words(field: &str) -> (&'static str, &'static str, &'static str) {
    let head = field.split(['.', '[']).next().unwrap_or("");
    match (head, field) {
        ("location", "location.country") => ("location-country", "fix-country", "f-country"),
        ("location", _) => ("location-text", "fix-location", "f-location"),
        ("submitter", "submitter.email") => ("email", "fix-email", "f-email"),
        ("submitter", "submitter.name") => ("your-name", "fix-name", "f-name"),
        ("submitter", _) => ("phone", "fix-phone", "f-phone"),
        ("situation", _) => ("situation", "fix-situation", "f-situation"),
        ("destination_country", _) => (
            "destination-country",
            "fix-destination-country",
            "f-destination_country",
        ),
        ("urgency", _) => ("urgency-legend", "fix-urgency", "f-urgency"),
        ("consent", _) => ("consent-short", "fix-consent", "f-consent"),
        ("surname", _) => ("surname", "fix-surname", "f-surname"),
        ("given_names", _) => ("given-names", "fix-given-names", "f-given_names"),
        ("birth_date", _) => ("birth-date", "fix-birth-date", "f-birth_date"),
        ("relation", _) => ("relation", "fix-relation", "f-relation"),
        ("needs", _) => ("needs", "fix-needs", "f-need"),
        ("medical_note", _) => ("medical-note", "fix-medical-note", "f-medical_note"),
        // A person's field the form does not ask (a document, citizenship): their line.
        (
            "sex"
            | "citizenship"
            | "document_type"
            | "document_number"
            | "document_expiry"
            | "document_issuing_state"
            | "age_years"
            | "phones"
            | "email"
            | "patronymic",
            _,
        ) => ("party-legend", "fix-other", "f-surname"),
        ("party", _) | ("", _) => ("party-legend", "fix-party", "f-party"),
        _ => ("party-legend", "fix-other", "errors"),
    }
}

#[derive(Template)]
#[template(path = "request_form.html")]
pub struct RequestForm {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub values: RequestFormValues,
    pub problems: FormProblems,
}

impl RequestForm {
    pub fn new(lang: Lang, mut values: RequestFormValues, errors: Vec<FieldProblem>) -> Self {
        values.party_rows_shown();
        RequestForm {
            t: Tr { lang },
            langs: switch(lang, &Lang::PUBLIC),
            values,
            problems: FormProblems::new(lang, &errors),
        }
    }

    fn checked(&self, urgency: &str) -> bool {
        self.values.has_urgency(urgency)
    }
}

impl RequestFormValues {
    fn has_urgency(&self, urgency: &str) -> bool {
        self.urgency.iter().any(|u| u == urgency)
    }
}

#[derive(Template)]
#[template(path = "request_done.html")]
pub struct RequestDone {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub reference: String,
}

impl RequestDone {
    pub fn new(lang: Lang, reference: String) -> Self {
        RequestDone {
            t: Tr { lang },
            langs: switch(lang, &Lang::PUBLIC),
            reference,
        }
    }
}

/// What the status page shows: no names, only the status and the next step.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicStatus {
    pub people: u64,
    /// A person status (registered, notified, …): picks the messages.
    pub status: String,
    pub seats: Vec<PublicSeatLine>,
    pub messages: Vec<PublicMessageLine>,
}

/// A seat on the public status page, in the hub's local time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PublicSeatLine {
    pub person: String,
    pub transport: String,
    pub hub: String,
    pub departs: String,
    pub be_there: String,
    pub pass_code: String,
    /// The seat's number on the transport ("" when it has none).
    pub seat_number: String,
    /// The pass as a QR code (a data: URI), while the seat is held.
    pub qr: Option<String>,
    /// Given up (moved, lost, released): shown struck through.
    pub given_up: bool,
}

/// A message evac sent the requester, with how far it got.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PublicMessageLine {
    pub at: String,
    pub channel: String,
    /// queued, sending, sent, delivered, failed, given_up
    pub state: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub reference: String,
    pub phone: String,
    pub result: Option<PublicStatus>,
    pub not_found: bool,
}

impl StatusPage {
    pub fn new(
        lang: Lang,
        reference: String,
        phone: String,
        result: Option<PublicStatus>,
        not_found: bool,
    ) -> Self {
        StatusPage {
            t: Tr { lang },
            langs: switch(lang, &Lang::PUBLIC),
            reference,
            phone,
            result,
            not_found,
        }
    }

    fn status_text(&self, status: &str) -> String {
        let key = format!("status-{status}");
        if self.t.has(&key) {
            self.t.get(&key)
        } else {
            self.t.get("status-other")
        }
    }

    fn next_text(&self, status: &str) -> String {
        self.t.get(match status {
            "registered" | "verified" => "next-registered",
            "notified" => "next-notified",
            _ => "next-other",
        })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub failed: bool,
    pub name: String,
}

impl LoginPage {
    pub fn new(lang: Lang, failed: bool, name: String) -> Self {
        LoginPage {
            t: Tr { lang },
            langs: switch(lang, &Lang::DESK),
            failed,
            name,
        }
    }
}

/// Who is signed in, for the desk's header.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskUser {
    pub name: String,
    pub role: String,
    /// The desk pages this staff member's role opens (the nav shows only those).
    pub pages: DeskPages,
}

/// Which desk pages a role opens; the web crate fills it from the role table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeskPages {
    pub requests: bool,
    /// The pages of talking to people (inbox, outbox, hotline, callbacks): they show phones
    /// and messages.
    pub contacts: bool,
    pub review: bool,
    pub situation: bool,
    pub planning: bool,
    pub check_in: bool,
    pub users: bool,
    pub audit: bool,
    pub broadcast: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct Dashboard {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub requests: u64,
    pub people: u64,
    pub by_status: Vec<(String, u64)>,
    /// (the place's request list, the place, requests there)
    pub by_place: Vec<(String, String, u64)>,
    pub dots: Vec<MapDot>,
    pub hubs: Vec<MapHub>,
    /// Requests per hour as bars, oldest first.
    pub hours: Vec<HourBar>,
    /// The busiest hour's requests: the chart's scale.
    pub hours_peak: u64,
    /// Households and people per priority class, with when they were ranked; `None` while
    /// the first ranking is being made.
    pub by_class: Option<(String, Vec<ClassLine>)>,
    /// (mark, households, "N people") from the same ranking: medical emergencies, unaccompanied
    /// minors, households in zones of high threat.
    pub by_mark: Vec<(String, usize, String)>,
    /// Pairs waiting in the duplicate review queue (from the same ranking).
    pub reviews_waiting: Option<usize>,
    /// (hub, seats free on its transports, people without a seat who can reach it), busiest
    /// first, from the same ranking.
    pub hub_loads: Vec<(String, u32, u32)>,
    /// People holding a seat no notice was accepted for yet.
    pub unreached: u64,
    /// Messages from requesters waiting for a human, and since when the oldest.
    pub inbox_waiting: u64,
    pub inbox_oldest: Option<String>,
}

/// A message to or from a request's people, on its page.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageLine {
    pub at: String,
    /// To the requester (from evac's outbox), or from them.
    pub outbound: bool,
    /// The recipient or the sender.
    pub party: String,
    pub channel: String,
    pub state: String,
    /// Why it failed, if it did.
    pub error: String,
    pub text: String,
    pub parts: u32,
}

/// The call form's values as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallValues {
    /// `outbound` or `inbound`.
    pub direction: String,
    /// Empty until the operator chooses.
    pub outcome: String,
    pub phone: String,
    pub note: String,
    pub callback_in_minutes: String,
}

/// A call in a request's call log.
#[derive(Debug, Clone, PartialEq)]
pub struct CallLine {
    pub at: String,
    /// "they called", "we called".
    pub direction: String,
    pub outcome: String,
    pub phone: String,
    pub operator: String,
    pub note: String,
}

/// A request in the callback queue.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackLine {
    pub request_id: String,
    pub reference: String,
    pub place: String,
    pub phones: String,
    pub due: String,
    /// Whether it is due now.
    pub due_now: bool,
    pub reason: String,
    pub attempts: u32,
    /// The operator holding it, while they do.
    pub held_by: String,
}

/// The hotline's callback queue: who to call next.
#[derive(Template)]
#[template(path = "callbacks.html")]
pub struct CallbacksPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub callbacks: Vec<CallbackLine>,
    /// Whether this staff member may take calls.
    pub can_call: bool,
    /// Said after "take the next": nothing is due.
    pub nothing_due: bool,
}

/// A priority class on the dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassLine {
    pub class: u8,
    pub name: String,
    pub households: usize,
    pub people: usize,
}

/// One bar of the requests-per-hour chart, in the chart's view box (720 × 120).
#[derive(Debug, Clone, PartialEq)]
pub struct HourBar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub label: String,
    /// A break in time (hours without requests, left out) rather than an hour.
    pub gap: bool,
}

/// The chart's bars for (hour label, requests; `None` for a break in time), scaled to the
/// busiest hour, whose count is the chart's scale.
pub fn hour_bars(hours: &[(String, Option<u64>)]) -> Vec<HourBar> {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 110.0;
    let most = hour_peak(hours).max(1) as f64;
    let step = WIDTH / hours.len().max(1) as f64;
    hours
        .iter()
        .enumerate()
        .map(|(i, (label, n))| {
            let height = match n {
                Some(n) => HEIGHT * *n as f64 / most,
                None => HEIGHT,
            };
            HourBar {
                x: format!("{:.1}", i as f64 * step),
                y: format!("{:.1}", 120.0 - height),
                width: format!("{:.1}", (step - 1.0).max(1.0)),
                height: format!("{height:.1}"),
                label: match n {
                    Some(n) => format!("{label}: {n}"),
                    None => label.clone(),
                },
                gap: n.is_none(),
            }
        })
        .collect()
}

/// The busiest hour's count: the top of the chart's scale.
pub fn hour_peak(hours: &[(String, Option<u64>)]) -> u64 {
    hours.iter().filter_map(|h| h.1).max().unwrap_or(0)
}

impl Dashboard {
    fn map(&self) -> &'static Basemap {
        basemap()
    }
}

/// One line of the request list.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestLine {
    pub id: String,
    pub reference: String,
    pub received: String,
    pub place: String,
    pub party: String,
    pub channel: String,
    /// Its people's statuses, counted ("2 verified, 1 registered").
    pub statuses: String,
}

/// The list's filters as the form shows them: what was chosen, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestFilterValues {
    pub status: String,
    pub channel: String,
    pub place: String,
    pub received_from: String,
    pub received_until: String,
    /// `true`, `false` or empty.
    pub has_minors: String,
    /// `me` or empty.
    pub assignee: String,
    /// A two-letter country code, or empty.
    pub citizenship: String,
    /// A need's name, or empty.
    pub need: String,
    pub has_duplicates: bool,
    /// A town chosen on the dashboard (its gazetteer id) and its name, or empty.
    pub town: String,
    pub town_name: String,
}

impl RequestFilterValues {
    /// Whether the list is filtered to this citizenship (a select's chosen option; `kz` is KZ).
    pub fn citizenship_is(&self, code: &str) -> bool {
        self.citizenship.eq_ignore_ascii_case(code)
    }

    /// Whether the list is filtered to this need.
    pub fn need_is(&self, need: &str) -> bool {
        self.need == need
    }
}

/// What a bulk status change did, shown above the list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BulkNotice {
    pub changed: u64,
    pub unchanged: u64,
    /// Every refusal: "ABCD-EFGH (person …): why".
    pub refused: Vec<String>,
}

/// A household as a case officer works it.
#[derive(Template)]
#[template(path = "household.html")]
pub struct HouseholdPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    /// The request the page was opened by (the forms' addresses).
    pub id: String,
    /// The household's reference: its first request's.
    pub reference: String,
    /// "2 · Vulnerable", while someone in it waits for a seat.
    pub class: Option<String>,
    pub reasons: Vec<String>,
    /// Its place in the desk's kept ranking (1 is served first).
    pub rank: Option<usize>,
    pub requests: Vec<HouseholdRequestLine>,
    pub people: Vec<HouseholdPersonLine>,
    pub links: Vec<HouseholdLinkLine>,
    pub can_undo_links: bool,
    /// (status, its name) this staff member may give everyone at once.
    pub status_choices: Vec<(String, String)>,
    /// Who holds it ("" when nobody does), as the holder form expects it back.
    pub holder: String,
    /// Whether this staff member may take it (a request of it nobody holds) or give it up (a
    /// request of it they hold), and which requests each would change.
    pub may_take: bool,
    pub may_give_up: bool,
    pub unheld: Vec<String>,
    pub mine: Vec<String>,
    /// Staff a supervisor may give it to (user names); empty for everyone else.
    pub officers: Vec<String>,
    pub notice: Option<BulkNotice>,
}

/// One request of a household.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdRequestLine {
    pub id: String,
    pub reference: String,
    pub received: String,
    pub channel: String,
    pub place: String,
    /// The country it asks the household to be taken to, or empty: two requests naming two
    /// countries are both served (a transport to either), and the page shows both.
    pub destination_country: String,
}

/// One person of a household, with the request they were named in.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdPersonLine {
    pub name: String,
    pub birth: String,
    pub relation: String,
    pub needs: String,
    pub status: String,
    /// "KC 7021, 06.01 14:30 (held)" when they hold a seat.
    pub seat: String,
    pub reference: String,
}

/// One link of a household: two records taken for one person, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct HouseholdLinkLine {
    pub seq: i64,
    /// "Name (reference)".
    pub a: String,
    pub b: String,
    /// Who decided and when.
    pub decided: String,
    pub probability: String,
    /// The field weights, strongest first: "surname: same +6.1; birth date: same +5.0".
    pub evidence: String,
}

#[derive(Template)]
#[template(path = "requests.html")]
pub struct RequestList {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub q: String,
    pub filters: RequestFilterValues,
    /// (value, label) of every person status and every channel, for the filters.
    pub status_options: Vec<(String, String)>,
    pub channel_options: Vec<(String, String)>,
    /// Problems of the filter form, each naming its field.
    pub problems: Vec<String>,
    pub lines: Vec<RequestLine>,
    /// The query string of this view (filters, search, language), for the next page, the
    /// bulk form's return and the exports.
    pub view_query: String,
    /// The query string of the next page, if there is one.
    pub next: Option<String>,
    /// (label, address) of the exports of this view, when the role may export.
    pub exports: Vec<(String, String)>,
    /// (value, label) of the statuses this role may give a selection; empty: no bulk form.
    pub bulk_statuses: Vec<(String, String)>,
    pub notice: Option<BulkNotice>,
    /// "128 requests in this view" (or "more than 1,000"); empty when the filter was refused.
    pub count: String,
    /// Whether the oldest received come first, and the link that turns the order round.
    pub oldest_first: bool,
    pub sort_link: String,
    /// Who the chosen requests may be given to (the staff member alone, or for a supervisor
    /// everyone who works cases), and what the last such change did.
    pub officers: Vec<String>,
    pub held_notice: Option<String>,
}

impl Tr {
    /// A person status's name on the desk (`verified` → "Verified", "Проверен").
    pub fn status_name(&self, code: &str) -> String {
        self.get(&format!("st-{code}"))
    }

    /// A channel's name on the desk.
    pub fn channel_name(&self, code: &str) -> String {
        self.get(&format!("ch-{code}"))
    }

    /// A staff role's name on the desk (`case_officer` → "case officer").
    pub fn role_name(&self, code: &str) -> String {
        self.get(&format!("rl-{code}"))
    }

    /// A transport's kind on the desk ("flight" is «самолёт» on the Russian desk).
    pub fn transport_kind_name(&self, code: &str) -> String {
        self.get(&format!("transport-kind-{code}"))
    }

    /// A transport status's name on the desk.
    pub fn transport_status_name(&self, code: &str) -> String {
        self.get(&format!("tst-{code}"))
    }
}

/// A person of the request and a record of them in another request, as linkage merged them.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkLine {
    pub person: String,
    /// A case officer decided the two are two people (the line's seq is that decision);
    /// otherwise they are one person (the seq is the merge).
    pub told_apart: bool,
    pub other_request_id: String,
    pub other_reference: String,
    /// The link event's sequence number: what an undo names.
    pub seq: i64,
}

/// One table of a request's links: its element id, its heading's and undo button's message
/// keys, and its lines.
pub struct LinkTable<'a> {
    pub id: &'static str,
    pub title: &'static str,
    pub undo: &'static str,
    pub lines: Vec<&'a LinkLine>,
}

impl RequestDetail {
    /// The merges of this request's people with records elsewhere, then the standing "two
    /// people" decisions about them; only tables with lines.
    pub fn link_tables(&self) -> Vec<LinkTable<'_>> {
        [
            (false, "links", "same-person-elsewhere", "undo-link"),
            (
                true,
                "told-apart",
                "told-apart-elsewhere",
                "undo-told-apart",
            ),
        ]
        .into_iter()
        .map(|(told_apart, id, title, undo)| LinkTable {
            id,
            title,
            undo,
            lines: self
                .links
                .iter()
                .filter(|l| l.told_apart == told_apart)
                .collect(),
        })
        .filter(|table| !table.lines.is_empty())
        .collect()
    }
}

/// One person of a request, as the detail page shows them.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonLine {
    pub name: String,
    pub latin: String,
    pub birth: String,
    pub relation: String,
    pub needs: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "request_detail.html")]
pub struct RequestDetail {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    /// The request's id, for the forms' addresses.
    pub id: String,
    pub reference: String,
    pub received: String,
    pub channel: String,
    pub location: String,
    /// The town planning reads the location as, or the towns it could be.
    pub town: String,
    /// Why the location reads as it does (the country or region that decided, or why several
    /// towns remain), in English from the gazetteer.
    pub town_reason: String,
    /// The country the household asks to be taken to, or empty (anywhere safe).
    pub destination_country: String,
    pub situation: String,
    pub submitter: String,
    pub urgency: String,
    /// Whether contacts, messages, calls and case notes are hidden from this staff member's
    /// role (field-level access).
    pub withheld: bool,
    pub people: Vec<PersonLine>,
    /// Each person's records in other requests that linkage took for the same person, and
    /// those a case officer told apart from them.
    pub links: Vec<LinkLine>,
    /// Whether this role may undo a link ("two people").
    pub can_undo_links: bool,
    pub seats: Vec<SeatLine>,
    pub history: Vec<HistoryRow>,
    /// Messages to and from the request's people, newest first.
    pub messages: Vec<MessageLine>,
    /// Calls to and from the request's people, oldest first.
    pub calls: Vec<CallLine>,
    /// When and why it waits in the callback queue, if it does.
    pub callback: Option<String>,
    /// Whether this staff member may log calls, and the call form's values (kept when a
    /// call was refused, with why, shown at the form).
    pub can_call: bool,
    pub call: CallValues,
    pub call_problem: Option<String>,
    /// The people a change or note may be about: (person id, name).
    pub person_choices: Vec<(String, String)>,
    /// The statuses this staff member may set by hand.
    pub status_choices: Vec<String>,
    /// Whether this staff member may add notes.
    pub can_note: bool,
    /// The request's fields as the correction form shows them (for staff who may correct).
    pub correction: Option<CorrectionValues>,
    /// The add-person form: empty and closed, or open as it was filled in when refused.
    pub addition: AdditionValues,
    pub problem: Option<String>,
}

/// The add-person form's values, as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdditionValues {
    pub open: bool,
    pub surname: String,
    pub given_names: String,
    pub patronymic: String,
    pub birth_date: String,
    pub sex: String,
    pub citizenship: String,
    /// Empty: the form's default (`other`).
    pub relation: String,
    pub document_type: String,
    pub document_number: String,
    pub needs: String,
    pub medical_note: String,
    pub reason: String,
}

impl AdditionValues {
    /// Whether the relation select shows `relation` chosen.
    pub fn relation_is(&self, relation: &str) -> bool {
        if self.relation.is_empty() {
            relation == "other"
        } else {
            self.relation == relation
        }
    }
}

/// A request's correctable fields, as text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorrectionValues {
    pub location: String,
    pub country: String,
    pub destination_country: String,
    pub situation: String,
    pub urgency: Vec<String>,
    pub submitter_name: String,
    /// One number per line.
    pub phones: String,
    pub email: String,
}

impl CorrectionValues {
    fn urgent(&self, code: &&str) -> bool {
        self.urgency.iter().any(|u| u == code)
    }
}

/// The case list: households in the order triage serves them.
#[derive(Template)]
#[template(path = "cases.html")]
pub struct CasesPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    /// When the households were ranked (UTC).
    pub ranked_at: String,
    /// Households the filter lets through.
    pub total: usize,
    /// The class filtered on ("" for every class), and the classes to choose from.
    pub class: String,
    pub classes: Vec<(String, String)>,
    /// The mark filtered on ("" for any), and the marks to choose from.
    pub mark: String,
    pub marks: Vec<(String, String)>,
    /// Whether only the caller's households are shown.
    pub mine: bool,
    /// Filter values that could not be read, each named.
    pub problems: Vec<String>,
    /// (format, link) of each export of this view; none for roles that may not export.
    pub exports: Vec<(String, String)>,
    pub lines: Vec<CaseLine>,
    /// The previous and next pages of the same view.
    pub prev: Option<String>,
    pub next: Option<String>,
}

/// One household of the case list.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseLine {
    /// 1 is served first.
    pub rank: usize,
    pub reference: String,
    pub request_id: String,
    pub class: u8,
    pub class_name: String,
    pub people: usize,
    pub requests: usize,
    pub place: String,
    pub reasons: String,
}

/// A desk page that could not be shown, and why, in the words of the API's problem.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub heading: String,
    pub detail: String,
    /// Where the page leads on (its link, and the brand's): the desk for staff, the request
    /// form for the public.
    pub onward_href: String,
    pub onward: String,
}

impl ErrorPage {
    /// An error on the desk, leading back to it.
    pub fn desk(lang: Lang, heading: String, detail: String) -> Self {
        Self::leading_to(lang, &Lang::DESK, "/desk", "back-to-desk", heading, detail)
    }

    /// An error on the public side, leading to the request form.
    pub fn public(lang: Lang, heading: String, detail: String) -> Self {
        Self::leading_to(
            lang,
            &Lang::PUBLIC,
            "/request",
            "public-title",
            heading,
            detail,
        )
    }

    /// The page in `lang` among `langs`, leading to `page` under the link `onward_key` names.
    fn leading_to(
        lang: Lang,
        langs: &[Lang],
        page: &str,
        onward_key: &str,
        heading: String,
        detail: String,
    ) -> Self {
        let t = Tr { lang };
        ErrorPage {
            t,
            langs: switch(lang, langs),
            heading,
            detail,
            onward_href: format!("{page}?lang={}", lang.code()),
            onward: t.get(onward_key),
        }
    }
}

/// A seat a person of a request holds, with the pass for staff who may read passes.
#[derive(Debug, Clone, PartialEq)]
pub struct SeatLine {
    pub person: String,
    pub transport: String,
    /// The seat's number on the transport ("" when it has none).
    pub seat_number: String,
    pub departs: String,
    pub state: String,
    /// The pass's QR code as an image address (`data:image/svg+xml;base64,…`).
    pub qr: Option<String>,
    pub token: Option<String>,
}

/// One line of a request's history: a status change or a note.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub person: String,
    /// "notified → withdrawn", or empty for a note.
    pub change: String,
    pub reason: String,
}

/// A transport line of the planning page.
#[derive(Debug, Clone, PartialEq)]
pub struct TransportLine {
    pub id: String,
    pub code: String,
    pub hub: String,
    pub destination: String,
    pub departs: String,
    pub seats: u32,
    /// What else bounds it, in figures and codes ("40000 kg · 20 kg/person · RU"); may be empty.
    pub limits: String,
    pub status: String,
}

/// A household whose seat changed; `kind` is `moved`, `gained` or `lost` (a message key).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeLine {
    pub kind: String,
    pub household: String,
    pub people: u32,
    pub from: String,
    pub to: String,
    pub why: String,
}

/// What a preview or a publication gave.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanResult {
    pub households_seated: usize,
    pub people_seated: u32,
    pub waiting: usize,
    pub passes_issued: usize,
    pub changes: Vec<ChangeLine>,
    /// Households that gained a seat beyond the lines shown (the manifests list everyone).
    pub gained_not_shown: usize,
    /// The first waiting households with their reasons, in words.
    pub waiting_examples: Vec<String>,
    /// Waiting households beyond those shown (`evac plan` and the cases page list them all).
    pub waiting_not_shown: usize,
}

#[derive(Template)]
#[template(path = "planning.html")]
pub struct PlanningPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub transports: Vec<TransportLine>,
    /// Whether the user may add transports and plan (planners and supervisors).
    pub can_plan: bool,
    pub at: String,
    pub result: Option<PlanResult>,
    pub problem: Option<String>,
    /// The add-transport form's values: empty, or what was sent when it was refused.
    pub transport_form: TransportFormValues,
    /// What a transport action did ("KC-1: 3 seats released, 2 standby households seated").
    pub notice: Option<String>,
    /// Whether the user may release no-shows' seats (planners, field officers, supervisors).
    pub can_release: bool,
    pub transport_filters: TransportFilterValues,
}

/// The transport list's filter as chosen, its column links and its count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransportFilterValues {
    /// A status, or empty.
    pub status: String,
    pub hub: String,
    /// The order shown (`departure`, `code`, `hub`, `seats`).
    pub order: String,
    /// (order, the list's link in that order) for the column headers.
    pub order_links: Vec<(&'static str, String)>,
    /// "3 / 12" (shown, of all), or "12".
    pub count: String,
    /// The filter's problems, each "parameter: why".
    pub problems: Vec<String>,
}

impl TransportFilterValues {
    /// The link that lists the transports in `order`.
    pub fn order_link(&self, order: &str) -> String {
        self.order_links
            .iter()
            .find(|(o, _)| *o == order)
            .map_or_else(String::new, |(_, href)| href.clone())
    }

    pub fn ordered_by(&self, order: &str) -> bool {
        self.order == order
    }

    pub fn status_is(&self, status: &str) -> bool {
        self.status == status
    }
}

/// The add-transport form as it was filled in (kept when the planner must fix a field).
#[derive(Debug, Clone, PartialEq)]
pub struct TransportFormValues {
    /// Whether the form is shown open (it was refused).
    pub open: bool,
    pub code: String,
    pub kind: String,
    pub hub: String,
    pub destination: String,
    pub departs_at: String,
    pub seats: String,
    pub stretcher_places: String,
    pub wheelchair_places: String,
    pub escorts: String,
    pub payload_kg: String,
    pub baggage_kg_per_person: String,
    pub carries_citizens_of: String,
    pub lands_in: String,
    /// A military or state transport (the checkbox was ticked).
    pub military: bool,
    /// For a feeder: the hub it ends at, and when it arrives there.
    pub feeds_hub: String,
    pub arrives_at: String,
}

impl Default for TransportFormValues {
    fn default() -> Self {
        TransportFormValues {
            open: false,
            code: String::new(),
            kind: "flight".into(),
            hub: String::new(),
            destination: String::new(),
            departs_at: String::new(),
            seats: String::new(),
            stretcher_places: "0".into(),
            wheelchair_places: "0".into(),
            escorts: "0".into(),
            payload_kg: String::new(),
            baggage_kg_per_person: String::new(),
            carries_citizens_of: String::new(),
            lands_in: String::new(),
            military: false,
            feeds_hub: String::new(),
            arrives_at: String::new(),
        }
    }
}

/// What a scan gave: a passenger to compare with the document, or why it was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanOutcome {
    pub ok: bool,
    pub verdict: String,
    pub detail: String,
    pub name: String,
    pub birth_date: String,
    pub document: String,
    pub household: String,
    pub transport: String,
    /// The seat's number on the transport ("" when it has none).
    pub seat_number: String,
}

#[derive(Template)]
#[template(path = "check_in.html")]
pub struct CheckInPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub token: String,
    pub outcome: Option<ScanOutcome>,
    /// The transports the gate can serve: (id, "KC-1 · NQZ · 2022-01-06 16:00").
    pub transports: Vec<(String, String)>,
    /// The one this gate serves (kept from scan to scan), if chosen.
    pub transport: String,
    /// What recording a household present at the hub did, or why it was refused.
    pub presence: Option<PresenceOutcome>,
    /// The hub the presence form names (kept from one household to the next).
    pub presence_hub: String,
}

/// What the gate's "present at the hub" form did.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceOutcome {
    pub ok: bool,
    pub text: String,
}

#[derive(Template)]
#[template(path = "about.html")]
pub struct AboutPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
}

/// One compared field of a review pair.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    pub label: String,
    pub a: String,
    pub b: String,
    pub differs: bool,
}

/// A pair waiting for a case officer's decision, side by side with the per-field weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPair {
    pub seq: i64,
    /// "87 %".
    pub probability: String,
    pub rows: Vec<CompareRow>,
    /// (field, agreement level, weight in bits as text).
    pub weights: Vec<(String, String, String)>,
    /// Why the pair needs a human, strongest first, in the desk's language.
    pub doubts: Vec<String>,
    /// How to read the weights, where they do not simply add up to the probability: the
    /// household answer was shown, or the names were compared the other way round.
    pub notes: Vec<String>,
}

/// A message from a requester waiting for a human.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxLine {
    pub id: String,
    pub received: String,
    pub channel: String,
    pub sender: String,
    pub text: String,
    /// The request it is attached to; none when it is unmatched.
    pub request_id: Option<String>,
    pub state: String,
    /// The hotline form prefilled with the sender and the text: a plea becomes a draft request.
    pub draft_link: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub struct InboxPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    /// The state shown ("" for every one waiting for a human), and (state, its name) to choose.
    pub shown: String,
    pub states: Vec<(String, String)>,
    /// A state that could not be read, named.
    pub problems: Vec<String>,
    /// "12 messages listed".
    pub count: String,
    /// Whether the list holds as many as a page lists (older ones are not shown).
    pub full: bool,
    pub lines: Vec<InboxLine>,
}

/// One message to a requester, as the outbox page lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxLine {
    pub at: String,
    pub request_id: Option<String>,
    pub recipient: String,
    pub channel: String,
    pub template: String,
    /// `queued`, `sending`, `sent`, `delivered`, `failed`, `given_up`.
    pub state: String,
    pub attempts: u32,
    pub parts: u32,
    /// Why the last attempt failed (the channel's words), if it did.
    pub error: String,
    pub text: String,
}

/// The outbox: every message to requesters, newest first, by state; who was not reached.
#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    /// The state listed (empty: all).
    pub state: String,
    /// (state, messages in it), every state.
    pub counts: Vec<(String, u64)>,
    pub lines: Vec<OutboxLine>,
    /// The most lines one page shows.
    pub limit: u32,
}

/// What a broadcast form holds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BroadcastValues {
    pub text: String,
    pub text_ru: String,
    pub text_kk: String,
    pub text_it: String,
    pub text_en: String,
    pub place: String,
    pub transport: String,
    pub status: String,
}

/// A broadcast's preview: who it reaches and what they read.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastPreviewView {
    pub id: String,
    pub requests: u64,
    pub recipients: u64,
    pub unreachable_requests: u64,
    /// "sms: 120, email: 3"
    pub by_channel: String,
    pub samples: Vec<BroadcastSampleView>,
}

/// A requester's language by its own name (`ru` → Русский); an unknown code as it is.
pub fn language_name(code: &str) -> String {
    match code {
        "en" => "English",
        "ru" => "Русский",
        "kk" => "Қазақша",
        "it" => "Italiano",
        "de" => "Deutsch",
        "fr" => "Français",
        "ky" => "Кыргызча",
        "uz" => "Oʻzbekcha",
        other => other,
    }
    .to_string()
}

/// What one language's recipients read, and what it costs them in SMS.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastSampleView {
    pub language: String,
    pub text: String,
    pub recipients: u64,
    pub sms_parts: u32,
}

/// The broadcast page: the form, then its preview with the send button.
#[derive(Template)]
#[template(path = "broadcast.html")]
pub struct BroadcastPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub values: BroadcastValues,
    /// Transport codes to choose from.
    pub transports: Vec<String>,
    pub preview: Option<BroadcastPreviewView>,
    /// How many messages the last send queued.
    pub sent: Option<u64>,
    pub errors: Vec<FieldProblem>,
    /// What the last re-confirmation run did, in words.
    pub reconfirmed: Option<String>,
}

/// The statuses a broadcast's group can be chosen by.
pub const BROADCAST_STATUSES: [&str; 5] = [
    "registered",
    "verified",
    "assigned",
    "notified",
    "checked_in",
];

/// A request the caller's phone belongs to, on the hotline desk.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownRequest {
    pub id: String,
    pub reference: String,
    pub received: String,
    pub place: String,
    pub party: String,
    /// The furthest status of its people.
    pub status: String,
    pub channel: String,
}

/// The hotline desk: who is calling (the requests their phone belongs to) and a request
/// taken down on the phone.
#[derive(Template)]
#[template(path = "hotline.html")]
pub struct HotlinePage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub phone: String,
    pub looked_up: bool,
    pub known: Vec<KnownRequest>,
    /// The reference of the request just saved.
    pub saved: Option<String>,
    /// The caller's language (the notices' language).
    pub language: String,
    pub languages: Vec<LangChoice>,
    pub values: RequestFormValues,
    pub problems: FormProblems,
}

impl HotlinePage {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        lang: Lang,
        user: DeskUser,
        phone: String,
        known: Option<Vec<KnownRequest>>,
        saved: Option<String>,
        language: String,
        mut values: RequestFormValues,
        errors: Vec<FieldProblem>,
    ) -> Self {
        values.party_rows_shown();
        HotlinePage {
            t: Tr { lang },
            langs: switch(lang, &Lang::DESK),
            user,
            phone,
            looked_up: known.is_some(),
            known: known.unwrap_or_default(),
            saved,
            language,
            languages: switch(lang, &Lang::PUBLIC),
            values,
            problems: FormProblems::new(lang, &errors),
        }
    }

    fn checked(&self, urgency: &str) -> bool {
        self.values.has_urgency(urgency)
    }
}

#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub pairs: Vec<ReviewPair>,
    /// The filter's problems, each "parameter: why".
    pub problems: Vec<String>,
    pub filters: ReviewFilterValues,
    /// "12 / 340 pairs waiting" (what the filter lets through, of all).
    pub count: String,
    /// "1–20", or empty.
    pub shown: String,
    /// Whether no pair waits under this filter (else an empty page is past the last one).
    pub none_waiting: bool,
    pub previous: Option<String>,
    pub next: Option<String>,
    /// This view's query ("?lang=ru&order=likely&…&from=20"): a decision made from it comes
    /// back to it, its filter, order and page kept.
    pub view_query: String,
}

/// The review queue's filter form as chosen.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewFilterValues {
    pub order: String,
    /// (value, label) of each order.
    pub orders: Vec<(&'static str, String)>,
    /// Percent, or empty.
    pub probability_min: String,
    pub probability_max: String,
}

impl ReviewFilterValues {
    pub fn order_is(&self, order: &str) -> bool {
        self.order == order
    }
}

/// A hub, route or zone with its derived status.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectLine {
    pub subject: String,
    pub name: String,
    pub status: String,
    /// A CSS class: open, restricted, closed, threat or unknown.
    pub status_class: String,
    pub agreement: String,
    pub conflicts: String,
    /// What was last known when the status is unknown because its claims expired.
    pub last_known: String,
}

/// A report on the board.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    pub id: String,
    pub received: String,
    pub source: String,
    pub excerpt: String,
    pub mentions: String,
    /// What it states: "hub:ALA closed · route:almaty-airport open".
    pub says: String,
    pub grade: String,
    pub state: String,
}

#[derive(Template)]
#[template(path = "situation.html")]
pub struct SituationPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub hubs: Vec<SubjectLine>,
    pub routes: Vec<SubjectLine>,
    pub zones: Vec<SubjectLine>,
    pub reports: Vec<ReportLine>,
    /// Whether the user may ingest and judge reports.
    pub can_edit: bool,
    /// The grades and states offered.
    pub grades: Vec<String>,
    pub states: Vec<String>,
    pub problem: Option<String>,
    /// A word after an action that changed nothing (a report pasted twice).
    pub notice: Option<String>,
}

impl SituationPage {
    fn sections(&self) -> [(String, &Vec<SubjectLine>); 3] {
        [
            (self.t.get("hubs"), &self.hubs),
            (self.t.get("routes"), &self.routes),
            (self.t.get("zones"), &self.zones),
        ]
    }
}

#[derive(Template)]
#[template(path = "users.html")]
pub struct UsersPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    pub users: Vec<UserLine>,
    pub roles: Vec<String>,
    pub problem: Option<String>,
}

/// A staff account on the users page, with its working tokens and sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLine {
    pub name: String,
    pub role: String,
    pub created: String,
    pub disabled: bool,
    /// (id, label, created) of each working token or desk session.
    pub tokens: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub t: Tr,
    pub langs: Vec<LangChoice>,
    pub user: DeskUser,
    /// (sequence, when, who, action, subject, detail).
    pub events: Vec<(i64, String, String, String, String, String)>,
    /// The sequence to continue after, if there may be more.
    pub next: Option<i64>,
}

/// A page, rendered: templates are checked at compile time, so rendering fails only on a
/// formatting error of a value, which is a bug.
pub fn render(page: &impl Template) -> String {
    page.render()
        .unwrap_or_else(|e| format!("<!doctype html><title>evac</title><p>page error: {e}</p>"))
}

#[cfg(test)]
mod tests;
