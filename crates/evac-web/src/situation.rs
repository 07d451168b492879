//! The situation picture: hubs, routes and zones with derived statuses; reports to ingest,
//! grade, confirm or dismiss; statuses staff set by hand. The API and the desk's board.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, Staff};
use evac_model::{
    HubDraft, JudgementDraft, Permission, ReportDraft, ReportId, RouteDraft, StatementDraft,
    Timestamp, ZoneDraft,
};
use evac_ui::{Lang, ReportLine, SituationPage, SubjectLine, Tr, render};
use serde_json::Value;

use crate::answers::{Items, ItemsAt, ReportWithStatements, StatusSet};
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang, problem_text_in};
use crate::doors::{form_draft, id_in, json_draft, time_param, to_json};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(situation))
        .routes(routes!(hubs))
        .routes(routes!(add_hub))
        .routes(routes!(add_route))
        .routes(routes!(add_zone))
        .routes(routes!(set_status))
        .routes(routes!(reports))
        .routes(routes!(ingest))
        .routes(routes!(report))
        .routes(routes!(judge))
        .routes(routes!(add_statement))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/situation", get(situation_page))
        .route("/desk/situation/reports", post(report_post))
        .route("/desk/situation/reports/{id}", post(judgement_post))
}

/// `GET /api/v1/situation?at=RFC3339`: every hub, route and zone with its status at `at`
/// (default now), the claims behind it, conflicting claims beside it, and untrusted ones.
#[utoipa::path(
    get,
    path = "/api/v1/situation",
    tag = "situation",
    summary = "Every hub, route and zone with its status at a time, derived from the reports the trust policy trusts (confirmed, or graded at least B2 by default, fading with age); conflicting claims are listed beside the status, untrusted ones for the record",
    params(
        ("at" = Option<evac_model::Timestamp>, Query, description = "default: now"),
    ),
    responses(
        (status = 200, description = "the situation picture", body = evac_app::SituationView),
        (status = 403, description = "role may not read the situation"),
        (status = 422, description = "at is not a time"),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/hubs",
    tag = "situation",
    summary = "Hubs people leave from, each with its derived status at a time",
    params(
        ("at" = Option<evac_model::Timestamp>, Query, description = "default: now"),
    ),
    responses(
        (status = 200, description = "hubs", body = inline(crate::answers::ItemsAt<evac_app::SubjectView>)),
        (status = 403, description = "role may not read the situation"),
    ),
)]
pub async fn hubs(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let at = time_param(&query, "at")?.unwrap_or_else(Timestamp::now);
    let view = state.app.situation(&staff, at).await?;
    Ok(to_json(&ItemsAt {
        at,
        items: view.hubs,
    }))
}

/// `POST /api/v1/hubs` with a [`HubDraft`]: adds or replaces a station, terminal, crossing or
/// airport.
#[utoipa::path(
    post,
    path = "/api/v1/hubs",
    tag = "situation",
    summary = "Add or replace a hub (rail station, bus terminal, border crossing, airport)",
    request_body = HubDraft,
    responses(
        (status = 201, description = "stored", body = evac_model::Hub),
        (status = 403, description = "role may not change the situation"),
        (status = 422, description = "a field is invalid"),
    ),
)]
pub async fn add_hub(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let hub = json_draft(&headers, body, HubDraft::validate)?;
    state.app.add_hub(&staff, &hub).await?;
    Ok((StatusCode::CREATED, to_json(&hub)))
}

/// `POST /api/v1/routes` with a [`RouteDraft`]: adds or replaces a route from a town to a hub
/// (distance and travel time are estimated).
#[utoipa::path(
    post,
    path = "/api/v1/routes",
    tag = "situation",
    summary = "Add or replace a route from a town (any script) to a hub; distance and travel time are estimated (road factor, speed)",
    request_body = RouteDraft,
    responses(
        (status = 201, description = "stored, with distance_km and travel_minutes", body = evac_model::Route),
        (status = 403, description = "role may not change the situation"),
        (status = 422, description = "unknown place or hub, or a bad code"),
    ),
)]
pub async fn add_route(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = json_draft(&headers, body, RouteDraft::validate)?;
    let route = state.app.add_route(&staff, &new).await?;
    Ok((StatusCode::CREATED, to_json(&route)))
}

