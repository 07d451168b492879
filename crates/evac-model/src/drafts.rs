//! One typed door per write: every write staff make (besides a request, whose draft lives in
//! `request.rs`) arrives as a draft of plain text, decoded alike from the JSON API, the desk's
//! forms and the command line, and is checked here once into the typed value the app's use
//! case takes. Every problem names its field, so both doors answer a bad input the same way.
//!
//! Drafts refuse fields they do not know (a typo is a clear error, not a silent default), and
//! take numbers and booleans as JSON values or as a form's text ([`scalar`]).
//!
//! What needs the store (does the hub exist, does the town resolve, may this role do it)
//! stays in the app; what a field must look like is decided here.

use serde::Deserialize;

use crate::checks::{Checker, quoted, scalar};
use crate::{
    Effect, FieldError, Grade, Hub, HubKind, PersonStatus, ReportState, Role, RouteMode, Statement,
    Subject, TRANSPORT_SEATS_MAX, Timestamp, Transport, TransportId, TransportKind,
    TransportStatus, valid_code,
};

/// A note or the reason for a change, kept in a person's history, is at most this long.
pub const NOTE_CHARS_MAX: usize = 2_000;
/// A password is at least this long (a passphrase of a few words).
pub const PASSWORD_CHARS_MIN: usize = 10;
/// A transport's code ("SU 1942", "KC-7042", "bus 3") is at most this long.
pub const TRANSPORT_CODE_CHARS_MAX: usize = 20;
/// Zones are at most this wide (a whole region; a country is no zone).
pub const ZONE_RADIUS_KM_MAX: f64 = 500.0;
/// A triage policy's TOML is at most this long.
pub const POLICY_BYTES_MAX: usize = 64 * 1024;

// ---- transports ----------------------------------------------------------------------------

/// A flight, bus, train or convoy as a planner enters it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "code": "RF 7042", "kind": "flight", "hub": "NQZ", "destination": "Moscow (Chkalovsky)", "departs_at": "2022-01-09T14:00", "seats": 120, "escorts": 4, "carries_citizens_of": "RU, BY" }))]
pub struct TransportDraft {
    /// Required: the flight number or the bus's name, letters, digits, spaces and dashes.
    #[serde(deserialize_with = "scalar")]
    #[schema(example = "SU 1942")]
    pub code: Option<String>,
    /// Required.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<TransportKind>)]
    pub kind: Option<String>,
    /// Required: the code of the hub it leaves from.
    #[serde(deserialize_with = "scalar")]
    #[schema(example = "NQZ")]
    pub hub: Option<String>,
    /// Required: where it takes people.
    #[serde(deserialize_with = "scalar")]
    #[schema(example = "Moscow")]
    pub destination: Option<String>,
    /// Required: RFC 3339, or a wall-clock time without an offset (`2022-01-07T12:00`), read
    /// in the hub's time zone.
    #[serde(deserialize_with = "scalar")]
    #[schema(example = "2022-01-07T06:00:00Z")]
    pub departs_at: Option<String>,
    /// Required: seats for evacuees.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>, minimum = 1, example = 180)]
    pub seats: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub stretcher_places: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub wheelchair_places: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub escorts: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<TransportStatus>)]
    pub status: Option<String>,
    /// Kilograms of people and baggage it may lift; empty: seats are its only bound.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub payload_kg: Option<String>,
    /// Checked baggage per passenger, in kilograms; empty: not said.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub baggage_kg_per_person: Option<String>,
    /// Whose citizens alone it carries, as country codes separated by commas or spaces
    /// ("RU, BY"); empty: whoever the policy seats.
    #[serde(deserialize_with = "scalar")]
    pub carries_citizens_of: Option<String>,
    /// The country it lands in, as a code (`RU`), so that households asking for another
    /// country are not seated on it; empty: not said (it serves any destination). A feeder
    /// lands inside the crisis and leaves it empty.
    #[serde(deserialize_with = "scalar")]
    #[schema(example = "RU")]
    pub lands_in: Option<String>,
    /// Yes for a military or state transport, which may leave from a hub open to military
    /// transports alone; empty: no.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<bool>)]
    pub military: Option<String>,
    /// For a feeder (a convoy to another hub, where people take an onward transport): the hub
    /// it ends at; empty: it takes people out.
    #[serde(deserialize_with = "scalar")]
    pub feeds_hub: Option<String>,
    /// For a feeder: when it arrives at `feeds_hub` (written as `departs_at`).
    #[serde(deserialize_with = "scalar")]
    pub arrives_at: Option<String>,
}

/// A transport code as written ("SU 1942"), with its spaces collapsed, if it is one.
fn transport_code(raw: &str) -> Option<String> {
    let code = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let ok = !code.is_empty()
        && code.chars().count() <= TRANSPORT_CODE_CHARS_MAX
        && code
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | ' ' | '.' | '_'));
    ok.then_some(code)
}

impl TransportDraft {
    /// The transport under `id` (minted by the caller), or every problem; a departure
    /// written without an offset is in UTC.
    pub fn validate(&self, id: TransportId) -> Result<Transport, Vec<FieldError>> {
        self.validate_in(id, jiff::tz::TimeZone::UTC)
    }

