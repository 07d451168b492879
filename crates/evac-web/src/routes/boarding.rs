//! Planning and boarding: plan previews and publication, manifests and boarding passes in
//! files, check-in and boarding by token, no-shows released to standby.

use std::collections::HashMap;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use evac_exchange::manifest::{ManifestFormat, PrintedPass, passes_pdf};
use evac_model::{Timestamp, TransportId};
use serde_json::{Value, json};

use super::intake::parse_json;
use super::situation::{field, time_param, to_json};
use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiResult, Problem};

fn transport_id(id: &str) -> Result<TransportId, Problem> {
    id.parse()
        .map_err(|_| field("id", format!("'{id}' is not a transport id (a UUID)")))
}

/// `?at=` or now: plans can be run "as of" a time, for exercises and replays of a crisis.
fn at_or_now(query: &HashMap<String, String>) -> Result<Timestamp, Problem> {
    Ok(time_param(query, "at")?.unwrap_or_else(Timestamp::now))
}

/// `POST /api/v1/plans?at=RFC3339`: plans every household onto the stored transports (a
/// preview: nothing is stored), with the reasons for every household left without a seat.
pub async fn preview(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let run = state.app.run_plan(&staff, at_or_now(&query)?).await?;
    Ok(to_json(&run))
}

/// `POST /api/v1/plans/publish?at=RFC3339`: re-plans keeping the households already told
/// where they still fit, stores the seats and issues passes; answers who moved, who gained a
/// seat and who lost one, and why.
pub async fn publish(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let published = state.app.publish_plan(&staff, at_or_now(&query)?).await?;
    Ok(to_json(&published))
}

fn file(bytes: Vec<u8>, content_type: &'static str, filename: String) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

fn format_param(query: &HashMap<String, String>, formats: &str) -> Result<String, Problem> {
    let format = query
        .get("format")
        .map_or("json", String::as_str)
        .to_ascii_lowercase();
    if formats.split(", ").any(|f| f == format) {
        Ok(format)
    } else {
        Err(field(
            "query.format",
            format!("'{format}' is not one of: {formats}"),
        ))
    }
}

fn safe_code(code: &str) -> String {
    code.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `GET /api/v1/transports/{id}/manifest?format=json|csv|xlsx|pdf`: the passenger manifest.
pub async fn manifest(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let id = transport_id(&id)?;
    let format = format_param(&query, "json, csv, xlsx, pdf")?;
    let manifest = state.app.manifest(&staff, id).await?;
    let Some(format) = ManifestFormat::parse(&format) else {
        return Ok(to_json(&manifest).into_response());
    };
    // Rendering a PDF of hundreds of pages is CPU work: off the async threads.
    let bytes = tokio::task::spawn_blocking(move || {
        evac_exchange::manifest::manifest(&manifest.transport, &manifest.rows, format)
            .map(|bytes| (bytes, manifest.transport.code))
    })
    .await
    .map_err(|e| Problem::internal(e.to_string()))?
    .map_err(|e| Problem::internal(e.to_string()))?;
    let (bytes, code) = bytes;
    Ok(file(
        bytes,
        format.content_type(),
        format!("manifest-{}.{}", safe_code(&code), format.extension()),
    ))
}

/// `GET /api/v1/transports/{id}/passes?format=json|pdf`: every current boarding pass, with
/// the token its QR code carries (PDF: six printable passes per page).
pub async fn passes(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let id = transport_id(&id)?;
    let format = format_param(&query, "json, pdf")?;
    let passes = state.app.boarding_passes(&staff, id).await?;
    if format == "json" {
        return Ok(Json(json!({ "items": passes })).into_response());
    }
    let transport = state
        .app
        .transports(&staff)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| Problem::from(evac_app::AppError::NotFound(format!("transport {id}"))))?;
    let printed: Vec<PrintedPass> = passes
        .into_iter()
        .map(|p| PrintedPass {
            name: p.name,
            household: p.household,
            token: p.token,
        })
        .collect();
    let code = transport.code.clone();
    let bytes = tokio::task::spawn_blocking(move || passes_pdf(&transport, &printed))
        .await
        .map_err(|e| Problem::internal(e.to_string()))?
        .map_err(|e| Problem::internal(e.to_string()))?;
    Ok(file(
        bytes,
        "application/pdf",
        format!("passes-{}.pdf", safe_code(&code)),
    ))
}

/// `GET /api/v1/boarding/key`: the public key that verifies boarding passes offline.
pub async fn key(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let key = state.app.pass_public_key(&staff).await?;
    Ok(Json(json!({
        "algorithm": "Ed25519",
        "public_key": key,
        "token_format": "EVAC1.<base64url(pass|person|household|transport)>.<base64url(signature)>",
    })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    token: String,
}

/// Reads `{token}` and checks the passenger in or boards them.
async fn scan(
    state: AppState,
    staff: evac_app::Staff,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    kind: evac_model::SeatEventKind,
) -> ApiResult<Json<Value>> {
    let (input, _) = parse_json::<TokenIn>(&headers, body)?;
    let now = Timestamp::now();
    let scanned = match kind {
        evac_model::SeatEventKind::Boarded => state.app.board(&staff, &input.token, now).await?,
        _ => state.app.check_in(&staff, &input.token, now).await?,
    };
    Ok(to_json(&scanned))
}

/// `POST /api/v1/check-in` with `{token}`: checks the passenger in, once; a second scan of
/// the same pass is 409, a forged or altered one 422.
pub async fn check_in(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    scan(
        state,
        staff,
        headers,
        body,
        evac_model::SeatEventKind::CheckedIn,
    )
    .await
}

/// `POST /api/v1/boarding` with `{token}`: boards a checked-in passenger.
pub async fn board(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    scan(
        state,
        staff,
        headers,
        body,
        evac_model::SeatEventKind::Boarded,
    )
    .await
}

/// `POST /api/v1/transports/{id}/no-shows?at=RFC3339`: at the call time, releases the seats
/// of everyone not checked in and gives them to standby households in priority order.
pub async fn no_shows(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let id = transport_id(&id)?;
    let released = state
        .app
        .release_no_shows(&staff, id, at_or_now(&query)?)
        .await?;
    Ok(to_json(&released))
}