/// `POST /api/v1/zones` with a [`ZoneDraft`]: adds or replaces a zone (a circle), whose threat
/// level statements set.
#[utoipa::path(
    post,
    path = "/api/v1/zones",
    tag = "situation",
    summary = "Add or replace a zone (a circle around a town or a point) whose threat level statements set",
    request_body = ZoneDraft,
    responses(
        (status = 201, description = "stored", body = evac_model::Zone),
        (status = 403, description = "role may not change the situation"),
        (status = 422, description = "unknown place, bad radius or code"),
    ),
)]
pub async fn add_zone(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = json_draft(&headers, body, ZoneDraft::validate)?;
    let zone = state.app.add_zone(&staff, &new).await?;
    Ok((StatusCode::CREATED, to_json(&zone)))
}

/// `POST /api/v1/statuses` with a [`StatementDraft`]: staff set a status by hand (stored as
/// their confirmed report); its window starts now unless `from` says otherwise.
#[utoipa::path(
    post,
    path = "/api/v1/statuses",
    tag = "situation",
    summary = "Set a status by hand: stored as a confirmed report of the staff member with one statement",
    request_body = StatementDraft,
    responses(
        (status = 201, description = "stored; the report's id", body = crate::answers::StatusSet),
        (status = 403, description = "role may not change the situation"),
        (status = 422, description = "unknown subject, or an effect that does not fit it"),
    ),
)]
pub async fn set_status(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let statement = json_draft(&headers, body, |d: &StatementDraft| {
        d.validate(Timestamp::now())
    })?;
    let report = state.app.set_status_as(&staff, &statement).await?;
    Ok((
        StatusCode::CREATED,
        to_json(&StatusSet { report, statement }),
    ))
}

/// `GET /api/v1/reports?limit=N`: the newest situation reports.
#[utoipa::path(
    get,
    path = "/api/v1/reports",
    tag = "situation",
    summary = "Situation reports, newest first, with their Admiralty grade (null until graded) and the places they mention",
    params(
        ("limit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "reports", body = inline(crate::answers::Items<evac_model::Report>)),
        (status = 403, description = "role may not read the situation"),
    ),
)]
pub async fn reports(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = crate::doors::limit(&query, 50)?;
    let reports = state.app.reports(&staff, limit).await?;
    Ok(to_json(&Items { items: reports }))
}

/// `POST /api/v1/reports` with a [`ReportDraft`]: ingests a text or CAP alert as a draft
/// report. 201 for a new report, 200 with the stored one when it was ingested before.
#[utoipa::path(
    post,
    path = "/api/v1/reports",
    tag = "situation",
    summary = "Ingest a report: free text in any language, or an OASIS CAP 1.2 alert; it becomes a draft with the places and hubs it mentions and suggested statements (which count once it is graded or confirmed)",
    request_body = ReportDraft,
    responses(
        (status = 200, description = "the same report was ingested before; the stored one", body = evac_app::Ingested),
        (status = 201, description = "a new draft report", body = evac_app::Ingested),
        (status = 403, description = "role may not change the situation"),
        (status = 422, description = "empty, too long, or a broken CAP alert"),
    ),
)]
pub async fn ingest(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let report = json_draft(&headers, body, ReportDraft::validate)?;
    let ingested = state
        .app
        .ingest_report_as(&staff, &report.text, report.source.as_deref())
        .await?;
    let status = if ingested.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, to_json(&ingested)))
}

fn report_id(text: &str) -> Result<ReportId, Problem> {
    id_in("id", text, "a report id (a UUID)")
}

/// `GET /api/v1/reports/{id}`: a report with its statements.
#[utoipa::path(
    get,
    path = "/api/v1/reports/{id}",
    tag = "situation",
    summary = "A report with its statements",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    responses(
        (status = 200, description = "the report", body = crate::answers::ReportWithStatements),
        (status = 404, description = "no such report"),
    ),
)]
pub async fn report(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (report, claims) = state.app.report(&staff, report_id(&id)?).await?;
    Ok(to_json(&ReportWithStatements {
        report,
        statements: claims,
    }))
}

