//! evac's HTTP face: the JSON API under `/api/v1` (and, later, the HTML desk). This is the only
//! crate that knows HTTP; it turns requests into app calls and app results into responses.
//!
//! Entry point: [`serve`] takes a bound listener and a shutdown future, so tests bind port 0
//! and the binary binds what it is told.

// The OpenAPI document is one `json!` literal, deeper than the default limit allows.
#![recursion_limit = "256"]

mod auth;
mod dto;
pub mod openapi;
mod pages;
mod problem;
mod routes;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use axum::routing::MethodRouter;
use evac_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use dto::Acknowledgement;
pub use problem::Problem;

/// The largest request body accepted: a request with a full party is a few kilobytes.
pub const BODY_BYTES_MAX: usize = 256 * 1024;
/// A request that takes longer than this is answered 408 (exports stream and are not cut).
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;

/// What every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
}

/// The router and the list of what it serves, built by the same code so they cannot diverge.
struct Routes {
    router: Router<AppState>,
    table: Vec<(&'static str, &'static str)>,
}

impl Routes {
    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.table.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }
}

fn routes() -> Routes {
    use axum::routing::{get, patch, post, put};
    use routes::*;
    Routes {
        router: Router::new(),
        table: Vec::new(),
    }
    .add("get", "/healthz", get(health::healthz))
    .add("get", "/readyz", get(health::readyz))
    .add(
        "get",
        "/api/v1/openapi.json",
        get(crate::openapi::serve_document),
    )
    .add("post", "/api/v1/requests", post(intake::create))
    .add("get", "/api/v1/requests", get(intake::list))
    .add("get", "/api/v1/requests/{id}", get(intake::by_id))
    .add("get", "/api/v1/requests/{id}/history", get(intake::history))
    .add(
        "post",
        "/api/v1/requests/{id}/corrections",
        post(intake::correct),
    )
    .add(
        "post",
        "/api/v1/requests/{id}/persons/{person}/corrections",
        post(intake::correct_person),
    )
    .add(
        "post",
        "/api/v1/requests/{id}/persons/{person}/events",
        post(intake::person_event),
    )
    .add(
        "get",
        "/api/v1/requests/by-reference/{reference}",
        get(intake::by_reference),
    )
    .add("get", "/api/v1/exports/requests", get(export::requests))
    .add("get", "/api/v1/audit", get(audit::trail))
    .add("get", "/api/v1/me", get(audit::me))
    .add("get", "/api/v1/situation", get(situation::situation))
    .add("get", "/api/v1/hubs", get(situation::hubs))
    .add("post", "/api/v1/hubs", post(situation::add_hub))
    .add("post", "/api/v1/routes", post(situation::add_route))
    .add("post", "/api/v1/zones", post(situation::add_zone))
    .add("post", "/api/v1/statuses", post(situation::set_status))
    .add("get", "/api/v1/reports", get(situation::reports))
    .add("post", "/api/v1/reports", post(situation::ingest))
    .add("get", "/api/v1/reports/{id}", get(situation::report))
    .add("patch", "/api/v1/reports/{id}", patch(situation::judge))
    .add(
        "post",
        "/api/v1/reports/{id}/statements",
        post(situation::add_statement),
    )
    .add("post", "/api/v1/plans", post(boarding::preview))
    .add("post", "/api/v1/plans/publish", post(boarding::publish))
    .add(
        "get",
        "/api/v1/transports/{id}/manifest",
        get(boarding::manifest),
    )
    .add(
        "get",
        "/api/v1/transports/{id}/passes",
        get(boarding::passes),
    )
    .add(
        "post",
        "/api/v1/transports/{id}/no-shows",
        post(boarding::no_shows),
    )
    .add("get", "/api/v1/boarding/key", get(boarding::key))
    .add("post", "/api/v1/check-in", post(boarding::check_in))
    .add("post", "/api/v1/boarding", post(boarding::board))
    .add("get", "/api/v1/transports", get(situation::transports))
    .add("post", "/api/v1/transports", post(situation::add_transport))
    .add(
        "patch",
        "/api/v1/transports/{id}",
        patch(situation::transport_status),
    )
    .add("get", "/api/v1/triage", get(situation::ranking))
    .add("get", "/api/v1/triage/moves", get(situation::moves))
    .add("get", "/api/v1/triage/policy", get(situation::policy))
    .add(
        "put",
        "/api/v1/triage/policy",
        put(situation::change_policy),
    )
    .add("get", "/api/v1/review", get(linkage::queue))
    .add("post", "/api/v1/review/{seq}", post(linkage::decide))
    .add("post", "/api/v1/links/{seq}/undo", post(linkage::undo))
    .add(
        "get",
        "/api/v1/requests/{id}/links",
        get(linkage::request_links),
    )
}

/// The HTML pages: public request and status forms, login, the desk, and their assets. Not in
/// the OpenAPI document (it describes the JSON API).
fn pages() -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/", get(pages::home))
        .route("/assets/evac.css", get(pages::stylesheet))
        .route("/assets/evac.js", get(pages::script))
        .route(
            "/request",
            get(pages::request_form).post(pages::submit_request),
        )
        .route("/status", get(pages::status_form).post(pages::status))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/desk", get(pages::dashboard))
        .route("/desk/requests", get(pages::requests))
        .route(
            "/desk/requests/{id}",
            get(pages::request_detail).post(pages::change_person),
        )
        .route(
            "/desk/requests/{id}/corrections",
            post(pages::correct_request),
        )
        .route("/desk/requests/{id}/persons", post(pages::correct_person))
        .route("/desk/cases", get(pages::cases))
        .route("/desk/review", get(pages::review))
        .route("/desk/review/{seq}", post(pages::decide))
        .route("/desk/situation", get(pages::situation))
        .route("/desk/situation/reports", post(pages::ingest_report))
        .route("/desk/situation/reports/{id}", post(pages::judge_report))
        .route("/desk/planning", get(pages::planning))
        .route("/desk/planning/transports", post(pages::add_transport))
        .route("/desk/planning/plan", post(pages::plan))
        .route(
            "/desk/check-in",
            get(pages::check_in_form).post(pages::check_in),
        )
        .route("/desk/users", get(pages::users).post(pages::add_user))
        .route("/desk/audit", get(pages::audit))
        .route("/about", get(pages::about))
        .layer(axum::middleware::from_fn(pages::refuse_cross_site))
}

/// Every (method, path) the router serves, for the OpenAPI completeness test.
pub fn registered_routes() -> Vec<(&'static str, &'static str)> {
    routes().table
}

/// Headers every answer carries unless its handler set them: no sniffing, no referrer, no
/// framing, a strict default CSP (pages set their own), and, because answers carry personal
/// data, no cache may keep them.
const SECURITY_HEADERS: [(HeaderName, &str); 5] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (header::CACHE_CONTROL, "no-store"),
];

fn with_security_headers<B>(mut response: Response<B>) -> Response<B> {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // The middleware is one stack given to one `layer` call: every `Router::layer` call wraps
    // each route in a boxed service of its own, so a layer per call cost a boxed clone and a
    // boxed future per layer and request (eleven of each, a visible share of intake's CPU:
    // docs/BENCHMARKS.md). Outermost first: the security headers go on every answer, those of
    // a timeout or a panic included.
    let middleware = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(request_id))
        .map_response(with_security_headers)
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(REQUEST_TIMEOUT_MS),
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX));
    routes()
        .router
        .merge(pages())
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "urn:evac:problem:not-found",
                "Not found",
                "no such route; see /api/v1/openapi.json",
            )
        })
        .with_state(AppState { app })
        .layer(middleware)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
