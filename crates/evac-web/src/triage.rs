//! Triage: the policy in force and its versions, the ranking of households and what moved,
//! and the desk's case list in the order triage serves it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, put};
use axum::{Json, Router};
use evac_app::AppError;
use evac_model::{PolicyDraft, Timestamp};
use evac_ui::{CaseLine, CasesPage, Lang, Tr, render};
use serde_json::{Value, json};

use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};
use crate::doors::{field, json_draft, time_param, to_json};
use crate::problem::ApiResult;
use crate::{AppState, Routes};

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes
        .add("get", "/api/v1/triage", get(ranking))
        .add("get", "/api/v1/triage/moves", get(moves))
        .add("get", "/api/v1/triage/policy", get(policy))
        .add("put", "/api/v1/triage/policy", put(change_policy))
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
pub async fn policy(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
) -> ApiResult<Json<Value>> {
    let policy = state.app.policy(&staff).await?;
    Ok(to_json(&policy))
}

/// `PUT /api/v1/triage/policy` with a [`PolicyDraft`] (`{toml}`): stores a new version and answers with what
/// moved (`?limit=N` moves listed).
pub async fn change_policy(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Value>> {
    let toml = json_draft(&headers, body, PolicyDraft::validate)?;
    let moves_max = crate::doors::limit(&query, MOVES_DEFAULT) as usize;
    let change = state.app.change_policy(&staff, &toml, moves_max).await?;
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
    let limit = crate::doors::limit(&query, RANKED_DEFAULT) as usize;
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
    let limit = crate::doors::limit(&query, MOVES_DEFAULT) as usize;
    let change = state
        .app
        .triage_moves(&staff, since, Timestamp::now(), limit)
        .await?;
    Ok(to_json(&change))
}

/// Households per page of the case list.
const CASES_PAGE_ITEMS: usize = 50;

/// `GET /desk/cases?from=N`: every household in the order triage serves it, with its class
/// and the reasons, from rank `N`.
pub async fn cases_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let from: usize = query.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    // The head of the queue comes from the kept ranking; pages beyond it are ranked live.
    let ranking = match state.app.desk_ranking(&session.staff, true).await {
        Ok(Some(ranking)) => ranking,
        Ok(None) => {
            return error_page(
                lang,
                AppError::Conflict("the households are being ranked; reload in a moment".into()),
            );
        }
        Err(e) => return error_page(lang, e),
    };
    let (ranked_at, total, ranked) =
        if from + CASES_PAGE_ITEMS <= ranking.head.len() || ranking.head.len() == ranking.total {
            let page = ranking
                .head
                .iter()
                .skip(from)
                .take(CASES_PAGE_ITEMS)
                .cloned()
                .collect();
            (ranking.ranked_at, ranking.total, page)
        } else {
            let now = evac_model::Timestamp::now();
            match state
                .app
                .rank_cases(&session.staff, now, from, CASES_PAGE_ITEMS)
                .await
            {
                Ok((total, page)) => (now, total, page),
                Err(e) => return error_page(lang, e),
            }
        };
    let page = CasesPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        ranked_at: desk_time(&state, ranked_at),
        total,
        lines: ranked
            .into_iter()
            .enumerate()
            .map(|(i, r)| CaseLine {
                rank: from + i + 1,
                reference: r.reference,
                request_id: r.request_id.to_string(),
                class: r.priority.class,
                class_name: r.priority.class_name,
                people: r.people,
                requests: r.requests.len(),
                place: r.place,
                reasons: r.priority.reasons.join("; "),
            })
            .collect(),
        prev: (from > 0).then(|| from.saturating_sub(CASES_PAGE_ITEMS)),
        next: (from + CASES_PAGE_ITEMS < total).then_some(from + CASES_PAGE_ITEMS),
    };
    html(StatusCode::OK, render(&page))
}
