//! Linkage: the duplicate review queue, decisions and undos, and a request's links.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use evac_model::FieldError;
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiResult, Problem};

/// Review items returned when no `limit` is given.
const REVIEW_ITEMS_DEFAULT: u32 = 50;

/// `GET /api/v1/review?limit=N`: uncertain pairs, oldest first, with both records and the
/// per-field weights.
pub async fn queue(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = super::limit(&query, REVIEW_ITEMS_DEFAULT) as usize;
    let items = state.app.review_queue(&staff, limit).await?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// `match` (the same person) or `distinct` (two people).
    decision: String,
}

/// `POST /api/v1/review/{seq}` with `{"decision": "match" | "distinct"}`.
pub async fn decide(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(seq): Path<i64>,
    Json(body): Json<Decision>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let same_person = match body.decision.as_str() {
        "match" => true,
        "distinct" => false,
        other => {
            return Err(Problem::invalid(vec![FieldError {
                path: "decision".into(),
                reason: format!("'{other}' is not a decision; use match or distinct"),
            }]));
        }
    };
    let logged = state.app.decide_link(&staff, seq, same_person).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "seq": logged, "decided": seq, "decision": body.decision })),
    ))
}

/// `POST /api/v1/links/{seq}/undo`: reverses a merge or a decision.
pub async fn undo(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(seq): Path<i64>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    state.app.undo_link(&staff, seq).await?;
    Ok((StatusCode::CREATED, Json(json!({ "undone": seq }))))
}

/// `GET /api/v1/requests/{id}/links`: the request's people in other requests, and its
/// household's requests.
pub async fn request_links(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = super::intake::request_id(&id)?;
    let links = state.app.request_links(&staff, id).await?;
    Ok(Json(serde_json::to_value(links).unwrap_or(Value::Null)))
}
