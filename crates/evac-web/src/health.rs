//! Liveness and readiness, for load balancers and orchestrators.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::answers::Readiness;
use crate::doors::to_json;
use crate::{AppState, Routes};
use utoipa_axum::routes;

/// The API routes of this area.
pub(crate) fn api(routes: Routes) -> Routes {
    routes.routes(routes!(healthz)).routes(routes!(readyz))
}

/// The process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    summary = "Liveness",
    responses(
        (status = 200, description = "the process is up", body = String, content_type = "text/plain", example = "ok"),
    ),
    security(()),
)]
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    summary = "Readiness (the database answers)",
    responses(
        (status = 200, description = "ready", body = crate::answers::Readiness),
        (status = 503, description = "the database does not answer", body = crate::answers::Readiness),
    ),
    security(()),
)]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    let backend = state.app.store().backend_name();
    match state.app.ready().await {
        Ok(()) => (
            StatusCode::OK,
            to_json(&Readiness {
                status: "ready",
                database: backend,
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                to_json(&Readiness {
                    status: "unavailable",
                    database: backend,
                }),
            )
        }
    }
}