    /// [`TransportDraft::validate`] reading a departure written without an offset (a time
    /// picker's "2022-01-07T12:00") in `zone`, the crisis's wall clock.
    pub fn validate_in(
        &self,
        id: TransportId,
        zone: jiff::tz::TimeZone,
    ) -> Result<Transport, Vec<FieldError>> {
        let mut c = Checker {
            zone: Some(zone),
            ..Checker::default()
        };
        let code = c
            .required("code", &self.code, "give the flight or bus number")
            .and_then(|raw| {
                let code = transport_code(&raw);
                if code.is_none() {
                    c.fail(
                        "code",
                        format!(
                            "{} is no transport code; use letters, digits, spaces and dashes, at most {TRANSPORT_CODE_CHARS_MAX}",
                            quoted(&raw)
                        ),
                    );
                }
                code
            });
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => Some(TransportKind::Flight),
            _ => c.choice("kind", &self.kind),
        };
        let hub = c
            .required("hub", &self.hub, "give the code of the hub it leaves from")
            .map(|h| h.to_ascii_uppercase());
        let destination = c.required("destination", &self.destination, "say where it goes");
        let departs_at = c.time("departs_at", &self.departs_at);
        if departs_at.is_none()
            && self
                .departs_at
                .as_deref()
                .is_none_or(|d| d.trim().is_empty())
        {
            c.fail("departs_at", "is required; give the departure time");
        }
        let seats = c.whole("seats", &self.seats, 1..=TRANSPORT_SEATS_MAX);
        if self.seats.as_deref().is_none_or(|s| s.trim().is_empty()) {
            c.fail("seats", "is required; give the number of seats");
        }
        let mut places = |path: &'static str, value: &Option<String>| {
            let n = c.whole(path, value, 0..=TRANSPORT_SEATS_MAX).unwrap_or(0);
            if let Some(seats) = seats
                && n > seats
            {
                c.fail(path, format!("{n} is more than the {seats} seats"));
            }
            n
        };
        let stretcher_places = places("stretcher_places", &self.stretcher_places);
        let wheelchair_places = places("wheelchair_places", &self.wheelchair_places);
        let escorts = places("escorts", &self.escorts);
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => Some(TransportStatus::Planned),
            _ => c.choice("status", &self.status),
        };
        let payload_kg = c.whole(
            "payload_kg",
            &self.payload_kg,
            crate::TRANSPORT_PAYLOAD_KG_MIN..=crate::TRANSPORT_PAYLOAD_KG_MAX,
        );
        let baggage_kg_per_person = c.whole(
            "baggage_kg_per_person",
            &self.baggage_kg_per_person,
            0..=crate::BAGGAGE_KG_PER_PERSON_MAX,
        );
        let carries_citizens_of: Vec<crate::CountryCode> = self
            .carries_citizens_of
            .as_deref()
            .unwrap_or("")
            .split([',', ' ', ';'])
            .filter(|code| !code.trim().is_empty())
            .filter_map(|code| c.country("carries_citizens_of", &Some(code.to_string())))
            .collect();
        let lands_in = c.country("lands_in", &self.lands_in);
        let military = c.yes_no("military", &self.military).unwrap_or(false);
        let feeds_hub = self
            .feeds_hub
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_ascii_uppercase);
        let arrives_at = c.time("arrives_at", &self.arrives_at);
        if lands_in.is_some() && feeds_hub.is_some() {
            c.fail(
                "lands_in",
                "is for a transport that takes people out; a feeder ends at a hub inside the crisis, so leave it empty",
            );
        }
        let feeds = match (feeds_hub, arrives_at) {
            (None, None) => None,
            (Some(_), None) => {
                if self
                    .arrives_at
                    .as_deref()
                    .is_none_or(|a| a.trim().is_empty())
                {
                    c.fail(
                        "arrives_at",
                        "is required for a feeder; give when it arrives at the hub it ends at",
                    );
                }
                None
            }
            (None, Some(_)) => {
                c.fail(
                    "feeds_hub",
                    "is required with an arrival; give the hub it ends at, or leave both empty for a transport that takes people out",
                );
                None
            }
            (Some(to), Some(arrives_at)) => {
                if hub.as_deref() == Some(to.as_str()) {
                    c.fail(
                        "feeds_hub",
                        format!(
                            "{} is the hub it leaves from; give the hub it ends at",
                            quoted(&to)
                        ),
                    );
                }
                if let Some(departs) = departs_at
                    && arrives_at <= departs
                {
                    c.fail(
                        "arrives_at",
                        format!(
                            "{} is not after the departure at {}",
                            c.shown(arrives_at),
                            c.shown(departs)
                        ),
                    );
                }
                Some(crate::Feed {
                    hub: to,
                    arrives_at,
                })
            }
        };
        let transport = (|| {
            Some(Transport {
                id,
                code: code?,
                kind: kind?,
                hub: hub?,
                destination: destination?,
                departs_at: departs_at?,
                seats: seats?,
                stretcher_places,
                wheelchair_places,
                escorts,
                status: status?,
                payload_kg,
                baggage_kg_per_person,
                carries_citizens_of,
                lands_in,
                military,
                feeds,
            })
        })();
        c.finish(transport)
    }
}

impl From<&Transport> for TransportDraft {
    /// The draft that validates to `t` (under its id): what the command line and tests send.
    fn from(t: &Transport) -> Self {
        let text = |s: &str| Some(s.to_string());
        TransportDraft {
            code: text(&t.code),
            kind: text(t.kind.as_str()),
            hub: text(&t.hub),
            destination: text(&t.destination),
            departs_at: Some(t.departs_at.to_string()),
            seats: Some(t.seats.to_string()),
            stretcher_places: Some(t.stretcher_places.to_string()),
            wheelchair_places: Some(t.wheelchair_places.to_string()),
            escorts: Some(t.escorts.to_string()),
            status: text(t.status.as_str()),
            payload_kg: t.payload_kg.map(|kg| kg.to_string()),
            baggage_kg_per_person: t.baggage_kg_per_person.map(|kg| kg.to_string()),
            carries_citizens_of: (!t.carries_citizens_of.is_empty()).then(|| {
                t.carries_citizens_of
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            lands_in: t.lands_in.map(|c| c.to_string()),
            military: t.military.then(|| "yes".to_string()),
            feeds_hub: t.feeds.as_ref().map(|f| f.hub.clone()),
            arrives_at: t.feeds.as_ref().map(|f| f.arrives_at.to_string()),
        }
    }
}

/// A transport's new status.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TransportStatusDraft {
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<TransportStatus>)]
    pub status: Option<String>,
}

impl TransportStatusDraft {
    pub fn validate(&self) -> Result<TransportStatus, Vec<FieldError>> {
        let mut c = Checker::default();
        let status = c.choice("status", &self.status);
        if self.status.as_deref().is_none_or(|s| s.trim().is_empty()) {
            c.fail(
                "status",
                format!("is required; one of: {}", TransportStatus::choices()),
            );
        }
        c.finish(status)
    }
}

// ---- the situation picture -----------------------------------------------------------------

/// A station, terminal, border crossing or airport as staff add it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HubDraft {
    #[serde(deserialize_with = "scalar")]
    pub code: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<HubKind>)]
    pub kind: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub name: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub country: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub municipality: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub lat: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub lon: Option<String>,
}

/// A subject's code (hub, route, zone), if it is one.
fn subject_code(c: &mut Checker, path: &'static str, value: &Option<String>) -> Option<String> {
    let code = c.required(path, value, "give a short code (letters, digits, dashes)")?;
    if valid_code(&code) {
        Some(code)
    } else {
        c.fail(
            path,
            format!(
                "{} is no code; use letters, digits and dashes, no spaces or colons",
                quoted(&code)
            ),
        );
        None
    }
}

impl HubDraft {
    pub fn validate(&self) -> Result<Hub, Vec<FieldError>> {
        let mut c = Checker::default();
        let code = subject_code(&mut c, "code", &self.code).map(|h| h.to_ascii_uppercase());
        let empty = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        let kind = c.choice::<HubKind>("kind", &self.kind);
        if empty(&self.kind) {
            c.fail(
                "kind",
                format!("is required; one of: {}", HubKind::choices()),
            );
        }
        let name = c.required("name", &self.name, "give the hub's name");
        let country = c.country("country", &self.country);
        if empty(&self.country) {
            c.fail("country", "is required; give an ISO 3166 code like KZ");
        }
        let municipality = c.short_text("municipality", &self.municipality);
        let lat = c.decimal("lat", &self.lat, -90.0..=90.0);
        let lon = c.decimal("lon", &self.lon, -180.0..=180.0);
        for (path, value) in [("lat", &self.lat), ("lon", &self.lon)] {
            if empty(value) {
                c.fail(path, "is required; give the hub's coordinates");
            }
        }
        let hub = (|| {
            Some(Hub {
                code: code?,
                kind: kind?,
                name: name?,
                country: country?,
                municipality,
                lat: lat?,
                lon: lon?,
                iata: None,
                icao: None,
            })
        })();
        c.finish(hub)
    }
}

/// A route to add: from a town (in any script) to a hub.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRoute {
    pub code: String,
    pub mode: RouteMode,
    pub from: String,
    pub to_hub: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RouteDraft {
    #[serde(deserialize_with = "scalar")]
    pub code: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<RouteMode>)]
    pub mode: Option<String>,
    /// A town, in any script.
    #[serde(deserialize_with = "scalar")]
    pub from: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub to_hub: Option<String>,
}

impl RouteDraft {
    pub fn validate(&self) -> Result<NewRoute, Vec<FieldError>> {
        let mut c = Checker::default();
        let code = subject_code(&mut c, "code", &self.code);
        let mode = match self.mode.as_deref().map(str::trim) {
            None | Some("") => Some(RouteMode::Road),
            _ => c.choice("mode", &self.mode),
        };
        let from = c.required("from", &self.from, "write the town it starts from");
        let to_hub = c
            .required(
                "to_hub",
                &self.to_hub,
                "give the code of the hub it leads to",
            )
            .map(|h| h.to_ascii_uppercase());
        let route = (|| {
            Some(NewRoute {
                code: code?,
                mode: mode?,
                from: from?,
                to_hub: to_hub?,
            })
        })();
        c.finish(route)
    }
}