/// `PATCH /api/v1/reports/{id}` with a [`JudgementDraft`] (`grade`, `state` or both): grade,
/// confirm or dismiss.
#[utoipa::path(
    patch,
    path = "/api/v1/reports/{id}",
    tag = "situation",
    summary = "Grade a report (Admiralty A–F, 1–6) and/or confirm or dismiss it",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = JudgementDraft,
    responses(
        (status = 200, description = "the report as judged", body = evac_model::Report),
        (status = 403, description = "role may not change the situation"),
        (status = 404, description = "no such report"),
        (status = 422, description = "not a grade or state"),
    ),
)]
pub async fn judge(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let id = report_id(&id)?;
    let judgement = json_draft(&headers, body, JudgementDraft::validate)?;
    let report = state
        .app
        .judge_report(&staff, id, judgement.grade, judgement.state)
        .await?;
    Ok(to_json(&report))
}

/// `POST /api/v1/reports/{id}/statements` with a [`StatementDraft`]: adds a statement to a
/// report (its window starts now unless `from` says otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/statements",
    tag = "situation",
    summary = "Add a statement to a report: its subject (hub:CODE, route:CODE, zone:CODE), effect (open, restricted, closed, curfew:HH:MM-HH:MM for daily closed hours in local time, military_only for a hub open to military and state transports alone, threat:N) and window",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = StatementDraft,
    responses(
        (status = 201, description = "added", body = evac_model::Statement),
        (status = 404, description = "no such report"),
        (status = 422, description = "unknown subject, or an effect that does not fit it"),
    ),
)]
pub async fn add_statement(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = report_id(&id)?;
    let statement = json_draft(&headers, body, |d: &StatementDraft| {
        d.validate(Timestamp::now())
    })?;
    state.app.add_statement(&staff, id, &statement).await?;
    Ok((StatusCode::CREATED, to_json(&statement)))
}

/// Reports listed on the situation board.
const BOARD_REPORTS_MAX: u32 = 50;

/// Characters of a report's text shown on the board.
const REPORT_EXCERPT_CHARS: usize = 160;

