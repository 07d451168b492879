//! Transports: planners add flights, buses, trains and convoys and move them through their
//! status, from the API and the desk's planning page.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Json, Router};
use evac_app::{AppError, TransportFilter, TransportOrder};
use evac_model::{FieldError, TransportDraft, TransportId, TransportStatus, TransportStatusDraft};
use evac_ui::{Lang, TransportFormValues};
use serde_json::Value;

use crate::answers::TransportList;
use crate::auth::Authenticated;
use crate::desk::{DeskSession, first, form_pairs, lang, problem_text_in};
use crate::doors::{form_draft, id_in, json_draft, parse_json, to_json};
use crate::planning::{PlanningView, render_planning};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(transports))
        .routes(routes!(add_transport))
        .routes(routes!(transport_status))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/planning/transports", post(transport_post))
        .route(
            "/desk/planning/transports/{id}/status",
            post(transport_status_post),
        )
        .route(
            "/desk/planning/transports/{id}/no-shows",
            post(no_shows_post),
        )
}

/// A transport list's query, the API's and the planning page's alike (one door): `status`,
/// `hub` (its code) and `order` (one of [`TransportOrder`]); empty parameters are none.
pub(crate) fn transport_filter(
    query: &HashMap<String, String>,
    extra_allowed: &[&str],
) -> Result<TransportFilter, Vec<FieldError>> {
    let mut errors =
        crate::doors::unknown_parameters(query, &["status", "hub", "order"], extra_allowed);
    let given = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut filter = TransportFilter::default();
    if let Some(v) = given("status") {
        filter.status = TransportStatus::parse(v);
        if filter.status.is_none() {
            errors.push(FieldError {
                path: "query.status".into(),
                reason: format!(
                    "{v} is not one of: {}",
                    TransportStatus::choices(),
                    v = evac_model::quoted(&v)
                ),
            });
        }
    }
    filter.hub = given("hub").map(str::to_string);
    if let Some(v) = given("order") {
        match TransportOrder::parse(v) {
            Some(order) => filter.order = order,
            None => errors.push(FieldError {
                path: "query.order".into(),
                reason: format!(
                    "{v} is not one of: {}",
                    TransportOrder::ALL.map(TransportOrder::as_str).join(", "),
                    v = evac_model::quoted(&v)
                ),
            }),
        }
    }
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    }
}

/// `GET /api/v1/transports?status=&hub=&order=`: the transports, earliest departure first (or
/// in `order`), with how many there are in all.
#[utoipa::path(
    get,
    path = "/api/v1/transports",
    tag = "transports",
    summary = "The transports (flight, bus, train, convoy), earliest departure first (or in `order`, ties by departure), filtered by status and hub; `total` counts them all",
    params(
        ("status" = Option<evac_model::TransportStatus>, Query),
        ("hub" = Option<String>, Query, description = "a hub's code, in any case"),
        ("order" = Option<String>, Query, description = "departure (earliest first), code, hub, or seats (most first); one of: departure, code, hub, seats"),
    ),
    responses(
        (status = 200, description = "`{ items, total }`", body = crate::answers::TransportList),
        (status = 403, description = "role may not read the situation"),
        (status = 422, description = "a parameter it cannot read, named"),
    ),
)]
pub async fn transports(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let filter = transport_filter(&query, &[]).map_err(Problem::invalid)?;
    let (items, total) = state.app.transports_where(&staff, &filter).await?;
    Ok(to_json(&TransportList { items, total }))
}

/// `POST /api/v1/transports` with a [`TransportDraft`]: a planner adds a flight, bus, train
/// or convoy.
#[utoipa::path(
    post,
    path = "/api/v1/transports",
    tag = "transports",
    summary = "Add a transport: hub, departure, destination, seats, stretcher and wheelchair places, escorts on board",
    request_body = TransportDraft,
    responses(
        (status = 201, description = "stored", body = evac_model::Transport),
        (status = 403, description = "only planners and supervisors add transports"),
        (status = 409, description = "a transport with this code and departure exists already"),
        (status = 422, description = "a field is invalid or the hub is unknown"),
    ),
)]
pub async fn add_transport(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (draft, _) = parse_json::<TransportDraft>(&headers, body)?;
    let transport = state.app.add_transport(&staff, &draft).await?;
    Ok((StatusCode::CREATED, to_json(&transport)))
}