/// Where a zone is centred.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoneCentre {
    /// A town, in any script.
    Place(String),
    Point {
        lat: f64,
        lon: f64,
    },
}

/// A zone to add: a circle whose threat level statements set.
#[derive(Debug, Clone, PartialEq)]
pub struct NewZone {
    pub code: String,
    pub name: Option<String>,
    pub around: ZoneCentre,
    pub radius_km: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneDraft {
    #[serde(deserialize_with = "scalar")]
    pub code: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub name: Option<String>,
    /// A town the zone is centred on, in any script; or give `lat` and `lon`.
    #[serde(deserialize_with = "scalar")]
    pub around: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub lat: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub lon: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<f64>)]
    pub radius_km: Option<String>,
}

impl ZoneDraft {
    pub fn validate(&self) -> Result<NewZone, Vec<FieldError>> {
        let mut c = Checker::default();
        let code = subject_code(&mut c, "code", &self.code);
        let name = c.short_text("name", &self.name);
        let around_text = c.short_text("around", &self.around);
        let lat = c.decimal("lat", &self.lat, -90.0..=90.0);
        let lon = c.decimal("lon", &self.lon, -180.0..=180.0);
        let given = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
        let around = match (given(&self.around), given(&self.lat), given(&self.lon)) {
            (true, false, false) => around_text.map(ZoneCentre::Place),
            (false, true, true) => lat
                .zip(lon)
                .map(|(lat, lon)| ZoneCentre::Point { lat, lon }),
            _ => {
                c.fail(
                    "around",
                    "give either `around` (a town) or both `lat` and `lon`",
                );
                None
            }
        };
        let radius_km = c.decimal("radius_km", &self.radius_km, 0.1..=ZONE_RADIUS_KM_MAX);
        if !given(&self.radius_km) {
            c.fail(
                "radius_km",
                format!("is required; give 0.1 to {ZONE_RADIUS_KM_MAX} km"),
            );
        }
        let zone = (|| {
            Some(NewZone {
                code: code?,
                name,
                around: around?,
                radius_km: radius_km?,
            })
        })();
        c.finish(zone)
    }
}

/// A statement about a hub, route or zone as staff send it: the window starts when the caller
/// says (now, for a status set by hand) unless `from` says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "subject": "hub:ALA", "effect": "closed", "from": "2022-01-05T18:00:00Z", "until": "2022-01-10T00:00:00Z", "note": "the airport was seized" }))]
pub struct StatementDraft {
    /// `hub:ALA`, `route:almaty-airport`, `zone:almaty-centre`.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<Subject>)]
    pub subject: Option<String>,
    /// `open`, `restricted`, `closed`, `curfew:HH:MM-HH:MM` for a hub, or `threat:N` (0 to 5)
    /// for a zone.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<Effect>)]
    pub effect: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<Timestamp>)]
    pub from: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<Timestamp>)]
    pub until: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub capacity_per_day: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub note: Option<String>,
}

impl StatementDraft {
    /// The statement, its window starting at `from` or else `starts`.
    pub fn validate(&self, starts: Timestamp) -> Result<Statement, Vec<FieldError>> {
        let mut c = Checker::default();
        let subject = c
            .required(
                "subject",
                &self.subject,
                "write it as hub:ALA, route:CODE or zone:CODE",
            )
            .and_then(|s| {
                s.parse::<Subject>()
                    .map_err(|e| c.fail("subject", e.to_string()))
                    .ok()
            });
        let effect = c
            .required(
                "effect",
                &self.effect,
                "open, restricted, closed, curfew:23:00-07:00 or threat:1…5",
            )
            .and_then(|e| {
                e.parse::<Effect>()
                    .map_err(|e| c.fail("effect", e.to_string()))
                    .ok()
            });
        let from = c.time("from", &self.from).unwrap_or(starts);
        let until = c.time("until", &self.until);
        if let Some(until) = until
            && until <= from
        {
            let said = format!(
                "{} is not after the start {}",
                c.shown(until),
                c.shown(from)
            );
            c.fail("until", said);
        }
        let capacity_per_day = c.whole("capacity_per_day", &self.capacity_per_day, 0..=1_000_000);
        let note = c
            .text("note", &self.note, NOTE_CHARS_MAX)
            .unwrap_or_default();
        let statement = (|| {
            Some(Statement {
                subject: subject?,
                effect: effect?,
                from,
                until,
                capacity_per_day,
                note,
            })
        })();
        c.finish(statement)
    }
}

/// A report pasted by staff: a text in any language, or a CAP 1.2 alert's XML.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "text": "Аэропорт Алматы закрыт до 10 января", "source": "MFA hotline" }))]
pub struct ReportDraft {
    #[serde(deserialize_with = "scalar")]
    pub text: Option<String>,
    /// Who it comes from; a CAP alert names its sender.
    #[serde(deserialize_with = "scalar")]
    pub source: Option<String>,
}

/// A report to ingest.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub text: String,
    pub source: Option<String>,
}

impl ReportDraft {
    pub fn validate(&self) -> Result<NewReport, Vec<FieldError>> {
        let mut c = Checker::default();
        let text = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if text.is_none() {
            c.fail("text", "is required; paste the report's text or CAP XML");
        }
        let source = c.short_text("source", &self.source);
        c.finish(text.map(|text| NewReport { text, source }))
    }
}

/// A report's grade, its state, or both.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct JudgementDraft {
    /// Admiralty grade, e.g. `B2`.
    #[serde(deserialize_with = "scalar")]
    pub grade: Option<String>,
    /// `confirmed`, `dismissed` or back to `draft`.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<ReportState>)]
    pub state: Option<String>,
}

/// What a judgement changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Judgement {
    pub grade: Option<Grade>,
    pub state: Option<ReportState>,
}

impl JudgementDraft {
    pub fn validate(&self) -> Result<Judgement, Vec<FieldError>> {
        let mut c = Checker::default();
        let grade = c.short_text("grade", &self.grade).and_then(|g| {
            g.parse::<Grade>()
                .map_err(|e| c.fail("grade", e.to_string()))
                .ok()
        });
        let state = c.choice::<ReportState>("state", &self.state);
        let empty = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
        if empty(&self.grade) && empty(&self.state) {
            c.fail(
                "grade",
                "give a grade (e.g. B2), a state (confirmed, dismissed, draft) or both",
            );
        }
        c.finish(Some(Judgement { grade, state }))
    }
}

/// A new version of the triage policy, as TOML.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyDraft {
    #[serde(deserialize_with = "scalar")]
    pub toml: Option<String>,
}

impl PolicyDraft {
    /// The TOML text (its meaning is checked by the triage crate when it is read).
    pub fn validate(&self) -> Result<String, Vec<FieldError>> {
        let mut c = Checker::default();
        let toml = self.toml.as_deref().filter(|t| !t.trim().is_empty());
        match toml {
            None => c.fail("toml", "is required; give the policy as TOML"),
            Some(t) if t.len() > POLICY_BYTES_MAX => c.fail(
                "toml",
                format!("is longer than {POLICY_BYTES_MAX} bytes; a policy is a few rules"),
            ),
            Some(_) => {}
        }
        c.finish(toml.map(str::to_string))
    }
}

// ---- casework ------------------------------------------------------------------------------

