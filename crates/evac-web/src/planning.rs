//! Planning: plan previews and publication, from the API and the desk's planning page.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use evac_app::{AppError, Staff};
use evac_model::{Permission, PlanDraft, Timestamp};
use evac_ui::{
    ChangeLine, Lang, PlanResult, PlanningPage, Tr, TransportFilterValues, TransportFormValues,
    TransportLine, render,
};
use serde_json::Value;

use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang, problem_text_in};
use crate::doors::{form_draft, to_json};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.routes(routes!(preview)).routes(routes!(publish))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/desk/planning", get(planning_page))
        .route("/desk/planning/plan", post(plan_post))
}

/// The API's plan order: a [`PlanDraft`] in the query (`?at=RFC3339`, default now: plans can
/// be run "as of" a time, for exercises and replays of a crisis).
fn plan_at(query: &str) -> Result<Timestamp, Problem> {
    let draft: PlanDraft = serde_html_form::from_str(query).map_err(|e| {
        Problem::invalid(vec![evac_model::FieldError {
            path: "query".into(),
            reason: format!("the query could not be read: {e}"),
        }])
    })?;
    let order = draft.validate().map_err(Problem::invalid)?;
    Ok(order.at.unwrap_or_else(Timestamp::now))
}

/// `POST /api/v1/plans?at=RFC3339`: plans every household onto the stored transports (a
/// preview: nothing is stored), with the reasons for every household left without a seat.
#[utoipa::path(
    post,
    path = "/api/v1/plans",
    tag = "planning",
    summary = "Plan every household onto the stored transports at `at` (default now; a preview, nothing is stored): highest priority class first, then earliest departure; households never split; children alone only with escorts; hubs open at departure and reachable in time. Every household left without a seat says what kept it off each transport",
    params(
        ("at" = Option<evac_model::Timestamp>, Query, description = "default: now"),
    ),
    responses(
        (status = 200, description = "seated households by transport, waiting households with reasons, the objective per class", body = evac_app::PlanRun),
        (status = 403, description = "only planners and supervisors plan"),
    ),
)]
pub async fn preview(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let at = plan_at(query.as_deref().unwrap_or_default())?;
    let run = state.app.run_plan(&staff, at).await?;
    Ok(to_json(&run))
}

