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

/// The whole document, built once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = serde_json::to_value(crate::routes().into_openapi())
            .expect("an OpenAPI document serialises");
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
