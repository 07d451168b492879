//! Intake: the public request form and status page, the API's submission, and staff reading
//! requests back.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use evac_app::AppError;
use evac_model::{
    Actor, Channel, FieldError, PersonDraft, PersonStatus, ReferenceCode, RequestDraft, RequestId,
    Timestamp,
};
use evac_store::{IdempotencyClaim, ListOrder, PageRequest, RequestFilter};
use evac_ui::{Lang, PartyRow, RequestDone, RequestForm, RequestFormValues, StatusPage, render};
use sha2::{Digest, Sha256};

use crate::auth::{Authenticated, MaybeAuthenticated};
use crate::desk::{all, first, form_pairs, html, lang, public_error_page};
use crate::doors::parse_json;
use crate::dto::{Acknowledgement, RequestIn, RequestOut, RequestPage};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(create))
        .routes(routes!(list))
        .routes(routes!(by_id))
        .routes(routes!(by_reference))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route(
            "/request",
            get(public_request_page).post(public_request_post),
        )
        .route("/status", get(public_status_page).post(public_status_post))
}

/// The longest Idempotency-Key accepted (a UUID is 36).
const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;

const PAGE_ITEMS_DEFAULT: u32 = 50;

fn idempotency_claim(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<IdempotencyClaim>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().ok().map(str::trim).filter(|k| {
        !k.is_empty()
            && k.len() <= IDEMPOTENCY_KEY_CHARS_MAX
            && k.chars().all(|c| c.is_ascii_graphic())
    });
    let key = key.ok_or_else(|| {
        Problem::bad_request(
            "urn:evac:problem:bad-idempotency-key",
            format!("Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} visible ASCII characters, e.g. a UUID"),
        )
    })?;
    // Namespaced, so an API key can never collide with an import's row digest.
    Ok(Some(IdempotencyClaim {
        key: format!("api:{key}"),
        body_sha256: Sha256::digest(body).into(),
    }))
}

/// `POST /api/v1/requests`: public; answers only after the request is durably stored.
#[utoipa::path(
    post,
    path = "/api/v1/requests",
    tag = "intake",
    summary = "Submit an evacuation request (public)",
    description = "Answers 201 only after the request is durably stored. Send an Idempotency-Key to retry safely: the same key and body return the first answer; the same key with another body is 409.",
    params(
        ("Idempotency-Key" = Option<String>, Header),
    ),
    request_body = crate::dto::RequestIn,
    responses(
        (status = 201, description = "stored", body = crate::dto::Acknowledgement),
        (status = 400, description = "the body is not JSON, or a header is malformed"),
        (status = 409, description = "the Idempotency-Key was used with another body"),
        (status = 413, description = "the body is too large"),
        (status = 422, description = "invalid fields, each listed with its path"),
    ),
    security(()),
)]
pub async fn create(
    State(state): State<AppState>,
    MaybeAuthenticated(staff): MaybeAuthenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let (input, raw): (RequestIn, Bytes) = parse_json(&headers, body)?;
    let claim = idempotency_claim(&headers, &raw)?;
    let draft = input.into_draft();
    let submitted = state
        .app
        .submit_request_from(staff.as_ref(), &draft, claim)
        .await?;
    let ack = Acknowledgement {
        id: submitted.id.to_string(),
        reference: submitted.reference.to_string(),
    };
    let mut response = (StatusCode::CREATED, Json(ack)).into_response();
    let location = format!("/api/v1/requests/{}", submitted.id);
    response.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&location).expect("ids are ASCII"),
    );
    if submitted.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// `GET /api/v1/requests/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}",
    tag = "intake",
    summary = "One request",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    responses(
        (status = 200, description = "the request", body = crate::dto::RequestOut),
        (status = 401, description = "no or invalid token"),
        (status = 404, description = "no such request"),
    ),
)]
pub async fn by_id(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestOut>> {
    let id = request_id(&id)?;
    let stored = state.app.request(&staff, id).await?;
    Ok(Json(RequestOut::from_stored(&stored, staff.role)))
}

/// `GET /api/v1/requests/by-reference/{reference}`: what a case officer types from a phone call.
#[utoipa::path(
    get,
    path = "/api/v1/requests/by-reference/{reference}",
    tag = "intake",
    summary = "One request by its reference code",
    params(
        ("reference" = String, Path),
    ),
    responses(
        (status = 200, description = "the request", body = crate::dto::RequestOut),
        (status = 404, description = "no such request"),
        (status = 422, description = "the code is mistyped"),
    ),
)]
pub async fn by_reference(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(reference): Path<String>,
) -> ApiResult<Json<RequestOut>> {
    let reference: ReferenceCode =
        reference
            .parse()
            .map_err(|e: evac_model::ReferenceCodeError| {
                Problem::invalid(vec![FieldError {
                    path: "reference".into(),
                    reason: e.to_string(),
                }])
            })?;
    let stored = state.app.request_by_reference(&staff, &reference).await?;
    Ok(Json(RequestOut::from_stored(&stored, staff.role)))
}

