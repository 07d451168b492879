//! The situation picture: hubs, routes and zones with derived statuses; reports to ingest,
//! grade, confirm or dismiss; statuses staff set by hand; the triage policy and ranking.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use evac_app::{NewRoute, NewZone, ZoneCentre};
use evac_model::{
    Choice, Effect, FieldError, Grade, Hub, HubKind, ReportId, ReportState, RouteMode, Statement,
    Subject, Timestamp, Transport, TransportId, TransportKind, TransportStatus,
};
use serde_json::{Value, json};

use super::intake::parse_json;
use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiResult, Problem};

/// Moves listed after a policy change when no `limit` is given.
const MOVES_DEFAULT: u32 = 100;
/// Ranked cases listed when no `limit` is given.
const RANKED_DEFAULT: u32 = 50;

pub(crate) fn field(path: &str, reason: String) -> Problem {
    Problem::invalid(vec![FieldError {
        path: path.into(),
        reason,
    }])
}

/// Reads one of a closed set of words, noting the field and the words it takes if it is none.
fn choice<T: Choice>(path: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<T> {
    let parsed = T::parse_choice(text);
    if parsed.is_none() {
        errors.push(FieldError {
            path: path.into(),
            reason: format!("'{text}' is not one of: {}", T::choices()),
        });
    }
    parsed
}

/// As [`choice`], for a request with that one field.
fn one_choice<T: Choice>(path: &str, text: &str) -> Result<T, Problem> {
    let mut errors = Vec::new();
    choice(path, text, &mut errors).ok_or_else(|| Problem::invalid(errors))
}

pub(crate) fn time_param(
    query: &HashMap<String, String>,
    name: &str,
) -> Result<Option<Timestamp>, Problem> {
    query
        .get(name)
        .map(|v| {
            v.parse().map_err(|_| {
                field(
                    &format!("query.{name}"),
                    format!("'{v}' is not an RFC 3339 time like 2022-01-06T12:00:00Z"),
                )
            })
        })
        .transpose()
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Json<Value> {
    Json(serde_json::to_value(value).unwrap_or(Value::Null))
}

/// `GET /api/v1/situation?at=RFC3339`: every hub, route and zone with its status at `at`
/// (default now), the claims behind it, conflicting claims beside it, and untrusted ones.
pub async fn situation(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let at = time_param(&query, "at")?.unwrap_or_else(Timestamp::now);
    let view = state.app.situation(&staff, at).await?;
    Ok(to_json(&view))
}

/// `GET /api/v1/hubs?at=RFC3339`: the hubs of the situation picture.
pub async fn hubs(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let at = time_param(&query, "at")?.unwrap_or_else(Timestamp::now);
    let view = state.app.situation(&staff, at).await?;
    Ok(Json(json!({ "at": at, "items": view.hubs })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubIn {
    code: String,
    kind: String,
    name: String,
    country: String,
    municipality: Option<String>,
    lat: f64,
    lon: f64,
}

/// `POST /api/v1/hubs`: adds or replaces a station, terminal, crossing or airport.
pub async fn add_hub(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (hub, _) = parse_json::<HubIn>(&headers, body)?;
    let mut errors = Vec::new();
    let kind: Option<HubKind> = choice("kind", &hub.kind, &mut errors);
    let country = hub.country.parse().ok();
    if country.is_none() {
        errors.push(FieldError {
            path: "country".into(),
            reason: format!("'{}' is no ISO 3166 country code like KZ", hub.country),
        });
    }
    if hub.lat.abs() > 90.0 || hub.lon.abs() > 180.0 {
        errors.push(FieldError {
            path: "lat".into(),
            reason: "latitude and longitude are out of range".into(),
        });
    }
    let (Some(kind), Some(country), true) = (kind, country, errors.is_empty()) else {
        return Err(Problem::invalid(errors));
    };
    let hub = Hub {
        code: hub.code,
        kind,
        name: hub.name,
        country,
        municipality: hub.municipality,
        lat: hub.lat,
        lon: hub.lon,
        iata: None,
        icao: None,
    };
    state.app.add_hub(&staff, &hub).await?;
    Ok((StatusCode::CREATED, to_json(&hub)))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteIn {
    code: String,
    mode: String,
    /// A town, in any script.
    from: String,
    to_hub: String,
}

/// `POST /api/v1/routes`: adds or replaces a route from a town to a hub (distance and travel
/// time are estimated).
pub async fn add_route(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (route, _) = parse_json::<RouteIn>(&headers, body)?;
    let mode: RouteMode = one_choice("mode", &route.mode)?;
    let new = NewRoute {
        code: route.code,
        mode,
        from: route.from,
        to_hub: route.to_hub,
    };
    let route = state.app.add_route(&staff, &new).await?;
    Ok((StatusCode::CREATED, to_json(&route)))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneIn {
    code: String,
    name: Option<String>,
    /// A town the zone is centred on, in any script; or give `lat` and `lon`.
    around: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: f64,
}

/// `POST /api/v1/zones`: adds or replaces a zone (a circle), whose threat level statements set.
pub async fn add_zone(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (zone, _) = parse_json::<ZoneIn>(&headers, body)?;
    let around = match (zone.around, zone.lat, zone.lon) {
        (Some(place), None, None) => ZoneCentre::Place(place),
        (None, Some(lat), Some(lon)) => ZoneCentre::Point { lat, lon },
        _ => {
            return Err(field(
                "around",
                "give either `around` (a town) or both `lat` and `lon`".into(),
            ));
        }
    };
    let new = NewZone {
        code: zone.code,
        name: zone.name,
        around,
        radius_km: zone.radius_km,
    };
    let zone = state.app.add_zone(&staff, &new).await?;
    Ok((StatusCode::CREATED, to_json(&zone)))
}

/// A statement as staff send it: the window starts now unless `from` says otherwise.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementIn {
    subject: String,
    effect: String,
    from: Option<String>,
    until: Option<String>,
    capacity_per_day: Option<u32>,
    #[serde(default)]
    note: String,
}

impl StatementIn {
    fn into_statement(self) -> Result<Statement, Problem> {
        let mut errors = Vec::new();
        let mut note = |path: &str, reason: String| {
            errors.push(FieldError {
                path: path.into(),
                reason,
            })
        };
        let subject: Option<Subject> = self
            .subject
            .parse()
            .map_err(|e: evac_model::SubjectError| note("subject", e.to_string()))
            .ok();
        let effect: Option<Effect> = self
            .effect
            .parse()
            .map_err(|e: evac_model::EffectError| note("effect", e.to_string()))
            .ok();
        let mut time = |path: &str, v: Option<String>| -> Option<Timestamp> {
            let v = v?;
            v.parse()
                .map_err(|_| note(path, format!("'{v}' is not an RFC 3339 time")))
                .ok()
        };
        let from = time("from", self.from);
        let until = time("until", self.until);
        match (subject, effect, errors.is_empty()) {
            (Some(subject), Some(effect), true) => Ok(Statement {
                subject,
                effect,
                from: from.unwrap_or_else(Timestamp::now),
                until,
                capacity_per_day: self.capacity_per_day,
                note: self.note,
            }),
            _ => Err(Problem::invalid(errors)),
        }
    }
}

/// `POST /api/v1/statuses`: staff set a status by hand (stored as their confirmed report).
pub async fn set_status(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (statement, _) = parse_json::<StatementIn>(&headers, body)?;
    let statement = statement.into_statement()?;
    let report = state.app.set_status_as(&staff, &statement).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "report": report, "statement": statement })),
    ))
}

/// `GET /api/v1/reports?limit=N`: the newest situation reports.
pub async fn reports(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = super::limit(&query, 50);
    let reports = state.app.reports(&staff, limit).await?;
    Ok(Json(json!({ "items": reports })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    /// The report's text, or a CAP 1.2 alert's XML.
    text: String,
    /// Who it comes from; a CAP alert names its sender.
    source: Option<String>,
}

/// `POST /api/v1/reports`: ingests a text or CAP alert as a draft report. 201 for a new
/// report, 200 with the stored one when it was ingested before.
pub async fn ingest(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (input, _) = parse_json::<ReportIn>(&headers, body)?;
    let ingested = state
        .app
        .ingest_report_as(&staff, &input.text, input.source.as_deref())
        .await?;
    let status = if ingested.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, to_json(&ingested)))
}

fn report_id(text: &str) -> Result<ReportId, Problem> {
    text.parse()
        .map_err(|_| field("id", format!("'{text}' is not a report id (a UUID)")))
}

/// `GET /api/v1/reports/{id}`: a report with its statements.
pub async fn report(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (report, claims) = state.app.report(&staff, report_id(&id)?).await?;
    Ok(Json(json!({ "report": report, "statements": claims })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgementIn {
    /// Admiralty grade, e.g. `B2`.
    grade: Option<String>,
    /// `confirmed`, `dismissed` or back to `draft`.
    state: Option<String>,
}

/// `PATCH /api/v1/reports/{id}` with `{grade?, state?}`: grade, confirm or dismiss.
pub async fn judge(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let id = report_id(&id)?;
    let (input, _) = parse_json::<JudgementIn>(&headers, body)?;
    let mut errors = Vec::new();
    let grade: Option<Grade> = input.grade.as_deref().and_then(|g| {
        g.parse()
            .map_err(|e: evac_model::GradeError| {
                errors.push(FieldError {
                    path: "grade".into(),
                    reason: e.to_string(),
                })
            })
            .ok()
    });
    let new_state: Option<ReportState> = input
        .state
        .as_deref()
        .and_then(|s| choice("state", s, &mut errors));
    if input.grade.is_none() && input.state.is_none() {
        errors.push(FieldError {
            path: String::new(),
            reason: "give a grade (e.g. B2), a state (confirmed, dismissed, draft) or both".into(),
        });
    }
    if !errors.is_empty() {
        return Err(Problem::invalid(errors));
    }
    let report = state.app.judge_report(&staff, id, grade, new_state).await?;
    Ok(to_json(&report))
}

/// `POST /api/v1/reports/{id}/statements`: adds a statement to a report.
pub async fn add_statement(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = report_id(&id)?;
    let (input, _) = parse_json::<StatementIn>(&headers, body)?;
    let statement = input.into_statement()?;
    state.app.add_statement(&staff, id, &statement).await?;
    Ok((StatusCode::CREATED, to_json(&statement)))
}

/// `GET /api/v1/triage/policy`: the policy in force (TOML) and its version.
pub async fn policy(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let policy = state.app.policy(&staff).await?;
    Ok(to_json(&policy))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyIn {
    toml: String,
}

/// `PUT /api/v1/triage/policy` with `{toml}`: stores a new version and answers with what
/// moved (`?limit=N` moves listed).
pub async fn change_policy(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let (input, _) = parse_json::<PolicyIn>(&headers, body)?;
    let moves_max = super::limit(&query, MOVES_DEFAULT) as usize;
    let change = state
        .app
        .change_policy(&staff, &input.toml, moves_max)
        .await?;
    Ok(to_json(&change))
}

/// `GET /api/v1/triage?limit=N&at=RFC3339`: cases (households) first served first, each with
/// its class, score and the rules that produced them.
pub async fn ranking(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let at = time_param(&query, "at")?.unwrap_or_else(Timestamp::now);
    let limit = super::limit(&query, RANKED_DEFAULT) as usize;
    let (total, items) = state.app.rank_cases(&staff, at, 0, limit).await?;
    Ok(Json(json!({ "at": at, "cases": total, "items": items })))
}

/// `GET /api/v1/triage/moves?since=RFC3339&limit=N`: what moved between the ranking under the
/// policy and situation of `since` and the ranking now (the same cases, waiting counted to now).
pub async fn moves(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let since = time_param(&query, "since")?.ok_or_else(|| {
        field(
            "query.since",
            "give since=RFC3339, the time to compare with".into(),
        )
    })?;
    let limit = super::limit(&query, MOVES_DEFAULT) as usize;
    let change = state
        .app
        .triage_moves(&staff, since, Timestamp::now(), limit)
        .await?;
    Ok(to_json(&change))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportIn {
    code: String,
    kind: String,
    hub: String,
    destination: String,
    departs_at: String,
    seats: u32,
    #[serde(default)]
    stretcher_places: u32,
    #[serde(default)]
    wheelchair_places: u32,
    #[serde(default)]
    escorts: u32,
    status: Option<String>,
}

/// `GET /api/v1/transports`: every transport, earliest departure first.
pub async fn transports(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let items = state.app.transports(&staff).await?;
    Ok(Json(json!({ "items": items })))
}

/// `POST /api/v1/transports`: a planner adds a flight, bus, train or convoy.
pub async fn add_transport(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (input, _) = parse_json::<TransportIn>(&headers, body)?;
    let mut errors = Vec::new();
    let kind: Option<TransportKind> = choice("kind", &input.kind, &mut errors);
    let departs_at: Option<Timestamp> = input.departs_at.parse().ok();
    if departs_at.is_none() {
        errors.push(FieldError {
            path: "departs_at".into(),
            reason: format!(
                "'{}' is not an RFC 3339 time like 2022-01-07T06:00:00Z",
                input.departs_at
            ),
        });
    }
    let status: Option<TransportStatus> = match input.status.as_deref() {
        None => Some(TransportStatus::Planned),
        Some(s) => choice("status", s, &mut errors),
    };
    let (Some(kind), Some(departs_at), Some(status), true) =
        (kind, departs_at, status, errors.is_empty())
    else {
        return Err(Problem::invalid(errors));
    };
    let transport = Transport {
        id: TransportId::new_v7(),
        code: input.code,
        kind,
        hub: input.hub,
        destination: input.destination,
        departs_at,
        seats: input.seats,
        stretcher_places: input.stretcher_places,
        wheelchair_places: input.wheelchair_places,
        escorts: input.escorts,
        status,
    };
    state.app.add_transport(&staff, &transport).await?;
    Ok((StatusCode::CREATED, to_json(&transport)))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransportStatusIn {
    status: String,
}

/// `PATCH /api/v1/transports/{id}` with `{status}`: confirmed, boarding, departed, cancelled.
pub async fn transport_status(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let id: TransportId = id
        .parse()
        .map_err(|_| field("id", format!("'{id}' is not a transport id (a UUID)")))?;
    let (input, _) = parse_json::<TransportStatusIn>(&headers, body)?;
    let status: TransportStatus = one_choice("status", &input.status)?;
    let transport = state.app.set_transport_status(&staff, id, status).await?;
    Ok(to_json(&transport))
}