/// A staff member's change of a person's status, or a note (no status), with why.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "status": "withdrawn", "reason": "left by car on 7 January" }))]
pub struct PersonEventDraft {
    /// The new status (`verified`, `withdrawn`, …); empty for a note.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<PersonStatus>)]
    pub status: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub reason: Option<String>,
}

/// A status change (or, without one, a note) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonEvent {
    pub to: Option<PersonStatus>,
    pub reason: String,
}

/// Why, as every change of a person must say: required, at most [`NOTE_CHARS_MAX`].
pub fn reason_problem(reason: &str) -> Option<FieldError> {
    let reason = reason.trim();
    let problem = if reason.is_empty() {
        "say why (a note, a change, a correction); it is kept in the history".to_string()
    } else if reason.chars().count() > NOTE_CHARS_MAX {
        crate::TextProblem::TooLong {
            chars_max: NOTE_CHARS_MAX,
        }
        .reason()
    } else if let Some(c) = reason.chars().find(|c| crate::hidden_character(*c)) {
        crate::TextProblem::HiddenCharacter { code: u32::from(c) }.reason()
    } else {
        return None;
    };
    Some(FieldError {
        path: "reason".into(),
        reason: problem,
    })
}

impl PersonEventDraft {
    pub fn validate(&self) -> Result<PersonEvent, Vec<FieldError>> {
        let mut c = Checker::default();
        let to = c.choice::<PersonStatus>("status", &self.status);
        let reason = self
            .reason
            .as_deref()
            .unwrap_or_default()
            .trim()
            .to_string();
        if let Some(problem) = reason_problem(&reason) {
            c.errors.push(problem);
        }
        let given = self.status.as_deref().is_some_and(|s| !s.trim().is_empty());
        c.finish((to.is_some() || !given).then_some(PersonEvent { to, reason }))
    }
}

/// Requests one bulk change may name: a list page's worth, and a bound on what one click does.
pub const BULK_REQUESTS_MAX: usize = 200;

/// One status for every person of several requests (a list's selection), with one reason.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "request": ["0190a8f2-7c1e-7d3a-9b1e-4f2a6c8d0e11"], "status": "verified", "reason": "passports checked by phone" }))]
pub struct BulkStatusDraft {
    /// The requests' ids.
    #[schema(value_type = Vec<crate::RequestId>)]
    pub request: Vec<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<PersonStatus>)]
    pub status: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub reason: Option<String>,
}

/// A bulk status change, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkStatus {
    pub requests: Vec<crate::RequestId>,
    pub to: PersonStatus,
    pub reason: String,
}

impl BulkStatusDraft {
    pub fn validate(&self) -> Result<BulkStatus, Vec<FieldError>> {
        let mut c = Checker::default();
        let event = PersonEventDraft {
            status: self.status.clone(),
            reason: self.reason.clone(),
        }
        .validate();
        let (to, reason) = match event {
            Ok(PersonEvent { to, reason }) => (to, Some(reason)),
            Err(errors) => {
                c.errors.extend(errors);
                (None, None)
            }
        };
        let given = self.status.as_deref().is_some_and(|s| !s.trim().is_empty());
        if !given {
            c.fail(
                "status",
                "choose the status every person of the chosen requests gets",
            );
        }
        let requests = chosen_requests(&mut c, &self.request);
        let value = match (to, reason) {
            (Some(to), Some(reason)) => Some(BulkStatus {
                requests,
                to,
                reason,
            }),
            _ => None,
        };
        c.finish(value)
    }
}

/// Who holds some requests ("my cases"): a case officer takes a household, hands it over or
/// gives it up.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AssignmentDraft {
    /// The requests' ids.
    #[schema(value_type = Vec<crate::RequestId>)]
    pub request: Vec<String>,
    /// The staff member (their user name) who will hold them; empty gives them up.
    #[serde(deserialize_with = "scalar")]
    pub officer: Option<String>,
    /// The holder the officer saw (a user name; empty for nobody): the change is made only
    /// while that is still the holder, so two officers taking one case at once get it once.
    /// Absent: whoever holds them (supervisors).
    #[serde(deserialize_with = "scalar")]
    pub held_by: Option<String>,
}

/// An assignment, validated: user names still to be looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseAssignment {
    pub requests: Vec<crate::RequestId>,
    /// The new holder's user name; `None` gives the requests up.
    pub officer: Option<String>,
    /// The holder expected now (`Some(None)`: nobody); `None`: whoever.
    pub held_by: Option<Option<String>>,
}

impl AssignmentDraft {
    pub fn validate(&self) -> Result<CaseAssignment, Vec<FieldError>> {
        let mut c = Checker::default();
        let requests = chosen_requests(&mut c, &self.request);
        let name = |field: &str, value: &Option<String>, c: &mut Checker| {
            let value = value.as_deref().map(str::trim).unwrap_or_default();
            if value.is_empty() {
                return None;
            }
            if !valid_user_name(value) {
                c.fail(
                    field,
                    format!(
                        "{} is not a user name; choose a staff member from the list",
                        quoted(value)
                    ),
                );
                return None;
            }
            Some(value.to_string())
        };
        let officer = name("officer", &self.officer, &mut c);
        let held_by = self
            .held_by
            .is_some()
            .then(|| name("held_by", &self.held_by, &mut c));
        c.finish(Some(CaseAssignment {
            requests,
            officer,
            held_by,
        }))
    }
}

/// A list's chosen requests: at least one, at most [`BULK_REQUESTS_MAX`], each an id (a
/// request named twice counts once).
fn chosen_requests(c: &mut Checker, chosen: &[String]) -> Vec<crate::RequestId> {
    let mut requests = Vec::new();
    if chosen.is_empty() {
        c.fail(
            "request",
            "choose at least one request (tick it in the list)",
        );
    } else if chosen.len() > BULK_REQUESTS_MAX {
        c.fail(
            "request",
            format!(
                "{} requests chosen; at most {BULK_REQUESTS_MAX} at once: narrow the list",
                chosen.len()
            ),
        );
    }
    for (i, id) in chosen.iter().enumerate() {
        match id.trim().parse::<crate::RequestId>() {
            Ok(id) if !requests.contains(&id) => requests.push(id),
            Ok(_) => {}
            Err(_) => c.fail(
                format!("request[{i}]"),
                format!(
                    "{} is not a request id; choose requests from the list",
                    quoted(id)
                ),
            ),
        }
    }
    requests
}

/// A correction of a request's own fields, as typed (validated like intake): where the people
/// are, the country they ask to be taken to, their situation, what is urgent, how to reach the
/// submitter. A field left out (or `null`) keeps its value; an empty one clears it. The party is not corrected here (a person's status and notes are). A phone
/// entry may hold several numbers, one per line (a form's text box).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RequestCorrection {
    pub location: Option<String>,
    pub country: Option<String>,
    /// The country the household asks to be taken to, as a code; empty clears it (anywhere
    /// safe), left out or `null` keeps it.
    pub destination_country: Option<String>,
    pub situation: Option<String>,
    #[schema(value_type = Option<Vec<crate::Urgency>>)]
    pub urgency: Option<Vec<String>>,
    pub submitter_name: Option<String>,
    pub phones: Option<Vec<String>>,
    pub email: Option<String>,
    /// Why (kept in the history of each person of the request).
    pub reason: String,
}

/// A correction of one person's own fields, as typed (validated like intake): names, birth
/// date, sex, citizenship, travel document, needs. A field left out keeps its value. A needs
/// entry may hold several, separated by commas (a form's text box).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PersonCorrection {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    /// As people write it: `31.05.2012`, `2012-05-31`.
    pub birth_date: Option<String>,
    #[schema(value_type = Option<crate::Sex>)]
    pub sex: Option<String>,
    pub citizenship: Option<String>,
    #[schema(value_type = Option<crate::DocumentType>)]
    pub document_type: Option<String>,
    pub document_number: Option<String>,
    #[schema(value_type = Option<Vec<crate::Need>>)]
    pub needs: Option<Vec<String>>,
    /// What a medic should know (empty clears it).
    pub medical_note: Option<String>,
    /// Why (kept in the person's history).
    pub reason: String,
}

