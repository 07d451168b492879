//! Intake: the public submission, and staff reading requests back.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use evac_model::{
    Actor, Channel, FieldError, Permission, PersonStatus, ReferenceCode, RequestId, Timestamp,
};
use evac_store::{IdempotencyClaim, ListOrder, PageRequest, RequestFilter};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::{Authenticated, MaybeAuthenticated};
use crate::dto::{Acknowledgement, RequestIn, RequestOut, RequestPage};
use crate::problem::{ApiResult, Problem};

/// The longest Idempotency-Key accepted (a UUID is 36).
const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;
const PAGE_ITEMS_DEFAULT: u32 = 50;

/// Parses a JSON body, reporting the path of the first offending field.
pub(crate) fn parse_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(T, Bytes), Problem> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let detail = if status == StatusCode::PAYLOAD_TOO_LARGE {
            format!(
                "the body is larger than {} bytes; send one request at a time",
                crate::BODY_BYTES_MAX
            )
        } else {
            rejection.body_text()
        };
        Problem::new(
            status,
            "urn:evac:problem:unreadable-body",
            "The body could not be read",
            detail,
        )
    })?;
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("");
        if !(ct.starts_with("application/json") || ct.contains("+json")) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "urn:evac:problem:unsupported-media-type",
                "JSON expected",
                format!("send the body as application/json, not {ct}"),
            ));
        }
    }
    // Most bodies are valid: parse them plainly, and only a body that fails is parsed again
    // with path tracking, to name the field (tracking wraps every value of every parse).
    if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(&body)) {
        return Ok((value, body));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => Ok((value, body)),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                return Err(Problem::bad_request(
                    "urn:evac:problem:malformed-json",
                    format!("the body is not valid JSON: {inner}"),
                ));
            }
            let reason = inner.to_string();
            let reason = reason
                .split(" at line ")
                .next()
                .unwrap_or(&reason)
                .to_string();
            let path = if path == "." { String::new() } else { path };
            Err(Problem::invalid(vec![FieldError { path, reason }]))
        }
    }
}

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
pub async fn create(
    State(state): State<AppState>,
    MaybeAuthenticated(staff): MaybeAuthenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Response> {
    let (input, raw): (RequestIn, Bytes) = parse_json(&headers, body)?;
    let claim = idempotency_claim(&headers, &raw)?;
    let draft = input.into_draft();
    let actor = match &staff {
        Some(staff) => {
            staff.require(Permission::WriteRequests)?;
            staff.actor()
        }
        None => {
            let staff_only = draft
                .channel
                .as_deref()
                .and_then(Channel::parse)
                .filter(|c| matches!(c, Channel::Hotline | Channel::Import));
            if let Some(channel) = staff_only {
                return Err(Problem::invalid(vec![FieldError {
                    path: "channel".into(),
                    reason: format!(
                        "'{channel}' requests are entered by staff; send a staff token or leave channel out"
                    ),
                }]));
            }
            Actor::Public
        }
    };
    let submitted = state.app.submit_request(&actor, &draft, claim).await?;
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
pub async fn by_id(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<RequestOut>> {
    let id = request_id(&id)?;
    let stored = state.app.request(&staff, id).await?;
    Ok(Json(RequestOut::from_stored(&stored)))
}

/// `GET /api/v1/requests/by-reference/{reference}`: what a case officer types from a phone call.
pub async fn by_reference(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(reference): Path<String>,
) -> ApiResult<Json<RequestOut>> {
    staff.require(Permission::ReadRequests)?;
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
    Ok(Json(RequestOut::from_stored(&stored)))
}

/// Reads the list filters from the query string; every bad parameter is reported.
pub(crate) fn parse_filter(
    query: &HashMap<String, String>,
    extra_allowed: &[&str],
) -> Result<RequestFilter, Problem> {
    let mut errors = Vec::new();
    let mut filter = RequestFilter::default();
    let time = |key: &str, errors: &mut Vec<FieldError>| {
        query.get(key).and_then(|v| match v.parse::<Timestamp>() {
            Ok(t) => Some(t),
            Err(_) => {
                errors.push(FieldError {
                    path: format!("query.{key}"),
                    reason: format!("'{v}' is not an RFC 3339 time like 2022-01-05T00:00:00Z"),
                });
                None
            }
        })
    };
    for key in query.keys() {
        let known = [
            "status",
            "place",
            "name",
            "channel",
            "received_from",
            "received_until",
            "has_minors",
        ];
        if !known.contains(&key.as_str()) && !extra_allowed.contains(&key.as_str()) {
            errors.push(FieldError {
                path: format!("query.{key}"),
                reason: format!(
                    "unknown parameter; use {}",
                    known
                        .iter()
                        .chain(extra_allowed)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    if let Some(v) = query.get("status") {
        filter.status = PersonStatus::parse(v);
        if filter.status.is_none() {
            let choices = PersonStatus::ALL.map(|s| s.as_str()).join(", ");
            errors.push(FieldError {
                path: "query.status".into(),
                reason: format!("'{v}' is not one of: {choices}"),
            });
        }
    }
    if let Some(v) = query.get("channel") {
        filter.channel = Channel::parse(v);
        if filter.channel.is_none() {
            errors.push(FieldError {
                path: "query.channel".into(),
                reason: format!("'{v}' is not one of: {}", Channel::choices()),
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
                    reason: format!("'{v}' is not true or false"),
                });
                None
            }
        };
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// `GET /api/v1/requests?status=&place=&channel=&received_from=&received_until=&has_minors=&limit=&cursor=`
pub async fn list(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<RequestPage>> {
    staff.require(Permission::ReadRequests)?;
    let filter = parse_filter(&query, &["limit", "cursor"])?;
    let limit = match query.get("limit") {
        None => PAGE_ITEMS_DEFAULT,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=evac_store::PAGE_ITEMS_MAX).contains(l))
            .ok_or_else(|| {
                Problem::invalid(vec![FieldError {
                    path: "query.limit".into(),
                    reason: format!(
                        "'{v}' is not a page size between 1 and {}",
                        evac_store::PAGE_ITEMS_MAX
                    ),
                }])
            })?,
    };
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
        items: page.items.iter().map(RequestOut::from_stored).collect(),
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
            format!("'{text}' is not a request id (a UUID)"),
        )
    })
}

/// `GET /api/v1/requests/{id}/history`: every change to the request's people, oldest first.
pub async fn history(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = request_id(&id)?;
    let lines = state.app.request_history(&staff, id).await?;
    Ok(Json(serde_json::json!({ "items": lines })))
}

/// A status change by hand, or a note when `status` is absent.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEventIn {
    status: Option<String>,
    reason: String,
}

/// `POST /api/v1/requests/{id}/persons/{person}/events`: a case officer changes a person's
/// status or adds a note; answers with the request's history.
pub async fn person_event(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path((id, person)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let person = person_id(&person)?;
    let (event, _) = parse_json::<PersonEventIn>(&headers, body)?;
    let to = match event.status.as_deref() {
        None => None,
        Some(text) => Some(PersonStatus::parse(text).ok_or_else(|| {
            Problem::invalid(vec![FieldError {
                path: "status".into(),
                reason: format!(
                    "'{text}' is not a status; set one of: {}",
                    PersonStatus::SET_BY_HAND
                        .map(|(s, _)| s.as_str())
                        .join(", ")
                ),
            }])
        })?),
    };
    state
        .app
        .change_person(&staff, id, person, to, &event.reason, Timestamp::now())
        .await?;
    let lines = state.app.request_history(&staff, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "items": lines })),
    ))
}

/// `POST /api/v1/requests/{id}/corrections`: corrects a request's location, situation,
/// urgency and contacts (validated like intake); answers with the fields that changed.
pub async fn correct(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let (correction, _) = parse_json::<evac_app::RequestCorrection>(&headers, body)?;
    let changed = state
        .app
        .correct_request(&staff, id, &correction, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "changed": changed })),
    ))
}

/// `POST /api/v1/requests/{id}/persons/{person}/corrections`: corrects a person's names, birth
/// date, sex, citizenship, document or needs (validated like intake); answers with the fields
/// that changed.
pub async fn correct_person(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path((id, person)): Path<(String, String)>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = request_id(&id)?;
    let person = person_id(&person)?;
    let (correction, _) = parse_json::<evac_app::PersonCorrection>(&headers, body)?;
    let changed = state
        .app
        .correct_person(&staff, id, person, &correction, Timestamp::now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "changed": changed })),
    ))
}

fn person_id(text: &str) -> Result<evac_model::PersonId, Problem> {
    text.parse().map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "urn:evac:problem:not-found",
            "Not found",
            format!("'{text}' is not a person id (a UUID)"),
        )
    })
}
