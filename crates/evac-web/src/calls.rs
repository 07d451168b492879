//! The hotline's calls: the call log on a request's page and in the API, and the callback
//! queue an operator takes the next call from (nobody else is given it while they call).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, QueuedCallback};
use evac_model::{CallDraft, Timestamp};
use evac_ui::{CallValues, CallbackLine, CallbacksPage, Lang, Tr, render};
use serde_json::Value;

use crate::answers::{CallsOfRequest, Items};
use crate::auth::Authenticated;
use crate::casework::{RefusedForm, render_request_detail_with};
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang, problem_text_in};
use crate::doors::{form_draft, json_draft, to_json};
use crate::intake::request_id;
use crate::problem::ApiResult;
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(calls))
        .routes(routes!(log_call))
        .routes(routes!(callbacks))
        .routes(routes!(take_next))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/callbacks", get(callbacks_page))
        .route("/desk/callbacks/next", post(take_next_post))
        .route("/desk/requests/{id}/calls", post(log_call_post))
}

/// `GET /api/v1/requests/{id}/calls`: the request's calls, oldest first, and its place in the
/// callback queue.
#[utoipa::path(
    get,
    path = "/api/v1/requests/{id}/calls",
    tag = "calls",
    summary = "A request's calls (the hotline's log), oldest first, and its place in the callback queue",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    responses(
        (status = 200, description = "items (direction, outcome, phone, operator, note, at) and callback (due_at, reason, attempts) or null", body = crate::answers::CallsOfRequest),
        (status = 404, description = "no such request"),
    ),
)]
pub async fn calls(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = request_id(&id)?;
    let (calls, callback) = state.app.calls_of(&staff, id).await?;
    Ok(to_json(&CallsOfRequest {
        items: calls,
        callback,
    }))
}

/// `POST /api/v1/requests/{id}/calls` with a [`CallDraft`]: logs the call; answers with it and
/// the request's place in the callback queue afterwards.
#[utoipa::path(
    post,
    path = "/api/v1/requests/{id}/calls",
    tag = "calls",
    summary = "Logs a call to or from the request's people. A call that did not reach them (no_answer, busy, left_message) queues a callback after a wait that grows with failed tries (15, 30, 60, 120, then 240 minutes) unless callback_in_minutes names it; reached or wrong_number settles the queue; audited without the number or note",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = CallDraft,
    responses(
        (status = 201, description = "call and callback (the request's place in the queue afterwards, or null)", body = evac_app::LoggedCall),
        (status = 403, description = "role may not write requests"),
        (status = 404, description = "no such request"),
        (status = 422, description = "direction or outcome missing or unknown, callback for a wrong number"),
    ),
)]
pub async fn log_call(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = request_id(&id)?;
    let region = state.app.settings().default_region;
    let entry = json_draft(&headers, body, |draft: &CallDraft| {
        draft.validate_in(region)
    })?;
    let logged = state
        .app
        .log_call(&staff, id, &entry, Timestamp::now())
        .await?;
    Ok((StatusCode::CREATED, to_json(&logged)))
}

/// `GET /api/v1/callbacks`: the callback queue, soonest due first.
#[utoipa::path(
    get,
    path = "/api/v1/callbacks",
    tag = "calls",
    summary = "The callback queue, soonest due first: each request with its reference, place, numbers, reason, failed tries and who holds it",
    responses(
        (status = 200, description = "items", body = inline(crate::answers::Items<evac_app::QueuedCallback>)),
    ),
)]
pub async fn callbacks(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let queue = state
        .app
        .callback_queue(&staff, evac_app::CALLBACKS_LISTED_MAX)
        .await?;
    Ok(to_json(&Items { items: queue }))
}

