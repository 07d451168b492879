//! evac's HTTP face: the JSON API under `/api/v1` (and, later, the HTML desk). This is the only
//! crate that knows HTTP; it turns requests into app calls and app results into responses.
//!
//! Entry point: [`serve`] takes a bound listener and a shutdown future, so tests bind port 0
//! and the binary binds what it is told.

mod accounts;
mod answers;
mod audit;
mod auth;
mod boarding;
mod calls;
mod casework;
mod dashboard;
mod desk;
mod doors;
mod dto;
mod export;
mod health;
mod hotline;
mod household;
mod intake;
mod limits;
mod linkage;
mod messaging;
pub mod openapi;
mod planning;
mod problem;
mod situation;
mod transports;
mod triage;

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
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
    /// The public side's flood limit (`limits.rs`); `None` when switched off.
    pub limiter: Option<std::sync::Arc<limits::PublicLimiter>>,
    /// The API's limit per staff account.
    pub account_limiter: Option<std::sync::Arc<limits::AccountLimiter>>,
}

/// The JSON API's router and its OpenAPI document, built by the same `routes!` calls.
pub(crate) type Routes = utoipa_axum::router::OpenApiRouter<AppState>;

/// The JSON API, area by area (each area's module has its API and desk handlers side by side).
fn routes() -> Routes {
    let routes =
        Routes::with_openapi(openapi::base()).routes(utoipa_axum::routes!(openapi::serve_document));
    [
        health::api,
        intake::api,
        export::api,
        casework::api,
        household::api,
        accounts::api,
        audit::api,
        situation::api,
        transports::api,
        triage::api,
        planning::api,
        boarding::api,
        linkage::api,
        messaging::api,
        calls::api,
    ]
    .into_iter()
    .fold(routes, |routes, area| area(routes))
}

/// The HTML pages: public request and status forms, login, the desk, and their assets. Not in
/// the OpenAPI document (it describes the JSON API).
fn pages() -> Router<AppState> {
    use axum::routing::get;
    let router = Router::new()
        .route("/", get(desk::home))
        .route("/assets/evac.css", get(desk::stylesheet))
        .route("/assets/evac.js", get(desk::script));
    [
        intake::desk,
        dashboard::desk,
        casework::desk,
        household::desk,
        hotline::desk,
        calls::desk,
        accounts::desk,
        audit::desk,
        situation::desk,
        transports::desk,
        triage::desk,
        planning::desk,
        boarding::desk,
        linkage::desk,
        messaging::desk,
    ]
    .into_iter()
    .fold(router, |router, area| area(router))
    .layer(axum::middleware::from_fn(desk::refuse_cross_site))
}

/// Every (method, path) the OpenAPI document describes, for the test that each is served.
pub fn documented_routes() -> Vec<(String, String)> {
    let doc = openapi::document();
    doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flatten()
                .map(move |(method, _)| (method.clone(), path.clone()))
        })
        .collect()
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

/// How much of a plain-text refusal is kept as a problem's detail (bytes).
const PLAIN_REFUSAL_BYTES_MAX: usize = 1_024;

/// axum's own extractor refusals (a path segment that is not a number, a query string that
/// lacks a field) answer in plain text; on the API every refusal is problem+json, so clients
/// read one shape (found by schemathesis).
async fn plain_refusals_as_problems(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !api || !plain || !response.status().is_client_error() {
        return response;
    }
    let status = response.status();
    let text = axum::body::to_bytes(response.into_body(), PLAIN_REFUSAL_BYTES_MAX)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    Problem::new(
        status,
        "urn:evac:problem:bad-request",
        "The request could not be read",
        text,
    )
    .into_response()
}

/// The whole HTTP application.
pub fn router(app: App) -> Router {
    let state = AppState {
        limiter: limits::PublicLimiter::new(app.settings().public_limit).map(std::sync::Arc::new),
        account_limiter: limits::AccountLimiter::for_accounts(app.settings().account_limit)
            .map(std::sync::Arc::new),
        app,
    };
    let request_id = HeaderName::from_static("x-request-id");
    // The middleware is one stack given to one `layer` call: every `Router::layer` call wraps
    // each route in a boxed service of its own, so a layer per call cost a boxed clone and a
    // boxed future per layer and request (eleven of each, a visible share of intake's CPU:
    // docs/BENCHMARKS.md). Outermost first: the security headers go on every answer, those of
    // a timeout or a panic included.
    let middleware = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        // Spans name the path, never the query: channel callbacks carry a secret, a phone
        // number and a message's text there.
        .layer(TraceLayer::new_for_http().make_span_with(
            |request: &axum::http::Request<axum::body::Body>| {
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            },
        ))
        .layer(PropagateRequestIdLayer::new(request_id))
        .map_response(with_security_headers)
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(REQUEST_TIMEOUT_MS),
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit_public,
        ))
        .layer(axum::middleware::from_fn(plain_refusals_as_problems));
    let (api, _) = routes().split_for_parts();
    api.merge(pages())
        .fallback(desk::no_such_address)
        .method_not_allowed_fallback(desk::not_this_method)
        .with_state(state)
        .layer(middleware)
}