fn subject_lines(state: &AppState, subjects: &[evac_app::SubjectView], t: &Tr) -> Vec<SubjectLine> {
    subjects
        .iter()
        .map(|s| {
            let (status, class) = match s.derived.status {
                None => (t.get("unknown"), "unknown".to_string()),
                Some(evac_model::Effect::Threat(level)) => {
                    (format!("threat {level}"), "threat".to_string())
                }
                // The class is the status (a curfew is restricted); the text says the hours.
                Some(effect) => (
                    effect.to_string(),
                    effect
                        .status()
                        .map_or("unknown", |status| status.as_str())
                        .to_string(),
                ),
            };
            SubjectLine {
                subject: s.subject.to_string(),
                name: s.name.clone(),
                status,
                status_class: class,
                // Claims fade with age: years after a crisis, nothing is left to weigh.
                agreement: if s.derived.agreement > 0.0 {
                    format!("{:.0} %", s.derived.agreement * 100.0)
                } else {
                    "—".to_string()
                },
                conflicts: s
                    .derived
                    .conflicting
                    .iter()
                    .map(|c| format!("{} ({})", c.claim.statement.effect, c.claim.source))
                    .collect::<Vec<_>>()
                    .join("; "),
                last_known: s
                    .derived
                    .expired
                    .first()
                    .map(|c| {
                        format!(
                            "{} ({}, {})",
                            c.statement.effect,
                            c.source,
                            desk_time(state, c.received_at)
                        )
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

async fn render_situation(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    problem: Option<String>,
    notice: Option<String>,
) -> Response {
    let t = Tr { lang };
    let (view, reports, statements) = match (
        state
            .app
            .situation(staff, evac_model::Timestamp::now())
            .await,
        state.app.reports(staff, BOARD_REPORTS_MAX).await,
        state.app.statements_by_report(staff).await,
    ) {
        (Ok(view), Ok(reports), Ok(statements)) => (view, reports, statements),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return error_page(lang, e),
    };
    // "hub:ALA closed", with the window when it is not open-ended.
    let says = |id: &evac_model::ReportId| -> String {
        statements
            .get(id)
            .into_iter()
            .flatten()
            .map(|s| match s.until {
                Some(until) => format!(
                    "{} {} ({} – {})",
                    s.subject,
                    s.effect,
                    desk_time(state, s.from),
                    desk_time(state, until)
                ),
                None => format!(
                    "{} {} ({} {})",
                    s.subject,
                    s.effect,
                    t.get("from-time"),
                    desk_time(state, s.from)
                ),
            })
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let grades: Vec<String> = "ABCDEF"
        .chars()
        .flat_map(|r| (1..=6).map(move |c| format!("{r}{c}")))
        .collect();
    let page = SituationPage {
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        hubs: subject_lines(state, &view.hubs, &t),
        routes: subject_lines(state, &view.routes, &t),
        zones: subject_lines(state, &view.zones, &t),
        reports: reports
            .iter()
            .map(|r| ReportLine {
                id: r.id.to_string(),
                received: desk_time(state, r.received_at),
                source: r.source.clone(),
                excerpt: r.text.chars().take(REPORT_EXCERPT_CHARS).collect(),
                mentions: r
                    .mentions
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                says: says(&r.id),
                grade: r.grade.map(|g| g.to_string()).unwrap_or_default(),
                state: r.state.as_str().to_string(),
            })
            .collect(),
        notice,
        can_edit: staff.role.allows(Permission::EditSituation),
        grades,
        states: evac_model::ReportState::ALL
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        problem,
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /desk/situation`: hubs, routes and zones with their derived status and conflicts,
/// and the reports to grade, confirm or dismiss.
pub async fn situation_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    // Back from pasting a report that was stored before: say so instead of nothing.
    let notice = query
        .get("again")
        .map(|id| format!("{} ({id})", Tr { lang }.get("report-pasted-before")));
    render_situation(&state, lang, &session.staff, None, notice).await
}

/// `POST /desk/situation/reports` with a [`ReportDraft`]: reads a pasted report (text or
/// CAP XML).
pub async fn report_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let (draft, _) = form_draft::<ReportDraft>(&body, &[]).map_err(AppError::Invalid)?;
        let report = draft.validate().map_err(AppError::Invalid)?;
        state
            .app
            .ingest_report_as(&session.staff, &report.text, report.source.as_deref())
            .await
    }
    .await;
    match outcome {
        Ok(ingested) if !ingested.new => Redirect::to(&format!(
            "/desk/situation?lang={}&again={}#report-{}",
            lang.code(),
            ingested.report.id,
            ingested.report.id
        ))
        .into_response(),
        Ok(_) => Redirect::to(&format!("/desk/situation?lang={}", lang.code())).into_response(),
        Err(e) => {
            render_situation(
                &state,
                lang,
                &session.staff,
                Some(problem_text_in(lang, e)),
                None,
            )
            .await
        }
    }
}

/// `POST /desk/situation/reports/{id}` with a [`JudgementDraft`]: grades a report, confirms
/// or dismisses it.
pub async fn judgement_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let Ok(id) = id.parse::<ReportId>() else {
        return error_page(lang, AppError::NotFound(format!("report {id}")));
    };
    let outcome = async {
        let (draft, _) = form_draft::<JudgementDraft>(&body, &[]).map_err(AppError::Invalid)?;
        let judgement = draft.validate().map_err(AppError::Invalid)?;
        state
            .app
            .judge_report(&session.staff, id, judgement.grade, judgement.state)
            .await
    }
    .await;
    match outcome {
        Ok(_) => Redirect::to(&format!("/desk/situation?lang={}", lang.code())).into_response(),
        Err(e) => {
            render_situation(
                &state,
                lang,
                &session.staff,
                Some(problem_text_in(lang, e)),
                None,
            )
            .await
        }
    }
}
