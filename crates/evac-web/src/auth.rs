//! Who is calling: the bearer-token extractors (a desk session's cookie counts as a token too,
//! so the desk's download links reach the API; the cookie is `SameSite=Strict`, so no other
//! site's page can send it, and a write with it must come from evac's own pages, as the
//! desk's forms must, since a same-site page could still send it). Role checks do not live here — they live in the app layer's
//! `Staff::require`, so every door enforces the same table.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use evac_app::{AppError, Staff};

use crate::AppState;
use crate::problem::Problem;

/// A caller that presented a valid staff token.
pub struct Authenticated(pub Staff);

/// A caller that may be anonymous; a token, if sent, must be valid (never silently ignored).
pub struct MaybeAuthenticated(pub Option<Staff>);

fn bearer(parts: &Parts) -> Result<Option<&str>, Problem> {
    bearer_in(&parts.headers)
}

/// The bearer token of an `Authorization` header: `None` without the header, a problem when
/// it is not `Bearer …`. The public side's limiter reads it too.
pub(crate) fn bearer_in(headers: &axum::http::HeaderMap) -> Result<Option<&str>, Problem> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| Problem::from(AppError::Unauthenticated))?;
    match text.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(Some(token.trim())),
        _ => Err(Problem::from(AppError::Unauthenticated)),
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = match bearer(parts)? {
            Some(token) => token.to_string(),
            None => {
                let secret = session_secret(&parts.headers).ok_or(AppError::Unauthenticated)?;
                // The desk's cookie reaches the API for its download links; a write with it must
                // pass the desk's own cross-site check (a same-site page could send it).
                let safe = matches!(
                    parts.method,
                    axum::http::Method::GET | axum::http::Method::HEAD
                );
                if !safe && !crate::desk::same_origin(&parts.headers) {
                    return Err(Problem::new(
                        axum::http::StatusCode::FORBIDDEN,
                        "urn:evac:problem:cross-site",
                        "Cross-site write refused",
                        "a write with the desk's session must come from evac's own pages; API clients send a bearer token".to_string(),
                    ));
                }
                secret
            }
        };
        let staff = state.app.authenticate_token(&token).await?;
        if let Some(limiter) = &state.account_limiter
            && let Err(wait_s) = limiter.admit(&staff.name, std::time::Instant::now())
        {
            return Err(crate::limits::too_many_problem("for this account", wait_s));
        }
        Ok(Authenticated(staff))
    }
}

impl FromRequestParts<AppState> for MaybeAuthenticated {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match bearer(parts)? {
            None => Ok(MaybeAuthenticated(None)),
            Some(token) => Ok(MaybeAuthenticated(Some(
                state.app.authenticate_token(token).await?,
            ))),
        }
    }
}

/// The address a request came from, where the server knows it (not behind a test's router):
/// behind a proxy on this host, the caller's as the proxy forwarded it, as for the public
/// limit. (It was the peer's: behind HAProxy every sign-in came from the proxy, so one
/// guesser's failures locked every staff member out.)
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<crate::AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(crate::limits::caller_address_of(
            &parts.extensions,
            &parts.headers,
            &state.app.settings().trusted_proxies,
        )))
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "evac_session";

/// The session's secret from the cookie header.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(SESSION_COOKIE)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_string)
        })
}