/// Reads the list filters from the query string; every bad parameter is reported.
pub(crate) async fn parse_filter(
    state: &AppState,
    query: &HashMap<String, String>,
    extra_allowed: &[&str],
    me: &evac_app::Staff,
) -> Result<RequestFilter, Problem> {
    let mut filter = request_filter(query, extra_allowed, me).map_err(Problem::invalid)?;
    filter.town = town_of_query(state, query)?;
    if query.get("has_duplicates").is_some_and(|v| v == "true") {
        filter.among = Some(state.app.requests_with_duplicates(me).await?);
    }
    Ok(filter)
}

/// The place a `town` parameter names (a gazetteer id, as the dashboard's place links give
/// it): its list holds every request whose location reads as that place, whatever the
/// spelling ("Алматы", "Almaty, hotel" and "Алматыда" alike).
pub(crate) fn town_of_query(
    state: &AppState,
    query: &HashMap<String, String>,
) -> Result<Option<u64>, evac_app::AppError> {
    let Some(town) = query
        .get("town")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    match evac_app::geonames_id(town) {
        Some(id) if state.app.town_name(town).is_some() => Ok(Some(id)),
        _ => Err(evac_app::AppError::Invalid(vec![FieldError {
            path: "query.town".into(),
            reason: format!(
                "{town} is not a place the gazetteer knows; follow a place's link on the dashboard",
                town = evac_model::quoted(&town)
            ),
        }])),
    }
}