/// A person added to a request's party, as typed (validated like intake, as of the day the
/// request arrived): a pupil a teacher forgot, a grandmother who joined the family. A needs
/// entry may hold several, separated by commas (a form's text box). The request's people are
/// at most [`crate::PARTY_MEMBERS_MAX`]; a person leaves a party by the status `withdrawn`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "surname": "Жумабаева", "given_names": "Алия", "birth_date": "15.06.2014", "relation": "group_member", "reason": "travels with the school group; the teacher called" }))]
pub struct PersonAddition {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub patronymic: Option<String>,
    /// As people write it: `31.05.2012`, `2012-05-31`.
    pub birth_date: Option<String>,
    #[schema(value_type = Option<crate::Sex>)]
    pub sex: Option<String>,
    pub citizenship: Option<String>,
    #[schema(value_type = Option<crate::DocumentType>)]
    pub document_type: Option<String>,
    pub document_number: Option<String>,
    #[schema(value_type = Vec<crate::Need>)]
    pub needs: Vec<String>,
    pub medical_note: Option<String>,
    /// How they are related to the one who asked (`child`, `other`, …); `other` when left
    /// out.
    #[schema(value_type = Option<crate::Relation>)]
    pub relation: Option<String>,
    /// Why (kept in the new person's history).
    pub reason: String,
}

/// Needs as a form's text boxes give them: an entry may hold several, separated by commas.
pub fn needs_of_entries(entries: &[String]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

impl PersonAddition {
    /// The person as intake receives one (empty boxes are left out).
    pub fn person_draft(&self) -> crate::PersonDraft {
        let given = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        crate::PersonDraft {
            surname: given(&self.surname),
            given_names: given(&self.given_names),
            patronymic: given(&self.patronymic),
            birth_date: given(&self.birth_date),
            sex: given(&self.sex),
            citizenship: given(&self.citizenship),
            document_type: given(&self.document_type),
            document_number: given(&self.document_number),
            needs: needs_of_entries(&self.needs),
            medical_note: given(&self.medical_note),
            // Someone added to a party later is someone else than the one who asks (whom
            // intake took in); not said, not family either, unlike an unsaid member at intake,
            // whom the asker listed as one of theirs.
            relation: given(&self.relation).or_else(|| Some("other".into())),
            ..Default::default()
        }
    }
}

/// What a human does with an inbound message: mark it handled, attaching it to the request
/// of `reference` when it was unmatched.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HandlingDraft {
    #[serde(deserialize_with = "scalar")]
    pub reference: Option<String>,
}

impl HandlingDraft {
    pub fn validate(&self) -> Result<Option<crate::ReferenceCode>, Vec<FieldError>> {
        let mut c = Checker::default();
        let code = c.short_text("reference", &self.reference).and_then(|r| {
            r.parse::<crate::ReferenceCode>()
                .map_err(|e| c.fail("reference", e.to_string()))
                .ok()
        });
        let given = self
            .reference
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty());
        c.finish((code.is_some() || !given).then_some(code))
    }
}

/// A field officer's word that a household is at a hub without a seat there (issue 28, item
/// 5): the reference of one of its requests and the hub, as the API and the gate's form send
/// them. Standby calls such households first.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "reference": "K7P-3M9-XQ2", "hub": "NQZ" }))]
pub struct PresenceDraft {
    /// Required: the reference on the household's acknowledgement.
    #[serde(deserialize_with = "scalar")]
    pub reference: Option<String>,
    /// Required: the code of the hub where they are.
    #[serde(deserialize_with = "scalar")]
    pub hub: Option<String>,
}

impl PresenceDraft {
    /// The reference and the hub's code (in capitals), or every problem.
    pub fn validate(&self) -> Result<(crate::ReferenceCode, String), Vec<FieldError>> {
        let mut c = Checker::default();
        let reference = c
            .required(
                "reference",
                &self.reference,
                "give the reference on the household's acknowledgement",
            )
            .and_then(|r| {
                r.parse::<crate::ReferenceCode>()
                    .map_err(|e| c.fail("reference", e.to_string()))
                    .ok()
            });
        let hub = c
            .required("hub", &self.hub, "give the code of the hub where they are")
            .map(|h| h.trim().to_ascii_uppercase());
        c.finish((|| Some((reference?, hub?)))())
    }
}

// ---- broadcasts ----------------------------------------------------------------------------

/// A broadcast's text is at most this many characters (three Cyrillic SMS segments).
pub const BROADCAST_CHARS_MAX: usize = 200;

/// A message from staff to a group of requesters, as the API and the desk send it: the text
/// and who gets it (everyone waiting in a place, everyone on a transport, everyone in a
/// status; the filters combine).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "text": "Bus from Almaty at 08:00 on 8 January", "text_ru": "Автобус из Алматы 8 января в 08:00", "place": "Almaty" }))]
pub struct BroadcastDraft {
    /// The text for everyone whose language has no text of its own below.
    #[serde(deserialize_with = "scalar")]
    pub text: Option<String>,
    /// The text for those who asked in Russian, Kazakh, Italian, English (each optional).
    #[serde(deserialize_with = "scalar")]
    pub text_ru: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub text_kk: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub text_it: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub text_en: Option<String>,
    /// Requests whose location names this place (any script: `Алматы` finds `Almaty`).
    #[serde(deserialize_with = "scalar")]
    pub place: Option<String>,
    /// Households holding a seat on the transport with this code.
    #[serde(deserialize_with = "scalar")]
    pub transport: Option<String>,
    /// Requests with a person in this status (`registered`, `verified`, `notified`, …).
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<PersonStatus>)]
    pub status: Option<String>,
    /// The number of recipients the preview showed: sending refuses when the group changed.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub expected_recipients: Option<String>,
    /// The id the preview gave: sending twice under one id queues each message once.
    #[serde(deserialize_with = "scalar")]
    pub id: Option<String>,
}

/// A validated broadcast.
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    pub text: String,
    /// (language, text) for the languages given a text of their own.
    pub translations: Vec<(String, String)>,
    pub place: Option<String>,
    pub transport: Option<String>,
    pub status: Option<crate::PersonStatus>,
    pub expected_recipients: Option<u32>,
    pub id: Option<String>,
}

impl BroadcastDraft {
    pub fn validate(&self) -> Result<Broadcast, Vec<FieldError>> {
        let mut c = Checker::default();
        let text = c.text("text", &self.text, BROADCAST_CHARS_MAX);
        if self.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            c.fail("text", "is required; write what the group must know");
        }
        let translations: Vec<(String, String)> = [
            ("ru", "text_ru", &self.text_ru),
            ("kk", "text_kk", &self.text_kk),
            ("it", "text_it", &self.text_it),
            ("en", "text_en", &self.text_en),
        ]
        .into_iter()
        .filter_map(|(language, field, given)| {
            let text = c.text(field, given, BROADCAST_CHARS_MAX)?;
            (!text.trim().is_empty()).then(|| (language.to_string(), text))
        })
        .collect();
        let place = c.short_text("place", &self.place);
        let transport = c.short_text("transport", &self.transport);
        let status = c.choice::<crate::PersonStatus>("status", &self.status);
        let expected_recipients = c.whole(
            "expected_recipients",
            &self.expected_recipients,
            0..=u32::MAX,
        );
        let id = c.short_text("id", &self.id);
        if place.is_none() && transport.is_none() && status.is_none() && c.errors.is_empty() {
            c.fail(
                "place",
                "name a group: a place, a transport or a status (a broadcast to everyone is refused)",
            );
        }
        let broadcast = text.map(|text| Broadcast {
            text,
            translations,
            place,
            transport,
            status,
            expected_recipients,
            id,
        });
        c.finish(broadcast)
    }
}

