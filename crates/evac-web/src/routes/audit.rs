//! The audit trail, and who the caller is.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiResult, Problem};

pub async fn trail(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<serde_json::Value>> {
    let number = |key: &str, default: i64| -> Result<i64, Problem> {
        query.get(key).map_or(Ok(default), |v| {
            v.parse().map_err(|_| {
                Problem::bad_request(
                    "urn:evac:problem:bad-query",
                    format!("{key}: '{v}' is not a whole number"),
                )
            })
        })
    };
    let after = number("after", 0)?;
    let limit = number("limit", 100)?.clamp(1, i64::from(evac_store::PAGE_ITEMS_MAX)) as u32;
    let records = state.app.audit_trail(&staff, after, limit).await?;
    let next_after = records.last().map(|r| r.seq);
    Ok(Json(
        serde_json::json!({ "items": records, "next_after": next_after }),
    ))
}

pub async fn me(Authenticated(staff): Authenticated) -> Json<serde_json::Value> {
    Json(
        serde_json::json!({ "id": staff.user_id.to_string(), "name": staff.name, "role": staff.role.as_str() }),
    )
}
