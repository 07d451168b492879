//! The audit trail, from the API and the desk.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use evac_ui::{AuditPage, Lang, Tr, render};

use crate::answers::AuditTrail;
use crate::auth::Authenticated;
use crate::desk::{DeskSession, desk_time, desk_user, error_page, html, lang};
use crate::problem::{ApiResult, Problem};
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.routes(routes!(trail))
}

/// The pages of this area.
pub(crate) fn desk(router: Router<AppState>) -> Router<AppState> {
    router.route("/desk/audit", get(audit_page))
}

/// `GET /api/v1/audit?after=SEQ&limit=N`: the audit trail from `after`, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    summary = "The audit trail, oldest first",
    params(
        ("after" = Option<i64>, Query),
        ("limit" = Option<i64>, Query),
    ),
    responses(
        (status = 200, description = "a page of events", body = crate::answers::AuditTrail),
        (status = 403, description = "role may not read the audit trail"),
    ),
)]
pub async fn trail(
    State(state): State<AppState>,
    Authenticated(staff): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Json<AuditTrail>> {
    let number = |key: &str, default: i64| -> Result<i64, Problem> {
        query.get(key).map_or(Ok(default), |v| {
            v.parse().map_err(|_| {
                // A bad query value is an invalid field, as on every other list.
                Problem::invalid(vec![evac_model::FieldError {
                    path: format!("query.{key}"),
                    reason: format!("{v} is not a whole number", v = evac_model::quoted(&v)),
                }])
            })
        })
    };
    let after = number("after", 0)?;
    let limit = crate::doors::limit(&query, 100)?;
    let records = state.app.audit_trail(&staff, after, limit).await?;
    let next_after = records.last().map(|r| r.seq);
    Ok(Json(AuditTrail {
        items: records,
        next_after,
    }))
}

/// Audit events per page.
const AUDIT_PAGE_ITEMS: u32 = 100;

/// `GET /desk/audit?after=SEQ`: the audit trail, for auditors and supervisors.
pub async fn audit_page(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    session: DeskSession,
) -> Response {
    let lang = lang(&query, &headers, &Lang::DESK);
    let after: i64 = query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    // Staff by name, as the desk names them elsewhere ("user:0190…" meant nothing).
    let records = match state
        .app
        .audit_trail_named(&session.staff, after, AUDIT_PAGE_ITEMS)
        .await
    {
        Ok(records) => records,
        Err(e) => return error_page(lang, e),
    };
    let next = (records.len() == AUDIT_PAGE_ITEMS as usize)
        .then(|| records.last().map(|(r, _)| r.seq))
        .flatten();
    let page = AuditPage {
        t: Tr { lang },
        langs: evac_ui::switch(lang, &Lang::DESK),
        user: desk_user(&session.staff),
        events: records
            .into_iter()
            .map(|(r, actor)| {
                (
                    r.seq,
                    desk_time(&state, r.event.at),
                    actor,
                    r.event.action,
                    r.event.subject.unwrap_or_default(),
                    detail_words(&r.event.detail),
                )
            })
            .collect(),
        next,
    };
    html(StatusCode::OK, render(&page))
}

/// An event's detail as an auditor reads it: "role: auditor; count: 3" rather than the JSON
/// it is kept as. Text is written without quotes; a nested list or object stays compact JSON.
fn detail_words(detail: &serde_json::Value) -> String {
    let value_words = |value: &serde_json::Value| match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "—".to_string(),
        other => other.to_string(),
    };
    match detail {
        serde_json::Value::Object(fields) => fields
            .iter()
            .map(|(name, value)| format!("{}: {}", name.replace('_', " "), value_words(value)))
            .collect::<Vec<_>>()
            .join("; "),
        serde_json::Value::Null => String::new(),
        other => value_words(other),
    }
}

#[cfg(test)]
mod tests {
    use super::detail_words;

    #[test]
    fn a_detail_reads_as_named_values() {
        let detail = serde_json::json!({
            "role": "auditor",
            "count": 3,
            "seat_limit": null,
            "people": ["a", "b"],
        });
        assert_eq!(
            detail_words(&detail),
            "count: 3; people: [\"a\",\"b\"]; role: auditor; seat limit: —"
        );
        assert_eq!(detail_words(&serde_json::json!({})), "");
        assert_eq!(detail_words(&serde_json::json!("moved")), "moved");
    }
}
