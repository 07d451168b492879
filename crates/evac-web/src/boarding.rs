//! Boarding: manifests and boarding passes in files, check-in and boarding by token, no-shows
//! released to standby; the field officer's scan screen.

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::AppError;
use evac_exchange::manifest::{ManifestFormat, PrintedPass, passes_pdf};
use evac_model::{ScanDraft, SeatEventKind, Timestamp, TransportId};
use evac_ui::{CheckInPage, Lang, ScanOutcome, Tr, render};
use serde_json::Value;

use crate::answers::Items;
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang, problem_text_in};
use crate::doors::{field, form_draft, json_draft, parse_json, time_param, to_json};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(manifest))
        .routes(routes!(passes))
        .routes(routes!(no_shows))
        .routes(routes!(key))
        .routes(routes!(check_in))
        .routes(routes!(presence))
        .routes(routes!(board))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/check-in", get(check_in_page).post(check_in_post))
        .route("/desk/boarding", post(boarding_post))
        .route("/desk/presence", post(presence_post))
}

fn transport_id(id: &str) -> Result<TransportId, Problem> {
    crate::doors::id_in("id", id, "a transport id (a UUID)")
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
            format!(
                "{format} is not one of: {formats}",
                format = evac_model::quoted(&format)
            ),
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
#[utoipa::path(
    get,
    path = "/api/v1/transports/{id}/manifest",
    tag = "boarding",
    summary = "The passenger manifest: surname, given names (as written and ICAO Latin), birth date, sex, nationality, document type, number, expiry and issuing state, household, priority class, escort of each unaccompanied minor, special needs, boarding order and status",
    params(
        ("id" = uuid::Uuid, Path),
        ("format" = Option<String>, Query, description = "one of: json, csv, xlsx, pdf"),
    ),
    responses(
        (status = 200, description = "the manifest as JSON, CSV (UTF-8 with BOM), XLSX or PDF", content(
            (evac_app::Manifest = "application/json"),
            (String = "text/csv"),
            (String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (String = "application/pdf"),
        )),
        (status = 403, description = "only planners, field officers and supervisors read manifests"),
        (status = 404, description = "no such transport"),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/transports/{id}/passes",
    tag = "boarding",
    summary = "Every current boarding pass of the transport with its signed token (the QR code's content); `format=pdf` prints six per page with QR codes",
    params(
        ("id" = uuid::Uuid, Path),
        ("format" = Option<String>, Query, description = "one of: json, pdf"),
    ),
    responses(
        (status = 200, description = "passes, or (format=pdf) six printed per page with their QR codes", content(
            (inline(crate::answers::Items<evac_app::BoardingPass>) = "application/json"),
            (String = "application/pdf"),
        )),
        (status = 403, description = "only planners, field officers and supervisors read passes"),
        (status = 404, description = "no such transport"),
    ),
)]
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
        return Ok(Json(Items { items: passes }).into_response());
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
            seat: p.seat_number,
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
#[utoipa::path(
    get,
    path = "/api/v1/boarding/key",
    tag = "boarding",
    summary = "The Ed25519 public key (base64url) that verifies boarding passes offline",
    responses(
        (status = 200, description = "the key and the token format", body = crate::answers::VerifyingKeys),
    ),
)]
pub async fn key(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let keys = state.app.pass_public_key(&staff).await?;
    Ok(to_json(&crate::answers::VerifyingKeys {
        algorithm: "Ed25519",
        public_keys: keys.split(',').map(str::to_string).collect(),
        public_key: keys,
        token_format: "EVAC1.<base64url(pass|person|household|transport)>.<base64url(signature)>",
    }))
}

/// Reads a [`ScanDraft`] and checks the passenger in or boards them.
async fn scan(
    state: AppState,
    staff: evac_app::Staff,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    kind: SeatEventKind,
) -> ApiResult<Json<Value>> {
    let scan = json_draft(&headers, body, ScanDraft::validate)?;
    let scanned = state
        .app
        .scan_pass(&staff, &scan, Timestamp::now(), kind)
        .await?;
    Ok(to_json(&scanned))
}

/// `POST /api/v1/check-in` with `{token}`: checks the passenger in, once; a second scan of
/// the same pass is 409, a forged or altered one 422.
#[utoipa::path(
    post,
    path = "/api/v1/check-in",
    tag = "boarding",
    summary = "Check a passenger in with the token of their pass (scanned or typed): once",
    request_body = ScanDraft,
    responses(
        (status = 200, description = "who was checked in: name, birth date, document number to compare", body = evac_app::Scanned),
        (status = 409, description = "already checked in (a second scan), the pass was replaced or released, the transport takes nobody now, or a typed short code is on no pass (`pass-code-unknown`) or on several (`short-code-shared`)"),
        (status = 404, description = "no such transport"),
        (status = 422, description = "forged, altered or damaged token"),
    ),
)]
pub async fn check_in(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    scan(state, staff, headers, body, SeatEventKind::CheckedIn).await
}