/// The list filter of the API's query and the desk's filter form alike (one door): every
/// parameter checked, every problem named. A received bound may be a time (RFC 3339) or a day
/// as people write it (`2022-01-05`, `05.01.2022`, UTC); a day as `received_until` includes
/// that day.
pub(crate) fn request_filter(
    query: &HashMap<String, String>,
    extra_allowed: &[&str],
    me: &evac_app::Staff,
) -> Result<RequestFilter, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut filter = RequestFilter::default();
    let time = |key: &str, errors: &mut Vec<FieldError>| {
        query.get(key).and_then(|v| {
            if let Ok(t) = v.parse::<Timestamp>() {
                return Some(t);
            }
            let day = evac_model::parse_date(v.trim()).map(|d| {
                let d = if key == "received_until" {
                    d.tomorrow().unwrap_or(d)
                } else {
                    d
                };
                Timestamp::from_date_utc(d)
            });
            if day.is_none() {
                errors.push(FieldError {
                    path: format!("query.{key}"),
                    reason: format!(
                        "{v} is not a day like 2022-01-05 or a time like 2022-01-05T00:00:00Z",
                        v = evac_model::quoted(&v)
                    ),
                });
            }
            day
        })
    };
    errors.extend(crate::doors::unknown_parameters(
        query,
        &REQUEST_FILTERS,
        extra_allowed,
    ));
    if let Some(v) = query.get("status") {
        filter.status = PersonStatus::parse(v);
        if filter.status.is_none() {
            let choices = PersonStatus::ALL.map(|s| s.as_str()).join(", ");
            errors.push(FieldError {
                path: "query.status".into(),
                reason: format!("{v} is not one of: {choices}", v = evac_model::quoted(&v)),
            });
        }
    }
    if let Some(v) = query.get("channel") {
        filter.channel = Channel::parse(v);
        if filter.channel.is_none() {
            errors.push(FieldError {
                path: "query.channel".into(),
                reason: format!(
                    "{v} is not one of: {}",
                    Channel::choices(),
                    v = evac_model::quoted(&v)
                ),
            });
        }
    }
    filter.place = query.get("place").filter(|p| !p.trim().is_empty()).cloned();
    filter.name = query.get("name").filter(|p| !p.trim().is_empty()).cloned();
    filter.received_from = time("received_from", &mut errors);
    filter.received_until = time("received_until", &mut errors);
    if let Some(v) = query.get("has_minors") {
        filter.has_minors = match v.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                errors.push(FieldError {
                    path: "query.has_minors".into(),
                    reason: format!("{v} is not true or false", v = evac_model::quoted(&v)),
                });
                None
            }
        };
    }
    if let Some(v) = query.get("citizenship").filter(|v| !v.trim().is_empty()) {
        match v.parse::<evac_model::CountryCode>() {
            Ok(code) => filter.citizenship = Some(code),
            Err(e) => errors.push(FieldError {
                path: "query.citizenship".into(),
                reason: e.to_string(),
            }),
        }
    }
    if let Some(v) = query.get("need").filter(|v| !v.trim().is_empty()) {
        filter.need = evac_model::Need::parse(v.trim());
        if filter.need.is_none() {
            errors.push(FieldError {
                path: "query.need".into(),
                reason: format!(
                    "{v} is not one of: {}",
                    evac_model::Need::choices(),
                    v = evac_model::quoted(&v)
                ),
            });
        }
    }
    if let Some(v) = query.get("has_duplicates") {
        // Only "true" narrows (the resolution needs the app: `parse_filter`).
        if !matches!(v.as_str(), "true" | "") {
            errors.push(FieldError {
                path: "query.has_duplicates".into(),
                reason: format!(
                    "{v} is not true; leave it out for every request",
                    v = evac_model::quoted(&v)
                ),
            });
        }
    }
    if let Some(v) = query.get("assignee") {
        // `me`: the caller's own cases; else a staff member's user id.
        match v.trim() {
            "me" => filter.assignee = Some(me.user_id.to_string()),
            id => match id.parse::<evac_model::UserId>() {
                Ok(id) => filter.assignee = Some(id.to_string()),
                Err(_) => errors.push(FieldError {
                    path: "query.assignee".into(),
                    reason: format!(
                        "{v} is not me or a staff member's user id",
                        v = evac_model::quoted(&v)
                    ),
                }),
            },
        }
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    }
}

/// The request list's filter parameters, as the API's list, the export and the desk name them.
pub(crate) const REQUEST_FILTERS: [&str; 12] = [
    "status",
    "place",
    "name",
    "channel",
    "received_from",
    "received_until",
    "has_minors",
    "assignee",
    "town",
    "citizenship",
    "need",
    "has_duplicates",
];

/// The same filters as the OpenAPI document describes them, for the list and the exports
/// (`params(RequestFilterParams)`); [`request_filter`] reads them, and a test checks that the
/// two name the same parameters.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(
    dead_code,
    reason = "read by the OpenAPI derive only; request_filter parses the query"
)]
pub(crate) struct RequestFilterParams {
    /// Requests with at least one person in this status.
    status: Option<PersonStatus>,
    /// Part of the location, in any script (Алматы finds Almaty).
    place: Option<String>,
    /// Part of a person's surname or given names, in any script (Иванова finds Ivanova).
    name: Option<String>,
    /// How the request arrived.
    channel: Option<Channel>,
    /// Received at or after: an RFC 3339 time, or a day (UTC) as people write it.
    #[param(example = "2022-01-05")]
    received_from: Option<String>,
    /// Received before this time (exclusive), or up to the end of this day (UTC).
    #[param(example = "2022-01-07")]
    received_until: Option<String>,
    /// Requests with (or without) people under 18.
    has_minors: Option<bool>,
    /// Requests a staff member holds: `me`, or their user id.
    #[param(example = "me")]
    assignee: Option<String>,
    /// Requests whose location reads as this town, by its gazetteer id (the dashboard's place
    /// links use it).
    #[param(example = "geonames:1526384")]
    town: Option<String>,
    /// Requests with someone of this citizenship (ISO 3166 two-letter code).
    #[param(example = "KZ")]
    citizenship: Option<String>,
    /// Requests with someone who has this need.
    need: Option<evac_model::Need>,
    /// Requests with someone linked to, or suggested as, another record (as of the kept
    /// ranking, which a link decision renews); only `true` is a filter.
    has_duplicates: Option<bool>,
}