/// How long a client has to send a request's headers, in seconds; an idle kept-alive
/// connection is closed after as long (1,100 idle sockets once stopped a server limited to
/// 1,024 open files).
pub const HEADER_READ_S: u64 = 10;
/// Connections one address may hold open at once; beyond, a new one is closed at once, so one
/// client cannot take every open file the process has.
pub const CONNECTIONS_PER_ADDRESS_MAX: usize = 256;
/// How long the requests in flight get to finish after `shutdown`, in seconds.
pub const SHUTDOWN_GRACE_S: u64 = 30;

/// Serves until `shutdown` completes, then finishes the requests in flight (at most
/// [`SHUTDOWN_GRACE_S`]). Each connection speaks HTTP/1.1 with [`HEADER_READ_S`] to send its
/// headers (and as much idle between requests), and one address holds at most
/// [`CONNECTIONS_PER_ADDRESS_MAX`] connections.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use std::collections::HashMap;
    use std::net::IpAddr;
    use std::sync::{Arc, Mutex};

    let router = router(app);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let open: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of open files, most likely: wait for some to close.
                    tracing::warn!(error = %e, "cannot accept a connection; trying again");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let address = remote.ip();
        {
            let mut open = open.lock().expect("the connection count's lock");
            let held = open.entry(address).or_insert(0);
            if *held >= CONNECTIONS_PER_ADDRESS_MAX {
                drop(stream);
                continue;
            }
            *held += 1;
        }
        let _ = stream.set_nodelay(true);
        let service = tower::ServiceExt::map_request(
            router.clone(),
            move |request: axum::http::Request<hyper::body::Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(remote));
                request
            },
        );
        let service = hyper_util::service::TowerToHyperService::new(service);
        let mut stopping = stopping.clone();
        let open = open.clone();
        connections.spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(HEADER_READ_S))
                .keep_alive(true);
            let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
            let mut open = open.lock().expect("the connection count's lock");
            if let Some(held) = open.get_mut(&address) {
                *held -= 1;
                if *held == 0 {
                    open.remove(&address);
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(SHUTDOWN_GRACE_S), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// Entry points for the fuzz targets in `fuzz/` (cargo-fuzz): the server's own decoding and
/// validation of untrusted bodies, run without a server. Not an API.
#[doc(hidden)]
pub mod fuzz_entry {
    use axum::body::Bytes;
    use axum::http::{HeaderMap, HeaderValue, header};

    /// A request's JSON as `POST /api/v1/requests` reads it: decoded (naming the bad field),
    /// turned into a draft and validated; every answer is fine, a panic is the failure.
    pub fn request_json(bytes: &[u8]) {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let parsed = crate::doors::parse_json::<crate::dto::RequestIn>(
            &headers,
            Ok(Bytes::copy_from_slice(bytes)),
        );
        if let Ok((input, _)) = parsed {
            let context = evac_model::ValidationContext {
                now: "2022-01-06T12:00:00Z".parse().expect("a time"),
                default_region: "KZ".parse().ok(),
            };
            let _ = input.into_draft().validate(&context);
        }
    }

    /// A desk form's body as the broadcast and transport pages read it (one typed door with
    /// the API's JSON).
    pub fn form(bytes: &[u8]) {
        let body = Bytes::copy_from_slice(bytes);
        if let Ok((draft, _)) =
            crate::doors::form_draft::<evac_model::BroadcastDraft>(&body, &["action"])
        {
            let _ = draft.validate();
        }
        if let Ok((draft, _)) = crate::doors::form_draft::<evac_model::TransportDraft>(&body, &[]) {
            let _ = draft.validate(evac_model::TransportId(uuid::Uuid::nil()));
        }
    }
}
