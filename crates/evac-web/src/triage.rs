//! Triage: the policy in force and its versions, the ranking of households and what moved,
//! and the desk's case list in the order triage serves it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use evac_app::AppError;
use evac_model::{FieldError, PolicyDraft, Timestamp};
use evac_ui::{CaseLine, CasesPage, Lang, Tr, render};
use serde_json::Value;

use crate::answers::RankingPage;
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};
use crate::doors::{field, json_draft, time_param, to_json};
use crate::problem::ApiResult;
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .routes(routes!(ranking))
        .routes(routes!(moves))
        .routes(routes!(policy))
        .routes(routes!(change_policy))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router.route("/desk/cases", get(cases_page))
}

/// Moves listed after a policy change when no `limit` is given.
const MOVES_DEFAULT: u32 = 100;

/// Ranked cases listed when no `limit` is given.
const RANKED_DEFAULT: u32 = 50;

/// `GET /api/v1/triage/policy`: the policy in force (TOML) and its version.
#[utoipa::path(
    get,
    path = "/api/v1/triage/policy",
    tag = "triage",
    summary = "The triage policy in force (TOML) and its version (0: the built-in default)",
    responses(
        (status = 200, description = "the policy", body = evac_app::PolicyInForce),
    ),
)]
pub async fn policy(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let policy = state.app.policy(&staff).await?;
    Ok(to_json(&policy))
}

/// `PUT /api/v1/triage/policy` with a [`PolicyDraft`] (`{toml}`): stores a new version and answers with what
/// moved (`?limit=N` moves listed).
#[utoipa::path(
    put,
    path = "/api/v1/triage/policy",
    tag = "triage",
    summary = "Store a new version of the triage policy; every case is re-ranked and the answer lists what moved",
    params(
        ("limit" = Option<i64>, Query, description = "moves listed (default 100)"),
    ),
    request_body = PolicyDraft,
    responses(
        (status = 200, description = "version, cases, moved, moves", body = evac_app::PolicyChange),
        (status = 403, description = "only supervisors change the policy"),
        (status = 422, description = "the policy is not valid"),
    ),
)]
pub async fn change_policy(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let toml = json_draft(&headers, body, PolicyDraft::validate)?;
    let moves_max = crate::doors::limit(&query, MOVES_DEFAULT)? as usize;
    let change = state.app.change_policy(&staff, &toml, moves_max).await?;
    Ok(to_json(&change))
}

/// `GET /api/v1/triage?limit=N&at=RFC3339`: cases (households) first served first, each with
/// its class, score and the rules that produced them.
#[utoipa::path(
    get,
    path = "/api/v1/triage",
    tag = "triage",
    summary = "Cases (households across linked requests) first served first, each with its class, score and the rules that produced them",
    params(
        ("at" = Option<evac_model::Timestamp>, Query, description = "default: now"),
        ("limit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "ranked cases", body = crate::answers::RankingPage),
        (status = 403, description = "role may not read requests"),
    ),
)]
pub async fn ranking(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let at = time_param(&query, "at")?.unwrap_or_else(Timestamp::now);
    let limit = crate::doors::limit(&query, RANKED_DEFAULT)? as usize;
    let (total, items) = state.app.rank_cases(&staff, at, 0, limit).await?;
    Ok(to_json(&RankingPage {
        at,
        cases: total,
        items,
    }))
}

/// `GET /api/v1/triage/moves?since=RFC3339&limit=N`: what moved between the ranking under the
/// policy and situation of `since` and the ranking now (the same cases, waiting counted to now).
#[utoipa::path(
    get,
    path = "/api/v1/triage/moves",
    tag = "triage",
    summary = "What moved since a time: today's cases ranked under the policy version and the situation (zone threats) of `since`, and under today's; a change of policy or situation shows here",
    params(
        ("since" = evac_model::Timestamp, Query),
        ("limit" = Option<i64>, Query, description = "moves listed (default 100)"),
    ),
    responses(
        (status = 200, description = "cases, moved, moves (most moved first)", body = evac_app::PolicyChange),
        (status = 422, description = "since is missing or not a time"),
    ),
)]
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
    let limit = crate::doors::limit(&query, MOVES_DEFAULT)? as usize;
    let change = state
        .app
        .triage_moves(&staff, since, Timestamp::now(), limit)
        .await?;
    Ok(to_json(&change))
}

/// Households per page of the case list.
const CASES_PAGE_ITEMS: usize = 50;