/// `GET /api/v1/requests?status=&place=&channel=&received_from=&received_until=&has_minors=&limit=&cursor=`
#[utoipa::path(
    get,
    path = "/api/v1/requests",
    tag = "intake",
    summary = "List requests in the order they were stored, newest first (an import keeps the received times of its rows, so they need not follow that order)",
    params(
        RequestFilterParams,
        ("limit" = Option<i64>, Query),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "a page", body = crate::dto::RequestPage),
        (status = 401, description = "no or invalid token"),
        (status = 403, description = "role may not read requests"),
        (status = 422, description = "invalid filter"),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<RequestPage>> {
    let filter = parse_filter(&state, &query, &["limit", "cursor"], &staff).await?;
    let limit = crate::doors::limit(&query, PAGE_ITEMS_DEFAULT)?;
    let after = match query.get("cursor") {
        None => None,
        Some(v) => Some(v.parse::<RequestId>().map_err(|_| {
            Problem::invalid(vec![FieldError {
                path: "query.cursor".into(),
                reason: "not a cursor from a previous page's next_cursor".into(),
            }])
        })?),
    };
    let page = state
        .app
        .list_requests(
            &staff,
            &filter,
            PageRequest {
                after,
                limit,
                order: ListOrder::NewestFirst,
            },
        )
        .await?;
    Ok(Json(RequestPage {
        items: page
            .items
            .iter()
            .map(|r| RequestOut::from_stored(r, staff.role))
            .collect(),
        next_cursor: page.next.map(|id| id.to_string()),
    }))
}

/// A request id from a path segment; anything else is a 404 that says what an id looks like.
pub fn request_id(text: &str) -> Result<RequestId, Problem> {
    text.parse().map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "urn:evac:problem:not-found",
            "Not found",
            format!(
                "{text} is not a request id (a UUID)",
                text = evac_model::quoted(&text)
            ),
        )
    })
}

/// `GET /request`: the public request form.
pub async fn public_request_page(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let page = RequestForm::new(lang, RequestFormValues::default(), vec![]);
    html(StatusCode::OK, render(&page))
}

pub(crate) fn form_values(pairs: &[(String, String)]) -> RequestFormValues {
    let column = |name| all(pairs, name);
    let (surnames, given, births, relations, needs, notes) = (
        column("surname"),
        column("given_names"),
        column("birth_date"),
        column("relation"),
        column("need"),
        column("medical_note"),
    );
    let cell = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
    RequestFormValues {
        location: first(pairs, "location"),
        country: first(pairs, "country"),
        lat: first(pairs, "lat"),
        lon: first(pairs, "lon"),
        name: first(pairs, "name"),
        phone: first(pairs, "phone"),
        email: first(pairs, "email"),
        situation: first(pairs, "situation"),
        destination_country: first(pairs, "destination_country"),
        urgency: column("urgency"),
        // Lines left empty are dropped here, so a problem's line number (`party[2]`) is the
        // line the form shows it on again.
        party: (0..surnames.len().max(given.len()).max(births.len()))
            .map(|i| PartyRow {
                surname: cell(&surnames, i),
                given_names: cell(&given, i),
                birth_date: cell(&births, i),
                relation: cell(&relations, i),
                need: cell(&needs, i),
                medical_note: cell(&notes, i),
            })
            .filter(|r| {
                !(r.surname.trim().is_empty()
                    && r.given_names.trim().is_empty()
                    && r.birth_date.trim().is_empty())
            })
            .collect(),
        consent: first(pairs, "consent") == "yes",
    }
}