/// `POST /api/v1/presences` with `{reference, hub}`: records a household present at a hub
/// without a seat there; the gate's standby calls it first.
#[utoipa::path(
    post,
    path = "/api/v1/presences",
    tag = "boarding",
    summary = "Record a household present at a hub without a seat there (by the reference of one of its requests): standby calls it first for 24 hours",
    request_body = evac_model::PresenceDraft,
    responses(
        (status = 201, description = "recorded", body = evac_app::Present),
        (status = 403, description = "only field officers, planners and supervisors"),
        (status = 422, description = "no such reference or hub, each named"),
    ),
)]
pub async fn presence(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // The app validates it, as it does the desk form's.
    let (draft, _) = parse_json::<evac_model::PresenceDraft>(&headers, body)?;
    let present = state
        .app
        .mark_present(&staff, &draft, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, to_json(&present)))
}

/// `POST /desk/presence` with a [`evac_model::PresenceDraft`]: the gate's form for a household
/// present without a seat.
pub async fn presence_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let t = Tr { lang };
    let mut hub = String::new();
    let recorded = async {
        let (draft, _) =
            form_draft::<evac_model::PresenceDraft>(&body, &[]).map_err(AppError::Invalid)?;
        hub = draft
            .hub
            .clone()
            .unwrap_or_default()
            .trim()
            .to_ascii_uppercase();
        state
            .app
            .mark_present(&session.staff, &draft, Timestamp::now())
            .await
    }
    .await;
    let (status, outcome) = match recorded {
        Ok(p) => (
            StatusCode::OK,
            evac_ui::PresenceOutcome {
                ok: true,
                text: t.with_args(
                    "presence-ok",
                    &[
                        ("reference", p.reference),
                        ("people", p.people.to_string()),
                        ("hub", p.hub),
                    ],
                ),
            },
        ),
        Err(e) => (
            match &e {
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Store(
                    evac_store::StoreError::Unavailable(_) | evac_store::StoreError::Contended(_),
                ) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            evac_ui::PresenceOutcome {
                ok: false,
                text: problem_text_in(lang, e),
            },
        ),
    };
    let gate = GateState {
        presence: Some(outcome),
        presence_hub: hub,
        ..GateState::default()
    };
    gate_page(&state, lang, &session, status, gate).await
}

/// `POST /api/v1/boarding` with `{token}`: boards a checked-in passenger.
#[utoipa::path(
    post,
    path = "/api/v1/boarding",
    tag = "boarding",
    summary = "Board a checked-in passenger with the token of their pass",
    request_body = ScanDraft,
    responses(
        (status = 200, description = "who boarded", body = evac_app::Scanned),
        (status = 409, description = "not checked in, or already boarded; a typed short code on no pass (`pass-code-unknown`) or on several (`short-code-shared`)"),
        (status = 404, description = "no such transport"),
        (status = 422, description = "forged, altered or damaged token"),
    ),
)]
pub async fn board(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    scan(state, staff, headers, body, SeatEventKind::Boarded).await
}

/// `POST /api/v1/transports/{id}/no-shows?at=RFC3339`: at the call time, releases the seats
/// of everyone not checked in and gives them to standby households in priority order.
#[utoipa::path(
    post,
    path = "/api/v1/transports/{id}/no-shows",
    tag = "boarding",
    summary = "At the call time `at` (default now): release the seats of everyone not checked in and seat standby households in priority order",
    params(
        ("id" = uuid::Uuid, Path),
        ("at" = Option<evac_model::Timestamp>, Query, description = "default: now; a past time replays the call, a time more than 5 minutes ahead of the clock is refused (422)"),
    ),
    responses(
        (status = 200, description = "people released, standby households seated, and households held back because children of theirs lost their escort and the escorts on board (here or on an onward leg) cannot take them (`held_back`, each with why)", body = evac_app::NoShows),
        (status = 403, description = "only field officers, planners and supervisors"),
        (status = 404, description = "no such transport"),
        (status = 409, description = "too early (`no-shows-too-early`: the transport is not boarding within 24 h of departure, nor within 3 h of it), or cancelled (`transport-closed`)"),
        (status = 422, description = "`at` is not a time, or more than 5 minutes ahead of the clock (`query.at`)"),
    ),
)]
pub async fn no_shows(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let id = transport_id(&id)?;
    let now = Timestamp::now();
    let at =
        evac_app::call_time_not_ahead("query.at", time_param(&query, "at")?.unwrap_or(now), now)?;
    let released = state.app.release_no_shows(&staff, id, at).await?;
    Ok(to_json(&released))
}