impl Broadcast {
    /// The text someone who asked in `language` reads: that language's own, or the general one.
    pub fn text_in(&self, language: &str) -> &str {
        self.translations
            .iter()
            .find(|(l, _)| l == language)
            .map_or(self.text.as_str(), |(_, t)| t.as_str())
    }
}

/// A re-confirmation run: ask the requests that waited longer than `older_than_hours`, and
/// mark unreachable those asked longer than `answer_within_hours` ago who did not answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReconfirmDraft {
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub older_than_hours: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub answer_within_hours: Option<String>,
}

/// A validated re-confirmation run: (older than, answer within), in hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconfirmRun {
    pub older_than_hours: u32,
    pub answer_within_hours: u32,
}

/// Hours a re-confirmation's bounds take at most (a year).
pub const RECONFIRM_HOURS_MAX: u32 = 24 * 366;

impl ReconfirmDraft {
    pub fn validate(&self) -> Result<ReconfirmRun, Vec<FieldError>> {
        let mut c = Checker::default();
        let older = c.whole(
            "older_than_hours",
            &self.older_than_hours,
            1..=RECONFIRM_HOURS_MAX,
        );
        let within = c.whole(
            "answer_within_hours",
            &self.answer_within_hours,
            1..=RECONFIRM_HOURS_MAX,
        );
        for (path, value) in [
            ("older_than_hours", &self.older_than_hours),
            ("answer_within_hours", &self.answer_within_hours),
        ] {
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                c.fail(path, "is required; give a number of hours, e.g. 72");
            }
        }
        let run = older
            .zip(within)
            .map(|(older_than_hours, answer_within_hours)| ReconfirmRun {
                older_than_hours,
                answer_within_hours,
            });
        c.finish(run)
    }
}

// ---- accounts ------------------------------------------------------------------------------

/// A staff account as a supervisor (or the server's console) creates it.
#[derive(Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct UserDraft {
    #[serde(deserialize_with = "scalar")]
    pub name: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<Role>)]
    pub role: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub password: Option<String>,
}

impl std::fmt::Debug for UserDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserDraft")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &"(..)")
            .finish()
    }
}

/// A checked new account.
#[derive(Clone, PartialEq)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub password: String,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn valid_user_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
}

impl UserDraft {
    pub fn validate(&self) -> Result<NewUser, Vec<FieldError>> {
        let mut c = Checker::default();
        let name = c
            .required("name", &self.name, "give the login name")
            .and_then(|name| {
                if valid_user_name(&name) {
                    Some(name)
                } else {
                    c.fail(
                        "name",
                        format!(
                            "{} is not allowed; use 2 to 64 letters, digits, '.', '_', '-' or '@'",
                            quoted(&name)
                        ),
                    );
                    None
                }
            });
        let role = c.choice::<Role>("role", &self.role);
        if self.role.as_deref().is_none_or(|r| r.trim().is_empty()) {
            c.fail(
                "role",
                format!(
                    "is required; one of: {}",
                    <Role as crate::Choice>::choices()
                ),
            );
        }
        // A password is taken as typed: spaces count.
        let password = self.password.clone().unwrap_or_default();
        if password.chars().count() < PASSWORD_CHARS_MIN {
            c.fail(
                "password",
                format!("is too short; use at least {PASSWORD_CHARS_MIN} characters"),
            );
        }
        let user = (|| {
            Some(NewUser {
                name: name?,
                role: role?,
                password,
            })
        })();
        c.finish(user)
    }
}

// ---- planning, boarding, linkage -----------------------------------------------------------

/// A plan to preview or publish, as of a time (default: now).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlanDraft {
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<Timestamp>)]
    pub at: Option<String>,
    /// Publish (store seats, issue passes) rather than preview.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<bool>)]
    pub publish: Option<String>,
    /// The planner checked the preview: publishing seats people and tells them at once, so the
    /// desk asks for this beside the button (one stray click published 350 passes).
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<bool>)]
    pub confirm: Option<String>,
}

/// What a planner asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanOrder {
    pub at: Option<Timestamp>,
    pub publish: bool,
}

impl PlanDraft {
    /// The order, a time written without an offset read in UTC (the API's).
    pub fn validate(&self) -> Result<PlanOrder, Vec<FieldError>> {
        self.validate_in(jiff::tz::TimeZone::UTC)
    }

    /// [`PlanDraft::validate`] reading a time written without an offset in `zone`, the
    /// crisis's wall clock, as the desk reads a departure: one form, one clock (the plan's
    /// moment was read in UTC beside departures read in local time).
    pub fn validate_in(&self, zone: jiff::tz::TimeZone) -> Result<PlanOrder, Vec<FieldError>> {
        let mut c = Checker {
            zone: Some(zone),
            ..Checker::default()
        };
        let at = c.time("at", &self.at);
        let publish = c.yes_no("publish", &self.publish).unwrap_or(false);
        let confirmed = c.yes_no("confirm", &self.confirm).unwrap_or(false);
        if publish && !confirmed {
            c.fail(
                "confirm",
                "tick 'I checked the preview' to publish: publishing seats people and tells them at once",
            );
        }
        c.finish(Some(PlanOrder { at, publish }))
    }
}

/// A scanned or typed boarding pass: the pass's token (what its QR code holds), or its short
/// code (six letters and digits, on the pass, the status page and the SMS) with the transport
/// the gate serves.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "token": "3F9A0C", "transport": "0190a8f2-7c1e-7d3a-9b1e-4f2a6c8d0e11" }))]
pub struct ScanDraft {
    #[serde(deserialize_with = "scalar")]
    pub token: Option<String>,
    /// The transport's id; needed with a short code.
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<TransportId>)]
    pub transport: Option<String>,
}

/// A pass as the gate read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scan {
    /// The signed token (`EVAC1.…`), and the transport the gate serves if one is chosen (a
    /// pass for another transport is then refused).
    Token {
        token: String,
        gate: Option<TransportId>,
    },
    /// The short code of a pass on this transport.
    Code {
        transport: TransportId,
        code: String,
    },
}

/// Characters of a pass's short code: the first hexadecimal digits of its id.
pub const PASS_CODE_CHARS: usize = 6;

/// A typed short code made canonical: capitals, spaces and dashes dropped, and the letters
/// people mistake for digits (O, I, L) read as the digits (the code is hexadecimal).
pub fn pass_code_typed(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

impl ScanDraft {
    pub fn validate(&self) -> Result<Scan, Vec<FieldError>> {
        let mut c = Checker::default();
        let typed = self
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let Some(typed) = typed else {
            c.fail("token", "is required; scan the pass or type its code");
            return c.finish(None);
        };
        let gate = match self.transport.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => match raw.parse::<TransportId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    c.fail(
                        "transport",
                        format!("{} is not a transport's id", quoted(raw)),
                    );
                    return c.finish(None);
                }
            },
        };
        // Anything that is not a short code goes to the pass's verification as a token, which
        // refuses (and audits) a forged or mistyped one.
        let code = pass_code_typed(typed);
        if code.len() != PASS_CODE_CHARS || !code.bytes().all(|b| b.is_ascii_hexdigit()) {
            return c.finish(Some(Scan::Token {
                token: typed.to_string(),
                gate,
            }));
        }
        if gate.is_none() {
            c.fail(
                "transport",
                "is required with a pass code: choose the transport this gate serves",
            );
        }
        c.finish(gate.map(|transport| Scan::Code { transport, code }))
    }
}

