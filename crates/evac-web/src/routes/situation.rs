//! The situation picture: hubs with their status, and reports.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use evac_model::{FieldError, Timestamp};
use serde_json::{Value, json};

use crate::AppState;
use crate::auth::Authenticated;
use crate::problem::{ApiResult, Problem};

/// `GET /api/v1/hubs?at=RFC3339`: every hub with its status at `at` (default now) and history.
pub async fn hubs(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let at = match query.get("at") {
        None => Timestamp::now(),
        Some(v) => v.parse().map_err(|_| {
            Problem::invalid(vec![FieldError {
                path: "query.at".into(),
                reason: format!("'{v}' is not an RFC 3339 time like 2022-01-06T12:00:00Z"),
            }])
        })?,
    };
    let views = state.app.hubs(&staff, at).await?;
    let change = |c: &evac_model::HubStatusChange| json!({ "status": c.status.as_str(), "from": c.from.to_string(), "until": c.until.map(|u| u.to_string()), "note": c.note });
    let items: Vec<Value> = views
        .iter()
        .map(|v| {
            json!({
                "code": v.hub.code, "kind": v.hub.kind.as_str(), "name": v.hub.name, "country": v.hub.country.as_str(),
                "municipality": v.hub.municipality, "lat": v.hub.lat, "lon": v.hub.lon, "iata": v.hub.iata, "icao": v.hub.icao,
                "status": v.current.as_ref().map(change),
                "history": v.history.iter().map(change).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "at": at.to_string(), "items": items })))
}

/// `GET /api/v1/reports?limit=N`: the newest situation reports.
pub async fn reports(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let limit = super::limit(&query, 50);
    let reports = state.app.reports(&staff, limit).await?;
    Ok(Json(json!({ "items": reports })))
}