/// `POST /api/v1/plans/publish?at=RFC3339`: re-plans keeping the households already told
/// where they still fit, stores the seats and issues passes; answers who moved, who gained a
/// seat and who lost one, and why.
#[utoipa::path(
    post,
    path = "/api/v1/plans/publish",
    tag = "planning",
    summary = "Re-plan at `at` (default now) keeping households already told where they still fit, store the seats and issue boarding passes; answers who moved, who gained a seat and who lost one, with reasons, and who waits and why",
    params(
        ("at" = Option<evac_model::Timestamp>, Query, description = "default: now"),
    ),
    responses(
        (status = 200, description = "moved, gained, lost, waiting; passes issued", body = evac_app::Published),
        (status = 403, description = "only planners and supervisors publish"),
    ),
)]
pub async fn publish(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Value>> {
    let at = plan_at(query.as_deref().unwrap_or_default())?;
    let published = state.app.publish_plan(&staff, at).await?;
    Ok(to_json(&published))
}

/// The planning page with the stored transports, and a result or a problem to show (and the
/// add-transport form as it was sent, when it was refused).
/// What the planning page shows beside its transports: the plan time asked, the plan
/// previewed or published, what was refused, the add-transport form as sent, and what a
/// transport action did.
#[derive(Default)]
pub(crate) struct PlanningView {
    pub at: String,
    pub result: Option<PlanResult>,
    pub problem: Option<String>,
    pub transport_form: TransportFormValues,
    pub notice: Option<String>,
    /// Which transports the list shows, and the problems of the filter asked.
    pub transport_filter: evac_app::TransportFilter,
    pub filter_problems: Vec<String>,
}

impl PlanningView {
    /// The page after a transport action: what it did, or why it was refused.
    pub fn after(lang: Lang, outcome: Result<String, AppError>) -> PlanningView {
        match outcome {
            Ok(notice) => PlanningView {
                notice: Some(notice),
                ..PlanningView::default()
            },
            Err(e) => PlanningView {
                problem: Some(crate::desk::problem_text_in(lang, e)),
                ..PlanningView::default()
            },
        }
    }
}

pub(crate) async fn render_planning(
    state: &AppState,
    lang: Lang,
    staff: &Staff,
    view: PlanningView,
) -> Response {
    let PlanningView {
        at,
        result,
        problem,
        transport_form,
        notice,
        transport_filter,
        filter_problems,
    } = view;
    // A filter the app refuses (a hub nobody entered) shows every transport with the problem
    // beside the filter, as a filter that does not parse does.
    let (transports, transports_total, transport_filter, filter_problems) =
        match state.app.transports_where(staff, &transport_filter).await {
            Ok((items, total)) => (items, total, transport_filter, filter_problems),
            Err(AppError::Invalid(errors)) => {
                let (filter, problems) =
                    crate::desk::filter_or_problems::<evac_app::TransportFilter>(lang, Err(errors));
                match state.app.transports_where(staff, &filter).await {
                    Ok((items, total)) => (items, total, filter, problems),
                    Err(e) => return error_page(lang, e),
                }
            }
            Err(e) => return error_page(lang, e),
        };
    let t = Tr { lang };
    // The list's view with another order (a column header's link), its filters kept.
    let ordered_by = |order: evac_app::TransportOrder| {
        let mut pairs = vec![("lang", lang.code()), ("order", order.as_str())];
        if let Some(status) = transport_filter.status {
            pairs.push(("status", status.as_str()));
        }
        if let Some(hub) = &transport_filter.hub {
            pairs.push(("hub", hub.as_str()));
        }
        format!(
            "/desk/planning?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    let page = PlanningPage {
        t,
        transport_filters: TransportFilterValues {
            status: transport_filter
                .status
                .map_or_else(String::new, |s| s.as_str().to_string()),
            hub: transport_filter.hub.clone().unwrap_or_default(),
            order: transport_filter.order.as_str().to_string(),
            order_links: evac_app::TransportOrder::ALL
                .map(|o| (o.as_str(), ordered_by(o)))
                .to_vec(),
            count: if transports.len() == transports_total {
                transports_total.to_string()
            } else {
                format!("{} / {transports_total}", transports.len())
            },
            problems: filter_problems,
        },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(staff),
        transports: transports
            .iter()
            .map(|t| TransportLine {
                id: t.id.to_string(),
                code: t.code.clone(),
                hub: t.hub.clone(),
                destination: match t.lands_in {
                    Some(country) => format!("{} ({country})", t.destination),
                    None => t.destination.clone(),
                },
                departs: desk_time(state, t.departs_at),
                seats: t.seats,
                limits: [
                    t.feeds
                        .as_ref()
                        .map(|f| format!("→ {} {}", f.hub, desk_time(state, f.arrives_at))),
                    t.payload_kg.map(|kg| format!("{kg} kg")),
                    t.baggage_kg_per_person.map(|kg| format!("{kg} kg/person")),
                    (!t.carries_citizens_of.is_empty()).then(|| {
                        t.carries_citizens_of
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    }),
                    t.military.then(|| Tr { lang }.get("military-transport")),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · "),
                status: t.status.as_str().to_string(),
            })
            .collect(),
        can_plan: staff.role.allows(Permission::PlanTransports),
        at,
        result,
        problem,
        transport_form,
        notice,
        can_release: staff.role.allows(Permission::CheckIn),
    };
    html(StatusCode::OK, render(&page))
}

/// `GET /desk/planning`: transports, their manifests and passes, and the plan buttons.
pub async fn planning_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let (transport_filter, filter_problems) = crate::desk::filter_or_problems(
        lang,
        crate::transports::transport_filter(&query, &["lang"]),
    );
    let view = PlanningView {
        transport_filter,
        filter_problems,
        ..PlanningView::default()
    };
    render_planning(&state, lang, &session.staff, view).await
}

/// `POST /desk/planning/plan` with a [`PlanDraft`] (`at`, default now; `publish=yes` to
/// publish): previews or publishes a plan.
pub async fn plan_post(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
    body: Bytes,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let decoded = form_draft::<PlanDraft>(&body, &[]);
    let at_text = decoded
        .as_ref()
        .ok()
        .and_then(|(d, _)| d.at.clone())
        .unwrap_or_default();
    let zone = state.app.settings().desk_time_zone.clone();
    let order = match decoded.and_then(|(draft, _)| draft.validate_in(zone)) {
        Ok(order) => order,
        Err(errors) => {
            let problem = problem_text_in(lang, AppError::Invalid(errors));
            return render_planning(
                &state,
                lang,
                &session.staff,
                PlanningView {
                    at: at_text,
                    problem: Some(problem),
                    ..PlanningView::default()
                },
            )
            .await;
        }
    };
    let at = order.at.unwrap_or_else(Timestamp::now);
    let waiting_words = |waiting: &[evac_app::Waiting]| {
        waiting
            .iter()
            .take(WAITING_SHOWN_MAX)
            .map(|w| {
                let why: Vec<String> = w.why.iter().map(|(t, o)| format!("{t}: {o}")).collect();
                format!("{} ({}): {}", w.reference, w.people, why.join("; "))
            })
            .collect()
    };
    let result = if order.publish {
        state.app.publish_plan(&session.staff, at).await.map(|p| {
            let lines = |kind: &str, changes: &[evac_app::SeatChangeView]| {
                changes
                    .iter()
                    .map(|c| ChangeLine {
                        kind: kind.to_string(),
                        household: c.household.clone(),
                        people: c.people,
                        from: c.from.clone().unwrap_or_else(|| "—".into()),
                        to: c.to.clone().unwrap_or_else(|| "—".into()),
                        why: c.why.clone(),
                    })
                    .collect::<Vec<_>>()
            };
            let mut changes = lines("moved", &p.moved);
            changes.extend(lines("lost", &p.lost));
            changes.extend(
                lines("gained", &p.gained)
                    .into_iter()
                    .take(WAITING_SHOWN_MAX),
            );
            PlanResult {
                households_seated: p.households_seated,
                people_seated: p.people_seated,
                waiting: p.waiting.len(),
                passes_issued: p.passes_issued,
                changes,
                gained_not_shown: p.gained.len().saturating_sub(WAITING_SHOWN_MAX),
                waiting_examples: waiting_words(&p.waiting),
                waiting_not_shown: p.waiting.len().saturating_sub(WAITING_SHOWN_MAX),
            }
        })
    } else {
        state
            .app
            .run_plan(&session.staff, at)
            .await
            .map(|run| PlanResult {
                households_seated: run.seated.len(),
                people_seated: run.seated_people,
                waiting: run.waiting.len(),
                passes_issued: 0,
                changes: Vec::new(),
                gained_not_shown: 0,
                waiting_examples: waiting_words(&run.waiting),
                waiting_not_shown: run.waiting.len().saturating_sub(WAITING_SHOWN_MAX),
            })
    };
    let (result, problem) = match result {
        Ok(result) => (Some(result), None),
        Err(e) => (None, Some(problem_text_in(lang, e))),
    };
    render_planning(
        &state,
        lang,
        &session.staff,
        PlanningView {
            at: at_text,
            result,
            problem,
            ..PlanningView::default()
        },
    )
    .await
}

/// Waiting households listed with their reasons under a plan.
const WAITING_SHOWN_MAX: usize = 20;