/// A case officer's decision on a pair: the same person, or two people.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DecisionDraft {
    /// `match` or `distinct`.
    #[serde(deserialize_with = "scalar")]
    pub decision: Option<String>,
}

impl DecisionDraft {
    /// Whether the two are the same person.
    pub fn validate(&self) -> Result<bool, Vec<FieldError>> {
        let mut c = Checker::default();
        let same = match self.decision.as_deref().map(str::trim) {
            Some("match") => Some(true),
            Some("distinct") => Some(false),
            other => {
                c.fail(
                    "decision",
                    format!(
                        "{} is neither match nor distinct",
                        quoted(other.unwrap_or_default())
                    ),
                );
                None
            }
        };
        c.finish(same)
    }
}

/// The longest note an operator writes about a call, in characters.
pub const CALL_NOTE_CHARS_MAX: usize = 1_000;
/// The furthest ahead a callback is set, in minutes (a week).
pub const CALLBACK_IN_MINUTES_MAX: u32 = 7 * 24 * 60;

/// A call to log against a request, as the desk and the API send it: which way, how it
/// ended, the number, a note, and optionally when to call back (in minutes from now; left
/// empty, evac picks the time from how many tries failed).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
#[schema(example = json!({ "direction": "outbound", "outcome": "no_answer", "phone": "+7 701 123 45 67", "note": "no answer at the hotel" }))]
pub struct CallDraft {
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<crate::CallDirection>)]
    pub direction: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<crate::CallOutcome>)]
    pub outcome: Option<String>,
    /// The number dialled or calling; one without its country code is read in the crisis's
    /// default region. Text that is no phone number is refused.
    #[serde(deserialize_with = "scalar")]
    pub phone: Option<String>,
    #[serde(deserialize_with = "scalar")]
    pub note: Option<String>,
    #[serde(deserialize_with = "scalar")]
    #[schema(value_type = Option<u32>)]
    pub callback_in_minutes: Option<String>,
}

/// A validated call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEntry {
    pub direction: crate::CallDirection,
    pub outcome: crate::CallOutcome,
    /// The number dialled or calling, parsed.
    pub phone: Option<crate::PhoneE164>,
    pub note: String,
    pub callback_in_minutes: Option<u32>,
}

impl CallDraft {
    /// Validates the call; `region` reads a number written without its country code (the
    /// crisis's default region, as for requests).
    pub fn validate_in(
        &self,
        region: Option<crate::CountryCode>,
    ) -> Result<CallEntry, Vec<FieldError>> {
        let mut c = Checker::default();
        let direction = c.choice::<crate::CallDirection>("direction", &self.direction);
        if self
            .direction
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            c.fail(
                "direction",
                format!("is required; one of {}", crate::CallDirection::choices()),
            );
        }
        let outcome = c.choice::<crate::CallOutcome>("outcome", &self.outcome);
        if self.outcome.as_deref().is_none_or(|o| o.trim().is_empty()) {
            c.fail(
                "outcome",
                format!("is required; one of {}", crate::CallOutcome::choices()),
            );
        }
        let phone =
            c.short_text("phone", &self.phone).and_then(|raw| {
                match crate::PhoneE164::parse(&raw, region) {
                    Ok(phone) => Some(phone),
                    Err(e) => {
                        c.fail("phone", e.to_string());
                        None
                    }
                }
            });
        let note = c
            .text("note", &self.note, CALL_NOTE_CHARS_MAX)
            .unwrap_or_default();
        let callback_in_minutes = c.whole(
            "callback_in_minutes",
            &self.callback_in_minutes,
            0..=CALLBACK_IN_MINUTES_MAX,
        );
        if callback_in_minutes.is_some() && outcome == Some(crate::CallOutcome::WrongNumber) {
            c.fail(
                "callback_in_minutes",
                "a wrong number cannot be called back; correct the request's phone first",
            );
        }
        let entry = direction
            .zip(outcome)
            .map(|(direction, outcome)| CallEntry {
                direction,
                outcome,
                phone,
                note,
                callback_in_minutes,
            });
        c.finish(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_names_a_phone_number_or_none() {
        let call = |phone: &str| CallDraft {
            direction: Some("outbound".into()),
            outcome: Some("reached".into()),
            phone: Some(phone.into()),
            ..Default::default()
        };
        let kz = "KZ".parse().ok();
        let errors = call("abc").validate_in(kz).unwrap_err();
        assert_eq!(paths(&errors), ["phone"]);
        assert!(
            errors[0].reason.contains("not a phone number"),
            "{errors:?}"
        );
        let entry = call("8 701 555 12 34").validate_in(kz).unwrap();
        assert_eq!(entry.phone.unwrap().as_str(), "+77015551234");
        assert_eq!(call("").validate_in(kz).unwrap().phone, None);
    }

    fn paths(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.path.as_str()).collect()
    }

    /// Issue 28, item 1: a feeder says the hub it ends at and when it arrives, both or
    /// neither, ending elsewhere than it starts and after it leaves.
    #[test]
    fn a_feeder_draft_needs_its_end_hub_and_a_later_arrival() {
        let id = TransportId(uuid::Uuid::from_u128(2));
        let convoy = TransportDraft {
            code: Some("bus 3".into()),
            kind: Some("convoy".into()),
            hub: Some("ALA-BUS".into()),
            destination: Some("Nur-Sultan airport".into()),
            departs_at: Some("2022-01-09T04:00:00Z".into()),
            seats: Some("50".into()),
            feeds_hub: Some("nqz".into()),
            arrives_at: Some("2022-01-09T22:00:00Z".into()),
            ..Default::default()
        };
        let t = convoy.validate(id).unwrap();
        let feed = t.feeds.clone().expect("a feeder");
        assert_eq!(feed.hub, "NQZ");
        assert_eq!(TransportDraft::from(&t).validate(id).unwrap(), t);
        let cases = [
            (
                None,
                Some("2022-01-09T22:00:00Z"),
                "feeds_hub",
                "is required with an arrival",
            ),
            (Some("NQZ"), None, "arrives_at", "is required for a feeder"),
            (
                Some("ala-bus"),
                Some("2022-01-09T22:00:00Z"),
                "feeds_hub",
                "is the hub it leaves from",
            ),
            (
                Some("NQZ"),
                Some("2022-01-09T03:00:00Z"),
                "arrives_at",
                "is not after the departure",
            ),
        ];
        for (hub, arrives, field, says) in cases {
            let errors = TransportDraft {
                feeds_hub: hub.map(Into::into),
                arrives_at: arrives.map(Into::into),
                ..convoy.clone()
            }
            .validate(id)
            .unwrap_err();
            assert_eq!(paths(&errors), [field], "{hub:?} {arrives:?}");
            assert!(errors[0].reason.contains(says), "{}", errors[0].reason);
        }
    }