/// `GET /desk/check-in`: the field officer's scan screen.
pub async fn check_in_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let chosen = query.get("transport").cloned().unwrap_or_default();
    let gate = GateState {
        transport: chosen,
        ..GateState::default()
    };
    gate_page(&state, lang, &session, StatusCode::OK, gate).await
}

/// What the check-in page shows beside its forms.
#[derive(Default)]
struct GateState {
    outcome: Option<ScanOutcome>,
    /// The transport the gate serves (kept from scan to scan).
    transport: String,
    presence: Option<evac_ui::PresenceOutcome>,
    presence_hub: String,
}

/// The check-in page with its forms empty for the next scan.
async fn gate_page(
    state: &AppState,
    lang: Lang,
    session: &DeskSession,
    status: StatusCode,
    gate: GateState,
) -> Response {
    let transports = match gate_transports(state, &session.staff).await {
        Ok(transports) => transports,
        Err(e) => return error_page(lang, e),
    };
    let page = CheckInPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        token: String::new(),
        outcome: gate.outcome,
        transports,
        transport: gate.transport,
        presence: gate.presence,
        presence_hub: gate.presence_hub,
    };
    html(status, render(&page))
}

/// The transports a gate can serve, as the check-in screen lists them.
async fn gate_transports(
    state: &AppState,
    staff: &evac_app::Staff,
) -> Result<Vec<(String, String)>, AppError> {
    Ok(state
        .app
        .gate_transports(staff)
        .await?
        .into_iter()
        .map(|t| {
            (
                t.id.to_string(),
                format!(
                    "{} · {} · {}",
                    t.code,
                    t.hub,
                    desk_time(state, t.departs_at)
                ),
            )
        })
        .collect())
}

/// `POST /desk/check-in` with a [`ScanDraft`]: checks a passenger in with the pass's code,
/// and shows whom to compare with the document, or why the pass is refused.
pub async fn check_in_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    scan_post(
        state,
        query,
        headers,
        session,
        body,
        SeatEventKind::CheckedIn,
    )
    .await
}

/// `POST /desk/boarding` with a [`ScanDraft`]: boards a checked-in passenger.
pub async fn boarding_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    scan_post(state, query, headers, session, body, SeatEventKind::Boarded).await
}

async fn scan_post(
    state: AppState,
    query: HashMap<String, String>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
    kind: SeatEventKind,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let t = Tr { lang };
    let now = Timestamp::now();
    let board = kind == SeatEventKind::Boarded;
    let mut chosen = String::new();
    let scanned = async {
        let (draft, _) = form_draft::<ScanDraft>(&body, &[]).map_err(AppError::Invalid)?;
        chosen = draft.transport.clone().unwrap_or_default();
        let scan = draft.validate().map_err(AppError::Invalid)?;
        state.app.scan_pass(&session.staff, &scan, now, kind).await
    }
    .await;
    let (status, outcome) = match scanned {
        Ok(s) => (
            StatusCode::OK,
            ScanOutcome {
                ok: true,
                verdict: t.get(if board { "boarded-ok" } else { "checked-in-ok" }),
                detail: String::new(),
                name: s.name,
                birth_date: s.birth_date.unwrap_or_default(),
                document: s.document.unwrap_or_default(),
                household: s.household,
                transport: s.transport_code,
                seat_number: s.seat_number.map(|n| n.to_string()).unwrap_or_default(),
            },
        ),
        Err(e) => {
            let status = match &e {
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Forbidden { .. } => StatusCode::FORBIDDEN,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            (
                status,
                ScanOutcome {
                    ok: false,
                    verdict: t.get("refused"),
                    detail: problem_text_in(lang, e),
                    name: String::new(),
                    birth_date: String::new(),
                    document: String::new(),
                    household: String::new(),
                    transport: String::new(),
                    seat_number: String::new(),
                },
            )
        }
    };
    // The field is left empty for the next scan; the gate's transport stays chosen.
    let gate = GateState {
        outcome: Some(outcome),
        transport: chosen,
        ..GateState::default()
    };
    gate_page(&state, lang, &session, status, gate).await
}