/// `GET /desk/cases?from=N&class=C&mine=true`: households in the order triage serves them,
/// with their class and the reasons, from rank `N`; only class `C`, or only those the caller
/// holds, when asked.
/// The case list's filter, the desk's and the export's alike: `class` (1 is served first),
/// `mark` (one of [`evac_app::CaseMark`]), `mine=true`; other parameters are the caller's.
pub(crate) fn case_filter(
    query: &HashMap<String, String>,
) -> Result<evac_app::CaseFilter, Vec<FieldError>> {
    let given = |k: &str| query.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let mut errors = Vec::new();
    let class = given("class").and_then(|c| match c.parse::<u8>() {
        Ok(c) if c >= 1 => Some(c),
        _ => {
            errors.push(FieldError {
                path: "query.class".into(),
                reason: format!(
                    "{c} is not a priority class (1 is served first)",
                    c = evac_model::quoted(&c)
                ),
            });
            None
        }
    });
    let mark = given("mark").and_then(|m| {
        let mark = evac_app::CaseMark::parse(m);
        if mark.is_none() {
            errors.push(FieldError {
                path: "query.mark".into(),
                reason: format!(
                    "{m} is not one of: {}",
                    evac_app::CaseMark::ALL
                        .map(evac_app::CaseMark::as_str)
                        .join(", "),
                    m = evac_model::quoted(&m)
                ),
            });
        }
        mark
    });
    let mine = match given("mine") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            errors.push(FieldError {
                path: "query.mine".into(),
                reason: format!(
                    "{other} is not true or false",
                    other = evac_model::quoted(&other)
                ),
            });
            false
        }
    };
    if errors.is_empty() {
        Ok(evac_app::CaseFilter { class, mark, mine })
    } else {
        Err(errors)
    }
}

pub async fn cases_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let t = Tr { lang };
    let from: usize = query.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    let (filter, problems) = crate::desk::filter_or_problems(lang, case_filter(&query));
    let (class, mark, mine) = (filter.class, filter.mark, filter.mine);
    let listed = match state
        .app
        .case_list(&session.staff, filter, from, CASES_PAGE_ITEMS)
        .await
    {
        Ok(Some(listed)) => listed,
        Ok(None) => {
            return error_page(
                lang,
                AppError::Conflict(evac_app::Refusal::new(
                    evac_app::RefusalKind::RankingBusy,
                    "the households are being ranked; reload in a moment",
                )),
            );
        }
        Err(e) => return error_page(lang, e),
    };
    let classes = match state.app.desk_ranking(&session.staff, false).await {
        Ok(Some(ranking)) => ranking
            .by_class
            .iter()
            .map(|c| (c.class.to_string(), format!("{} · {}", c.class, c.name)))
            .collect(),
        Ok(None) => Vec::new(),
        Err(e) => return error_page(lang, e),
    };
    // The view's own query, which the page links keep.
    let mut view: Vec<(&str, String)> = vec![("lang", lang.code().to_string())];
    if let Some(class) = class {
        view.push(("class", class.to_string()));
    }
    if let Some(mark) = mark {
        view.push(("mark", mark.as_str().into()));
    }
    if mine {
        view.push(("mine", "true".into()));
    }
    let page_link = |from: usize| {
        let mut pairs = view.clone();
        pairs.push(("from", from.to_string()));
        format!(
            "/desk/cases?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    };
    // The view's exports (the case list as it is filtered), for roles that may export.
    let exports = if session
        .staff
        .role
        .allows(evac_model::Permission::ExportRequests)
    {
        ["csv", "xlsx"]
            .into_iter()
            .map(|format| {
                let mut pairs: Vec<(&str, String)> =
                    view.iter().filter(|(k, _)| *k != "lang").cloned().collect();
                pairs.push(("format", format.into()));
                (
                    format.to_uppercase(),
                    format!(
                        "/api/v1/exports/cases?{}",
                        serde_urlencoded::to_string(&pairs).unwrap_or_default()
                    ),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let total = listed.total;
    let page = CasesPage {
        exports,
        t,
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        ranked_at: desk_time(&state, listed.ranked_at),
        total,
        class: class.map(|c| c.to_string()).unwrap_or_default(),
        classes,
        mark: mark.map_or("", evac_app::CaseMark::as_str).to_string(),
        marks: evac_app::CaseMark::ALL
            .iter()
            .map(|m| {
                (
                    m.as_str().to_string(),
                    t.get(&format!("mark-{}", m.as_str())),
                )
            })
            .collect(),
        mine,
        problems,
        lines: listed
            .lines
            .into_iter()
            .map(|(rank, r)| CaseLine {
                rank,
                reference: r.reference,
                request_id: r.request_id.to_string(),
                class: r.priority.class,
                class_name: r.priority.class_name,
                people: r.people,
                requests: r.requests.len(),
                place: r.place,
                reasons: if r.priority.reasons.is_empty() {
                    t.get("reasons-on-household-page")
                } else {
                    r.priority.reasons.join("; ")
                },
            })
            .collect(),
        prev: (from > 0).then(|| page_link(from.saturating_sub(CASES_PAGE_ITEMS))),
        next: (from + CASES_PAGE_ITEMS < total).then(|| page_link(from + CASES_PAGE_ITEMS)),
    };
    html(StatusCode::OK, render(&page))
}
