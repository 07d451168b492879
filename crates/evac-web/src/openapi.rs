//! The OpenAPI 3.1 description of the API, served at `/api/v1/openapi.json`, derived from the
//! code: each API handler carries its `#[utoipa::path]` (method, path, parameters, body and
//! answers) beside it, and the schemas come from the drafts, views and answers the handlers
//! decode and send (`ToSchema` on `evac-model`, `evac-app` and [`crate::answers`]). The router
//! and the document are built by the same `routes!` calls ([`crate::routes`]), so no route is
//! served undocumented.
//!
//! What every staff operation shares is added here once: the bearer requirement and its two
//! refusals (401, 403). An operation open to the public says so with `security(())`.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{Map, Value, json};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "evac API",
        description = "Evacuation requests in, staff views out. Everything but public intake, the channels' callbacks, health and this document needs a staff bearer token (`evac token create NAME`). Errors are RFC 9457 problem details (`Problem`)."
    ),
    // Query parameters refer to these choices; a parameter's schema is not collected as a
    // body's is, so they are named here.
    components(schemas(
        crate::problem::ProblemBody,
        evac_model::Channel,
        evac_model::Need,
        evac_model::PersonStatus,
        evac_model::TransportStatus,
        evac_store::MessageState
    ))
)]
struct Base;

/// The document's frame (info, shared schemas) the routes are added to.
pub(crate) fn base() -> utoipa::openapi::OpenApi {
    <Base as utoipa::OpenApi>::openapi()
}

/// A refusal as the document describes it: a problem (RFC 9457).
fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    })
}

/// Every operation without `security(())` needs a staff token: it gets the bearer requirement
/// and answers 401 and 403 (kept where the handler names its own reason).
fn require_staff_tokens(doc: &mut Value) {
    doc["components"]["securitySchemes"] =
        json!({ "bearer": { "type": "http", "scheme": "bearer" } });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(operation) = operation.as_object_mut() else {
            continue;
        };
        let public = operation
            .get("security")
            .and_then(Value::as_array)
            .is_some_and(|requirements| {
                requirements
                    .iter()
                    .all(|r| r.as_object().is_some_and(Map::is_empty))
            });
        if public {
            operation.remove("security");
            continue;
        }
        operation.insert("security".into(), json!([{ "bearer": [] }]));
        let responses = operation.entry("responses").or_insert_with(|| json!({}));
        if let Some(responses) = responses.as_object_mut() {
            responses
                .entry("401")
                .or_insert_with(|| problem("no staff token, or one that is not valid"));
            responses
                .entry("403")
                .or_insert_with(|| problem("the token's role may not do this"));
        }
    }
}

/// Every refusal an operation names is a problem (RFC 9457), and what every operation of a
/// kind can answer is added once where the handler names no reason of its own: a body that is not JSON, too large or of another type (`doors::parse_json`), a
/// parameter or field it cannot read (each named), the per-account and per-address limits
/// (`limits.rs`); and the bound every page size has (`doors::limit`).
fn describe_shared_answers(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            let has_body = operation.contains_key("requestBody");
            let has_parameters = operation
                .get("parameters")
                .and_then(Value::as_array)
                .is_some_and(|p| !p.is_empty());
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                for parameter in parameters.iter_mut().filter(|p| p["name"] == "limit") {
                    parameter["schema"] = json!({
                        "type": "integer", "minimum": 1, "maximum": evac_store::PAGE_ITEMS_MAX
                    });
                }
            }
            let staff = !operation
                .get("security")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().all(|r| r.as_object().is_some_and(Map::is_empty)));
            let limited = staff || (method != "get" && !path.starts_with("/api/v1/channels/"));
            let Some(responses) = operation
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut()
            else {
                continue;
            };
            // A refusal a handler names gives its reason only: every refusal is a problem.
            for (status, response) in responses.iter_mut() {
                if status.as_str() >= "400"
                    && let Some(response) = response.as_object_mut()
                    && !response.contains_key("content")
                {
                    let why = response
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    *response = problem(&why).as_object().cloned().unwrap_or_default();
                }
            }
            let mut add = |status: &str, why: &str| {
                responses.entry(status).or_insert_with(|| problem(why));
            };
            if has_body {
                add(
                    "400",
                    "the body is not JSON (the problem names where it breaks)",
                );
                add("413", "the body is larger than the server takes");
                add("415", "the body is not application/json");
            }
            if has_body || has_parameters {
                add(
                    "422",
                    "a field or parameter it cannot read, each named with what to write",
                );
            }
            if has_parameters {
                add(
                    "400",
                    "a path or query parameter of the wrong kind, or a required one missing",
                );
            }
            if limited {
                add(
                    "429",
                    "too many requests from this account or address: wait Retry-After seconds",
                );
            }
        }
    }
}

/// The whole document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(crate::routes().into_openapi())
            .expect("an OpenAPI document serialises");
        describe_shared_answers(&mut doc);
        require_staff_tokens(&mut doc);
        doc
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "this document (OpenAPI 3.1)", content_type = "application/json"))
)]
pub async fn serve_document() -> Json<Value> {
    Json(document().clone())
}