pub(crate) fn draft_of(values: &RequestFormValues, lang: Lang) -> RequestDraft {
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    RequestDraft {
        channel: Some("web_form".into()),
        language: Some(lang.code().into()),
        submitter: evac_model::SubmitterDraft {
            name: some(&values.name),
            phones: some(&values.phone).into_iter().collect(),
            email: some(&values.email),
        },
        location: evac_model::LocationDraft {
            text: some(&values.location),
            country: some(&values.country.to_ascii_uppercase()),
            lat: values.lat.parse().ok(),
            lon: values.lon.parse().ok(),
            accuracy_m: None,
        },
        situation: some(&values.situation),
        urgency: values.urgency.clone(),
        party: values
            .party
            .iter()
            .map(|r| PersonDraft {
                surname: some(&r.surname),
                given_names: some(&r.given_names),
                birth_date: some(&r.birth_date),
                relation: some(&r.relation),
                needs: some(&r.need).into_iter().collect(),
                medical_note: some(&r.medical_note),
                ..Default::default()
            })
            .collect(),
        consent: Some(values.consent),
        external_ref: None,
        destination_country: some(&values.destination_country.to_ascii_uppercase()),
    }
}

/// `POST /request`: stores the request (a resubmitted form gives the same reference) and shows
/// the reference, or the form again with every problem.
pub async fn public_request_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let values = form_values(&form_pairs(&body));
    let draft = draft_of(&values, lang);
    // The same form posted twice (a double click, a retry on a poor line) is one request.
    let claim = IdempotencyClaim {
        key: format!("form:{}", hex::encode(Sha256::digest(&body))),
        body_sha256: Sha256::digest(&body).into(),
    };
    match state
        .app
        .submit_request(&Actor::Public, &draft, Some(claim))
        .await
    {
        Ok(submitted) => html(
            StatusCode::CREATED,
            render(&RequestDone::new(lang, submitted.reference.to_string())),
        ),
        Err(AppError::Invalid(errors)) => {
            let errors = errors.into_iter().map(crate::desk::form_problem).collect();
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                render(&RequestForm::new(lang, values, errors)),
            )
        }
        Err(e) => public_error_page(lang, e),
    }
}

/// `GET /status`: the status form (the reference may come in the query).
pub async fn public_status_page(
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let reference = query.get("reference").cloned().unwrap_or_default();
    let page = StatusPage::new(lang, reference, String::new(), None, false);
    html(StatusCode::OK, render(&page))
}

/// `POST /status`: the status and the next step, for the reference and a phone it gave.
pub async fn public_status_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::PUBLIC);
    let pairs = form_pairs(&body);
    let (reference, phone) = (first(&pairs, "reference"), first(&pairs, "phone"));
    let found = match state.app.public_status(&reference, &phone).await {
        Ok(found) => found,
        Err(e) => return public_error_page(lang, e),
    };
    let result = found.map(|s| evac_ui::PublicStatus {
        people: s.people,
        status: s.status.as_str().to_string(),
        seats: s
            .seats
            .into_iter()
            .map(|seat| evac_ui::PublicSeatLine {
                person: seat.person,
                transport: seat.transport,
                hub: seat.hub,
                departs: seat.departs,
                be_there: seat.be_there,
                pass_code: seat.pass_code,
                seat_number: seat.seat_number.map(|n| n.to_string()).unwrap_or_default(),
                qr: seat
                    .token
                    .as_deref()
                    .and_then(|token| evac_exchange::manifest::qr_data_uri(token).ok()),
                given_up: !matches!(
                    seat.state,
                    evac_model::SeatEventKind::Seated
                        | evac_model::SeatEventKind::CheckedIn
                        | evac_model::SeatEventKind::Boarded
                ),
            })
            .collect(),
        messages: s
            .messages
            .into_iter()
            .map(|m| evac_ui::PublicMessageLine {
                at: crate::desk::desk_time(&state, m.created_at),
                channel: m.channel,
                state: m.state.as_str().to_string(),
                text: m.body,
            })
            .collect(),
    });
    let not_found = result.is_none();
    let page = StatusPage::new(lang, reference, phone, result, not_found);
    let code = if not_found {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    html(code, render(&page))
}