/// `PATCH /api/v1/transports/{id}` with a [`TransportStatusDraft`]: confirmed, boarding,
/// departed, cancelled.
#[utoipa::path(
    patch,
    path = "/api/v1/transports/{id}",
    tag = "transports",
    summary = "Move a transport to another status (a departed or cancelled one stays so)",
    params(
        ("id" = uuid::Uuid, Path),
    ),
    request_body = TransportStatusDraft,
    responses(
        (status = 200, description = "the transport", body = evac_model::Transport),
        (status = 404, description = "no such transport"),
        (status = 409, description = "departed or cancelled"),
        (status = 422, description = "not a status"),
    ),
)]
pub async fn transport_status(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let id: TransportId = id_in("id", &id, "a transport id (a UUID)")?;
    let status = json_draft(&headers, body, TransportStatusDraft::validate)?;
    let transport = state.app.set_transport_status(&staff, id, status).await?;
    Ok(to_json(&transport))
}

/// `POST /desk/planning/transports` with a [`TransportDraft`]: a planner adds a transport;
/// refused, the planning page shows why with the form as it was filled in.
pub async fn transport_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let (draft, _) = form_draft::<TransportDraft>(&body, &[]).map_err(AppError::Invalid)?;
        state.app.add_transport(&session.staff, &draft).await
    }
    .await;
    match outcome {
        Ok(_) => Redirect::to(&format!("/desk/planning?lang={}", lang.code())).into_response(),
        Err(e) => {
            // The form comes back as it was sent, whatever was wrong with it.
            let sent = form_pairs(&body);
            let text = |name: &str| first(&sent, name);
            let form = TransportFormValues {
                open: true,
                code: text("code"),
                kind: text("kind"),
                hub: text("hub"),
                destination: text("destination"),
                departs_at: text("departs_at"),
                seats: text("seats"),
                stretcher_places: text("stretcher_places"),
                wheelchair_places: text("wheelchair_places"),
                escorts: text("escorts"),
                payload_kg: text("payload_kg"),
                baggage_kg_per_person: text("baggage_kg_per_person"),
                carries_citizens_of: text("carries_citizens_of"),
                lands_in: text("lands_in"),
                military: !text("military").is_empty(),
                feeds_hub: text("feeds_hub"),
                arrives_at: text("arrives_at"),
            };
            render_planning(
                &state,
                lang,
                &session.staff,
                PlanningView {
                    problem: Some(problem_text_in(lang, e)),
                    transport_form: form,
                    ..PlanningView::default()
                },
            )
            .await
        }
    }
}

/// `POST /desk/planning/transports/{id}/status` with a [`TransportStatusDraft`] (`status`):
/// the same change as the API's `PATCH`, from a button on the planning page.
pub async fn transport_status_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let id = desk_transport_id(&id)?;
        let status = form_draft::<TransportStatusDraft>(&body, &[])
            .and_then(|(draft, _)| draft.validate())
            .map_err(AppError::Invalid)?;
        state
            .app
            .set_transport_status(&session.staff, id, status)
            .await
    }
    .await;
    let t = evac_ui::Tr { lang };
    let said = outcome.map(|transport| {
        format!(
            "{}: {}",
            transport.code,
            t.transport_status_name(transport.status.as_str())
        )
    });
    render_planning(
        &state,
        lang,
        &session.staff,
        PlanningView::after(lang, said),
    )
    .await
}

/// `POST /desk/planning/transports/{id}/no-shows`: releases the seats of people not checked
/// in (as the API's no-shows call does, now) and seats standby households on them.
pub async fn no_shows_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let outcome = async {
        let id = desk_transport_id(&id)?;
        state
            .app
            .release_no_shows(&session.staff, id, evac_model::Timestamp::now())
            .await
    }
    .await;
    let t = evac_ui::Tr { lang };
    let said = outcome.map(|released| {
        let mut said = format!(
            "{}: {}; {}",
            released.transport_code,
            t.count("no-shows-released", released.released as u64),
            t.count("standby-seated", released.standby.len() as u64)
        );
        if !released.held_back.is_empty() {
            said += &format!(
                "; {}: {}",
                t.count("held-back", released.held_back.len() as u64),
                released
                    .held_back
                    .iter()
                    .map(|h| format!("{} ({})", h.household, h.why))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        said
    });
    render_planning(
        &state,
        lang,
        &session.staff,
        PlanningView::after(lang, said),
    )
    .await
}

fn desk_transport_id(id: &str) -> Result<TransportId, AppError> {
    id.parse()
        .map_err(|_| AppError::NotFound(format!("transport {id}")))
}