/// `POST /api/v1/callbacks/next`: gives the caller the next due callback nobody else holds
/// (200 with it), or 204 when nothing is due.
#[utoipa::path(
    post,
    path = "/api/v1/callbacks/next",
    tag = "calls",
    summary = "Gives the caller the next due callback nobody else holds, for 15 minutes (asking again gives back the one held); two operators never get the same family",
    responses(
        (status = 200, description = "the callback with its request's reference and numbers", body = evac_app::QueuedCallback),
        (status = 204, description = "nothing is due"),
        (status = 403, description = "role may not write requests"),
    ),
)]
pub async fn take_next(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Response> {
    Ok(
        match state.app.take_callback(&staff, Timestamp::now()).await? {
            Some(taken) => to_json(&taken).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// `POST /desk/requests/{id}/calls` with a [`CallDraft`]'s fields: logs the call, back to
/// the request's page.
pub async fn log_call_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let mut sent = CallValues::default();
    let outcome = async {
        let request = id
            .parse()
            .map_err(|_| AppError::NotFound(format!("request {id}")))?;
        let (draft, _) = form_draft::<CallDraft>(&body, &[]).map_err(AppError::Invalid)?;
        sent = CallValues {
            direction: draft.direction.clone().unwrap_or_default(),
            outcome: draft.outcome.clone().unwrap_or_default(),
            phone: draft.phone.clone().unwrap_or_default(),
            note: draft.note.clone().unwrap_or_default(),
            callback_in_minutes: draft.callback_in_minutes.clone().unwrap_or_default(),
        };
        let entry = draft
            .validate_in(state.app.settings().default_region)
            .map_err(AppError::Invalid)?;
        state
            .app
            .log_call(&session.staff, request, &entry, Timestamp::now())
            .await
    }
    .await;
    match outcome {
        Ok(_) => {
            Redirect::to(&format!("/desk/requests/{id}?lang={}#calls", lang.code())).into_response()
        }
        Err(e @ (AppError::Invalid(_) | AppError::Forbidden { .. })) => {
            // The form comes back as it was sent, with why at the form.
            let why = problem_text_in(lang, e);
            render_request_detail_with(
                &state,
                lang,
                &session.staff,
                &id,
                None,
                RefusedForm::Call(sent, why),
            )
            .await
        }
        Err(e) => error_page(lang, e),
    }
}

/// `GET /desk/callbacks`: the queue.
pub async fn callbacks_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let queue = match state
        .app
        .callback_queue(&session.staff, evac_app::CALLBACKS_LISTED_MAX)
        .await
    {
        Ok(queue) => queue,
        Err(e) => return error_page(lang, e),
    };
    let now = Timestamp::now();
    let page = CallbacksPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        callbacks: queue
            .iter()
            .map(|c| callback_line(&state, c, now))
            .collect(),
        can_call: session
            .staff
            .role
            .allows(evac_model::Permission::WriteRequests),
        nothing_due: query.contains_key("nothing_due"),
    };
    html(StatusCode::OK, render(&page))
}

fn callback_line(state: &AppState, c: &QueuedCallback, now: Timestamp) -> CallbackLine {
    let held = c.callback.claimed_until > now;
    CallbackLine {
        request_id: c.callback.request.to_string(),
        reference: c.reference.clone(),
        place: c.place.clone(),
        phones: c.phones.join(", "),
        due: desk_time(state, c.callback.due_at),
        due_now: c.callback.due_at <= now,
        reason: c.callback.reason.clone(),
        attempts: c.callback.attempts,
        held_by: if held {
            c.callback.claimed_by.clone().unwrap_or_default()
        } else {
            String::new()
        },
    }
}

/// `POST /desk/callbacks/next`: takes the next due callback and opens its request at the call
/// log; back to the queue, saying so, when nothing is due.
pub async fn take_next_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    match state
        .app
        .take_callback(&session.staff, Timestamp::now())
        .await
    {
        Ok(Some(taken)) => Redirect::to(&format!(
            "/desk/requests/{}?lang={}#calls",
            taken.callback.request,
            lang.code()
        ))
        .into_response(),
        Ok(None) => Redirect::to(&format!(
            "/desk/callbacks?lang={}&nothing_due=1",
            lang.code()
        ))
        .into_response(),
        Err(e) => error_page(lang, e),
    }
}

/// A request's calls and its place in the queue, as its page shows them.
pub(crate) async fn call_lines(
    state: &AppState,
    staff: &evac_app::Staff,
    request: evac_model::RequestId,
    t: &Tr,
) -> Result<(Vec<evac_ui::CallLine>, Option<String>), AppError> {
    let (calls, callback) = state.app.calls_of(staff, request).await?;
    let lines = calls
        .into_iter()
        .map(|c| evac_ui::CallLine {
            at: desk_time(state, c.at),
            // The form's own words, in the desk's language.
            direction: t.get(match c.direction {
                evac_model::CallDirection::Outbound => "calls-outbound",
                evac_model::CallDirection::Inbound => "calls-inbound",
            }),
            outcome: t.get(&format!("calls-{}", c.outcome.as_str().replace('_', "-"))),
            phone: c.phone.unwrap_or_default(),
            operator: c.operator,
            note: c.note,
        })
        .collect();
    let waiting = callback.map(|c| {
        format!(
            "{} · {} · {}",
            desk_time(state, c.due_at),
            c.reason,
            c.claimed_by
                .filter(|_| c.claimed_until > Timestamp::now())
                .unwrap_or_default()
        )
        .trim_end_matches(" · ")
        .to_string()
    });
    Ok((lines, waiting))
}