    /// Issue 28, item 7: where a transport out lands is a country code, read back as
    /// written; a feeder ends inside the crisis and says no country.
    #[test]
    fn a_transport_lands_in_a_country_and_a_feeder_in_none() {
        let id = TransportId(uuid::Uuid::from_u128(3));
        let flight = TransportDraft {
            code: Some("LH 1".into()),
            hub: Some("NQZ".into()),
            destination: Some("Frankfurt".into()),
            departs_at: Some("2022-01-10T04:00:00Z".into()),
            seats: Some("180".into()),
            lands_in: Some(" de ".into()),
            ..Default::default()
        };
        let t = flight.validate(id).unwrap();
        assert_eq!(t.lands_in.map(|c| c.to_string()).as_deref(), Some("DE"));
        assert_eq!(TransportDraft::from(&t).validate(id).unwrap(), t);
        let errors = TransportDraft {
            lands_in: Some("Germany".into()),
            ..flight.clone()
        }
        .validate(id)
        .unwrap_err();
        assert_eq!(paths(&errors), ["lands_in"]);
        let errors = TransportDraft {
            feeds_hub: Some("ALA".into()),
            arrives_at: Some("2022-01-10T20:00:00Z".into()),
            ..flight
        }
        .validate(id)
        .unwrap_err();
        assert_eq!(paths(&errors), ["lands_in"]);
        assert!(errors[0].reason.contains("leave it empty"));
    }

    #[test]
    fn a_transport_draft_names_every_bad_field_and_keeps_a_code_with_a_space() {
        let id = TransportId(uuid::Uuid::from_u128(1));
        let bad = TransportDraft {
            code: Some("SU/1942".into()),
            kind: Some("rocket".into()),
            destination: Some(" ".into()),
            departs_at: Some("tomorrow".into()),
            seats: Some("many".into()),
            stretcher_places: Some("3".into()),
            ..Default::default()
        };
        let errors = bad.validate(id).unwrap_err();
        assert_eq!(
            paths(&errors),
            ["code", "kind", "hub", "destination", "departs_at", "seats"]
        );
        assert!(errors[5].reason.contains("'many' is not a whole number"));
        let good = TransportDraft {
            code: Some("SU  1942".into()),
            hub: Some("nqz".into()),
            destination: Some("Moscow".into()),
            departs_at: Some("2022-01-07T06:00".into()),
            seats: Some("146".into()),
            stretcher_places: Some("200".into()),
            ..Default::default()
        };
        let errors = good.validate(id).unwrap_err();
        assert_eq!(
            paths(&errors),
            ["stretcher_places"],
            "more places than seats"
        );
        let t = TransportDraft {
            stretcher_places: None,
            ..good
        }
        .validate(id)
        .unwrap();
        assert_eq!(
            (t.code.as_str(), t.hub.as_str(), t.seats),
            ("SU 1942", "NQZ", 146)
        );
        assert_eq!(TransportDraft::from(&t).validate(id).unwrap(), t);
    }

    #[test]
    fn numbers_and_yes_no_arrive_as_json_values_or_form_text() {
        let json: TransportDraft =
            serde_json::from_str(r#"{"code": "KC-1", "seats": 84, "escorts": 2}"#).unwrap();
        let form: TransportDraft =
            serde_urlencoded::from_str("code=KC-1&seats=84&escorts=2").unwrap();
        assert_eq!(json, form);
        let unknown = serde_json::from_str::<TransportDraft>(r#"{"seets": 84}"#);
        assert!(
            unknown
                .unwrap_err()
                .to_string()
                .contains("unknown field `seets`")
        );
        let plan: PlanDraft =
            serde_json::from_str(r#"{"publish": true, "confirm": true}"#).unwrap();
        assert!(plan.validate().unwrap().publish);
        let unconfirmed: PlanDraft = serde_json::from_str(r#"{"publish": true}"#).unwrap();
        assert_eq!(
            unconfirmed.validate().unwrap_err()[0].path,
            "confirm",
            "publishing needs the preview checked"
        );
        // The desk reads the plan's moment on the crisis's clock, as it reads departures.
        let local: PlanDraft = serde_json::from_str(r#"{"at": "2022-01-06T14:00"}"#).unwrap();
        let almaty = jiff::tz::TimeZone::get("Asia/Almaty").unwrap();
        assert_eq!(
            local.validate_in(almaty).unwrap().at,
            Some("2022-01-06T08:00:00Z".parse().unwrap())
        );
        assert_eq!(
            local.validate().unwrap().at,
            Some("2022-01-06T14:00:00Z".parse().unwrap()),
            "the API's, without an offset, is UTC"
        );
    }

    #[test]
    fn a_status_change_needs_a_known_status_and_a_reason() {
        let blank_hub = HubDraft {
            code: Some("CIT".into()),
            kind: Some(String::new()),
            name: Some("Shymkent".into()),
            country: Some(" ".into()),
            lat: Some(String::new()),
            lon: Some("69.5".into()),
            ..Default::default()
        };
        assert_eq!(
            paths(&blank_hub.validate().unwrap_err()),
            ["kind", "country", "lat"],
            "a blank field is named, never an empty list of problems"
        );
        let errors = PersonEventDraft {
            status: Some("gone".into()),
            reason: None,
        }
        .validate()
        .unwrap_err();
        assert_eq!(paths(&errors), ["status", "reason"]);
        let note = PersonEventDraft {
            status: Some(String::new()),
            reason: Some("called, no answer".into()),
        }
        .validate()
        .unwrap();
        assert_eq!(note.to, None);
    }

    #[test]
    fn a_zone_is_around_a_town_or_a_point_never_both() {
        let both = ZoneDraft {
            code: Some("almaty-centre".into()),
            around: Some("Almaty".into()),
            lat: Some("43.2".into()),
            radius_km: Some("5".into()),
            ..Default::default()
        };
        assert_eq!(paths(&both.validate().unwrap_err()), ["around"]);
        let point = ZoneDraft {
            around: None,
            lon: Some("76.9".into()),
            ..both
        };
        assert!(matches!(
            point.validate().unwrap().around,
            ZoneCentre::Point { .. }
        ));
    }

    #[test]
    fn a_broadcast_reads_in_each_language_given_and_names_a_long_translation() {
        let broadcast = BroadcastDraft {
            text: Some("Stay indoors tonight.".into()),
            text_ru: Some("Оставайтесь дома этой ночью.".into()),
            text_kk: Some("  ".into()),
            place: Some("Almaty".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(broadcast.text_in("ru"), "Оставайтесь дома этой ночью.");
        assert_eq!(
            broadcast.text_in("kk"),
            "Stay indoors tonight.",
            "a blank translation is no translation"
        );
        assert_eq!(broadcast.text_in("it"), "Stay indoors tonight.");
        let long = BroadcastDraft {
            text: Some("Stay indoors tonight.".into()),
            text_it: Some("x".repeat(BROADCAST_CHARS_MAX + 1)),
            place: Some("Almaty".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(paths(&long), ["text_it"]);
    }

    #[test]
    fn a_scan_is_a_token_or_a_short_code_with_its_transport() {
        let transport = TransportId(uuid::Uuid::from_u128(7));
        let scan = |token: &str, transport: Option<TransportId>| {
            ScanDraft {
                token: Some(token.into()),
                transport: transport.map(|t| t.to_string()),
            }
            .validate()
        };
        assert_eq!(
            scan("EVAC1.abc.def", None),
            Ok(Scan::Token {
                token: "EVAC1.abc.def".into(),
                gate: None
            })
        );
        assert_eq!(
            scan(" 3f-9a-oc ", Some(transport)),
            Ok(Scan::Code {
                transport,
                code: "3F9A0C".into()
            }),
            "small letters, dashes and an O for a zero are read"
        );
        let no_transport = scan("3F9A0C", None).unwrap_err();
        assert_eq!(no_transport[0].path, "transport");
        assert_eq!(
            scan("hello", Some(transport)),
            Ok(Scan::Token {
                token: "hello".into(),
                gate: Some(transport)
            }),
            "not a code: verified (and refused, audited) as a pass"
        );
        assert_eq!(scan("   ", None).unwrap_err()[0].path, "token");
    }
}
